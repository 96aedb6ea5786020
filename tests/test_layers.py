"""Conv2D, MaxPool2D, Flatten, Dense, ReLU and Sequential/CNN (mnistlib/layers.py).

Forward passes are compared with explicit loops written from the definitions; gradients with
centred differences in float64 (mnistlib.gradcheck).

Tolerances. Forward in float64 against the loops: both sum the same k = k_h k_w C_in products in
different orders, so they differ by at most gamma_k sum |W x| (mnistlib.rounding), i.e. ~1e-15
relative here: 1e-12 leaves room and still fails for any misplaced term. Gradients: a correct float64
gradient differs from the centred difference only by the difference's own rounding noise
(~u |L| / eps ~ 1e-10 absolute at eps = 1e-6) and its truncation error (~eps^2 |L'''|, ~1e-12), so
the array-wide relative error of a correct gradient lands near 1e-9 - 1e-11. The test asserts < 1e-7,
the series' threshold (notebook 03): 100x above the noise, yet a wrong entry, a missing term or a
transposed kernel gives errors of 1e-2 to 1 (test_gradient_check_catches_a_flipped_kernel shows
one). The elementwise measure (floor from the difference's noise) is asserted < ELEMENTWISE_TOL.
"""
import numpy as np
import pytest

import mnistlib
from mnistlib import ShapeError
from mnistlib.gradcheck import ELEMENTWISE_TOL, gradient_check, relative_error
from mnistlib.layers import CNN, Conv2D, Dense, Flatten, MaxPool2D, ReLU, Sequential, train_flops
from mnistlib.losses import cross_entropy


def naive_conv(X, W, b, stride, padding):
    """Y[i, o, ρ, τ] = b[o] + sum_{q,u,v} W[o, q, u, v] Xpad[i, q, s ρ + u, s τ + v], as loops (r, t for ρ, τ)."""
    N, C, H, W_ = X.shape
    C_out, _, kh, kw = W.shape
    Xp = np.pad(X, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    Ho, Wo = (H + 2 * padding - kh) // stride + 1, (W_ + 2 * padding - kw) // stride + 1
    Y = np.zeros((N, C_out, Ho, Wo))
    for i in range(N):
        for o in range(C_out):
            for r in range(Ho):
                for t in range(Wo):
                    window = Xp[i, :, stride * r:stride * r + kh, stride * t:stride * t + kw]
                    Y[i, o, r, t] = (window * W[o]).sum() + b[o]
    return Y


def naive_pool(X, size, stride):
    N, C, H, W_ = X.shape
    Ho, Wo = (H - size) // stride + 1, (W_ - size) // stride + 1
    Y = np.zeros((N, C, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            Y[:, :, i, j] = X[:, :, stride * i:stride * i + size, stride * j:stride * j + size].max(axis=(2, 3))
    return Y


def built(layer, in_shape, seed=0, dtype=np.float64):
    out_shape, p = layer.build(in_shape, np.random.default_rng(seed), dtype)
    for k in p:  # nonzero biases, so that a forgotten bias term shows
        if k == "b":
            p[k] = np.random.default_rng(seed + 1).standard_normal(p[k].shape).astype(dtype)
    return out_shape, p


CONV_CASES = [  # (C_in, H, W), C_out, kernel, stride, padding: odd sizes, rectangular kernels and images
    ((1, 7, 7), 2, 3, 1, 0),
    ((2, 6, 5), 3, 3, 1, 1),
    ((3, 7, 8), 2, (3, 2), 2, 1),
    ((2, 9, 9), 4, 5, 2, 2),
    ((1, 5, 5), 1, 1, 1, 0),
    ((2, 8, 7), 3, 4, 3, 0),
]


def in_blocks(layer, out_shape, in_channels, images_per_block):
    """Make the layer work in blocks of images_per_block images (None: the default, one block here)."""
    if images_per_block is not None:
        kh, kw = layer.kernel
        layer.BLOCK_BYTES = images_per_block * out_shape[1] * out_shape[2] * kh * kw * in_channels * 8


@pytest.mark.parametrize("images_per_block", [None, 1, 2])
@pytest.mark.parametrize("in_shape, C_out, kernel, stride, padding", CONV_CASES)
def test_conv_forward_equals_the_loops(in_shape, C_out, kernel, stride, padding, images_per_block):
    layer = Conv2D(C_out, kernel, stride=stride, padding=padding)
    out_shape, p = built(layer, in_shape)
    in_blocks(layer, out_shape, in_shape[0], images_per_block)
    X = np.random.default_rng(2).standard_normal((3, *in_shape))
    Y, _ = layer.forward(p, X)
    expected = naive_conv(X, p["W"], p["b"], stride, padding)
    assert Y.shape == expected.shape == (3, *out_shape)
    assert relative_error(Y, expected) < 1e-12
    # the channels-last storage the network hands between layers gives the same result
    X_nhwc = np.ascontiguousarray(X.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    assert relative_error(layer.forward(p, X_nhwc)[0], expected) < 1e-12


@pytest.mark.parametrize("images_per_block", [None, 1, 2])
@pytest.mark.parametrize("in_shape, C_out, kernel, stride, padding", CONV_CASES)
def test_conv_gradients_match_centred_differences(in_shape, C_out, kernel, stride, padding, images_per_block):
    layer = Conv2D(C_out, kernel, stride=stride, padding=padding)
    out_shape, p = built(layer, in_shape)
    in_blocks(layer, out_shape, in_shape[0], images_per_block)
    rng = np.random.default_rng(3)
    X = rng.standard_normal((3, *in_shape))  # 3 images: blocks of 2 leave an uneven last block
    R = rng.standard_normal((3, *out_shape))  # loss = sum(R * Y), so dY = R

    def loss():
        return float((layer.forward(p, X)[0] * R).sum())

    _, cache = layer.forward(p, X)
    dX, grads = layer.backward(p, cache, R)
    params = {**p, "X": X}
    errors = gradient_check(loss, params, {"dW": grads["W"], "db": grads["b"], "dX": dX})
    assert max(errors.values()) < 1e-7, errors
    elementwise = gradient_check(loss, params, {"dW": grads["W"], "db": grads["b"], "dX": dX}, elementwise=True)
    assert max(elementwise.values()) < ELEMENTWISE_TOL, elementwise


def test_gradient_check_catches_a_flipped_kernel():
    # the classic mistake: the input gradient as a correlation with the UNflipped kernel
    layer = Conv2D(2, 3, padding=1)
    out_shape, p = built(layer, (2, 5, 5))
    X = np.random.default_rng(4).standard_normal((1, 2, 5, 5))
    R = np.random.default_rng(5).standard_normal((1, *out_shape))
    _, cache = layer.forward(p, X)
    dX, _ = layer.backward(p, cache, R)
    # "full" correlation with the flipped kernel is the correct dX: check it, then the unflipped one
    W_t = p["W"].transpose(1, 0, 2, 3)                   # (C_in, C_out, k, k)
    right = naive_conv(R, W_t[:, :, ::-1, ::-1], np.zeros(2), 1, 1)
    wrong = naive_conv(R, W_t, np.zeros(2), 1, 1)
    assert relative_error(dX, right) < 1e-12
    assert relative_error(dX, wrong) > 0.05


@pytest.mark.parametrize("size, stride, in_shape", [(2, 2, (2, 6, 6)), (2, 2, (3, 7, 5)), (3, 3, (1, 7, 8)),
                                                    (3, 2, (2, 7, 7)), (2, 1, (1, 5, 4))])
def test_pool_forward_and_gradients(size, stride, in_shape):
    layer = MaxPool2D(size, stride)
    out_shape, _ = layer.build(in_shape, None, np.float64)
    rng = np.random.default_rng(6)
    X = rng.standard_normal((2, *in_shape))  # continuous values: no ties, the max is differentiable
    Y, cache = layer.forward({}, X)
    assert Y.shape == (2, *out_shape)
    np.testing.assert_array_equal(Y, naive_pool(X, size, stride))
    R = rng.standard_normal(Y.shape)
    dX, _ = layer.backward({}, cache, R)
    errors = gradient_check(lambda: float((layer.forward({}, X)[0] * R).sum()), {"X": X}, {"dX": dX})
    assert errors["X"] < 1e-7, errors


def test_pool_routes_each_gradient_to_one_maximum():
    X = np.array([[[[1., 5., 2., 2.],
                    [3., 4., 2., 2.],
                    [0., 0., 7., 1.],
                    [0., 0., 7., 9.]]]])   # windows: max 5 (one), 2 (four-way tie), 0 (tie), 9
    layer = MaxPool2D(2)
    Y, cache = layer.forward({}, X)
    np.testing.assert_array_equal(Y, [[[[5., 2.], [0., 9.]]]])
    dX, _ = layer.backward({}, cache, np.array([[[[10., 20.], [30., 40.]]]]))
    np.testing.assert_array_equal(dX, [[[[0., 10., 20., 0.],
                                         [0., 0., 0., 0.],
                                         [30., 0., 0., 0.],
                                         [0., 0., 0., 40.]]]])
    # each window passes on exactly its gradient: the sum is preserved (a tie is not counted 4 times)
    assert dX.sum() == 100


def test_pool_stride_below_size_adds_overlapping_gradients():
    X = np.array([[[[0., 0., 0.], [0., 9., 0.], [0., 0., 0.]]]])  # the 9 is the max of all 4 windows
    layer = MaxPool2D(2, stride=1)
    Y, cache = layer.forward({}, X)
    dX, _ = layer.backward({}, cache, np.ones_like(Y))
    assert dX[0, 0, 1, 1] == 4 and dX.sum() == 4


def test_relu_flatten_dense():
    rng = np.random.default_rng(7)
    X = rng.standard_normal((3, 2, 3, 4))
    flat, cache = Flatten().forward({}, X)
    np.testing.assert_array_equal(flat[1], X[1].ravel())     # C order of (C, H, W), as PyTorch
    assert Flatten().backward({}, cache, flat)[0].shape == X.shape
    dense = Dense(5)
    _, p = built(dense, (24,))
    Y, c = dense.forward(p, flat)
    np.testing.assert_allclose(Y, flat @ p["W"] + p["b"], rtol=1e-14)
    R = rng.standard_normal(Y.shape)
    dX, g = dense.backward(p, c, R)
    errors = gradient_check(lambda: float((dense.forward(p, flat)[0] * R).sum()), {**p, "X": flat},
                            {"dW": g["W"], "db": g["b"], "dX": dX})
    assert max(errors.values()) < 1e-7, errors
    Y, c = ReLU().forward({}, X)
    np.testing.assert_array_equal(Y, np.maximum(X, 0))
    np.testing.assert_array_equal(ReLU().backward({}, c, np.ones_like(X))[0], X > 0)


def tiny_net(dtype=np.float64, seed=0):
    """Odd sizes on purpose: 9x9 inputs, a stride-2 conv, a 3x3 pool that drops a column."""
    layers = [Conv2D(3, 3, padding=1), MaxPool2D(2), ReLU(), Conv2D(4, 3, stride=2, padding=1), ReLU(),
              Flatten(), Dense(6), ReLU(), Dense(10)]
    return Sequential(layers, input_shape=(1, 9, 9), rng=np.random.default_rng(seed), dtype=dtype)


def test_whole_network_gradients():
    model = tiny_net()
    for name, theta in model.params.items():  # nonzero biases
        if name.startswith("b"):
            theta[...] = np.random.default_rng(8).standard_normal(theta.shape) * 0.1
    rng = np.random.default_rng(9)
    X = rng.random((5, 81))
    Y = np.eye(10)[rng.integers(0, 10, 5)]
    loss, grads, Z = model.loss_and_grads(X, Y)
    assert Z.shape == (5, 10) and loss == pytest.approx(cross_entropy(Z, Y), rel=1e-12)
    assert set(grads) == {"d" + k for k in model.params}
    errors = gradient_check(lambda: cross_entropy(model.forward(X)[0], Y), model.params, grads,
                            max_entries=40, rng=rng)
    assert max(errors.values()) < 1e-7, errors
    elementwise = gradient_check(lambda: cross_entropy(model.forward(X)[0], Y), model.params, grads,
                                 max_entries=40, rng=rng, elementwise=True)
    assert max(elementwise.values()) < ELEMENTWISE_TOL, elementwise


def test_scale_multiplies_every_gradient():
    model = tiny_net()
    X = np.random.default_rng(10).random((4, 81))
    Y = np.eye(10)[[1, 2, 3, 4]]
    _, grads, _ = model.loss_and_grads(X, Y)
    _, scaled, _ = model.loss_and_grads(X, Y, scale=-0.5)
    for k in grads:
        np.testing.assert_allclose(scaled[k], -0.5 * grads[k], rtol=1e-12, atol=1e-300)


def test_cnn_shapes_flops_and_chunked_prediction():
    model = CNN(channels=(4, 8), kernel=5, hidden=16)
    assert model.shapes == [(1, 28, 28), (4, 28, 28), (4, 14, 14), (4, 14, 14), (8, 14, 14), (8, 7, 7),
                            (8, 7, 7), (392,), (16,), (16,), (10,)]
    assert model.sizes == (784, 10) and model.dtype == np.float32 and model.num_layers == 4
    # the notes' 32-64 net: 8.34 GFLOP per batch of 128
    assert train_flops(CNN(), 128) == 8_337_424_384
    X = np.random.default_rng(11).random((37, 784), dtype=np.float32)
    Z = model.forward(X)[0]
    assert Z.dtype == np.float32
    for batch_size in (5, 37, 10_000):  # chunks give the same logits (the same products, row by row)
        np.testing.assert_allclose(model.logits(X, batch_size), Z, rtol=1e-5, atol=1e-6)
    assert model.predict(X).shape == (37,) and np.allclose(model.predict_proba(X).sum(axis=1), 1)
    assert 400 < CNN().chunk_size(max_mb=128) < 550  # 128 MB / (70,000 floats of feature maps * 4 bytes) = 470 rows


def test_train_reduces_the_loss_with_the_existing_loop():
    rng = np.random.default_rng(12)
    X = rng.random((64, 81)).astype(np.float32)
    y = (X[:, :40].sum(axis=1) > X[:, 41:].sum(axis=1)).astype(int)  # learnable: left half vs right half
    model = tiny_net(np.float32)
    history = mnistlib.train(model, X, y, optimizer=mnistlib.Adam(1e-2, weight_decay=1e-4), epochs=20,
                             batch_size=16, schedule=mnistlib.cosine_schedule, progress=False)
    assert history["train_loss"][-1] < 0.5 * history["train_loss"][0]
    model2 = tiny_net(np.float32)
    h2 = mnistlib.train(model2, X, y, optimizer=mnistlib.SGD(0.05, momentum=0.9), epochs=5, batch_size=16,
                        progress=False)
    assert h2["train_loss"][-1] < h2["train_loss"][0]


def test_a_cache_stays_valid_after_another_forward():
    """The cache holds its own padded input: the layer's scratch block is only used inside one call."""
    rng = np.random.default_rng(3)
    layer = Conv2D(2, 3, padding=1)
    _, p = built(layer, (1, 5, 5))
    X1, X2 = rng.standard_normal((2, 3, 1, 5, 5))
    dY = rng.standard_normal((3, 2, 5, 5))
    Y1, cache1 = layer.forward(p, X1)
    expected = layer.backward(p, cache1, dY)
    layer.forward(p, X2)
    dX, grads = layer.backward(p, cache1, dY)
    np.testing.assert_array_equal(dX, expected[0])
    np.testing.assert_array_equal(grads["W"], expected[1]["W"])


def test_bad_shapes_are_named():
    model = CNN(channels=(2, 4), hidden=8)
    with pytest.raises(ShapeError, match=r"expected X of shape \(N, 784\), got \(3, 28, 28\)"):
        model.forward(np.zeros((3, 28, 28), np.float32))
    with pytest.raises(ShapeError, match=r"\(N, 784\), got \(784, 3\).*X\.T"):
        model.predict(np.zeros((784, 3), np.float32))
    with pytest.raises(ShapeError, match=r"Y have shape \(2, 9\).*\(2, 10\)"):
        model.loss_and_grads(np.zeros((2, 784), np.float32), np.zeros((2, 9), np.float32))
    conv = Conv2D(4, 3)
    _, p = built(conv, (2, 6, 6))
    with pytest.raises(ShapeError, match=r"expects input of shape \(N, 2, H_in, W_in\), got \(1, 3, 6, 6\)"):
        conv.forward(p, np.zeros((1, 3, 6, 6)))
    with pytest.raises(ShapeError, match=r"got \(1, 36\).*Flatten"):
        conv.forward(p, np.zeros((1, 36)))
    with pytest.raises(ShapeError, match=r"smaller than the 3x3 kernel"):
        conv.forward(p, np.zeros((1, 2, 2, 6)))
    with pytest.raises(ShapeError, match=r"smaller than the 5x5 kernel"):
        Sequential([Conv2D(2, 5), Flatten(), Dense(10)], input_shape=(1, 4, 4))
    with pytest.raises(ShapeError, match=r"put a Flatten\(\) before it"):
        Sequential([Conv2D(2, 3), Dense(10)], input_shape=(1, 5, 5))
    with pytest.raises(ShapeError, match=r"end with Flatten\(\) and Dense"):
        Sequential([Conv2D(2, 3)], input_shape=(1, 5, 5))
    with pytest.raises(ValueError, match="kernel must be a positive int"):
        Conv2D(2, 0)


def test_save_and_load_a_cnn(tmp_path):
    model = CNN(channels=(2, 4), hidden=8, rng=np.random.default_rng(13))
    X = np.random.default_rng(14).random((3, 784), dtype=np.float32)
    path = mnistlib.save_model(tmp_path / "cnn.npz", model, test_accuracy=0.5)
    loaded = mnistlib.load_model(path)
    assert isinstance(loaded, Sequential) and loaded.meta["test_accuracy"] == 0.5
    np.testing.assert_array_equal(loaded.logits(X), model.logits(X))  # the same arrays, the same products
    # an array that does not fit the layers in the header is refused, naming it
    arrays = dict(np.load(path))
    arrays["W2"] = arrays["W2"][:, :1]
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(mnistlib.ModelFileError, match=r"W2 should have shape \(4, 2, 5, 5\)"):
        mnistlib.load_model(tmp_path / "bad.npz")
