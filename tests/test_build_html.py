"""compare.build, the HTML part: an executed notebook written twice, in full and as a reader version.

The notebooks here are made in the test (outputs written by hand; one tiny notebook runs in a kernel), so
these tests are fast; the real notebooks are executed in ``test_notebooks.py`` and opened in a browser in ``test_browser.py``.
"""

from __future__ import annotations

import base64
import io
import re

import nbformat
import pytest
from bs4 import BeautifulSoup
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from PIL import Image

from compare.build import READER_DIR, export_html, headings, reader_notebook

_EXTERNAL = re.compile(r"""<(?:script|link|img|iframe)[^>]+(?:src|href)=["']?(?:https?:)?//""", re.I)


def _png(width: int = 40, height: int = 20) -> str:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _figure_cell(source: str) -> nbformat.NotebookNode:
    cell = new_code_cell(source, execution_count=3)
    cell.outputs = [new_output("execute_result", {"image/png": _png(), "text/plain": "<Figure>"}, execution_count=3)]
    return cell


def _table_cell() -> nbformat.NotebookNode:
    cell = new_code_cell("table", execution_count=2)
    html = "<table class='dataframe'><tr><th>地区</th><td>许昌市</td></tr></table>"
    cell.outputs = [new_output("execute_result", {"text/html": html, "text/plain": "table"}, execution_count=2)]
    return cell


@pytest.fixture()
def executed() -> nbformat.NotebookNode:
    """A small executed notebook: a title cell, two sections, a table, two figures and a printed line."""
    printed = new_code_cell("print('养老服务 3')", execution_count=1)
    printed.outputs = [new_output("stream", name="stdout", text="养老服务 3\n")]
    return new_notebook(cells=[
        new_markdown_cell("# 09 · 示例 / An example\n\nA notebook made by the test."),
        printed,
        new_markdown_cell("## 类型 × 地区 / Types by region\nShares of each region's problems."),
        _table_cell(),
        _figure_cell("figs['heatmap']"),
        new_markdown_cell("### 细分 / A finer look\n```python\n# not a heading\n```"),
        _figure_cell("figs['timeline']"),
        new_markdown_cell("## 时间线 / Timeline?"),
    ])


def _soup(path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "lxml")


def test_headings_are_the_ids_nbconvert_gives_and_skip_code_blocks(executed, tmp_path):
    found = headings(executed)
    assert [(level, text) for level, _, text in found] == [
        (1, "09 · 示例 / An example"), (2, "类型 × 地区 / Types by region"), (3, "细分 / A finer look"),
        (2, "时间线 / Timeline?")]
    ids = {h["id"] for h in _soup(export_html(executed, "09_example", tmp_path)[0]).select("h1, h2, h3")}
    assert {anchor for _, anchor, _ in found} == ids


def test_two_pages_from_one_run_full_and_reader(executed, tmp_path):
    full, reader = export_html(executed, "09_example", tmp_path)
    assert full == tmp_path / "09_example.html" and reader == tmp_path / READER_DIR / "09_example.html"
    page, short = _soup(full), _soup(reader)
    assert page.title.string == short.title.string == "09 · 示例 / An example"
    # the full page: every code cell with its input and prompt, as nbconvert writes it
    assert len(page.select(".jp-CodeCell .jp-InputArea")) == 4
    assert len(page.select(".jp-CodeCell .jp-InputPrompt")) == 4 and "print(" in page.get_text()
    # the reader: no code, no prompts; every figure, table and printed line is still there
    assert short.select(".jp-CodeCell .jp-InputArea") == [] and short.select(".jp-CodeMirrorEditor") == []
    assert short.select(".jp-InputPrompt, .jp-OutputPrompt") == [] and "print(" not in short.get_text()
    pngs = 'img[src^="data:image/png;base64,"]'
    assert len(short.select(pngs)) == len(page.select(pngs)) == 2
    assert len(short.select("table.dataframe")) == len(page.select("table.dataframe")) == 1
    assert "养老服务 3" in short.get_text() and "许昌市" in short.get_text()


def test_the_reader_has_a_table_of_contents_after_the_title(executed, tmp_path):
    short = _soup(export_html(executed, "09_example", tmp_path)[1])
    toc = short.select_one("nav.compare-toc")
    assert toc is not None
    links = [a["href"] for a in toc.select("a")]
    ids = [h["id"] for h in short.select("h1, h2, h3")]
    assert links == [f"#{i}" for i in ids[1:]]  # every heading but the title, in order, each an anchor
    assert [a.get_text() for a in toc.select("a")] == [
        "类型 × 地区 / Types by region", "细分 / A finer look", "时间线 / Timeline?"]
    # placed right after the title cell
    title = short.select_one("h1")
    assert title.find_next("nav") is toc and toc.find_previous("h1") is title
    assert reader_notebook(executed).cells[1].cell_type == "markdown" and len(executed.cells) == 8


def test_one_notebook_gives_the_same_pages_every_time_and_others_between_do_not_change_them(executed, tmp_path):
    """The exporters are made once per process and lent to each notebook in turn: what one notebook leaves on
    them (its filters, its metadata) must not reach the next page, and nothing random goes into a page."""
    import compare.build as build

    first = [p.read_bytes() for p in export_html(executed, "09_example", tmp_path / "a")]
    other = new_notebook(cells=[new_markdown_cell("# 另一份 / Another"), _table_cell()])
    export_html(other, "10_other", tmp_path / "a")
    again = [p.read_bytes() for p in export_html(executed, "09_example", tmp_path / "b")]
    build._EXPORTERS.clear()  # and a fresh exporter writes the very same bytes
    fresh = [p.read_bytes() for p in export_html(executed, "09_example", tmp_path / "c")]
    assert first == again == fresh
    assert b'id="cell-id=compare-toc"' in first[1] and b"compare-toc" not in first[0]


def test_both_pages_read_offline(executed, tmp_path):
    (tmp_path / "book").mkdir()
    Image.new("RGB", (8, 8)).save(tmp_path / "book" / "logo.png")
    executed.cells.append(new_markdown_cell("![logo](logo.png)"))
    for path in export_html(executed, "09_example", tmp_path / "html", path=tmp_path / "book"):
        text = path.read_text(encoding="utf-8")
        assert not _EXTERNAL.search(text), path  # no script, style sheet or image from the web
        assert "require.js" not in text and "mathjax" not in text.lower(), path
        srcs = [img["src"] for img in _soup(path).select("img")]
        assert len(srcs) == 3 and all(s.startswith("data:image/png;base64,") for s in srcs), path


def test_a_widget_shows_its_static_copy_says_where_to_use_it_and_loads_nothing(executed, tmp_path):
    for k, model in enumerate(("abc", "def")):
        cell = new_code_cell("ex.widget", execution_count=5 + k)
        view = {"version_major": 2, "version_minor": 0, "model_id": model}
        data = {"application/vnd.jupyter.widget-view+json": view, "text/plain": "VBox(children=(…))"}
        if k == 1:  # one shows a static copy of itself beside the widget
            data["text/html"] = '<div class="static-copy"><table><tr><td>养老服务</td></tr></table></div>'
        cell.outputs = [new_output("display_data", data)]
        executed.cells.append(cell)
    # with the state of one widget saved (nbclient saves it) and without that of the other
    executed.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {
        "version_major": 2, "version_minor": 0, "state": {"abc": {"model_name": "VBoxModel", "state": {}}}}}
    for path in export_html(executed, "09_example", tmp_path):
        text = path.read_text(encoding="utf-8")
        assert "unpkg" not in text and "widget-state" not in text and not _EXTERNAL.search(text), path
        assert len(_soup(path).select(".compare-widget-note")) == 2 and "VBox(" not in text, path
        assert len(_soup(path).select(".static-copy td")) == 1, path
    assert "widgets" in executed.metadata  # the notebook itself is not changed


def test_a_notebook_without_headings_gets_no_table_of_contents(tmp_path):
    nb = new_notebook(cells=[_table_cell()])
    short = _soup(export_html(nb, "plain", tmp_path)[1])
    assert short.select("nav") == [] and short.title.string == "plain"


def test_the_kernels_get_absolute_folders_and_both_pages_are_written(tmp_path, monkeypatch):
    """A relative ``--raw`` names the same folder in the kernel, which runs in the notebook's own folder."""
    from compare.build import execute_notebooks

    book = tmp_path / "book" / "01_env.ipynb"
    book.parent.mkdir()
    nb = new_notebook(cells=[new_markdown_cell("# 01 · env"),
                             new_code_cell("import os\nprint(os.environ['COMPARE_RAW'])")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, book)
    (tmp_path / "reports").mkdir()
    monkeypatch.chdir(tmp_path)
    written = execute_notebooks(tmp_path / "html", raw="reports", progress=False, notebooks=[book])
    assert written == [tmp_path / "html" / "01_env.html"]
    for page in (written[0], tmp_path / "html" / READER_DIR / "01_env.html"):
        assert str(tmp_path / "reports") in _soup(page).get_text(), page
