"""The nearest-class-mean baseline: the same answer as the distances computed one by one."""
import numpy as np
import pytest

from mnistlib.baseline import class_means, nearest_class_mean


def test_matches_the_distances_computed_one_by_one():
    rng = np.random.default_rng(0)
    X_fit, y_fit = rng.random((60, 7)), np.arange(60) % 4
    X = rng.random((25, 7))
    means = np.array([X_fit[y_fit == k].mean(axis=0) for k in range(4)])
    slow = np.array([np.argmin([np.sum((x - m) ** 2) for m in means]) for x in X])
    np.testing.assert_array_equal(nearest_class_mean(X_fit, y_fit, X, num_classes=4), slow)


def test_the_class_means_classify_themselves():
    X_fit = np.repeat(np.eye(3), 5, axis=0) + 0.01       # three tight clusters, (15, 3)
    y_fit = np.repeat(np.arange(3), 5)
    np.testing.assert_array_equal(nearest_class_mean(X_fit, y_fit, np.eye(3), num_classes=3), [0, 1, 2])


def test_a_class_without_examples_is_an_error():
    with pytest.raises(ValueError, match=r"counts per class: \[2, 0, 1\]"):
        class_means(np.zeros((3, 2)), np.array([0, 0, 2]), num_classes=3)
