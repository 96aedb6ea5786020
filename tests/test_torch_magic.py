"""The `%%torch` cell magic of notebook 11 (mnistlib.torch_bridge.load_ipython_extension): with PyTorch the
cell runs in the notebook's namespace and its errors propagate; without it the cell is skipped with one line.
No torch needed: its presence is simulated."""
import pytest
from IPython.core.interactiveshell import InteractiveShell

from mnistlib import torch_bridge


@pytest.fixture
def shell():
    ip = InteractiveShell.instance()
    torch_bridge.load_ipython_extension(ip)
    yield ip
    InteractiveShell.clear_instance()


def test_with_torch_the_cell_runs_in_the_notebook_namespace(shell, monkeypatch, capsys):
    monkeypatch.setattr(torch_bridge, "torch_available", lambda: True)
    shell.run_cell_magic("torch", "", "answer = 6 * 7\nprint('ran')")
    assert shell.user_ns["answer"] == 42
    assert capsys.readouterr().out == "ran\n"


def test_with_torch_an_error_in_the_cell_propagates_with_its_line(shell, monkeypatch):
    monkeypatch.setattr(torch_bridge, "torch_available", lambda: True)
    with pytest.raises(ZeroDivisionError) as error:
        shell.run_cell_magic("torch", "", "x = 1\ny = x / 0\n")
    assert "y = x / 0" in "".join(__import__("traceback").format_tb(error.value.__traceback__))


def test_without_torch_the_cell_is_skipped_with_one_line(shell, monkeypatch, capsys):
    monkeypatch.setattr(torch_bridge, "torch_available", lambda: False)
    shell.user_ns.pop("skipped_value", None)
    shell.run_cell_magic("torch", "", "skipped_value = 1\n")
    assert "skipped_value" not in shell.user_ns
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1 and "python run.py torch" in out[0], out
