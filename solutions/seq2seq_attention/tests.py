"""Hidden tests of the seq2seq_attention lab (never shipped to students)."""
from autograder.testing import Fail, Run, test
from public_tests import ATOL, RTOL, encoder_outputs, exact_sequences, model_params, tokens, trained


@test(points=2, visibility="hidden")
def decode_other_shapes(run: Run):
    """decode equals the reference for batch 1, more target steps than source positions, one source position"""
    cases = [(1, 6, 3, 5), (4, 2, 9, 3), (2, 3, 1, 4)]  # (batch, target steps, source positions, hidden = embedding)
    for i, (batch, steps, positions, hidden) in enumerate(cases):
        params = model_params(100 + i, vocab_size=5, embedding_size=hidden, hidden_size=hidden)
        run.expect_match("decode", params, tokens(200 + i, 5, batch, steps), encoder_outputs(300 + i, batch, positions, hidden),
                         None, True, rtol=RTOL, atol=ATOL,
                         what=f"decode(dec_y ({batch}, {steps}), enc_hidden ({batch}, {positions}, {hidden}), None, True)")


@test(points=1, visibility="hidden")
def decode_embedding_size_differs(run: Run):
    """decode equals the reference when the embedding size differs from the hidden size"""
    params = model_params(110, vocab_size=6, embedding_size=3, hidden_size=7)
    run.expect_match("decode", params, tokens(210, 6, 3, 4), encoder_outputs(310, 3, 5, 7), None, True,
                     rtol=RTOL, atol=ATOL, what="decode with embedding size 3 and hidden size 7")


@test(points=2, visibility="hidden")
def decode_runs_step_by_step(run: Run):
    """decode runs one attention and decoder step per target token (a loop over the steps)"""
    small, large = 2, 8
    counts = [run.line_counts("decode_lines", steps, source_length=5, seed=0) for steps in (small, large)]
    grows = [key for key, count in counts[1].items() if count - counts[0].get(key, 0) >= large - small]
    if not grows:
        raise Fail(f"no line of decode ran more often for {large} target tokens than for {small}: the decoder must "
                   "take one step per token, each attending with the state of the step before",
                   mistake="no_step_loop")


@test(points=3, visibility="hidden", slow=True)
def reversal_test_accuracy(run: Run):
    """the trained model reverses held-out test sequences exactly (greedy decoding) above the threshold"""
    data, result = trained(run)
    return run.score_predictions(result["test"]["tokens"], labels=data.test_y, metric=exact_sequences,
                                 label="test exact-sequence accuracy", threshold="test_exact",
                                 what="the greedy decoding of the test sources")
