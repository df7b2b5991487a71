"""Public tests of attention_backprop (run them with `autograder check attention_backprop`).

Every value your code stores is compared with PyTorch autograd's on the same inputs, computed by the grader
(your code itself never sees torch; `autograd` below is @recorded: its values are computed when the lab is
released and read from that record while grading). The grader's NumPy simulations below recognise the known
mistakes by what they do to the values, however they are written."""
import math

import numpy as np

from autograder.sandbox.api import StudentError
from autograder.testing import Fail, GraderError, Run, recorded, signature, test

RTOL, ATOL = 1e-6, 1e-9  # float64 throughout: keep the inputs' dtype
PUBLIC_SHAPE = dict(B=2, T=5, D=4, Dk=3, Dv=6)


def problem(seed: int, B: int, T: int, D: int, Dk: int, Dv: int) -> tuple[np.ndarray, ...]:
    """Random float64 inputs X (B, T, D), weights W_q, W_k (D, Dk), W_v (D, Dv) and an upstream gradient
    dL/dX_new (B, T, Dv)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(B, T, D))
    W_q, W_k, W_v = (rng.normal(size=(D, n)) / math.sqrt(D) * 1.5 for n in (Dk, Dk, Dv))
    return X, W_q, W_k, W_v, rng.normal(size=(B, T, Dv))


@recorded  # computed once, when the lab is released: grading then needs no torch
def autograd(X, W_q, W_k, W_v, dLdXnew) -> dict:
    """Every tensor of the lab computed by PyTorch (forward with a -inf causal mask, gradients by autograd)."""
    import torch

    X, W_q, W_k, W_v = (torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in (X, W_q, W_k, W_v))
    Q, K, V = X @ W_q, X @ W_k, X @ W_v
    for tensor in (Q, K, V):
        tensor.retain_grad()
    T, Dk = X.shape[1], W_k.shape[1]
    A_w = Q @ K.transpose(-1, -2)
    A_sig = torch.softmax(A_w / math.sqrt(Dk) + torch.full((T, T), -torch.inf).triu(1), dim=-1)
    X_new = A_sig @ V
    X_new.backward(torch.as_tensor(dLdXnew))
    values = {"X_new": X_new, "Q": Q, "K": K, "V": V, "A_w": A_w, "A_sig": A_sig, "dLdX": X.grad, "dLdQ": Q.grad,
              "dLdK": K.grad, "dLdV": V.grad, "dLdWq": W_q.grad, "dLdWk": W_k.grad, "dLdWv": W_v.grad}
    return {name: value.detach().numpy() for name, value in values.items()}


def expect_autograd(run: Run, probe: str, seed: int, shape: dict, what: str) -> None:
    """The student's stored tensors equal autograd's on one random problem. The reference is checked
    against autograd first (a lab bug is the grader's error); the comparison with the reference then
    names the known mistake the values show."""
    X, W_q, W_k, W_v, dY = problem(seed, **shape)
    args = (X, W_q, W_k, W_v) if probe == "attention_forward" else (X, W_q, W_k, W_v, dY)
    torch_values = autograd(X, W_q, W_k, W_v, dY)
    reference = run.reference(probe, *args)
    for name, value in reference.items():
        if not np.allclose(value, torch_values[name], rtol=1e-9, atol=1e-12):
            raise GraderError(f"the reference's {name} differs from autograd's on {shape}")
    sizes = {"Dk": shape["Dk"], "the batch size": shape["B"], "T": shape["T"]}
    where = f"{what} (B={shape['B']}, T={shape['T']}, D={shape['D']}, Dk={shape['Dk']}, Dv={shape['Dv']})"
    got = run.expect_match(probe, *args, what=where, rtol=RTOL, atol=ATOL, sizes=sizes)
    run.expect_close(got, {name: torch_values[name] for name in reference}, what=f"{where} against autograd",
                     rtol=RTOL, atol=ATOL)


# ---- the grader's own NumPy simulation of the known mistakes (used by the signatures below) ----------

def softmax(Z: np.ndarray) -> np.ndarray:
    E = np.exp(Z - Z.max(axis=-1, keepdims=True))
    return E / E.sum(axis=-1, keepdims=True)


def softmax_backward(A: np.ndarray, dLdA: np.ndarray) -> np.ndarray:
    """The softmax Jacobian-vector product evaluated at A (the right A is the softmax's output)."""
    return A * (dLdA - (dLdA * A).sum(axis=-1, keepdims=True))


def causal_mask(T: int, first_hidden: int = 1) -> np.ndarray:
    """-1e9 at key positions j >= t + first_hidden (1: the future; 0: the diagonal too), 0 elsewhere."""
    return np.triu(np.full((T, T), -1e9), k=first_hidden)


def pieces(X, W_q, W_k, W_v, dLdXnew) -> dict:
    """Correct intermediate values: Q, K, V, A_w, A_sig, dL/dA_sig and dL/dA_w."""
    Q, K, V = X @ W_q, X @ W_k, X @ W_v
    Dk, T = W_k.shape[1], X.shape[1]
    A_w = Q @ K.swapaxes(-1, -2)
    A_sig = softmax(A_w / math.sqrt(Dk) + causal_mask(T))
    dLdA_sig = dLdXnew @ V.swapaxes(-1, -2)
    return dict(Q=Q, K=K, V=V, A_w=A_w, A_sig=A_sig, Dk=Dk, T=T, dLdA_sig=dLdA_sig,
                dLdA_w=softmax_backward(A_sig, dLdA_sig) / math.sqrt(Dk))


def close(a, b) -> bool:
    try:
        a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-5, atol=1e-8))


def only_wrong(call, names: set[str]) -> bool:
    """Something is wrong, and only among ``names``."""
    return bool(call.wrong()) and call.wrong() <= names


@signature("weights_not_summed", probe="attention_backward")
def _weight_gradients_not_summed_over_the_batch(got, want, call):
    X = np.asarray(call.args[0])
    wrong = call.wrong()
    if not only_wrong(call, {"dLdWq", "dLdWk", "dLdWv"}):
        return False
    for name, grad in (("dLdWq", "dLdQ"), ("dLdWk", "dLdK"), ("dLdWv", "dLdV")):
        if name not in wrong:
            continue
        per_sample = X.swapaxes(-1, -2) @ want[grad]  # (B, D, Dk): one gradient per sequence
        if not any(close(got[name], option) for option in (per_sample, per_sample.mean(axis=0), *per_sample)):
            return False
    return True


@signature("diagonal_masked", probe="attention_forward")
def _each_position_cannot_see_itself(got, want, call):
    X, W_q, W_k, W_v = (np.asarray(a) for a in call.args[:4])
    if X.shape[1] < 2 or not only_wrong(call, {"A_sig", "X_new"}):
        return False
    p = pieces(X, W_q, W_k, W_v, np.zeros((*X.shape[:2], W_v.shape[1])))
    A_sig = softmax(p["A_w"] / math.sqrt(p["Dk"]) + causal_mask(p["T"], first_hidden=0))
    # row 0 has nothing left to attend to: what it becomes depends on the mask's value; compare the others
    return close(np.asarray(got["A_sig"])[:, 1:], A_sig[:, 1:])


@signature("forward_scale_wrong", probe="attention_forward")
def _scores_scaled_otherwise(got, want, call):
    X, W_q, W_k, W_v = (np.asarray(a) for a in call.args[:4])
    if not only_wrong(call, {"A_sig", "X_new"}):
        return False
    p = pieces(X, W_q, W_k, W_v, np.zeros((*X.shape[:2], W_v.shape[1])))
    return any(close(got["A_sig"], softmax(p["A_w"] * scale + causal_mask(p["T"])))
               for scale in (1.0, 1.0 / p["Dk"], math.sqrt(p["Dk"])))


@signature("no_causal_mask", probe="attention_forward")
def _attends_to_the_future(got, want, call):
    X, W_q, W_k, W_v = (np.asarray(a) for a in call.args[:4])
    if not only_wrong(call, {"A_sig", "X_new"}):
        return False
    p = pieces(X, W_q, W_k, W_v, np.zeros((*X.shape[:2], W_v.shape[1])))
    scores = p["A_w"] / math.sqrt(p["Dk"])
    past = np.tril(np.full((p["T"], p["T"]), -1e9), k=-1)  # the mask on the wrong side of the diagonal
    return any(close(got["A_sig"], softmax(scores + mask)) for mask in (0.0, past))


@signature("backward_scale_missing", probe="attention_backward")
def _query_or_key_gradient_without_the_scale(got, want, call):
    Dk = np.asarray(call.args[2]).shape[1]
    if not only_wrong(call, {"dLdQ", "dLdK", "dLdWq", "dLdWk", "dLdX"}):
        return False
    return any(close(got[name], math.sqrt(Dk) * np.asarray(want[name])) for name in ("dLdQ", "dLdK"))


@signature("qk_gradients_swapped", probe="attention_backward")
def _query_and_key_gradients_mixed_up(got, want, call):
    if not only_wrong(call, {"dLdQ", "dLdK", "dLdWq", "dLdWk", "dLdX"}):
        return False
    p = pieces(*(np.asarray(a) for a in call.args))
    dA, dAt = p["dLdA_w"], p["dLdA_w"].swapaxes(-1, -2)
    options = [dA @ p["K"], dAt @ p["K"], dA @ p["Q"], dAt @ p["Q"]]  # the first is dLdQ, the last dLdK
    return (any(close(got["dLdQ"], option) for option in options)
            and any(close(got["dLdK"], option) for option in options))


@signature("softmax_backward_raw_scores", probe="attention_backward")
def _softmax_jacobian_at_the_raw_scores(got, want, call):
    if not only_wrong(call, {"dLdQ", "dLdK", "dLdWq", "dLdWk", "dLdX"}):
        return False
    p = pieces(*(np.asarray(a) for a in call.args))
    scaled = p["A_w"] / math.sqrt(p["Dk"])
    for at in (p["A_w"], scaled, softmax(p["A_w"]), softmax(scaled)):
        dA = softmax_backward(at, p["dLdA_sig"]) / math.sqrt(p["Dk"])
        if close(got["dLdQ"], dA @ p["K"]):
            return True
    return False


# ---- the tests ---------------------------------------------------------------------------------------

@test(points=2)
def forward_matches_autograd(run: Run):
    """forward: X_new, Q, K, V, A_w and A_sig equal PyTorch's on random inputs"""
    expect_autograd(run, "attention_forward", 0, PUBLIC_SHAPE, what="forward(X)")


@test(points=3)
def backward_matches_autograd(run: Run):
    """backward: dLdX, dLdV, dLdK, dLdQ, dLdWq, dLdWk, dLdWv equal PyTorch autograd's on random inputs"""
    expect_autograd(run, "attention_backward", 1, PUBLIC_SHAPE, what="backward(dLdXnew)")


def check_causal(run: Run, seed: int, B: int, T: int, D: int, Dk: int, Dv: int) -> None:
    """X_new at position t must not change when the inputs after t change (for every t)."""
    X, W_q, W_k, W_v, _ = problem(seed, B, T, D, Dk, Dv)
    rng = np.random.default_rng(seed + 1000)
    inputs = [X]
    for t in range(T - 1):
        changed = X.copy()
        changed[:, t + 1:] = rng.normal(size=changed[:, t + 1:].shape) * 3.0
        inputs.append(changed)
    outputs = run.student("forward_outputs", inputs, W_q, W_k, W_v)
    if type(outputs) is not list or len(outputs) != len(inputs) or \
            any(np.shape(out) != (B, T, Dv) for out in outputs):
        raise Fail(f"forward(X) should return X_new of shape {(B, T, Dv)}")
    nan_positions = sorted({int(t) for t in np.argwhere(np.isnan(outputs[0]))[:, 1]})
    if nan_positions == [0]:
        raise Fail("X_new has NaN at position 0: the first position must still attend to itself (mask only "
                   "the positions after t, not t itself)", mistake="diagonal_masked")
    if nan_positions:
        raise Fail(f"X_new has NaN at positions {nan_positions}")
    # (t, s): X_new at position s <= t changed when only the inputs after t changed
    leaks = [(t, s) for t in range(T - 1) for s in range(t + 1)
             if not np.allclose(outputs[t + 1][:, s], outputs[0][:, s], rtol=1e-9, atol=1e-12)]
    if not leaks:
        return
    if {s for _, s in leaks} == {0}:
        raise Fail("X_new at position 0 changes when later inputs change, and no other position does: with the "
                   "diagonal masked too, the first position has nothing left to attend to", mistake="diagonal_masked")
    t, s = next((leak for leak in leaks if leak[1] > 0), leaks[0])
    raise Fail(f"X_new at position {s} changes when only the inputs after position {t} change: attention looks "
               "ahead (the causal mask must hide every key position j > t)", mistake="no_causal_mask")


@test(points=1)
def causal_no_look_ahead(run: Run):
    """causality: X_new at position t does not change when the inputs after t change"""
    check_causal(run, 2, B=2, T=6, D=4, Dk=3, Dv=2)


@test(points=1)
def no_framework_at_run_time(run: Run):
    """no autograd inside: no deep-learning framework is loaded while your attention runs"""
    try:
        loaded = run.student("frameworks_loaded", 4)
    except StudentError as error:
        if error.kind == "forbidden" or "(by import)" in f"{error.message} {error.detail}":
            raise Fail(f"{error.message}: this lab is NumPy only, write the gradients by hand",
                       mistake="uses_autograd") from None
        raise
    if type(loaded) is not list:
        raise Fail("the check of the loaded modules did not return a list")
    if loaded:
        raise Fail(f"{', '.join(map(str, loaded))} got imported while your attention ran: this lab is NumPy only, "
                   "write the gradients by hand", mistake="uses_autograd")
