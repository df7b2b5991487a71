"""An encoder-decoder with dot-product attention that learns to reverse sequences: "ABCDEFG" -> "GFEDCBA".

The encoder (an embedding and a GRU, given) turns the source letters into one vector per position,
enc_hidden (B, S, H). The decoder writes the output one token at a time: at every step its current hidden state
(the query) is compared by dot product with every encoder vector (the keys), the softmax of those scores
weighs the encoder vectors (the values) into a context, and [context, embedding of the step's token] is
the input of one GRU-cell step; mlp2 turns the new state into the logits of the next letter. The decoder
starts from mlp1 applied to every encoder vector, averaged over the positions.
"""
import torch
from torch import nn

SOS = 0  # the token that starts every decoder input; the letters are 1..num_letters

# ---- HYPERPARAMETERS begin (you may tune these) ----
EMBEDDING_SIZE = 32
HIDDEN_SIZE = 32
STEPS = 300
BATCH_SIZE = 64
LEARNING_RATE = 0.01
# ---- HYPERPARAMETERS end ----


class Seq2Seq(nn.Module):
    """Every layer here is used: enc_embedding and encoder in encode, the rest in decode."""

    def __init__(self, vocab_size: int, embedding_size: int, hidden_size: int):
        super().__init__()
        self.enc_embedding = nn.Embedding(vocab_size, embedding_size)
        self.encoder = nn.GRU(embedding_size, hidden_size, batch_first=True)
        self.dec_embedding = nn.Embedding(vocab_size, embedding_size)
        self.decoder = nn.GRUCell(hidden_size + embedding_size, hidden_size)  # input: [context, embedding]
        self.mlp1 = nn.Sequential(nn.Linear(hidden_size, hidden_size), nn.Tanh())  # encoder outputs -> initial state
        self.mlp2 = nn.Sequential(nn.Linear(hidden_size, hidden_size), nn.Tanh(), nn.Linear(hidden_size, vocab_size))

    def encode(self, src: torch.Tensor) -> torch.Tensor:
        """src (B, S) token ids -> enc_hidden (B, S, H). The GRU reads the source from its last token to its
        first, and its outputs are put back in source order: enc_hidden[:, j] has just read token j (and
        remembers the ones after it), so each position stands for its own token."""
        enc_hidden, _ = self.encoder(self.enc_embedding(src).flip(1))
        return enc_hidden.flip(1)

    def decode(self, dec_y: torch.Tensor, enc_hidden: torch.Tensor, state: torch.Tensor | None,
               is_first_step: bool = True) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Run the decoder over the tokens dec_y (B, T), one step per token, attending to enc_hidden (B, S, H).

        On the first step (``is_first_step``) the state is mlp1 applied to every encoder output, averaged over
        the S positions; otherwise decoding continues from ``state`` (B, H). Returns the logits (B, T, V) of
        the token after each input token, the final state (B, H) and the attention weights (B, T, S).
        """
        # ---- TODO begin: initial state: mlp1 on every position, then the mean; per step: scores of the state with enc_hidden, softmax, context, a GRU-cell step, mlp2 ----
        raise NotImplementedError('TODO: initial state: mlp1 on every position, then the mean; per step: scores of the state with enc_hidden, softmax, context, a GRU-cell step, mlp2')
        # ---- TODO end ----

    def forward(self, src: torch.Tensor, dec_y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Teacher forcing: encode src, then decode the whole target input dec_y from the first step."""
        return self.decode(dec_y, self.encode(src), None, is_first_step=True)


def greedy_decode(model: Seq2Seq, src: torch.Tensor, length: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Write ``length`` tokens for each source (B, S), feeding every predicted token back one step at a time;
    returns the tokens (B, length) and the attention weights of every step (B, length, S)."""
    with torch.no_grad():
        enc_hidden = model.encode(src)
        token = torch.full((src.shape[0], 1), SOS, dtype=torch.long)
        state, tokens, attention = None, [], []
        for t in range(length):
            logits, state, weights = model.decode(token, enc_hidden, state, is_first_step=t == 0)
            token = logits[:, -1].argmax(dim=-1, keepdim=True)
            tokens.append(token)
            attention.append(weights)
        return torch.cat(tokens, dim=1), torch.cat(attention, dim=1)


def train(model: Seq2Seq, src: torch.Tensor, tgt: torch.Tensor) -> list[float]:
    """Adam on the cross-entropy of every target token with teacher forcing (the decoder reads SOS, then the
    true previous tokens), over STEPS random batches of BATCH_SIZE pairs. Returns the loss of each step."""
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    dec_y = torch.cat([torch.full((len(tgt), 1), SOS, dtype=torch.long), tgt[:, :-1]], dim=1)
    losses = []
    for _ in range(STEPS):
        batch = torch.randint(0, len(src), (BATCH_SIZE,))
        logits, _, _ = model(src[batch], dec_y[batch])
        loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt[batch].reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        losses.append(loss.item())
    return losses
