"""A small BERT for sequence classification, built on your BertSelfAttention (given: do not change it).

Embeddings (word + position + token type, LayerNorm, dropout) -> layers of [self-attention, output
projection, dropout, residual + LayerNorm, feed-forward with GELU, dropout, residual + LayerNorm] -> pooler
(dense + tanh on the first token, [CLS]) -> dropout -> classifier.
"""
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from bert_attention import BertSelfAttention  # your layer


@dataclass
class BertConfig:
    """The hyperparameters of a BERT (the names are those of the original)."""

    hidden_size: int = 32
    num_attention_heads: int = 4
    num_hidden_layers: int = 2
    intermediate_size: int = 64
    vocab_size: int = 16
    max_position_embeddings: int = 32
    type_vocab_size: int = 2
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.1
    layer_norm_eps: float = 1e-12
    num_labels: int = 2


def additive_mask(attention_mask: torch.Tensor) -> torch.Tensor:
    """A (B, S) mask of 1 (token) and 0 (padding) -> the additive (B, S) mask: 0 keeps, -10000 removes."""
    return (1.0 - attention_mask.float()) * -10000.0


class BertEmbeddings(nn.Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        self.word_embeddings = nn.Embedding(config.vocab_size, config.hidden_size, padding_idx=0)
        self.position_embeddings = nn.Embedding(config.max_position_embeddings, config.hidden_size)
        self.token_type_embeddings = nn.Embedding(config.type_vocab_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, input_ids: torch.Tensor, token_type_ids: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(input_ids.shape[1], device=input_ids.device)
        embedded = self.word_embeddings(input_ids) + self.position_embeddings(positions) + \
            self.token_type_embeddings(token_type_ids)
        return self.dropout(self.LayerNorm(embedded))


class BertLayer(nn.Module):
    """One transformer encoder layer (post-norm, as in BERT)."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.attention = BertSelfAttention(config)
        self.attention_output = nn.Linear(config.hidden_size, config.hidden_size)
        self.attention_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.intermediate = nn.Linear(config.hidden_size, config.intermediate_size)
        self.output = nn.Linear(config.intermediate_size, config.hidden_size)
        self.output_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, hidden_states: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        attended = self.dropout(self.attention_output(self.attention(hidden_states, attention_mask)))
        hidden_states = self.attention_norm(hidden_states + attended)
        fed = self.dropout(self.output(nn.functional.gelu(self.intermediate(hidden_states))))
        return self.output_norm(hidden_states + fed)


class BertForSequenceClassification(nn.Module):
    """BERT with a pooler on [CLS] (the first token) and a linear classifier."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.embeddings = BertEmbeddings(config)
        self.layers = nn.ModuleList([BertLayer(config) for _ in range(config.num_hidden_layers)])
        self.pooler = nn.Linear(config.hidden_size, config.hidden_size)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)

    def forward(self, input_ids: torch.Tensor, token_type_ids: torch.Tensor,
                attention_mask: torch.Tensor) -> torch.Tensor:
        """Token ids, token type ids and a 1/0 attention mask, all (B, S) -> logits (B, num_labels)."""
        mask = additive_mask(attention_mask)
        hidden_states = self.embeddings(input_ids, token_type_ids)
        for layer in self.layers:
            hidden_states = layer(hidden_states, mask)
        pooled = torch.tanh(self.pooler(hidden_states[:, 0]))
        return self.classifier(self.dropout(pooled))


def fine_tune(model: BertForSequenceClassification, x: np.ndarray, y: np.ndarray, epochs: int, batch_size: int,
              lr: float, seed: int) -> None:
    """Train on x (N, 2, S): token ids and token type ids (id 0 is padding), labels y (N,), with AdamW on the
    cross-entropy, the batches in a fresh random order each epoch."""
    generator = torch.Generator().manual_seed(seed)
    ids, types = torch.as_tensor(x[:, 0]), torch.as_tensor(x[:, 1])
    labels = torch.as_tensor(y)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    model.train()
    for _ in range(epochs):
        for batch in torch.randperm(len(labels), generator=generator).split(batch_size):
            logits = model(ids[batch], types[batch], (ids[batch] != 0).long())
            loss = nn.functional.cross_entropy(logits, labels[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


@torch.no_grad()
def predict(model: BertForSequenceClassification, x: np.ndarray) -> np.ndarray:
    """The predicted class of each sequence of x (N, 2, S), in eval mode (no dropout)."""
    model.eval()
    ids, types = torch.as_tensor(x[:, 0]), torch.as_tensor(x[:, 1])
    return model(ids, types, (ids != 0).long()).argmax(dim=-1).numpy()
