"""BERT's multi-head self-attention layer (the rest of a small BERT, in bert_model.py, is given and uses it).

For hidden states H (B, S, hidden_size), with n heads of size d = hidden_size / n:

    Q, K, V = H W_q + b_q, H W_k + b_k, H W_v + b_v     each split into n heads: (B, n, S, d)
    scores  = Q K^T / sqrt(d) + mask                     (B, n, S, S): query position i, key position j
    probs   = dropout(softmax(scores over j))            each row sums to 1 before dropout
    context = probs V                                     (B, n, S, d), heads merged back to (B, S, hidden_size)

The attention mask is additive, one value per (sequence, key position): 0 keeps the key, a large negative
number (e.g. -10000) removes it from every query's softmax (padding).
"""
import math

import torch
from torch import nn


class BertSelfAttention(nn.Module):
    """Multi-head self-attention: query, key and value projections, scaled dot-product attention per head,
    dropout on the attention probabilities."""

    def __init__(self, config: "BertConfig"):  # noqa: F821 - the BertConfig of bert_model.py
        super().__init__()
        # ---- TODO begin: hidden_size must split evenly into heads: raise ValueError otherwise; then the head sizes ----
        raise NotImplementedError('TODO: hidden_size must split evenly into heads: raise ValueError otherwise; then the head sizes')
        # ---- TODO end ----
        # ---- TODO begin: self.query, self.key, self.value: Linear(hidden_size, all_head_size); self.dropout with attention_probs_dropout_prob ----
        raise NotImplementedError('TODO: self.query, self.key, self.value: Linear(hidden_size, all_head_size); self.dropout with attention_probs_dropout_prob')
        # ---- TODO end ----

    def transpose_for_scores(self, x: torch.Tensor) -> torch.Tensor:
        """(B, S, all_head_size) -> (B, heads, S, head_size): one (S, head_size) matrix per head."""
        # ---- TODO begin: split the last axis into (heads, head_size), then move the head axis before S ----
        raise NotImplementedError('TODO: split the last axis into (heads, head_size), then move the head axis before S')
        # ---- TODO end ----

    def forward(self, hidden_states: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """hidden_states (B, S, hidden_size), additive attention_mask (B, S) -> context (B, S, hidden_size)."""
        B, S, _ = hidden_states.shape
        # ---- TODO begin: project to queries, keys and values, each split into heads ----
        raise NotImplementedError('TODO: project to queries, keys and values, each split into heads')
        # ---- TODO end ----
        # ---- TODO begin: scores Q K^T scaled by 1/sqrt(head_size); the mask (B, S) masks KEY positions: broadcast it to (B, 1, 1, S) ----
        raise NotImplementedError('TODO: scores Q K^T scaled by 1/sqrt(head_size); the mask (B, S) masks KEY positions: broadcast it to (B, 1, 1, S)')
        # ---- TODO end ----
        # ---- TODO begin: softmax over the key axis, then dropout on the probabilities (not on the context) ----
        raise NotImplementedError('TODO: softmax over the key axis, then dropout on the probabilities (not on the context)')
        # ---- TODO end ----
        # ---- TODO begin: weighted sum of the values, then merge the heads back: (B, heads, S, d) -> (B, S, heads * d) ----
        raise NotImplementedError('TODO: weighted sum of the values, then merge the heads back: (B, heads, S, d) -> (B, S, heads * d)')
        # ---- TODO end ----
