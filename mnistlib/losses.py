"""Softmax and cross-entropy, numerically stable by construction.

Z: logits (N, K), one row per example; Y: one-hot targets (N, K).
"""
import numpy as np

from .errors import ShapeError


def softmax(Z):
    """Row-wise softmax. Z: (N, K) logits; returns probabilities (N, K), rows sum to 1.

    Subtracting each row's maximum leaves the result unchanged
    (exp(z - c) / sum exp(z - c) = exp(z) / sum exp(z)) but keeps exp() <= 1,
    so logits of +1000 do not overflow.
    """
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def log_softmax(Z):
    """Row-wise log(softmax(Z)) via log-sum-exp. Z: (N, K); returns (N, K), all <= 0."""
    shifted = Z - Z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def cross_entropy(Z, Y):
    """Mean cross-entropy of logits against one-hot targets.

    Z: (N, K) logits; Y: (N, K) one-hot. Returns a float:
    L = -(1/N) * sum_i sum_c Y[i, c] * log softmax(Z)[i, c].
    Computed from the logits (log-softmax), so it stays finite at logits of +-1000.
    """
    if Z.shape != Y.shape:
        raise ShapeError(f"logits Z have shape {Z.shape} but targets Y have shape {Y.shape}")
    return float(-(Y * log_softmax(Z)).sum() / Z.shape[0])


def softmax_cross_entropy_grad(Z, Y):
    """Gradient of the mean cross-entropy with respect to the logits.

    Z: (N, K) logits; Y: (N, K) one-hot. Returns dZ: (N, K) = (softmax(Z) - Y) / N.
    The fused form: softmax and cross-entropy differentiated together.
    """
    return (softmax(Z) - Y) / Z.shape[0]


def loss_and_output_grad(Z, Y, scale=1.0):
    """The networks' output head: mean cross-entropy and its gradient with respect to the logits.

    Z: (N, K) logits; Y: (N, K) one-hot. Returns (loss, dZ): the loss as a float and
    dZ (N, K) = scale * (softmax(Z) - Y) / N in Z's dtype. scale multiplies the gradient at no
    cost (see SGD.grad_scale). Probabilities below e^-60 become exactly 0 (a change of < 1e-26):
    otherwise a confident network's gradients fill with float32 subnormals, which slow the
    matrix products of the backward pass many-fold.
    """
    if Y.shape != Z.shape:
        raise ShapeError(f"targets Y have shape {Y.shape} but the logits have shape {Z.shape}")
    log_probs = log_softmax(Z)
    loss = float(-(Y * log_probs).sum() / Z.shape[0])
    probs = np.exp(log_probs)
    probs[log_probs < -60] = 0
    dZ = (probs - Y) * (scale / Z.shape[0])
    return loss, dZ.astype(Z.dtype, copy=False)
