"""Public tests of the cnn lab (run them with `autograder check cnn`).

Every layer is compared with the reference solution on fixed random inputs; PyTorch's own conv2d and
max_pool2d (run here, in the grader) recognise the known mistakes however they are written. The whole
network runs with the twin's weights and must predict exactly the twin's classes.
"""
import importlib.util
from pathlib import Path

import numpy as np

from autograder.testing import Fail, Run, accuracy, recorded, signature, test

TOL = dict(rtol=1e-4, atol=1e-4)  # float32 arithmetic (a correct alternative) stays well inside this
LIMIT = 4000  # images per split of a real dataset (--data-dir): the twin trains on this many


def _load_twin():
    """``twin.py`` next to this file: the PyTorch twin (loaded by path: lab folders are not packages)."""
    spec = importlib.util.spec_from_file_location("cnn_twin", Path(__file__).resolve().with_name("twin.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


twin = _load_twin()
twin_logits = recorded(twin.logits)  # computed when the lab is released: grading needs no torch


def normal(seed: int, *shape: int) -> np.ndarray:
    """float64 standard normal values: images, kernels and biases with both signs."""
    return np.random.default_rng(seed).normal(size=shape)


# ---- the grader's own layers (PyTorch, trusted side) and the known mistakes they recognise

def torch_corr(X: np.ndarray, K: np.ndarray, groups: int = 1) -> np.ndarray:
    """Cross-correlation by PyTorch's conv2d (which does not flip the kernel), in float64."""
    import torch
    import torch.nn.functional as F

    with torch.no_grad():
        return F.conv2d(torch.as_tensor(X, dtype=torch.float64), torch.as_tensor(K, dtype=torch.float64),
                        groups=groups).numpy()


def torch_pool(X: np.ndarray, window: tuple, stride: tuple | int, start: int = 0) -> np.ndarray:
    """Max over windows of size ``window`` every ``stride`` pixels, the first starting at (start, start);
    windows that run past the bottom or right edge are cut short (the image is padded with -inf)."""
    padded = np.pad(X[:, :, start:, start:], ((0, 0), (0, 0), (0, window[0]), (0, window[1])),
                    constant_values=-np.inf)
    import torch
    import torch.nn.functional as F

    with torch.no_grad():
        return F.max_pool2d(torch.as_tensor(padded, dtype=torch.float64), window, stride).numpy()


def close(got, want) -> bool:
    """Same shape and values within TOL."""
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    return got.shape == want.shape and bool(np.allclose(got, want, **TOL))


def conv_inputs(call) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(X, K, bias) of a correlate or conv_layer call (bias 0 for corr2d), else None."""
    if call.probe == "correlate":
        X, K = (np.asarray(a, dtype=np.float64) for a in call.args)
        return X, K, np.zeros(K.shape[0])
    if call.probe == "conv_layer":
        W, b, X = (np.asarray(a, dtype=np.float64) for a in call.args)
        return X, W, b
    return None


def per_channel(values: np.ndarray) -> np.ndarray:
    """One value per channel (axis 1) of a (B, C, H, W) batch."""
    return values.reshape(1, -1, 1, 1)


@signature("kernel_flipped")
def _correlates_with_a_flipped_kernel(got, want, call):
    inputs = conv_inputs(call)
    if inputs is None:
        return False
    X, K, b = inputs
    flips = [np.flip(K, axes) for axes in ((2, 3), (2,), (3,))]
    return any(close(got, torch_corr(X, k) + per_channel(b)) for k in flips if not np.array_equal(k, K))


@signature("channels_wrong_axis")
def _sums_over_the_wrong_channel_axis(got, want, call):
    inputs = conv_inputs(call)
    if inputs is None:
        return False
    X, K, b = inputs
    if K.shape[0] != K.shape[1]:
        return False  # with O != I these mistakes cannot produce an output of the right shape
    swapped = torch_corr(X, K.transpose(1, 0, 2, 3))  # K's out and in axes exchanged
    summed_over_out = torch_corr(X, K.sum(axis=0)[:, None], groups=K.shape[1])  # each input channel alone
    return any(close(got, candidate + per_channel(b)) for candidate in (swapped, summed_over_out))


@signature("bias_wrong_axis", probe="conv_layer")
def _adds_the_bias_along_another_axis(got, want, call):
    X, W, b = conv_inputs(call)
    plain = torch_corr(X, W)
    shapes = {0: (-1, 1, 1, 1), 2: (1, 1, -1, 1), 3: (1, 1, 1, -1)}
    return any(plain.shape[axis] == len(b) and close(got, plain + b.reshape(shape)) for axis, shape in shapes.items())


@signature("output_size_off_by_one")
def _output_one_row_or_column_off(got, want, call):
    got, want = np.asarray(got), np.asarray(want)
    if call.probe not in ("correlate", "conv_layer") or got.ndim != 4 or got.shape[:2] != want.shape[:2]:
        return False
    off = (got.shape[2] - want.shape[2], got.shape[3] - want.shape[3])
    rows, cols = min(got.shape[2], want.shape[2]), min(got.shape[3], want.shape[3])
    return off != (0, 0) and max(map(abs, off)) == 1 and close(got[:, :, :rows, :cols], want[:, :, :rows, :cols])


@signature("pool_windows", probe="pool_layer")
def _pools_overlapping_or_shifted_windows(got, want, call):
    (ph, pw), X = call.args[0], np.asarray(call.args[1], dtype=np.float64)
    Ho, Wo = X.shape[2] // ph, X.shape[3] // pw
    candidates = [torch_pool(X, (ph, pw), 1),  # stride 1: overlapping windows
                  torch_pool(X, (ph + 1, pw + 1), (ph, pw)),  # one pixel too wide: neighbours overlap by one
                  torch_pool(X, (ph + 1, pw), (ph, pw)), torch_pool(X, (ph, pw + 1), (ph, pw)),
                  torch_pool(X, (ph, pw), (ph, pw), start=1)]  # every window one pixel late
    return any(c.shape[2] >= Ho and c.shape[3] >= Wo and close(got, c[:, :, :Ho, :Wo]) for c in candidates)


@signature("pool_max_from_zero", probe="pool_layer")
def _pools_from_zero(got, want, call):
    want = np.asarray(want, dtype=np.float64)
    return bool((want < 0).any()) and close(got, np.maximum(want, 0.0))


@signature("linear_weight_orientation", probe="linear_layer")
def _multiplies_by_the_untransposed_weight(got, want, call):
    W, b, X = (np.asarray(a, dtype=np.float64) for a in call.args)
    return W.shape[0] == W.shape[1] and close(got, X @ W + b)


# ---- the layers, one by one

@test(points=3)
def corr2d_matches_reference(run: Run):
    """corr2d equals the reference: equal sizes, then odd sizes and a non-square kernel, then batch 1"""
    cases = [((4, 4, 6, 6), (4, 4, 3, 3)),  # B = I = O = output size: a mistake still gives values
             ((2, 3, 7, 9), (5, 3, 2, 4)),  # odd image, non-square kernel
             ((1, 1, 5, 4), (1, 1, 5, 1))]  # one image, one channel, a kernel as tall as the image
    for seed, (image, kernel) in enumerate(cases):
        X, K = normal(seed, *image), normal(seed + 10, *kernel)
        run.expect_match("correlate", X, K, what=f"corr2d(X {image}, K {kernel})", **TOL)


@test(points=2)
def conv2d_matches_reference(run: Run):
    """Conv2D.forward_np equals the reference (correlation plus one bias per output channel)"""
    cases = [((4, 4, 6, 6), (4, 4, 3, 3)), ((3, 2, 5, 7), (6, 2, 2, 3))]
    for seed, (image, kernel) in enumerate(cases):
        W, b, X = normal(seed + 20, *kernel), normal(seed + 30, kernel[0]), normal(seed + 40, *image)
        run.expect_match("conv_layer", W, b, X, what=f"Conv2D{kernel[:2]} with a {kernel[2:]} kernel on X {image}",
                         **TOL)


@test(points=2)
def maxpool_matches_reference(run: Run):
    """MaxPool2D.forward_np equals the reference: 2x2 windows, then non-square windows on odd sizes"""
    for seed, (image, pool) in enumerate([((2, 3, 8, 8), (2, 2)), ((3, 2, 7, 9), (2, 3)), ((2, 1, 6, 5), (3, 2))]):
        X = normal(seed + 50, *image)
        run.expect_match("pool_layer", list(pool), X, what=f"MaxPool2D({pool}) on X {image}", **TOL)


@test(points=1)
def linear_matches_reference(run: Run):
    """Linear.forward_np equals the reference (as many inputs as outputs, then fewer outputs)"""
    for seed, (n, d_in, d_out) in enumerate([(5, 6, 6), (3, 7, 4)]):
        W, b, X = normal(seed + 60, d_out, d_in), normal(seed + 61, d_out), normal(seed + 62, n, d_in)
        run.expect_match("linear_layer", W, b, X, what=f"Linear({d_in}, {d_out}) on a batch of {n}", **TOL)


# ---- vectorisation, judged by counting the lines your code runs (a loop over the h*w kernel offsets, or
# over the output positions, is fine: it does not grow with the batch)

@test(points=2)
def corr2d_vectorised(run: Run):
    """corr2d handles the whole batch at once (no Python loop over the images)"""
    run.expect_vectorised("correlate_batch", 0, image=[3, 7, 6], kernel=[4, 3, 3, 2], n=(3, 11), size="batch",
                          what="corr2d on batches of 3 and 11 images", mistake="loop_over_batch_pixels")


@test(points=1)
def maxpool_vectorised(run: Run):
    """MaxPool2D handles the whole batch at once (no Python loop over the images)"""
    run.expect_vectorised("pool_batch", 0, image=[3, 8, 6], pool_size=[2, 2], n=(3, 11), size="batch",
                          what="MaxPool2D on batches of 3 and 11 images", mistake="pool_loops_over_images")


# ---- the whole network, with the twin's weights

def digits_twin() -> tuple[list, dict]:
    """The committed twin (trained by the kit on the default digits)."""
    return twin.load()


@test(points=1)
def hand_model_logits(run: Run):
    """HandCNN with the twin's weights gives the twin's logits (16 random 8x8 images)"""
    layers, params = digits_twin()
    images = np.random.default_rng(70).uniform(0, 1, size=(16, 1, 8, 8)).astype(np.float32)
    got = run.expect_match("hand_logits", layers, params, images, what="the network's logits", **TOL)
    run.expect_close(got, twin_logits(layers, params, images), what="the network's logits against the twin's", **TOL)


_twins: dict[str, tuple] = {}  # the twin of each dataset, once per grading


def data_and_twin(run: Run):
    """The dataset (digits by default, or what --data-dir holds) and its twin: the committed weights on
    digits, a twin trained here (grader side) on a real set. Returns (data, layers, params, the twin's
    predicted classes for the validation and test images)."""
    data = run.dataset("images", seed=0, limit=LIMIT)
    key = data.info.get("folder", data.info["name"])
    if key not in _twins:
        layers, params = digits_twin() if data.info["name"] == "digits" else twin.train_on(data)
        predicted = {split: twin_logits(layers, params, getattr(data, f"{split}_x")).argmax(axis=1)
                     for split in ("val", "test")}
        _twins[key] = layers, params, predicted
    return (data, *_twins[key])


def hand_predictions(run: Run, data, layers: list, params: dict) -> dict:
    """Your network's classes for the validation and test images: one sandbox call shared by four tests."""
    return run.student("hand_predict", layers, params, data.val_x, data.test_x, cache=True)


def expect_twin_predictions(run: Run, split: str) -> None:
    data, layers, params, twin_predicted = data_and_twin(run)
    got = np.asarray(hand_predictions(run, data, layers, params)[split])
    want = twin_predicted[split]
    if got.shape != want.shape:
        raise Fail(f"expected one class per {split} image, shape {want.shape}; got shape {got.shape}")
    disagree = np.flatnonzero(got != want)
    if disagree.size:
        raise Fail(f"your network and the twin disagree on {disagree.size} of {want.size} {split} images "
                   f"(first at index {disagree[0]}: yours says {got[disagree[0]]}, the twin {want[disagree[0]]})")


def score_accuracy(run: Run, split: str) -> float:
    """Accuracy on a split: against the calibrated threshold on digits; on a real set (--data-dir), the
    difference from the twin's own accuracy (which a correct network equals)."""
    data, layers, params, twin_predicted = data_and_twin(run)
    got = np.asarray(hand_predictions(run, data, layers, params)[split])
    labels = getattr(data, f"{split}_y")
    name = "validation" if split == "val" else "test"
    if data.info["name"] == "digits":
        return run.score_predictions(got, labels=labels, metric=accuracy, label=f"{name} accuracy",
                                     threshold=f"digits_{split}_accuracy", fmt=".4f", what="hand_predict")
    if got.shape != labels.shape:
        raise Fail(f"expected one class per {name} image, shape {labels.shape}; got shape {got.shape}")
    gap = accuracy(got, labels) - accuracy(twin_predicted[split], labels)
    return run.metric(f"{name} accuracy minus the twin's ({data.info['name']})", gap, "accuracy_vs_twin", fmt="+.4f")


@test(points=2)
def hand_model_matches_twin_val(run: Run):
    """HandCNN with the twin's weights predicts the twin's class for every validation image"""
    expect_twin_predictions(run, split="val")


@test(points=2)
def hand_model_val_accuracy(run: Run):
    """HandCNN with the twin's weights reaches the validation-accuracy threshold"""
    return score_accuracy(run, split="val")
