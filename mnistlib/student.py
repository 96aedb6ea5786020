"""Learners' copies of the notebooks: solutions replaced by stubs, outputs cleared.

    python -m mnistlib.student                  # notebooks/NN_*.ipynb -> student/NN_*.ipynb + README.md
    python -m mnistlib.student --check          # exit 1 if student/ is stale, missing or has extra files
    python -m mnistlib.student --source notebooks --out /tmp/student

The notebooks in notebooks/ are the solutions, complete and executed. A learner's exercise is a
region of a cell between nbgrader's standard markers::

    def relu(Z):
        \"\"\"Z: (N, H) -> (N, H): max(0, Z) elementwise.\"\"\"
        ### BEGIN SOLUTION
        return np.maximum(Z, 0)
        ### END SOLUTION

In a code cell the region (markers included) becomes, at the BEGIN marker's indentation,
``# YOUR CODE HERE`` and ``raise NotImplementedError("write relu above")``, naming the nearest
enclosing ``def`` above the region in that cell ("this exercise" if there is none); in a markdown
cell it becomes ``*Your answer here.*``. Outputs, execution counts and the per-cell nbconvert
timing (``metadata.execution``) are cleared; the notebook metadata is cut to the kernelspec and
the language name, so a copy does not change with the Python version that executed the source.
Everything else (cell ids, tags, slide metadata) is kept. The copies are written with nbformat,
so two builds are byte-identical and ``--check`` can compare them with the committed ones.
Every build and check also fails (exit 1) if a copy still contains marker text or a line of
solution code (of 12 characters or more, not a comment, and not also written outside a solution
region of the source); unbalanced markers exit 2 naming the notebook and cell (cells count from 1).

Why a small script and not nbgrader or otter-grader (both installed and tried on a 2-core machine
in 2026-11; the project's workshop-tooling notes, section 1): nbgrader 0.9.6 would do this with
``generate_assignment --no-db --no-metadata``, but it adds SQLAlchemy, alembic, Mako, RapidFuzz and
notebook 7, pins ``jupyterlab<5`` and ``notebook<8``, and wants a course-directory layout and an
``nbgrader_config.py`` (its ``code_stub`` is mis-parsed on the command line). otter-grader 7.0.0
adds about 30 packages to every learner's environment. What we need is only what nbgrader's
ClearSolutions and ClearOutput preprocessors do: about 50 lines here (split_regions, stub_source,
student_copy), and with the freshness and leak checks about 150 of code, with no new dependency
(nbformat is already installed with Jupyter). The marker convention stays nbgrader's,
so an instructor who wants grading can still run nbgrader on notebooks/ unchanged.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from pathlib import Path

import nbformat

from .check import MARKS, NOT_WRITTEN

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BEGIN, END = "BEGIN SOLUTION", "END SOLUTION"  # as nbgrader: a line containing either is a marker
NOTEBOOK_NAME = re.compile(r"^\d\d_.*\.ipynb$")
DEF_LINE = re.compile(r"^(\s*)(?:async\s+)?def\s+(\w+)")
REBUILD = "run `python run.py student`"
README = """\
# Student copies of the notebooks

These notebooks are generated from `notebooks/` by `python run.py student`
(`python -m mnistlib.student`): don't edit them by hand, edit `notebooks/` and regenerate.
The solutions are the notebooks in `notebooks/`.

How to use them: each exercise is a function with `# YOUR CODE HERE` in its body. Write the
function, then run the cell: the check line under it (`relu = check.relu(relu)`) prints ✓ or
names the mistake. If you are stuck, run on: the notebook continues with mnistlib's version.
"""


class MarkerError(Exception):
    """Unbalanced solution markers in a source notebook (exit status 2)."""


class SetupError(Exception):
    """No source folder, no notebooks, or an output folder that would overwrite them (exit 2)."""


def split_regions(source: str):
    """The lines of a cell as (kind, lines): kind "text" outside solutions, "solution" inside
    (without the marker lines; the BEGIN marker line is lines[0] of a ("begin", [line]) item)."""
    parts, inside = [], False
    for number, line in enumerate(source.split("\n"), 1):
        if BEGIN in line:
            if inside:
                raise MarkerError(f"line {number}: BEGIN SOLUTION inside another solution region")
            inside = True
            parts.append(("begin", [line]))
            parts.append(("solution", []))
        elif END in line:
            if not inside:
                raise MarkerError(f"line {number}: END SOLUTION without a BEGIN SOLUTION above it")
            inside = False
        else:
            if not parts or parts[-1][0] != ("solution" if inside else "text"):
                parts.append(("solution" if inside else "text", []))
            parts[-1][1].append(line)
    if inside:
        raise MarkerError("BEGIN SOLUTION without an END SOLUTION below it")
    return parts


def stub_source(source: str, cell_type: str) -> str:
    """The cell's source with every solution region replaced by the stub."""
    out = []
    for kind, lines in split_regions(source):
        if kind == "text":
            out += lines
        elif kind == "begin":
            indent = re.match(r"\s*", lines[0]).group(0)
            if cell_type != "code":
                out.append(indent + "*Your answer here.*")
                continue
            name = "this exercise"
            for above in reversed(out):
                found = DEF_LINE.match(above)
                if found and len(found.group(1)) < len(indent):
                    name = found.group(2)
                    break
            out += [indent + "# YOUR CODE HERE", f'{indent}raise NotImplementedError("write {name} above")']
    return "\n".join(out)


def student_copy(nb):
    """The learner's version of a solution notebook (a new NotebookNode; nb is not changed)."""
    nb = nbformat.from_dict(nb)
    meta = {}
    if "kernelspec" in nb.metadata:
        meta["kernelspec"] = nb.metadata.kernelspec
    if "name" in nb.metadata.get("language_info", {}):
        meta["language_info"] = {"name": nb.metadata.language_info.name}
    nb.metadata = nbformat.from_dict(meta)
    for index, cell in enumerate(nb.cells):
        if nb.nbformat_minor >= 5 and "id" not in cell:
            cell.id = f"cell-{index + 1}"  # nbformat would otherwise invent a random one
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        if cell.cell_type in ("code", "markdown"):
            cell.source = stub_source(cell.source, cell.cell_type)
    return nb


def leaks(source_nb, copy_nb, text: str) -> list[str]:
    """Problems in a copy: marker text anywhere in its file text, or a line of solution code in
    its code cells that the source does not also have outside a solution region."""
    found = [f"contains '{m}'" for m in (BEGIN, END) if m in text]
    solution, elsewhere = set(), set()
    for cell in source_nb.cells:  # raw cells are copied as they are: no regions in them
        regions = split_regions(cell.source) if cell.cell_type in ("code", "markdown") else []
        for kind, lines in regions or [("text", cell.source.split("\n"))]:
            into = solution if kind == "solution" and cell.cell_type == "code" else elsewhere
            into.update(line.strip() for line in lines)
    secret = {s for s in solution - elsewhere if len(s) >= 12 and not s.startswith("#")}
    for index, cell in enumerate(copy_nb.cells, 1):
        if cell.cell_type == "code":
            found += [f"cell {index} contains solution line: {line.strip()}"
                      for line in cell.source.split("\n") if line.strip() in secret]
    return found


def show(path: Path) -> str:
    """A path as the user would type it: relative to the current folder when inside it."""
    try:
        return Path(path).resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)


def build(source: Path, out: Path) -> dict:
    """{file name: notebook or text} of the learners' folder made from the notebooks in source.
    Raises SetupError, MarkerError (message names notebook and cell) or ValueError (leaks)."""
    if not source.is_dir():
        raise SetupError(f"no source folder {show(source)}")
    paths = sorted(p for p in source.glob("*.ipynb") if NOTEBOOK_NAME.match(p.name))
    if not paths:
        raise SetupError(f"no NN_*.ipynb notebooks in {show(source)}")
    files, errors, leaked = {}, [], []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        for index, cell in enumerate(nb.cells, 1):
            if cell.cell_type not in ("code", "markdown"):
                continue  # a marker in a raw cell is reported as a leak
            try:
                split_regions(cell.source)
            except MarkerError as e:
                errors.append(f"{show(path)}: cell {index} ({cell.cell_type}), {e}")
        if errors:
            continue
        files[path.name] = copy = student_copy(nb)
        text = nbformat.writes(copy, version=4)
        leaked += [f"{show(out / path.name)}: {problem}" for problem in leaks(nb, copy, text)]
    if errors:
        raise MarkerError("\n".join(errors))
    if leaked:
        raise ValueError("\n".join(leaked))
    files["README.md"] = README
    return files


def write(files: dict, out: Path) -> None:
    """Write the files into out (LF line ends on every system) and remove NN_*.ipynb copies whose
    source is gone."""
    out.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        with open(out / name, "w", encoding="utf-8", newline="\n") as f:
            if isinstance(content, str):
                f.write(content)
            else:
                nbformat.write(content, f, version=4)  # sorted keys, indent 1, final newline
    for stale in out.glob("*.ipynb"):
        if NOTEBOOK_NAME.match(stale.name) and stale.name not in files:
            stale.unlink()


def compare(fresh: Path, names, out: Path) -> list[str]:
    """One line per file in out that differs from the fresh build, is missing, or is extra."""
    problems = []
    existing = {p.name for p in out.iterdir() if p.is_file() and not p.name.startswith(".")} \
        if out.is_dir() else set()
    for name in names:
        path = out / name
        if name not in existing:
            problems.append(f"{show(path)} is missing: {REBUILD}")
        elif path.read_bytes() != (fresh / name).read_bytes():
            problems.append(f"{show(path)} is out of date: {REBUILD}")
    for name in sorted(existing - set(names)):
        fix = REBUILD if NOTEBOOK_NAME.match(name) else "remove it"
        problems.append(f"{show(out / name)} is not made from a notebook in the source folder: {fix}")
    return problems


CHECK_LINE = re.compile(f"^([{''.join(MARKS.values())}]) (\\w+): ", re.M)  # what mnistlib.check prints
CHECK_CALL = re.compile(r"=\s*check\.\w+\(")        # `relu = check.relu(relu)` in a notebook


def check_lines(nb) -> list[tuple[str, str, str]]:
    """The (mark, exercise, line) of every check line an executed notebook printed, in order."""
    found = []
    for cell in nb.cells:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            text = output.get("text", "")
            text = "".join(text) if isinstance(text, list) else text
            found += [(m.group(1), m.group(2), text[m.start():].split("\n", 1)[0])
                      for m in CHECK_LINE.finditer(text)]
    return found


def verify_untouched_run(folder: Path, source: Path) -> list[str]:
    """Problems with executed student copies in folder: every exercise of the source notebook must
    have printed "not yet written" (a learner who wrote nothing), and nothing else."""
    problems = []
    for path in sorted(folder.glob("[0-9][0-9]_*.ipynb")):
        expected = sum(len(CHECK_CALL.findall(c.source))
                       for c in nbformat.read(source / path.name, as_version=4).cells if c.cell_type == "code")
        lines = check_lines(nbformat.read(path, as_version=4))
        wrong = [line for mark, _, line in lines if mark != MARKS[None] or NOT_WRITTEN not in line]
        problems += [f"{path.name}: {line}" for line in wrong]
        if len(lines) != expected:
            problems.append(f"{path.name}: {len(lines)} check lines printed, expected {expected} "
                            "(one per check call)")
    return problems


def main(argv=None) -> int:
    """Entry point of `python -m mnistlib.student`: 0 done / up to date, 1 stale or leak, 2 error."""
    parser = argparse.ArgumentParser(prog="python -m mnistlib.student",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", default=None, help="solution notebooks (default: notebooks/)")
    parser.add_argument("--out", default=None, help="learners' copies (default: student/)")
    parser.add_argument("--check", action="store_true",
                        help="build into a temporary folder and compare; write nothing")
    parser.add_argument("--verify-run", metavar="DIR",
                        help="DIR holds executed student copies: check that every exercise said "
                             "'not yet written' and nothing else")
    args = parser.parse_args(argv)
    source = Path(args.source).expanduser() if args.source else PROJECT_ROOT / "notebooks"
    out = Path(args.out).expanduser() if args.out else PROJECT_ROOT / "student"
    prog = "python -m mnistlib.student"
    if args.verify_run:
        problems = verify_untouched_run(Path(args.verify_run), source)
        print("\n".join(problems) if problems else
              "every exercise check said 'not yet written' and the copies ran to the end",
              file=sys.stderr if problems else sys.stdout)
        return 1 if problems else 0
    try:
        if source.exists() and out.exists() and os.path.samefile(source, out):
            raise SetupError(f"--out {show(out)} is the source folder: it would overwrite the solutions")
        files = build(source, out)
    except (SetupError, MarkerError) as e:
        print("\n".join(f"{prog}: error: {line}" for line in str(e).split("\n")), file=sys.stderr)
        return 2
    except ValueError as e:
        print("\n".join(f"{prog}: solution leak: {line}" for line in str(e).split("\n")), file=sys.stderr)
        return 1
    count = len(files) - 1
    if not args.check:
        write(files, out)
        print(f"wrote {count} student notebooks and README.md to {show(out)}")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        write(files, Path(tmp))
        problems = compare(Path(tmp), files, out)
    for name in files:  # a hand-edited copy may also leak: say so, besides "out of date"
        if name.endswith(".ipynb") and (out / name).is_file():
            text = (out / name).read_text(encoding="utf-8")
            try:
                copy = nbformat.reads(text, as_version=4)
            except Exception:  # not a notebook any more: reported as out of date above
                continue
            problems += [f"{show(out / name)}: solution leak: {p}"
                         for p in leaks(nbformat.read(source / name, as_version=4), copy, text)]
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    print(f"student copies up to date ({count} notebooks)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
