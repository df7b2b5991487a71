"""Cross-entropy on logits: softmax and negative log-likelihood fused into one stable loss."""
import numpy as np


class CrossEntropy:
    """L = -(1/m) sum_i sum_j Y_ij log softmax(Y_hat)_ij, averaged over the m rows of the batch.

    Y is one-hot (m, k). Y_hat holds LOGITS (m, k), the raw outputs of the last layer (use an
    "identity"/"linear" activation there): the softmax is applied here, inside the loss.
    Fused this way the gradient is simply (softmax(Y_hat) - Y) / m, and a log-sum-exp with the
    row maximum subtracted never overflows.
    """

    def forward(self, Y: np.ndarray, Y_hat: np.ndarray) -> float:
        """The mean loss over the batch, a float."""
        ### BEGIN SOLUTION log-softmax of each row (subtract the row max, then log-sum-exp), then the mean over rows
        m = Y.shape[0]
        shifted = Y_hat - Y_hat.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        return float(-(Y * log_probs).sum() / m)
        ### END SOLUTION

    def backward(self, Y: np.ndarray, Y_hat: np.ndarray) -> np.ndarray:
        """dL/dY_hat (m, k), the gradient with respect to the logits."""
        ### BEGIN SOLUTION the softmax of the logits minus the one-hot targets, divided by the batch size
        m = Y.shape[0]
        E = np.exp(Y_hat - Y_hat.max(axis=1, keepdims=True))
        probs = E / E.sum(axis=1, keepdims=True)
        return (probs - Y) / m
        ### END SOLUTION
