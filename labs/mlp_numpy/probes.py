"""Probes: small functions the grader calls on your code (in a sandbox) to get plain data back.
They build inputs from a seed, call your classes and return arrays and numbers; the grader compares
them with the reference solution's and with finite differences. Nothing here knows the answers."""
import numpy as np

from activations import ReLU, SoftMax, initialize_activation
from layers import FullyConnected
from loader import one_hot
from losses import CrossEntropy
from model import NeuralNetwork
from optimizers import SGD


def _array(value) -> np.ndarray:
    """Your value as a float64 array (so a wrong shape or a None shows up as itself, not a crash here)."""
    return np.array(value, dtype=np.float64) if value is not None else None


def _layer(rng: np.random.Generator, n_in: int, n_out: int, activation: str, m: int) -> FullyConnected:
    """A layer with fixed random weights and a non-zero bias (lazy initialisation run first)."""
    layer = FullyConnected(n_out, activation)
    layer._init_parameters((m, n_in))
    layer.parameters["W"] = rng.normal(size=(n_in, n_out)) / np.sqrt(n_in)
    layer.parameters["b"] = rng.normal(size=(1, n_out)) * 0.5
    return layer


def relu(seed: int) -> dict:
    """ReLU forward and backward on random Z and upstream gradients dY (both with mixed signs)."""
    rng = np.random.default_rng(seed)
    Z, dY = rng.normal(size=(6, 5)), rng.normal(size=(6, 5))
    act = ReLU()
    Y = act.forward(Z)
    return {"Y": _array(Y), "dZ": _array(act.backward(dY))}


def softmax(seed: int, scale: float = 3.0) -> dict:
    """SoftMax forward and backward on random logits of the given scale."""
    rng = np.random.default_rng(seed)
    Z, dY = rng.normal(size=(6, 4)) * scale, rng.normal(size=(6, 4))
    act = SoftMax()
    Y = act.forward(Z)
    return {"Y": _array(Y), "dZ": _array(act.backward(dY))}


def fully_connected(seed: int, n_in: int, n_out: int, m: int, activation: str) -> dict:
    """One layer's forward and backward on fixed weights: Y, dL/dX and the stored dL/dW, dL/db."""
    rng = np.random.default_rng(seed)
    layer = _layer(rng, n_in, n_out, activation, m)
    X, dY = rng.normal(size=(m, n_in)), rng.normal(size=(m, n_out))
    Y = layer.forward(X)
    dX = layer.backward(dY)
    return {"Y": _array(Y), "dX": _array(dX),
            "dW": _array(layer.gradients.get("W")), "db": _array(layer.gradients.get("b"))}


def cross_entropy(seed: int, m: int, k: int, scale: float = 2.0) -> dict:
    """The loss and its gradient with respect to the logits, for random logits and labels."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(m, k)) * scale
    Y = one_hot(rng.integers(0, k, size=m), k)
    loss = CrossEntropy()
    return {"loss": float(loss.forward(Y, logits)), "dY_hat": _array(loss.backward(Y, logits))}


def _numerical_gradient(f, x: np.ndarray, h: float) -> np.ndarray:
    """Central differences (f(x + h e_i) - f(x - h e_i)) / 2h, one entry of x at a time (in place)."""
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        plus = f()
        x[i] = old - h
        minus = f()
        x[i] = old
        grad[i] = (plus - minus) / (2 * h)
    return grad


def network_gradients(seed: int, n_in: int, layers: list, m: int, h: float = 1e-6) -> dict:
    """Analytic gradients of the mean cross-entropy of a small network (your backward) and numerical
    ones (central differences through your forward), for every W, b and the input X."""
    rng = np.random.default_rng(seed)
    sizes = [n_in] + [n_out for n_out, _ in layers]
    net = NeuralNetwork([_layer(rng, a, b, act, m) for a, b, (_, act) in zip(sizes, sizes[1:], layers)],
                        CrossEntropy(), SGD())
    X = rng.normal(size=(m, n_in))
    Y = one_hot(rng.integers(0, sizes[-1], size=m), sizes[-1])

    Y_hat = net.forward(X)
    dX = net.backward(Y, Y_hat)
    analytic = {"X": _array(dX)}
    for i, layer in enumerate(net.layers):
        analytic.update({f"{i}.W": _array(layer.gradients.get("W")), f"{i}.b": _array(layer.gradients.get("b"))})

    def loss() -> float:
        return float(net.loss.forward(Y, net.forward(X)))

    numeric = {"X": _numerical_gradient(loss, X, h)}
    for i, layer in enumerate(net.layers):
        for name in ("W", "b"):
            numeric[f"{i}.{name}"] = _numerical_gradient(loss, layer.parameters[name], h)
    return {"analytic": analytic, "numeric": numeric}


def activation_gradients(name: str, seed: int, h: float = 1e-6) -> dict:
    """backward(G) of an activation against the numerical gradient of L(Z) = sum(G * forward(Z))."""
    rng = np.random.default_rng(seed)
    Z, G = rng.normal(size=(5, 4)) * 2.0, rng.normal(size=(5, 4))
    act = initialize_activation(name)
    act.forward(Z)
    analytic = _array(act.backward(G))
    numeric = _numerical_gradient(lambda: float((G * initialize_activation(name).forward(Z)).sum()), Z, h)
    return {"analytic": {"Z": analytic}, "numeric": {"Z": numeric}}


def train_steps(seed: int, steps: int = 3) -> dict:
    """A few train_step calls of a small network (fixed weights, SGD with momentum) on one batch:
    the losses they return and the parameters after the last step."""
    rng = np.random.default_rng(seed)
    net = NeuralNetwork([_layer(rng, 4, 6, "relu", 8), _layer(rng, 6, 3, "linear", 8)],
                        CrossEntropy(), SGD(lr=0.1, momentum=0.9))
    X, Y = rng.normal(size=(8, 4)), one_hot(rng.integers(0, 3, size=8), 3)
    losses = [float(net.train_step(X, Y)) for _ in range(steps)]
    params = {f"{i}.{k}": _array(v) for i, layer in enumerate(net.layers) for k, v in layer.parameters.items()}
    return {"losses": losses, "parameters": params}


def train_and_predict(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, seed: int) -> np.ndarray:
    """Train 4 -> 16 (ReLU) -> 3 on the training split with a fixed budget; predict the test rows' classes."""
    np.random.seed(seed)  # the weight initialiser draws from NumPy's global generator
    net = NeuralNetwork([FullyConnected(16, "relu"), FullyConnected(3, "linear")],
                        CrossEntropy(), SGD(lr=0.02, momentum=0.9))
    net.fit(train_x, one_hot(train_y, 3), epochs=100, batch_size=16, seed=seed)
    return np.asarray(net.predict(test_x), dtype=np.int64)


def initialised(n_in: int, n_out: int, m: int, seed: int) -> dict:
    """A fresh layer's parameters and gradients after its lazy initialisation on a batch of m rows."""
    np.random.seed(seed)  # the weight initialiser draws from NumPy's global generator
    layer = FullyConnected(n_out, "relu")
    layer.forward(np.ones((m, n_in)))
    return {"W_shape": list(np.shape(layer.parameters.get("W"))), "b": _array(layer.parameters.get("b")),
            "dW": _array(layer.gradients.get("W")), "db": _array(layer.gradients.get("b"))}


def batch_pass(part: str, n: int, seed: int = 0) -> float:
    """Forward and backward of one part (relu, softmax, fully_connected or cross_entropy) on a batch of n
    rows: the grader counts the lines your code runs for two batch sizes."""
    rng = np.random.default_rng(seed)
    X, G = rng.normal(size=(n, 4)), rng.normal(size=(n, 4))
    if part == "cross_entropy":
        loss, Y = CrossEntropy(), one_hot(rng.integers(0, 4, size=n), 4)
        return float(loss.forward(Y, X)) + float(np.sum(loss.backward(Y, X)))
    unit = {"relu": ReLU, "softmax": SoftMax}.get(part)
    unit = unit() if unit else _layer(rng, 4, 4, "relu", n)
    return float(np.sum(unit.forward(X)) + np.sum(unit.backward(G)))
