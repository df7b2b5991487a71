"""Probes: they run your language model on inputs the grader sends and return plain data.

The fixed-weight probes build a LanguageModel in float64 holding the grader's weights (untied, dropout off,
eval mode), so that your results can be compared with the reference's to many digits.
"""
import contextlib
import random
from typing import Iterator

import numpy as np
import torch

from language_model import LanguageModel, make_sequences, train, train_epoch, train_step


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    """Train on one core, as the budget says (the sandbox has one; the grader recording values may not)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@contextlib.contextmanager
def _float64() -> Iterator[None]:
    """Tensors your code creates without a dtype are float64 too, like the model's weights."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        torch.set_default_dtype(previous)


def _seed(seed: int) -> None:
    """Seed every RNG a submission might draw from."""
    torch.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)


def _ids(values: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(np.asarray(values), dtype=torch.int64)


def _plain(value):
    """A tensor you returned, detached (anything else as it is, so the grader can say what it was)."""
    return value.detach() if isinstance(value, torch.Tensor) else value


def _model(weights: dict) -> LanguageModel:
    embedding = torch.as_tensor(weights["embedding"])
    vocab_size, embedding_dim = embedding.shape
    hidden_size = np.shape(weights["cells"][0]["weight_hh"])[1]
    model = LanguageModel(vocab_size, embedding_dim, hidden_size, dropout=0.0, tie_weights=False)
    with torch.no_grad():
        model.token_embedding.weight.copy_(embedding)
        for cell, values in zip(model.lstm_cells, weights["cells"]):
            for name, value in values.items():
                getattr(cell, name).copy_(torch.as_tensor(value))
        model.token_probability.weight.copy_(torch.as_tensor(weights["output"]))
        model.token_probability.bias.copy_(torch.as_tensor(weights["bias"]))
    return model.eval()


def forward(weights: dict, inp: np.ndarray, split: int) -> dict:
    """forward(inp)'s logits, and the logits of inp[:, split:] continued from the state after inp[:, :split]."""
    with _float64(), torch.no_grad():
        model, inp = _model(weights), _ids(inp)
        logits, _ = model(inp)
        _, state = model(inp[:, :split])
        continued, _ = model(inp[:, split:], state)
    return {"logits": _plain(logits), "continued": _plain(continued)}


def layer_use(weights: dict, inp: np.ndarray) -> dict:
    """Whether forward's logits change when the weights of the first, then the second, cell change."""
    with _float64(), torch.no_grad():
        model, inp = _model(weights), _ids(inp)
        base = model(inp)[0].clone()
        generator = torch.Generator().manual_seed(0)
        used = {}
        for name, cell in zip(("first", "second"), model.lstm_cells):
            saved = [p.clone() for p in cell.parameters()]
            for p in cell.parameters():
                p.add_(torch.randn(p.shape, generator=generator, dtype=p.dtype))
            used[name] = not torch.allclose(model(inp)[0], base)
            for p, value in zip(cell.parameters(), saved):
                p.copy_(value)
    return used


def predict(weights: dict, inp: np.ndarray) -> torch.Tensor:
    """log_softmax of predict(inp): the next-word log-probabilities your scores stand for (B, V)."""
    with _float64():
        scores = torch.as_tensor(_plain(_model(weights).predict(_ids(inp))))
    return torch.log_softmax(scores.double(), dim=-1)


def generate(weights: dict, inp: np.ndarray, forward: int) -> dict:
    """generate(inp, forward); generate again from the prompt with its first generated word appended; and
    whether forward continues a sequence from the state it is given (the prompt's last word read alone)."""
    with _float64():
        model, inp = _model(weights), _ids(inp)
        tokens = _plain(model.generate(inp, forward))
        first = torch.as_tensor(tokens)[:, :1].long()
        continued = (_plain(model.generate(torch.cat([inp, first], dim=1), forward - 1)) if forward > 1
                     else torch.zeros(len(inp), 0, dtype=torch.int64))
        carries_state = True
        if inp.shape[1] > 1:
            with torch.no_grad():
                _, state = model(inp[:, :-1])
                carries_state = bool(torch.allclose(model(inp[:, -1:], state)[0][:, -1], model(inp)[0][:, -1]))
    return {"tokens": tokens, "continued": continued, "carries_state": carries_state}


def sequences(tokens: np.ndarray, seq_len: int) -> dict:
    """make_sequences(tokens, seq_len)."""
    inputs, targets = make_sequences(_ids(tokens), seq_len)
    return {"inputs": _plain(inputs), "targets": _plain(targets)}


def epoch_losses(weights: dict, tokens: np.ndarray, seq_len: int, batch_size: int, seed: int) -> torch.Tensor:
    """The losses train_epoch reports with a learning rate of 0: each batch scored on the grader's weights."""
    with _float64():
        model = _model(weights)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.0)
        _seed(seed)
        return torch.tensor([float(loss) for loss in train_epoch(model, optimizer, _ids(tokens), seq_len, batch_size)])


def training_steps(weights: dict, inputs: np.ndarray, targets: np.ndarray, lr: float, steps: int) -> dict:
    """The losses of ``steps`` train_step calls with SGD on one batch, and whether the parameters moved."""
    with _float64():
        model = _model(weights).train()
        optimizer = torch.optim.SGD(model.parameters(), lr=lr)
        before = [p.detach().clone() for p in model.parameters()]
        losses = [float(train_step(model, optimizer, _ids(inputs), _ids(targets))) for _ in range(steps)]
        moved = any(not torch.equal(old, new) for old, new in zip(before, model.parameters()))
    return {"losses": losses, "moved": moved}


def train_and_predict(train_tokens: np.ndarray, vocab_size: int, val_x: np.ndarray, test_x: np.ndarray,
                      val_prompts: np.ndarray, test_prompts: np.ndarray, forward: int, seed: int, epochs: int,
                      seq_len: int, batch_size: int) -> dict:
    """Train a LanguageModel with your hyperparameters and the grader's budget; then the logits of the next
    word for each fixture (their answers stay with the grader) and a continuation of each prompt."""
    with _one_thread():
        _seed(seed)
        model = LanguageModel(vocab_size)
        losses = train(model, _ids(train_tokens), epochs, seq_len, batch_size)
        model.eval()
        return {"losses": [float(loss) for loss in losses],
                "val_logits": torch.as_tensor(_plain(model.predict(_ids(val_x)))).float(),
                "test_logits": torch.as_tensor(_plain(model.predict(_ids(test_x)))).float(),
                "val_generated": _plain(model.generate(_ids(val_prompts), forward)),
                "test_generated": _plain(model.generate(_ids(test_prompts), forward))}
