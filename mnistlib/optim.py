"""Optimisers that update a parameter dict in place from a gradient dict.

params: {"W1": ..., "b1": ...}; grads: {"dW1": ..., "db1": ...} with matching shapes.
Weight decay (L2) is applied to weights only (names starting with "W"), never to biases.
"""
import math

import numpy as np


def decay_of(name, weight_decay):
    """The L2 coefficient for parameter `name`: weight_decay for weights ("W..."), 0 for biases."""
    return weight_decay if name.startswith("W") else 0.0


def with_weight_decay(name, theta, g, weight_decay):
    """The gradient of the loss plus (weight_decay / 2) * ||theta||^2 for weights ("W..."): g + wd * theta.

    Biases are never decayed; with weight_decay = 0 g itself is returned (no copy).
    """
    decay = decay_of(name, weight_decay)
    return g + decay * theta if decay else g


class SGD:
    """Stochastic gradient descent, optionally with (Nesterov) momentum.

    In the notation of the series (NOTATION.md: η = lr, μ = momentum, dθ = the gradient g, v the velocity):
    v <- μ v - η dθ;  θ <- θ + v            (classical momentum)
    θ <- θ + μ v - η dθ (after updating v)  (Nesterov, in the common reformulation)
    With momentum=0 this is plain gradient descent θ <- θ - η dθ.

    Speed: step() also accepts gradients already multiplied by `grad_scale` (= -lr), which
    MLP.loss_and_grads(..., scale=-lr) delivers for free (backpropagation is linear in the output
    delta, so scaling that (N, 10) array scales every gradient). Then -lr * g is the gradient
    array itself and the classical update is three passes over each weight matrix, not four.
    """

    def __init__(self, lr=0.1, momentum=0.0, nesterov=False, weight_decay=0.0):
        if lr <= 0:
            raise ValueError(f"lr must be positive, got {lr}")
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must be in [0, 1), got {momentum}")
        self.lr, self.momentum, self.nesterov, self.weight_decay = lr, momentum, nesterov, weight_decay
        self.velocity, self.scratch = {}, {}

    @property
    def grad_scale(self):
        """The factor step() would like the gradients multiplied by: -lr (see the class docstring)."""
        return -self.lr

    def step(self, params, grads, scale=1.0):
        """Update every parameter θ in `params` in place from grads["d" + name] = scale * dθ (dθ = ∂𝓛/∂θ)."""
        for name, theta in params.items():
            step = self._descent(name, theta, grads["d" + name], scale)  # -lr * (gradient + decay)
            if self.momentum == 0:
                theta += step
                continue
            v = self.velocity.get(name)
            if v is None:
                v = self.velocity[name] = np.zeros_like(theta)
            v *= self.momentum
            v += step
            if self.nesterov:
                theta += step
                step = np.multiply(v, self.momentum, out=self._scratch(name, theta))
                theta += step
            else:
                theta += v

    def _descent(self, name, theta, g, scale):
        """-lr * (gradient + weight decay) for theta, given g = scale * gradient: g itself when
        scale = -lr and theta is not decayed, else computed in a reusable buffer (no allocation)."""
        factor = -self.lr / scale
        decay = decay_of(name, self.weight_decay)
        if factor == 1 and not decay:
            return g
        step = np.multiply(g, factor, out=self._scratch(name, theta))
        if decay:  # the gradient of (decay / 2) * ||theta||^2 is decay * theta
            step -= (self.lr * decay) * theta
        return step

    def _scratch(self, name, theta):
        """A reusable buffer shaped like theta (large temporaries cost page faults every step)."""
        buf = self.scratch.get(name)
        if buf is None or buf.shape != theta.shape or buf.dtype != theta.dtype:
            buf = self.scratch[name] = np.empty_like(theta)
        return buf

    def __repr__(self):
        return (f"SGD(lr={self.lr}, momentum={self.momentum}, nesterov={self.nesterov}, "
                f"weight_decay={self.weight_decay})")


class Adam:
    """Adam (Kingma & Ba): per-parameter step sizes from running moments of the gradient.

    In the notation of the series (NOTATION.md: η = lr, β1 = beta1, β2 = beta2, dθ = the gradient g):
    m <- β1 m + (1 - β1) dθ;  s <- β2 s + (1 - β2) dθ²  (elementwise);
    θ <- θ - η m_hat / (sqrt(s_hat) + eps), with bias-corrected m_hat = m / (1 - β1^t), s_hat = s / (1 - β2^t).
    """

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0):
        if lr <= 0:
            raise ValueError(f"lr must be positive, got {lr}")
        self.lr, self.beta1, self.beta2, self.eps, self.weight_decay = lr, beta1, beta2, eps, weight_decay
        self.m, self.s, self.t = {}, {}, 0

    grad_scale = 1.0  # Adam wants the gradients themselves (see SGD.grad_scale)

    def step(self, params, grads, scale=1.0):
        """Update every parameter θ in `params` in place from grads["d" + name] = scale * dθ (dθ = ∂𝓛/∂θ)."""
        self.t += 1
        c1, c2 = 1 - self.beta1 ** self.t, 1 - self.beta2 ** self.t
        for name, theta in params.items():
            g = grads["d" + name] if scale == 1 else grads["d" + name] / scale
            g = with_weight_decay(name, theta, g, self.weight_decay)
            if name not in self.m:
                self.m[name], self.s[name] = np.zeros_like(theta), np.zeros_like(theta)
            m, s = self.m[name], self.s[name]
            m *= self.beta1
            m += (1 - self.beta1) * g
            s *= self.beta2
            s += (1 - self.beta2) * g * g
            theta -= (self.lr / c1) * m / (np.sqrt(s / c2) + self.eps)

    def __repr__(self):
        return f"Adam(lr={self.lr}, beta1={self.beta1}, beta2={self.beta2}, weight_decay={self.weight_decay})"


def constant_schedule(epoch, epochs):
    """Learning-rate factor 1 for every epoch."""
    return 1.0


def step_schedule(every=10, factor=0.5):
    """A schedule multiplying the learning rate by `factor` every `every` epochs."""
    def schedule(epoch, epochs):
        return factor ** (epoch // every)
    return schedule


def cosine_schedule(epoch, epochs, floor=0.0):
    """Cosine decay of the factor from 1 at epoch 0 towards `floor` at the last epoch."""
    return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * epoch / max(epochs, 1)))
