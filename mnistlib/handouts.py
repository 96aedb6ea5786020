"""Printable handouts: the executed notebooks as standalone HTML pages that work offline.

    python -m mnistlib.handouts                                  # notebooks/ -> handouts_html/
    python -m mnistlib.handouts --source student --out /tmp/handouts

Each notebook becomes one page, rendered from its stored outputs (nothing is executed) by
nbconvert's HTMLExporter with the "lab" template: figures are the notebooks' own base64 PNGs,
math is typeset in the browser by a trimmed copy of MathJax 2.7.9 that ships in
``mnistlib/vendor/mathjax`` and is copied next to the pages, and ``index.html`` lists the
notebooks by their first heading. No page fetches anything from the network: the CDN scripts
nbconvert adds by default (require.js, MathJax, the Jupyter widget manager, mermaid) are left
out or replaced by the local copy, and progress-bar widgets (tqdm) are frozen into static
HTML bars showing their final state. To get a PDF, print a page from the browser.
"""
from __future__ import annotations

import argparse
import html
import re
import shutil
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MATHJAX_DIR = Path(__file__).resolve().parent / "vendor" / "mathjax"
"""The vendored MathJax 2 (see its README.md); copied to <out>/mathjax."""

MATHJAX_URL = "mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe"
"""Where the pages load MathJax from: relative to the page, so the folder can be moved."""

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

TEMPLATE = r"""{%- extends 'index.html.j2' -%}
{#- nbconvert's lab page without the scripts it would fetch from CDNs: require.js, the widget
    manager, mermaid. MathJax comes from resources.mathjax_url (the local copy), configured as
    nbconvert does but without automatic line breaks, which split formulas in table cells. -#}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block html_head_js_mathjax -%}
<script type="text/x-mathjax-config">
MathJax.Hub.Config({
  TeX: {equationNumbers: {autoNumber: "AMS", useLabelIds: true}},
  tex2jax: {inlineMath: [["$", "$"], ["\\(", "\\)"]],
            displayMath: [["$$", "$$"], ["\\[", "\\]"]],
            processEscapes: true, processEnvironments: true},
  displayAlign: "center",
  messageStyle: "none"
});
</script>
<script src="{{ resources.mathjax_url }}"></script>
{%- endblock html_head_js_mathjax -%}
"""

INDEX_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{title}</title>
<style>
  body {{ font-family: system-ui, sans-serif; max-width: 48em; margin: 3em auto; padding: 0 1em;
         line-height: 1.5; color: #222; }}
  ul {{ list-style: none; padding-left: 0; }}
  li {{ margin: .4em 0; }}
  .note {{ color: #666; font-size: .9em; }}
</style>
</head>
<body>
<h1>{title}</h1>
<ul>
{items}
</ul>
<p class="note">Made from {source} with <code>python -m mnistlib.handouts</code>.
Each page works offline; to print one (or save it as a PDF), open it and use the browser's Print.</p>
</body>
</html>
"""


class HandoutError(Exception):
    """A problem the user can fix (no notebooks, missing MathJax copy...); one line to print."""


def find_notebooks(source: Path) -> list[Path]:
    """The .ipynb files under ``source`` (checkpoints excluded), sorted by path."""
    if not source.is_dir():
        raise HandoutError(f"no such folder: {source}")
    notebooks = sorted(p for p in source.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    if not notebooks:
        raise HandoutError(f"no notebooks (*.ipynb) in {source}")
    stems = [p.stem for p in notebooks]
    duplicates = sorted({s for s in stems if stems.count(s) > 1})
    if duplicates:
        raise HandoutError(f"two notebooks would both become {duplicates[0]}.html (in {source})")
    return notebooks


def notebook_title(nb, fallback: str) -> str:
    """The text of the notebook's first Markdown heading ("# 01 · Loading ..."), else fallback."""
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            match = re.match(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$", line)
            if match and match.group(1):
                return match.group(1)
    return fallback


def freeze_widgets(nb) -> int:
    """Replace every widget output by static HTML of its saved final state; return how many.

    A widget needs JavaScript from a CDN to show; a tqdm bar's saved state (an HBox of an HTML
    label, a FloatProgress and an HTML counter) is enough to draw it as plain HTML instead.
    Widgets without a saved state keep their text fallback. Drops the notebook's widget state.
    """
    state = nb.metadata.pop("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    models = state.get("state", {})
    frozen = 0
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            view = output.get("data", {}).pop(WIDGET_VIEW, None)
            if view is None:
                continue
            static = _widget_html(models, view.get("model_id"))
            if static:
                output["data"]["text/html"] = f'<div class="frozen-widget">{static}</div>'
                frozen += 1
    return frozen


def _widget_html(models: dict, model_id, depth: int = 0) -> str:
    """Static HTML for one widget model and its children ('' for kinds we don't draw)."""
    model = models.get(str(model_id).removeprefix("IPY_MODEL_"))
    if model is None or depth > 10:
        return ""
    kind, s = model.get("model_name", ""), model.get("state", {})
    if kind in ("HBoxModel", "VBoxModel", "BoxModel"):
        direction = "column" if kind == "VBoxModel" else "row"
        parts = "".join(_widget_html(models, child, depth + 1) for child in s.get("children", []))
        return (f'<div style="display:flex;flex-direction:{direction};align-items:center;'
                f'gap:.5em">{parts}</div>')
    if kind == "HTMLModel":
        return f"<span>{s.get('value', '')}</span>"
    if kind in ("LabelModel", "TextModel"):
        return f"<span>{html.escape(str(s.get('value', '')))}</span>"
    if kind in ("FloatProgressModel", "IntProgressModel"):
        low, high, value = s.get("min", 0), s.get("max", 100), s.get("value", 0)
        percent = 100 * (value - low) / (high - low) if high > low else 0
        colour = {"success": "#5cb85c", "danger": "#d9534f", "warning": "#f0ad4e"}.get(
            s.get("bar_style"), "#2196f3")
        return (f'<span style="display:inline-block;width:16em;height:1em;background:#eee">'
                f'<span style="display:block;height:100%;width:{percent:.1f}%;'
                f'background:{colour}"></span></span>')
    return ""


def make_exporter():
    """An HTMLExporter (lab template, images embedded) whose pages load MathJax locally only."""
    import jinja2
    from nbconvert import HTMLExporter
    return HTMLExporter(
        template_name="lab",
        template_file="handout.html.j2",
        extra_loaders=[jinja2.DictLoader({"handout.html.j2": TEMPLATE})],
        mathjax_url=MATHJAX_URL,
        embed_images=True,
    )


def build(source: Path, out: Path, mathjax_dir: Path = MATHJAX_DIR, log=print) -> list[Path]:
    """Render every notebook in ``source`` to ``out``/<name>.html, copy MathJax, write index.html.

    Returns the paths of the pages written (index.html last). Raises HandoutError.
    """
    import nbformat
    notebooks = find_notebooks(source)
    if not (mathjax_dir / "MathJax.js").is_file():
        raise HandoutError(f"the local MathJax copy is missing: no {mathjax_dir / 'MathJax.js'}")
    out.mkdir(parents=True, exist_ok=True)
    exporter = make_exporter()
    pages, items = [], []
    for path in notebooks:
        start = time.perf_counter()
        try:
            nb = nbformat.read(path, as_version=4)
        except Exception as e:  # not JSON, not a notebook
            raise HandoutError(f"{path}: not a readable notebook ({type(e).__name__}: {e})") from None
        title = notebook_title(nb, path.stem)
        nb.metadata["title"] = title
        freeze_widgets(nb)
        body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": path.stem}})
        page = out / f"{path.stem}.html"
        page.write_text(body, encoding="utf-8")
        pages.append(page)
        items.append(f'<li><a href="{html.escape(page.name)}">{html.escape(title)}</a></li>')
        executed = any(c.get("outputs") for c in nb.cells if c.cell_type == "code")
        note = "" if executed else "  (no outputs: the notebook was not executed)"
        log(f"  {path.name} -> {page} ({page.stat().st_size / 1e6:.1f} MB, "
            f"{time.perf_counter() - start:.1f} s){note}")
    shutil.copytree(mathjax_dir, out / "mathjax", dirs_exist_ok=True)
    index = out / "index.html"
    index.write_text(INDEX_PAGE.format(title="MNIST from Scratch: handouts",
                                       items="\n".join(items), source=html.escape(source.name)),
                     encoding="utf-8")
    return [*pages, index]


class Fetches(HTMLParser):
    """What a browser would fetch from a page (script src, link href, img src, ...), the inline
    <script> and <style> texts, and the plain <a href> links (which fetch nothing) separately."""

    FETCHING = {("script", "src"), ("link", "href"), ("img", "src"), ("iframe", "src"),
                ("source", "src"), ("video", "src"), ("audio", "src"), ("embed", "src"),
                ("object", "data"), ("input", "src")}

    def __init__(self):
        super().__init__()
        self.urls, self.links, self.inline, self._tag = [], [], [], None

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if (tag, name) in self.FETCHING and value:
                self.urls.append(value)
            if tag == "a" and name == "href" and value:
                self.links.append(value)
        self._tag = tag if tag in ("script", "style") else None

    def handle_data(self, data):
        if self._tag:
            self.inline.append((self._tag, data))

    def handle_endtag(self, tag):
        self._tag = None


def parse_page(page: Path) -> Fetches:
    parser = Fetches()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def offline_problems(page: Path) -> list[str]:
    """Everything in a page that would need the network or a missing file (empty: works offline).

    Embedded data: URLs are fine; any other fetched URL must be a relative path to a file that
    exists; inline scripts may not name a URL; styles may not @import or url() a remote file.
    """
    problems, parsed = [], parse_page(page)
    for url in parsed.urls:
        if url.startswith("data:"):
            continue
        if re.match(r"^([a-z]+:)?//", url, re.I):
            problems.append(f"{page.name} fetches {url}")
        elif not (page.parent / url.split("?")[0].split("#")[0]).is_file():
            problems.append(f"{page.name} refers to {url}, which is not in {page.parent}")
    for tag, text in parsed.inline:
        if tag == "script" and re.search(r"https?://", text):
            problems.append(f"{page.name}: an inline script names a URL: {text[:120]!r}")
        if tag == "style" and ("@import" in text or re.search(r"url\(\s*['\"]?(https?:)?//", text)):
            problems.append(f"{page.name}: a style loads a remote file")
    return problems


def resolve(folder: str) -> Path:
    """A folder named on the command line: as given if it exists, else in the project folder."""
    path = Path(folder).expanduser()
    if not path.exists() and not path.is_absolute() and (PROJECT_ROOT / path).exists():
        return PROJECT_ROOT / path
    return path


def main(argv=None) -> int:
    """Entry point of `python -m mnistlib.handouts`; returns the exit status (0, or 2 on error)."""
    parser = argparse.ArgumentParser(prog="python -m mnistlib.handouts",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", default="notebooks",
                        help="folder of notebooks, e.g. notebooks or student (default: notebooks)")
    parser.add_argument("--out", default=None,
                        help="folder to write the pages into (default: handouts_html in the "
                             "project folder)")
    parser.add_argument("--verify", action="store_true",
                        help="then check that no page needs the network (exit 1 if one does)")
    args = parser.parse_args(argv)
    source = resolve(args.source)
    out = Path(args.out).expanduser() if args.out else PROJECT_ROOT / "handouts_html"
    start = time.perf_counter()
    try:
        pages = build(source, out)
    except HandoutError as e:
        print(f"python -m mnistlib.handouts: error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {len(pages) - 1} handouts and an index in {time.perf_counter() - start:.1f} s: "
          f"open {pages[-1]}")
    if args.verify:
        problems = [line for page in pages for line in offline_problems(page)]
        for line in problems:
            print(f"not offline: {line}", file=sys.stderr)
        if problems:
            return 1
        print(f"verified: the {len(pages)} pages load nothing from the network")
    return 0


if __name__ == "__main__":
    sys.exit(main())
