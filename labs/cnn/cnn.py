"""Convolution and pooling by hand, in NumPy.

You write the forward pass of a small convolutional network: the cross-correlation ``corr2d`` that a
convolutional layer computes, the layer ``Conv2D`` built on it, non-overlapping max pooling
``MaxPool2D`` and a fully connected ``Linear`` layer. ``HandCNN`` (given) stacks them like the PyTorch
twin in ``twin.py`` stacks nn.Conv2d, nn.MaxPool2d and nn.Linear; loaded with the twin's trained
weights, your network must classify every image exactly as the twin does.

Shapes follow PyTorch: images are (B, C, H, W) (batch, channels, height, width), a convolution's
weight is (out_channels, in_channels, kernel_height, kernel_width).
"""
import numpy as np


def _pair(size: int | tuple[int, int]) -> tuple[int, int]:
    """A kernel or pool size given as one int (square) or as (height, width)."""
    return (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))


def corr2d(X: np.ndarray, K: np.ndarray) -> np.ndarray:
    """The 2-D cross-correlation of a batch of images with a bank of kernels: stride 1, no padding.

    X: (B, I, H, W), K: (O, I, h, w) -> Y: (B, O, H - h + 1, W - w + 1), where
    Y[b, o, r, c] = sum over i, u, v of X[b, i, r + u, c + v] * K[o, i, u, v]
    (a cross-correlation: the kernel slides over the image as it is, it is not flipped).
    """
    B, I, H, W = X.shape
    O, _, h, w = K.shape
    # ---- TODO begin: loop over the h*w kernel offsets (u, v): each adds a shifted window of the whole batch times K[:, :, u, v], summed over I ----
    raise NotImplementedError('TODO: loop over the h*w kernel offsets (u, v): each adds a shifted window of the whole batch times K[:, :, u, v], summed over I')
    # ---- TODO end ----


class Conv2D:
    """A convolutional layer: ``weight`` (O, I, h, w) and ``bias`` (O,), like nn.Conv2d(I, O, (h, w))."""

    def __init__(self, out_channels: int, in_channels: int, kernel_size: int | tuple[int, int]) -> None:
        h, w = _pair(kernel_size)
        bound = 1.0 / np.sqrt(in_channels * h * w)  # nn.Conv2d's default initialisation range
        self.weight = np.random.uniform(-bound, bound, (out_channels, in_channels, h, w)).astype(np.float32)
        self.bias = np.random.uniform(-bound, bound, out_channels).astype(np.float32)

    def forward_np(self, X: np.ndarray) -> np.ndarray:
        """X (B, I, H, W) -> (B, O, H - h + 1, W - w + 1): the correlation plus one bias per output channel."""
        # ---- TODO begin: correlate with the weights, then add bias[o] to every pixel of output channel o ----
        raise NotImplementedError('TODO: correlate with the weights, then add bias[o] to every pixel of output channel o')
        # ---- TODO end ----


class MaxPool2D:
    """Max pooling over non-overlapping (ph, pw) windows, like nn.MaxPool2d((ph, pw)): stride = window."""

    def __init__(self, pool_size: int | tuple[int, int]) -> None:
        self.pool_size = _pair(pool_size)

    def forward_np(self, X: np.ndarray) -> np.ndarray:
        """X (B, I, H, W) -> (B, I, H // ph, W // pw); rows and columns left over at the bottom and right
        edges (when ph or pw does not divide H or W) are dropped, as PyTorch does."""
        B, I, H, W = X.shape
        ph, pw = self.pool_size
        # ---- TODO begin: crop to whole windows, give each window its own two axes, take the max over them ----
        raise NotImplementedError('TODO: crop to whole windows, give each window its own two axes, take the max over them')
        # ---- TODO end ----


class Linear:
    """A fully connected layer: ``weight`` (out, in) and ``bias`` (out,), like nn.Linear(in, out)."""

    def __init__(self, in_features: int, out_features: int) -> None:
        bound = 1.0 / np.sqrt(in_features)
        self.weight = np.random.uniform(-bound, bound, (out_features, in_features)).astype(np.float32)
        self.bias = np.random.uniform(-bound, bound, out_features).astype(np.float32)

    def forward_np(self, X: np.ndarray) -> np.ndarray:
        """X (B, in) -> (B, out)."""
        # ---- TODO begin: one matrix product for the whole batch (mind the weight's orientation), plus the bias ----
        raise NotImplementedError("TODO: one matrix product for the whole batch (mind the weight's orientation), plus the bias")
        # ---- TODO end ----


class ReLU:
    """max(x, 0), element by element."""

    def forward_np(self, X: np.ndarray) -> np.ndarray:
        return np.maximum(X, 0)


class Flatten:
    """(B, C, H, W) -> (B, C * H * W), in the order nn.Flatten uses (C order)."""

    def forward_np(self, X: np.ndarray) -> np.ndarray:
        return X.reshape(len(X), -1)


class HandCNN:
    """The twin's layers in NumPy, applied in order."""

    def __init__(self, layers: list) -> None:
        self.layers = layers

    @classmethod
    def from_twin(cls, architecture: list, params: dict[str, np.ndarray]) -> "HandCNN":
        """Build the layers that ``architecture`` lists (``twin.architecture``) and copy the twin's weights
        into them: layer i of the twin's nn.Sequential has parameters "i.weight" and "i.bias"."""
        layers = []
        for i, (kind, *args) in enumerate(architecture):
            if kind == "conv":
                layer = Conv2D(args[0], args[1], args[2])
            elif kind == "linear":
                layer = Linear(args[0], args[1])
            elif kind == "pool":
                layer = MaxPool2D(args[0])
            else:
                layer = {"relu": ReLU, "flatten": Flatten}[kind]()
            if kind in ("conv", "linear"):
                layer.weight, layer.bias = params[f"{i}.weight"], params[f"{i}.bias"]
            layers.append(layer)
        return cls(layers)

    def forward_np(self, X: np.ndarray) -> np.ndarray:
        """Images (B, C, H, W) -> logits (B, classes)."""
        for layer in self.layers:
            X = layer.forward_np(X)
        return X

    def predict_np(self, X: np.ndarray) -> np.ndarray:
        """The class with the largest logit, for each image."""
        return self.forward_np(X).argmax(axis=1)
