"""The IDX file format, read and written from its specification.

MNIST ships as IDX files: a tiny header describing an n-dimensional array,
followed by the array's values. The layout, byte by byte:

    offset  size     content
    0       2        magic: two zero bytes
    2       1        type code of the values (table below)
    3       1        number of dimensions, ndim
    4       4*ndim   each dimension as a big-endian uint32
    4+4*ndim ...     the values, row-major (C order), big-endian

    type code  0x08   0x09  0x0B   0x0C   0x0D     0x0E
    values     uint8  int8  int16  int32  float32  float64

So ``train-images-idx3-ubyte`` starts ``00 00 08 03  00 00 EA 60  00 00 00 1C
00 00 00 1C``: uint8 values, 3 dimensions, 60000 x 28 x 28.

Files are often gzip-compressed; ``read_idx`` recognises gzip by its first two
bytes (1F 8B), whatever the file is called. Every malformed input raises
``DataError`` naming the file and saying what was expected and what was found:
a wrong array is never returned silently.
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path

import numpy as np

from mnistlib.errors import DataError, WriteError

GZIP_MAGIC = b"\x1f\x8b"
"""The first two bytes of every gzip stream."""

IDX_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
"""IDX type code -> dtype of the stored values (big-endian where it matters)."""


def decompress(data: bytes, name: str) -> bytes:
    """Return ``data`` gunzipped if it starts with the gzip magic bytes, else unchanged.

    name: how to call the file in error messages.
    Raises DataError if the gzip stream is truncated or corrupt.
    """
    if not data.startswith(GZIP_MAGIC):
        return data
    try:
        return gzip.decompress(data)
    except EOFError as exc:
        raise DataError(f"{name}: gzip data is truncated ({exc})") from exc
    except (gzip.BadGzipFile, zlib.error) as exc:
        raise DataError(f"{name}: gzip data is corrupt ({exc})") from exc


def read_decompressed(path: str | os.PathLike) -> bytes:
    """Return a file's bytes, decompressed if the file is gzip (detected by its magic bytes).

    Raises DataError naming the file if it does not exist, cannot be read, or is a
    truncated or corrupt gzip.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot read the file ({exc.strerror or exc})") from exc
    return decompress(data, name=str(path))


def parse_idx(data: bytes, name: str) -> np.ndarray:
    """Decode the bytes of an (uncompressed) IDX file into an array.

    data: the whole file content, header included.
    name: how to call the file in error messages (usually its path).
    Returns an array with the shape from the header, e.g. (60000, 28, 28) uint8,
    in native byte order, writable (a copy of ``data``).
    Raises DataError on a bad magic number, unknown type code, short header,
    or a data section whose size does not match the dimensions.
    """
    if len(data) < 4:
        raise DataError(f"{name}: expected an IDX header of at least 4 bytes, found {len(data)}")
    if data[0:2] != b"\x00\x00":
        raise DataError(
            f"{name}: not an IDX file: expected magic bytes 00 00, found {data[0:2].hex(' ')}"
        )
    type_code, ndim = data[2], data[3]
    if type_code not in IDX_TYPES:
        known = ", ".join(f"0x{code:02X} ({dtype.name})" for code, dtype in IDX_TYPES.items())
        raise DataError(f"{name}: unknown IDX type code 0x{type_code:02X}; expected one of {known}")
    if ndim == 0:
        raise DataError(f"{name}: expected at least 1 dimension in the IDX header, found 0")
    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise DataError(
            f"{name}: header declares {ndim} dimensions, so needs {header_size} bytes; "
            f"the file has only {len(data)} bytes"
        )
    dims = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = IDX_TYPES[type_code]
    expected = math.prod(dims) * dtype.itemsize  # Python ints: no 64-bit wrap-around
    found = len(data) - header_size
    if found != expected:
        why = "file is truncated" if found < expected else f"{found - expected} trailing bytes"
        raise DataError(
            f"{name}: expected {expected} data bytes for dims {dims}, found {found} ({why})"
        )
    try:
        values = np.frombuffer(data, dtype=dtype, offset=header_size).reshape(dims)
    except ValueError as exc:  # e.g. more dimensions than NumPy supports
        raise DataError(f"{name}: cannot make an array of dims {dims} ({exc})") from None
    return values.astype(dtype.newbyteorder("="))


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file, raw or gzip-compressed, into an array.

    Returns e.g. (60000, 28, 28) uint8 for train-images, (60000,) uint8 for
    train-labels; native byte order, writable.
    Raises DataError naming the file for anything malformed (see ``parse_idx``).
    """
    return parse_idx(read_decompressed(path), name=str(path))


def idx_bytes(array: np.ndarray, name: str = "array") -> bytes:
    """Encode an array as the bytes of an IDX file (header + big-endian values).

    array: any shape with 1 to 255 dimensions, each below 2**32; dtype uint8, int8,
    int16, int32, float32 or float64. name: how to call the file in error messages.
    Raises DataError for any other dtype or shape.
    """
    array = np.asarray(array)
    codes = {dtype.newbyteorder("=").str: code for code, dtype in IDX_TYPES.items()}
    code = codes.get(array.dtype.newbyteorder("=").str)
    if code is None:
        supported = ", ".join(dtype.name for dtype in IDX_TYPES.values())
        raise DataError(f"{name}: IDX cannot store dtype {array.dtype}; supported: {supported}")
    if not 1 <= array.ndim <= 255 or max(array.shape) >= 2**32:
        raise DataError(
            f"{name}: IDX stores arrays of 1 to 255 dimensions, each below 2**32; "
            f"found shape {array.shape}"
        )
    header = bytes([0, 0, code, array.ndim]) + np.array(array.shape, dtype=">u4").tobytes()
    return header + np.ascontiguousarray(array, dtype=IDX_TYPES[code]).tobytes()


def write_idx(path: str | os.PathLike, array: np.ndarray) -> None:
    """Write an array as an IDX file; gzip-compressed if ``path`` ends in ``.gz``.

    array: see ``idx_bytes`` for the supported shapes and dtypes.
    The gzip header carries no timestamp, so equal arrays give identical files.
    Raises DataError (nothing written) for an unsupported array, WriteError if the
    file cannot be written.
    """
    path = Path(path)
    data = idx_bytes(array, name=str(path))
    if path.suffix == ".gz":
        data = gzip.compress(data, mtime=0)
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise WriteError(f"{path}: cannot write the IDX file ({exc.strerror or exc})") from exc
