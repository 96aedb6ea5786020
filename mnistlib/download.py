"""Getting a verified copy of a file from a list of mirrors, atomically.

A download is streamed into a hidden temporary file next to its destination,
checked (a ``.gz`` must be valid gzip; the SHA-256 of the decompressed bytes
must match when one is known), and only then renamed into place with
``os.replace``. Whatever goes wrong -- HTTP error, refused connection, timeout,
truncated transfer, bad checksum, even Ctrl-C -- the temporary file is removed,
so the destination never holds a partial or unverified file.

Checksums are taken over the *decompressed* bytes: gzip wrappers differ between
mirrors (compression level, timestamps) while the content is identical.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from tqdm.auto import tqdm

from mnistlib.errors import ChecksumError, DataError, DownloadError
from mnistlib.idx import GZIP_MAGIC, decompress, read_decompressed

CHUNK_SIZE = 1 << 16
"""Bytes read from the network per step."""


def sha256_of_bytes(data: bytes) -> str:
    """Hex SHA-256 of some bytes."""
    return hashlib.sha256(data).hexdigest()


def sha256_of_file(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's content, decompressed first if it is gzip.

    Raises DataError if the file is missing or a corrupt gzip.
    """
    return sha256_of_bytes(read_decompressed(path))


def check_sha256(data: bytes, expected: str, name: str) -> None:
    """Raise ChecksumError naming ``name`` unless sha256(data) == expected (hex, any case)."""
    found = sha256_of_bytes(data)
    if found != expected.lower():
        raise ChecksumError(
            f"{name}: SHA-256 of the decompressed bytes is {found}, expected {expected.lower()}"
        )


def download_file(
    filename: str,
    mirrors: Sequence[str],
    dest_dir: str | os.PathLike,
    sha256: str | None = None,
    progress: bool = True,
    timeout: float = 30,
) -> Path:
    """Download ``filename`` from the first mirror that delivers a good copy.

    Each mirror is a base URL; the file's URL is ``mirror + filename``.
    sha256: hex SHA-256 of the decompressed content, or None to skip that check
    (a ``.gz`` file is still required to be valid gzip).
    progress: show a tqdm progress bar. timeout: seconds per network operation.
    Returns dest_dir / filename. Raises DownloadError, listing every mirror and
    why it failed, if none succeeds; no partial file is left behind.
    """
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    target = dest_dir / filename
    failures = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + filename
        try:
            _fetch_verified(url, target, sha256, progress, timeout)
            return target
        except (OSError, http.client.HTTPException, DataError) as exc:
            reason = _reason(exc, timeout).removeprefix(f"{filename}: ")  # the URL names it already
            failures.append(f"  {url}: {reason}")
    tried = "\n".join(failures) if failures else "  (no mirrors given)"
    raise DownloadError(f"could not download {filename} into {dest_dir}; tried:\n{tried}")


def _fetch_verified(
    url: str, target: Path, sha256: str | None, progress: bool, timeout: float
) -> None:
    """Stream ``url`` into a hidden temporary file beside ``target``, check it, move it in place."""
    tmp = tempfile.NamedTemporaryFile(
        dir=target.parent, prefix="." + target.name, suffix=".part", delete=False
    )
    try:
        with tmp:
            _stream(url, tmp, target.name, progress, timeout)
        _check_download(Path(tmp.name), target.name, sha256)
        os.replace(tmp.name, target)
    except BaseException:
        Path(tmp.name).unlink(missing_ok=True)
        raise


def _stream(url: str, out: BinaryIO, label: str, progress: bool, timeout: float) -> None:
    """Copy the body of ``url`` into the open binary file ``out``; raise DataError if cut short."""
    with urllib.request.urlopen(url, timeout=timeout) as response:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        received = 0
        with tqdm(total=total, desc=label, unit="B", unit_scale=True, unit_divisor=1024,
                  disable=not progress, leave=False) as bar:
            while chunk := response.read(CHUNK_SIZE):
                out.write(chunk)
                received += len(chunk)
                bar.update(len(chunk))
    if total is not None and received != total:
        raise DataError(f"transfer truncated: received {received} of {total} bytes")


def _check_download(path: Path, filename: str, sha256: str | None) -> None:
    """Raise DataError unless the download is valid gzip (if .gz) and has the expected checksum."""
    data = path.read_bytes()
    if filename.endswith(".gz") and not data.startswith(GZIP_MAGIC):
        found = data[:2].hex(" ") or "an empty file"
        raise DataError(f"{filename}: expected gzip data (starting 1f 8b), found {found}")
    content = decompress(data, name=filename)  # DataError if the gzip is truncated or corrupt
    if sha256 is not None:
        check_sha256(content, sha256, filename)


def _reason(exc: BaseException, timeout: float) -> str:
    """A one-line explanation of why a mirror failed."""
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        exc = exc.reason if isinstance(exc.reason, BaseException) else exc
    if isinstance(exc, TimeoutError):
        return f"timed out (no data for {timeout} s)"
    if isinstance(exc, http.client.IncompleteRead):
        return f"transfer truncated: received {len(exc.partial)} bytes, {exc.expected} more due"
    if isinstance(exc, DataError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"
