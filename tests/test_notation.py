"""The series speaks one notation (NOTATION.md), and every figure has a description beside it.

These read the committed notebooks: their markdown (what a learner reads) and their saved outputs.
"""
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
CARD = ROOT / "NOTATION.md"

# Forms the card retires, each with what to write instead. Searched in markdown cells (LaTeX included).
RETIRED = [
    (r"\\ln\b", "natural log is written \\log"),
    (r"\\delta_\{?[a-z][a-z]\}?", "the Kronecker delta is written [k = j]; δ_l is the backpropagated error"),
    (r"\\alpha", "the learning rate is \\eta (ELU's \\alpha is named with its function)"),
    (r"\\beta(?!_)", "momentum is \\mu; \\beta_1, \\beta_2 are Adam's"),
    (r"\$m\$|\(m,|\(784, m\)|\\frac\{1\}\{m\}|/\s*m\b|\bm = Y", "the batch size is N"),
    (r"\$B\$|\(B,|\bB = \d", "the batch size is N (\\mathcal{B} is the set of a mini-batch's rows)"),
    (r"\$d?P\$|\bdP\b|P \\leftarrow", "a parameter is \\theta, its gradient d\\theta"),
    (r"\\partial L\b|\bL_\{?\\text|\\underbrace\{L\}|L = -\\frac",
     "the loss is \\mathcal{L}; L is the number of layers"),
]


def markdown(nb_path):
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    return [(i, "".join(c["source"])) for i, c in enumerate(nb["cells"]) if c["cell_type"] == "markdown"]


def test_the_card_defines_every_symbol_the_series_relies_on():
    card = CARD.read_text(encoding="utf-8")
    for symbol in ("$N$", "$H$", "$K$", "$L$", "\\mathcal{L}", "$\\eta$", "$\\mu$", "$\\delta_l$", "[k = j]",
                   "$\\log$", "$\\theta$", "$d\\theta$", "$\\beta_1$", "$\\lambda$", "$\\mathcal{B}$"):
        assert symbol in card, symbol


def test_readme_and_every_notebook_link_the_card():
    assert "(NOTATION.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
    for nb_path in NOTEBOOKS:
        first = markdown(nb_path)[0][1]
        assert "(../NOTATION.md)" in first, f"{nb_path.name}: its first cell should link ../NOTATION.md"


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=lambda p: p.name[:2])
def test_no_retired_symbol(nb_path):
    found = []
    for i, text in markdown(nb_path):
        for line in text.splitlines():
            for pattern, instead in RETIRED:
                if re.search(pattern, line) and not ("ELU" in line and "alpha" in pattern):
                    found.append(f"cell {i}: {line.strip()[:90]!r}: {instead}")
    assert not found, "\n".join(found)


def test_the_retired_forms_are_caught():
    # each pattern catches the form it retires (so the test above can fail)
    for text in ("$\\ln 10$", "a_k(\\delta_{kj} - a_j)", "$v \\leftarrow \\beta v$", "$\\alpha = 0.1$", "$(m, 784)$",
                 "batch $B$ of", "$P \\leftarrow P - \\eta dP$", "$\\partial L / \\partial W$"):
        assert any(re.search(p, text) for p, _ in RETIRED), text


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=lambda p: p.name[:2])
def test_every_figure_has_a_description_beside_it(nb_path):
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    missing = []
    for i, cell in enumerate(nb["cells"]):
        outputs = cell.get("outputs", [])
        images = [k for k, o in enumerate(outputs) if "image/png" in o.get("data", {})]
        for k in images:
            after = outputs[k + 1] if k + 1 < len(outputs) else {}
            text = "".join(after.get("data", {}).get("text/markdown", ""))
            if not text.startswith("*Figure: "):
                missing.append(f"cell {i}, output {k}")
    assert not missing, f"{nb_path.name}: figures without a description (use plots.show): {missing}"
