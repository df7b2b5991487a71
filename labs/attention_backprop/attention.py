"""Masked (causal) self-attention in NumPy, forward and backward, with no autograd.

For a batch X of B sequences of T vectors of size D, with weights W_q, W_k (D, Dk) and W_v (D, Dv):

    Q = X W_q,  K = X W_k,  V = X W_v                 (B, T, Dk), (B, T, Dk), (B, T, Dv)
    A_w   = Q K^T                                     (B, T, T): raw attention scores
    A_sig = softmax(A_w / sqrt(Dk) + M)               (B, T, T): each row sums to 1
    X_new = A_sig V                                   (B, T, Dv)

M is the additive causal mask: 0 where key position j <= query position t, a large negative number where
j > t, so position t attends to itself and to the positions before it, never to the ones after.
"""
import numpy as np

from softmax import Softmax


class Attention:
    """Single-head causal self-attention. ``forward`` stores Q, K, V, A_w and A_sig; ``backward`` stores
    dLdV, dLdK, dLdQ, dLdWq, dLdWk, dLdWv (the weight gradients summed over the batch) and returns dLdX."""

    def __init__(self, weights_keys: np.ndarray, weights_queries: np.ndarray, weights_values: np.ndarray):
        self.W_k = weights_keys     # (D, Dk)
        self.W_q = weights_queries  # (D, Dk)
        self.W_v = weights_values   # (D, Dv)
        self.Dk = weights_keys.shape[1]
        self.softmax = Softmax()

    def forward(self, X: np.ndarray) -> np.ndarray:
        """X (B, T, D) -> X_new (B, T, Dv)."""
        self.X = X
        T = X.shape[1]
        # ---- TODO begin: project X to queries, keys and values (one matrix product each, the whole batch at once) ----
        raise NotImplementedError('TODO: project X to queries, keys and values (one matrix product each, the whole batch at once)')
        # ---- TODO end ----
        # ---- TODO begin: raw scores A_w = Q K^T (swap the last two axes of K: the batch axis stays first) ----
        raise NotImplementedError('TODO: raw scores A_w = Q K^T (swap the last two axes of K: the batch axis stays first)')
        # ---- TODO end ----
        # ---- TODO begin: the (T, T) additive causal mask: a large negative value strictly above the diagonal (j > t), 0 on and below it ----
        raise NotImplementedError('TODO: the (T, T) additive causal mask: a large negative value strictly above the diagonal (j > t), 0 on and below it')
        # ---- TODO end ----
        # ---- TODO begin: A_sig: self.softmax of the scaled scores plus the mask; return A_sig V ----
        raise NotImplementedError('TODO: A_sig: self.softmax of the scaled scores plus the mask; return A_sig V')
        # ---- TODO end ----

    def backward(self, dLdXnew: np.ndarray) -> np.ndarray:
        """dL/dX_new (B, T, Dv) -> dL/dX (B, T, D); stores the gradients of V, K, Q and of the three weights."""
        # ---- TODO begin: through X_new = A_sig V: the gradients of A_sig and of V ----
        raise NotImplementedError('TODO: through X_new = A_sig V: the gradients of A_sig and of V')
        # ---- TODO end ----
        # ---- TODO begin: through the softmax (its backward uses the A_sig it computed) and the 1/sqrt(Dk) scale ----
        raise NotImplementedError('TODO: through the softmax (its backward uses the A_sig it computed) and the 1/sqrt(Dk) scale')
        # ---- TODO end ----
        # ---- TODO begin: through A_w = Q K^T: row t of A_w pairs query t with every key ----
        raise NotImplementedError('TODO: through A_w = Q K^T: row t of A_w pairs query t with every key')
        # ---- TODO end ----
        # ---- TODO begin: weight gradients: X^T times the projection's gradient, summed over the batch (shape of each weight) ----
        raise NotImplementedError("TODO: weight gradients: X^T times the projection's gradient, summed over the batch (shape of each weight)")
        # ---- TODO end ----
        # ---- TODO begin: X feeds Q, K and V: add the three paths back to X ----
        raise NotImplementedError('TODO: X feeds Q, K and V: add the three paths back to X')
        # ---- TODO end ----
