"""Hidden tests of bert_attention (never shipped to students)."""
from autograder.testing import Run, accuracy, test
from public_tests import check_construction, check_padding, expect_eval, expect_train, fine_tuned


@test(points=3, visibility="hidden")
def eval_other_configs(run: Run):
    """forward (eval mode) equals the reference: 1 head, 8 heads, head size 1, batch 1, left padding, one token"""
    expect_eval(run, 10, 8, 1, ["1111", "1110"])                   # one head
    expect_eval(run, 11, 16, 8, ["111111", "001111", "111000"])    # many heads, left padding
    expect_eval(run, 12, 5, 5, ["111", "110"])                     # head size 1
    expect_eval(run, 13, 12, 4, ["0011111"])                       # batch 1, left-padded
    expect_eval(run, 14, 6, 2, ["1", "1"])                         # one token


@test(points=1, visibility="hidden")
def padding_other_configs(run: Run):
    """padded positions receive no weight with many heads and a batch of one"""
    check_padding(run, 20, 16, 8, ["1111000", "1000001", "0111110"])
    check_padding(run, 21, 6, 1, ["110"])


@test(points=1, visibility="hidden")
def dropout_seeded_other_config(run: Run):
    """train mode, seeded: equals the reference with many heads and heavy dropout"""
    expect_train(run, 30, 16, 8, ["111111", "111000", "011111"], dropout=0.5)


@test(points=1, visibility="hidden")
def value_error_other_sizes(run: Run):
    """ValueError for other sizes (more heads than hidden units), none when they divide"""
    for hidden_size, heads in ((4, 8), (30, 4), (30, 6), (7, 7)):
        check_construction(run, hidden_size, heads)


@test(points=3, visibility="hidden", slow=True)
def fine_tune_test_accuracy(run: Run):
    """a tiny BERT on your layer fine-tunes on marked_pairs: held-out test accuracy"""
    data, predictions = fine_tuned(run)
    return run.score_predictions(predictions[1], labels=data.test_y, metric=accuracy, label="test accuracy",
                                 threshold="marked_pairs_test", fmt=".3f", what="predict")
