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
import math
import os
import re
import tempfile
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from tqdm.auto import tqdm

from mnistlib.errors import ChecksumError, DataError, DownloadError, WriteError
from mnistlib.idx import GZIP_MAGIC, decompress, read_decompressed

CHUNK_SIZE = 1 << 16
"""Bytes read from the network per step."""

MAX_BYTES = 1 << 30
"""A download larger than this (1 GiB; MNIST's largest file is 9.9 MB) is refused as soon as it
is announced or received, so a misconfigured mirror cannot fill the disk or stream for ever."""

URL_SCHEMES = ("http://", "https://", "ftp://", "file://")
"""How a mirror URL may start."""


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
    progress: show a tqdm progress bar. timeout: seconds per network operation (> 0).
    Returns dest_dir / filename. Raises DownloadError, listing every mirror and
    why it failed, if none succeeds; no partial file is left behind. Raises DataError
    before any download for a malformed mirror URL, sha256 or timeout, and WriteError
    if dest_dir cannot be created.
    """
    mirrors = [mirrors] if isinstance(mirrors, str) else list(mirrors)
    for mirror in mirrors:
        if not isinstance(mirror, str) or not mirror.startswith(URL_SCHEMES):
            raise DataError(f"{filename}: bad mirror URL {mirror!r}; expected a base URL "
                            f"starting with {', '.join(URL_SCHEMES)}")
    if sha256 is not None and not re.fullmatch(r"[0-9a-fA-F]{64}", str(sha256)):
        raise DataError(f"{filename}: expected sha256 as 64 hex digits, got {sha256!r}")
    if not (isinstance(timeout, (int, float)) and 0 < timeout < math.inf):
        raise DataError(f"{filename}: expected timeout as a positive number of seconds, "
                        f"got {timeout!r}")
    dest_dir = Path(dest_dir)
    if dest_dir.exists() and not dest_dir.is_dir():
        raise WriteError(f"{dest_dir}: expected a folder to download into, found a file")
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WriteError(f"{dest_dir}: cannot create the download folder "
                         f"({exc.strerror or exc})") from exc
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
        if total is not None and total > MAX_BYTES:
            raise DataError(f"the mirror announces {total} bytes, more than the {MAX_BYTES} "
                            f"accepted (MAX_BYTES)")
        received = 0
        with tqdm(total=total, desc=label, unit="B", unit_scale=True, unit_divisor=1024,
                  disable=not progress, leave=False) as bar:
            while chunk := response.read(CHUNK_SIZE):
                if received + len(chunk) > MAX_BYTES:
                    raise DataError(f"the mirror sent more than the {MAX_BYTES} bytes "
                                    f"accepted (MAX_BYTES)")
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
