"""Hidden tests of mlp_numpy (never shipped to students)."""
from autograder.testing import Fail, Run, accuracy, test
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


@test(points=1, visibility="hidden")
def forward_backward_speed(run: Run):
    """ReLU and FullyConnected are vectorised: a batch of 40000 rows runs about as fast as the reference"""
    for part in ("relu", "fully_connected"):
        args = (part, 0, 40_000, 2)
        reference = min(run.time_reference("large_batch", *args) for _ in range(3))  # best of 9 runs: steady
        student = run.time_student("large_batch", *args, repeat=3)
        if student > 8 * reference + 0.02:  # a per-sample Python loop is 20-40x slower here
            raise Fail(f"{part} took {student * 1000:.0f} ms on 40000 rows, the reference {reference * 1000:.0f} ms: "
                       "work on the whole batch with array operations, not a loop over samples",
                       mistake="loop_over_samples")
