"""A word-level language model: two LSTM cells in sequence read a text one word at a time and score the
word that comes next. You write how it reads (forward), predicts (predict), writes (generate) and
learns (make_sequences, train_step); the layers, the training loop and the regularisers are given.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

### BEGIN HYPERPARAMETERS
LEARNING_RATE = 5e-3  # Adam's step size
WEIGHT_DECAY = 0.0  # Adam's L2 penalty on every parameter
DROPOUT = 0.0  # locked dropout on the embeddings and on the top cell's outputs, while training only
TIE_WEIGHTS = False  # token_probability shares its weight with token_embedding (needs embedding_dim == hidden_size)
CLIP = 1.0  # gradients are rescaled so that their total norm is at most CLIP
### END HYPERPARAMETERS


class LockedDropout(nn.Module):
    """Dropout with one mask per sequence, shared by all its time steps: x (B, T, D). Identity in eval mode."""

    def __init__(self, p: float):
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        mask = x.new_empty(x.shape[0], 1, x.shape[2]).bernoulli_(1 - self.p) / (1 - self.p)
        return x * mask


class LanguageModel(nn.Module):
    """token_embedding (V, 128) -> lstm_cells: two LSTMCell(128, 128), the second reading the first's
    output -> token_probability: Linear(128, V), the logits of the next word."""

    def __init__(self, vocab_size: int, embedding_dim: int = 128, hidden_size: int = 128,
                 dropout: float = DROPOUT, tie_weights: bool = TIE_WEIGHTS):
        super().__init__()
        self.token_embedding = nn.Embedding(vocab_size, embedding_dim)
        self.lstm_cells = nn.ModuleList([nn.LSTMCell(embedding_dim, hidden_size),
                                         nn.LSTMCell(hidden_size, hidden_size)])
        self.token_probability = nn.Linear(hidden_size, vocab_size)
        self.locked_dropout = LockedDropout(dropout)
        if tie_weights:
            self.token_probability.weight = self.token_embedding.weight

    def forward(self, inp: torch.Tensor, state: list | None = None) -> tuple[torch.Tensor, list]:
        """inp (B, T) token ids -> logits (B, T, V): at each position, the scores of the word that follows;
        and the state after the last word, which forward(next_words, state) continues from. state None
        starts from zeros; otherwise it is a state this method returned."""
        ### BEGIN SOLUTION embed (locked dropout); at each time step both cells in turn, each carrying its own (h, c); project the top cell's outputs
        embedded = self.locked_dropout(self.token_embedding(inp))  # (B, T, E)
        state = list(state) if state is not None else [None] * len(self.lstm_cells)  # (h, c) per cell
        outputs = []
        for t in range(inp.shape[1]):
            x = embedded[:, t]
            for layer, cell in enumerate(self.lstm_cells):
                state[layer] = cell(x, state[layer])
                x = state[layer][0]  # this cell's h feeds the next cell
            outputs.append(x)
        hidden = self.locked_dropout(torch.stack(outputs, dim=1))  # (B, T, H)
        return self.token_probability(hidden), state
        ### END SOLUTION

    @torch.no_grad()
    def predict(self, inp: torch.Tensor) -> torch.Tensor:
        """inp (B, T) -> logits (B, V) of the word that follows each sequence: unnormalised scores whose
        softmax is the model's distribution of the next word (log-probabilities qualify, probabilities do not)."""
        ### BEGIN SOLUTION read the whole sequence, keep the scores at its last position
        logits, _ = self(inp)
        return logits[:, -1]
        ### END SOLUTION

    @torch.no_grad()
    def generate(self, inp: torch.Tensor, forward: int) -> torch.Tensor:
        """Greedy continuation: inp (B, T) -> (B, forward) token ids, each the most likely word after the
        prompt and the words generated before it. Read the prompt once, then feed each new word back in
        with the state, one word at a time."""
        ### BEGIN SOLUTION the prompt once; then repeatedly: the best word, fed back in with the carried state
        logits, state = self(inp)
        word = logits[:, -1].argmax(dim=-1)  # (B,)
        words = [word]
        for _ in range(forward - 1):
            logits, state = self(word[:, None], state)
            word = logits[:, -1].argmax(dim=-1)
            words.append(word)
        return torch.stack(words, dim=1)
        ### END SOLUTION


def make_sequences(tokens: torch.Tensor, seq_len: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Cut a stream of token ids (n,) into N = (n - 1) // seq_len consecutive, non-overlapping sequences from
    its start: inputs (N, seq_len), and targets (N, seq_len) where targets[i, t] is the word that follows
    inputs[i, t] in the stream. The words left over at the end are dropped."""
    ### BEGIN SOLUTION N sequences of seq_len words, and the same windows one word later
    n = (len(tokens) - 1) // seq_len
    inputs = tokens[:n * seq_len].reshape(n, seq_len)
    targets = tokens[1:n * seq_len + 1].reshape(n, seq_len)
    return inputs, targets
    ### END SOLUTION


def train_step(model: LanguageModel, optimizer: torch.optim.Optimizer, inputs: torch.Tensor,
               targets: torch.Tensor) -> float:
    """One step on a batch (B, T): the mean cross-entropy of every position's logits against its target,
    its gradient (clipped to a total norm of CLIP), one optimizer step. Returns that cross-entropy (the
    loss before the step, as a float). Extra regularisers you add to the loss are not part of what it returns."""
    ### BEGIN SOLUTION forward, cross-entropy over all B*T positions, zero the old gradients, backward, clip, step
    logits, _ = model(inputs)
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
    optimizer.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), CLIP)
    optimizer.step()
    return loss.item()
    ### END SOLUTION


def train_epoch(model: LanguageModel, optimizer: torch.optim.Optimizer, tokens: torch.Tensor, seq_len: int,
                batch_size: int) -> list[float]:
    """One pass over the stream: its sequences in a fresh random order, in batches of batch_size (the last
    may be smaller), one train_step each. Returns the loss of every batch."""
    model.train()
    inputs, targets = make_sequences(tokens, seq_len)
    order = torch.randperm(len(inputs))
    return [train_step(model, optimizer, inputs[batch], targets[batch]) for batch in order.split(batch_size)]


def train(model: LanguageModel, tokens: torch.Tensor, epochs: int, seq_len: int, batch_size: int) -> list[float]:
    """Train with Adam (LEARNING_RATE, WEIGHT_DECAY) for ``epochs`` passes; returns each epoch's mean loss."""
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY)
    history = []
    for _ in range(epochs):
        losses = train_epoch(model, optimizer, tokens, seq_len, batch_size)
        history.append(sum(losses) / len(losses))
    model.eval()
    return history
