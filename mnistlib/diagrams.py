"""Teaching pictures drawn by code: the network, its computational graph, gradient descent,
broadcasting, the softmax Jacobian and the output gradient dZ2.

Notation as on the series' notation card (NOTATION.md): N batch size, H hidden units, K = 10
classes, 𝓛 the loss (mean cross-entropy, natural log), θ any parameter, η the learning rate.
Every function returns a matplotlib Figure that carries a one-sentence description for screen
readers: `plots.describe(fig)`; `plots.show(fig)` displays both.
Pure matplotlib, no external programs.
"""
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Rectangle

from .plots import MARKERS, OKABE_ITO, PALETTE, describe, set_description  # noqa: F401 (describe re-exported)

FORWARD = OKABE_ITO["blue"]
BACKWARD = OKABE_ITO["vermillion"]
LOSS = r"$\mathcal{L}$"


def _arrow(ax, start, end, color, ls="-", lw=1.6, rad=0.0, shrink=0.0):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=13, color=color, lw=lw,
                                 linestyle=ls, connectionstyle=f"arc3,rad={rad}",
                                 shrinkA=shrink, shrinkB=shrink))


def _box(ax, xy, text, color, width=1.5, height=0.62, fontsize=11, fill="white", lw=1.6):
    x, y = xy
    ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height,
                                boxstyle="round,pad=0.04,rounding_size=0.12", ec=color, fc=fill, lw=lw))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize)


# ---------------------------------------------------------------- 1. the network
def draw_network(sizes=(784, 32, 10), shown=4):
    """Neurons and edges of a sketch of the 784-H-10 network, with every array's shape.

    sizes: (inputs, H, K). Layers wider than shown + 1 draw `shown` neurons, a "⋮" and the
    last neuron, and state the true count. Returns the Figure (describe(fig) is its alt text).
    """
    D, H, K = sizes
    fig, ax = plt.subplots(figsize=(11, 6.6))
    xs = (0.0, 4.0, 8.0)
    names = (f"input layer\n{D} pixels", f"hidden layer\nH = {H} units", f"output layer\nK = {K} classes")
    colors = (OKABE_ITO["sky blue"], OKABE_ITO["bluish green"], OKABE_ITO["orange"])
    positions = []
    for x, n, name, color in zip(xs, sizes, names, colors, strict=False):
        if n <= shown + 1:
            ys, labels = np.linspace(2.0, -2.0, n) if n > 1 else np.zeros(1), list(range(1, n + 1))
            dots = None
        else:
            ys = np.r_[np.linspace(2.4, 0.3, shown), -2.4]
            labels, dots = list(range(1, shown + 1)) + [n], -1.05
        positions.append(ys)
        for y, lab in zip(ys, labels, strict=False):
            ax.add_patch(plt.Circle((x, y), 0.26, fc=color, ec="black", lw=1, zorder=3))
            ax.text(x, y, str(lab), ha="center", va="center", fontsize=8, zorder=4)
        if dots is not None:
            ax.text(x, dots, "⋮", ha="center", va="center", fontsize=22)
            ax.text(x + 0.42, dots, f"{n - shown - 1:,} more", ha="left", va="center", fontsize=8,
                    color="dimgray")
        ax.text(x, -3.15, name, ha="center", va="top", fontsize=11, fontweight="bold")
    layers = list(zip(xs, positions, strict=True))
    for (x0, ys0), (x1, ys1) in zip(layers, layers[1:], strict=False):
        for y0 in ys0:
            for y1 in ys1:
                ax.plot([x0 + 0.26, x1 - 0.26], [y0, y1], color="gray", lw=0.5, alpha=0.55, zorder=1)
    # shapes of the data flowing through (above) and of the parameters (between the layers)
    top = 3.25
    for x, text in ((xs[0], "X  (N, 784)\none row per example"),
                    (xs[1], "Z1 = X W1 + b1  (N, H)\nA1 = g(Z1)  (N, H)"),
                    (xs[2], "Z2 = A1 W2 + b2  (N, K)\nA2 = softmax(Z2)  (N, K)")):
        ax.text(x, top, text, ha="center", va="bottom", fontsize=10,
                bbox=dict(boxstyle="round", fc="#F2F2F2", ec="none"))
    for x, text in (((xs[0] + xs[1]) / 2, "W1  (784, H)\nb1  (H,)"),
                    ((xs[1] + xs[2]) / 2, "W2  (H, K)\nb2  (K,)")):
        ax.text(x, -2.65, text, ha="center", va="center", fontsize=10, color=FORWARD, fontweight="bold",
                bbox=dict(boxstyle="round", fc="white", ec=FORWARD))
    ax.text(4.0, -4.35, f"N = batch size, H = {H} hidden units, K = {K} classes; "
            "each grey line is one weight (W1 has 784·H of them)", ha="center", fontsize=9, color="dimgray")
    ax.set(xlim=(-1.6, 9.6), ylim=(-4.6, 4.6), aspect="equal")
    ax.axis("off")
    fig.tight_layout()
    return set_description(fig, (
        f"Sketch of the {D}-{H}-{K} network: {D} input neurons, {H} hidden and {K} output neurons "
        "(a few drawn per layer, the rest as dots), fully connected, with shapes X (N, 784), W1 (784, H), "
        "b1 (H,), Z1 and A1 (N, H), W2 (H, K), b2 (K,), Z2 and A2 (N, K)."))


# ---------------------------------------------------------------- 2. the computational graph
def draw_computational_graph():
    """Forward and backward pass of the two-layer network, with the shape on every edge.

    Forward (solid blue): X, W1, b1 -> Z1 -> A1 -> (with W2, b2) Z2 -> A2 -> 𝓛 (with Y).
    Backward (dashed vermillion): dZ2 = (A2 - Y)/N, dA1, dZ1 back along the chain, and
    dW1, db1, dW2, db2 down to the parameter gradients. Returns the Figure.
    """
    fig, ax = plt.subplots(figsize=(15.5, 7.2))
    y0, yp, yg = 0.0, 2.3, -2.75
    x = {"X": 0.0, "Z1": 3.0, "A1": 6.0, "Z2": 9.0, "A2": 12.0, "L": 15.0}
    nodes = {"X": "$X$", "Z1": "$Z_1 = X W_1 + b_1$", "A1": "$A_1 = g(Z_1)$",
             "Z2": "$Z_2 = A_1 W_2 + b_2$", "A2": "$A_2 = \\mathrm{softmax}(Z_2)$",
             "L": LOSS + "$\\,= -\\frac{1}{N}\\sum Y \\odot \\log A_2$"}
    widths = {"X": 0.8, "Z1": 1.95, "A1": 1.55, "Z2": 1.95, "A2": 2.05, "L": 2.25}
    for k, text in nodes.items():
        _box(ax, (x[k], y0), text, FORWARD if k != "L" else "black", width=widths[k], fontsize=10.5)
    params = {"W1": (2.3, "$W_1$"), "b1": (3.7, "$b_1$"), "W2": (8.3, "$W_2$"), "b2": (9.7, "$b_2$"),
              "Y": (15.0, "$Y$ one-hot")}
    for k, (px, text) in params.items():
        _box(ax, (px, yp), text, "black", width=0.9 if k != "Y" else 1.4, height=0.5, fontsize=11, fill="#F2F2F2")
    # forward edges along the chain, shape above each
    chain = [("X", "Z1", "(N, 784)"), ("Z1", "A1", "(N, H)"), ("A1", "Z2", "(N, H)"),
             ("Z2", "A2", "(N, K)"), ("A2", "L", "(N, K)")]
    for a, b, shape in chain:
        xa, xb = x[a] + widths[a] / 2 + 0.06, x[b] - widths[b] / 2 - 0.06
        _arrow(ax, (xa, y0 + 0.12), (xb, y0 + 0.12), FORWARD)
        ax.text((xa + xb) / 2, y0 + 0.22, shape, ha="center", va="bottom", fontsize=9, color=FORWARD)
    for k, target, shape in (("W1", "Z1", "(784, H)"), ("b1", "Z1", "(H,)"), ("W2", "Z2", "(H, K)"),
                             ("b2", "Z2", "(K,)"), ("Y", "L", "(N, K)")):
        px = params[k][0]
        tx = x[target] + (px - x[target]) * 0.35
        _arrow(ax, (px, yp - 0.3), (tx, y0 + 0.36), FORWARD)
        ax.text((px + tx) / 2 + (0.12 if px >= x[target] else -0.12), (yp + y0) / 2, shape,
                ha="left" if px >= x[target] else "right", va="center", fontsize=9, color=FORWARD)
    # backward along the chain, below it
    back = [("L", "Z2", "$dZ_2 = (A_2 - Y)/N$\n(N, K)"),
            ("Z2", "A1", "$dA_1 = dZ_2\\, W_2^{\\top}$\n(N, H)"),
            ("A1", "Z1", "$dZ_1 = dA_1 \\odot g'(Z_1)$\n(N, H)")]
    for a, b, text in back:
        xa, xb = x[a] - widths[a] / 2 - 0.06, x[b] + widths[b] / 2 + 0.06
        if a == "L":   # straight past A2: softmax and cross-entropy fused
            xa, xb = x["L"] - 0.4, x["Z2"] + 0.4
            _arrow(ax, (xa, y0 - 0.36), (xb, y0 - 0.36), BACKWARD, ls="--", rad=-0.32)
            ax.text(x["A2"], y0 - 1.25, text, ha="center", va="top", fontsize=9.5, color=BACKWARD)
            ax.text(x["A2"], y0 - 1.95, "(softmax and cross-entropy fused:\nno need for $dA_2$)",
                    ha="center", va="top", fontsize=8.5, color="dimgray")
            continue
        _arrow(ax, (xa, y0 - 0.2), (xb, y0 - 0.2), BACKWARD, ls="--")
        ax.text((xa + xb) / 2, y0 - 0.42, text, ha="center", va="top", fontsize=9.5, color=BACKWARD)
    grads = {"dW1": (2.05, "Z1", "$dW_1 = X^{\\top} dZ_1$", "(784, H)"),
             "db1": (3.95, "Z1", "$db_1 = \\sum_{\\mathrm{rows}} dZ_1$", "(H,)"),
             "dW2": (8.05, "Z2", "$dW_2 = A_1^{\\top} dZ_2$", "(H, K)"),
             "db2": (9.95, "Z2", "$db_2 = \\sum_{\\mathrm{rows}} dZ_2$", "(K,)")}
    for gx, src, text, shape in grads.values():
        _box(ax, (gx, yg), f"{text}\n{shape}", BACKWARD, width=1.7, height=0.8, fontsize=9.5)
        sx = x[src] + (gx - x[src]) * 0.35
        _arrow(ax, (sx, y0 - 0.36), (gx, yg + 0.44), BACKWARD, ls="--")
    ax.text(x["L"], yg - 0.05, LOSS + " is a scalar: every gradient\n"
            "$d\\theta = \\partial\\mathcal{L}/\\partial \\theta$ has the shape of $\\theta$\n"
            "update: $\\theta \\leftarrow \\theta - \\eta\\, d\\theta$", ha="center", va="center", fontsize=10,
            bbox=dict(boxstyle="round", fc="#F2F2F2", ec="none"))
    ax.plot([], [], color=FORWARD, lw=1.6, label="forward: values, with their shapes")
    ax.plot([], [], color=BACKWARD, lw=1.6, ls="--", label="backward: gradients of " + LOSS)
    ax.legend(loc="upper left", fontsize=10, frameon=False)
    ax.text(16.3, 3.25, "N batch size, H hidden units, K = 10 classes,\n"
            "g the activation, η the learning rate", ha="right", va="top", fontsize=9, color="dimgray")
    ax.set(xlim=(-0.6, 16.4), ylim=(-3.45, 3.35))
    ax.axis("off")
    fig.tight_layout()
    return set_description(fig, (
        "Computational graph of the two-layer network: forward, X (N, 784) with W1 (784, H) and b1 (H,) "
        "gives Z1 (N, H), then A1 (N, H), with W2 (H, K) and b2 (K,) gives Z2 (N, K), then A2 (N, K) and "
        "with Y (N, K) the scalar loss; backward, dZ2 = (A2 - Y)/N (N, K), dW2 = A1ᵀ dZ2 (H, K), "
        "db2 (K,), dA1 = dZ2 W2ᵀ (N, H), dZ1 = dA1 times g'(Z1) (N, H), dW1 = Xᵀ dZ1 (784, H), db1 (H,)."))


# ---------------------------------------------------------------- 3. gradient descent
def _descend(grad, theta0, lr, steps):
    path = [np.asarray(theta0, dtype=float)]
    for _ in range(steps):
        path.append(path[-1] - lr * grad(path[-1]))
    return np.array(path)


def _verdict(losses, growth, coordinate):
    """A short statement of what a gradient-descent run did, measured from its losses."""
    ratio = losses[-1] / losses[0]
    if ratio > 1:
        return f"diverges (|{coordinate}| grows ×{growth:.2f} per step)"
    if ratio > 0.05:
        return f"too slow (loss still {100 * ratio:.0f} % of start)"
    return f"converges (loss {ratio:.0e} of start)"


def plot_gradient_descent(lrs=(0.1, 0.7, 2.1), lrs_2d=(0.02, 0.17, 0.21), steps=10, steps_2d=30):
    """Gradient descent at three learning rates η, on a 1-D and on a 2-D quadratic bowl.

    Top row: 𝓛(θ) = θ²/2 from θ = 2.5 for each η in lrs (each step multiplies θ by 1 − η, so
    η > 2 diverges). Bottom row: 𝓛(θ) = (θ₁² + 10 θ₂²)/2, an elongated bowl, from (-4.5, 1.5)
    for each η in lrs_2d (η > 2/10 diverges along the steep θ₂ direction). Panel titles state
    η and what happened, measured from the run. Deterministic. Returns the Figure.
    """
    fig, axes = plt.subplots(2, 3, figsize=(13, 8.2))
    verdicts = []
    f1 = lambda t: 0.5 * t ** 2                                   # noqa: E731
    for i, (ax, lr) in enumerate(zip(axes[0], lrs, strict=False)):
        path = _descend(lambda t: t, 2.5, lr, steps)                 # ∇𝓛(θ) = θ
        losses = f1(path)
        growth = float(np.abs(path[-1] / path[-2])) if path[-2] != 0 else 0.0
        verdict = _verdict(losses, growth, "θ")
        verdicts.append(f"1-D, η = {lr:g}: {verdict}")
        lim = max(3.2, 1.1 * np.abs(path).max())
        grid = np.linspace(-lim, lim, 300)
        ax.plot(grid, f1(grid), color="gray", lw=1.5, label=LOSS + r"$(\theta) = \theta^2/2$")
        style = dict(color=PALETTE[i], marker=MARKERS[i])
        ax.plot(path, losses, "-", lw=1, alpha=0.6, **style)
        ax.plot(path, losses, ls="none", ms=6, **style, label=f"{steps} steps from θ = 2.5")
        ax.plot(path[0], losses[0], "o", ms=11, mfc="none", mec="black")
        ax.set(xlabel="parameter θ", ylabel="loss " + LOSS, title=f"η = {lr:g}: {verdict}")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper center")
    a = np.array([1.0, 10.0])
    f2 = lambda T: 0.5 * (a[0] * T[..., 0] ** 2 + a[1] * T[..., 1] ** 2)   # noqa: E731
    g1, g2 = np.meshgrid(np.linspace(-5, 5, 300), np.linspace(-2.4, 2.4, 200))
    Zg = f2(np.stack([g1, g2], axis=-1))
    for i, (ax, lr) in enumerate(zip(axes[1], lrs_2d, strict=False)):
        path = _descend(lambda T: a * T, (-4.5, 1.5), lr, steps_2d)
        losses = f2(path)
        growth = float(np.abs(path[-1, 1] / path[-2, 1])) if path[-2, 1] != 0 else 0.0
        verdict = _verdict(losses, growth, "θ₂")
        verdicts.append(f"2-D, η = {lr:g}: {verdict}")
        ax.contour(g1, g2, Zg, levels=np.geomspace(0.05, 60, 12), colors="gray", linewidths=0.7)
        style = dict(color=PALETTE[i], marker=MARKERS[i])
        outside = np.flatnonzero((np.abs(path[:, 0]) > 5) | (np.abs(path[:, 1]) > 2.4))
        drawn = path if not len(outside) else path[: outside[0] + 1]
        ax.plot(drawn[:, 0], drawn[:, 1], "-", lw=1, ms=4, **style, label=f"{steps_2d} steps")
        ax.plot(*path[0], "o", ms=11, mfc="none", mec="black", label="start")
        ax.plot(0, 0, "*", color="black", ms=11, label="minimum")
        ax.set(xlim=(-5, 5), ylim=(-2.4, 2.4), xlabel="θ₁ (shallow direction)", ylabel="θ₂ (steep direction)",
               title=f"η = {lr:g}: {verdict}")
        if len(outside):
            ax.text(0, -2.2, f"leaves the plot at step {outside[0]}; after {steps_2d} steps "
                    f"|θ₂| = {abs(path[-1, 1]):.3g}", ha="center", fontsize=9, color="black",
                    bbox=dict(boxstyle="round", fc="white", ec=PALETTE[i]))
        ax.legend(fontsize=8, loc="upper right")
    axes[0, 0].figure.suptitle("Gradient descent  θ ← θ − η ∇" + LOSS + "(θ): too small, good, too large",
                               fontsize=13)
    fig.tight_layout()
    fig.verdicts = verdicts
    return set_description(fig, (
        "Gradient descent on a 1-D parabola (top) and an elongated 2-D bowl drawn as contours (bottom) at "
        "three learning rates each: " + "; ".join(verdicts) + "."))


# ---------------------------------------------------------------- 4. broadcasting
def _grid(ax, x0, y0, values, color, ghost=(), fmt="{:g}", label=None, cell=0.62):
    """Draw a 2-D array as cells with its values; rows in `ghost` are drawn faded (broadcast copies)."""
    values = np.atleast_2d(values)
    for i, row in enumerate(values):
        faded = i in ghost
        for j, v in enumerate(row):
            ax.add_patch(Rectangle((x0 + j * cell, y0 - (i + 1) * cell), cell, cell, fc=color,
                                   alpha=0.28 if faded else 0.85, ec="black", lw=0.8,
                                   ls=":" if faded else "-"))
            ax.text(x0 + (j + 0.5) * cell, y0 - (i + 0.5) * cell, fmt.format(v), ha="center", va="center",
                    fontsize=10, color="dimgray" if faded else "black")
    if label:
        ax.text(x0 + values.shape[1] * cell / 2, y0 + 0.12, label, ha="center", va="bottom", fontsize=10.5)


def draw_broadcasting(N=4, H=3):
    """Broadcasting (N, H) + (H,) drawn as arrays, and sum(axis=0) as its undo.

    Top: Z1 = X W1 + b1, the bias row b1 (H,) repeated down the N rows. Bottom: the
    gradient dZ1 (N, H) summed over its rows to db1 (H,), because each bias was used
    N times. Small integer values so the sums can be checked by eye. Returns the Figure.
    """
    rng = np.random.default_rng(0)
    XW = rng.integers(-3, 4, size=(N, H))
    b = 10 * np.arange(1, H + 1)
    dZ = rng.integers(-3, 4, size=(N, H))
    c = 0.62
    fig, ax = plt.subplots(figsize=(12, 7.6))
    blue, orange, green = OKABE_ITO["sky blue"], OKABE_ITO["orange"], OKABE_ITO["bluish green"]
    top = 4.9
    w = H * c
    ax.text(-0.2, top + 0.8, "Forward: adding the bias broadcasts it down the rows", fontsize=13,
            fontweight="bold")
    _grid(ax, 0, top, XW, blue, label=f"$X W_1$   ({N}, {H})")
    ax.text(w + 0.45, top - N * c / 2, "+", fontsize=22, ha="center", va="center")
    x_b = w + 0.9
    _grid(ax, x_b, top, np.tile(b, (N, 1)), orange, ghost=range(1, N), label=f"$b_1$   ({H},)")
    ax.text(x_b + w + 0.15, top - 1.5 * c, f"← the one row\n   of b1, repeated\n   {N - 1} more times\n"
            "   (not copied in memory)", fontsize=9, va="top", color="dimgray")
    x_eq = x_b + w + 2.3
    ax.text(x_eq - 0.4, top - N * c / 2, "=", fontsize=22, ha="center", va="center")
    _grid(ax, x_eq, top, XW + b, green, label=f"$Z_1 = X W_1 + b_1$   ({N}, {H})")
    ax.text(x_eq + w + 0.35, top - N * c / 2,
            "shapes (N, H) + (H,):\nline up from the right,\nH = H, and the missing\naxis is stretched to N",
            fontsize=9.5, va="center")
    bottom = 0.9
    ax.text(-0.2, bottom + 0.8, "Backward: sum(axis=0) undoes it; each bias was used N times",
            fontsize=13, fontweight="bold")
    _grid(ax, 0, bottom, dZ, blue, label=f"$dZ_1$   ({N}, {H})")
    for j in range(H):
        _arrow(ax, ((j + 0.5) * c, bottom - N * c - 0.05), ((j + 0.5) * c, bottom - N * c - 0.55), BACKWARD)
    ax.text(w + 0.15, bottom - N * c - 0.3, "dZ1.sum(axis=0):  add the N rows", fontsize=10,
            va="center", color=BACKWARD, family="monospace")
    _grid(ax, 0, bottom - N * c - 0.62, dZ.sum(axis=0), orange)
    ax.text(w + 0.15, bottom - N * c - 0.62 - c / 2, f"$db_1$   ({H},)   the shape of $b_1$", fontsize=10.5,
            va="center")
    ax.text(x_eq - 0.4, bottom - 0.1,
            "Why a sum: b1[h] was added to every row,\nso it touched all N entries Z1[:, h].\n"
            "Its gradient adds up their gradients:\n    db1[h] = Σᵢ dZ1[i, h].\n\n"
            "Not dZ1.sum() (a scalar: all axes)\nand not dZ1.sum(axis=1) (shape (N,)).",
            fontsize=10.5, va="top", bbox=dict(boxstyle="round", fc="#F2F2F2", ec="none"))
    ax.set(xlim=(-0.4, x_eq + w + 3.2), ylim=(bottom - N * c - 1.6, top + 1.2), aspect="equal")
    ax.axis("off")
    fig.tight_layout()
    return set_description(fig, (
        f"Broadcasting drawn as arrays: a ({N}, {H}) array plus the bias row ({H},), repeated down the "
        f"{N} rows, gives a ({N}, {H}) array; below, the ({N}, {H}) gradient dZ1 is summed down its rows "
        f"(sum(axis=0)) to db1 of shape ({H},), because each bias was used once per row."))


# ---------------------------------------------------------------- 5. softmax Jacobian and dZ2
def plot_softmax_jacobian(a):
    """The softmax Jacobian J = diag(a) − a aᵀ (K, K) for one probability vector a (K,).

    J[k, j] = ∂a_k/∂z_j: a_k(1 − a_k) > 0 on the diagonal, −a_k a_j < 0 off it; every row
    and column sums to 0 (probabilities always sum to 1). Left: a as bars; right: J as a
    heat map on a symmetric diverging scale. Returns the Figure.
    """
    a = np.asarray(a, dtype=np.float64).ravel()
    if np.any(a < 0) or not np.isclose(a.sum(), 1.0):
        raise ValueError(f"a must be a probability vector (non-negative, summing to 1); sums to {a.sum():.4g}")
    K = a.size
    J = np.diag(a) - np.outer(a, a)
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(12, 5.2), gridspec_kw={"width_ratios": [1, 1.45]})
    ax0.bar(range(K), a, color=PALETTE[0])
    ax0.set(xticks=range(K), xlabel="class k", ylabel="probability $a_k$", ylim=(0, 1),
            title=f"the probabilities a   ({K},)")
    ax0.grid(axis="y", alpha=0.3)
    lim = max(float(np.abs(J).max()), 1e-12)
    im = ax1.imshow(J, cmap="RdBu_r", vmin=-lim, vmax=lim)
    fig.colorbar(im, ax=ax1, label="$J_{kj} = \\partial a_k / \\partial z_j$   (red +, blue −)")
    for k in range(K):
        for j in range(K):
            if abs(J[k, j]) >= 0.005:
                ax1.text(j, k, f"{J[k, j]:.2f}".replace("-0.", "−.").replace("0.", "."), ha="center",
                         va="center", fontsize=7 if K > 6 else 9,
                         color="white" if abs(J[k, j]) > 0.6 * lim else "black")
    ax1.set(xticks=range(K), yticks=range(K), xlabel="logit $z_j$", ylabel="probability $a_k$",
            title=f"softmax Jacobian  $J = \\mathrm{{diag}}(a) - a a^\\top$   ({K}, {K})")
    worst = float(np.abs(J.sum(axis=1)).max())
    ax1.text(0.5, -0.16, f"diagonal $a_k(1-a_k) \\geq 0$, off-diagonal $-a_k a_j \\leq 0$; "
             f"every row sums to 0\n(largest |row sum| here: {worst:.0e}, rounding)", transform=ax1.transAxes,
             ha="center", va="top", fontsize=9.5)
    fig.tight_layout()
    top = int(np.argmax(a))
    return set_description(fig, (
        f"Bar chart of a probability vector over {K} classes (largest a_{top} = {a[top]:.2f}) beside the heat "
        f"map of its softmax Jacobian diag(a) - a aᵀ, ({K}, {K}): positive on the diagonal, negative off it, "
        "every row summing to zero."))


def plot_dZ2(dZ2, y=None, max_rows=20):
    """Heat map of a batch's output gradient dZ2 = (A2 − Y)/N: rows examples, columns classes.

    dZ2: (N, K); y: optional true labels (N,), marked with a black frame (their entry is the
    negative one, (a_y − 1)/N). Each row sums to 0 because a row of A2 and a one-hot row of Y
    both sum to 1; the row sums are printed on the right. At most max_rows rows are drawn.
    Returns the Figure.
    """
    dZ2 = np.asarray(dZ2, dtype=np.float64)
    N, K = dZ2.shape
    shown = dZ2[:max_rows]
    n = len(shown)
    fig, ax = plt.subplots(figsize=(8.6, 1.4 + 0.36 * n))
    lim = max(float(np.abs(shown).max()), 1e-300)
    im = ax.imshow(shown, cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto")
    fig.colorbar(im, ax=ax, label="$dZ_2 = (A_2 - Y)/N$   (red +, blue −)", pad=0.16)
    if y is not None:
        for i, label in enumerate(np.asarray(y)[:n]):
            ax.add_patch(Rectangle((int(label) - 0.5, i - 0.5), 1, 1, fill=False, ec="black", lw=1.8))
    sums = shown.sum(axis=1)
    for i, s in enumerate(sums):
        ax.text(K - 0.3, i, f"{s:+.0e}" if s else "0", ha="left", va="center", fontsize=8, family="monospace")
    ax.text(K - 0.3, -0.75, "row sum", ha="left", va="bottom", fontsize=9)
    ax.set(xticks=range(K), yticks=range(n), xlabel="class (column of dZ2)", ylabel="example (row of dZ2)",
           title=f"$dZ_2$ of a batch of N = {N}" + (f" (first {n} rows)" if n < N else "")
           + ("; black frame: the true class" if y is not None else ""))
    ax.set_xlim(-0.5, K - 0.5)
    fig.tight_layout()
    worst = float(np.abs(dZ2.sum(axis=1)).max())
    return set_description(fig, (
        f"Heat map of the output gradient dZ2 = (A2 - Y)/N for {n} examples (rows) and {K} classes "
        "(columns): one negative entry per row at the true class, small positive entries elsewhere; "
        f"every row sums to zero (largest |row sum| {worst:.0e})."))


# ---------------------------------------------------------------- 6. the graph autograd built
def _tensor_label(node):
    """Two lines: the operation (or a leaf's name) and the shape, e.g. "add" / "Z1 (N, 7)"."""
    shape = "scalar" if node.value.ndim == 0 else str(tuple(node.value.shape))
    if not node.op:
        return f"{node.name or 'constant'}\n{shape}"
    return f"{node.op}\n{node.name + ' ' if node.name else ''}{shape}"


def draw_tensor_graph(loss_tensor, title=None, fontsize=9):
    """The graph an autograd Tensor was computed by (mnistlib.autograd.graph), left to right.

    Each node is a box with its operation (or, for a leaf, its name) and its shape; each edge an
    arrow from an input to the operation that used it (twice for x * x). Columns are depths: an
    operation sits one column right of its deepest input, a leaf one column left of its first use.
    Styles: parameters (leaves with requires_grad, which receive `.grad`) framed in the backward
    colour; data (X, Y and results computed from data only: no gradient) grey; operations framed
    in the forward colour. Returns the Figure.
    """
    from matplotlib.patches import Patch

    nodes, edges = loss_tensor.graph()
    depth, children = {}, {id(n): [] for n in nodes}
    for node in nodes:  # topological order: every parent first
        depth[id(node)] = 1 + max((depth[id(p)] for p in node.parents), default=-1)
        for p in node.parents:
            children[id(p)].append(node)
    for node in nodes:  # leaves move right, next to their first use
        if not node.parents and children[id(node)]:
            depth[id(node)] = min(depth[id(c)] for c in children[id(node)]) - 1

    def kind(node):
        if not node.requires_grad:
            return "data"
        return "operation" if node.parents else "parameter"

    # within a column: operations on the main row (y = 0, then downwards), parameters above, data below
    labels = {id(n): _tensor_label(n) for n in nodes}
    widths = {k: 0.3 + 0.6 * fontsize / 72 * max(map(len, t.split("\n"))) for k, t in labels.items()}
    dx, dy, height = max(1.6, max(widths.values()) + 0.5), 0.95, 0.62
    pos = {}
    for d in range(max(depth.values()) + 1):
        column = [n for n in nodes if depth[id(n)] == d]
        ops = [n for n in column if kind(n) == "operation"]
        for i, n in enumerate(ops):
            pos[id(n)] = (d * dx, -i * dy)
        for i, n in enumerate(n for n in column if kind(n) == "parameter"):
            pos[id(n)] = (d * dx, (i + 1) * dy)
        for i, n in enumerate(n for n in column if kind(n) == "data"):
            pos[id(n)] = (d * dx, -(len(ops) + i) * dy)
    xs, ys = zip(*pos.values(), strict=True)
    fig, ax = plt.subplots(figsize=(max(xs) + dx + 0.4, max(ys) - min(ys) + 2.2))
    styles = {"parameter": dict(color=BACKWARD, lw=2.2), "data": dict(color="dimgray", fill="#F2F2F2"),
              "operation": dict(color=FORWARD)}
    for n in nodes:
        _box(ax, pos[id(n)], labels[id(n)], width=widths[id(n)], height=height, fontsize=fontsize,
             **styles[kind(n)])
    drawn = {}
    for c in nodes:  # arrows into c: level ones to its left side, the others to its top or bottom edge
        (x1, y1), w = pos[id(c)], widths[id(c)]
        ins = sorted(c.parents, key=lambda p: abs(pos[id(p)][1] - y1))
        above = [p for p in ins if pos[id(p)][1] > y1]
        below = [p for p in ins if pos[id(p)][1] < y1]
        for p in ins:
            x0, y0 = pos[id(p)]
            repeat = drawn[(id(p), id(c))] = drawn.get((id(p), id(c)), -1) + 1  # x * x: a second, curved arrow
            side = above if y0 > y1 else below if y0 < y1 else None
            k = None if side is None else side.index(p) + repeat
            end = ((x1 - w / 2, y1) if side is None else
                   (x1 - w / 2 + w * (k + 1) / (len(side) + 2), y1 + np.sign(y0 - y1) * height / 2))
            skips = side is None and depth[id(c)] - depth[id(p)] > 1   # level, past a box: bend around it
            rad = 0.3 * repeat + (0.4 if skips else 0.0)
            _arrow(ax, (x0 + widths[id(p)] / 2, y0), end, FORWARD, lw=1.3, rad=rad)
    counts = {k: sum(kind(n) == k for n in nodes) for k in styles}
    handles = [Patch(fc="white", ec=BACKWARD, lw=2.2, label=f"parameter: gets .grad ({counts['parameter']})"),
               Patch(fc="#F2F2F2", ec="dimgray", label=f"data: no gradient ({counts['data']})"),
               Patch(fc="white", ec=FORWARD, label=f"operation ({counts['operation']})")]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=3, frameon=False,
              fontsize=fontsize)
    ax.set_title(title or f"The graph {loss_tensor.name or 'the tensor'} was computed by: {len(nodes)} nodes, "
                 f"{len(edges)} edges (backward() walks it right to left)", fontsize=fontsize + 2)
    ax.set(xlim=(-dx / 2 - 0.2, max(xs) + dx / 2 + 0.2), ylim=(min(ys) - 0.7, max(ys) + 0.7), aspect="equal")
    ax.axis("off")
    fig.tight_layout()
    root = _tensor_label(loss_tensor).replace("\n", " ")
    return set_description(fig, (
        f"Computational graph built by autograd, left to right: {len(nodes)} nodes ({counts['parameter']} "
        f"parameters, {counts['data']} data, {counts['operation']} operations) and {len(edges)} edges, from "
        f"the leaves to {root}; each box gives an operation or a name and the array's shape."))
