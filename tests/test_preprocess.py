"""normalize, one_hot, shuffle and train_dev_split: values, shapes, dtypes, randomness, and bad inputs."""

import numpy as np
import pytest

from mnistlib.errors import DataError
from mnistlib.preprocess import normalize, one_hot, shuffle, train_dev_split
from mnistlib.rounding import U32

# ---------------------------------------------------------------- normalize


def test_normalize_real_digits(mnist):
    X = normalize(mnist.X_test)
    assert X.shape == (10000, 784) and X.dtype == np.float32
    assert X.min() == 0.0 and X.max() == 1.0
    np.testing.assert_allclose(X[0], mnist.X_test[0] / 255, rtol=U32, atol=0)  # one rounded division


def test_normalize_accepts_28x28_images_and_other_integer_dtypes():
    X = np.array([[[0, 51], [255, 102]]], dtype=np.int64)  # (1, 2, 2)
    np.testing.assert_allclose(normalize(X), [[0.0, 0.2, 1.0, 0.4]], rtol=U32, atol=0)


def test_normalize_does_not_modify_its_input():
    X = np.full((2, 784), 255, dtype=np.uint8)
    normalize(X)
    assert (X == 255).all()


@pytest.mark.parametrize("X, message", [
    (np.array([[0, 256]]), "0-255"),
    (np.array([[-1.0, 3.0]]), "0-255"),
    (np.array([[np.nan, 3.0]]), "0-255"),
    (np.zeros(784), r"found shape \(784,\)"),
    (np.zeros((1, 1, 28, 28)), "found shape"),
    (np.array([["a", "b"]]), "numeric"),
])
def test_normalize_rejects(X, message):
    with pytest.raises(DataError, match=message):
        normalize(X)


# ---------------------------------------------------------------- one_hot


def test_one_hot_batch_missing_classes_still_has_ten_columns():
    Y = one_hot(np.array([0, 2, 2], dtype=np.uint8))
    assert Y.shape == (3, 10) and Y.dtype == np.float32
    expected = np.zeros((3, 10), dtype=np.float32)
    expected[0, 0] = expected[1, 2] = expected[2, 2] = 1
    np.testing.assert_array_equal(Y, expected)


def test_one_hot_real_labels(mnist):
    Y = one_hot(mnist.y_train)
    assert Y.shape == (60000, 10)
    np.testing.assert_array_equal(Y.sum(axis=1), 1)
    np.testing.assert_array_equal(Y.argmax(axis=1), mnist.y_train)
    assert one_hot(np.array([], dtype=np.uint8)).shape == (0, 10)


def test_one_hot_other_num_classes():
    np.testing.assert_array_equal(one_hot([1, 0], num_classes=2), [[0, 1], [1, 0]])


@pytest.mark.parametrize("y, message", [
    ([0, 10], "found 10 at index 1"),
    ([-1, 3], "found -1 at index 0"),
    ([0.0, 1.0], "integer labels"),
    ([[1], [2]], r"shape \(N,\)"),
])
def test_one_hot_rejects(y, message):
    with pytest.raises(DataError, match=message):
        one_hot(np.array(y))


# ---------------------------------------------------------------- shuffle and split


def make_examples(n=50):
    """X (n, 3) int with X[i] = [i, i, i] and y (n,) = i, so pairs can be checked after shuffling."""
    X = np.repeat(np.arange(n)[:, None], 3, axis=1)
    return X, np.arange(n)


def test_shuffle_keeps_pairs_and_is_reproducible():
    X, y = make_examples()
    X1, y1 = shuffle(X, y, np.random.default_rng(1))
    X2, y2 = shuffle(X, y, 1)  # a seed gives the same permutation as default_rng(seed)
    np.testing.assert_array_equal(X1[:, 0], y1)
    np.testing.assert_array_equal(y1, y2)
    assert sorted(y1) == list(y) and not np.array_equal(y1, y)
    assert not np.array_equal(shuffle(X, y, 2)[1], y1)


def test_split_sizes_disjoint_and_complete():
    X, y = make_examples()
    X_train, y_train, X_dev, y_dev = train_dev_split(X, y, dev_size=10)
    assert X_train.shape == (40, 3) and y_train.shape == (40,)
    assert X_dev.shape == (10, 3) and y_dev.shape == (10,)
    assert set(y_train).isdisjoint(y_dev) and set(y_train) | set(y_dev) == set(y)
    np.testing.assert_array_equal(X_dev[:, 0], y_dev)


def test_split_reproducibility():
    X, y = make_examples()
    first = train_dev_split(X, y, dev_size=10)
    again = train_dev_split(X, y, dev_size=10)
    other_seed = train_dev_split(X, y, dev_size=10, seed=1)
    from_rng = train_dev_split(X, y, dev_size=10, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(first[3], again[3])
    np.testing.assert_array_equal(first[3], from_rng[3])
    assert not np.array_equal(first[3], other_seed[3])


def test_split_real_training_set_default(mnist):
    X_train, y_train, X_dev, y_dev = train_dev_split(mnist.X_train, mnist.y_train)
    assert len(X_train) == 50_000 and len(X_dev) == 10_000
    assert X_dev.dtype == np.uint8 and X_dev.shape[1] == 784


def test_split_fraction():
    X, y = make_examples()
    assert len(train_dev_split(X, y, dev_size=0.2)[3]) == 10


@pytest.mark.parametrize("dev_size", [50, 60, 0, -3, 0.0, 1.0, 1.5, True, "10"])
def test_split_rejects_bad_dev_size(dev_size):
    X, y = make_examples()
    with pytest.raises(ValueError, match="dev_size"):
        train_dev_split(X, y, dev_size=dev_size)


def test_mismatched_lengths():
    X, y = make_examples()
    with pytest.raises(DataError, match="50 examples .* 49"):
        train_dev_split(X, y[:-1], dev_size=10)
    with pytest.raises(DataError):
        shuffle(X[:-1], y, 0)
