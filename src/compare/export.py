"""The one writer of figures and tables: atomic, reproducible and safe to open in a spreadsheet.

Stage: presentation (DESIGN.md section 2), the last step before the files. Every file is written through
:func:`compare.cache.atomic_path`, so a reader, or a build killed half-way, sees the old file or the new one,
never a torn one.

* :func:`save_figure` writes PNG (300 dpi, PDFium's rendering of the PDF), SVG and PDF with deterministic
  metadata — no dates, a fixed SVG hash salt — so saving the same figure twice gives byte-identical SVG and PDF
  files.
* :func:`save_table` writes CSV (UTF-8 with a BOM, so Excel opens it as UTF-8; CRLF rows), XLSX and Parquet. In CSV and XLSX a
  text cell that a spreadsheet would run as a formula (it begins with ``=``, ``+``, ``-``, ``@``, a tab or a
  carriage return) gets a leading ``'``, as OWASP advises against CSV injection; numbers stay numbers.
  Characters XLSX cannot hold (control characters such as a form feed) become U+FFFD in the XLSX only, text
  longer than a cell holds is cut there, and a table longer than a sheet is split over several sheets, with
  an :class:`ExportWarning`. Parquet keeps
  the text as it is.

The folder is always given by the caller (the entry points take it from :mod:`compare.config`).
"""

from __future__ import annotations

import datetime
import decimal
import io
import re
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .cache import atomic_path, atomic_write
from .names import display_width

__all__ = [
    "XLSX_MAX_CELL_CHARS",
    "XLSX_MAX_COLUMNS",
    "XLSX_MAX_ROWS",
    "ExportWarning",
    "neutralize_formula",
    "save_figure",
    "save_table",
    "save_workbook",
    "xlsx_text",
]

#: Rows of one XLSX sheet, the header row included (Excel's limit).
XLSX_MAX_ROWS = 1_048_576
#: Columns of one XLSX sheet (Excel's limit); a wider table is written without its XLSX.
XLSX_MAX_COLUMNS = 16_384
#: Characters of one XLSX cell (Excel's limit); longer text is cut in the XLSX only, ending with "…".
XLSX_MAX_CELL_CHARS = 32_767

_METADATA = {
    "png": {"Software": "compare (matplotlib)"},
    "svg": {"Date": None, "Creator": "compare (matplotlib)"},
    "pdf": {"CreationDate": None, "ModDate": None, "Creator": "compare (matplotlib)", "Producer": "compare"},
}
_TABLE_FORMATS = ("csv", "xlsx", "parquet")
_BAD_NAME = re.compile(r"[\\/:*?\"<>|\x00-\x1f]")
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
#: A text cell beginning with one of these is a formula to a spreadsheet (OWASP, "CSV Injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: What openpyxl refuses in a cell (its ``ILLEGAL_CHARACTERS_RE``): C0 controls but tab, newline and CR.
_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


class ExportWarning(UserWarning):
    """A table could not be written exactly as it is (e.g. too long for one XLSX sheet)."""


def _check_name(name: str) -> str:
    name = str(name).strip()
    if not name or _BAD_NAME.search(name) or name in (".", ".."):
        raise ValueError(f"not a usable file name: {name!r} (no path separators or reserved characters)")
    return name


def _check_formats(formats: Sequence[str], known: Sequence[str], what: str) -> list[str]:
    formats = [f.lower().lstrip(".") for f in formats]
    bad = [f for f in formats if f not in known]
    if bad:
        raise ValueError(f"unsupported {what} format {bad[0]!r} (use {', '.join(known[:-1])} or {known[-1]})")
    return formats


# --------------------------------------------------------------------------------------------- figures
def save_figure(
    fig,
    name: str,
    out_dir: str | Path,
    formats: Sequence[str] = ("png", "svg", "pdf"),
    dpi: int = 300,
) -> list[Path]:
    """Save a figure as ``<out_dir>/<name>.<format>`` for every format, each file atomically.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        E.g. the return value of a :mod:`compare.plots` function.
    name : str
        File stem (no folder, no suffix), e.g. ``"fig1_heatmap_zh"``.
    out_dir : str or pathlib.Path
        The folder (e.g. ``config.FIGURES_DIR``); created if missing.
    formats : sequence of {"png", "svg", "pdf"}
        Formats to write.
    dpi : int
        Resolution of the PNG (SVG and PDF are vector).

    Returns
    -------
    list of pathlib.Path
        The files written, in the order of ``formats``.

    Notes
    -----
    The figure is laid out once (:func:`_settle_layout`) and keeps that layout afterwards; it is drawn twice,
    as SVG and as PDF, and the PNG is PDFium's rendering of that PDF (:func:`_raster`). Asked for a PNG
    without a PDF (notebook 04's default), matplotlib's Agg draws the PNG instead: a bar chart of 150 units
    took 1.4 s, against 1.7 s (English) and 2.1 s (Chinese) through a PDF that embeds the CJK font. Saving happens
    inside :func:`compare.theme.theme`, so SVG text is stored as paths (the SVG renders
    without the font installed) and PDF embeds the font (type 42). Dates are left out of the metadata
    and the SVG hash salt is fixed, so SVG and PDF output is byte-for-byte reproducible.
    """
    import matplotlib as mpl

    from .theme import theme  # here: the tables' half of this module (and compare.views) needs no matplotlib

    name = _check_name(name)
    formats = _check_formats(formats, tuple(_METADATA), "figure")
    out = Path(out_dir)
    paths = []
    with theme(), mpl.rc_context(NO_LAYOUT):
        _settle_layout(fig)
        pdf: list[bytes] = []  # drawn once, for the PDF and for the PNG
        for fmt in formats:
            path = out / f"{name}.{fmt}"
            with atomic_path(path) as tmp:
                _save_format(fig, fmt, tmp, dpi, pdf, alone="pdf" not in formats)
            paths.append(path)
    return paths


def _save_format(fig, fmt: str, tmp, dpi: int, pdf: list[bytes], alone: bool) -> None:
    """One format of :func:`save_figure` into ``tmp``. The PDF is drawn once into ``pdf`` and serves the PNG
    too; a PNG ``alone`` (no PDF asked for) and the SVG are drawn by matplotlib."""
    if fmt == "svg" or (fmt == "png" and alone):
        png = {"pil_kwargs": {"compress_level": PNG_COMPRESS_LEVEL}} if fmt == "png" else {}
        fig.savefig(tmp, format=fmt, dpi=dpi, metadata=_METADATA[fmt], facecolor="white", **png)
        return
    if not pdf:
        buf = io.BytesIO()
        fig.savefig(buf, format="pdf", dpi=dpi, metadata=_METADATA["pdf"], facecolor="white")
        pdf.append(buf.getvalue())
    if fmt == "pdf":
        Path(tmp).write_bytes(pdf[0])
    else:  # the size matplotlib's own PNG has: the figure's inches × dpi, truncated
        _raster(pdf[0], dpi, tuple(int(x * dpi) for x in fig.get_size_inches()), tmp)


#: The settings under which "no layout engine" stays so (matplotlib's set_layout_engine(None) picks one from them).
NO_LAYOUT = {"figure.autolayout": False, "figure.constrained_layout.use": False}


#: zlib's level for every PNG compare writes: 1 encodes a 300-dpi A4 page in half the time of Pillow's default 6
#: (eight pages of the bundled build: 1.29 -> 0.63 s) for files 11 % larger (1,597 -> 1,769 KB). Lossless either way.
PNG_COMPRESS_LEVEL = 1


def _raster(pdf: bytes, dpi: int, size: tuple[int, int], path) -> None:
    """The PNG of a one-page PDF at ``dpi``, rendered by PDFium (pypdfium2), ``size`` pixels wide and high.

    The PNG is the picture of the PDF, pixel for pixel the page a printer gets, and costs no second drawing of
    the figure: PDFium rasterises an A4 page at 300 dpi in about 0.1 s, where matplotlib's Agg renderer takes
    0.5 to 1.3 s for the same page (its text layout runs again for every format).
    """
    import pypdfium2 as pdfium
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    for key, value in _METADATA["png"].items():
        info.add_text(key, value)
    doc = pdfium.PdfDocument(pdf)
    try:
        image = doc[0].render(scale=dpi / 72).to_pil().crop((0, 0, *size))
    finally:
        doc.close()
    image.save(path, format="png", dpi=(dpi, dpi), pnginfo=info, compress_level=PNG_COMPRESS_LEVEL)


def _settle_layout(fig) -> None:
    """Lay ``fig`` out once and keep that layout for every format (and every later save).

    One pass of the figure's layout engine (constrained layout), as matplotlib makes when it saves, then the
    positions are fixed (no layout engine): PNG, SVG and PDF are drawn without a layout pass each and without
    the dry draw matplotlib's savefig makes first for a figure that has an engine (even its placeholder
    ``"none"``); that dry draw was a quarter of the time of saving a page in three formats (2.88 -> 2.19 s a page
    of a 150-report build, the files byte for byte the same). A figure saved again by :func:`save_figure`
    comes out byte for byte the same. A second pass would move no axes by more
    than 9e-5 of the page (0.03 mm on A4; measured on every page of a 150-report build and of the synthetic
    tables of tests/test_plots at 3, 30 and 150 units), for the cost of the first."""
    import matplotlib as mpl
    from matplotlib.layout_engine import PlaceHolderLayoutEngine

    engine = fig.get_layout_engine()
    if engine is not None and not isinstance(engine, PlaceHolderLayoutEngine):
        engine.execute(fig)
    # No engine at all, not matplotlib's placeholder ("none"): while a figure has any engine, every savefig
    # first draws the whole figure once without output for it, and then again for the file. With these
    # settings off (NO_LAYOUT), None stays None, also when savefig puts the figure's engine back after a save.
    with mpl.rc_context(NO_LAYOUT):
        fig.set_layout_engine(None)


# --------------------------------------------------------------------------------------------- cells
def neutralize_formula(value):
    """Return ``value`` with a leading ``'`` when it is text a spreadsheet would run as a formula.

    Parameters
    ----------
    value : object
        A cell. Only strings are changed: ``-3`` (a number) stays a number, ``"-3"`` becomes ``"'-3"``.

    Returns
    -------
    object
        ``"'=1+1"`` for ``"=1+1"``; text beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
        return is prefixed (OWASP's advice against CSV injection), everything else is returned as it is.
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def xlsx_text(value):
    """Return a cell as XLSX can hold it: formula-safe (:func:`neutralize_formula`), control characters U+FFFD.

    Parameters
    ----------
    value : object
        A cell; only strings are changed.

    Returns
    -------
    object
        ``"'=1"`` for ``"=1"``, ``"a\ufffdb"`` for ``"a\x0cb"``; anything else as it is.
    """
    value = neutralize_formula(value)
    if isinstance(value, str) and _XLSX_ILLEGAL.search(value):
        return _XLSX_ILLEGAL.sub("\ufffd", value)
    return value


def _cell(value):
    if isinstance(value, set | frozenset):
        return "；".join(sorted(str(v) for v in value))
    if isinstance(value, list | tuple):
        return "；".join(str(v) for v in value)
    return value


def is_text_column(series: pd.Series) -> bool:
    """Whether ``series`` holds text (object, string or categorical dtype): the cells a table cleans and wraps."""
    return (series.dtype == object or isinstance(series.dtype, pd.CategoricalDtype)
            or pd.api.types.is_string_dtype(series.dtype))


def _flatten(df: pd.DataFrame, drop_tz: bool = True) -> pd.DataFrame:
    """Lists and sets joined by ``'；'`` and (``drop_tz``) time zones dropped, as a spreadsheet holds them."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object:
            out[col] = out[col].map(_cell)
        if drop_tz and isinstance(out[col].dtype, pd.DatetimeTZDtype):
            out[col] = out[col].dt.tz_localize(None)
    return out


def _spreadsheet_safe(df: pd.DataFrame, clean=neutralize_formula) -> pd.DataFrame:
    """``clean`` applied to every text cell and column name (numbers, booleans and dates are left alone)."""
    out = df.copy()
    for col in out.columns:
        if is_text_column(out[col]):
            out[col] = out[col].astype(object).map(clean)
    out.columns = [clean(c) for c in out.columns]
    return out


# --------------------------------------------------------------------------------------------- tables
def save_table(
    df: pd.DataFrame,
    name: str,
    out_dir: str | Path,
    formats: Sequence[str] = ("csv", "xlsx"),
) -> list[Path]:
    """Save a table as CSV (UTF-8 with BOM), XLSX and/or Parquet, each file atomically.

    Parameters
    ----------
    df : pandas.DataFrame
        A tidy table; the index is not written (reset it first if it carries data).
    name : str
        File stem, e.g. ``"type_counts"``; also the XLSX sheet name (first 31 characters).
    out_dir : str or pathlib.Path
        The folder (e.g. ``config.PROCESSED_DIR / "tables"``); created if missing.
    formats : sequence of {"csv", "xlsx", "parquet"}
        Formats to write.

    Returns
    -------
    list of pathlib.Path
        The files written (a table too wide for XLSX is written without it).

    Notes
    -----
    Cells holding lists, tuples or sets are written as their items joined by ``'；'`` (sets sorted).
    CSV and XLSX are formula-safe (:func:`neutralize_formula`, column names included); the XLSX has
    control characters replaced by U+FFFD, text over :data:`XLSX_MAX_CELL_CHARS` cut, a frozen header row
    and columns sized to their content, and a table over :data:`XLSX_MAX_ROWS` rows goes on sheets
    ``name``, ``name_2``, … (each a warning, :class:`ExportWarning`). Parquet keeps the text (and time zones) as they are.
    """
    name = _check_name(name)
    formats = _check_formats(formats, _TABLE_FORMATS, "table")
    out = Path(out_dir)
    flat = _flatten(df)
    paths = []
    for fmt in formats:
        path = out / f"{name}.{fmt}"
        if fmt == "csv":
            with atomic_path(path) as tmp:
                # CRLF rows (RFC 4180): a field holding a lone CR is then quoted, not read as a row break
                _spreadsheet_safe(flat).to_csv(tmp, index=False, encoding="utf-8-sig", lineterminator="\r\n")
        elif fmt == "parquet":
            with atomic_path(path) as tmp:
                _flatten(df, drop_tz=False).to_parquet(tmp, index=False)
        elif not _write_xlsx(_spreadsheet_safe(flat, xlsx_text), name, path):
            continue
        paths.append(path)
    return paths


def _sheet_names(name: str, n: int) -> list[str]:
    """``name`` as an XLSX sheet name (31 characters, none of ``[]:*?/\\``), then ``name_2``, ``name_3``…"""
    base = _BAD_SHEET_CHARS.sub("_", name)
    names = [base[:31]]
    for k in range(2, n + 1):
        suffix = f"_{k}"
        names.append(base[: 31 - len(suffix)] + suffix)
    return names


def _write_xlsx(table: pd.DataFrame, name: str, path: Path) -> bool:
    """Write ``table`` (already spreadsheet-safe) over as many sheets as it needs; False if it cannot fit."""
    if table.shape[1] > XLSX_MAX_COLUMNS:
        warnings.warn(f"{name}: {table.shape[1]} columns do not fit an XLSX sheet ({XLSX_MAX_COLUMNS}); "
                      f"{path.name} is not written, use the CSV", ExportWarning, stacklevel=3)
        return False
    table = _clip_long_text(table, name, path)
    per_sheet = XLSX_MAX_ROWS - 1  # the header takes a row of every sheet
    starts = range(0, max(len(table), 1), per_sheet)
    sheets = _sheet_names(name, len(starts))
    if len(sheets) > 1:
        warnings.warn(f"{name}: {len(table)} rows do not fit one XLSX sheet; {path.name} holds them on "
                      f"{len(sheets)} sheets ({', '.join(sheets)})", ExportWarning, stacklevel=3)
    from openpyxl import Workbook

    # openpyxl's write-only workbook, rows appended as they are: pandas' to_excel makes a styled cell object for
    # every value first (the 12,950 × 20 concreteness table of 150 reports took 10.2 s that way)
    book = Workbook(write_only=True)
    for sheet, start in zip(sheets, starts, strict=True):
        part = table.iloc[start: start + per_sheet]
        ws = book.create_sheet(sheet)
        _format_sheet(ws, part)
        ws.append([_header_cell(ws, c) for c in part.columns])
        for row in part.itertuples(index=False, name=None):
            ws.append([xlsx_cell(v) for v in row])
    buf = io.BytesIO()
    book.save(buf)
    atomic_write(path, _reproducible_zip(buf.getvalue()))
    return True


def save_workbook(workbook, path: str | Path) -> Path:
    """Save an openpyxl workbook atomically, with fixed timestamps (the same cells give the same bytes).

    For sheets a caller builds cell by cell (rich text, wrapping); the cells should already have passed
    :func:`xlsx_text`. Returns ``path`` as a Path.
    """
    buf = io.BytesIO()
    workbook.save(buf)
    return atomic_write(path, _reproducible_zip(buf.getvalue()))


_FIXED_TIME = "2000-01-01T00:00:00Z"
_CORE_TIME_RE = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)")


def _reproducible_zip(data: bytes) -> bytes:
    """The XLSX with fixed timestamps (document properties and zip entries), so equal tables give equal files."""
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = _CORE_TIME_RE.sub(rb"\g<1>" + _FIXED_TIME.encode() + rb"\2", body)
            dst.writestr(zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0)), body,
                         compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _clip_long_text(table: pd.DataFrame, name: str, path: Path) -> pd.DataFrame:
    """Text longer than an XLSX cell holds, cut to :data:`XLSX_MAX_CELL_CHARS` ending with "…" (one warning)."""
    clipped = 0
    for col in table.columns:  # the table is a copy made for the XLSX: changed in place
        if not is_text_column(table[col]):
            continue
        long = table[col].map(lambda v: isinstance(v, str) and len(v) > XLSX_MAX_CELL_CHARS).to_numpy(bool)
        if long.any():
            table.loc[long, col] = [v[: XLSX_MAX_CELL_CHARS - 1] + "…" for v in table.loc[long, col]]
            clipped += int(long.sum())
    if clipped:
        warnings.warn(f"{name}: {clipped} cells hold more than {XLSX_MAX_CELL_CHARS} characters; they are cut in "
                      f"{path.name} (the CSV and Parquet files hold them whole)", ExportWarning, stacklevel=4)
    return table


def _header_cell(ws, name):
    """A bold header cell of a write-only sheet."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    cell = WriteOnlyCell(ws, value=xlsx_cell(name))
    cell.font = Font(bold=True)
    return cell


#: What an openpyxl cell holds as it is; any other value is written as its text.
_XLSX_TYPES = (bool, int, float, str, datetime.date, datetime.time, datetime.timedelta, decimal.Decimal)


def xlsx_cell(value):
    """A value as openpyxl writes it: None for a missing one, Python numbers and datetimes for NumPy's and
    pandas', text for anything else (a tuple, a Period …), as a CSV would show it (:func:`save_table` and
    :func:`compare.views.save_view_xlsx`)."""
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.generic):
        value = value.item()
    return value if isinstance(value, _XLSX_TYPES) else str(value)


def _format_sheet(ws, part: pd.DataFrame) -> None:
    """A frozen header row and columns as wide as their first 200 cells (at most 60 characters)."""
    from openpyxl.utils import get_column_letter

    ws.freeze_panes = "A2"
    for i, col in enumerate(part.columns, start=1):
        sample = [col, *part.iloc[:200, i - 1].tolist()]
        width = min(max(display_width(v) for v in sample) + 2, 60)
        ws.column_dimensions[get_column_letter(i)].width = width


#: The formats of the corpus tables: Parquet (read back by :meth:`compare.corpus.Corpus.load`) and CSV.
CORPUS_FORMATS = ("parquet", "csv")


def save_corpus(corpus, out_dir: str | Path) -> list[Path]:
    """Write the six tables of a :class:`compare.corpus.Corpus` as Parquet and CSV with BOM under ``out_dir``.

    List cells (a report's ``warnings``) are joined by ``'；'``; :meth:`compare.corpus.Corpus.load` reads the
    Parquet files back.
    """
    written: list[Path] = []
    for name, df in corpus.tables().items():
        written += save_table(df, name, out_dir, formats=CORPUS_FORMATS)
    return written
