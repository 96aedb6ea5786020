"""Reverse-mode autograd (mnistlib/autograd.py) and its graph drawing (diagrams.draw_tensor_graph).

Each operation is checked on its own: its output `out` is given a random upstream gradient R
(out.backward(R)), so the analytic gradient of every input is that of the scalar sum(out * R),
which is compared with centred differences of sum(op(...) * R) in float64 (mnistlib.gradcheck).
The threshold is the series' 1e-7 on the array-wide relative error (see tests/test_layers.py for why
a correct float64 gradient lands near 1e-9 - 1e-11 and a wrong one at 1e-2 - 1).

Networks: autograd runs the same floating-point operations as MLP.backward / Sequential.backward
(same products, same sums, same fused output head), so its gradients agree to 1e-12 of the largest
gradient (in practice exactly); a missing bias term or a wrong ReLU mask would be off by O(1).
"""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from mnistlib import CNN, MLP, SGD, Adam, ShapeError, train  # noqa: E402
from mnistlib import autograd as ag  # noqa: E402
from mnistlib.autograd import AutogradNet, Tensor, build_loss, graph, unbroadcast  # noqa: E402
from mnistlib.diagrams import draw_tensor_graph  # noqa: E402
from mnistlib.gradcheck import numerical_gradient, relative_error  # noqa: E402
from mnistlib.layers import Layer, Sequential  # noqa: E402
from mnistlib.losses import loss_and_output_grad  # noqa: E402
from mnistlib.plots import describe  # noqa: E402

TOL = 1e-7  # array-wide relative error of a correct float64 gradient (the series' threshold)


def check_op(op, *arrays, seed=0):
    """Gradients of every input of op(*tensors) against centred differences; returns the errors."""
    tensors = [Tensor(a, requires_grad=True) for a in arrays]
    out = op(*tensors)
    R = np.random.default_rng(seed).standard_normal(out.shape)
    out.backward(R)

    def f():  # reads the arrays, which numerical_gradient perturbs in place
        return float((op(*[Tensor(a) for a in arrays]).value * R).sum())

    errors = []
    for t, a in zip(tensors, arrays, strict=True):
        assert t.grad.shape == a.shape
        errors.append(relative_error(t.grad, numerical_gradient(f, a)))
    assert max(errors) < TOL, errors
    return errors


def rand(*shape, seed=1, low=-1.0, high=1.0):
    return np.random.default_rng(seed).uniform(low, high, shape)


def away_from_zero(*shape, seed=1):
    """Entries with |x| in [0.1, 1]: ReLU's kink stays far from the eps = 1e-6 steps."""
    x = rand(*shape, seed=seed, low=0.1, high=1.0)
    return x * np.random.default_rng(seed + 1).choice([-1.0, 1.0], shape)


@pytest.mark.parametrize("shape_a, shape_b", [((4, 3), (3,)), ((4, 3), (1, 3)), ((4, 3), ()),
                                              ((4, 3), (4, 3)), ((2, 1, 3), (4, 1)), ((3,), (4, 3))])
@pytest.mark.parametrize("op", [ag.add, ag.sub, ag.mul], ids=["add", "sub", "mul"])
def test_elementwise_binary_ops_with_broadcasting(op, shape_a, shape_b):
    check_op(op, rand(*shape_a, seed=1), rand(*shape_b, seed=2))


def test_operators_are_the_functions():
    a, b = Tensor(rand(3, 2, seed=1)), Tensor(rand(2, 4, seed=2))
    np.testing.assert_array_equal((a @ b).value, a.value @ b.value)
    np.testing.assert_array_equal((2 - a).value, 2 - a.value)
    np.testing.assert_array_equal((a.value * a).value, a.value ** 2)  # ndarray * Tensor: a Tensor
    assert isinstance(a.value + a, Tensor) and (-a).op == "neg" and (a - 1).op == "sub"
    check_op(lambda x, y: (x - y) * 3.0 + 1.0 - x * y, rand(4, 3, seed=1), rand(3, seed=2))


@pytest.mark.parametrize("name, make", [("neg", lambda: rand(3, 4)), ("relu", lambda: away_from_zero(3, 4)),
                                        ("exp", lambda: rand(3, 4)), ("log", lambda: rand(3, 4, low=0.2, high=2))])
def test_elementwise_unary_ops(name, make):
    check_op(getattr(ag, name), make())


def test_a_tensor_used_twice_gets_the_sum_of_its_gradients():
    x = rand(5, seed=3)
    check_op(lambda t: t * t, x.copy())
    check_op(lambda t: t + t, x.copy())
    check_op(lambda t: ag.relu(t) * t + t, away_from_zero(5))
    t = Tensor(x, requires_grad=True)
    (t * t).backward(np.ones(5))
    np.testing.assert_allclose(t.grad, 2 * x, rtol=1e-15)  # not x: both uses counted
    t = Tensor(x, requires_grad=True)
    (t + t).backward(np.ones(5))
    np.testing.assert_array_equal(t.grad, np.full(5, 2.0))


@pytest.mark.parametrize("axis", [0, 1, None, (0, 1), -1])
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("op", [ag.sum, ag.mean], ids=["sum", "mean"])
def test_reductions(op, axis, keepdims):
    check_op(lambda t: op(t, axis=axis, keepdims=keepdims), rand(4, 3))
    out = op(Tensor(rand(4, 3)), axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(out.value, getattr(np, op.__name__)(rand(4, 3), axis=axis, keepdims=keepdims))


def test_mean_gradient_is_one_over_the_count():
    t = Tensor(rand(4, 3), requires_grad=True)
    t.mean(axis=0).sum().backward()
    np.testing.assert_allclose(t.grad, np.full((4, 3), 1 / 4), rtol=1e-15)
    assert t.grad.flags.writeable  # a real array, not a read-only broadcast view: in-place updates work


@pytest.mark.parametrize("axis, keepdims", [(1, False), (0, False), (None, False), (1, True), (-1, True)])
def test_logsumexp(axis, keepdims):
    check_op(lambda t: ag.logsumexp(t, axis=axis, keepdims=keepdims), rand(4, 3) * 3)


def test_logsumexp_is_stable_at_logits_of_1000():
    Z = np.array([[1000.0, -1000.0, 999.0], [-1000.0, -1000.0, -1000.0]])
    t = Tensor(Z, requires_grad=True)
    out = ag.logsumexp(t, axis=1)
    np.testing.assert_allclose(out.value, [1000 + np.log1p(np.exp(-1.0)), -1000 + np.log(3)], rtol=1e-15)
    out.backward(np.ones(2))
    assert np.isfinite(t.grad).all()
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    # d logsumexp / dZ = softmax(Z); the grad is exp(Z - out), and out ~ 1000 is rounded to ulp(1000) ~ 1e-13
    np.testing.assert_allclose(t.grad, E / E.sum(axis=1, keepdims=True), rtol=1e-12, atol=1e-300)


def test_cross_entropy():
    rng = np.random.default_rng(4)
    Y = np.eye(5)[rng.integers(0, 5, 6)]
    check_op(lambda z: ag.cross_entropy(z, Y), rand(6, 5) * 3)
    Z = np.array([[1000.0, -1000.0], [-1000.0, 1000.0]])
    loss = ag.cross_entropy(Tensor(Z, requires_grad=True), np.eye(2)[[1, 1]])
    assert loss.value == pytest.approx(1000.0)  # (2000 + 0) / 2, finite
    Z = np.array([[0.0, -70.0, 5.0], [1.0, 2.0, 3.0]])  # e^-75: zeroed, as in MLP's head
    Y = np.eye(3)[[0, 2]]
    z = Tensor(Z, requires_grad=True)
    loss = ag.cross_entropy(z, Y)
    loss.backward(-0.5)
    expected_loss, dZ = loss_and_output_grad(Z, Y, -0.5)
    assert float(loss.value) == expected_loss and z.grad[0, 1] == 0.0
    np.testing.assert_array_equal(z.grad, dZ)
    Z = np.array([[1000.0, -1000.0], [-1000.0, 1000.0]])
    with pytest.raises(ValueError, match="targets Y"):
        ag.cross_entropy(Tensor(Z), Tensor(np.eye(2), requires_grad=True))
    with pytest.raises(ShapeError, match=r"\(2, 2\) and \(2, 3\)"):
        ag.cross_entropy(Tensor(Z), np.zeros((2, 3)))


def test_matmul_reshape_transpose():
    check_op(ag.matmul, rand(3, 4, seed=1), rand(4, 2, seed=2))
    check_op(lambda t: ag.reshape(t, (2, -1)) * rand(2, 6, seed=5), rand(3, 4))
    check_op(lambda t: ag.transpose(t) @ rand(3, 2, seed=5), rand(3, 4))
    check_op(lambda t: ag.transpose(t, (2, 0, 1)) * rand(4, 2, 3, seed=5), rand(2, 3, 4))
    check_op(lambda t: ag.flatten(t) * rand(2, 12, seed=5), rand(2, 3, 2, 2))
    assert ag.transpose(Tensor(rand(2, 3, 4)), (2, 0, 1)).shape == (4, 2, 3)


def test_conv2d_stride_2_padding_1_on_odd_sizes():
    X, W, b = rand(2, 2, 7, 5, seed=1), rand(3, 2, 3, 3, seed=2), rand(3, seed=3)
    check_op(lambda x, w, c: ag.conv2d(x, w, c, stride=2, padding=1), X, W, b)
    assert ag.conv2d(X, W, b, stride=2, padding=1).shape == (2, 3, 4, 3)  # (7 + 2 - 3) // 2 + 1, (5 + 2 - 3) // 2 + 1
    check_op(lambda x, w, c: ag.conv2d(x, w, c), rand(1, 2, 5, 4, seed=4), rand(2, 2, 3, 2, seed=5), rand(2, seed=6))


@pytest.mark.parametrize("size, stride", [(2, None), (3, 2)])
def test_maxpool2d(size, stride):
    X = np.random.default_rng(7).permutation(2 * 2 * 7 * 6).reshape(2, 2, 7, 6) / 10.0  # no ties
    check_op(lambda x: ag.maxpool2d(x, size, stride), X)


def test_no_gradient_is_computed_for_data():
    X, W = Tensor(rand(5, 4, seed=1)), Tensor(rand(4, 3, seed=2), requires_grad=True)
    out = X @ W
    assert out.requires_grad and not X.requires_grad
    dX, dW = out._backward(np.ones((5, 3)))
    assert dX is None and dW.shape == (4, 3)  # the dX product is skipped, not computed and dropped
    out.sum().backward()
    assert X.grad is None and W.grad is not None
    assert not (X * 2.0).requires_grad and (X * 2.0)._backward is None
    conv = ag.conv2d(rand(1, 2, 5, 5), Tensor(rand(3, 2, 3, 3), requires_grad=True), np.zeros(3))
    assert conv._backward(np.ones(conv.shape))[0] is None


def test_unbroadcast_sums_over_stretched_axes():
    g = np.arange(12.0).reshape(4, 3)
    np.testing.assert_array_equal(unbroadcast(g, (3,)), g.sum(axis=0))
    np.testing.assert_array_equal(unbroadcast(g, (1, 3)), g.sum(axis=0, keepdims=True))
    np.testing.assert_array_equal(unbroadcast(g, (4, 1)), g.sum(axis=1, keepdims=True))
    assert unbroadcast(g, ()) == 66.0 and unbroadcast(g, ()).shape == ()
    assert unbroadcast(g, (4, 3)) is g


def test_float32_stays_float32():
    x = Tensor(rand(4, 3).astype(np.float32), requires_grad=True)
    b = Tensor(rand(3).astype(np.float32), requires_grad=True)
    loss = ((x * 0.5 + b - 1) @ np.ones((3, 2), np.float32)).relu().exp().log().mean()
    loss = loss + ag.logsumexp(x, axis=1).sum() * 2.0
    assert loss.dtype == np.float32
    loss.backward(0.25)
    assert x.grad.dtype == np.float32 and b.grad.dtype == np.float32


def test_backward_accumulates_into_leaves_and_recomputes_the_rest():
    x = Tensor(rand(3), requires_grad=True)
    y = x * 3.0
    z = y.sum()
    z.backward()
    np.testing.assert_array_equal(x.grad, np.full(3, 3.0))
    z.backward()
    np.testing.assert_array_equal(x.grad, np.full(3, 6.0))  # the leaf: 3 + 3
    np.testing.assert_array_equal(y.grad, np.ones(3))       # intermediate: afresh, not 2
    z.zero_grad()
    assert x.grad is None and y.grad is None


def test_deep_graphs_need_no_recursion():
    x = Tensor(np.ones(2), requires_grad=True)
    y = x
    for _ in range(5000):
        y = y + 1.0
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, np.ones(2))


def test_graph_lists_nodes_in_topological_order():
    model = MLP((12, 7, 5), dtype=np.float64)
    loss, Z, params = build_loss(model, rand(8, 12), np.eye(5)[np.arange(8) % 5])
    nodes, edges = graph(loss)
    assert len(nodes) == 12 and len(edges) == 11 and nodes[-1] is loss
    position = {id(n): i for i, n in enumerate(nodes)}
    assert all(position[id(p)] < position[id(c)] for p, c in edges)
    assert [n.op for n in nodes if n.op] == ["matmul", "add", "relu", "matmul", "add", "cross_entropy"]
    assert {n.name for n in nodes if not n.parents} == {"X", "W1", "b1", "W2", "b2", "Y"}
    x = Tensor(1.0, requires_grad=True)
    assert len(graph(x * x)[1]) == 2  # one edge per use


# ---------------------------------------------------------------- networks
def batch(model, N=8, seed=0):
    rng = np.random.default_rng(seed)
    K = model.sizes[-1]
    return rng.random((N, model.sizes[0])), np.eye(K)[rng.integers(0, K, N)]


def assert_same_gradients(model, X, Y, scale=1.0):
    loss, grads, Z = model.loss_and_grads(X, Y, scale)
    loss_a, grads_a, Z_a = AutogradNet(model).loss_and_grads(X, Y, scale)
    assert loss_a == pytest.approx(loss, rel=1e-14)
    np.testing.assert_allclose(Z_a, Z, rtol=0, atol=1e-12 * np.abs(Z).max())
    assert set(grads_a) == set(grads)
    for k, g in grads.items():
        assert grads_a[k].dtype == g.dtype
        np.testing.assert_allclose(grads_a[k], g, rtol=0, atol=1e-12 * np.abs(g).max(), err_msg=k)
    return grads_a


@pytest.mark.parametrize("sizes", [(12, 7, 5), (12, 9, 7, 5)])
def test_mlp_gradients_equal_the_hand_written_ones(sizes):
    model = MLP(sizes, dtype=np.float64)
    for k, v in model.params.items():  # nonzero biases, so that a forgotten bias term shows
        if k.startswith("b"):
            v[...] = rand(*v.shape, seed=len(k))
    X, Y = batch(model)
    grads = assert_same_gradients(model, X, Y)
    scaled = assert_same_gradients(model, X, Y, scale=-0.3)
    for k in grads:
        np.testing.assert_allclose(scaled[k], -0.3 * grads[k], rtol=1e-13, atol=1e-15)


def test_mlp_gradients_in_float32_are_float32():
    model = MLP((12, 7, 5))
    X, Y = (a.astype(np.float32) for a in batch(model))
    grads = assert_same_gradients(model, X, Y, scale=-0.1)
    assert all(g.dtype == np.float32 for g in grads.values())


def test_cnn_gradients_equal_the_hand_written_ones():
    model = CNN(channels=(2, 3), kernel=3, hidden=6, dtype=np.float64)
    X, Y = batch(model, N=3)
    assert_same_gradients(model, X, Y)
    loss, Z, params = build_loss(model, X, Y)
    assert [n.op for n in graph(loss)[0] if n.op].count("conv2d") == 2


def test_training_through_autograd_is_the_same_run():
    rng = np.random.default_rng(5)
    X, y = rng.random((64, 20)), rng.integers(0, 10, 64)
    for optimizer in (lambda: SGD(lr=0.3, momentum=0.9), lambda: Adam(lr=0.01)):
        plain, twin = (MLP((20, 8, 10), rng=np.random.default_rng(1), dtype=np.float64) for _ in range(2))
        wrapped = AutogradNet(twin)
        assert wrapped.params is twin.params
        h_plain = train(plain, X, y, optimizer=optimizer(), epochs=2, batch_size=16, progress=False)
        h_auto = train(wrapped, X, y, optimizer=optimizer(), epochs=2, batch_size=16, progress=False)
        np.testing.assert_allclose(h_auto["train_loss"], h_plain["train_loss"], rtol=1e-12)
        for k in plain.params:
            np.testing.assert_allclose(twin.params[k], plain.params[k], rtol=0, atol=1e-12, err_msg=k)
        assert h_plain["train_loss"][1] < h_plain["train_loss"][0]  # it did train
        np.testing.assert_array_equal(wrapped.predict(X), plain.predict(X))


# ---------------------------------------------------------------- errors
def test_errors_are_clear():
    with pytest.raises(ShapeError, match=r"\(3, 4\) @ \(3, 2\)"):
        Tensor(rand(3, 4)) @ Tensor(rand(3, 2))
    with pytest.raises(ShapeError, match=r"\(3,\)"):
        ag.matmul(rand(3), rand(3, 2))
    with pytest.raises(ValueError, match=r"single number.*\(3, 2\)"):
        (Tensor(rand(3, 2), requires_grad=True) * 2.0).backward()
    with pytest.raises(ValueError, match="depends on data only"):
        (Tensor(rand(3)) * 2.0).sum().backward()
    with pytest.raises(ShapeError, match=r"\(2,\).*\(3,\)"):
        (Tensor(rand(3), requires_grad=True) * 2.0).backward(np.ones(2))
    with pytest.raises(ValueError, match="float"):
        Tensor(np.arange(3), requires_grad=True)
    with pytest.raises(ValueError, match="'relu'"):
        AutogradNet(MLP((4, 3, 2), activation="tanh"))

    class Odd(Layer):
        def forward(self, p, X):
            return X, None

    with pytest.raises(ValueError, match="Odd; supported: Conv2D"):
        build_loss(Sequential([Odd()], input_shape=(4,)), rand(2, 4), np.eye(4)[[0, 1]])


# ---------------------------------------------------------------- the drawing
def test_draw_tensor_graph():
    model = MLP((12, 7, 5), dtype=np.float64)
    loss, _, _ = build_loss(model, *batch(model))
    fig = draw_tensor_graph(loss)
    try:
        assert isinstance(fig, plt.Figure)
        text = describe(fig)
        assert "12 nodes" in text and "11 edges" in text and "4 parameters, 2 data, 6 operations" in text
        ax = fig.axes[0]
        labels = [t.get_text() for t in ax.texts]
        assert "matmul\n(8, 7)" in labels and "W1\n(12, 7)" in labels and "add\nZ2 (8, 5)" in labels
    finally:
        plt.close(fig)
