"""Data augmentation for digits, vectorised over the batch (no Python loop per example).

A shifted digit is still the same digit: training on randomly shifted copies
teaches the network that position does not matter much, and lowers test error.
"""
import numpy as np

from .errors import DataError, ShapeError

MAX_SHIFT = 4
"""The largest sensible shift for MNIST: digits are scaled into a 20x20 box in the 28x28
frame, so there are at most (28 - 20) / 2 = 4 blank pixels on a side. Shifting by 5 or more
can cut strokes off every digit in the training set; up to 4 mostly trims faint edge pixels."""


def random_shift(X, rng, max_shift=2, side=28):
    """Shift each image by its own random (dy, dx) in [-max_shift, max_shift], filling with 0.

    X: (B, side*side) float; rng: np.random.Generator; max_shift: an int in 0..side-1
    (MNIST's sensible maximum is MAX_SHIFT). Returns a new (B, side*side) array, same dtype.
    Pixels shifted out of the frame are lost; new pixels are background (0).
    Raises ShapeError if X is not (B, side*side), DataError for a bad max_shift.
    """
    check_max_shift(max_shift, side)
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[1] != side * side:
        raise ShapeError(f"random_shift expects images of shape (B, {side * side}), found {X.shape}")
    B = len(X)
    pad = max_shift
    images = np.zeros((B, side + 2 * pad, side + 2 * pad), dtype=X.dtype)
    images[:, pad:pad + side, pad:pad + side] = X.reshape(B, side, side)
    dy, dx = rng.integers(-max_shift, max_shift + 1, size=(2, B))
    rows = (pad - dy)[:, None] + np.arange(side)  # (B, side): source row of each output row
    cols = (pad - dx)[:, None] + np.arange(side)
    out = images[np.arange(B)[:, None, None], rows[:, :, None], cols[:, None, :]]
    return out.reshape(B, side * side)


def check_max_shift(max_shift, side=28):
    """Raise DataError unless max_shift is an int in 0..side-1 (larger shifts leave blank frames)."""
    is_int = isinstance(max_shift, (int, np.integer)) and not isinstance(max_shift, bool)
    if not is_int or not 0 <= max_shift < side:
        raise DataError(f"max_shift must be an integer from 0 to {side - 1} pixels "
                        f"(at most {MAX_SHIFT} makes sense for MNIST), got {max_shift!r}")


def shifter(max_shift=2):
    """An `augment` function for mnistlib.train: X_batch, rng -> randomly shifted X_batch."""
    check_max_shift(max_shift)

    def augment(X, rng):
        return random_shift(X, rng, max_shift)
    augment.__name__ = f"random_shift(max_shift={max_shift})"
    return augment
