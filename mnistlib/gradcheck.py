"""Numerical gradient checking: compare analytic gradients with centred differences.

    d𝓛/dθ ~= (𝓛(θ + ε) - 𝓛(θ - ε)) / (2 ε)      (truncation error O(ε²))

Use float64: in float32 the rounding error of 𝓛 swamps the difference.

Two ways to turn "analytic a against numerical n" into one number per parameter array:

* relative_error, array-wide: max |a - n| / (max |a| + max |n|). Simple, but every entry is
  judged against the LARGEST entries, so one small entry that is completely wrong can hide
  behind large correct ones.
* elementwise_relative_error (as in Stanford's cs231n): every entry is judged against its own
  size, max over entries of |a - n| / max(|a|, |n|, floor). The floor is the smallest gradient
  the centred difference can measure to relative precision ELEMENTWISE_TOL: below it, an entry
  is compared with the floor instead (that is, absolutely), because there the rounding noise
  of the finite difference is larger than ELEMENTWISE_TOL times the entry. With the floor from
  `elementwise_floor`, a correct float64 gradient stays below ELEMENTWISE_TOL, and every entry
  that is wrong by more than the rounding noise shows up.

Where the floor comes from. A computed loss is the exact one up to a rounding error of a few
units of roundoff u times |𝓛| (u = 2^-53 in float64): rounding the result to the float grid
alone is up to half an ulp, i.e. up to u |𝓛|, and the sum over the batch adds a little more.
The centred difference subtracts two such values and divides by 2ε, so its rounding noise is

    noise = NOISE_ULPS * u * |𝓛| / ε,    NOISE_ULPS = 8,

in absolute terms, whatever the size of the gradient entry. (Measured: the largest
|analytic - numerical| over every entry of notebook 03's check, and over the four activations
of the tests, is 1.4-2.5 u |𝓛| / ε; 8 leaves a margin of 3.) The truncation error ε² |𝓛'''| / 6
is about 1e-13 |𝓛'''| at ε = 1e-6, far below the noise for networks on inputs in [0, 1]. An
entry g can then be checked to relative precision noise / |g|; the entries at least
floor = noise / ELEMENTWISE_TOL are checked to ELEMENTWISE_TOL, the smaller ones to the noise.
"""
import numpy as np

from .errors import ShapeError

NOISE_ULPS = 8           # rounding noise of a centred difference, in units of u |𝓛| / ε (see above)
ELEMENTWISE_TOL = 1e-5   # a correct float64 gradient's elementwise relative error stays below this


def _pair(a, b, what):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ShapeError(f"{what} needs arrays of one shape, got {a.shape} and {b.shape}")
    return a, b


def relative_error(a, b):
    """The array-wide relative error: max |a - b| / (max |a| + max |b|).

    0 for identical arrays, ~1 for unrelated ones. In a float64 gradient check: < 1e-7
    correct, > 1e-2 a bug. Its blind spot: one entry wrong by 100 % that is small next to
    the largest entries hardly moves it; elementwise_relative_error() sees it.
    """
    a, b = _pair(a, b, "relative_error")
    if a.size == 0:
        return 0.0
    return float(np.abs(a - b).max() / max(np.abs(a).max() + np.abs(b).max(), 1e-300))


def elementwise_errors(a, b, floor=0.0):
    """Every entry's relative error, |a - b| / max(|a|, |b|, floor), as an array of a's shape.

    cs231n's measure with a floor in the denominator: 0 where a and b agree exactly (also
    when both are 0), 1 where one of them is 0 and the other is not (or where they have
    opposite signs and equal size: 2), 0.5 where one is twice the other. Entries where both
    |a| and |b| are below `floor` are compared with the floor instead: |a - b| / floor.
    """
    a, b = _pair(a, b, "elementwise_errors")
    diff = np.abs(a - b)
    scale = np.maximum(np.maximum(np.abs(a), np.abs(b)), floor)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(diff == 0, 0.0, diff / scale)


def elementwise_relative_error(a, b, floor=0.0):
    """The worst entry's relative error: max of elementwise_errors(a, b, floor) (0 for empty arrays).

    For a gradient check pass floor=elementwise_floor(loss value, eps): then a correct float64
    gradient stays below ELEMENTWISE_TOL, and one wrong entry reports its own relative error
    (0.5 for an entry twice its true value, 1 for a forgotten one) if it is at least the floor.
    """
    errors = elementwise_errors(a, b, floor)
    return float(errors.max()) if errors.size else 0.0


def difference_noise(loss_value, eps):
    """Absolute rounding noise of a float64 centred difference: NOISE_ULPS * u * |loss| / eps."""
    return NOISE_ULPS * 2.0 ** -53 * abs(float(loss_value)) / eps


def elementwise_floor(loss_value, eps, tol=ELEMENTWISE_TOL):
    """The smallest gradient entry a float64 centred difference measures to relative precision tol:
    difference_noise(loss_value, eps) / tol (about 2e-4 for a loss of 2.3 at eps = 1e-6, tol = 1e-5)."""
    return difference_noise(loss_value, eps) / tol


def numerical_gradient(f, theta, eps=1e-6, indices=None):
    """Centred-difference gradient of the scalar function f() with respect to the array theta.

    f: a function of no arguments that reads theta (theta is perturbed in place and restored).
    indices: optional list of index tuples to check (default: every entry of theta).
    Returns an array shaped like theta (entries not checked are NaN).
    """
    grad = np.full(theta.shape, np.nan)
    for ix in (np.ndindex(theta.shape) if indices is None else indices):
        old = theta[ix]
        theta[ix] = old + eps
        f_plus = f()
        theta[ix] = old - eps
        f_minus = f()
        theta[ix] = old
        grad[ix] = (f_plus - f_minus) / (2 * eps)
    return grad


def gradient_check(loss_fn, params, grads, eps=1e-6, max_entries=None, rng=None, elementwise=False):
    """Relative error between analytic `grads` and numerical gradients, per parameter.

    loss_fn: function of no arguments returning the loss for the current `params`
    (a dict of float64 arrays it reads). grads: {"dW1": ...} analytic gradients.
    max_entries: check at most this many randomly chosen entries per parameter
    (rng: np.random.Generator) instead of all. Returns {"W1": rel_error, ...}: the
    array-wide relative_error (correct: < 1e-7), or with elementwise=True the
    elementwise_relative_error with floor elementwise_floor(loss_fn(), eps)
    (correct: < ELEMENTWISE_TOL).
    """
    if elementwise:
        floor = elementwise_floor(loss_fn(), eps)

        def measure(a, b):
            return elementwise_relative_error(a, b, floor)
    else:
        measure = relative_error
    rng = np.random.default_rng(0) if rng is None else rng
    errors = {}
    for name, theta in params.items():
        if theta.dtype != np.float64:
            raise ValueError(f"{name} is {theta.dtype}: gradient checks need float64 parameters")
        if np.shape(grads["d" + name]) != theta.shape:
            raise ShapeError(f"d{name} has shape {np.shape(grads['d' + name])} but {name} has shape {theta.shape}")
        indices = None
        if max_entries is not None and theta.size > max_entries:
            flat = rng.choice(theta.size, size=max_entries, replace=False)
            indices = [np.unravel_index(i, theta.shape) for i in flat]
        num = numerical_gradient(loss_fn, theta, eps, indices)
        mask = ~np.isnan(num)
        errors[name] = measure(np.asarray(grads["d" + name])[mask], num[mask])
    return errors
