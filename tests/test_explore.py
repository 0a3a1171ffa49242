"""compare.views (readable tables, marked terms, the XLSX view) and compare.explore (kwic, Explorer, the map)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from compare import analysis, explore, views
from compare.corpus import Corpus

# --------------------------------------------------------------------------------------------- a fixture
# Two short reports written for these tests (not taken from any published report). Offsets were counted by
# hand, line by line:
#   A:  0 关于巡察反馈问题的整改情况\n | 14 一、党建工作方面\n | 23 1.理论学习不深入问题。\n
#      36 整改情况：| 41 一是组织理论学习12次，学习制度上墙。| 60 二是开展专题研讨。| 69 \n
#      70 2.养老服务监管不到位问题。\n | 85 整改情况：| 90 一是检查养老机构8家。| 101 \n   (102 characters)
#   B:  0 一、民生保障方面\n | 9 1.养老服务设施建设滞后问题。\n | 25 整改情况：| 30 一是新建养老服务站3个。| 42 \n
TEXT_A = ("关于巡察反馈问题的整改情况\n一、党建工作方面\n1.理论学习不深入问题。\n"
          "整改情况：一是组织理论学习12次，学习制度上墙。二是开展专题研讨。\n"
          "2.养老服务监管不到位问题。\n整改情况：一是检查养老机构8家。\n")
TEXT_B = "一、民生保障方面\n1.养老服务设施建设滞后问题。\n整改情况：一是新建养老服务站3个。\n"
A, B = "jia_2024-05-01", "yi_2023-11-20"


class _Doc:
    """A document as the corpus holds it: canonical text and a raw text (here: full-width digits)."""

    def __init__(self, text: str):
        self.text = text
        self.raw = text.translate(str.maketrans("0123456789", "０１２３４５６７８９"))

    def raw_slice(self, start: int, end: int) -> str:
        return self.raw[start:end]


def _fixture_corpus() -> Corpus:
    reports = pd.DataFrame({
        "report_id": [A, B], "region": ["甲市", "乙县"], "city": ["甲市", "丁市"], "province": ["丙省", "丙省"],
        "admin_level": ["city", "county"], "published_date": ["2024-05-01", "2023-11-20"]})
    problems = pd.DataFrame({
        "report_id": [A, A, B], "problem_id": [f"{A}:P01", f"{A}:P02", f"{B}:P01"], "seq": [1, 2, 1],
        "label": ["1.", "2.", "1."], "title": ["理论学习不深入", "养老服务监管不到位", "养老服务设施建设滞后"],
        "text": [TEXT_A[23:69], TEXT_A[70:101], TEXT_B[9:42]], "start": [23, 70, 9], "end": [70, 102, 43],
        "primary_code": ["party_building", "elderly_care", "elderly_care"], "codes": ["", "", ""],
        "matched_terms": ["理论学习;学习", "养老服务;养老机构", "养老服务"],
        "top_features": ["word:学习;word:理论学习", "word:养老", "word:养老服务 设施"]})
    measures = pd.DataFrame({
        "report_id": [A, A, A, B], "problem_id": [f"{A}:P01", f"{A}:P01", f"{A}:P02", f"{B}:P01"],
        "measure_id": [f"{A}:P01:M01", f"{A}:P01:M02", f"{A}:P02:M01", f"{B}:P01:M01"], "seq": [1, 2, 1, 1],
        "text": [TEXT_A[41:60], TEXT_A[60:69], TEXT_A[90:101], TEXT_B[30:42]],
        "start": [41, 60, 90, 30], "end": [60, 69, 101, 42], "matched_terms": ["", "专题研讨", "", ""]})
    empty = pd.DataFrame()
    return Corpus(reports, problems, measures, empty, empty, empty, documents={A: _Doc(TEXT_A), B: _Doc(TEXT_B)})


@pytest.fixture
def small():
    return _fixture_corpus()


# --------------------------------------------------------------------------------------------- views
def test_highlight_marks_the_longest_term_and_escapes_the_rest():
    assert views.highlight("理论学习中心组学习<b>&", ["学习", "理论学习中心组", "理论学习"]) == (
        "<mark>理论学习中心组</mark><mark>学习</mark>&lt;b&gt;&amp;")
    assert views.highlight("没有命中", ["学习"]) == "没有命中"
    assert views.highlight(None, ["学习"]) == ""
    assert views.term_spans("理论学习中心组学习", ["理论学习", "理论学习中心组", "学习"]) == [(0, 7), (7, 9)]


def test_split_terms_and_feature_words():
    assert views.split_terms("养老;养老服务;;养老") == ["养老", "养老服务"]
    assert views.split_terms("养老、养老服务") == ["养老", "养老服务"]
    assert views.split_terms(None) == [] and views.split_terms(float("nan")) == []
    assert views.feature_words("word:学习;word:第一议题 制度;char:殡仪") == ["学习", "第一议题 制度", "殡仪"]


def test_highlight_terms_marks_each_problem_with_its_own_terms(small):
    marked = views.highlight_terms(small.problems)
    assert marked.tolist() == ["<mark>理论学习</mark>不深入", "<mark>养老服务</mark>监管不到位",
                               "<mark>养老服务</mark>设施建设滞后"]
    text = views.highlight_terms(small.problems, column="text")
    assert text.iloc[0] == ("1.<mark>理论学习</mark>不深入问题。\n整改情况：一是组织<mark>理论学习</mark>12次，"
                            "<mark>学习</mark>制度上墙。二是开展专题研讨。")
    with pytest.raises(ValueError, match="nope"):
        views.highlight_terms(small.problems, column="nope")


def test_evidence_table_lists_the_evidence(small, codebook):
    table = views.evidence_table(small.problems, small.reports, codebook)
    assert table.columns.tolist() == ["problem_id", "region", "type", "title", "matched_terms", "top_features"]
    assert table.iloc[0].tolist() == [f"{A}:P01", "甲市", codebook.name("party_building", "zh"), "理论学习不深入",
                                      "理论学习、学习", "学习、理论学习"]
    assert table["top_features"].iloc[2] == "养老服务 设施"


def test_styled_wraps_left_aligns_marks_and_never_cuts(small, codebook):
    table = views.evidence_table(small.problems, small.reports, codebook, text=True)
    long = "很长的说明" * 80 + "<script>"
    table.loc[1, "text"] = long
    page = views.styled(table).to_html()
    assert "white-space: pre-wrap" in page and "text-align: left" in page and "max-width: 36em" in page
    assert "<mark>理论学习</mark>不深入" in page
    assert "很长的说明" * 80 + "&lt;script&gt;" in page  # whole, escaped, no "…"
    assert "<script>" not in page and "…" not in page
    # a plain column is escaped, not marked
    plain = views.styled(pd.DataFrame({"a": ["<i>x</i>"], "n": [1.23456]})).to_html()
    assert "&lt;i&gt;x&lt;/i&gt;" in plain and "1.235" in plain and "<mark>" not in plain


def test_a_categorical_text_column_is_escaped_and_wrapped_like_any_text():
    cats = pd.DataFrame({"region": pd.Categorical(["<b>海珠区</b>", "惠东县"])})
    page = views.styled(cats).to_html()
    assert "&lt;b&gt;海珠区&lt;/b&gt;" in page and "<b>" not in page and "white-space: pre-wrap" in page


def test_named_codes_names_both_axes_and_keeps_the_rest(codebook):
    confusion = pd.DataFrame([[5, 1], [0, 3]], index=pd.Index(["party_building", "elderly_care"], name="true"),
                             columns=pd.Index(["party_building", "other"], name="predicted"))
    named = views.named_codes(confusion, codebook)
    # codebook order (养老服务 comes first in it), labels that are no code after the codes, counts moved along
    assert named.index.tolist() == ["养老服务", "党的建设"] and named.columns.tolist() == ["党的建设", "other"]
    assert (named.index.name, named.columns.name) == ("true", "predicted")
    assert named.to_numpy().tolist() == [[0, 3], [5, 1]] and confusion.index[0] == "party_building"
    clusters = pd.DataFrame([[1, 2, 0]], index=pd.Index([0], name="cluster"),
                            columns=pd.Index(["social_assistance", "elderly_care", "(none)"], name="code"))
    assert views.named_codes(clusters, codebook).columns.tolist() == ["养老服务", "社会救助", "(none)"]
    assert views.named_codes(clusters, codebook).to_numpy().tolist() == [[2, 1, 0]]
    assert views.named_codes(confusion, codebook, "en").index.tolist() == ["Elderly care", "Party building"]


def test_styled_shows_dates_as_dates_and_times_as_times():
    days = pd.to_datetime(pd.Series(["2024-03-01", None, "2024-12-31"]))
    stamps = pd.to_datetime(pd.Series(["2024-03-01 09:30", "2024-03-02 00:00", None]))
    page = views.styled(pd.DataFrame({"feedback_date": days, "seen": stamps})).to_html()
    assert ">2024-03-01<" in page and ">2024-12-31<" in page and "2024-03-01 00:00:00" not in page
    assert "2024-03-01 09:30:00" in page and "2024-03-02 00:00:00" in page  # a time of day stays


def test_the_xlsx_view_keeps_wrap_alignment_terms_and_formula_safety(small, codebook, tmp_path):
    from openpyxl import load_workbook
    from openpyxl.cell.rich_text import CellRichText, TextBlock

    table = views.evidence_table(small.problems, small.reports, codebook)
    table.loc[2, "top_features"] = "=1+1"
    path = views.save_view_xlsx(table, tmp_path / "view.xlsx")
    ws = load_workbook(path, rich_text=True).active
    assert [c.value for c in ws[1]] == table.columns.tolist()
    title = ws["D2"].value
    assert isinstance(title, CellRichText)
    marked = [b.text for b in title if isinstance(b, TextBlock) and b.font.b]
    assert marked == ["理论学习"] and str(title) == "理论学习不深入"
    assert ws["D2"].alignment.wrap_text and ws["D2"].alignment.horizontal == "left"
    assert ws["F4"].value == "'=1+1"  # neutralised, not a formula
    assert ws.freeze_panes == "A2"
    again = views.save_view_xlsx(table, tmp_path / "again.xlsx")
    assert again.read_bytes() == path.read_bytes()  # reproducible


# --------------------------------------------------------------------------------------------- kwic
def test_kwic_gives_context_ids_and_offsets(small):
    k = explore.kwic(small, "养老服务", window=5)
    assert k.columns.tolist() == explore.KWIC_COLUMNS
    records = [{c: (None if pd.isna(v) else v) for c, v in r.items()} for r in k.to_dict("records")]
    assert records == [
        {"report_id": A, "problem_id": f"{A}:P02", "measure_id": None, "left": "讨。\n2.", "match": "养老服务",
         "right": "监管不到位", "start": 72, "end": 76},
        {"report_id": B, "problem_id": f"{B}:P01", "measure_id": None, "left": "方面\n1.", "match": "养老服务",
         "right": "设施建设滞", "start": 11, "end": 15},
        {"report_id": B, "problem_id": f"{B}:P01", "measure_id": f"{B}:P01:M01", "left": "：一是新建",
         "match": "养老服务", "right": "站3个。\n", "start": 34, "end": 38},
    ]
    for r in k.itertuples():
        assert small.text(r.report_id, r.start, r.end) == r.match


def test_kwic_at_the_edges_and_outside_problems(small):
    k = explore.kwic(small, "关于", window=3)
    assert k[["left", "right", "start"]].values.tolist() == [["", "巡察反", 0]]
    assert k["problem_id"].isna().all() and k["measure_id"].isna().all()
    assert explore.kwic(small, "学习", window=2)["start"].tolist() == [27, 47, 53]
    assert explore.kwic(small, "不存在").empty
    with pytest.raises(ValueError):
        explore.kwic(small, "")


def test_kwic_on_the_bundled_reports(corpus):
    k = explore.kwic(corpus, "养老服务", window=8)
    assert len(k) > 10
    problems = corpus.problems.set_index("problem_id")
    for r in k.itertuples():
        assert corpus.text(r.report_id, r.start, r.end) == "养老服务"
        assert corpus.text(r.report_id, max(0, r.start - 8), r.end + 8) == r.left + r.match + r.right
        if pd.notna(r.problem_id):
            assert problems.loc[r.problem_id, "start"] <= r.start < problems.loc[r.problem_id, "end"]


# --------------------------------------------------------------------------------------------- units
def test_unit_columns_and_reports(small):
    assert explore.unit_columns(small.reports) == ["region", "city", "province", "admin_level", "year"]
    assert explore.unit_reports(small.reports, "year")["region"].tolist() == ["2024", "2023"]
    assert explore.unit_reports(small.reports, "city")["region"].tolist() == ["甲市", "丁市"]
    with pytest.raises(ValueError, match="issuer"):
        explore.unit_reports(small.reports, "issuer")


# --------------------------------------------------------------------------------------------- explorer
def test_explorer_selects_and_shows_the_problems(small, codebook):
    ex = explore.Explorer(small, {}, codebook)
    # the unit is the place, labelled so that it cannot be taken for a namesake elsewhere
    assert len(ex.problems) == 3 and ex.units == ["甲市", "乙县（丁市）"]
    ex.select(unit="甲市", code="party_building")
    assert ex.problems["problem_id"].tolist() == [f"{A}:P01"]
    assert ex.problems["region"].tolist() == ["甲市"]
    page = ex.html.value
    assert "<mark>理论学习</mark>不深入" in page
    assert "组织<mark>理论学习</mark>１２次" in page  # the raw passage (full-width digits), terms marked
    assert "二是开展<mark>专题研讨</mark>。" in page  # a measure, its own terms marked
    assert f'data-problem-id="{A}:P01"' in page and f"{A}:P02" not in page
    ex.select(unit2="乙县（丁市）", code="elderly_care")
    assert ex.problems["problem_id"].tolist() == [f"{A}:P02", f"{B}:P01"]
    with pytest.raises(ValueError, match="unit"):
        ex.select(unit="不存在")


def test_clicking_a_cell_filters(small, codebook):
    ex = explore.Explorer(small, {}, codebook, unit="甲市", code="party_building")
    assert ex.cells[("乙县（丁市）", "party_building")].description == "0"
    ex.cells[("乙县（丁市）", "elderly_care")].click()
    assert (ex.unit, ex.unit2, ex.code) == ("乙县（丁市）", None, "elderly_care")
    assert ex.problems["problem_id"].tolist() == [f"{B}:P01"]
    assert f'data-problem-id="{B}:P01"' in ex.html.value
    assert ex.cells[("乙县（丁市）", "elderly_care")].button_style == "warning"  # the selected cell stands out
    assert ex._unit_box.value == "乙县（丁市）" and ex._code_box.value == "elderly_care"  # the pickers follow
    ex._code_box.value = "party_building"  # and picking in them selects
    assert ex.problems.empty and "没有" in ex.html.value


def test_explorer_css_classes_for_the_browser_test(small, codebook):
    ex = explore.Explorer(small, {}, codebook)
    assert "compare-explorer" in ex.widget._dom_classes
    assert "compare-problems" in ex.html._dom_classes
    assert ex.cells and all("compare-cell" in b._dom_classes for b in ex.cells.values())


def test_explorer_by_other_units(small, codebook):
    ex = explore.Explorer(small, {}, codebook, by="province")
    assert ex.units == ["丙省"] and len(ex.problems) == 3
    assert ex.cells[("丙省", "elderly_care")].description == "2"
    ex.select(by="year", unit="2023")
    assert ex.problems["problem_id"].tolist() == [f"{B}:P01"] and "year" in ex.problems.columns
    ex.select(by="admin_level", unit="city", code="elderly_care")
    assert ex.problems["problem_id"].tolist() == [f"{A}:P02"]


def test_explorer_displays_itself(small, codebook):
    ex = explore.Explorer(small, {}, codebook, unit="乙县（丁市）")
    bundle = ex._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert f'data-problem-id="{B}:P01"' in bundle["text/html"] and "compare-problems" in bundle["text/html"]
    assert repr(ex) == "Explorer(by='region', units=['乙县（丁市）'], code=all, 1 problems)"


def test_explorer_kwic_box(small, codebook):
    ex = explore.Explorer(small, {}, codebook)
    ex._kwic_box.value = "养老机构"
    assert "养老机构" in ex.kwic_html.value and f"{A}:P02:M01" in ex.kwic_html.value


def test_the_cells_count_what_the_type_table_counts(corpus, codebook, shipped_model, measure_model):
    """On the bundled reports: every cell's number is the number of problems a click lists."""
    from compare.coding import code_tables

    coded = Corpus(**{**corpus.tables(), "documents": corpus.documents})
    coded.problems, coded.measures = code_tables(corpus.problems, corpus.measures, shipped_model, measure_model)
    counts = analysis.type_counts(coded.problems, coded.reports, codebook=codebook)
    ex = explore.Explorer(coded, {"type_counts": counts}, codebook)
    assert ex.counts is counts
    big = counts.sort_values("n", kind="stable").iloc[-1]
    ex.cells[(big.region, big.code)].click()
    assert len(ex.problems) == big.n > 0
    behind = analysis.problems_behind(coded.problems, coded.reports, region=big.region, code=big.code)
    assert ex.problems["problem_id"].tolist() == behind["problem_id"].tolist()
    for (unit, code), button in ex.cells.items():
        n = int(counts.loc[(counts.region == unit) & (counts.code == code), "n"].iloc[0])
        assert button.description == str(n)
    assert ex.html.value.count('class="cp-item"') == min(big.n, ex.limit)


# --------------------------------------------------------------------------------------------- the map
@pytest.fixture
def points():
    return pd.DataFrame({"problem_id": [f"{A}:P01", f"{A}:P02", f"{B}:P01"], "x": [0.0, 1.0, 2.0],
                         "y": [1.0, 0.0, 1.0], "primary_code": ["party_building", "elderly_care", "elderly_care"],
                         "region": ["甲市", "甲市", "乙县"], "title": ["理论学习不深入", "养老服务监管不到位", "设施<滞后>"]})


def test_the_map_hovers_id_unit_type_title(points, codebook):
    fig = explore.problem_map_figure(points, codebook, "zh")
    shown = [t for t in fig.data if t.x[0] is not None]
    assert [t.name for t in shown] == [codebook.name("elderly_care"), codebook.name("party_building")]
    rows = [list(r) for t in shown for r in t.customdata]
    assert rows == [[f"{A}:P02", "甲市", codebook.name("elderly_care"), "养老服务监管不到位"],
                    [f"{B}:P01", "乙县", codebook.name("elderly_care"), "设施<滞后>"],
                    [f"{A}:P01", "甲市", codebook.name("party_building"), "理论学习不深入"]]
    assert all("%{customdata[3]}" in t.hovertemplate for t in shown)
    assert shown[0].marker.color == codebook.color("elderly_care")
    assert {t.name for t in fig.data if t.legend == "legend2"} == {"甲市", "乙县"}
    en = explore.problem_map_figure(points, codebook, "en")
    assert en.data[0].customdata[0][1] == "Jia City"


def test_the_map_is_one_offline_html_file(points, codebook, tmp_path):
    path = explore.save_problem_map(points, tmp_path / "map.html", codebook, "zh")
    page = path.read_text(encoding="utf-8")
    assert "<html>" in page[:40] and "plotly.js v" in page  # the library inlined
    assert "<script src=" not in page and 'src="http' not in page  # nothing fetched from the network
    assert json.dumps("养老服务监管不到位")[1:-1] in page  # the hover text, as JSON in the page
    assert "设施<滞后>" not in page  # a title cannot open a tag
    bundle = explore.InteractiveMap(points, codebook)._repr_mimebundle_()
    assert set(bundle) == {"application/vnd.plotly.v1+json", "text/html", "text/plain"}
    assert "plotly.js v" in bundle["text/html"] and not bundle["text/html"].startswith("<html>")
    assert bundle["application/vnd.plotly.v1+json"]["data"][0]["customdata"][0][0] == f"{A}:P02"


def test_kwic_table_aligns_the_contexts_on_the_marked_match(small):
    page = explore.kwic_table(explore.kwic(small, "养老服务", window=5)).to_html()
    assert "<mark>养老服务</mark>" in page and "讨。↵2." in page
    assert "text-align: right" in page  # the left context ends at the match


def test_explorer_follows_the_unit_the_analyses_were_made_by(small, codebook):
    # 甲市 reports a second time (a year later): by place, its cell holds the problems of both reports, and the
    # problems behind the cell are the same three, not one report's
    C = "jia_2025-05-01"
    reports = pd.concat([small.reports, small.reports.iloc[[0]].assign(report_id=C, published_date="2025-05-01")])
    problems = pd.concat([small.problems, small.problems.iloc[[2]].assign(
        report_id=C, problem_id=f"{C}:P01", primary_code="party_building")])
    measures = pd.concat([small.measures, small.measures.iloc[[3]].assign(
        report_id=C, problem_id=f"{C}:P01", measure_id=f"{C}:P01:M01")])
    empty = pd.DataFrame()
    corpus = Corpus(reports.reset_index(drop=True), problems.reset_index(drop=True),
                    measures.reset_index(drop=True), empty, empty, empty,
                    documents={**small.documents, C: _Doc(TEXT_B)})
    counts = analysis.type_counts(corpus.problems, corpus.reports, codebook=codebook, unit="place")
    ex = explore.Explorer(corpus, {"type_counts": counts}, codebook)
    assert ex.units == ["甲市", "乙县（丁市）"]
    assert ex.cells[("甲市", "party_building")].description == "2"
    ex.select(unit="甲市", code="party_building")
    assert ex.problems["problem_id"].tolist() == [f"{A}:P01", f"{C}:P01"]
