"""Reverse-mode automatic differentiation over NumPy arrays: backpropagation, written once for all networks.

Notebooks 03 and 09 derive each gradient by hand. Autograd does the same bookkeeping mechanically:
every operation records its inputs (`parents`) and a small backward rule, so the computation
builds a graph as it runs. `loss.backward()` then walks that graph from the loss back to the
leaves, in reverse topological order, and applies the chain rule one node at a time:

    given dout = ∂𝓛/∂out (the shape of out), each rule returns ∂𝓛/∂parent (the shape of parent),
    e.g. out = A @ W:  dA = dout @ W.T (N, n_in),  dW = A.T @ dout (n_in, n_out).

A tensor used twice (x * x, or an activation feeding two layers) receives the SUM of the gradients
of its uses. Leaves come in two kinds: parameters θ (requires_grad=True, they get `.grad` = dθ)
and data such as X (N, 784) and Y (N, K) (requires_grad=False: no gradient is ever computed for
them, so the first layer skips its dX product, as MLP.backward does).

    W = Tensor(params["W1"], requires_grad=True, name="W1")      # shares the array, no copy
    loss = cross_entropy(relu(X @ W + b) @ W2 + b2, Y)           # X, Y: plain arrays or Tensors
    loss.backward()                                              # W.grad: (784, H), like dW1

Running the computation again builds a new graph (one per training step); `.grad` of a leaf accumulates over
repeated backward() calls on graphs that share it, as in PyTorch: `zero_grad()` clears it.
"""
import numpy as np

from .errors import ShapeError
from .layers import Conv2D, Dense, Flatten, MaxPool2D, ReLU, Sequential
from .losses import log_softmax
from .mlp import MLP
from .network import check_input


class Tensor:
    """An array `value` with, once backward() has run, its gradient `grad` = ∂𝓛/∂value (same shape).

    parents: the Tensors this one was computed from; op: a short name of that computation
    ("matmul", "add", ...; "" for a leaf); name: an optional label ("W1"); requires_grad: whether
    a gradient is wanted, True for parameters and for every result computed from one.
    _backward(dout) returns one gradient per parent (None for parents without requires_grad).
    Operators and methods (t + u, t @ u, t.sum(axis), ...) are the functions below, attached after them.
    """

    __array_ufunc__ = None  # ndarray + Tensor calls Tensor.__radd__ instead of NumPy's loop

    def __init__(self, value, requires_grad=False, name=None):
        self.value = np.asarray(value)
        if requires_grad and not np.issubdtype(self.value.dtype, np.floating):
            raise ValueError(f"only float arrays can require a gradient, got dtype {self.value.dtype}")
        self.requires_grad, self.name = bool(requires_grad), name
        self.grad, self.parents, self._backward, self.op = None, (), None, ""

    @classmethod
    def _result(cls, value, parents, backward, op):
        """The output of an operation: it requires a gradient iff any parent does."""
        out = cls(value)
        out.parents, out.op = parents, op
        out.requires_grad = any(p.requires_grad for p in parents)
        out._backward = backward if out.requires_grad else None
        return out

    shape = property(lambda self: self.value.shape)
    dtype = property(lambda self: self.value.dtype)
    ndim = property(lambda self: self.value.ndim)
    size = property(lambda self: self.value.size)

    def __repr__(self):
        label = self.name or self.op or "leaf"
        return f"Tensor({label}, shape={self.shape}, dtype={self.dtype}, requires_grad={self.requires_grad})"

    def backward(self, grad=None):
        """Fill `.grad` of every tensor with requires_grad in this one's graph: ∂(self)/∂tensor, times grad.

        grad: ∂𝓛/∂self, the shape of self; None means 1, allowed only for a single number (the
        loss). A scalar such as `scale` multiplies every gradient (backward is linear in it).
        Gradients of intermediate results are recomputed on each call; those of leaves accumulate.
        """
        if not self.requires_grad:
            raise ValueError("backward() needs a tensor computed from one with requires_grad=True; "
                             "this one depends on data only")
        if grad is None and self.value.size != 1:
            raise ValueError(f"backward() without a gradient needs a single number (the loss), but this "
                             f"tensor has shape {self.shape}: pass grad, an array of that shape")
        grad = np.asarray(1 if grad is None else grad, dtype=self.dtype)
        if grad.shape != self.shape:
            if grad.ndim:
                raise ShapeError(f"backward(grad): grad has shape {grad.shape} but the tensor has shape {self.shape}")
            grad = np.full(self.shape, grad, dtype=self.dtype)
        order = topological_order(self, requires_grad_only=True)
        for node in order:
            if node.parents:
                node.grad = None    # intermediate results: computed afresh below
        _accumulate(self, grad)
        for node in reversed(order):  # children before parents: a node's gradient is complete when it is used
            if node._backward is None:
                continue
            for parent, g in zip(node.parents, node._backward(node.grad), strict=True):
                if parent.requires_grad:
                    _accumulate(parent, g)

    def zero_grad(self):
        """Set `.grad` to None for every tensor in this one's graph."""
        for node in topological_order(self):
            node.grad = None

    def graph(self):
        """(nodes, edges): see graph(tensor)."""
        return graph(self)


def _accumulate(node, g):
    """node.grad += g. The first gradient is stored as it is, no copy, and a second one makes a new sum:
    a rule may pass dout on unchanged (add), so gradient arrays are shared and never modified in place."""
    if g.shape != node.shape:
        raise ShapeError(f"a backward rule returned a gradient of shape {g.shape} for a tensor of shape "
                         f"{node.shape} ({node!r})")
    node.grad = g if node.grad is None else node.grad + g


def topological_order(root, requires_grad_only=False):
    """Every tensor `root` was computed from, parents before children, `root` last. Iterative DFS."""
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:                     # all its parents are in `order` already
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        stack.extend((p, False) for p in reversed(node.parents)
                     if id(p) not in seen and (p.requires_grad or not requires_grad_only))
    return order


def graph(tensor):
    """The graph `tensor` was computed by: (nodes, edges), nodes in topological order (leaves first,
    `tensor` last), edges a list of (parent, child) pairs, one per use (x * x gives two)."""
    nodes = topological_order(tensor)
    return nodes, [(p, node) for node in nodes for p in node.parents]


def lift(x, like=None):
    """x as a Tensor: Tensors unchanged, arrays wrapped (a constant, no copy). A Python number takes
    the float dtype of `like`, so that `0.5 * t` keeps a float32 t float32."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (int, float)) and like is not None and np.issubdtype(like.dtype, np.floating):
        return Tensor(np.asarray(x, dtype=like.dtype))
    return Tensor(x)


def _pair(a, b):
    a = lift(a, b if isinstance(b, Tensor) else None)
    return a, lift(b, a)


def unbroadcast(grad, shape):
    """Sum `grad` down to `shape`: the gradient of an operand that broadcasting stretched.

    The bias rule of notebook 03, db = dZ summed over rows ((N, K) -> (K,)), in general form: an
    operand was used once along every axis it was stretched over, so its gradient adds up those
    uses. Sums over the leading axes broadcasting added and over the axes of size 1 it stretched:
    grad (N, K) -> shape (K,), (1, K) or () sums over rows, over rows, over everything.
    """
    if grad.shape == tuple(shape):
        return grad
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1)
    return grad.sum(axis=axes, keepdims=True).reshape(shape)


# ---------------------------------------------------------------- elementwise operations (broadcasting)
def add(a, b):
    """a + b, any broadcastable shapes (e.g. Z (N, K) + b (K,)) -> the broadcast shape. da, db: dout unbroadcast."""
    a, b = _pair(a, b)
    return Tensor._result(a.value + b.value, (a, b),
                          lambda g: (unbroadcast(g, a.shape) if a.requires_grad else None,
                                     unbroadcast(g, b.shape) if b.requires_grad else None), "add")


def sub(a, b):
    """a - b, broadcastable shapes -> the broadcast shape. da = dout, db = -dout (each unbroadcast)."""
    a, b = _pair(a, b)
    return Tensor._result(a.value - b.value, (a, b),
                          lambda g: (unbroadcast(g, a.shape) if a.requires_grad else None,
                                     -unbroadcast(g, b.shape) if b.requires_grad else None), "sub")


def neg(a):
    """-a, any shape -> the same shape. da = -dout."""
    a = lift(a)
    return Tensor._result(-a.value, (a,), lambda g: (-g,), "neg")


def mul(a, b):
    """a * b elementwise, broadcastable shapes -> the broadcast shape. da = dout * b, db = dout * a (unbroadcast)."""
    a, b = _pair(a, b)

    def backward(g):
        return (unbroadcast(g * b.value, a.shape) if a.requires_grad else None,
                unbroadcast(g * a.value, b.shape) if b.requires_grad else None)
    return Tensor._result(a.value * b.value, (a, b), backward, "mul")


def relu(a):
    """max(a, 0), any shape -> the same shape. da = dout * [out > 0]."""
    a = lift(a)
    out = np.maximum(a.value, 0)
    return Tensor._result(out, (a,), lambda g: (g * (out > 0),), "relu")


def exp(a):
    """e^a, any shape -> the same shape. da = dout * out."""
    a = lift(a)
    out = np.exp(a.value)
    return Tensor._result(out, (a,), lambda g: (g * out,), "exp")


def log(a):
    """Natural log of a (> 0), any shape -> the same shape. da = dout / a."""
    a = lift(a)
    return Tensor._result(np.log(a.value), (a,), lambda g: (g / a.value,), "log")


# ---------------------------------------------------------------- reductions
def _expand(g, shape, axis, keepdims):
    """dout of a reduction over `axis` back to the input's `shape`: every entry receives it (a new array)."""
    if not keepdims and axis is not None:
        g = np.expand_dims(g, axis)
    return np.broadcast_to(g, shape).copy()


def sum(a, axis=None, keepdims=False):
    """Sum over `axis` (None: all; int or tuple), e.g. (N, K) -> (K,) with axis=0. da = dout copied along axis."""
    a = lift(a)
    return Tensor._result(a.value.sum(axis=axis, keepdims=keepdims), (a,),
                          lambda g: (_expand(g, a.shape, axis, keepdims),), "sum")


def mean(a, axis=None, keepdims=False):
    """Mean over `axis` (None: all): sum(a, axis) times 1 / (the number of entries summed)."""
    a = lift(a)
    total = sum(a, axis, keepdims)
    return mul(total, total.size / max(a.size, 1))  # 1 / count, a Python number: keeps a's dtype


def logsumexp(a, axis=-1, keepdims=False):
    """log sum exp(a) over `axis`, e.g. (N, K) -> (N,); stable: the maximum m is taken out first,
    log sum exp(a) = m + log sum exp(a - m), so every exp() is <= 1. da = dout * softmax(a) along axis."""
    a = lift(a)
    m = a.value.max(axis=axis, keepdims=True)
    out_kept = m + np.log(np.exp(a.value - m).sum(axis=axis, keepdims=True))
    out = out_kept if keepdims else np.squeeze(out_kept, axis=axis)

    def backward(g):
        g = g if keepdims or axis is None else np.expand_dims(g, axis)
        return (g * np.exp(a.value - out_kept),)
    return Tensor._result(out, (a,), backward, "logsumexp")


def cross_entropy(Z, Y):
    """Mean cross-entropy of logits Z (N, K) against one-hot targets Y (N, K) -> a scalar, shape ().

    One operation, the fused form: 𝓛 = -(1/N) sum Y * log_softmax(Z), and dZ = dout (softmax(Z) - Y) / N,
    exactly MLP's output head (losses.loss_and_output_grad, probabilities below e^-60 set to 0).
    Y is data: no gradient flows to it.
    """
    Z, Y = _pair(Z, Y)
    if Z.shape != Y.shape or Z.ndim != 2:
        raise ShapeError(f"cross_entropy needs logits Z and targets Y of one shape (N, K), got {Z.shape} and {Y.shape}")
    if Y.requires_grad:
        raise ValueError("cross_entropy computes no gradient for the targets Y: pass them as data")
    N = Z.shape[0]
    log_probs = log_softmax(Z.value)
    probs = np.exp(log_probs)
    probs[log_probs < -60] = 0
    loss = np.asarray(-(Y.value * log_probs).sum() / N, dtype=Z.dtype)
    return Tensor._result(loss, (Z, Y),
                          lambda g: (((probs - Y.value) * (float(g) / N)).astype(Z.dtype, copy=False), None),
                          "cross_entropy")


# ---------------------------------------------------------------- matrices and shapes
def matmul(a, b):
    """a @ b for 2-D arrays: (N, n_in) @ (n_in, n_out) -> (N, n_out). da = dout @ b.T, db = a.T @ dout,
    each computed only when needed (no dX for the data X)."""
    a, b = _pair(a, b)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
        raise ShapeError(f"matmul needs (N, n) @ (n, m), got {a.shape} @ {b.shape}")
    return Tensor._result(a.value @ b.value, (a, b),
                          lambda g: (g @ b.value.T if a.requires_grad else None,
                                     a.value.T @ g if b.requires_grad else None), "matmul")


def reshape(a, shape):
    """The same entries in a new shape (-1 allowed), e.g. (N, C, H_in, W_in) -> (N, C H_in W_in).
    da = dout reshaped back."""
    a = lift(a)
    return Tensor._result(a.value.reshape(shape), (a,), lambda g: (g.reshape(a.shape),), "reshape")


def transpose(a, axes=None):
    """Axes permuted (None: reversed), e.g. (N, K) -> (K, N). da = dout permuted back."""
    a = lift(a)
    inverse = None if axes is None else tuple(np.argsort(axes))
    return Tensor._result(a.value.transpose(axes), (a,), lambda g: (g.transpose(inverse),), "transpose")


def flatten(a):
    """(N, ...) -> (N, prod(...)), in C order (as layers.Flatten)."""
    return reshape(a, (lift(a).shape[0], -1))


def conv2d(X, W, b, stride=1, padding=0):
    """X (N, C_in, H_in, W_in), W (C_out, C_in, k_h, k_w), b (C_out,) -> (N, C_out, H_out, W_out),
    H_out = (H_in + 2 padding - k_h) // stride + 1. Forward and backward are layers.Conv2D's own."""
    X, W, b = lift(X), lift(W), lift(b)
    layer = Conv2D(W.shape[0], W.shape[2:], stride, padding)
    layer.in_channels = W.shape[1]
    p = {"W": W.value, "b": b.value}
    out, cache = layer.forward(p, X.value)

    def backward(g):
        dX, grads = layer.backward(p, cache, g, need_dX=X.requires_grad)
        return dX, grads["W"], grads["b"]
    return Tensor._result(out, (X, W, b), backward, "conv2d")


def maxpool2d(X, size=2, stride=None):
    """X (N, C, H_in, W_in) -> (N, C, H_out, W_out), H_out = (H_in - size) // stride + 1 (stride: size).
    Forward and backward are layers.MaxPool2D's own (the gradient goes to each window's first maximum)."""
    X = lift(X)
    layer = MaxPool2D(size, stride)
    out, cache = layer.forward({}, X.value)
    return Tensor._result(out, (X,), lambda g: (layer.backward({}, cache, g)[0],), "maxpool2d")


# ---------------------------------------------------------------- operators: t + u is add(t, u), 2 * t is mul(2, t)
def _swapped(op):
    return lambda self, other: op(other, self)


for _op in (add, sub, mul, matmul):
    setattr(Tensor, f"__{_op.__name__}__", _op)
    setattr(Tensor, f"__r{_op.__name__}__", _swapped(_op))
Tensor.__neg__ = neg
Tensor.sum, Tensor.mean, Tensor.logsumexp, Tensor.reshape, Tensor.transpose = sum, mean, logsumexp, reshape, transpose
Tensor.relu, Tensor.exp, Tensor.log = relu, exp, log


# ---------------------------------------------------------------- networks through autograd
def build_loss(model, X, Y):
    """The graph of `model`'s loss on a batch: returns (loss, Z, params).

    model: an MLP with ReLU hidden layers, or a Sequential / CNN; X (N, sizes[0]) and Y (N, K) one-hot:
    arrays, wrapped as data. loss: the scalar Tensor 𝓛; Z: the logits Tensor (N, K); params:
    {"W1": Tensor, ...}, leaves that share model.params' arrays (after loss.backward(), `.grad` is dθ).
    """
    _check_supported(model)
    X, Y = np.asarray(X), np.asarray(Y)
    check_input(X, model.sizes[0])
    params = {k: Tensor(v, requires_grad=True, name=k) for k, v in model.params.items()}
    if isinstance(model, MLP):
        A = Tensor(X, name="X")
        for l in range(1, model.num_layers + 1):  # noqa: E741 (l: the layer index of the maths)
            A = A @ params[f"W{l}"] + params[f"b{l}"]
            A.name = f"Z{l}"
            if l < model.num_layers:
                A = relu(A)
                A.name = f"A{l}"
    else:
        A = reshape(Tensor(X, name="X"), (len(X), *model.input_shape))
        for layer, names in zip(model.layers, model.names, strict=True):
            A = _layer_op(layer, {k: params[name] for k, name in names.items()}, A)
    loss = cross_entropy(A, Tensor(Y, name="Y"))
    loss.name = "loss"
    return loss, A, params


def _check_supported(model):
    """Raise ValueError unless model is an MLP with ReLU hidden layers or a Sequential."""
    if not isinstance(model, (MLP, Sequential)):
        raise ValueError(f"autograd builds the graph of an MLP or a Sequential (CNN), not {type(model).__name__}")
    if isinstance(model, MLP) and any(a != "relu" for a in model.activations):
        raise ValueError(f"autograd supports MLPs with 'relu' hidden layers only, got {model.activations}")


def _layer_op(layer, p, A):
    """The autograd operations of one layers.Layer on A."""
    if isinstance(layer, Conv2D):
        return conv2d(A, p["W"], p["b"], layer.stride, layer.padding)
    if isinstance(layer, MaxPool2D):
        return maxpool2d(A, layer.size, layer.stride)
    if isinstance(layer, ReLU):
        return relu(A)
    if isinstance(layer, Flatten):
        return flatten(A)
    if isinstance(layer, Dense):
        return A @ p["W"] + p["b"]
    raise ValueError(f"no autograd operation for {type(layer).__name__}; supported: Conv2D, MaxPool2D, "
                     "ReLU, Flatten, Dense")


class AutogradNet:
    """An MLP (ReLU) or Sequential/CNN trained through autograd: `mnistlib.train(AutogradNet(model), ...)`.

    Shares model.params (the same arrays: training updates `model`); loss_and_grads builds the graph
    with build_loss and calls loss.backward(scale) instead of the model's hand-written backward.
    Inference (logits, predict, predict_proba) is the model's own.
    """

    def __init__(self, model):
        _check_supported(model)
        self.model = model

    params = property(lambda self: self.model.params)
    sizes = property(lambda self: self.model.sizes)
    dtype = property(lambda self: self.model.dtype)
    num_layers = property(lambda self: self.model.num_layers)

    def __repr__(self):
        return f"AutogradNet({self.model!r})"

    def loss_and_grads(self, X, Y, scale=1.0):
        """X (N, sizes[0]), Y (N, K) one-hot -> (loss float, {"dW1": ..., "db1": ...} times scale, logits Z (N, K))."""
        loss, Z, params = build_loss(self.model, X, Y)
        loss.backward(scale)
        return float(loss.value), {"d" + k: t.grad for k, t in params.items()}, Z.value

    def logits(self, X, batch_size=10_000):
        return self.model.logits(X, batch_size)

    def predict(self, X, batch_size=10_000):
        return self.model.predict(X, batch_size)

    def predict_proba(self, X, batch_size=10_000):
        return self.model.predict_proba(X, batch_size)
