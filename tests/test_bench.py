"""The benchmark script: its FLOP count, and a one-epoch run of mnistlib alone (no peers needed)."""
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "bench_mlp.py"


def load_bench():
    spec = importlib.util.spec_from_file_location("bench_mlp", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_flop_count_is_the_issue_formula():
    bench = load_bench()
    for H in (10, 800):
        assert bench.flops_per_example([784, H, 10]) == 4 * 784 * H + 6 * H * 10
    # deeper: the second and later layers also pay for dA (6 a b instead of 4 a b)
    assert bench.flops_per_example([784, 500, 150, 10]) == 4 * 784 * 500 + 6 * 500 * 150 + 6 * 150 * 10


def test_one_epoch_run_prints_every_figure():
    result = subprocess.run([sys.executable, str(SCRIPT), "--epochs", "1", "--hidden", "16",
                             "--only", "mnistlib", "autograd"], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert re.search(r"mnistlib: [\d.]+ GFLOP/s = \d+% of the best peak", out)
    assert re.search(r"matrix products alone: [\d.]+ GFLOP/s", out)
    assert re.search(r"mnistlib: \d+ MB peak: \d+ MB with the data loaded, \+\d+ MB while training", out)
    assert re.search(r"autograd overhead, autograd / mnistlib: [\d.]+ \(median of the per-epoch ratios", out)
    # the same model, optimiser and data order: autograd's epoch ends at the same test accuracy
    row = re.search(r"^\s+1\s+[\d.]+\s+[\d.]+\s+([\d.]+)%\s+[\d.]+\s+([\d.]+)%", out, re.M)
    assert row and row.group(1) == row.group(2), out
    error = float(re.search(r"best test error ([\d.]+)%", out).group(1))
    assert error < 15  # one epoch of 784-16-10 gets about 9 % error
