"""The elementwise relative error of gradient checks, and what the array-wide one misses."""
import numpy as np
import pytest

from mnistlib import ShapeError, network
from mnistlib.gradcheck import elementwise_relative_error, gradient_check, numerical_gradient, relative_error


def test_one_wrong_small_entry_cannot_hide_behind_large_ones():
    rng = np.random.default_rng(0)
    true = rng.uniform(1, 10, size=(20, 30)) * rng.choice([-1, 1], size=(20, 30))
    true[4, 7] = 1e-3                     # one small entry ...
    planted = true.copy()
    planted[4, 7] = 0.0                   # ... wrong by 100 % (a forgotten term)
    assert relative_error(planted, true) < 1e-4      # the bug hides: looks "fine"
    assert elementwise_relative_error(planted, true) == pytest.approx(1.0)  # elementwise: unrelated entry
    planted[4, 7] = 2e-3                  # twice the true value: |a - b| / (|a| + |b|) = 1/3
    assert elementwise_relative_error(planted, true) == pytest.approx(1 / 3)


def test_relative_error_edge_cases():
    assert elementwise_relative_error([1.0, 2.0], [1.0, 2.0]) == 0
    assert elementwise_relative_error([1.0], [-1.0]) == pytest.approx(1.0)
    assert elementwise_relative_error(0.0, 0.0) == 0                                 # both exactly 0: agree
    assert elementwise_relative_error([1e-13], [-1e-13]) == pytest.approx(2e-5)     # both ~0: compared to tiny = 1e-8
    assert elementwise_relative_error([3.0, 1e-13], [3.0, 0.0], tiny=1e-12) == pytest.approx(0.1)
    assert elementwise_relative_error(np.zeros(0), np.zeros(0)) == 0
    with pytest.raises(ShapeError, match=r"\(3,\) and \(1, 3\)"):
        elementwise_relative_error(np.ones(3), np.ones((1, 3)))


def test_gradient_check_finds_a_one_entry_bug_in_real_gradients():
    rng = np.random.default_rng(5)
    X = rng.random((8, 784))
    Y = np.eye(10)[rng.integers(0, 10, 8)]
    params = network.init_params(5, rng, "he", dtype=np.float64)
    grads = network.backward(params, network.forward(params, X, "tanh"), Y, "tanh")
    dW1 = grads["dW1"]
    # the smallest entry of dW1 that is still 10^6 times the rounding noise (~1e-10) of the check
    i = np.unravel_index(np.argmin(np.where(np.abs(dW1) > 1e-4, np.abs(dW1), np.inf)), dW1.shape)
    grads["dW1"] = dW1.copy()
    grads["dW1"][i] *= 2                  # wrong by 100 %
    errors = gradient_check(lambda: network.loss(params, X, Y, "tanh"), params, grads, elementwise=True)
    assert relative_error(grads["dW1"], dW1) < 1e-3      # the old measure: looks nearly fine
    assert errors["W1"] == pytest.approx(1 / 3, rel=1e-4)          # elementwise: the bug, unmistakably
    assert max(errors["b1"], errors["W2"], errors["b2"]) < 1e-4


def test_correct_float64_gradients_disagree_only_by_rounding():
    """Elementwise errors of a correct gradient come from rounding in the centred difference,
    about u |loss| / eps ~ 1e-10 in absolute terms: large relative to tiny entries only."""
    rng = np.random.default_rng(1)
    X = rng.random((7, 784))
    Y = np.eye(10)[rng.integers(0, 10, 7)]
    params = network.init_params(6, rng, "he", dtype=np.float64)
    for activation in ("relu", "tanh", "sigmoid", "elu"):
        grads = network.backward(params, network.forward(params, X, activation), Y, activation)
        errors = gradient_check(lambda g=activation: network.loss(params, X, Y, g), params, grads,
                                elementwise=True)
        assert max(errors.values()) < 1e-3, (activation, errors)
        # entries too small to resolve drive the maximum; above 1e-2 every entry agrees to 1e-6
        num = numerical_gradient(lambda g=activation: network.loss(params, X, Y, g), params["W1"])
        assert np.abs(grads["dW1"] - num).max() < 5e-9
        assert elementwise_relative_error(grads["dW1"], num, tiny=1e-2) < 1e-6
