"""Hidden tests of the linear_regression lab (never shipped to students)."""
import numpy as np

from autograder.testing import Fail, Run, test
from public_tests import SGD_BUDGET, mse_over_noise, noisy_line, normal_equations


@test(points=2, visibility="hidden")
def lse_hidden_cases(run: Run):
    """fit_lse matches the normal equations on far-off-centre, tiny and noise-free data"""
    cases = [noisy_line(seed=10, n=101, w=0.8, b=-3.0, x_mean=10.0, x_std=0.5),
             noisy_line(seed=11, n=7, w=-2.5, b=0.5, x_mean=-4.0, x_std=3.0),
             noisy_line(seed=12, n=5, w=1.25, b=2.0, x_mean=2.0, x_std=1.0, noise=0.0)]
    for x, y in cases:
        got = run.expect_match("lse_fit", x, y, what=f"fit_lse on {len(x)} points", rtol=1e-6, atol=1e-6)
        if not np.allclose([got["w"], got["b"]], normal_equations(x, y), rtol=1e-6, atol=1e-6):
            raise Fail("fit_lse differs from the normal-equations solution")


@test(points=1, visibility="hidden")
def lse_then_predict(run: Run):
    """after fit_lse, predict uses the fitted line"""
    x, y = noisy_line(seed=13, n=50, w=-0.6, b=1.5, x_mean=-2.0, x_std=1.5)
    x_new = np.linspace(-5.0, 5.0, 11)
    run.expect_match("lse_predict", x, y, x_new, what="predict after fit_lse", rtol=1e-6, atol=1e-6)


@test(points=2, visibility="hidden")
def sgd_minibatch_steps(run: Run):
    """fit_sgd takes one averaged step per batch, the last (smaller) batch included"""
    # identical samples make every batch's mean gradient the same whatever the order: no RNG needed
    x, y = np.full(10, 1.5), np.full(10, 2.0)
    run.expect_match("sgd_fit", x, y, lr=0.1, epochs=3, batch_size=4, seed=0,
                     what="w and b after 3 epochs of batches of 4, 4, 2", rtol=1e-5, atol=1e-6)
    x, y = noisy_line(seed=14, n=20, w=-1.0, b=0.5, x_mean=0.5, x_std=1.0)
    run.expect_match("sgd_fit", x, y, lr=0.1, epochs=2, batch_size=100, seed=0,
                     what="w and b when batch_size exceeds the number of samples", rtol=1e-5, atol=1e-6)


@test(points=3, visibility="hidden", slow=True)
def sgd_reaches_noise_floor_test(run: Run):
    """SGD reaches a test MSE close to the noise floor (linear_line, seed 0, held-out split)"""
    data = run.dataset("linear_line", seed=0)
    return run.held_out("sgd_predict", data.train_x, data.train_y, data.test_x, **SGD_BUDGET, seed=0, labels=data.test_y,
                        metric=mse_over_noise(data.info["noise"]), label="test MSE / noise^2",
                        threshold="sgd_mse_ratio")
