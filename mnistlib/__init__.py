"""mnistlib: the shared code of the MNIST from Scratch notebooks.

One module per idea:
  idx, download, data, formats  loading MNIST (IDX files, mirrors, CSV, image folders)
  preprocess                    normalize, one_hot, shuffle, train/dev split
  activations, losses           g(Z) and g'(Z); stable softmax and cross-entropy
  network                       the two-layer network exactly as derived in the notebooks
  mlp                           the same network generalised to any depth (class MLP)
  layers                        Conv2D, MaxPool2D, Flatten, Dense, ReLU; Sequential and CNN (notebook 09)
  optim, train                  SGD / momentum / Adam, schedules; the training loop
  augment                       random shifts of batches of digits
  metrics, plots, gradcheck     evaluation, figures, numerical gradient checks
  rounding                      float32 error bounds: how far a result may be from the exact one
  saving                        save_model / load_model (.npz, validated)
  autograd                      reverse-mode automatic differentiation over NumPy arrays (notebook 10)
  torch_bridge, ddp             the same networks in PyTorch, and trained on several processes (optional extra)
"""
import os

from .data import CLASS_NAMES, FASHION_MNIST, MNIST, MNISTData, load_dataset, load_mnist
from .errors import (
    ChecksumError,
    DataError,
    DownloadError,
    MnistlibError,
    ModelFileError,
    ShapeError,
    TrainingDiverged,
    WriteError,
)
from .layers import CNN, Conv2D, Dense, Flatten, MaxPool2D, ReLU, Sequential
from .mlp import MLP
from .optim import SGD, Adam, cosine_schedule, step_schedule
from .preprocess import normalize, one_hot, train_dev_split
from .saving import load_model, save_model
from .train import History, evaluate, train

__version__ = "0.1.0"
__all__ = [
    "MNIST", "FASHION_MNIST", "CLASS_NAMES", "MNISTData", "load_mnist", "load_dataset",
    "normalize", "one_hot", "train_dev_split",
    "MLP", "CNN", "Sequential", "Conv2D", "MaxPool2D", "Flatten", "Dense", "ReLU",
    "SGD", "Adam", "cosine_schedule", "step_schedule", "History", "train", "evaluate",
    "save_model", "load_model", "quick_mode",
    "MnistlibError", "DataError", "ChecksumError", "DownloadError", "ShapeError",
    "ModelFileError", "TrainingDiverged", "WriteError",
]


def quick_mode():
    """True when the environment variable MNIST_QUICK is set to a non-zero value.

    The notebooks read it to shrink their work for CI (fewer epochs, fewer seeds);
    unset, everything runs at full size.
    """
    return os.environ.get("MNIST_QUICK", "0").strip() not in ("", "0", "false", "False")
