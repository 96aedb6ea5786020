"""Activations, softmax and cross-entropy: values, derivatives, stability at extreme logits."""
import numpy as np
import pytest

from mnistlib.activations import ACTIVATIONS, get_activation
from mnistlib.errors import ShapeError
from mnistlib.losses import cross_entropy, log_softmax, loss_and_output_grad, softmax, softmax_cross_entropy_grad


def test_softmax_rows_sum_to_one_and_survive_huge_logits():
    Z = np.array([[1000.0, 0.0, -1000.0], [-1000.0, -1000.0, -1000.0], [1.0, 2.0, 3.0]])
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        P = softmax(Z)
    assert np.isfinite(P).all()
    np.testing.assert_allclose(P.sum(axis=1), 1)
    np.testing.assert_allclose(P[0], [1, 0, 0])
    np.testing.assert_allclose(P[1], [1 / 3] * 3)
    e = np.exp([1.0, 2.0, 3.0])
    np.testing.assert_allclose(P[2], e / e.sum())


def test_cross_entropy_at_logits_of_plus_minus_1000():
    Z = np.array([[1000.0, -1000.0], [1000.0, -1000.0]])
    Y = np.array([[1.0, 0.0], [0.0, 1.0]])
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        loss = cross_entropy(Z, Y)
    # example 1 is certain and right (loss 0), example 2 certain and wrong (loss 2000)
    assert loss == pytest.approx(1000.0)
    np.testing.assert_allclose(log_softmax(Z)[0], [0, -2000])


def test_fused_gradient_matches_centred_differences():
    rng = np.random.default_rng(0)
    Z, Y = rng.normal(size=(4, 10)), np.eye(10)[rng.integers(0, 10, 4)]
    dZ = softmax_cross_entropy_grad(Z, Y)
    eps, num = 1e-6, np.zeros_like(Z)
    for ix in np.ndindex(Z.shape):
        Zp, Zm = Z.copy(), Z.copy()
        Zp[ix] += eps
        Zm[ix] -= eps
        num[ix] = (cross_entropy(Zp, Y) - cross_entropy(Zm, Y)) / (2 * eps)
    np.testing.assert_allclose(dZ, num, atol=1e-9)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_derivatives_match_centred_differences(name):
    g, g_prime = get_activation(name)
    Z = np.linspace(-4, 4, 41) + 0.013  # avoid the kink of ReLU at exactly 0
    eps = 1e-6
    np.testing.assert_allclose(g_prime(Z), (g(Z + eps) - g(Z - eps)) / (2 * eps), atol=1e-7)


def test_activations_keep_float32_and_do_not_overflow():
    Z = np.array([-1000, -1, 0, 1, 1000], dtype=np.float32)
    for name, (g, g_prime) in ACTIVATIONS.items():
        with np.errstate(over="raise"):
            A, dA = g(Z), g_prime(Z)
        assert A.dtype == np.float32 and dA.dtype == np.float32, name
        assert np.isfinite(A).all() and np.isfinite(dA).all(), name
    np.testing.assert_array_equal(ACTIVATIONS["relu"][0](Z), [0, 0, 0, 1, 1000])


def test_the_output_head_is_cross_entropy_and_its_fused_gradient():
    rng = np.random.default_rng(3)
    Z = rng.normal(0, 3, size=(7, 4))
    Y = np.eye(4)[rng.integers(0, 4, 7)]
    loss, dZ = loss_and_output_grad(Z, Y, scale=-0.5)
    assert loss == pytest.approx(cross_entropy(Z, Y), rel=1e-15)
    want = -0.5 * softmax_cross_entropy_grad(Z, Y)
    # exp(log p) and the direct softmax round differently: exp turns the log's absolute rounding
    # (a few ulps of |log p|) into a relative error of p, so allow 4u(2 + |log p|) per probability
    p = softmax(Z)
    bound = 4 * 2.0 ** -53 * (2 + np.abs(np.log(p))) * 0.5 * p / 7 + 4 * 2.0 ** -53 * np.abs(want)
    assert (np.abs(dZ - want) <= bound).all()
    Z[0, 0] = 200.0                                   # class 0 certain in row 0: the others' e^-200 become 0
    _, dZ = loss_and_output_grad(Z, Y)
    assert (dZ[0, 1:] == -Y[0, 1:] / 7).all()
    with pytest.raises(ShapeError, match=r"targets Y have shape \(7, 3\) but the logits have shape \(7, 4\)"):
        loss_and_output_grad(Z, Y[:, :3])
