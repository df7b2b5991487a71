"""A gated recurrent unit (GRU) written by hand, and a character language model built on it.

At each time step t the GRU reads X_t (B, I) and its previous state H (B, H) and computes

    Z       = sigmoid(X_t @ W_xz + H @ W_hz + b_z)           update gate
    R       = sigmoid(X_t @ W_xr + H @ W_hr + b_r)           reset gate
    H_tilde = tanh(X_t @ W_xh + (R * H) @ W_hh + b_h)        candidate state
    H       = Z * H + (1 - Z) * H_tilde                      new state

Z close to 1 keeps the old state, Z close to 0 takes the candidate; R decides how much of the old state
the candidate may look at. nn.GRU, nn.GRUCell and torch's gru functions are forbidden: you write this.
"""
import math

import torch
from torch import nn

### BEGIN HYPERPARAMETERS
EMBEDDING_SIZE = 32
HIDDEN_SIZE = 96
STEPS = 200
BATCH_SIZE = 32
SEQ_LEN = 32
LEARNING_RATE = 0.01
### END HYPERPARAMETERS


class GRU(nn.Module):
    """One GRU layer. Input weights W_x* are (num_inputs, num_hiddens), hidden weights W_h* are
    (num_hiddens, num_hiddens), biases b_* are (num_hiddens,): z = update gate, r = reset gate,
    h = candidate state."""

    def __init__(self, num_inputs: int, num_hiddens: int):
        super().__init__()
        self.num_hiddens = num_hiddens
        bound = 1 / math.sqrt(num_hiddens)

        def uniform(*shape: int) -> nn.Parameter:
            return nn.Parameter(torch.empty(*shape).uniform_(-bound, bound))

        def gate() -> tuple[nn.Parameter, nn.Parameter, nn.Parameter]:
            """The input weights, hidden weights and bias of one gate."""
            return uniform(num_inputs, num_hiddens), uniform(num_hiddens, num_hiddens), uniform(num_hiddens)

        self.W_xz, self.W_hz, self.b_z = gate()  # update gate
        self.W_xr, self.W_hr, self.b_r = gate()  # reset gate
        self.W_xh, self.W_hh, self.b_h = gate()  # candidate state

    def forward(self, inputs: torch.Tensor, state: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """inputs (B, S, num_inputs) and the state to start from, (B, num_hiddens) (zeros when None) ->
        the state after every step, (B, S, num_hiddens), and the final state (B, num_hiddens)."""
        ### BEGIN SOLUTION start from the given state (zeros when None); per time step: Z, R, the candidate from R * H, the new H; keep every new H
        H = inputs.new_zeros(inputs.shape[0], self.num_hiddens) if state is None else state
        outputs = []
        for t in range(inputs.shape[1]):
            X = inputs[:, t]
            Z = torch.sigmoid(X @ self.W_xz + H @ self.W_hz + self.b_z)
            R = torch.sigmoid(X @ self.W_xr + H @ self.W_hr + self.b_r)
            H_tilde = torch.tanh(X @ self.W_xh + (R * H) @ self.W_hh + self.b_h)
            H = Z * H + (1 - Z) * H_tilde
            outputs.append(H)
        return torch.stack(outputs, dim=1), H
        ### END SOLUTION


class Sequence_Modeling(nn.Module):
    """Character ids -> embedding -> GRU -> a linear layer giving the logits of the next character."""

    def __init__(self, vocab_size: int, embedding_size: int, num_outputs: int, hidden_size: int):
        super().__init__()
        self.emb_layer = nn.Embedding(vocab_size, embedding_size)
        self.gru_layer = GRU(embedding_size, hidden_size)
        self.linear = nn.Linear(hidden_size, num_outputs)

    def forward(self, sent: torch.Tensor, state: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """sent (B, S) character ids and the state to start from (None: zeros) -> logits (B, S, num_outputs)
        for the character that follows each position, and the final state (B, hidden_size)."""
        ### BEGIN SOLUTION embed the ids, run the GRU from the given state, apply the linear layer to every output
        outputs, state = self.gru_layer(self.emb_layer(sent), state)
        return self.linear(outputs), state
        ### END SOLUTION


def generate(model: Sequence_Modeling, prefix: torch.Tensor, num_chars: int, sample: bool = False) -> torch.Tensor:
    """Continue every row of ``prefix`` (B, P) ids by ``num_chars`` new ids, returned as (B, num_chars).

    The prefix warms the state up; each new character is the most likely one (``sample=False``) or a draw
    from the softmax of the logits (``sample=True``, with torch.multinomial and torch's RNG); it is then fed
    back as the next input, together with the state.
    """
    with torch.no_grad():
        ### BEGIN SOLUTION run the prefix once, then pick (argmax or torch.multinomial) and feed back one character at a time, carrying the state
        logits, state = model(prefix)
        new = []
        for _ in range(num_chars):
            last = logits[:, -1]
            if sample:
                chosen = torch.multinomial(torch.softmax(last, dim=-1), 1)
            else:
                chosen = last.argmax(dim=-1, keepdim=True)
            new.append(chosen)
            logits, state = model(chosen, state)
        return torch.cat(new, dim=1)
        ### END SOLUTION


def train(model: Sequence_Modeling, inputs: torch.Tensor, targets: torch.Tensor) -> list[float]:
    """Adam on the cross-entropy of the next character, over STEPS batches of BATCH_SIZE random windows of
    SEQ_LEN characters; ``targets[i]`` is the character after ``inputs[i]``. Returns the loss of each step."""
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    losses = []
    for _ in range(STEPS):
        starts = torch.randint(0, len(inputs) - SEQ_LEN + 1, (BATCH_SIZE, 1))
        window = starts + torch.arange(SEQ_LEN)
        logits, _ = model(inputs[window])
        loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets[window].reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        losses.append(loss.item())
    return losses
