"""The elementwise relative error of gradient checks, its floor, and what the array-wide one misses."""
import numpy as np
import pytest

from mnistlib import ShapeError, network
from mnistlib.gradcheck import (
    ELEMENTWISE_TOL,
    NOISE_ULPS,
    difference_noise,
    elementwise_errors,
    elementwise_floor,
    elementwise_relative_error,
    gradient_check,
    numerical_gradient,
    relative_error,
)

U64 = 2.0 ** -53


def small_problem(seed, N=7, H=6):
    rng = np.random.default_rng(seed)
    X = rng.random((N, 784))
    Y = np.eye(10)[rng.integers(0, 10, N)]
    params = network.init_params(H, rng, "he", dtype=np.float64)
    return X, Y, params


def test_one_wrong_small_entry_cannot_hide_behind_large_ones():
    rng = np.random.default_rng(0)
    true = rng.uniform(1, 10, size=(20, 30)) * rng.choice([-1, 1], size=(20, 30))
    true[4, 7] = 1e-3                     # one small entry ...
    planted = true.copy()
    planted[4, 7] = 0.0                   # ... wrong by 100 % (a forgotten term)
    assert relative_error(planted, true) < 1e-4      # the bug hides: looks "fine"
    assert elementwise_relative_error(planted, true) == 1.0        # elementwise: unrelated entry
    errors = elementwise_errors(planted, true)
    assert errors.shape == true.shape
    assert np.unravel_index(errors.argmax(), errors.shape) == (4, 7)   # and it names the entry
    planted[4, 7] = 2e-3                  # twice the true value: |a - b| / max(|a|, |b|) = 1/2
    assert elementwise_relative_error(planted, true) == pytest.approx(0.5)


def test_relative_error_edge_cases():
    assert elementwise_relative_error([1.0, 2.0], [1.0, 2.0]) == 0
    assert elementwise_relative_error([1.0], [-1.0]) == pytest.approx(2.0)          # opposite signs
    assert elementwise_relative_error([0.0, 0.0], [0.0, 0.0]) == 0                  # both exactly 0: agree
    assert elementwise_relative_error([1e-13], [-1e-13]) == pytest.approx(2.0)      # no floor: relative
    assert elementwise_relative_error([1e-13], [-1e-13], floor=1e-8) == pytest.approx(2e-5)  # below the floor
    assert elementwise_relative_error([3.0, 1e-13], [3.0, 0.0], floor=1e-12) == pytest.approx(0.1)
    assert elementwise_relative_error([3.0, 2.0], [3.0, 1.0], floor=1e-12) == pytest.approx(0.5)  # above it
    assert elementwise_relative_error(np.zeros(0), np.zeros(0)) == 0
    with pytest.raises(ShapeError, match=r"\(3,\) and \(1, 3\)"):
        elementwise_relative_error(np.ones(3), np.ones((1, 3)))


def test_the_floor_is_the_rounding_noise_over_the_tolerance():
    assert difference_noise(2.3, 1e-6) == pytest.approx(NOISE_ULPS * U64 * 2.3 / 1e-6)
    assert difference_noise(-2.3, 1e-6) == difference_noise(2.3, 1e-6)
    assert elementwise_floor(2.3, 1e-6) == pytest.approx(difference_noise(2.3, 1e-6) / ELEMENTWISE_TOL)
    assert 1e-4 < elementwise_floor(2.3, 1e-6) < 1e-3          # the figure quoted in the docstring
    assert elementwise_floor(2.3, 1e-6, tol=1e-3) == pytest.approx(elementwise_floor(2.3, 1e-6) / 100)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "elu"])
def test_correct_float64_gradients_disagree_only_by_rounding(activation):
    """The floor's premise, measured: |analytic - numerical| <= difference_noise on every entry,
    so a correct gradient's elementwise error stays below ELEMENTWISE_TOL."""
    X, Y, params = small_problem(1)
    grads = network.backward(params, network.forward(params, X, activation), Y, activation)

    def f():
        return network.loss(params, X, Y, activation)

    noise = difference_noise(f(), 1e-6)
    for name, theta in params.items():
        num = numerical_gradient(f, theta)
        assert np.abs(grads["d" + name] - num).max() <= noise, (activation, name)
    errors = gradient_check(f, params, grads, elementwise=True)
    assert max(errors.values()) < ELEMENTWISE_TOL, (activation, errors)


def test_without_the_floor_tiny_correct_entries_fail():
    """Where |gradient| is near the rounding noise, |a - n| / max(|a|, |n|) is large for a correct
    gradient: the floor is what makes the elementwise check usable."""
    X, Y, params = small_problem(1)
    grads = network.backward(params, network.forward(params, X, "tanh"), Y, "tanh")
    num = numerical_gradient(lambda: network.loss(params, X, Y, "tanh"), params["W1"])
    assert elementwise_relative_error(grads["dW1"], num) > ELEMENTWISE_TOL
    floor = elementwise_floor(network.loss(params, X, Y, "tanh"), 1e-6)
    assert elementwise_relative_error(grads["dW1"], num, floor) < ELEMENTWISE_TOL


def test_gradient_check_finds_a_one_entry_bug_in_real_gradients():
    X, Y, params = small_problem(5, N=8, H=5)
    grads = network.backward(params, network.forward(params, X, "tanh"), Y, "tanh")
    floor = elementwise_floor(network.loss(params, X, Y, "tanh"), 1e-6)
    dW1 = grads["dW1"]
    # the smallest entry of dW1 at or above the floor: the one a bug hides best in
    i = np.unravel_index(np.argmin(np.where(np.abs(dW1) >= floor, np.abs(dW1), np.inf)), dW1.shape)
    grads["dW1"] = dW1.copy()
    grads["dW1"][i] *= 2                  # wrong by 100 %
    elementwise = gradient_check(lambda: network.loss(params, X, Y, "tanh"), params, grads, elementwise=True)
    arraywide = gradient_check(lambda: network.loss(params, X, Y, "tanh"), params, grads)
    assert arraywide["W1"] < 1e-2                       # array-wide: below the "bug" threshold
    assert elementwise["W1"] == pytest.approx(0.5, rel=1e-3)    # elementwise: twice the true value
    assert max(elementwise["b1"], elementwise["W2"], elementwise["b2"]) < ELEMENTWISE_TOL


def test_a_bug_below_the_floor_is_still_caught_when_it_exceeds_the_noise():
    X, Y, params = small_problem(5, N=8, H=5)
    grads = network.backward(params, network.forward(params, X), Y)
    f0 = network.loss(params, X, Y)
    noise, floor = difference_noise(f0, 1e-6), elementwise_floor(f0, 1e-6)
    dW1 = grads["dW1"]
    i = np.unravel_index(np.argmax(np.where(np.abs(dW1) < floor / 2, np.abs(dW1), -1)), dW1.shape)
    grads["dW1"] = dW1.copy()
    grads["dW1"][i] += 10 * noise          # ten times the rounding noise, on an entry below the floor
    errors = gradient_check(lambda: network.loss(params, X, Y), params, grads, elementwise=True)
    assert errors["W1"] == pytest.approx(10 * ELEMENTWISE_TOL, rel=0.2)   # |a - n| / floor
    assert relative_error(grads["dW1"], dW1) < 1e-7       # array-wide, it passes
