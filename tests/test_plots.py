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


def _overlap(a, b) -> bool:
    return a.x0 < b.x1 - 0.5 and b.x0 < a.x1 - 0.5 and a.y0 < b.y1 - 0.5 and b.y0 < a.y1 - 0.5


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
_CITIES = ["南京市", "福州市", "徐州市", "开封市", "潮州市", "兰州市", "广州市", "许昌市", "惠州市", "成都市"]
_DISTRICTS = ["鼓楼区", "西湖区", "朝阳区", "新城区", "城关区", "湘桥区", "海珠区", "魏都区", "惠城区", "武侯区",
              "龙泉驿区", "高新区"]
_A4_LONG, _A4_SHORT = 11.69, 8.27


def synthetic(n: int, cb) -> dict[str, pd.DataFrame]:
    """The tables of ``n`` reports (places that share names, every year 2022–2024), built directly (fast)."""
    rng = np.random.default_rng(n)
    units = [f"{_DISTRICTS[i % len(_DISTRICTS)]}（{_CITIES[(i // len(_DISTRICTS)) % len(_CITIES)]}）" for i in range(n)]
    units = [u if i < len(_DISTRICTS) * len(_CITIES) else f"{u} · {2022 + i % 3}" for i, u in enumerate(units)]
    n_prob = rng.integers(3, 40, n)
    counts = []
    for unit, total in zip(units, n_prob, strict=True):
        split = rng.multinomial(total, np.full(len(cb.ids), 1 / len(cb.ids)))
        counts += [{"region": unit, "code": c, "n": int(k), "n_region": int(total), "share_of_region": k / total}
                   for c, k in zip(cb.ids, split, strict=True)]
    concrete = pd.DataFrame([{"region": u, "flag": f, "share": rng.random(), "n_measures": int(m)}
                             for u, m in zip(units, n_prob * 2, strict=True) for f in A.CONCRETENESS_FLAGS])
    start = pd.Timestamp("2022-01-01") + pd.to_timedelta(rng.integers(0, 900, n), unit="D")
    timeline = pd.DataFrame({"region": units, "report_id": [f"r{i}" for i in range(n)],
                             "inspection_start": start, "inspection_end": start + pd.Timedelta(days=60),
                             "feedback_date": start + pd.Timedelta(days=90),
                             "published_date": start + pd.Timedelta(days=200), "inspection_days": 60,
                             "to_feedback_days": 30, "to_publication_days": 110})
    points = pd.DataFrame({"x": rng.normal(size=3 * n), "y": rng.normal(size=3 * n),
                           "primary_code": rng.choice(cb.ids, 3 * n), "region": np.repeat(units, 3)})
    terms = pd.DataFrame([{"region": u, "term": f"词语{k}", "score": float(rng.random() * 50 * (1 + i % 4)),
                           "n_target": int(rng.integers(1, 30))} for i, u in enumerate(units) for k in range(10)])
    return {"counts": pd.DataFrame(counts), "concrete": concrete, "timeline": timeline, "points": points,
            "terms": terms, "measures": pd.DataFrame(counts).rename(columns={"code": "measure_type"})}


SYNTHETIC_CHARTS = {
    "01_heatmap": lambda d, cb, mcb: P.heatmap_region_type(d["counts"], codebook=cb),
    "02_bars": lambda d, cb, mcb: P.bars_type_by_region(d["counts"], codebook=cb),
    "03_recurring": lambda d, cb, mcb: P.recurring_matrix(d["counts"], codebook=cb),
    "04_map": lambda d, cb, mcb: P.problem_map(d["points"], codebook=cb),
    "05_measures": lambda d, cb, mcb: P.bars_measure_types(d["measures"], codebook=cb),
    "06_concreteness": lambda d, cb, mcb: P.bars_concreteness(d["concrete"]),
    "07_timeline": lambda d, cb, mcb: P.timeline_gantt(d["timeline"]),
    "08_terms": lambda d, cb, mcb: P.distinctive_terms(d["terms"]),
}
#: How many units (tick labels, legend entries or panels) each chart shows at most.
_CAPS = {"01_heatmap": 30, "02_bars": 30, "03_recurring": 30, "05_measures": 30, "06_concreteness": 8,
         "07_timeline": 40, "08_terms": 9}


def _fits_a4(fig: Figure) -> bool:
    w, h = sorted(fig.get_size_inches())
    return w <= _A4_SHORT + 1e-9 and h <= _A4_LONG + 1e-9


def _shown_units(name: str, fig: Figure) -> int:
    ax = fig.axes[0]
    if name in ("01_heatmap", "03_recurring"):
        return len(ax.get_xticklabels()) - (name == "03_recurring")
    if name in ("02_bars", "05_measures", "07_timeline"):
        return len(ax.get_yticklabels())
    if name == "06_concreteness":
        return len(ax.get_legend().get_texts())
    return sum(a.get_visible() for a in fig.axes)


@pytest.mark.parametrize("n", [3, 120])
@pytest.mark.parametrize("name", list(SYNTHETIC_CHARTS))
def test_every_chart_fits_a4_at_any_number_of_units(data, name, n):
    d = synthetic(n, data["cb"])
    fig = SYNTHETIC_CHARTS[name](d, data["cb"], data["mcb"])
    FigureCanvasAgg(fig)
    fig.savefig(Path(f"/tmp/units_{name}_{n}.png") if DUMP else _null(), dpi=100 if not DUMP else 150)
    assert _fits_a4(fig), fig.get_size_inches()
    _labels_do_not_overlap(fig)
    texts = " ".join(t.get_text() for t in fig.findobj(matplotlib.text.Text))
    if name in _CAPS:
        assert _shown_units(name, fig) == min(n, _CAPS[name])
        assert ("另有" in texts or "第 1/" in texts) == (n > _CAPS[name])
    else:  # the map: markers told apart for a few units only
        legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
        assert len(legend) <= 9 + 1 + 2 + 8 and (("标记不区分地区" in texts) == (n > 8))


def test_pages_cover_every_unit_once(data):
    d = synthetic(120, data["cb"])
    assert P.n_pages(120, 30) == 4
    seen = []
    for page in range(1, 5):
        fig = P.heatmap_region_type(d["counts"], codebook=data["cb"], page=page)
        seen += [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert len(seen) == len(set(seen)) == 120
    with pytest.raises(ValueError, match="page must be"):
        P.heatmap_region_type(d["counts"], codebook=data["cb"], page=5)
    # the first page holds the 30 units with most problems
    sizes = d["counts"].drop_duplicates("region").set_index("region")["n_region"]
    first = P.heatmap_region_type(d["counts"], codebook=data["cb"])
    shown = [t.get_text().replace("\n", "") for t in first.axes[0].get_xticklabels()]
    assert sizes[shown].min() >= sizes.drop(shown).max()


def test_terms_panels_have_their_own_axis(data):
    d = synthetic(4, data["cb"])
    fig = P.distinctive_terms(d["terms"])
    limits = {round(a.get_xlim()[1], 6) for a in fig.axes if a.get_visible()}
    assert len(limits) == 4


DUMP = bool(__import__("os").environ.get("COMPARE_DUMP_FIGURES"))


def _null():
    import io

    return io.BytesIO()
