"""Finding, verifying and loading MNIST (and look-alikes such as Fashion-MNIST).

A data set is four IDX files -- train images, train labels, test images, test
labels -- described by a ``DatasetSpec``. ``load_mnist()`` finds the directory
holding them, checks each file's SHA-256 (of its decompressed bytes) against
the published one, parses it, validates shapes, labels and counts, and returns
``MNISTData(X_train, y_train, X_test, y_test)`` with one flattened image per row.

Where the files are looked for, first match wins (a directory counts only if
it holds all four files):

1. the ``data_dir`` argument -- if given, the files must be there;
2. the environment variable ``MNIST_DATA_DIR`` (``<NAME>_DATA_DIR`` for other
   data sets, e.g. ``FASHION_MNIST_DATA_DIR``) -- if set, the files must be there;
3. the repository's ``data/<name>/`` (e.g. ``data/mnist/``), then any system
   directory of the spec (``/usr/share/datasets/fashion-mnist`` for Fashion-MNIST);
4. the per-user cache: ``$MNISTLIB_CACHE/<name>``, else
   ``$XDG_CACHE_HOME/mnistlib/<name>``, else ``~/.cache/mnistlib/<name>``;
5. with ``download=True``, the missing files are downloaded into that cache.

Loading only reads: a failed load never changes or deletes any file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np

from mnistlib.download import check_sha256, download_file
from mnistlib.errors import ChecksumError, DataError
from mnistlib.idx import parse_idx, read_decompressed

FILE_KEYS = ("train_images", "train_labels", "test_images", "test_labels")
"""The four files every data set has, as keys of ``DatasetSpec.files``."""

IMAGE_SHAPE = (28, 28)
"""Height and width of every image, in pixels."""

NUM_CLASSES = 10
"""Labels are the integers 0 to 9."""

REPO_DATA_ROOT = Path(__file__).resolve().parent.parent / "data"
"""The repository's data/ folder; data set ``name`` lives in ``REPO_DATA_ROOT / name``."""


@dataclass(frozen=True)
class DatasetSpec:
    """Everything needed to find, download and check one data set.

    name: short name, used for folders (``data/<name>``) and the environment
        variable ``<NAME>_DATA_DIR`` (upper case, '-' becomes '_').
    files: FILE_KEYS key -> file name, e.g. "train_images" -> "train-images-idx3-ubyte.gz".
    sha256: file name -> hex SHA-256 of the *decompressed* bytes, or None (not verified).
    mirrors: base URLs the files can be downloaded from, tried in order.
    n_train, n_test: expected number of examples, or None (not checked).
    system_dirs: extra directories searched after the repository's data/ folder.
    """

    name: str
    files: dict[str, str]
    sha256: dict[str, str | None]
    mirrors: tuple[str, ...]
    n_train: int | None = None
    n_test: int | None = None
    system_dirs: tuple[str, ...] = field(default=())

    @property
    def env_var(self) -> str:
        """Name of the environment variable pointing at this data set's directory."""
        return self.name.upper().replace("-", "_") + "_DATA_DIR"


MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}

MNIST = DatasetSpec(
    name="mnist",
    files=MNIST_FILES,
    sha256={  # of the decompressed bytes, as in data/mnist/SHA256SUMS.raw
        "train-images-idx3-ubyte.gz":
            "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "train-labels-idx1-ubyte.gz":
            "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "t10k-images-idx3-ubyte.gz":
            "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "t10k-labels-idx1-ubyte.gz":
            "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    },
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ),
    n_train=60_000,
    n_test=10_000,
)
"""The MNIST handwritten digits (LeCun, Cortes, Burges; CC BY-SA 3.0)."""

FASHION_MNIST = DatasetSpec(
    name="fashion-mnist",
    files=dict(MNIST_FILES),
    sha256={  # of the decompressed bytes, as in data/fashion-mnist/SHA256SUMS.raw
        "train-images-idx3-ubyte.gz":
            "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        "train-labels-idx1-ubyte.gz":
            "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        "t10k-images-idx3-ubyte.gz":
            "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        "t10k-labels-idx1-ubyte.gz":
            "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    },
    mirrors=(
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ),
    n_train=60_000,
    n_test=10_000,
    system_dirs=("/usr/share/datasets/fashion-mnist",),
)
"""Zalando's Fashion-MNIST (Xiao, Rasul, Vollgraf 2017; MIT license): same format and sizes, ten garments."""

DATASETS = {spec.name: spec for spec in (MNIST, FASHION_MNIST)}
"""The data sets by name: "mnist", "fashion-mnist"."""

CLASS_NAMES = {
    "mnist": tuple(str(k) for k in range(10)),
    "fashion-mnist": ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                      "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
}
"""The ten class names of each data set, by label 0-9 (Fashion-MNIST's as its authors name them)."""


def get_spec(dataset: str | DatasetSpec) -> DatasetSpec:
    """The DatasetSpec for a name ("mnist", "fashion-mnist") or a spec itself.

    Raises ValueError naming the known data sets for an unknown name.
    """
    if isinstance(dataset, DatasetSpec):
        return dataset
    try:
        return DATASETS[str(dataset).lower()]
    except KeyError:
        raise ValueError(f"unknown data set {dataset!r}: choose one of {', '.join(map(repr, DATASETS))}") from None


class MNISTData(NamedTuple):
    """A loaded data set; one example per row.

    X_train: (N_train, 784) uint8, pixel values 0-255, each row a 28x28 image row by row.
    y_train: (N_train,) uint8, labels 0-9.
    X_test: (N_test, 784) uint8.
    y_test: (N_test,) uint8.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


def cache_dir(spec: DatasetSpec = MNIST) -> Path:
    """The per-user cache directory of a data set (which may not exist yet).

    ``$MNISTLIB_CACHE/<name>`` if that variable is set, else
    ``$XDG_CACHE_HOME/mnistlib/<name>``, else ``~/.cache/mnistlib/<name>``.
    """
    if os.environ.get("MNISTLIB_CACHE"):
        return Path(os.environ["MNISTLIB_CACHE"]).expanduser() / spec.name
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]).expanduser() / "mnistlib" / spec.name
    return Path.home() / ".cache" / "mnistlib" / spec.name


def missing_files(directory: str | os.PathLike, spec: DatasetSpec = MNIST) -> list[str]:
    """The names of the spec's files that are not in ``directory`` (empty if all are there)."""
    directory = Path(directory)
    return [name for name in spec.files.values() if not (directory / name).is_file()]


def find_data_dir(
    spec: DatasetSpec = MNIST, data_dir: str | os.PathLike | None = None
) -> Path | None:
    """The first directory in the search order that holds all four files, or None.

    Order: ``data_dir``; ``$<NAME>_DATA_DIR``; the repository's ``data/<name>``;
    ``spec.system_dirs``; ``cache_dir(spec)`` (see the module docstring).
    Raises DataError if ``data_dir`` or the environment variable names a file, or a
    directory lacking some of the files: an explicit choice is never skipped silently.
    """
    if data_dir is not None and not str(data_dir):
        raise DataError("data_dir argument is an empty string; expected a folder, or None to search")
    explicit = [("data_dir argument", data_dir), (f"${spec.env_var}", os.environ.get(spec.env_var))]
    for how, directory in explicit:
        if not directory:
            continue
        directory = Path(directory).expanduser()
        if directory.exists() and not directory.is_dir():
            raise DataError(f"{directory} (from the {how}): expected a folder holding the "
                            f"{spec.name} files, found a file")
        missing = missing_files(directory, spec)
        if missing:
            raise DataError(
                f"{directory} (from the {how}): expected the {spec.name} files there, "
                f"missing: {', '.join(missing)}"
            )
        return directory
    for directory in _default_dirs(spec):
        if not missing_files(directory, spec):
            return directory
    return None


def _default_dirs(spec: DatasetSpec) -> list[Path]:
    """Search steps 3 and 4: repository data folder, system folders, user cache."""
    return [REPO_DATA_ROOT / spec.name, *map(Path, spec.system_dirs), cache_dir(spec)]


def download_dataset(spec: DatasetSpec = MNIST, *, progress: bool = True) -> Path:
    """Download the spec's files that are missing from ``cache_dir(spec)``; return that directory.

    Each file is verified (when its checksum is known) before it appears in the cache.
    Raises DownloadError if some file cannot be fetched from any mirror.
    """
    directory = cache_dir(spec)
    for filename in missing_files(directory, spec):
        sha256 = spec.sha256.get(filename)
        download_file(filename, spec.mirrors, directory, sha256=sha256, progress=progress)
    return directory


def load_dataset(
    spec: str | DatasetSpec,
    data_dir: str | os.PathLike | None = None,
    *,
    download: bool = True,
    progress: bool = True,
    verify: bool = True,
) -> MNISTData:
    """Find (or download), verify and load a data set.

    spec: the data set's name ("mnist", "fashion-mnist") or a DatasetSpec.
    data_dir: directory holding the four files; None searches as described in
        the module docstring. download: fetch missing files into the user cache
        if no directory has them. progress: show download progress bars.
    verify: check each file's SHA-256 (of its decompressed bytes) when the spec knows it.
    Returns MNISTData: X_train (N_train, 784) uint8, y_train (N_train,) uint8,
    X_test (N_test, 784) uint8, y_test (N_test,) uint8.
    Raises DataError (ChecksumError, DownloadError) naming the offending file.
    """
    spec = get_spec(spec)
    directory = find_data_dir(spec, data_dir)
    if directory is None:
        if not download:
            places = "\n".join(f"  {d}" for d in _default_dirs(spec))
            raise DataError(
                f"{spec.name} not found: no directory holds all of "
                f"{', '.join(spec.files.values())}.\n"
                f"Looked in:\n{places}\n"
                f"Put the files in one of these, set ${spec.env_var}, or pass download=True."
            )
        directory = download_dataset(spec, progress=progress)
    paths = {key: directory / spec.files[key] for key in FILE_KEYS}
    arrays = {key: _read_verified(path, spec, verify) for key, path in paths.items()}
    X_train = _checked_split(arrays, paths, "train", spec.n_train)
    X_test = _checked_split(arrays, paths, "test", spec.n_test)
    return MNISTData(X_train, arrays["train_labels"], X_test, arrays["test_labels"])


def load_mnist(
    data_dir: str | os.PathLike | None = None,
    *,
    download: bool = True,
    progress: bool = True,
    verify: bool = True,
) -> MNISTData:
    """Load MNIST: X_train (60000, 784) uint8, y_train (60000,) uint8, X_test (10000, 784) uint8,
    y_test (10000,) uint8. Arguments and search order as in ``load_dataset``.
    """
    return load_dataset(MNIST, data_dir, download=download, progress=progress, verify=verify)


def _read_verified(path: Path, spec: DatasetSpec, verify: bool) -> np.ndarray:
    """Read one IDX file, checking its checksum on the same decompressed bytes that get parsed."""
    data = read_decompressed(path)
    expected = spec.sha256.get(path.name)
    if verify and expected is not None:
        try:
            check_sha256(data, expected, str(path))
        except ChecksumError as exc:
            raise ChecksumError(
                f"{exc}\nThe file is damaged or not the {spec.name} original: replace it "
                f"(if it is in the cache, delete it and it will be downloaded again)."
            ) from None
    return parse_idx(data, str(path))


def _checked_split(arrays: dict, paths: dict, split: str, n_expected: int | None) -> np.ndarray:
    """Validate one split's images and labels; return the images flattened to (N, 784) uint8.

    arrays[f"{split}_images"]: must be (N, 28, 28) uint8.
    arrays[f"{split}_labels"]: must be (N,) uint8 with values 0-9, same N.
    """
    X, y = arrays[f"{split}_images"], arrays[f"{split}_labels"]
    X_path, y_path = paths[f"{split}_images"], paths[f"{split}_labels"]
    if X.ndim != 3 or X.shape[1:] != IMAGE_SHAPE or X.dtype != np.uint8:
        raise DataError(
            f"{X_path}: expected images of shape (N, 28, 28) and dtype uint8, "
            f"found shape {X.shape} and dtype {X.dtype}"
        )
    if y.ndim != 1 or y.dtype != np.uint8:
        raise DataError(
            f"{y_path}: expected labels of shape (N,) and dtype uint8, "
            f"found shape {y.shape} and dtype {y.dtype}"
        )
    bad = np.flatnonzero(y >= NUM_CLASSES)
    if bad.size:
        raise DataError(f"{y_path}: expected labels 0-9, found {y[bad[0]]} at index {bad[0]}")
    if len(X) != len(y):
        raise DataError(
            f"{X_path.name} holds {len(X)} images but {y_path.name} holds {len(y)} labels "
            f"(in {X_path.parent})"
        )
    if n_expected is not None and len(X) != n_expected:
        raise DataError(f"{X_path}: expected {n_expected} {split} examples, found {len(X)}")
    return X.reshape(len(X), -1)
