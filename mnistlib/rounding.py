"""How far a float32 result may be from the exact one: error bounds that hold on every CPU.

Different CPUs (and OpenBLAS's kernels for them) add the terms of a matrix product in
different orders, so float32 results differ in their last bits from machine to machine,
and between a product of 64 rows and one of 1000. A test that compares float32 results
therefore needs a tolerance, and the tolerance must follow from float32 rounding, not
from what happened to pass on one machine. This module states the reasoning once.

The standard model (Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed.,
sections 2.2 and 3.1): every floating-point operation is exact up to a relative error of
at most u, the unit roundoff (u = 2^-24 for float32, 2^-53 for float64). A sum of k terms,
added in ANY order, with or without fused multiply-adds, is then within

    gamma_k * sum_i |a_i b_i|,        gamma_k = k u / (1 - k u),

of the exact dot product. That is why the bound holds for every BLAS kernel. For a matrix
product C = A @ B (A: (N, k), B: (k, M)) it reads elementwise |fl(C) - C| <= gamma_k |A| @ |B|.

`mlp_bounds` carries these bounds through a whole forward and backward pass of an MLP,
next to a float64 reference, so that any float32 result (chunked or not, MLP or the
explicit two-layer network) can be checked against the reference with `assert_within`.
Two float32 results are compared with each other under the sum of their two bounds.
"""
import numpy as np

from .activations import get_activation, relu

U32 = 2.0 ** -24  # float32 unit roundoff
U64 = 2.0 ** -53  # float64 unit roundoff
# numpy's float32 exp and log are accurate to within 4 ulp on every CPU it supports (its
# AVX-512 kernels are documented at 2.52 and 3.83 ulp; glibc's expf/logf below 1 ulp).
TRANSCENDENTAL_ULPS = 4


def unit_roundoff(dtype):
    """u for a floating dtype: 2^-24 for float32, 2^-53 for float64."""
    return float(np.finfo(dtype).eps) / 2


def gamma(k, dtype=np.float32):
    """gamma_k = k u / (1 - k u): the relative error bound of a k-term sum or dot product."""
    ku = k * unit_roundoff(dtype)
    if ku >= 1:
        raise ValueError(f"k = {k} terms is too many for a rounding bound in {np.dtype(dtype)}")
    return ku / (1 - ku)


def matmul_bound(A, B, dtype=np.float32):
    """Elementwise bound on |fl(A @ B) - A @ B| for A: (N, k), B: (k, M); returns (N, M) float64."""
    A, B = np.abs(np.asarray(A, np.float64)), np.abs(np.asarray(B, np.float64))
    return gamma(A.shape[-1], dtype) * (A @ B)


def softmax_bounds(Z, eZ, dtype=np.float32):
    """Reference probabilities probs (N, K) and elementwise bounds on |probs_computed - probs|.

    Z: (N, K) float64 reference logits; eZ: (N, K) bounds on the computed logits' error.
    Two sources: the logits' error moves p_i by at most p_i (eZ_i + sum_j p_j eZ_j)
    (the softmax Jacobian is diag(p) - p p^T), and rounding inside the softmax itself.
    With s = z - max z and t = 4 ulp for exp and log, the relative error of p_i is at most
    - for exp(s - l), l = log sum exp(s): u |s_i| (the shift), (t + K - 1) u (the exps and their
      sum, as an absolute error of l), t u |l| (the log), u (|s_i| + |l|) (s - l), t u (the last exp):
      u (2 |s_i| + (t + 1) |l| + K - 1 + 2 t);
    - for exp(s) / sum exp(s): u |s_i| + t u (exp) + (t + K - 1) u (the sum) + u (the division).
    The bound below is the sum of the two, so it covers either, plus the probabilities below
    e^-60 that MLP.loss_and_grads sets to exactly 0 (a change of < 1e-26).
    """
    u, t = unit_roundoff(dtype), TRANSCENDENTAL_ULPS
    s = Z - Z.max(axis=1, keepdims=True)
    l = np.log(np.exp(s).sum(axis=1, keepdims=True))
    probs = np.exp(s - l)
    K = Z.shape[1]
    rounding = u * (3 * np.abs(s) + (t + 1) * np.abs(l) + 2 * (K - 1) + 4 * t + 1)
    from_logits = eZ + (probs * eZ).sum(axis=1, keepdims=True)
    return probs, probs * (from_logits + rounding) + np.exp(-60.0)


def mlp_bounds(model, X, Y=None, scale=1.0, activation="relu"):
    """A float64 reference of a network's forward (and backward) pass, with rounding bounds.

    model: an MLP, or a two-layer params dict {"W1", "b1", "W2", "b2"} as in mnistlib.network
    (then `activation` names the hidden layers' g); its parameters are read, never changed.
    X: (N, sizes[0]); Y: optional (N, K) one-hot targets; scale: the gradient scale passed to
    loss_and_grads. Returns a dict of (reference, bound) pairs, float64 arrays of the result's
    shape: "Z1" ... "ZL" (ZL the logits (N, K)), the activations "A1" ... "A{L-1}" and the
    probabilities "AL" (N, K), and with Y every gradient "dW1", "db1", ... Any correct
    evaluation of the same formulas in the model's dtype, in any summation order (any BLAS
    kernel, any chunking), lies within `bound` of `reference`: check it with `assert_within`.
    Bounds are first order in u (terms of order u^2 are below 1e-13 relative).
    """
    if isinstance(model, dict):
        params = model
        layers = [get_activation(activation)] * (len(params) // 2 - 1)
    else:
        params, layers = model.params, model._g
    dtype = params["W1"].dtype
    u = unit_roundoff(dtype)
    p = {k: np.asarray(v, np.float64) for k, v in params.items()}
    L = len(p) // 2
    A, eA = np.asarray(X, np.float64), np.zeros(np.shape(X))
    out, cache = {}, []
    for l in range(1, L + 1):
        W, b = p[f"W{l}"], p[f"b{l}"]
        Z = A @ W + b
        # the product from the computed A (|A| + eA), the error carried in from A, the bias add
        eZ = (1 + u) * (matmul_bound(np.abs(A) + eA, W, dtype) + eA @ np.abs(W)) + u * np.abs(Z)
        cache.append((A, eA, Z, eZ))
        out[f"Z{l}"] = (Z, eZ)
        if l < L:
            g = layers[l - 1][0]
            A = g(Z)
            # every activation here is 1-Lipschitz (|g'| <= 1); all but ReLU round (<= 8 ulp)
            eA = eZ + (0 if g is relu else 2 * TRANSCENDENTAL_ULPS * u) * np.abs(A)
            out[f"A{l}"] = (A, eA)
    probs, e_probs = softmax_bounds(Z, eZ, dtype)
    out[f"A{L}"] = (probs, e_probs)
    if Y is not None:
        out.update(_backward_bounds(p, layers, cache, probs, e_probs, Y, scale / len(A), dtype))
    if dtype == np.float64:
        # the reference is then itself a float64 evaluation, within the same bound of the exact
        # result: a correct evaluation lies within twice the bound of it
        out = {k: (ref, 2 * bound) for k, (ref, bound) in out.items()}
    return out


def _backward_bounds(p, layers, cache, probs, e_probs, Y, s, dtype):
    """The gradients' references and bounds, from dZ_L = (probs - Y) * s back to layer 1."""
    u = unit_roundoff(dtype)
    out = {}
    dZ = (probs - np.asarray(Y, np.float64)) * s
    edZ = abs(s) * (e_probs + 3 * u * np.abs(probs - Y))  # probs - Y, the scale s, the product: 3 roundings
    for l in range(len(cache), 0, -1):
        A, eA, _, _ = cache[l - 1]
        dZa = np.abs(dZ) + edZ  # a bound on |dZ computed|
        out[f"dW{l}"] = (A.T @ dZ, matmul_bound((np.abs(A) + eA).T, dZa, dtype)
                         + eA.T @ dZa + np.abs(A).T @ edZ)
        out[f"db{l}"] = (dZ.sum(axis=0), gamma(len(dZ), dtype) * dZa.sum(axis=0) + edZ.sum(axis=0))
        if l == 1:
            break
        W = p[f"W{l}"]
        dA = dZ @ W.T
        edA = matmul_bound(dZa, W.T, dtype) + edZ @ np.abs(W.T)
        _, _, Z_prev, eZ_prev = cache[l - 2]
        g, g_prime = layers[l - 2]
        if g is relu:
            # the mask [Z > 0] is exact where |Z| > eZ; closer to 0 it may flip: allow all of dA
            unsure = np.abs(Z_prev) <= eZ_prev
            dZ = dA * (Z_prev > 0)
            edZ = np.where(unsure, np.abs(dA) + edA, edA * (Z_prev > 0))
        else:
            # g' is 1-Lipschitz for elu, sigmoid and tanh; its evaluation rounds (<= 8 ulp)
            gp = g_prime(Z_prev)
            egp = eZ_prev + 2 * TRANSCENDENTAL_ULPS * u
            dZ = dA * gp
            edZ = edA * (np.abs(gp) + egp) + np.abs(dA) * egp + u * np.abs(dZ)
    return out


def within(actual, reference, bound):
    """True when |actual - reference| <= bound everywhere (the same test as assert_within)."""
    diff = np.abs(np.asarray(actual, np.float64) - np.asarray(reference, np.float64))
    return bool(np.all(diff <= bound))


def unsure_argmax(Z, eZ):
    """Rows (N,) bool whose argmax may differ between CPUs: Z, eZ from mlp_bounds' logits.

    A row is sure when its top reference logit beats the runner-up by more than the sum of
    their two bounds: then every correct evaluation picks the same class.
    """
    order = np.argsort(Z, axis=1)
    rows = np.arange(len(Z))
    first, second = order[:, -1], order[:, -2]
    return Z[rows, first] - Z[rows, second] <= eZ[rows, first] + eZ[rows, second]


def assert_within(actual, reference, bound, what="result"):
    """Raise AssertionError unless |actual - reference| <= bound elementwise.

    actual: any float array; reference, bound: float64 arrays of the same shape (or scalars).
    The message names the worst entry and how far past its bound it lies.
    """
    actual = np.asarray(actual, np.float64)
    reference, bound = np.broadcast_arrays(np.asarray(reference, np.float64),
                                           np.asarray(bound, np.float64))
    if actual.shape != reference.shape:
        raise AssertionError(f"{what}: shape {actual.shape}, expected {reference.shape}")
    err = np.abs(actual - reference)
    bad = ~(err <= bound)  # NaN fails too
    if bad.any():
        worst = np.unravel_index(np.argmax(np.where(bad, err / np.maximum(bound, 1e-300), -1)),
                                 err.shape)
        raise AssertionError(
            f"{what}: {int(bad.sum())} of {err.size} entries outside the rounding bound; worst at "
            f"{tuple(int(i) for i in worst)}: |{actual[worst]!r} - {reference[worst]!r}| = "
            f"{err[worst]:.3g} > bound {bound[worst]:.3g}")



def trajectory_tolerance(steps, terms, dtype=np.float64):
    """Relative tolerance for two evaluations of one training run that differ only in rounding.

    E.g. `theta -= lr * g` against an optimiser that folds -lr into the gradient. Both start from
    the same parameters. Each step adds a rounding difference of at most (terms + 8) u of the
    parameters' and steps' magnitude (terms: the longest sum in a gradient, i.e. the batch
    size or a layer's width; 8: the few roundings of the update itself), and a difference
    carried from earlier steps grows by at most 1 + mu + lr * lambda_max < 4 per step for a
    run that converges (momentum mu < 1, lr * lambda_max < 2 for the largest curvature).
    After `steps` steps: (terms + 8) u * steps * 4^steps, relative to max |probs|.
    """
    return (terms + 8) * unit_roundoff(dtype) * steps * 4.0 ** steps
