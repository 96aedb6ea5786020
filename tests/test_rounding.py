"""The rounding bounds that every float32 comparison in the tests and notebooks relies on."""
import numpy as np
import pytest

from mnistlib.rounding import (
    U32,
    U64,
    assert_within,
    gamma,
    matmul_bound,
    trajectory_tolerance,
    unit_roundoff,
    unsure_argmax,
    within,
)


def test_unit_roundoff_and_gamma():
    assert unit_roundoff(np.float32) == U32 == 2.0 ** -24 and unit_roundoff(np.float64) == U64
    assert gamma(1) == pytest.approx(U32) and gamma(784) == pytest.approx(784 * U32, rel=1e-4)
    with pytest.raises(ValueError, match="too many"):
        gamma(2 ** 24)


@pytest.mark.parametrize("order", ["forward", "reverse", "pairwise", "blas"])
def test_the_dot_product_bound_holds_in_any_summation_order(order):
    """Terms of mixed sign and size, summed in float32 four ways: all within gamma_k sum|a_i b_i|."""
    rng = np.random.default_rng(0)
    k = 1000
    a = (rng.standard_normal(k) * 10.0 ** rng.integers(-3, 3, k)).astype(np.float32)
    b = rng.standard_normal(k).astype(np.float32)
    exact = float(np.dot(a.astype(np.float64), b.astype(np.float64)))
    terms = a * b  # each product rounded once, as a kernel without FMA would
    if order == "forward":
        total = np.float32(0)
        for t in terms:
            total = np.float32(total + t)
    elif order == "reverse":
        total = np.float32(0)
        for t in terms[::-1]:
            total = np.float32(total + t)
    elif order == "pairwise":
        total = terms.sum()
    else:
        total = (a[None, :] @ b[:, None])[0, 0]
    bound = matmul_bound(a[None, :], b[:, None])[0, 0]
    assert abs(float(total) - exact) <= bound
    assert bound < 1e-3 * np.abs(terms.astype(np.float64)).sum()  # and it is not vacuous


def test_assert_within_names_the_worst_entry_and_nan_fails():
    ref = np.zeros((2, 3))
    assert_within(np.full((2, 3), 0.5), ref, 0.5)
    assert within(np.full((2, 3), 0.5), ref, 0.5) and not within(np.full((2, 3), 0.6), ref, 0.5)
    bad = np.zeros((2, 3))
    bad[1, 2] = 2.0
    with pytest.raises(AssertionError, match=r"logits: 1 of 6 entries .* worst at \(1, 2\)"):
        assert_within(bad, ref, 1.0, "logits")
    bad[1, 2] = np.nan
    with pytest.raises(AssertionError, match="1 of 6"):
        assert_within(bad, ref, 1.0)
    with pytest.raises(AssertionError, match="shape"):
        assert_within(np.zeros(6), ref, 1.0)


def test_unsure_argmax_flags_only_near_ties():
    Z = np.array([[0.0, 1.0, 3.0], [2.0, 2.0 + 1e-7, -1.0]])
    eZ = np.full_like(Z, 1e-6)
    assert unsure_argmax(Z, eZ).tolist() == [False, True]


def test_trajectory_tolerance_grows_with_steps():
    assert trajectory_tolerance(1, 10) == pytest.approx(18 * U64 * 4)
    assert trajectory_tolerance(6, 50) < 1e-9 < trajectory_tolerance(6, 50, np.float32)
