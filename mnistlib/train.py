"""Training loops: full-batch gradient descent, mini-batch SGD, per-sample SGD, any optimiser.

One loop serves them all: `batch_size=None` is full batch (one update per epoch),
`batch_size=1` is per-sample SGD. It records a History, shows a progress bar,
and stops with a clear TrainingDiverged error (history attached) if the loss
becomes NaN, infinite or explodes past `max_loss`.
"""
import time

import numpy as np
from tqdm.auto import tqdm

from .errors import TrainingDiverged
from .losses import log_softmax
from .optim import SGD, constant_schedule
from .preprocess import one_hot


class History:
    """Per-epoch records of a training run; `history.to_frame()` gives a pandas DataFrame.

    Columns: epoch (1-based), step (updates so far), lr, train_loss and train_acc
    (averaged over the epoch's batches, each measured just before its update), dev_loss,
    dev_acc (after the epoch's last update, so the dev curve is a little "ahead" of the
    train curve; NaN without a dev set), seconds (cumulative training time).
    """

    COLUMNS = ("epoch", "step", "lr", "train_loss", "train_acc", "dev_loss", "dev_acc", "seconds")

    def __init__(self):
        self.records = {c: [] for c in self.COLUMNS}

    def append(self, **row):
        for c in self.COLUMNS:
            self.records[c].append(row[c])

    def __getitem__(self, column):
        return np.array(self.records[column])

    def __len__(self):
        return len(self.records["epoch"])

    def last(self, column):
        return self.records[column][-1]

    def to_frame(self):
        import pandas as pd
        return pd.DataFrame(self.records).set_index("epoch")

    def __repr__(self):
        if not len(self):
            return "History(empty)"
        return (f"History({len(self)} epochs, train_loss={self.last('train_loss'):.4f}, "
                f"dev_acc={self.last('dev_acc'):.4f}, {self.last('seconds'):.1f} s)")


def evaluate(model, X, y, batch_size=10_000):
    """Mean cross-entropy and accuracy of `model` on X (N, D) with labels y (N,).

    Returns (loss, accuracy) as floats.
    """
    Z = model.logits(X, batch_size)
    logp = log_softmax(Z)[np.arange(len(y)), y]  # log-probability of each true class, (N,)
    return float(-logp.mean()), float((Z.argmax(axis=1) == y).mean())


def average_gradients(shards):
    """The gradients of a batch from its shards: the all-reduce of data-parallel training (notebook 11).

    shards: a list of gradient dicts {"dW1": ..., "db1": ...}, one per process, each the gradient of the
    MEAN loss over that process's equal share (N / n_proc rows) of a batch of N. Returns their average,
    a new dict of the same keys and shapes: the gradient of the mean loss over all N rows (a sum would be
    n_proc times too large, because each shard's loss is already a mean).
    """
    if not shards:
        raise ValueError("average_gradients needs the gradients of at least one shard")
    return {k: sum(shard[k] for shard in shards) / len(shards) for k in shards[0]}


def check_scaled(X, name="X"):
    """Refuse unscaled pixels: X must be float with values in [0, 1] (use mnistlib.normalize)."""
    if not np.issubdtype(X.dtype, np.floating):
        raise ValueError(f"{name} has dtype {X.dtype}; scale pixels to [0, 1] float32 with "
                         f"mnistlib.normalize({name}) first")
    top = float(X.max()) if X.size else 0.0
    if top > 1.0:
        raise ValueError(f"{name} has values up to {top:g}; inputs should be scaled to [0, 1] "
                         f"(divide by 255, or use mnistlib.normalize)")


def iterate_minibatches(X, Y, batch_size, rng=None):
    """Yield (Xb, Yb) mini-batches that cover every row of X and Y exactly once.

    X: (N, D); Y: (N, C) (or any arrays with N rows); batch_size: rows per batch, the last
    batch smaller when batch_size does not divide N. rng: a np.random.Generator for a new
    random order on every call (one rng.permutation(N) per epoch), or None to keep the order
    of X (then the batches are views, not copies).
    """
    N = len(X)
    order = None if rng is None else rng.permutation(N)
    for i in range(0, N, batch_size):
        rows = slice(i, i + batch_size) if order is None else order[i:i + batch_size]
        yield X[rows], Y[rows]


def train(model, X, y, *, X_dev=None, y_dev=None, optimizer=None, epochs=10, batch_size=None,
          shuffle=True, rng=None, schedule=None, augment=None, patience=None, max_loss=1e3,
          progress=True, desc="training"):
    """Train `model` (an MLP) in place and return its History.

    X: (N, D) float32 in [0, 1]; y: (N,) integer labels; X_dev, y_dev likewise (optional).
    optimizer: an SGD / Adam instance (default SGD(lr=0.1)), or any object with .lr and
        .step(params, grads); its lr is the base rate, multiplied each epoch by
        schedule(epoch, epochs) (default: constant).
    batch_size: None for full-batch gradient descent, 1 for per-sample SGD, else mini-batches
        drawn in a new random order each epoch (rng: np.random.Generator, default
        default_rng(0)); shuffle=False keeps the order of X.
    augment: optional function (X_batch, rng) -> X_batch applied to each training batch.
    patience: stop when dev accuracy has not improved for this many epochs, and restore the
        best parameters (needs a dev set).
    max_loss: treat a batch loss above this as divergence (chance level is log(10) = 2.3;
        with a stable softmax a runaway loss grows huge long before it becomes inf). None: off.
    Raises TrainingDiverged (with .history) when the loss becomes NaN, infinite or > max_loss.
    """
    check_scaled(X)
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)} labels")
    if patience is not None and X_dev is None:
        raise ValueError("early stopping (patience) needs a dev set: pass X_dev and y_dev")
    optimizer = SGD(lr=0.1) if optimizer is None else optimizer
    schedule = constant_schedule if schedule is None else schedule
    rng = np.random.default_rng(0) if rng is None else rng
    X = X.astype(model.dtype, copy=False)
    y = np.asarray(y)
    Y = one_hot(y, model.sizes[-1]).astype(model.dtype)
    N = len(X)
    batch = N if batch_size is None else int(batch_size)
    batches_per_epoch = -(-N // batch)
    base_lr = optimizer.lr
    history = History()
    best = (-1.0, None)
    since_best, steps, seconds = 0, 0, 0.0
    bar = tqdm(total=epochs * batches_per_epoch, desc=desc, disable=not progress,
               unit="step", mininterval=0.5, dynamic_ncols=True)
    try:
        for epoch in range(epochs):
            optimizer.lr = base_lr * schedule(epoch, epochs)
            scale = getattr(optimizer, "grad_scale", 1.0)  # SGD: -lr, which saves a pass per update
            start = time.perf_counter()
            loss_sum = correct = 0.0
            for Xb, Yb in iterate_minibatches(X, Y, batch, rng if shuffle and batch < N else None):
                if augment is not None:
                    Xb = augment(Xb, rng)
                loss, grads, Z = model.loss_and_grads(Xb, Yb, scale)
                if not np.isfinite(loss) or (max_loss is not None and loss > max_loss):
                    raise TrainingDiverged(
                        f"training diverged at epoch {epoch + 1}, step {steps + 1}: the loss became "
                        f"{loss:.4g} with lr={optimizer.lr:g}. Try a smaller learning rate "
                        f"(e.g. lr={optimizer.lr / 10:g}) and check the inputs are scaled to [0, 1].")
                if scale == 1:  # your own optimiser needs only .lr and .step(params, grads)
                    optimizer.step(model.params, grads)
                else:
                    optimizer.step(model.params, grads, scale)
                steps += 1
                loss_sum += loss * len(Xb)
                correct += float((Z.argmax(axis=1) == Yb.argmax(axis=1)).sum())
                bar.update(1)
            seconds += time.perf_counter() - start
            dev_loss, dev_acc = evaluate(model, X_dev, y_dev) if X_dev is not None else (np.nan, np.nan)
            history.append(epoch=epoch + 1, step=steps, lr=optimizer.lr, train_loss=loss_sum / N,
                           train_acc=correct / N, dev_loss=dev_loss, dev_acc=dev_acc, seconds=seconds)
            bar.set_postfix(loss=f"{loss_sum / N:.4f}", dev_acc=f"{dev_acc:.4f}", refresh=False)
            if patience is not None:
                if dev_acc > best[0]:
                    best, since_best = (dev_acc, {k: v.copy() for k, v in model.params.items()}), 0
                else:
                    since_best += 1
                    if since_best >= patience:
                        break
    except TrainingDiverged as error:
        error.history = history
        raise
    finally:
        optimizer.lr = base_lr
        bar.close()
    if patience is not None and best[1] is not None:
        for k, v in best[1].items():
            model.params[k][...] = v
    if progress:  # a plain line too, for viewers that cannot show the progress widget
        dev = f", dev accuracy {history.last('dev_acc'):.2%}" if X_dev is not None else ""
        if patience is not None and best[1] is not None:
            dev = f", best dev accuracy {best[0]:.2%} at epoch {int(np.argmax(history['dev_acc'])) + 1} (restored)"
        print(f"{desc}: {len(history)} epochs, {steps} steps in {seconds:.1f} s, "
              f"train loss {history.last('train_loss'):.4f}{dev}")
    return history
