"""Public tests of mlp_numpy: run them yourself with `autograder check mlp_numpy`."""
import numpy as np

from autograder.testing import Fail, Run, accuracy, test

GRADIENT_TOLERANCE = 1e-7  # relative error between analytic and central-difference gradients, float64


def gradient_disagreement(analytic, numeric) -> str | None:
    """None when the analytic gradient agrees with the numerical one (relative error
    ||a - n|| / (||a|| + ||n|| ) <= GRADIENT_TOLERANCE), else what is wrong with it."""
    if analytic is None:
        return "missing (backward did not store it)"
    a, n = np.asarray(analytic, dtype=np.float64), np.asarray(numeric, dtype=np.float64)
    if a.shape != n.shape:
        return f"has shape {a.shape}, but the parameter it belongs to has shape {n.shape}"
    scale = np.linalg.norm(a) + np.linalg.norm(n)
    error = 0.0 if scale == 0 else float(np.linalg.norm(a - n) / scale)
    return None if error <= GRADIENT_TOLERANCE else f"relative error {error:.2g}"


def gradient_check(run: Run, probe: str, *args, what: str) -> None:
    """The student's analytic gradients must agree with their own numerical ones, and with the reference's."""
    got = run.student(probe, *args)
    if type(got) is not dict or set(got) != {"analytic", "numeric"}:
        raise Fail(f"{what}: the gradient check did not return its gradients")
    bad = {name: problem for name, numeric in got["numeric"].items()
           if (problem := gradient_disagreement(got["analytic"].get(name), numeric))}
    message = (f"{what}: analytic and numerical (central-difference) gradients disagree: "
               + "; ".join(f"d{name} {problem}" for name, problem in bad.items())
               + f" (relative error must be <= {GRADIENT_TOLERANCE:g})")
    try:
        run.expect_match(probe, *args, what=what, rtol=1e-6, atol=1e-9)  # names a known mistake if one fits
    except Fail as failure:
        if failure.candidates or not bad:
            raise
        raise Fail(message) from None
    if bad:
        raise Fail(message)


@test(points=1)
def relu_matches_reference(run: Run):
    """ReLU forward and backward equal the reference"""
    run.expect_match("relu", 0, what="ReLU forward / backward")


@test(points=1)
def softmax_matches_reference(run: Run):
    """SoftMax forward and backward equal the reference, also on large logits"""
    run.expect_match("softmax", 0, what="SoftMax forward / backward")
    run.expect_match("softmax", 1, scale=1000.0, what="SoftMax on large logits (subtract each row's max)")


@test(points=2)
def fully_connected_matches_reference(run: Run):
    """FullyConnected: Y, dL/dX, dL/dW and dL/db equal the reference on fixed weights"""
    run.expect_match("fully_connected", 0, 4, 3, 5, "relu", what="FullyConnected (4 -> 3, ReLU, batch of 5)")


@test(points=1)
def cross_entropy_matches_reference(run: Run):
    """CrossEntropy on logits: the loss and its gradient equal the reference"""
    run.expect_match("cross_entropy", 0, 6, 3, what="CrossEntropy loss / gradient (batch of 6, 3 classes)",
                     sizes={"the batch size": 6, "the number of classes": 3})


@test(points=1)
def cross_entropy_large_logits(run: Run):
    """CrossEntropy stays finite and exact on large logits (subtract each row's max)"""
    run.expect_match("cross_entropy", 1, 5, 4, scale=800.0, what="CrossEntropy on logits of size ~800")


@test(points=1)
def fully_connected_initialisation(run: Run):
    """FullyConnected's lazy initialisation: W of shape (n_in, n_out), b and both gradients zero"""
    got = run.student("initialised", 5, 3, 4, 0)
    problems = []
    if got["W_shape"] != [5, 3]:
        problems.append(f"W has shape {tuple(got['W_shape'])}, expected (n_in, n_out) = (5, 3)")
    for name, text in (("b", "b"), ("dW", "the gradient of W"), ("db", "the gradient of b")):
        value = got[name]
        if value is None or np.shape(value) != ((5, 3) if name == "dW" else (1, 3)):
            problems.append(f"{text} should be an array of shape {(5, 3) if name == 'dW' else (1, 3)}, "
                            f"got {None if value is None else np.shape(value)}")
        elif np.any(value):
            problems.append(f"{text} should start at zero")
    if problems:
        mistake = "bias_init_random" if any(p.startswith("b should start") for p in problems) else None
        raise Fail("_init_parameters: " + "; ".join(problems), mistake=mistake)


@test(points=2)
def network_gradient_check(run: Run):
    """Gradient check of a 4-5-5-3 network (ReLU, TanH): analytic vs central differences"""
    gradient_check(run, "network_gradients", 0, 4, [[5, "relu"], [5, "tanh"], [3, "linear"]], 6,
                   what="network gradients")


@test(points=1)
def softmax_gradient_check(run: Run):
    """Gradient check of SoftMax.backward: analytic vs central differences"""
    gradient_check(run, "activation_gradients", "softmax", 0, what="SoftMax.backward")


@test(points=1)
def train_step_matches_reference(run: Run):
    """train_step: the losses and the parameters after three steps of SGD with momentum equal the reference"""
    run.expect_match("train_steps", 0, what="three train_step calls")


@test(points=2, slow=True)
def iris_val_accuracy(run: Run):
    """Iris: validation accuracy after training 4-16-3 (fixed budget)"""
    data = run.dataset("iris", seed=0)
    return run.held_out("train_and_predict", data.train_x, data.train_y, data.val_x, seed=0, labels=data.val_y,
                        metric=accuracy, label="validation accuracy", threshold="iris_val", fmt=".3f")
