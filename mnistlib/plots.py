"""Matplotlib figures the notebooks share: digits, learning curves, confusion matrix, weights.

Each function draws on a new figure (or the `ax` given) and returns the figure.
"""
import matplotlib.pyplot as plt
import numpy as np


def plot_digits(X, y=None, pred=None, ncols=10, size=1.1, title=None):
    """A grid of digits. X: (n, 784) or (n, 28, 28); y, pred: optional (n,) labels.

    Titles show the label, or "pred (true)" in red where a prediction is wrong.
    """
    X = np.asarray(X).reshape(len(X), 28, 28)
    nrows = -(-len(X) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * size, nrows * size * 1.15), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= len(X):
            continue
        ax.imshow(X[i], cmap="gray_r")
        if pred is not None and y is not None:
            wrong = pred[i] != y[i]
            ax.set_title(f"{pred[i]} ({y[i]})" if wrong else f"{pred[i]}",
                         color="crimson" if wrong else "black", fontsize=9)
        elif y is not None:
            ax.set_title(str(y[i]), fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_history(history, title=None, label=None, axes=None):
    """Loss and accuracy per epoch for train and dev, side by side. history: a train.History.

    Pass `axes` (two Axes) and `label` to overlay several runs.
    """
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    fig = axes[0].figure
    epoch = history["epoch"]
    prefix = f"{label}: " if label else ""
    for split, style in (("train", "-"), ("dev", "--")):
        axes[0].plot(epoch, history[f"{split}_loss"], style, label=prefix + split)
        axes[1].plot(epoch, 100 * history[f"{split}_acc"], style, label=prefix + split)
    axes[0].set(xlabel="epoch", ylabel="cross-entropy loss", title="loss")
    axes[1].set(xlabel="epoch", ylabel="accuracy (%)", title="accuracy")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_confusion_matrix(cm, ax=None, title="confusion matrix"):
    """Heat map of a (C, C) confusion matrix with counts; rows true, columns predicted.

    The diagonal is shown in grey so the off-diagonal mistakes stand out.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 5.5))
    C = cm.shape[0]
    off = cm.astype(float).copy()
    np.fill_diagonal(off, np.nan)
    im = ax.imshow(off, cmap="Reds")
    ax.figure.colorbar(im, ax=ax, label="count (off-diagonal)")
    for i in range(C):
        for j in range(C):
            ax.text(j, i, cm[i, j], ha="center", va="center", fontsize=8,
                    color="dimgray" if i == j else ("white" if off[i, j] > np.nanmax(off) / 2 else "black"))
    ax.set(xticks=range(C), yticks=range(C), xlabel="predicted", ylabel="true", title=title)
    return ax.figure


def plot_weights(W, ncols=10, size=1.1, title=None):
    """First-layer weights as images. W: (784, H); draws column h as a 28x28 image.

    Blue is positive, red negative, on a symmetric scale per unit.
    """
    H = W.shape[1]
    nrows = -(-H // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * size, nrows * size * 1.1), squeeze=False)
    for h, ax in enumerate(axes.flat):
        ax.axis("off")
        if h < H:
            w = W[:, h].reshape(28, 28)
            lim = np.abs(w).max()
            ax.imshow(w, cmap="RdBu", vmin=-lim, vmax=lim)
            ax.set_title(f"unit {h}", fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_probabilities(X, probs, y=None, ncols=4):
    """Each digit beside a bar chart of its 10 class probabilities.

    X: (n, 784); probs: (n, 10); y: optional true labels (n,).
    Bar colours: green is the true class (so a right prediction is green), red a wrong
    prediction; without y, the predicted class is blue.
    """
    n = len(X)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, 2 * ncols, figsize=(ncols * 3.6, nrows * 1.7), squeeze=False,
                             gridspec_kw={"width_ratios": [1, 1.6] * ncols})
    for i in range(nrows * ncols):
        ax_img, ax_bar = axes[i // ncols, 2 * (i % ncols)], axes[i // ncols, 2 * (i % ncols) + 1]
        ax_img.axis("off")
        if i >= n:
            ax_bar.axis("off")
            continue
        ax_img.imshow(np.asarray(X[i]).reshape(28, 28), cmap="gray_r")
        colors = ["lightgray"] * 10
        pred = int(np.argmax(probs[i]))
        colors[pred] = "crimson" if y is not None and pred != y[i] else "steelblue"
        if y is not None:
            colors[int(y[i])] = "seagreen"
        ax_bar.bar(range(10), probs[i], color=colors)
        ax_bar.set(ylim=(0, 1), xticks=range(10), ylabel="probability", xlabel="digit")
        ax_bar.tick_params(labelsize=7)
    fig.tight_layout()
    return fig


def plot_reliability(table, ax=None, title="reliability diagram"):
    """Accuracy against mean confidence per bin (table from metrics.calibration_bins)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.plot([0, 1], [0, 1], ":", color="gray", label="perfectly calibrated")
    ax.plot(table["mean_confidence"], table["accuracy"], "o-", label="model")
    ax.set(xlabel="confidence (max probability)", ylabel="accuracy", xlim=(0, 1), ylim=(0, 1),
           title=title)
    ax.legend()
    ax.grid(alpha=0.3)
    return ax.figure
