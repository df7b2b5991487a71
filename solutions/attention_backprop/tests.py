"""Hidden tests of attention_backprop (never shipped to students)."""
from autograder.testing import Run, test
from public_tests import check_causal, expect_autograd

# T = 1 (nothing to mask); batch 1 with Dk = Dv (a transposed or swapped gradient keeps its shape); a
# longer sequence with Dk = 1; a wider batch with odd sizes
SHAPES = [dict(B=3, T=1, D=3, Dk=2, Dv=2), dict(B=1, T=4, D=5, Dk=4, Dv=4), dict(B=2, T=7, D=3, Dk=1, Dv=2),
          dict(B=4, T=3, D=6, Dk=5, Dv=3)]


@test(points=2, visibility="hidden")
def forward_other_shapes(run: Run):
    """forward equals PyTorch's on other shapes (T=1, batch 1, Dk=1, odd sizes)"""
    for i, shape in enumerate(SHAPES):
        expect_autograd(run, "attention_forward", 10 + i, shape, what="forward(X)")


@test(points=3, visibility="hidden")
def backward_other_shapes(run: Run):
    """backward equals PyTorch autograd's on other shapes (T=1, batch 1, Dk=1, odd sizes)"""
    for i, shape in enumerate(SHAPES):
        expect_autograd(run, "attention_backward", 20 + i, shape, what="backward(dLdXnew)")


@test(points=1, visibility="hidden")
def causal_other_shapes(run: Run):
    """causality on a longer sequence and on a batch of one"""
    check_causal(run, 30, B=1, T=9, D=3, Dk=2, Dv=3)
    check_causal(run, 31, B=3, T=2, D=2, Dk=1, Dv=1)


# Hidden because `autograder release` runs the public tests in-process, where lines are not counted.
@test(points=1, visibility="hidden")
def vectorised_over_batch(run: Run):
    """forward and backward are vectorised over the batch (no line runs more often for a larger batch)"""
    run.expect_vectorised("batch_of", n=(2, 8), size="size", seed=3, what="forward and backward",
                          mistake="loop_over_batch")
