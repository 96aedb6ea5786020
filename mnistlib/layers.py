"""Layers for convolutional networks, and `Sequential`, the network that stacks them (notebook 09).

Every layer is one small object with the same two methods:

    Y, cache = layer.forward(p, X)          # p: the layer's parameters {"W": ..., "b": ...} or {}
    dX, grads = layer.backward(p, cache, dY) # grads: {"W": dW, "b": db} (same shapes as p) or {}

so a network is a list of layers, run forward in order and backward in reverse. The parameters
live in one dict on the network, `model.params` = {"W1", "b1", "W2", "b2", ...}, numbered by the
layers that have parameters, exactly as for `MLP`: `mnistlib.train`, the optimisers (weight decay
on the "W..." arrays only), `evaluate` and `predict` work on a `Sequential` unchanged.

Shapes, in the (N, C, H, W) layout of the series' notation card (NOTATION.md). Height and width
of a feature map are written H_in, W_in (input) and H_out, W_out (output), because H and W alone
already mean "hidden units" and "weights"; C_in, C_out are channel counts, k_h x k_w the kernel.

    Conv2D     X (N, C_in, H_in, W_in) -> Y (N, C_out, H_out, W_out),
               H_out = (H_in + 2 p - k_h) // s + 1 (likewise W_out), weights W (C_out, C_in, k_h, k_w),
               bias b (C_out,); Y[i, o, ρ, τ] = b[o] + sum_{q,u,v} W[o, q, u, v] Xpad[i, q, s ρ + u, s τ + v]
    MaxPool2D  X (N, C, H_in, W_in) -> Y (N, C, H_in // k, W_in // k) (size k, stride k by default)
    ReLU       any shape -> the same shape
    Flatten    X (N, C, H_in, W_in) -> (N, C * H_in * W_in), in C order of the (C, H_in, W_in) axes (as PyTorch)
    Dense      X (N, n_in) -> X @ W + b (N, n_out), W (n_in, n_out), b (n_out,)

Memory layout (a speed choice, invisible in the shapes): the feature maps are *stored*
channels-last, (N, H, W, C) in memory, and handed between layers as (N, C, H, W) views of that
storage (`A.transpose(0, 3, 1, 2)`, no copy). Then the columns of im2col are ordered (k_h, k_w, C),
each one a contiguous run of C numbers, and the product `cols @ W_mat` of shape (N H_out W_out, C_out)
is already the next layer's storage. Measured on a 2-core machine (a prototype, 2026-12): this made
col2im 4.5x and the convolution forward 1.2-1.7x faster than channels-first storage. Any
(N, C, H, W) array works as input; only the speed depends on its strides.

Cores: Conv2D, MaxPool2D, ReLU and Dense split each batch over the CPU's cores themselves (parallel.py),
and Sequential runs its passes with one BLAS thread per matrix product, so that the two do not compete.
"""
import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .errors import ShapeError
from .losses import log_softmax, loss_and_output_grad
from .network import check_input, init_layer
from .parallel import one_blas_thread, per_image


def as_pair(value, what):
    """An int or a pair of ints as a tuple (a, b) of positive ints."""
    pair = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) and v >= 1 for v in pair):
        raise ValueError(f"{what} must be a positive int or a pair of them, got {value!r}")
    return int(pair[0]), int(pair[1])


def conv_output_size(size, kernel, stride=1, padding=0):
    """Output length along one axis: (size + 2 padding - kernel) // stride + 1 (0 if the kernel does not fit)."""
    return max((size + 2 * padding - kernel) // stride + 1, 0)


def check_4d(X, layer, channels=None):
    """Raise ShapeError unless X is (N, C, H, W) (with C = channels when given), naming the layer."""
    if X.ndim != 4 or (channels is not None and X.shape[1] != channels):
        c = "C" if channels is None else channels
        raise ShapeError(f"{layer} expects input of shape (N, {c}, H_in, W_in), got {X.shape}"
                         + (" (add a Flatten() before a Dense layer, not after)" if X.ndim == 2 else ""))


class Layer:
    """The interface: build, forward, backward. Layers without parameters inherit the defaults."""

    def build(self, in_shape, rng, dtype):
        """Given the input shape of ONE example (e.g. (C, H, W)), return (out_shape, params dict)."""
        return in_shape, {}

    def config(self):
        """The constructor arguments, as a JSON-able dict (for saving)."""
        return {}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({args})"


class Conv2D(Layer):
    """A 2-D convolution (strictly: cross-correlation, as in every deep-learning library).

    out_channels: C_out; kernel: k or (k_h, k_w); stride: s (one int, both axes); padding: p zeros
    on every side (one int). Parameters: W (C_out, C_in, k_h, k_w), b (C_out,).
    forward: X (N, C_in, H_in, W_in) -> Y (N, C_out, H_out, W_out), H_out = (H_in + 2p - k_h) // s + 1.

    Forward is im2col + one matrix product: every k_h x k_w x C_in window of the padded input
    becomes one row of `cols` (N H_out W_out, k_h k_w C_in), taken with sliding_window_view and
    copied once; then Y = cols @ W_mat + b with W_mat (k_h k_w C_in, C_out). Backward:
    db = sum of dY, dW_mat = cols.T @ dY, dcols = dY @ W_mat.T, and col2im adds each column block
    back where it came from (one strided addition per kernel offset, or per kernel row and output
    column, which is the same sum in longer runs: see col2im).

    Both passes run over blocks of images (`blocks`): a block's columns, about BLOCK_BYTES, are made,
    used and overwritten by the next block while they are still in the CPU cache, so the whole `cols`
    (80 MB for a 5x5x32->64 layer at batch 128) never exists. Backward makes each block's columns again
    from the padded input kept in the cache, sums dW_mat over the blocks and turns the block's columns
    into its dcols in place. Measured on 2 cores (2026-12): 1.5x faster than making, storing and
    reading back the whole 80 MB `cols` and `dcols`, and 160 MB less memory. The blocks are shared
    out over the CPU's cores (parallel.per_image: each thread a part of the batch, one BLAS thread
    per product), and each part sums its own dW_mat; the parts' sums are added in a fixed order.
    """

    BLOCK_BYTES = 8 * 2 ** 20  # the size of one block's columns (cache-sized; measured: 4-16 MB are alike)

    def __init__(self, out_channels, kernel, stride=1, padding=0, init="he"):
        self.out_channels = int(out_channels)
        if self.out_channels < 1:
            raise ValueError(f"out_channels must be positive, got {out_channels}")
        self.kernel = as_pair(kernel, "kernel")
        self.stride = int(stride)
        self.padding = int(padding)
        if self.stride < 1 or self.padding < 0:
            raise ValueError(f"stride must be >= 1 and padding >= 0, got stride={stride}, padding={padding}")
        self.init = init
        self.in_channels = None
        self._scratch = {}  # k -> part k's block of columns (see blocks), kept from block to block and batch to batch

    def config(self):
        return {"out_channels": self.out_channels, "kernel": list(self.kernel), "stride": self.stride,
                "padding": self.padding}

    def __repr__(self):
        kh, kw = self.kernel
        return (f"Conv2D({self.in_channels or '?'}->{self.out_channels}, {kh}x{kw}, "
                f"stride {self.stride}, padding {self.padding})")

    def output_shape(self, in_shape):
        """(C_out, H_out, W_out) for one example of shape (C_in, H_in, W_in)."""
        C, H, W_ = in_shape
        kh, kw = self.kernel
        return (self.out_channels, conv_output_size(H, kh, self.stride, self.padding),
                conv_output_size(W_, kw, self.stride, self.padding))

    def build(self, in_shape, rng, dtype):
        if len(in_shape) != 3:
            raise ShapeError(f"{self!r} needs (C, H, W) inputs per example, got {tuple(in_shape)}")
        self.in_channels = in_shape[0]
        out = self.output_shape(in_shape)
        if min(out[1:]) < 1:
            raise ShapeError(f"{self!r}: input (C, H, W) = {tuple(in_shape)} is smaller than the "
                             f"{self.kernel[0]}x{self.kernel[1]} kernel even with padding {self.padding}")
        kh, kw = self.kernel
        fan_in = self.in_channels * kh * kw
        Wflat, b = init_layer(fan_in, self.out_channels, self.init, rng, dtype)  # (C_in k_h k_w, C_out)
        W = np.ascontiguousarray(Wflat.T.reshape(self.out_channels, self.in_channels, kh, kw))
        return out, {"W": W, "b": b}

    def pad(self, X, dtype):
        """X (N, C_in, H_in, W_in) -> the padded input, stored channels-last: (N, H_in + 2p, W_in + 2p, C_in).

        Without padding, a view of X (N, H_in, W_in, C_in) (no copy for our own channels-last arrays).
        """
        x = X.transpose(0, 2, 3, 1)
        p = self.padding
        if not p:
            return x
        N, H, W_, C = x.shape
        xp = np.zeros((N, H + 2 * p, W_ + 2 * p, C), dtype)
        xp[:, p:p + H, p:p + W_] = x
        return xp

    def images_per_block(self, per_example, itemsize):
        """How many images make one block: their columns, per_example numbers of itemsize bytes each,
        fill about BLOCK_BYTES (at least one image)."""
        return max(1, self.BLOCK_BYTES // (per_example * itemsize))

    def blocks(self, xp, dtype, images, k=0):
        """im2col in blocks of images: for the padded input xp (N, H_in + 2p, W_in + 2p, C_in) and a slice
        `images` of its N images, yield (block, rows, cols): a slice of those images, the slice of their
        rows in the output (N H_out W_out rows), and their columns cols (n H_out W_out, k_h k_w C_in),
        ordered (k_h, k_w, C_in).

        cols is scratch space of part k (of per_image), overwritten by the next block: use it before
        asking for the next.
        """
        N, _, _, C = xp.shape
        kh, kw = self.kernel
        s = self.stride
        # (N, H_out, W_out, k_h, k_w, C_in): every window, no copy yet
        windows = sliding_window_view(xp, (kh, kw), axis=(1, 2))[:, ::s, ::s].transpose(0, 1, 2, 4, 5, 3)
        _, Ho, Wo = windows.shape[:3]
        per_example = Ho * Wo * kh * kw * C
        step = max(1, min(N, self.images_per_block(per_example, np.dtype(dtype).itemsize)))
        scratch = self._scratch.get(k)
        if scratch is None or scratch.size < step * per_example or scratch.dtype != dtype:
            scratch = self._scratch[k] = np.empty(step * per_example, dtype)
        for i in range(images.start, images.stop, step):
            n = min(step, images.stop - i)
            cols = scratch[:n * per_example].reshape(n * Ho * Wo, kh * kw * C)
            np.copyto(cols.reshape(n, Ho, Wo, kh, kw, C), windows[i:i + n])
            yield slice(i, i + n), slice(i * Ho * Wo, (i + n) * Ho * Wo), cols

    def col2im(self, dcols, dxp):
        """The adjoint of im2col, for one block of n images: add dcols (n H_out W_out, k_h k_w C_in) into
        dxp (n, H_in + 2p, W_in + 2p, C_in), the padded input's gradient (channels-last, C-contiguous).

        Each input pixel receives the sum of the entries of every window it was copied into. Written
        as one strided addition per kernel offset (u, v) this is k_h k_w additions of runs of C_in
        numbers; here the additions are per kernel row u and output column τ instead: the window's
        k_w pixels of one row, k_w C_in numbers, are contiguous both in dcols and in dxp, so each
        addition moves runs 5x longer (for 5x5). Measured on 2 cores: 2x faster than the (u, v) loop.
        """
        n, Hp, Wp, C = dxp.shape
        kh, kw = self.kernel
        s = self.stride
        Ho, Wo = (Hp - kh) // s + 1, (Wp - kw) // s + 1
        d = dcols.reshape(n, Ho, Wo, kh, kw * C)
        flat = dxp.reshape(n, Hp, Wp * C)
        for u in range(kh):
            for t in range(Wo):                       # output column τ = t: input columns s τ .. s τ + k_w - 1
                flat[:, u:u + s * (Ho - 1) + 1:s, s * t * C:(s * t + kw) * C] += d[:, :, t, u]

    def forward(self, p, X):
        """X (N, C_in, H_in, W_in) -> Y (N, C_out, H_out, W_out) and the cache for backward."""
        W, b = p["W"], p["b"]
        check_4d(X, repr(self), W.shape[1])
        C_out, C_in, kh, kw = W.shape
        if X.shape[2] + 2 * self.padding < kh or X.shape[3] + 2 * self.padding < kw:
            raise ShapeError(f"{self!r}: input {X.shape} is smaller than the {kh}x{kw} kernel "
                             f"even with padding {self.padding}")
        N = len(X)
        _, Ho, Wo = self.output_shape(X.shape[1:])
        xp = self.pad(X, W.dtype)
        W_mat = W.transpose(2, 3, 1, 0).reshape(kh * kw * C_in, C_out)  # a small copy, rows (k_h, k_w, C_in)
        Y = np.empty((N * Ho * Wo, C_out), W.dtype)                       # (N H_out W_out, C_out)

        def forward_part(k, images):
            for _, rows, cols in self.blocks(xp, W.dtype, images, k):
                np.matmul(cols, W_mat, out=Y[rows])
                Y[rows] += b
        per_image(forward_part, N)                                        # the parts of the batch at once
        return Y.reshape(N, Ho, Wo, C_out).transpose(0, 3, 1, 2), (X.shape, xp, W_mat)

    def backward(self, p, cache, dY, need_dX=True):
        """dY (N, C_out, H_out, W_out) -> dX (N, C_in, H_in, W_in) (None if not need_dX), {"W": dW, "b": db}."""
        in_shape, xp, W_mat = cache
        N, C_in, H, W_ = in_shape
        C_out, _, kh, kw = p["W"].shape
        out_shape = (N, *self.output_shape(in_shape[1:]))
        if dY.shape != out_shape:
            raise ShapeError(f"{self!r}: dY should have shape {out_shape}, got {dY.shape}")
        dYm = dY.transpose(0, 2, 3, 1).reshape(-1, C_out)  # (N H_out W_out, C_out); no copy for our own arrays
        dxp = np.zeros(xp.shape, W_mat.dtype) if need_dX else None

        def backward_part(k, images):
            dW_part = np.zeros_like(W_mat)                  # (k_h k_w C_in, C_out): this part's sum
            for block, rows, cols in self.blocks(xp, W_mat.dtype, images, k):
                dW_part += cols.T @ dYm[rows]
                if need_dX:
                    np.matmul(dYm[rows], W_mat.T, out=cols)  # this block's dcols, in place of its cols
                    self.col2im(cols, dxp[block])
            return dW_part
        dW_mat = sum(per_image(backward_part, N))           # the parts of the batch at once, summed in order
        grads = {"W": np.ascontiguousarray(dW_mat.reshape(kh, kw, C_in, C_out).transpose(3, 2, 0, 1)),
                 "b": np.ones(len(dYm), dYm.dtype) @ dYm}  # the sum of dY's rows, as a product: 5x faster here
        if not need_dX:
            return None, grads
        q = self.padding
        return dxp[:, q:q + H, q:q + W_].transpose(0, 3, 1, 2), grads


class MaxPool2D(Layer):
    """Max-pooling over size x size windows moved by `stride` (default: stride = size, no overlap).

    forward: X (N, C, H_in, W_in) -> Y (N, C, H_out, W_out), H_out = (H_in - size) // stride + 1
    (rows and columns that do not fill a window are dropped, as in PyTorch).
    Computed as the elementwise maximum of the size^2 strided slices X[:, :, u::stride, v::stride]
    (for 2x2/2 four slices: much faster than reshape + max, see the module docstring's notes).

    Backward routes each output's gradient to the input that was its maximum. Ties: the FIRST
    maximum in the window's row-major order gets it (PyTorch's rule), so every window passes on
    exactly its gradient, no more: on blank image regions, where all four values tie, sending it
    to every tied maximum would multiply the gradient by 4. Overlapping windows (stride < size)
    add their contributions.
    """

    def __init__(self, size=2, stride=None):
        self.size = int(size)
        self.stride = self.size if stride is None else int(stride)
        if self.size < 1 or self.stride < 1:
            raise ValueError(f"size and stride must be positive, got size={size}, stride={stride}")

    def config(self):
        return {"size": self.size, "stride": self.stride}

    def output_shape(self, in_shape):
        C, H, W_ = in_shape
        return (C, conv_output_size(H, self.size, self.stride), conv_output_size(W_, self.size, self.stride))

    def build(self, in_shape, rng, dtype):
        if len(in_shape) != 3:
            raise ShapeError(f"{self!r} needs (C, H, W) inputs per example, got {tuple(in_shape)}")
        out = self.output_shape(in_shape)
        if min(out[1:]) < 1:
            raise ShapeError(f"{self!r}: input (C, H, W) = {tuple(in_shape)} is smaller than the window")
        return out, {}

    def _slices(self, shape, Ho, Wo):
        k, s = self.size, self.stride
        for u in range(k):
            for v in range(k):
                yield (slice(None), slice(None), slice(u, u + s * (Ho - 1) + 1, s), slice(v, v + s * (Wo - 1) + 1, s))

    def forward(self, p, X):
        """X (N, C, H_in, W_in) -> Y (N, C, H_out, W_out) and the cache (X, Y)."""
        check_4d(X, repr(self))
        _, Ho, Wo = self.output_shape(X.shape[1:])
        if min(Ho, Wo) < 1:
            raise ShapeError(f"{self!r}: input {X.shape} is smaller than the {self.size}x{self.size} window")
        slices = list(self._slices(X.shape, Ho, Wo))
        Y = np.empty_like(X[slices[0]])      # (N, C, H_out, W_out), stored as X is (channels-last)

        def pool(_, images):
            x, y = X[images], Y[images]
            np.copyto(y, x[slices[0]])
            for sl in slices[1:]:
                np.maximum(y, x[sl], out=y)
        per_image(pool, len(X))              # the parts of the batch at once
        return Y, (X, Y)

    def backward(self, p, cache, dY, need_dX=True):
        """dY (N, C, H_out, W_out) -> dX (N, C, H_in, W_in): dY at each window's first maximum, 0 elsewhere."""
        X, Y = cache
        if dY.shape != Y.shape:
            raise ShapeError(f"{self!r}: dY should have shape {Y.shape}, got {dY.shape}")
        slices = list(self._slices(X.shape, *Y.shape[2:]))
        tiled = self.stride == self.size and all(n % self.size == 0 for n in X.shape[2:])
        dX = np.empty_like(X) if tiled else np.zeros_like(X)  # tiled: every pixel is written below
        found = np.zeros_like(Y, dtype=bool)    # (N, C, H_out, W_out), stored as Y is (channels-last)
        first = np.zeros_like(Y, dtype=np.min_scalar_type(len(slices)))

        def route(_, images):
            x, y, dy, dx, seen, before = X[images], Y[images], dY[images], dX[images], found[images], first[images]
            for sl in slices[:-1]:              # before = which slice holds the window's FIRST maximum
                seen |= x[sl] == y              #        = how many slices come before it
                before += ~seen
            take = seen                         # reused: take = [before == j]
            for j, sl in enumerate(slices):
                np.equal(before, j, out=take)
                if self.stride >= self.size:    # windows do not overlap: each input pixel is in one window
                    np.multiply(dy, take, out=dx[sl])
                else:
                    dx[sl] += dy * take
        per_image(route, len(X))                # the parts of the batch at once
        return dX, {}


class ReLU(Layer):
    """max(X, 0) elementwise, any shape; backward: dX = dY * [Y > 0]."""

    def forward(self, p, X):
        Y = np.empty_like(X)
        per_image(lambda _, i: np.maximum(X[i], 0, out=Y[i]), len(X))  # the parts of the batch at once
        return Y, Y

    def backward(self, p, cache, dY, need_dX=True):
        dX = np.empty_like(cache)
        per_image(lambda _, i: np.multiply(dY[i], cache[i] > 0, out=dX[i]), len(dY))
        return dX, {}


class Flatten(Layer):
    """(N, C, H_in, W_in) -> (N, C * H_in * W_in), in the C order of the (C, H_in, W_in) axes (PyTorch's order)."""

    def build(self, in_shape, rng, dtype):
        return (math.prod(in_shape),), {}

    def forward(self, p, X):
        return X.reshape(len(X), -1), X

    def backward(self, p, cache, dY, need_dX=True):
        """dY (N, C * H_in * W_in) -> dX (N, C, H_in, W_in), stored in memory as X is (e.g. channels-last),
        so that the layers below work on arrays of one layout (mixed layouts make NumPy 2-3x slower)."""
        dX = np.empty_like(cache)
        dX[...] = dY.reshape(cache.shape)
        return dX, {}


class Dense(Layer):
    """A fully connected layer: X (N, n_in) -> X @ W + b (N, n_out); W (n_in, n_out), b (n_out,)."""

    def __init__(self, out_features, init="he"):
        self.out_features, self.init = int(out_features), init
        if self.out_features < 1:
            raise ValueError(f"out_features must be positive, got {out_features}")

    def config(self):
        return {"out_features": self.out_features}

    def build(self, in_shape, rng, dtype):
        if len(in_shape) != 1:
            raise ShapeError(f"{self!r} needs flat inputs (n_in,) per example, got {tuple(in_shape)}: "
                             "put a Flatten() before it")
        W, b = init_layer(in_shape[0], self.out_features, self.init, rng, dtype)
        return (self.out_features,), {"W": W, "b": b}

    def forward(self, p, X):
        W, b = p["W"], p["b"]
        if X.ndim != 2 or X.shape[1] != W.shape[0]:
            raise ShapeError(f"{self!r} expects input of shape (N, {W.shape[0]}), got {X.shape}")
        Y = np.empty((len(X), W.shape[1]), np.result_type(X, W))

        def forward_part(_, i):                 # the parts of the batch at once
            np.matmul(X[i], W, out=Y[i])
            Y[i] += b
        per_image(forward_part, len(X))
        return Y, X

    def backward(self, p, cache, dY, need_dX=True):
        X, W = cache, p["W"]
        dX = np.empty((len(dY), W.shape[0]), np.result_type(dY, W)) if need_dX else None

        def backward_part(_, i):                # the parts of the batch at once; each returns its share of dW
            if need_dX:
                np.matmul(dY[i], W.T, out=dX[i])
            return X[i].T @ dY[i]
        grads = {"W": sum(per_image(backward_part, len(dY))), "b": dY.sum(axis=0)}
        return dX, grads


LAYERS = {cls.__name__: cls for cls in (Conv2D, MaxPool2D, ReLU, Flatten, Dense)}


class Sequential:
    """A network that runs `layers` in order, ending in softmax + cross-entropy: the interface of MLP.

    layers: a list of Layer objects (Conv2D, MaxPool2D, ReLU, Flatten, Dense); the last one must
    give (N, K) logits. input_shape: the shape (C, H, W) of one example; X itself arrives as rows
    (N, C * H * W), e.g. (N, 784), as everywhere in the series, and is reshaped inside (no copy).
    Parameters: `params` {"W1", "b1", ...}, numbered over the layers that have parameters.
    sizes = (C * H * W, K): the input and output widths (train() reads sizes[-1] for one-hot).
    rng: np.random.Generator for the initial weights (default default_rng(0)).
    mnistlib.save_model / load_model store and rebuild it (its layer list is config()).
    """

    def __init__(self, layers, input_shape=(1, 28, 28), rng=None, dtype=np.float32):
        self.layers, self.input_shape = list(layers), tuple(int(s) for s in input_shape)
        rng = np.random.default_rng(0) if rng is None else rng
        self.params, self.names, self.shapes = {}, [], [self.input_shape]
        shape, number = self.input_shape, 0
        for layer in self.layers:
            shape, p = layer.build(shape, rng, dtype)
            self.shapes.append(tuple(shape))
            if p:
                number += 1
                self.names.append({k: f"{k}{number}" for k in p})  # local name "W" -> "W3"
                self.params.update({f"{k}{number}": v for k, v in p.items()})
            else:
                self.names.append({})
        if len(shape) != 1:
            raise ShapeError(f"the last layer must give flat logits (N, K), but it gives (N, *{shape}): "
                             "end with Flatten() and Dense(K)")
        self.sizes = (math.prod(self.input_shape), shape[0])

    @property
    def num_layers(self):
        """L, the number of layers with parameters (weight layers), as MLP.num_layers."""
        return len(self.params) // 2

    @property
    def dtype(self):
        return self.params["W1"].dtype

    def __repr__(self):
        inner = ", ".join(map(repr, self.layers))
        return f"{type(self).__name__}([{inner}], input_shape={self.input_shape})"

    def summary(self):
        """One line per layer: its name, output shape (N, ...) and number of parameters."""
        lines = [f"{'input':<40} (N, {', '.join(map(str, self.input_shape))})"]
        for layer, names, shape in zip(self.layers, self.names, self.shapes[1:], strict=True):
            count = sum(self.params[n].size for n in names.values())
            line = f"{layer!r:<40} (N, {', '.join(map(str, shape))})"
            lines.append(line + (f"  {count:,} parameters" if count else ""))
        lines.append(f"{'total':<40} {sum(t.size for t in self.params.values()):,} parameters")
        return "\n".join(lines)

    def _local(self, i):
        return {k: self.params[name] for k, name in self.names[i].items()}

    def forward(self, X, keep=False):
        """X (N, C * H * W) -> the logits (N, K) and the caches for backward.

        keep=True also returns the list of every layer's output (for pictures of feature maps).
        """
        check_input(X, self.sizes[0])
        A = X.reshape(len(X), *self.input_shape)
        caches, outputs = [], []
        with one_blas_thread():  # the layers split the batch over the cores themselves (parallel.py)
            for i, layer in enumerate(self.layers):
                A, cache = layer.forward(self._local(i), A)
                caches.append(cache)
                if keep:
                    outputs.append(A)
        return (A, caches, outputs) if keep else (A, caches)

    def backward(self, caches, dZ):
        """Gradients {"dW1": ..., "db1": ...} given dZ = d𝓛/dZ (N, K) at the logits."""
        grads = {}
        first = next(i for i, names in enumerate(self.names) if names)  # no dX needed below it
        with one_blas_thread():  # as in forward
            for i in range(len(self.layers) - 1, first - 1, -1):
                dZ, g = self.layers[i].backward(self._local(i), caches[i], dZ, need_dX=i > first)
                grads.update({"d" + self.names[i][k]: v for k, v in g.items()})
        return grads

    def loss_and_grads(self, X, Y, scale=1.0):
        """One forward and backward pass: X (N, C * H * W), Y (N, K) one-hot -> (loss, grads, logits Z (N, K)).

        The same softmax + cross-entropy head as MLP.loss_and_grads (scale: see SGD.grad_scale).
        """
        Z, caches = self.forward(X)
        loss, dZ = loss_and_output_grad(Z, Y, scale)   # the same head as MLP's
        return loss, self.backward(caches, dZ), Z

    def chunk_size(self, max_mb=128):
        """Rows per chunk for logits(): the largest batch whose arrays stay under max_mb, counting every
        layer's output (forward keeps them all) and each convolution's padded input."""
        per_example = 0
        for layer, in_shape, out_shape in zip(self.layers, self.shapes[:-1], self.shapes[1:], strict=True):
            per_example += math.prod(out_shape)
            if isinstance(layer, Conv2D):
                C, H, W_ = in_shape
                per_example += C * (H + 2 * layer.padding) * (W_ + 2 * layer.padding)
        return max(1, int(max_mb * 2 ** 20 // (per_example * np.dtype(self.dtype).itemsize)))

    def logits(self, X, batch_size=10_000):
        """Logits (N, K) for X (N, C * H * W), in chunks of at most batch_size rows, and never more
        than chunk_size() rows: memory stays bounded by the chunk, not by the data set."""
        X = np.asarray(X)
        check_input(X, self.sizes[0])
        X = X.astype(self.dtype, copy=False)
        step = max(1, min(int(batch_size), self.chunk_size()))
        return np.concatenate([self.forward(X[i:i + step])[0] for i in range(0, max(len(X), 1), step)])

    def predict_proba(self, X, batch_size=10_000):
        """Class probabilities (N, K) for X (N, C * H * W); each row sums to 1."""
        return np.exp(log_softmax(self.logits(X, batch_size)))

    def predict(self, X, batch_size=10_000):
        """Predicted labels (N,) int64."""
        return self.logits(X, batch_size).argmax(axis=1)

    def config(self):
        """The architecture as JSON-able data: {"input_shape": [...], "layers": [[name, kwargs], ...]}."""
        return {"input_shape": list(self.input_shape),
                "layers": [[type(layer).__name__, layer.config()] for layer in self.layers]}

    @classmethod
    def from_config(cls, config, rng=None, dtype=np.float32):
        """Rebuild a network (fresh weights) from config(); ValueError for unknown layers."""
        layers = []
        for name, kwargs in config["layers"]:
            if name not in LAYERS:
                raise ValueError(f"unknown layer {name!r}; known: {sorted(LAYERS)}")
            layers.append(LAYERS[name](**kwargs))
        return Sequential(layers, config["input_shape"], rng, dtype)


class CNN(Sequential):
    """The network of notebook 09 (input (N, 784), reshaped to (N, 1, 28, 28)):

        conv k x k, 1 -> c1, padding k // 2   (N, c1, 28, 28)
        max-pool 2x2                           (N, c1, 14, 14)   then ReLU (max and ReLU commute;
        conv k x k, c1 -> c2, padding k // 2  (N, c2, 14, 14)    pooling first makes ReLU 4x cheaper)
        max-pool 2x2, ReLU                     (N, c2, 7, 7)
        flatten                                (N, 49 c2)
        dense 49 c2 -> hidden, ReLU            (N, hidden)
        dense hidden -> K                      (N, K) logits

    channels: (c1, c2); kernel: k (odd, so that padding k // 2 keeps the size).
    """

    def __init__(self, channels=(32, 64), kernel=5, hidden=128, num_classes=10, rng=None,
                 dtype=np.float32):
        c1, c2 = channels
        pad = kernel // 2
        layers = [Conv2D(c1, kernel, padding=pad), MaxPool2D(2), ReLU(),
                  Conv2D(c2, kernel, padding=pad), MaxPool2D(2), ReLU(),
                  Flatten(), Dense(hidden), ReLU(), Dense(num_classes)]
        super().__init__(layers, (1, 28, 28), rng, dtype)


def train_flops(model, batch_size=1):
    """Multiply-add FLOPs (2 per multiply-add) of one training step's matrix products on a batch.

    Forward 2 m k n per product; backward twice that (dW and dX), except the first layer with
    parameters, which needs no dX. Conv2D: m = N H_out W_out, k = k_h k_w C_in, n = C_out.
    """
    total, first = 0, True
    for layer, in_shape, out_shape in zip(model.layers, model.shapes[:-1], model.shapes[1:], strict=True):
        if isinstance(layer, Conv2D):
            kh, kw = layer.kernel
            m, k, n = batch_size * out_shape[1] * out_shape[2], kh * kw * in_shape[0], out_shape[0]
        elif isinstance(layer, Dense):
            m, k, n = batch_size, in_shape[0], out_shape[0]
        else:
            continue
        total += (4 if first else 6) * m * k * n
        first = False
    return total
