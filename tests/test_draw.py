"""The drawing pad of notebook 07: strokes -> pixels (mnistlib.strokes) and the widget's Python half
(mnistlib.draw). The browser half is tested in a real browser by tests/test_browser.py."""
import re
from pathlib import Path

import numpy as np
import pytest

from mnistlib import strokes as st
from mnistlib.prepare import prepare_digit

ROOT = Path(__file__).resolve().parent.parent


def test_a_line_is_as_wide_as_the_pen_with_round_caps():
    img = st.rasterize([[[100, 140], [180, 140]]])          # horizontal, pen 20 wide
    assert img.shape == (st.SIZE, st.SIZE) and img.min() == 0 and img.max() == 255
    column = img[:, 140]                                    # across the middle of the line
    assert column.sum() / 255 == pytest.approx(st.LINE_WIDTH, abs=0.5)
    assert column[140] == 255 and column[125] == 0 and column[155] == 0
    assert img[140, 100 - 9] > 0 and img[140, 100 - 12] == 0  # round cap: r = 10 beyond the end
    assert img[100:130].sum() == 0                           # nothing far from the line


def test_a_single_point_is_a_dot_of_the_pen_width():
    img = st.rasterize([[[140, 140]]], line_width=20)
    assert img.sum() / 255 == pytest.approx(np.pi * 10 ** 2, rel=0.03)


def test_shrink_averages_10x10_blocks_and_refuses_other_sizes():
    img = np.zeros((280, 280))
    img[:10, :10] = 255
    x = st.shrink(img)
    assert x.shape == (784,) and x.dtype == np.float32 and x[0] == 1 and x[1:].sum() == 0
    with pytest.raises(ValueError, match="multiple of 28"):
        st.shrink(np.zeros((100, 100)))


def test_transform_scales_about_the_centre_then_shifts():
    out = st.transform([[[140, 140], [240, 40]]], scale=0.5, dx=-10, dy=5)
    assert out == [[[130.0, 145.0], [180.0, 95.0]]]


def test_a_stroke_must_be_points():
    with pytest.raises(ValueError, match="list of \\[x, y\\] points"):
        st.rasterize([[]])
    with pytest.raises(ValueError, match="list of \\[x, y\\] points"):
        st.rasterize([[[1, 2, 3]]])


def test_the_saved_drawings_hold_one_of_each_digit_on_the_pad():
    digits = st.load_strokes()
    assert sorted(d["label"] for d in digits) == list(range(10))
    for d in digits:
        pts = np.concatenate([st.as_points(s) for s in d["strokes"]])
        assert pts.min() >= 0 and pts.max() <= st.SIZE


def test_save_and_load_strokes_round_trip(tmp_path):
    digits = [{"label": 3, "strokes": [[[10.04, 20.0], [30, 40.06]], [[50, 60]]]}]
    path = st.save_strokes(tmp_path / "mine.json", digits, note="test")
    assert st.load_strokes(path) == [{"label": 3, "strokes": [[[10.0, 20.0], [30.0, 40.1]], [[50.0, 60.0]]]}]


def test_model_input_is_the_mnist_preparation_of_the_painted_strokes():
    strokes = st.load_strokes()[7]["strokes"]
    image, x = st.model_input(strokes)
    np.testing.assert_array_equal(x, prepare_digit(st.rasterize(strokes)))
    _, naive = st.model_input(strokes, prepare=False)
    np.testing.assert_array_equal(naive, st.shrink(image))


class Fixed:
    """A stand-in model: the same probabilities for every input, and the inputs it saw."""

    def __init__(self, k=7):
        self.p = np.full(10, 0.02)
        self.p[k] = 0.82
        self.seen = []

    def predict_proba(self, X):
        self.seen.append(X)
        return np.tile(self.p, (len(X), 1))


@pytest.fixture
def draw():
    pytest.importorskip("anywidget")
    from mnistlib import draw
    return draw


def test_the_pad_predicts_once_per_stroke_and_clears(draw):
    model = Fixed(7)
    pad = draw.DrawPad(model)
    assert pad.prediction is None and pad.probs == [] and pad.message == "draw a digit"
    strokes = st.load_strokes()[4]["strokes"]
    pad.strokes = strokes[:1]
    pad.strokes = strokes
    assert len(model.seen) == 2 and pad.prediction == 7 and pad.predicted_strokes == 2
    assert len(pad.seen) == 784 and pad.probs[7] == pytest.approx(0.82)
    np.testing.assert_allclose(model.seen[-1][0], st.model_input(strokes)[1])
    assert 0 <= pad.seconds < 1
    pad.strokes = []
    assert pad.prediction is None and pad.seen == [] and pad.predicted_strokes == 0


def test_the_pad_says_when_a_drawing_has_no_ink(draw):
    pad = draw.DrawPad(Fixed())
    pad.strokes = [[[-100, -100], [-90, -100]]]   # outside the canvas
    assert pad.prediction is None and pad.message.startswith("cannot read this drawing")


def test_the_pad_without_preparation_feeds_the_shrunk_canvas(draw):
    model = Fixed()
    strokes = st.load_strokes()[1]["strokes"]
    draw.DrawPad(model, prepare=False, strokes=strokes)
    np.testing.assert_array_equal(model.seen[-1][0], st.model_input(strokes, prepare=False)[1])


def test_the_browser_module_reads_only_traits_the_python_side_syncs(draw):
    js = (ROOT / "mnistlib" / "draw.js").read_text(encoding="utf-8")
    used = set(re.findall(r'model\.(?:get|set)\("(\w+)"', js)) | set(re.findall(r'"change:(\w+)"', js))
    synced = set(draw.DrawPad.class_own_traits(sync=True))
    assert used and used <= synced, used - synced
