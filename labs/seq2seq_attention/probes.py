"""Probes: they run your Seq2Seq on inputs the grader sends (weights, token ids, encoder outputs) and return
plain data. They know no answers: the grader compares what comes back with the reference solution's
result, or scores decoded sequences against targets your code never sees."""
import random

import numpy as np
import torch

from seq2seq_attention import EMBEDDING_SIZE, HIDDEN_SIZE, Seq2Seq, greedy_decode, train


def _seed(seed: int) -> None:
    """Seed every RNG a submission might draw from."""
    torch.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)


def _model(params: dict) -> Seq2Seq:
    """A Seq2Seq holding the given weights, named as in its state_dict (sizes read from them)."""
    vocab_size, embedding_size = np.shape(params["dec_embedding.weight"])
    hidden_size = np.shape(params["mlp1.0.weight"])[0]
    model = Seq2Seq(vocab_size, embedding_size, hidden_size)
    with torch.no_grad():
        for name, value in params.items():
            owner, _, attr = name.rpartition(".")
            getattr(model.get_submodule(owner), attr).copy_(torch.as_tensor(value))
    return model


def _tensor(value) -> torch.Tensor:
    return torch.as_tensor(value).detach().clone()


def _decoded(result) -> dict:
    logits, state, attention = result
    return {"logits": _tensor(logits), "state": _tensor(state), "attention": _tensor(attention)}


def decode(params: dict, dec_y: torch.Tensor, enc_hidden: torch.Tensor, state: torch.Tensor | None = None,
           is_first_step: bool = True) -> dict:
    """model.decode(dec_y, enc_hidden, state, is_first_step) on fixed weights and given encoder outputs."""
    model = _model(params)
    with torch.no_grad():
        result = model.decode(torch.as_tensor(dec_y), torch.as_tensor(enc_hidden),
                              None if state is None else torch.as_tensor(state), is_first_step)
    return _decoded(result)


def forward(params: dict, src: torch.Tensor, dec_y: torch.Tensor) -> dict:
    """model(src, dec_y): encode, then decode the whole dec_y from the first step."""
    with torch.no_grad():
        return _decoded(_model(params)(torch.as_tensor(src), torch.as_tensor(dec_y)))


def decode_lines(steps: int, source_length: int, seed: int, vocab_size: int = 5, hidden_size: int = 4) -> list:
    """One decode call over ``steps`` tokens of a freshly built model (the grader counts the lines your code
    runs, for two values of ``steps``)."""
    _seed(seed)
    model = Seq2Seq(vocab_size, hidden_size, hidden_size)
    with torch.no_grad():
        logits, _, _ = model.decode(torch.randint(0, vocab_size, (2, steps)), torch.randn(2, source_length, hidden_size),
                                    None, True)
    return list(torch.as_tensor(logits).shape)


def train_and_decode(train_x: np.ndarray, train_y: np.ndarray, vocab_size: int, sources: dict, seed: int) -> dict:
    """Train a Seq2Seq with ``train`` (its hyperparameters), then decode each set of sources greedily (their
    targets stay with the grader): the tokens and the attention weights of every step. One thread, as in
    the sandbox, wherever it runs."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        _seed(seed)
        model = Seq2Seq(vocab_size, EMBEDDING_SIZE, HIDDEN_SIZE)
        train(model, torch.from_numpy(train_x), torch.from_numpy(train_y))
    finally:
        torch.set_num_threads(threads)
    result = {}
    for name, src in sources.items():
        tokens, attention = greedy_decode(model, torch.from_numpy(src), src.shape[1])
        result[name] = {"tokens": _tensor(tokens), "attention": _tensor(attention).float()}
    return result
