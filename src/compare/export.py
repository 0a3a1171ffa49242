"""Write figures and tables for reports.

Stage: export (DESIGN.md section 2). :func:`save_figure` writes PNG (300 dpi), SVG and PDF under
``config.FIGURES_DIR`` with deterministic metadata — no dates, a fixed SVG hash salt — so saving the
same figure twice gives byte-identical SVG and PDF files (diffable, cache-friendly). :func:`save_table`
writes CSV with a BOM (Excel opens it as UTF-8) and XLSX.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from . import config

__all__ = ["save_figure", "save_table"]

_METADATA = {
    "png": {"Software": "compare (matplotlib)"},
    "svg": {"Date": None, "Creator": "compare (matplotlib)"},
    "pdf": {"CreationDate": None, "ModDate": None, "Creator": "compare (matplotlib)", "Producer": "compare"},
}
_BAD_NAME = re.compile(r"[\\/:*?\"<>|\x00-\x1f]")


def _check_name(name: str) -> str:
    name = str(name).strip()
    if not name or _BAD_NAME.search(name) or name in (".", ".."):
        raise ValueError(f"not a usable file name: {name!r} (no path separators or reserved characters)")
    return name


def save_figure(
    fig,
    name: str,
    out_dir: str | Path | None = None,
    formats: Sequence[str] = ("png", "svg", "pdf"),
    dpi: int = 300,
) -> list[Path]:
    """Save a figure as ``<out_dir>/<name>.<format>`` for every format.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        E.g. the return value of a :mod:`compare.plots` function.
    name : str
        File stem (no folder, no suffix), e.g. ``"fig1_heatmap_zh"``.
    out_dir : str or pathlib.Path, optional
        Defaults to ``config.FIGURES_DIR``; created if missing.
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
    Saving happens inside :func:`compare.plots.theme`, so SVG text is stored as paths (the SVG renders
    without the font installed) and PDF embeds the font (type 42). Dates are left out of the metadata
    and the SVG hash salt is fixed, so SVG and PDF output is byte-for-byte reproducible.
    """
    from .plots import theme

    name = _check_name(name)
    formats = [f.lower().lstrip(".") for f in formats]
    bad = [f for f in formats if f not in _METADATA]
    if bad:
        raise ValueError(f"unsupported figure format {bad[0]!r} (use png, svg or pdf)")
    out = Path(out_dir) if out_dir is not None else config.FIGURES_DIR
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    with theme():
        # Constrained layout settles over two passes (e.g. a colorbar's tick labels depend on the axes
        # width); draw twice first so every save starts from the same converged layout.
        for _ in range(2):
            fig.draw_without_rendering()
        for fmt in formats:
            path = out / f"{name}.{fmt}"
            fig.savefig(path, format=fmt, dpi=dpi, metadata=_METADATA[fmt], facecolor="white")
            paths.append(path)
    return paths


def _cell(value):
    if isinstance(value, set | frozenset):
        return "；".join(sorted(str(v) for v in value))
    if isinstance(value, list | tuple):
        return "；".join(str(v) for v in value)
    return value


def _flatten(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object:
            out[col] = out[col].map(_cell)
        if isinstance(out[col].dtype, pd.DatetimeTZDtype):
            out[col] = out[col].dt.tz_localize(None)
    return out


def _display_width(value) -> int:
    text = "" if value is None else str(value)
    return sum(2 if ord(c) > 0x2E80 else 1 for c in text)


def save_table(
    df: pd.DataFrame,
    name: str,
    out_dir: str | Path | None = None,
    formats: Sequence[str] = ("csv", "xlsx"),
) -> list[Path]:
    """Save a table as CSV (UTF-8 with BOM) and XLSX.

    Parameters
    ----------
    df : pandas.DataFrame
        A tidy table; the index is not written (reset it first if it carries data).
    name : str
        File stem, e.g. ``"type_counts"``; also the XLSX sheet name (first 31 characters).
    out_dir : str or pathlib.Path, optional
        Defaults to ``config.TABLES_DIR`` when the config defines one, else ``config.FIGURES_DIR``
        (tables next to the figures they belong to); created if missing.
    formats : sequence of {"csv", "xlsx"}
        Formats to write.

    Returns
    -------
    list of pathlib.Path
        The files written.

    Notes
    -----
    Cells holding lists, tuples or sets are written as their items joined by ``'；'`` (sets sorted).
    The XLSX has a frozen header row and columns sized to their content.
    """
    name = _check_name(name)
    formats = [f.lower().lstrip(".") for f in formats]
    bad = [f for f in formats if f not in ("csv", "xlsx", "parquet")]
    if bad:
        raise ValueError(f"unsupported table format {bad[0]!r} (use csv, xlsx or parquet)")
    out = Path(out_dir) if out_dir is not None else Path(getattr(config, "TABLES_DIR", config.FIGURES_DIR))
    out.mkdir(parents=True, exist_ok=True)
    flat = _flatten(df)
    paths = []
    for fmt in formats:
        path = out / f"{name}.{fmt}"
        if fmt == "parquet":
            flat.to_parquet(path, index=False)
        elif fmt == "csv":
            flat.to_csv(path, index=False, encoding="utf-8-sig")
        elif fmt == "xlsx":
            sheet = re.sub(r"[\[\]:*?/\\]", "_", name)[:31]
            with pd.ExcelWriter(path, engine="openpyxl") as writer:
                flat.to_excel(writer, sheet_name=sheet, index=False)
                ws = writer.sheets[sheet]
                ws.freeze_panes = "A2"
                from openpyxl.utils import get_column_letter

                for i, col in enumerate(flat.columns, start=1):
                    sample = [col, *flat[col].head(200).tolist()]
                    width = min(max(_display_width(v) for v in sample) + 2, 60)
                    ws.column_dimensions[get_column_letter(i)].width = width
        paths.append(path)
    return paths


def save_corpus(corpus, out_dir: str | Path) -> list[Path]:
    """Write the six tables of a :class:`compare.corpus.Corpus` as Parquet and CSV with BOM under ``out_dir``.

    List cells (a report's ``warnings``) are joined by ``'；'``; :meth:`compare.corpus.Corpus.load` reads them
    back.
    """
    written: list[Path] = []
    for name, df in corpus.tables().items():
        written += save_table(df, name, out_dir, formats=("parquet", "csv"))
    return written
