"""The two-layer network, the general MLP, and their gradients."""
import numpy as np
import pytest

from mnistlib import MLP, ShapeError, network
from mnistlib.activations import ACTIVATIONS
from mnistlib.gradcheck import gradient_check, relative_error
from mnistlib.losses import cross_entropy


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
    rng = np.random.default_rng(4)
    X, y, Y = small_batch(rng, N=32)
    model = MLP([784, 10, 10], activation=activation, init="uniform", rng=np.random.default_rng(5))
    params = network.init_params(10, np.random.default_rng(5), "uniform")
    for k in params:
        np.testing.assert_array_equal(params[k], model.params[k])
    X = X.astype(np.float32)
    cache = network.forward(params, X, activation)
    grads = network.backward(params, cache, Y.astype(np.float32), activation)
    loss, mlp_grads, Z = model.loss_and_grads(X, Y.astype(np.float32))
    np.testing.assert_allclose(Z, cache["Z2"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.predict_proba(X), cache["A2"], rtol=1e-4, atol=1e-7)
    for k in grads:
        np.testing.assert_allclose(mlp_grads[k], grads[k], rtol=1e-4, atol=1e-7)
    new = network.update(params, grads, 0.1)
    np.testing.assert_allclose(new["W1"], params["W1"] - 0.1 * grads["dW1"])


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


def test_predict_in_chunks_equals_one_pass():
    rng = np.random.default_rng(7)
    model = MLP([784, 30, 10], rng=rng)
    X = rng.random((250, 784), dtype=np.float32)
    np.testing.assert_allclose(model.logits(X, batch_size=64), model.forward(X)[0], rtol=1e-6)
    np.testing.assert_allclose(model.predict_proba(X).sum(axis=1), 1, rtol=1e-5)
    assert model.predict(X).shape == (250,)


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
