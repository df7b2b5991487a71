"""Hidden tests of mlp_numpy (never shipped to students)."""
from autograder.testing import Run, accuracy, test
from public_tests import gradient_check


@test(points=1, visibility="hidden")
def fully_connected_other_shapes(run: Run):
    """FullyConnected on other shapes (7 -> 2, Sigmoid, batch of 9) equals the reference"""
    run.expect_match("fully_connected", 11, 7, 2, 9, "sigmoid", what="FullyConnected (7 -> 2, Sigmoid)")


@test(points=2, visibility="hidden")
def network_gradient_check_deeper(run: Run):
    """Gradient check of a 3-6-4-4 network (Sigmoid, ReLU) on fresh inputs"""
    gradient_check(run, "network_gradients", 7, 3, [[6, "sigmoid"], [4, "relu"], [4, "linear"]], 7,
                   what="network gradients")


@test(points=3, visibility="hidden", slow=True)
def iris_test_accuracy(run: Run):
    """Iris: held-out test accuracy after training 4-16-3 (fixed budget)"""
    data = run.dataset("iris", seed=1)
    return run.held_out("train_and_predict", data.train_x, data.train_y, data.test_x, seed=1, labels=data.test_y,
                        metric=accuracy, label="test accuracy", threshold="iris_test", fmt=".3f")


@test(points=2, visibility="hidden")
def forward_backward_vectorised(run: Run):
    """ReLU, SoftMax, FullyConnected and CrossEntropy work on the whole batch: the lines they run do not grow
    with the number of samples"""
    for part in ("relu", "softmax", "fully_connected", "cross_entropy"):
        run.expect_vectorised("batch_pass", part, n=(8, 32), what=f"{part} forward/backward",
                              mistake="loop_over_samples")
