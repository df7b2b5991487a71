"""Public tests of the linear_regression lab (run them with `autograder check linear_regression`)."""
import numpy as np

from autograder.testing import Fail, Run, signature, test

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


# ---- the SGD steps, simulated by the grader: how known mistakes are recognised however they are written.
# These simulations are exact only when the order of the samples cannot matter: one batch per epoch, or
# identical samples. ``divide`` says what each batch's summed gradient (of w, of b) is divided by;
# ``factor`` is the 2 of the square's derivative; ``bias_in_residual`` and ``learn_bias`` switch the bias
# off in each place.
DIVISORS = ("batch", "sum", "dataset", "batch_size")


def simulate_sgd(x, y, lr, epochs, batch_size, w=0.0, b=0.0, divide=("batch", "batch"), factor=(2.0, 2.0),
                 bias_in_residual=True, learn_bias=True):
    n = len(x)
    for _ in range(epochs):
        for start in range(0, n, batch_size):
            xb, yb = x[start:start + batch_size], y[start:start + batch_size]
            err = w * xb + (b if bias_in_residual else 0.0) - yb
            by = [{"batch": len(xb), "sum": 1, "dataset": n, "batch_size": batch_size}[d] for d in divide]
            grad_w, grad_b = factor[0] * (err * xb).sum() / by[0], factor[1] * err.sum() / by[1]
            w, b = w - lr * grad_w, (b - lr * grad_b) if learn_bias else b
    return w, b


def order_free(call) -> bool:
    """Whether the call's result cannot depend on the visiting order (so a simulation is exact)."""
    x = np.asarray(call.args[0])
    return call.kwargs["batch_size"] >= len(x) or bool(np.all(x == x[0]))


def sgd_call(call):
    x, y = (np.asarray(a, dtype=np.float64) for a in call.args[:2])
    budget = {k: call.kwargs[k] for k in ("lr", "epochs", "batch_size")}
    return x, y, budget


def simulated_like(got, call, **variant) -> bool:
    """The student's w and b equal the simulation of SGD with this variant (and differ from the correct one)."""
    if call.probe != "sgd_fit" or not order_free(call):
        return False
    x, y, budget = sgd_call(call)
    w, b = simulate_sgd(x, y, **budget, **variant)
    return bool(np.allclose([got["w"], got["b"]], [w, b], rtol=1e-5, atol=1e-6))


@signature("grad_not_averaged", probe="sgd_fit")
def _divides_the_batch_gradient_by_something_else(got, want, call):
    return any(simulated_like(got, call, divide=(dw, db)) for dw in DIVISORS for db in DIVISORS
               if (dw, db) != ("batch", "batch"))


@signature("grad_missing_factor_2", probe="sgd_fit")
def _drops_the_factor_two(got, want, call):
    return any(simulated_like(got, call, factor=f) for f in ((1.0, 1.0), (1.0, 2.0), (2.0, 1.0)))


@signature("bias_not_learned", probe="sgd_fit")
def _never_moves_the_bias(got, want, call):
    return got["b"] == 0.0 and got["w"] != want["w"]


@signature("residual_without_bias", probe="sgd_fit")
def _residual_leaves_out_the_bias(got, want, call):
    return simulated_like(got, call, bias_in_residual=False)


@signature("lse_no_intercept", probe="lse_fit")
def _intercept_left_at_zero(got, want, call):
    return got["b"] == 0.0 and np.isclose(got["w"], want["w"], rtol=1e-6) and want["b"] != 0.0


@signature("lse_intercept_not_shifted", probe="lse_fit")
def _intercept_is_not_mean_y_minus_w_mean_x(got, want, call):
    x, y = (np.asarray(a, dtype=np.float64) for a in call.args[:2])
    return bool(np.isclose(got["w"], want["w"], rtol=1e-6) and
                any(np.isclose(got["b"], b, rtol=1e-6, atol=1e-6) for b in (y.mean(), y.mean() + got["w"] * x.mean())))


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


def epoch_orders(used: list, n: int, epochs: int) -> list[list[int]] | str:
    """The order in which each epoch visited the samples, read from the ids each computation used (the same
    batch used twice in a row counts once); or a sentence saying why the visits do not form epochs."""
    stream, previous = [], None
    for ids in used:
        if ids != previous:
            stream += ids
        previous = ids
    if len(stream) != n * epochs:
        extra = " (samples used more than once: a last batch padded with repeated samples?)" \
            if len(stream) > n * epochs else ""
        return (f"over {epochs} epochs of {n} samples your fit_sgd computed on {len(stream)} samples, not "
                f"{n * epochs}: every epoch must use each sample exactly once{extra}")
    orders = [stream[i * n:(i + 1) * n] for i in range(epochs)]
    for i, order in enumerate(orders):
        if sorted(order) != list(range(n)):
            repeated = sorted({s for s in order if order.count(s) > 1})
            return (f"epoch {i + 1} used samples {repeated[:5]} more than once and missed others: every epoch must "
                    "visit each sample exactly once (a last batch padded with repeated samples?)")
    return orders


@test(points=1)
def sgd_visits_every_sample_each_epoch(run: Run):
    """fit_sgd visits every sample once per epoch, in a fresh random order each epoch"""
    n, epochs = 12, 3
    runs = []
    for seed in (0, 1):
        used = run.student("sgd_visits", n, lr=0.001, epochs=epochs, batch_size=5, seed=seed)
        orders = epoch_orders(used, n, epochs)
        if isinstance(orders, str):
            raise Fail(orders, mistake="last_batch_padded" if "more than once" in orders else None)
        runs.append(orders)
    orders = runs[0]
    if any(order == list(range(n)) for order in orders):
        raise Fail("an epoch visited the samples in index order 0, 1, 2, ...: shuffle them", mistake="no_shuffle")
    if all(order == orders[0] for order in orders):
        raise Fail("every epoch visited the samples in the same order: draw a fresh order each epoch",
                   mistake="no_shuffle")
    if runs[0] == runs[1]:
        raise Fail("two different seeds of torch's RNG gave the same visiting order: draw the order from torch's RNG "
                   "(torch.randperm), without seeding it yourself", mistake="no_shuffle")


@test(points=1)
def sgd_continues_from_current_parameters(run: Run):
    """fit_sgd starts from the model's current w and b (it continues training)"""
    x, y = noisy_line(seed=4, n=16, w=0.5, b=2.0, x_mean=0.0, x_std=1.0)
    run.expect_match("sgd_continue", 1.7, -0.3, x, y, lr=0.05, epochs=1, batch_size=16, seed=0,
                     what="w and b after one epoch starting from w=1.7, b=-0.3", rtol=1e-5, atol=1e-6)


def mse_over_noise(noise: float):
    """The metric: mean squared error in units of the noise variance (1.0 is the best any model can do)."""
    return lambda predicted, y: np.mean((predicted.astype(np.float64) - y) ** 2) / noise ** 2


@test(points=2, slow=True)
def sgd_reaches_noise_floor_val(run: Run):
    """SGD reaches a validation MSE close to the noise floor (linear_line, seed 0)"""
    data = run.dataset("linear_line", seed=0)
    return run.held_out("sgd_predict", data.train_x, data.train_y, data.val_x, **SGD_BUDGET, seed=0, labels=data.val_y,
                        metric=mse_over_noise(data.info["noise"]), label="validation MSE / noise^2",
                        threshold="sgd_mse_ratio")
