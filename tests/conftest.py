"""Fixtures shared by the tests: the real MNIST files, tiny synthetic data sets, directory fingerprints."""

import hashlib
from pathlib import Path

import numpy as np
import pytest

from mnistlib import data
from mnistlib.download import sha256_of_bytes
from mnistlib.idx import idx_bytes, write_idx

BROWSER_TESTS = Path(__file__).with_name("test_browser.py")
TORCH_TESTS = Path(__file__).with_name("test_torch.py")
ONLY_WHEN_NAMED = (BROWSER_TESTS, TORCH_TESTS)


def pytest_ignore_collect(collection_path, config):
    """Leave the browser tests (JupyterLab in Chromium, a minute) and the PyTorch tests (the optional
    extra, which the normal venv lacks) out of `pytest tests`: they run when named,
    `pytest tests/test_browser.py` or `pytest tests/test_torch.py`, as `python run.py test-all` does."""
    path = Path(collection_path)
    if path not in ONLY_WHEN_NAMED:
        return None
    named = {Path(str(arg).split("::")[0]).resolve() for arg in config.args}
    return True if path not in named else None


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The repository's data/mnist folder with the four real files."""
    return data.REPO_DATA_ROOT / "mnist"


@pytest.fixture(scope="session")
def mnist(mnist_dir) -> data.MNISTData:
    """Real MNIST, loaded once per test session: X (N, 784) uint8, y (N,) uint8."""
    return data.load_mnist(mnist_dir, download=False)


def fingerprint(root: Path) -> dict[str, str]:
    """{relative path: sha256 of the bytes} for every file under root (symlinks followed)."""
    root = Path(root)
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def snapshot():
    """``snapshot(root)`` returns a fingerprint of a directory, to assert nothing was changed."""
    return fingerprint


@pytest.fixture
def isolated_search(tmp_path, monkeypatch) -> Path:
    """Empty every place the loader searches: no env vars, empty repo data root, cache in tmp_path.

    Returns tmp_path. The repo data root is tmp_path/"repo-data"; the cache root tmp_path/"cache".
    """
    for var in ("MNIST_DATA_DIR", "FASHION_MNIST_DATA_DIR", "TINY_DATA_DIR", "XDG_CACHE_HOME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(data, "REPO_DATA_ROOT", tmp_path / "repo-data")
    monkeypatch.setenv("MNISTLIB_CACHE", str(tmp_path / "cache"))
    return tmp_path


def make_tiny_dataset(directory: Path, n_train: int = 12, n_test: int = 5, seed: int = 0):
    """Write a small random data set in MNIST's file layout into ``directory``.

    Returns (spec, arrays): a DatasetSpec named "tiny" whose checksums and counts
    match the files, and {file key: array} with images (n, 28, 28) uint8, labels (n,) uint8.
    """
    rng = np.random.default_rng(seed)
    arrays = {
        "train_images": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train_labels": rng.integers(0, 10, n_train, dtype=np.uint8),
        "test_images": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "test_labels": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    directory.mkdir(parents=True, exist_ok=True)
    for key, array in arrays.items():
        write_idx(directory / data.MNIST_FILES[key], array)
    spec = data.DatasetSpec(
        name="tiny",
        files=dict(data.MNIST_FILES),
        sha256={data.MNIST_FILES[key]: sha256_of_bytes(idx_bytes(a)) for key, a in arrays.items()},
        mirrors=(),
        n_train=n_train,
        n_test=n_test,
    )
    return spec, arrays


@pytest.fixture
def tiny_dataset():
    """``tiny_dataset(directory, n_train=12, n_test=5)`` -> (spec, arrays); see make_tiny_dataset."""
    return make_tiny_dataset
