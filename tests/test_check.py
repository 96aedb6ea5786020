"""mnistlib.check: every exercise check passes the reference, names each classic mistake,
rejects a subtly wrong answer, reports exceptions in one line, and falls back to mnistlib.

Each buggy variant below is written the way a learner would write it. Every check must
print exactly one line; a failing check returns mnistlib's version (the reference).
"""
import numpy as np
import pytest

from mnistlib import activations, autograd, check, gradcheck, losses, metrics, network, preprocess
from mnistlib.metrics import precision_recall as precision_recall_ref
from mnistlib.train import average_gradients as average_gradients_ref
from mnistlib.train import iterate_minibatches as iterate_minibatches_ref

REFERENCES = {
    "one_hot": preprocess.one_hot,
    "normalize": preprocess.normalize,
    "relu": activations.relu,
    "relu_grad": activations.relu_grad,
    "softmax": losses.softmax,
    "cross_entropy": losses.cross_entropy,
    "forward": network.forward,
    "backward": network.backward,
    "numerical_gradient": gradcheck.numerical_gradient,
    "update": network.update,
    "iterate_minibatches": iterate_minibatches_ref,
    "confusion_matrix": metrics.confusion_matrix,
    "precision_recall": precision_recall_ref,
    "unbroadcast": autograd.unbroadcast,
    "average_gradients": average_gradients_ref,
}
FALLBACK = "— continuing with mnistlib's version"


def run(capsys, name, fn):
    """Run check.<name>(fn); return (what it returned, the one line it printed)."""
    result = getattr(check, name)(fn)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1, lines
    return result, lines[0]


def assert_rejected(capsys, name, fn, phrase):
    """The check prints ✗ with `phrase`, ends with the fallback note and returns the reference."""
    result, line = run(capsys, name, fn)
    assert line.startswith(f"✗ {name}: "), line
    assert phrase in line, line
    assert line.endswith(FALLBACK), line
    assert result is REFERENCES[name]


def test_every_check_is_listed_and_has_a_reference():
    assert check.all_names() == list(REFERENCES)
    assert all(callable(getattr(check, name)) for name in check.all_names())


# ----------------------------------------------------------------- (a) and (b) for every check

@pytest.mark.parametrize("name", list(REFERENCES))
def test_the_reference_passes_and_is_returned(capsys, name):
    def mine(*args):  # a learner's function that delegates to mnistlib
        return REFERENCES[name](*args)

    result, line = run(capsys, name, mine)
    assert line.startswith(f"✓ {name}: "), line
    assert result is mine


@pytest.mark.parametrize("name", list(REFERENCES))
def test_a_stub_is_not_yet_written(capsys, name):
    def stub(*args):
        raise NotImplementedError("write this")

    result, line = run(capsys, name, stub)
    assert line == f"… {name}: not yet written {FALLBACK}"
    assert result is REFERENCES[name]


@pytest.mark.parametrize("name", list(REFERENCES))
def test_not_a_function(capsys, name):
    assert_rejected(capsys, name, None, "expected your function, got None")


# ----------------------------------------------------------------- (d) a wrong array of the right shape

def _nudge(x):
    """x with one entry moved by 1e-4 (arrays, dicts, pairs, numbers)."""
    if isinstance(x, dict):
        return {k: _nudge(v) if i == len(x) - 1 else v for i, (k, v) in enumerate(x.items())}
    if isinstance(x, tuple):
        return (x[0], _nudge(x[1]))
    if np.ndim(x) == 0:
        return float(x) + 1e-4
    x = np.array(x, dtype=np.result_type(x, np.float32))
    x.flat[-1] += 1e-4
    return x


@pytest.mark.parametrize("name", [n for n in REFERENCES if n != "iterate_minibatches"])
def test_a_nearly_right_answer_is_rejected(capsys, name):
    def nearly(*args):
        return _nudge(REFERENCES[name](*args))

    assert_rejected(capsys, name, nearly, "")


@pytest.mark.parametrize("name", ["one_hot", "normalize", "relu", "relu_grad", "softmax",
                                  "confusion_matrix"])
def test_rows_in_the_wrong_order_are_rejected(capsys, name):
    def rolled(*args):
        return np.roll(REFERENCES[name](*args), 1, axis=0)

    assert_rejected(capsys, name, rolled, "differs from mnistlib's")


def test_backward_with_one_gradient_rows_permuted_is_rejected(capsys):
    def rolled(params, cache, Y):
        grads = network.backward(params, cache, Y)
        grads["dW1"] = np.roll(grads["dW1"], 1, axis=0)
        return grads

    assert_rejected(capsys, "backward", rolled, "dW1 differs from mnistlib's")


def test_minibatches_with_altered_rows_are_rejected(capsys):
    def noisy(X, Y, batch_size, rng):
        for Xb, Yb in iterate_minibatches_ref(X, Y, batch_size, rng):
            yield Xb + 1e-4, Yb

    assert_rejected(capsys, "iterate_minibatches", noisy, "Xb's rows are not rows of X")


# ----------------------------------------------------------------- (e) exceptions, in one line

def softmax_without_keepdims(Z):
    E = np.exp(Z - Z.max(axis=1))
    return E / E.sum(axis=1, keepdims=True)


def test_an_exception_names_the_line_and_the_error(capsys):
    assert_rejected(capsys, "softmax", softmax_without_keepdims,
                    "line 2 of your function (`E = np.exp(Z - Z.max(axis=1))`) raised ValueError: "
                    "operands could not be broadcast together with shapes (7,4) (7,)")


def _helper_that_fails(Z):
    raise ZeroDivisionError("boom")


def relu_calling_a_broken_helper(Z):
    Z = np.asarray(Z)
    return _helper_that_fails(Z)


def test_an_exception_in_a_helper_names_the_line_of_the_learners_function(capsys):
    assert_rejected(capsys, "relu", relu_calling_a_broken_helper,
                    "line 3 of your function (`return _helper_that_fails(Z)`) raised "
                    "ZeroDivisionError: boom")


def test_a_wrong_signature_is_reported(capsys):
    def relu(Z, alpha):
        return np.maximum(Z, 0)

    assert_rejected(capsys, "relu", relu, "calling your function raised TypeError")


def normalize_in_place(X):
    X /= 255
    return X


def test_in_place_division_of_uint8_pixels_is_reported(capsys):
    assert_rejected(capsys, "normalize", normalize_in_place, "line 2 of your function (`X /= 255`) raised")


def minibatches_that_crash(X, Y, batch_size, rng):
    order = rng.permutation(len(X))
    for start in range(0, len(X), batch_size):
        yield X[order[start:start + batch_size]], Y[order[start + batch_size]]


def test_an_exception_inside_a_generator_names_the_line(capsys):
    assert_rejected(capsys, "iterate_minibatches", minibatches_that_crash,
                    "line 4 of your function")


def update_with_wrong_keys(params, grads, lr):
    return {name: P - lr * grads[name] for name, P in params.items()}


def test_a_key_error_is_reported(capsys):
    assert_rejected(capsys, "update", update_with_wrong_keys, "raised KeyError: 'W1'")


def backward_gate_from_Z2(params, cache, Y):
    m = cache["X"].shape[0]
    dZ2 = (cache["A2"] - Y) / m
    dZ1 = (dZ2 @ params["W2"].T) * activations.relu_grad(cache["Z2"])
    return {"dW1": cache["X"].T @ dZ1, "db1": dZ1.sum(axis=0),
            "dW2": cache["A1"].T @ dZ2, "db2": dZ2.sum(axis=0)}


def test_a_gate_from_the_wrong_layer_fails_with_the_shapes(capsys):
    assert_rejected(capsys, "backward", backward_gate_from_Z2,
                    "line 4 of your function (`dZ1 = (dZ2 @ params[\"W2\"].T) * "
                    "activations.relu_grad(cache[\"Z2\"])`) raised ValueError")


# ----------------------------------------------------------------- (c) each classic mistake, by name
# 01 --------------------------------------------------------------------------------------------

def one_hot_sized_by_max(y, num_classes=10):
    Y = np.zeros((len(y), y.max() + 1))
    Y[np.arange(len(y)), y] = 1
    return Y


def one_hot_transposed(y, num_classes=10):
    Y = np.zeros((num_classes, len(y)))
    Y[y, np.arange(len(y))] = 1
    return Y


def one_hot_whole_columns(y, num_classes=10):
    Y = np.zeros((len(y), num_classes))
    Y[:, y] = 1
    return Y


def one_hot_integers(y, num_classes=10):
    Y = np.zeros((len(y), num_classes), dtype=int)
    Y[np.arange(len(y)), y] = 1
    return Y


def one_hot_ignores_num_classes(y, num_classes=10):
    return np.eye(10)[y]


def one_hot_no_return(y, num_classes=10):
    Y = np.zeros((len(y), num_classes))
    Y[np.arange(len(y)), y] = 1


def normalize_unscaled(X):
    return X.astype(np.float32)


def normalize_by_batch_max(X):
    return X.astype(np.float32) / X.max()


def normalize_integer_division(X):
    return X // 255


def normalize_by_256(X):
    return X.astype(np.float32) / 256


def normalize_float64(X):
    return X / 255


def normalize_standardised(X):
    X = X.astype(np.float32)
    return (X - X.mean()) / X.std()


# 02 --------------------------------------------------------------------------------------------

def relu_np_max(Z):
    return np.max(Z, 0)


def relu_mask(Z):
    return (Z > 0).astype(Z.dtype)


def relu_minimum(Z):
    return np.minimum(Z, 0)


def relu_identity(Z):
    return Z


def relu_abs(Z):
    return np.abs(Z)


def relu_in_place(Z):
    Z[Z < 0] = 0
    return Z


def relu_no_return(Z):
    np.maximum(Z, 0)


def relu_grad_at_zero_is_one(Z):
    return (Z >= 0).astype(Z.dtype)


def relu_grad_returns_relu(Z):
    return np.maximum(Z, 0)


def relu_grad_returns_Z(Z):
    return Z


def relu_grad_sign(Z):
    return np.sign(Z)


def relu_grad_booleans(Z):
    return Z > 0


def softmax_no_shift(Z):
    E = np.exp(Z)
    return E / E.sum(axis=1, keepdims=True)


def softmax_global_max(Z):
    E = np.exp(Z - Z.max())
    return E / E.sum(axis=1, keepdims=True)


def softmax_min_shift(Z):
    E = np.exp(Z - Z.min(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def softmax_columns(Z):
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    return E / E.sum(axis=0, keepdims=True)


def softmax_whole_sum(Z):
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum()


def softmax_not_normalised(Z):
    return np.exp(Z - Z.max(axis=1, keepdims=True))


def softmax_transposed(Z):
    E = np.exp(Z.T - Z.T.max(axis=0))
    return E / E.sum(axis=0)


def softmax_in_place(Z):
    Z -= Z.max(axis=1, keepdims=True)
    E = np.exp(Z)
    return E / E.sum(axis=1, keepdims=True)


def cross_entropy_sum(Z, Y):
    return -(Y * losses.log_softmax(Z)).sum()


def cross_entropy_mean_of_all(Z, Y):
    return -np.mean(Y * losses.log_softmax(Z))


def cross_entropy_no_minus(Z, Y):
    return (Y * losses.log_softmax(Z)).sum() / len(Z)


def cross_entropy_per_row(Z, Y):
    return -(Y * losses.log_softmax(Z)).sum(axis=1)


def cross_entropy_naive_softmax(Z, Y):
    P = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)
    return -(Y * np.log(P)).sum() / len(Z)


def cross_entropy_softmax_then_log(Z, Y):
    P = losses.softmax(Z)
    return -np.log(P[Y == 1]).mean()


def cross_entropy_clipped(Z, Y):
    P = losses.softmax(Z)
    return -(Y * np.log(P + 1e-12)).sum() / len(Z)


def forward_tuple(params, X):
    cache = network.forward(params, X)
    return cache["Z1"], cache["A1"], cache["Z2"], cache["A2"]


def forward_without_X(params, X):
    cache = network.forward(params, X)
    del cache["X"]
    return cache


def _forward(params, X, g=activations.relu, use_Z1=False, b1=True, b2=True, out=losses.softmax):
    Z1 = X @ params["W1"] + (params["b1"] if b1 else 0)
    A1 = g(Z1)
    Z2 = (Z1 if use_Z1 else A1) @ params["W2"] + (params["b2"] if b2 else 0)
    return {"X": X, "Z1": Z1, "A1": A1, "Z2": Z2, "A2": out(Z2)}


def forward_no_relu(params, X):
    return _forward(params, X, g=lambda Z: Z)


def forward_Z2_from_Z1(params, X):
    return _forward(params, X, use_Z1=True)


def forward_no_b1(params, X):
    return _forward(params, X, b1=False)


def forward_no_b2(params, X):
    return _forward(params, X, b2=False)


def forward_no_softmax(params, X):
    return _forward(params, X, out=lambda Z: Z)


def forward_softmax_columns(params, X):
    return _forward(params, X, out=lambda Z: np.exp(Z) / np.exp(Z).sum(axis=0))


# 03 --------------------------------------------------------------------------------------------

def _backward(params, cache, Y, m=None, sign=1, gate="Z1", dW2_from="A1", db_axis=0,
              keepdims=False, db2_unscaled=False, transpose=(), dW1_from="X"):
    """network.backward written out, with switches for each classic mistake."""
    X, A1, A2 = cache["X"], cache["A1"], cache["A2"]
    m = X.shape[0] if m is None else m
    dZ2 = sign * (A2 - Y) / m
    dW2 = cache[dW2_from].T @ dZ2
    db2 = (A2 - Y).sum(axis=0) if db2_unscaled else dZ2.sum(axis=db_axis, keepdims=keepdims)
    dA1 = dZ2 @ params["W2"].T
    gates = {"Z1": activations.relu_grad(cache["Z1"]), "A1'": activations.relu_grad(A1),
             "none": 1.0, "dA1": activations.relu_grad(dA1), "A1": A1}
    dZ1 = dA1 * gates[gate]
    dW1 = cache[dW1_from].T @ dZ1
    db1 = dZ1.sum(axis=db_axis, keepdims=keepdims)
    grads = {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}
    for key in transpose:
        grads[key] = grads[key].T
    return grads


def backward_variant(**mistake):
    def backward(params, cache, Y):
        return _backward(params, cache, Y, **mistake)
    return backward


def backward_db_total(params, cache, Y):
    grads = network.backward(params, cache, Y)
    return dict(grads, db1=grads["db1"].sum())  # what dZ1.sum() gives


def backward_db2_total(params, cache, Y):
    grads = network.backward(params, cache, Y)
    dZ2 = (cache["A2"] - Y) / len(Y)
    return dict(grads, db2=dZ2.sum())


def backward_modifies_cache(params, cache, Y):
    dZ2 = cache["A2"]  # not a copy: the next line changes the cache's A2
    dZ2 -= Y
    dZ2 /= len(Y)
    dZ1 = (dZ2 @ params["W2"].T) * activations.relu_grad(cache["Z1"])
    return {"dW1": cache["X"].T @ dZ1, "db1": dZ1.sum(axis=0),
            "dW2": cache["A1"].T @ dZ2, "db2": dZ2.sum(axis=0)}


def backward_tuple(params, cache, Y):
    g = network.backward(params, cache, Y)
    return g["dW1"], g["db1"], g["dW2"], g["db2"]


def backward_named_like_params(params, cache, Y):
    return {k[1:]: v for k, v in network.backward(params, cache, Y).items()}


def numgrad_one_sided(f, P, eps):
    grad = np.zeros(P.shape)
    f0 = f()
    for ix in np.ndindex(P.shape):
        old = P[ix]
        P[ix] = old + eps
        grad[ix] = (f() - f0) / eps
        P[ix] = old
    return grad


def numgrad_divides_by_eps(f, P, eps):
    grad = np.zeros(P.shape)
    for ix in np.ndindex(P.shape):
        old = P[ix]
        P[ix] = old + eps
        f_plus = f()
        P[ix] = old - eps
        f_minus = f()
        P[ix] = old
        grad[ix] = (f_plus - f_minus) / eps
    return grad


def numgrad_no_restore(f, P, eps):
    grad = np.zeros(P.shape)
    for ix in np.ndindex(P.shape):
        old = P[ix]
        P[ix] = old + eps
        f_plus = f()
        P[ix] = old - eps
        f_minus = f()
        grad[ix] = (f_plus - f_minus) / (2 * eps)
    return grad


def numgrad_on_a_copy(f, P, eps):
    grad = np.zeros(P.shape)
    for ix in np.ndindex(P.shape):
        Q = P.copy()
        Q[ix] += eps
        f_plus = f()
        Q[ix] -= 2 * eps
        f_minus = f()
        grad[ix] = (f_plus - f_minus) / (2 * eps)
    return grad


def numgrad_all_at_once(f, P, eps):
    P += eps
    f_plus = f()
    P -= 2 * eps
    f_minus = f()
    P += eps
    return np.full(P.shape, (f_plus - f_minus) / (2 * eps))


def numgrad_minus_side_at_P(f, P, eps):
    grad = np.zeros(P.shape)
    for ix in np.ndindex(P.shape):
        old = P[ix]
        P[ix] = old + eps
        f_plus = f()
        P[ix] = old
        f_minus = f()
        grad[ix] = (f_plus - f_minus) / (2 * eps)
    return grad


def numgrad_fixed_eps(f, P, eps):
    return gradcheck.numerical_gradient(f, P, 1e-6)


def numgrad_first_row_only(f, P, eps):
    return gradcheck.numerical_gradient(f, P, eps, indices=[(0, j) for j in range(P.shape[1])])


# 04 --------------------------------------------------------------------------------------------

def update_uphill(params, grads, lr):
    return {name: P + lr * grads["d" + name] for name, P in params.items()}


def update_without_lr(params, grads, lr):
    return {name: P - grads["d" + name] for name, P in params.items()}


def update_step_only(params, grads, lr):
    return {name: -lr * grads["d" + name] for name, P in params.items()}


def update_weights_only(params, grads, lr):
    return {name: P - lr * grads["d" + name] if name.startswith("W") else P
            for name, P in params.items()}


def update_gradient_names(params, grads, lr):
    return {"d" + name: P - lr * grads["d" + name] for name, P in params.items()}


def update_in_place(params, grads, lr):
    for name in params:
        params[name] -= lr * grads["d" + name]
    return params


def minibatches_drop_last(X, Y, batch_size, rng):
    order = rng.permutation(len(X))
    for b in range(len(X) // batch_size):
        rows = order[b * batch_size:(b + 1) * batch_size]
        yield X[rows], Y[rows]


def minibatches_with_replacement(X, Y, batch_size, rng):
    order = rng.integers(0, len(X), len(X))
    for start in range(0, len(X), batch_size):
        rows = order[start:start + batch_size]
        yield X[rows], Y[rows]


def minibatches_in_order(X, Y, batch_size, rng):
    for start in range(0, len(X), batch_size):
        yield X[start:start + batch_size], Y[start:start + batch_size]


def minibatches_global_random(X, Y, batch_size, rng):
    order = np.random.permutation(len(X))
    for start in range(0, len(X), batch_size):
        rows = order[start:start + batch_size]
        yield X[rows], Y[rows]


def minibatches_own_seed(X, Y, batch_size, rng):
    order = np.random.default_rng(0).permutation(len(X))
    for start in range(0, len(X), batch_size):
        rows = order[start:start + batch_size]
        yield X[rows], Y[rows]


def minibatches_separate_shuffles(X, Y, batch_size, rng):
    X, Y = X[rng.permutation(len(X))], Y[rng.permutation(len(Y))]
    for start in range(0, len(X), batch_size):
        yield X[start:start + batch_size], Y[start:start + batch_size]


def minibatches_shuffle_in_place(X, Y, batch_size, rng):
    order = rng.permutation(len(X))
    X[:], Y[:] = X[order], Y[order]
    for start in range(0, len(X), batch_size):
        yield X[start:start + batch_size], Y[start:start + batch_size]


def minibatches_off_by_one(X, Y, batch_size, rng):
    order = rng.permutation(len(X))
    for start in range(0, len(X), batch_size):
        rows = order[start:start + batch_size + 1]
        yield X[rows], Y[rows]


def minibatches_return_none(X, Y, batch_size, rng):
    order = rng.permutation(len(X))
    batches = [(X[order[i:i + batch_size]], Y[order[i:i + batch_size]])  # noqa: F841 (no return)
               for i in range(0, len(X), batch_size)]


def minibatches_single_pair(X, Y, batch_size, rng):
    rows = rng.permutation(len(X))[:batch_size]
    return X[rows], Y[rows]


def minibatches_transposed(X, Y, batch_size, rng):
    for Xb, Yb in iterate_minibatches_ref(X, Y, batch_size, rng):
        yield Xb.T, Yb


def minibatches_as_a_list(X, Y, batch_size, rng):  # a list of pairs is fine too
    return list(iterate_minibatches_ref(X, Y, batch_size, rng))


# 05 --------------------------------------------------------------------------------------------

def confusion_transposed(y_true, y_pred, num_classes=10):
    cm = np.zeros((num_classes, num_classes), dtype=int)
    np.add.at(cm, (y_pred, y_true), 1)
    return cm


def confusion_fancy_increment(y_true, y_pred, num_classes=10):
    cm = np.zeros((num_classes, num_classes), dtype=int)
    cm[y_true, y_pred] += 1
    return cm


def confusion_sized_by_labels(y_true, y_pred, num_classes=10):
    k = max(y_true.max(), y_pred.max()) + 1
    cm = np.zeros((k, k), dtype=int)
    np.add.at(cm, (y_true, y_pred), 1)
    return cm


def confusion_ignores_num_classes(y_true, y_pred, num_classes=10):
    cm = np.zeros((10, 10), dtype=int)
    np.add.at(cm, (y_true, y_pred), 1)
    return cm


def confusion_float_loop(y_true, y_pred, num_classes=10):  # float counts are fine
    cm = np.zeros((num_classes, num_classes))
    for t, p in zip(y_true, y_pred, strict=True):
        cm[t, p] += 1
    return cm


def precision_recall_swapped(cm):
    tp = np.diag(cm)
    return tp / cm.sum(axis=1), tp / cm.sum(axis=0)


def precision_recall_both_rows(cm):
    tp = np.diag(cm)
    return tp / cm.sum(axis=1), tp / cm.sum(axis=1)


def precision_recall_both_columns(cm):
    tp = np.diag(cm)
    return tp / cm.sum(axis=0), tp / cm.sum(axis=0)


def precision_recall_total(cm):
    tp = np.diag(cm)
    return tp / cm.sum(), tp / cm.sum(axis=1)


def precision_recall_integer_division(cm):
    tp = np.diag(cm)
    return tp // cm.sum(axis=0), tp // cm.sum(axis=1)


def precision_recall_dict(cm):
    p, r = precision_recall_ref(cm)
    return {"precision": p, "recall": r}


MISTAKES = [
    ("one_hot", one_hot_sized_by_max, "has 8 columns: sized by y.max() + 1?"),
    ("one_hot", one_hot_transposed, "is transposed: one row per example, shape (7, 10), not (10, 7)"),
    ("one_hot", one_hot_whole_columns, "each row must hold exactly one 1"),
    ("one_hot", one_hot_integers, "make it float"),
    ("one_hot", one_hot_ignores_num_classes, "ignores num_classes: asked for 12 columns, it gave 10"),
    ("one_hot", one_hot_no_return, "returned None: did you forget `return`?"),
    ("normalize", normalize_unscaled, "values are still 0..255: divide by 255"),
    ("normalize", normalize_by_batch_max, "divided by this batch's X.max() (200)"),
    ("normalize", normalize_integer_division, "integer division (//)"),
    ("normalize", normalize_by_256, "divided by 256"),
    ("normalize", normalize_float64, "returned float64: mnistlib's normalize returns float32"),
    ("normalize", normalize_standardised, "standardised (mean 0, std 1)"),
    ("relu", relu_np_max, "use np.maximum(Z, 0), elementwise"),
    ("relu", relu_mask, "returned the 0/1 mask (Z > 0), which is relu_grad"),
    ("relu", relu_minimum, "kept the negative part"),
    ("relu", relu_identity, "returned Z unchanged"),
    ("relu", relu_abs, "returned |Z|"),
    ("relu", relu_in_place, "set the negatives of Z to 0 in place"),
    ("relu", relu_no_return, "did you forget `return`?"),
    ("relu_grad", relu_grad_at_zero_is_one, "gives 1 at Z = 0 (Z >= 0?)"),
    ("relu_grad", relu_grad_returns_relu, "returned relu(Z) itself"),
    ("relu_grad", relu_grad_returns_Z, "returned Z; the derivative is 1 where Z > 0"),
    ("relu_grad", relu_grad_sign, "np.sign gives -1 for negative Z"),
    ("relu_grad", relu_grad_booleans, "returned booleans"),
    ("softmax", softmax_no_shift, "overflow at logits near +1000"),
    ("softmax", softmax_global_max, "you subtracted the max of the whole array"),
    ("softmax", softmax_min_shift, "NaN or inf for logits far apart"),
    ("softmax", softmax_columns, "normalised each column (axis=0)"),
    ("softmax", softmax_whole_sum, "normalised by the sum of the whole array"),
    ("softmax", softmax_not_normalised, "without dividing by the row sums"),
    ("softmax", softmax_transposed, "is transposed: one row per example, shape (7, 4), not (4, 7)"),
    ("softmax", softmax_in_place, "changed its input Z in place"),
    ("cross_entropy", cross_entropy_sum, "summed over the rows: take the mean, divide by N = 7"),
    ("cross_entropy", cross_entropy_mean_of_all, "averaged over all N * K = 28 entries"),
    ("cross_entropy", cross_entropy_no_minus, "has the wrong sign"),
    ("cross_entropy", cross_entropy_per_row, "returned one loss per row (shape (7,))"),
    ("cross_entropy", cross_entropy_naive_softmax, "overflow at logits near +1000"),
    ("cross_entropy", cross_entropy_softmax_then_log, "log(softmax(Z)) takes log(0)"),
    ("cross_entropy", cross_entropy_clipped, "log(p + tiny) or clipping p caps"),
    ("forward", forward_tuple, "returned a tuple: return the cache dict"),
    ("forward", forward_without_X, "the cache has no 'X'"),
    ("forward", forward_no_relu, "A1 equals Z1: apply the activation"),
    ("forward", forward_Z2_from_Z1, "Z2 was computed from Z1"),
    ("forward", forward_no_b1, "Z1 lacks the bias"),
    ("forward", forward_no_b2, "Z2 lacks the bias"),
    ("forward", forward_no_softmax, "A2 holds the logits"),
    ("forward", forward_softmax_columns, "A2 is normalised over each column"),
    ("backward", backward_db_total, "db1 is a single number, the sum over all of dZ1"),
    ("backward", backward_db2_total, "db2 is a single number"),
    ("backward", backward_variant(db_axis=1), "db1 has shape (7,): that sums over axis=1"),
    ("backward", backward_variant(keepdims=True), "drop keepdims=True"),
    ("backward", backward_variant(m=1), "every gradient is 7 times too large: divide by the batch size N = 7"),
    ("backward", backward_variant(m=5), "divided by 5 = X.shape[1], the number of inputs"),
    ("backward", backward_variant(m=4), "divided by 4 = Y.shape[1], the number of classes"),
    ("backward", backward_variant(m=60000), "as if divided by 6e+04"),
    ("backward", backward_variant(m=49), "divided by the batch size N = 7 twice"),
    ("backward", backward_variant(sign=-1), "every gradient has the wrong sign"),
    ("backward", backward_variant(db2_unscaled=True), "db2 is 7 times too large"),
    ("backward", backward_variant(gate="none"), "lack the ReLU gate"),
    ("backward", backward_variant(gate="dA1"), "the ReLU gate is applied to the wrong array"),
    ("backward", backward_variant(gate="A1"), "it must be the derivative, relu_grad(Z1)"),
    ("backward", backward_variant(dW2_from="Z1"), "dW2 uses Z1"),
    ("backward", backward_variant(transpose=("dW1",)), "dW1 is transposed: shape (3, 5), expected (5, 3)"),
    ("backward", backward_variant(transpose=("dW2",)), "dW2 is transposed: shape (4, 3), expected (3, 4)"),
    ("backward", backward_variant(dW1_from="A1"), "the first layer's input is X"),
    ("backward", backward_modifies_cache, "changed cache['A2'] in place"),
    ("backward", backward_tuple, "returned a tuple: return a dict"),
    ("backward", backward_named_like_params, "must be named 'dW1', 'db1', 'dW2', 'db2'"),
    ("numerical_gradient", numgrad_one_sided, "one-sided"),
    ("numerical_gradient", numgrad_divides_by_eps, "divides by 2 * eps"),
    ("numerical_gradient", numgrad_no_restore, "left theta perturbed"),
    ("numerical_gradient", numgrad_on_a_copy, "all zeros: f() reads theta itself"),
    ("numerical_gradient", numgrad_all_at_once, "perturbed every entry of theta at once"),
    ("numerical_gradient", numgrad_minus_side_at_P, "f(theta - eps) was evaluated at theta itself"),
    ("numerical_gradient", numgrad_fixed_eps, "ignores its eps argument"),
    ("numerical_gradient", numgrad_first_row_only, "NaN, never filled"),
    ("update", update_uphill, "moved uphill"),
    ("update", update_without_lr, "ignores lr"),
    ("update", update_step_only, "returned -lr * dtheta, the step alone"),
    ("update", update_weights_only, "b1 was not updated"),
    ("update", update_gradient_names, "returned keys like 'dW1'"),
    ("update", update_in_place, "changed params in place (theta -= lr * dtheta)"),
    ("iterate_minibatches", minibatches_drop_last, "dropped the last, smaller batch (3 rows)"),
    ("iterate_minibatches", minibatches_with_replacement, "some rows come twice and others never"),
    ("iterate_minibatches", minibatches_in_order, "rows come in their original order"),
    ("iterate_minibatches", minibatches_global_random, "ignores rng: the same seed gave different orders"),
    ("iterate_minibatches", minibatches_own_seed, "ignores rng: two different seeds gave the same order"),
    ("iterate_minibatches", minibatches_separate_shuffles, "Yb's rows do not belong with Xb's"),
    ("iterate_minibatches", minibatches_shuffle_in_place, "shuffled X or Y in place"),
    ("iterate_minibatches", minibatches_off_by_one, "some rows come twice"),
    ("iterate_minibatches", minibatches_return_none, "returned None"),
    ("iterate_minibatches", minibatches_single_pair, "returned a single (Xb, Yb) pair"),
    ("iterate_minibatches", minibatches_transposed, "rows are examples"),
    ("confusion_matrix", confusion_transposed, "rows and columns are swapped"),
    ("confusion_matrix", confusion_fancy_increment, "repeated (true, predicted) pairs were counted once"),
    ("confusion_matrix", confusion_sized_by_labels, "is (8, 8): sized by the largest label + 1?"),
    ("confusion_matrix", confusion_ignores_num_classes, "ignores num_classes: asked for (12, 12)"),
    ("precision_recall", precision_recall_swapped, "precision and recall are swapped"),
    ("precision_recall", precision_recall_both_rows, "precision equals recall"),
    ("precision_recall", precision_recall_both_columns, "recall equals precision"),
    ("precision_recall", precision_recall_total, "divided by the total count cm.sum()"),
    ("precision_recall", precision_recall_integer_division, "integer division (//)"),
    ("precision_recall", precision_recall_dict, "returned a dict; expected a pair (precision, recall)"),
]


def _id(mistake):
    name, fn, _ = mistake
    return f"{name}-{getattr(fn, '__name__', 'fn')}-{MISTAKES.index(mistake)}"


@pytest.mark.parametrize("name, fn, phrase", MISTAKES, ids=[_id(m) for m in MISTAKES])
def test_each_classic_mistake_is_named(capsys, name, fn, phrase):
    assert_rejected(capsys, name, fn, phrase)


def one_hot_eye(y, num_classes=10):  # float64 rather than mnistlib's float32
    return np.eye(num_classes)[y]


def normalize_float32(X):
    return X / np.float32(255)


def cross_entropy_0d_array(Z, Y):
    shifted = Z - Z.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -np.sum(Y * log_p) / Z.shape[0] * np.ones(())


def precision_recall_list(cm):
    tp = np.diag(cm)
    return [tp / cm.sum(axis=0), tp / cm.sum(axis=1)]


@pytest.mark.parametrize("name, fn", [
    ("one_hot", one_hot_eye),
    ("normalize", normalize_float32),
    ("cross_entropy", cross_entropy_0d_array),
    ("backward", backward_variant(gate="A1'")),      # relu'(A1) == relu'(Z1): right for ReLU
    ("confusion_matrix", confusion_float_loop),      # counts as floats
    ("iterate_minibatches", minibatches_as_a_list),  # a list of pairs instead of a generator
    ("precision_recall", precision_recall_list),
], ids=["one-hot-eye", "normalize-float32", "cross-entropy-0d", "backward-gate-on-A1",
        "confusion-float-counts", "minibatches-list", "precision-recall-list"])
def test_equivalent_answers_pass(capsys, name, fn):
    result, line = run(capsys, name, fn)
    assert line.startswith(f"✓ {name}: "), line
    assert result is fn


def test_the_fallback_is_usable(capsys):
    relu = check.relu(relu_identity)
    capsys.readouterr()
    assert np.array_equal(relu(np.array([-1.0, 2.0])), [0.0, 2.0])


def test_a_seed_makes_the_inputs_repeatable(capsys, monkeypatch):
    seen = []

    def spy(Z):
        seen.append(Z.copy())
        return activations.relu(Z)

    monkeypatch.setattr(check, "SEED", 3)
    check.relu(spy)
    check.relu(spy)
    capsys.readouterr()
    assert np.array_equal(seen[0], seen[1])


# ----------------------------------------------------------------- 10: unbroadcast

def _broadcast_axes(g, shape):
    lead = g.ndim - len(shape)
    return tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1)


@pytest.mark.parametrize("wrong, phrase", [
    (lambda g, s: g.sum(), "summed over every axis"),
    (lambda g, s: g, "returned the gradient at the output's shape"),
    (lambda g, s: g.mean(axis=_broadcast_axes(g, s), keepdims=True).reshape(s), "averaged (mean) instead of summing"),
    (lambda g, s: g.sum(axis=_broadcast_axes(g, s)), "right numbers, but the gradient must have exactly"),
])
def test_unbroadcast_names_the_mistake(capsys, wrong, phrase):
    assert_rejected(capsys, "unbroadcast", wrong, phrase)


@pytest.mark.parametrize("wrong, phrase", [
    (lambda shards: {k: sum(s[k] for s in shards) for k in shards[0]}, "summed the 3 processes' gradients"),
    (lambda shards: dict(shards[0]), "returned the first process's gradients"),
    (lambda shards: {k: float(np.mean([s[k] for s in shards])) for k in shards[0]}, "averaged each array to one"),
])
def test_average_gradients_names_the_mistake(capsys, wrong, phrase):
    assert_rejected(capsys, "average_gradients", wrong, phrase)
