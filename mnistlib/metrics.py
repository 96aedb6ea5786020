"""Metrics for classifiers: accuracy, confusion matrix, per-class report, calibration.

y_true, y_pred: (N,) integer labels in 0..C-1; probs: (N, K) predicted probabilities.
"""
import numpy as np
import pandas as pd


def accuracy(y_true, y_pred):
    """Fraction of labels predicted correctly (float in [0, 1])."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has shape {y_true.shape} but y_pred has shape {y_pred.shape}")
    return float((y_true == y_pred).mean())


def confusion_matrix(y_true, y_pred, num_classes=10):
    """Counts (K, K) int64: entry [i, j] is how many examples of class i were predicted j."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(cm, (y_true, y_pred), 1)
    return cm


def precision_recall(cm):
    """Per-class precision and recall from a confusion matrix cm (K, K), rows true, columns predicted.

    Returns (precision (K,), recall (K,)) floats:
    precision[k] = cm[k, k] / cm[:, k].sum()  (of the images called k, the fraction that are k);
    recall[k]    = cm[k, k] / cm[k, :].sum()  (of the true k's, the fraction found).
    NaN where the denominator is 0 (a class never predicted, or absent).
    """
    tp = np.diag(cm).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return tp / cm.sum(axis=0), tp / cm.sum(axis=1)


def classification_report(y_true, y_pred, num_classes=10):
    """Per-class precision, recall, F1 and support as a DataFrame indexed by class (K rows).

    precision = TP / (TP + FP) (of the images called "k", how many are k);
    recall    = TP / (TP + FN) (of the true k's, how many were found).
    A class never predicted gets precision NaN.
    """
    cm = confusion_matrix(y_true, y_pred, num_classes)
    precision, recall = precision_recall(cm)
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = 2 * precision * recall / (precision + recall)
    return pd.DataFrame({"precision": precision, "recall": recall, "f1": f1,
                         "support": cm.sum(axis=1)}, index=pd.RangeIndex(num_classes, name="class"))


def calibration_bins(probs, y_true, num_bins=10):
    """Reliability table: confidence (max probability) in equal-width bins vs accuracy.

    probs: (N, K); y_true: (N,). Returns a DataFrame with one row per non-empty bin:
    bin_low, bin_high, count, mean_confidence, accuracy. Also see expected_calibration_error.
    """
    conf = probs.max(axis=1)
    correct = probs.argmax(axis=1) == np.asarray(y_true)
    edges = np.linspace(0, 1, num_bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1]), 0, num_bins - 1)
    rows = []
    for b in range(num_bins):
        mask = which == b
        if mask.any():
            rows.append((edges[b], edges[b + 1], int(mask.sum()), float(conf[mask].mean()),
                         float(correct[mask].mean())))
    return pd.DataFrame(rows, columns=["bin_low", "bin_high", "count", "mean_confidence", "accuracy"])


def expected_calibration_error(probs, y_true, num_bins=10):
    """ECE: the count-weighted mean |accuracy - confidence| over the calibration bins."""
    t = calibration_bins(probs, y_true, num_bins)
    return float((t["count"] * (t["accuracy"] - t["mean_confidence"]).abs()).sum() / t["count"].sum())
