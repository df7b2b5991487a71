"""Six short questions, one model each: a perceptron, a regression of sin(x), a digit classifier, a
recurrent language identifier, a convolution written by hand, and the causal self-attention of a
small character transformer.

Every question lives in its own class (or function): a mistake in one costs only that question's
points. Datasets reach ``train`` as PyTorch datasets (``backend.py``) whose items are dicts
``{'x': ..., 'label': ...}``; iterate over one directly or through a ``DataLoader``.
"""
import math

import torch
from torch import Tensor, optim
from torch.nn import Linear, Module, Parameter
from torch.nn.functional import cross_entropy, mse_loss, relu, softmax
from torch.utils.data import DataLoader, Dataset


# ---- Question 1: the perceptron ---------------------------------------------------------------------

class PerceptronModel(Module):
    """A binary linear classifier: the score of a point x is w . x and its class is 1 or -1."""

    def __init__(self, dimensions: int) -> None:
        super().__init__()
        # ---- TODO begin: self.w: a Parameter of shape (1, dimensions) (ones make a fine start) ----
        raise NotImplementedError('TODO: self.w: a Parameter of shape (1, dimensions) (ones make a fine start)')
        # ---- TODO end ----

    def get_weights(self) -> Parameter:
        """The weight Parameter, shape (1, dimensions)."""
        return self.w

    def run(self, x: Tensor) -> Tensor:
        """The scores w . x of the points x (n, dimensions): a tensor of n numbers."""
        # ---- TODO begin: the dot product of each point with the weights ----
        raise NotImplementedError('TODO: the dot product of each point with the weights')
        # ---- TODO end ----

    def get_prediction(self, x: Tensor) -> int:
        """The class of one point x (1, dimensions): 1 if its score is >= 0, else -1."""
        # ---- TODO begin: 1 for a non-negative score, -1 otherwise ----
        raise NotImplementedError('TODO: 1 for a non-negative score, -1 otherwise')
        # ---- TODO end ----

    def train(self, dataset: Dataset) -> None:
        """Visit the points one at a time (batch size 1, any order), and for each misclassified one
        move the weights towards its side: w <- w + label * x. Stop after a full pass over the dataset
        without a single mistake (the data is linearly separable, so this happens)."""
        with torch.no_grad():
            # ---- TODO begin: passes over a DataLoader (batch size 1) until one makes no mistake ----
            raise NotImplementedError('TODO: passes over a DataLoader (batch size 1) until one makes no mistake')
            # ---- TODO end ----


# ---- Question 2: non-linear regression --------------------------------------------------------------

class RegressionModel(Module):
    """A network that approximates sin(x) on [-2pi, 2pi]: inputs (n, 1) -> outputs (n, 1)."""

    def __init__(self) -> None:
        super().__init__()
        # ---- TODO begin: the layers of your network (1 input, 1 output, hidden layers of your choice) ----
        raise NotImplementedError('TODO: the layers of your network (1 input, 1 output, hidden layers of your choice)')
        # ---- TODO end ----

    def forward(self, x: Tensor) -> Tensor:
        """The network's outputs for the inputs x (n, 1): shape (n, 1)."""
        # ---- TODO begin: hidden layers with a non-linearity; the output layer stays linear (sin goes below 0) ----
        raise NotImplementedError('TODO: hidden layers with a non-linearity; the output layer stays linear (sin goes below 0)')
        # ---- TODO end ----

    def get_loss(self, x: Tensor, y: Tensor) -> Tensor:
        """The mean squared error between forward(x) and the targets y (n, 1): a scalar tensor."""
        # ---- TODO begin: the mean squared error of the outputs ----
        raise NotImplementedError('TODO: the mean squared error of the outputs')
        # ---- TODO end ----

    def train(self, dataset: Dataset) -> None:
        """Fit sin(x) on the dataset's points (x and label of shape (1,) each); the loss on new
        points of [-2pi, 2pi] should end up at or below 0.02."""
        # ---- TODO begin: minibatches of 32, Adam for 90 epochs (lr 0.01, then 0.001 for the last 30) ----
        raise NotImplementedError('TODO: minibatches of 32, Adam for 90 epochs (lr 0.01, then 0.001 for the last 30)')
        # ---- TODO end ----


# ---- Question 3: digit classification ---------------------------------------------------------------

class DigitClassificationModel(Module):
    """Images of digits as flat rows of pixels in [0, 1] (n, input_size) -> 10 scores per image."""

    def __init__(self, input_size: int = 784) -> None:
        super().__init__()
        self.input_size = input_size  # 784 for MNIST's 28x28 images, 64 for scikit-learn's 8x8 digits
        # ---- TODO begin: the layers of your network (input_size inputs, 10 outputs) ----
        raise NotImplementedError('TODO: the layers of your network (input_size inputs, 10 outputs)')
        # ---- TODO end ----

    def run(self, x: Tensor) -> Tensor:
        """The logits of the images x (n, input_size): shape (n, 10), unnormalised (no softmax here:
        cross_entropy applies it itself)."""
        # ---- TODO begin: the network's raw outputs (logits) ----
        raise NotImplementedError("TODO: the network's raw outputs (logits)")
        # ---- TODO end ----

    def get_loss(self, x: Tensor, y: Tensor) -> Tensor:
        """The mean cross-entropy between run(x) and the one-hot labels y (n, 10): a scalar tensor."""
        # ---- TODO begin: cross_entropy on the logits ----
        raise NotImplementedError('TODO: cross_entropy on the logits')
        # ---- TODO end ----

    def train(self, dataset: Dataset) -> None:
        """Train on the dataset's images (x: (input_size,) pixels, label: one-hot (10,))."""
        # ---- TODO begin: minibatches of 64, Adam (lr 0.001), at least 3 epochs and 1000 updates ----
        raise NotImplementedError('TODO: minibatches of 64, Adam (lr 0.001), at least 3 epochs and 1000 updates')
        # ---- TODO end ----


# ---- Question 4: language identification ------------------------------------------------------------

class LanguageIDModel(Module):
    """Which of 5 languages a word is written in, read one character at a time by a recurrent network.

    A word of L characters arrives as ``xs``, a list of L tensors of shape (batch, 47): the one-hot
    characters of every word of the batch at that position (words shorter than L are padded at the
    front with all-zero rows, so the last position is always a real character).
    """

    def __init__(self) -> None:
        super().__init__()
        self.num_chars = 47
        self.languages = ["English", "Spanish", "Finnish", "Dutch", "Polish"]
        # ---- TODO begin: the layers: one for the character, one for the hidden state, one for the output ----
        raise NotImplementedError('TODO: the layers: one for the character, one for the hidden state, one for the output')
        # ---- TODO end ----

    def run(self, xs: list[Tensor]) -> Tensor:
        """The logits (batch, 5) of the words ``xs``: a hidden state that starts at zero, is updated
        from each character in turn together with the previous state, and is mapped to 5 scores
        after the last character. Write the loop over characters yourself (nn.RNN and its kin are
        forbidden)."""
        # ---- TODO begin: h = relu(char layer(x) + state layer(h)) for each character, then the output layer ----
        raise NotImplementedError('TODO: h = relu(char layer(x) + state layer(h)) for each character, then the output layer')
        # ---- TODO end ----

    def get_loss(self, xs: list[Tensor], y: Tensor) -> Tensor:
        """The mean cross-entropy between run(xs) and the one-hot languages y (batch, 5)."""
        # ---- TODO begin: cross_entropy on the logits ----
        raise NotImplementedError('TODO: cross_entropy on the logits')
        # ---- TODO end ----

    def train(self, dataset: Dataset) -> None:
        """Train on the dataset's words (x: (10, 47) one-hot characters, label: one-hot (5,)).
        A batch's x is (batch, 10, 47): list(torch.movedim(x, 1, 0)) gives the 10 tensors (batch, 47)."""
        # ---- TODO begin: minibatches of 64, Adam (lr 0.003), 4 epochs ----
        raise NotImplementedError('TODO: minibatches of 64, Adam (lr 0.003), 4 epochs')
        # ---- TODO end ----


# ---- Question 5: convolution ------------------------------------------------------------------------

def Convolve(input: Tensor, weight: Tensor) -> Tensor:
    """The 2-D valid cross-correlation of ``input`` (H, W) with ``weight`` (h, w): the output (H - h + 1,
    W - w + 1) holds at (i, j) the sum of weight * the window of input whose top-left corner is (i, j).
    No kernel flip, no padding, and no convolution function of torch: write it with slicing."""
    # ---- TODO begin: add up weight[a, b] times the input shifted by (a, b), one kernel offset at a time ----
    raise NotImplementedError('TODO: add up weight[a, b] times the input shifted by (a, b), one kernel offset at a time')
    # ---- TODO end ----


class DigitConvolutionalModel(Module):
    """Digits as flat rows of pixels (n, image_size ** 2): one learned 3x3 filter (Convolve) over each
    image, then layers of your choice on the (image_size - 2) ** 2 filtered pixels -> 10 logits."""

    def __init__(self, image_size: int = 28) -> None:
        super().__init__()
        self.image_size = image_size
        self.convolution_weights = Parameter(torch.ones((3, 3)))
        features = (image_size - 2) ** 2  # pixels left after a valid 3x3 correlation
        # ---- TODO begin: the layers after the convolution (features inputs, 10 outputs) ----
        raise NotImplementedError('TODO: the layers after the convolution (features inputs, 10 outputs)')
        # ---- TODO end ----

    def run(self, x: Tensor) -> Tensor:
        """The logits (n, 10) of the images x (n, image_size ** 2)."""
        images = x.reshape(len(x), self.image_size, self.image_size)
        filtered = torch.stack([Convolve(image, self.convolution_weights) for image in images])
        x = filtered.flatten(start_dim=1)
        # ---- TODO begin: your layers on the filtered pixels x (n, features): logits ----
        raise NotImplementedError('TODO: your layers on the filtered pixels x (n, features): logits')
        # ---- TODO end ----

    def get_loss(self, x: Tensor, y: Tensor) -> Tensor:
        """The mean cross-entropy between run(x) and the one-hot labels y (n, 10)."""
        # ---- TODO begin: cross_entropy on the logits ----
        raise NotImplementedError('TODO: cross_entropy on the logits')
        # ---- TODO end ----

    def train(self, dataset: Dataset) -> None:
        """Train on the dataset's images (x: (image_size ** 2,) pixels, label: one-hot (10,))."""
        # ---- TODO begin: minibatches of 32, Adam (lr 0.003), 150 updates ----
        raise NotImplementedError('TODO: minibatches of 32, Adam (lr 0.003), 150 updates')
        # ---- TODO end ----


# ---- Question 6: attention --------------------------------------------------------------------------

class Attention(Module):
    """Causal self-attention (one head), the heart of the character transformer in transformer.py.

    Inputs (batch, T, layer_size) with T <= block_size; each position attends to itself and the
    positions before it, never to the ones after it.
    """

    def __init__(self, layer_size: int, block_size: int) -> None:
        super().__init__()
        self.k_layer = Linear(layer_size, layer_size)
        self.q_layer = Linear(layer_size, layer_size)
        self.v_layer = Linear(layer_size, layer_size)
        self.layer_size = layer_size
        # ---- TODO begin: register a buffer "mask": (block_size, block_size), ones on and below the diagonal, zeros above ----
        raise NotImplementedError('TODO: register a buffer "mask": (block_size, block_size), ones on and below the diagonal, zeros above')
        # ---- TODO end ----

    def forward(self, input: Tensor) -> Tensor:
        """softmax(Q K^T / sqrt(layer_size), masked so that no position sees a later one) V, where
        K, Q, V are the three layers applied to the input: shape (batch, T, layer_size)."""
        B, T, C = input.size()
        K, Q, V = self.k_layer(input), self.q_layer(input), self.v_layer(input)
        # ---- TODO begin: scores Q K^T / sqrt(layer_size) (batch, T, T); -inf where the mask is 0; softmax over the last dim; times V ----
        raise NotImplementedError('TODO: scores Q K^T / sqrt(layer_size) (batch, T, T); -inf where the mask is 0; softmax over the last dim; times V')
        # ---- TODO end ----
