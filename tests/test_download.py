"""Downloading from mirrors, against real HTTP servers on 127.0.0.1 serving temporary folders.

Each test starts its own servers (port 0 = any free port) and shuts them down at its end.
Bad mirrors serve a 404, corrupt or non-gzip data, the wrong content, a cut-off transfer,
or nothing in time; a dead mirror is a port nobody listens on.
"""

import dataclasses
import gzip
import os
import socket
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from mnistlib.data import FASHION_MNIST, MNIST, cache_dir, load_dataset
from mnistlib.download import download_file, sha256_of_bytes, sha256_of_file
from mnistlib.errors import DataError, DownloadError
from mnistlib.idx import idx_bytes

FILENAME = "train-labels-idx1-ubyte.gz"
LABELS = np.arange(100, dtype=np.uint8) % 10
SHA256 = sha256_of_bytes(idx_bytes(LABELS))  # of the decompressed bytes
TIMEOUT = 0.5  # seconds the client waits for a slow mirror


class LocalServer(ThreadingHTTPServer):
    """A test server: quiet, and closing it waits for (and so ends) every request thread."""

    daemon_threads = False  # server_close() joins the request threads

    def __init__(self, *args):
        super().__init__(*args)
        self.release = threading.Event()  # set at the end of a test: slow requests may finish

    def handle_error(self, request, client_address):
        pass  # clients hanging up early is what several tests do on purpose


class QuietHandler(SimpleHTTPRequestHandler):
    """Serves files from its directory without logging every request."""

    def log_message(self, format, *args):
        pass


class TruncatingHandler(QuietHandler):
    """Announces the full Content-Length, sends half of the body, then hangs up."""

    def do_GET(self):
        path = Path(self.translate_path(self.path))
        body = path.read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2])
        self.close_connection = True


class SlowHandler(QuietHandler):
    """Answers only when the test is over: far later than the client's TIMEOUT."""

    def do_GET(self):
        self.server.release.wait(timeout=30)
        super().do_GET()


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch):
    """Make sure requests to 127.0.0.1 go straight to the test servers."""
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture
def serve():
    """``serve(directory, handler=QuietHandler)`` starts an HTTP server and returns its base URL."""
    servers = []

    def start(directory: Path, handler=QuietHandler) -> str:
        server = LocalServer(("127.0.0.1", 0), partial(handler, directory=str(directory)))
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
        thread.start()
        servers.append((server, thread))
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server, thread in servers:
        server.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def dead_mirror() -> str:
    """A URL on a port where nothing listens (the connection is refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def mirror_dir(root: Path, name: str, content: bytes | None) -> Path:
    """A folder root/name holding FILENAME with ``content`` (or empty if None)."""
    directory = root / name
    directory.mkdir()
    if content is not None:
        (directory / FILENAME).write_bytes(content)
    return directory


GOOD = gzip.compress(idx_bytes(LABELS))
BAD_MIRRORS = {
    # kind: (content served, handler, text expected in the failure reason)
    "404": (None, QuietHandler, "HTTP 404"),
    "corrupt gzip": (GOOD[:-8] + bytes(8), QuietHandler, "gzip data is corrupt"),  # CRC and size zeroed
    "truncated gzip": (GOOD[: len(GOOD) // 2], QuietHandler, "gzip data is truncated"),
    "not gzip": (b"<html>Moved</html>", QuietHandler, "expected gzip data"),
    "wrong content": (gzip.compress(idx_bytes(LABELS[::-1].copy())), QuietHandler, "SHA-256"),
    "cut-off transfer": (GOOD, TruncatingHandler, "truncated"),
    "too slow": (GOOD, SlowHandler, "timed out"),
}


def test_good_mirror_delivers_a_verified_file(tmp_path, serve):
    url = serve(mirror_dir(tmp_path, "good", GOOD))
    dest = tmp_path / "dest"
    path = download_file(FILENAME, [url], dest, sha256=SHA256, progress=False)
    assert path == dest / FILENAME
    assert path.read_bytes() == GOOD
    assert sha256_of_file(path) == SHA256
    assert os.listdir(dest) == [FILENAME]  # no temporary file left over


@pytest.mark.parametrize("kind", list(BAD_MIRRORS))
def test_bad_mirror_falls_over_to_the_next(tmp_path, serve, kind):
    content, handler, _ = BAD_MIRRORS[kind]
    bad = serve(mirror_dir(tmp_path, "bad", content), handler)
    good = serve(mirror_dir(tmp_path, "good", GOOD))
    dest = tmp_path / "dest"
    path = download_file(FILENAME, [bad, good], dest, sha256=SHA256, progress=False, timeout=TIMEOUT)
    assert path.read_bytes() == GOOD
    assert os.listdir(dest) == [FILENAME]


@pytest.mark.parametrize("kind", list(BAD_MIRRORS))
def test_only_bad_mirrors_raise_and_leave_nothing(tmp_path, serve, dead_mirror, kind):
    content, handler, reason = BAD_MIRRORS[kind]
    bad = serve(mirror_dir(tmp_path, "bad", content), handler)
    dest = tmp_path / "dest"
    with pytest.raises(DownloadError) as info:
        download_file(FILENAME, [dead_mirror, bad], dest, sha256=SHA256, progress=False, timeout=TIMEOUT)
    message = str(info.value)
    assert FILENAME in message
    assert f"{dead_mirror}{FILENAME}: " in message and "refused" in message.lower()
    assert f"{bad}{FILENAME}: " in message and reason in message
    assert os.listdir(dest) == []  # no partial or temporary file


def test_dead_mirror_is_skipped(tmp_path, serve, dead_mirror):
    good = serve(mirror_dir(tmp_path, "good", GOOD))
    path = download_file(FILENAME, [dead_mirror, good], tmp_path / "dest", sha256=SHA256, progress=False)
    assert path.read_bytes() == GOOD


def test_without_checksum_a_gz_must_still_be_gzip(tmp_path, serve):
    url = serve(mirror_dir(tmp_path, "html", b"<html>Not Found</html>"))
    with pytest.raises(DownloadError, match="expected gzip data"):
        download_file(FILENAME, [url], tmp_path / "dest", sha256=None, progress=False)
    assert os.listdir(tmp_path / "dest") == []


def test_download_error_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="no mirrors given"):
        download_file(FILENAME, [], tmp_path, progress=False)


def test_progress_bar_is_shown_on_request(tmp_path, serve, capsys):
    url = serve(mirror_dir(tmp_path, "good", GOOD))
    download_file(FILENAME, [url], tmp_path / "dest", progress=True)
    assert FILENAME in capsys.readouterr().err
    download_file(FILENAME, [url], tmp_path / "dest2", progress=False)
    assert capsys.readouterr().err == ""


# ---------------------------------------------------------------- load_dataset downloading into the cache


def test_load_dataset_downloads_into_an_empty_cache(isolated_search, serve, tiny_dataset, dead_mirror):
    tmp = isolated_search
    spec, arrays = tiny_dataset(tmp / "server")
    spec = dataclasses.replace(spec, mirrors=(dead_mirror, serve(tmp / "server")))
    loaded = load_dataset(spec, progress=False)
    np.testing.assert_array_equal(loaded.X_test, arrays["test_images"].reshape(5, 784))
    np.testing.assert_array_equal(loaded.y_train, arrays["train_labels"])
    assert cache_dir(spec) == tmp / "cache" / "tiny"
    assert sorted(os.listdir(cache_dir(spec))) == sorted(spec.files.values())
    offline = dataclasses.replace(spec, mirrors=())
    np.testing.assert_array_equal(load_dataset(offline, download=False).y_test, arrays["test_labels"])


def test_only_missing_files_are_downloaded(isolated_search, serve, tiny_dataset):
    tmp = isolated_search
    spec, arrays = tiny_dataset(tmp / "cache" / "tiny")
    served = tmp / "server"
    served.mkdir()
    (tmp / "cache" / "tiny" / "t10k-labels-idx1-ubyte.gz").rename(served / "t10k-labels-idx1-ubyte.gz")
    spec = dataclasses.replace(spec, mirrors=(serve(served),))  # serves only the missing file
    np.testing.assert_array_equal(load_dataset(spec, progress=False).y_test, arrays["test_labels"])


def test_failed_download_leaves_the_cache_empty(isolated_search, serve, tiny_dataset):
    tmp = isolated_search
    spec, _ = tiny_dataset(tmp / "server")
    (tmp / "server" / "t10k-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8b garbage")
    spec = dataclasses.replace(spec, mirrors=(serve(tmp / "server"),))
    with pytest.raises(DownloadError, match="t10k-images-idx3-ubyte.gz"):
        load_dataset(spec, progress=False)
    cached = set(os.listdir(cache_dir(spec)))
    assert "t10k-images-idx3-ubyte.gz" not in cached
    assert all(not name.startswith(".") for name in cached)  # no temporary files


def test_real_mnist_download_end_to_end(isolated_search, serve, mnist_dir):
    spec = dataclasses.replace(MNIST, mirrors=(serve(mnist_dir),))
    loaded = load_dataset(spec, progress=False)
    assert loaded.X_train.shape == (60000, 784) and loaded.y_test.shape == (10000,)
    for filename, sha in MNIST.sha256.items():
        assert sha256_of_file(cache_dir(spec) / filename) == sha


def test_real_fashion_mnist_download_end_to_end(isolated_search, serve):
    # the verified download path of the Fashion-MNIST notebook on Colab, against a local mirror
    served = Path(__file__).resolve().parent.parent / "data" / "fashion-mnist"   # isolated_search hides data/
    spec = dataclasses.replace(FASHION_MNIST, mirrors=(serve(served),))
    loaded = load_dataset(spec, progress=False)
    assert loaded.X_train.shape == (60000, 784) and loaded.y_test.shape == (10000,)
    assert cache_dir(spec).name == "fashion-mnist"
    for filename in FASHION_MNIST.files.values():   # verified on the way in, stored exactly as served
        assert (cache_dir(spec) / filename).read_bytes() == (served / filename).read_bytes()
