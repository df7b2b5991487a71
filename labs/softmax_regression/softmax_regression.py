"""Softmax regression: a linear layer, a hand-written softmax and a hand-written gradient step."""
import torch
from torch import nn

# ---- HYPERPARAMETERS begin (you may tune these) ----
LR = 1.0
NUM_EPOCHS = 30
BATCH_SIZE = 32
# ---- HYPERPARAMETERS end ----


def softmax(X: torch.Tensor) -> torch.Tensor:
    """Rows of logits X (n, q) -> rows of probabilities (n, q), each row summing to 1.

    Subtract each row's maximum first: softmax does not change when a row is shifted, and after the
    shift the largest exponent is exp(0) = 1, so nothing overflows. A -inf logit gets probability 0.
    """
    # ---- TODO begin: subtract each row's max, exponentiate, divide by the row's sum ----
    raise NotImplementedError("TODO: subtract each row's max, exponentiate, divide by the row's sum")
    # ---- TODO end ----


def cross_entropy(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean of -log(probability given to the true class) over the batch."""
    return -torch.log(y_hat[torch.arange(len(y)), y]).mean()


class SoftmaxRegression(nn.Module):
    """p(class | x) = softmax(W x + b), trained by a gradient step written by hand."""

    automatic_update = False  # the trainer calls manual_backward instead of loss.backward() + an optimiser

    def __init__(self, num_inputs: int, num_outputs: int, lr: float = LR):
        super().__init__()
        self.lr = lr
        self.linear = nn.Linear(num_inputs, num_outputs)  # weight (num_outputs, num_inputs), bias (num_outputs,)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """Inputs X (n, num_inputs) -> class probabilities (n, num_outputs)."""
        return softmax(self.linear(X))

    def manual_backward(self, X: torch.Tensor, y: torch.Tensor, y_hat: torch.Tensor) -> None:
        """One gradient-descent step (step size self.lr) on the mean cross-entropy of the batch (X, y),
        where y_hat = self(X). With logits Z = X W^T + b, dL/dZ = (y_hat - one_hot(y)) / n."""
        with torch.no_grad():
            # ---- TODO begin: dZ = (y_hat - one_hot(y)) / n, then the weight and bias gradients and the step ----
            raise NotImplementedError('TODO: dZ = (y_hat - one_hot(y)) / n, then the weight and bias gradients and the step')
            # ---- TODO end ----


def fit(model: SoftmaxRegression, X: torch.Tensor, y: torch.Tensor, num_epochs: int = NUM_EPOCHS,
        batch_size: int = BATCH_SIZE, seed: int = 0) -> list[float]:
    """Minibatch gradient descent, reshuffled every epoch; returns each epoch's mean training loss."""
    generator = torch.Generator().manual_seed(seed)
    losses = []
    for _ in range(num_epochs):
        total = 0.0
        for batch in torch.randperm(len(X), generator=generator).split(batch_size):
            y_hat = model(X[batch])
            total += cross_entropy(y_hat, y[batch]).item() * len(batch)
            model.manual_backward(X[batch], y[batch], y_hat)
        losses.append(total / len(X))
    return losses


def predict(model: SoftmaxRegression, X: torch.Tensor) -> torch.Tensor:
    """The most probable class of each row of X, as int64 labels (n,)."""
    with torch.no_grad():
        return model(X).argmax(dim=1)
