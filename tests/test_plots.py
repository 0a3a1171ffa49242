"""compare.plots: every chart draws in both languages, with the bundled CJK font and without overlaps.

The font and theme are tested in test_theme.py, the names and labels in test_names.py.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import matplotlib
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
