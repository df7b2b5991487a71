"""Public tests of nn_fundamentals (run them with `autograder check nn_fundamentals`).

Tests are grouped by question (ids q1_ ... q6_); each question's tests call only that question's code.
"""
import math

import numpy as np
import torch

from autograder.testing import Fail, Run, accuracy, signature, test

PERCEPTRON_BUDGET = 200  # passes over the data before train counts as never stopping
TRANSFORMER = dict(vocab_size=16, layer_size=32, block_size=16, steps=300, batch_size=32, lr=3e-3)


def floats(seed: int, *shape: int, scale: float = 1.0) -> torch.Tensor:
    """Normal float32 values."""
    return torch.from_numpy((np.random.default_rng(seed).normal(size=shape) * scale).astype(np.float32))


# ---- Question 1: the perceptron ------------------------------------------------------------------------

def separable_points(seed: int, n: int, d: int) -> tuple[torch.Tensor, torch.Tensor]:
    """n points with d integer coordinates and a last coordinate 1 (the bias), classified 1 or -1 by a
    random integer line with a margin: every sum the perceptron makes is exact in float32."""
    rng = np.random.default_rng(seed)
    line = rng.integers(-3, 4, size=d + 1)
    line[0] = line[0] or 2
    points = []
    while len(points) < n:
        point = np.append(rng.integers(-5, 6, size=d), 1)
        if abs(point @ line) >= 2:
            points.append(point)
    points = np.array(points, dtype=np.float32)
    return torch.from_numpy(points), torch.from_numpy(np.sign(points @ line).astype(np.float32))


def simulate_perceptron(weights, points, labels, visits, update: str = "mistakes", sign: float = 1.0) -> np.ndarray:
    """The perceptron rule replayed along the student's visiting order. ``update``: on "mistakes" (the
    rule), on "every" point, or only on "correct" ones; ``sign`` -1 moves the weights the wrong way."""
    w = np.asarray(weights, dtype=np.float64).reshape(-1).copy()
    points, labels = np.asarray(points, dtype=np.float64), np.asarray(labels, dtype=np.float64)
    for i in visits:
        wrong = (1.0 if w @ points[i] >= 0 else -1.0) != labels[i]
        if {"mistakes": wrong, "every": True, "correct": not wrong}[update]:
            w += sign * labels[i] * points[i]
    return w


def last_pass_is_clean(weights, points, labels, visits) -> bool:
    """Whether the last len(points) visits are one pass over every point, with no mistake."""
    n = len(points)
    last = visits[-n:]
    if len(visits) % n or sorted(last) != list(range(n)):
        return False
    w = simulate_perceptron(weights, points, labels, visits[:-n])
    return all((1.0 if w @ np.asarray(points[i], dtype=np.float64) >= 0 else -1.0) == labels[i] for i in last)


PERCEPTRON_MISTAKES = [  # (mistake id, update, sign, what it did)
    ("perceptron_updates_correct_points", "every", 1.0, "updated the weights on every point, correct ones too"),
    ("perceptron_updates_correct_points", "correct", 1.0, "updated the weights on correctly classified points only"),
    ("perceptron_wrong_sign", "mistakes", -1.0, "moved the weights away from each misclassified point (w - label * x)"),
]


def check_perceptron_training(run: Run, points: torch.Tensor, labels: torch.Tensor, seed: int) -> None:
    """train, from weights of ones: every update must follow the perceptron rule along the order in which
    train visited the points, and train must stop after the first pass without a mistake."""
    n, d = points.shape
    w0 = torch.ones(1, d)
    got = run.student("perceptron_train", w0, points, labels, budget=PERCEPTRON_BUDGET * n, seed=seed)
    visits, weights = got["visits"], np.asarray(got["weights"], dtype=np.float64)
    if not visits:
        raise Fail("train never read a point from the dataset: visit the points through the dataset (e.g. a "
                   "DataLoader with batch_size=1), one at a time")
    if weights.shape != (d,):
        raise Fail(f"after train, get_weights() has {weights.size} values; expected shape (1, {d})")
    want = simulate_perceptron(w0, points, labels, visits)
    if not np.allclose(weights, want):
        for mistake, update, sign, did in PERCEPTRON_MISTAKES:
            if np.allclose(weights, simulate_perceptron(w0, points, labels, visits, update, sign)):
                raise Fail(f"replaying the {len(visits)} points your train visited, in its order: your train {did}",
                           mistake=mistake)
        raise Fail(f"replaying the {len(visits)} points your train visited, in its order, the perceptron rule "
                   f"(w <- w + label * x on each misclassified point, score >= 0 meaning class 1) ends at "
                   f"w = {np.round(want, 3).tolist()}, yours at {np.round(weights, 3).tolist()}")
    if not got["finished"]:
        raise Fail(f"train did not stop within {PERCEPTRON_BUDGET} passes over {n} separable points: stop after a "
                   "full pass without a mistake")
    if not last_pass_is_clean(w0, points, labels, visits):
        raise Fail("train stopped, but not right after a full pass over every point without a mistake")


@test(points=1)
def q1_weights_parameter(run: Run):
    """Q1: get_weights returns a Parameter of shape (1, dimensions)"""
    for dimensions in (3, 1, 6):
        got = run.student("perceptron_weights", dimensions)
        if not got["is_parameter"]:
            raise Fail("get_weights() must return self.w as a torch.nn.Parameter")
        if got["shape"] != [1, dimensions]:
            raise Fail(f"PerceptronModel({dimensions}).get_weights() has shape {tuple(got['shape'])}, "
                       f"expected (1, {dimensions})")


@test(points=2)
def q1_scores_and_predictions(run: Run):
    """Q1: run gives w . x and get_prediction 1 or -1 (1 for a score of exactly 0)"""
    w = torch.tensor([[2.0, -1.0, 0.5]])
    points = torch.tensor([[1.0, 2.0, 0.0], [3.0, 1.0, -2.0], [0.0, 4.0, 2.0], [-1.0, 0.0, 4.0], [2.0, 1.0, 1.0]])
    run.expect_match("perceptron_scores", w, points, what="scores and predictions with w = [2, -1, 0.5]")


@test(points=3)
def q1_train_follows_the_rule(run: Run):
    """Q1: train updates on mistakes only (w + label * x) and stops after a pass without mistakes"""
    check_perceptron_training(run, *separable_points(1, n=10, d=2), seed=0)


# ---- Question 2: regression ------------------------------------------------------------------------------

def scalar_loss(loss: torch.Tensor, what: str) -> float:
    loss = np.asarray(loss)
    if loss.size != 1:
        raise Fail(f"{what} must return one number (a scalar tensor), got shape {loss.shape}")
    return float(loss.reshape(()))


@test(points=2)
def q2_forward_and_loss(run: Run):
    """Q2: forward maps (n, 1) to (n, 1) and get_loss is the mean squared error of its outputs"""
    for n in (7, 1, 50):
        x = torch.linspace(-2 * math.pi, 2 * math.pi, n) if n > 1 else torch.tensor([0.5])
        got = run.student("regression_forward", 0, x)
        output = np.asarray(got["output"], dtype=np.float64)
        if output.shape != (n, 1):
            raise Fail(f"forward on inputs of shape ({n}, 1) returned shape {output.shape}, expected ({n}, 1)")
        want = np.mean((output - np.sin(np.asarray(x, dtype=np.float64))[:, None]) ** 2)
        run.expect_close(scalar_loss(got["loss"], "get_loss"), want, rtol=1e-4,
                         what=f"get_loss on {n} points (the mean of (forward(x) - y) ** 2)")


@test(points=1)
def q2_output_can_be_negative(run: Run):
    """Q2: the network can output negative values (sin(x) goes down to -1)"""
    x = torch.linspace(-2 * math.pi, 2 * math.pi, 32)
    outputs = np.asarray(run.student("regression_fit_constant", 0, x, -1.0, steps=150))
    if outputs.min() >= 0:
        raise Fail("fitted to a target of -1 everywhere (Adam on your get_loss, 150 steps), your network's outputs "
                   f"never went below 0 (they end in [{outputs.min():.3g}, {outputs.max():.3g}])",
                   mistake="regression_output_not_negative")
    if outputs.max() > -0.5:
        raise Fail("fitted to a target of -1 everywhere (Adam on your get_loss, 150 steps), your network's outputs "
                   f"end in [{outputs.min():.3g}, {outputs.max():.3g}], far from -1")


def mean_squared_error(predicted: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean((predicted.astype(np.float64) - y) ** 2))


def regression_predictions(run: Run):
    data = run.dataset("sine", seed=0)
    return data, run.student("regression_train_predict", data.train_x, data.train_y, data.val_x, data.test_x, seed=0,
                             cache=True)


@test(points=2, slow=True)
def q2_loss_val(run: Run):
    """Q2: after train, the mean squared error on new points of [-2pi, 2pi] is at most 0.02"""
    data, predicted = regression_predictions(run)
    return run.score_predictions(predicted["val"], labels=data.val_y, metric=mean_squared_error,
                                 label="Q2 validation loss", threshold="q2_loss", what="train then forward")


# ---- Question 3: digit classification -------------------------------------------------------------------

def log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def cross_entropy(logits: np.ndarray, classes: np.ndarray) -> float:
    """The mean cross-entropy of logits against class ids, computed by the grader."""
    return float(-log_softmax(np.asarray(logits, dtype=np.float64))[np.arange(len(classes)), classes].mean())


def are_probabilities(values: np.ndarray) -> bool:
    return bool(np.all(values >= 0) and np.allclose(values.sum(axis=1), 1.0, atol=1e-4))


def check_logits_and_loss(run: Run, probe: str, *args, classes: np.ndarray, count: int, what: str,
                          mistake: str | None = None) -> None:
    """run(x) must give (n, count) logits (not probabilities) and get_loss their mean cross-entropy."""
    got = run.student(probe, *args)
    logits = np.asarray(got["logits"], dtype=np.float64)
    n = len(classes)
    if logits.shape != (n, count):
        raise Fail(f"{what}: run returned shape {logits.shape}, expected ({n}, {count})")
    if mistake and are_probabilities(logits):
        raise Fail(f"{what}: run returned probabilities (every row is non-negative and sums to 1): return the "
                   "logits; cross_entropy applies the softmax itself", mistake=mistake)
    loss = scalar_loss(got["loss"], "get_loss")
    want = cross_entropy(logits, classes)
    if mistake and np.isclose(loss, cross_entropy(np.exp(log_softmax(logits)), classes), rtol=1e-4) \
            and not np.isclose(loss, want, rtol=1e-4):
        raise Fail(f"{what}: get_loss applies a softmax before cross_entropy (softmax twice): give cross_entropy "
                   "the logits", mistake=mistake)
    run.expect_close(loss, want, rtol=1e-4, what=f"{what}: get_loss (the mean cross-entropy of run's logits)")


@test(points=2)
def q3_logits_and_loss(run: Run):
    """Q3: run returns (n, 10) logits and get_loss their cross-entropy"""
    rng = np.random.default_rng(3)
    for n, size in ((12, 64), (3, 784)):
        classes = rng.integers(0, 10, size=n)
        pixels = torch.from_numpy(rng.uniform(0, 1, size=(n, size)).astype(np.float32))
        check_logits_and_loss(run, "digit_logits", 0, pixels, torch.from_numpy(classes), classes=classes, count=10,
                              what=f"{n} images of {size} pixels", mistake="digit_softmax_logits")


def digit_data(run: Run):
    """MNIST when the grading has its files (--data-dir), else scikit-learn's digits: flat images."""
    data = run.dataset("images", seed=0)
    image_size = data.train_x.shape[-1]
    source = "mnist" if image_size == 28 else "digits"
    flat = [np.ascontiguousarray(x.reshape(len(x), -1)) for x in (data.train_x, data.val_x, data.test_x)]
    return data, flat, image_size, source


def digit_predictions(run: Run, probe: str, **kwargs):
    data, (train, val, test), image_size, source = digit_data(run)
    if probe == "conv_train_predict":
        kwargs["image_size"] = image_size
    return data, source, run.student(probe, train, data.train_y, val, test, **kwargs, seed=0, cache=True)


@test(points=2, slow=True)
def q3_accuracy_val(run: Run):
    """Q3: validation accuracy of the trained digit classifier"""
    data, source, predicted = digit_predictions(run, "digit_train_predict")
    return run.score_predictions(predicted["val"], labels=data.val_y, metric=accuracy, fmt=".3f",
                                 label=f"Q3 validation accuracy ({source})", threshold=f"q3_accuracy_{source}")


# ---- Question 4: language identification ---------------------------------------------------------------

def words(seed: int, n: int, length: int) -> torch.Tensor:
    return torch.from_numpy(np.random.default_rng(seed).integers(0, 47, size=(n, length)))


@test(points=1)
def q4_logits_and_loss(run: Run):
    """Q4: run returns (batch, 5) logits for words of any length and get_loss their cross-entropy"""
    rng = np.random.default_rng(4)
    for n, length in ((6, 4), (1, 1), (3, 10)):
        languages = rng.integers(0, 5, size=n)
        check_logits_and_loss(run, "language_logits", 0, words(n + length, n, length), torch.from_numpy(languages),
                              classes=languages, count=5, what=f"{n} words of {length} characters")


def check_every_character_counts(run: Run, n: int, length: int, seed: int) -> None:
    """Changing the characters at any one position must change run's logits; if only the last position
    counts, say whether the code never computes with the others or throws their state away."""
    ids, replacements = words(seed, n, length), (words(seed, n, length) + 1 + words(seed + 1, n, length) % 46) % 47
    got = run.student("language_dependence", 0, ids, replacements)
    changes, used = np.asarray(got["changes"], dtype=np.float64), set(got["used"])
    ignored = [p for p in range(length) if not changes[p] > 1e-6]
    if not ignored:
        return
    where = f"words of {length} characters: changing the character at position(s) {ignored} leaves run's logits unchanged"
    if ignored == list(range(length - 1)) and length > 1:
        if used <= {length - 1}:
            raise Fail(f"{where}; your run never computes with any character but the last",
                       mistake="language_last_character_only")
        raise Fail(f"{where}: your run computes with every character, but only the last one reaches the logits "
                   "(the hidden state is not carried from one character to the next)", mistake="language_state_reset")
    raise Fail(f"{where}: every character must reach the hidden state, and the state must be carried to the end")


@test(points=2)
def q4_every_character_counts(run: Run):
    """Q4: every character of a word changes the logits (the hidden state is carried through the word)"""
    check_every_character_counts(run, n=4, length=5, seed=40)


def language_data(run: Run):
    """lang_id.npz when the grading has it (--data-dir), else the generated languages."""
    data = run.dataset("lang_id", seed=0)
    return data, "real" if data.info["source"] == "lang_id.npz" else "generated"


def language_predictions(run: Run):
    data, source = language_data(run)
    return data, source, run.student("language_train_predict", data.train_x, data.train_y, data.val_x, data.test_x,
                                     seed=0, cache=True)


@test(points=2, slow=True)
def q4_accuracy_val(run: Run):
    """Q4: validation accuracy of the trained language identifier"""
    data, source, predicted = language_predictions(run)
    return run.score_predictions(predicted["val"], labels=data.val_y, metric=accuracy, fmt=".3f",
                                 label=f"Q4 validation accuracy ({source})", threshold=f"q4_accuracy_{source}")


# ---- Question 5: convolution -----------------------------------------------------------------------------

def correlate(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """2-D valid cross-correlation, computed by the grader."""
    h, w = kernel.shape
    rows, cols = image.shape[0] - h + 1, image.shape[1] - w + 1
    return sum(kernel[a, b] * image[a:a + rows, b:b + cols] for a in range(h) for b in range(w))


@signature("convolve_flipped_kernel", probe="convolve")
def _correlates_with_the_flipped_kernel(got, want, call):
    image, kernel = (np.asarray(a, dtype=np.float64) for a in call.args)
    flipped = correlate(image, kernel[::-1, ::-1])
    return np.asarray(got).shape == flipped.shape and np.allclose(got, flipped, rtol=1e-4, atol=1e-5) \
        and not np.allclose(flipped, want, rtol=1e-4, atol=1e-5)


@signature("convolve_same_size", probe="convolve")
def _output_as_large_as_the_input(got, want, call):
    return np.asarray(got).shape == tuple(np.asarray(call.args[0]).shape) != np.asarray(want).shape


CONVOLVE_CASES = [((5, 5), (3, 3)), ((6, 4), (2, 3)), ((4, 7), (1, 1)), ((7, 6), (3, 2))]


@test(points=2)
def q5_convolve_matches(run: Run):
    """Q5: Convolve is the valid cross-correlation (no flip, no padding) on square and non-square shapes"""
    for i, (image, kernel) in enumerate(CONVOLVE_CASES):
        run.expect_match("convolve", floats(50 + i, *image), floats(60 + i, *kernel),
                         what=f"Convolve of a {image} input with a {kernel} weight", rtol=1e-5, atol=1e-5)


@test(points=1)
def q5_model_logits_and_loss(run: Run):
    """Q5: DigitConvolutionalModel.run returns (n, 10) logits and get_loss their cross-entropy"""
    rng = np.random.default_rng(5)
    for n, size in ((5, 8), (2, 28)):
        classes = rng.integers(0, 10, size=n)
        pixels = torch.from_numpy(rng.uniform(0, 1, size=(n, size * size)).astype(np.float32))
        check_logits_and_loss(run, "conv_logits", 0, size, pixels, torch.from_numpy(classes), classes=classes,
                              count=10, what=f"{n} images of {size}x{size} pixels")


@test(points=1, slow=True)
def q5_accuracy_val(run: Run):
    """Q5: validation accuracy of the trained convolutional digit classifier"""
    data, source, predicted = digit_predictions(run, "conv_train_predict")
    return run.score_predictions(predicted["val"], labels=data.val_y, metric=accuracy, fmt=".3f",
                                 label=f"Q5 validation accuracy ({source})", threshold=f"q5_accuracy_{source}")


# ---- Question 6: attention -------------------------------------------------------------------------------

def attention_weights(seed: int, size: int) -> dict:
    """Fixed k, q and v layers (weight (size, size), bias (size,))."""
    rng = np.random.default_rng(seed)
    return {f"{name}.{part}": torch.from_numpy((rng.normal(size=(size, size) if part == "weight" else size)
                                                / math.sqrt(size)).astype(np.float32))
            for name in ("k", "q", "v") for part in ("weight", "bias")}


def simulate_attention(weights: dict, x, scale: str = "sqrt", allowed: str = "past", axis: int = -1,
                       swap: bool = False) -> np.ndarray:
    """Causal self-attention computed by the grader, and the known ways of getting it wrong: ``scale``
    "sqrt" (1 / sqrt(layer_size)), "none", "size" (1 / layer_size) or "times_sqrt" (times sqrt(layer_size));
    ``allowed`` which positions row t sees: "past" (<= t), "all", "future" (>= t), "next" (<= t + 1),
    "strict_future" (> t), "zeroed" (later scores set to 0, not -inf: multiplied by the mask); the softmax
    ``axis`` (an int, or (1, 2): all of a sequence's scores at once); ``swap``: scores K Q^T instead of Q K^T."""
    x = np.asarray(x, dtype=np.float64)
    k, q, v = (x @ np.asarray(weights[f"{n}.weight"], dtype=np.float64).T + np.asarray(weights[f"{n}.bias"])
               for n in ("k", "q", "v"))
    size, t = x.shape[-1], x.shape[1]
    scores = (k @ q.swapaxes(-1, -2) if swap else q @ k.swapaxes(-1, -2)) * \
        {"sqrt": 1 / math.sqrt(size), "none": 1.0, "size": 1 / size, "times_sqrt": math.sqrt(size)}[scale]
    rows, cols = np.indices((t, t))
    keep = {"past": cols <= rows, "all": cols >= 0, "future": cols >= rows, "next": cols <= rows + 1,
            "strict_future": cols > rows, "zeroed": cols <= rows}[allowed]
    scores = np.where(keep, scores, 0.0 if allowed == "zeroed" else -np.inf)
    with np.errstate(invalid="ignore", divide="ignore"):
        e = np.exp(scores - scores.max(axis=axis, keepdims=True))
        return (e / e.sum(axis=axis, keepdims=True)) @ v


LEAKY_MASKS = ("all", "future", "next", "strict_future", "zeroed")
WRONG_AXES = (0, 1, (1, 2))


def like_variant(got, weights: dict, x, **variant) -> bool:
    """The student's output equals the simulation of this variant (and the variant differs from the right one)."""
    wrong, right = simulate_attention(weights, x, **variant), simulate_attention(weights, x)
    got = np.asarray(got, dtype=np.float64)
    return got.shape == wrong.shape and np.allclose(got, wrong, rtol=1e-4, atol=1e-5, equal_nan=True) \
        and not np.allclose(wrong, right, rtol=1e-4, atol=1e-5, equal_nan=True)


def attention_variant(got, call, **variant) -> bool:
    weights, _, x = call.args
    return like_variant(got, weights, x, **variant)


@signature("attention_no_scale", probe="attention_forward")
def _scores_not_divided_by_sqrt_size(got, want, call):
    return any(attention_variant(got, call, scale=scale) for scale in ("none", "size", "times_sqrt"))


@signature("attention_mask_future", probe="attention_forward")
def _mask_lets_the_future_through(got, want, call):
    return any(attention_variant(got, call, allowed=allowed) for allowed in LEAKY_MASKS)


@signature("attention_softmax_dim", probe="attention_forward")
def _softmax_over_another_dim(got, want, call):
    return any(attention_variant(got, call, axis=axis) for axis in WRONG_AXES)


@signature("attention_keys_queries_swapped", probe="attention_forward")
def _scores_are_k_times_q(got, want, call):
    return attention_variant(got, call, swap=True)


@test(points=1)
def q6_mask_buffer(run: Run):
    """Q6: Attention registers a lower-triangular "mask" buffer of block_size x block_size"""
    for layer_size, block_size in ((4, 5), (3, 1)):
        got = run.student("attention_mask", layer_size, block_size)
        if got["mask"] is None:
            raise Fail(f"Attention({layer_size}, {block_size}) registers no buffer called 'mask' (its buffers: "
                       f"{got['buffers']}): use self.register_buffer('mask', ...)")
        mask = np.asarray(got["mask"])
        if mask.size != block_size ** 2:
            raise Fail(f"the mask of Attention({layer_size}, {block_size}) has shape {mask.shape}, expected "
                       f"({block_size}, {block_size})")
        if not np.array_equal(mask.reshape(block_size, block_size) != 0, np.tril(np.ones((block_size, block_size))) != 0):
            raise Fail(f"the mask of Attention({layer_size}, {block_size}) is not lower-triangular: it must be non-zero "
                       "on and below the diagonal (what each position may see) and 0 above it",
                       mistake="attention_mask_future")


@test(points=2)
def q6_attention_matches(run: Run):
    """Q6: Attention.forward equals the reference on fixed weights (T = block_size and T < block_size)"""
    for seed, (batch, t, size, block) in enumerate(((2, 4, 6, 4), (3, 3, 4, 5))):
        run.expect_match("attention_forward", attention_weights(70 + seed, size), block, floats(80 + seed, batch, t, size),
                         what=f"Attention({size}, {block}) on inputs ({batch}, {t}, {size})", rtol=1e-4, atol=1e-5,
                         sizes={"layer_size": size, "T": t})


@test(points=1)
def q6_attention_is_causal(run: Run):
    """Q6: the output at a position does not change when later positions of the input change"""
    size, block, t = 5, 6, 6
    weights, x = attention_weights(90, size), floats(91, 2, t, size)
    base = np.asarray(run.student("attention_forward", weights, block, x), dtype=np.float64)
    for position in range(t - 1):
        changed = x.clone()
        changed[:, position + 1:] = floats(92 + position, 2, t - position - 1, size)
        out = np.asarray(run.student("attention_forward", weights, block, changed), dtype=np.float64)
        if out.shape != base.shape or not np.allclose(out[:, :position + 1], base[:, :position + 1], rtol=1e-5,
                                                      atol=1e-6, equal_nan=True):
            message = (f"changing the inputs after position {position} changed the output at positions up to "
                       f"{position}: a position must not see later ones")
            if any(like_variant(base, weights, x, axis=axis) for axis in WRONG_AXES):
                raise Fail(f"{message} (the softmax normalises over the wrong dim, mixing in later rows)",
                           mistake="attention_softmax_dim")
            if any(like_variant(base, weights, x, allowed=allowed) for allowed in LEAKY_MASKS):
                raise Fail(f"{message} (the mask lets later positions through)", mistake="attention_mask_future")
            raise Fail(f"{message}: check the mask and the dim of the softmax")


def transformer_predictions(run: Run):
    data = run.dataset("repeats", seed=0, block_size=TRANSFORMER["block_size"])
    return data, run.student("transformer_train_predict", data.train_x, data.train_y, data.val_x, data.test_x,
                             **TRANSFORMER, seed=0, cache=True)


@test(points=1, slow=True)
def q6_transformer_val(run: Run):
    """Q6: the character transformer with your Attention learns to continue repeated words (validation)"""
    data, predicted = transformer_predictions(run)
    return run.score_predictions(predicted["val"], labels=data.val_y, metric=accuracy, fmt=".3f",
                                 label="Q6 validation next-letter accuracy", threshold="q6_accuracy")
