"""Hidden-layer activations g(Z) and their derivatives g'(Z).

Every function works elementwise on an array of any shape, e.g. Z1: (N, H),
and returns an array of the same shape and dtype. Derivatives take the
pre-activation Z (as in the derivation dZ1 = dA1 * g'(Z1)).
"""
import numpy as np


def relu(Z):
    """max(0, Z). Z: any shape; returns the same shape."""
    return np.maximum(Z, 0)


def relu_grad(Z):
    """1 where Z > 0, else 0 (the subgradient at 0 is taken as 0)."""
    return (Z > 0).astype(Z.dtype)


def elu(Z, alpha=1.0):
    """Z for Z > 0, alpha * (exp(Z) - 1) otherwise; expm1 keeps small |Z| exact."""
    return np.where(Z > 0, Z, alpha * np.expm1(np.minimum(Z, 0))).astype(Z.dtype, copy=False)


def elu_grad(Z, alpha=1.0):
    """1 for Z > 0, alpha * exp(Z) otherwise."""
    return np.where(Z > 0, 1, alpha * np.exp(np.minimum(Z, 0))).astype(Z.dtype, copy=False)


def sigmoid(Z):
    """1 / (1 + exp(-Z)), computed without overflow for large |Z|."""
    E = np.exp(-np.abs(Z))  # in (0, 1], never overflows
    return np.where(Z >= 0, 1 / (1 + E), E / (1 + E)).astype(Z.dtype, copy=False)


def sigmoid_grad(Z):
    """sigmoid(Z) * (1 - sigmoid(Z))."""
    S = sigmoid(Z)
    return S * (1 - S)


def tanh(Z):
    """Hyperbolic tangent."""
    return np.tanh(Z)


def tanh_grad(Z):
    """1 - tanh(Z)^2."""
    return 1 - np.tanh(Z) ** 2


ACTIVATIONS = {
    "relu": (relu, relu_grad),
    "elu": (elu, elu_grad),
    "sigmoid": (sigmoid, sigmoid_grad),
    "tanh": (tanh, tanh_grad),
}


def get_activation(name):
    """Return the pair (g, g_prime) for an activation name, e.g. "relu"."""
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(
            f"unknown activation {name!r}; choose one of {sorted(ACTIVATIONS)}"
        ) from None
