"""Matplotlib figures the notebooks share: digits, learning curves, confusion matrix, weights.

Each function draws on a new figure (or the `ax` given) and returns the figure.

Figures every reader can read:
  * colours come from PALETTE, the Okabe-Ito palette (Okabe & Ito 2008), chosen to stay
    distinguishable under the common colour-vision deficiencies (tests/test_plots.py
    simulates them); compared runs also differ by marker, train and dev by line style;
  * where colour carries meaning it is doubled by a second cue (hatching, a text mark);
  * every figure carries a one-sentence description for screen readers:
    `describe(fig)` returns it, and `show(fig)` displays the figure with it below as text.
"""
import matplotlib.pyplot as plt
import numpy as np

# Okabe & Ito (2008), "Color Universal Design": the eight colours, by name.
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky blue": "#56B4E9",
    "bluish green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish purple": "#CC79A7",
}
# The same eight in the order runs use them: PALETTE[i] is the colour of the i-th compared run.
# Yellow comes last: on white it is hard to see as a thin line.
PALETTE = tuple(OKABE_ITO[name] for name in (
    "blue", "orange", "bluish green", "vermillion", "reddish purple", "sky blue", "black", "yellow"))
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")   # one per run, with PALETTE
TRUE_COLOR = OKABE_ITO["blue"]          # the true class in plot_probabilities
WRONG_COLOR = OKABE_ITO["vermillion"]   # a wrong prediction (bars hatched, titles marked "✗")
OTHER_COLOR = "#BBBBBB"                 # the other classes
WEIGHT_CMAP = "RdBu"                    # diverging, red-blue: readable with red-green deficiencies


def _count(n, noun):
    """"1 wrong prediction", "3 wrong predictions"."""
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _namer(class_names):
    """label -> its display name: class_names[label] (e.g. "Sneaker"), or the label itself ("7")."""
    return (lambda k: str(int(k))) if class_names is None else (lambda k: str(class_names[int(k)]))


def run_style(i):
    """Colour and marker of the i-th compared run: {"color": PALETTE[i % 8], "marker": MARKERS[i % 8]}."""
    return {"color": PALETTE[i % len(PALETTE)], "marker": MARKERS[i % len(MARKERS)]}


def use_palette():
    """Make PALETTE matplotlib's default colour cycle (for plots drawn outside this module)."""
    plt.rcParams["axes.prop_cycle"] = plt.cycler(color=list(PALETTE))


def set_description(fig, text):
    """Attach a one-sentence description `text` (alt text for screen readers) to fig; returns fig."""
    fig.description = " ".join(str(text).split())
    return fig


def describe(fig):
    """The one-sentence description a mnistlib figure function attached to `fig` (its alt text).

    Print it below the figure: `print(describe(fig))`. Raises ValueError for a figure without one.
    """
    text = getattr(fig, "description", None)
    if not text:
        raise ValueError("this figure has no description; set one with set_description(fig, text)")
    return text


def show(fig, description=None):
    """Display fig, then its one-sentence description as text below it (what a reader without the image gets).

    description: the sentence, for figures drawn in a notebook; None uses the one a mnistlib figure
    function attached (`describe(fig)`). Closes fig, so the inline backend does not draw it twice.
    """
    from IPython.display import Markdown, display

    if description is not None:
        set_description(fig, description)
    text = describe(fig)
    display(fig)
    plt.close(fig)
    display(Markdown(f"*Figure: {text}*"))


def plot_digits(X, y=None, pred=None, ncols=10, size=1.1, title=None, class_names=None):
    """A grid of images. X: (n, 784) or (n, 28, 28); y, pred: optional (n,) labels.

    Titles show the label, or "✗ pred (true)" in vermillion where a prediction is wrong.
    class_names: optional names by label (e.g. mnistlib.CLASS_NAMES["fashion-mnist"]) shown instead.
    """
    name = _namer(class_names)
    fontsize = 9 if class_names is None else 7
    X = np.asarray(X).reshape(len(X), 28, 28)
    nrows = -(-len(X) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * size, nrows * size * 1.15), squeeze=False)
    n_wrong = 0
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= len(X):
            continue
        ax.imshow(X[i], cmap="gray_r")
        if pred is not None and y is not None:
            wrong = pred[i] != y[i]
            n_wrong += bool(wrong)
            ax.set_title(f"✗ {name(pred[i])}\n({name(y[i])})" if wrong and class_names is not None
                         else f"✗ {name(pred[i])} ({name(y[i])})" if wrong else name(pred[i]),
                         color=WRONG_COLOR if wrong else "black", fontsize=fontsize,
                         fontweight="bold" if wrong else "normal")
        elif y is not None:
            ax.set_title(name(y[i]), fontsize=fontsize)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    what = f"A grid of {len(X)} " + ("handwritten digits" if class_names is None else "images")
    if pred is not None and y is not None:
        what += (f", each titled with its predicted label; {_count(n_wrong, 'wrong prediction')} "
                 "marked ✗ in vermillion with the true label in brackets")
    elif y is not None:
        what += ", each titled with its label"
    return set_description(fig, (f"{title}: " if title else "") + what + ".")


def plot_history(history, title=None, label=None, axes=None, color=None):
    """Loss and accuracy per epoch for train and dev, side by side. history: a train.History.

    Pass `axes` (two Axes) and `label` to overlay several runs: each run gets its own
    colour and marker (run_style), its train curve solid and its dev curve dashed, both
    in that colour. color: override the run's colour.
    """
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    fig = axes[0].figure
    run = getattr(axes[0], "_mnistlib_runs", 0)       # how many runs these axes already show
    axes[0]._mnistlib_runs = run + 1
    style = run_style(run)
    if color is not None:
        style["color"] = color
    epoch = history["epoch"]
    every = max(1, len(epoch) // 8)
    prefix = f"{label}: " if label else ""
    for split, ls, fill in (("train", "-", style["color"]), ("dev", "--", "white")):
        kw = dict(ls=ls, color=style["color"], marker=style["marker"], markevery=every, markersize=5,
                  markerfacecolor=fill, label=prefix + split)
        axes[0].plot(epoch, history[f"{split}_loss"], **kw)
        axes[1].plot(epoch, 100 * history[f"{split}_acc"], **kw)
    axes[0].set(xlabel="epoch", ylabel="cross-entropy loss", title="loss")
    axes[1].set(xlabel="epoch", ylabel="accuracy (%)", title="accuracy")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()

    def final(column):
        v = history[column]
        return v[-1] if len(v) and np.isfinite(v[-1]) else None

    dev = final("dev_acc")
    summary = (f"{label or 'the run'}: {len(epoch)} epochs, final train loss {final('train_loss'):.3g}"
               + (f", final dev accuracy {100 * dev:.2f} %" if dev is not None else ", no dev set")
               if len(epoch) else f"{label or 'the run'}: no epochs")
    if run == 0:
        text = ("Learning curves: cross-entropy loss (left) and accuracy (right) per epoch, "
                "train solid and dev dashed; " + summary)
    else:
        text = getattr(fig, "description", "").rstrip(".") + "; " + summary
    return set_description(fig, (f"{title}. " if title and run == 0 else "") + text + ".")


def plot_confusion_matrix(cm, ax=None, title="confusion matrix", class_names=None):
    """Heat map of a (K, K) confusion matrix with counts; rows true, columns predicted.

    The diagonal is shown in grey so the off-diagonal mistakes stand out. class_names: optional
    names by label for the axes (e.g. mnistlib.CLASS_NAMES["fashion-mnist"]).
    """
    name = _namer(class_names)
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 5.5))
    cm = np.asarray(cm)
    K = cm.shape[0]
    off = cm.astype(float).copy()
    np.fill_diagonal(off, np.nan)
    im = ax.imshow(off, cmap="Reds")
    ax.figure.colorbar(im, ax=ax, label="count (off-diagonal)")
    for i in range(K):
        for j in range(K):
            ax.text(j, i, cm[i, j], ha="center", va="center", fontsize=8,
                    color="dimgray" if i == j else ("white" if off[i, j] > np.nanmax(off) / 2 else "black"))
    ax.set(xticks=range(K), yticks=range(K), xlabel="predicted", ylabel="true", title=title)
    if class_names is not None:
        ax.set_xticklabels([name(k) for k in range(K)], rotation=45, ha="right", fontsize=8)
        ax.set_yticklabels([name(k) for k in range(K)], fontsize=8)
    text = f"{title}: {K} by {K} counts of {int(cm.sum()):,} examples, rows true class, columns predicted"
    if K > 1 and np.nanmax(off) > 0:
        i, j = np.unravel_index(np.nanargmax(off), off.shape)
        text += f"; the most frequent mistake is true {name(i)} read as {name(j)} ({cm[i, j]} times)"
    return set_description(ax.figure, text + ".")


def plot_weights(W, ncols=10, size=1.1, title=None):
    """First-layer weights as images. W: (784, H); draws column h as a 28x28 image.

    Blue is positive, red negative, white 0, on a symmetric scale ±max|w| per unit
    (the caption under the grid says so; the colour bar shows the scale).
    """
    H = W.shape[1]
    nrows = -(-H // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * size, nrows * size * 1.1 + 0.6),
                             squeeze=False)
    for h, ax in enumerate(axes.flat):
        ax.axis("off")
        if h < H:
            w = W[:, h].reshape(28, 28)
            lim = max(float(np.abs(w).max()), 1e-12)
            im = ax.imshow(w, cmap=WEIGHT_CMAP, vmin=-lim, vmax=lim)
            ax.set_title(f"unit {h}", fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.07, 0.93, 1))
    cax = fig.add_axes((0.945, 0.25, 0.012, 0.5))
    bar = fig.colorbar(im, cax=cax, ticks=[-lim, 0, lim])
    bar.ax.set_yticklabels(["−max", "0", "+max"], fontsize=8)
    bar.set_label("weight", fontsize=8)
    fig.text(0.5, 0.015, "each unit on its own symmetric scale ±max|w|: blue positive weight, "
             "red negative, white 0", ha="center", fontsize=9)
    return set_description(fig, (f"{title}: " if title else "") +
                           f"the first-layer weights of {H} hidden units, each drawn as a 28 by 28 "
                           "image, blue positive and red negative on a symmetric scale per unit.")


def plot_probabilities(X, probs, y=None, ncols=4, class_names=None):
    """Each digit beside a bar chart of its 10 class probabilities.

    X: (n, 784); probs: (n, 10); y: optional true labels (n,); class_names: optional names by
    label, written under the bars instead of the digits 0-9.
    Bar colours: blue is the true class (so a right prediction is blue), vermillion with
    hatching and a "✗" a wrong prediction, grey the other classes; without y, the
    predicted class is blue.
    """
    n = len(X)
    nrows = -(-n // ncols)
    height = 1.7 if class_names is None else 2.3   # room for the names under the bars
    fig, axes = plt.subplots(nrows, 2 * ncols, figsize=(ncols * 3.6, nrows * height + 0.4), squeeze=False,
                             gridspec_kw={"width_ratios": [1, 1.6] * ncols})
    n_wrong = 0
    for i in range(nrows * ncols):
        ax_img, ax_bar = axes[i // ncols, 2 * (i % ncols)], axes[i // ncols, 2 * (i % ncols) + 1]
        ax_img.axis("off")
        if i >= n:
            ax_bar.axis("off")
            continue
        ax_img.imshow(np.asarray(X[i]).reshape(28, 28), cmap="gray_r")
        colors, hatches = [OTHER_COLOR] * 10, [""] * 10
        pred = int(np.argmax(probs[i]))
        wrong = y is not None and pred != int(y[i])
        colors[pred] = TRUE_COLOR
        if wrong:
            n_wrong += 1
            colors[pred], hatches[pred] = WRONG_COLOR, "///"
        if y is not None:
            colors[int(y[i])] = TRUE_COLOR
        bars = ax_bar.bar(range(10), probs[i], color=colors, edgecolor="white", linewidth=0.5)
        for bar, hatch in zip(bars, hatches, strict=False):
            if hatch:
                bar.set_hatch(hatch)
                bar.set_edgecolor("black")
        if wrong:
            ax_bar.text(pred, probs[i][pred] + 0.02, "✗", ha="center", va="bottom",
                        color=WRONG_COLOR, fontsize=10, fontweight="bold")
        ax_bar.set(ylim=(0, 1.18), yticks=[0, 0.5, 1], xticks=range(10), ylabel="probability",
                   xlabel="digit" if class_names is None else "")
        if class_names is not None:
            ax_bar.set_xticklabels([str(c) for c in class_names], rotation=90, fontsize=6)
        ax_bar.spines[["top", "right"]].set_visible(False)
        ax_bar.tick_params(labelsize=7)
        marked = {pred: WRONG_COLOR} if wrong else {}   # tick labels repeat the bar colours
        if y is not None:
            marked[int(y[i])] = TRUE_COLOR
        for k, color in marked.items():
            ax_bar.get_xticklabels()[k].set(color=color, fontweight="bold")
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.35 / fig.get_figheight()))
    key = ("blue: true class    vermillion, hatched, ✗: wrong prediction    grey: other classes"
           if y is not None else "blue: predicted class    grey: other classes")
    fig.text(0.5, 1 - 0.05 / fig.get_figheight(), key, ha="center", va="top", fontsize=9)
    text = (f"{n} {'digits' if class_names is None else 'images'}, each beside a bar chart of its 10 class "
            "probabilities; "
            + ("the predicted class is blue." if y is None
               else "the true class is blue, and every prediction is right." if n_wrong == 0
               else f"the true class is blue, and {_count(n_wrong, 'wrong prediction')} "
                    f"{'is a hatched vermillion bar' if n_wrong == 1 else 'are hatched vermillion bars'} marked ✗."))
    return set_description(fig, text)


def plot_reliability(table, ax=None, title="reliability diagram"):
    """Accuracy against mean confidence per bin (table from metrics.calibration_bins)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.plot([0, 1], [0, 1], ":", color="gray", label="perfectly calibrated")
    ax.plot(table["mean_confidence"], table["accuracy"], "o-", color=PALETTE[0], label="model")
    ax.set(xlabel="confidence (max probability)", ylabel="accuracy", xlim=(0, 1), ylim=(0, 1),
           title=title)
    ax.legend()
    ax.grid(alpha=0.3)
    gap = np.asarray(table["mean_confidence"]) - np.asarray(table["accuracy"])
    text = (f"{title}: accuracy against mean confidence in {len(gap)} bins, with the diagonal of perfect "
            "calibration")
    if len(gap):
        text += (f"; the model is {'over' if gap.mean() > 0 else 'under'}confident by up to "
                 f"{100 * np.abs(gap).max():.1f} percentage points")
    return set_description(ax.figure, text + ".")
