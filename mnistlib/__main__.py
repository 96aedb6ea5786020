"""Command line: train, evaluate and use an MLP on MNIST.

    python -m mnistlib train --hidden 800 --epochs 10 --out models/mlp800.npz
    python -m mnistlib evaluate models/mlp800.npz
    python -m mnistlib predict models/mlp800.npz my_digit.png

Bad arguments or files print one line and exit with status 2; every option is checked
before any data are loaded.
"""
import argparse
import math
import os
import sys
import time

import numpy as np

from .augment import MAX_SHIFT
from .data import MNIST
from .errors import MnistlibError, WriteError
from .saving import check_output_path

OPTIMIZERS = ("sgd", "momentum", "nesterov", "adam")
SCHEDULES = ("constant", "step", "cosine")
MAX_PARAMETERS = 100_000_000
"""The largest network train builds: 1e8 parameters are 400 MB of float32 weights, and
training needs as much again for gradients and momentum (784-800-10 has 0.64 million)."""


class Parser(argparse.ArgumentParser):
    """argparse, but an error is one line (plus exit status 2), not the whole usage text."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def integer(low, high=None):
    """An argparse type: an integer from low to high (None: no upper limit)."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < low or high is not None and value > high:
            if high is not None:
                raise argparse.ArgumentTypeError(f"must be an integer from {low} to {high}, got {text}")
            kind = "a positive integer" if low == 1 else f"an integer >= {low}"
            raise argparse.ArgumentTypeError(f"must be {kind}, got {text}")
        return value
    return parse


positive_int = integer(1)


def finite_float(text):
    """A float from text; ArgumentTypeError for text that is not a finite number (nan, inf)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
    return value


def positive_float(text):
    value = finite_float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def non_negative_float(text):
    value = finite_float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def momentum_float(text):
    value = finite_float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1) (at 1 the velocity never decays), got {text}")
    return value


def build_parser():
    parser = Parser(prog="python -m mnistlib", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    t = sub.add_parser("train", help="train an MLP and save it to a .npz file",
                       description="Train an MLP on the MNIST training set (a dev set held out) and save it.")
    t.add_argument("--hidden", type=positive_int, nargs="*", default=[800], metavar="H",
                   help="hidden layer widths, e.g. --hidden 500 150 (default: 800; none = softmax "
                        f"regression); at most {MAX_PARAMETERS:,} parameters in all")
    t.add_argument("--activation", default="relu", choices=("relu", "elu", "sigmoid", "tanh"))
    t.add_argument("--init", default="he", choices=("he", "xavier", "uniform"))
    t.add_argument("--optimizer", default="momentum", choices=OPTIMIZERS)
    t.add_argument("--lr", type=positive_float, default=None,
                   help="learning rate, a positive number (default 0.05, or 0.001 for adam)")
    t.add_argument("--momentum", type=momentum_float, default=0.9,
                   help="for momentum / nesterov, in [0, 1) (default 0.9)")
    t.add_argument("--weight-decay", type=non_negative_float, default=0.0,
                   help="L2 penalty on weights, 0 or more (default 0)")
    t.add_argument("--schedule", default="constant", choices=SCHEDULES,
                   help="learning-rate schedule: step halves it every 10 epochs; cosine decays it to 0")
    t.add_argument("--epochs", type=positive_int, default=10,
                   help="passes over the training set, a positive integer (default 10)")
    t.add_argument("--batch-size", type=positive_int, default=128,
                   help="examples per update, a positive integer (default 128; one larger than "
                        "the training set means full-batch gradient descent)")
    t.add_argument("--augment", type=integer(0, MAX_SHIFT), default=0, metavar="PIXELS",
                   help=f"randomly shift training images by up to PIXELS, 0 to {MAX_SHIFT} (default "
                        f"0: off). MNIST digits fill a 20x20 box in the 28x28 frame, so a shift "
                        f"beyond {MAX_SHIFT} pixels cuts strokes off")
    t.add_argument("--dev-size", type=integer(0, MNIST.n_train - 1), default=10_000,
                   help=f"examples held out for the dev set, 0 to {MNIST.n_train - 1} "
                        f"(default 10000; 0 trains on all {MNIST.n_train})")
    t.add_argument("--patience", type=positive_int, default=None,
                   help="stop after this many epochs without a better dev accuracy, keep the best "
                        "(needs a dev set)")
    t.add_argument("--seed", type=integer(0), default=0, help="random seed, 0 or more (default 0)")
    t.add_argument("--data-dir", default=None, help="folder holding the four MNIST .gz files")
    t.add_argument("--out", required=True, help="where to save the model (.npz)")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.set_defaults(check=check_train_args, subparser=t)

    e = sub.add_parser("evaluate", help="test accuracy, per-class table and confusion matrix",
                       description="Evaluate a saved model on the official MNIST test set.")
    e.add_argument("model", help="a .npz file written by train")
    e.add_argument("--data-dir", default=None, help="folder holding the four MNIST .gz files")
    e.set_defaults(check=check_data_dir, subparser=e)

    p = sub.add_parser("predict", help="classify image files of handwritten digits",
                       description="Classify PNG/JPEG images of single digits (28x28 or larger; any "
                                   "background: they are preprocessed the way MNIST was).")
    p.add_argument("model", help="a .npz file written by train")
    p.add_argument("images", nargs="+", help="image files")
    p.set_defaults(check=None, subparser=p)
    return parser


def check_data_dir(args):
    """Refuse an empty --data-dir (which would silently mean 'search everywhere')."""
    if args.data_dir is not None and not args.data_dir:
        args.subparser.error("argument --data-dir: expected a folder, got an empty string")


def check_train_args(args):
    """The checks of train's options that involve more than one value; exits with status 2."""
    check_data_dir(args)
    error = args.subparser.error
    if args.patience is not None and args.dev_size == 0:
        error("argument --patience: early stopping needs a dev set, but --dev-size 0 holds none out")
    sizes = [784, *args.hidden, 10]
    count = sum(a * b + b for a, b in zip(sizes, sizes[1:], strict=False))
    if count > MAX_PARAMETERS:
        error(f"argument --hidden: a {'-'.join(map(str, sizes))} network has {count:,} parameters "
              f"({4 * count / 2**30:,.1f} GiB of float32 weights); at most {MAX_PARAMETERS:,} "
              f"are allowed")
    if not args.out:
        error("argument --out: expected the path of a .npz file, got an empty string")
    try:
        check_output_path(args.out)
    except WriteError as e:
        error(f"argument --out: {e}")


def make_optimizer(args):
    from .optim import SGD, Adam
    if args.optimizer == "adam":
        return Adam(lr=args.lr or 1e-3, weight_decay=args.weight_decay)
    momentum = 0.0 if args.optimizer == "sgd" else args.momentum
    return SGD(lr=args.lr or 0.05, momentum=momentum, nesterov=args.optimizer == "nesterov",
               weight_decay=args.weight_decay)


def make_schedule(name):
    from .optim import cosine_schedule, step_schedule
    return {"constant": None, "step": step_schedule(10, 0.5), "cosine": cosine_schedule}[name]


def cmd_train(args):
    from . import MLP, load_mnist, normalize, save_model, train, train_dev_split
    from .augment import shifter
    data = load_mnist(args.data_dir, progress=not args.quiet)
    X, y = normalize(data.X_train), data.y_train
    X_dev = y_dev = None
    if args.dev_size:
        X, y, X_dev, y_dev = train_dev_split(X, y, args.dev_size, seed=args.seed)
    rng = np.random.default_rng(args.seed)
    model = MLP([784, *args.hidden, 10], activation=args.activation, init=args.init, rng=rng)
    optimizer = make_optimizer(args)
    print(f"training {model} with {optimizer} on {len(X)} examples, {args.epochs} epochs")
    history = train(model, X, y, X_dev=X_dev, y_dev=y_dev, optimizer=optimizer, epochs=args.epochs,
                    batch_size=args.batch_size, rng=rng, schedule=make_schedule(args.schedule),
                    augment=shifter(args.augment) if args.augment else None, patience=args.patience,
                    progress=not args.quiet)
    seconds = history.last("seconds")
    dev = f", dev accuracy {history.last('dev_acc'):.2%}" if args.dev_size else ""
    print(f"trained {len(history)} epochs in {seconds:.1f} s{dev}")
    recipe = "python -m mnistlib " + " ".join(args.argv)
    path = save_model(args.out, model, epochs=len(history), train_seconds=round(seconds, 2),
                      dev_accuracy=None if not args.dev_size else history.last("dev_acc"), recipe=recipe)
    print(f"saved {path}")


def cmd_evaluate(args):
    from . import load_mnist, normalize
    from .metrics import classification_report, confusion_matrix
    model = load_mnist_model(args.model)
    data = load_mnist(args.data_dir)
    start = time.perf_counter()
    pred = model.predict(normalize(data.X_test))
    seconds = time.perf_counter() - start
    acc = float((pred == data.y_test).mean())
    print(f"{args.model}: {model}")
    print(f"test accuracy {acc:.2%} ({int((pred != data.y_test).sum())} errors of {len(pred)}), "
          f"predicted in {seconds:.2f} s\n")
    print(classification_report(data.y_test, pred).round(4).to_string())
    print("\nconfusion matrix (rows: true digit, columns: predicted)")
    cm = confusion_matrix(data.y_test, pred)
    print("     " + "".join(f"{j:>6}" for j in range(10)))
    for i, row in enumerate(cm):
        print(f"{i:>5}" + "".join(f"{v:>6}" for v in row))


def load_mnist_model(path):
    """load_model, plus a check that the model reads 784 pixels and scores 10 digits."""
    from . import ModelFileError, load_model
    model = load_model(path)
    if model.sizes[0] != 784 or model.sizes[-1] != 10:
        raise ModelFileError(f"{path}: a model of sizes {list(model.sizes)}; expected 784 inputs "
                             f"and 10 outputs for MNIST digits")
    return model


def cmd_predict(args):
    from .prepare import prepare_digit
    model = load_mnist_model(args.model)
    X = np.stack([prepare_digit(path) for path in args.images])
    for path, probs in zip(args.images, model.predict_proba(X), strict=True):
        top = np.argsort(probs)[::-1][:3]
        alternatives = ", ".join(f"{k}: {probs[k]:.1%}" for k in top[1:])
        print(f"{path}: {top[0]} ({probs[top[0]]:.1%}; then {alternatives})")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    if args.check is not None:
        args.check(args)  # exits with status 2 before any data are loaded
    args.argv = argv
    command = {"train": cmd_train, "evaluate": cmd_evaluate, "predict": cmd_predict}[args.command]
    try:
        command(args)
    except BrokenPipeError:  # e.g. `... | head`: the reader left; not an error worth a message
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (MnistlibError, OSError, ValueError) as e:
        print(f"mnistlib {args.command}: error: {e}", file=sys.stderr)
        return 2
    except MemoryError as e:
        print(f"mnistlib {args.command}: error: out of memory ({e or 'no details'})", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"mnistlib {args.command}: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
