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
        ### BEGIN SOLUTION hidden_size must split evenly into heads: raise ValueError otherwise; then the head sizes
        if config.hidden_size % config.num_attention_heads != 0:
            raise ValueError(f"hidden_size ({config.hidden_size}) is not a multiple of the number of attention "
                             f"heads ({config.num_attention_heads})")
        self.num_attention_heads = config.num_attention_heads
        self.attention_head_size = config.hidden_size // config.num_attention_heads
        self.all_head_size = self.num_attention_heads * self.attention_head_size
        ### END SOLUTION
        ### BEGIN SOLUTION self.query, self.key, self.value: Linear(hidden_size, all_head_size); self.dropout with attention_probs_dropout_prob
        self.query = nn.Linear(config.hidden_size, self.all_head_size)
        self.key = nn.Linear(config.hidden_size, self.all_head_size)
        self.value = nn.Linear(config.hidden_size, self.all_head_size)
        self.dropout = nn.Dropout(config.attention_probs_dropout_prob)
        ### END SOLUTION

    def transpose_for_scores(self, x: torch.Tensor) -> torch.Tensor:
        """(B, S, all_head_size) -> (B, heads, S, head_size): one (S, head_size) matrix per head."""
        ### BEGIN SOLUTION split the last axis into (heads, head_size), then move the head axis before S
        B, S, _ = x.shape
        return x.view(B, S, self.num_attention_heads, self.attention_head_size).permute(0, 2, 1, 3)
        ### END SOLUTION

    def forward(self, hidden_states: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """hidden_states (B, S, hidden_size), additive attention_mask (B, S) -> context (B, S, hidden_size)."""
        B, S, _ = hidden_states.shape
        ### BEGIN SOLUTION project to queries, keys and values, each split into heads
        query = self.transpose_for_scores(self.query(hidden_states))
        key = self.transpose_for_scores(self.key(hidden_states))
        value = self.transpose_for_scores(self.value(hidden_states))
        ### END SOLUTION
        ### BEGIN SOLUTION scores Q K^T scaled by 1/sqrt(head_size); the mask (B, S) masks KEY positions: broadcast it to (B, 1, 1, S)
        scores = query @ key.transpose(-1, -2) / math.sqrt(self.attention_head_size)
        scores = scores + attention_mask[:, None, None, :]
        ### END SOLUTION
        ### BEGIN SOLUTION softmax over the key axis, then dropout on the probabilities (not on the context)
        probs = self.dropout(torch.softmax(scores, dim=-1))
        ### END SOLUTION
        ### BEGIN SOLUTION weighted sum of the values, then merge the heads back: (B, heads, S, d) -> (B, S, heads * d)
        context = probs @ value
        return context.permute(0, 2, 1, 3).reshape(B, S, self.all_head_size)
        ### END SOLUTION
