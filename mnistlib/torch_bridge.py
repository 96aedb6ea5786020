"""From mnistlib to PyTorch: the same network, the same weights, the same data order, in torch.

PyTorch is an optional extra (`python run.py torch` installs its CPU build); `import mnistlib` never
needs it, because every function here imports torch when it is called.

    module = to_torch(model)                 # an MLP or Sequential/CNN -> torch.nn.Sequential, weights copied
    grads = grads_from_torch(module, model)  # module's .grad as {"dW1": ..., "db1": ...}, mnistlib's shapes
    history = train_torch(module, X, y, epochs=2, batch_size=128, optimizer="adam")  # mnistlib.train's order
    Z_ref, bound = logits_bounds(model, X)   # how far any float32 evaluation of the logits may be off

Layouts. mnistlib's Dense / MLP weight W is (n_in, n_out), applied as X @ W + b; torch.nn.Linear
keeps the transpose, weight (n_out, n_in), applied as X @ weight.T + bias. Conv2D's W is
(C_out, C_in, k_h, k_w), exactly torch.nn.Conv2d's weight; Flatten uses the same C order of the
(C, H, W) axes. Every module made here takes X as mnistlib does, rows of (N, 784): a CNN's module
starts with nn.Unflatten(1, (1, 28, 28)).
"""
import math
import time

import numpy as np

from .activations import get_activation, relu
from .errors import TrainingDiverged
from .layers import Conv2D, Dense, Flatten, MaxPool2D, ReLU, Sequential
from .mlp import MLP
from .rounding import TRANSCENDENTAL_ULPS, gamma, unit_roundoff
from .train import History, check_scaled, iterate_minibatches

TORCH_VERSION = "2.13.0"
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
INSTALL_HINT = (f"PyTorch is not installed: run `python run.py torch` (it installs the CPU build into .venv), "
                f'or by hand: pip install "torch=={TORCH_VERSION}" --index-url {CPU_INDEX}')

__all__ = ["require_torch", "torch_available", "to_torch", "grads_from_torch", "params_from_torch", "train_torch",
           "default_device", "logits_bounds", "INSTALL_HINT"]


def require_torch():
    """Import and return torch; without it, raise ImportError whose message is the install command."""
    try:
        import torch
    except ImportError:
        raise ImportError(INSTALL_HINT) from None
    return torch


def torch_available():
    """True when torch can be imported (without importing it)."""
    import importlib.util
    return importlib.util.find_spec("torch") is not None


def load_ipython_extension(ipython):
    """`%load_ext mnistlib.torch_bridge` adds the cell magic `%%torch` (notebook 11): a cell that starts
    with it runs as usual when PyTorch is installed; without PyTorch it is skipped with one line that
    says how to install it, so a notebook without torch still runs top to bottom. Errors in the cell
    propagate as in any cell (nbval and nbconvert stop on them)."""
    import itertools
    import linecache
    counter = itertools.count(1)

    def torch(line, cell):
        if not torch_available():
            print("skipped (PyTorch is not installed): run `python run.py torch`, then restart the kernel")
            return
        name = f"<%%torch cell {next(counter)}>"
        linecache.cache[name] = (len(cell), None, cell.splitlines(keepends=True), name)  # tracebacks show the code
        exec(compile(cell, name, "exec"), ipython.user_ns)

    ipython.register_magic_function(torch, magic_kind="cell", magic_name="torch")


# ------------------------------------------------------------------ the network as a list of steps

ACTIVATION_MODULES = {"relu": "ReLU", "elu": "ELU", "sigmoid": "Sigmoid", "tanh": "Tanh"}  # mnistlib -> torch.nn


def _plan(model):
    """The network as a list of steps, shared by to_torch and logits_bounds:

    ("unflatten", (C, H, W)), ("linear", {"W": (n_in, n_out), "b": (n_out,)}), ("act", name),
    ("conv", Conv2D layer, {"W": (C_out, C_in, k_h, k_w), "b": (C_out,)}), ("pool", MaxPool2D layer),
    ("flatten",). The arrays are the model's own (not copies).
    """
    steps = []
    if isinstance(model, MLP):
        p = model.params
        for i in range(1, model.num_layers + 1):
            steps.append(("linear", {"W": p[f"W{i}"], "b": p[f"b{i}"]}))
            if i < model.num_layers:
                steps.append(("act", model.activations[i - 1]))
        return steps
    if not isinstance(model, Sequential):
        raise TypeError(f"to_torch takes an mnistlib MLP, Sequential or CNN, got {type(model).__name__}")
    steps.append(("unflatten", tuple(model.input_shape)))
    for i, layer in enumerate(model.layers):
        p = {k: model.params[name] for k, name in model.names[i].items()}
        if isinstance(layer, Conv2D):
            steps.append(("conv", layer, p))
        elif isinstance(layer, MaxPool2D):
            steps.append(("pool", layer))
        elif isinstance(layer, ReLU):
            steps.append(("act", "relu"))
        elif isinstance(layer, Flatten):
            steps.append(("flatten",))
        elif isinstance(layer, Dense):
            steps.append(("linear", p))
        else:
            raise TypeError(f"to_torch knows Conv2D, MaxPool2D, ReLU, Flatten and Dense, not {layer!r}")
    return steps


def _torch_dtype(torch, dtype):
    dtypes = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}
    if np.dtype(dtype) not in dtypes:
        raise TypeError(f"to_torch copies float32 or float64 networks, not {np.dtype(dtype)}")
    return dtypes[np.dtype(dtype)]


def to_torch(model):
    """An mnistlib network as an equivalent torch.nn.Sequential, its weights copied, in the model's dtype.

    model: an MLP (hidden activations relu, elu, sigmoid, tanh -> nn.ReLU, nn.ELU, nn.Sigmoid, nn.Tanh),
    or a Sequential / CNN of Conv2D, MaxPool2D, ReLU, Flatten, Dense layers.
    The module maps X (N, sizes[0]), e.g. (N, 784) rows as in mnistlib, to the logits (N, K), as
    model.logits does (no softmax: torch's cross_entropy takes logits). Dense / MLP W (n_in, n_out)
    becomes nn.Linear.weight W.T (n_out, n_in); b (n_out,) the bias; Conv2D W (C_out, C_in, k_h, k_w)
    and b (C_out,) are copied as they are. A Sequential's module starts with nn.Unflatten(1, (C, H, W)).
    Later changes to either network do not affect the other.
    """
    plan = _plan(model)  # refuses what it cannot copy before torch is needed
    torch = require_torch()
    nn = torch.nn
    dtype = _torch_dtype(torch, model.dtype)
    modules = []
    for step in plan:
        kind = step[0]
        if kind == "unflatten":
            modules.append(nn.Unflatten(1, step[1]))
        elif kind == "flatten":
            modules.append(nn.Flatten())
        elif kind == "act":
            modules.append(getattr(nn, ACTIVATION_MODULES[step[1]])())
        elif kind == "pool":
            modules.append(nn.MaxPool2d(step[1].size, step[1].stride))
        elif kind == "linear":
            W, b = step[1]["W"], step[1]["b"]
            linear = nn.Linear(W.shape[0], W.shape[1], dtype=dtype)
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(np.ascontiguousarray(W.T)))
                linear.bias.copy_(torch.from_numpy(np.asarray(b)))
            modules.append(linear)
        else:  # conv
            layer, W, b = step[1], step[2]["W"], step[2]["b"]
            C_out, C_in, kh, kw = W.shape
            conv = nn.Conv2d(C_in, C_out, (kh, kw), stride=layer.stride, padding=layer.padding, dtype=dtype)
            with torch.no_grad():
                conv.weight.copy_(torch.from_numpy(np.ascontiguousarray(W)))
                conv.bias.copy_(torch.from_numpy(np.asarray(b)))
            modules.append(conv)
    return nn.Sequential(*modules)


def _pairs(module, model, what):
    """[(mnistlib name, torch parameter)] in order: the module's parameters W1, b1, W2, b2, ...
    matched to model.params, whose insertion order is the same."""
    names = list(model.params)
    params = list(module.parameters())
    if len(params) != len(names):
        raise ValueError(f"{what}: the module has {len(params)} parameter arrays, the model {len(names)} "
                         f"({', '.join(names)}); was the module made by to_torch(model)?")
    return list(zip(names, params, strict=True))


def _as_mnistlib(name, tensor, model, what):
    """A torch tensor in mnistlib's layout: nn.Linear's (n_out, n_in) weight transposed to (n_in, n_out)."""
    array = tensor.detach().cpu().numpy()
    if name.startswith("W") and array.ndim == 2:
        array = array.T
    array = np.ascontiguousarray(array)
    if array.shape != model.params[name].shape:
        raise ValueError(f"{what}: {name} has shape {array.shape} in the module, "
                         f"{model.params[name].shape} in the model")
    return array


def grads_from_torch(module, model):
    """The module's gradients (.grad, after loss.backward()) as mnistlib's dict {"dW1": ..., "db1": ...}.

    module: made by to_torch(model); model: the mnistlib network, read for its parameter names and
    shapes only. Every array is a NumPy copy in mnistlib's shape, e.g. dW1 (n_in, n_out) for a
    Dense layer (the transpose of nn.Linear.weight.grad), dW1 (C_out, C_in, k_h, k_w) for a Conv2D,
    so that it compares directly with model.loss_and_grads(X, Y)[1]. A parameter without a gradient
    (no backward yet) is an error.
    """
    grads = {}
    for name, param in _pairs(module, model, "grads_from_torch"):
        if param.grad is None:
            raise ValueError(f"grads_from_torch: {name} has no gradient yet; call loss.backward() first")
        grads["d" + name] = _as_mnistlib(name, param.grad, model, "grads_from_torch")
    return grads


def params_from_torch(module, model):
    """The module's parameters as mnistlib's dict {"W1": ..., "b1": ...} in mnistlib's shapes (NumPy copies).

    To continue in mnistlib from weights trained in torch: model.params.update(params_from_torch(module, model)).
    """
    return {name: _as_mnistlib(name, param, model, "params_from_torch")
            for name, param in _pairs(module, model, "params_from_torch")}


# ------------------------------------------------------------------ training, as mnistlib.train does

def default_device():
    """"cuda" when torch sees a GPU, else "cpu"."""
    torch = require_torch()
    return "cuda" if torch.cuda.is_available() else "cpu"


def _optimizer(torch, module, optimizer, lr, momentum, nesterov, weight_decay):
    """A torch optimiser like mnistlib's: weight decay (L2) on weights only, never on biases."""
    if not isinstance(optimizer, str):
        return optimizer  # a torch.optim.Optimizer made by the caller
    decayed = [p for name, p in module.named_parameters() if not name.endswith("bias")]
    biases = [p for name, p in module.named_parameters() if name.endswith("bias")]
    groups = [{"params": decayed, "weight_decay": weight_decay}, {"params": biases, "weight_decay": 0.0}]
    if optimizer == "sgd":
        return torch.optim.SGD(groups, lr=0.1 if lr is None else lr, momentum=momentum, nesterov=nesterov)
    if optimizer == "adam":  # mnistlib.Adam's defaults: beta1 0.9, beta2 0.999, eps 1e-8, as torch's
        return torch.optim.Adam(groups, lr=1e-3 if lr is None else lr)
    raise ValueError(f"optimizer must be 'sgd', 'adam' or a torch.optim.Optimizer, got {optimizer!r}")


def _evaluate(torch, module, X, y, batch_size=10_000):
    """Mean cross-entropy and accuracy of module on tensors X (N, D), y (N,), as mnistlib.evaluate."""
    F = torch.nn.functional
    was_training = module.training
    module.eval()
    loss = correct = 0.0
    with torch.no_grad():
        for i in range(0, len(X), batch_size):
            Z = module(X[i:i + batch_size])
            loss += float(F.cross_entropy(Z, y[i:i + batch_size], reduction="sum"))
            correct += float((Z.argmax(dim=1) == y[i:i + batch_size]).sum())
    module.train(was_training)
    return loss / len(X), correct / len(X)


def train_torch(module, X, y, *, X_dev=None, y_dev=None, epochs=10, batch_size=None, lr=None, optimizer="adam",
                momentum=0.0, nesterov=False, weight_decay=0.0, shuffle=True, seed=0, rng=None, schedule=None,
                device=None, progress=False, desc="torch"):
    """Train a torch module in place, in the data order mnistlib.train would use, and return its History.

    module: e.g. to_torch(model); it maps X rows (N, D) to logits (N, K) and is moved to `device`.
    X: (N, D) float in [0, 1] (cast to the module's dtype); y: (N,) integer labels; X_dev, y_dev likewise.
    batch_size: None for full batch, else mini-batches; the order: with shuffle and batch_size < N, one
        rng.permutation(N) per epoch, rng = np.random.default_rng(seed) unless given, exactly the calls
        of mnistlib.train(..., rng=np.random.default_rng(seed)) (the batches come from the same
        iterate_minibatches), so both libraries see the same batches in the same order.
    optimizer: "adam" (lr default 1e-3) or "sgd" (lr default 0.1, momentum, nesterov), as mnistlib's Adam
        and SGD, weight decay on weights only (not biases); or a torch.optim.Optimizer of your own.
    schedule: as in mnistlib.train, the lr factor schedule(epoch, epochs) (default constant).
    device: "cuda" when available, else "cpu" (default); the data moves there once.
    The loss is torch.nn.functional.cross_entropy (the mean over the batch), as mnistlib's.
    Returns a mnistlib History (history.to_frame() is a DataFrame with the same columns as
    mnistlib.train's: step, lr, train_loss, train_acc, dev_loss, dev_acc, seconds), so the two
    libraries' curves can be overlaid. Raises TrainingDiverged (with .history) when an epoch's loss
    is not finite (checked once per epoch: no per-step synchronisation with a GPU).
    """
    torch = require_torch()
    from tqdm.auto import tqdm

    F = torch.nn.functional
    device = torch.device(default_device() if device is None else device)
    module.to(device)
    dtype = next(module.parameters()).dtype
    np_dtype = {torch.float32: np.float32, torch.float64: np.float64}.get(dtype, np.float32)
    check_scaled(np.asarray(X))
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)} labels")
    Xt = torch.as_tensor(np.asarray(X, np_dtype), device=device)
    yt = torch.as_tensor(np.asarray(y, np.int64), device=device)
    dev = None
    if X_dev is not None:
        dev = (torch.as_tensor(np.asarray(X_dev, np_dtype), device=device),
               torch.as_tensor(np.asarray(y_dev, np.int64), device=device))
    opt = _optimizer(torch, module, optimizer, lr, momentum, nesterov, weight_decay)
    base_lrs = [group["lr"] for group in opt.param_groups]
    rng = np.random.default_rng(seed) if rng is None else rng
    N = len(Xt)
    batch = N if batch_size is None else int(batch_size)
    rows = np.arange(N)
    history, steps, seconds = History(), 0, 0.0
    bar = tqdm(total=epochs * -(-N // batch), desc=desc, disable=not progress, unit="step", mininterval=0.5)
    module.train()
    try:
        for epoch in range(epochs):
            factor = 1.0 if schedule is None else schedule(epoch, epochs)
            for group, base in zip(opt.param_groups, base_lrs, strict=True):
                group["lr"] = base * factor
            start = time.perf_counter()
            losses, sizes, hits = [], [], []
            # the very generator mnistlib.train uses, over row numbers: the same rng calls, the same batches
            for idx, _ in iterate_minibatches(rows, rows, batch, rng if shuffle and batch < N else None):
                idx = torch.as_tensor(idx, device=device)
                Xb, yb = Xt[idx], yt[idx]
                opt.zero_grad(set_to_none=True)
                Z = module(Xb)
                loss = F.cross_entropy(Z, yb)
                loss.backward()
                opt.step()
                losses.append(loss.detach())
                hits.append((Z.detach().argmax(dim=1) == yb).sum())
                sizes.append(len(idx))
                steps += 1
                bar.update(1)
            # summed in the batches' order, as mnistlib.train sums loss * len(batch) in Python floats
            batch_losses = torch.stack(losses).double().cpu().numpy()
            loss_sum = 0.0
            for value, size in zip(batch_losses.tolist(), sizes, strict=True):
                loss_sum += value * size
            correct = float(torch.stack(hits).sum())
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            seconds += time.perf_counter() - start
            dev_loss, dev_acc = _evaluate(torch, module, *dev) if dev is not None else (np.nan, np.nan)
            history.append(epoch=epoch + 1, step=steps, lr=opt.param_groups[0]["lr"], train_loss=loss_sum / N,
                           train_acc=correct / N, dev_loss=dev_loss, dev_acc=dev_acc, seconds=seconds)
            bar.set_postfix(loss=f"{loss_sum / N:.4f}", refresh=False)
            if not np.isfinite(loss_sum):
                raise TrainingDiverged(f"training diverged in epoch {epoch + 1}: the loss became {loss_sum / N:.4g} "
                                       f"with lr={opt.param_groups[0]['lr']:g}; try a smaller learning rate")
    except TrainingDiverged as error:
        error.history = history
        raise
    finally:
        for group, base in zip(opt.param_groups, base_lrs, strict=True):
            group["lr"] = base
        bar.close()
    return history


# ------------------------------------------------------------------ how close two float32 evaluations must be

def _conv(layer, A, W, b):
    """Conv2D with the layer's stride and padding and the given W (C_out, C_in, k_h, k_w), b (C_out,):
    A (N, C_in, H_in, W_in) -> (N, C_out, H_out, W_out), by a fresh mnistlib Conv2D (the model's own
    layer keeps its buffers and its cache untouched)."""
    return Conv2D(**layer.config()).forward({"W": W, "b": b}, A)[0]


def _pool(layer, A):
    """MaxPool2D with the layer's size and stride: (N, C, H_in, W_in) -> (N, C, H_out, W_out)."""
    return MaxPool2D(**layer.config()).forward({}, A)[0]


def logits_bounds(model, X):
    """A float64 reference of the logits and a bound on how far any evaluation in the model's dtype may be.

    model: an MLP or a Sequential / CNN (read, never changed); X: (N, sizes[0]), taken after its
    conversion to model.dtype (as model.logits does, and as the torch module needs).
    Returns (Z, bound), both (N, K) float64: any evaluation of the same network in model.dtype
    (float32: mnistlib's, torch's, any BLAS or convolution kernel, any summation order, with or
    without fused multiply-adds) gives logits within `bound` of Z elementwise; so mnistlib's and
    torch's logits differ by at most 2 * bound. Check with mnistlib.rounding.assert_within.

    The reasoning is that of mnistlib.rounding (the standard model, Higham 2002, sections 2.2 and 3.1):
    each output of a Dense or Conv2D layer is a dot product of k = n_in (or C_in k_h k_w) terms
    plus the bias, a sum of k + 1 terms, so its computed value lies within
    gamma_{k+1} (|A_computed| . |W| + |b|) of the exact one in ANY order of the additions. That is
    why rounding.mlp_bounds, which assumes mnistlib's order (the product first, then the bias, so
    (1 + u) gamma_k |A| |W| + u |Z|), is not used as it is: torch's addmm and oneDNN's convolutions
    may start the sum from the bias. This bound is at least mlp_bounds' (gamma_{k+1} >= (1 + u) gamma_k + u).
    The error eA already in a layer's input adds eA . |W|; ReLU and max-pooling pass errors on unchanged
    (both are 1-Lipschitz and round nothing: a max moves by at most the largest error in its window);
    elu, sigmoid and tanh are 1-Lipschitz and are assumed to round within 2 * 4 ulp, as in
    mnistlib.rounding (TRANSCENDENTAL_ULPS). First order in u, as rounding's bounds. For a float64
    model the reference is itself a float64 evaluation, so the bound is doubled (as mlp_bounds does).
    The bound assumes IEEE arithmetic in the dtype: on a GPU, switch TF32 off first
    (torch.backends.cudnn.allow_tf32 = False, torch.backends.cuda.matmul.allow_tf32 = False).
    """
    dtype = model.dtype
    u = unit_roundoff(dtype)
    A = np.asarray(X).astype(dtype, copy=False).astype(np.float64)  # the input as both libraries see it
    eA = np.zeros_like(A)
    for step in _plan(model):
        kind = step[0]
        if kind == "unflatten":
            A, eA = A.reshape(len(A), *step[1]), eA.reshape(len(A), *step[1])
        elif kind == "flatten":
            A, eA = A.reshape(len(A), -1), eA.reshape(len(A), -1)
        elif kind == "pool":
            A, eA = _pool(step[1], A), _pool(step[1], eA)
        elif kind == "act":
            if step[1] == "relu":
                A = relu(A)  # exact; |relu(a + d) - relu(a)| <= |d|
            else:
                A = get_activation(step[1])[0](A)
                eA = eA + 2 * TRANSCENDENTAL_ULPS * u * np.abs(A)
        else:
            p = {k: np.asarray(v, np.float64) for k, v in step[-1].items()}
            W, b = p["W"], p["b"]
            if kind == "linear":
                k = W.shape[0]
                Z = A @ W + b
                reach = (np.abs(A) + eA) @ np.abs(W) + np.abs(b)  # |A_computed| |W| + |b|
                carried = eA @ np.abs(W)
            else:
                k = math.prod(W.shape[1:])  # C_in k_h k_w
                Z = _conv(step[1], A, W, b)
                reach = _conv(step[1], np.abs(A) + eA, np.abs(W), np.abs(b))
                carried = _conv(step[1], eA, np.abs(W), np.zeros_like(b))
            A, eA = Z, gamma(k + 1, dtype) * reach + carried
    if np.dtype(dtype) == np.float64:
        eA = 2 * eA
    return A, eA

