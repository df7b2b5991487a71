"""Probes: they run your GRU, Sequence_Modeling and generate on inputs the grader sends (weights, inputs,
character ids) and return plain data. They know no answers: the grader compares what comes back with the
reference solution's result, or scores predictions against characters your code never sees."""
import random

import numpy as np
import torch

from gru import EMBEDDING_SIZE, GRU, HIDDEN_SIZE, Sequence_Modeling, generate, train

GRU_PARAMETERS = ("W_xz", "W_hz", "b_z", "W_xr", "W_hr", "b_r", "W_xh", "W_hh", "b_h")


def _seed(seed: int) -> None:
    """Seed every RNG a submission might draw from."""
    torch.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)


def _set(module: torch.nn.Module, params: dict) -> None:
    """Copy fixed weights into the module's parameters, by name ("gru_layer.W_xz", "linear.weight", ...)."""
    with torch.no_grad():
        for name, value in params.items():
            owner, _, attr = name.rpartition(".")
            getattr(module.get_submodule(owner), attr).copy_(torch.as_tensor(value))


def _gru(params: dict) -> GRU:
    """A GRU holding the given nine parameters."""
    num_inputs, num_hiddens = np.shape(params["W_xz"])
    gru = GRU(num_inputs, num_hiddens)
    _set(gru, params)
    return gru


def _model(params: dict) -> Sequence_Modeling:
    """A Sequence_Modeling holding the given weights (vocabulary, embedding and hidden sizes read from them)."""
    vocab_size, embedding_size = np.shape(params["emb_layer.weight"])
    num_outputs, hidden_size = np.shape(params["linear.weight"])
    model = Sequence_Modeling(vocab_size, embedding_size, num_outputs, hidden_size)
    _set(model, params)
    return model


def _tensor(value) -> torch.Tensor:
    return torch.as_tensor(value).detach().clone()


def gru_forward(params: dict, inputs: torch.Tensor, state: torch.Tensor | None = None) -> dict:
    """GRU(params)(inputs, state): every step's state and the final state."""
    with torch.no_grad():
        outputs, final = _gru(params)(torch.as_tensor(inputs), None if state is None else torch.as_tensor(state))
    return {"outputs": _tensor(outputs), "state": _tensor(final)}


def model_forward(params: dict, sent: torch.Tensor, state: torch.Tensor | None = None) -> dict:
    """Sequence_Modeling(params)(sent, state): the logits at every position and the final state."""
    with torch.no_grad():
        logits, final = _model(params)(torch.as_tensor(sent), None if state is None else torch.as_tensor(state))
    return {"logits": _tensor(logits), "state": _tensor(final)}


def model_in_pieces(params: dict, sent: torch.Tensor, cuts: list) -> dict:
    """The model run on sent[:, :c1], then sent[:, c1:c2], ... each call starting from the state the
    previous one returned: the first piece's logits, the later pieces' logits, and the final state."""
    model, sent = _model(params), torch.as_tensor(sent)
    bounds = [0, *cuts, sent.shape[1]]
    pieces, state = [], None
    with torch.no_grad():
        for start, stop in zip(bounds, bounds[1:]):
            logits, state = model(sent[:, start:stop], state)
            pieces.append(_tensor(logits))
    return {"first": pieces[0], "later": torch.cat(pieces[1:], dim=1), "state": _tensor(state)}


def greedy(params: dict, prefix: torch.Tensor, num_chars: int) -> torch.Tensor:
    """generate(model, prefix, num_chars) with the most likely character at every step."""
    return _tensor(generate(_model(params), torch.as_tensor(prefix), num_chars, sample=False))


def sampled(params: dict, prefix: torch.Tensor, num_chars: int, seed: int) -> torch.Tensor:
    """generate(model, prefix, num_chars, sample=True) after seeding torch's RNG with ``seed``."""
    model = _model(params)
    _seed(seed)
    return _tensor(generate(model, torch.as_tensor(prefix), num_chars, sample=True))


def next_char_probabilities(params: dict, prefixes: torch.Tensor) -> torch.Tensor:
    """The softmax of the model's logits after each prefix (B, P): (B, num_outputs)."""
    with torch.no_grad():
        logits, _ = _model(params)(torch.as_tensor(prefixes))
    return torch.softmax(_tensor(logits[:, -1]).double(), dim=-1)


def gru_lines(batch: int, seq_len: int, num_inputs: int, num_hiddens: int, seed: int) -> list:
    """One forward pass on ``batch`` random sequences (the grader counts the lines your code runs)."""
    _seed(seed)
    with torch.no_grad():
        outputs, state = GRU(num_inputs, num_hiddens)(torch.randn(batch, seq_len, num_inputs))
    return list(torch.as_tensor(outputs).shape)


def train_and_predict(train_x: np.ndarray, train_y: np.ndarray, vocab_size: int, windows: dict, prefix: np.ndarray,
                      num_chars: int, seed: int) -> dict:
    """Train a Sequence_Modeling with ``train`` (its hyperparameters), then: for each window set, the most
    likely next character after each window (their answers stay with the grader); and a greedy and a
    sampled continuation of ``prefix``. One thread, as in the sandbox, wherever it runs."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        _seed(seed)
        model = Sequence_Modeling(vocab_size, EMBEDDING_SIZE, vocab_size, HIDDEN_SIZE)
        train(model, torch.from_numpy(train_x), torch.from_numpy(train_y))
    finally:
        torch.set_num_threads(threads)
    result = {}
    with torch.no_grad():
        for name, x in windows.items():
            logits, _ = model(torch.from_numpy(x))
            result[name] = _tensor(logits[:, -1].argmax(dim=-1))
    prefix = torch.from_numpy(prefix)
    result["greedy"] = _tensor(generate(model, prefix, num_chars, sample=False))
    _seed(seed)
    result["sampled"] = _tensor(generate(model, prefix, num_chars, sample=True))
    return result
