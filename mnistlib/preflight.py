"""Pre-flight check: is this machine ready for the workshop? Run it the day before.

    python -m mnistlib.preflight          (also: python run.py preflight)

One line per item, then a verdict, in a few seconds:

    ✓ Python: 3.11.7 at /work/main/.venv/bin/python
    ✗ ipywidgets: cannot be imported (No module named 'ipywidgets'); run `python run.py lab` ...
    ...
    NOT READY: 1 problem (see ✗ above)

The items: the Python version, the virtual environment, every package the notebooks import
(with its version), the four MNIST files (SHA-256 verified by ``mnistlib.data``, and where they
were found), one SGD step of a tiny network on real digits, a Jupyter kernel that starts and
computes 1 + 1, and the free disk space. Exit status 0 when everything is ready, 1 otherwise.
An expected failure is one line saying what is wrong and what to do, never a traceback.
"""
from __future__ import annotations

import ast
import importlib
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
"""The project folder (holding notebooks/, data/ and, after `python run.py lab`, .venv/)."""

SETUP_HINT = "run `python run.py lab` (or `make lab`) in the project folder"
"""What to do when the environment is incomplete: the setup command installs everything."""

MIN_PYTHON = (3, 10)

REQUIRED = [  # (import name, distribution name); minimum versions come from pyproject.toml
    ("numpy", "numpy"),
    ("pandas", "pandas"),
    ("matplotlib", "matplotlib"),
    ("PIL", "pillow"),
    ("tqdm", "tqdm"),
    ("threadpoolctl", "threadpoolctl"),
    ("ipywidgets", "ipywidgets"),
    ("anywidget", "anywidget"),
    ("jupyterlab", "jupyterlab"),
    ("ipykernel", "ipykernel"),
    ("nbval", "nbval"),
    ("pytest", "pytest"),
]
"""Every package the notebooks and their tests import."""

KERNEL_NAME = "python3"
KERNEL_TIMEOUT = 60.0
"""Seconds to wait for the kernel to start and to answer."""

MIN_FREE_GB = 1.0


class Problem(Exception):
    """An expected failure; its message says what is wrong and what to do."""


class Skipped(Exception):
    """The item cannot be checked because an earlier one failed; not counted as a problem."""


def check_python(state):
    """Python >= MIN_PYTHON."""
    version = ".".join(map(str, sys.version_info[:3]))
    if sys.version_info[:2] < MIN_PYTHON:
        wanted = ".".join(map(str, MIN_PYTHON))
        raise Problem(f"{version} at {sys.executable} is too old: the notebooks need {wanted} or "
                      f"newer; install a newer Python, then {SETUP_HINT}")
    return f"{version} at {sys.executable}"


def check_environment(state):
    """Inside a virtual (or conda) environment, not the system Python; say which one."""
    prefix = Path(sys.prefix)
    if (prefix / "conda-meta").is_dir():
        return f"conda environment at {prefix}"
    if sys.prefix == sys.base_prefix:
        raise Problem(f"this is the system Python ({sys.executable}), not the project's .venv; "
                      f"{SETUP_HINT}, then use .venv/bin/python "
                      f"(Windows: .venv\\Scripts\\python)")
    if prefix.resolve() == (PROJECT_ROOT / ".venv").resolve():
        return f"the project's .venv ({prefix})"
    return f"a virtual environment at {prefix} (not the project's .venv: fine if the " \
           f"packages below are all there)"


def version_tuple(text):
    """'2.4.6' -> (2, 4, 6); stops at the first part that is not a number ('8.0rc1' -> (8,))."""
    parts = []
    for part in str(text).split("."):
        if not part.isdigit():
            break
        parts.append(int(part))
    return tuple(parts)


def minimum_versions():
    """{distribution name: minimum version} of the project's "name>=X" requirements.

    Read from pyproject.toml (the project's own list, as `python run.py lab` installs it), or,
    when mnistlib was installed without its source folder, from the installed package's metadata.
    """
    pyproject = PROJECT_ROOT / "pyproject.toml"
    if pyproject.is_file():
        specs = re.findall(r'"([^"]+)"', pyproject.read_text(encoding="utf-8"))
    else:
        from importlib import metadata
        try:
            specs = metadata.requires("mnistlib") or []
        except metadata.PackageNotFoundError:
            specs = []
    bounds = (re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*>=\s*([\d.]+)", spec) for spec in specs)
    return {m.group(1).lower(): m.group(2) for m in bounds if m}


def check_package(import_name, dist_name):
    """A check that imports one package and compares its version with the project's minimum."""
    def check(state):
        try:
            module = importlib.import_module(import_name)
        except Exception as e:  # ImportError, or a broken install failing while importing
            reason = str(e).strip().splitlines()[-1] if str(e).strip() else type(e).__name__
            raise Problem(f"cannot be imported ({reason}); {SETUP_HINT}") from None
        version = getattr(module, "__version__", None) or _dist_version(dist_name)
        if "minimums" not in state:  # read once for all packages
            state["minimums"] = minimum_versions()
        minimum = state["minimums"].get(dist_name)
        if version and minimum and version_tuple(version) < version_tuple(minimum):
            raise Problem(f"version {version} is too old, need {minimum} or newer; {SETUP_HINT}")
        needed = f" (>= {minimum})" if minimum else ""
        return f"{version}{needed}" if version else "installed (version unknown)"
    return check


def _dist_version(dist_name):
    from importlib import metadata
    try:
        return metadata.version(dist_name)
    except metadata.PackageNotFoundError:
        return None


def check_mnistlib(state):
    """mnistlib is installed in this environment, so notebooks (run from notebooks/) import it."""
    import sysconfig
    from importlib import metadata
    site_dirs = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    # only the environment's site-packages: the project folder's own mnistlib.egg-info doesn't count
    installed = list(metadata.distributions(name="mnistlib", path=sorted(site_dirs)))
    if not installed:
        raise Problem(f"not installed in this environment, so the notebooks cannot import it; "
                      f"{SETUP_HINT}")
    return f"{installed[0].version} (installed in {sys.prefix})"


def check_data(state):
    """The four MNIST files, found by mnistlib's search order and verified by SHA-256."""
    try:
        from mnistlib.data import MNIST, find_data_dir, load_mnist
        from mnistlib.errors import DataError
    except ImportError as e:
        raise Problem(f"mnistlib cannot be imported ({e}); {SETUP_HINT}") from None
    try:
        directory = find_data_dir(MNIST)
        if directory is None:
            try:
                load_mnist(download=False)  # raises DataError listing the places it looked in
            except DataError as e:
                raise Problem(f"{_one_line(e)}; they ship with the project in data/mnist/ "
                              f"(`git checkout -- data/mnist` restores them)") from None
        data = load_mnist(directory, download=False, progress=False)
    except DataError as e:
        raise Problem(_one_line(e)) from None
    state["data"] = data
    return (f"{len(MNIST.files)} files verified (SHA-256) in {directory}: "
            f"{len(data.X_train):,} training and {len(data.X_test):,} test digits")


def check_training(state):
    """One SGD step of an MLP 784-32-10 on 256 real digits: the loss must be finite and drop."""
    if "data" not in state:
        raise Skipped("needs the MNIST data (see the data line)")
    import numpy as np  # importable: the data were loaded with it

    from mnistlib import MLP, SGD, normalize, one_hot
    start = time.perf_counter()
    X = normalize(state["data"].X_train[:256])
    Y = one_hot(state["data"].y_train[:256])
    model = MLP([784, 32, 10], rng=np.random.default_rng(0))
    loss_before, grads, _ = model.loss_and_grads(X, Y)
    SGD(lr=0.1).step(model.params, grads)
    loss_after, _, _ = model.loss_and_grads(X, Y)
    ms = (time.perf_counter() - start) * 1000
    if not (np.isfinite(loss_before) and np.isfinite(loss_after) and loss_after < loss_before):
        raise Problem(f"loss {loss_before:.4f} -> {loss_after:.4f} (should be finite and "
                      f"decrease): NumPy's maths is broken here; reinstall with {SETUP_HINT}")
    return (f"MLP 784-32-10, one SGD step on 256 digits: loss {loss_before:.3f} -> "
            f"{loss_after:.3f} in {ms:.0f} ms")


def check_kernel(state):
    """A Jupyter kernel starts in notebooks/, computes 1 + 1, runs this environment's Python
    and imports mnistlib there, as every notebook does; then it is shut down."""
    try:
        from jupyter_client.manager import start_new_kernel
    except ImportError as e:
        raise Problem(f"jupyter_client cannot be imported ({e}); {SETUP_HINT}") from None
    cwd = PROJECT_ROOT / "notebooks" if (PROJECT_ROOT / "notebooks").is_dir() else PROJECT_ROOT
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as log:  # the kernel's own messages, shown only if it fails
        try:
            km, kc = start_new_kernel(kernel_name=KERNEL_NAME, startup_timeout=KERNEL_TIMEOUT,
                                      cwd=str(cwd), stdout=subprocess.DEVNULL, stderr=log)
        except Exception as e:  # NoSuchKernel, RuntimeError (timeout), OSError (bad executable)
            log.seek(0)
            said = [line.strip() for line in log.read().splitlines() if line.strip()]
            said = f"; it said: {said[-1]}" if said else ""
            raise Problem(f"the {KERNEL_NAME} kernel did not start ({type(e).__name__}: "
                          f"{_one_line(e)}{said}); {SETUP_HINT}") from None
    try:
        two = _execute(kc, "1 + 1")
        where = _execute(kc, "import sys, mnistlib; sys.prefix")
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    seconds = time.perf_counter() - start
    if two != "2":
        raise Problem(f"the kernel answered {two!r} to 1 + 1")
    if where.startswith("error:"):  # mnistlib (or sys!) not importable in the kernel
        raise Problem(f"the kernel cannot import mnistlib ({where[6:].strip()}), so the notebooks "
                      f"would fail; {SETUP_HINT}")
    kernel_prefix = ast.literal_eval(where)  # the repr of a str
    if Path(kernel_prefix).resolve() != Path(sys.prefix).resolve():
        raise Problem(f"the {KERNEL_NAME} kernel runs the Python in {kernel_prefix}, not this "
                      f"environment's ({sys.prefix}); its kernelspec is in "
                      f"{km.kernel_spec.resource_dir}: remove it (`jupyter kernelspec remove "
                      f"{KERNEL_NAME}`), or {SETUP_HINT}")
    return f"{KERNEL_NAME} started, computed 1 + 1 = 2 and imported mnistlib in {seconds:.1f} s"


def _execute(kc, code):
    """Run code in the kernel; its result's text (e.g. '2'), or 'error: Name: message'."""
    results = []

    def keep_result(msg):
        if msg["msg_type"] == "execute_result":
            results.append(msg["content"]["data"].get("text/plain", ""))

    try:
        reply = kc.execute_interactive(code, timeout=KERNEL_TIMEOUT, output_hook=keep_result)
    except TimeoutError:
        raise Problem(f"the {KERNEL_NAME} kernel started but did not answer {code!r} within "
                      f"{KERNEL_TIMEOUT:.0f} s; {SETUP_HINT}") from None
    content = reply["content"]
    if content["status"] != "ok":
        return f"error: {content.get('ename', '?')}: {content.get('evalue', '')}"
    return results[0] if results else ""


def check_disk(state):
    """At least MIN_FREE_GB free on the disk holding the project folder."""
    free_gb = shutil.disk_usage(PROJECT_ROOT).free / 1e9
    if free_gb < MIN_FREE_GB:
        raise Problem(f"only {free_gb:.2f} GB free on the disk holding {PROJECT_ROOT}; "
                      f"free at least {MIN_FREE_GB:g} GB (models, notebook outputs, handouts)")
    return f"{free_gb:.1f} GB free on the disk holding {PROJECT_ROOT}"


def checks():
    """The items in the order they are checked: [(name, function(state) -> detail)]."""
    return [
        ("Python", check_python),
        ("environment", check_environment),
        *[(name if name.lower() == dist else f"{name} ({dist})", check_package(name, dist))
          for name, dist in REQUIRED],
        ("mnistlib", check_mnistlib),
        ("MNIST data", check_data),
        ("training step", check_training),
        ("Jupyter kernel", check_kernel),
        ("disk", check_disk),
    ]


def run(out=None):
    """Run every check, print one line each and the verdict to ``out``; return the problem count."""
    out = out or sys.stdout
    ok_mark, bad_mark = _marks(out)
    problems, state = 0, {}
    for name, check in checks():
        try:
            line = f"{ok_mark} {name}: {check(state)}"
        except Skipped as e:
            line = f"- {name}: skipped, {e}"
        except Problem as e:
            problems += 1
            line = f"{bad_mark} {name}: {e}"
        except Exception as e:  # a bug or a surprise: still one line, never a traceback
            problems += 1
            line = f"{bad_mark} {name}: unexpected {type(e).__name__}: {_one_line(e)}"
        print(line, file=out, flush=True)
    if problems:
        print(f"NOT READY: {problems} problem{'s' if problems > 1 else ''} "
              f"(see {bad_mark} above)", file=out)
    else:
        print("READY for the workshop", file=out)
    return problems


def _one_line(error):
    """An exception's message as one line (multi-line messages joined with '; ')."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return "; ".join(lines) or type(error).__name__


def _marks(out):
    """('✓', '✗'), or ('ok', 'XX') when the output's encoding cannot show them (old consoles)."""
    try:
        "✓✗".encode(getattr(out, "encoding", None) or "utf-8")
        return "✓", "✗"
    except (UnicodeEncodeError, LookupError):
        return "ok", "XX"


def main(argv=None):
    """Entry point of `python -m mnistlib.preflight`; returns the exit status (0 ready, 1 not)."""
    args = sys.argv[1:] if argv is None else list(argv)
    if args and args[0] in ("-h", "--help"):
        print(__doc__.split("\n\n")[0] + "\n\nusage: python -m mnistlib.preflight")
        return 0
    if args:
        print(f"python -m mnistlib.preflight: error: takes no arguments, got {' '.join(args)}",
              file=sys.stderr)
        return 2
    return 1 if run() else 0


if __name__ == "__main__":
    if not __package__:  # run as a file (python mnistlib/preflight.py): find mnistlib beside it
        sys.path.insert(0, str(PROJECT_ROOT))
    sys.exit(main())
