"""Probes: they build your BertSelfAttention (or the small BERT on it) from a config and weights the grader
sends, run it, and return plain data. Nothing here knows the expected values."""
import numpy as np
import torch

from bert_attention import BertSelfAttention
from bert_model import BertConfig, BertForSequenceClassification, fine_tune, predict

torch.set_num_threads(1)


def _layer(config: dict, weights: dict) -> BertSelfAttention:
    """Your layer in float64, its query/key/value weights and biases set to the grader's."""
    layer = BertSelfAttention(BertConfig(**config)).double()
    with torch.no_grad():
        for name, value in weights.items():  # "query.weight", "query.bias", "key.weight", ...
            module, parameter = name.split(".")
            getattr(getattr(layer, module), parameter).copy_(value)
    return layer


def attention_eval(config: dict, weights: dict, hidden_states: torch.Tensor,
                   attention_mask: torch.Tensor) -> torch.Tensor:
    """forward in eval mode (dropout off)."""
    layer = _layer(config, weights).eval()
    with torch.no_grad():
        return layer(hidden_states, attention_mask).detach()


def attention_train(config: dict, weights: dict, hidden_states: torch.Tensor, attention_mask: torch.Tensor,
                    seed: int) -> torch.Tensor:
    """forward in train mode (dropout on), torch's generator seeded with ``seed`` just before."""
    layer = _layer(config, weights).train()
    torch.manual_seed(seed)
    with torch.no_grad():
        return layer(hidden_states, attention_mask).detach()


def dropout_samples(config: dict, weights: dict, hidden_states: torch.Tensor, attention_mask: torch.Tensor,
                    seed: int) -> dict:
    """The same inputs through forward in train mode and in eval mode."""
    return {"train": attention_train(config, weights, hidden_states, attention_mask, seed),
            "eval": attention_eval(config, weights, hidden_states, attention_mask)}


def padding_outputs(config: dict, weights: dict, inputs: list, attention_mask: torch.Tensor) -> list:
    """forward in eval mode on each hidden-states tensor of a list, with one mask."""
    return [attention_eval(config, weights, hidden_states, attention_mask) for hidden_states in inputs]


def construction(config: dict) -> str:
    """What building the layer does: "built", or the name of the exception it raised."""
    try:
        BertSelfAttention(BertConfig(**config))
    except NotImplementedError:
        raise  # a TODO left: "not implemented", not a wrong exception
    except Exception as error:  # noqa: BLE001 - which exception it is, is what the grader checks
        return type(error).__name__
    return "built"


def fine_tune_and_predict(train_x: np.ndarray, train_y: np.ndarray, inputs: list, config: dict, epochs: int,
                          batch_size: int, lr: float, seed: int) -> list:
    """Train a small BERT built on your layer on (train_x, train_y), then predict the class of every sequence
    of each array in ``inputs`` (their labels stay with the grader)."""
    torch.manual_seed(seed)
    model = BertForSequenceClassification(BertConfig(**config))
    fine_tune(model, train_x, train_y, epochs, batch_size, lr, seed)
    return [predict(model, x) for x in inputs]
