"""Exploring what is behind a number: keyword in context, the explorer widget, the interactive problem map.

Stage: presentation (DESIGN.md section 2). The notebook hands over what it has — the corpus, the analysis
results, the codebook — and nothing here loads a default or reads the configuration.

* :func:`kwic` — every occurrence of a term in the canonical texts with its context, offsets and the problem
  and measure it falls in.
* :class:`Explorer` — an ipywidgets panel: pick the unit of comparison (region, city, province, level, year),
  one or two units and a type; the type table's cells are buttons that select the problems behind them
  (:func:`compare.analysis.problems_behind`); the list shows each problem with its terms marked, its measures
  and the passage of the source file. Its state (:attr:`Explorer.problems`, the HTML of the list) changes
  with :meth:`Explorer.select`, so it is testable without a browser.
* :func:`problem_map_figure` / :func:`problem_map_html` / :func:`save_problem_map` — the problem map with
  hover (id, unit, type, title) as a plotly figure, as one self-contained HTML file (plotly.js inlined, no
  network needed), and :class:`InteractiveMap`, which shows itself in JupyterLab (plotly's renderer) and in
  an exported notebook (the inlined HTML).
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np
import pandas as pd

from . import analysis
from .cache import atomic_write
from .codebook import Codebook
from .names import check_lang, code_label, region_label
from .views import highlight, split_terms, styled

__all__ = [
    "KWIC_COLUMNS",
    "UNIT_COLUMNS",
    "Explorer",
    "InteractiveMap",
    "kwic",
    "kwic_table",
    "problem_map_figure",
    "problem_map_html",
    "save_problem_map",
    "unit_columns",
    "unit_reports",
]

#: Columns of :func:`kwic`.
KWIC_COLUMNS = ["report_id", "problem_id", "measure_id", "left", "match", "right", "start", "end"]
#: Report columns offered as units of comparison, in this order (``year``: of ``published_date``).
UNIT_COLUMNS = ("region", "city", "province", "admin_level", "year")


# --------------------------------------------------------------------------------------------- kwic
def _span_ids(table: pd.DataFrame, report_id: str, offsets: np.ndarray, id_col: str) -> list:
    """The id of the row of ``table`` (one report's spans) whose ``[start, end)`` holds each offset."""
    rows = table[table["report_id"] == report_id].sort_values("start", kind="stable")
    starts, ends = rows["start"].to_numpy(), rows["end"].to_numpy()
    ids = rows[id_col].to_numpy(dtype=object)
    pos = np.searchsorted(starts, offsets, side="right") - 1
    return [ids[p] if p >= 0 and o < ends[p] else None for p, o in zip(pos, offsets, strict=True)]


def kwic(corpus, term: str, window: int = 20, report_ids=None) -> pd.DataFrame:
    """Return every occurrence of ``term`` in the canonical texts, with ``window`` characters either side.

    Parameters
    ----------
    corpus : compare.corpus.Corpus
        Its ``documents`` (the canonical texts), ``problems`` and ``measures`` (their spans).
    term : str
        Literal text (not a pattern); occurrences do not overlap.
    window : int
        Characters of context on each side (fewer at the start or end of a text).
    report_ids : sequence of str, optional
        Only these reports (default: all, in ``reports`` order).

    Returns
    -------
    pandas.DataFrame
        :data:`KWIC_COLUMNS`: ``left + match + right == corpus.text(report_id, start - window, end + window)``
        and ``match == corpus.text(report_id, start, end)``; ``problem_id`` / ``measure_id`` are those whose
        span holds ``start`` (missing outside any, e.g. in a heading or the preamble).
    """
    if not isinstance(term, str) or not term:
        raise ValueError("kwic needs a non-empty term")
    if window < 0:
        raise ValueError(f"window must be >= 0, not {window}")
    ids = list(corpus.reports["report_id"]) if report_ids is None else list(report_ids)
    rows = []
    for rid in ids:
        text = corpus.documents[rid].text
        starts, pos = [], text.find(term)
        while pos >= 0:
            starts.append(pos)
            pos = text.find(term, pos + len(term))
        if not starts:
            continue
        offsets = np.asarray(starts, dtype=np.int64)
        problems = _span_ids(corpus.problems, rid, offsets, "problem_id")
        measures = _span_ids(corpus.measures, rid, offsets, "measure_id")
        for s, pid, mid in zip(starts, problems, measures, strict=True):
            e = s + len(term)
            rows.append((rid, pid, mid, text[max(0, s - window): s], text[s:e], text[e: e + window], s, e))
    out = pd.DataFrame(rows, columns=KWIC_COLUMNS)
    return out.astype({"start": "int64", "end": "int64"})


def kwic_table(rows: pd.DataFrame, max_width: str = "24em"):
    """Return :func:`kwic` rows as a Styler: left context right-aligned against the marked match, line breaks ``↵``.

    Parameters
    ----------
    rows : pandas.DataFrame
        A :func:`kwic` result.
    max_width : str
        CSS width of the context columns.

    Returns
    -------
    pandas.io.formats.style.Styler
    """
    shown = rows.copy()
    for col in ("left", "right"):
        shown[col] = shown[col].str.replace("\n", "↵", regex=False)
    shown["match"] = [f"<mark>{html.escape(m, quote=False)}</mark>" for m in shown["match"]]
    sty = styled(shown, highlight={}, max_width=max_width, html_columns=["match"])
    return sty.set_table_styles({"left": [{"selector": "td", "props": "text-align: right; white-space: nowrap;"}],
                                 "right": [{"selector": "td", "props": "white-space: nowrap;"}]}, overwrite=False)


# --------------------------------------------------------------------------------------------- units
def unit_columns(reports: pd.DataFrame) -> list[str]:
    """Return the units of comparison this ``reports`` table offers (:data:`UNIT_COLUMNS` with a value)."""
    out = []
    for col in UNIT_COLUMNS:
        values = _unit_values(reports, col) if col in reports.columns or col == "year" else None
        if values is not None and values.notna().any():
            out.append(col)
    return out


def _unit_values(reports: pd.DataFrame, by: str) -> pd.Series | None:
    if by == "year" and "year" not in reports.columns:
        if "published_date" not in reports.columns:
            return None
        return reports["published_date"].astype("string").str.extract(r"^(\d{4})", expand=False)
    if by not in reports.columns:
        return None
    values = reports[by].astype("string").str.strip()
    return values.where(values != "")


def unit_reports(reports: pd.DataFrame, by: str = "region") -> pd.DataFrame:
    """Return ``report_id, region`` with ``region`` holding the unit ``by`` names, for the analysis functions.

    :func:`compare.analysis.type_counts` and :func:`compare.analysis.problems_behind` group by the
    ``region`` column; this table lets them group by city, province, level or year instead. A report
    without a value is its own unit (its id), as the analyses do for a missing region.

    Parameters
    ----------
    reports : pandas.DataFrame
    by : str
        A column of ``reports`` or ``"year"`` (the year of ``published_date``).
    """
    values = _unit_values(reports, by)
    if values is None:
        raise ValueError(f"the reports table has no column {by!r} (units: {', '.join(unit_columns(reports))})")
    return pd.DataFrame({"report_id": reports["report_id"].to_numpy(), "region": values.to_numpy(dtype=object)})


# --------------------------------------------------------------------------------------------- explorer
_UI = {
    "by": ("比较单位", "Compare by"), "unit": ("单位", "Unit"), "unit2": ("对比", "Versus"),
    "code": ("类型", "Type"), "all_units": ("全部", "all"), "none": ("—", "—"), "all_codes": ("全部类型", "all types"),
    "kwic": ("关键词", "Keyword"), "problems": ("条问题", "problems"), "shown": ("显示前", "showing the first"),
    "measures": ("整改措施", "Measures"), "source": ("原文", "Source text"), "terms": ("命中词", "Matched terms"),
    "nothing": ("没有符合条件的问题。", "No problem matches."), "type": ("问题类型", "Problem type"),
    "region": ("地区", "region"), "city": ("城市", "city"), "province": ("省份", "province"),
    "admin_level": ("行政级别", "admin level"), "year": ("公布年份", "year published"),
}
_KEEP = object()
_CSS = """<style>
.compare-problems .cp-item{border-top:1px solid #ddd;padding:6px 0;}
.compare-problems .cp-head{color:#555;font-size:90%;}
.compare-problems .cp-title{font-weight:bold;margin:2px 0;}
.compare-problems .cp-text,.compare-problems pre{white-space:pre-wrap;text-align:left;font-family:inherit;margin:2px 0;}
.compare-problems mark{background:#ffe08a;color:inherit;padding:0 1px;}
.compare-problems ol{margin:2px 0 2px 1.5em;padding:0;}
</style>"""


class Explorer:
    """An ipywidgets panel over a coded corpus: the type table as buttons, the problems behind a cell.

    Parameters
    ----------
    corpus : compare.corpus.Corpus
        Coded (``problems.primary_code``, ``matched_terms``; ``measures``) with its documents.
    results : dict of pandas.DataFrame, optional
        The analyses (:meth:`compare.study.Study.analyses`); its ``type_counts`` is used for ``by="region"``,
        so the table equals the heatmap's.
    codebook : Codebook
        The problem codebook (names of the types, their order).
    by : str
        The unit of comparison: ``region``, ``city``, ``province``, ``admin_level``, ``year`` (those in
        :func:`unit_columns`) or another column of ``corpus.reports``.
    lang : {"zh", "en"}
    unit, code : str, optional
        The first selection (default: everything).
    limit : int
        Problems listed at most (the count says how many there are).
    max_columns : int
        Units in the type table: the selected ones first, then the largest.

    Attributes
    ----------
    problems : pandas.DataFrame
        The problems of the current selection, in the order of :func:`compare.analysis.problems_behind`,
        with every column of ``corpus.problems`` and the unit in the column named ``by``.
    counts : pandas.DataFrame
        The type table (:func:`compare.analysis.type_counts` over the units).
    cells : dict
        ``(unit, code)`` → the cell's ``ipywidgets.Button`` (CSS class ``compare-cell``).
    html : ipywidgets.HTML
        The problem list (CSS class ``compare-problems``).
    widget : ipywidgets.VBox
        The whole panel (CSS class ``compare-explorer``).
    """

    def __init__(self, corpus, results: dict | None = None, codebook: Codebook | None = None, by: str = "region",
                 lang: str = "zh", unit: str | None = None, code: str | None = None, limit: int = 30,
                 max_columns: int = 8):
        if codebook is None:
            raise ValueError("Explorer needs the problem codebook (e.g. study.codebook)")
        check_lang(lang)
        self.corpus, self.results, self.codebook, self.lang = corpus, results or {}, codebook, lang
        self.limit, self.max_columns = limit, max_columns
        self.unit = self.unit2 = self.code = None
        self.cells: dict = {}
        self._syncing = False
        self._set_by(by)
        self._make_widgets()
        self.select(unit=unit, code=code)

    # ----------------------------------------------------------------------------------------- state
    def _t(self, key: str) -> str:
        return _UI[key][0 if self.lang == "zh" else 1]

    def _set_by(self, by: str) -> None:
        unit_reports(self.corpus.reports, by)  # checks that the unit exists
        # "region" is the unit the analyses were made by (their tables say which; by default a report's place,
        # told apart by its admin code), so the cells and the problems behind them name the same units
        given = self.results.get("type_counts")
        self._unit = (given.attrs.get("unit", "place") if given is not None else "place") if by == "region" else by
        self._reports = self.corpus.reports
        self.by = by
        if by == "region" and given is not None:
            self.counts = given
        else:
            self.counts = analysis.type_counts(self.corpus.problems, self._reports, codebook=self.codebook,
                                               unit=self._unit)
        self.units = list(pd.unique(self.counts["region"]))
        self.codes = [c for c in self.codebook.ids if c in set(self.counts["code"])]
        self._n = {(r.region, r.code): int(r.n) for r in self.counts.itertuples()}
        self._n_unit = dict(zip(self.counts["region"], self.counts["n_region"], strict=False))

    def select(self, unit=_KEEP, code=_KEEP, unit2=_KEEP, by: str | None = None) -> Explorer:
        """Select units and a type; updates :attr:`problems`, the type table and the list. Returns self.

        Parameters
        ----------
        unit, unit2 : str or None
            One or two units (``None``: all units / no second unit); left out: unchanged.
        code : str or None
            A problem type id (``None``: every type); left out: unchanged.
        by : str, optional
            A new unit of comparison (the units are reset).
        """
        if by is not None and by != self.by:
            self._set_by(by)
            self.unit = self.unit2 = None
        for name, value, known in (("unit", unit, self.units), ("unit2", unit2, self.units),
                                   ("code", code, self.codes)):
            if value is _KEEP:
                continue
            if value is not None and value not in known:
                raise ValueError(f"{name} {value!r} is not one of {known[:10]}")
            setattr(self, name, value)
        chosen = [u for u in (self.unit, self.unit2) if u is not None]
        behind = analysis.problems_behind(self.corpus.problems, self._reports, region=chosen or None,
                                          code=self.code, unit=self._unit)
        behind = behind.rename(columns={"region": self.by}).reset_index(drop=True)
        extra = [c for c in self.corpus.problems.columns if c not in behind.columns]  # the evidence columns
        self.problems = behind.merge(self.corpus.problems[["problem_id", *extra]], on="problem_id", how="left")
        self._refresh()
        return self

    def kwic(self, term: str, window: int = 20) -> pd.DataFrame:
        """:func:`kwic` over the explorer's corpus."""
        return kwic(self.corpus, term, window)

    # ----------------------------------------------------------------------------------------- widgets
    def _make_widgets(self) -> None:
        import ipywidgets as w

        self._by_box = w.Dropdown(description=self._t("by"), options=self._by_options(), value=self.by)
        self._unit_box = w.Dropdown(description=self._t("unit"))
        self._unit2_box = w.Dropdown(description=self._t("unit2"))
        self._code_box = w.Dropdown(description=self._t("code"))
        self._kwic_box = w.Text(description=self._t("kwic"), continuous_update=False)
        self.grid = w.GridBox(layout=w.Layout(grid_gap="2px", overflow="auto"))
        self.summary = w.HTML()
        self.html = w.HTML()
        self.html.add_class("compare-problems")
        self.kwic_html = w.HTML()
        self.kwic_html.add_class("compare-kwic")
        for box, name in ((self._unit_box, "unit"), (self._unit2_box, "unit2"), (self._code_box, "code")):
            box.observe(lambda change, name=name: self._on_pick(name, change["new"]), names="value")
        self._by_box.observe(lambda change: self._on_pick("by", change["new"]), names="value")
        self._kwic_box.observe(lambda change: self._on_kwic(change["new"]), names="value")
        controls = w.HBox([self._by_box, self._unit_box, self._unit2_box, self._code_box],
                          layout=w.Layout(flex_flow="row wrap"))
        self.widget = w.VBox([controls, self.grid, self.summary, self.html, self._kwic_box, self.kwic_html])
        self.widget.add_class("compare-explorer")

    def _by_options(self) -> list[tuple[str, str]]:
        cols = unit_columns(self.corpus.reports)
        if self.by not in cols:
            cols.append(self.by)
        return [(self._t(c) if c in _UI else c, c) for c in cols]

    def _unit_label(self, unit: str) -> str:
        return region_label(unit, self.lang) if self.by in ("region", "city", "province") else str(unit)

    def _on_pick(self, name: str, value) -> None:
        if not self._syncing:
            self.select(**{name: value})

    def _on_kwic(self, term: str) -> None:
        term = term.strip()
        self.kwic_html.value = kwic_table(self.kwic(term)).to_html() if term else ""

    def _sync_boxes(self) -> None:
        self._syncing = True
        try:
            units = [(self._unit_label(u), u) for u in self.units]
            self._by_box.value = self.by
            self._unit_box.options = [(self._t("all_units"), None), *units]
            self._unit_box.value = self.unit
            self._unit2_box.options = [(self._t("none"), None), *units]
            self._unit2_box.value = self.unit2
            self._code_box.options = [(self._t("all_codes"), None),
                                      *[(code_label(c, self.codebook, self.lang), c) for c in self.codes]]
            self._code_box.value = self.code
        finally:
            self._syncing = False

    def _columns(self) -> list[str]:
        chosen = [u for u in (self.unit, self.unit2) if u is not None]
        rest = sorted((u for u in self.units if u not in chosen), key=lambda u: -self._n_unit.get(u, 0))
        keep = set(chosen + rest[: max(0, self.max_columns - len(chosen))])
        return [u for u in self.units if u in keep]

    def _cell(self, unit: str, code: str):
        import ipywidgets as w

        n = self._n.get((unit, code), 0)
        share = n / self._n_unit[unit] if self._n_unit.get(unit) else 0.0
        selected = code == self.code and unit in (self.unit, self.unit2)
        button = w.Button(description=str(n), tooltip=f"{self._unit_label(unit)} · "
                          f"{code_label(code, self.codebook, self.lang)}: {n}",
                          layout=w.Layout(width="auto", height="28px"),
                          button_style="warning" if selected else "")
        if not selected:
            shade = int(255 - 150 * min(share / 0.5, 1.0))
            button.style.button_color = f"rgb({shade},{shade + (255 - shade) // 3},255)"
        button.add_class("compare-cell")
        button.on_click(lambda _b, unit=unit, code=code: self.select(unit=unit, code=code, unit2=None))
        return button

    def _refresh_grid(self) -> None:
        import ipywidgets as w

        columns = self._columns()
        head = [w.HTML(f"<b>{html.escape(self._t('type'))}</b>")]
        head += [w.HTML(f"<b>{html.escape(self._unit_label(u))}</b>") for u in columns]
        children, self.cells = head, {}
        for code in self.codes:
            label = w.Button(description=code_label(code, self.codebook, self.lang),
                             layout=w.Layout(width="auto", height="28px"))
            label.add_class("compare-type")
            label.on_click(lambda _b, code=code: self.select(code=code))
            children.append(label)
            for unit in columns:
                self.cells[(unit, code)] = self._cell(unit, code)
                children.append(self.cells[(unit, code)])
        self.grid.layout.grid_template_columns = f"minmax(10em, max-content) repeat({len(columns)}, minmax(4em, 1fr))"
        self.grid.children = children

    def _refresh(self) -> None:
        self._sync_boxes()
        self._refresh_grid()
        n = len(self.problems)
        scope = " + ".join(self._unit_label(u) for u in (self.unit, self.unit2) if u is not None) or self._t("all_units")
        kind = code_label(self.code, self.codebook, self.lang) if self.code else self._t("all_codes")
        self.summary.value = f"<b>{html.escape(scope)} · {html.escape(kind)}</b>: {n} {self._t('problems')}"
        self.html.value = self.problems_html()

    # ----------------------------------------------------------------------------------------- the list
    def problems_html(self) -> str:
        """The problem list of the current selection as HTML (what :attr:`html` shows)."""
        if self.problems.empty:
            return _CSS + f"<p>{self._t('nothing')}</p>"
        shown = self.problems.head(self.limit)
        parts = [_CSS]
        if len(self.problems) > len(shown):
            parts.append(f"<p>{self._t('shown')} {len(shown)} / {len(self.problems)} {self._t('problems')}</p>")
        measures = self.corpus.measures
        by_problem = {pid: grp for pid, grp in measures.groupby("problem_id", sort=False)}
        parts += [self._problem_html(rec, by_problem.get(rec.problem_id)) for rec in shown.itertuples(index=False)]
        return "".join(parts)

    def _problem_html(self, rec, measures: pd.DataFrame | None) -> str:
        terms = split_terms(getattr(rec, "matched_terms", ""))
        unit = getattr(rec, self.by, "")
        code = rec.primary_code if isinstance(rec.primary_code, str) and rec.primary_code else ""
        head = " · ".join(html.escape(str(x)) for x in (rec.problem_id, self._unit_label(unit),
                                                       code_label(code, self.codebook, self.lang) if code else "—"))
        out = [f'<div class="cp-item" data-problem-id="{html.escape(rec.problem_id)}">',
               f'<div class="cp-head">{head}</div>', f'<div class="cp-title">{highlight(rec.title, terms)}</div>']
        if terms:
            out.append(f'<div class="cp-head">{self._t("terms")}: {html.escape("、".join(terms))}</div>')
        if measures is not None and len(measures):
            items = "".join(f"<li>{highlight(m.text, terms + split_terms(getattr(m, 'matched_terms', '')))}</li>"
                            for m in measures.sort_values("seq").itertuples(index=False))
            out.append(f"<details open><summary>{self._t('measures')} ({len(measures)})</summary><ol>{items}</ol></details>")
        source = self.corpus.text(rec.report_id, int(rec.start), int(rec.end), raw=True)
        out.append(f"<details><summary>{self._t('source')} ({html.escape(rec.report_id)}, {int(rec.start)}–"
                   f"{int(rec.end)})</summary><pre>{highlight(source, terms)}</pre></details></div>")
        return "".join(out)

    # ----------------------------------------------------------------------------------------- display
    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
        """The widget in Jupyter, with a static HTML copy of the panel for views without widgets."""
        bundle = self.widget._repr_mimebundle_(include=include, exclude=exclude, **kwargs) or {}
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        data = dict(data)
        counts = self.counts.pivot(index="code", columns="region", values="n").reindex(index=self.codes,
                                                                                        columns=self.units)
        counts.index = [code_label(c, self.codebook, self.lang) for c in counts.index]
        counts.columns = [self._unit_label(u) for u in counts.columns]
        data["text/html"] = (f'<div class="compare-explorer-static">{styled(counts, index=True).to_html()}'
                             f"<p>{self.summary.value}</p><div class=\"compare-problems\">{self.html.value}</div></div>")
        data.setdefault("text/plain", repr(self))
        return data

    def __repr__(self) -> str:
        chosen = [u for u in (self.unit, self.unit2) if u is not None]
        return (f"Explorer(by={self.by!r}, units={chosen or 'all'}, code={self.code or 'all'}, "
                f"{len(self.problems)} problems)")


# --------------------------------------------------------------------------------------------- the map
def _map_frame(points: pd.DataFrame, codebook: Codebook | None, lang: str) -> pd.DataFrame:
    missing = [c for c in ("problem_id", "x", "y", "primary_code", "region", "title") if c not in points.columns]
    if missing:
        raise ValueError(f"problem_map table lacks columns {missing}")
    df = points.copy()
    df["code"] = df["primary_code"].fillna("").astype(str)
    df["type"] = [code_label(c, codebook, lang) if c else "—" for c in df["code"]]
    df["unit"] = [region_label(str(r), lang) for r in df["region"]]
    return df


_SYMBOLS = ("circle", "diamond", "square", "triangle-up", "cross", "x", "star", "pentagon", "hexagon", "triangle-down")
_HOVER = "<b>%{customdata[0]}</b><br>%{customdata[1]} · %{customdata[2]}<br>%{customdata[3]}<extra></extra>"


def problem_map_figure(points: pd.DataFrame, codebook: Codebook | None, lang: str = "zh", title: str | None = None):
    """Return the problem map as a plotly figure: colour = type, symbol = unit, hover = id, unit, type, title.

    Parameters
    ----------
    points : pandas.DataFrame
        ``problem_id, x, y, primary_code, region, title`` (the ``problem_map`` analysis).
    codebook : Codebook or None
        Names, order and colours of the types.
    lang : {"zh", "en"}
    title : str, optional

    Returns
    -------
    plotly.graph_objects.Figure
        One trace of points per type (its legend entry hides it) and a key of the units' symbols (``legend2``).
    """
    import plotly.graph_objects as go

    check_lang(lang)
    df = _map_frame(points, codebook, lang)
    codes = [c for c in (codebook.ids if codebook is not None else []) if c in set(df["code"])]
    codes += sorted(set(df["code"]) - set(codes))
    units = list(pd.unique(df["unit"]))
    symbols = {u: _SYMBOLS[i % len(_SYMBOLS)] for i, u in enumerate(units)}
    pick = 0 if lang == "zh" else 1
    fig = go.Figure()
    for code in codes:
        sub = df[df["code"] == code]
        color = codebook.color(code) if codebook is not None and code in codebook else "#9e9e9e"
        name = sub["type"].iloc[0]
        fig.add_trace(go.Scatter(
            x=sub["x"], y=sub["y"], mode="markers", name=name, legendgroup=code, showlegend=False,
            hovertemplate=_HOVER, customdata=sub[["problem_id", "unit", "type", "title"]].to_numpy(dtype=object),
            marker={"color": color, "size": 10, "symbol": [symbols[u] for u in sub["unit"]],
                    "line": {"width": 0.6, "color": "white"}}))
        # the legend entry (a circle whatever the units); clicking it hides the type's points
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=name, legendgroup=code,
                                 hoverinfo="skip", marker={"color": color, "size": 10, "symbol": "circle"}))
    for unit in units:  # the symbol key, in a second legend
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=unit, legend="legend2", hoverinfo="skip",
                                 marker={"color": "#555555", "size": 10, "symbol": symbols[unit]}))
    fig.update_layout(template="plotly_white", height=560, title=title,
                      legend={"title": {"text": _UI["type"][pick]}, "y": 1, "yanchor": "top", "tracegroupgap": 0},
                      legend2={"title": {"text": _UI["region"][pick].capitalize()}, "y": 0, "yanchor": "bottom",
                               "itemclick": False, "itemdoubleclick": False},
                      font={"family": "Noto Sans CJK SC, Source Han Sans SC, Microsoft YaHei, PingFang SC, sans-serif"})
    fig.update_xaxes(showticklabels=False, title=None, zeroline=False)
    fig.update_yaxes(showticklabels=False, title=None, zeroline=False)
    return fig


def problem_map_html(points: pd.DataFrame, codebook: Codebook | None, lang: str = "zh", title: str | None = None,
                     full_html: bool = True) -> str:
    """Return the interactive problem map as HTML with plotly.js inlined: it opens offline, in one file.

    Parameters
    ----------
    points, codebook, lang, title
        See :func:`problem_map_figure`.
    full_html : bool
        A whole page (for a file) or a ``<div>`` to embed (in a notebook output).

    Returns
    -------
    str
    """
    return _figure_html(problem_map_figure(points, codebook, lang, title), full_html)


_MAP_CONFIG = {"displaylogo": False, "responsive": True}


def _figure_html(fig, full_html: bool) -> str:
    return fig.to_html(include_plotlyjs=True, full_html=full_html, include_mathjax=False, config=_MAP_CONFIG)


def save_problem_map(points: pd.DataFrame, path: str | Path, codebook: Codebook | None, lang: str = "zh",
                     title: str | None = None) -> Path:
    """Write :func:`problem_map_html` to ``path`` atomically; returns the path."""
    return atomic_write(path, problem_map_html(points, codebook, lang, title, full_html=True))


class InteractiveMap:
    """The problem map as a notebook output: plotly's own renderer in JupyterLab, inlined HTML elsewhere.

    Parameters
    ----------
    points, codebook, lang, title
        See :func:`problem_map_figure`.

    Attributes
    ----------
    figure : plotly.graph_objects.Figure
    """

    def __init__(self, points: pd.DataFrame, codebook: Codebook | None, lang: str = "zh", title: str | None = None):
        self.points, self.codebook, self.lang, self.title = points, codebook, lang, title
        self.figure = problem_map_figure(points, codebook, lang, title)

    def html(self, full_html: bool = True) -> str:
        """:func:`problem_map_html` of this map."""
        return _figure_html(self.figure, full_html)

    def save(self, path: str | Path) -> Path:
        """Write the map as one offline HTML file (atomically)."""
        return atomic_write(path, self.html(full_html=True))

    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
        # JupyterLab renders the plotly mime type (no script needed, works in an untrusted notebook); an
        # exported notebook (nbconvert knows no plotly mime type) shows the HTML with plotly.js inlined.
        spec = json.loads(self.figure.to_json()) | {"config": _MAP_CONFIG}
        return {"application/vnd.plotly.v1+json": spec,
                "text/html": self.html(full_html=False), "text/plain": repr(self)}

    def __repr__(self) -> str:
        return f"InteractiveMap({len(self.points)} problems)"
