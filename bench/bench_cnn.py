"""Benchmark: the CNN of notebook 09 trained by mnistlib (pure NumPy) and by PyTorch (CPU), if installed.

Same network (conv 5x5 1->32 pad 2, max-pool 2, ReLU, conv 5x5 32->64 pad 2, max-pool 2, ReLU,
dense 3136->128, ReLU, dense 128->10, softmax + cross-entropy), same optimiser (Adam, lr 1e-3),
batch 128, float32, and the same data order: one shuffled order per epoch, shared by both. The
two alternate epoch by epoch (their order rotating), only one computing at a time, so a shared
machine's drifting speed affects them alike.

Prints seconds per epoch and test accuracy for each, the ratio mnistlib / torch, the achieved
GFLOP/s of each (the FLOPs of the step's matrix products, mnistlib.layers.train_flops) as a
fraction of the peak float32 matrix-product rate measured before every epoch, and the peak
memory of training at batch 128, each library in a fresh process.

    python bench/bench_cnn.py                    # 3 epochs of 60,000, 2 threads (numpy's BLAS and torch)
    python bench/bench_cnn.py --epochs 1 --channels 4 8 --hidden 16 --train-size 2000   # a quick look

With mnistlib it also times the step's matrix products alone (ProductsRunner), made as mnistlib makes them,
in the same rotation: the floor for mnistlib's way of computing a convolution.
"""
import argparse
import functools
import importlib.util
import os
import subprocess
import sys
from pathlib import Path


def _threads_from_argv(default=2):
    """--threads N from the command line, read before numpy starts its BLAS threads."""
    argv = sys.argv[1:]
    for i, arg in enumerate(argv):
        if arg == "--threads" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--threads="):
            return arg.split("=", 1)[1]
    return str(default)


# numpy's BLAS and torch on the same number of threads (a fair comparison); must precede `import numpy`
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = _threads_from_argv()

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_mlp import load_data, reset_peak_rss, rotate, rss_mb  # noqa: E402

FRAMEWORKS = ("mnistlib", "torch")


class MnistlibRunner:
    name = "mnistlib"

    def __init__(self, args):
        import mnistlib
        self.mnistlib = mnistlib
        self.model = mnistlib.CNN(tuple(args.channels), args.kernel, args.hidden, rng=np.random.default_rng(args.seed))
        self.optimizer = mnistlib.Adam(lr=args.lr)

    def epoch(self, X, y, batch_size):
        self.mnistlib.train(self.model, X, y, optimizer=self.optimizer, epochs=1, batch_size=batch_size,
                            shuffle=False, progress=False)

    def accuracy(self, X, y):
        return float((self.model.predict(X) == y).mean())


class TorchRunner:
    name = "torch"

    def __init__(self, args):
        import torch
        from torch import nn
        self.torch = torch
        torch.manual_seed(args.seed)
        c1, c2 = args.channels
        k, pad = args.kernel, args.kernel // 2
        self.model = nn.Sequential(
            nn.Conv2d(1, c1, k, padding=pad), nn.MaxPool2d(2), nn.ReLU(),
            nn.Conv2d(c1, c2, k, padding=pad), nn.MaxPool2d(2), nn.ReLU(),
            nn.Flatten(), nn.Linear(49 * c2, args.hidden), nn.ReLU(), nn.Linear(args.hidden, 10))
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=args.lr)
        self.loss = nn.CrossEntropyLoss()

    def epoch(self, X, y, batch_size):
        torch = self.torch
        Xt, yt = torch.from_numpy(X).reshape(-1, 1, 28, 28), torch.from_numpy(y)
        self.model.train()
        for i in range(0, len(Xt), batch_size):
            self.optimizer.zero_grad(set_to_none=True)
            self.loss(self.model(Xt[i:i + batch_size]), yt[i:i + batch_size]).backward()
            self.optimizer.step()

    def accuracy(self, X, y):
        torch = self.torch
        self.model.eval()
        with torch.no_grad():
            Xt = torch.from_numpy(X).reshape(-1, 1, 28, 28)
            pred = torch.cat([self.model(Xt[i:i + 1000]).argmax(1) for i in range(0, len(Xt), 1000)])
        return float((pred.numpy() == y).mean())


def layer_products(A, W, G, rows, needs_dX, block, _, images):
    """The matrix products of one layer for a part `images` of the batch (per_image's fn), in blocks of
    `block` images (None: the whole part): rows rows per image in A (cols) and G (dY)."""
    step = block or (images.stop - images.start)
    for j in range(images.start, images.stop, step):
        m = slice(j * rows, min(j + step, images.stop) * rows)
        a, g = A[m], G[m]
        a @ W        # forward: cols @ W_mat
        a.T @ g      # dW_mat = cols.T @ dY
        if needs_dX:
            g @ W.T  # dcols = dY @ W_mat.T


class ProductsRunner:
    """Not a library: only the matrix products of mnistlib's training step, made as mnistlib makes them and
    nothing in between (no im2col, col2im, pooling, activations or optimiser): per Conv2D layer, per block of
    images, cols @ W, cols.T @ dY and (except the first layer) dY @ W.T; per Dense layer the same three on
    its part of the batch; the batch split over the threads (mnistlib.parallel), one BLAS thread per product.
    Its time is the floor for mnistlib's way of computing a convolution (im2col and matrix products)."""
    name = "products"

    def __init__(self, args):
        import mnistlib
        from mnistlib.layers import Conv2D, Dense
        model = mnistlib.CNN(tuple(args.channels), args.kernel, args.hidden)
        rng = np.random.default_rng(args.seed)
        B = args.batch_size
        self.layers, first = [], True  # per_image functions, one per layer with weights
        for layer, i, o in zip(model.layers, model.shapes[:-1], model.shapes[1:], strict=True):
            if isinstance(layer, Conv2D):
                rows, k, n = o[1] * o[2], layer.kernel[0] * layer.kernel[1] * i[0], o[0]
                block = layer.images_per_block(rows * k, np.dtype(np.float32).itemsize)  # as Conv2D.blocks
            elif isinstance(layer, Dense):
                rows, k, n, block = 1, i[0], o[0], None
            else:
                continue
            A, W, G = (rng.random((rows * B, k), dtype=np.float32), rng.random((k, n), dtype=np.float32),
                       rng.random((rows * B, n), dtype=np.float32))
            self.layers.append(functools.partial(layer_products, A, W, G, rows, not first, block))
            first = False

    def epoch(self, X, y, batch_size):
        from mnistlib.parallel import one_blas_thread, per_image
        for i in range(0, len(X), batch_size):
            with one_blas_thread():  # as Sequential's passes
                for products in self.layers:
                    per_image(products, min(batch_size, len(X) - i))


RUNNERS = {"mnistlib": MnistlibRunner, "torch": TorchRunner, "products": ProductsRunner}


def available(name):
    return name == "mnistlib" or importlib.util.find_spec(name) is not None


def flops_per_example(args):
    """Training FLOPs of the step's matrix products per example (mnistlib.layers.train_flops)."""
    import mnistlib
    from mnistlib.layers import train_flops
    return train_flops(mnistlib.CNN(tuple(args.channels), args.kernel, args.hidden), 1)


def memory_child(name, args):
    """In a fresh process: load the data, train `--memory-batches` batches, print MB before and at peak."""
    if name == "torch":
        import torch
        torch.set_num_threads(args.threads)
    runner = RUNNERS[name](args)
    X, y, _, _ = load_data()
    n = min(len(X), args.memory_batches * args.batch_size)
    Xs, ys = X[:n].copy(), y[:n].copy()
    before = rss_mb("VmRSS") if reset_peak_rss() else rss_mb()
    runner.epoch(Xs, ys, args.batch_size)
    print(f"{before:.0f} {rss_mb():.0f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--channels", type=int, nargs=2, default=[32, 64], metavar=("C1", "C2"))
    parser.add_argument("--kernel", type=int, default=5)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--train-size", type=int, default=60_000, help="train on the first N examples only")
    parser.add_argument("--memory-batches", type=int, default=50,
                        help="batches trained in the fresh process that measures peak memory")
    parser.add_argument("--threads", type=int, default=2, help="numpy BLAS and torch threads (default 2)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", nargs="+", choices=FRAMEWORKS, default=list(FRAMEWORKS))
    parser.add_argument("--memory-child", choices=FRAMEWORKS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        return memory_child(args.memory_child, args)

    names = [n for n in args.only if available(n)]
    for n in set(args.only) - set(names):
        print(f"{n} is not installed: skipped (see README, 'Benchmark')")
    if "torch" in names:
        import torch
        torch.set_num_threads(args.threads)
    X, y, X_test, y_test = load_data()
    X, y = X[:args.train_size], y[:args.train_size]
    c1, c2 = args.channels
    print(f"CNN conv {args.kernel}x{args.kernel}x{c1} - pool - conv {args.kernel}x{args.kernel}x{c2} - pool - "
          f"dense {args.hidden} - softmax, Adam lr {args.lr}, batch {args.batch_size}, float32, "
          f"{len(X)} training examples, {args.epochs} epochs, {args.threads} threads")
    print(f"numpy {np.__version__}" + (f", torch {torch.__version__}" if "torch" in names else "")
          + f"; {os.cpu_count()} CPUs\n")

    timed_names = names + (["products"] if "mnistlib" in names else [])
    runners = [RUNNERS[n](args) for n in timed_names]
    seconds, accuracy, peaks = rotate(runners, names, X, y, X_test, y_test, args)

    median = {n: float(np.median(seconds[n])) for n in timed_names}
    print("\nmedian seconds per epoch: " + ", ".join(f"{n} {median[n]:.2f}" for n in timed_names))
    for n in ("mnistlib", "products"):
        if n in median and "torch" in median:
            per_epoch = np.median(np.array(seconds[n]) / np.array(seconds["torch"]))
            what = "" if n == "mnistlib" else " (the matrix products alone: a floor for mnistlib's ratio)"
            print(f"ratio {n} / torch: {median[n] / median['torch']:.2f} "
                  f"(median of the per-epoch ratios: {per_epoch:.2f}){what}")
    if "products" in median:
        print(f"mnistlib spends {median['products'] / median['mnistlib']:.0%} of its epoch in the matrix products")
    flops = flops_per_example(args) * len(X)
    peak = max(peaks)
    print(f"peak float32 matrix product (2048^3, numpy): best {peak:.1f} GFLOP/s, "
          f"median {np.median(peaks):.1f} over the {len(peaks)} epochs")
    for n in timed_names:
        rate = flops / median[n] / 1e9
        adjacent = np.median(flops / np.array(seconds[n]) / 1e9 / np.array(peaks))
        print(f"{n}: {rate:.1f} GFLOP/s = {rate / peak:.0%} of the best peak; per epoch against the peak "
              f"measured just before it: median {adjacent:.0%} ({flops / len(X) / 1e6:.1f} MFLOP per example)")

    print(f"\npeak memory of training at batch {args.batch_size} ({args.memory_batches} batches), "
          "each in a fresh process (max RSS):")
    for n in names:
        result = subprocess.run([sys.executable, __file__, "--memory-child", n, "--channels", *map(str, args.channels),
                                 "--kernel", str(args.kernel), "--hidden", str(args.hidden),
                                 "--batch-size", str(args.batch_size), "--memory-batches", str(args.memory_batches),
                                 "--threads", str(args.threads)], capture_output=True, text=True)
        if result.returncode:
            print(f"  {n}: failed: {result.stderr.strip().splitlines()[-1]}")
            continue
        before, peak_mb = map(float, result.stdout.split())
        print(f"  {n}: {peak_mb:.0f} MB peak: {before:.0f} MB with the data loaded, "
              f"+{peak_mb - before:.0f} MB while training")


if __name__ == "__main__":
    main()
