"""Hidden tests of the gru lab (never shipped to students)."""
import numpy as np

from autograder.testing import Run, accuracy, test
from public_tests import ATOL, RTOL, char_ids, gru_params, model_params, sequences, trained


@test(points=2, visibility="hidden")
def gru_other_shapes(run: Run):
    """the GRU equals the reference on batch 1, one step, one unit, odd sizes and long sequences"""
    cases = [(1, 1, 1, 1, True), (1, 6, 2, 3, False), (5, 3, 7, 2, True), (4, 25, 3, 8, True), (2, 9, 5, 1, False)]
    for i, (batch, steps, num_inputs, num_hiddens, given) in enumerate(cases):
        params = gru_params(100 + i, num_inputs, num_hiddens, scale=0.9)
        inputs = sequences(200 + i, batch, steps, num_inputs)
        state = {"state": sequences(300 + i, batch, num_hiddens)} if given else {}
        run.expect_match("gru_forward", params, inputs, **state, rtol=RTOL, atol=ATOL,
                         what=f"GRU({num_inputs}, {num_hiddens}) on inputs {inputs.shape}")


@test(points=2, visibility="hidden")
def gru_batch_at_once(run: Run):
    """each time step works on the whole batch at once (no Python loop over the sequences of a batch)"""
    run.expect_vectorised("gru_lines", n=(3, 12), size="batch", seq_len=4, num_inputs=3, num_hiddens=5, seed=0,
                          what="GRU.forward on a batch of sequences of 4 steps", mistake="batch_loop")


@test(points=2, visibility="hidden")
def model_other_shapes(run: Run):
    """Sequence_Modeling equals the reference with num_outputs != vocab_size, batch 1, and from a given state"""
    params = model_params(400, vocab_size=11, embedding_size=5, hidden_size=7, num_outputs=4)
    run.expect_match("model_forward", params, char_ids(401, 11, 1, 6), what="Sequence_Modeling(11, 5, 4, 7) on ids (1, 6)",
                     rtol=RTOL, atol=ATOL)
    run.expect_match("model_forward", params, char_ids(402, 11, 3, 4), state=sequences(403, 3, 7),
                     what="Sequence_Modeling(11, 5, 4, 7) from a given state", rtol=RTOL, atol=ATOL)


@test(points=2, visibility="hidden")
def state_carried_in_small_pieces(run: Run):
    """a sequence fed one and two characters at a time, carrying the state, equals one call"""
    params = model_params(500, vocab_size=5, embedding_size=3, hidden_size=4)
    run.expect_match("model_in_pieces", params, char_ids(501, 5, 3, 8), [1, 2, 4, 5, 7],
                     what="the model on ids (3, 8) fed in pieces of 1, 1, 2, 1, 2, 1", rtol=RTOL, atol=ATOL)


@test(points=1, visibility="hidden")
def greedy_generation_other_shapes(run: Run):
    """greedy generation from a one-character prefix and for a batch of one"""
    params = model_params(600, vocab_size=10, embedding_size=5, hidden_size=8, scale=1.0)
    run.expect_match("greedy", params, char_ids(601, 10, 4, 1), 12, what="generate from prefixes (4, 1)")
    run.expect_match("greedy", params, char_ids(602, 10, 1, 7), 5, what="generate from one prefix (1, 7)")


@test(points=3, visibility="hidden", slow=True)
def next_char_accuracy_test(run: Run):
    """the trained model predicts the next character of held-out test text above the threshold"""
    data, result, default = trained(run)
    return run.score_predictions(result["test"], labels=data.test_y, metric=accuracy,
                                 label="test next-character accuracy",
                                 threshold="test_accuracy" if default else "test_accuracy_data_dir",
                                 what="the predictions for the test windows")
