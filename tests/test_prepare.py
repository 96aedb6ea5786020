"""prepare_digit: pictures of digits become MNIST-style rows."""
import numpy as np
import pytest
from PIL import Image

import mnistlib
from mnistlib.prepare import prepare_digit


@pytest.fixture(scope="module")
def digits():
    data = mnistlib.load_mnist()
    return data.X_test[:50]


def test_an_mnist_digit_is_nearly_unchanged(digits):
    P = np.stack([prepare_digit(x.reshape(28, 28)) for x in digits])
    X = mnistlib.normalize(digits)
    assert P.shape == (50, 784) and P.dtype == np.float32
    assert P.min() >= 0 and P.max() == 1
    assert np.corrcoef(P.ravel(), X.ravel())[0, 1] > 0.98


def test_large_dark_on_light_rgba_image(digits, tmp_path):
    gray = 255 - digits[0].reshape(28, 28)
    big = Image.fromarray(gray).resize((140, 100))  # not square, 5x wider
    rgba = big.convert("RGBA")
    alpha = np.full((100, 140), 255, np.uint8)
    alpha[:, :10] = 0  # a transparent strip counts as paper
    rgba.putalpha(Image.fromarray(alpha))
    rgba.save(tmp_path / "d.png")
    row = prepare_digit(tmp_path / "d.png").reshape(28, 28)
    ys, xs = np.indices(row.shape)
    assert abs((ys * row).sum() / row.sum() - 14) < 1 and abs((xs * row).sum() / row.sum() - 14) < 1
    ink = np.argwhere(row > 0.2)
    assert (ink.max(axis=0) - ink.min(axis=0) + 1).max() <= 21  # fits the 20x20 box


def test_blank_and_tiny_images_are_refused(tmp_path):
    with pytest.raises(mnistlib.DataError, match="blank"):
        prepare_digit(np.full((40, 40), 255.0))
    with pytest.raises(mnistlib.DataError, match=r"at least 28x28.*\(20, 20\)"):
        prepare_digit(np.zeros((20, 20)))
    with pytest.raises(mnistlib.DataError, match="no such image file"):
        prepare_digit(tmp_path / "none.png")
