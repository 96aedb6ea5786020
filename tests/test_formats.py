"""CSV files and image folders: exact round trips of real digits, and every malformed input."""

import numpy as np
import pytest
from PIL import Image

from mnistlib.errors import DataError
from mnistlib.formats import load_csv, load_image_folder, save_csv, save_image_folder

N = 200


@pytest.fixture(scope="module")
def digits(mnist):
    """The first 200 real training digits: X (200, 784) uint8, y (200,) uint8."""
    return mnist.X_train[:N], mnist.y_train[:N]


# ---------------------------------------------------------------- CSV round trips


def test_kaggle_train_layout_round_trip(tmp_path, digits):
    X, y = digits
    save_csv(tmp_path / "train.csv", X, y)
    first_line = (tmp_path / "train.csv").read_text().splitlines()[0]
    assert first_line.startswith("label,pixel0,pixel1,") and first_line.endswith(",pixel783")
    X_back, y_back = load_csv(tmp_path / "train.csv")
    assert X_back.dtype == np.uint8 and y_back.dtype == np.uint8
    np.testing.assert_array_equal(X_back, X)
    np.testing.assert_array_equal(y_back, y)


def test_headerless_layout_round_trip(tmp_path, digits):
    X, y = digits
    save_csv(tmp_path / "mnist_train.csv", X, y, header=False)
    assert (tmp_path / "mnist_train.csv").read_text().startswith("5,0,0,")
    X_back, y_back = load_csv(tmp_path / "mnist_train.csv")
    np.testing.assert_array_equal(X_back, X)
    np.testing.assert_array_equal(y_back, y)


def test_kaggle_test_layout_has_no_labels(tmp_path, digits):
    X, _ = digits
    save_csv(tmp_path / "test.csv", X)
    X_back, y_back = load_csv(tmp_path / "test.csv")
    assert y_back is None
    np.testing.assert_array_equal(X_back, X)


def test_images_may_be_given_as_28x28(tmp_path, digits):
    X, y = digits
    save_csv(tmp_path / "a.csv", X.reshape(N, 28, 28), y)
    np.testing.assert_array_equal(load_csv(tmp_path / "a.csv")[0], X)


def test_label_less_file_needs_a_header(tmp_path, digits):
    with pytest.raises(ValueError, match="header"):
        save_csv(tmp_path / "a.csv", digits[0], header=False)


# ---------------------------------------------------------------- CSV errors

HEADER = "label," + ",".join(f"pixel{i}" for i in range(784))


def row(label="3", pixels=None, last=None) -> str:
    """One CSV line: a label and 784 pixels (all 0 unless given; ``last`` replaces the last one)."""
    pixels = list(pixels) if pixels is not None else ["0"] * 784
    if last is not None:
        pixels[-1] = last
    return ",".join([label, *pixels])


BAD_CSVS = {
    # case: (file content, text the message must contain)
    "empty file": ("", "empty"),
    "3 columns": ("1,2,3\n", "line 1 has 3 columns"),
    "784 columns without header": (",".join(["0"] * 784) + "\n", "line 1 has 784 columns"),
    "header not starting with label": ("digit," + HEADER[6:] + "\n" + row() + "\n", "line 1 has 785 columns"),
    "header only": (HEADER + "\n", "found none"),
    "row too long": (f"{HEADER}\n{row()}\n{row()},0\n", "line 3 has 786 values, expected 785"),
    "row too short": (f"{HEADER}\n{row()}\n{row()[:-2]}\n", "line 3, column 785 (pixel783): missing value"),
    "missing cell": (f"{HEADER}\n{row(pixels=[''] + ['0'] * 783)}\n", "line 2, column 2 (pixel0): missing value"),
    "non-numeric pixel": (f"{HEADER}\n{row()}\n{row(last='abc')}\n",
                          "line 3, column 785 (pixel783): expected an integer, found 'abc'"),
    "fractional pixel": (f"{HEADER}\n{row(last='0.5')}\n", "expected an integer, found 0.5"),
    "pixel 256": (f"{HEADER}\n{row(last='256')}\n",
                  "line 2, column 785 (pixel783): expected a value in 0-255, found 256"),
    "pixel -1": (f"{HEADER}\n{row(last='-1')}\n", "expected a value in 0-255, found -1"),
    "label 10": (f"{HEADER}\n{row()}\n{row(label='10')}\n",
                 "line 3, column 1 (label): expected a value in 0-9, found 10"),
    "label 2.5": (f"{HEADER}\n{row(label='2.5')}\n", "column 1 (label): expected an integer, found 2.5"),
    "label -1 headerless": (f"{row()}\n{row(label='-1')}\n", "line 2, column 1: expected a value in 0-9, found -1"),
    "first bad cell is reported": (f"{HEADER}\n{row(last='300')}\n{row(label='x')}\n", "line 2, column 785"),
}


@pytest.mark.parametrize("case", list(BAD_CSVS))
def test_bad_csv_raises_data_error_naming_file_and_place(tmp_path, snapshot, case):
    content, expected_text = BAD_CSVS[case]
    path = tmp_path / "digits.csv"
    path.write_text(content)
    before = snapshot(tmp_path)
    with pytest.raises(DataError) as info:
        load_csv(path)
    assert str(path) in str(info.value)
    assert expected_text in str(info.value)
    assert snapshot(tmp_path) == before


def test_binary_file_is_not_a_csv(tmp_path, mnist_dir):
    path = tmp_path / "labels.csv"
    path.write_bytes((mnist_dir / "t10k-labels-idx1-ubyte.gz").read_bytes())
    with pytest.raises(DataError, match="labels.csv"):
        load_csv(path)


# ---------------------------------------------------------------- image folders


def test_image_folder_round_trip(tmp_path, digits):
    X, y = digits
    save_image_folder(tmp_path / "train", X, y)
    assert (tmp_path / "train" / "5" / "00000.png").is_file()  # the first digit is a 5
    X_back, y_back = load_image_folder(tmp_path, split="train")
    order = np.argsort(y, kind="stable")  # loaded grouped by class, original order within a class
    np.testing.assert_array_equal(X_back, X[order])
    np.testing.assert_array_equal(y_back, y[order])
    assert X_back.dtype == np.uint8 and y_back.dtype == np.uint8


def test_colour_images_become_grayscale_and_extras_are_ignored(tmp_path, digits):
    X, _ = digits
    gray = X[0].reshape(28, 28)
    (tmp_path / "7").mkdir()
    Image.fromarray(np.stack([gray] * 3, axis=-1)).save(tmp_path / "7" / "rgb.png")  # R = G = B
    (tmp_path / "7" / ".hidden.png").write_bytes(b"not an image")
    (tmp_path / "7" / "notes.txt").write_text("not an image either")
    (tmp_path / "extra").mkdir()  # not a class folder
    X_back, y_back = load_image_folder(tmp_path)
    np.testing.assert_array_equal(X_back, gray.reshape(1, 784))
    assert y_back.tolist() == [7]


def test_unreadable_image(tmp_path, digits, snapshot):
    save_image_folder(tmp_path, *digits)
    (tmp_path / "3" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n but then nothing")
    before = snapshot(tmp_path)
    with pytest.raises(DataError, match=r"broken\.png: cannot read as an image"):
        load_image_folder(tmp_path)
    assert snapshot(tmp_path) == before


def test_wrong_size_image(tmp_path, snapshot):
    (tmp_path / "1").mkdir()
    Image.new("L", (32, 30)).save(tmp_path / "1" / "big.png")
    before = snapshot(tmp_path)
    with pytest.raises(DataError, match=r"big\.png: expected a 28x28 image, found 32x30; resize"):
        load_image_folder(tmp_path)
    assert snapshot(tmp_path) == before


def test_class_folders_without_images(tmp_path):
    (tmp_path / "0").mkdir()
    (tmp_path / "0" / "readme.txt").write_text("no images here")
    with pytest.raises(DataError, match=f"{tmp_path}: the class folders hold no images"):
        load_image_folder(tmp_path)


def test_folder_without_class_folders(tmp_path):
    (tmp_path / "cats").mkdir()
    with pytest.raises(DataError, match="expected class folders named 0-9, found none"):
        load_image_folder(tmp_path)


def test_missing_split_folder(tmp_path):
    with pytest.raises(DataError, match="test: folder not found"):
        load_image_folder(tmp_path, split="test")
