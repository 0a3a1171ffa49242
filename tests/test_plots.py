"""compare.plots: every chart draws in both languages, with the bundled CJK font and without overlaps.

The font and theme are tested in test_theme.py, the names and labels in test_names.py.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from compare import analysis as A
from compare import config
from compare import plots as P
from compare.codebook import load_codebook
from compare.export import _settle_layout
from compare.study import FIGURES, draw_figure, figure_file, figure_pages
from compare.theme import theme

FIXTURES = Path(__file__).parent / "data" / "analysis"
SOURCE = {"zh": "来源：各局巡察整改进展情况通报；compare 编码", "en": "Source: progress reports; coded with compare"}
TITLE = {"zh": "各地区问题类型分布（−1 测试）", "en": "Problem types by region"}


def load(name: str) -> pd.DataFrame:
    return pd.read_csv(FIXTURES / f"{name}.csv", dtype={"label": str})


@pytest.fixture(scope="module")
def data():
    reports, problems, measures, mentions = (load(n) for n in ("reports", "problems", "measures", "mentions"))
    cb = load_codebook(FIXTURES / "codebook.yaml")
    mcb = load_codebook(FIXTURES / "measure_codebook.yaml")
    flags = A.concreteness(measures, mentions, problems, reports)
    return {
        "cb": cb,
        "mcb": mcb,
        "counts": A.type_counts(problems, reports, codebook=cb),
        "recurring": A.recurring_types(problems, reports, codebook=cb),
        "measures": A.measure_type_counts(measures, problems, reports, codebook=mcb),
        "concrete": A.concreteness_by_region(flags),
        "timeline": A.timeline(reports),
        "points": load("points"),
        "terms": load("terms"),
    }


CHARTS = {
    "heatmap": lambda d, **kw: P.heatmap_region_type(d["counts"], codebook=d["cb"], **kw),
    "bars_stacked": lambda d, **kw: P.bars_type_by_region(d["counts"], codebook=d["cb"], **kw),
    "bars_grouped": lambda d, **kw: P.bars_type_by_region(
        d["counts"], codebook=d["cb"], stacked=False, value="share_of_region", **kw
    ),
    "recurring": lambda d, **kw: P.recurring_matrix(d["counts"], order=d["recurring"]["code"], codebook=d["cb"], **kw),
    "map": lambda d, **kw: P.problem_map(d["points"], codebook=d["cb"], label="label", **kw),
    "measure_types": lambda d, **kw: P.bars_measure_types(d["measures"], codebook=d["mcb"], **kw),
    "concreteness": lambda d, **kw: P.bars_concreteness(d["concrete"], **kw),
    "gantt": lambda d, **kw: P.timeline_gantt(d["timeline"], **kw),
    "terms": lambda d, **kw: P.distinctive_terms(d["terms"], **kw),
}


def _overlap(a, b, gap: float = -0.5) -> bool:
    """Two boxes closer than ``gap`` pixels (negative: overlapping by more than that)."""
    return a.x0 < b.x1 + gap and b.x0 < a.x1 + gap and a.y0 < b.y1 + gap and b.y0 < a.y1 + gap


def _labels_do_not_overlap(fig: Figure) -> None:
    renderer = fig.canvas.get_renderer()  # drawn by the savefig before
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            boxes = [t.get_window_extent(renderer) for t in axis.get_ticklabels() if t.get_visible() and t.get_text()]
            for i, a in enumerate(boxes):
                for b in boxes[i + 1:]:
                    assert not _overlap(a, b), f"tick labels overlap in {ax.get_title() or ax}"
        legend = ax.get_legend()
        if legend is not None and ax.get_label() != "<colorbar>":
            box = legend.get_window_extent(renderer)
            assert not _overlap(box, ax.get_window_extent(renderer)), "legend covers the data"


# ----------------------------------------------------------------------------------------- every chart
@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("chart", list(CHARTS))
def test_chart_draws_without_missing_glyphs(data, chart, lang, tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="matplotlib.font_manager")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig = CHARTS[chart](data, lang=lang, title=TITLE[lang], source=SOURCE[lang])
        # drawn and saved outside the theme, as a notebook would display it
        FigureCanvasAgg(fig)
        fig.savefig(tmp_path / f"{chart}_{lang}.png", dpi=100)
    assert isinstance(fig, Figure)
    messages = [str(w.message) for w in caught]
    assert not [m for m in messages if "Glyph" in m or "missing from" in m], messages
    assert not [r for r in caplog.records if "findfont" in r.getMessage()], caplog.text
    assert (tmp_path / f"{chart}_{lang}.png").stat().st_size > 5000
    _labels_do_not_overlap(fig)
    texts = [t.get_text() for t in fig.findobj(matplotlib.text.Text)]
    assert any(SOURCE[lang] in t for t in texts)
    if lang == "en":
        assert not any("惠东县" in t for t in texts)
        assert any("Huidong County" in t for t in texts)


@pytest.mark.parametrize("lang,name", [("zh", "未归类"), ("en", "No type")])
def test_measures_no_type_matched_are_a_grey_segment_so_bars_reach_100_percent(data, lang, name):
    reports, problems, measures = (load(n) for n in ("reports", "problems", "measures"))
    huidong = measures.index[measures["report_id"].str.startswith("huidong")][:2]
    measures.loc[huidong, "measure_type"] = None  # 2 of 惠东县's 6 measures match no type
    counts = A.measure_type_counts(measures, problems, reports, codebook=data["mcb"])
    fig = P.bars_measure_types(counts, codebook=data["mcb"], lang=lang)
    ax = fig.axes[0]
    grey = [p for p in ax.patches if matplotlib.colors.to_hex(p.get_facecolor()) == P.UNTYPED_COLOR and p.get_width() > 0]
    assert len(grey) == 1 and grey[0].get_width() == pytest.approx(2 / 6)
    ends = {}
    for p in ax.patches:
        if p.get_width() > 0:
            y = round(p.get_y() + p.get_height() / 2, 3)
            ends[y] = max(ends.get(y, 0), p.get_x() + p.get_width())
    assert sorted(ends.values()) == pytest.approx([1.0, 1.0, 1.0])  # 惠东县, 海珠区, 许昌市 all at 100 %
    assert name in [t.get_text() for t in ax.get_legend().get_texts()]
    assert [t.get_text() for t in ax.texts if t.get_text() == "2"]  # its count printed on the segment
    # without untyped measures no grey segment and no legend entry
    plain = P.bars_measure_types(data["measures"], codebook=data["mcb"], lang=lang)
    assert name not in [t.get_text() for t in plain.axes[0].get_legend().get_texts()]


def test_one_colour_per_type(data):
    cb, palette = data["cb"], data["cb"].palette()
    fig = P.bars_type_by_region(data["counts"], codebook=cb)
    legend = fig.axes[0].get_legend()
    names = {cb.name(c): c for c in cb.ids}
    for handle, text in zip(legend.legend_handles, legend.get_texts(), strict=True):
        code = names[text.get_text()]
        assert matplotlib.colors.to_hex(handle.get_facecolor()) == palette[code]
    fig = P.problem_map(data["points"], codebook=cb)
    legend = fig.axes[0].get_legend()
    for handle, text in zip(legend.legend_handles, legend.get_texts(), strict=True):
        if text.get_text() in names:
            assert matplotlib.colors.to_hex(handle.get_color()) == palette[names[text.get_text()]]


def test_draws_into_a_given_axes(data):
    fig = Figure(layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    assert P.heatmap_region_type(data["counts"], codebook=data["cb"], ax=ax1) is fig
    assert P.bars_concreteness(data["concrete"], ax=ax2) is fig
    fig3 = Figure(layout="constrained")
    axes = fig3.subplots(1, 3)
    assert P.distinctive_terms(data["terms"], ax=axes) is fig3
    with pytest.raises(ValueError, match="needs 3 axes"):
        P.distinctive_terms(data["terms"], ax=axes[:2])


def test_heatmap_annotates_counts_in_codebook_order(data):
    fig = P.heatmap_region_type(data["counts"], codebook=data["cb"])
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == [data["cb"].name(c) for c in data["cb"].ids]
    cells = [t.get_text() for t in ax.texts]
    assert len(cells) == 27
    assert "2\n67%" in cells  # 海珠区 social_assistance


def test_bad_input(data):
    with pytest.raises(ValueError, match="needs columns"):
        P.heatmap_region_type(data["counts"].drop(columns="n"), codebook=data["cb"])
    with pytest.raises(ValueError, match="lang"):
        P.timeline_gantt(data["timeline"], lang="fr")
    with pytest.raises(ValueError, match="empty"):
        P.bars_concreteness(data["concrete"].iloc[:0])


@pytest.mark.skipif(not config.CODEBOOK_PATH.is_file(), reason="data/codebook.yaml not written yet")
def test_default_codebook_is_the_project_codebook(data):
    cb = load_codebook(config.CODEBOOK_PATH)
    fig = P.heatmap_region_type(data["counts"], codebook=cb, lang="en")
    assert [t.get_text().replace("\n", " ") for t in fig.axes[0].get_yticklabels()] == [
        cb.name(c, "en") for c in cb.ids
    ]


# ----------------------------------------------------------------------------------------- any number of units
_PROVINCES = {"江苏省": ["南京市", "徐州市", "苏州市", "无锡市"], "福建省": ["福州市", "厦门市", "泉州市"],
              "河南省": ["开封市", "许昌市", "郑州市", "洛阳市"], "广东省": ["广州市", "惠州市", "潮州市", "深圳市"],
              "甘肃省": ["兰州市", "天水市"], "四川省": ["成都市", "绵阳市", "宜宾市"]}
_DISTRICTS = ["鼓楼区", "西湖区", "朝阳区", "新城区", "城关区", "湘桥区", "海珠区", "魏都区", "惠城区", "武侯区",
              "龙泉驿区", "高新区", "惠东县", "博罗县", "长葛市", "鄢陵县", "金水区", "二七区", "越秀区", "天河区",
              "秦淮区", "玄武区", "台江区", "仓山区", "云龙区", "铜山区"]
_CITY_OF = [(prov, city) for prov, cities in _PROVINCES.items() for city in cities]
_A4_PX = (2480, 3508)


def _units(n: int) -> pd.DataFrame:
    """``n`` units as :func:`compare.analysis.units` labels them: places that share a name told apart by their
    city (``鼓楼区（南京市）``), a place reporting in two years by `` · 2023``."""
    rows = []
    for i in range(n):
        district = _DISTRICTS[i % len(_DISTRICTS)]
        province, city = _CITY_OF[(i // len(_DISTRICTS)) % len(_CITY_OF)]
        year = 2023 + (i // (len(_DISTRICTS) * len(_CITY_OF)))
        rows.append({"region": f"{district}（{city}）", "province": province, "city": city,
                     "admin_level": "county" if district.endswith("县") else "district", "year": year, "n_reports": 1})
    df = pd.DataFrame(rows)
    twice = df["region"].duplicated(keep=False)
    df.loc[twice, "region"] = df.loc[twice, "region"] + " · " + df.loc[twice, "year"].astype(str)
    # a bureau reporting twice in a year is told apart by its agency and then by the report id (a file's stem)
    stems = df.index % 7 == 3
    df.loc[stems, "region"] = (df.loc[stems, "region"] + " · 民政局 · r" + df.index[stems].astype(str).str.zfill(5)
                               + "_minzhengju_zhenggai_2025-05-13")
    df.loc[df.index % 11 == 6, "region"] = "克孜勒苏柯尔克孜自治州阿合奇县（克孜勒苏柯尔克孜自治州） · 2024 · " + df.index[
        df.index % 11 == 6].astype(str)
    assert df["region"].is_unique
    return df


def unit_tables(n: int, cb, mcb) -> dict[str, pd.DataFrame]:
    """The analysis tables of ``n`` reports (the columns of :func:`compare.study.run_analyses`), made up."""
    rng = np.random.default_rng(n)
    units = _units(n)
    info = units.to_dict("records")
    n_prob = rng.integers(3, 60, n)

    def counts(ids, book, col, sizes):
        rows = []
        for u, total in zip(info, sizes, strict=True):
            split = rng.multinomial(int(total), rng.dirichlet(np.full(len(ids), 0.7)))
            rows += [{**u, col: c, "name_zh": book.name(c, "zh"), "name_en": book.name(c, "en"), "n": int(k),
                      "n_region": int(total), "share_of_region": k / total} for c, k in zip(ids, split, strict=True)]
        df = pd.DataFrame(rows)
        df["n_type"] = df.groupby(col)["n"].transform("sum")
        df["share_of_type"] = df["n"] / df["n_type"].where(df["n_type"] > 0)
        return df

    types = counts(cb.ids, cb, "code", n_prob)
    types["share_low"], types["share_high"] = A.wilson_interval(types["n"], types["n_region"])
    types["weighting"] = "pooled"
    measures = counts(mcb.ids, mcb, "measure_type", n_prob * 3)
    measures["n_problems"] = measures["region"].map(dict(zip(units["region"], n_prob, strict=True)))
    concrete = pd.DataFrame([{**u, "flag": f, "n": int(k), "n_measures": int(m)}
                             for u, m in zip(info, n_prob * 3, strict=True) for f in A.CONCRETENESS_FLAGS
                             for k in [rng.integers(0, m + 1)]])
    concrete["share"] = concrete["n"] / concrete["n_measures"]
    concrete["share_low"], concrete["share_high"] = A.wilson_interval(concrete["n"], concrete["n_measures"])
    start = pd.Timestamp("2022-01-01") + pd.to_timedelta(rng.integers(0, 900, n), unit="D")
    end = start + pd.to_timedelta(rng.integers(20, 90, n), unit="D")
    feedback = end + pd.to_timedelta(rng.integers(10, 80, n), unit="D")
    published = feedback + pd.to_timedelta(rng.integers(-20, 300, n), unit="D")  # a few in an impossible order
    timeline = units.assign(report_id=[f"r{i:04d}" for i in range(n)], inspection_start=start,
                            inspection_start_precision="day", inspection_end=end, inspection_end_precision="day",
                            feedback_date=feedback, feedback_date_precision="day", published_date=published,
                            published_date_precision="day", inspection_days=(end - start).days,
                            inspection_days_approx=False, to_feedback_days=(feedback - end).days,
                            to_feedback_days_approx=False, to_publication_days=(published - feedback).days,
                            to_publication_days_approx=False)
    words = ["养老机构", "低保", "殡葬改革", "社会组织", "第一议题", "公务卡", "选人用人", "留守儿童", "消防安全",
             "福彩公益金", "临时救助", "婚姻登记", "慈善", "适老化改造", "巡查"]
    terms = pd.DataFrame([{"region": u["region"], "term": rng.choice(words) + str(k), "n_target": int(t),
                           "n_reference": int(rng.integers(0, 5)), "score": float(t * (1 + 3 * (i % 5))), "p": 0.001}
                          for i, u in enumerate(info) for k in range(12) for t in [rng.integers(3, 40)]])
    terms = terms.sort_values(["region", "score"], ascending=[True, False], kind="stable")
    n_points = int(n_prob.sum())
    points = pd.DataFrame({"problem_id": [f"p{i}" for i in range(n_points)], "x": rng.normal(size=n_points),
                           "y": rng.normal(size=n_points), "primary_code": rng.choice(cb.ids, n_points),
                           "region": np.repeat(units["region"].to_numpy(), n_prob), "title": "问题"})
    recurring = types.groupby("code", sort=False).agg(n_regions=("n", lambda s: int((s > 0).sum())),
                                                      n_problems=("n", "sum")).reset_index()
    recurring = recurring.sort_values(["n_regions", "n_problems"], ascending=False, kind="stable")
    return {"type_counts": types, "measure_type_counts": measures, "concreteness_by_region": concrete,
            "timeline": timeline, "keyness": terms, "problem_map": points, "recurring_types": recurring}


def _drawn_texts(fig: Figure) -> list:
    """Every Text the renderer draws: tick labels of the ticks drawn, titles, legends, notes, annotations."""
    ticks, drawn = set(), []
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                ticks |= {id(tick.label1), id(tick.label2)}
            drawn += [lab for tick in axis._update_ticks() for lab in (tick.label1, tick.label2) if lab.get_visible()]
    drawn += [t for t in fig.findobj(matplotlib.text.Text) if id(t) not in ticks and t.get_visible()
              and all(a.get_visible() for a in _ancestors(t))]
    return [t for t in drawn if t.get_text().strip()]


def _ancestors(t):
    axes = t.axes
    return [axes] if axes is not None else []


def check_page(fig: Figure) -> list[str]:
    """What is wrong with a figure: larger than A4 at 300 dpi, text under 6 pt or cut off by the page edge, two
    texts that overlap or touch."""
    FigureCanvasAgg(fig)
    with theme():
        _settle_layout(fig)  # the layout the build saves (one pass, then fixed)
    fig.canvas.draw()
    problems = []
    px = sorted(round(v * 300) for v in fig.get_size_inches())
    if px[0] > _A4_PX[0] or px[1] > _A4_PX[1]:
        problems.append(f"page {px} px is larger than A4 at 300 dpi")
    renderer = fig.canvas.get_renderer()
    texts = _drawn_texts(fig)
    problems += [f"{t.get_text()!r} is {t.get_fontsize()} pt" for t in texts if t.get_fontsize() < 6]
    boxes = [t.get_window_extent(renderer) for t in texts]
    page = fig.bbox
    for t, b in zip(texts, boxes, strict=True):
        if b.x0 < page.x0 - 1 or b.y0 < page.y0 - 1 or b.x1 > page.x1 + 1 or b.y1 > page.y1 + 1:
            problems.append(f"{t.get_text()!r} is cut off by the page edge")
    for i, (ta, a) in enumerate(zip(texts, boxes, strict=True)):
        for tb, b in zip(texts[i + 1:], boxes[i + 1:], strict=True):
            if _overlap(a, b, gap=2.5):  # at 100 dpi: texts less than 1.8 pt apart read as one
                problems.append(f"{ta.get_text()!r} overlaps or touches {tb.get_text()!r}")
    return problems


def _legend_entries(fig: Figure) -> int:
    return max([len(ax.get_legend().get_texts()) for ax in fig.axes if ax.get_legend() is not None], default=0)


SIZES = [3, 30, 150, pytest.param(1000, marks=pytest.mark.slow)]


@pytest.fixture(scope="module")
def books():
    return load_codebook(config.CODEBOOK_PATH), load_codebook(config.MEASURE_CODEBOOK_PATH)


@pytest.fixture(scope="module")
def tables_at(books):
    made = {}

    def get(n):
        if n not in made:
            made[n] = unit_tables(n, *books)
        return made[n]

    return get


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("name", list(FIGURES))
def test_every_figure_fits_a_page_at_any_number_of_units(books, tables_at, name, n):
    """Every page the build draws (the first and the last) fits A4 at 300 dpi, with text of 6 pt or more, no
    two texts overlapping, at most twelve legend entries (headings apart), and units told apart by colour or
    marker only up to eight."""
    results = tables_at(n)
    pages = [(p, of) for nm, p, of in figure_pages(results) if nm == name]
    assert pages and pages[0][0] == 1
    for page, of in {pages[0], pages[-1]}:
        for lang in ("zh", "en"):
            fig = draw_figure(results, name, lang, page, *books)
            assert check_page(fig) == [], (name, n, page, lang)
            assert _legend_entries(fig) <= 12 + 3
            if DUMP:
                out = Path(f"/tmp/figs-{n}")
                out.mkdir(exist_ok=True)
                fig.savefig(out / f"{figure_file(name, page, of, lang)}.png", dpi=150)


@pytest.mark.parametrize(("n", "expected", "at_most_5"), [(3, 1, 1), (30, 1, 1), (150, 3, 4), (1000, 3, 5)])
def test_pages_of_the_heatmap(books, tables_at, n, expected, at_most_5):
    """45 units a page, three pages at most (``build --max-pages`` sets another cap)."""
    pages = [p for nm, p, of in figure_pages(tables_at(n)) if nm == "01_heatmap_region_type"]
    assert pages == list(range(1, expected + 1))
    pages = [p for nm, p, of in figure_pages(tables_at(n), max_pages=5) if nm == "01_heatmap_region_type"]
    assert pages == list(range(1, at_most_5 + 1))


def test_pages_cover_the_largest_units_once(books):
    results = unit_tables(150, *books)
    seen = []
    for page in range(1, 5):
        fig = P.bars_type_by_region(results["type_counts"], codebook=books[0], page=page)
        seen += [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert len(seen) == len(set(seen)) == 150
    with pytest.raises(ValueError, match="page must be"):
        P.bars_type_by_region(results["type_counts"], codebook=books[0], page=5)
    sizes = results["type_counts"].drop_duplicates("region").set_index("region")["n_region"]
    drawn = dict(zip(P._unit_names(sizes.index, "zh"), sizes.index, strict=True))  # long labels are shortened
    first = P.bars_type_by_region(results["type_counts"], codebook=books[0])
    shown = [drawn[t.get_text()] for t in first.axes[0].get_yticklabels()]
    assert sizes[shown].min() >= sizes.drop(shown).max()
    assert list(sizes[shown]) == sorted(sizes[shown], reverse=True)  # largest on top
    note = " ".join(t.get_text() for t in first.findobj(matplotlib.text.Text))
    assert "第 1/4 页：共 150 个地区，按问题数排序，每页 40 个" in note
    heat = draw_figure(unit_tables(1000, *books), "01_heatmap_region_type", "zh", 1, *books)
    assert any("第 1/3 页：共 1000 个地区，取问题数最多的 135 个，按构成相似排序，每页 45 个；另有 865 个未显示（见数据表）"
               in t.get_text() for t in heat.findobj(matplotlib.text.Text))


def _mesh(fig: Figure):
    """The cells of a matrix page (one QuadMesh)."""
    return next(c for c in fig.axes[0].collections if isinstance(c, matplotlib.collections.QuadMesh))


def test_the_pages_of_a_matrix_share_one_scale(books):
    """A colour (a dot size) means the same share (count) on every page: the top of the scale is the largest among
    the units of all pages, neither the page's own largest nor that of a unit left out."""
    results = unit_tables(150, *books)
    meshes = [_mesh(draw_figure(results, "01_heatmap_region_type", "en", page, *books)) for page in (1, 2, 3)]
    assert [m.norm.vmax for m in meshes] == [pytest.approx(5 / 7)] * 3
    # the pages' own largest shares differ: 9/13, 5/7 and 7/11 would have been three scales
    assert [float(m.get_array().max()) for m in meshes] == pytest.approx([9 / 13, 5 / 7, 7 / 11])
    counts = results["type_counts"]
    assert counts.share_of_region.max() == pytest.approx(6 / 7)  # in one of the 15 units beyond the pages
    flags = [_mesh(draw_figure(results, "06_concreteness", "en", page, *books)).norm.vmax for page in (1, 2, 3)]
    assert flags == [1.0] * 3
    # the recurring matrix: one dot size for a count on every page (120 points² for the largest count of the 90
    # units on its pages, 40 problems; the pages' own largest counts are 40, 28 and 20)
    largest = []
    for page in (1, 2, 3):
        fig = draw_figure(results, "03_recurring_matrix", "en", page, *books)
        dots = np.concatenate([c.get_sizes() for c in fig.axes[0].collections if len(c.get_sizes())])
        largest.append(float(dots.max()))
    assert largest == pytest.approx([120.0, 120.0 * 28 / 40, 120.0 * 20 / 40])


def test_max_pages_says_what_is_left_out(books):
    results = unit_tables(150, *books)
    fig = P.bars_type_by_region(results["type_counts"], codebook=books[0], page=2, max_pages=2, lang="en")
    texts = " ".join(t.get_text() for t in fig.findobj(matplotlib.text.Text))
    assert "Page 2 of 2: 150 units, ranked by problems, 40 a page; 70 more not shown (see the tables)" in texts
    with pytest.raises(ValueError, match="between 1 and 2"):
        P.bars_type_by_region(results["type_counts"], codebook=books[0], page=3, max_pages=2)


def test_recurring_matrix_counts_coverage_over_every_unit(books):
    results = unit_tables(150, *books)
    fig = draw_figure(results, "03_recurring_matrix", "zh", 1, *books)
    ends = [t.get_text() for t in fig.axes[0].texts if "/" in t.get_text()]
    counts = results["type_counts"]
    expected = {f"{int((counts[counts.code == c].n > 0).sum())}/150" for c in books[0].ids}
    assert set(ends) == expected and len(ends) == len(books[0].ids)


def test_terms_panels_ranked_by_problems_each_with_its_own_axis(books):
    results = unit_tables(30, *books)
    fig = draw_figure(results, "08_distinctive_terms", "zh", 1, *books)
    panels = [a for a in fig.axes if a.get_visible()]
    sizes = results["type_counts"].drop_duplicates("region").set_index("region")["n_region"]
    in_table = list(pd.unique(results["keyness"]["region"]))  # ties stay in the table's order
    top = sorted(in_table, key=lambda r: -sizes[r])[:9]
    assert sizes[top].min() >= sizes.drop(top).max()
    names = P._unit_names(top, "zh")  # long labels shortened, the page's labels kept apart
    assert [a.get_title(loc="left") for a in panels] == [f"{P.wrap_label(name, 24)}\n（{sizes[r]} 个问题）"
                                                         for r, name in zip(top, names, strict=True)]
    for a, region in zip(panels, top, strict=True):
        best = results["keyness"][results["keyness"].region == region]["score"].max()
        assert a.get_xlim()[1] == pytest.approx(best * 1.05)


def test_terms_panels_ranked_by_problems_on_one_page(books):
    results = unit_tables(3, *books)
    sizes = results["type_counts"].drop_duplicates("region").set_index("region")["n_region"]
    assert list(sizes) == [49, 7, 13]  # the table's order is not the ranking
    fig = draw_figure(results, "08_distinctive_terms", "en", 1, *books)
    titles = [a.get_title(loc="left") for a in fig.axes if a.get_visible()]
    assert [t.split("(")[-1] for t in titles] == ["49 problems)", "13 problems)", "7 problems)"]


def test_timeline_marks_impossible_dates(books):
    results = unit_tables(3, *books)
    tl = results["timeline"].copy()
    tl.loc[1, "published_date"] = tl.loc[1, "feedback_date"] - pd.Timedelta(days=3)
    fig = P.timeline_gantt(tl)
    red = [t.get_text() for t in fig.axes[0].get_yticklabels() if t.get_color() == "#c00000"]
    assert red == ["! " + P.wrap_label(tl.loc[1, "region"], 20)]
    assert "! 日期顺序不可能" in [t.get_text() for t in fig.axes[0].get_legend().get_texts()]


def test_map_and_concreteness_colour_units_only_when_few(books):
    few, many = unit_tables(3, *books), unit_tables(30, *books)
    fig = draw_figure(few, "06_concreteness", "zh", 1, *books)
    assert fig.axes[0].get_legend() is not None and len(fig.axes[0].containers) == 3
    fig = draw_figure(many, "06_concreteness", "zh", 1, *books)
    assert fig.axes[0].get_legend() is None and len(fig.axes[0].get_yticklabels()) == 30
    fig = draw_figure(many, "04_problem_map", "zh", 1, *books)
    texts = [t.get_text() for t in fig.findobj(matplotlib.text.Text)]
    assert any("30 个地区，标记不区分地区" in t for t in texts)


DUMP = bool(__import__("os").environ.get("COMPARE_DUMP_FIGURES"))
