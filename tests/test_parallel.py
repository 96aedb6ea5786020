"""mnistlib.parallel: a batch split over threads gives the same layers' results as one thread."""
import threading

import numpy as np
import pytest

from mnistlib import parallel
from mnistlib.layers import CNN, Conv2D, MaxPool2D


@pytest.fixture
def threads(monkeypatch):
    """Set the number of parts per_image uses (a fresh executor for it)."""
    def use(n):
        monkeypatch.setitem(parallel._state, "threads", n)
        monkeypatch.setitem(parallel._state, "pid", None)
    return use


@pytest.mark.parametrize("n, parts", [(10, 3), (3, 8), (1, 2), (128, 2), (7, 7)])
def test_split_covers_every_image_once(n, parts):
    slices = parallel.split(n, parts)
    assert len(slices) == min(n, parts)
    covered = np.concatenate([np.arange(n)[s] for s in slices])
    np.testing.assert_array_equal(covered, np.arange(n))
    sizes = [s.stop - s.start for s in slices]
    assert min(sizes) >= 1 and max(sizes) - min(sizes) <= 1


def test_per_image_runs_the_parts_at_once_and_returns_them_in_order(threads):
    threads(3)
    barrier = threading.Barrier(3, timeout=10)  # passes only if all three parts run at the same time

    def part(k, images):
        barrier.wait()
        return k, images, threading.get_ident()

    results = parallel.per_image(part, 10)
    assert [r[0] for r in results] == [0, 1, 2]
    assert [r[1] for r in results] == parallel.split(10, 3)
    assert len({r[2] for r in results}) == 3


def test_an_error_in_a_part_reaches_the_caller(threads):
    threads(2)

    def part(k, images):
        if k == 1:
            raise ValueError("part 1 failed")

    with pytest.raises(ValueError, match="part 1 failed"):
        parallel.per_image(part, 4)


def test_one_blas_thread_limits_numpys_blas_and_restores_it():
    blas = [lib for lib in parallel._controller().lib_controllers if lib.user_api == "blas"]
    before = [lib.num_threads for lib in blas]
    with parallel.one_blas_thread():
        inside = [lib.num_threads for lib in blas]
    assert [lib.num_threads for lib in blas] == before
    if parallel.threads() > 1:
        assert inside == [1] * len(blas)
    else:  # nothing to limit (one core, or a BLAS threadpoolctl cannot limit): the context changes nothing
        assert inside == before


def run_layers(seed=0):
    rng = np.random.default_rng(seed)
    conv, pool = Conv2D(4, 3, padding=1), MaxPool2D(2)
    _, p = conv.build((2, 8, 8), rng, np.float64)
    X = rng.standard_normal((5, 2, 8, 8))
    X[:, :, :2] = 0.5                     # ties in the pooling windows
    conv.BLOCK_BYTES = 1                  # blocks of one image: several blocks per part
    Y, cache = conv.forward(p, X)
    P, pcache = pool.forward({}, Y)
    dP = rng.standard_normal(P.shape)
    dY = pool.backward({}, pcache, dP)[0]
    dX, grads = conv.backward(p, cache, dY)
    return Y, P, dY, dX, grads["W"], grads["b"]


def test_layers_give_the_same_results_on_any_number_of_threads(threads):
    threads(1)
    one = run_layers()
    for n in (2, 3, 5, 8):
        threads(n)
        many = run_layers()
        for name, a, b in zip(["Y", "P", "dY", "dX", "dW", "db"], one, many, strict=True):
            if name == "dW":  # summed over the parts, in another order: equal up to rounding
                np.testing.assert_allclose(b, a, rtol=1e-13, atol=1e-13 * np.abs(a).max())
            else:             # every number made by the same operations, whichever thread makes it
                np.testing.assert_array_equal(b, a, err_msg=f"{name} on {n} threads")


def test_a_cnn_trains_the_same_on_two_threads(threads):
    rng = np.random.default_rng(1)
    X = rng.random((12, 784))
    Y = np.eye(10)[rng.integers(0, 10, 12)]
    results = []
    for n in (1, 2):
        threads(n)
        model = CNN((3, 4), hidden=8, rng=np.random.default_rng(2), dtype=np.float64)
        results.append(model.loss_and_grads(X, Y))
    (loss1, g1, Z1), (loss2, g2, Z2) = results
    assert loss1 == pytest.approx(loss2, rel=1e-13)
    np.testing.assert_allclose(Z2, Z1, rtol=1e-12, atol=1e-14)
    for k in g1:
        np.testing.assert_allclose(g2[k], g1[k], rtol=1e-10, atol=1e-12 * np.abs(g1[k]).max(), err_msg=k)
