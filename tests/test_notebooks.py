"""The four notebooks: committed without outputs, paired with py:percent scripts, and executed end to end."""

from __future__ import annotations

import base64
import io
import re

import jupytext
import nbformat
import pytest
from PIL import Image

from compare import config
from compare.build import READER_DIR, build, execute_notebooks

try:
    from tests.corpora import BUNDLED_NAMES, MORE_LABELS, NEW_LABELS, renamed_corpus
except ImportError:
    from corpora import BUNDLED_NAMES, MORE_LABELS, NEW_LABELS, renamed_corpus

NOTEBOOKS = ["01_load_reports", "02_problem_types", "03_compare_regions", "04_export_figures"]
#: Cells whose last expression is a compare figure, per notebook (read off the .py scripts).
FIGURE_CELLS = {"01_load_reports": 0, "02_problem_types": 0, "03_compare_regions": 5, "04_export_figures": 2}
_PNG_RE = re.compile(r'<img[^>]+src="data:image/png;base64,([^"]+)"')


def test_the_four_notebooks_exist_in_order():
    assert sorted(p.stem for p in config.NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb")) == NOTEBOOKS


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_committed_without_outputs_and_paired_with_script(name):
    nb = nbformat.read(config.NOTEBOOKS_DIR / f"{name}.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)
    script = jupytext.read(config.NOTEBOOKS_DIR / f"{name}.py")
    assert [c.source for c in script.cells] == [c.source for c in nb.cells]
    assert "ipynb,py:percent" in nb.metadata["jupytext"]["formats"]


def test_notebooks_execute_end_to_end(tmp_path):
    written = execute_notebooks(tmp_path, timeout=600, progress=False)
    assert [p.stem for p in written] == NOTEBOOKS
    html = (tmp_path / "03_compare_regions.html").read_text(encoding="utf-8")
    assert "Traceback" not in html and "许昌市" in html
    # notebook 02 shows the leave-one-region-out table and 01 the errors of the demo batch
    page02 = (tmp_path / "02_problem_types.html").read_text(encoding="utf-8")
    assert "macro_f1" in page02
    # the blind second coder: κ 0.953 over the 75 problems, three to adjudicate (labels/problems_second.csv)
    assert "0.953" in page02 and "cohen_kappa" in page02 and "xuchang_2024-12-31:P27" in page02
    assert "0 of 75 problems need review" in page02 and ">review_reason</th>" not in page02  # no empty table
    # the confusion tables name the codes (the columns of a 9 x 9 table fit the page)
    assert ">基层治理与社会事务</th>" in page02 and ">grassroots_governance</th>" not in page02
    assert "empty" in (tmp_path / "01_load_reports.html").read_text(encoding="utf-8")
    for name, n_figures in FIGURE_CELLS.items():
        page = (tmp_path / f"{name}.html").read_text(encoding="utf-8")
        # what the reader sees: one embedded chart per figure cell, never the Figure's repr
        pngs = _PNG_RE.findall(page)
        assert len(pngs) == n_figures, name
        for data in pngs:
            width, height = Image.open(io.BytesIO(base64.b64decode(data))).size
            assert width > 300 and height > 150, name
        assert "<Figure size" not in page and "&lt;Figure size" not in page, name
        # no stderr stream (warnings, progress bars, tracebacks) in any executed cell
        assert 'data-mime-type="application/vnd.jupyter.stderr"' not in page, name
        # the reader version, from the same run: the same charts, no code (tests/test_build_html.py for more)
        reader = (tmp_path / READER_DIR / f"{name}.html").read_text(encoding="utf-8")
        assert _PNG_RE.findall(reader) == pngs and 'class="jp-CodeMirrorEditor' not in reader, name


_SKIP = {".git", "__pycache__", ".pytest_cache", ".ruff_cache", ".ipynb_checkpoints", ".venv"}


def _checkout_files() -> dict[str, tuple[int, int]]:
    """Every file of the checkout (caches of Python and the tools left out) → (size, mtime)."""
    out = {}
    for path in config.ROOT.rglob("*"):
        rel = path.relative_to(config.ROOT)
        if path.is_file() and not _SKIP & set(rel.parts):
            st = path.stat()
            out[rel.as_posix()] = (st.st_size, st.st_mtime_ns)
    return out


def test_notebooks_describe_the_corpus_the_build_was_given(tmp_path):
    raw, out = renamed_corpus(tmp_path / "raw", more=True), tmp_path / "out"  # two 鼓楼区, 博罗县 twice
    before = _checkout_files()
    build(raw_dir=raw, out_dir=out, jobs=2, figures=False, quiet=True, progress=False)
    assert _checkout_files() == before  # nothing written into the checkout: not notebook 04 either
    pages = {n: (out / "reports" / f"{n}.html").read_text(encoding="utf-8") for n in NOTEBOOKS}
    for name, page in pages.items():
        assert "Traceback" not in page and "No build in" not in page, name  # read what the build wrote
        assert not [b for b in BUNDLED_NAMES if b in page], name
        assert len(_PNG_RE.findall(page)) == FIGURE_CELLS[name], name
    assert all(label in pages["03_compare_regions"] for label in NEW_LABELS + MORE_LABELS)
    assert "4 units of comparison (place), shares weighted: pooled" in pages["03_compare_regions"]
    assert "鼓楼区（南京市）" in pages["01_load_reports"]
    # no hand labels for these problems: one line says what the evaluation needs
    assert "No evaluation: problems.csv codes 0 of this corpus" in pages["02_problem_types"]
    assert "No agreement on this corpus" in pages["02_problem_types"]
    assert (out / "reports" / "export" / "figures" / "02_bars_type_by_region_en.png").is_file()
