"""One entry point for the project, on Windows, macOS and Linux: `python run.py TARGET`.

    python run.py lab        create .venv, install mnistlib and the notebook stack, open JupyterLab
    python run.py test       lint, unit tests and every notebook in quick mode (MNIST_QUICK=1)
    python run.py test-all   the heavy checks (oldest versions, ...), after `test`
    python run.py --help     every target; `--dry-run` prints the commands instead of running them

On Windows type `py run.py lab`. The Makefile is a thin wrapper around this file (`make lab` runs
`python3 run.py lab`). Standard library only, no shell: every command is an argument list.
"""
import sys

MIN_PYTHON = (3, 10)  # keep in step with requires-python in pyproject.toml (a test checks)
if sys.version_info[:2] < MIN_PYTHON:
    sys.exit(f"error: this project needs Python {MIN_PYTHON[0]}.{MIN_PYTHON[1]} or newer; "
             f"this is Python {sys.version_info[0]}.{sys.version_info[1]} ({sys.executable})")

import argparse  # noqa: E402  (after the version check, so an old Python gets the one-line message)
import glob  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import shlex  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent
PYPROJECT = ROOT / "pyproject.toml"
VENV = ROOT / ".venv"
OLDEST_VENV = ROOT / ".venv-oldest"
EXTRAS = "notebooks,test"
STAMP_NAME = ".installed-stamp"
NBVAL = ["--nbval-lax", "--nbval-current-env", "--nbval-cell-timeout=1800"]
LINTED = ["mnistlib", "tests", "notebooks", "run.py"]  # ruff reads .ipynb too
WHEELHOUSE = ROOT / "wheelhouse"  # `python run.py wheelhouse` fills it; `--wheels DIR` installs from it
BUILD_REQUIREMENTS = ["setuptools>=68"]  # pyproject's build backend, needed to install offline
OLDEST_NOTEBOOK = "notebooks/01_loading_and_exploring.ipynb"
BROWSER_TESTS = "tests/test_browser.py"  # JupyterLab in a real browser; `pytest tests` leaves it out (conftest.py)
TORCH_TESTS = "tests/test_torch.py"  # the PyTorch extra (`python run.py torch`); `pytest tests` leaves it out too
TORCH_NOTEBOOK = "notebooks/11_pytorch.ipynb"  # the `torch` step runs it (quick mode) once it exists
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"  # PyTorch's own index of CPU-only builds
TORCH_CELL_MAGIC = "%%torch"  # notebook 11's cells that run only with PyTorch (mnistlib.torch_bridge); ruff skips them
# JupyterLab settings shipped with the venv (<venv>/share/jupyter/lab/settings/overrides.json), not in the
# user's home: no "Jupyter news" prompt and no request to the news feed; the file browser opens on
# notebooks/ because `lab` passes that folder to JupyterLab.
LAB_SETTINGS = {"@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False}}


class StepFailed(Exception):
    """A check failed or a command exited non-zero; the message is one line for the user."""


class Skipped(Exception):
    """A check could not run here (e.g. no Python 3.10). Under CI=true it counts as a failure."""


def on_ci(environ=None):
    """True when CI=true (or 1/yes) is set, as GitHub Actions and .ci/run do."""
    value = (environ if environ is not None else os.environ).get("CI", "")
    return value.strip().lower() in ("true", "1", "yes")


# ------------------------------------------------------------------ paths, venvs, pyproject

def venv_python(venv, windows=None):
    """The interpreter of a venv: venv\\Scripts\\python.exe on Windows, venv/bin/python elsewhere."""
    windows = (os.name == "nt") if windows is None else windows
    return Path(venv) / "Scripts" / "python.exe" if windows else Path(venv) / "bin" / "python"


def lab_settings_file(venv):
    """Where JupyterLab of a venv reads settings that override its defaults (its app settings dir)."""
    return Path(venv) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"


def write_lab_settings(venv):
    """Write LAB_SETTINGS into the venv's overrides.json (a user's own settings still take precedence)."""
    path = lab_settings_file(venv)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(LAB_SETTINGS, indent=2) + "\n", encoding="utf-8")


def venv_script(venv, name, windows=None):
    """A console script installed into a venv (e.g. actionlint): Scripts\\NAME.exe or bin/NAME."""
    windows = (os.name == "nt") if windows is None else windows
    return Path(venv) / "Scripts" / (name + ".exe") if windows else Path(venv) / "bin" / name


_KEY_ARRAY = re.compile(r"^([A-Za-z0-9_-]+)\s*=\s*\[", re.M)
_ARRAY_TOKEN = re.compile(r'\s*(?:#[^\n]*|"((?:[^"\\]|\\.)*)"|,|\])')
_SECTION = re.compile(r"^\[([^\]]+)\]\s*$", re.M)


def _string_arrays(body):
    """{key: [strings]} for every `key = [ "a", "b", ... ]` (comments allowed) starting a line of body."""
    out = {}
    for key in _KEY_ARRAY.finditer(body):
        items, i = [], key.end()
        while True:
            token = _ARRAY_TOKEN.match(body, i)
            if not token:
                raise StepFailed(f"pyproject.toml: cannot read the list {key.group(1)!r} "
                                 "(it may hold only double-quoted strings)")
            i = token.end()
            if token.group(0).strip() == "]":
                break
            if token.group(1) is not None:
                items.append(token.group(1))
        out[key.group(1)] = items
    return out


def read_pyproject(text=None):
    """The requirement lists of pyproject.toml, without tomllib (Python 3.10 lacks it).

    Returns {"requires-python": ">=3.10", "dependencies": [...], "extras": {name: [...]}} where every
    list holds requirement strings such as "numpy>=1.26". Reads only what run.py needs: double-quoted
    strings inside `key = [ ... ]` arrays of [project] and [project.optional-dependencies]
    (a test compares the result with tomllib's on the real file).
    """
    text = PYPROJECT.read_text(encoding="utf-8") if text is None else text
    sections = {}
    marks = list(_SECTION.finditer(text))
    for i, mark in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        sections[mark.group(1).strip()] = text[mark.end():end]
    project = sections.get("project", "")
    python = re.search(r'^requires-python\s*=\s*"([^"]*)"', project, re.M)
    return {
        "requires-python": python.group(1) if python else "",
        "dependencies": _string_arrays(project).get("dependencies", []),
        "extras": _string_arrays(sections.get("project.optional-dependencies", "")),
    }


def oldest_constraints(meta=None, extras=EXTRAS):
    """The constraints file text that pins every lower bound: "numpy>=1.26" -> "numpy==1.26".

    Covers the dependencies and the given extras. A requirement without a `>=` bound is an error:
    then we would claim a version range whose bottom nobody tests.
    """
    meta = read_pyproject() if meta is None else meta
    specs = list(meta["dependencies"])
    for extra in filter(None, extras.split(",")):
        specs += meta["extras"][extra]
    lines = []
    for spec in specs:
        match = re.match(r"^\s*([A-Za-z0-9_.\-]+(?:\[[^\]]*\])?)\s*>=\s*([0-9][0-9A-Za-z.]*)\s*(,.*)?$", spec)
        if not match:
            raise StepFailed(f"pyproject.toml: {spec!r} has no '>=' lower bound to test")
        name = re.sub(r"\[.*\]", "", match.group(1))
        lines.append(f"{name}=={match.group(2)}")
    header = "# Generated by run.py from pyproject.toml's lower bounds; do not edit.\n"
    return header + "\n".join(lines) + "\n"


def oldest_python_version(meta=None):
    """(3, 10) from requires-python = ">=3.10"."""
    meta = read_pyproject() if meta is None else meta
    match = re.match(r"^\s*>=\s*(\d+)\.(\d+)", meta["requires-python"])
    if not match:
        raise StepFailed(f"pyproject.toml: requires-python {meta['requires-python']!r} has no '>=X.Y' bound")
    return int(match.group(1)), int(match.group(2))


# ------------------------------------------------------------------ running commands

def show(argv):
    """A command line as the user's shell would spell it (for printing only; nothing runs a shell).
    Paths inside the project are shown relative to it."""
    inside = [os.path.isabs(str(a)) and ROOT in Path(a).parents for a in argv]
    argv = [os.path.relpath(str(a), str(ROOT)) if here else str(a)
            for a, here in zip(argv, inside, strict=True)]
    return subprocess.list2cmdline(argv) if os.name == "nt" else shlex.join(argv)


class Runner:
    """Runs (or, with dry_run, only prints) the commands and file changes of the targets."""

    def __init__(self, dry_run=False, python=None, use_venv=True, out=None, wheels=None):
        self.dry_run = dry_run
        self.wheels = None if wheels is None else Path(wheels).resolve()  # install offline from here
        self.python = Path(python or sys.executable)  # makes the venvs; with --no-venv, runs everything
        self.use_venv = use_venv
        self.out = out or sys.stdout
        self.ready = set()  # the venvs already checked in this run

    def say(self, line):
        print(line, file=self.out, flush=True)

    def run(self, argv, env=None, check=True, replace_env=False, stdin=None):
        """Run argv (a list) in the project folder; env adds variables (replace_env: env is the
        whole environment); stdin: (text, what it is) fed to the command. Returns the exit status."""
        extra = "".join(f"{k}={v} " for k, v in sorted((env or {}).items()) if not replace_env)
        fed = f" < ({stdin[1]})" if stdin else ""
        self.say("+ " + ("(clean environment) " if replace_env else extra) + show(argv) + fed)
        if self.dry_run:
            return 0
        full_env = dict(env) if replace_env else dict(os.environ, **(env or {}))
        try:
            status = subprocess.run([str(a) for a in argv], cwd=str(ROOT), env=full_env,
                                    input=stdin[0] if stdin else None,
                                    encoding="utf-8" if stdin else None).returncode
        except FileNotFoundError:
            raise StepFailed(f"{argv[0]} not found") from None
        if check and status != 0:
            program = str(argv[2]) if len(argv) > 2 and argv[1] == "-m" else Path(str(argv[0])).name
            raise StepFailed(f"{program} exited with status {status}")
        return status

    def do(self, description, action):
        """A file-system change (write a stamp, remove a folder), printed like a command."""
        self.say("+ " + description.replace(str(ROOT) + os.sep, ""))
        if not self.dry_run:
            action()

    # -------------------------------------------------------------- the venv of the project

    def ensure_venv(self, venv=None, python=None, constraints=None, extras=EXTRAS):
        """Create venv if missing and `pip install -e .[extras]` when pyproject.toml (or the
        constraints) changed since the last install, as the Makefile's stamp did. Returns its python.

        With --no-venv (conda users) nothing is created or installed: the current Python runs everything.
        """
        if not self.use_venv:
            return self.python
        venv = VENV if venv is None else Path(venv)
        python = Path(python or self.python)
        vpy = venv_python(venv)
        if vpy in self.ready:
            return vpy
        self.ready.add(vpy)
        stamp = Path(venv) / STAMP_NAME
        wanted = (PYPROJECT.read_bytes() + extras.encode() + (constraints or "").encode()
                  + json.dumps(LAB_SETTINGS).encode())
        digest = hashlib.sha256(wanted).hexdigest()
        if vpy.exists() and stamp.exists() and stamp.read_text(encoding="utf-8").strip() == digest:
            return vpy
        if not vpy.exists():
            self.run([python, "-m", "venv", venv])
            if not self.dry_run and not vpy.exists():
                raise StepFailed(f"could not create {venv} (on Debian/Ubuntu: apt install python3-venv)")
            ignore = Path(venv) / ".gitignore"  # git ignores the venv whatever its name (.venv-oldest too)
            self.do(f"write {ignore}", lambda: ignore.write_text("*\n", encoding="utf-8"))
        command = [vpy, "-m", "pip", "install", "-e", f".[{extras}]"]
        env = None
        if self.wheels is not None:
            command = [vpy, "-m", "pip", "--isolated", "install", "--no-index", "--find-links",
                       self.wheels, "-e", f".[{extras}]"]
            env = offline_env()
        if constraints is not None:
            constraints_file = Path(venv) / "constraints.txt"
            self.do(f"write {constraints_file}",
                    lambda: constraints_file.write_text(constraints, encoding="utf-8"))
            command += ["-c", constraints_file]
        self.run(command, env=env, replace_env=env is not None)
        self.do(f"write {lab_settings_file(venv)}", lambda: write_lab_settings(venv))
        self.do(f"write {stamp}", lambda: stamp.write_text(digest + "\n", encoding="utf-8"))
        return vpy


# ------------------------------------------------------------------ the checks of test and test-all
# Each check is a function(runner) that raises StepFailed (or Skipped) and returns nothing.

def quick_env():
    """MNIST_QUICK=1 unless the caller set it (`MNIST_QUICK=0 python run.py test`)."""
    return {"MNIST_QUICK": os.environ.get("MNIST_QUICK", "1")}


def torch_cells_as_comments(nb_path):
    """The notebook's JSON with each `%%torch` cell magic turned into a comment, or None if it has none.
    ruff skips cells that start with a cell magic; as a comment the cell is linted like any other."""
    nb = json.loads(Path(nb_path).read_text(encoding="utf-8"))
    found = False
    for cell in nb["cells"]:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] == "code" and source.startswith(TORCH_CELL_MAGIC):
            cell["source"], found = "# " + source, True
    return json.dumps(nb) if found else None


def check_ruff(r):
    python = r.ensure_venv()
    magic = {}  # the notebooks with %%torch cells (notebook 11): linted through stdin, magics as comments
    for nb_path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        text = torch_cells_as_comments(nb_path)
        if text is not None:
            magic[nb_path.relative_to(ROOT).as_posix()] = text
    r.run([python, "-m", "ruff", "check", *LINTED, *[f"--extend-exclude={name}" for name in magic]])
    for name, text in magic.items():
        r.run([python, "-m", "ruff", "check", "--stdin-filename", name, "-"],
              stdin=(text, f"{name} with its {TORCH_CELL_MAGIC} cells as comments"))


def check_actionlint(r):
    r.ensure_venv()
    workflows = sorted(glob.glob(str(ROOT / ".github" / "workflows" / "*.yml")))
    if not workflows:
        raise StepFailed("no workflow in .github/workflows/")
    exe = venv_script(VENV, "actionlint") if r.use_venv else (shutil.which("actionlint") or "actionlint")
    r.run([exe, *[Path(w).relative_to(ROOT).as_posix() for w in workflows]])


def check_pytest(r):
    python = r.ensure_venv()
    r.run([python, "-m", "pytest", "tests", "notebooks", *NBVAL], env=quick_env())


def check_student(r):
    """student/ is what `python run.py student` makes from notebooks/ now, with no solution in it."""
    python = r.ensure_venv()
    r.run([python, "-m", "mnistlib.student", "--check"])


def check_student_run(r):
    """Every student copy runs top to bottom with no exercise done (nbconvert stops at the first
    error), and every check then says "not yet written" and nothing else."""
    python = r.ensure_venv()
    copies = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "student").glob("[0-9]*.ipynb"))
    with tempfile.TemporaryDirectory() as tmp:
        r.run([python, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute", "--output-dir", tmp,
               "--ExecutePreprocessor.timeout=1800", *copies], env=quick_env())
        r.run([python, "-m", "mnistlib.student", "--verify-run", tmp])


def check_handouts(r):
    """The handouts of notebooks/ and student/ build and load nothing from the network."""
    python = r.ensure_venv()
    with tempfile.TemporaryDirectory() as tmp:
        for source in ("notebooks", "student"):
            r.run([python, "-m", "mnistlib.handouts", "--source", source,
                   "--out", Path(tmp) / source, "--verify"])


def offline_env():
    """The environment for an offline install: this one without any PIP_* variable (pip here may
    be told to read local wheel folders, PIP_FIND_LINKS, which would hide a missing wheel) and with
    pip's config files switched off."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    return env


def check_offline(r):
    """Download every wheel into a folder, then install into a fresh venv from that folder alone
    (pip --isolated --no-index, no PIP_* variables, no config) and run the pre-flight check."""
    with tempfile.TemporaryDirectory() as tmp:
        wheels, venv = Path(tmp) / "wheels", Path(tmp) / "venv"
        make_wheelhouse(r, wheels)
        offline = Runner(dry_run=r.dry_run, python=r.python, out=r.out, wheels=wheels)
        python = offline.ensure_venv(venv)
        offline.run([python, "-m", "pip", "check"])
        offline.run([python, "mnistlib/preflight.py"])


def make_wheelhouse(r, folder, pip_args=()):
    """pip download every package the project needs (and its build backend) into folder."""
    python = r.ensure_venv()
    r.run([python, "-m", "pip", "download", "--dest", folder, f".[{EXTRAS}]",
           *BUILD_REQUIREMENTS, *pip_args])


def find_python(version, environ=None):
    """An interpreter of exactly `version` (e.g. (3, 10)), or None: $MNIST_OLDEST_PYTHON, this one,
    pythonX.Y on PATH, the Windows launcher `py -X.Y`, then pyenv's versions folder."""
    environ = os.environ if environ is None else environ
    tag = f"{version[0]}.{version[1]}"
    candidates = [environ.get("MNIST_OLDEST_PYTHON"),
                  sys.executable if sys.version_info[:2] == version else None,
                  shutil.which("python" + tag)]
    launcher = shutil.which("py")
    if launcher:
        try:
            found = subprocess.run([launcher, "-" + tag, "-c", "import sys; print(sys.executable)"],
                                   capture_output=True, text=True, encoding="utf-8", timeout=60)
            candidates.append(found.stdout.strip() if found.returncode == 0 else None)
        except (OSError, subprocess.SubprocessError):
            pass
    pyenv_root = Path(environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    for versions in (pyenv_root / "versions", pyenv_root / "pyenv-win" / "versions"):
        for folder in sorted(versions.glob(tag + ".*"), reverse=True):
            candidates += [folder / "bin" / "python", folder / "python.exe"]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and python_version(candidate) == version:
            return Path(candidate)
    return None


def python_version(python):
    """(major, minor) of an interpreter, or None if it does not run."""
    try:
        out = subprocess.run([str(python), "-c", "import sys; print(*sys.version_info[:2])"],
                             capture_output=True, text=True, encoding="utf-8", timeout=60)
        return tuple(int(x) for x in out.stdout.split()) if out.returncode == 0 else None
    except (OSError, ValueError, subprocess.SubprocessError):
        return None


def check_oldest(r):
    """Unit tests and notebook 01 (quick) on the oldest Python and package versions pyproject.toml
    allows, installed from the package index into .venv-oldest."""
    version = oldest_python_version()
    python = find_python(version)
    if python is None:
        raise Skipped(f"no Python {version[0]}.{version[1]} found "
                      "(install it, e.g. with pyenv, or set MNIST_OLDEST_PYTHON to its path)")
    if not r.use_venv:
        raise Skipped("--no-venv: the oldest versions need their own venv")
    vpy = r.ensure_venv(OLDEST_VENV, python=python, constraints=oldest_constraints())
    if r.dry_run:
        r.say(f"  (Python {version[0]}.{version[1]}: {python})")
    r.run([vpy, "-m", "pip", "check"])
    r.run([vpy, "-m", "pytest", "tests", OLDEST_NOTEBOOK, *NBVAL], env=quick_env())


def check_browser(r):
    """JupyterLab in a real Chromium (Playwright): notebook 01 runs through the UI without an error, the
    drawing pad of notebook 07 reads digits drawn with the mouse, nothing but 127.0.0.1 is contacted.
    Without a browser the test skips (under CI=true it fails), so a skip is reported here too."""
    python = r.ensure_venv()
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "browser-junit.xml"
        r.run([python, "-m", "pytest", "-v", "-s", "-rs", BROWSER_TESTS, "--junitxml", report])  # -s: its timings
        if not r.dry_run and "<skipped" in report.read_text(encoding="utf-8"):
            raise Skipped("no browser for Playwright (apt-get install chromium, "
                          "or python -m playwright install chromium)")


def install_torch(r):
    """`pip install -e .[torch]` into .venv, as it is (pip finds the pinned CPU build where the configured
    index or find-links has it), else again from PyTorch's CPU index with PyPI for everything else. The
    pin torch==2.13.0+cpu (Linux, Windows) cannot pull PyPI's multi-GB CUDA build: PyPI has no +cpu
    builds, so the first attempt fails fast there. ensure_venv's stamp is left alone (extras it does not
    know about survive its reinstalls), so `make test` does not reinstall afterwards. Returns the python;
    raises StepFailed when torch still does not import (with --no-venv nothing is installed: it says how)."""
    python = r.ensure_venv()
    if r.use_venv:
        command = [python, "-m", "pip", "install", "-e", ".[torch]"]
        fallback = command + ["--index-url", TORCH_CPU_INDEX, "--extra-index-url", "https://pypi.org/simple"]
        if r.wheels is not None:  # offline: the wheel folder alone, no second attempt
            r.run([python, "-m", "pip", "--isolated", "install", "--no-index", "--find-links", r.wheels,
                   "-e", ".[torch]"], env=offline_env(), replace_env=True)
        elif r.run(command, check=False) != 0:
            r.say(f"pip found no torch CPU build there: trying PyTorch's CPU index, {TORCH_CPU_INDEX}")
            r.run(fallback)
        elif r.dry_run:
            r.say("  (if pip finds no torch CPU build there: + " + show(fallback) + ")")
    else:
        r.say("  (--no-venv: nothing is installed; this Python needs torch already)")
    if r.dry_run:
        return python
    found = subprocess.run([str(python), "-c", "import torch; print(torch.__version__)"],
                           capture_output=True, text=True, encoding="utf-8")
    if found.returncode != 0:
        by_hand = f'pip install "torch==2.13.0" --index-url {TORCH_CPU_INDEX}'
        raise StepFailed(f"torch does not import in {python}" + (" after the install" if r.use_venv else
                         f" (--no-venv installs nothing: {by_hand})"))
    r.say(f"torch {found.stdout.strip()} in {python}")
    return python


def check_torch(r):
    """The PyTorch extra: install it, then tests/test_torch.py (the bridge's logits and gradients against
    mnistlib's, the same training, a 2-process DDP run with torchrun), then notebook 11 when it exists."""
    python = install_torch(r)
    r.run([python, "-m", "pytest", "-v", "-s", "-rs", TORCH_TESTS])  # -s: the measured differences and timings
    if (ROOT / TORCH_NOTEBOOK).exists():
        r.run([python, "-m", "pytest", TORCH_NOTEBOOK, *NBVAL], env=quick_env())
    else:
        r.say(f"  ({TORCH_NOTEBOOK} does not exist yet: not run)")


# The rows of `test` and `test-all`: (name, what it checks, function). To add a check, write
# `def check_NAME(r)` above (use r.ensure_venv() for .venv's python and r.run([...]) for commands;
# raise Skipped if it cannot run here) and append a row. `python run.py test-all --only NAME` runs one.
TEST_STEPS = [
    ("ruff", "lint mnistlib/, tests/, notebooks/ and run.py", check_ruff),
    ("actionlint", "the GitHub Actions workflow", check_actionlint),
    ("student", "student/ up to date with notebooks/ and free of solutions", check_student),
    ("pytest", "unit tests, then every notebook in quick mode (nbval)", check_pytest),
]
TEST_ALL_STEPS = [
    ("student-run", "every student copy runs top to bottom with no exercise done", check_student_run),
    ("handouts", "HTML handouts of notebooks/ and student/ that work offline", check_handouts),
    ("offline", "install from a downloaded wheel folder alone, then the pre-flight check", check_offline),
    ("oldest", "unit tests and notebook 01 on the oldest versions pyproject.toml allows", check_oldest),
    ("browser", "JupyterLab in Chromium: notebook 01 runs, the pad of notebook 07 reads drawn digits", check_browser),
    ("torch", "PyTorch extra: the bridge, same gradients and logits, and a 2-process DDP run (torchrun)", check_torch),
]


def run_steps(r, steps, only=None):
    """Run every step (all of them, even after a failure); print a summary. Returns the exit status."""
    names = [name for name, _, _ in steps]
    for name in only or []:
        if name not in names:
            raise StepFailed(f"no step {name!r}; the steps are: {', '.join(names)}")
    results = []
    for name, what, check in steps:
        if only and name not in only:
            continue
        r.say(f"=== {name}: {what}")
        start = time.monotonic()
        try:
            check(r)
            result = "dry run" if r.dry_run else "passed"
        except Skipped as why:
            result = ("FAILED (CI=true, so a skip fails): " if on_ci() else "skipped: ") + str(why)
        except StepFailed as why:
            result = "FAILED: " + str(why)
        results.append((name, result, time.monotonic() - start))
    r.say("=== summary")
    for name, result, seconds in results:
        r.say(f"{name:<12} {seconds:6.0f} s  {result}")
    return 1 if any(result.startswith("FAILED") for _, result, _ in results) else 0


# ------------------------------------------------------------------ the targets

def target_venv(r, args):
    r.ensure_venv()


def target_lab(r, args):
    python = r.ensure_venv()
    command = [python, "-m", "jupyter", "lab", "notebooks"]
    if os.name == "posix" and hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # containers run as root, which JupyterLab otherwise refuses
    r.run(command + list(args.rest))


def target_test(r, args):
    return run_steps(r, TEST_STEPS, args.only)


def target_test_all(r, args):
    return run_steps(r, TEST_ALL_STEPS, args.only)


def target_test_full(r, args):
    python = r.ensure_venv()
    r.run([python, "-m", "pytest", "tests", "notebooks", *NBVAL, *args.rest], env={"MNIST_QUICK": "0"})


def target_notebooks(r, args):
    python = r.ensure_venv()
    notebooks = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "notebooks").glob("[0-9]*.ipynb"))
    r.run([python, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute", "--inplace",
           "--ExecutePreprocessor.timeout=3600", *notebooks], env={"MNIST_QUICK": "0"})


def target_bench(r, args):
    """Both benchmarks (MLP, then CNN), each with the options in args.rest; `bench mlp ...` or
    `bench cnn ...` runs one of them."""
    python = r.ensure_venv()
    if r.use_venv:
        r.run([python, "-m", "pip", "install", "-e", ".[bench]"])
    rest, which = list(args.rest), ("mlp", "cnn")
    if rest and rest[0] in which:
        which, rest = (rest[0],), rest[1:]
    for name in which:
        r.run([python, f"bench/bench_{name}.py", *rest])


def target_clean(r, args):
    for folder in (VENV, OLDEST_VENV, ROOT / ".pytest_cache"):
        if folder.exists():
            r.do(f"remove {folder}", lambda folder=folder: shutil.rmtree(folder))


def target_student(r, args):
    python = r.ensure_venv()
    r.run([python, "-m", "mnistlib.student", *args.rest])


def target_preflight(r, args):
    """Checks, installs nothing: with no .venv yet it runs under this Python and says what is missing."""
    python = venv_python(VENV) if r.use_venv and venv_python(VENV).exists() else r.python
    return r.run([python, "mnistlib/preflight.py", *args.rest], check=False)


def target_handouts(r, args):
    python = r.ensure_venv()
    r.run([python, "-m", "mnistlib.handouts", *args.rest])


def target_wheelhouse(r, args):
    folder = Path(args.rest[0]) if args.rest and not args.rest[0].startswith("-") else WHEELHOUSE
    pip_args = args.rest[1:] if args.rest and not args.rest[0].startswith("-") else args.rest
    make_wheelhouse(r, folder.resolve(), pip_args)
    r.say(f"wheels in {folder}: copy it with the project; on a machine with no network, "
          f"`python run.py lab --wheels {folder.name}` installs from it alone")


def target_constraints(r, args):
    r.say(oldest_constraints().rstrip("\n"))


def target_torch(r, args):
    install_torch(r)


# name -> (help, function). The Makefile has one rule per name, each `python3 run.py NAME`.
TARGETS = {
    "venv": ("create .venv and install mnistlib with the notebook and test tools", target_venv),
    "lab": ("open JupyterLab on notebooks/ (after `venv`)", target_lab),
    "test": ("lint, unit tests and every notebook in quick mode (MNIST_QUICK=1 unless set)", target_test),
    "test-all": ("the heavy checks: " + ", ".join(n for n, _, _ in TEST_ALL_STEPS), target_test_all),
    "test-full": ("unit tests and every notebook at full size (MNIST_QUICK=0)", target_test_full),
    "notebooks": ("re-execute every notebook at full size and store its outputs", target_notebooks),
    "bench": ("the benchmarks: MLP against scikit-learn, CNN (and both against PyTorch if installed); "
                  "`bench mlp ...` / `bench cnn ...` runs one", target_bench),
    "student": ("make the learners' copies in student/ from notebooks/ (solutions removed)", target_student),
    "preflight": ("check this laptop is ready for a workshop (installs nothing)", target_preflight),
    "torch": ("install PyTorch's CPU build into .venv (the optional `torch` extra, for notebook 11)", target_torch),
    "handouts": ("render the notebooks to offline HTML in handouts_html/ (--source student)", target_handouts),
    "wheelhouse": ("download every wheel into wheelhouse/ (or DIR) for an offline install", target_wheelhouse),
    "clean": ("remove .venv, .venv-oldest and .pytest_cache", target_clean),
    "constraints": ("print the oldest-versions constraints made from pyproject.toml", target_constraints),
}


def parser():
    p = argparse.ArgumentParser(
        prog="run.py", description="MNIST from Scratch: set up, open the lab, run the tests.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="targets:\n" + "\n".join(f"  {name:<12} {help_}" for name, (help_, _) in TARGETS.items())
        + "\n\ntest steps: " + ", ".join(n for n, _, _ in TEST_STEPS)
        + "\ntest-all steps: " + ", ".join(n for n, _, _ in TEST_ALL_STEPS))
    p.add_argument("target", choices=list(TARGETS), metavar="TARGET", help="one of: " + ", ".join(TARGETS))
    p.add_argument("rest", nargs="*", help="passed on to jupyter lab, pytest (test-full) or the benchmark")
    p.add_argument("--dry-run", action="store_true", help="print the commands instead of running them")
    p.add_argument("--no-venv", action="store_true",
                   help="use this Python as it is (e.g. a conda env): create and install nothing")
    p.add_argument("--only", action="append", metavar="STEP", help="test / test-all: run only this step")
    p.add_argument("--wheels", metavar="DIR",
                   help="install from this folder of wheels alone (made by `wheelhouse`), no network")
    return p


def main(argv=None, out=None):
    args = parser().parse_args(argv)
    r = Runner(dry_run=args.dry_run, use_venv=not args.no_venv, out=out, wheels=args.wheels)
    try:
        return TARGETS[args.target][1](r, args) or 0
    except StepFailed as why:
        print(f"error: {why}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
