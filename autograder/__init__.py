"""An autograder for PyTorch/NumPy deep-learning labs: sandboxed, honest, fast."""

__version__ = "0.1.0"
