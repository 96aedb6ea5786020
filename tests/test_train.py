"""The training loop, optimisers, schedules and early stopping, on small data built here."""
import numpy as np
import pytest

from mnistlib import MLP, SGD, Adam, TrainingDiverged, cosine_schedule, evaluate, step_schedule, train
from mnistlib.rounding import trajectory_tolerance


def blobs(rng, N=600, D=20, C=10):
    """A separable toy problem: C Gaussian clusters in D dimensions, scaled into [0, 1]."""
    centres = rng.random((C, D))
    y = rng.integers(0, C, N)
    X = np.clip(centres[y] + 0.05 * rng.normal(size=(N, D)), 0, 1).astype(np.float32)
    return X, y


def assert_same_run(a, b, steps, terms):
    """Two float64 runs of one rule, differing only in rounding: within the trajectory bound."""
    for k in a.params:
        tol = trajectory_tolerance(steps, terms) * np.abs(b.params[k]).max()
        np.testing.assert_allclose(a.params[k], b.params[k], rtol=0, atol=tol, err_msg=k)


def test_full_batch_training_is_plain_gradient_descent():
    """In float64, so that the comparison tests the rule, with a tolerance from rounding."""
    rng = np.random.default_rng(0)
    X, y = blobs(rng)
    X = X.astype(np.float64)
    model, twin = (MLP([20, 8, 10], rng=np.random.default_rng(1), dtype=np.float64) for _ in range(2))
    history = train(model, X, y, optimizer=SGD(lr=0.5), epochs=5, progress=False)
    Y = np.eye(10)[y]
    for _ in range(5):
        _, grads, _ = twin.loss_and_grads(X, Y)
        for k, P in twin.params.items():
            P -= 0.5 * grads["d" + k]
    assert_same_run(model, twin, steps=5, terms=len(X))
    twin.params["W1"] -= 0.5 * grads["dW1"]  # one step more: far outside the bound
    with pytest.raises(AssertionError, match="W1"):
        assert_same_run(model, twin, steps=5, terms=len(X))
    assert list(history["step"]) == [1, 2, 3, 4, 5]
    assert np.isnan(history["dev_acc"]).all()


@pytest.mark.parametrize("optimizer", [SGD(0.3), SGD(0.1, momentum=0.9), SGD(0.1, 0.9, nesterov=True),
                                       Adam(0.01), SGD(0.3, weight_decay=1e-4)])
def test_optimisers_learn_a_separable_problem(optimizer):
    rng = np.random.default_rng(2)
    X, y = blobs(rng)
    Xd, yd = blobs(np.random.default_rng(2), N=200)  # same centres, new points
    model = MLP([20, 32, 10], rng=rng)
    before = evaluate(model, Xd, yd)[1]
    history = train(model, X, y, X_dev=Xd, y_dev=yd, optimizer=optimizer, epochs=15,
                    batch_size=32, rng=rng, progress=False)
    assert history.last("dev_acc") > 0.95 > before
    assert history["train_loss"][-1] < history["train_loss"][0]
    assert optimizer.lr == history["lr"][0]  # base rate restored after training


def test_training_is_reproducible_with_the_same_seed():
    """The seeds fix every random choice: initial weights and batch order are bit-identical.
    The arithmetic after them is then the same run twice, compared in float64 under the
    trajectory bound; another data-order seed gives a different run."""
    X, y = blobs(np.random.default_rng(3), N=150)
    X = X.astype(np.float64)
    runs = [MLP([20, 16, 10], rng=np.random.default_rng(4), dtype=np.float64) for _ in range(3)]
    np.testing.assert_array_equal(runs[0].params["W1"], runs[1].params["W1"])
    for model, order_seed in zip(runs, (5, 5, 6), strict=False):
        train(model, X, y, optimizer=SGD(0.1, 0.9), epochs=2, batch_size=50,
              rng=np.random.default_rng(order_seed), progress=False)
    assert_same_run(runs[0], runs[1], steps=6, terms=50)
    with pytest.raises(AssertionError):
        assert_same_run(runs[0], runs[2], steps=6, terms=50)


def test_divergence_stops_with_the_step_and_a_hint():
    X, y = blobs(np.random.default_rng(6))
    model = MLP([20, 16, 10], init="uniform", rng=np.random.default_rng(7))
    with pytest.raises(TrainingDiverged, match=r"diverged at epoch \d+, step \d+.*lr=1e\+06.*lr=100000") as e:
        with np.errstate(all="ignore"):
            train(model, X, y, optimizer=SGD(lr=1e6), epochs=50, progress=False)
    assert 0 < len(e.value.history) < 50


def test_unscaled_or_mismatched_input_is_refused():
    X, y = blobs(np.random.default_rng(8))
    model = MLP([20, 4, 10])
    with pytest.raises(ValueError, match="values up to 255.*scaled to \\[0, 1\\]"):
        train(model, X * 255, y, progress=False)
    with pytest.raises(ValueError, match="dtype uint8"):
        train(model, (X * 255).astype(np.uint8), y, progress=False)
    with pytest.raises(ValueError, match="600 rows but y has 599"):
        train(model, X, y[:-1], progress=False)
    with pytest.raises(ValueError, match="needs a dev set"):
        train(model, X, y, patience=2, progress=False)


def test_early_stopping_restores_the_best_parameters():
    rng = np.random.default_rng(9)
    X, y = blobs(rng)
    Xd, yd = blobs(np.random.default_rng(9), N=100)
    model = MLP([20, 16, 10], rng=rng)
    history = train(model, X, y, X_dev=Xd, y_dev=yd, optimizer=SGD(0.05, 0.9), epochs=200,
                    batch_size=20, rng=rng, patience=3, progress=False)
    assert len(history) < 200
    assert evaluate(model, Xd, yd)[1] == pytest.approx(max(history["dev_acc"]))


def test_schedules():
    assert [step_schedule(every=2, factor=0.1)(e, 6) for e in range(5)] == pytest.approx(
        [1, 1, 0.1, 0.1, 0.01])
    assert cosine_schedule(0, 10) == 1 and cosine_schedule(5, 10) == pytest.approx(0.5)
    assert cosine_schedule(10, 10) == pytest.approx(0)
    X, y = blobs(np.random.default_rng(10), N=100)
    h = train(MLP([20, 4, 10]), X, y, optimizer=SGD(0.2), epochs=4, schedule=step_schedule(2, 0.5),
              progress=False)
    assert list(h["lr"]) == pytest.approx([0.2, 0.2, 0.1, 0.1])


def test_history_frame():
    X, y = blobs(np.random.default_rng(11), N=100)
    h = train(MLP([20, 4, 10]), X, y, X_dev=X, y_dev=y, epochs=3, batch_size=10, progress=False)
    df = h.to_frame()
    assert list(df.index) == [1, 2, 3] and list(df["step"]) == [10, 20, 30]
    assert (df["seconds"].diff().dropna() > 0).all()
    assert "3 epochs" in repr(h)


def test_nan_or_inf_loss_is_caught_even_without_the_loss_cap():
    X, y = blobs(np.random.default_rng(12))
    model = MLP([20, 16, 10], rng=np.random.default_rng(13))
    with pytest.raises(TrainingDiverged, match=r"the loss became (nan|inf)"):
        with np.errstate(all="ignore"):
            train(model, X, y, optimizer=SGD(lr=1e30), epochs=20, max_loss=None, progress=False)


@pytest.mark.parametrize("kwargs", [dict(), dict(momentum=0.9), dict(momentum=0.9, nesterov=True),
                                    dict(momentum=0.5, weight_decay=1e-2)])
def test_sgd_with_prescaled_gradients_follows_the_textbook_rule(kwargs):
    """grads multiplied by grad_scale (= -lr) give the same steps as the plain gradients and
    as the update rule written out by hand."""
    rng = np.random.default_rng(8)
    X, y = blobs(rng, N=64)
    X, Y = X.astype(np.float64), np.eye(10)[y]
    fast, plain, hand = (MLP([20, 8, 10], rng=np.random.default_rng(9), dtype=np.float64)
                         for _ in range(3))
    opt_fast, opt_plain = SGD(0.2, **kwargs), SGD(0.2, **kwargs)
    mu, wd = kwargs.get("momentum", 0.0), kwargs.get("weight_decay", 0.0)
    velocity = {k: np.zeros_like(P) for k, P in hand.params.items()}
    for _ in range(4):
        _, grads, _ = fast.loss_and_grads(X, Y, opt_fast.grad_scale)
        opt_fast.step(fast.params, grads, opt_fast.grad_scale)
        _, grads, _ = plain.loss_and_grads(X, Y)
        opt_plain.step(plain.params, grads)
        _, grads, _ = hand.loss_and_grads(X, Y)
        for k, P in hand.params.items():
            g = grads["d" + k] + (wd * P if k.startswith("W") else 0)
            velocity[k] = mu * velocity[k] - 0.2 * g
            P += mu * velocity[k] - 0.2 * g if kwargs.get("nesterov") else velocity[k]
    assert_same_run(fast, hand, steps=4, terms=len(X))
    assert_same_run(plain, hand, steps=4, terms=len(X))


def test_adam_undoes_a_gradient_scale_and_train_accepts_a_minimal_optimiser():
    rng = np.random.default_rng(10)
    X, y = blobs(rng, N=64)
    X, Y = X.astype(np.float64), np.eye(10)[y]
    a, b = (MLP([20, 8, 10], rng=np.random.default_rng(11), dtype=np.float64) for _ in range(2))
    opt_a, opt_b = Adam(0.01), Adam(0.01)
    _, grads, _ = a.loss_and_grads(X, Y, -3.0)
    opt_a.step(a.params, grads, -3.0)
    _, grads, _ = b.loss_and_grads(X, Y)
    opt_b.step(b.params, grads)
    assert_same_run(a, b, steps=1, terms=len(X))

    class Plain:  # the least an optimiser needs: .lr and .step(params, grads)
        lr = 0.5

        def step(self, params, grads):
            for k, P in params.items():
                P -= self.lr * grads["d" + k]

    model = MLP([20, 8, 10], rng=np.random.default_rng(12))
    history = train(model, X, y, optimizer=Plain(), epochs=3, progress=False)
    assert history["train_loss"][-1] < history["train_loss"][0]
