"""Save a trained MLP to one .npz file and load it back, validated.

The file holds every parameter array ("W1", "b1", ...) and a JSON header
("meta") with the sizes, activations and init, so `load_model` can rebuild the
network and check each array's shape before using it.
"""
import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from .errors import ModelFileError
from .mlp import MLP

FORMAT = "mnistlib-mlp-1"


def save_model(path, model, **extra):
    """Write `model` (an MLP) to `path` (.npz), atomically; extra JSON-able info goes in meta."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {"format": FORMAT, "sizes": list(model.sizes), "activations": model.activations,
            "init": model.init, **extra}
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix="." + path.name, suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, meta=np.array(json.dumps(meta)), **model.params)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; give it normal permissions
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return path


def load_model(path):
    """Read an MLP saved by save_model.

    Raises FileNotFoundError if there is no such file, and ModelFileError naming the file and
    the problem if it is not a valid model file (wrong arrays, shapes or header).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such model file")
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise ModelFileError(f"{path}: not a readable .npz model file ({e})") from None
    if "meta" not in arrays:
        raise ModelFileError(f"{path}: no 'meta' entry; was it written by mnistlib.save_model?")
    try:
        meta = json.loads(str(arrays.pop("meta")))
        if meta.get("format") != FORMAT:
            raise ValueError(f"format {meta.get('format')!r}, expected {FORMAT!r}")
        model = MLP(meta["sizes"], meta["activations"], meta["init"])
    except (ValueError, KeyError, TypeError) as e:
        raise ModelFileError(f"{path}: bad model header ({e})") from None
    expected = {k: v.shape for k, v in model.params.items()}
    if set(arrays) != set(expected):
        raise ModelFileError(f"{path}: expected arrays {sorted(expected)}, found {sorted(arrays)}")
    for name, shape in expected.items():
        A = arrays[name]
        if A.shape != shape:
            raise ModelFileError(f"{path}: {name} should have shape {shape} for sizes "
                                 f"{list(model.sizes)}, found {A.shape}")
        if not np.issubdtype(A.dtype, np.floating) or not np.isfinite(A).all():
            raise ModelFileError(f"{path}: {name} holds non-finite or non-float values")
        model.params[name] = A.astype(model.dtype)
    model.meta = meta
    return model
