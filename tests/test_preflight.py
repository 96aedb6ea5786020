"""The pre-flight check: all ✓ in the real environment, and each kind of breakage shows as its ✗ line.

Every test but the first replaces the kernel item by a stand-in, so only one real kernel starts, and
tests about other items reuse the session's loaded data rather than reading and verifying it again.
"""
import gzip
import re
import sys
from collections import namedtuple
from pathlib import Path

import pytest

from mnistlib import preflight
from mnistlib.data import MNIST_FILES, REPO_DATA_ROOT

ROOT = Path(__file__).resolve().parent.parent


def run_preflight(capsys):
    """Run the check in-process; return (exit status, {item: line}, verdict line, whole output)."""
    status = preflight.main([])
    out = capsys.readouterr().out
    lines = out.splitlines()
    items = {re.match(r"^\S+ ([^:]+):", line).group(1): line for line in lines[:-1]}
    return status, items, lines[-1], out


@pytest.fixture
def no_kernel(monkeypatch):
    """Skip starting a real kernel (tested once, in test_real_environment_is_ready)."""
    monkeypatch.setattr(preflight, "check_kernel", lambda state: "not started in this test")


@pytest.fixture
def data_loaded_once(monkeypatch, mnist):
    """The data item hands over the session's already verified MNIST instead of reading it again."""
    monkeypatch.setattr(preflight, "check_data", lambda state: state.update(data=mnist) or "loaded")


@pytest.fixture
def fast(no_kernel, data_loaded_once):
    """For tests about other items: no kernel, no second read of the data."""


def test_real_environment_is_ready(capsys):
    status, items, verdict, out = run_preflight(capsys)
    assert verdict == "READY for the workshop"
    assert status == 0
    assert all(line.startswith("✓ ") for line in items.values()), out
    assert {"Python", "environment", "numpy", "PIL (pillow)", "nbval", "pytest", "mnistlib",
            "MNIST data", "training step", "Jupyter kernel", "disk"} <= set(items)
    assert f"in {REPO_DATA_ROOT / 'mnist'}: 60,000 training and 10,000 test digits" in items["MNIST data"]
    assert "computed 1 + 1 = 2 and imported mnistlib" in items["Jupyter kernel"]
    assert re.search(r"loss \d\.\d{3} -> \d\.\d{3}", items["training step"])
    assert "Traceback" not in out


def test_missing_package_is_named(capsys, monkeypatch, fast):
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # makes `import ipywidgets` fail
    status, items, verdict, out = run_preflight(capsys)
    assert status == 1
    assert items["ipywidgets"].startswith("✗ ipywidgets: cannot be imported (")
    assert "python run.py lab" in items["ipywidgets"]
    assert verdict == "NOT READY: 1 problem (see ✗ above)"
    assert items["numpy"].startswith("✓ numpy: ")


def test_too_old_package_is_named(capsys, monkeypatch, fast):
    monkeypatch.setattr(preflight, "minimum_versions", lambda: {"numpy": "99.0"})
    status, items, verdict, out = run_preflight(capsys)
    assert status == 1
    assert re.match(r"✗ numpy: version [\d.]+ is too old, need 99.0 or newer", items["numpy"])


def test_corrupted_data_file_is_named(capsys, monkeypatch, tmp_path, no_kernel):
    """A copy of the data (via MNIST_DATA_DIR) whose train labels were changed by one byte."""
    for name in MNIST_FILES.values():
        (tmp_path / name).symlink_to(REPO_DATA_ROOT / "mnist" / name)
    labels = tmp_path / MNIST_FILES["train_labels"]
    raw = bytearray(gzip.decompress(labels.read_bytes()))
    raw[-1] = (raw[-1] + 1) % 10  # still a valid label: only the checksum can tell
    labels.unlink()
    labels.write_bytes(gzip.compress(bytes(raw)))
    monkeypatch.setenv("MNIST_DATA_DIR", str(tmp_path))
    status, items, verdict, out = run_preflight(capsys)
    assert status == 1
    line = items["MNIST data"]
    assert line.startswith(f"✗ MNIST data: {labels}: SHA-256 of the decompressed bytes is ")
    assert "replace it" in line
    assert items["training step"] == "- training step: skipped, needs the MNIST data (see the data line)"
    assert verdict == "NOT READY: 1 problem (see ✗ above)"  # the skipped step is not counted


def test_incomplete_data_folder_is_named(capsys, monkeypatch, tmp_path, no_kernel):
    monkeypatch.setenv("MNIST_DATA_DIR", str(tmp_path))  # an empty folder
    status, items, verdict, out = run_preflight(capsys)
    assert status == 1
    assert items["MNIST data"].startswith(f"✗ MNIST data: {tmp_path} (from the $MNIST_DATA_DIR): "
                                          f"expected the mnist files there, missing: ")


def test_missing_data_says_where_it_looked(capsys, isolated_search, no_kernel):
    status, items, verdict, out = run_preflight(capsys)
    assert status == 1
    line = items["MNIST data"]
    assert line.startswith("✗ MNIST data: mnist not found: no directory holds all of ")
    assert str(isolated_search / "repo-data" / "mnist") in line  # the places it looked in
    assert line.endswith("(`git checkout -- data/mnist` restores them)")


def test_too_little_disk_space(capsys, monkeypatch, fast):
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(preflight.shutil, "disk_usage", lambda path: usage(10e9, 9.8e9, 0.2e9))
    status, items, verdict, out = run_preflight(capsys)
    assert status == 1
    assert items["disk"].startswith(f"✗ disk: only 0.20 GB free on the disk holding {ROOT}; "
                                    f"free at least 1 GB")


def test_system_python_is_refused(capsys, monkeypatch, fast):
    monkeypatch.setattr(sys, "prefix", sys.base_prefix)  # as if no venv were active
    status, items, verdict, out = run_preflight(capsys)
    assert status == 1
    assert items["environment"].startswith("✗ environment: this is the system Python (")


def test_too_old_python_is_refused(capsys, monkeypatch, fast):
    monkeypatch.setattr(preflight, "MIN_PYTHON", (99, 0))
    status, items, verdict, out = run_preflight(capsys)
    assert status == 1
    assert re.match(r"✗ Python: 3\.\d+\.\d+ at .* is too old: the notebooks need 99\.0 or newer",
                    items["Python"])


def test_missing_kernel_is_one_line(capsys, monkeypatch, data_loaded_once):
    monkeypatch.setattr(preflight, "KERNEL_NAME", "no-such-kernel")  # fails before any process starts
    status, items, verdict, out = run_preflight(capsys)
    assert status == 1
    assert items["Jupyter kernel"].startswith("✗ Jupyter kernel: the no-such-kernel kernel did not "
                                              "start (NoSuchKernel")
    assert "Traceback" not in out


def test_unexpected_error_is_one_line_not_a_traceback(capsys, monkeypatch, fast):
    def broken(state):
        raise RuntimeError("boom\nsecond line")
    monkeypatch.setattr(preflight, "check_disk", broken)
    status, items, verdict, out = run_preflight(capsys)
    assert status == 1
    assert items["disk"] == "✗ disk: unexpected RuntimeError: boom; second line"
    assert "Traceback" not in out


def test_plain_marks_where_the_console_cannot_show_unicode():
    class Latin1:
        encoding = "cp1252"
    assert preflight._marks(Latin1()) == ("ok", "XX")


def test_arguments_are_refused(capsys):
    assert preflight.main(["--fast"]) == 2
    assert "takes no arguments" in capsys.readouterr().err


def test_every_package_has_a_minimum_version_from_pyproject():
    minimums = preflight.minimum_versions()
    for _, dist in preflight.REQUIRED:
        assert re.fullmatch(r"\d+(\.\d+)*", minimums.get(dist, "")), dist
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert f'"numpy>={minimums["numpy"]}' in text
