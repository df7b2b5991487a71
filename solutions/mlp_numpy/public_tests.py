"""Public tests of mlp_numpy: run them yourself with `autograder check mlp_numpy`."""
import numpy as np

from autograder.testing import Fail, Run, accuracy, test

GRADIENT_TOLERANCE = 1e-7  # relative error between analytic and central-difference gradients, float64


def relative_error(analytic, numeric) -> float:
    """||a - n|| / (||a|| + ||n||): 0 when equal, 1 when unrelated; inf when the shapes differ."""
    try:
        a, n = np.asarray(analytic, dtype=np.float64), np.asarray(numeric, dtype=np.float64)
    except (TypeError, ValueError):
        return float("inf")
    if a.shape != n.shape:
        return float("inf")
    scale = np.linalg.norm(a) + np.linalg.norm(n)
    return 0.0 if scale == 0 else float(np.linalg.norm(a - n) / scale)


def gradient_check(run: Run, probe: str, *args, what: str) -> None:
    """The student's analytic gradients must agree with their own numerical ones, and with the reference's."""
    got = run.student(probe, *args)
    if type(got) is not dict or set(got) != {"analytic", "numeric"}:
        raise Fail(f"{what}: the gradient check did not return its gradients")
    errors = {name: relative_error(got["analytic"].get(name), numeric) for name, numeric in got["numeric"].items()}
    bad = {name: error for name, error in errors.items() if not error <= GRADIENT_TOLERANCE}
    message = (f"{what}: analytic and numerical (central-difference) gradients disagree: relative error "
               + ", ".join(f"{error:.2g} for d{name}" for name, error in bad.items())
               + f" (must be <= {GRADIENT_TOLERANCE:g})")
    try:
        run.expect_match(probe, *args, what=what, rtol=1e-6, atol=1e-9)  # names a known mistake if one fits
    except Fail as failure:
        if failure.mistake or not bad:
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
    run.expect_match("cross_entropy", 0, 6, 3, what="CrossEntropy loss / gradient (batch of 6, 3 classes)")


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
