"""run.py, the cross-platform entry point: its table of targets and steps, the command lines it would
run (--dry-run), the oldest-versions constraints it derives from pyproject.toml, and its errors."""
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import run  # noqa: E402

MAKE_TARGETS = ["venv", "lab", "test", "test-all", "test-full", "notebooks", "bench", "torch", "student", "preflight",
                "handouts", "wheelhouse", "clean"]


def dry_run(*argv):
    """The lines `python run.py --dry-run ARGV` prints, and its exit status."""
    out = io.StringIO()
    status = run.main(["--dry-run", *argv], out=out)
    return out.getvalue().splitlines(), status


@pytest.fixture
def fresh(tmp_path, monkeypatch):
    """No .venv yet (a fresh clone): run.py's venvs point into tmp_path; CI and MNIST_QUICK unset."""
    monkeypatch.setattr(run, "VENV", tmp_path / ".venv")
    monkeypatch.setattr(run, "OLDEST_VENV", tmp_path / ".venv-oldest")
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("MNIST_QUICK", raising=False)
    return tmp_path


def commands(lines):
    return [line[2:] for line in lines if line.startswith("+ ")]


def collected_tests(path):
    """What `pytest --collect-only -q PATH` lists (conftest.py leaves some files out unless named)."""
    return subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", path], cwd=ROOT,
                          capture_output=True, text=True, encoding="utf-8").stdout


# ------------------------------------------------------------------ the tables


def test_the_makefile_is_a_thin_wrapper_with_the_same_targets():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = re.search(r"^TARGETS := (.*)$", makefile, re.M).group(1).split()
    assert targets == MAKE_TARGETS
    assert set(targets) <= set(run.TARGETS)
    recipes = [line.strip() for line in makefile.splitlines() if line.startswith("\t")]
    assert recipes == ["$(PYTHON) run.py $@"]  # one rule for all: no second copy of the logic


def test_every_step_has_a_unique_name_a_description_and_a_function():
    for steps in (run.TEST_STEPS, run.TEST_ALL_STEPS):
        names = [name for name, _, _ in steps]
        assert len(set(names)) == len(names)
        for name, what, check in steps:
            assert re.fullmatch(r"[a-z][a-z0-9-]*", name) and what and callable(check)
    assert [n for n, _, _ in run.TEST_STEPS][-1] == "pytest"  # lint first, then the (slow) tests
    assert "oldest" in [n for n, _, _ in run.TEST_ALL_STEPS]


def test_help_lists_every_target_and_step(capsys):
    with pytest.raises(SystemExit) as exit_:
        run.main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for name in list(run.TARGETS) + [n for n, _, _ in run.TEST_STEPS + run.TEST_ALL_STEPS]:
        assert name in out


def test_an_unknown_target_is_one_clear_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        run.main(["tests"])
    assert exit_.value.code == 2
    assert "invalid choice: 'tests'" in capsys.readouterr().err


def test_an_unknown_step_is_one_clear_error(fresh, capsys):
    assert run.main(["--dry-run", "test", "--only", "lint"]) == 1
    assert capsys.readouterr().err.strip() == "error: no step 'lint'; the steps are: ruff, actionlint, student, pytest"


# ------------------------------------------------------------------ the venv and its layout


def test_venv_layout_per_platform():
    assert run.venv_python("v", windows=True) == Path("v", "Scripts", "python.exe")
    assert run.venv_python("v", windows=False) == Path("v", "bin", "python")
    assert run.venv_script("v", "actionlint", windows=True) == Path("v", "Scripts", "actionlint.exe")
    assert run.venv_script("v", "actionlint", windows=False) == Path("v", "bin", "actionlint")


def test_a_fresh_clone_creates_the_venv_then_installs_once(fresh):
    lines, status = dry_run("test")
    assert status == 0
    cmds = commands(lines)
    venv = fresh / ".venv"
    python = run.venv_python(venv)
    assert cmds[0] == run.show([sys.executable, "-m", "venv", venv])
    assert cmds[1] == f"write {venv / '.gitignore'}"  # git ignores the venv, whatever its name
    assert cmds[2] == run.show([python, "-m", "pip", "install", "-e", ".[notebooks,test]"])
    assert sum("pip install" in c for c in cmds) == 1  # once per run, not once per step
    assert cmds[3] == f"write {run.lab_settings_file(venv)}"  # JupyterLab's settings, in the venv
    assert cmds[4] == f"write {venv / '.installed-stamp'}"


def test_test_lints_then_runs_pytest_and_the_notebooks_in_quick_mode(fresh, monkeypatch):
    python = run.venv_python(fresh / ".venv")
    cmds = commands(dry_run("test")[0])[5:]
    assert cmds == [
        run.show([python, "-m", "ruff", "check", "mnistlib", "tests", "notebooks", "run.py",
                  "--extend-exclude=notebooks/11_pytorch.ipynb"]),
        run.show([python, "-m", "ruff", "check", "--stdin-filename", "notebooks/11_pytorch.ipynb", "-"])
        + " < (notebooks/11_pytorch.ipynb with its %%torch cells as comments)",
        run.show([run.venv_script(fresh / ".venv", "actionlint"), ".github/workflows/ci.yml"]),
        run.show([python, "-m", "mnistlib.student", "--check"]),
        "MNIST_QUICK=1 " + run.show([python, "-m", "pytest", "tests", "notebooks", *run.NBVAL]),
    ]
    monkeypatch.setenv("MNIST_QUICK", "0")  # as before: test keeps a value the caller gives
    assert commands(dry_run("test", "--only", "pytest")[0])[-1].startswith("MNIST_QUICK=0 ")


def test_full_size_targets_set_mnist_quick_0(fresh, monkeypatch):
    monkeypatch.setenv("MNIST_QUICK", "1")
    full = commands(dry_run("test-full")[0])[-1]
    assert full.startswith("MNIST_QUICK=0 ") and " -m pytest tests notebooks " in full
    notebooks = commands(dry_run("notebooks")[0])[-1]
    assert notebooks.startswith("MNIST_QUICK=0 ")
    assert "nbconvert --to notebook --execute --inplace" in notebooks
    listed = re.findall(r"notebooks/\d\d_\w+\.ipynb", notebooks)
    assert listed == sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "notebooks").glob("[0-9]*.ipynb"))


def test_an_installed_venv_is_reused_until_pyproject_changes(fresh, monkeypatch):
    venv = fresh / ".venv"
    python = run.venv_python(venv)
    python.parent.mkdir(parents=True)
    python.write_text("", encoding="utf-8")
    runner = run.Runner(out=io.StringIO())
    calls = []
    monkeypatch.setattr(runner, "run", lambda argv, env=None, check=True, replace_env=False: calls.append(argv))
    runner.ensure_venv()  # no stamp: install (the venv exists, so it is not created again)
    assert [c[1:5] for c in calls] == [["-m", "pip", "install", "-e"]]
    assert run.Runner(out=io.StringIO(), dry_run=True).ensure_venv() == python
    assert commands(dry_run("venv")[0]) == []  # up to date: nothing to do
    stamp = venv / run.STAMP_NAME
    stamp.write_text("an older pyproject.toml\n", encoding="utf-8")
    assert "pip install" in commands(dry_run("venv")[0])[0]


def test_lab_opens_jupyterlab_on_the_notebooks_with_allow_root_only_for_root(fresh, monkeypatch):
    python = run.venv_python(fresh / ".venv")
    expected = run.show([python, "-m", "jupyter", "lab", "notebooks"])
    if os.name != "posix":
        assert commands(dry_run("lab")[0])[-1] == expected
        return
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert commands(dry_run("lab")[0])[-1] == expected + " --allow-root"
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert commands(dry_run("lab")[0])[-1] == expected


def test_the_venv_carries_jupyterlab_settings_without_the_news_prompt(fresh):
    """overrides.json in the venv (not the user's home): no "Jupyter news" prompt, no request for news."""
    venv = fresh / ".venv"
    path = run.lab_settings_file(venv)
    assert path == venv / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    run.write_lab_settings(venv)
    settings = json.loads(path.read_text(encoding="utf-8"))
    assert settings["@jupyterlab/apputils-extension:notification"] == {"fetchNews": "false",
                                                                       "checkForUpdates": False}
    schema = ROOT / ".venv" / "share" / "jupyter" / "lab" / "schemas" / "@jupyterlab" / "apputils-extension"
    if (schema / "notification.json").is_file():  # the names exist in the installed JupyterLab
        properties = json.loads((schema / "notification.json").read_text(encoding="utf-8"))["properties"]
        assert {"fetchNews", "checkForUpdates"} <= set(properties)
        assert {"const": "false", "title": "Never"} in properties["fetchNews"]["oneOf"]


def test_the_browser_check_runs_only_in_test_all_and_pytest_tests_leaves_it_out(fresh):
    assert "browser" in [n for n, _, _ in run.TEST_ALL_STEPS]
    assert "browser" not in [n for n, _, _ in run.TEST_STEPS]
    lines, status = dry_run("test-all", "--only", "browser")
    assert status == 0 and f"pytest -v -s -rs {run.BROWSER_TESTS} --junitxml" in commands(lines)[-1]
    collected = collected_tests("tests")
    assert "test_run.py::" in collected and "test_browser.py" not in collected
    assert "test_browser.py::test_notebook_07" in collected_tests(run.BROWSER_TESTS)


def test_no_venv_uses_the_current_python_and_installs_nothing(fresh):
    cmds = commands(dry_run("--no-venv", "test")[0])
    assert not any("-m venv" in c or "pip install" in c for c in cmds)
    assert cmds[0] == run.show([sys.executable, "-m", "ruff", "check", *run.LINTED,
                                "--extend-exclude=notebooks/11_pytorch.ipynb"])


def test_bench_and_clean(fresh):
    python = run.venv_python(fresh / ".venv")
    cmds = commands(dry_run("bench")[0])
    assert cmds[-3:] == [run.show([python, "-m", "pip", "install", "-e", ".[bench]"]),
                         run.show([python, "bench/bench_mlp.py"]), run.show([python, "bench/bench_cnn.py"])]
    assert commands(dry_run("bench", "cnn", "--", "--epochs", "1")[0])[-1] == run.show(
        [python, "bench/bench_cnn.py", "--epochs", "1"])
    (fresh / ".venv").mkdir()
    assert commands(dry_run("clean")[0]) == [f"remove {fresh / '.venv'}"]
    assert (fresh / ".venv").is_dir()  # a dry run removes nothing


def test_torch_installs_the_extra_then_falls_back_to_pytorchs_cpu_index(fresh, monkeypatch):
    python = run.venv_python(fresh / ".venv")
    extra = [python, "-m", "pip", "install", "-e", ".[torch]"]
    fallback = extra + ["--index-url", "https://download.pytorch.org/whl/cpu", "--extra-index-url",
                        "https://pypi.org/simple"]
    lines, status = dry_run("torch")
    cmds = commands(lines)
    assert status == 0 and cmds[-1] == run.show(extra)
    stamp = f"write {fresh / '.venv' / '.installed-stamp'}"
    assert cmds.count(stamp) == 1 and cmds.index(stamp) < len(cmds) - 1  # written before, left alone after
    assert lines[-1] == "  (if pip finds no torch CPU build there: + " + run.show(fallback) + ")"
    meta = run.read_pyproject()
    assert meta["extras"]["torch"] == ["torch==2.13.0+cpu; sys_platform == 'linux' or sys_platform == 'win32'",
                                       "torch==2.13.0; sys_platform == 'darwin'"]
    assert "torch" not in run.oldest_constraints(meta)  # the oldest run installs notebooks,test only

    # a real run (the commands faked): the first attempt fails, the CPU index is tried, torch then imports
    ran = []
    monkeypatch.setattr(run.Runner, "ensure_venv", lambda self, *a, **k: python)
    monkeypatch.setattr(run.Runner, "run", lambda self, argv, env=None, check=True, replace_env=False:
                        ran.append(list(argv)) or (1 if len(ran) == 1 else 0))
    imports = subprocess.CompletedProcess([], 0, "2.13.0+cpu\n", "")
    monkeypatch.setattr(run.subprocess, "run", lambda *a, **k: imports)
    out = io.StringIO()
    assert run.main(["torch"], out=out) == 0
    assert ran == [extra, fallback] and "torch 2.13.0+cpu in" in out.getvalue()
    imports = subprocess.CompletedProcess([], 1, "", "ModuleNotFoundError")
    ran.clear()
    with pytest.raises(run.StepFailed, match="torch does not import"):
        run.check_torch(run.Runner(out=io.StringIO()))
    assert ran == [extra, fallback]  # no tests run without torch


def test_the_torch_check_runs_only_in_test_all_and_pytest_tests_leaves_it_out(fresh, monkeypatch):
    assert "torch" in [n for n, _, _ in run.TEST_ALL_STEPS]
    assert "torch" not in [n for n, _, _ in run.TEST_STEPS]
    python = run.venv_python(fresh / ".venv")
    monkeypatch.setattr(run, "TORCH_NOTEBOOK", "notebooks/no_such_notebook.ipynb")
    lines, status = dry_run("test-all", "--only", "torch")
    assert status == 0 and commands(lines)[-1] == run.show([python, "-m", "pytest", "-v", "-s", "-rs",
                                                            run.TORCH_TESTS])
    monkeypatch.setattr(run, "TORCH_NOTEBOOK", run.OLDEST_NOTEBOOK)  # a notebook that exists, for the command
    assert commands(dry_run("test-all", "--only", "torch")[0])[-1] == "MNIST_QUICK=1 " + run.show(
        [python, "-m", "pytest", run.OLDEST_NOTEBOOK, *run.NBVAL])
    collected = collected_tests("tests")
    assert "test_run.py::" in collected and "test_torch.py" not in collected
    assert "test_torch.py::test_ddp_on_two_processes_learns" in collected_tests(run.TORCH_TESTS)


# ------------------------------------------------------------------ the oldest versions


def test_constraints_pin_every_lower_bound():
    meta = run.read_pyproject()
    pins = dict(line.split("==") for line in run.oldest_constraints(meta).splitlines() if "==" in line)
    for spec in meta["dependencies"] + meta["extras"]["notebooks"] + meta["extras"]["test"]:
        name, bound = re.fullmatch(r"([A-Za-z0-9_.\-]+)>=(\S+)", spec).groups()
        assert pins.pop(name) == bound
    assert pins == {}


def test_constraints_refuse_a_requirement_without_a_lower_bound():
    meta = {"dependencies": ["numpy>=1.26", "pandas"], "extras": {}, "requires-python": ">=3.10"}
    with pytest.raises(run.StepFailed, match="'pandas' has no '>=' lower bound"):
        run.oldest_constraints(meta, extras="")
    meta["dependencies"] = ["numpy[extra] >= 1.26, <3"]
    assert run.oldest_constraints(meta, extras="").splitlines()[1] == "numpy==1.26"


def test_pyproject_reader_matches_tomllib():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+; run.py itself must work on 3.10
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    project = tomllib.loads(text)["project"]
    meta = run.read_pyproject(text)
    assert meta["requires-python"] == project["requires-python"]
    assert meta["dependencies"] == project["dependencies"]
    assert meta["extras"] == project["optional-dependencies"]
    tricky = ('[project]\nrequires-python = ">=3.10"\ndependencies = [  # the core\n  "a[x]>=1",  # no "b"\n'
              '  "c>=2"\n]\n\n[project.optional-dependencies]\nt = ["d>=3", "e>=4"]\n[tool.x]\ny = ["no"]\n')
    assert run.read_pyproject(tricky) == {"requires-python": ">=3.10", "dependencies": ["a[x]>=1", "c>=2"],
                                          "extras": {"t": ["d>=3", "e>=4"]}}
    assert tomllib.loads(tricky)["project"]["dependencies"] == ["a[x]>=1", "c>=2"]


def test_oldest_runs_the_unit_tests_and_notebook_01_on_the_oldest_python(fresh, monkeypatch):
    oldest = run.oldest_python_version()
    monkeypatch.setattr(run, "find_python", lambda v: Path("/py310/python") if v == oldest else None)
    lines, status = dry_run("test-all", "--only", "oldest")
    assert status == 0
    cmds = commands(lines)
    venv = fresh / ".venv-oldest"
    python = run.venv_python(venv)
    assert cmds[0] == run.show([Path("/py310/python"), "-m", "venv", venv])
    assert cmds[3] == run.show([python, "-m", "pip", "install", "-e", ".[notebooks,test]",
                                "-c", venv / "constraints.txt"])
    assert cmds[-1] == "MNIST_QUICK=1 " + run.show([python, "-m", "pytest", "tests", run.OLDEST_NOTEBOOK,
                                                    *run.NBVAL])
    assert (ROOT / run.OLDEST_NOTEBOOK).is_file()


def test_a_check_that_cannot_run_is_skipped_but_fails_under_ci(fresh, monkeypatch):
    monkeypatch.setattr(run, "find_python", lambda version: None)
    lines, status = dry_run("test-all", "--only", "oldest")
    assert status == 0 and "skipped: no Python 3.10 found" in lines[-1]
    monkeypatch.setenv("CI", "true")
    lines, status = dry_run("test-all", "--only", "oldest")
    assert status == 1 and "FAILED (CI=true, so a skip fails): no Python 3.10 found" in lines[-1]


def test_steps_go_on_after_a_failure_and_the_run_fails(fresh):
    ran = []

    def fail(r):
        ran.append("fail")
        raise run.StepFailed("pytest exited with status 1")

    steps = [("a", "fails", fail), ("b", "passes", lambda r: ran.append("b"))]
    out = io.StringIO()
    assert run.run_steps(run.Runner(out=out), steps) == 1
    assert ran == ["fail", "b"]
    assert "FAILED: pytest exited with status 1" in out.getvalue()


def test_find_python_takes_an_explicit_interpreter(monkeypatch):
    here = sys.version_info[:2]
    found = run.find_python(here, environ={"MNIST_OLDEST_PYTHON": sys.executable, "PYENV_ROOT": "/nowhere"})
    assert found is not None and run.python_version(found) == here
    assert run.find_python((2, 1), environ={"PYENV_ROOT": "/nowhere"}) is None


def test_a_command_that_fails_is_one_line(fresh, capsys):
    runner = run.Runner(out=io.StringIO())
    with pytest.raises(run.StepFailed, match=r"^python\S* exited with status 3$"):
        runner.run([sys.executable, "-c", "raise SystemExit(3)"])
    with pytest.raises(run.StepFailed, match=r"^pip exited with status 2$"):
        runner.run([sys.executable, "-m", "pip", "--no-such-option"])
    with pytest.raises(run.StepFailed, match="no-such-program-here not found"):
        runner.run(["no-such-program-here"])


@pytest.mark.parametrize("version", ["3.9", "3.6"])
def test_an_old_python_gets_one_line_naming_the_version_needed(version):
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    pythons = sorted(pyenv.glob(version + ".*/bin/python"))
    if not pythons:
        pytest.skip(f"no Python {version} here")
    result = subprocess.run([str(pythons[-1]), str(ROOT / "run.py"), "test"], capture_output=True,
                            text=True, encoding="utf-8", timeout=60)
    assert result.returncode == 1
    assert result.stdout == ""
    needed = "{}.{}".format(*run.MIN_PYTHON)
    assert result.stderr.startswith(f"error: this project needs Python {needed} or newer; "
                                    f"this is Python {version} (")
    assert len(result.stderr.splitlines()) == 1


def test_an_offline_install_uses_only_the_wheel_folder_and_a_clean_environment(fresh, monkeypatch):
    """pip here may read local wheel folders from PIP_FIND_LINKS: an offline install must not."""
    monkeypatch.setenv("PIP_FIND_LINKS", "/somewhere/else")
    out = io.StringIO()
    runner = run.Runner(out=out, dry_run=True, wheels=fresh / "wheels")
    runner.ensure_venv()
    install = [line for line in out.getvalue().splitlines() if "pip" in line][-1]
    assert install.startswith("+ (clean environment) ")
    assert "--isolated install --no-index --find-links" in install and str(fresh / "wheels") in install
    env = run.offline_env()
    assert not any(k.startswith("PIP_") for k in env if k != "PIP_CONFIG_FILE")
    assert env["PIP_CONFIG_FILE"] == os.devnull


def test_torch_cells_are_linted_with_the_magic_as_a_comment(tmp_path):
    """ruff skips cells that start with a cell magic; run.py lints notebook 11's `%%torch` cells through
    stdin with the magic turned into a comment, so an unused import there still fails the lint."""
    cell = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
            "source": ["%%torch\n", "import os\n", "x = 1\n"]}
    nb = {"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(nb), encoding="utf-8")
    text = run.torch_cells_as_comments(path)
    assert json.loads(text)["cells"][0]["source"].startswith("# %%torch\nimport os")
    lint = subprocess.run([sys.executable, "-m", "ruff", "check", "--stdin-filename", "notebooks/nb.ipynb", "-"],
                          input=text, capture_output=True, text=True, cwd=ROOT)
    assert lint.returncode == 1 and "F401" in lint.stdout, lint.stdout
    cell["source"] = ["import os\n"]
    path.write_text(json.dumps(nb), encoding="utf-8")
    assert run.torch_cells_as_comments(path) is None


def test_ruff_lints_notebook_11_through_stdin(fresh):
    lines, status = dry_run("test", "--only", "ruff")
    assert status == 0
    assert any("--extend-exclude=notebooks/11_pytorch.ipynb" in line for line in lines), lines
    assert any("--stdin-filename notebooks/11_pytorch.ipynb -" in line and "%%torch cells as comments" in line
               for line in lines), lines
