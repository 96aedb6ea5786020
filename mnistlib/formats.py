"""Digits stored in other common formats: CSV tables and folders of PNG images.

Both convert to and from the arrays the rest of mnistlib uses:
X (N, 784) uint8, one flattened 28x28 image per row, and y (N,) uint8 labels 0-9.

CSV layouts recognised by ``load_csv`` (from the first line):

* Kaggle "Digit Recognizer" train.csv: header ``label,pixel0,...,pixel783``, 785 columns;
* headerless, 785 columns: ``label,p1,...,p784`` per line (e.g. the widely shared mnist_train.csv);
* Kaggle test.csv: header ``pixel0,...,pixel783``, 784 columns, no labels (y is None).

A headerless file with 784 columns is refused: it cannot be told apart from a
labelled file that lost a column.

Image folders (``load_image_folder``): ``root/<digit>/<anything>.png``, one
folder per class named 0-9, images 28x28. Colour images are converted to
grayscale (Pillow mode "L", alpha dropped), 16-bit images scaled to 0-255 (see
``gray_levels``); any other size is an error (resize to 28x28 first -- silently
resizing would hide a mistake).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from mnistlib.errors import DataError, WriteError

N_PIXELS = 784
"""Pixels per image (28 x 28)."""

IMAGE_SIZE = (28, 28)
"""(width, height) of every image."""

IMAGE_SUFFIXES = {".png", ".bmp", ".gif", ".jpg", ".jpeg", ".pgm", ".tif", ".tiff", ".webp"}
"""File name endings read as images by ``load_image_folder``; other files are ignored."""


# ---------------------------------------------------------------- CSV


def load_csv(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray | None]:
    """Load digits from a CSV file in one of the three layouts of the module docstring.

    Returns (X, y): X (N, 784) uint8; y (N,) uint8, or None for a label-less file.
    Raises DataError naming the file -- and the line and column where it applies --
    for an empty file, an unknown layout, a line with the wrong number of values,
    a missing or non-integer cell, a pixel outside 0-255 or a label outside 0-9.
    Line numbers count from 1 and include the header line.
    """
    path = Path(path)
    has_header, has_labels = _csv_layout(path)
    try:
        df = pd.read_csv(path, header=0 if has_header else None, encoding="utf-8-sig")
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: {_explain_parser_error(exc)}") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read the file ({exc.strerror or exc})") from exc
    if not isinstance(df.index, pd.RangeIndex):  # pandas made the surplus leading values an index
        raise DataError(f"{path}: the first data line has {df.index.nlevels + df.shape[1]} values, "
                        f"but the header has {df.shape[1]} columns")
    if len(df) == 0:
        raise DataError(f"{path}: expected rows of digits after the header, found none")
    _check_cells(df, path, first_line=2 if has_header else 1, has_labels=has_labels)
    values = df.to_numpy(dtype=np.uint8)
    if has_labels:
        return np.ascontiguousarray(values[:, 1:]), values[:, 0].copy()
    return values, None


def _csv_layout(path: Path) -> tuple[bool, bool]:
    """Read the first line of a CSV file and return (has_header, has_labels)."""
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    try:
        with open(path, encoding="utf-8-sig") as f:
            first_line = f.readline().strip()
    except UnicodeDecodeError:
        raise DataError(f"{path}: not a text file (expected a CSV of digits)") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read the file ({exc.strerror or exc})") from exc
    if not first_line:
        raise DataError(f"{path}: file is empty or starts with a blank line (expected CSV digits)")
    fields = [field.strip() for field in first_line.split(",")]
    has_header = not re.fullmatch(r"[+-]?\d+(\.\d*)?", fields[0])
    if has_header and len(fields) == N_PIXELS + 1 and fields[0].lower() == "label":
        return True, True
    if has_header and len(fields) == N_PIXELS:
        return True, False
    if not has_header and len(fields) == N_PIXELS + 1:
        return False, True
    raise DataError(
        f"{path}: line 1 has {len(fields)} columns starting {','.join(fields[:3])!r}; expected "
        f"a header 'label,pixel0,...,pixel783' (785 columns), a header 'pixel0,...,pixel783' "
        f"(784 columns), or no header and 785 numeric columns (label first)"
    )


def _explain_parser_error(exc: Exception) -> str:
    """Turn pandas' tokenizer message into 'line L has F values, expected E'."""
    match = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
    if match:
        expected, line, found = match.groups()
        return f"line {line} has {found} values, expected {expected}"
    return f"cannot parse as CSV ({exc})"


def _check_cells(df: pd.DataFrame, path: Path, first_line: int, has_labels: bool) -> None:
    """Raise DataError for the first bad cell (row by row, left to right), if any.

    A cell is bad if it is missing, not an integer, or out of range
    (0-9 for the label column, 0-255 for pixels).
    """
    problems = []  # (row, column index, description) of the first bad cell of each column
    for j, name in enumerate(df.columns):
        high = 9 if has_labels and j == 0 else 255
        found = _first_bad_cell(df[name], high)
        if found is not None:
            problems.append((found[0], j, found[1]))
    if problems:
        row, j, what = min(problems)
        name = df.columns[j]
        where = f"column {j + 1} ({name})" if isinstance(name, str) else f"column {j + 1}"
        raise DataError(f"{path}: line {first_line + row}, {where}: {what}")


def _first_bad_cell(column: pd.Series, high: int) -> tuple[int, str] | None:
    """(row, description) of the first cell of ``column`` not an integer in 0..high, or None."""
    if pd.api.types.is_integer_dtype(column.dtype) and not pd.api.types.is_bool_dtype(column.dtype):
        values = column.to_numpy()
        bad = np.flatnonzero((values < 0) | (values > high))
        if bad.size:
            return int(bad[0]), f"expected a value in 0-{high}, found {values[bad[0]]}"
        return None
    raw = column.to_numpy(dtype=object)
    missing = column.isna().to_numpy()
    if pd.api.types.is_bool_dtype(column.dtype):
        numbers = np.full(len(column), np.nan)
    else:
        numbers = pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64)
    not_integer = ~missing & ~(np.floor(numbers) == numbers)  # NaN (text) compares False
    out_of_range = ~missing & ~not_integer & ((numbers < 0) | (numbers > high))
    bad = np.flatnonzero(missing | not_integer | out_of_range)
    if not bad.size:
        return None
    i = int(bad[0])
    if missing[i]:
        return i, "missing value (is the line too short?)"
    if not_integer[i]:
        return i, f"expected an integer, found {raw[i]!r}"
    return i, f"expected a value in 0-{high}, found {raw[i]}"


def save_csv(
    path: str | os.PathLike, X: np.ndarray, y: np.ndarray | None = None, header: bool = True
) -> None:
    """Write digits as CSV, Kaggle style: ``label,pixel0,...,pixel783`` (no label if y is None).

    X: (N, 784) or (N, 28, 28), integers 0-255. y: (N,) integers 0-9, or None.
    header: write the header line. A label-less file needs it (see the module docstring).
    Raises DataError for bad X or y (nothing written), WriteError if ``path`` cannot be written.
    """
    X = _as_image_rows(X)
    columns = {f"pixel{i}": X[:, i] for i in range(N_PIXELS)}
    if y is not None:
        columns = {"label": _as_labels(y, len(X)), **columns}
    elif not header:
        raise ValueError(
            "a CSV without labels needs a header; without one it reads as a damaged labelled file"
        )
    try:
        pd.DataFrame(columns).to_csv(path, index=False, header=header)
    except OSError as exc:
        raise WriteError(f"{path}: cannot write the CSV file ({exc.strerror or exc})") from exc


# ---------------------------------------------------------------- image folders


def load_image_folder(
    root: str | os.PathLike, split: str | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Load 28x28 digit images from class folders: ``root/[split/]<digit>/<file>.png``.

    split: e.g. "train" or "test" to read ``root/split``; None reads ``root`` itself.
    Only folders named 0-9 are read (others and hidden files are ignored);
    files are read if their suffix is in IMAGE_SUFFIXES. Colour images become
    grayscale (Pillow "L"); other sizes than 28x28 are refused.
    Returns X (N, 784) uint8 and y (N,) uint8, ordered by class, then by file name.
    Raises DataError naming the folder or file: no class folders, no images,
    unreadable image, wrong size.
    """
    folder = Path(root) / split if split is not None else Path(root)
    if not folder.is_dir():
        raise DataError(f"{folder}: folder not found")
    images, labels = [], []
    for class_dir in _class_folders(folder):
        for file in _image_files(class_dir):
            images.append(_read_digit_image(file))
            labels.append(int(class_dir.name))
    if not images:
        suffixes = ", ".join(sorted(IMAGE_SUFFIXES))
        raise DataError(f"{folder}: the class folders hold no images (looked for {suffixes})")
    return np.stack(images).reshape(len(images), -1), np.array(labels, dtype=np.uint8)


def _class_folders(folder: Path) -> list[Path]:
    """The sub-folders of ``folder`` named 0-9, in class order; DataError if there are none."""
    class_dirs = [d for d in folder.iterdir() if d.is_dir() and re.fullmatch(r"[0-9]", d.name)]
    if not class_dirs:
        raise DataError(f"{folder}: expected class folders named 0-9, found none")
    return sorted(class_dirs, key=lambda d: int(d.name))


def _image_files(class_dir: Path) -> list[Path]:
    """The image files of a class folder by name, skipping hidden files and other suffixes."""
    return sorted(
        f for f in class_dir.iterdir()
        if f.is_file() and not f.name.startswith(".") and f.suffix.lower() in IMAGE_SUFFIXES
    )


def _read_digit_image(file: Path) -> np.ndarray:
    """Read an image file as (28, 28) uint8 grayscale; DataError if unreadable or not 28x28."""
    try:
        with Image.open(file) as image:
            if image.size != IMAGE_SIZE:
                raise DataError(
                    f"{file}: expected a 28x28 image, found {image.width}x{image.height}; "
                    f"resize your images to 28x28 first"
                )
            return gray_levels(image, file)  # colour -> grayscale, alpha dropped
    except DataError:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise DataError(f"{file}: cannot read as an image ({exc})") from None


def gray_levels(image: Image.Image, name) -> np.ndarray:
    """The pixels of an open Pillow image as gray levels: (H, W) uint8 in 0-255.

    Colour and 8-bit images are converted as Pillow does (mode "L", alpha dropped).
    16-bit images (modes "I;16...") hold 0-65535 and are scaled by 255 / 65535, unless every
    value is already in 0-255 (8-bit data saved as 16-bit). 32-bit images (modes "I", "F")
    are accepted only if every value is a whole number in 0-255 -- there is no telling
    what scale they use. Raises DataError naming ``name`` otherwise.
    """
    if not (image.mode.startswith("I;16") or image.mode in ("I", "F")):
        return np.asarray(image.convert("L"), dtype=np.uint8)
    a = np.asarray(image)  # uint16, int32 or float32
    if np.isfinite(a).all() and (a.size == 0 or a.min() >= 0 and a.max() <= 255) \
            and (a == np.round(a)).all():
        return a.astype(np.uint8)
    if image.mode.startswith("I;16"):
        return np.round(a / 257).astype(np.uint8)
    raise DataError(
        f"{name}: a 32-bit image (Pillow mode {image.mode}) with values from {np.nanmin(a):g} "
        f"to {np.nanmax(a):g}; expected gray levels 0-255: save it as an 8-bit grayscale image"
    )


def save_image_folder(root: str | os.PathLike, X: np.ndarray, y: np.ndarray) -> None:
    """Write each digit as a grayscale PNG ``root/<label>/<index>.png``.

    X: (N, 784) or (N, 28, 28), integers 0-255. y: (N,) integers 0-9.
    index is the row number, zero-padded (at least 5 digits) so that file-name
    order is row order; load_image_folder(root) then returns the rows
    grouped by class, in their original order within each class.
    Raises DataError for bad X or y (nothing written), WriteError if a file cannot be written.
    """
    X = _as_image_rows(X).reshape(-1, *IMAGE_SIZE[::-1])
    y = _as_labels(y, len(X))
    width = max(5, len(str(len(X) - 1)))
    root = Path(root)
    try:
        for label in np.unique(y):
            (root / str(label)).mkdir(parents=True, exist_ok=True)
        for index, (image, label) in enumerate(zip(X, y, strict=True)):
            Image.fromarray(image).save(root / str(label) / f"{index:0{width}d}.png")
    except OSError as exc:
        raise WriteError(f"{root}: cannot write the image folder ({exc})") from exc


# ---------------------------------------------------------------- shared checks


def _as_image_rows(X: np.ndarray) -> np.ndarray:
    """X (N, 784) or (N, 28, 28) with integer values 0-255 -> (N, 784) uint8; else DataError."""
    X = np.asarray(X)
    if not (X.ndim == 2 and X.shape[1] == N_PIXELS or X.ndim == 3 and X.shape[1:] == (28, 28)):
        raise DataError(f"expected images of shape (N, 784) or (N, 28, 28), found {X.shape}")
    _check_integers(X, 255, "pixel values")
    return X.astype(np.uint8).reshape(len(X), N_PIXELS)


def _as_labels(y: np.ndarray, n: int) -> np.ndarray:
    """y (n,) with integer values 0-9 -> (n,) uint8; else DataError."""
    y = np.asarray(y)
    if y.shape != (n,):
        raise DataError(f"expected labels of shape ({n},), found {y.shape}")
    _check_integers(y, 9, "labels")
    return y.astype(np.uint8)


def _check_integers(a: np.ndarray, high: int, what: str) -> None:
    """Raise DataError unless ``a`` has an integer dtype and values in 0..high."""
    if not np.issubdtype(a.dtype, np.integer):
        raise DataError(f"expected integer {what}, found dtype {a.dtype}")
    if a.size and (a.min() < 0 or a.max() > high):
        raise DataError(f"expected {what} in 0-{high}, found min {a.min()} and max {a.max()}")
