"""Figures: the colour-blind-safe palette (simulated colour-vision deficiencies), descriptions,
labelled axes, and the teaching diagrams."""
import itertools

import matplotlib

matplotlib.use("Agg")
import matplotlib.colors as mcolors  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import mnistlib  # noqa: E402
from mnistlib import diagrams, plots  # noqa: E402
from mnistlib.metrics import calibration_bins, confusion_matrix  # noqa: E402
from mnistlib.train import History  # noqa: E402

# ---------------------------------------------------------------- colour science
# Machado, Oliveira & Fernandes (2009), "A Physiologically-based Model for Simulation of Color
# Vision Deficiency", IEEE TVCG 15(6): the matrices for severity 1.0, applied to linear RGB.
MACHADO_2009 = {
    "protanopia": [[0.152286, 1.052583, -0.204868],
                   [0.114503, 0.786281, 0.099216],
                   [-0.003882, -0.048116, 1.051998]],
    "deuteranopia": [[0.367322, 0.860646, -0.227968],
                     [0.280085, 0.672501, 0.047413],
                     [-0.011820, 0.042940, 0.968881]],
    "tritanopia": [[1.255528, -0.076749, -0.178779],
                   [-0.078411, 0.930809, 0.147602],
                   [0.004733, 0.691367, 0.303900]],
}
VISIONS = ("normal", *MACHADO_2009)
# CIE76 colour difference. A just-noticeable difference is about 2.3 (Sharma 2003); colours that
# must be told apart as categories in thin lines and small bars need far more. 15 is ~6 JND:
# every Okabe-Ito pair clears it under all three simulations, the matplotlib default pair
# tab:red / tab:green does not under deuteranopia (ΔE ≈ 7), see the sanity test below.
MIN_DELTA_E = 15.0


def srgb_to_linear(c):
    c = np.asarray(c, dtype=float)
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(c):
    c = np.asarray(c, dtype=float)
    return np.where(c <= 0.0031308, 12.92 * c, 1.055 * np.power(c, 1 / 2.4) - 0.055)


def simulate(color, vision):
    """sRGB (3,) as seen with `vision`: sRGB -> linear -> Machado matrix -> clip -> sRGB."""
    rgb = np.array(mcolors.to_rgb(color))
    if vision == "normal":
        return rgb
    return linear_to_srgb(np.clip(np.array(MACHADO_2009[vision]) @ srgb_to_linear(rgb), 0, 1))


SRGB_TO_XYZ = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])


def to_lab(rgb):
    """CIELAB (D65 white) of an sRGB colour (3,) in [0, 1]."""
    xyz = SRGB_TO_XYZ @ srgb_to_linear(rgb) / SRGB_TO_XYZ.sum(axis=1)   # relative to the white point
    d = 6 / 29
    f = np.where(xyz > d ** 3, np.cbrt(xyz), xyz / (3 * d ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def delta_e(c1, c2, vision="normal"):
    """CIE76 ΔE*ab between two colours as seen with `vision`."""
    return float(np.linalg.norm(to_lab(simulate(c1, vision)) - to_lab(simulate(c2, vision))))


# the pairs the package shows side by side and asks the reader to tell apart
COMPARED_PAIRS = {
    **{f"runs {i} and {j}": (plots.PALETTE[i], plots.PALETTE[j])
       for i, j in itertools.combinations(range(len(plots.PALETTE)), 2)},
    "true vs wrong bar": (plots.TRUE_COLOR, plots.WRONG_COLOR),
    "true vs other bar": (plots.TRUE_COLOR, plots.OTHER_COLOR),
    "wrong vs other bar": (plots.WRONG_COLOR, plots.OTHER_COLOR),
    "wrong title vs black title": (plots.WRONG_COLOR, "black"),
}


def test_colour_science_reproduces_known_values():
    np.testing.assert_allclose(to_lab(np.ones(3)), [100, 0, 0], atol=1e-6)      # white
    np.testing.assert_allclose(to_lab(np.zeros(3)), [0, 0, 0], atol=1e-6)       # black
    np.testing.assert_allclose(to_lab(np.array([1.0, 0, 0])), [53.24, 80.09, 67.20], atol=0.05)  # sRGB red
    for vision, M in MACHADO_2009.items():   # each simulation keeps greys grey (rows sum to 1)
        np.testing.assert_allclose(np.sum(M, axis=1), 1, atol=1e-5, err_msg=vision)
        np.testing.assert_allclose(simulate("#777777", vision), mcolors.to_rgb("#777777"), atol=1e-4)


def test_palette_is_okabe_ito():
    assert len(plots.PALETTE) == 8 and set(plots.PALETTE) == set(plots.OKABE_ITO.values())
    assert plots.OKABE_ITO["vermillion"] == "#D55E00" and plots.OKABE_ITO["bluish green"] == "#009E73"
    assert [plots.run_style(i)["marker"] for i in range(8)] == list(plots.MARKERS)
    assert len(set(plots.MARKERS)) == 8


@pytest.mark.parametrize("vision", VISIONS)
def test_compared_colours_stay_distinguishable(vision):
    worst = min(COMPARED_PAIRS.items(), key=lambda kv: delta_e(*kv[1], vision))
    assert delta_e(*worst[1], vision) >= MIN_DELTA_E, (vision, worst)


def test_the_check_can_fail_red_vs_green():
    red, green = "tab:red", "tab:green"           # matplotlib's default red and green
    assert delta_e(red, green) > 100               # obvious with normal vision ...
    assert delta_e(red, green, "deuteranopia") < MIN_DELTA_E      # ... nearly the same colour here


# ---------------------------------------------------------------- the plot functions
def fake_history(epochs=6, offset=0.0):
    h = History()
    for e in range(1, epochs + 1):
        h.append(epoch=e, step=10 * e, lr=0.1, train_loss=1 / e + offset, train_acc=0.9 - 0.3 / e,
                 dev_loss=1.1 / e + offset, dev_acc=0.88 - 0.3 / e, seconds=0.1 * e)
    return h


def is_colorbar(ax):
    return getattr(ax, "_colorbar", None) is not None or ax.get_label() == "<colorbar>"


def labelled(fig):
    """True if every visible Axes with ticks has an x and a y label (colour bars: a label or ticks)."""
    for ax in fig.axes:
        if not ax.axison or is_colorbar(ax):
            continue
        if not (ax.get_xlabel() and ax.get_ylabel()):
            return False
    return True


def every_plot(rng):
    X = rng.random((6, 784))
    probs = rng.dirichlet(np.ones(10), size=6)
    y = np.array([0, 1, 2, 3, 4, 5])
    return {
        "plot_digits": plots.plot_digits(X, y, probs.argmax(1), ncols=3),
        "plot_history": plots.plot_history(fake_history(), title="a run"),
        "plot_confusion_matrix": plots.plot_confusion_matrix(confusion_matrix(y, probs.argmax(1), 10)),
        "plot_weights": plots.plot_weights(rng.normal(size=(784, 6)), ncols=3),
        "plot_probabilities": plots.plot_probabilities(X, probs, y, ncols=3),
        "plot_reliability": plots.plot_reliability(calibration_bins(probs, y)),
    }


def test_every_plot_has_a_description_and_labelled_axes():
    figs = every_plot(np.random.default_rng(0))
    assert set(figs) == {name for name in dir(plots) if name.startswith("plot_")}
    for name, fig in figs.items():
        text = plots.describe(fig)
        assert 40 < len(text) < 600 and text.endswith(".") and "\n" not in text, (name, text)
        assert labelled(fig), name
    plt.close("all")


def test_describe_refuses_a_figure_without_description():
    fig = plt.figure()
    with pytest.raises(ValueError, match="no description"):
        plots.describe(fig)
    assert plots.describe(plots.set_description(fig, "  two\n words. ")) == "two words."
    plt.close(fig)


def test_history_runs_share_a_colour_per_run_and_differ_between_runs():
    fig, axes = plt.subplots(1, 2)
    plots.plot_history(fake_history(), label="lr 0.1", axes=axes)
    plots.plot_history(fake_history(offset=0.2), label="lr 1", axes=axes)
    lines = {ln.get_label(): ln for ln in axes[0].get_lines()}
    assert set(lines) == {"lr 0.1: train", "lr 0.1: dev", "lr 1: train", "lr 1: dev"}
    for run, i in (("lr 0.1", 0), ("lr 1", 1)):
        train, dev = lines[f"{run}: train"], lines[f"{run}: dev"]
        assert mcolors.same_color(train.get_color(), plots.PALETTE[i])
        assert mcolors.same_color(dev.get_color(), plots.PALETTE[i])
        assert train.get_linestyle() == "-" and dev.get_linestyle() == "--"
        assert train.get_marker() == plots.MARKERS[i]
    assert "lr 0.1:" in plots.describe(fig) and "lr 1:" in plots.describe(fig)
    plt.close(fig)


def test_probability_bars_mark_the_wrong_prediction_by_colour_and_hatching():
    probs = np.full((2, 10), 0.02)
    probs[0, 3], probs[1, 7] = 0.82, 0.82           # example 0 right (3), example 1 wrong (7, true 1)
    fig = plots.plot_probabilities(np.zeros((2, 784)), probs, y=np.array([3, 1]), ncols=2)
    bar_axes = [ax for ax in fig.axes if ax.patches]
    right, wrong = ([b for b in ax.patches] for ax in bar_axes)
    assert mcolors.same_color(right[3].get_facecolor(), plots.TRUE_COLOR) and not right[3].get_hatch()
    assert mcolors.same_color(wrong[7].get_facecolor(), plots.WRONG_COLOR) and wrong[7].get_hatch()
    assert mcolors.same_color(wrong[1].get_facecolor(), plots.TRUE_COLOR)
    assert "✗" in [t.get_text() for t in bar_axes[1].texts]
    assert "1 wrong prediction " in plots.describe(fig)
    plt.close(fig)


def test_weight_images_state_their_colour_scale():
    W = np.zeros((784, 2))
    W[0, 0], W[1, 0], W[5, 1] = 2.0, -1.0, -0.5
    fig = plots.plot_weights(W, ncols=2)
    images = [im for ax in fig.axes for im in ax.get_images()]
    assert [im.get_clim() for im in images] == [(-2.0, 2.0), (-0.5, 0.5)]   # symmetric, per unit
    assert all(im.get_cmap().name == plots.WEIGHT_CMAP for im in images)
    caption = " ".join(t.get_text() for t in fig.texts)
    assert "blue positive" in caption and "red negative" in caption and "±max|w|" in caption
    bars = [ax for ax in fig.axes if is_colorbar(ax)]
    assert len(bars) == 1 and [t.get_text() for t in bars[0].get_yticklabels()] == ["−max", "0", "+max"]
    plt.close(fig)


# ---------------------------------------------------------------- the diagrams
def all_text(fig):
    return " ".join(t.get_text() for ax in fig.axes for t in ax.texts) + " " + " ".join(
        t.get_text() for t in fig.texts) + " " + " ".join(ax.get_title() for ax in fig.axes)


def test_network_sketch_shows_every_shape():
    fig = diagrams.draw_network((784, 32, 10))
    text = all_text(fig)
    for shape in ("X  (N, 784)", "W1  (784, H)", "b1  (H,)", "(N, H)", "W2  (H, K)", "b2  (K,)", "(N, K)",
                  "H = 32", "784 pixels", "779 more", "⋮"):
        assert shape in text, shape
    assert "784-32-10" in plots.describe(fig)
    small = all_text(diagrams.draw_network((784, 3, 10)))
    assert "H = 3 units" in small and "0 more" not in small and small.count("⋮") == 2  # all 3 hidden drawn
    plt.close("all")


def test_computational_graph_names_every_gradient_with_its_shape():
    fig = diagrams.draw_computational_graph()
    text = all_text(fig)
    for piece in ("dZ_2 = (A_2 - Y)/N", "dW_2 = A_1^{\\top} dZ_2", "db_2", "dA_1 = dZ_2", "dZ_1 = dA_1",
                  "dW_1 = X^{\\top} dZ_1", "db_1", "(784, H)", "(H, K)", "(K,)", "(H,)", "(N, 784)",
                  "\\mathcal{L}", "\\eta"):
        assert piece in text, piece
    assert " L " not in text    # the loss is script-L; plain L means the number of layers
    assert "dZ2 = (A2 - Y)/N (N, K)" in plots.describe(fig)
    plt.close(fig)


def test_gradient_descent_titles_report_what_each_run_did():
    fig = diagrams.plot_gradient_descent(lrs=(0.1, 0.7, 2.1), lrs_2d=(0.02, 0.17, 0.21))
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[0].startswith("η = 0.1: too slow") and titles[1].startswith("η = 0.7: converges")
    assert titles[2] == "η = 2.1: diverges (|θ| grows ×1.10 per step)"     # |1 - η| = 1.1
    assert titles[3].startswith("η = 0.02: too slow") and titles[4].startswith("η = 0.17: converges")
    assert titles[5] == "η = 0.21: diverges (|θ₂| grows ×1.10 per step)"   # |1 - 10 η| = 1.1
    again = diagrams.plot_gradient_descent(lrs=(0.1, 0.7, 2.1), lrs_2d=(0.02, 0.17, 0.21))
    assert plots.describe(again) == plots.describe(fig)                       # deterministic
    assert [ax.get_xlabel() != "" and ax.get_ylabel() != "" for ax in fig.axes] == [True] * 6
    plt.close("all")


def test_broadcasting_picture_shows_the_column_sums():
    fig = diagrams.draw_broadcasting(N=4, H=3)
    texts = [t.get_text() for t in fig.axes[0].texts]
    rng = np.random.default_rng(0)     # the same draws as the function
    XW, dZ = rng.integers(-3, 4, size=(4, 3)), rng.integers(-3, 4, size=(4, 3))
    for v in list((XW + [10, 20, 30]).ravel()) + list(dZ.sum(axis=0)):
        assert f"{v:g}" in texts
    assert "sum(axis=0)" in " ".join(texts)
    assert "(4, 3)" in plots.describe(fig) and "(3,)" in plots.describe(fig)
    plt.close(fig)


def test_softmax_jacobian_and_dZ2_pictures():
    z = np.array([2.0, 1.0, 0.1, -1.0])
    a = np.exp(z) / np.exp(z).sum()
    fig = diagrams.plot_softmax_jacobian(a)
    J = fig.axes[1].get_images()[0].get_array()
    np.testing.assert_allclose(J, np.diag(a) - np.outer(a, a))
    np.testing.assert_allclose(J.sum(axis=1), 0, atol=1e-15)
    with pytest.raises(ValueError, match="probability vector"):
        diagrams.plot_softmax_jacobian([0.5, 0.6])
    rng = np.random.default_rng(1)
    A2 = rng.dirichlet(np.ones(10), size=5)
    y = np.array([0, 3, 9, 3, 1])
    dZ2 = (A2 - np.eye(10)[y]) / 5
    fig = diagrams.plot_dZ2(dZ2, y)
    ax = fig.axes[0]
    np.testing.assert_array_equal(ax.get_images()[0].get_array(), dZ2)
    frames = [(p.get_x() + 0.5, p.get_y() + 0.5) for p in ax.patches]
    assert frames == [(c, r) for r, c in enumerate(y)]           # the true class of each row framed
    sums = [t.get_text() for t in ax.texts][:5]
    assert all(s == "0" or abs(float(s)) < 1e-15 for s in sums)
    assert "every row sums to zero" in plots.describe(fig)
    plt.close("all")


def test_class_names_replace_the_labels_everywhere():
    names = mnistlib.CLASS_NAMES["fashion-mnist"]
    cm = np.diag(np.full(10, 50))
    cm[6, 0] = 9                                     # 9 shirts read as T-shirt/top
    fig = plots.plot_confusion_matrix(cm, class_names=names)
    assert "true Shirt read as T-shirt/top (9 times)" in plots.describe(fig)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == list(names)
    X, y, pred = np.zeros((3, 784)), np.array([6, 7, 9]), np.array([0, 7, 9])
    fig = plots.plot_digits(X, y, pred, class_names=names)
    assert "✗ T-shirt/top\n(Shirt)" in all_text(fig) and "Sneaker" in all_text(fig)
    assert "3 images" in plots.describe(fig)
    probs = np.eye(10)[[0, 7, 9]]
    fig = plots.plot_probabilities(X, probs, y, class_names=names)
    assert [t.get_text() for t in fig.axes[1].get_xticklabels()] == list(names)
    assert "3 images" in plots.describe(fig)
    plt.close("all")
