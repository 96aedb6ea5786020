"""The two-layer network, the general MLP, and their gradients."""
import numpy as np
import pytest

from mnistlib import MLP, ShapeError, network
from mnistlib.activations import ACTIVATIONS
from mnistlib.gradcheck import gradient_check, relative_error
from mnistlib.losses import cross_entropy
from mnistlib.rounding import U32, assert_within, mlp_bounds, unsure_argmax


def small_batch(rng, N=7, D=784, C=10):
    X = rng.random((N, D))
    y = rng.integers(0, C, N)
    return X, y, np.eye(C)[y]


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_two_layer_gradients_match_centred_differences(activation):
    rng = np.random.default_rng(1)
    X, y, Y = small_batch(rng)
    params = network.init_params(num_hidden=6, rng=rng, init="he", dtype=np.float64)
    grads = network.backward(params, network.forward(params, X, activation), Y, activation)
    errors = gradient_check(lambda: network.loss(params, X, Y, activation), params, grads,
                            max_entries=60, rng=rng)
    assert set(errors) == {"W1", "b1", "W2", "b2"}
    for name, err in errors.items():
        assert err < 1e-7, (name, err)


@pytest.mark.parametrize("sizes", [[784, 10], [784, 12, 10], [784, 9, 7, 10], [20, 5, 4, 3, 10]])
def test_mlp_gradients_any_depth(sizes):
    rng = np.random.default_rng(2)
    X, y, Y = small_batch(rng, D=sizes[0])
    activations = ["tanh", "elu", "relu"][: len(sizes) - 2]
    model = MLP(sizes, activation=activations, init="xavier", rng=rng, dtype=np.float64)
    loss, grads, Z = model.loss_and_grads(X, Y)
    assert Z.shape == (len(X), 10)
    assert loss == pytest.approx(cross_entropy(Z, Y))
    errors = gradient_check(lambda: cross_entropy(model.forward(X)[0], Y), model.params, grads,
                            max_entries=40, rng=rng)
    assert len(errors) == 2 * (len(sizes) - 1)
    assert max(errors.values()) < 1e-7, errors


def test_gradient_check_catches_a_wrong_gradient():
    rng = np.random.default_rng(3)
    X, y, Y = small_batch(rng)
    params = network.init_params(5, rng, "he", dtype=np.float64)
    grads = network.backward(params, network.forward(params, X), Y)
    grads["db2"] = np.full_like(grads["db2"], grads["db2"].sum())  # the "sum over all axes" bug
    errors = gradient_check(lambda: network.loss(params, X, Y), params, grads)
    assert errors["b2"] > 0.1 and errors["W2"] < 1e-7


@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_mlp_agrees_with_the_explicit_two_layer_network(activation):
    """Both float32 implementations lie within the rounding bound of one float64 reference."""
    rng = np.random.default_rng(4)
    X, y, Y = small_batch(rng, N=32)
    model = MLP([784, 10, 10], activation=activation, init="uniform", rng=np.random.default_rng(5))
    params = network.init_params(10, np.random.default_rng(5), "uniform")
    for k in params:
        np.testing.assert_array_equal(params[k], model.params[k])  # the same generator draws
    X, Y = X.astype(np.float32), Y.astype(np.float32)
    cache = network.forward(params, X, activation)
    grads = network.backward(params, cache, Y, activation)
    loss, mlp_grads, Z = model.loss_and_grads(X, Y)
    bounds = mlp_bounds(model, X, Y)
    for name, value in [("Z2", Z), ("Z2", cache["Z2"]), ("A2", model.predict_proba(X)), ("A2", cache["A2"])]:
        assert_within(value, *bounds[name], name)
    for name in ("Z1", "A1", "Z2", "A2"):  # the params-dict form gives the same bounds
        assert_within(cache[name], *mlp_bounds(params, X, activation=activation)[name], name)
    for k in grads:
        assert_within(mlp_grads[k], *bounds[k], f"MLP {k}")
        assert_within(grads[k], *bounds[k], f"network {k}")
    new = network.update(params, grads, 0.1)
    # one subtraction after one multiplication: within 2 u of each term's magnitude
    step = 0.1 * grads["dW1"].astype(np.float64)
    assert_within(new["W1"], params["W1"] - step,
                  2 * U32 * (np.abs(params["W1"]) + np.abs(step)), "update")


def test_init_schemes_have_the_documented_spread():
    rng = np.random.default_rng(6)
    W, b = network.init_layer(784, 400, "he", rng)
    assert W.dtype == np.float32 and W.shape == (784, 400) and b.shape == (400,)
    assert W.std() == pytest.approx(np.sqrt(2 / 784), rel=0.02) and not b.any()
    W, b = network.init_layer(784, 10, "uniform", rng)
    assert -0.5 <= W.min() and W.max() < 0.5 and b.std() > 0
    W, _ = network.init_layer(300, 100, "xavier", rng)
    assert np.abs(W).max() <= np.sqrt(6 / 400)
    with pytest.raises(ValueError, match="unknown init 'gauss'"):
        network.init_layer(3, 3, "gauss", rng)


def test_wrongly_shaped_input_names_both_shapes():
    model = MLP([784, 16, 10])
    with pytest.raises(ShapeError, match=r"expected X of shape \(N, 784\), got \(784, 5\).*X\.T"):
        model.forward(np.zeros((784, 5), np.float32))
    with pytest.raises(ShapeError, match=r"\(N, 784\), got \(5, 28, 28\)"):
        model.predict(np.zeros((5, 28, 28)))
    params = network.init_params(4)
    with pytest.raises(ShapeError, match=r"\(N, 784\), got \(3, 100\)"):
        network.forward(params, np.zeros((3, 100)))
    cache = network.forward(params, np.zeros((3, 784), np.float32))
    with pytest.raises(ShapeError, match=r"Y have shape \(3,\).*\(3, 10\)"):
        network.backward(params, cache, np.zeros(3))
    with pytest.raises(ShapeError, match=r"Y have shape \(5, 9\).*\(5, 10\)"):
        model.loss_and_grads(np.zeros((5, 784), np.float32), np.zeros((5, 9), np.float32))


def test_bad_architecture_is_refused():
    with pytest.raises(ValueError, match="2 hidden layers need 2 activations"):
        MLP([784, 5, 5, 10], activation=["relu"])
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        MLP([784, 5, 10], activation="swish")
    with pytest.raises(ValueError, match="at least two positive widths"):
        MLP([784])


@pytest.mark.parametrize("rows", [1, 7, 64, 1000])
@pytest.mark.parametrize("chunk", [1, 64, 333])
def test_predict_in_chunks_equals_one_pass(rows, chunk):
    """Products of different row counts take different BLAS code paths and sum in different
    orders: chunked and one-pass logits need not be equal, but each lies within the float32
    rounding bound of the exact (float64) logits, on every CPU."""
    rng = np.random.default_rng(7)
    model = MLP([784, 30, 10], rng=rng)
    X = rng.random((rows, 784), dtype=np.float32)
    bounds = mlp_bounds(model, X)
    (Z_ref, eZ), (P_ref, eP) = bounds["Z2"], bounds["A2"]
    assert_within(model.logits(X, batch_size=chunk), Z_ref, eZ, f"logits in chunks of {chunk}")
    assert_within(model.forward(X)[0], Z_ref, eZ, "logits in one pass")
    P = model.predict_proba(X, batch_size=chunk)
    assert_within(P, P_ref, eP, "probabilities")
    assert_within(P.sum(axis=1, dtype=np.float64), 1, eP.sum(axis=1), "row sums")
    # argmax is exact where the top two logits are further apart than their error bounds
    sure = ~unsure_argmax(Z_ref, eZ)
    np.testing.assert_array_equal(model.predict(X, batch_size=chunk)[sure], Z_ref.argmax(axis=1)[sure])


def test_rounding_bound_is_tight_enough_to_catch_a_real_error():
    """The worst-case bound (any summation order) is loose, a few 1e-3 of the logits' scale here,
    but far below the size of a real mistake: a 1 % change of one logit is caught."""
    rng = np.random.default_rng(70)
    model = MLP([784, 30, 10], rng=rng)
    X = rng.random((50, 784), dtype=np.float32)
    Z_ref, eZ = mlp_bounds(model, X)["Z2"]
    Z = model.logits(X)
    assert np.abs(Z - Z_ref).max() > 0  # float32 really rounds here
    with pytest.raises(AssertionError, match=r"1 of 500 entries outside the rounding bound; worst at \(3, 4\)"):
        Z[3, 4] += 0.01 * np.abs(Z_ref).max()
        assert_within(Z, Z_ref, eZ, "logits")


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_float64_bounds_hold_for_every_activation_and_depth(activation):
    rng = np.random.default_rng(71)
    X, y, Y = small_batch(rng, N=9, D=40)
    for dtype in (np.float32, np.float64):
        model = MLP([40, 12, 11, 10], activation=activation, rng=np.random.default_rng(72), dtype=dtype)
        Xd, Yd = X.astype(dtype), Y.astype(dtype)
        _, grads, Z = model.loss_and_grads(Xd, Yd, scale=-0.05)
        bounds = mlp_bounds(model, Xd, Yd, scale=-0.05)
        assert_within(Z, *bounds["Z3"], "Z3")
        for k, G in grads.items():
            assert_within(G, *bounds[k], f"{np.dtype(dtype)} {k}")


def test_relative_error():
    assert relative_error([1.0, 2.0], [1.0, 2.0]) == 0
    assert relative_error([1.0], [-1.0]) == pytest.approx(1.0)


def test_gradient_check_names_a_wrongly_shaped_gradient():
    rng = np.random.default_rng(8)
    X, y, Y = small_batch(rng)
    params = network.init_params(6, rng, "he", dtype=np.float64)
    grads = network.backward(params, network.forward(params, X), Y)
    grads["db2"] = grads["db2"].sum()
    with pytest.raises(ShapeError, match=r"db2 has shape \(\) but b2 has shape \(10,\)"):
        gradient_check(lambda: network.loss(params, X, Y), params, grads)


def test_confident_predictions_leave_no_float32_subnormals_in_the_gradients():
    """Subnormal numbers make matrix products many times slower; tiny probabilities become 0."""
    rng = np.random.default_rng(9)
    model = MLP([784, 32, 10], rng=rng)
    X = rng.random((64, 784), dtype=np.float32)
    model.params["W2"] *= 200  # absurdly confident logits: softmax probabilities down to e^-1000
    Y = np.eye(10, dtype=np.float32)[model.predict(X)]
    _, grads, Z = model.loss_and_grads(X, Y)
    assert (Z.max(axis=1) - Z.min(axis=1)).min() > 100
    tiny = np.finfo(np.float32).tiny  # the smallest normal float32
    for name, G in grads.items():
        assert not ((G != 0) & (np.abs(G) < tiny)).any(), name
