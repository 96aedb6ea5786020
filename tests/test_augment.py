"""Random shifts: exact pixel movement, range, and no change of the digit's mass when it fits."""
import numpy as np

from mnistlib.augment import random_shift, shifter


def test_each_image_moves_by_its_own_shift():
    rng = np.random.default_rng(0)
    X = np.zeros((50, 784), np.float32)
    X[:, 14 * 28 + 14] = 1.0  # one lit pixel in the centre of every image
    out = random_shift(X, rng, max_shift=2)
    assert out.shape == X.shape and out.dtype == np.float32
    r, c = np.divmod(out.argmax(axis=1), 28)
    assert (out.sum(axis=1) == 1).all()
    assert set(r - 14) <= {-2, -1, 0, 1, 2} and set(c - 14) <= {-2, -1, 0, 1, 2}
    assert len(set(zip(r, c, strict=False))) > 10  # shifts differ between images
    # the same generator state gives the same shifts
    np.testing.assert_array_equal(out, random_shift(X, np.random.default_rng(0), 2))


def test_shift_matches_np_roll_for_a_digit_away_from_the_border():
    rng = np.random.default_rng(1)
    img = np.zeros((28, 28), np.float32)
    img[8:20, 9:18] = rng.random((12, 9))
    out = random_shift(img.reshape(1, 784), np.random.default_rng(5), 2).reshape(28, 28)
    dy, dx = np.random.default_rng(5).integers(-2, 3, size=(2, 1))
    np.testing.assert_array_equal(out, np.roll(img, (dy[0], dx[0]), axis=(0, 1)))


def test_shifter_for_the_training_loop():
    aug = shifter(1)
    X = np.random.default_rng(2).random((4, 784), dtype=np.float32)
    assert aug(X, np.random.default_rng(3)).shape == (4, 784)
    assert "max_shift=1" in aug.__name__
