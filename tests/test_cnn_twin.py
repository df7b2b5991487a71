"""The cnn lab's PyTorch twin: the command that trains it reproduces the committed weights, and the
committed file is plain data that round-trips exactly."""
from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
LAB = ROOT / "solutions" / "cnn"
# Bit-exact on the CPU and PyTorch build the weights were generated with. Elsewhere, float rounding may
# differ (other SIMD kernels): training with PyTorch's mkldnn convolutions switched off, which rounds
# differently, lands 4e-6 away from the committed weights (which reach 1.9), with the same predictions.
TOLERANCE = 1e-4


def twin_module():
    spec = importlib.util.spec_from_file_location("cnn_twin_under_test", LAB / "twin.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


twin = twin_module()


def test_committed_weights_are_plain_data_that_round_trip(tmp_path: Path) -> None:
    layers, params = twin.load()
    assert layers == twin.architecture(1, 8, 8, 10)
    assert all(value.dtype == np.float32 for value in params.values())
    twin.save(tmp_path / "again.py", layers, params)
    assert (tmp_path / "again.py").read_text() == twin.WEIGHTS.read_text()  # shortest exact float32 decimals
    assert (ROOT / "labs" / "cnn" / "twin_weights.py").read_text() == twin.WEIGHTS.read_text()


@pytest.mark.slow
def test_the_command_reproduces_the_committed_weights(tmp_path: Path) -> None:
    out = tmp_path / "twin_weights.py"
    subprocess.run([sys.executable, str(LAB / "twin.py"), "--out", str(out)], cwd=ROOT, check=True,
                   capture_output=True)
    layers, params = twin.load(out)
    committed_layers, committed = twin.load()
    assert layers == committed_layers and params.keys() == committed.keys()
    for name, value in params.items():
        assert value.shape == committed[name].shape
        assert np.abs(value - committed[name]).max() <= TOLERANCE, name
    images = np.random.default_rng(0).uniform(0, 1, size=(256, 1, 8, 8)).astype(np.float32)
    assert np.array_equal(twin.logits(layers, params, images).argmax(1),
                          twin.logits(layers, committed, images).argmax(1))
