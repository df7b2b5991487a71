"""Probes: they run your cnn.py on inputs the grader sends and return plain data (NumPy arrays).

They know no answers. The grader compares what comes back with the reference solution and with PyTorch's
own layers (which run in the grader, never here), and your network's predictions with the twin's.
"""
import numpy as np

from cnn import Conv2D, HandCNN, Linear, MaxPool2D, corr2d


def _array(value) -> np.ndarray | None:
    """Your value as a float64 array (a wrong shape or a None shows up as itself, not as a crash here)."""
    return None if value is None else np.array(value, dtype=np.float64)


def correlate(X: np.ndarray, K: np.ndarray) -> np.ndarray:
    """corr2d(X, K)."""
    return _array(corr2d(X, K))


def conv_layer(weight: np.ndarray, bias: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Conv2D(O, I, (h, w)) with the given weight and bias, applied to X."""
    layer = Conv2D(weight.shape[0], weight.shape[1], weight.shape[2:])
    layer.weight, layer.bias = weight, bias
    return _array(layer.forward_np(X))


def pool_layer(pool_size: list, X: np.ndarray) -> np.ndarray:
    """MaxPool2D((ph, pw)) applied to X."""
    return _array(MaxPool2D(tuple(pool_size)).forward_np(X))


def linear_layer(weight: np.ndarray, bias: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Linear(in, out) with the given weight and bias, applied to X."""
    layer = Linear(weight.shape[1], weight.shape[0])
    layer.weight, layer.bias = weight, bias
    return _array(layer.forward_np(X))


def correlate_batch(seed: int, image: list, kernel: list, batch: int) -> float:
    """corr2d on a random batch of ``batch`` images of shape ``image`` (I, H, W) with kernels ``kernel``
    (O, I, h, w): the grader counts the lines your code runs for two batch sizes."""
    rng = np.random.default_rng(seed)
    X, K = rng.normal(size=(batch, *image)), rng.normal(size=kernel)
    return float(np.sum(corr2d(X, K)))


def pool_batch(seed: int, image: list, pool_size: list, batch: int) -> float:
    """MaxPool2D on a random batch of ``batch`` images of shape ``image`` (lines counted, as above)."""
    X = np.random.default_rng(seed).normal(size=(batch, *image))
    return float(np.sum(MaxPool2D(tuple(pool_size)).forward_np(X)))


def model_batch(architecture: list, params: dict, images: np.ndarray, batch: int) -> float:
    """The whole HandCNN on the first ``batch`` images (lines counted, as above)."""
    return float(np.sum(HandCNN.from_twin(architecture, params).forward_np(images[:batch])))


def hand_logits(architecture: list, params: dict, images: np.ndarray) -> np.ndarray:
    """Your network's logits, run with the twin's weights."""
    return _array(HandCNN.from_twin(architecture, params).forward_np(images))


def hand_predict(architecture: list, params: dict, val_images: np.ndarray, test_images: np.ndarray) -> dict:
    """Your network's predicted classes for the validation and the test images (their labels stay with
    the grader)."""
    model = HandCNN.from_twin(architecture, params)
    return {"val": np.asarray(model.predict_np(val_images), dtype=np.int64),
            "test": np.asarray(model.predict_np(test_images), dtype=np.int64)}
