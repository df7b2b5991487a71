"""Hidden tests of nn_fundamentals (never shipped to students)."""
import numpy as np
import torch

from autograder.testing import Run, accuracy, test
from public_tests import (attention_weights, check_every_character_counts, check_logits_and_loss,
                          check_perceptron_training, digit_predictions, floats, language_predictions,
                          mean_squared_error, regression_predictions, separable_points, transformer_predictions)


@test(points=2, visibility="hidden")
def q1_train_other_data(run: Run):
    """Q1: train follows the perceptron rule on larger data in more dimensions"""
    check_perceptron_training(run, *separable_points(11, n=30, d=4), seed=1)
    check_perceptron_training(run, *separable_points(12, n=3, d=1), seed=2)


@test(points=3, visibility="hidden", slow=True)
def q2_loss_test(run: Run):
    """Q2: after train, the mean squared error on held-out points is at most 0.02"""
    data, predicted = regression_predictions(run)
    return run.score_predictions(predicted["test"], labels=data.test_y, metric=mean_squared_error,
                                 label="Q2 test loss", threshold="q2_loss", what="train then forward")


@test(points=1, visibility="hidden")
def q3_logits_batch_of_one(run: Run):
    """Q3: run and get_loss on a single image"""
    rng = np.random.default_rng(30)
    classes = rng.integers(0, 10, size=1)
    pixels = torch.from_numpy(rng.uniform(0, 1, size=(1, 64)).astype(np.float32))
    check_logits_and_loss(run, "digit_logits", 1, pixels, torch.from_numpy(classes), classes=classes, count=10,
                          what="one image of 64 pixels", mistake="digit_softmax_logits")


@test(points=3, visibility="hidden", slow=True)
def q3_accuracy_test(run: Run):
    """Q3: held-out test accuracy of the trained digit classifier"""
    data, source, predicted = digit_predictions(run, "digit_train_predict")
    return run.score_predictions(predicted["test"], labels=data.test_y, metric=accuracy, fmt=".3f",
                                 label=f"Q3 test accuracy ({source})", threshold=f"q3_accuracy_{source}")


@test(points=1, visibility="hidden")
def q4_long_words(run: Run):
    """Q4: every character of 10-character words counts, one word at a time and in a batch"""
    check_every_character_counts(run, n=1, length=10, seed=41)
    check_every_character_counts(run, n=5, length=2, seed=42)


@test(points=3, visibility="hidden", slow=True)
def q4_accuracy_test(run: Run):
    """Q4: held-out test accuracy of the trained language identifier"""
    data, source, predicted = language_predictions(run)
    return run.score_predictions(predicted["test"], labels=data.test_y, metric=accuracy, fmt=".3f",
                                 label=f"Q4 test accuracy ({source})", threshold=f"q4_accuracy_{source}")


@test(points=1, visibility="hidden")
def q5_convolve_edge_cases(run: Run):
    """Q5: Convolve on edge cases: a kernel as large as the input, a single row, float64"""
    run.expect_match("convolve", floats(100, 3, 3), floats(101, 3, 3), what="Convolve of (3, 3) with (3, 3)")
    run.expect_match("convolve", floats(102, 1, 6), floats(103, 1, 2), what="Convolve of (1, 6) with (1, 2)")
    run.expect_match("convolve", floats(104, 9, 8).double(), floats(105, 4, 2).double(),
                     what="Convolve of a float64 (9, 8) input with a (4, 2) weight", rtol=1e-10, atol=1e-12)


@test(points=2, visibility="hidden", slow=True)
def q5_accuracy_test(run: Run):
    """Q5: held-out test accuracy of the trained convolutional digit classifier"""
    data, source, predicted = digit_predictions(run, "conv_train_predict")
    return run.score_predictions(predicted["test"], labels=data.test_y, metric=accuracy, fmt=".3f",
                                 label=f"Q5 test accuracy ({source})", threshold=f"q5_accuracy_{source}")


@test(points=2, visibility="hidden")
def q6_attention_other_shapes(run: Run):
    """Q6: Attention.forward equals the reference with one position, a batch of one and odd sizes"""
    for seed, (batch, t, size, block) in enumerate(((1, 1, 3, 4), (1, 7, 5, 7), (4, 2, 1, 3), (2, 5, 9, 8))):
        run.expect_match("attention_forward", attention_weights(110 + seed, size), block,
                         floats(120 + seed, batch, t, size), what=f"Attention({size}, {block}) on ({batch}, {t}, {size})",
                         rtol=1e-4, atol=1e-5, sizes={"layer_size": size, "T": t})


@test(points=2, visibility="hidden", slow=True)
def q6_transformer_test(run: Run):
    """Q6: the character transformer with your Attention continues held-out repeated words"""
    data, predicted = transformer_predictions(run)
    return run.score_predictions(predicted["test"], labels=data.test_y, metric=accuracy, fmt=".3f",
                                 label="Q6 test next-letter accuracy", threshold="q6_accuracy")

