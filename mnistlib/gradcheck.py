"""Numerical gradient checking: compare analytic gradients with centred differences.

    df/dp ~= (f(p + eps) - f(p - eps)) / (2 eps)      (error O(eps^2))

Use float64: in float32 the rounding error of f swamps the difference.
"""
import numpy as np

from .errors import ShapeError


def relative_error(a, b):
    """max |a - b| / max(|a| + |b|, tiny): 0 for identical arrays, ~1 for unrelated ones."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.abs(a - b).max() / max(np.abs(a).max() + np.abs(b).max(), 1e-300))


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


def gradient_check(loss_fn, params, grads, eps=1e-6, max_entries=None, rng=None):
    """Relative error between analytic `grads` and numerical gradients, per parameter.

    loss_fn: function of no arguments returning the loss for the current `params`
    (a dict of float64 arrays it reads). grads: {"dW1": ...} analytic gradients.
    max_entries: check at most this many randomly chosen entries per parameter
    (rng: np.random.Generator) instead of all. Returns {"W1": rel_error, ...}.
    """
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
        errors[name] = relative_error(grads["d" + name][mask], num[mask])
    return errors
