"""Hand-drawn digits as strokes: the point lists a drawing pad records, turned into pixels.

A drawing is a list of strokes, each a list of [x, y] points in the pad's coordinates
(SIZE x SIZE pixels, origin top left, x to the right, y down), as the pointer reported
them between pressing and lifting. `rasterize` paints them exactly as the pad's canvas
does: round caps and joins, LINE_WIDTH pixels wide, anti-aliased. The drawing widget
(mnistlib.draw) sends its strokes to Python and goes through these same functions, so a
saved drawing (`load_strokes`) and a live one are predicted the same way.

    image = rasterize(strokes)            # (280, 280) ink 0-255 on black, like MNIST
    x = prepare_digit(image)              # (784,) the network's input (mnistlib.prepare)
    x_naive = shrink(image)               # (784,) the canvas merely shrunk: no preparation
"""
import json
from pathlib import Path

import numpy as np

from .prepare import prepare_digit

SIZE = 280
"""The side of the drawing pad in pixels (ten times MNIST's 28)."""

LINE_WIDTH = 20.0
"""Pen width in pad pixels: 2 MNIST pixels once the pad is shrunk tenfold, about MNIST's own strokes."""

STROKES_FILE = Path(__file__).with_name("digit_strokes.json")
"""The saved drawings that notebook 07 and the tests use (one entry per digit, with its label)."""


def as_points(stroke):
    """One stroke as a (n, 2) float array of [x, y]; ValueError unless n >= 1 finite points."""
    pts = np.asarray(stroke, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2 or len(pts) == 0 or not np.isfinite(pts).all():
        raise ValueError(f"a stroke must be a non-empty list of [x, y] points, found shape {pts.shape}")
    return pts


def rasterize(strokes, size=SIZE, line_width=LINE_WIDTH):
    """Paint strokes as the pad's canvas does. Returns (size, size) float64 ink 0-255 on 0 paper.

    A pixel's ink is the part of it the pen covers, approximated as (r + 1/2 - d) clipped to
    [0, 1], where d is the distance from the pixel's centre to the nearest stroke segment and
    r = line_width / 2: a round-capped line with one pixel of anti-aliased edge. A stroke
    of one point is a dot of diameter line_width.
    """
    img = np.zeros((size, size))
    r = line_width / 2
    pad = r + 1
    for stroke in strokes:
        pts = as_points(stroke)
        starts, ends = (pts[:-1], pts[1:]) if len(pts) > 1 else (pts, pts)
        for a, b in zip(starts, ends, strict=True):
            x0, x1 = int(max(0, np.floor(min(a[0], b[0]) - pad))), int(min(size, np.ceil(max(a[0], b[0]) + pad)))
            y0, y1 = int(max(0, np.floor(min(a[1], b[1]) - pad))), int(min(size, np.ceil(max(a[1], b[1]) + pad)))
            if x0 >= x1 or y0 >= y1:
                continue
            ys, xs = np.mgrid[y0:y1, x0:x1] + 0.5  # pixel centres
            ab = b - a
            t = ((xs - a[0]) * ab[0] + (ys - a[1]) * ab[1]) / max(ab @ ab, 1e-12)
            t = np.clip(t, 0, 1)
            d = np.hypot(xs - (a[0] + t * ab[0]), ys - (a[1] + t * ab[1]))
            cover = np.clip(r + 0.5 - d, 0, 1)
            np.maximum(img[y0:y1, x0:x1], cover, out=img[y0:y1, x0:x1])
    return img * 255


def shrink(image):
    """The pad shrunk to 28x28 by averaging 10x10 blocks, scaled to [0, 1]: NO preparation.

    image: (280, 280) ink 0-255. Returns (784,) float32: what the network would see if we fed it
    the canvas as it is, wherever and however large the digit was drawn.
    """
    image = np.asarray(image, dtype=np.float64)
    f = image.shape[0] // 28
    if image.shape != (28 * f, 28 * f):
        raise ValueError(f"expected a square image with a side that is a multiple of 28, found {image.shape}")
    return (image.reshape(28, f, 28, f).mean(axis=(1, 3)) / 255).astype(np.float32).reshape(784)


def transform(strokes, scale=1.0, dx=0.0, dy=0.0, centre=SIZE / 2):
    """The same strokes scaled about the pad's centre, then shifted by (dx, dy) pixels."""
    return [((as_points(s) - centre) * scale + centre + (dx, dy)).tolist() for s in strokes]


def model_input(strokes, line_width=LINE_WIDTH, prepare=True):
    """(image, x): the rasterised strokes (280, 280) and the network's input row (784,) float32.

    prepare=True runs mnistlib.prepare.prepare_digit (the preparation MNIST's own digits went
    through: box into 20x20, centre of mass at the centre of 28x28); False only shrinks.
    Raises mnistlib.DataError for a drawing with no ink.
    """
    image = rasterize(strokes, line_width=line_width)
    return image, (prepare_digit(image, name="drawing") if prepare else shrink(image))


def load_strokes(path=STROKES_FILE):
    """The saved drawings: a list of {"label": int, "strokes": [[[x, y], ...], ...]} (see save_strokes)."""
    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    if doc.get("size") != SIZE:
        raise ValueError(f"{path}: drawn on a {doc.get('size')}-pixel pad, expected {SIZE}")
    return doc["digits"]


def save_strokes(path, digits, note=""):
    """Write drawings [{"label": ..., "strokes": ...}, ...] as JSON that load_strokes reads.

    Coordinates are rounded to 0.1 pixel. To keep what you drew on the pad:
    save_strokes("my_digits.json", [{"label": 7, "strokes": pad.strokes}]).
    """
    out = [{"label": int(d["label"]),
            "strokes": [[[round(float(x), 1), round(float(y), 1)] for x, y in as_points(s)] for s in d["strokes"]]}
           for d in digits]
    doc = {"size": SIZE, "line_width": LINE_WIDTH, "note": note, "digits": out}
    lines = ",\n".join("  " + json.dumps(d, separators=(",", ":")) for d in out)
    head = json.dumps({k: v for k, v in doc.items() if k != "digits"})[:-1]
    Path(path).write_text(head + ', "digits": [\n' + lines + "\n]}\n", encoding="utf-8")
    return Path(path)
