"""The command line: train / evaluate / predict on the real data, and one-line errors."""
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import mnistlib
from mnistlib.__main__ import main


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "m.npz"
    assert main(["train", "--hidden", "32", "--epochs", "1", "--dev-size", "5000", "--quiet",
                 "--out", str(path)]) == 0
    return path


def test_train_saves_a_model_that_learned(trained):
    model = mnistlib.load_model(trained)
    assert model.sizes == (784, 32, 10)
    assert model.meta["dev_accuracy"] > 0.85
    assert model.meta["recipe"].startswith("python -m mnistlib train --hidden 32")


def test_evaluate_prints_accuracy_table_and_confusion_matrix(trained, capsys):
    assert main(["evaluate", str(trained)]) == 0
    out = capsys.readouterr().out
    acc = float(out.split("test accuracy ")[1].split("%")[0]) / 100
    data = mnistlib.load_mnist()
    expected = (mnistlib.load_model(trained).predict(mnistlib.normalize(data.X_test)) == data.y_test).mean()
    assert acc == pytest.approx(expected, abs=5e-5)
    assert "precision" in out and "confusion matrix" in out
    assert out.strip().splitlines()[-1].split()[0] == "9"


def test_predict_reads_images_like_mnist(trained, tmp_path, capsys):
    data = mnistlib.load_mnist()
    model = mnistlib.load_model(trained)
    paths = []
    for i in range(5):  # dark-on-light, 3x larger: predict must undo both
        img = Image.fromarray(255 - data.X_test[i].reshape(28, 28)).resize((84, 84))
        paths.append(tmp_path / f"digit{i}.png")
        img.save(paths[-1])
    assert main(["predict", str(trained), *map(str, paths)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    got = [int(line.split(": ")[1].split()[0]) for line in lines]
    expected = model.predict(mnistlib.normalize(data.X_test[:5]))
    assert np.mean(np.array(got) == expected) >= 0.8


@pytest.mark.parametrize("argv, message", [
    (["train", "--out", "x.npz", "--epochs", "0"], "--epochs: must be a positive integer"),
    (["train", "--out", "x.npz", "--optimizer", "rmsprop"], "invalid choice: 'rmsprop'"),
    (["evaluate"], "the following arguments are required: model"),
    (["fly"], "invalid choice: 'fly'"),
])
def test_bad_arguments_give_one_line_and_status_2(argv, message, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_bad_files_give_one_line_and_status_2(tmp_path, trained, capsys):
    assert main(["evaluate", str(tmp_path / "none.npz")]) == 2
    assert capsys.readouterr().err.strip() == f"mnistlib evaluate: error: {tmp_path / 'none.npz'}: no such model file"
    (tmp_path / "bad.png").write_bytes(b"not an image")
    assert main(["predict", str(trained), str(tmp_path / "bad.png")]) == 2
    err = capsys.readouterr().err
    assert "bad.png: not a readable image" in err and "Traceback" not in err
    Image.fromarray(np.zeros((10, 10), np.uint8)).save(tmp_path / "tiny.png")
    assert main(["predict", str(trained), str(tmp_path / "tiny.png")]) == 2
    assert "at least 28x28" in capsys.readouterr().err


def test_module_entry_point_help():
    result = subprocess.run([sys.executable, "-m", "mnistlib", "train", "--help"],
                            capture_output=True, text=True, check=True)
    assert "--hidden" in result.stdout and "--augment" in result.stdout
