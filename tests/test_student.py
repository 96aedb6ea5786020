"""mnistlib.student: learners' copies with stubs for the solution regions, and the --check that keeps
them fresh. Every test builds small notebooks in tmp_path; one runs the builder on the real notebooks/."""

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_raw_cell

from mnistlib import student

RELU = '''import numpy as np


def relu(Z):
    """Z: (N, H) -> (N, H): max(0, Z) elementwise."""
    ### BEGIN SOLUTION
    positive = np.maximum(Z, 0)
    return positive
    ### END SOLUTION

relu = check.relu(relu)'''


def make_notebook(path, *cells, outputs=True):
    """Write an executed-looking notebook: outputs, execution counts, nbconvert timing, a Python version."""
    nb = new_notebook(cells=list(cells))
    nb.metadata = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                   "language_info": {"name": "python", "version": "3.11.7", "pygments_lexer": "ipython3"}}
    for n, cell in enumerate(nb.cells, 1):
        if cell.cell_type == "code" and outputs:
            cell.execution_count = n
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="hello\n")]
            cell.metadata["execution"] = {"iopub.execute_input": "2026-11-01T10:00:00.000000Z"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return nb


def run(tmp_path, *args):
    """main() on tmp_path/notebooks -> tmp_path/student; the exit status."""
    return student.main(["--source", str(tmp_path / "notebooks"), "--out", str(tmp_path / "student"),
                         *args])


def read(path):
    return nbformat.read(path, as_version=4)


@pytest.fixture
def course(tmp_path):
    """Two source notebooks, one with a code exercise and a markdown answer, one without markers."""
    make_notebook(tmp_path / "notebooks" / "01_first.ipynb",
                  new_markdown_cell("# First\n\nWhy ReLU?\n\n### BEGIN SOLUTION\nIt is cheap.\n"
                                    "### END SOLUTION\n"),
                  new_code_cell(RELU))
    make_notebook(tmp_path / "notebooks" / "02_plain.ipynb", new_code_cell("x = 1\nprint(x)"))
    return tmp_path


def test_stub_names_the_function_at_the_marker_indentation(course):
    assert run(course) == 0
    nb = read(course / "student" / "01_first.ipynb")
    stub = '    # YOUR CODE HERE\n    raise NotImplementedError("write relu above")\n'
    assert nb.cells[1].source == RELU.split("    ### BEGIN")[0] + stub + "\nrelu = check.relu(relu)"
    compile(nb.cells[1].source, "cell", "exec")


def test_stub_nested_def_and_fallback_name():
    source = ("def outer():\n    def inner(x):\n        if x:\n            ### BEGIN SOLUTION\n"
              "            return 1\n            ### END SOLUTION\n    return inner\n"
              "### BEGIN SOLUTION\nW = 2\n### END SOLUTION")
    out = student.stub_source(source, "code")
    assert '            raise NotImplementedError("write inner above")' in out
    assert out.endswith('\n# YOUR CODE HERE\nraise NotImplementedError("write this exercise above")')
    compile(out, "cell", "exec")


def test_outputs_counts_timing_and_version_cleared_ids_and_tags_kept(course):
    cell = new_code_cell("y = 2", metadata={"tags": ["keep-me"]})
    source = make_notebook(course / "notebooks" / "03_tags.ipynb", cell)
    assert run(course) == 0
    nb = read(course / "student" / "03_tags.ipynb")
    assert nb.cells[0].outputs == [] and nb.cells[0].execution_count is None
    assert nb.cells[0].metadata == {"tags": ["keep-me"]}
    assert nb.cells[0].id == source.cells[0].id
    assert nb.metadata == {"kernelspec": source.metadata.kernelspec, "language_info": {"name": "python"}}


def test_markdown_region_replaced(course):
    assert run(course) == 0
    md = read(course / "student" / "01_first.ipynb").cells[0].source
    assert md == "# First\n\nWhy ReLU?\n\n*Your answer here.*\n"


def test_notebook_without_markers_copies_through(course):
    assert run(course) == 0
    src, copy = read(course / "notebooks" / "02_plain.ipynb"), read(course / "student" / "02_plain.ipynb")
    assert copy.cells[0].source == src.cells[0].source
    assert copy.cells[0].outputs == [] and copy.cells[0].execution_count is None


def test_two_builds_are_byte_identical(course, snapshot, capsys):
    assert run(course) == 0
    first = snapshot(course / "student")
    assert run(course) == 0
    assert snapshot(course / "student") == first
    assert set(first) == {"01_first.ipynb", "02_plain.ipynb", "README.md"}
    assert (course / "student" / "01_first.ipynb").read_bytes().endswith(b"}\n")
    assert b"\r\n" not in (course / "student" / "01_first.ipynb").read_bytes()
    assert "python run.py student" in (course / "student" / "README.md").read_text(encoding="utf-8")


def test_check_passes_on_a_fresh_build(course, capsys):
    assert run(course) == 0
    capsys.readouterr()
    assert run(course, "--check") == 0
    assert capsys.readouterr().out.strip() == "student copies up to date (2 notebooks)"


def test_check_reports_stale_missing_and_extra(course, capsys, snapshot):
    assert run(course) == 0
    make_notebook(course / "notebooks" / "02_plain.ipynb", new_code_cell("x = 2"))  # source changed
    (course / "student" / "01_first.ipynb").unlink()
    (course / "student" / "07_gone.ipynb").write_text("{}", encoding="utf-8")
    before = snapshot(course / "student")
    capsys.readouterr()
    assert run(course, "--check") == 1
    lines = capsys.readouterr().err.strip().split("\n")
    assert len(lines) == 3
    assert lines[0].endswith("student/01_first.ipynb is missing: run `python run.py student`")
    assert lines[1].endswith("student/02_plain.ipynb is out of date: run `python run.py student`")
    assert "student/07_gone.ipynb is not made from a notebook" in lines[2]
    assert snapshot(course / "student") == before  # --check writes nothing
    assert run(course) == 0 and run(course, "--check") == 0  # a build removes the orphan copy
    assert not (course / "student" / "07_gone.ipynb").exists()


def test_check_without_out_folder_reports_every_file_missing(course, capsys):
    assert run(course, "--check") == 1
    assert len(capsys.readouterr().err.strip().split("\n")) == 3  # 2 notebooks + README.md


def test_leaked_solution_line_is_found(tmp_path):
    source = make_notebook(tmp_path / "01_a.ipynb", new_code_cell(
        "def f(Z):\n    ### BEGIN SOLUTION\n    # keep the positive part\n    A = Z\n"
        "    positive = np.maximum(A, 0)\n    return positive\n    ### END SOLUTION"))
    copy = student.student_copy(source)
    assert student.leaks(source, copy, nbformat.writes(copy)) == []
    copy.cells.append(new_code_cell("positive = np.maximum(A, 0)  \n"
                                    "A = Z\n"  # shorter than 12 characters: too common to count
                                    "# keep the positive part"))  # a comment, not code
    found = student.leaks(source, copy, nbformat.writes(copy))
    assert found == ["cell 2 contains solution line: positive = np.maximum(A, 0)"]


def test_solution_line_also_outside_a_region_is_not_a_leak(tmp_path):
    make_notebook(tmp_path / "notebooks" / "01_a.ipynb",
                  new_code_cell("def f(Z):\n    ### BEGIN SOLUTION\n    return np.maximum(Z, 0)\n"
                                "    ### END SOLUTION"),
                  new_code_cell("mine = lambda Z: np.maximum(Z, 0)\nreturn np.maximum(Z, 0)"))
    assert run(tmp_path) == 0


def test_marker_text_in_a_raw_cell_is_a_leak_and_nothing_is_written(tmp_path, capsys):
    make_notebook(tmp_path / "notebooks" / "01_a.ipynb", new_raw_cell("### BEGIN SOLUTION\nsecret"))
    assert run(tmp_path) == 1
    err = capsys.readouterr().err.strip().split("\n")
    assert len(err) == 1 and "01_a.ipynb" in err[0] and "BEGIN SOLUTION" in err[0]
    assert not (tmp_path / "student").exists()


def test_check_names_a_hand_edited_leak(course, capsys):
    assert run(course) == 0
    path = course / "student" / "01_first.ipynb"
    nb = read(path)
    nb.cells[1].source = nb.cells[1].source.replace("# YOUR CODE HERE", "positive = np.maximum(Z, 0)")
    nbformat.write(nb, path)
    capsys.readouterr()
    assert run(course, "--check") == 1
    err = capsys.readouterr().err
    assert "01_first.ipynb is out of date" in err
    assert "solution leak: cell 2 contains solution line: positive = np.maximum(Z, 0)" in err


@pytest.mark.parametrize("source, problem", [
    ("### BEGIN SOLUTION\nx = 1", "BEGIN SOLUTION without an END SOLUTION"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION", "inside another solution region"),
    ("x = 1\n### END SOLUTION", "END SOLUTION without a BEGIN SOLUTION"),
])
def test_unbalanced_markers_exit_2_with_one_line(tmp_path, capsys, source, problem):
    make_notebook(tmp_path / "notebooks" / "04_bad.ipynb", new_markdown_cell("# Bad"), new_code_cell(source))
    assert run(tmp_path) == 2
    assert run(tmp_path, "--check") == 2
    err = capsys.readouterr().err.strip().split("\n")
    assert len(err) == 2 and err[0] == err[1]
    assert "04_bad.ipynb" in err[0] and "cell 2 (code" in err[0] and problem in err[0]
    assert not (tmp_path / "student").exists()


def test_missing_source_and_no_notebooks_are_one_line_errors(tmp_path, capsys):
    assert run(tmp_path) == 2
    assert "no source folder" in capsys.readouterr().err
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "scratch.ipynb").write_text("{}", encoding="utf-8")
    assert run(tmp_path) == 2
    err = capsys.readouterr().err.strip().split("\n")
    assert len(err) == 1 and "no NN_*.ipynb notebooks" in err[0]


def test_out_must_not_be_the_source(course, capsys):
    assert student.main(["--source", str(course / "notebooks"), "--out", str(course / "notebooks")]) == 2
    assert "overwrite the solutions" in capsys.readouterr().err


def test_real_notebooks_build_compile_and_hold_no_markers(tmp_path):
    out = tmp_path / "student"
    assert student.main(["--source", str(student.PROJECT_ROOT / "notebooks"), "--out", str(out)]) == 0
    copies = sorted(out.glob("*.ipynb"))
    assert len(copies) == len(list((student.PROJECT_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))) > 0
    for path in copies:
        text = path.read_text(encoding="utf-8")
        assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text, path.name
        for index, cell in enumerate(nbformat.reads(text, as_version=4).cells, 1):
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None
                code = "\n".join(line for line in cell.source.split("\n")
                                 if not line.lstrip().startswith(("%", "!")))
                compile(code, f"{path.name} cell {index}", "exec")


def test_verify_run_wants_not_yet_written_from_every_check(tmp_path):
    """An executed untouched copy must print one 'not yet written' line per check call."""
    source, run_dir = tmp_path / "notebooks", tmp_path / "run"
    source.mkdir()
    run_dir.mkdir()
    cell = ("def f(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION\n\n"
            "f = check.relu(f)\ng = check.softmax(g)")
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell)]), source / "01_a.ipynb")

    def executed(*lines):
        out = nbformat.v4.new_output("stream", name="stdout", text="".join(line + "\n" for line in lines))
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x", outputs=[out])])
        nbformat.write(nb, run_dir / "01_a.ipynb")

    executed("… relu: not yet written — continuing with mnistlib's version",
             "… softmax: not yet written — continuing with mnistlib's version")
    assert student.verify_untouched_run(run_dir, source) == []
    executed("… relu: not yet written — continuing with mnistlib's version")
    assert "1 check lines printed, expected 2" in student.verify_untouched_run(run_dir, source)[0]
    executed("✓ relu: max(0, Z)", "… softmax: not yet written — continuing with mnistlib's version")
    assert student.verify_untouched_run(run_dir, source) == ["01_a.ipynb: ✓ relu: max(0, Z)"]
