"""Loading data sets: the real MNIST, checksum and consistency checks, and where files are looked for."""

import dataclasses
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from mnistlib import data
from mnistlib.data import (
    CLASS_NAMES,
    FASHION_MNIST,
    MNIST,
    cache_dir,
    find_data_dir,
    get_spec,
    load_dataset,
    load_mnist,
    missing_files,
)
from mnistlib.download import sha256_of_file
from mnistlib.errors import ChecksumError, DataError
from mnistlib.idx import read_idx, write_idx

TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


# ---------------------------------------------------------------- the real files


def test_shapes_and_dtypes(mnist):
    assert mnist.X_train.shape == (60000, 784) and mnist.X_train.dtype == np.uint8
    assert mnist.y_train.shape == (60000,) and mnist.y_train.dtype == np.uint8
    assert mnist.X_test.shape == (10000, 784) and mnist.X_test.dtype == np.uint8
    assert mnist.y_test.shape == (10000,) and mnist.y_test.dtype == np.uint8


def test_label_counts_per_class(mnist):
    assert np.bincount(mnist.y_train, minlength=10).tolist() == TRAIN_COUNTS
    assert np.bincount(mnist.y_test, minlength=10).tolist() == TEST_COUNTS


def test_first_examples(mnist):
    assert mnist.y_train[0] == 5 and mnist.y_test[0] == 7
    # a row is the image read row by row: row r of the 28x28 image is X[i, 28*r : 28*r+28]
    image = mnist.X_train[0].reshape(28, 28)
    assert image[0].sum() == 0 and image[14].sum() > 0  # blank top border, ink in the middle


def test_rows_are_the_idx_images_flattened(mnist, mnist_dir):
    images = read_idx(mnist_dir / "t10k-images-idx3-ubyte.gz")
    np.testing.assert_array_equal(mnist.X_test, images.reshape(10000, 784))


def test_arrays_are_writable_and_c_contiguous(mnist):
    for array in mnist:
        assert array.flags.writeable and array.flags.c_contiguous


def test_spec_checksums_match_the_real_files_and_sha256sums(mnist_dir):
    listed = dict(reversed(line.split()) for line in (mnist_dir / "SHA256SUMS.raw").read_text().splitlines())
    for filename, expected in MNIST.sha256.items():
        assert listed[filename.removesuffix(".gz")] == expected
        assert sha256_of_file(mnist_dir / filename) == expected


def test_each_file_is_read_once(monkeypatch, mnist_dir):
    reads = []
    real_read = data.read_decompressed

    def counting_read(path):
        reads.append(path)
        return real_read(path)

    monkeypatch.setattr(data, "read_decompressed", counting_read)
    load_mnist(mnist_dir, download=False, verify=True)
    assert sorted(Path(p).name for p in reads) == sorted(MNIST.files.values())


def test_load_mnist_without_arguments_finds_repo_data(monkeypatch):
    monkeypatch.delenv("MNIST_DATA_DIR", raising=False)
    assert find_data_dir() == data.REPO_DATA_ROOT / "mnist"
    assert load_mnist(download=False).X_train.shape == (60000, 784)


# ---------------------------------------------------------------- bad files: errors, and nothing changed


def link_real_files(src: Path, dest: Path, except_file: str | None = None) -> Path:
    """Symlink the real MNIST files from src into dest (all but except_file); return dest."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in MNIST.files.values():
        if name != except_file:
            (dest / name).symlink_to(src / name)
    return dest


def test_checksum_mismatch_in_real_data(tmp_path, mnist_dir, snapshot):
    directory = link_real_files(mnist_dir, tmp_path / "d", except_file="t10k-labels-idx1-ubyte.gz")
    labels = read_idx(mnist_dir / "t10k-labels-idx1-ubyte.gz")
    labels[0] = 3  # a plausible but wrong label: the file is still valid IDX
    write_idx(directory / "t10k-labels-idx1-ubyte.gz", labels)
    before = snapshot(tmp_path)
    with pytest.raises(ChecksumError) as info:
        load_mnist(directory, download=False)
    message = str(info.value)
    assert "t10k-labels-idx1-ubyte.gz" in message
    assert MNIST.sha256["t10k-labels-idx1-ubyte.gz"] in message  # expected
    assert sha256_of_file(directory / "t10k-labels-idx1-ubyte.gz") in message  # found
    assert snapshot(tmp_path) == before
    assert load_mnist(directory, download=False, verify=False).y_test[0] == 3


def test_checksum_mismatch_in_tiny_data(tmp_path, tiny_dataset, snapshot):
    spec, _ = tiny_dataset(tmp_path / "d")
    wrong = dataclasses.replace(spec, sha256={**spec.sha256, "train-images-idx3-ubyte.gz": "0" * 64})
    before = snapshot(tmp_path)
    with pytest.raises(ChecksumError, match="train-images-idx3-ubyte.gz: SHA-256 .* expected 0{64}"):
        load_dataset(wrong, tmp_path / "d", download=False)
    assert snapshot(tmp_path) == before


def test_tiny_dataset_loads_and_flattens(tmp_path, tiny_dataset):
    spec, arrays = tiny_dataset(tmp_path / "d")
    loaded = load_dataset(spec, tmp_path / "d", download=False)
    np.testing.assert_array_equal(loaded.X_train, arrays["train_images"].reshape(12, 784))
    np.testing.assert_array_equal(loaded.y_test, arrays["test_labels"])


def test_expected_count_mismatch(tmp_path, mnist_dir, snapshot):
    directory = link_real_files(mnist_dir, tmp_path / "d")
    spec = dataclasses.replace(MNIST, n_test=10001)
    before = snapshot(tmp_path)
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte\.gz: expected 10001 test examples, found 10000"):
        load_dataset(spec, directory, download=False)
    assert snapshot(tmp_path) == before


def replace_file(directory: Path, key: str, array: np.ndarray) -> str:
    """Overwrite one of the data set's files with ``array``; return its file name."""
    name = data.MNIST_FILES[key]
    write_idx(directory / name, array)
    return name


BAD_ARRAYS = {
    "fewer labels than images": ("train_labels", np.zeros(11, np.uint8), "holds 12 images but .* holds 11 labels"),
    "label 10": ("test_labels", np.array([0, 1, 10, 3, 4], np.uint8), "expected labels 0-9, found 10 at index 2"),
    "images 27 wide": ("train_images", np.zeros((12, 28, 27), np.uint8),
                       r"shape \(N, 28, 28\).*found shape \(12, 28, 27\)"),
    "images 2-D": ("test_images", np.zeros((5, 784), np.uint8), r"found shape \(5, 784\)"),
    "int16 images": ("train_images", np.zeros((12, 28, 28), np.int16), "dtype int16"),
    "labels 2-D": ("train_labels", np.zeros((12, 1), np.uint8), r"expected labels of shape \(N,\)"),
}


@pytest.mark.parametrize("case", list(BAD_ARRAYS))
def test_inconsistent_files(tmp_path, tiny_dataset, snapshot, case):
    key, array, message = BAD_ARRAYS[case]
    spec, _ = tiny_dataset(tmp_path / "d")
    name = replace_file(tmp_path / "d", key, array)
    spec = dataclasses.replace(spec, sha256={})  # checksums would catch these first
    before = snapshot(tmp_path)
    with pytest.raises(DataError, match=message) as info:
        load_dataset(spec, tmp_path / "d", download=False)
    assert name in str(info.value)
    assert snapshot(tmp_path) == before


def test_truncated_file_in_data_dir(tmp_path, tiny_dataset, snapshot):
    spec, _ = tiny_dataset(tmp_path / "d")
    path = tmp_path / "d" / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-20])
    before = snapshot(tmp_path)
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte.gz: gzip data is truncated"):
        load_dataset(spec, tmp_path / "d", download=False)
    assert snapshot(tmp_path) == before


# ---------------------------------------------------------------- where the files are looked for


def test_search_order(isolated_search, monkeypatch, mnist_dir):
    tmp = isolated_search
    explicit = link_real_files(mnist_dir, tmp / "explicit")
    from_env = link_real_files(mnist_dir, tmp / "env")
    repo = link_real_files(mnist_dir, tmp / "repo-data" / "mnist")
    cache = link_real_files(mnist_dir, tmp / "cache" / "mnist")
    monkeypatch.setenv("MNIST_DATA_DIR", str(from_env))

    assert find_data_dir(MNIST, explicit) == explicit
    assert find_data_dir(MNIST) == from_env
    monkeypatch.delenv("MNIST_DATA_DIR")
    assert find_data_dir(MNIST) == repo
    shutil.rmtree(repo)
    assert find_data_dir(MNIST) == cache
    (cache / "train-images-idx3-ubyte.gz").unlink()  # an incomplete directory does not count
    assert find_data_dir(MNIST) is None


def test_loader_reads_from_the_directory_it_finds(isolated_search, monkeypatch, tiny_dataset):
    tmp = isolated_search
    spec, _ = tiny_dataset(tmp / "env", n_train=7)
    tiny_dataset(tmp / "cache" / "tiny", n_train=9)
    spec = dataclasses.replace(spec, sha256={}, n_train=None)  # accept both copies
    assert load_dataset(spec, download=False).X_train.shape == (9, 784)
    monkeypatch.setenv("TINY_DATA_DIR", str(tmp / "env"))
    assert load_dataset(spec, download=False).X_train.shape == (7, 784)


@pytest.mark.parametrize("how", ["argument", "env var"])
def test_explicit_directory_missing_files_is_an_error(isolated_search, monkeypatch, mnist_dir, how):
    tmp = isolated_search
    partial = link_real_files(mnist_dir, tmp / "partial", except_file="train-labels-idx1-ubyte.gz")
    link_real_files(mnist_dir, tmp / "repo-data" / "mnist")  # would be found, but must not be used
    if how == "env var":
        monkeypatch.setenv("MNIST_DATA_DIR", str(partial))
    with pytest.raises(DataError, match="partial.*missing: train-labels-idx1-ubyte.gz"):
        load_mnist(partial if how == "argument" else None, download=False)


def test_nothing_found_without_download_lists_the_places(isolated_search):
    with pytest.raises(DataError) as info:
        load_mnist(download=False)
    message = str(info.value)
    assert str(isolated_search / "repo-data" / "mnist") in message
    assert str(isolated_search / "cache" / "mnist") in message
    assert "MNIST_DATA_DIR" in message
    assert not (isolated_search / "cache").exists()  # looking creates nothing


def test_cache_dir_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv("MNISTLIB_CACHE", str(tmp_path / "a"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "b"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir(MNIST) == tmp_path / "a" / "mnist"
    monkeypatch.delenv("MNISTLIB_CACHE")
    assert cache_dir(FASHION_MNIST) == tmp_path / "b" / "mnistlib" / "fashion-mnist"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_dir(MNIST) == tmp_path / "home" / ".cache" / "mnistlib" / "mnist"


def test_missing_files(tmp_path, mnist_dir):
    assert missing_files(mnist_dir, MNIST) == []
    assert missing_files(tmp_path, MNIST) == list(MNIST.files.values())


def test_fashion_mnist_spec(isolated_search, monkeypatch, tiny_dataset):
    assert FASHION_MNIST.env_var == "FASHION_MNIST_DATA_DIR"
    assert "/usr/share/datasets/fashion-mnist" in FASHION_MNIST.system_dirs
    assert FASHION_MNIST.files == MNIST.files
    _, arrays = tiny_dataset(isolated_search / "fashion")
    monkeypatch.setenv("FASHION_MNIST_DATA_DIR", str(isolated_search / "fashion"))
    with pytest.raises(ChecksumError, match="train-images-idx3-ubyte.gz"):  # the recorded checksums are checked
        load_dataset("fashion-mnist", download=False)
    unverified = dataclasses.replace(FASHION_MNIST, sha256={name: None for name in FASHION_MNIST.files.values()})
    with pytest.raises(DataError, match="expected 60000 train examples, found 12"):  # counts still checked
        load_dataset(unverified, download=False)
    small = dataclasses.replace(unverified, n_train=12, n_test=5)
    np.testing.assert_array_equal(load_dataset(small, download=False).y_train, arrays["train_labels"])


def test_fashion_mnist_ships_in_the_repository_and_verifies():
    fashion_dir = data.REPO_DATA_ROOT / "fashion-mnist"
    sums = dict(line.split()[::-1] for line in (fashion_dir / "SHA256SUMS.raw").read_text().splitlines())
    assert {name + ".gz": sha for name, sha in sums.items()} == FASHION_MNIST.sha256
    fashion = load_dataset("fashion-mnist", fashion_dir, download=False)   # verify=True: every checksum checked
    assert fashion.X_train.shape == (60000, 784) and fashion.X_test.shape == (10000, 784)
    assert np.bincount(fashion.y_train, minlength=10).tolist() == [6000] * 10     # balanced, per its authors
    assert np.bincount(fashion.y_test, minlength=10).tolist() == [1000] * 10
    assert fashion.y_train[:3].tolist() == [9, 0, 0] and fashion.y_test[:3].tolist() == [9, 2, 1]
    assert not np.array_equal(fashion.X_test[:100], load_mnist(download=False).X_test[:100])


def test_datasets_by_name():
    assert get_spec("mnist") is MNIST and get_spec("Fashion-MNIST") is FASHION_MNIST
    assert get_spec(FASHION_MNIST) is FASHION_MNIST
    with pytest.raises(ValueError, match="unknown data set 'kmnist': choose one of 'mnist', 'fashion-mnist'"):
        load_dataset("kmnist")
    assert CLASS_NAMES["fashion-mnist"][0] == "T-shirt/top" and CLASS_NAMES["fashion-mnist"][9] == "Ankle boot"
    assert CLASS_NAMES["mnist"] == tuple("0123456789") and all(len(v) == 10 for v in CLASS_NAMES.values())


@pytest.mark.skipif(not os.path.isdir("/usr/share/datasets/fashion-mnist"),
                    reason="dataset-fashion-mnist not installed")
def test_installed_fashion_mnist_loads():
    fashion = load_dataset(FASHION_MNIST, "/usr/share/datasets/fashion-mnist", download=False)
    assert fashion.X_train.shape == (60000, 784) and fashion.X_test.shape == (10000, 784)
