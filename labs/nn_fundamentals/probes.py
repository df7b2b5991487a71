"""Probes: the grader calls these (in a sandbox) with plain data; they build your models, call them and
return plain data (numbers, lists, dicts, tensors). They know no answers: the grader compares what
comes back with the reference solution, with its own simulations, and with labels it keeps.

Each question's probes use only that question's classes. models.py is imported once; if it cannot be
imported as a whole (say, a syntax error in one question), its top-level blocks are compiled one by
one, so that the other questions are still graded and only the questions whose code is broken fail,
with the error at its line.
"""
import importlib.util
import random
import re
import sys
import traceback
import types

import numpy as np
import torch

import backend

# ---- models.py, question by question -------------------------------------------------------------------

BLOCK_START = re.compile(r"(@|class |def |import |from |[A-Za-z_]\w*\s*(:[^=]*)?=)")  # a top-level statement
DEFINES = re.compile(r"^(?:class|def)\s+([A-Za-z_]\w*)", re.MULTILINE)


def _models_in_parts() -> tuple[types.ModuleType, dict]:
    """models.py compiled one top-level block at a time (line numbers kept): the module with every block
    that ran, and for each name a broken block would have defined, (its error, the line to show)."""
    path = importlib.util.find_spec("models").origin
    with open(path, encoding="utf-8") as file:
        lines = file.read().splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines)
              if BLOCK_START.match(line) and not (i and lines[i - 1].startswith("@"))] + [len(lines)]
    module = types.ModuleType("models")
    module.__file__ = path
    broken = {}
    for first, end in zip(starts, starts[1:]):
        block = "".join(lines[first:end])
        try:
            exec(compile("\n" * first + block, path, "exec"), module.__dict__)
        except Exception as error:  # noqa: BLE001 - whatever a block raises belongs to the names it defines
            lines_hit = [frame.lineno for frame in traceback.extract_tb(error.__traceback__) if frame.filename == path]
            line = error.lineno if isinstance(error, SyntaxError) and error.lineno else (lines_hit or [first + 1])[-1]
            broken.update({name: (error, line) for name in DEFINES.findall(block)})
    sys.modules["models"] = module
    return module, broken


try:
    import models
    BROKEN = {}
except Exception:  # noqa: BLE001 - a syntax error (or any failure) somewhere in models.py
    models, BROKEN = _models_in_parts()

try:
    import transformer  # given: imports Attention from models
    TRANSFORMER_ERROR = None
except Exception as error:  # noqa: BLE001 - Attention is missing: question 6 fails with Attention's error
    transformer, TRANSFORMER_ERROR = None, error


def _get(name: str):
    """A class or function of models.py; if its block could not be compiled or run, its error, raised at
    its line of models.py (so the report points there)."""
    if name in BROKEN:
        error, line = BROKEN[name]
        exec(compile("\n" * (line - 1) + "raise error", models.__file__, "exec"), {"error": error})
    return getattr(models, name)


def _seed(seed: int) -> None:
    """Seed every RNG a submission might draw from."""
    torch.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)


def _plain(value) -> torch.Tensor:
    """What the student's code returned, as a plain detached tensor (the grader checks shape and dtype)."""
    return torch.as_tensor(value).detach().clone()


def _predicted_classes(logits) -> torch.Tensor:
    return _plain(logits).argmax(dim=-1)


# ---- Question 1: the perceptron ------------------------------------------------------------------------

def perceptron_weights(dimensions: int) -> dict:
    """What get_weights returns for a new model: is it a Parameter, and its shape."""
    weights = _get("PerceptronModel")(dimensions).get_weights()
    return {"is_parameter": isinstance(weights, torch.nn.Parameter), "shape": list(torch.as_tensor(weights).shape)}


def _perceptron(weights: torch.Tensor):
    model = _get("PerceptronModel")(weights.shape[1])
    with torch.no_grad():
        model.get_weights().copy_(weights)
    return model


def perceptron_scores(weights: torch.Tensor, points: torch.Tensor) -> dict:
    """run on all points at once, and get_prediction on each point (1, d), with fixed weights."""
    model = _perceptron(weights)
    with torch.no_grad():
        scores = _plain(model.run(points)).reshape(-1)
        predictions = [int(model.get_prediction(points[i:i + 1])) for i in range(len(points))]
    return {"scores": scores, "predictions": predictions}


class TrainingBudgetSpent(BaseException):
    """Raised by the dataset when train keeps going past its budget of point visits (it never converges)."""


class RecordedDataset(backend.LabeledDataset):
    """The perceptron's dataset, noting which point each visit reads, in order (the grader replays the
    perceptron rule along that order); past ``budget`` visits it stops train."""

    def __init__(self, points: torch.Tensor, labels: torch.Tensor, budget: int) -> None:
        dataset = backend.perceptron_dataset(points, labels)
        super().__init__(dataset.x, dataset.label)
        self.visits: list[int] = []
        self.budget = budget

    def __getitem__(self, index: int) -> dict:
        item = super().__getitem__(index)  # an index past the end raises IndexError, as for any dataset
        if len(self.visits) >= self.budget:
            raise TrainingBudgetSpent()
        self.visits.append(int(index))
        return item


def perceptron_train(weights: torch.Tensor, points: torch.Tensor, labels: torch.Tensor, budget: int,
                     seed: int) -> dict:
    """train from fixed weights: the final weights, the points visited in order, and whether train
    returned by itself (False: stopped after ``budget`` visits)."""
    _seed(seed)
    model = _perceptron(weights)
    dataset = RecordedDataset(points, labels, budget)
    try:
        model.train(dataset)
        finished = True
    except TrainingBudgetSpent:
        finished = False
    return {"weights": _plain(model.get_weights()).reshape(-1), "visits": dataset.visits, "finished": finished}


# ---- Question 2: regression ------------------------------------------------------------------------------

def regression_forward(seed: int, x: torch.Tensor) -> dict:
    """forward and get_loss of a new (seeded) model on the inputs x (n,) as (n, 1), targets sin(x)."""
    _seed(seed)
    model = _get("RegressionModel")()
    x = x.reshape(-1, 1)
    return {"output": _plain(model.forward(x)), "loss": _plain(model.get_loss(x, torch.sin(x)))}


def regression_fit_constant(seed: int, x: torch.Tensor, target: float, steps: int) -> torch.Tensor:
    """A new model fitted by the probe (Adam on your get_loss, lr 0.05) to a constant target: can your
    network's outputs reach it? The outputs after ``steps`` updates."""
    _seed(seed)
    model = _get("RegressionModel")()
    x = x.reshape(-1, 1)
    y = torch.full_like(x, target)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(steps):
        optimizer.zero_grad()
        model.get_loss(x, y).backward()
        optimizer.step()
    with torch.no_grad():
        return _plain(model.forward(x)).reshape(-1)


def regression_train_predict(train_x: np.ndarray, train_y: np.ndarray, val_x: np.ndarray, test_x: np.ndarray,
                             seed: int) -> dict:
    """train on (train_x, train_y), then the outputs at the validation and test inputs."""
    _seed(seed)
    model = _get("RegressionModel")()
    model.train(backend.regression_dataset(train_x, train_y))
    with torch.no_grad():
        return {split: _plain(model.forward(torch.as_tensor(x).reshape(-1, 1))).reshape(-1)
                for split, x in (("val", val_x), ("test", test_x))}


# ---- Question 3: digit classification -------------------------------------------------------------------

def digit_logits(seed: int, pixels: torch.Tensor, digits: torch.Tensor) -> dict:
    """run and get_loss of a new (seeded) model on images (n, input_size) and one-hot labels."""
    _seed(seed)
    model = _get("DigitClassificationModel")(pixels.shape[1])
    return {"logits": _plain(model.run(pixels)), "loss": _plain(model.get_loss(pixels, backend.one_hot(digits, 10)))}


def digit_train_predict(train_x: np.ndarray, train_y: np.ndarray, val_x: np.ndarray, test_x: np.ndarray,
                        seed: int) -> dict:
    """train on the training images, then the predicted digits of the validation and test images."""
    _seed(seed)
    model = _get("DigitClassificationModel")(train_x.shape[1])
    model.train(backend.digit_dataset(train_x, train_y))
    with torch.no_grad():
        return {split: _predicted_classes(model.run(torch.as_tensor(x))) for split, x in (("val", val_x), ("test", test_x))}


# ---- Question 4: language identification ---------------------------------------------------------------

def _steps(char_ids: torch.Tensor) -> list[torch.Tensor]:
    """Words of character ids (n, L), no padding -> the list of L one-hot tensors (n, 47) run takes."""
    return list(torch.movedim(backend.one_hot(char_ids, backend.NUM_CHARS), 1, 0))


def language_logits(seed: int, char_ids: torch.Tensor, languages: torch.Tensor) -> dict:
    """run and get_loss of a new (seeded) model on words (n, L) and their one-hot languages."""
    _seed(seed)
    model = _get("LanguageIDModel")()
    xs = _steps(char_ids)
    return {"logits": _plain(model.run(xs)), "loss": _plain(model.get_loss(xs, backend.one_hot(languages, 5)))}


# torch operations that only pick, reshape or describe a character without computing on it
_SELECTING = {"__getitem__", "clone", "detach", "contiguous", "to", "float", "double", "view", "reshape",
              "flatten", "squeeze", "unsqueeze", "__len__", "size", "dim", "numel", "dtype", "shape", "device",
              "requires_grad", "is_floating_point", "type", "__format__", "__repr__", "data", "grad", "ndim",
              "__bool__", "__index__", "__int__", "__float__", "__get__"}


class Character(torch.Tensor):
    """The one-hot characters at one position of the words: notes when your code computes with them."""

    position: int = -1
    used: set = set()

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        inputs = [item for value in [*args, *kwargs.values()]
                  for item in (value if isinstance(value, (list, tuple)) else [value]) if isinstance(item, Character)]
        name = getattr(func, "__name__", "")
        if name in _SELECTING:
            result = super().__torch_function__(func, types, args, kwargs)
            if isinstance(result, Character) and inputs:
                result.position = inputs[0].position
            return result
        cls.used.update(item.position for item in inputs)
        with torch._C.DisableTorchFunctionSubclass():
            return func(*args, **kwargs)


def language_dependence(seed: int, char_ids: torch.Tensor, replacements: torch.Tensor) -> dict:
    """How much run's logits move when the characters at one position change (one entry per position,
    ``replacements`` (n, L) holding the other characters), and the positions your run computes with."""
    _seed(seed)
    model = _get("LanguageIDModel")()
    with torch.no_grad():
        base = _plain(model.run(_steps(char_ids)))
        changes = []
        for position in range(char_ids.shape[1]):
            changed = char_ids.clone()
            changed[:, position] = replacements[:, position]
            changes.append(float((_plain(model.run(_steps(changed))) - base).abs().max()))
        xs = []
        for position, x in enumerate(_steps(char_ids)):
            tracked = x.as_subclass(Character)
            tracked.position = position
            xs.append(tracked)
        Character.used = set()
        model.run(xs)
    return {"changes": changes, "used": sorted(Character.used)}


def language_train_predict(train_x: np.ndarray, train_y: np.ndarray, val_x: np.ndarray, test_x: np.ndarray,
                           seed: int) -> dict:
    """train on the training words (lang_id layout), then the predicted languages of the others."""
    _seed(seed)
    model = _get("LanguageIDModel")()
    model.train(backend.language_dataset(train_x, train_y))
    with torch.no_grad():
        return {split: _predicted_classes(model.run(list(torch.movedim(backend.one_hot_words(x), 1, 0))))
                for split, x in (("val", val_x), ("test", test_x))}


# ---- Question 5: convolution -----------------------------------------------------------------------------

def convolve(input: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Convolve(input, weight) on values the grader chose."""
    return _plain(_get("Convolve")(input, weight))


def conv_logits(seed: int, image_size: int, pixels: torch.Tensor, digits: torch.Tensor) -> dict:
    """run and get_loss of a new (seeded) convolutional model on flat images and one-hot labels."""
    _seed(seed)
    model = _get("DigitConvolutionalModel")(image_size)
    return {"logits": _plain(model.run(pixels)), "loss": _plain(model.get_loss(pixels, backend.one_hot(digits, 10)))}


def conv_train_predict(train_x: np.ndarray, train_y: np.ndarray, val_x: np.ndarray, test_x: np.ndarray,
                       image_size: int, seed: int) -> dict:
    """train the convolutional model, then the predicted digits of the validation and test images."""
    _seed(seed)
    model = _get("DigitConvolutionalModel")(image_size)
    model.train(backend.digit_dataset(train_x, train_y))
    with torch.no_grad():
        return {split: _predicted_classes(model.run(torch.as_tensor(x))) for split, x in (("val", val_x), ("test", test_x))}


# ---- Question 6: attention -------------------------------------------------------------------------------

def attention_mask(layer_size: int, block_size: int) -> dict:
    """The buffers a new Attention registers, and its "mask" buffer (as float32) if it has one."""
    buffers = dict(_get("Attention")(layer_size, block_size).named_buffers())
    mask = buffers.get("mask")
    return {"buffers": sorted(buffers), "mask": None if mask is None else _plain(mask).float()}


def attention_forward(weights: dict, block_size: int, x: torch.Tensor) -> torch.Tensor:
    """forward of an Attention whose k, q and v layers hold the given weights (``k.weight``, ``k.bias``, ...)."""
    layer_size = x.shape[-1]
    model = _get("Attention")(layer_size, block_size)
    with torch.no_grad():
        for name in ("k", "q", "v"):
            layer = getattr(model, f"{name}_layer")
            layer.weight.copy_(weights[f"{name}.weight"])
            layer.bias.copy_(weights[f"{name}.bias"])
        return _plain(model(x))


def transformer_train_predict(train_x: np.ndarray, train_y: np.ndarray, val_x: np.ndarray, test_x: np.ndarray,
                              vocab_size: int, layer_size: int, block_size: int, steps: int, batch_size: int,
                              lr: float, seed: int) -> dict:
    """Train the given character transformer (with your Attention) on the training sequences, then its
    next-character predictions for the validation and test contexts."""
    _get("Attention")
    if transformer is None:
        raise TRANSFORMER_ERROR
    _seed(seed)
    model = transformer.CharTransformer(vocab_size, layer_size, block_size)
    sequences = torch.cat([torch.as_tensor(train_x), torch.as_tensor(train_y)[:, None]], dim=1)
    transformer.train_transformer(model, sequences, steps, batch_size, lr, seed)
    return {split: transformer.predict_next(model, torch.as_tensor(x)) for split, x in (("val", val_x), ("test", test_x))}
