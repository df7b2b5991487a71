"""Forbidden APIs reached by the routes of issue 6, for every lab: the table of evasions the hostile suite
places in the TODO regions that matter, and a check that each route is a real evasion outside the sandbox.

A lab's evasions are one or more ``Region``s. The ``forbidden`` variant of the lab replaces the body of each
region by the region's routes (nested functions, written as a student would, with the region's local
names) followed by a loop that uses the first route that works and otherwise raises NotImplementedError,
the honest baseline's answer. In the sandbox every route must fail, so the variant earns nothing beyond
the baseline, and each must be recorded by a run-time guard (``labels``) and flagged by the static rule.

Outside the sandbox, ``check`` (plain Python in a folder holding the lab's reference: it sets up the
region's local names and defines ``verify(value)``) shows that each route computes what the region must:
a route that does not work would prove nothing about the guards. ``route_outcomes`` runs them.
"""
from __future__ import annotations

import base64
import json
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def encoded(source: str) -> str:
    """``source`` as the base64 text an evasion hides it in."""
    return base64.b64encode(source.encode()).decode()


@dataclass(frozen=True)
class Region:
    """One TODO region done through forbidden routes."""

    file: str               # the lab's file holding the region
    hint: str               # part of the region's hint
    routes: str             # code defining the routes (and their helpers), in the region's scope
    use: str                # what the region does with a route's result (``route()``), then returns
    names: tuple[str, ...]  # the routes, in the order tried
    labels: tuple[str, ...]  # what the run-time violations name (each route is stopped by one of them)
    check: str = ""         # outside the sandbox: the region's local names and verify(value)
    absent: tuple[str, ...] = ()  # routes to what the lab's sandbox never loads: they fail even without guards


TRY_ROUTES = '''for route in ({routes}):
    try:
        {use}
    except Exception:
        pass
raise NotImplementedError("no forbidden route worked")
'''


# The control, graded without the guards: every route runs, and they must agree.
EVERY_ROUTE = '''def agree(first, other):
    import numpy
    if isinstance(first, (tuple, list)):
        for a, b in zip(first, other, strict=True):
            agree(a, b)
        return
    a, b = (numpy.asarray(x.detach() if hasattr(x, "detach") else x, dtype=float) for x in (first, other))
    if a.shape != b.shape or not numpy.allclose(a, b, rtol=1e-4, atol=1e-4, equal_nan=True):
        raise AssertionError("two forbidden routes disagree")
results = [route() for route in ({routes})]
for other in results[1:]:
    agree(results[0], other)
route = lambda: results[0]
'''


def region_code(region: Region) -> str:
    """The body that replaces the region in the ``forbidden`` variant."""
    return region.routes + TRY_ROUTES.format(routes=", ".join(region.names) + ",", use=region.use)


def control_code(region: Region) -> str:
    """The body that replaces the region in the ``unguarded`` variant (the control, graded without guards):
    every route but the ``absent`` ones, which must agree, then the first one's result used."""
    names = [name for name in region.names if name not in region.absent]
    use = textwrap.dedent(" " * 8 + region.use)  # a use's later lines are indented for TRY_ROUTES
    return region.routes + EVERY_ROUTE.format(routes=", ".join(names) + ",") + use + "\n"


# Torch in disabled dispatch modes, by a name built at run time through builtins reached by subscript.
DISABLED_MODES = '''import sys, threading, base64, operator
from torch.utils._python_dispatch import _disable_current_modes
def in_disabled_modes(owner, *parts):
    """owner's attribute named by the parts joined, fetched and called in disabled dispatch modes."""
    b = sys.modules["builtins"]
    function = b.getattr(owner, "".join(parts))
    def call(*args, **kwargs):
        with torch._C._DisableTorchDispatch(), _disable_current_modes():
            return function(*args, **kwargs)
    return call
def in_a_thread(function, *args, **kwargs):
    box = []
    worker = threading.Thread(target=lambda: box.append(function(*args, **kwargs)))
    worker.start()
    worker.join()
    return box[0]
def run_encoded(text, **names):
    exec(base64.b64decode(text), names)
    return names["result"]
'''


def four_routes(use: str, op: str) -> str:
    """The four routes every torch lab's evasions take to ``op`` (an aten operator, also a torch._C and
    torch._VF function): ``use(function)`` does the region's work with it. By a name built at run time in
    disabled dispatch modes, from a thread, by base64 source, by attrgetter."""
    half, source = len(op) // 2, encoded(f"result = {use}(torch._VF.{op})\n")
    return f'''def by_variable_functions():
    return {use}(in_disabled_modes(torch._C._VariableFunctions, "{op[:half]}", "{op[half:]}"))
def from_a_thread():
    return in_a_thread({use}, torch.{op})
def by_encoded_source():
    return run_encoded("{source}", torch=torch, {use}={use})
def by_attrgetter():
    return {use}(operator.attrgetter("ops.aten.{op}")(torch))
'''

# Plain-Python helpers for the checks.
CLOSE = '''import numpy as _np
def close(got, want, tol=1e-4):
    if isinstance(want, (tuple, list)):
        assert len(got) == len(want), (type(got), len(want))
        for g, w in zip(got, want):
            close(g, w, tol)
        return
    got = got.detach().numpy() if hasattr(got, "detach") else _np.asarray(got)
    want = want.detach().numpy() if hasattr(want, "detach") else _np.asarray(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    assert _np.allclose(got, want, rtol=tol, atol=tol, equal_nan=True), float(_np.nanmax(abs(got - want)))
'''

# ---- the first labs: softmax, least squares, a NumPy softmax ----

SOFTMAX_ROUTES = '''import sys, threading, base64, operator
from torch.utils._python_dispatch import _disable_current_modes
def by_variable_functions():
    b = sys.modules["builtins"]
    with torch._C._DisableTorchDispatch(), _disable_current_modes():
        return b.getattr(torch._C._VariableFunctions, "_soft" + "max")(X, 1, False)
def from_a_thread():
    box = []
    worker = threading.Thread(target=lambda: box.append(torch.softmax(X, 1)))
    worker.start()
    worker.join()
    return box[0]
def by_encoded_source():
    names = {"torch": torch, "X": X}
    exec(base64.b64decode("WSA9IHRvcmNoLnNvZnRtYXgoWCwgMSk="), names)
    return names["Y"]
def by_attrgetter():
    return operator.attrgetter("ops.aten._softmax")(torch)(X, 1, False)
def by_attention():
    eye = torch.eye(X.shape[1], dtype=X.dtype)[None, None]
    return torch.nn.functional.scaled_dot_product_attention(X[None, None], eye, eye, scale=1.0)[0, 0]
'''
SOFTMAX_CHECK = '''import torch
X = torch.randn(6, 5)
def verify(value):
    close(value, torch.exp(X) / torch.exp(X).sum(1, keepdim=True))
'''
LSTSQ_ROUTES = '''import operator
def numpy_polyfit():
    np = torch.hub.sys.modules["numpy"]
    return np.polyfit(x.double().numpy(), y.double().numpy(), 1)
def numpy_through_torch_hub():
    np = torch.hub.sys.modules["numpy"]
    A = np.stack([x.double().numpy(), np.ones(len(x))], axis=1)
    return np.linalg.lstsq(A, y.double().numpy(), rcond=None)[0]
def private_numpy_solver():
    np = torch.hub.sys.modules["numpy"]
    A = np.stack([x.double().numpy(), np.ones(len(x))], axis=1)
    return np.linalg._linalg.solve(A.T @ A, A.T @ y.double().numpy())
def torch_by_attrgetter():
    A = torch.stack([x.double(), torch.ones(len(x), dtype=torch.float64)], dim=1)
    return operator.attrgetter("linalg.lstsq")(torch)(A, y.double().unsqueeze(1)).solution[:, 0].numpy()
'''
LSTSQ_CHECK = '''import torch
x = torch.randn(40)
y = 3 * x - 2 + 0.1 * torch.randn(40)
xc, yc = x - x.mean(), y - y.mean()
w = (xc * yc).sum() / (xc * xc).sum()
def verify(value):
    close(value, [w, y.mean() - w * x.mean()])
'''
LIBRARY_ROUTES = '''def scipy_through_f2py():
    importlib = np.f2py.sys.modules["importlib"]
    return importlib.import_module("scipy.special").softmax(Z, axis=1)
def torch_through_importlib():
    importlib = np.f2py.sys.modules["importlib"]
    return importlib.import_module("torch").softmax(importlib.import_module("torch").from_numpy(Z), 1).numpy()
'''
LIBRARY_CHECK = '''import numpy as np
Z = np.random.default_rng(0).normal(size=(6, 5))
def verify(value):
    close(value, np.exp(Z) / np.exp(Z).sum(1, keepdims=True))
'''

# ---- cnn: the correlation of a batch of images with a bank of kernels (NumPy; torch is blocked whole) ----

CNN_ROUTES = '''import sys, threading, base64, operator
Ho, Wo = H - h + 1, W - w + 1
dtype = np.result_type(X, K)
def shifted():  # (B, I, h * w, Ho, Wo): the windows, by slicing (what the student writes)
    return np.stack([X[:, :, u:u + Ho, v:v + Wo] for u in range(h) for v in range(w)], axis=2)
def contract(view):  # (B, I, Ho, Wo, h, w) windows times the kernels -> (B, O, Ho, Wo)
    return np.tensordot(view, K, axes=([1, 4, 5], [1, 2, 3])).transpose(0, 3, 1, 2)
def torch_by_importlib():  # the student file imports only NumPy: torch by a library's importlib
    return np.f2py.sys.modules["importlib"].import_module("torch")
def tensors():
    torch = torch_by_importlib()
    return torch.from_numpy(np.ascontiguousarray(X, dtype)), torch.from_numpy(np.ascontiguousarray(K, dtype))
def numpy_einsum():
    return np.einsum("bikrc,oik->borc", shifted(), K.reshape(O, I, h * w))
def einsum_kernel_by_attrgetter():
    return operator.attrgetter("_core.multiarray.c_einsum")(np)("bikrc,oik->borc", shifted(), K.reshape(O, I, h * w))
def sliding_windows():
    return contract(np.lib.stride_tricks.sliding_window_view(X, (h, w), axis=(2, 3)))
def strided_view():
    s = X.strides
    return contract(np.lib.stride_tricks.as_strided(X, (B, I, Ho, Wo, h, w), (s[0], s[1], s[2], s[3], s[2], s[3])))
def numpy_correlate():  # each image row after row, each kernel row W apart: a 1-D correlation does it all
    kernel = np.zeros((O, I, (h - 1) * W + w), dtype)
    for u in range(h):
        kernel[:, :, u * W:u * W + w] = K[:, :, u]
    flat, out = X.reshape(B, I, H * W), np.zeros((B, O, Ho * W), dtype)
    for b in range(B):
        for o in range(O):
            for i in range(I):
                out[b, o, :(Ho - 1) * W + Wo] += np.correlate(flat[b, i], kernel[o, i], "valid")
    return out.reshape(B, O, Ho, W)[..., :Wo]
def torch_conv2d():
    torch = torch_by_importlib()
    return torch.nn.functional.conv2d(*tensors()).numpy()
def by_variable_functions():
    torch = torch_by_importlib()
    b = sys.modules["builtins"]
    with torch._C._DisableTorchDispatch(), b.getattr(torch.utils._python_dispatch, "_disable_current_modes")():
        return b.getattr(torch._C._VariableFunctions, "conv" + "2d")(*tensors()).numpy()
def from_a_thread():
    torch = torch_by_importlib()
    box = []
    worker = threading.Thread(target=lambda: box.append(torch.conv2d(*tensors()).numpy()))
    worker.start()
    worker.join()
    return box[0]
def by_encoded_source():
    names = {"np": np, "X": X, "K": K}
    exec(base64.b64decode("ENCODED"), names)
    return names["result"]
def by_attrgetter():
    convolution = operator.attrgetter("ops.aten.convolution")(torch_by_importlib())
    return convolution(*tensors(), None, [1, 1], [0, 0], [1, 1], False, [0, 0], 1).numpy()
def unfolded_tensor():
    x, k = tensors()
    return contract(x.unfold(2, h, 1).unfold(3, w, 1).numpy())
def dilated_convolution():
    torch = torch_by_importlib()
    return torch._C._nn.slow_conv_dilated2d(*tensors(), [h, w]).numpy()
def mkldnn_convolution():
    torch = torch_by_importlib()
    return torch.ops.mkldnn._convolution_pointwise(*tensors(), None, [0, 0], [1, 1], [1, 1], 1, "none", [], None).numpy()
def loaded_torch_through_another_module():  # no import: torch, if something in the process had loaded it
    torch = np.f2py.sys.modules["torch"]
    return torch.conv2d(torch.from_numpy(np.ascontiguousarray(X, dtype)), torch.from_numpy(np.ascontiguousarray(K, dtype))).numpy()
'''.replace("ENCODED", encoded(
    "from numpy.lib.stride_tricks import sliding_window_view as windows\n"
    "result = np.einsum('birchw,oihw->borc', windows(X, K.shape[2:], axis=(2, 3)), K)\n"))
CNN_CHECK = '''import numpy as np
import torch  # outside the sandbox: loaded_torch_through_another_module finds it loaded
import cnn
rng = np.random.default_rng(0)
X = rng.normal(size=(3, 2, 7, 6)).astype(np.float32)
K = rng.normal(size=(4, 2, 3, 2)).astype(np.float32)
B, I, H, W = X.shape
O, _, h, w = K.shape
def verify(value):
    close(value, cnn.corr2d(X, K))
'''

# ---- nn_fundamentals: a convolution (question 5), a recurrent loop (4) and causal attention (6), in torch ----

CONVOLVE_ROUTES = DISABLED_MODES + '''h, w = weight.shape
rows, cols = input.shape[0] - h + 1, input.shape[1] - w + 1
def four_d():
    return input[None, None], weight[None, None]
def by_variable_functions():
    return in_disabled_modes(torch._C._VariableFunctions, "conv", "2d")(*four_d())[0, 0]
def from_a_thread():
    return in_a_thread(torch.nn.functional.conv2d, *four_d())[0, 0]
def by_encoded_source():
    return run_encoded("ENCODED", torch=torch, input=input, weight=weight)
def by_attrgetter():
    convolution = operator.attrgetter("ops.aten.convolution")(torch)
    return convolution(*four_d(), None, [1, 1], [0, 0], [1, 1], False, [0, 0], 1)[0, 0]
def unfolded_windows():
    return (input.unfold(0, h, 1).unfold(1, w, 1) * weight).sum((-2, -1))
def strided_windows():
    step = input.stride()
    return (torch.as_strided(input, (rows, cols, h, w), (*step, *step)) * weight).sum((-2, -1))
def columns_by_im2col():
    columns = torch.nn.functional.unfold(input[None, None], (h, w))
    return (weight.reshape(1, -1) @ columns)[0].reshape(rows, cols)
def dilated_convolution():
    return torch._C._nn.slow_conv_dilated2d(*four_d(), [h, w])[0, 0]
def mkldnn_convolution():
    x, k = four_d()
    return torch.ops.mkldnn._convolution_pointwise(x, k, None, [0, 0], [1, 1], [1, 1], 1, "none", [], None)[0, 0]
def numpy_windows_through_torch_hub():
    np = torch.hub.sys.modules["numpy"]
    windows = np.lib.stride_tricks.sliding_window_view(input.detach().numpy(), (h, w))
    return torch.from_numpy((windows * weight.detach().numpy()).sum((-2, -1)))
def scipy_through_torch_hub():
    importlib = torch.hub.sys.modules["importlib"]
    signal = importlib.import_module("scipy.signal")
    return torch.from_numpy(signal.correlate2d(input.detach().numpy(), weight.detach().numpy(), "valid"))
'''.replace("ENCODED", encoded("result = torch.nn.functional.conv2d(input[None, None], weight[None, None])[0, 0]\n"))
CONVOLVE_CHECK = '''import torch
import models
input, weight = torch.randn(7, 6), torch.randn(3, 2)
def verify(value):
    close(value, models.Convolve(input, weight))
'''
RECURRENCE_ROUTES = DISABLED_MODES + '''def by_cells(cell):
    h = torch.zeros(len(xs[0]), self.hidden_size)
    for x in xs:
        h = cell(x, h, self.from_char.weight, self.from_state.weight, self.from_char.bias, None)
    return self.output(h)
def whole_sequence(rnn_relu):
    h0 = torch.zeros(1, len(xs[0]), self.hidden_size)
    weights = [self.from_char.weight, self.from_state.weight, self.from_char.bias, torch.zeros(self.hidden_size)]
    _, last = rnn_relu(torch.stack(xs), h0, weights, True, 1, 0.0, self.training, False, False)
    return self.output(last[0])
def by_variable_functions():
    return by_cells(in_disabled_modes(torch._C._VariableFunctions, "rnn_relu", "_cell"))
def from_a_thread():
    return in_a_thread(by_cells, torch.rnn_relu_cell)
def by_encoded_source():
    return run_encoded("ENCODED", torch=torch, xs=xs, self=self)
def by_attrgetter():
    return by_cells(operator.attrgetter("ops.aten.rnn_relu_cell")(torch))
def recurrent_layer():
    rnn = torch.nn.RNN(self.num_chars, self.hidden_size, nonlinearity="relu")
    for name, value in [("weight_ih_l0", self.from_char.weight), ("weight_hh_l0", self.from_state.weight),
                        ("bias_ih_l0", self.from_char.bias), ("bias_hh_l0", torch.zeros(self.hidden_size))]:
        delattr(rnn, name)
        setattr(rnn, name, value)
    return self.output(rnn(torch.stack(xs))[1][0])
def vf_through_another_module():
    return whole_sequence(torch.hub.sys.modules["torch.nn.modules.rnn"]._VF.rnn_relu)
'''.replace("ENCODED", encoded(
    "h = torch.zeros(len(xs[0]), self.hidden_size)\n"
    "for x in xs:\n"
    "    h = torch.rnn_relu_cell(x, h, self.from_char.weight, self.from_state.weight, self.from_char.bias)\n"
    "result = self.output(h)\n"))
RECURRENCE_CHECK = '''import torch
import models
self = models.LanguageIDModel()
xs = list(torch.randn(4, 3, 47))
def verify(value):
    close(value, self.run(xs))
'''
CAUSAL_ATTENTION_ROUTES = DISABLED_MODES + '''def by_attention():
    return torch.nn.functional.scaled_dot_product_attention(Q, K, V, is_causal=True)
def by_variable_functions():
    return in_disabled_modes(torch._C._nn, "scaled_dot_product", "_attention")(Q, K, V, is_causal=True)
def from_a_thread():
    return in_a_thread(torch.nn.functional.scaled_dot_product_attention, Q, K, V, is_causal=True)
def by_encoded_source():
    return run_encoded("ENCODED", torch=torch, Q=Q, K=K, V=V)
def by_attrgetter():
    return operator.attrgetter("ops.aten._scaled_dot_product_attention_math")(torch)(Q, K, V, None, 0.0, True)[0]
def multi_head_layer():
    layer = torch.nn.MultiheadAttention(C, 1, bias=False, batch_first=True, dtype=Q.dtype)
    with torch.no_grad():
        layer.in_proj_weight.copy_(torch.eye(C).repeat(3, 1))
        layer.out_proj.weight.copy_(torch.eye(C))
    later = torch.ones(T, T).triu(1).bool()
    return layer(Q, K, V, attn_mask=later, need_weights=False)[0]
def flex_attention():
    import torch.nn.attention.flex_attention
    causal = lambda score, b, h, q, k: torch.where(q >= k, score, -float("inf"))
    q, k, v = (tensor.detach()[:, None] for tensor in (Q, K, V))  # no backward on the CPU: values only
    return torch.nn.attention.flex_attention.flex_attention(q, k, v, causal)[:, 0]
def attention_through_torch_hub():
    functional = torch.hub.sys.modules["torch.nn.functional"]
    return functional.scaled_dot_product_attention(Q, K, V, is_causal=True)
'''.replace("ENCODED", encoded("result = torch.nn.functional.scaled_dot_product_attention(Q, K, V, is_causal=True)\n"))
CAUSAL_ATTENTION_CHECK = '''import torch
import models
self = models.Attention(8, 6)
input = torch.randn(2, 5, 8)
B, T, C = input.size()
K, Q, V = self.k_layer(input), self.q_layer(input), self.v_layer(input)
def verify(value):
    close(value, self.forward(input))
'''

# ---- gru: the GRU's recurrence; torch's gru_cell does a step once its weights are laid out for it ----

GRU_ROUTES = DISABLED_MODES + '''def by_cells(cell):
    """gru_cell's reset gate multiplies the hidden product, the lab's multiplies H: R is computed here, R * H
    is fed as input, and the cell's own reset gate is given zero weight."""
    n = self.num_hiddens
    zero = torch.zeros(n, n)
    w_ih = torch.cat([torch.cat([self.W_xr.T, zero], 1), torch.cat([self.W_xz.T, zero], 1),
                      torch.cat([self.W_xh.T, self.W_hh.T], 1)])
    w_hh = torch.cat([self.W_hr.T, self.W_hz.T, zero])
    b_ih, b_hh = torch.cat([self.b_r, self.b_z, self.b_h]), torch.zeros(3 * n)
    H = inputs.new_zeros(inputs.shape[0], n) if state is None else state
    outputs = []
    for t in range(inputs.shape[1]):
        X = inputs[:, t]
        R = torch.sigmoid(X @ self.W_xr + H @ self.W_hr + self.b_r)
        H = cell(torch.cat([X, R * H], 1), H, w_ih, w_hh, b_ih, b_hh)
        outputs.append(H)
    return torch.stack(outputs, 1), H
''' + four_routes("by_cells", "gru_cell") + '''def cell_layer():
    layer = torch.nn.GRUCell(inputs.shape[2] + self.num_hiddens, self.num_hiddens)
    def step(x, h, w_ih, w_hh, b_ih, b_hh):
        for name, value in [("weight_ih", w_ih), ("weight_hh", w_hh), ("bias_ih", b_ih), ("bias_hh", b_hh)]:
            delattr(layer, name)
            setattr(layer, name, value)
        return layer(x, h)
    return by_cells(step)
def vf_through_another_module():
    return by_cells(torch.hub.sys.modules["torch.nn.modules.rnn"]._VF.gru_cell)
'''
GRU_CHECK = '''import torch
import gru
self = gru.GRU(5, 7)
inputs, state = torch.randn(3, 4, 5), torch.randn(3, 7)
def verify(value):
    close(value, self.forward(inputs, state))
'''

# ---- seq2seq_attention: the decoder's attention step (context and weights of the state over enc_hidden) ----

SEQ2SEQ_ROUTES = DISABLED_MODES + '''def decode_with(attend):
    """The decoder's loop, with attend(state (B, H), enc_hidden) -> context (B, H), weights (B, S)."""
    s = self.mlp1(enc_hidden).mean(dim=1) if is_first_step else state
    embedded = self.dec_embedding(dec_y)
    logits, attention = [], []
    for t in range(dec_y.shape[1]):
        context, weights = attend(s, enc_hidden)
        s = self.decoder(torch.cat([context, embedded[:, t]], dim=1), s)
        logits.append(self.mlp2(s))
        attention.append(weights)
    return torch.stack(logits, dim=1), s, torch.stack(attention, dim=1)
def by_sdpa(sdpa):
    def attend(s, keys):  # with V = I the attention returns its own weights
        eye = torch.eye(keys.shape[1], dtype=keys.dtype).expand(keys.shape[0], -1, -1)
        return sdpa(s[:, None], keys, keys, scale=1.0)[:, 0], sdpa(s[:, None], keys, eye, scale=1.0)[:, 0]
    return decode_with(attend)
def by_attention():
    return by_sdpa(torch.nn.functional.scaled_dot_product_attention)
def by_variable_functions():
    return by_sdpa(in_disabled_modes(torch._C._nn, "scaled_dot_product", "_attention"))
def from_a_thread():
    return in_a_thread(by_sdpa, torch.nn.functional.scaled_dot_product_attention)
def by_encoded_source():
    return run_encoded("ENCODED", torch=torch, by_sdpa=by_sdpa)
def by_attrgetter():
    math = operator.attrgetter("ops.aten._scaled_dot_product_attention_math")(torch)
    return decode_with(lambda s, keys: [part[:, 0] for part in math(s[:, None], keys, keys, scale=1.0)])
def multi_head_layer():
    size = enc_hidden.shape[2]
    layer = torch.nn.MultiheadAttention(size, 1, bias=False, batch_first=True, dtype=enc_hidden.dtype)
    with torch.no_grad():
        layer.in_proj_weight.copy_(torch.eye(size).repeat(3, 1))
        layer.out_proj.weight.copy_(torch.eye(size))
    def attend(s, keys):  # the layer scales the scores by 1/sqrt(size): the query is scaled up to undo it
        context, weights = layer(s[:, None] * size ** 0.5, keys, keys)
        return context[:, 0], weights[:, 0]
    return decode_with(attend)
def multi_head_function():
    size = enc_hidden.shape[2]
    eye = torch.eye(size, dtype=enc_hidden.dtype)
    def attend(s, keys):
        context, weights = torch.nn.functional.multi_head_attention_forward(
            s[None] * size ** 0.5, keys.transpose(0, 1), keys.transpose(0, 1), size, 1, eye.repeat(3, 1),
            None, None, None, False, 0.0, eye, None, training=False)
        return context[0], weights[:, 0]
    return decode_with(attend)
def flex_attention():
    import torch.nn.attention.flex_attention
    flex = torch.nn.attention.flex_attention.flex_attention
    def attend(s, keys):
        eye = torch.eye(keys.shape[1], dtype=keys.dtype).expand(keys.shape[0], 1, -1, -1)
        q, k = s.detach()[:, None, None], keys.detach()[:, None]  # no backward on the CPU: values only
        return flex(q, k, k, scale=1.0)[:, 0, 0], flex(q, k, eye, scale=1.0)[:, 0, 0]
    return decode_with(attend)
def attention_through_torch_hub():
    return by_sdpa(torch.hub.sys.modules["torch.nn.functional"].scaled_dot_product_attention)
'''.replace("ENCODED", encoded("result = by_sdpa(torch.nn.functional.scaled_dot_product_attention)\n"))
SEQ2SEQ_CHECK = '''import torch
import seq2seq_attention
self = seq2seq_attention.Seq2Seq(9, 6, 8)
dec_y, enc_hidden, state, is_first_step = torch.randint(0, 9, (3, 4)), torch.randn(3, 5, 8), None, True
def verify(value):
    close(value, self.decode(dec_y, enc_hidden, state, is_first_step))
'''

# ---- bert_attention: the attention of the projected heads (scores, mask, softmax, dropout, values, merge) ----

BERT_ROUTES = DISABLED_MODES + '''mask = attention_mask[:, None, None, :]
p = self.dropout.p if self.training else 0.0
def merged(context):
    return context.permute(0, 2, 1, 3).reshape(B, S, self.all_head_size)
def by_attention():
    return merged(torch.nn.functional.scaled_dot_product_attention(query, key, value, attn_mask=mask, dropout_p=p))
def by_variable_functions():
    sdpa = in_disabled_modes(torch._C._nn, "scaled_dot_product", "_attention")
    return merged(sdpa(query, key, value, attn_mask=mask, dropout_p=p))
def from_a_thread():
    sdpa = torch.nn.functional.scaled_dot_product_attention
    return merged(in_a_thread(sdpa, query, key, value, attn_mask=mask, dropout_p=p))
def by_encoded_source():
    return run_encoded("ENCODED", torch=torch, q=query, k=key, v=value, mask=mask, p=p, merged=merged)
def by_attrgetter():
    return merged(operator.attrgetter("ops.aten.scaled_dot_product_attention")(torch)(query, key, value, mask, p))
def multi_head_layer():
    size = self.all_head_size
    layer = torch.nn.MultiheadAttention(size, self.num_attention_heads, dropout=self.dropout.p, batch_first=True,
                                        dtype=hidden_states.dtype)
    layer.train(self.training)
    with torch.no_grad():
        layer.in_proj_weight.copy_(torch.cat([self.query.weight, self.key.weight, self.value.weight]))
        layer.in_proj_bias.copy_(torch.cat([self.query.bias, self.key.bias, self.value.bias]))
        layer.out_proj.weight.copy_(torch.eye(size))
        layer.out_proj.bias.zero_()
    return layer(hidden_states, hidden_states, hidden_states, key_padding_mask=attention_mask, need_weights=False)[0]
def flex_attention():
    import torch.nn.attention.flex_attention
    padding = lambda score, b, h, q, k: score + attention_mask[b, k]
    q, k, v = (tensor.detach() for tensor in (query, key, value))  # no backward on the CPU: values only
    return merged(torch.nn.attention.flex_attention.flex_attention(q, k, v, padding))
def attention_through_torch_hub():
    sdpa = torch.hub.sys.modules["torch.nn.functional"].scaled_dot_product_attention
    return merged(sdpa(query, key, value, attn_mask=mask, dropout_p=p))
'''.replace("ENCODED", encoded(
    "result = merged(torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p))\n"))
BERT_CHECK = '''import torch
import bert_attention, bert_model
self = bert_attention.BertSelfAttention(bert_model.BertConfig()).double().eval()  # the lab's tests: float64
hidden_states = torch.randn(3, 5, 32, dtype=torch.float64)
attention_mask = torch.tensor([[0.0] * 5, [0.0] * 3 + [-10000.0] * 2, [0.0] * 4 + [-10000.0]], dtype=torch.float64)
B, S, _ = hidden_states.shape
query = self.transpose_for_scores(self.query(hidden_states))
key = self.transpose_for_scores(self.key(hidden_states))
value = self.transpose_for_scores(self.value(hidden_states))
def verify(value):
    close(value, self.forward(hidden_states, attention_mask))
'''

# ---- transformer: multi-head attention's weights and context (keep-mask), stored in attn_weights ----

TRANSFORMER_ROUTES = DISABLED_MODES + '''def finish(context, weights):
    self.attn_weights = weights
    return self.W_o(context.transpose(1, 2).reshape(batch, -1, self.num_heads * self.d_head))
def by_sdpa(sdpa):  # with V = I the attention returns its own weights
    eye = torch.eye(k.shape[2], dtype=q.dtype).expand(k.shape[0], k.shape[1], -1, -1)
    return finish(sdpa(q, k, v, attn_mask=mask), sdpa(q, k, eye, attn_mask=mask))
def by_attention():
    return by_sdpa(torch.nn.functional.scaled_dot_product_attention)
def by_variable_functions():
    return by_sdpa(in_disabled_modes(torch._C._nn, "scaled_dot_product", "_attention"))
def from_a_thread():
    return in_a_thread(by_sdpa, torch.nn.functional.scaled_dot_product_attention)
def by_encoded_source():
    return run_encoded("ENCODED", torch=torch, by_sdpa=by_sdpa)
def by_attrgetter():  # the math kernel takes an additive mask
    additive = None if mask is None else torch.zeros(mask.shape, dtype=q.dtype).masked_fill(~mask, -float("inf"))
    return finish(*operator.attrgetter("ops.aten._scaled_dot_product_attention_math")(torch)(q, k, v, additive))
def multi_head_layer():
    size = self.num_heads * self.d_head
    layer = torch.nn.MultiheadAttention(size, self.num_heads, batch_first=True, dtype=query.dtype)
    with torch.no_grad():
        layer.in_proj_weight.copy_(torch.cat([self.W_q.weight, self.W_k.weight, self.W_v.weight]))
        layer.in_proj_bias.copy_(torch.cat([self.W_q.bias, self.W_k.bias, self.W_v.bias]))
        layer.out_proj.weight.copy_(self.W_o.weight)
        layer.out_proj.bias.copy_(self.W_o.bias)
    T_q, T_k = query.shape[1], key.shape[1]
    hidden = None if mask is None else \\
        ~mask.expand(batch, self.num_heads, T_q, T_k).reshape(batch * self.num_heads, T_q, T_k)
    out, self.attn_weights = layer(query, key, value, attn_mask=hidden, average_attn_weights=False)
    return out
def flex_attention():
    import torch.nn.attention.flex_attention
    flex = torch.nn.attention.flex_attention.flex_attention
    keep = (lambda score, b, h, i, j: score) if mask is None else \\
        (lambda score, b, h, i, j: torch.where(mask.expand(batch, self.num_heads, q.shape[2], k.shape[2])[b, h, i, j],
                                               score, -float("inf")))
    eye = torch.eye(k.shape[2], dtype=q.dtype).expand(k.shape[0], k.shape[1], -1, -1)
    fq, fk, fv = q.detach(), k.detach(), v.detach()  # no backward on the CPU: values only
    return finish(flex(fq, fk, fv, keep), flex(fq, fk, eye, keep))
def attention_through_torch_hub():
    return by_sdpa(torch.hub.sys.modules["torch.nn.functional"].scaled_dot_product_attention)
'''.replace("ENCODED", encoded("result = by_sdpa(torch.nn.functional.scaled_dot_product_attention)\n"))
TRANSFORMER_CHECK = '''import torch
import transformer
self = transformer.MultiHeadAttention(16, 4)
query, key = torch.randn(2, 5, 16), torch.randn(2, 6, 16)
value = key
mask = torch.tensor([[True] * 6, [True] * 4 + [False] * 2])[:, None, None, :] & torch.ones(5, 6).bool()
expected = self.forward(query, key, value, mask), self.attn_weights
self.attn_weights = None
batch = query.shape[0]
q = self.W_q(query).view(batch, -1, self.num_heads, self.d_head).transpose(1, 2)
k = self.W_k(key).view(batch, -1, self.num_heads, self.d_head).transpose(1, 2)
v = self.W_v(value).view(batch, -1, self.num_heads, self.d_head).transpose(1, 2)
def verify(value):
    close([value, self.attn_weights], expected)
'''

# ---- attention_backprop: NumPy only; the backward pass by torch's autograd, torch reached any way ----

BACKPROP_ROUTES = '''import sys, threading, base64, operator
def with_autograd(torch):
    X = torch.tensor(self.X, requires_grad=True)
    Wq, Wk, Wv = (torch.tensor(w, requires_grad=True) for w in (self.W_q, self.W_k, self.W_v))
    Q, K, V = X @ Wq, X @ Wk, X @ Wv
    for tensor in (Q, K, V):
        tensor.retain_grad()
    T = X.shape[1]
    mask = torch.triu(torch.full((T, T), -1e9, dtype=X.dtype), 1)
    A = torch.softmax(Q @ K.transpose(-1, -2) / self.Dk ** 0.5 + mask, -1)
    (A @ V).backward(torch.tensor(dLdXnew))
    self.dLdQ, self.dLdK, self.dLdV = Q.grad.numpy(), K.grad.numpy(), V.grad.numpy()
    self.dLdWq, self.dLdWk, self.dLdWv = Wq.grad.numpy(), Wk.grad.numpy(), Wv.grad.numpy()
    return X.grad.numpy()
def plain_import():
    import torch
    return with_autograd(torch)
def by_built_name():
    b = sys.modules["builtins"]
    return with_autograd(b.getattr(b, "__imp" + "ort__")("to" + "rch"))
def from_a_thread():
    def load():
        import torch
        return torch
    box = []
    worker = threading.Thread(target=lambda: box.append(load()))
    worker.start()
    worker.join()
    return with_autograd(box[0])
def by_encoded_source():
    names = {}
    exec(base64.b64decode("ENCODED"), names)
    return with_autograd(names["torch"])
def by_attrgetter():
    return with_autograd(operator.attrgetter("f2py.sys.modules")(np)["importlib"].import_module("torch"))
def importlib_through_f2py():
    return with_autograd(np.f2py.sys.modules["importlib"].import_module("torch"))
def loaded_torch_through_another_module():
    modules = np.f2py.sys.modules
    return with_autograd(next(module for name, module in list(modules.items()) if name == "torch"))
def torch_classes_left_in_memory():  # no import: torch's tensor class, if the process holds it, and its methods
    base = next(kind for kind in object.__subclasses__() if kind.__name__ == "TensorBase")
    Tensor = next(kind for kind in base.__subclasses__() if kind.__name__ == "Tensor")
    X, Wq, Wk, Wv = (Tensor(array).double().requires_grad_() for array in (self.X, self.W_q, self.W_k, self.W_v))
    Q, K, V = X @ Wq, X @ Wk, X @ Wv
    for tensor in (Q, K, V):
        tensor.retain_grad()
    T = X.shape[1]
    scores = Q @ K.transpose(-1, -2) / self.Dk ** 0.5 + (Tensor(T, T).double().fill_(-1e9).triu(1))
    (scores.softmax(-1) @ V).backward(Tensor(dLdXnew).double())
    self.dLdQ, self.dLdK, self.dLdV = Q.grad.numpy(), K.grad.numpy(), V.grad.numpy()
    self.dLdWq, self.dLdWk, self.dLdWv = Wq.grad.numpy(), Wk.grad.numpy(), Wv.grad.numpy()
    return X.grad.numpy()
'''.replace("ENCODED", encoded("import torch\n"))
BACKPROP_CHECK = '''import numpy as np
import torch  # as a process that loaded torch before the submission (a warm sandbox that preloads it)
import attention
rng = np.random.default_rng(0)
weights = [rng.normal(size=(4, 3)) for _ in range(3)]
self = attention.Attention(*weights)
X, dLdXnew = rng.normal(size=(2, 5, 4)), rng.normal(size=(2, 5, 3))
reference = attention.Attention(*weights)
reference.forward(X)
dLdX = reference.backward(dLdXnew)
expected = [dLdX, *(getattr(reference, name) for name in ("dLdQ", "dLdK", "dLdV", "dLdWq", "dLdWk", "dLdWv"))]
self.forward(X)
def verify(value):
    close([value, *(getattr(self, name) for name in ("dLdQ", "dLdK", "dLdV", "dLdWq", "dLdWk", "dLdWv"))], expected)
'''

# ---- lstm_lm: both cells over the whole sequence in one call of torch's multi-layer LSTM ----

LSTM_ROUTES = DISABLED_MODES + """def by_layer(lstm):
    \"\"\"lstm(input, (h0, c0), params, has_biases, num_layers, dropout, train, bidirectional, batch_first) runs
    the two cells over every time step at once, with the cells' own weights.\"\"\"
    cells = self.lstm_cells
    params = [p for cell in cells for p in (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)]
    zeros = torch.zeros(len(cells), inp.shape[0], cells[0].hidden_size)
    h0 = zeros if state is None else torch.stack([h for h, c in state])
    c0 = zeros if state is None else torch.stack([c for h, c in state])
    embedded = self.locked_dropout(self.token_embedding(inp))
    output, h_n, c_n = lstm(embedded, (h0, c0), params, True, len(cells), 0.0, self.training, False, True)
    return self.token_probability(self.locked_dropout(output)), [(h_n[i], c_n[i]) for i in range(len(cells))]
""" + four_routes("by_layer", "lstm") + """def lstm_layer():
    cells = self.lstm_cells
    layer = torch.nn.LSTM(cells[0].input_size, cells[0].hidden_size, len(cells), batch_first=True)
    for i, cell in enumerate(cells):
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            setattr(layer, f"{name}_l{i}", getattr(cell, name))
    def run(x, hx, *rest):
        output, (h_n, c_n) = layer(x, hx)
        return output, h_n, c_n
    return by_layer(run)
def vf_through_another_module():
    return by_layer(torch.hub.sys.modules["torch.nn.modules.rnn"]._VF.lstm)
"""
LSTM_CHECK = """import torch
import language_model
torch.manual_seed(0)
self = language_model.LanguageModel(50, 16, 16).eval()
inp = torch.randint(0, 50, (3, 4))
state = [(torch.randn(3, 16), torch.randn(3, 16)) for _ in range(2)]
def verify(value):
    close(value, self.forward(inp, state))
"""

RETURN = "return route()"
EVASIONS: dict[str, list[Region]] = {
    "softmax_regression": [Region(
        "softmax_regression.py", "subtract each row's max", SOFTMAX_ROUTES, RETURN,
        ("by_variable_functions", "from_a_thread", "by_encoded_source", "by_attrgetter", "by_attention"),
        ("torch.ops.aten._softmax", "torch.softmax", "compile", "attention"), SOFTMAX_CHECK)],
    "linear_regression": [Region(
        "linear_regression.py", "closed-form slope", LSTSQ_ROUTES,
        "self.w, self.b = (torch.tensor(float(v)) for v in route())\n        return",
        ("numpy_polyfit", "numpy_through_torch_hub", "private_numpy_solver", "torch_by_attrgetter"),
        ("numpy.linalg.lstsq", "numpy.linalg.solve", "linalg_lstsq"), LSTSQ_CHECK)],
    "mlp_numpy": [Region(
        "activations.py", "normalise each row", LIBRARY_ROUTES, "self.Y = route()\n        return self.Y",
        ("scipy_through_f2py", "torch_through_importlib"), ("scipy", "torch"), LIBRARY_CHECK)],
    "cnn": [Region(
        "cnn.py", "loop over the h*w kernel offsets", CNN_ROUTES, RETURN,
        ("numpy_einsum", "einsum_kernel_by_attrgetter", "sliding_windows", "strided_view", "numpy_correlate",
         "torch_conv2d", "by_variable_functions", "from_a_thread", "by_encoded_source", "by_attrgetter",
         "unfolded_tensor", "dilated_convolution", "mkldnn_convolution", "loaded_torch_through_another_module"),
        ("numpy.einsum", "numpy._core.multiarray.c_einsum", "sliding_window_view", "as_strided", "numpy.correlate",
         "torch (by import)", "compile"), CNN_CHECK, absent=("loaded_torch_through_another_module",))],
    "nn_fundamentals": [
        Region("models.py", "add up weight[a, b] times the input shifted", CONVOLVE_ROUTES, RETURN,
               ("by_variable_functions", "from_a_thread", "by_encoded_source", "by_attrgetter", "unfolded_windows",
                "strided_windows", "columns_by_im2col", "dilated_convolution", "mkldnn_convolution",
                "numpy_windows_through_torch_hub", "scipy_through_torch_hub"),
               ("torch.ops.aten.conv2d", "torch.nn.functional.conv2d", "compile", "torch.ops.aten.convolution",
                "torch.Tensor.unfold", "torch.as_strided", "torch.nn.functional.unfold",
                "torch.ops.aten.slow_conv_dilated2d", "torch.ops.mkldnn._convolution_pointwise",
                "sliding_window_view", "scipy (by import)"), CONVOLVE_CHECK),
        Region("models.py", "h = relu(char layer(x) + state layer(h))", RECURRENCE_ROUTES, RETURN,
               ("by_variable_functions", "from_a_thread", "by_encoded_source", "by_attrgetter", "recurrent_layer",
                "vf_through_another_module"),
               ("torch.ops.aten.rnn_relu_cell", "torch.rnn_relu_cell", "compile", "torch.nn.RNN",
                "torch.ops.aten.rnn_relu"), RECURRENCE_CHECK),
        Region("models.py", "scores Q K^T / sqrt(layer_size)", CAUSAL_ATTENTION_ROUTES, RETURN,
               ("by_attention", "by_variable_functions", "from_a_thread", "by_encoded_source", "by_attrgetter",
                "multi_head_layer", "flex_attention", "attention_through_torch_hub"),
               ("torch.nn.functional.scaled_dot_product_attention", "compile",
                "torch.ops.aten._scaled_dot_product_attention_math", "torch.nn.MultiheadAttention",
                "torch.Tensor.as_strided"), CAUSAL_ATTENTION_CHECK)],
    "gru": [Region(
        "gru.py", "per time step: Z, R, the candidate", GRU_ROUTES, RETURN,
        ("by_variable_functions", "from_a_thread", "by_encoded_source", "by_attrgetter", "cell_layer",
         "vf_through_another_module"),
        ("torch.ops.aten.gru_cell", "torch._VF.gru_cell", "compile", "torch.nn.GRUCell"), GRU_CHECK)],
    "seq2seq_attention": [Region(
        "seq2seq_attention.py", "initial state: mlp1 on every position", SEQ2SEQ_ROUTES, RETURN,
        ("by_attention", "by_variable_functions", "from_a_thread", "by_encoded_source", "by_attrgetter",
         "multi_head_layer", "multi_head_function", "flex_attention", "attention_through_torch_hub"),
        ("torch.nn.functional.scaled_dot_product_attention", "compile",
         "torch.ops.aten._scaled_dot_product_attention_math", "torch.nn.MultiheadAttention",
         "torch.nn.functional.multi_head_attention_forward", "function.__new__"), SEQ2SEQ_CHECK)],
    "bert_attention": [Region(
        "bert_attention.py", "scores Q K^T scaled by 1/sqrt(head_size)", BERT_ROUTES, RETURN,
        ("by_attention", "by_variable_functions", "from_a_thread", "by_encoded_source", "by_attrgetter",
         "multi_head_layer", "flex_attention", "attention_through_torch_hub"),
        ("scaled_dot_product_attention", "compile", "torch.ops.aten.scaled_dot_product_attention",
         "MultiheadAttention", "function.__new__"), BERT_CHECK)],
    "transformer": [Region(
        "transformer.py", "scores scaled by 1/sqrt(d_head)", TRANSFORMER_ROUTES, RETURN,
        ("by_attention", "by_variable_functions", "from_a_thread", "by_encoded_source", "by_attrgetter",
         "multi_head_layer", "flex_attention", "attention_through_torch_hub"),
        ("torch.nn.functional.scaled_dot_product_attention", "compile",
         "torch.ops.aten._scaled_dot_product_attention_math", "torch.nn.MultiheadAttention", "function.__new__"),
        TRANSFORMER_CHECK)],
    "lstm_lm": [Region(
        "language_model.py", "at each time step both cells in turn", LSTM_ROUTES, RETURN,
        ("by_variable_functions", "from_a_thread", "by_encoded_source", "by_attrgetter", "lstm_layer",
         "vf_through_another_module"),
        ("torch.ops.aten.lstm", "torch._VF.lstm", "compile", "torch.nn.modules.rnn.LSTM"), LSTM_CHECK)],
    "attention_backprop": [Region(
        "attention.py", "through X_new = A_sig V", BACKPROP_ROUTES, RETURN,
        ("plain_import", "by_built_name", "from_a_thread", "by_encoded_source", "by_attrgetter",
         "importlib_through_f2py", "loaded_torch_through_another_module", "torch_classes_left_in_memory"),
        ("torch (by import)", "compile"), BACKPROP_CHECK,
        absent=("loaded_torch_through_another_module", "torch_classes_left_in_memory"))],
}

# ---- outside the sandbox: each route computes what its region must ----

CHECK_RUNNER = '''import json, sys, traceback
sys.path.insert(0, ".")
outcomes = []
for index, (check, routes, names) in enumerate(json.loads(open("regions.json").read())):
    scope = {}
    exec(CLOSE + check, scope)
    exec(routes, scope)
    for name in names:
        try:
            scope["verify"](scope[name]())
            outcomes.append([index, name, "ok"])
        except Exception as exc:
            outcomes.append([index, name, f"{type(exc).__name__}: {exc}"[:300]])
print(json.dumps(outcomes))
'''


def route_outcomes(lab_id: str, timeout: float = 600) -> list[tuple[int, str, str]]:
    """(region index, route, "ok" or why not) for each route of the lab, run in a plain Python process
    beside the lab's reference, outside any sandbox."""
    from autograder.lab import Course

    lab = Course(REPO).lab(lab_id)
    with tempfile.TemporaryDirectory(prefix="autograder-routes-") as folder:
        for name, text in lab.reference_files.items():
            (Path(folder) / name).write_text(text)
        regions = [[region.check, region.routes, list(region.names)] for region in EVASIONS[lab_id]]
        (Path(folder) / "regions.json").write_text(json.dumps(regions))
        runner = f"CLOSE = {CLOSE!r}\n" + CHECK_RUNNER
        done = subprocess.run([sys.executable, "-c", runner], cwd=folder, capture_output=True, text=True,
                              timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    return [tuple(outcome) for outcome in json.loads(done.stdout.strip().splitlines()[-1])]


def route_lines(region: Region, text: str, body: range) -> dict[str, set[int]]:
    """The lines (1-based) of each of the region's routes in ``text``, a lab file whose region, on the lines
    ``body``, holds them, with those of the region's helpers it calls (in_disabled_modes, run_encoded...)."""
    import ast

    functions = {}
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.FunctionDef) and node.lineno in body:
            functions.setdefault(node.name, node)
    found = {}
    for name in region.names:
        lines: set[int] = set()
        pending, seen = [name], set()
        while pending:
            node = functions[pending.pop()]
            seen.add(node.name)
            lines |= set(range(node.lineno, node.end_lineno + 1))
            pending += [child.id for child in ast.walk(node) if isinstance(child, ast.Name)
                        and child.id in functions and child.id not in seen]
        found[name] = lines
    return found


if __name__ == "__main__":
    for lab in sys.argv[1:] or EVASIONS:
        for outcome in route_outcomes(lab):
            print(lab, *outcome)
