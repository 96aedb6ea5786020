"""Save a trained MLP (or a layers.Sequential / CNN) to one .npz file and load it back, validated.

The file holds every parameter array ("W1", "b1", ...) and a JSON header
("meta") with the sizes, activations and init (for a Sequential: its layer list,
`Sequential.config()`), so `load_model` can rebuild the network and check each
array's shape before using it.
"""
import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from .errors import ModelFileError, WriteError
from .mlp import MLP

FORMAT = "mnistlib-mlp-1"
SEQUENTIAL_FORMAT = "mnistlib-sequential-1"


def save_model(path, model, **extra):
    """Write `model` (an MLP) to `path` (.npz), atomically; extra JSON-able info goes in meta.

    NumPy scalars in `extra` are stored as plain numbers. Raises TypeError naming the entry
    for anything else JSON cannot hold, and WriteError naming the path if it cannot be
    written (an existing file at `path` is then left as it was).
    """
    path = Path(path)
    if hasattr(model, "config"):  # a layers.Sequential (e.g. a CNN): its layer list rebuilds it
        meta = {"format": SEQUENTIAL_FORMAT, "config": model.config(), **extra}
    else:
        meta = {"format": FORMAT, "sizes": list(model.sizes), "activations": model.activations,
                "init": model.init, **extra}
    for key, value in extra.items():
        try:
            json.dumps(value, default=_numpy_scalar)
        except (TypeError, ValueError) as e:
            raise TypeError(f"save_model: extra info {key}={value!r} cannot be stored as JSON "
                            f"({e})") from None
    check_output_path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix="." + path.name, suffix=".npz")
    except OSError as e:
        raise WriteError(f"{path}: cannot write the model file ({e.strerror or e})") from e
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, meta=np.array(json.dumps(meta, default=_numpy_scalar)), **model.params)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; give it normal permissions
        os.replace(tmp, path)
    except BaseException as e:
        os.unlink(tmp)
        if isinstance(e, OSError):
            raise WriteError(f"{path}: cannot write the model file ({e.strerror or e})") from e
        raise
    return path


def check_output_path(path):
    """Raise WriteError naming `path` if a file could plainly not be written there.

    Refused: an existing folder at `path`, a file where one of its parent folders should be,
    or a nearest existing folder we may not write in. (A full disk shows only when writing.)
    """
    path = Path(path)
    if path.is_dir():
        raise WriteError(f"{path}: is a folder; expected the path of a file to write")
    for parent in path.absolute().parents:
        if parent.exists():
            if not parent.is_dir():
                raise WriteError(f"{path}: cannot write there: {parent} is a file, not a folder")
            if not os.access(parent, os.W_OK | os.X_OK):
                raise WriteError(f"{path}: cannot write there: no permission to write in {parent}")
            break


def _numpy_scalar(value):
    """json.dumps hook: a NumPy scalar (np.float32(0.97), np.int64(3)) as a Python number."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def load_model(path):
    """Read an MLP saved by save_model.

    Raises FileNotFoundError if there is no such file, and ModelFileError naming the file and
    the problem if it is not a valid model file (not an .npz, wrong arrays, shapes or header).
    The header's sizes are checked against the stored arrays before any network is built.
    """
    path = Path(path)
    if path.is_dir():
        raise ModelFileError(f"{path}: is a folder; expected a .npz model file")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such model file")
    try:
        with open(path, "rb") as file:  # ours to close, even when np.load fails half-way
            f = np.load(file, allow_pickle=False)
            if not isinstance(f, np.lib.npyio.NpzFile):  # np.load gives a .npy file as one array
                raise ValueError("it is a single .npy array, not the .npz archive save_model writes")
            with f:
                arrays = {k: f[k] for k in f.files}
    except (OSError, ValueError, TypeError, zipfile.BadZipFile, EOFError, MemoryError) as e:
        raise ModelFileError(f"{path}: not a readable .npz model file ({e})") from None
    not_arrays = [k for k, v in arrays.items() if not isinstance(v, np.ndarray)]
    if not_arrays:  # NpzFile hands back a member that is not a .npy file as raw bytes
        raise ModelFileError(f"{path}: entries {not_arrays} are not NumPy .npy arrays")
    if "meta" not in arrays:
        raise ModelFileError(f"{path}: no 'meta' entry; was it written by mnistlib.save_model?")
    try:
        meta = json.loads(str(arrays.pop("meta")))
        if not isinstance(meta, dict):
            raise ValueError(f"expected a JSON object, found {type(meta).__name__}")
        if meta.get("format") not in (FORMAT, SEQUENTIAL_FORMAT):
            raise ValueError(f"format {meta.get('format')!r}, expected {FORMAT!r} or {SEQUENTIAL_FORMAT!r}")
        sizes = checked_sizes(meta["sizes"]) if meta["format"] == FORMAT else None
    except (ValueError, KeyError) as e:
        raise ModelFileError(f"{path}: bad model header ({_reason(e)})") from None
    if meta["format"] == SEQUENTIAL_FORMAT:
        return _load_sequential(path, meta, arrays)
    expected = {}  # W_l: (sizes[l-1], sizes[l]), b_l: (sizes[l],) for layers l = 1..L
    for i in range(1, len(sizes)):
        expected[f"W{i}"], expected[f"b{i}"] = (sizes[i - 1], sizes[i]), (sizes[i],)
    if set(arrays) != set(expected):
        raise ModelFileError(f"{path}: expected arrays {sorted(expected)}, found {sorted(arrays)}")
    for name, shape in expected.items():
        A = arrays[name]
        if A.shape != shape:
            raise ModelFileError(f"{path}: {name} should have shape {shape} for sizes "
                                 f"{sizes}, found {A.shape}")
        if not np.issubdtype(A.dtype, np.floating) or not np.isfinite(A).all():
            raise ModelFileError(f"{path}: {name} holds non-finite or non-float values")
    try:  # the sizes match arrays already in memory, so building the network is safe
        model = MLP(sizes, meta["activations"], meta["init"])
    except (ValueError, KeyError, TypeError) as e:
        raise ModelFileError(f"{path}: bad model header ({_reason(e)})") from None
    for name in expected:
        model.params[name] = arrays[name].astype(model.dtype)
    model.meta = meta
    return model


def _load_sequential(path, meta, arrays):
    """A layers.Sequential from its header's layer list, every stored array checked against it."""
    from .layers import Sequential
    try:
        model = Sequential.from_config(meta["config"])
    except (ValueError, KeyError, TypeError) as e:  # ShapeError is a ValueError
        raise ModelFileError(f"{path}: bad model header ({_reason(e)})") from None
    if set(arrays) != set(model.params):
        raise ModelFileError(f"{path}: expected arrays {sorted(model.params)}, found {sorted(arrays)}")
    for name, theta in model.params.items():
        A = arrays[name]
        if A.shape != theta.shape:
            raise ModelFileError(f"{path}: {name} should have shape {theta.shape} for the layers in "
                                 f"the header, found {A.shape}")
        if not np.issubdtype(A.dtype, np.floating) or not np.isfinite(A).all():
            raise ModelFileError(f"{path}: {name} holds non-finite or non-float values")
        theta[...] = A  # in place: the layers read these very arrays
    model.meta = meta
    return model


def _reason(error):
    """What a header error means: a KeyError is a missing entry, anything else says itself."""
    return f"no {error} entry" if isinstance(error, KeyError) else str(error)


def checked_sizes(sizes):
    """`sizes` from a model header as a list of ints; ValueError unless >= 2 positive integers."""
    if (not isinstance(sizes, list) or len(sizes) < 2
            or not all(type(s) is int and s >= 1 for s in sizes)):
        raise ValueError(f"sizes must be a list of at least two positive integers, found {sizes!r}")
    return sizes
