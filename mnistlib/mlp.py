"""A fully connected network of any depth: the two-layer network of network.py, generalised.

sizes = [784, H1, ..., Hk, 10] gives L = len(sizes) - 1 layers. For layer l = 1..L:

    Z_l = A_{l-1} @ W_l + b_l     W_l: (sizes[l-1], sizes[l]),  b_l: (sizes[l],)
    A_l = g_l(Z_l) for hidden layers, and softmax(Z_L) at the output;  A_0 = X: (N, 784).

Backward, from dZ_L = (softmax(Z_L) - Y) / N:

    dW_l = A_{l-1}.T @ dZ_l,  db_l = dZ_l summed over rows,  dZ_{l-1} = (dZ_l @ W_l.T) * g'(Z_{l-1}).

Parameters live in `model.params` {"W1", "b1", ..., "WL", "bL"}; gradients use the
names {"dW1", "db1", ...}. Everything is float32 by default.
"""
import numpy as np

from .activations import get_activation, relu, relu_grad
from .losses import log_softmax, loss_and_output_grad
from .network import check_input, init_layer


class MLP:
    """A multi-layer perceptron with a softmax + cross-entropy output.

    sizes: layer widths, e.g. [784, 800, 10]; activation: one name for every hidden
    layer ("relu", "elu", "sigmoid", "tanh") or a list with one per hidden layer;
    init: "he", "xavier" or "uniform" (see network.init_layer); rng: np.random.Generator.
    """

    def __init__(self, sizes=(784, 100, 10), activation="relu", init="he", rng=None,
                 dtype=np.float32):
        sizes = tuple(int(s) for s in sizes)
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(f"sizes must list at least two positive widths, got {sizes}")
        num_hidden = len(sizes) - 2
        activations = [activation] * num_hidden if isinstance(activation, str) else list(activation)
        if len(activations) != num_hidden:
            raise ValueError(f"{num_hidden} hidden layers need {num_hidden} activations, "
                             f"got {len(activations)}: {activations}")
        self._g = [get_activation(a) for a in activations]  # validates the names
        self.sizes, self.activations, self.init = sizes, activations, init
        rng = np.random.default_rng(0) if rng is None else rng
        self.params = {}
        for l in range(1, len(sizes)):
            W, b = init_layer(sizes[l - 1], sizes[l], init, rng, dtype)
            self.params[f"W{l}"], self.params[f"b{l}"] = W, b

    @property
    def num_layers(self):
        """L, the number of weight layers (len(sizes) - 1)."""
        return len(self.sizes) - 1

    @property
    def dtype(self):
        return self.params["W1"].dtype

    def __repr__(self):
        return f"MLP(sizes={list(self.sizes)}, activation={self.activations}, init={self.init!r})"

    def forward(self, X):
        """X: (N, sizes[0]). Returns the logits Z_L (N, sizes[-1]) and the cache for backward.

        The cache holds (A_{l-1}, Z_l) for each hidden layer and (A_{L-1}, None) for the output.
        For ReLU the activation overwrites Z_l in place: relu'(Z) = [Z > 0] = [A > 0], so the
        cached array still gives the right derivative, and one (N, H) array is saved per layer.
        """
        check_input(X, self.sizes[0])
        p, L = self.params, self.num_layers
        A, cache = X, []
        for l in range(1, L):
            Z = A @ p[f"W{l}"]
            Z += p[f"b{l}"]
            cache.append((A, Z))
            g = self._g[l - 1][0]
            A = np.maximum(Z, 0, out=Z) if g is relu else g(Z)
        cache.append((A, None))
        Z = A @ p[f"W{L}"]
        Z += p[f"b{L}"]
        return Z, cache

    def backward(self, cache, dZ):
        """Gradients of the loss given dZ = ∂𝓛/∂Z_L (N, sizes[-1]); returns {"dW1": ..., ...}."""
        p, grads = self.params, {}
        for l in range(self.num_layers, 0, -1):
            A_prev = cache[l - 1][0]
            grads[f"dW{l}"] = A_prev.T @ dZ
            grads[f"db{l}"] = dZ.sum(axis=0)
            if l > 1:  # X needs no gradient, so layer 1 skips dA_0
                Z_prev = cache[l - 2][1]
                dZ = dZ @ p[f"W{l}"].T  # dA_{l-1}, a new (N, H) array: safe to scale in place
                g_prime = self._g[l - 2][1]
                if g_prime is relu_grad:
                    np.multiply(dZ, Z_prev > 0, out=dZ)
                else:
                    dZ *= g_prime(Z_prev)
        return grads

    def loss_and_grads(self, X, Y, scale=1.0):
        """One forward and backward pass on a batch.

        X: (N, sizes[0]); Y: (N, K) one-hot. Returns (loss, grads, Z): the mean
        cross-entropy (float), the gradient dict, and the logits Z (N, K).
        scale: multiply every gradient by this factor, at no cost: backward is linear in dZ,
        so scaling the small (N, K) output delta scales them all (see SGD.grad_scale).
        """
        Z, cache = self.forward(X)
        loss, dZ = loss_and_output_grad(Z, Y, scale)   # (softmax(Z) - Y) * scale / N, tiny probabilities 0
        return loss, self.backward(cache, dZ), Z

    def logits(self, X, batch_size=10_000):
        """Logits (N, K) for X (N, sizes[0]), computed in chunks to bound memory."""
        X = np.asarray(X)
        check_input(X, self.sizes[0])
        X = X.astype(self.dtype, copy=False)
        return np.concatenate([self.forward(X[i:i + batch_size])[0]
                               for i in range(0, max(len(X), 1), batch_size)])

    def predict_proba(self, X, batch_size=10_000):
        """Class probabilities (N, K) for X (N, sizes[0]); each row sums to 1."""
        return np.exp(log_softmax(self.logits(X, batch_size)))

    def predict(self, X, batch_size=10_000):
        """Predicted labels (N,) int64."""
        return self.logits(X, batch_size).argmax(axis=1)
