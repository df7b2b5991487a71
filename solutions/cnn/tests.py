"""Hidden tests of the cnn lab (never shipped to students)."""
import numpy as np

from autograder.testing import Run, test
from public_tests import TOL, digits_twin, expect_twin_predictions, normal, score_accuracy


@test(points=2, visibility="hidden")
def corr2d_other_shapes(run: Run):
    """corr2d on other shapes: 1x1 and full-image kernels, one output channel, wide images, float32"""
    cases = [((3, 2, 5, 5), (4, 2, 1, 1)),   # a 1x1 kernel: a per-pixel mix of channels
             ((2, 3, 4, 6), (2, 3, 4, 6)),   # the kernel covers the whole image: a 1x1 output
             ((5, 1, 3, 11), (1, 1, 2, 5)),  # one channel in and out, a wide image
             ((1, 5, 9, 2), (3, 5, 3, 2))]   # batch 1, a tall thin image
    for seed, (image, kernel) in enumerate(cases):
        X, K = normal(seed + 100, *image), normal(seed + 110, *kernel)
        run.expect_match("correlate", X, K, what=f"corr2d(X {image}, K {kernel})", **TOL)
    X, K = normal(120, 2, 3, 6, 5).astype(np.float32), normal(121, 2, 3, 3, 3).astype(np.float32)
    run.expect_match("correlate", X, K, what="corr2d on float32 inputs", **TOL)


@test(points=1, visibility="hidden")
def conv2d_other_shapes(run: Run):
    """Conv2D.forward_np on other shapes: batch 1, a 1x1 kernel, a single output channel"""
    for seed, (image, kernel) in enumerate([((1, 3, 6, 4), (5, 3, 3, 1)), ((4, 2, 5, 5), (3, 2, 1, 1)),
                                            ((2, 4, 7, 7), (1, 4, 4, 4))]):
        W, b, X = normal(seed + 130, *kernel), normal(seed + 140, kernel[0]), normal(seed + 150, *image)
        run.expect_match("conv_layer", W, b, X, what=f"Conv2D{kernel[:2]} on X {image}", **TOL)


@test(points=1, visibility="hidden")
def maxpool_other_shapes(run: Run):
    """MaxPool2D on other shapes: windows of 1, windows as large as the image, tall windows, all-negative values"""
    cases = [((2, 2, 5, 4), (1, 1), 0.0), ((3, 2, 6, 5), (6, 5), 0.0), ((1, 3, 9, 4), (3, 1), 0.0),
             ((2, 2, 6, 6), (2, 3), -5.0)]  # every value negative: a max that starts from 0 shows
    for seed, (image, pool, shift) in enumerate(cases):
        X = normal(seed + 160, *image) + shift
        run.expect_match("pool_layer", list(pool), X, what=f"MaxPool2D({pool}) on X {image}", **TOL)


@test(points=1, visibility="hidden")
def linear_other_shapes(run: Run):
    """Linear.forward_np on a batch of 1 and on a wide layer"""
    for seed, (n, d_in, d_out) in enumerate([(1, 5, 3), (9, 4, 12), (4, 10, 10)]):
        W, b, X = normal(seed + 170, d_out, d_in), normal(seed + 171, d_out), normal(seed + 172, n, d_in)
        run.expect_match("linear_layer", W, b, X, what=f"Linear({d_in}, {d_out}) on a batch of {n}", **TOL)


@test(points=1, visibility="hidden")
def hand_model_vectorised(run: Run):
    """the whole network handles the batch at once (no Python loop over the images in any layer)"""
    layers, params = digits_twin()
    images = np.random.default_rng(180).uniform(0, 1, size=(11, 1, 8, 8)).astype(np.float32)
    run.expect_vectorised("model_batch", layers, params, images, n=(3, 11), size="batch",
                          what="the network on batches of 3 and 11 images")


@test(points=2, visibility="hidden")
def hand_model_matches_twin_test(run: Run):
    """HandCNN with the twin's weights predicts the twin's class for every test image"""
    expect_twin_predictions(run, split="test")


@test(points=3, visibility="hidden")
def hand_model_test_accuracy(run: Run):
    """HandCNN with the twin's weights reaches the test-accuracy threshold (held-out labels)"""
    return score_accuracy(run, split="test")
