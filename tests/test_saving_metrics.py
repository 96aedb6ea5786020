"""Model files (save/load round trip, validation) and the metrics."""
import json

import numpy as np
import pandas as pd
import pytest

from mnistlib import MLP, ModelFileError, load_model, save_model
from mnistlib.metrics import (
    accuracy,
    calibration_bins,
    classification_report,
    confusion_matrix,
    expected_calibration_error,
)
from mnistlib.rounding import assert_within, mlp_bounds


def test_save_load_round_trip(tmp_path):
    model = MLP([784, 12, 7, 10], activation=["relu", "tanh"], rng=np.random.default_rng(0))
    path = save_model(tmp_path / "sub" / "m.npz", model, test_accuracy=0.5)
    loaded = load_model(path)
    assert loaded.sizes == model.sizes and loaded.activations == ["relu", "tanh"]
    assert loaded.meta["test_accuracy"] == 0.5
    for k in model.params:
        np.testing.assert_array_equal(loaded.params[k], model.params[k])
    X = np.random.default_rng(1).random((5, 784), dtype=np.float32)
    P_ref, eP = mlp_bounds(model, X)["A3"]  # the same model: both evaluations within the bound
    assert_within(loaded.predict_proba(X), P_ref, eP, "loaded model's probabilities")
    assert_within(model.predict_proba(X), P_ref, eP, "original model's probabilities")
    assert [p.name for p in tmp_path.joinpath("sub").iterdir()] == ["m.npz"]  # no temp file left


def test_load_rejects_wrong_shapes_and_bad_files(tmp_path):
    model = MLP([784, 12, 10])
    params = dict(model.params, W2=np.zeros((11, 10), np.float32))
    meta = json.dumps({"format": "mnistlib-mlp-1", "sizes": [784, 12, 10], "activations": ["relu"],
                       "init": "he"})
    np.savez(tmp_path / "bad.npz", meta=np.array(meta), **params)
    with pytest.raises(ModelFileError, match=r"bad.npz: W2 should have shape \(12, 10\).*found \(11, 10\)"):
        load_model(tmp_path / "bad.npz")
    np.savez(tmp_path / "missing.npz", meta=np.array(meta), W1=model.params["W1"])
    with pytest.raises(ModelFileError, match="missing.npz: expected arrays"):
        load_model(tmp_path / "missing.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ModelFileError, match="junk.npz: not a readable"):
        load_model(tmp_path / "junk.npz")
    np.savez(tmp_path / "nometa.npz", **model.params)
    with pytest.raises(ModelFileError, match="no 'meta' entry"):
        load_model(tmp_path / "nometa.npz")
    with pytest.raises(FileNotFoundError, match="absent.npz: no such model file"):
        load_model(tmp_path / "absent.npz")


def test_confusion_matrix_and_report():
    y_true = np.array([0, 0, 1, 1, 2, 2])
    y_pred = np.array([0, 1, 1, 1, 1, 2])
    cm = confusion_matrix(y_true, y_pred, num_classes=3)
    np.testing.assert_array_equal(cm, [[1, 1, 0], [0, 2, 0], [0, 1, 1]])
    assert accuracy(y_true, y_pred) == pytest.approx(4 / 6)
    rep = classification_report(y_true, y_pred, num_classes=4)
    assert rep.loc[1, "precision"] == pytest.approx(0.5) and rep.loc[1, "recall"] == 1
    assert rep.loc[0, "precision"] == 1 and rep.loc[0, "recall"] == 0.5
    assert np.isnan(rep.loc[3, "precision"]) and rep.loc[3, "support"] == 0
    with pytest.raises(ValueError, match="shape"):
        accuracy(y_true, y_pred[:3])


def test_calibration():
    probs = np.array([[0.95, 0.05], [0.95, 0.05], [0.55, 0.45], [0.45, 0.55]])
    y = np.array([0, 1, 0, 1])
    table = calibration_bins(probs, y, num_bins=10)
    assert isinstance(table, pd.DataFrame) and list(table["count"]) == [2, 2]
    assert list(table["accuracy"]) == [1.0, 0.5]
    assert expected_calibration_error(probs, y, 10) == pytest.approx((2 * 0.45 + 2 * 0.45) / 4)
