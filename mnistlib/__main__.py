"""Command line: train, evaluate and use an MLP on MNIST.

    python -m mnistlib train --hidden 800 --epochs 10 --out models/mlp800.npz
    python -m mnistlib evaluate models/mlp800.npz
    python -m mnistlib predict models/mlp800.npz my_digit.png

Bad arguments or files print one line and exit with status 2.
"""
import argparse
import os
import sys
import time

import numpy as np

from .errors import MnistlibError

OPTIMIZERS = ("sgd", "momentum", "nesterov", "adam")
SCHEDULES = ("constant", "step", "cosine")


class Parser(argparse.ArgumentParser):
    """argparse, but an error is one line (plus exit status 2), not the whole usage text."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def positive_float(text):
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def build_parser():
    parser = Parser(prog="python -m mnistlib", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    t = sub.add_parser("train", help="train an MLP and save it to a .npz file",
                       description="Train an MLP on the MNIST training set (a dev set held out) and save it.")
    t.add_argument("--hidden", type=positive_int, nargs="*", default=[800], metavar="H",
                   help="hidden layer widths, e.g. --hidden 500 150 (default: 800; none = softmax regression)")
    t.add_argument("--activation", default="relu", choices=("relu", "elu", "sigmoid", "tanh"))
    t.add_argument("--init", default="he", choices=("he", "xavier", "uniform"))
    t.add_argument("--optimizer", default="momentum", choices=OPTIMIZERS)
    t.add_argument("--lr", type=positive_float, default=None,
                   help="learning rate (default 0.05, or 0.001 for adam)")
    t.add_argument("--momentum", type=float, default=0.9, help="for momentum / nesterov (default 0.9)")
    t.add_argument("--weight-decay", type=float, default=0.0, help="L2 penalty on weights (default 0)")
    t.add_argument("--schedule", default="constant", choices=SCHEDULES,
                   help="learning-rate schedule: step halves it every 10 epochs; cosine decays it to 0")
    t.add_argument("--epochs", type=positive_int, default=10)
    t.add_argument("--batch-size", type=positive_int, default=128)
    t.add_argument("--augment", type=int, default=0, metavar="PIXELS",
                   help="randomly shift training images by up to PIXELS (default 0: off)")
    t.add_argument("--dev-size", type=int, default=10_000,
                   help="examples held out for the dev set (default 10000; 0 trains on all 60000)")
    t.add_argument("--patience", type=positive_int, default=None,
                   help="stop after this many epochs without a better dev accuracy, keep the best")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--data-dir", default=None, help="folder holding the four MNIST .gz files")
    t.add_argument("--out", required=True, help="where to save the model (.npz)")
    t.add_argument("--quiet", action="store_true", help="no progress bar")

    e = sub.add_parser("evaluate", help="test accuracy, per-class table and confusion matrix",
                       description="Evaluate a saved model on the official MNIST test set.")
    e.add_argument("model", help="a .npz file written by train")
    e.add_argument("--data-dir", default=None, help="folder holding the four MNIST .gz files")

    p = sub.add_parser("predict", help="classify image files of handwritten digits",
                       description="Classify PNG/JPEG images of single digits (28x28 or larger; any "
                                   "background: they are preprocessed the way MNIST was).")
    p.add_argument("model", help="a .npz file written by train")
    p.add_argument("images", nargs="+", help="image files")
    return parser


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
    if args.dev_size < 0 or args.augment < 0:
        raise ValueError("--dev-size and --augment must not be negative")
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
    from . import load_mnist, load_model, normalize
    from .metrics import classification_report, confusion_matrix
    model = load_model(args.model)
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


def cmd_predict(args):
    from . import load_model
    from .prepare import prepare_digit
    model = load_model(args.model)
    X = np.stack([prepare_digit(path) for path in args.images])
    for path, probs in zip(args.images, model.predict_proba(X)):
        top = np.argsort(probs)[::-1][:3]
        alternatives = ", ".join(f"{k}: {probs[k]:.1%}" for k in top[1:])
        print(f"{path}: {top[0]} ({probs[top[0]]:.1%}; then {alternatives})")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
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
    except KeyboardInterrupt:
        print(f"mnistlib {args.command}: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
