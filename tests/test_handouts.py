"""Handouts: a real notebook rendered to a page that loads nothing from the network, and the index."""
import shutil
from pathlib import Path

import nbformat
import pytest

from mnistlib import handouts

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "01_loading_and_exploring.ipynb"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Notebook 01 built into a temporary folder: (output folder, pages written)."""
    source = tmp_path_factory.mktemp("source")
    shutil.copy(NOTEBOOK, source)
    out = tmp_path_factory.mktemp("handouts")
    return out, handouts.build(source, out, log=lambda line: None)


def test_pages_fetch_only_local_files_that_exist(built):
    out, pages = built
    assert [p.name for p in pages] == ["01_loading_and_exploring.html", "index.html"]
    for page in pages:
        assert handouts.offline_problems(page) == []


def test_page_loads_the_local_mathjax_and_keeps_the_math(built):
    out, pages = built
    page = out / "01_loading_and_exploring.html"
    assert "mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe" in handouts.parse_page(page).urls
    assert (out / "mathjax" / "MathJax.js").is_file()
    assert "$[0, 1]$" in page.read_text(encoding="utf-8")  # from the notebook's Markdown, for MathJax
    assert "<title>01 · Loading and Exploring MNIST</title>" in page.read_text(encoding="utf-8")


def test_figures_are_embedded(built):
    out, pages = built
    urls = handouts.parse_page(out / "01_loading_and_exploring.html").urls
    figures = [u for u in urls if u.startswith("data:image/png;base64,")]
    assert len(figures) >= 6  # notebook 01 has six figures


def test_index_lists_each_notebook_by_its_first_heading(built):
    out, pages = built
    index = out / "index.html"
    assert handouts.parse_page(index).links == ["01_loading_and_exploring.html"]
    assert ">01 · Loading and Exploring MNIST</a>" in index.read_text(encoding="utf-8")


def widget_notebook():
    """A notebook with one tqdm-style progress bar output and its saved widget state."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("Intro, no heading"),
                nbformat.v4.new_markdown_cell("## Training $x^2$ \n text"),
                nbformat.v4.new_code_cell("train()")]
    nb.cells[2].outputs = [nbformat.v4.new_output(
        "display_data", data={handouts.WIDGET_VIEW: {"model_id": "box", "version_major": 2},
                              "text/plain": "  0%|          | 0/5"})]

    def model(name, **state):
        return {"model_name": name, "state": state}
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {
        "box": model("HBoxModel", children=["IPY_MODEL_left", "IPY_MODEL_bar", "IPY_MODEL_right"]),
        "left": model("HTMLModel", value="epochs: 100%"),
        "bar": model("FloatProgressModel", value=3.0, max=5.0, bar_style="success"),
        "right": model("HTMLModel", value="5/5 [00:01&lt;00:00]"),
    }, "version_major": 2, "version_minor": 0}}
    return nb


def test_progress_bar_widgets_become_static_html(tmp_path):
    nbformat.write(widget_notebook(), tmp_path / "bars.ipynb")
    page = handouts.build(tmp_path, tmp_path / "out", log=lambda line: None)[0]
    text = page.read_text(encoding="utf-8")
    assert "unpkg.com" not in text and handouts.WIDGET_VIEW not in text
    assert "epochs: 100%" in text and "5/5 [00:01&lt;00:00]" in text
    assert "width:60.0%" in text  # 3 of 5
    assert "<title>Training $x^2$</title>" in text  # the first heading, even in a later cell


def test_unexecuted_notebook_is_noted(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")])
    nbformat.write(nb, tmp_path / "student.ipynb")
    lines = []
    handouts.build(tmp_path, tmp_path / "out", log=lines.append)
    assert lines[0].endswith("(no outputs: the notebook was not executed)")
    assert ">student</a>" in (tmp_path / "out" / "index.html").read_text(encoding="utf-8")


def test_vendored_mathjax_is_small_and_complete():
    files = [p for p in handouts.MATHJAX_DIR.rglob("*") if p.is_file()]
    assert sum(p.stat().st_size for p in files) < 3e6
    for needed in ["MathJax.js", "config/TeX-AMS_CHTML-full.js", "config/Safe.js", "extensions/Safe.js",
                   "jax/output/CommonHTML/fonts/TeX/fontdata.js",
                   "jax/output/CommonHTML/autoload/multiline.js",
                   "jax/element/mml/optable/BasicLatin.js",
                   "fonts/HTML-CSS/TeX/woff/MathJax_Main-Regular.woff",
                   "fonts/HTML-CSS/TeX/woff/MathJax_Math-Italic.woff", "LICENSE"]:
        assert (handouts.MATHJAX_DIR / needed).is_file(), needed


def test_folder_without_notebooks_is_one_line(tmp_path, capsys):
    assert handouts.main(["--source", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err == f"python -m mnistlib.handouts: error: no notebooks (*.ipynb) in {tmp_path}\n"
    assert not (tmp_path / "out").exists()


def test_missing_folder_is_one_line(tmp_path, capsys):
    assert handouts.main(["--source", str(tmp_path / "nope")]) == 2
    assert capsys.readouterr().err == (f"python -m mnistlib.handouts: error: no such folder: "
                                       f"{tmp_path / 'nope'}\n")


def test_broken_notebook_is_one_line(tmp_path, capsys):
    (tmp_path / "broken.ipynb").write_text("{not json")
    assert handouts.main(["--source", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"python -m mnistlib.handouts: error: {tmp_path / 'broken.ipynb'}: "
                          f"not a readable notebook")
    assert err.count("\n") == 1


def test_the_offline_check_catches_nbconvert_default_page(tmp_path):
    """Without our template and local MathJax, nbconvert's page loads MathJax and require.js from CDNs."""
    from nbconvert import HTMLExporter
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(nbformat.read(NOTEBOOK, as_version=4))
    page = tmp_path / "default.html"
    page.write_text(body, encoding="utf-8")
    problems = handouts.offline_problems(page)
    assert any("mathjax" in p.lower() for p in problems) and any("require" in p for p in problems), problems
