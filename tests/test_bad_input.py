"""Malformed input a user could plausibly produce: every case gives mnistlib's own error
naming the file, option or argument, changes no file, and (on the command line) exits with
status 2 and one line before any data are loaded.

Each malformed input is built here, inside tmp_path.
"""
import gzip
import io
import json
import pathlib
import zipfile

import numpy as np
import pytest
from PIL import Image

import mnistlib
from mnistlib import MLP, DataError, ModelFileError, ShapeError, load_model, save_model
from mnistlib import download as download_module
from mnistlib.__main__ import main
from mnistlib.augment import random_shift, shifter
from mnistlib.data import load_mnist
from mnistlib.download import download_file
from mnistlib.errors import WriteError
from mnistlib.formats import load_csv, load_image_folder, save_csv, save_image_folder
from mnistlib.idx import read_idx, write_idx
from mnistlib.prepare import prepare_digit
from mnistlib.preprocess import one_hot, shuffle, train_dev_split


def state(root):
    """{relative path: (bytes, mtime_ns)} of every file under root, None for folders."""
    def content(path):  # open(), not read_bytes(): one test replaces Path.read_bytes
        with open(path, "rb") as f:
            return f.read(), path.stat().st_mtime_ns
    root = pathlib.Path(root)
    return {str(p.relative_to(root)): content(p) if p.is_file() else None for p in sorted(root.rglob("*"))}


def raises_unchanged(root, error, text, call):
    """Run call(); assert it raises `error` with every string of `text` in its message and
    that nothing under root changed. Returns the message."""
    before = state(root)
    with pytest.raises(error) as info:
        call()
    message = str(info.value)
    for part in [text] if isinstance(text, str) else text:
        assert part in message, message
    assert state(root) == before
    return message


def idx_header(type_code, dims):
    return bytes([0, 0, type_code, len(dims)]) + np.array(dims, dtype=">u4").tobytes()


def npy_bytes(array):
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


# ---------------------------------------------------------------- IDX files


@pytest.mark.parametrize("header, text", [
    (idx_header(0x08, [2**31, 2**31, 4]), f"expected {2**64} data bytes"),  # wraps to 0 in int64
    (idx_header(0x0C, [2**32 - 1] * 2), f"expected {(2**32 - 1) ** 2 * 4} data bytes"),
    (idx_header(0x08, [2**32 - 1] * 3), f"expected {(2**32 - 1) ** 3} data bytes"),
    (idx_header(0x08, [1] * 100) + b"\x00", "cannot make an array of dims"),  # NumPy's max is 64
], ids=["wraps-past-64-bits", "int32-2^32-1", "uint8-2^32-1", "100-dims"])
@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gz"])
def test_idx_impossible_dims(tmp_path, header, text, gz):
    path = tmp_path / ("huge-idx.gz" if gz else "huge-idx")
    path.write_bytes(gzip.compress(header) if gz else header)
    raises_unchanged(tmp_path, DataError, [str(path), text], lambda: read_idx(path))


def test_idx_unreadable_file_names_it(tmp_path, monkeypatch):
    path = tmp_path / "locked-idx"
    path.write_bytes(idx_header(0x08, [1]) + b"\x07")

    def denied(self):
        raise PermissionError(13, "Permission denied", str(self))
    monkeypatch.setattr(pathlib.Path, "read_bytes", denied)
    raises_unchanged(tmp_path, DataError, [str(path), "cannot read", "Permission denied"],
                     lambda: read_idx(path))


@pytest.mark.parametrize("array, where, error, text", [
    (np.arange(3), "x-idx", DataError, "IDX cannot store dtype int64"),
    (np.array(7, dtype=np.uint8), "x-idx", DataError, "found shape ()"),
    (np.arange(3, dtype=np.uint8), ".", WriteError, "cannot write the IDX file"),  # a folder
    (np.arange(3, dtype=np.uint8), "a-file/x-idx", WriteError, "cannot write the IDX file"),
])
def test_write_idx_refuses_and_writes_nothing(tmp_path, array, where, error, text):
    (tmp_path / "a-file").write_bytes(b"keep me")
    path = tmp_path / where
    raises_unchanged(tmp_path, error, [str(path), text], lambda: write_idx(path, array))


# ---------------------------------------------------------------- model files


GOOD_META = {"format": "mnistlib-mlp-1", "sizes": [784, 5, 10], "activations": ["relu"], "init": "he"}


def model_file(path, meta=GOOD_META):
    """Write a 784-5-10 model .npz as save_model does, but with `meta` (any JSON value)."""
    np.savez(path, meta=np.array(json.dumps(meta)), **MLP([784, 5, 10]).params)
    return path


def zip_model(path, **members):
    """A model .npz written member by member (W1.npy ... and meta.npy), some replaced by `members`."""
    entries = {"meta.npy": npy_bytes(np.array(json.dumps(GOOD_META)))}
    entries |= {f"{k}.npy": npy_bytes(v) for k, v in MLP([784, 5, 10]).params.items()}
    with zipfile.ZipFile(path, "w") as z:
        for name, content in (entries | members).items():
            z.writestr(name, content)
    return path


HUGE_NPY = npy_bytes(np.zeros((2, 2))).replace(b"(2, 2)", b"(10000000, 10000000)")

BAD_MODELS = {
    "meta is a list": (lambda p: model_file(p, [1, 2]), "expected a JSON object, found list"),
    "meta is a string": (lambda p: model_file(p, "hello"), "expected a JSON object, found str"),
    "meta is a number": (lambda p: model_file(p, 0), "expected a JSON object, found int"),
    "huge sizes": (lambda p: model_file(p, GOOD_META | {"sizes": [10**9, 10**9, 10]}),
                   "W1 should have shape (1000000000, 1000000000)"),
    "float sizes": (lambda p: model_file(p, GOOD_META | {"sizes": [784.5, 5, 10]}),
                    "sizes must be a list of at least two positive integers"),
    "no sizes": (lambda p: model_file(p, {k: v for k, v in GOOD_META.items() if k != "sizes"}),
                 "no 'sizes' entry"),
    "npy, not npz": (lambda p: p.write_bytes(npy_bytes(np.zeros(3))), "a single .npy array"),
    "zip, not npz": (lambda p: zipfile.ZipFile(p, "w").close(), "no 'meta' entry"),
    "member not npy": (lambda p: zip_model(p, **{"W1.npy": b"not an array"}), "['W1'] are not NumPy"),
    "tampered npy header": (lambda p: zip_model(p, **{"W1.npy": HUGE_NPY}), "not a readable .npz"),
    "truncated": (lambda p: p.write_bytes(model_file(p).read_bytes()[:300]), "not a readable .npz"),
    "empty": (lambda p: p.write_bytes(b""), "not a readable .npz"),
}


@pytest.mark.parametrize("case", list(BAD_MODELS))
def test_load_model_refuses(tmp_path, monkeypatch, case):
    make, text = BAD_MODELS[case]
    path = tmp_path / "tampered.npz"
    make(path)
    if case == "huge sizes":  # the sizes are checked against the arrays before any network is built
        monkeypatch.setattr("mnistlib.saving.MLP", lambda *a, **k: pytest.fail("MLP built"))
    raises_unchanged(tmp_path, ModelFileError, [str(path), text], lambda: load_model(path))


def test_load_model_of_a_folder(tmp_path):
    raises_unchanged(tmp_path, ModelFileError, [str(tmp_path), "is a folder"],
                     lambda: load_model(tmp_path))


@pytest.mark.parametrize("where, text", [
    (".", "is a folder"),
    ("a-file/m.npz", "a-file is a file, not a folder"),
])
def test_save_model_where_it_cannot_write(tmp_path, where, text):
    (tmp_path / "a-file").write_bytes(b"keep me")
    path = tmp_path / where
    raises_unchanged(tmp_path, WriteError, [str(path), text],
                     lambda: save_model(path, MLP([784, 5, 10])))


def test_save_model_without_permission(tmp_path, monkeypatch):
    monkeypatch.setattr("mnistlib.saving.os.access", lambda *args: False)  # root may write anywhere
    raises_unchanged(tmp_path, WriteError, [str(tmp_path / "m.npz"), "no permission to write in"],
                     lambda: save_model(tmp_path / "m.npz", MLP([784, 5, 10])))


@pytest.mark.parametrize("read, error", [
    (read_idx, DataError), (load_csv, DataError), (load_model, ModelFileError),
    (prepare_digit, DataError),
])
def test_a_folder_where_a_file_is_expected(tmp_path, read, error):
    folder = tmp_path / "digits.csv"
    folder.mkdir()
    raises_unchanged(tmp_path, error, str(folder), lambda: read(folder))


def test_save_model_extra_info(tmp_path):
    path = save_model(tmp_path / "m.npz", MLP([784, 5, 10]), dev_accuracy=np.float32(0.5))
    assert load_model(path).meta["dev_accuracy"] == 0.5  # NumPy scalars are stored as numbers
    raises_unchanged(tmp_path, TypeError, "extra info when=", lambda: save_model(
        tmp_path / "m.npz", MLP([784, 5, 10]), when=object()))


# ---------------------------------------------------------------- command line


@pytest.fixture
def no_data(tmp_path, monkeypatch):
    """MNIST_DATA_DIR is an empty folder and the loader fails the test if called.
    Returns the folder in which to write --out (tmp_path/'out', with one file in it)."""
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("MNIST_DATA_DIR", str(tmp_path / "empty"))
    monkeypatch.setattr(mnistlib, "load_mnist", lambda *a, **k: pytest.fail("data were loaded"))
    monkeypatch.setattr(mnistlib.data, "load_dataset", lambda *a, **k: pytest.fail("data were loaded"))
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "a-file").write_bytes(b"keep me")
    return tmp_path / "out"


@pytest.mark.parametrize("options, option", [
    (["--lr", "inf"], "--lr"), (["--lr", "nan"], "--lr"), (["--lr", "0"], "--lr"),
    (["--lr", "-0.1"], "--lr"), (["--lr", "1e999"], "--lr"), (["--lr", "fast"], "--lr"),
    (["--weight-decay", "-1e-4"], "--weight-decay"), (["--weight-decay", "nan"], "--weight-decay"),
    (["--weight-decay", "inf"], "--weight-decay"),
    (["--momentum", "1"], "--momentum"), (["--momentum", "-0.5"], "--momentum"),
    (["--momentum", "nan"], "--momentum"),
    (["--augment", "5"], "--augment"), (["--augment", "28"], "--augment"),
    (["--augment", "-1"], "--augment"), (["--augment", "2.5"], "--augment"),
    (["--dev-size", "0", "--patience", "3"], "--patience"),
    (["--dev-size", "-1"], "--dev-size"), (["--dev-size", "60000"], "--dev-size"),
    (["--dev-size", "0.1"], "--dev-size"),
    (["--epochs", "0"], "--epochs"), (["--epochs", "-3"], "--epochs"), (["--epochs", "1e3"], "--epochs"),
    (["--batch-size", "0"], "--batch-size"), (["--batch-size", "nan"], "--batch-size"),
    (["--hidden", "0"], "--hidden"), (["--hidden", "100", "-5"], "--hidden"),
    (["--hidden", "100000", "100000"], "--hidden"),
    (["--seed", "-1"], "--seed"), (["--seed", "0.5"], "--seed"),
    (["--patience", "0"], "--patience"),
    (["--data-dir", ""], "--data-dir"),
], ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_train_options_refused_before_loading(no_data, capsys, options, option):
    out = no_data / "model.npz"
    before = state(no_data.parent)
    with pytest.raises(SystemExit) as info:
        main(["train", "--quiet", "--out", str(out), *options])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and f"argument {option}:" in err, err
    assert not out.exists() and state(no_data.parent) == before


@pytest.mark.parametrize("out, text", [
    ("", "empty string"),
    (".", "is a folder"),
    ("a-file/model.npz", "a-file is a file, not a folder"),
])
def test_train_out_refused_before_loading(no_data, capsys, out, text):
    before = state(no_data.parent)
    with pytest.raises(SystemExit) as info:
        main(["train", "--quiet", "--out", str(no_data / out) if out else ""])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "argument --out:" in err and text in err, err
    assert state(no_data.parent) == before


def test_evaluate_empty_data_dir_refused_before_loading(no_data, tmp_path, capsys):
    path = save_model(tmp_path / "m.npz", MLP([784, 5, 10]))
    with pytest.raises(SystemExit) as info:
        main(["evaluate", str(path), "--data-dir", ""])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "argument --data-dir:" in err


@pytest.mark.parametrize("command", ["evaluate", "predict"])
@pytest.mark.parametrize("make, text", [
    (lambda p: save_model(p, MLP([100, 5, 10])), "expected 784 inputs and 10 outputs"),
    (lambda p: save_model(p, MLP([784, 5, 3])), "expected 784 inputs and 10 outputs"),
    (lambda p: p.write_bytes(npy_bytes(np.zeros(3))), "a single .npy array"),
    (lambda p: model_file(p, [1]), "expected a JSON object"),
])
def test_bad_model_file_on_the_command_line(no_data, tmp_path, capsys, command, make, text):
    path = tmp_path / "model.npz"
    make(path)
    Image.new("L", (28, 28)).save(tmp_path / "digit.png")
    before = state(tmp_path)
    argv = [command, str(path)] + ([str(tmp_path / "digit.png")] if command == "predict" else [])
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and str(path) in err and text in err, err
    assert state(tmp_path) == before


def test_predict_unreadable_images_give_one_line(tmp_path, capsys):
    path = save_model(tmp_path / "m.npz", MLP([784, 5, 10]))
    a = np.full((40, 40), 60000, np.uint16)
    a[10:30, 18:22] = 20000
    Image.fromarray(a).save(tmp_path / "ok16.png")  # 16-bit, dark on light: readable now
    Image.fromarray(np.linspace(0, 1, 1600, dtype=np.float32).reshape(40, 40), mode="F").save(
        tmp_path / "float.tif")
    assert main(["predict", str(path), str(tmp_path / "ok16.png")]) == 0
    capsys.readouterr()
    assert main(["predict", str(path), str(tmp_path / "ok16.png"), str(tmp_path / "float.tif")]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "float.tif" in err and "expected gray levels 0-255" in err


# ---------------------------------------------------------------- preprocess and augment


@pytest.mark.parametrize("call, text", [
    (lambda: one_hot(np.array([0, 1]), 0), "num_classes"),
    (lambda: one_hot(np.array([0, 1]), -3), "num_classes"),
    (lambda: one_hot(np.array([0, 1]), 2.5), "num_classes"),
    (lambda: one_hot(np.array([0, 1]), True), "num_classes"),
    (lambda: one_hot(np.array([0, -1])), "found -1 at index 1"),
    (lambda: one_hot(np.array([3, 10])), "found 10 at index 1"),
    (lambda: one_hot(np.array([1.0, 2.0])), "integer labels"),
    (lambda: one_hot(np.array([np.nan])), "integer labels"),
    (lambda: train_dev_split(np.zeros((50, 3)), np.zeros(50), float("nan")), "dev_size"),
    (lambda: train_dev_split(np.zeros((50, 3)), np.zeros(50), float("inf")), "dev_size"),
    (lambda: train_dev_split(np.zeros((50, 3)), np.zeros(50), 0.001), "dev_size"),
    (lambda: train_dev_split(np.zeros((50, 3)), np.zeros(50), 50), "dev_size"),
    (lambda: train_dev_split(np.zeros((50, 3)), np.zeros(50), "10"), "dev_size"),
    (lambda: train_dev_split(np.zeros((50, 3)), np.zeros(50), 10, seed=-1), "seed"),
    (lambda: train_dev_split(np.float64(3), np.zeros(50), 10), r"found shapes \(\) and \(50,\)"),
    (lambda: shuffle(np.zeros((5, 3)), np.zeros(5), "seed"), "rng"),
    (lambda: shuffle(np.zeros((5, 3)), np.zeros(5), -1), "rng"),
    (lambda: random_shift(np.zeros((2, 784)), np.random.default_rng(0), -1), "max_shift"),
    (lambda: random_shift(np.zeros((2, 784)), np.random.default_rng(0), 1.5), "max_shift"),
    (lambda: random_shift(np.zeros((2, 784)), np.random.default_rng(0), 28), "max_shift"),
    (lambda: shifter(-2), "max_shift"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_preprocess_and_augment_arguments(call, text):
    with pytest.raises(DataError, match=text):
        call()


@pytest.mark.parametrize("shape", [(784,), (2, 100), (2, 28, 28)])
def test_random_shift_wrong_shape(shape):
    with pytest.raises(ShapeError, match=r"\(B, 784\)"):
        random_shift(np.zeros(shape, np.float32), np.random.default_rng(0), 2)


def test_split_accepts_numpy_float_fraction():
    assert len(train_dev_split(np.zeros((50, 3)), np.zeros(50), np.float32(0.2))[3]) == 10


# ---------------------------------------------------------------- CSV and image folders


HEADER = "label," + ",".join(f"pixel{i}" for i in range(784))
ROW = "3," + ",".join(["0"] * 783) + ",7"


def test_csv_with_an_extra_leading_value_is_not_read_as_an_index(tmp_path):
    path = tmp_path / "digits.csv"
    path.write_text(f"{HEADER}\n9,{ROW}\n")  # pandas would silently drop the 9 as a row label
    raises_unchanged(tmp_path, DataError, [str(path), "has 786 values", "785 columns"],
                     lambda: load_csv(path))


@pytest.mark.parametrize("where, text", [(".", "cannot write"), ("a-file/d.csv", "cannot write"),
                                         ("missing/d.csv", "cannot write")])
def test_save_csv_where_it_cannot_write(tmp_path, where, text):
    (tmp_path / "a-file").write_bytes(b"keep me")
    path = tmp_path / where
    raises_unchanged(tmp_path, WriteError, [str(path), text], lambda: save_csv(
        path, np.zeros((1, 784), np.uint8), np.zeros(1, np.uint8)))


def test_save_image_folder_under_a_file(tmp_path):
    (tmp_path / "a-file").write_bytes(b"keep me")
    raises_unchanged(tmp_path, WriteError, [str(tmp_path / "a-file"), "cannot write"],
                     lambda: save_image_folder(tmp_path / "a-file", np.zeros((1, 784), np.uint8),
                                               np.zeros(1, np.uint8)))


def test_image_folder_16_bit_is_scaled_not_clipped(tmp_path):
    levels = np.arange(784, dtype=np.uint16).reshape(28, 28) * 83  # 0 .. 65000
    (tmp_path / "4").mkdir()
    Image.fromarray(levels).save(tmp_path / "4" / "a.png")
    X, y = load_image_folder(tmp_path)
    np.testing.assert_array_equal(X[0], np.round(levels.ravel() / 257).astype(np.uint8))


@pytest.mark.parametrize("values, text", [
    (np.linspace(0, 1, 784, dtype=np.float32), "expected gray levels 0-255"),
    (np.linspace(0, 1000, 784, dtype=np.float32), "expected gray levels 0-255"),
])
def test_image_folder_32_bit_of_unknown_scale(tmp_path, values, text):
    (tmp_path / "4").mkdir()
    Image.fromarray(values.reshape(28, 28), mode="F").save(tmp_path / "4" / "a.tif")
    raises_unchanged(tmp_path, DataError, ["a.tif", text], lambda: load_image_folder(tmp_path))


def test_image_too_large_for_pillow(tmp_path, monkeypatch):
    (tmp_path / "4").mkdir()
    Image.new("L", (28, 28)).save(tmp_path / "4" / "a.png")
    Image.new("L", (40, 40), 255).save(tmp_path / "big.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # so these count as decompression bombs
    raises_unchanged(tmp_path, DataError, ["a.png", "cannot read as an image"],
                     lambda: load_image_folder(tmp_path))
    raises_unchanged(tmp_path, DataError, ["big.png", "not a readable image"],
                     lambda: prepare_digit(tmp_path / "big.png"))


# ---------------------------------------------------------------- prepare_digit


def digit(h=40, w=40):
    a = np.zeros((h, w))
    a[h // 4:3 * h // 4, w // 2 - 2:w // 2 + 2] = 255
    return a


@pytest.mark.parametrize("image, text", [
    (np.full((40, 40), np.nan), "NaN or infinite"),
    (np.where(digit() > 0, np.inf, 0), "NaN or infinite"),
    (digit() * 20, "values from 0 to 5100"),
    (digit() - 10, "values from -10 to 245"),
    (np.array([["a"] * 40] * 40), "numeric gray levels"),
])
def test_prepare_refuses_values_that_are_not_gray_levels(image, text):
    with pytest.raises(DataError, match=f"my-digit: expected .*{text}"):
        prepare_digit(image, name="my-digit")


NOISE = np.random.default_rng(0).integers(0, 256, (100, 100))  # compresses badly: a long PNG

ODD_IMAGES = {
    "empty file": (lambda p: p.write_bytes(b""), "not a readable image"),
    "all black": (lambda p: Image.new("L", (40, 40), 0).save(p), "no digit found"),
    "1x1": (lambda p: Image.new("L", (1, 1), 255).save(p), "at least 28x28"),
    "transparent RGBA": (lambda p: Image.new("RGBA", (40, 40), (0, 0, 0, 0)).save(p), "no digit found"),
    "truncated": (lambda p: p.write_bytes(png_bytes(NOISE)[:len(png_bytes(NOISE)) // 2]),
                  "not a readable image"),
}


def png_bytes(a):
    buffer = io.BytesIO()
    Image.fromarray(a.astype(np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("case", list(ODD_IMAGES))
def test_prepare_odd_image_files(tmp_path, case):
    make, text = ODD_IMAGES[case]
    path = tmp_path / "odd.png"
    make(path)
    raises_unchanged(tmp_path, DataError, [str(path), text], lambda: prepare_digit(path))


def test_prepare_16_bit_dark_on_light(tmp_path):
    a = np.full((40, 40), 60000, np.uint16)  # paper 60000, ink 20000: 8-bit conversion clipped both
    a[10:30, 18:22] = 20000
    Image.fromarray(a).save(tmp_path / "d16.png")
    Image.fromarray(np.round(a / 257).astype(np.uint8)).save(tmp_path / "d8.png")
    np.testing.assert_allclose(prepare_digit(tmp_path / "d16.png"), prepare_digit(tmp_path / "d8.png"))


def test_prepare_large_photo_is_shrunk_first(tmp_path):
    Image.fromarray(255 - np.kron(digit(), np.ones((100, 100))).astype(np.uint8)).save(tmp_path / "big.png")
    row = prepare_digit(tmp_path / "big.png")  # 4000x4000: would need gigabytes unshrunk
    np.testing.assert_allclose(row, prepare_digit(digit()), atol=0.05)


# ---------------------------------------------------------------- data folders and downloads


def test_load_mnist_with_empty_or_file_data_dir(isolated_search):
    (isolated_search / "a-file").write_bytes(b"keep me")
    raises_unchanged(isolated_search, DataError, "empty string", lambda: load_mnist(""))
    raises_unchanged(isolated_search, DataError, [str(isolated_search / "a-file"), "found a file"],
                     lambda: load_mnist(isolated_search / "a-file", download=False))


FILENAME = "train-labels-idx1-ubyte.gz"


@pytest.mark.parametrize("kwargs, error, text", [
    (dict(mirrors=["example.com/mnist/"]), DataError, "bad mirror URL 'example.com/mnist/'"),
    (dict(mirrors=[""]), DataError, "bad mirror URL ''"),
    (dict(mirrors=["https://x/"], sha256="abc"), DataError, "expected sha256 as 64 hex digits"),
    (dict(mirrors=["https://x/"], timeout=0), DataError, "expected timeout"),
    (dict(mirrors=["https://x/"], timeout=float("nan")), DataError, "expected timeout"),
    (dict(mirrors=["https://x/"], dest_dir="a-file"), WriteError, "found a file"),
])
def test_download_arguments_refused_before_any_request(tmp_path, monkeypatch, kwargs, error, text):
    (tmp_path / "a-file").write_bytes(b"keep me")
    monkeypatch.setattr(download_module.urllib.request, "urlopen",
                        lambda *a, **k: pytest.fail("a request was made"))
    kwargs = dict(kwargs, dest_dir=tmp_path / kwargs.get("dest_dir", "dest"))
    raises_unchanged(tmp_path, error, [text], lambda: download_file(FILENAME, progress=False, **kwargs))


def test_download_larger_than_max_bytes_is_refused(tmp_path, monkeypatch):
    (tmp_path / "mirror").mkdir()
    (tmp_path / "mirror" / FILENAME).write_bytes(gzip.compress(np.random.default_rng(0).bytes(1000)))
    monkeypatch.setattr(download_module, "MAX_BYTES", 100)
    with pytest.raises(mnistlib.DownloadError, match=f"(?s){FILENAME}.*more than the 100 "):
        download_file(FILENAME, [(tmp_path / "mirror").as_uri() + "/"], tmp_path / "dest", progress=False)
    assert list((tmp_path / "dest").iterdir()) == []
