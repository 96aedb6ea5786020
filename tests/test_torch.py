"""PyTorch, the optional extra: mnistlib.torch_bridge and the DDP script mnistlib.ddp.

  * to_torch copies a network: its logits equal mnistlib's within the float32 rounding bound
    (torch_bridge.logits_bounds, from mnistlib.rounding), and to 1e-12 in float64;
  * the gradients of one batch equal mnistlib's (float64, 1e-12), in mnistlib's shapes;
  * train_torch, given mnistlib.train's seed, sees the same batches in the same order: the loss
    histories of SGD (with momentum) and Adam agree to 1e-9 in float64;
  * `torchrun --nproc-per-node 2 -m mnistlib.ddp` trains a small CNN above chance, and a 1-process run
    of the same settings follows the same trajectory (float64: the same losses to 1e-9).

Not part of `pytest tests` (tests/conftest.py leaves this file out unless it is named): the normal
suite has no torch. `python run.py test-all --only torch` installs the extra and runs it. Without
torch the tests skip, and under CI=true they fail instead.
"""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import run  # noqa: E402  (run.py: on_ci)
from mnistlib import CNN, MLP, SGD, Adam, normalize, one_hot, train  # noqa: E402
from mnistlib.rounding import assert_within, mlp_bounds  # noqa: E402
from mnistlib.torch_bridge import (  # noqa: E402
    INSTALL_HINT,
    grads_from_torch,
    logits_bounds,
    params_from_torch,
    require_torch,
    to_torch,
    train_torch,
)

FLOAT64_TOLERANCE = 1e-12


@pytest.fixture(scope="module")
def torch():
    try:
        import torch
    except ImportError:
        if run.on_ci():
            pytest.fail(INSTALL_HINT + " (CI=true: a missing torch fails)")
        pytest.skip(INSTALL_HINT)
    return torch


@pytest.fixture(scope="module")
def digits(mnist):
    """The first 500 test digits of the real MNIST, (500, 784) float32 in [0, 1], and their labels (500,) int64."""
    return normalize(mnist.X_test[:500]), mnist.y_test[:500].astype(np.int64)


def torch_logits(torch, module, X):
    """module's logits for X (N, D) as a NumPy array (N, K)."""
    with torch.no_grad():
        return module(torch.from_numpy(X)).numpy()


# ------------------------------------------------------------------ without torch

def test_mnistlib_imports_without_torch():
    code = "import sys, mnistlib, mnistlib.torch_bridge, mnistlib.ddp; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_a_missing_torch_names_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now raises ImportError
    with pytest.raises(ImportError) as error:
        require_torch()
    message = str(error.value)
    assert "\n" not in message and "python run.py torch" in message
    assert 'pip install "torch==2.13.0" --index-url https://download.pytorch.org/whl/cpu' in message
    with pytest.raises(ImportError, match="python run.py torch"):
        to_torch(MLP([4, 3, 2]))


# ------------------------------------------------------------------ the same network

@pytest.mark.parametrize("kind", ["mlp", "cnn"])
def test_float32_logits_agree_within_the_rounding_bound(torch, digits, kind):
    X = digits[0][:500 if kind == "mlp" else 100]
    model = (MLP([784, 100, 10], rng=np.random.default_rng(1)) if kind == "mlp"
             else CNN(rng=np.random.default_rng(2)))  # notebook 09's CNN: channels (32, 64), kernel 5, hidden 128
    module = to_torch(model)
    assert next(module.parameters()).dtype == torch.float32
    reference, bound = logits_bounds(model, X)
    ours, theirs = model.logits(X), torch_logits(torch, module, X)
    assert_within(ours, reference, bound, "mnistlib's logits")
    assert_within(theirs, reference, bound, "torch's logits")
    diff = np.abs(ours.astype(np.float64) - theirs)
    assert np.all(diff <= 2 * bound)
    print(f"\n{kind} float32 logits: max |mnistlib - torch| = {diff.max():.3g}; bound 2 x ({bound.min():.3g} .. "
          f"{bound.max():.3g}); largest diff / bound {np.max(diff / (2 * bound)):.2g}")


def test_the_bound_covers_rounding_mlp_bounds(digits):
    """For an MLP the reference is rounding.mlp_bounds' and the bound at least its (which assumes
    mnistlib's order of the additions: the bias last)."""
    X = digits[0]
    model = MLP([784, 64, 32, 10], rng=np.random.default_rng(3))
    reference, bound = logits_bounds(model, X)
    ref, theirs = mlp_bounds(model, X)["Z3"]
    np.testing.assert_array_equal(reference, ref)
    assert np.all(bound >= theirs) and np.all(bound <= 1.01 * theirs)


@pytest.mark.parametrize("kind", ["relu", "elu", "sigmoid", "tanh", "cnn"])
def test_float64_logits_agree_to_1e_12(torch, digits, kind):
    X = digits[0][:100].astype(np.float64)
    model = (CNN((8, 16), hidden=32, rng=np.random.default_rng(4), dtype=np.float64) if kind == "cnn"
             else MLP([784, 64, 32, 10], activation=kind, rng=np.random.default_rng(4), dtype=np.float64))
    module = to_torch(model)
    assert next(module.parameters()).dtype == torch.float64
    diff = np.abs(model.logits(X) - torch_logits(torch, module, X))
    assert diff.max() <= FLOAT64_TOLERANCE
    reference, bound = logits_bounds(model, X)
    assert_within(torch_logits(torch, module, X), reference, bound, "torch's float64 logits")


@pytest.mark.parametrize("kind", ["mlp", "cnn"])
def test_gradients_of_a_batch_agree(torch, digits, kind):
    X, y = digits[0][:64].astype(np.float64), digits[1][:64]
    model = (MLP([784, 100, 10], rng=np.random.default_rng(5), dtype=np.float64) if kind == "mlp"
             else CNN((8, 16), hidden=32, rng=np.random.default_rng(5), dtype=np.float64))
    module = to_torch(model)
    loss, grads, _ = model.loss_and_grads(X, one_hot(y, 10).astype(np.float64))
    torch_loss = torch.nn.functional.cross_entropy(module(torch.from_numpy(X)), torch.from_numpy(y))
    torch_loss.backward()
    theirs = grads_from_torch(module, model)
    assert list(theirs) == ["d" + name for name in model.params]
    assert abs(loss - torch_loss.item()) <= FLOAT64_TOLERANCE
    worst = 0.0
    for name, g in grads.items():
        assert theirs[name].shape == g.shape == model.params[name[1:]].shape, name
        worst = max(worst, float(np.abs(theirs[name] - g).max()))
    assert worst <= FLOAT64_TOLERANCE
    print(f"\n{kind} float64 gradients: max |mnistlib - torch| = {worst:.3g}")


def test_the_weights_are_copied_not_shared(torch):
    model = CNN((2, 3), kernel=3, hidden=5, rng=np.random.default_rng(6))
    module = to_torch(model)
    params = params_from_torch(module, model)
    assert list(params) == list(model.params)
    for name, value in model.params.items():
        np.testing.assert_array_equal(params[name], value)
    assert tuple(module[-1].weight.shape) == model.params["W4"].shape[::-1]  # nn.Linear keeps W.T
    before = model.params["W1"].copy()
    with torch.no_grad():
        next(module.parameters()).add_(1.0)
    np.testing.assert_array_equal(model.params["W1"], before)


def test_to_torch_refuses_what_it_cannot_copy():
    with pytest.raises(TypeError, match="MLP, Sequential or CNN"):
        to_torch({"W1": np.zeros((2, 2))})


# ------------------------------------------------------------------ the same training

@pytest.mark.parametrize("optimizer, batch_size", [("sgd", 32), ("adam", 32), ("sgd", None)])
def test_train_torch_follows_mnistlib_train(torch, optimizer, batch_size):
    """Same data order, same optimiser: the same run (float64, a tiny random data set, 250 rows, 2 epochs)."""
    rng = np.random.default_rng(7)
    X, y = rng.random((250, 64)), rng.integers(0, 10, 250)
    model = MLP([64, 32, 10], rng=np.random.default_rng(8), dtype=np.float64)
    module = to_torch(model)
    opt = SGD(lr=0.1, momentum=0.9) if optimizer == "sgd" else Adam(lr=1e-2)
    ours = train(model, X, y, X_dev=X[:50], y_dev=y[:50], optimizer=opt, epochs=2, batch_size=batch_size,
                 rng=np.random.default_rng(9), progress=False).to_frame()
    theirs = train_torch(module, X, y, X_dev=X[:50], y_dev=y[:50], optimizer=optimizer, lr=opt.lr, momentum=0.9,
                         epochs=2, batch_size=batch_size, seed=9, device="cpu").to_frame()
    assert list(theirs.columns) == list(ours.columns) and list(theirs.index) == [1, 2]
    for column in ("step", "lr", "train_acc", "dev_acc"):
        np.testing.assert_array_equal(theirs[column], ours[column], err_msg=column)
    for column in ("train_loss", "dev_loss"):
        np.testing.assert_allclose(theirs[column], ours[column], rtol=0, atol=1e-9, err_msg=column)
    assert ours["train_loss"].iloc[-1] < ours["train_loss"].iloc[0]  # it did train
    params = params_from_torch(module, model)
    assert max(float(np.abs(params[k] - model.params[k]).max()) for k in params) <= 1e-9


# ------------------------------------------------------------------ DistributedDataParallel

DDP_ARGS = ["--train-size", "2000", "--epochs", "2", "--batch-size", "64", "--channels", "4", "8", "--hidden", "16"]


def torchrun(processes, out, *extra):
    """Run `torchrun --standalone --nproc-per-node N -m mnistlib.ddp` (torchrun is torch.distributed.run);
    returns (the JSON it wrote, seconds)."""
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(processes),
               "-m", "mnistlib.ddp", *DDP_ARGS, "--out", str(out), *extra]
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    start = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    seconds = time.monotonic() - start
    assert done.returncode == 0, done.stdout + done.stderr
    assert "test accuracy" in done.stdout
    return json.loads(Path(out).read_text(encoding="utf-8")), seconds


@pytest.fixture(scope="module")
def ddp_runs(torch, tmp_path_factory):
    """Three runs of the same small CNN: 2 processes in float32, then 2 and 1 processes in float64."""
    tmp = tmp_path_factory.mktemp("ddp")
    return {"2-float32": torchrun(2, tmp / "a.json"),
            "2-float64": torchrun(2, tmp / "b.json", "--dtype", "float64"),
            "1-float64": torchrun(1, tmp / "c.json", "--dtype", "float64")}


def test_ddp_on_two_processes_learns(ddp_runs):
    result, seconds = ddp_runs["2-float32"]
    assert result["world_size"] == 2 and result["backend"] == "gloo" and result["threads_per_process"] == 1
    assert result["train_size"] == 2000 and result["epochs"] == 2 and result["per_process_batch"] == 32
    assert result["steps"] == 2 * 32  # ceil(1000 / 32) steps per epoch on each rank = ceil(2000 / 64) globally
    assert len(result["seconds_per_epoch"]) == 2 and result["losses"][-1] == result["final_loss"]
    assert result["final_loss"] < result["losses"][0] < np.log(10)  # chance level is log 10 = 2.30
    assert result["test_accuracy"] > 0.6  # chance is 0.10; this run reaches about 0.78
    print(f"\nDDP, 2 processes, float32: {seconds:.1f} s in all, epochs {result['seconds_per_epoch']} s, "
          f"test accuracy {result['test_accuracy']:.2%}")


def test_ddp_matches_one_process_with_the_same_global_batch(ddp_runs):
    """The sampler gives each of 2 ranks every other example of the same shuffled order, so the 2 ranks'
    batches of 32 together are the 1-process batch of 64, and DDP averages the two halves' gradients:
    the same steps, up to the order of one addition per gradient entry: in float64 (rounding 1e-16 per
    operation, over 64 steps) the losses agree to 1e-9, and the two runs' predictions to a few near-ties."""
    two, one = ddp_runs["2-float64"][0], ddp_runs["1-float64"][0]
    assert (two["world_size"], one["world_size"]) == (2, 1)
    assert one["per_process_batch"] == 64 and one["steps"] == two["steps"]
    np.testing.assert_allclose(two["losses"], one["losses"], rtol=1e-9)
    assert abs(two["test_accuracy"] - one["test_accuracy"]) <= 2e-4  # at most 2 of 10,000 near-ties
    print(f"\nDDP float64: 2 processes {ddp_runs['2-float64'][1]:.1f} s, 1 process {ddp_runs['1-float64'][1]:.1f} s; "
          f"losses {two['losses']} vs {one['losses']}")
