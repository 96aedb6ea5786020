"""The baseline every network must beat: a classifier that learns nothing but averages.

nearest_class_mean labels each image with the class whose mean training image is closest in
Euclidean distance. Notebook 04 derives it (one matrix product gives all the distances), notebook 08
uses it to compare MNIST with Fashion-MNIST before any training.
"""
import numpy as np


def class_means(X, y, num_classes=10):
    """The mean image of each class: (num_classes, D) for X (N, D) and labels y (N,).

    Raises ValueError when a class has no example (its mean would be undefined).
    """
    X, y = np.asarray(X), np.asarray(y)
    counts = np.bincount(y, minlength=num_classes)
    if len(counts) > num_classes or (counts == 0).any():
        raise ValueError(f"every class 0..{num_classes - 1} needs at least one example; "
                         f"counts per class: {counts.tolist()}")
    return np.stack([X[y == k].mean(axis=0) for k in range(num_classes)])


def nearest_class_mean(X_fit, y_fit, X, num_classes=10):
    """Predict, for each row of X (N, D), the class whose mean image in X_fit (M, D) is nearest.

    Uses ||x - m_k||² = ||x||² - 2 x·m_k + ||m_k||² (all distances from one (N, D) @ (D, K) product).
    Returns (N,) int labels.
    """
    means = class_means(X_fit, y_fit, num_classes)                          # (K, D)
    X = np.asarray(X)
    d2 = (X ** 2).sum(axis=1, keepdims=True) - 2 * X @ means.T + (means ** 2).sum(axis=1)   # (N, K)
    return d2.argmin(axis=1)
