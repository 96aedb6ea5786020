"""The conda environment and pyproject.toml name the same packages, and CI calls `make test`."""
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def requirement_names(specs):
    """{'numpy': '>=1.26', ...} from requirement strings like 'numpy>=1.26'."""
    out = {}
    for spec in specs:
        name, version = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", spec).groups()
        out[name.lower().replace("_", "-")] = version.replace(" ", "")
    return out


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    wanted = requirement_names(project["dependencies"] + extras["notebooks"] + extras["test"])
    lines = (ROOT / "environment.yml").read_text().splitlines()
    start = lines.index("dependencies:") + 1
    conda = [l.strip()[2:] for l in lines[start:] if re.match(r"^  - [A-Za-z]", l)]
    listed = requirement_names(conda)
    listed.pop("python"), listed.pop("pip")
    assert listed == wanted
    assert "      - -e ." in lines  # mnistlib itself, editable, as `make lab` installs it


def test_required_packages_are_declared():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    names = set(requirement_names(project["dependencies"] + extras["notebooks"] + extras["test"]))
    assert {"numpy", "pandas", "matplotlib", "jupyterlab", "nbval", "pytest"} <= names
    assert "scikit-learn" not in names and "torch" not in names  # benchmark-only peers


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    assert "make test" in (ROOT / "README.md").read_text()
