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

    y: (N,) integer labels in 0..num_classes-1.
    Returns Y: (N, num_classes) float32. The width is always num_classes, even
    for a batch that lacks the highest classes.
    Raises DataError for non-integer labels, labels out of range, or y not 1-D.
    """
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
    rng: a np.random.Generator, or an int seed (None draws fresh entropy: not reproducible).
    Returns (X[perm], y[perm]) for one random permutation perm of 0..N-1 (new arrays).
    """
    _check_same_length(X, y)
    perm = np.random.default_rng(rng).permutation(len(X))
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
    rng: the Generator to draw the permutation from; if None, one is made from ``seed``,
        so the default split is the same every run.
    Returns (X_train, y_train, X_dev, y_dev): (N - n_dev, ...), (N - n_dev, ...),
    (n_dev, ...), (n_dev, ...); the two parts are disjoint and together hold every example.
    Raises ValueError if dev_size leaves no dev or no training examples.
    """
    _check_same_length(X, y)
    n = len(X)
    n_dev = _dev_count(dev_size, n)
    perm = (rng if rng is not None else np.random.default_rng(seed)).permutation(n)
    dev, train = perm[:n_dev], perm[n_dev:]
    return X[train], y[train], X[dev], y[dev]


def _dev_count(dev_size: int | float, n: int) -> int:
    """Number of dev examples for ``dev_size`` (a count or a fraction) out of n."""
    if isinstance(dev_size, bool) or not isinstance(dev_size, (int, np.integer, float)):
        raise ValueError(f"dev_size must be an int count or a float fraction, got {dev_size!r}")
    if isinstance(dev_size, float):
        if not 0.0 < dev_size < 1.0:
            raise ValueError(f"a fractional dev_size must be in (0, 1), got {dev_size}")
        n_dev = round(dev_size * n)
    else:
        n_dev = int(dev_size)
    if not 1 <= n_dev < n:
        raise ValueError(
            f"dev_size={dev_size!r} gives {n_dev} dev examples out of N={n}; "
            f"need at least 1 dev and 1 training example"
        )
    return n_dev


def _check_same_length(X: np.ndarray, y: np.ndarray) -> None:
    """Raise DataError unless X and y hold the same number of examples (rows)."""
    if len(X) != len(y):
        raise DataError(f"X has {len(X)} examples (rows) but y has {len(y)}")
