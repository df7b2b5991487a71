"""Public tests of the linear_regression lab (run them with `autograder check linear_regression`)."""
import numpy as np

from autograder.testing import Fail, Run, test

SGD_BUDGET = dict(lr=0.02, epochs=5, batch_size=32)  # the budget of both noise-floor tests


def noisy_line(seed: int, n: int, w: float, b: float, x_mean: float, x_std: float, noise: float = 0.3):
    """float64 points scattered around the line y = w * x + b."""
    rng = np.random.default_rng(seed)
    x = rng.normal(x_mean, x_std, size=n)
    return x, w * x + b + rng.normal(0.0, noise, size=n)


def normal_equations(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(w, b) solving A^T A theta = A^T y with A = [x, 1]: the least-squares line, computed by the grader."""
    A = np.stack([x, np.ones_like(x)], axis=1)
    return np.linalg.solve(A.T @ A, A.T @ y)


def check_lse(run: Run, x: np.ndarray, y: np.ndarray) -> None:
    got = run.expect_match("lse_fit", x, y, what=f"fit_lse on {len(x)} points: w and b", rtol=1e-6, atol=1e-6)
    want = normal_equations(x, y)
    if not np.allclose([got["w"], got["b"]], want, rtol=1e-6, atol=1e-6):
        raise Fail(f"fit_lse gave w={got['w']:.6g}, b={got['b']:.6g}; the normal equations give "
                   f"w={want[0]:.6g}, b={want[1]:.6g}")


@test(points=1)
def predict_is_the_line(run: Run):
    """predict(x) is w * x + b"""
    x = np.random.default_rng(0).normal(size=7).astype(np.float32)
    run.expect_match("predict", 1.5, -0.5, x, what="predict(x) with w=1.5, b=-0.5", rtol=1e-6)


@test(points=2)
def lse_matches_normal_equations(run: Run):
    """fit_lse matches the normal-equations solution to 1e-6 (float64 data, x not centred)"""
    check_lse(run, *noisy_line(seed=1, n=40, w=-1.7, b=4.0, x_mean=3.0, x_std=2.0))


@test(points=2)
def sgd_full_batch_steps(run: Run):
    """fit_sgd with one batch per epoch takes the same steps as the reference"""
    x, y = noisy_line(seed=2, n=30, w=2.0, b=-1.0, x_mean=1.0, x_std=1.0)
    run.expect_match("sgd_fit", x, y, lr=0.05, epochs=3, batch_size=30, seed=0,
                     what="w and b after 3 full-batch epochs (lr=0.05)", rtol=1e-5, atol=1e-6)


@test(points=1)
def sgd_shuffles(run: Run):
    """fit_sgd visits the samples in a random order (two seeds give two different fits)"""
    x = np.linspace(-2.0, 2.0, 40)  # sorted: the visiting order changes the result of one epoch
    y = 3.0 * x + 1.0 + np.random.default_rng(3).normal(0.0, 0.3, size=40)
    fits = [run.student("sgd_fit", x, y, lr=0.05, epochs=1, batch_size=1, seed=seed) for seed in (0, 1)]
    if np.allclose([fits[0]["w"], fits[0]["b"]], [fits[1]["w"], fits[1]["b"]], rtol=0.0, atol=1e-12):
        raise Fail("with two different seeds, one epoch of batch_size=1 on the same sorted data gave the same "
                   "w and b: the samples are visited in a fixed order", mistake="no_shuffle")


def mse_over_noise(noise: float):
    """The metric: mean squared error in units of the noise variance (1.0 is the best any model can do)."""
    return lambda predicted, y: np.mean((predicted.astype(np.float64) - y) ** 2) / noise ** 2


@test(points=2)
def sgd_reaches_noise_floor_val(run: Run):
    """SGD reaches a validation MSE close to the noise floor (linear_line, seed 0)"""
    data = run.dataset("linear_line", seed=0)
    return run.held_out("sgd_predict", data.train_x, data.train_y, data.val_x, **SGD_BUDGET, seed=0, labels=data.val_y,
                        metric=mse_over_noise(data.info["noise"]), label="validation MSE / noise^2",
                        threshold="sgd_mse_ratio")
