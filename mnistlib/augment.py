"""Data augmentation for digits, vectorised over the batch (no Python loop per example).

A shifted digit is still the same digit: training on randomly shifted copies
teaches the network that position does not matter much, and lowers test error.
"""
import numpy as np


def random_shift(X, rng, max_shift=2, side=28):
    """Shift each image by its own random (dy, dx) in [-max_shift, max_shift], filling with 0.

    X: (B, side*side) float; rng: np.random.Generator. Returns a new (B, side*side) array,
    same dtype. Pixels shifted out of the frame are lost; new pixels are background (0).
    """
    B = len(X)
    pad = max_shift
    images = np.zeros((B, side + 2 * pad, side + 2 * pad), dtype=X.dtype)
    images[:, pad:pad + side, pad:pad + side] = X.reshape(B, side, side)
    dy, dx = rng.integers(-max_shift, max_shift + 1, size=(2, B))
    rows = (pad - dy)[:, None] + np.arange(side)  # (B, side): source row of each output row
    cols = (pad - dx)[:, None] + np.arange(side)
    out = images[np.arange(B)[:, None, None], rows[:, :, None], cols[:, None, :]]
    return out.reshape(B, side * side)


def shifter(max_shift=2):
    """An `augment` function for mnistlib.train: X_batch, rng -> randomly shifted X_batch."""
    def augment(X, rng):
        return random_shift(X, rng, max_shift)
    augment.__name__ = f"random_shift(max_shift={max_shift})"
    return augment
