"""Readable tables: Chinese text left-aligned and wrapped, evidence terms highlighted, the same view in XLSX.

Stage: presentation (DESIGN.md section 2), for the notebooks and :mod:`compare.explore`. Nothing here computes
an analysis; the functions take the tables the coding stage wrote (``problems`` with ``matched_terms`` and
``top_features``) and show them.

* :func:`highlight` marks terms in a text with ``<mark>`` and escapes the rest as HTML; :func:`highlight_terms`
  does it for every problem (its own ``matched_terms`` in its title or text).
* :func:`evidence_table` is the coded problems as a person reads them: type name, title, the matched terms and
  the model's top words as lists, not one packed ``evidence`` string.
* :func:`styled` is a pandas Styler for any table: text cells left-aligned, wrapped (``white-space:
  pre-wrap``) within a maximum width and never cut, highlighted columns marked.
* :class:`FigurePages` shows the PNG pages of a figure the build drew, instead of drawing it again.
* :func:`save_view_xlsx` writes the same view as XLSX through :func:`compare.export.save_workbook` (atomic,
  reproducible): wrapped left-aligned cells, the terms in bold dark red as rich text inside the cell
  (``openpyxl.cell.rich_text.CellRichText``), every text cell formula-safe (:func:`compare.export.xlsx_text`).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import pandas as pd

from .codebook import Codebook
from .export import PNG_COMPRESS_LEVEL, is_text_column, save_workbook, xlsx_cell, xlsx_text
from .names import code_label, display_width, region_label

__all__ = [
    "FigurePages",
    "MARK_STYLE",
    "TEXT_STYLE",
    "evidence_table",
    "feature_words",
    "highlight",
    "highlight_terms",
    "save_view_xlsx",
    "split_terms",
    "styled",
    "term_spans",
]

#: CSS of a text cell: left-aligned, wrapped where the text breaks lines and where the column ends, never cut.
TEXT_STYLE = {"white-space": "pre-wrap", "text-align": "left", "vertical-align": "top", "overflow-wrap": "break-word"}
#: CSS of a highlighted term.
MARK_STYLE = "background-color: #ffe08a; color: inherit; padding: 0 1px; border-radius: 2px;"
#: Separators of a term list: the coding tables join by ``;``, the readable views by ``、``.
_TERM_SEP = re.compile(r"[;；、]")
_FEATURE_PREFIX = re.compile(r"^(?:word|char|term)[:_]+")
#: Colour of a highlighted term in XLSX rich text (a cell fill cannot cover part of a cell).
XLSX_MARK_COLOR = "C00000"


# --------------------------------------------------------------------------------------------- terms
def split_terms(value) -> list[str]:
    """Return the terms of a term list cell: ``"养老;养老服务"`` or ``"养老、养老服务"`` → ``["养老", "养老服务"]``.

    Parameters
    ----------
    value : str, list, tuple or None
        A ``matched_terms`` cell (joined by ``;``, ``；`` or ``、``) or the terms themselves.

    Returns
    -------
    list of str
        Stripped, non-empty, first occurrence kept.
    """
    if value is None or (not isinstance(value, str | list | tuple | set) and pd.isna(value)):
        return []
    items = _TERM_SEP.split(value) if isinstance(value, str) else [str(v) for v in value]
    out: list[str] = []
    for t in (i.strip() for i in items):
        if t and t not in out:
            out.append(t)
    return out


def feature_words(value) -> list[str]:
    """Return the words of a ``top_features`` cell: ``"word:学习;word:第一议题 制度"`` → ``["学习", "第一议题 制度"]``."""
    return [_FEATURE_PREFIX.sub("", t) for t in split_terms(value)]


def term_spans(text: str, terms: Iterable[str]) -> list[tuple[int, int]]:
    """Return where ``terms`` occur in ``text``: leftmost first, the longest term at a place, never overlapping.

    Parameters
    ----------
    text : str
    terms : iterable of str
        E.g. ``["理论学习", "理论学习中心组", "学习"]``: in ``"理论学习中心组学习"`` that gives
        ``[(0, 7), (7, 9)]``.

    Returns
    -------
    list of (int, int)
        ``(start, end)`` character offsets.
    """
    terms = sorted({t for t in terms if t}, key=lambda t: (-len(t), t))
    if not terms or not isinstance(text, str):
        return []
    pattern = re.compile("|".join(re.escape(t) for t in terms))
    return [m.span() for m in pattern.finditer(text)]


def highlight(text, terms: Iterable[str]) -> str:
    """Return ``text`` as HTML: escaped, with every occurrence of ``terms`` inside ``<mark>…</mark>``.

    Parameters
    ----------
    text : str or None
        Plain text (``None``/NaN gives ``""``).
    terms : iterable of str
        The terms to mark (:func:`term_spans` decides where).

    Returns
    -------
    str
        E.g. ``"落实<mark>第一议题</mark>制度不到位"``; ``<``, ``&`` … of the text are escaped.
    """
    if text is None or (not isinstance(text, str) and pd.isna(text)):
        return ""
    text = str(text)
    out, pos = [], 0
    for start, end in term_spans(text, terms):
        out += [html.escape(text[pos:start], quote=False), "<mark>", html.escape(text[start:end], quote=False),
                "</mark>"]
        pos = end
    out.append(html.escape(text[pos:], quote=False))
    return "".join(out)


def highlight_terms(problems: pd.DataFrame, column: str = "title", terms: str = "matched_terms") -> pd.Series:
    """Return each row's ``column`` as HTML with the row's own ``terms`` marked (:func:`highlight`).

    Parameters
    ----------
    problems : pandas.DataFrame
        E.g. the coded problems table (``title``, ``text``, ``matched_terms``).
    column : str
        The text to show.
    terms : str
        The column holding each row's terms (joined by ``;`` or ``、``).

    Returns
    -------
    pandas.Series
        HTML strings, on ``problems``' index.
    """
    for col in (column, terms):
        if col not in problems.columns:
            raise ValueError(f"the table lacks the column {col!r}")
    return pd.Series([highlight(t, split_terms(m)) for t, m in zip(problems[column], problems[terms], strict=True)],
                     index=problems.index, name=column, dtype=object)


# --------------------------------------------------------------------------------------------- views
def evidence_table(problems: pd.DataFrame, reports: pd.DataFrame | None = None, codebook: Codebook | None = None,
                   lang: str = "zh", text: bool = False) -> pd.DataFrame:
    """Return the coded problems as a person reads them: who, which type, the title, the evidence as lists.

    Parameters
    ----------
    problems : pandas.DataFrame
        The coded problems table (``problem_id``, ``title``, ``primary_code``, ``matched_terms``,
        ``top_features``; ``text`` with ``text=True``).
    reports : pandas.DataFrame, optional
        ``report_id``, ``region``: adds the region.
    codebook : Codebook, optional
        Names of the types (else the ids).
    lang : {"zh", "en"}
    text : bool
        Add the problem's whole text (heading and measures).

    Returns
    -------
    pandas.DataFrame
        ``problem_id, [region,] type, title, [text,] matched_terms, top_features``; the two lists joined by
        ``、``. Show it with ``styled(table)``, which marks the terms in ``title`` (and ``text``).
    """
    out = pd.DataFrame({"problem_id": problems["problem_id"]})
    if reports is not None:
        regions = dict(zip(reports["report_id"], reports["region"], strict=False))
        out["region"] = [region_label(regions.get(r) or r, lang) for r in problems["report_id"]]
    out["type"] = [code_label(c, codebook, lang) if isinstance(c, str) and c else "" for c in problems["primary_code"]]
    out["title"] = problems["title"]
    if text:
        out["text"] = problems["text"]
    out["matched_terms"] = ["、".join(split_terms(v)) for v in problems.get("matched_terms", [""] * len(out))]
    out["top_features"] = ["、".join(feature_words(v)) for v in problems.get("top_features", [""] * len(out))]
    return out.reset_index(drop=True)


def named_codes(table: pd.DataFrame, codebook: Codebook | None, lang: str = "zh") -> pd.DataFrame:
    """``table`` with the code ids of its index and columns replaced by their names (:func:`compare.names.code_label`).

    For a code × code table (a confusion table): the Chinese names (四到九个字) keep nine columns within a page,
    where ids such as ``grassroots_governance`` made it twice as wide. The codes come in codebook order (a
    crosstab sorts them by id), labels that are no code of ``codebook`` after them as they were; the axis
    names stay.
    """
    ids = list(codebook.ids) if codebook is not None else []

    def ordered(labels: list) -> list:
        return [c for c in ids if c in labels] + [c for c in labels if c not in ids]

    out = table.loc[ordered(list(table.index)), ordered(list(table.columns))]
    out.index = pd.Index([code_label(c, codebook, lang) for c in out.index], name=table.index.name)
    out.columns = pd.Index([code_label(c, codebook, lang) for c in out.columns], name=table.columns.name)
    return out


def _highlights(df: pd.DataFrame, highlight: Mapping[str, str] | Sequence[str] | None) -> dict[str, str]:
    """``column → terms column``; by default ``title`` and ``text`` with ``matched_terms`` when present."""
    if highlight is None:
        if "matched_terms" not in df.columns:
            return {}
        return {c: "matched_terms" for c in ("title", "text") if c in df.columns}
    if not isinstance(highlight, Mapping):
        highlight = {c: "matched_terms" for c in highlight}
    missing = sorted({*highlight, *highlight.values()} - set(df.columns))
    if missing:
        raise ValueError(f"the table lacks the columns {missing}")
    return dict(highlight)


def styled(df: pd.DataFrame, highlight: Mapping[str, str] | Sequence[str] | None = None,
           max_width: str = "36em", min_width: str = "4em", index: bool = False, precision: int = 3,
           html_columns: Sequence[str] = ()):
    """Return a Styler that shows ``df`` readably: text left-aligned and wrapped, terms marked, nothing cut.

    Parameters
    ----------
    df : pandas.DataFrame
    highlight : mapping or sequence of str, optional
        ``{column: terms column}`` (a list of columns means ``matched_terms`` for each); by default ``title``
        and ``text`` are marked with ``matched_terms`` when the table has them.
    max_width, min_width : str
        CSS widths of a text column; longer text wraps inside the cell.
    index : bool
        Show the index.
    precision : int
        Decimals of floats.
    html_columns : sequence of str
        Columns that already hold HTML (shown as they are, not escaped).

    Returns
    -------
    pandas.io.formats.style.Styler
        Text is HTML-escaped; the marked columns hold :func:`highlight` HTML. ``styled(df).to_html()`` gives
        the table as HTML; for a spreadsheet use :func:`save_view_xlsx`.
    """
    marks = _highlights(df, highlight)
    shown = df.copy()
    for col, terms in marks.items():
        shown[col] = [_highlight_cell(v, t) for v, t in zip(df[col], df[terms], strict=True)]
    text_cols = [c for c in shown.columns if is_text_column(shown[c])]
    plain = [c for c in text_cols if c not in marks and c not in html_columns]
    sty = shown.style.format(precision=precision, na_rep="")
    days = [c for c in shown.columns if _is_days(shown[c])]
    if days:  # dates without a time of day read as dates, not as "2024-03-01 00:00:00"
        sty = sty.format("{:%Y-%m-%d}", na_rep="", subset=days)
    if plain:
        sty = sty.format(escape="html", na_rep="", subset=plain)
    props = "; ".join(f"{k}: {v}" for k, v in {**TEXT_STYLE, "max-width": max_width, "min-width": min_width}.items())
    if text_cols:  # one rule per text column (td.colN), not one per cell
        sty = sty.set_table_styles({c: [{"selector": "td", "props": props + ";"}] for c in text_cols}, overwrite=False)
    sty = sty.set_table_styles([
        {"selector": "th", "props": "text-align: left; vertical-align: bottom; white-space: pre-wrap;"},
        {"selector": "td", "props": "vertical-align: top;"},
        {"selector": "mark", "props": MARK_STYLE},
    ], overwrite=False)
    return sty if index else sty.hide(axis="index")


def _is_days(col: pd.Series) -> bool:
    """A datetime column whose every value falls on midnight (a date)."""
    if not pd.api.types.is_datetime64_any_dtype(col):
        return False
    known = col.dropna()
    return bool((known == known.dt.normalize()).all())


def _highlight_cell(text, terms) -> str:
    """:func:`highlight` with the terms given as a term list cell (``"养老;养老服务"``)."""
    return highlight(text, split_terms(terms))


# --------------------------------------------------------------------------------------------- XLSX
def _rich(text: str, terms: list[str]):
    """``text`` as openpyxl rich text, the terms in bold dark red; plain ``text`` when none occurs."""
    from openpyxl.cell.rich_text import CellRichText, TextBlock
    from openpyxl.cell.text import InlineFont

    spans = term_spans(text, terms)
    if not spans:
        return text
    mark = InlineFont(b=True, color=XLSX_MARK_COLOR)
    parts, pos = [], 0
    for start, end in spans:
        if start > pos:
            parts.append(text[pos:start])
        parts.append(TextBlock(mark, text[start:end]))
        pos = end
    if pos < len(text):
        parts.append(text[pos:])
    return CellRichText(parts)


def _xlsx_value(value, terms: list[str] | None):
    if isinstance(value, list | tuple | set):
        value = "、".join(str(v) for v in value)
    value = xlsx_cell(xlsx_text(value))
    return _rich(value, terms) if isinstance(value, str) and terms else value


def save_view_xlsx(df: pd.DataFrame, path: str | Path, highlight: Mapping[str, str] | Sequence[str] | None = None,
                   sheet_name: str = "view", max_width: int = 60) -> Path:
    """Write ``df`` as the view :func:`styled` shows, into one XLSX sheet (atomically).

    Parameters
    ----------
    df : pandas.DataFrame
        At most :data:`compare.export.XLSX_MAX_ROWS` - 1 rows (use :func:`compare.export.save_table` for data).
    path : str or pathlib.Path
        The ``.xlsx`` file.
    highlight : mapping or sequence of str, optional
        As for :func:`styled`: in these columns the terms are bold dark red (rich text in the cell).
    sheet_name : str
    max_width : int
        Widest column, in characters (a Chinese character counts two); longer text wraps.

    Returns
    -------
    pathlib.Path

    Notes
    -----
    Every cell is aligned left and top and wraps; the header row is bold and frozen. Text cells go through
    :func:`compare.export.xlsx_text` (formula-safe, control characters replaced) before the terms are found.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    marks = _highlights(df, highlight)
    wb = Workbook()
    ws = wb.active
    ws.title = re.sub(r"[\[\]:*?/\\]", "_", sheet_name)[:31]
    ws.append([xlsx_text(str(c)) for c in df.columns])
    term_cols = {c: [split_terms(v) for v in df[t]] for c, t in marks.items()}
    for i, row in enumerate(df.itertuples(index=False)):
        ws.append([_xlsx_value(v, term_cols[c][i] if c in term_cols else None) for c, v in zip(df.columns, row,
                                                                                                  strict=True)])
    wrap = Alignment(horizontal="left", vertical="top", wrap_text=True)
    for cells in ws.iter_rows():
        for cell in cells:
            cell.alignment = wrap
    for cell in ws[1]:
        cell.font = Font(bold=True)
    _column_widths(ws, df, max_width)
    ws.freeze_panes = "A2"
    return save_workbook(wb, path)


def _column_widths(ws, df: pd.DataFrame, max_width: int) -> None:
    from openpyxl.utils import get_column_letter

    for i, col in enumerate(df.columns, start=1):
        sample = [col, *df[col].iloc[:200].tolist()]
        widest = max(max((display_width(line) for line in str(v).split("\n")), default=0) for v in sample)
        ws.column_dimensions[get_column_letter(i)].width = min(widest + 2, max_width)


class FigurePages:
    """The pages of a figure the build drew (its 300-dpi PNGs), shown in a notebook one below the other.

    Each page is shown at half its resolution (150 dpi) and at the width of a figure drawn inline (100 dpi),
    so a notebook embeds a quarter of the pixels and shows what the files hold, without drawing the figure
    again. ``paths`` are the files.
    """

    #: Screen pixels per 300-dpi pixel (an inline figure is drawn at 100 dpi) and the downscaling factor.
    SHOWN, REDUCE = 1 / 3, 2

    def __init__(self, paths: Sequence[str | Path]):
        self.paths = [Path(p) for p in paths]

    def __repr__(self) -> str:
        return f"FigurePages({', '.join(p.name for p in self.paths)})"

    def images(self) -> list:
        """One ``IPython.display.Image`` a page."""
        import io

        from IPython.display import Image as Shown
        from PIL import Image

        out = []
        for path in self.paths:
            with Image.open(path) as im:
                width = round(im.width * self.SHOWN)
                buf = io.BytesIO()
                im.reduce(self.REDUCE).save(buf, format="png", compress_level=PNG_COMPRESS_LEVEL)
            out.append(Shown(data=buf.getvalue(), format="png", width=width))
        return out

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(*self.images())
