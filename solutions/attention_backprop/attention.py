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
        ### BEGIN SOLUTION project X to queries, keys and values (one matrix product each, the whole batch at once)
        self.Q = X @ self.W_q
        self.K = X @ self.W_k
        self.V = X @ self.W_v
        ### END SOLUTION
        ### BEGIN SOLUTION raw scores A_w = Q K^T (swap the last two axes of K: the batch axis stays first)
        self.A_w = self.Q @ np.swapaxes(self.K, -1, -2)
        ### END SOLUTION
        ### BEGIN SOLUTION the (T, T) additive causal mask: a large negative value strictly above the diagonal (j > t), 0 on and below it
        mask = np.triu(np.full((T, T), -1e9), k=1)
        ### END SOLUTION
        ### BEGIN SOLUTION A_sig: self.softmax of the scaled scores plus the mask; return A_sig V
        self.A_sig = self.softmax.forward(self.A_w / np.sqrt(self.Dk) + mask)
        return self.A_sig @ self.V
        ### END SOLUTION

    def backward(self, dLdXnew: np.ndarray) -> np.ndarray:
        """dL/dX_new (B, T, Dv) -> dL/dX (B, T, D); stores the gradients of V, K, Q and of the three weights."""
        ### BEGIN SOLUTION through X_new = A_sig V: the gradients of A_sig and of V
        dLdA_sig = dLdXnew @ np.swapaxes(self.V, -1, -2)
        self.dLdV = np.swapaxes(self.A_sig, -1, -2) @ dLdXnew
        ### END SOLUTION
        ### BEGIN SOLUTION through the softmax (its backward uses the A_sig it computed) and the 1/sqrt(Dk) scale
        dLdA_w = self.softmax.backward(dLdA_sig) / np.sqrt(self.Dk)
        ### END SOLUTION
        ### BEGIN SOLUTION through A_w = Q K^T: row t of A_w pairs query t with every key
        self.dLdQ = dLdA_w @ self.K
        self.dLdK = np.swapaxes(dLdA_w, -1, -2) @ self.Q
        ### END SOLUTION
        ### BEGIN SOLUTION weight gradients: X^T times the projection's gradient, summed over the batch (shape of each weight)
        Xt = np.swapaxes(self.X, -1, -2)
        self.dLdWq = (Xt @ self.dLdQ).sum(axis=0)
        self.dLdWk = (Xt @ self.dLdK).sum(axis=0)
        self.dLdWv = (Xt @ self.dLdV).sum(axis=0)
        ### END SOLUTION
        ### BEGIN SOLUTION X feeds Q, K and V: add the three paths back to X
        return self.dLdQ @ self.W_q.T + self.dLdK @ self.W_k.T + self.dLdV @ self.W_v.T
        ### END SOLUTION
