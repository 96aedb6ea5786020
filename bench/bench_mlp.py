"""Benchmark: the same 784-800-10 MLP trained by mnistlib, scikit-learn and PyTorch (CPU),
and by mnistlib through its own autograd (mnistlib.autograd, notebook 10).

Same network (ReLU, softmax + cross-entropy), same optimiser (SGD, momentum 0.9,
lr 0.05, batch 128), float32, and the same data order: one shuffled order per
epoch, shared by all three. The frameworks alternate within each epoch (their
order rotating from epoch to epoch), so the machine's state affects them alike.
Only one of them computes at a time: on a small machine, two BLAS-heavy
processes at once slow each other far more than their share.

Prints seconds per epoch and test accuracy for each, the ratios mnistlib/peer, the autograd
overhead (autograd / mnistlib's hand-written backward: same model, same arithmetic),
mnistlib's achieved GFLOP/s as a fraction of the peak float32 matrix-product
rate (measured before every epoch: the best of the run, and the one just before
each epoch), the rate of the step's matrix products alone (a ceiling, timed in
the same rotation), and the peak memory of one training epoch of each, measured
in a fresh process.

    python bench/bench_mlp.py                  # 10 epochs, 2 threads
    python bench/bench_mlp.py --epochs 3 --only mnistlib sklearn
"""
import argparse
import importlib.util
import os
import resource
import subprocess
import sys
import time

import numpy as np

FRAMEWORKS = ("mnistlib", "autograd", "sklearn", "torch")


def flops_per_example(sizes):
    """Training FLOPs per example: forward 2*a*b per layer, backward 2*a*b for dW and, except the
    first layer (no gradient w.r.t. the input), 2*a*b for dA. For [784, H, 10]: 4*784*H + 6*H*10."""
    total = 0
    for layer, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        total += (4 if layer == 0 else 6) * a * b
    return total


def peak_gflops(n=2048, repeats=7):
    """Best float32 matrix-product rate of numpy's BLAS here, in GFLOP/s (n x n times n x n)."""
    rng = np.random.default_rng(0)
    A, B = rng.random((n, n), dtype=np.float32), rng.random((n, n), dtype=np.float32)
    A @ B
    best = min(timed(lambda: A @ B) for _ in range(repeats))
    return 2 * n ** 3 / best / 1e9


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def load_data():
    import mnistlib
    data = mnistlib.load_mnist(progress=False)
    return (mnistlib.normalize(data.X_train), data.y_train.astype(np.int64),
            mnistlib.normalize(data.X_test), data.y_test.astype(np.int64))


class MnistlibRunner:
    name = "mnistlib"

    def __init__(self, sizes, lr, momentum, seed):
        import mnistlib
        self.mnistlib = mnistlib
        self.model = mnistlib.MLP(sizes, rng=np.random.default_rng(seed))
        self.optimizer = mnistlib.SGD(lr=lr, momentum=momentum)

    def epoch(self, X, y, batch_size):
        self.mnistlib.train(self.model, X, y, optimizer=self.optimizer, epochs=1,
                            batch_size=batch_size, shuffle=False, progress=False)

    def accuracy(self, X, y):
        return float((self.model.predict(X) == y).mean())


class AutogradRunner(MnistlibRunner):
    """The same MLP and optimiser, its gradients computed by mnistlib.autograd instead of MLP.backward."""
    name = "autograd"

    def __init__(self, sizes, lr, momentum, seed):
        super().__init__(sizes, lr, momentum, seed)
        from mnistlib.autograd import AutogradNet
        self.model = AutogradNet(self.model)


class SklearnRunner:
    name = "sklearn"

    def __init__(self, sizes, lr, momentum, seed):
        from sklearn.neural_network import MLPClassifier
        self.model = MLPClassifier(hidden_layer_sizes=tuple(sizes[1:-1]), activation="relu",
                                   solver="sgd", learning_rate_init=lr, momentum=momentum,
                                   nesterovs_momentum=False, alpha=0.0, batch_size=128,
                                   shuffle=False, random_state=seed)
        self.classes = np.arange(sizes[-1])

    def epoch(self, X, y, batch_size):
        self.model.batch_size = batch_size
        self.model.partial_fit(X, y, classes=self.classes)

    def accuracy(self, X, y):
        return float((self.model.predict(X) == y).mean())


class TorchRunner:
    name = "torch"

    def __init__(self, sizes, lr, momentum, seed):
        import torch
        self.torch = torch
        torch.manual_seed(seed)
        layers = []
        for a, b in zip(sizes[:-1], sizes[1:], strict=True):
            layers += [torch.nn.Linear(a, b), torch.nn.ReLU()]
        self.model = torch.nn.Sequential(*layers[:-1])
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=lr, momentum=momentum)
        self.loss = torch.nn.CrossEntropyLoss()

    def epoch(self, X, y, batch_size):
        torch = self.torch
        Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
        self.model.train()
        for i in range(0, len(Xt), batch_size):
            self.optimizer.zero_grad(set_to_none=True)
            self.loss(self.model(Xt[i:i + batch_size]), yt[i:i + batch_size]).backward()
            self.optimizer.step()

    def accuracy(self, X, y):
        with self.torch.no_grad():
            return float((self.model(self.torch.from_numpy(X)).argmax(1).numpy() == y).mean())


class ProductsRunner:
    """Not a framework: only the matrix products of each training step, with the same shapes and
    batches (for [784, H, 10]: X @ W1, A1 @ W2, A1.T @ dZ2, dZ2 @ W2.T, X.T @ dZ1), nothing in
    between. Its rate is the ceiling for any implementation that calls numpy's BLAS one
    product at a time, measured under the same conditions as the others."""
    name = "products"

    def __init__(self, sizes, lr, momentum, seed):
        rng = np.random.default_rng(seed)
        self.W = [rng.standard_normal((a, b), dtype=np.float32) * 0.01
                  for a, b in zip(sizes[:-1], sizes[1:], strict=True)]

    def epoch(self, X, y, batch_size):
        for i in range(0, len(X), batch_size):
            A = [X[i:i + batch_size]]
            for W in self.W:
                A.append(A[-1] @ W)
            dZ = A[-1]
            for layer in range(len(self.W) - 1, -1, -1):
                A[layer].T @ dZ
                if layer:
                    dZ = dZ @ self.W[layer].T


RUNNERS = {"mnistlib": MnistlibRunner, "autograd": AutogradRunner, "sklearn": SklearnRunner, "torch": TorchRunner,
           "products": ProductsRunner}


def rotate(runners, names, X, y, X_test, y_test, args):
    """Train every runner one epoch at a time in a rotating order, the same shuffled data for all (one
    order per epoch from default_rng(args.seed)), the peak matrix-product rate measured before each epoch;
    print one line per epoch. runners: objects with .name and .epoch(X, y, batch_size), and .accuracy(X, y)
    for those in `names` (the rest, e.g. "products", are only timed).
    Returns (seconds {name: [per epoch]}, accuracy {name: [per epoch]}, peaks [GFLOP/s per epoch])."""
    seconds = {r.name: [] for r in runners}
    accuracy = {n: [] for n in names}
    peaks = []
    rng = np.random.default_rng(args.seed)
    print("epoch  peak GFLOP/s" + "".join(f"{n + ' s':>12}{n + ' acc':>14}" for n in names)
          + ("    products s" if "products" in seconds else ""))
    for epoch in range(args.epochs):
        order = rng.permutation(len(X))
        Xe, ye = X[order], y[order]
        peaks.append(peak_gflops(repeats=3))
        turn = epoch % len(runners)
        for runner in runners[turn:] + runners[:turn]:
            time.sleep(0.5)  # let the previous framework's worker threads stop spinning
            seconds[runner.name].append(timed(lambda r=runner, X_=Xe, y_=ye: r.epoch(X_, y_, args.batch_size)))
            if runner.name in accuracy:
                accuracy[runner.name].append(runner.accuracy(X_test, y_test))
        print(f"{epoch + 1:>5} {peaks[-1]:>13.1f}"
              + "".join(f"{seconds[n][-1]:>12.2f}{accuracy[n][-1]:>14.2%}" for n in names)
              + (f"{seconds['products'][-1]:>14.2f}" if "products" in seconds else ""))
    return seconds, accuracy, peaks


def available(name):
    return name in ("mnistlib", "autograd") or importlib.util.find_spec(name) is not None


def rss_mb(field="VmHWM"):
    """This process's peak (VmHWM) or current (VmRSS) resident memory in MB. Unlike ru_maxrss,
    VmHWM is not inherited from the parent that started the process, and it can be reset."""
    try:
        for line in open("/proc/self/status"):
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux: close enough


def reset_peak_rss():
    """Restart VmHWM from the current RSS (Linux >= 4.0), so the next peak is training's own."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def memory_child(name, sizes, args):
    """Run in a fresh process: load the data, train one epoch, print MB before and at peak."""
    if name == "torch":
        import torch
        torch.set_num_threads(args.threads)
    runner = RUNNERS[name](sizes, args.lr, args.momentum, args.seed)
    X, y, _, _ = load_data()
    # Without the reset, loading's temporaries (uint8 -> float32) would hide training's peak.
    before = rss_mb("VmRSS") if reset_peak_rss() else rss_mb()
    runner.epoch(X, y, args.batch_size)
    print(f"{before:.0f} {rss_mb():.0f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--hidden", type=int, nargs="+", default=[800])
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--threads", type=int, default=2, help="BLAS / torch threads (default 2)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", nargs="+", choices=FRAMEWORKS, default=list(FRAMEWORKS))
    parser.add_argument("--memory-child", choices=FRAMEWORKS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = [784, *args.hidden, 10]
    if args.memory_child:
        return memory_child(args.memory_child, sizes, args)

    names = [n for n in args.only if available(n)]
    for n in set(args.only) - set(names):
        print(f"{n} is not installed: skipped (see README, 'Benchmark')")
    if "torch" in names:
        import torch
        torch.set_num_threads(args.threads)
    X, y, X_test, y_test = load_data()
    try:
        from threadpoolctl import threadpool_info
        blas = ", ".join(f"{i['internal_api']} {i.get('version')} {i.get('architecture')} x{i['num_threads']}"
                         for i in threadpool_info() if i["user_api"] == "blas")
    except ImportError:
        blas = "threadpoolctl not installed"
    print(f"MLP {sizes}, SGD lr {args.lr} momentum {args.momentum}, batch {args.batch_size}, float32, "
          f"{len(X)} training examples, {args.epochs} epochs, {args.threads} threads")
    print(f"numpy {np.__version__}; BLAS: {blas}; {os.cpu_count()} CPUs\n")

    # The machine's speed drifts (a shared host), so everything is measured in one rotation per
    # epoch: the peak matrix-product rate first, then each framework, then the step's products alone.
    timed_names = names + (["products"] if "mnistlib" in names else [])
    runners = [RUNNERS[n](sizes, args.lr, args.momentum, args.seed) for n in timed_names]
    seconds, accuracy, peaks = rotate(runners, names, X, y, X_test, y_test, args)

    median = {n: float(np.median(seconds[n])) for n in timed_names}
    print("\nmedian seconds per epoch: " + ", ".join(f"{n} {median[n]:.2f}" for n in timed_names))
    if "autograd" in median and "mnistlib" in median:
        per_epoch = np.median(np.array(seconds["autograd"]) / np.array(seconds["mnistlib"]))
        print(f"autograd overhead, autograd / mnistlib: {median['autograd'] / median['mnistlib']:.2f} "
              f"(median of the per-epoch ratios: {per_epoch:.2f}; target at most 1.3)")
    for n in names:
        if n not in ("mnistlib", "autograd") and "mnistlib" in median:
            per_epoch = np.median(np.array(seconds["mnistlib"]) / np.array(seconds[n]))
            print(f"ratio mnistlib / {n}: {median['mnistlib'] / median[n]:.2f} "
                  f"(median of the per-epoch ratios: {per_epoch:.2f})")
    if "mnistlib" in median:
        flops = flops_per_example(sizes) * len(X)
        peak = max(peaks)
        rate = flops / median["mnistlib"] / 1e9
        adjacent = np.median(flops / np.array(seconds["mnistlib"]) / 1e9 / np.array(peaks))
        products = flops / median["products"] / 1e9
        print(f"peak float32 matrix product (2048^3, numpy): best {peak:.1f} GFLOP/s, "
              f"median {np.median(peaks):.1f} over the {len(peaks)} epochs")
        print(f"mnistlib: {rate:.1f} GFLOP/s = {rate / peak:.0%} of the best peak; per epoch against "
              f"the peak measured just before it: median {adjacent:.0%} "
              f"({flops_per_example(sizes):,} FLOPs per example)")
        print(f"the step's matrix products alone: {products:.1f} GFLOP/s = {products / peak:.0%} of the "
              f"best peak (the ceiling for numpy calling BLAS one product at a time); "
              f"mnistlib runs at {median['products'] / median['mnistlib']:.0%} of their rate")
        errors = 1 - np.array(accuracy["mnistlib"])
        elapsed = np.cumsum(seconds["mnistlib"])
        print(f"mnistlib: best test error {errors.min():.2%} at epoch {errors.argmin() + 1} "
              f"after {elapsed[errors.argmin()]:.1f} s of training")

    print("\npeak memory of one training epoch, each in a fresh process (max RSS):")
    for n in names:
        result = subprocess.run([sys.executable, __file__, "--memory-child", n, "--hidden",
                                 *map(str, args.hidden), "--threads", str(args.threads)],
                                capture_output=True, text=True)
        if result.returncode:
            print(f"  {n}: failed: {result.stderr.strip().splitlines()[-1]}")
            continue
        before, peak_mb = map(float, result.stdout.split())
        print(f"  {n}: {peak_mb:.0f} MB peak: {before:.0f} MB with the data loaded, "
              f"+{peak_mb - before:.0f} MB while training")


if __name__ == "__main__":
    main()
