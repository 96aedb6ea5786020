"""Turn a picture of a handwritten digit into an MNIST-style input row.

MNIST digits are white on black, scaled to fit a 20x20 box (keeping the aspect
ratio) and placed in a 28x28 frame so that their centre of mass is at the centre.
`prepare_digit` does the same to a photo or a drawing, so the network sees what
it was trained on.
"""
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from .errors import DataError
from .formats import gray_levels

MAX_SIDE = 1000
"""Larger images are shrunk (by box averaging) until their longer side is at most this many
pixels before any arithmetic: the digit ends up 20x20 anyway, and an 80-megapixel photo
would otherwise need gigabytes of float64 copies."""


def load_grayscale(path):
    """Read an image file as a (H, W) float array in 0-255; transparency becomes white paper.

    16-bit images are scaled to 0-255 (see formats.gray_levels); images larger than MAX_SIDE
    are shrunk. Raises DataError naming the file if it is missing, unreadable, too large for
    Pillow, or of unknown scale.
    """
    path = Path(path)
    try:
        with Image.open(path) as img:
            img.load()
            if img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info):
                rgba = img.convert("RGBA")
                paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                img = Image.alpha_composite(paper, rgba)
            gray = gray_levels(img, path)  # (H, W) uint8
        factor = min(-(-max(gray.shape) // MAX_SIDE), min(gray.shape) // 28)  # keep >= 28x28
        if factor > 1:
            gray = np.asarray(Image.fromarray(gray).reduce(factor))
        return gray.astype(np.float64)
    except FileNotFoundError:
        raise DataError(f"{path}: no such image file") from None
    except DataError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as e:
        raise DataError(f"{path}: not a readable image ({e})") from None


def prepare_digit(image, name="image"):
    """An MNIST-style row from a digit image.

    image: a path, or a (H, W) array of gray levels 0-255 with H, W >= 28; dark ink on
    light paper is inverted to MNIST's light-on-dark automatically.
    Returns (784,) float32 in [0, 1]: the digit scaled to fit 20x20 and centred by mass.
    Raises DataError for images smaller than 28x28, with values that are not gray levels
    0-255 (text, NaN, out of range), or with no ink.
    """
    if isinstance(image, (str, Path)):
        name, image = str(image), load_grayscale(image)
    try:
        a = np.asarray(image, dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError(f"{name}: expected numeric gray levels 0-255, found "
                        f"{type(image).__name__} {getattr(image, 'dtype', '')}".rstrip()) from None
    if a.ndim != 2 or min(a.shape) < 28:
        raise DataError(f"{name}: expected a grayscale image of at least 28x28 pixels, found shape {a.shape}")
    if not np.isfinite(a).all():
        raise DataError(f"{name}: expected gray levels 0-255, found NaN or infinite values")
    if a.min() < 0 or a.max() > 255:
        raise DataError(f"{name}: expected gray levels 0-255, found values from {a.min():g} "
                        f"to {a.max():g}")
    border = np.concatenate([a[0], a[-1], a[:, 0], a[:, -1]])
    if np.median(border) > 127:  # dark ink on light paper
        a = 255 - a
        border = 255 - border
    a = np.clip(a - np.median(border), 0, None)  # background to 0
    if a.max() <= 0:
        raise DataError(f"{name}: no digit found (the image is blank)")
    ink = a > 0.2 * a.max()
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    crop = a[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    h, w = crop.shape
    scale = 20 / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))  # PIL wants (width, height)
    small = np.asarray(Image.fromarray(crop.astype(np.float32), mode="F").resize(size, Image.LANCZOS))
    small = np.clip(small, 0, None)
    ys, xs = np.indices(small.shape)
    cy, cx = (ys * small).sum() / small.sum(), (xs * small).sum() / small.sum()
    top = int(np.clip(round(14 - cy), 0, 28 - small.shape[0]))
    left = int(np.clip(round(14 - cx), 0, 28 - small.shape[1]))
    out = np.zeros((28, 28))
    out[top:top + small.shape[0], left:left + small.shape[1]] = small
    return (out / out.max()).astype(np.float32).reshape(784)
