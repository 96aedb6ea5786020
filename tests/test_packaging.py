"""The conda environment and pyproject.toml name the same packages; CI runs the README's test command."""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import run  # noqa: E402  (run.py at the top level; reads pyproject.toml without tomllib, for Python 3.10)


def requirement_names(specs):
    """{'numpy': '>=1.26', ...} from requirement strings like 'numpy>=1.26'."""
    out = {}
    for spec in specs:
        name, version = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", spec).groups()
        out[name.lower().replace("_", "-")] = version.replace(" ", "")
    return out


def declared():
    meta = run.read_pyproject()
    extras = meta["extras"]
    return requirement_names(meta["dependencies"] + extras["notebooks"] + extras["test"])


def test_environment_yml_matches_pyproject():
    lines = (ROOT / "environment.yml").read_text(encoding="utf-8").splitlines()
    start = lines.index("dependencies:") + 1
    conda = [line.strip()[2:] for line in lines[start:] if re.match(r"^  - [A-Za-z]", line)]
    pip = [line.strip()[2:] for line in lines[start:] if re.match(r"^      - [A-Za-z]", line)]
    listed = requirement_names(conda + pip)
    listed.pop("python"), listed.pop("pip")
    assert listed == declared()
    assert "      - -e ." in lines  # mnistlib itself, editable, as `python run.py lab` installs it


def test_required_packages_are_declared():
    names = set(declared())
    assert {"numpy", "pandas", "matplotlib", "jupyterlab", "nbval", "pytest", "ruff"} <= names
    assert "scikit-learn" not in names and "torch" not in names  # benchmark-only peers


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test\n" in ci.replace(" ||", "\n") and "make test-all" in ci
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for command in ("make test", "python3 run.py test", "py run.py test", "python run.py test --no-venv"):
        assert command in readme, command
    workflow = (ROOT / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8")
    assert "run: python run.py test\n" in workflow


def test_workflow_covers_every_platform_and_the_oldest_and_newest_python():
    workflow = (ROOT / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8")
    assert "os: [ubuntu-latest, macos-latest, windows-latest]" in workflow
    oldest = ".".join(map(str, run.oldest_python_version()))
    assert f'python: ["{oldest}", "3.13"]' in workflow
    assert "cache: pip" in workflow and "cache-dependency-path: pyproject.toml" in workflow


def test_run_py_refuses_the_python_versions_pyproject_refuses():
    assert run.MIN_PYTHON == run.oldest_python_version()


def test_the_drawing_pad_ships_its_browser_module_and_saved_drawings():
    """draw.js (anywidget loads it from the installed package, no network) and the drawings of notebook 07."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    package_data = re.search(r"^mnistlib = \[(.*)\]$", text, re.M).group(1)
    for name in ("draw.js", "digit_strokes.json"):
        assert f'"{name}"' in package_data and (ROOT / "mnistlib" / name).is_file(), name
    assert "anywidget>=" in text and "playwright>=" in text
    js = (ROOT / "mnistlib" / "draw.js").read_text(encoding="utf-8")
    assert "export default" in js and not re.search(r"https?://|import\s", js)  # self-contained


def test_ci_installs_a_browser_for_the_browser_test():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "apt-get install -y" in ci and "chromium" in ci
    assert ci.index("apt-get install -y") < ci.index("make test-all ||")  # before the heavy checks run


def test_binder_environment_is_the_conda_one_with_python_pinned():
    # repo2docker looks in binder/ first and parses the Python version only from `python=X.Y`
    root = (ROOT / "environment.yml").read_text(encoding="utf-8")
    binder = (ROOT / "binder" / "environment.yml").read_text(encoding="utf-8")
    body = lambda text: [line for line in text.splitlines() if line and not line.startswith("#")]  # noqa: E731
    pins = [line for line in body(binder) if line.strip().startswith("- python")]
    assert pins == ["  - python=3.12"]
    assert [line for line in body(binder) if line not in pins] == [
        line for line in body(root) if not line.strip().startswith("- python")]
