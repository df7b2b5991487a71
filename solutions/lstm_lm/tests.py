"""Hidden tests of the lstm_lm lab (never shipped to students)."""
import numpy as np

from autograder.testing import Run, test
from public_tests import check_layers, lm_weights, score_generation, score_nll, token_ids, trained

TIGHT = dict(rtol=1e-7, atol=1e-9)


@test(points=1, visibility="hidden")
def forward_other_shapes(run: Run):
    """forward on batch 1, two-word sequences, an odd vocabulary and the course's sizes (128)"""
    for weights, inp, split in ((lm_weights(21, 31, 13), token_ids(22, (1, 6), 31), 1),
                                (lm_weights(23, 29, 13), token_ids(24, (5, 2), 29), 1),
                                (lm_weights(25, 40, 128), token_ids(26, (2, 4), 40), 3)):
        run.expect_match("forward", weights, inp, split=split, **TIGHT,
                         what=f"forward on {inp.shape[0]} sequence(s) of {inp.shape[1]} words")
    check_layers(run, lm_weights(25, 40, 128), token_ids(26, (2, 4), 40))


@test(points=1, visibility="hidden")
def predict_other_shapes(run: Run):
    """predict on batch 1, one-word sequences and the course's sizes"""
    for weights, inp in ((lm_weights(31, 31, 13), token_ids(32, (1, 8), 31)), (lm_weights(33), token_ids(34, (5, 1))),
                         (lm_weights(35, 40, 128), token_ids(36, (3, 6), 40))):
        run.expect_match("predict", weights, inp, **TIGHT, what=f"predict on {inp.shape[0]} x {inp.shape[1]} words")


@test(points=1, visibility="hidden")
def generate_other_cases(run: Run):
    """generate with batch 1 and forward=1, from one-word prompts, and a long continuation"""
    for weights, prompts, forward in ((lm_weights(50), token_ids(51, (1, 4)), 1),
                                      (lm_weights(150), token_ids(151, (4, 1)), 5),
                                      (lm_weights(250, 31, 13), token_ids(251, (2, 6), 31), 12)):
        run.expect_match("generate", weights, prompts, forward=forward,
                         what=f"generate({prompts.shape[0]} x {prompts.shape[1]} prompt words, forward={forward})")


@test(points=1, visibility="hidden")
def sequences_other_cases(run: Run):
    """make_sequences when seq_len does not divide the stream, for one sequence, and with seq_len 1"""
    for n, seq_len in ((17, 4), (20, 4), (6, 5), (5, 1)):
        run.expect_match("sequences", np.arange(100, 100 + n, dtype=np.int64), seq_len=seq_len,
                         what=f"make_sequences({n} tokens, seq_len={seq_len})")


@test(points=1, visibility="hidden")
def training_batches_other_sizes(run: Run):
    """train_epoch's batches when the last batch is smaller, on the course's sizes"""
    run.expect_match("epoch_losses", lm_weights(61, 40, 128), token_ids(62, (50,), 40), seq_len=3, batch_size=5, seed=1,
                     rtol=1e-7, what="the loss of each batch of one epoch (50 words, seq_len=3, batch_size=5)")


@test(points=3, visibility="hidden", slow=True)
def held_out_nll(run: Run):
    """the trained model's next-word NLL on the held-out test fixtures"""
    data, result, kind = trained(run)
    return score_nll(run, result.get("test_logits"), data.test_y, len(data.info["vocab"]), "test NLL", f"nll_{kind}_test")


@test(points=2, visibility="hidden", slow=True)
def held_out_generation(run: Run):
    """the trained model's continuations of the held-out prompts, judged by an n-gram model of the training text"""
    data, result, kind = trained(run)
    return score_generation(run, data, result.get("test_generated"), data.info["generation_test"],
                            "test generation perplexity", f"judge_{kind}")
