"""The PyTorch twin of the hand-written network: the same layers, built from nn.Conv2d, nn.ReLU,
nn.MaxPool2d, nn.Flatten and nn.Linear (given; this file is not graded and never runs in the sandbox).

The kit trains the twin on the default data (scikit-learn's 8x8 digits, training split of seed 0) with a
fixed seed on one thread, and commits its weights in ``twin_weights.py`` (plain literals read with ast.literal_eval: no
pickle, never imported). The
grader computes the twin's predictions itself and compares them with your HandCNN's, run with the same
weights. To regenerate the weights, from the course folder:

    python solutions/cnn/twin.py            # writes solutions/cnn/twin_weights.py
"""
from __future__ import annotations

import argparse
import ast
import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from torch import nn

WEIGHTS = Path(__file__).with_name("twin_weights.py")
WEIGHTS_DOC = ("The twin's trained weights, written by twin.py (generated: do not edit). Plain data that "
               "twin.load() reads with ast.literal_eval; nothing here is ever imported or run.")
SEED = 0  # the data split's seed and the training seed of the committed weights
EPOCHS = {"digits": 30, "mnist": 4, "cifar10": 4}  # the training budget on each dataset
BATCH_SIZE, LR, MOMENTUM = 32, 0.05, 0.9


def architecture(channels: int, height: int, width: int, classes: int) -> list[list]:
    """The layers, as plain data that both networks are built from: ["conv", out, in, [h, w]], ["relu"],
    ["pool", [ph, pw]], ["flatten"], ["linear", in, out]. Small images (the 8x8 digits) get a 3x3 and a
    2x2 convolution with one pooling between them; larger ones (MNIST, CIFAR-10) two 5x5 convolutions,
    each followed by pooling."""
    small = min(height, width) < 16
    convs = [(8, [3, 3], True), (16, [2, 2], False)] if small else [(8, [5, 5], True), (16, [5, 5], True)]
    layers, c, h, w = [], channels, height, width
    for out, (kh, kw), pool in convs:
        layers += [["conv", out, c, [kh, kw]], ["relu"]]
        c, h, w = out, h - kh + 1, w - kw + 1
        if pool:
            layers.append(["pool", [2, 2]])
            h, w = h // 2, w // 2
    return layers + [["flatten"], ["linear", c * h * w, classes]]


def build(layers: list[list]) -> nn.Sequential:
    """The twin network of ``layers`` (freshly initialised from torch's RNG)."""
    from torch import nn  # here, not above: reading the committed weights (load) needs no torch

    modules = []
    for kind, *args in layers:
        if kind == "conv":
            modules.append(nn.Conv2d(args[1], args[0], tuple(args[2])))
        elif kind == "pool":
            modules.append(nn.MaxPool2d(tuple(args[0])))
        elif kind == "linear":
            modules.append(nn.Linear(args[0], args[1]))
        else:
            modules.append({"relu": nn.ReLU, "flatten": nn.Flatten}[kind]())
    return nn.Sequential(*modules)


def train(layers: list[list], images: np.ndarray, labels: np.ndarray, seed: int, epochs: int) -> nn.Sequential:
    """Minibatch SGD with momentum on the cross-entropy, seeded and on one thread (reproducible)."""
    import torch
    from torch import nn

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(seed)
        model = build(layers)
        optimiser = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
        x, y = torch.as_tensor(images), torch.as_tensor(labels)
        order = torch.Generator().manual_seed(seed)
        for _ in range(epochs):
            for batch in torch.randperm(len(x), generator=order).split(BATCH_SIZE):
                optimiser.zero_grad()
                nn.functional.cross_entropy(model(x[batch]), y[batch]).backward()
                optimiser.step()
    finally:
        torch.set_num_threads(threads)
    return model.eval()


def train_on(data, seed: int = SEED) -> tuple[list[list], dict[str, np.ndarray]]:
    """Train a twin on a dataset's training split (``data/images.py``): its layers and parameters."""
    layers = architecture(*data.train_x.shape[1:], data.info["classes"])
    model = train(layers, data.train_x, data.train_y, seed, EPOCHS[data.info["name"]])
    return layers, parameters(model)


def parameters(model: nn.Module) -> dict[str, np.ndarray]:
    """The weights as float32 arrays, named as in the nn.Sequential ("0.weight", "0.bias", ...)."""
    return {name: tensor.detach().numpy().astype(np.float32) for name, tensor in model.state_dict().items()}


def logits(layers: list[list], params: dict[str, np.ndarray], images: np.ndarray) -> np.ndarray:
    """The twin's logits for a batch of images, computed by PyTorch."""
    import torch

    model = build(layers)
    model.load_state_dict({name: torch.as_tensor(value) for name, value in params.items()})
    with torch.no_grad():
        return model.eval()(torch.as_tensor(images, dtype=torch.float32)).numpy()


def save(path: Path, layers: list[list], params: dict[str, np.ndarray]) -> None:
    """Write the layers and weights as plain Python literals (lists, dicts, numbers: JSON's syntax, no
    code), each float32 in its shortest exact decimal form."""
    entries = [f'    {json.dumps(name)}: {{"shape": {json.dumps(list(value.shape))}, '
               f'"values": {json.dumps([float(str(v)) for v in value.ravel()])}}},' for name, value in params.items()]
    path.write_text(f'"""{WEIGHTS_DOC}"""\nLAYERS = {json.dumps(layers)}\nPARAMS = {{\n' + "\n".join(entries) + "\n}\n")


def load(path: Path = WEIGHTS) -> tuple[list[list], dict[str, np.ndarray]]:
    """The layers and float32 weights written by ``save``, read as literals (the file is never run)."""
    found = {node.targets[0].id: ast.literal_eval(node.value) for node in ast.parse(path.read_text()).body
             if isinstance(node, ast.Assign)}
    params = {name: np.array(entry["values"], dtype=np.float32).reshape(entry["shape"])
              for name, entry in found["PARAMS"].items()}
    return found["LAYERS"], params


def main(argv: list[str] | None = None) -> None:
    """Train the twin on the default data and write its weights."""
    from autograder.datasets import Datasets
    from autograder.lab import Course

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=WEIGHTS, help=f"where to write the weights (default {WEIGHTS})")
    parser.add_argument("--seed", type=int, default=SEED, help="data split and training seed")
    args = parser.parse_args(argv)
    data = Datasets(Course.find(Path(__file__).parent).data_dir)("images", seed=args.seed)
    layers, params = train_on(data, args.seed)
    save(args.out, layers, params)
    predicted = logits(layers, params, data.val_x).argmax(axis=1)
    print(f"wrote {args.out}: validation accuracy {(predicted == data.val_y).mean():.4f}")


if __name__ == "__main__":
    main()
