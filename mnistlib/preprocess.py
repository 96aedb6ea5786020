"""Turning raw digits into what a network trains on: scaled pixels, one-hot labels, splits.

Randomness is always explicit: functions take a ``np.random.Generator`` (or a
seed to make one), never the global NumPy random state.
"""

from __future__ import annotations

import numpy as np

from mnistlib.errors import DataError


def normalize(X: np.ndarray) -> np.ndarray:
    """Scale pixel values from 0-255 to 0-1: X / 255, one flattened image per row.

    X: (N, 28, 28) or (N, 784), any numeric dtype (uint8 from the loaders), values in 0-255.
    Returns (N, 784) float32 in [0, 1] (a new array; X is not modified).
    Raises DataError if X is not 2-D or 3-D or has values outside 0-255 (or NaN).
    """
    X = np.asarray(X)
    if X.ndim not in (2, 3):
        raise DataError(
            f"normalize expects images of shape (N, 784) or (N, 28, 28), found shape {X.shape}"
        )
    if not (np.issubdtype(X.dtype, np.integer) or np.issubdtype(X.dtype, np.floating)):
        raise DataError(f"normalize expects numeric pixel values, found dtype {X.dtype}")
    if X.dtype != np.uint8 and X.size and not (X.min() >= 0 and X.max() <= 255):
        raise DataError(
            f"normalize expects pixel values in 0-255, found min {X.min()} and max {X.max()}"
        )
    out = X.reshape(len(X), -1).astype(np.float32)
    out /= np.float32(255)
    return out


def one_hot(y: np.ndarray, num_classes: int = 10) -> np.ndarray:
    """One-hot encode integer labels: Y[i, y[i]] = 1, all else 0.

    y: (N,) integer labels in 0..num_classes-1. num_classes: a positive integer.
    Returns Y: (N, num_classes) float32. The width is always num_classes, even
    for a batch that lacks the highest classes.
    Raises DataError for non-integer labels, labels out of range, y not 1-D, or a
    num_classes that is not a positive integer.
    """
    if not _is_int(num_classes) or num_classes < 1:
        raise DataError(f"one_hot expects num_classes to be a positive integer, got {num_classes!r}")
    y = np.asarray(y)
    if y.ndim != 1:
        raise DataError(f"one_hot expects labels of shape (N,), found shape {y.shape}")
    if not np.issubdtype(y.dtype, np.integer):
        raise DataError(f"one_hot expects integer labels, found dtype {y.dtype}")
    bad = np.flatnonzero((y < 0) | (y >= num_classes))
    if bad.size:
        raise DataError(
            f"one_hot expects labels in 0..{num_classes - 1}, found {y[bad[0]]} at index {bad[0]}"
        )
    Y = np.zeros((len(y), num_classes), dtype=np.float32)
    Y[np.arange(len(y)), y] = 1.0
    return Y


def shuffle(
    X: np.ndarray, y: np.ndarray, rng: np.random.Generator | int | None
) -> tuple[np.ndarray, np.ndarray]:
    """Shuffle examples, keeping each image with its label.

    X: (N, ...) any dtype; y: (N,) or (N, K) (labels or one-hot).
    rng: a np.random.Generator, or an int seed >= 0 (None draws fresh entropy: not reproducible).
    Returns (X[perm], y[perm]) for one random permutation perm of 0..N-1 (new arrays).
    Raises DataError if X and y differ in length or rng is none of these.
    """
    X, y = _check_same_length(X, y)
    try:
        rng = np.random.default_rng(rng)
    except (TypeError, ValueError):
        raise DataError(f"shuffle expects rng to be a np.random.Generator, an int seed >= 0 "
                        f"or None, got {rng!r}") from None
    perm = rng.permutation(len(X))
    return X[perm], y[perm]


def train_dev_split(
    X: np.ndarray,
    y: np.ndarray,
    dev_size: int | float = 10_000,
    *,
    rng: np.random.Generator | None = None,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split off a random development (validation) set.

    X: (N, ...) any dtype; y: (N,) or (N, K).
    dev_size: number of dev examples (int, 1..N-1) or a fraction of N (float in (0, 1)).
    rng: the Generator to draw the permutation from; if None, one is made from ``seed``
        (an int >= 0), so the default split is the same every run.
    Returns (X_train, y_train, X_dev, y_dev): (N - n_dev, ...), (N - n_dev, ...),
    (n_dev, ...), (n_dev, ...); the two parts are disjoint and together hold every example.
    Raises DataError (a ValueError) if dev_size is not a count or fraction, or leaves no dev
    or no training examples, or if seed is not an int >= 0.
    """
    X, y = _check_same_length(X, y)
    n = len(X)
    n_dev = _dev_count(dev_size, n)
    if rng is None and not (_is_int(seed) and seed >= 0):
        raise DataError(f"train_dev_split expects seed to be an int >= 0, got {seed!r}")
    perm = (rng if rng is not None else np.random.default_rng(seed)).permutation(n)
    dev, train = perm[:n_dev], perm[n_dev:]
    return X[train], y[train], X[dev], y[dev]


def _dev_count(dev_size: int | float, n: int) -> int:
    """Number of dev examples for ``dev_size`` (a count or a fraction) out of n."""
    if isinstance(dev_size, (float, np.floating)):
        if not 0.0 < dev_size < 1.0:  # False for NaN too
            raise DataError(f"a fractional dev_size must be in (0, 1), got {dev_size}")
        n_dev = round(float(dev_size) * n)
    elif _is_int(dev_size):
        n_dev = int(dev_size)
    else:
        raise DataError(f"dev_size must be an int count or a float fraction, got {dev_size!r}")
    if not 1 <= n_dev < n:
        raise DataError(
            f"dev_size={dev_size!r} gives {n_dev} dev examples out of N={n}; "
            f"need at least 1 dev and 1 training example"
        )
    return n_dev


def _check_same_length(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """X and y as arrays; DataError unless both have rows and the same number of them."""
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim == 0 or y.ndim == 0:
        raise DataError(f"expected X (N, ...) and y (N,) with one row per example, "
                        f"found shapes {X.shape} and {y.shape}")
    if len(X) != len(y):
        raise DataError(f"X has {len(X)} examples (rows) but y has {len(y)}")
    return X, y


def _is_int(value) -> bool:
    """True for a Python or NumPy integer, False for bool (True is not a count)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
