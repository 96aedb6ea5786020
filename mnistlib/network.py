"""The two-layer network of notebooks 02-04, written exactly as derived.

Layout: rows are examples. For N examples, H hidden units, K = 10 classes:

    X  (N, 784)   W1 (784, H)   b1 (H,)   Z1 = X @ W1 + b1    (N, H)   A1 = g(Z1)
                  W2 (H, K)     b2 (K,)   Z2 = A1 @ W2 + b2   (N, K)   A2 = softmax(Z2)

`params` is a dict {"W1", "b1", "W2", "b2"}; gradients come back as a dict
{"dW1", "db1", "dW2", "db2"} with the same shapes. `mlp.py` generalises this to
any depth; a test checks the two agree.
"""
import numpy as np

from .activations import get_activation
from .errors import ShapeError
from .losses import cross_entropy, softmax

INITS = ("uniform", "he", "xavier")


def init_layer(fan_in, fan_out, method, rng, dtype=np.float32):
    """Initial weights W (fan_in, fan_out) and bias b (fan_out,) for one layer.

    method:
      "uniform": W and b ~ U(-0.5, 0.5), the classic notebook's choice;
      "he":      W ~ N(0, 2 / fan_in), b = 0 (suits ReLU / ELU);
      "xavier":  W ~ U(-r, r) with r = sqrt(6 / (fan_in + fan_out)), b = 0 (suits tanh / sigmoid).
    """
    if method == "uniform":
        W = rng.uniform(-0.5, 0.5, size=(fan_in, fan_out))
        b = rng.uniform(-0.5, 0.5, size=fan_out)
    elif method == "he":
        W = rng.normal(0.0, np.sqrt(2.0 / fan_in), size=(fan_in, fan_out))
        b = np.zeros(fan_out)
    elif method == "xavier":
        r = np.sqrt(6.0 / (fan_in + fan_out))
        W = rng.uniform(-r, r, size=(fan_in, fan_out))
        b = np.zeros(fan_out)
    else:
        raise ValueError(f"unknown init {method!r}; choose one of {INITS}")
    return W.astype(dtype), b.astype(dtype)


def init_params(num_hidden=10, rng=None, init="uniform", num_inputs=784, num_classes=10,
                dtype=np.float32):
    """Parameters of a two-layer network: W1 (784, H), b1 (H,), W2 (H, 10), b2 (10,).

    rng: a np.random.Generator (default: np.random.default_rng(0)).
    """
    rng = np.random.default_rng(0) if rng is None else rng
    W1, b1 = init_layer(num_inputs, num_hidden, init, rng, dtype)
    W2, b2 = init_layer(num_hidden, num_classes, init, rng, dtype)
    return {"W1": W1, "b1": b1, "W2": W2, "b2": b2}


def check_input(X, num_inputs):
    """Raise ShapeError unless X is (N, num_inputs), naming both shapes."""
    if X.ndim != 2 or X.shape[1] != num_inputs:
        hint = " (rows are examples: did you pass X.T?)" if X.ndim == 2 and X.shape[0] == num_inputs else ""
        raise ShapeError(f"expected X of shape (N, {num_inputs}), got {X.shape}{hint}")


def forward(params, X, activation="relu"):
    """Forward pass. X: (N, 784) float in [0, 1].

    Returns the cache {"X", "Z1", "A1", "Z2", "A2"} that backward() needs:
    Z1, A1: (N, H); Z2: (N, 10) logits; A2: (N, 10) probabilities.
    """
    check_input(X, params["W1"].shape[0])
    g, _ = get_activation(activation)
    Z1 = X @ params["W1"] + params["b1"]
    A1 = g(Z1)
    Z2 = A1 @ params["W2"] + params["b2"]
    A2 = softmax(Z2)
    return {"X": X, "Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}


def backward(params, cache, Y, activation="relu"):
    """Gradients of the mean cross-entropy. Y: (N, 10) one-hot.

    dZ2 = (A2 - Y) / N          (N, 10), N the batch size (the rows of X)
    dW2 = A1.T @ dZ2            (H, 10)     db2 = sum over rows of dZ2   (10,)
    dZ1 = (dZ2 @ W2.T) * g'(Z1) (N, H)
    dW1 = X.T @ dZ1             (784, H)    db1 = sum over rows of dZ1   (H,)
    """
    _, g_prime = get_activation(activation)
    X, A1, A2 = cache["X"], cache["A1"], cache["A2"]
    if Y.shape != A2.shape:
        raise ShapeError(f"targets Y have shape {Y.shape} but the output A2 has shape {A2.shape}")
    N = X.shape[0]
    dZ2 = (A2 - Y) / N
    dW2 = A1.T @ dZ2
    db2 = dZ2.sum(axis=0)
    dZ1 = (dZ2 @ params["W2"].T) * g_prime(cache["Z1"])
    dW1 = X.T @ dZ1
    db1 = dZ1.sum(axis=0)
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}


def update(params, grads, lr):
    """One gradient-descent step: returns new params, each θ - η dθ (theta - lr * grads["d" + name])."""
    return {name: theta - lr * grads["d" + name] for name, theta in params.items()}


def loss(params, X, Y, activation="relu"):
    """Mean cross-entropy of the network on X (N, 784) against one-hot Y (N, 10)."""
    return cross_entropy(forward(params, X, activation)["Z2"], Y)


def predict(params, X, activation="relu"):
    """Predicted labels (N,) int64: the argmax of the output probabilities."""
    return forward(params, X, activation)["A2"].argmax(axis=1)
