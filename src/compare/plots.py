"""Publication charts: one function per chart, tidy DataFrame in, matplotlib Figure out.

Stage: presentation (DESIGN.md section 2), above :mod:`compare.theme` (font and rcParams) and
:mod:`compare.names` (bilingual labels). The functions *draw*: they take the tables of
:mod:`compare.analysis` as they are (rows in the order given, codes in codebook order) and never
classify, count or read a file. Every function accepts

* ``ax=None`` — draw into an existing Axes (the Figure returned is then ``ax.figure``);
* ``lang="zh"|"en"`` — labels from the codebook names, regions via :func:`compare.names.region_label`;
* ``title=None`` and ``source=None`` — a title, and a source note at the bottom left
  (e.g. ``"来源：各局巡察整改进展情况通报；compare 编码"``);

and returns the :class:`matplotlib.figure.Figure`. A chart of codes takes the ``codebook`` that names and
colours them (a required argument: ``None`` shows the ids in a default palette). Figures are created without
pyplot (so nothing piles up in pyplot's state; a notebook shows the returned Figure), with constrained
layout, legends outside the data and long Chinese labels wrapped. Save them with
:func:`compare.export.save_figure`.

The theme, the font and the names used to live here; they are re-exported from :mod:`compare.theme` and
:mod:`compare.names` for one release.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib as mpl
import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator, PercentFormatter

from . import theme as _theme_module
from .codebook import Codebook
from .names import (
    AXIS_LABELS,
    REGION_NAMES_EN,
    axis_label,
    check_lang,
    code_label,
    display_width,
    flag_label,
    region_label,
    shorten_labels,
    unbreakable_width,
    wrap_label,
)
from .theme import FONT_NAME, THEME, set_theme, show_inline, theme

__all__ = [
    "bars_concreteness",
    "bars_measure_types",
    "bars_type_by_region",
    "distinctive_terms",
    "heatmap_region_type",
    "problem_map",
    "recurring_matrix",
    "timeline_gantt",
    # re-exported for one release (now in compare.theme and compare.names)
    "FONT_NAME",
    "REGION_NAMES_EN",
    "THEME",
    "region_label",
    "set_theme",
    "show_inline",
    "theme",
    "wrap_label",
]


def __getattr__(name):  # FONT_SOURCE / FONT_PATH, once constants made at import, now found on first use
    if name == "FONT_SOURCE":
        return _theme_module.font_source()
    if name == "FONT_PATH":
        return _theme_module.font_path()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _themed(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with theme():
            return func(*args, **kwargs)

    return wrapper


# --------------------------------------------------------------------------------------------- helpers
def _need(df: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{what} expects a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{what} needs columns {missing}; got {list(df.columns)}")
    if df.empty:
        raise ValueError(f"{what}: the table is empty, nothing to draw")


#: An A4 page in inches (portrait), rounded down so that a figure fits it either way round at 300 dpi (at most
#: 2480 × 3508 pixels).
A4 = (8.26, 11.69)


def _fit_page(figsize) -> tuple[float, float]:
    """``figsize`` shrunk to an A4 page: landscape when wider than tall, portrait otherwise."""
    w, h = figsize
    long_side, short_side = A4[1], A4[0]
    if w > h:
        return min(w, long_side), min(h, short_side)
    return min(w, short_side), min(h, long_side)


def _figure(figsize) -> Figure:
    """A new constrained-layout Figure that IPython shows inline, never larger than an A4 page."""
    show_inline()
    return Figure(figsize=_fit_page(figsize), layout="constrained")


_WHAT = {"zh": {"units": "地区", "reports": "报告"}, "en": {"units": "units", "reports": "reports"}}
_BY = {"zh": {"problems": "问题数", "measures": "措施数", "terms": "词频", "date": "日期", "cluster": "构成相似"},
       "en": {"problems": "problems", "measures": "measures", "terms": "term counts", "date": "date",
              "cluster": "similar profiles"}}


#: Words the charts add to their data, by language.
_WORDING = {
    "zh": {"one_marker": "{n} 个地区，标记不区分地区", "impossible_order": "! 日期顺序不可能", "n_problems": "（{n} 个问题）"},
    "en": {"one_marker": "{n} units; markers do not tell them apart", "impossible_order": "! dates in an impossible order",
           "n_problems": "({n} problems)"},
}


def drawn_texts() -> list[str]:
    """The texts the charts draw besides their tables' and the axis labels: the page notes of every kind and
    the words of :data:`_WORDING`, in both languages (for the build's font subset, :func:`compare.theme.make_subset`)."""
    page = Page(2, 5, 30, 1000, 850)
    notes = [page.note(lang, by, what) for lang in _BY for by in _BY[lang] for what in _WHAT[lang]]
    return notes + [w for words in _WORDING.values() for w in words.values()]


@dataclass(frozen=True)
class Page:
    """Where a page stands among the pages of a chart: page ``number`` of ``of``, ``k`` units a page,
    ``n`` units in the table of which ``left`` are on no page (beyond ``max_pages``)."""

    number: int
    of: int
    k: int
    n: int
    left: int

    def note(self, lang: str, by: str = "problems", what: str = "units") -> str:
        """``"第 2/5 页：共 1000 个地区，按问题数排序，每页 30 个；另有 850 个未显示（见数据表）"``."""
        b, w = _BY[lang][by], _WHAT[lang][what]
        kept = self.n - self.left
        if lang == "zh":
            head = f"第 {self.number}/{self.of} 页：" if self.of > 1 else ""
            order = f"取问题数最多的 {kept} 个，按{b}排序" if by == "cluster" and self.left else f"按{b}排序"
            text = f"{head}共 {self.n} {'份' if what == 'reports' else '个'}{w}，{order}，每页 {self.k} 个"
            return text + (f"；另有 {self.left} 个未显示（见数据表）" if self.left else "")
        head = f"Page {self.number} of {self.of}: " if self.of > 1 else ""
        order = f"{'ordered' if by == 'cluster' else 'ranked'} by {b}"
        if by == "cluster" and self.left:
            order = f"the {kept} with most problems {order}"
        text = f"{head}{self.n} {w}, {order}, {self.k} a page"
        return text + (f"; {self.left} more not shown (see the tables)" if self.left else "")


def n_pages(n_units: int, k: int | None, max_pages: int | None = None) -> int:
    """How many pages of ``k`` units ``n_units`` units fill (at most ``max_pages``; the ``page=`` of the
    charts runs 1 … this)."""
    pages = 1 if k is None or n_units <= k else math.ceil(n_units / k)
    return min(pages, max_pages) if max_pages else pages


def _paginate(units: list, k: int | None, page: int, max_pages: int | None) -> tuple[list, Page | None]:
    """Page ``page`` of ``units`` (already in page order), ``k`` a page, at most ``max_pages`` pages."""
    if k is None or len(units) <= k:
        if page != 1:
            raise ValueError(f"page must be 1 ({len(units)} units fit one page), not {page}")
        return list(units), None
    pages = n_pages(len(units), k, max_pages)
    if not 1 <= page <= pages:
        raise ValueError(f"page must be between 1 and {pages} ({len(units)} units, {k} a page), not {page}")
    shown = list(units[(page - 1) * k: page * k])
    return shown, Page(page, pages, k, len(units), len(units) - min(len(units), pages * k))


def _ranked(units: list, sizes: dict | None) -> list:
    """``units`` largest first by ``sizes`` (ties and unknown sizes in the order given)."""
    weight = sizes or {}
    return sorted(units, key=lambda u: -float(weight.get(u, 0) or 0))


def _top(regions: list, sizes: dict | None, k: int | None, page: int = 1,
         max_pages: int | None = None) -> tuple[list, Page | None]:
    """Page ``page`` of the units ranked by ``sizes`` (largest first, ``k`` a page); every unit in the order
    given when they fit one page."""
    if k is None or len(regions) <= k:
        return _paginate(regions, k, page, max_pages)
    return _paginate(_ranked(regions, sizes), k, page, max_pages)


def _on_pages(regions: list, sizes: dict | None, k: int | None, max_pages: int | None) -> list:
    """The units on any page of :func:`_top` (those beyond ``max_pages`` pages left out)."""
    if k is None or len(regions) <= k:
        return list(regions)
    return _ranked(regions, sizes)[: k * n_pages(len(regions), k, max_pages)]


def _scale_top(df: pd.DataFrame, row: str, value: str, rows: Sequence, size: str, max_units: int | None,
               max_pages: int | None) -> float:
    """The top of a scale every page of a figure shares: the largest ``value`` among the units of all its pages
    (ranked by ``size``, :func:`_on_pages`), so a colour or a dot size means the same on each; 1 when none is
    positive. Each page taking its own largest made one colour mean another share on every page."""
    units = _on_pages(_unique(df["region"]), _sizes(df, size), max_units, max_pages)
    return _vmax(_pivot(df, row, value, rows, units))


def _cap_units(df: pd.DataFrame, sizes: dict | None, max_units: int | None, page: int,
               max_pages: int | None = None) -> tuple[pd.DataFrame, list, Page | None]:
    """The rows of the units on page ``page`` (:func:`_top`), the units in page order, and the page."""
    kept, where = _top(_unique(df["region"]), sizes, max_units, page, max_pages)
    return df[df["region"].isin(set(kept))], kept, where


def _note(where: Page | None, lang: str, by: str = "problems", what: str = "units") -> str | None:
    return where.note(lang, by, what) if where is not None else None


def _sizes(df: pd.DataFrame, col: str) -> dict | None:
    """The size of every unit (``col`` of its first row), None when the table lacks ``col``."""
    if col not in df.columns:
        return None
    return df.drop_duplicates("region").set_index("region")[col].to_dict()


def _new_figure(ax, figsize):
    if ax is None:
        fig = _figure(figsize)
        ax = fig.add_subplot()
        return fig, ax
    return ax.figure, ax


def _finish(fig, ax, title: str | None, source: str | None, fig_title: bool = False, note: str | None = None
            ) -> Figure:
    if title:
        if fig_title or ax is None:
            fig.suptitle(title, x=0.01, ha="left")
        else:
            ax.set_title(title, loc="left", pad=10)
    caption = "\n".join(t for t in (note, source) if t)
    if caption:
        fig.supxlabel(caption, x=0.01, ha="left", fontsize=7.5, color="#555555")
    return fig


_FALLBACK_COLORS = [mpl.colors.to_hex(c) for c in colormaps["tab10"].colors]


#: The category of the measures no type matched (:func:`_with_untyped`), and its colour: lighter than any
#: colour of a codebook's palette, so that it never reads as one more type.
UNTYPED = "_untyped"
UNTYPED_COLOR = "#e4e4e4"


def _category_style(ids: Sequence[str], codebook: Codebook | None, lang: str) -> tuple[dict, dict]:
    """Colours and labels of codes; codes outside the codebook get a grey and their id, :data:`UNTYPED` its
    own light grey and name."""
    colors = {}
    fallback = iter(_FALLBACK_COLORS * 3)
    for code in ids:
        if code == UNTYPED:
            colors[code] = UNTYPED_COLOR
        elif codebook is not None and code in codebook:
            colors[code] = codebook.color(code)
        else:
            colors[code] = "#bdbdbd" if codebook is not None else next(fallback)
    return colors, {code: axis_label("untyped_measures", lang) if code == UNTYPED else code_label(code, codebook, lang)
                    for code in ids}


def _region_colors(n: int) -> list[str]:
    """Colours for regions: sampled from cividis, deliberately unlike the type palette."""
    if n == 1:
        return ["#3e5a8a"]
    return [mpl.colors.to_hex(colormaps["cividis"](x)) for x in np.linspace(0.12, 0.82, n)]


def _text_color(rgba) -> str:
    r, g, b = rgba[:3]
    return "white" if (0.299 * r + 0.587 * g + 0.114 * b) < 0.55 else "#222222"


def _unique(values) -> list:
    return list(pd.unique(pd.Series(values)))


def _pivot(df: pd.DataFrame, row: str, value: str, rows: Sequence, regions: Sequence) -> pd.DataFrame:
    """``value`` as a ``rows`` × ``regions`` table (the first line of each pair), in the orders given."""
    table = df.drop_duplicates([row, "region"]).set_index([row, "region"])[value]
    return table.unstack("region").reindex(index=rows, columns=regions)


def _pct(x: float) -> str:
    return f"{x:.0%}"


def _wrapped(handle, width: int):
    handle.set_label(wrap_label(handle.get_label(), width))
    return handle


def _legend_outside(ax, handles, title=None, loc="upper left", anchor=(1.01, 1.0)):
    leg = ax.legend(handles=handles, title=title, loc=loc, bbox_to_anchor=anchor, borderaxespad=0.0,
                    handlelength=1.2, handleheight=1.0, alignment="left")
    return leg


def _bar_axes(ax) -> None:
    """The look of horizontal bars: a vertical grid, no left spine, no y ticks."""
    ax.grid(axis="x")
    ax.spines["left"].set_visible(False)
    ax.tick_params(axis="y", length=0)


def _no_spines(ax) -> None:
    for spine in ax.spines.values():
        spine.set_visible(False)


def _slant_top_labels(ax) -> None:
    """Region names above a matrix, slanted so that many or long names do not collide."""
    ax.tick_params(axis="x", labelrotation=40)
    for lab in ax.get_xticklabels():
        lab.set_ha("left")


# --------------------------------------------------------------------------------------------- 1 heatmap
#: A unit's label in a chart is at most this many columns (:func:`compare.names.shorten_labels`: the middle of
#: its longest part cut out); the tables keep it whole. 48 columns of 7 pt take about 2.4 inches.
UNIT_LABEL_WIDTH = 48


def _unit_names(regions, lang: str) -> list[str]:
    """The units' labels as a chart draws them: :func:`region_label`, shortened to :data:`UNIT_LABEL_WIDTH`
    (labels that differ stay apart: :func:`compare.names.shorten_labels`)."""
    return shorten_labels([region_label(r, lang) for r in regions], UNIT_LABEL_WIDTH)


#: Up to this many units a chart tells units apart by colour or marker (beyond, a legend of them would not be read).
COLOR_UNITS = 8
#: Up to this many units a matrix has a column per unit; beyond, a row per unit (a page holds many more rows).
WIDE_UNITS = 12


@_themed
def heatmap_region_type(
    counts: pd.DataFrame,
    *,
    codebook: Codebook | None,
    value: str = "share_of_region",
    ax=None,
    lang: str = "zh",
    title: str | None = None,
    source: str | None = None,
    cmap: str = "Blues",
    max_units: int | None = 45,
    page: int = 1,
    max_pages: int | None = None,
) -> Figure:
    """Heatmap of problem types × units: colour = share, each cell annotated with its count.

    Up to :data:`WIDE_UNITS` units the types are rows and the units columns (in table order, cells with count
    and share). With more, the units are rows, ordered so that units with alike profiles are neighbours
    (average-linkage clustering of their shares), ``max_units`` a page.

    Parameters
    ----------
    counts : pandas.DataFrame
        :func:`compare.analysis.type_counts` output: ``region, code, n`` and the ``value`` column
        (``share_of_region`` by default, or ``share_of_type``); ``n_region`` ranks the units. Codes are drawn
        in table order (codebook order).
    codebook : Codebook or None
        Names of the codes (e.g. ``load_codebook(config.CODEBOOK_PATH)``; ``None``: the ids).
    value : str
        The column coloured (a share in [0, 1]).
    max_units, page, max_pages : int or None
        At most ``max_units`` units a page; page ``page`` of at most ``max_pages`` (:func:`n_pages`). The
        units of the pages are the largest by problems; units beyond ``max_pages`` pages are left out, with a
        note. ``None``: every unit on one page.
    ax, lang, title, source
        See the module docstring.

    Returns
    -------
    matplotlib.figure.Figure
    """
    check_lang(lang)
    _need(counts, ["region", "code", "n", value], "heatmap_region_type")
    codes = _unique(counts["code"])
    _, labels = _category_style(codes, codebook, lang)
    units = _unique(counts["region"])
    if len(units) <= WIDE_UNITS:
        return _heatmap_wide(counts, codes, labels, units, value, ax, lang, title, source, cmap)
    shown, where = _clustered_page(counts, codes, units, value, max_units, page, max_pages)
    shares = _pivot(counts, "code", value, codes, shown).T.astype(float)
    ns = _pivot(counts, "code", "n", codes, shown).T
    fig, ax = _new_figure(ax, (8.0, max(3.4, 0.19 * len(shown) + 2.9)))
    _unit_matrix(ax, shares, ns.map(lambda n: "" if pd.isna(n) else f"{int(n)}"), cmap,
                 _unit_names(shown, lang), [labels[c] for c in codes],
                 axis_label(value if value in AXIS_LABELS else "share_of_region", lang),
                 vmax=_scale_top(counts, "code", value, codes, "n_region", max_units, max_pages))
    return _finish(fig, ax, title, source, note=_note(where, lang, "cluster"))


def _clustered_page(counts, codes, units, value, max_units, page, max_pages) -> tuple[list, Page | None]:
    """The units of page ``page``: the largest (``max_units * max_pages``), ordered by their profiles."""
    kept = _ranked(units, _sizes(counts, "n_region"))
    if max_units is not None and max_pages:
        kept = kept[: max_units * max_pages]
    kept = _cluster_order(kept, _pivot(counts, "code", value, codes, kept).T.astype(float))
    shown, where = _paginate(kept, max_units, page, None)
    if where is not None:
        where = Page(where.number, where.of, where.k, len(units), len(units) - len(kept))
    return shown, where


def _heatmap_wide(counts, codes, labels, regions, value, ax, lang, title, source, cmap) -> Figure:
    """Types as rows, the few units as columns, cells with count and share."""
    shares = _pivot(counts, "code", value, codes, regions).astype(float)
    ns = _pivot(counts, "code", "n", codes, regions)
    fig, ax = _new_figure(ax, (max(4.8, 1.25 * len(regions) + 3.6), max(3.2, 0.46 * len(codes) + 1.9)))
    colormap = colormaps[cmap].with_extremes(bad="#f0f0f0")
    vmax = _vmax(shares)
    image = _cells(ax, shares.to_numpy(dtype=float), colormap, vmax)
    if (fig.get_figwidth() - 3.6) / len(regions) >= 0.55:  # room for "12\n34%" in a cell
        _annotate_cells(ax, shares, ns, colormap, vmax)
    _matrix_ticks(ax, _unit_names(regions, lang), [wrap_label(labels[c], 24) for c in codes])
    _no_spines(ax)
    _cell_grid(ax, len(codes), len(regions))
    _colorbar(fig, ax, image, axis_label(value if value in AXIS_LABELS else "share_of_region", lang))
    return _finish(fig, ax, title, source)


def _cells(ax, values: np.ndarray, colormap, vmax: float):
    """The cells of a matrix as vector quadrilaterals (row 0 on top, cell centres at the integers), not an
    image: a PDF or SVG holds a few hundred rectangles instead of a 300-dpi raster (0.4 s less a page and
    format), and they stay sharp in every viewer."""
    rows, cols = values.shape
    mesh = ax.pcolormesh(np.arange(cols + 1) - 0.5, np.arange(rows + 1) - 0.5, np.ma.masked_invalid(values),
                         cmap=colormap, vmin=0, vmax=vmax, edgecolors="none", snap=True, zorder=0)  # under the grid
    ax.set_xlim(-0.5, cols - 0.5)
    ax.set_ylim(rows - 0.5, -0.5)
    return mesh


def _vmax(shares: pd.DataFrame) -> float:
    values = shares.to_numpy(dtype=float)
    vmax = float(np.nanmax(values)) if np.isfinite(values).any() else 1.0
    return vmax if vmax > 0 else 1.0


def _colorbar(fig, ax, image, label: str, shrink: float = 0.75):
    bar = fig.colorbar(image, ax=ax, shrink=shrink, aspect=25, pad=0.02, format=PercentFormatter(1.0, decimals=0))
    bar.set_label(label)
    bar.outline.set_visible(False)
    return bar


def _cluster_order(units: list, profiles: pd.DataFrame) -> list:
    """``units`` in the leaf order of an average-linkage clustering of their rows in ``profiles``, so that
    units with alike profiles are neighbours (the first unit given stays first of its branch)."""
    if len(units) < 3:
        return list(units)
    from scipy.cluster.hierarchy import leaves_list, linkage

    X = profiles.reindex(units).fillna(0.0).to_numpy(dtype=float)
    return [units[i] for i in leaves_list(linkage(X, method="average", metric="euclidean"))]


def _unit_matrix(ax, values: pd.DataFrame, texts: pd.DataFrame, cmap: str, rows: list[str], cols: list[str],
                 bar_label: str, vmax: float | None = None) -> None:
    """Units as rows × categories as columns: colour = share, each cell's text (small), names in 7 pt.
    ``vmax``: the top of the colour scale (the pages of one figure share it); None: the largest of ``values``."""
    colormap = colormaps[cmap].with_extremes(bad="#f0f0f0")
    vmax = vmax if vmax is not None else _vmax(values)
    image = _cells(ax, values.to_numpy(dtype=float), colormap, vmax)
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            v, t = values.iat[i, j], texts.iat[i, j]
            if t:
                rgba = colormap(v / vmax) if not pd.isna(v) else (0.94, 0.94, 0.94, 1)
                ax.text(j, i, t, ha="center", va="center", fontsize=6.5, color=_text_color(rgba))
    ax.set_yticks(range(len(rows)), rows)
    width = _column_width(ax.figure.get_figwidth(), rows, len(cols))
    if max(map(unbreakable_width, cols), default=0) <= width:  # column names upright above the cells, wrapped to a cell's width
        ax.set_xticks(range(len(cols)), [wrap_label(c, width) for c in cols])
    else:  # a word wider than a cell: the names run upwards, in two lines at most
        ax.set_xticks(range(len(cols)), [wrap_label(c, 26) for c in cols], rotation=90)
    ax.tick_params(length=0, axis="both", labelsize=7)
    ax.xaxis.tick_top()
    _no_spines(ax)
    _cell_grid(ax, len(rows), len(cols))
    ax.grid(which="minor", color="white", linewidth=1)
    _colorbar(ax.figure, ax, image, bar_label, shrink=0.5)


def _column_width(fig_width: float, rows: list[str], n_cols: int) -> int:
    """How many columns of 7-pt text (≈ 3.7 pt each, a Chinese character two) fit a cell of a matrix whose
    row names are ``rows``, less one for a gap: the figure less the row names, the colour bar and margins."""
    names_pt = 3.6 * max((display_width(line) for r in rows for line in str(r).split("\n")), default=0)
    cell_pt = (fig_width * 72 - names_pt - 100) / max(n_cols, 1)
    return max(4, int(cell_pt / 3.7) - 1)


def _matrix_ticks(ax, columns: list[str], rows: list[str], extra: str | None = None) -> None:
    """Unit names above a matrix (upright, slanted, or vertical and smaller beyond 12 units) and row labels;
    ``extra`` is one more column label, in grey."""
    many = len(columns) > 12
    names = [wrap_label(c, 40 if many else 18) for c in columns] + ([extra] if extra else [])
    ax.set_xticks(range(len(names)), names)
    ax.set_yticks(range(len(rows)), rows)
    ax.tick_params(length=0)
    ax.xaxis.tick_top()
    if extra:
        ax.get_xticklabels()[-1].set_color("#666666")
    if many:
        ax.tick_params(axis="x", labelrotation=90, labelsize=7)
    elif len(columns) > 7 or (max(len(r) for r in names) > 12 and len(columns) > 4 and not extra):
        _slant_top_labels(ax)


def _annotate_cells(ax, shares: pd.DataFrame, ns: pd.DataFrame, colormap, vmax: float) -> None:
    """Each cell's count (and share), in a colour that reads on the cell."""
    for i in range(shares.shape[0]):
        for j in range(shares.shape[1]):
            share, n = shares.iat[i, j], ns.iat[i, j]
            if pd.isna(n):
                continue
            rgba = colormap(share / vmax) if not pd.isna(share) else (0.94, 0.94, 0.94, 1)
            text = f"{int(n)}" if (pd.isna(share) or not n) else f"{int(n)}\n{_pct(share)}"
            ax.text(j, i, text, ha="center", va="center", fontsize=8.5, linespacing=1.1,
                    color=_text_color(rgba) if n else "#b0b0b0")


def _cell_grid(ax, n_rows: int, n_cols: int) -> None:
    """White lines between the cells of a matrix."""
    ax.set_xticks(np.arange(-0.5, n_cols, 1), minor=True)
    ax.set_yticks(np.arange(-0.5, n_rows, 1), minor=True)
    ax.grid(which="minor", color="white", linewidth=2)
    ax.tick_params(which="minor", length=0)


# --------------------------------------------------------------------------------------------- 2/5 bars
def _bars_by_region(counts, cat_col, value, stacked, codebook, annotate, ax, lang, x_label, legend_title,
                    regions=None):
    """The one chart behind :func:`bars_type_by_region` and :func:`bars_measure_types` (units top to bottom
    in the order of ``regions``, default the table's)."""
    cats = _unique(counts[cat_col])
    colors, labels = _category_style(cats, codebook, lang)
    regions = list(regions) if regions is not None else _unique(counts["region"])
    dense = len(regions) > WIDE_UNITS
    per_unit = 0.24 if dense else 0.55
    height = (per_unit * len(regions) + 1.8) if stacked else (0.25 * len(regions) * max(len(cats), 1) / 2 + 1.6)
    fig, ax = _new_figure(ax, (8.0, max(2.8, height)))
    values = _pivot(counts, cat_col, value, cats, regions).fillna(0).astype(float)
    ns = _pivot(counts, cat_col, "n", cats, regions).fillna(0).astype(int)
    is_share = value.startswith("share")
    y = np.arange(len(regions))
    if stacked:
        ends = _stacked_bars(ax, y, values, ns, colors, labels, annotate, 6.5 if dense else 8)
        if annotate and "n_region" in counts.columns and not is_share:
            n_region = counts.drop_duplicates("region").set_index("region")["n_region"].reindex(regions)
            for k, total in enumerate(ends):
                ax.text(total + 0.01 * max(ends.max(), 1), y[k], f"n={int(n_region.iloc[k])}", va="center",
                        ha="left", fontsize=6.5 if dense else 8, color="#555555")
    else:
        _grouped_bars(ax, y, values, ns, colors, annotate, is_share)
    names = _unit_names(regions, lang)
    ax.set_yticks(y, names if dense else [wrap_label(n, 18) for n in names])
    if dense:
        ax.tick_params(axis="y", labelsize=7)
    ax.invert_yaxis()
    ax.set_xlabel(x_label)
    longest = float(values.sum(axis=0).max()) if stacked else float(values.to_numpy().max())
    room = 1.12 if annotate and not (stacked and is_share) else 1.01
    ax.set_xlim(0, max(longest, 1e-9) * room)
    if is_share:
        ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    _bar_axes(ax)
    present = [c for c in cats if values.loc[c].sum() > 0]
    handles = [Patch(facecolor=colors[c], label=wrap_label(labels[c], 26)) for c in present]
    _legend_outside(ax, handles, title=legend_title)
    return fig, ax


def _stacked_bars(ax, y, values: pd.DataFrame, ns: pd.DataFrame, colors, labels, annotate: bool,
                  fontsize: float = 8) -> np.ndarray:
    """One bar per region made of its categories' segments; returns where each bar ends."""
    left = np.zeros(len(y))
    threshold = 0.045 * max(values.sum(axis=0).to_numpy().max(), 1e-9) * fontsize / 8
    for cat in values.index:
        widths = values.loc[cat].to_numpy()
        if not widths.any():
            continue
        ax.barh(y, widths, left=left, height=0.62, color=colors[cat], edgecolor="white", linewidth=0.8,
                label=labels[cat])
        if annotate:
            color = _text_color(mpl.colors.to_rgba(colors[cat]))
            for k, (w, n) in enumerate(zip(widths, ns.loc[cat].to_numpy(), strict=True)):
                if w >= threshold and n > 0:
                    ax.text(left[k] + w / 2, y[k], str(n), ha="center", va="center", fontsize=fontsize,
                            color=color)
        left += widths
    return left


def _grouped_bars(ax, y, values: pd.DataFrame, ns: pd.DataFrame, colors, annotate: bool, is_share: bool) -> None:
    """Each region shows only its non-zero categories (in category order), centred on its row."""
    k_max = max(int((values > 0).sum(axis=0).max()), 1)
    height = 0.84 / k_max
    for j, region in enumerate(values.columns):
        shown = [c for c in values.index if values.at[c, region] > 0]
        for i, cat in enumerate(shown):
            yy = y[j] - height * len(shown) / 2 + height * (i + 0.5)
            w = values.at[cat, region]
            ax.barh(yy, w, height=height * 0.9, color=colors[cat])
            if annotate:
                text = _pct(w) if is_share else str(ns.at[cat, region])
                ax.text(w, yy, " " + text, va="center", ha="left", fontsize=7.5, color="#444444")


@_themed
def bars_type_by_region(
    counts: pd.DataFrame,
    *,
    codebook: Codebook | None,
    value: str = "n",
    stacked: bool = True,
    annotate: bool = True,
    max_units: int | None = 40,
    page: int = 1,
    max_pages: int | None = None,
    ax=None,
    lang: str = "zh",
    title: str | None = None,
    source: str | None = None,
) -> Figure:
    """Horizontal bars per region, one colour per problem type (stacked or grouped).

    Parameters
    ----------
    counts : pandas.DataFrame
        :func:`compare.analysis.type_counts` output: ``region, code, n`` and ``value``; ``n_region``
        (optional) is printed at the end of stacked count bars.
    codebook : Codebook or None
        Names and colours of the codes (the problem codebook; ``None``: ids in a default palette).
    value : {"n", "share_of_region"}
        Bar length. Stacked shares only add up to 100% for ``codes="primary"`` tables.
    stacked : bool
        Stacked segments (True) or a group of bars per region (False).
    annotate : bool
        Print counts on segments wide enough to hold them.
    max_units, page, max_pages : int
        At most ``max_units`` units a page; with more, the units ranked by ``n_region`` (largest on top), page
        ``page`` of at most ``max_pages``, with a note (see :func:`n_pages`).
    ax, lang, title, source
        See the module docstring.

    Returns
    -------
    matplotlib.figure.Figure
    """
    check_lang(lang)
    _need(counts, ["region", "code", "n", value], "bars_type_by_region")
    x_label = axis_label("n_problems" if value == "n" else value if value in AXIS_LABELS else "share_of_region", lang)
    counts, shown, where = _cap_units(counts, _sizes(counts, "n_region"), max_units, page, max_pages)
    fig, ax = _bars_by_region(counts, "code", value, stacked, codebook, annotate, ax, lang, x_label,
                              axis_label("problem_type", lang), shown)
    return _finish(fig, ax, title, source, note=_note(where, lang))


@_themed
def bars_measure_types(
    counts: pd.DataFrame,
    *,
    codebook: Codebook | None,
    value: str = "share_of_region",
    stacked: bool = True,
    annotate: bool = True,
    max_units: int | None = 40,
    page: int = 1,
    max_pages: int | None = None,
    ax=None,
    lang: str = "zh",
    title: str | None = None,
    source: str | None = None,
) -> Figure:
    """Horizontal bars of measure types per region, one colour per measure type; the measures no type matched
    are the last segment, light grey, named 未归类 / "No type" (so every bar of shares reaches 100 %).

    Parameters
    ----------
    counts : pandas.DataFrame
        :func:`compare.analysis.measure_type_counts` output: ``region, measure_type, n`` and ``value``
        (``share_of_region`` by default, or ``n``).
    codebook : Codebook or None
        The measure codebook (e.g. ``load_codebook(config.MEASURE_CODEBOOK_PATH)``; ``None``: ids and a
        default palette).
    value : {"share_of_region", "n"}
    stacked : bool
        Stacked (True) or grouped (False).
    annotate : bool
        Print counts on segments wide enough to hold them.
    max_units, page, max_pages : int
        At most ``max_units`` units a page; with more, the units ranked by ``n_region`` (largest on top), page
        ``page`` of at most ``max_pages``, with a note (see :func:`n_pages`).
    ax, lang, title, source
        See the module docstring.

    Returns
    -------
    matplotlib.figure.Figure
    """
    check_lang(lang)
    _need(counts, ["region", "measure_type", "n", value], "bars_measure_types")
    x_label = axis_label("n_measures" if value == "n" else "share_of_region_measures", lang)
    counts, shown, where = _cap_units(counts, _sizes(counts, "n_region"), max_units, page, max_pages)
    counts = _with_untyped(counts)
    fig, ax = _bars_by_region(counts, "measure_type", value, stacked, codebook, annotate, ax, lang, x_label,
                              axis_label("measure_type", lang), shown)
    return _finish(fig, ax, title, source, note=_note(where, lang, "measures"))


def _with_untyped(counts: pd.DataFrame) -> pd.DataFrame:
    """``counts`` plus, for each region with measures that no measure type matched, one more category,
    :data:`UNTYPED` (drawn last, light grey, named 未归类 / "No type"): ``n_region`` counts them, so without it
    a region's bar would stop short of 100 % with nothing to say why."""
    if "n_region" not in counts.columns or not len(counts):
        return counts
    per = counts.groupby("region", sort=False).agg(n=("n", "sum"), n_region=("n_region", "first"))
    rest = (per["n_region"] - per["n"]).astype(int)
    rest = rest[rest > 0]
    if rest.empty:
        return counts
    extra = counts.drop_duplicates("region").set_index("region").loc[rest.index].reset_index()
    extra["measure_type"] = UNTYPED
    extra["n"] = rest.to_numpy()
    extra["share_of_region"] = rest.to_numpy() / per.loc[rest.index, "n_region"].to_numpy()
    for col in ("n_type", "share_of_type", "name_zh", "name_en"):
        if col in extra:
            extra[col] = None
    return pd.concat([counts, extra[counts.columns]], ignore_index=True)


# --------------------------------------------------------------------------------------------- 3 recurring
@_themed
def recurring_matrix(
    counts: pd.DataFrame,
    *,
    codebook: Codebook | None,
    order: Sequence[str] | None = None,
    max_size: float = 700.0,
    max_units: int | None = 30,
    page: int = 1,
    max_pages: int | None = None,
    ax=None,
    lang: str = "zh",
    title: str | None = None,
    source: str | None = None,
) -> Figure:
    """Dot matrix of types × units (UpSet style): dot area ∝ count, a line joins the units sharing a type.

    Parameters
    ----------
    counts : pandas.DataFrame
        :func:`compare.analysis.type_counts` output: ``region, code, n``.
    codebook : Codebook or None
        Names and colours of the codes (the problem codebook; ``None``: ids in a default palette).
    order : sequence of str, optional
        The codes to show, top to bottom — e.g. ``recurring_types(...)["code"]`` to show recurring
        types ranked. Defaults to the table order (all codes).
    max_size : float
        Marker area (points²) of the largest count.
    max_units, page, max_pages : int
        Units a page (largest by ``n_region`` first), which page, how many pages at most; ``k/n`` at the end
        of a row counts the units of the whole table that have the type.
    ax, lang, title, source
        See the module docstring.

    Returns
    -------
    matplotlib.figure.Figure
    """
    check_lang(lang)
    _need(counts, ["region", "code", "n"], "recurring_matrix")
    codes = list(order) if order is not None else _unique(counts["code"])
    if not codes:
        raise ValueError("recurring_matrix: no codes to draw")
    every = _unique(counts["region"])
    covered = (_pivot(counts, "code", "n", codes, every).fillna(0) > 0).sum(axis=1)
    max_n = _scale_top(counts, "code", "n", codes, "n_region", max_units, max_pages)  # one dot size on every page
    counts, regions, where = _cap_units(counts, _sizes(counts, "n_region"), max_units, page, max_pages)
    colors, labels = _category_style(codes, codebook, lang)
    ns = _pivot(counts, "code", "n", codes, regions).fillna(0).astype(int)
    many = len(regions) > WIDE_UNITS
    if many:
        max_size = min(max_size, 120.0)
    fig, ax = _new_figure(ax, (max(5.0, (0.3 if many else 1.15) * len(regions) + 4.4), max(2.8, 0.5 * len(codes) + 1.7)))
    for i, code in enumerate(codes):
        _dot_row(ax, i, ns.loc[code].to_numpy(), colors[code], max_size, max_n, numbers=not many,
                 covered=f"{int(covered[code])}/{len(every)}")
    _dot_frame(ax, len(codes), len(regions))
    _matrix_ticks(ax, _unit_names(regions, lang), [wrap_label(labels[c], 24) for c in codes],
                  extra=axis_label("regions_covered", lang))
    _no_spines(ax)
    return _finish(fig, ax, title, source, note=_note(where, lang))


def _dot_frame(ax, n_rows: int, n_cols: int) -> None:
    """Light vertical lines through the units' columns, and room for the ``k/n`` column."""
    for j in range(n_cols):
        ax.axvline(j, color="#eeeeee", linewidth=0.8, zorder=0)
    ax.set_xlim(-0.6, n_cols + 0.5)
    ax.set_ylim(n_rows - 0.5, -0.5)


def _dot_row(ax, i: int, row: np.ndarray, color: str, max_size: float, max_n: int, numbers: bool = True,
             covered: str | None = None) -> None:
    """One type's row: a dot per region sized by its count (printed when ``numbers``), a line across the regions
    that share it, and ``covered`` (the units of the whole table that have the type, ``k/n``) at the end."""
    hit = np.flatnonzero(row > 0)
    if len(hit) > 1:
        ax.plot([hit.min(), hit.max()], [i, i], color=color, linewidth=2.2, alpha=0.55, zorder=1)
    ax.scatter(np.flatnonzero(row == 0), [i] * int((row == 0).sum()), s=14, color="#d9d9d9", zorder=2)
    for j in hit:
        size = max_size * row[j] / max_n
        ax.scatter([j], [i], s=size, color=color, zorder=3, edgecolor="white", linewidth=0.8)
        if not numbers:
            continue
        inside = size >= 170
        ax.text(j if inside else j + 0.14, i, str(row[j]), ha="center" if inside else "left", va="center",
                fontsize=8, color=_text_color(mpl.colors.to_rgba(color)) if inside else "#333333", zorder=4)
    ax.text(len(row), i, covered or f"{len(hit)}/{len(row)}", ha="center", va="center",
            fontsize=8.5 if len(row) <= WIDE_UNITS else 7, color="#333333")


# --------------------------------------------------------------------------------------------- 4 map
_MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*", "<", ">", "h", "p"]


@_themed
def problem_map(
    points: pd.DataFrame,
    *,
    codebook: Codebook | None,
    label: str | None = None,
    max_markers: int = 8,
    ax=None,
    lang: str = "zh",
    title: str | None = None,
    source: str | None = None,
) -> Figure:
    """2-D map of problems (e.g. an LSA/embedding projection): colour = type, marker = region (up to
    ``max_markers`` regions; with more, one marker and a note of the number of units).

    Parameters
    ----------
    points : pandas.DataFrame
        ``x, y, primary_code, region`` (one row per problem).
    codebook : Codebook or None
        Names and colours of the codes (the problem codebook; ``None``: ids in a default palette).
    label : str, optional
        A column printed next to each point (e.g. ``"seq"``).
    max_markers : int
        Regions told apart by marker at most (beyond, a legend of markers would not be read).
    ax, lang, title, source
        See the module docstring.

    Returns
    -------
    matplotlib.figure.Figure
    """
    check_lang(lang)
    _need(points, ["x", "y", "primary_code", "region"], "problem_map")
    present = set(points["primary_code"].dropna())
    known = codebook.ids if codebook is not None else []
    codes = [c for c in known if c in present] + sorted(present - set(known))
    colors, labels = _category_style(codes, codebook, lang)
    regions = _unique(points["region"])
    markers, note = _map_markers(regions, max_markers, lang)
    fig, ax = _new_figure(ax, (8.0, 5.6 if len(codes) + len(markers) <= 16 else 7.2))
    size = float(np.clip(58 * math.sqrt(300 / max(len(points), 1)), 5, 58))  # thousands of points stay apart
    groups = [(r, points[points["region"] == r]) for r in regions] if note is None else [(None, points)]
    for region, sub in groups:
        cols = [colors.get(c, "#bdbdbd") if not pd.isna(c) else "#bdbdbd" for c in sub["primary_code"]]
        ax.scatter(sub["x"], sub["y"], c=cols, marker=markers.get(region, "o"), s=size, alpha=0.92, zorder=3,
                   edgecolor="white", linewidth=0.6 if size > 20 else 0.2)
        if label is not None:
            for x, y, t in zip(sub["x"], sub["y"], sub[label], strict=True):
                ax.annotate(str(t), (x, y), xytext=(4, 3), textcoords="offset points", fontsize=7, color="#555555")
    _map_legend(ax, codes, colors, labels, markers if note is None else {}, lang)
    ax.set_xlabel(f"{axis_label('dimension', lang)} 1")
    ax.set_ylabel(f"{axis_label('dimension', lang)} 2")
    ax.tick_params(labelbottom=False, labelleft=False, length=0)
    ax.margins(0.08)
    ax.grid(True)
    return _finish(fig, ax, title, source, note=note)


def _map_markers(regions: list, max_markers: int, lang: str) -> tuple[dict, str | None]:
    """A marker per region when there are few; else one marker for all and a note saying so."""
    if len(regions) <= max_markers:
        return {r: _MARKERS[i % len(_MARKERS)] for i, r in enumerate(regions)}, None
    note = _WORDING[lang]["one_marker"].format(n=len(regions))
    return dict.fromkeys(regions, "o"), note


def _heading(text: str) -> Line2D:
    """A legend entry without a symbol, drawn as a grey heading (see :func:`_map_legend`)."""
    return Line2D([], [], linestyle="none", label=text)


def _map_legend(ax, codes, colors, labels, markers: dict, lang: str) -> None:
    """One legend in two parts under grey headings: the colour of each type, the marker of each region."""
    handles = [_heading(axis_label("problem_type", lang))]
    handles += [Line2D([], [], linestyle="none", marker="o", markersize=7, color=colors[c],
                       label=wrap_label(labels[c], 26)) for c in codes]
    if markers:
        handles += [_heading(" "), _heading(axis_label("region", lang))]
        handles += [Line2D([], [], linestyle="none", marker=m, markersize=7, color="#555555",
                           label=wrap_label(name, 26))
                    for name, m in zip(_unit_names(markers, lang), markers.values(), strict=True)]
    leg = _legend_outside(ax, handles)
    for text, handle in zip(leg.get_texts(), handles, strict=True):
        if handle.get_marker() in (None, "None", "none", ""):
            text.set_color("#555555")
            text.set_x(-18)


# --------------------------------------------------------------------------------------------- 6 concreteness
@_themed
def bars_concreteness(
    by_region: pd.DataFrame,
    *,
    flags: Sequence[str] | None = None,
    max_units: int | None = 45,
    page: int = 1,
    max_pages: int | None = None,
    ax=None,
    lang: str = "zh",
    title: str | None = None,
    source: str | None = None,
) -> Figure:
    """Share of measures with each concreteness flag: up to :data:`COLOR_UNITS` units a bar each (one colour
    per unit); with more, a matrix of units (rows, most measures first) × flags, the share in each cell.

    Parameters
    ----------
    by_region : pandas.DataFrame
        :func:`compare.analysis.concreteness_by_region` output: ``region, flag, share`` and
        ``n_measures`` (shown in the legend).
    flags : sequence of str, optional
        Flags to show, top to bottom (default: those of the table, in its order).
    max_units, page, max_pages : int
        With more than :data:`COLOR_UNITS` units, at most ``max_units`` rows a page (the units with most
        measures, ``n_measures``, first), page ``page`` of at most ``max_pages``, with a note.
    ax, lang, title, source
        See the module docstring.

    Returns
    -------
    matplotlib.figure.Figure
    """
    check_lang(lang)
    _need(by_region, ["region", "flag", "share"], "bars_concreteness")
    flags = list(flags) if flags is not None else _unique(by_region["flag"])
    if by_region["region"].nunique() > COLOR_UNITS:
        return _concreteness_matrix(by_region, flags, max_units, page, max_pages, ax, lang, title, source)
    regions = _unique(by_region["region"])
    shares = _pivot(by_region, "flag", "share", flags, regions).astype(float)
    n_measures = {}
    if "n_measures" in by_region.columns:
        n_measures = by_region.drop_duplicates("region").set_index("region")["n_measures"].to_dict()
    colors = _region_colors(len(regions))
    fig, ax = _new_figure(ax, (8.0, max(3.2, 0.22 * len(flags) * len(regions) + 1.8)))
    y = np.arange(len(flags))
    _flag_bars(ax, y, shares, n_measures, colors, lang)
    ax.set_yticks(y, [wrap_label(flag_label(f, lang), 28) for f in flags])
    ax.invert_yaxis()
    if "concrete" in flags:
        k = flags.index("concrete")
        if k > 0:
            ax.axhline(k - 0.5, color="#999999", linewidth=0.8, linestyle=(0, (3, 2)))
    ax.set_xlim(0, 1.08)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel(axis_label("share_measures", lang))
    _bar_axes(ax)
    handles = [Patch(facecolor=colors[i], label=wrap_label(t.get_label(), 28))
               for i, t in enumerate(ax.containers)]
    _legend_outside(ax, handles, title=axis_label("region", lang))
    return _finish(fig, ax, title, source)


def _concreteness_matrix(by_region, flags, max_units, page, max_pages, ax, lang, title, source) -> Figure:
    """Many units: a row per unit (most measures first), a column per flag, the share printed in each cell."""
    sizes = _sizes(by_region, "n_measures")
    vmax = _scale_top(by_region, "flag", "share", flags, "n_measures", max_units, max_pages)
    by_region, shown, where = _cap_units(by_region, sizes, max_units, page, max_pages)
    if where is None:
        shown = _ranked(shown, sizes)
    shares = _pivot(by_region, "flag", "share", flags, shown).T.astype(float)
    names = [name + (f" (n={int(sizes[r])})" if sizes and r in sizes else "")
             for r, name in zip(shown, _unit_names(shown, lang), strict=True)]
    fig, ax = _new_figure(ax, (8.0, max(3.4, 0.19 * len(shown) + 3.0)))
    _unit_matrix(ax, shares, shares.map(lambda v: "" if pd.isna(v) else _pct(v)), "Greens", names,
                 [flag_label(f, lang) for f in flags], axis_label("share_measures", lang),
                 vmax=vmax)
    return _finish(fig, ax, title, source, note=_note(where, lang, "measures"))


def _flag_bars(ax, y, shares: pd.DataFrame, n_measures: dict, colors: list[str], lang: str) -> None:
    """A group of bars per flag, one bar per region (labelled with its number of measures), shares printed."""
    height = 0.8 / shares.shape[1]
    for i, (region, name) in enumerate(zip(shares.columns, _unit_names(shares.columns, lang), strict=True)):
        offs = y - 0.4 + height * (i + 0.5)
        vals = shares[region].to_numpy()
        if region in n_measures:
            name += f" (n={int(n_measures[region])})"
        ax.barh(offs, np.nan_to_num(vals), height=height * 0.9, color=colors[i], label=name)
        for yy, v in zip(offs, vals, strict=True):
            if not np.isnan(v):
                ax.text(v + 0.01, yy, _pct(v), va="center", ha="left", fontsize=7.5, color="#444444")


# --------------------------------------------------------------------------------------------- 7 gantt
#: Colours of the inspection bar, the feedback marker and the publication marker.
_GANTT_BAR, _GANTT_FEEDBACK, _GANTT_PUBLISHED, _GANTT_ODD = "#6baed6", "#d94801", "#238b45", "#c00000"
_GANTT_DATES = ["inspection_start", "inspection_end", "feedback_date", "published_date"]


@_themed
def timeline_gantt(
    timeline: pd.DataFrame,
    *,
    max_rows: int | None = 40,
    page: int = 1,
    max_pages: int | None = None,
    ax=None,
    lang: str = "zh",
    title: str | None = None,
    source: str | None = None,
) -> Figure:
    """Gantt chart per report: inspection period as a bar, markers for feedback and publication, lags in days.

    Parameters
    ----------
    timeline : pandas.DataFrame
        :func:`compare.analysis.timeline` output: ``region, inspection_start, inspection_end,
        feedback_date, published_date`` (Timestamps) and optionally ``inspection_days,
        to_feedback_days, to_publication_days`` with their ``*_approx`` flags (an approximate lag is
        printed with ≈). Rows are drawn top to bottom by inspection start (then feedback, publication), reports
        without dates last.
    max_rows, page, max_pages : int
        At most ``max_rows`` reports a page (page ``page`` of at most ``max_pages``, in that order), with a
        note; with more than 15 rows the lags are not printed. A report whose dates are in an impossible
        order (the end before the start, feedback before the end, publication before feedback) has its name
        in red and a "!" (see the legend).
    ax, lang, title, source
        See the module docstring.

    Returns
    -------
    matplotlib.figure.Figure
    """
    check_lang(lang)
    _need(timeline, ["region", *_GANTT_DATES], "timeline_gantt")
    tl, note = _timeline_page(timeline, max_rows, page, max_pages, lang)
    names = _unit_names(tl["region"], lang)
    dup = pd.Series(names).duplicated(keep=False)
    if dup.any() and "report_id" in tl.columns:
        names = [f"{n} ({rid})" if d else n for n, d, rid in zip(names, dup, tl["report_id"], strict=True)]
    dense = len(tl) > 15
    fig, ax = _new_figure(ax, (10.0, max(2.6, (0.235 if dense else 0.62) * len(tl) + 1.8)))
    any_coarse = False
    for i, row in tl.iterrows():
        any_coarse = _gantt_row(ax, i, row, None if dense else axis_label("days", lang)) or any_coarse
    odd = _date_disorder(tl)
    _gantt_names(ax, names, odd, dense)
    ax.set_ylim(len(tl) - 0.45, -0.75)
    locator = mdates.AutoDateLocator(minticks=4, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m"))
    _bar_axes(ax)
    approx = any_coarse or any(
        bool(tl[c].any()) for c in tl.columns if c.endswith("_approx") and tl[c].dtype == bool
    )
    _gantt_legend(ax, approx, lang, bool(odd.any()))
    ax.use_sticky_edges = False
    ax.margins(x=0.03)
    return _finish(fig, ax, title, source, note=note)


def _timeline_page(timeline: pd.DataFrame, max_rows: int | None, page: int, max_pages: int | None, lang: str):
    """The rows of page ``page``, sorted by their dates, and the note saying where the page stands."""
    tl = timeline.sort_values([c for c in _GANTT_DATES if c in timeline.columns], kind="stable", na_position="last")
    tl = tl.reset_index(drop=True)
    rows, where = _paginate(list(range(len(tl))), max_rows, page, max_pages)
    return tl.iloc[rows].reset_index(drop=True), _note(where, lang, "date", "reports")


def _gantt_names(ax, names: list[str], odd: np.ndarray, dense: bool) -> None:
    """The reports' names (7 pt and unwrapped when dense); those with impossible dates in red, after a "!"."""
    ax.set_yticks(range(len(names)), [("! " if o else "") + (n if dense else wrap_label(n, 20))
                                      for n, o in zip(names, odd, strict=True)])
    for lab, o in zip(ax.get_yticklabels(), odd, strict=True):
        if o:
            lab.set_color(_GANTT_ODD)
    if dense:
        ax.tick_params(axis="y", labelsize=7)


def _date_disorder(tl: pd.DataFrame) -> np.ndarray:
    """Whether each report's dates are in an impossible order (a later step dated before an earlier one)."""
    dates = [pd.to_datetime(tl[c]) for c in _GANTT_DATES]
    odd = np.zeros(len(tl), dtype=bool)
    for a, b in zip(dates, dates[1:], strict=False):
        odd |= (b < a).fillna(False).to_numpy(dtype=bool)
    return odd


def _date_number(value):
    return None if pd.isna(value) else mdates.date2num(pd.Timestamp(value).to_pydatetime())


def _lag_text(row: pd.Series, col: str, day: str | None) -> str | None:
    """``"12 d"``, ``"≈30天"`` (approximate) or ``None`` for a lag column of a timeline row (or no ``day``)."""
    if day is None or col not in row.index or pd.isna(row[col]):
        return None
    approx = bool(row.get(f"{col}_approx", False))
    return f"{'≈' if approx else ''}{int(row[col])}{day}"


def _gantt_row(ax, i: int, row: pd.Series, day: str | None) -> bool:
    """One report: the inspection bar (hatched when its dates are only months), dashed links to the feedback
    and publication markers, and the lags; returns whether the bar is hatched."""
    s, e, f, p = (_date_number(row[c]) for c in _GANTT_DATES)
    coarse = False
    if s is not None and e is not None:
        coarse = any(str(row.get(f"{c}_precision")) in ("month", "year") for c in _GANTT_DATES[:2])
        ax.barh(i, e - s, left=s, height=0.42, color=_GANTT_BAR, zorder=2,
                edgecolor="white" if coarse else _GANTT_BAR, hatch="///" if coarse else None, linewidth=0)
        lag = _lag_text(row, "inspection_days", day)
        if lag:
            ax.annotate(lag, ((s + e) / 2, i - 0.21), xytext=(0, 1.5), textcoords="offset points",
                        ha="center", va="bottom", fontsize=7.5, color="#2b5d82")
    for a, b, col in [(e, f, "to_feedback_days"), (f, p, "to_publication_days")]:
        if a is None or b is None:
            continue
        ax.plot([a, b], [i, i], color="#9a9a9a", linewidth=1, linestyle=(0, (3, 2)), zorder=1)
        lag = _lag_text(row, col, day)
        if lag:
            ax.annotate(lag, ((a + b) / 2, i), xytext=(0, 7), textcoords="offset points", ha="center",
                        va="bottom", fontsize=7.5, color="#444444")
    if f is not None:
        ax.plot([f], [i], marker="D", markersize=6.5, color=_GANTT_FEEDBACK, linestyle="none", zorder=3)
    if p is not None:
        ax.plot([p], [i], marker="o", markersize=7.5, color=_GANTT_PUBLISHED, linestyle="none", zorder=3)
    return coarse


def _gantt_legend(ax, approx: bool, lang: str, odd: bool = False) -> None:
    handles = [
        Patch(facecolor=_GANTT_BAR, label=axis_label("inspection", lang)),
        Line2D([], [], marker="D", color=_GANTT_FEEDBACK, linestyle="none", markersize=6.5,
               label=axis_label("feedback", lang)),
        Line2D([], [], marker="o", color=_GANTT_PUBLISHED, linestyle="none", markersize=7.5,
               label=axis_label("published", lang)),
    ]
    if approx:
        handles.append(Patch(facecolor=_GANTT_BAR, edgecolor="white", hatch="///", label=axis_label("approx", lang)))
    if odd:
        handles.append(Line2D([], [], linestyle="none", marker="$!$", color=_GANTT_ODD, markersize=7,
                              label=_WORDING[lang]["impossible_order"]))
    _legend_outside(ax, [_wrapped(h, 24) for h in handles])


# --------------------------------------------------------------------------------------------- 8 terms
@_themed
def distinctive_terms(
    terms: pd.DataFrame,
    *,
    top_n: int = 10,
    ncols: int | None = None,
    color: str = "#4a6fa5",
    sizes=None,
    max_units: int | None = 9,
    page: int = 1,
    max_pages: int | None = None,
    ax=None,
    lang: str = "zh",
    title: str | None = None,
    source: str | None = None,
) -> Figure:
    """Small multiples: each region's most distinctive terms as horizontal bars.

    Parameters
    ----------
    terms : pandas.DataFrame
        ``region, term, score``. Each panel shows the region's ``top_n`` terms by score, highest on top.
    top_n : int
        Terms per region.
    ncols : int, optional
        Panels per row (default: up to 3).
    color : str
        Bar colour (terms are not types, so one neutral colour).
    sizes : mapping or pandas.Series, optional
        The number of problems of every unit (e.g. ``n_region`` of :func:`compare.analysis.type_counts`): the
        panels are ranked by it, largest first. Default: the sum of ``n_target`` of the unit's terms.
    max_units, page, max_pages : int
        At most ``max_units`` panels a page, page ``page`` of at most ``max_pages``, with a note. Each panel
        has its own score axis, set by its own terms.
    ax : sequence of matplotlib Axes, optional
        One Axes per region, in region order; by default a new figure with a grid of panels.
    lang, title, source
        See the module docstring (terms stay in Chinese in English figures).

    Returns
    -------
    matplotlib.figure.Figure
    """
    check_lang(lang)
    _need(terms, ["region", "term", "score"], "distinctive_terms")
    sizes, by = _term_sizes(terms, sizes)
    terms, regions, where = _cap_units(terms, sizes, max_units, page, max_pages)
    if by == "problems" and sizes:
        regions = _ranked(regions, sizes)  # on one page too: the unit with most problems first
    note = _note(where, lang, by)
    fig, axes = _panels(terms, regions, top_n, ncols, ax)
    rows = max(min(top_n, int(terms.groupby("region", sort=False).size().max())), 1)
    for k, (region, name) in enumerate(zip(regions, _unit_names(regions, lang), strict=True)):
        sub = terms[terms["region"] == region].sort_values("score", ascending=False, kind="stable").head(top_n)
        xmax = float(sub["score"].max()) if len(sub) else 1.0
        count = sizes.get(region) if sizes and by == "problems" else None
        _term_panel(axes[k], sub, rows, xmax, color, _panel_title(name, count, lang))
    _label_last_row(axes, len(regions), ncols or min(3, len(regions)), axis_label("score", lang))
    return _finish(fig, None, title, source, fig_title=True, note=note)


def _label_last_row(axes: list, n: int, ncols: int, label: str) -> None:
    """Hide the panels beyond the ``n`` used and name the score axis under the last row of panels."""
    for a in axes[n:]:
        a.set_visible(False)
    for a in axes[max(0, n - ncols): n]:
        a.set_xlabel(label)


def _term_sizes(terms: pd.DataFrame, sizes) -> tuple[dict | None, str]:
    """The sizes the panels are ranked by, and by what: the problems given, else the terms' counts."""
    if sizes is not None:
        return dict(sizes), "problems"
    if "n_target" in terms.columns:
        return terms.groupby("region", sort=False)["n_target"].sum().to_dict(), "terms"
    return None, "problems"


def _panel_title(name: str, n_problems, lang: str, width: int = 24) -> str:
    """The unit's label as drawn and, when known, its number of problems (on a line of its own when both do not
    fit)."""
    if n_problems is None:
        return wrap_label(name, width)
    count = _WORDING[lang]["n_problems"].format(n=int(n_problems))
    joined = name + count if lang == "zh" else f"{name} {count}"
    return joined if display_width(joined) <= width else f"{wrap_label(name, width)}\n{count}"


def _panels(terms: pd.DataFrame, regions: list, top_n: int, ncols: int | None, ax) -> tuple[Figure, list]:
    """A new grid of panels sized to the terms shown, or the Axes given (one per region)."""
    if ax is None:
        ncols = ncols or min(3, len(regions))
        nrows = math.ceil(len(regions) / ncols)
        shown = max(min(top_n, int(terms.groupby("region").size().max())), 1)
        fig = _figure((3.3 * ncols + 0.6, nrows * (0.26 * shown + 1.0) + 0.5))
        return fig, list(np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel())
    axes = list(np.atleast_1d(ax).ravel())
    if len(axes) < len(regions):
        raise ValueError(f"distinctive_terms needs {len(regions)} axes, got {len(axes)}")
    return axes[0].figure, axes


def _term_panel(a, sub: pd.DataFrame, rows: int, xmax: float, color: str, name: str) -> None:
    y = np.arange(len(sub))
    a.barh(y, sub["score"], color=color, height=0.7)
    a.set_yticks(y, [wrap_label(t, 24) for t in sub["term"]])
    a.set_ylim(rows - 0.5, -0.6)
    a.set_title(name, loc="left", fontsize=10.5)
    _bar_axes(a)
    a.set_xlim(0, xmax * 1.05 if xmax > 0 else 1)
