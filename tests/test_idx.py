"""IDX reading and writing: the real MNIST headers, round trips, and every malformed file."""

import gzip
import shutil

import numpy as np
import pytest

from mnistlib.errors import DataError
from mnistlib.idx import IDX_TYPES, idx_bytes, parse_idx, read_idx, write_idx


def test_real_files_have_the_documented_headers(mnist_dir):
    images = read_idx(mnist_dir / "train-images-idx3-ubyte.gz")
    labels = read_idx(mnist_dir / "t10k-labels-idx1-ubyte.gz")
    assert images.shape == (60000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (10000,) and labels.dtype == np.uint8
    assert list(labels[:5]) == [7, 2, 1, 0, 4]
    assert images.max() == 255 and images.min() == 0


def test_header_bytes_follow_the_spec():
    array = np.array([1, 258], dtype=np.int16)
    # magic 00 00, type 0x0B (int16), 1 dim; dim 2 as big-endian uint32; values big-endian
    assert idx_bytes(array) == bytes.fromhex("00000b01 00000002 0001 0102")


@pytest.mark.parametrize("dtype", [dtype.newbyteorder("=") for dtype in IDX_TYPES.values()])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_round_trip_every_type(tmp_path, dtype, suffix):
    if dtype.kind == "u":
        values = np.arange(24) * 10  # up to 230: fits uint8
    elif dtype.kind == "i":
        values = np.arange(-12, 12)  # negative values exercise the sign
    else:
        values = np.arange(-12, 12) * 0.1  # fractions exercise the float encoding
    array = values.reshape(2, 3, 4).astype(dtype)
    path = tmp_path / f"a-idx3{suffix}"
    write_idx(path, array)
    back = read_idx(path)
    assert back.dtype == dtype and back.dtype.isnative
    np.testing.assert_array_equal(back, array)


def test_gzip_is_detected_by_content_not_name(tmp_path):
    array = np.arange(10, dtype=np.uint8)
    raw_named_gz = tmp_path / "raw.gz"
    raw_named_gz.write_bytes(idx_bytes(array))
    gz_named_raw = tmp_path / "compressed-idx1-ubyte"
    gz_named_raw.write_bytes(gzip.compress(idx_bytes(array)))
    np.testing.assert_array_equal(read_idx(raw_named_gz), array)
    np.testing.assert_array_equal(read_idx(gz_named_raw), array)


def test_size_mismatch_message_names_file_dims_and_sizes():
    data = bytes.fromhex("00000803 00000003 0000001c 0000001c") + bytes(3 * 28 * 28 - 1)
    with pytest.raises(DataError) as info:
        parse_idx(data, "train-images-idx3-ubyte.gz")
    assert str(info.value).startswith(
        "train-images-idx3-ubyte.gz: expected 2352 data bytes for dims (3, 28, 28), found 2351"
    )


def header(type_code: int, dims) -> bytes:
    """IDX header bytes for a type code and dims."""
    return bytes([0, 0, type_code, len(dims)]) + np.array(dims, dtype=">u4").tobytes()


BAD_FILES = {
    "empty": (b"", "at least 4 bytes"),
    "wrong magic": (b"\x01\x00" + header(0x08, [3])[2:] + bytes(3), "expected magic bytes 00 00, found 01 00"),
    "bad type code": (header(0x07, [3]) + bytes(3), "unknown IDX type code 0x07"),
    "zero dims": (header(0x08, []), "at least 1 dimension"),
    "short header": (header(0x08, [3, 28, 28])[:10], "needs 16 bytes"),
    "short data": (header(0x08, [3, 2]) + bytes(5), "expected 6 data bytes for dims (3, 2), found 5"),
    "trailing bytes": (header(0x08, [3, 2]) + bytes(7), "found 7 (1 trailing bytes)"),
    "short int32 data": (header(0x0C, [2]) + bytes(7), "expected 8 data bytes for dims (2,), found 7"),
}


@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gz"])
@pytest.mark.parametrize("case", list(BAD_FILES))
def test_malformed_file_raises_data_error_naming_it(tmp_path, snapshot, case, gz):
    content, expected_text = BAD_FILES[case]
    path = tmp_path / ("bad-idx-file.gz" if gz else "bad-idx-file")
    path.write_bytes(gzip.compress(content) if gz else content)
    before = snapshot(tmp_path)
    with pytest.raises(DataError) as info:
        read_idx(path)
    assert "bad-idx-file" in str(info.value)
    assert expected_text in str(info.value)
    assert snapshot(tmp_path) == before


def test_truncated_gzip(tmp_path, mnist_dir, snapshot):
    data = (mnist_dir / "train-labels-idx1-ubyte.gz").read_bytes()
    path = tmp_path / "train-labels-idx1-ubyte.gz"
    path.write_bytes(data[: len(data) // 2])
    before = snapshot(tmp_path)
    with pytest.raises(DataError, match=r"train-labels-idx1-ubyte\.gz: gzip data is truncated"):
        read_idx(path)
    assert snapshot(tmp_path) == before


def test_corrupt_gzip(tmp_path, mnist_dir, snapshot):
    data = bytearray((mnist_dir / "t10k-labels-idx1-ubyte.gz").read_bytes())
    data[len(data) // 2 : len(data) // 2 + 8] = b"garbage!"  # inside the deflate stream
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(bytes(data))
    before = snapshot(tmp_path)
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte\.gz: gzip data is corrupt"):
        read_idx(path)
    assert snapshot(tmp_path) == before


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="no-such-idx.*file not found"):
        read_idx(tmp_path / "no-such-idx")


def test_a_directory_is_not_a_file(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        read_idx(tmp_path)


def test_write_refuses_unsupported_dtypes(tmp_path):
    with pytest.raises(DataError, match="x: IDX cannot store dtype int64"):
        write_idx(tmp_path / "x", np.zeros(3, dtype=np.int64))
    assert not (tmp_path / "x").exists()


def test_copy_of_real_file_is_byte_identical_after_reading(tmp_path, mnist_dir):
    path = shutil.copy(mnist_dir / "t10k-labels-idx1-ubyte.gz", tmp_path)
    before = (tmp_path / "t10k-labels-idx1-ubyte.gz").read_bytes()
    labels = read_idx(path)
    labels[0] = 9  # the returned array is a writable copy, not a view of the file
    assert (tmp_path / "t10k-labels-idx1-ubyte.gz").read_bytes() == before
    assert read_idx(path)[0] == 7
