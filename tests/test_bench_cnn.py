"""The CNN benchmark script runs end to end in a tiny mode (mnistlib alone, no torch needed)."""
import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "bench_cnn.py"


def test_tiny_run_prints_every_figure():
    result = subprocess.run([sys.executable, str(SCRIPT), "--epochs", "1", "--channels", "4", "8", "--hidden", "16",
                             "--train-size", "2000", "--memory-batches", "5", "--only", "mnistlib"],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert re.search(r"median seconds per epoch: mnistlib [\d.]+", out)
    assert re.search(r"mnistlib: [\d.]+ GFLOP/s = \d+% of the best peak", out)
    assert re.search(r"products: [\d.]+ GFLOP/s = \d+% of the best peak", out)
    assert re.search(r"mnistlib spends \d+% of its epoch in the matrix products", out)
    assert re.search(r"mnistlib: \d+ MB peak: \d+ MB with the data loaded, \+\d+ MB while training", out)
    accuracy = float(re.search(r"^\s+1\s+[\d.]+\s+[\d.]+\s+([\d.]+)%", out, re.M).group(1))
    assert accuracy > 15  # one epoch on 2,000 images beats chance (10 %)
