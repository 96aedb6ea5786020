"""Numerical gradient checking: compare analytic gradients with centred differences.

    df/dp ~= (f(p + eps) - f(p - eps)) / (2 eps)      (error O(eps^2))

Use float64: in float32 the rounding error of f swamps the difference.

The comparison is elementwise (as in Stanford's cs231n): every entry is judged
against its own size, so one wrong small entry cannot hide behind large correct ones.
"""
import numpy as np

from .errors import ShapeError

TINY = 1e-8  # floor of the denominator |a| + |b|: entries where both are ~0 count as agreeing


def relative_error(a, b):
    """The array-wide relative error: max |a - b| / (max |a| + max |b|).

    0 for identical arrays, ~1 for unrelated ones. In a float64 gradient check: < 1e-7
    correct, > 1e-2 a bug. Its blind spot: one entry wrong by 100 % that is small next to
    the largest entries hardly moves it; elementwise_relative_error() sees it.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ShapeError(f"relative_error needs arrays of one shape, got {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.abs(a - b).max() / max(np.abs(a).max() + np.abs(b).max(), 1e-300))


def elementwise_relative_error(a, b, tiny=TINY):
    """Worst elementwise relative error: max over entries of |a - b| / max(|a| + |b|, tiny).

    a, b: arrays of the same shape (or scalars). 0 for identical arrays; about 1 when any
    single entry is unrelated to its partner (wrong sign, wrong by 100 %, or one is 0).
    Entries where both |a| and |b| are below ~tiny are compared absolutely (|a - b| / tiny).
    The centred difference itself carries an absolute rounding error of about u |loss| / eps
    (~1e-10 in float64 at eps = 1e-6), so on tiny entries a correct gradient reaches 1e-5
    or more: judge this number against that noise, not against 1e-7.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ShapeError(f"relative_error needs arrays of one shape, got {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    return float((np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), tiny)).max())


def numerical_gradient(f, P, eps=1e-6, indices=None):
    """Centred-difference gradient of the scalar function f() with respect to array P.

    f: a function of no arguments that reads P (P is perturbed in place and restored).
    indices: optional list of index tuples to check (default: every entry of P).
    Returns an array shaped like P (entries not checked are NaN).
    """
    grad = np.full(P.shape, np.nan)
    for ix in (np.ndindex(P.shape) if indices is None else indices):
        old = P[ix]
        P[ix] = old + eps
        f_plus = f()
        P[ix] = old - eps
        f_minus = f()
        P[ix] = old
        grad[ix] = (f_plus - f_minus) / (2 * eps)
    return grad


def gradient_check(loss_fn, params, grads, eps=1e-6, max_entries=None, rng=None, elementwise=False):
    """Relative error between analytic `grads` and numerical gradients, per parameter.

    loss_fn: function of no arguments returning the loss for the current `params`
    (a dict of float64 arrays it reads). grads: {"dW1": ...} analytic gradients.
    max_entries: check at most this many randomly chosen entries per parameter
    (rng: np.random.Generator) instead of all. Returns {"W1": rel_error, ...}: the
    array-wide relative_error, or with elementwise=True the elementwise_relative_error.
    """
    measure = elementwise_relative_error if elementwise else relative_error
    rng = np.random.default_rng(0) if rng is None else rng
    errors = {}
    for name, P in params.items():
        if P.dtype != np.float64:
            raise ValueError(f"{name} is {P.dtype}: gradient checks need float64 parameters")
        if np.shape(grads["d" + name]) != P.shape:
            raise ShapeError(f"d{name} has shape {np.shape(grads['d' + name])} but {name} has shape {P.shape}")
        indices = None
        if max_entries is not None and P.size > max_entries:
            flat = rng.choice(P.size, size=max_entries, replace=False)
            indices = [np.unravel_index(i, P.shape) for i in flat]
        num = numerical_gradient(loss_fn, P, eps, indices)
        mask = ~np.isnan(num)
        errors[name] = measure(np.asarray(grads["d" + name])[mask], num[mask])
    return errors
