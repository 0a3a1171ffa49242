"""The look of every chart: the bundled CJK font, the one rcParams dict, and inline display in IPython.

Stage: presentation (DESIGN.md section 2), below :mod:`compare.names`, :mod:`compare.plots` and
:mod:`compare.export`. Importing this module changes nothing: the font is registered with matplotlib on
first use (:func:`theme`, :func:`set_theme`, :func:`font_path`).

Font: Noto Sans CJK SC from the ``mplfonts`` PyPI package (never a system font, so figures look the same on
every machine). matplotlib is given a *light copy* of it without the OpenType layout tables, which makes
every PDF cheaper to write. The copy is made once in the cache that the entry points hand to
:func:`use_cache` (a :class:`compare.cache.Cache`); without one, in a temporary folder of this process.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import io
import shutil
import sys
import tempfile
from functools import lru_cache
from pathlib import Path

import matplotlib as mpl
from matplotlib import font_manager
from matplotlib.figure import Figure

from .cache import Cache, atomic_write, digest

__all__ = ["FONT_NAME", "SUBSET_NAME", "THEME", "font_path", "font_source", "make_subset", "set_theme", "show_inline",
           "theme", "use_cache", "use_subset"]

#: The family name of the bundled font (checked when it is registered).
FONT_NAME = "Noto Sans CJK SC"
_FONT_FILE = "NotoSansCJKsc-Regular.otf"
#: Tables matplotlib never uses (it draws CJK text glyph by glyph), left out of the light copy.
_UNUSED_TABLES = ("GSUB", "GPOS", "GDEF", "BASE", "VORG", "vhea", "vmtx")

#: The project's one theme. SVG text is stored as paths (renders without the font installed); PDF
#: embeds the font as TrueType/CID (type 42); a fixed ``svg.hashsalt`` keeps SVG ids reproducible.
THEME: dict = {
    "font.family": [FONT_NAME, "DejaVu Sans"],
    "font.size": 10,
    "axes.titlesize": 12,
    "axes.titleweight": "normal",  # the bundled font has one weight: bold would fall back to regular
    "axes.titlelocation": "left",
    "axes.labelsize": 10,
    "axes.labelcolor": "#333333",
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "xtick.color": "#333333",
    "ytick.color": "#333333",
    "legend.fontsize": 9,
    "legend.title_fontsize": 9.5,
    "legend.frameon": False,
    "figure.titlesize": 13,
    "figure.titleweight": "normal",
    "figure.facecolor": "white",
    "figure.dpi": 100,
    "figure.constrained_layout.use": True,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#888888",
    "axes.grid": False,
    "grid.color": "#e3e3e3",
    "grid.linewidth": 0.7,
    "axes.axisbelow": True,
    "axes.unicode_minus": False,
    "savefig.dpi": 300,
    "savefig.facecolor": "white",
    "svg.fonttype": "path",
    "svg.hashsalt": "compare",
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
}

#: The family name of a subset of the font (:func:`make_subset`): drawn with first, the whole font filling in.
SUBSET_NAME = "Noto Sans CJK SC Subset"
#: Characters every subset holds besides those of its texts: printable ASCII and common CJK punctuation.
_SUBSET_ALWAYS = "".join(map(chr, range(0x20, 0x7F))) + "，。、；：？！（）《》〈〉「」『』【】“”‘’—…·％～－"

#: What this process has set up: the cache given by the entry point, the font file registered, the subset.
_STATE: dict = {"cache": None, "font": None, "tmp": None, "subset": None}


# --------------------------------------------------------------------------------------------- the font
@lru_cache(maxsize=1)
def font_source() -> Path:
    """Return Noto Sans CJK SC inside the installed ``mplfonts`` package (located, not imported).

    Raises
    ------
    ImportError
        When ``mplfonts`` or its font file is missing.
    """
    spec = importlib.util.find_spec("mplfonts")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("compare's charts need the 'mplfonts' package for their CJK font: pip install mplfonts")
    for location in spec.submodule_search_locations:
        path = Path(location) / "fonts" / _FONT_FILE
        if path.is_file():
            return path.resolve()
    raise ImportError(f"mplfonts is installed but {_FONT_FILE} is missing from its fonts/ folder")


def use_cache(cache: Cache | None) -> None:
    """Make the light copy of the font in ``cache`` (entry points call this once; ``None``: a temporary folder).

    Parameters
    ----------
    cache : compare.cache.Cache or None
        Where the copy is kept between runs. A cache that cannot be written gives one warning and the copy
        goes to this process's temporary folder.
    """
    if _folder(cache) != _folder(_STATE["cache"]):
        _STATE["font"] = None  # registered again, from the new place, on next use
    _STATE["cache"] = cache


def _folder(cache: Cache | None):
    return cache.root if cache is not None and cache.enabled else None


def font_path() -> Path:
    """Register the font with matplotlib (on first use) and return the file matplotlib draws with.

    Returns
    -------
    pathlib.Path
        The light copy (in the cache given to :func:`use_cache`, else in a temporary folder), or
        :func:`font_source` itself when no copy could be made.
    """
    if _STATE["font"] is None:
        source = font_source()
        path = _light_copy(source, _STATE["cache"])
        try:
            _register_font(path)
        except Exception:  # a damaged copy: draw with the package's file
            path = source
            _register_font(path)
        _STATE["font"] = path
    return _STATE["font"]


def _register_font(path: Path) -> None:
    name = font_manager.FontProperties(fname=str(path)).get_name()
    if name != FONT_NAME:
        raise RuntimeError(f"{path} holds the font {name!r}, not {FONT_NAME!r}")
    _add_font(path, name)  # exactly one font of that name, ours: a system copy of Noto Sans CJK SC must not win


def _add_font(path: Path, name: str) -> None:
    """Register ``path`` as the only font named ``name`` with matplotlib, forgetting its earlier lookups."""
    fm = font_manager.fontManager
    fm.ttflist = [f for f in fm.ttflist if f.name != name]
    fm.addfont(str(path))
    cached = getattr(fm, "_findfont_cached", None)
    if cached is not None and hasattr(cached, "cache_clear"):
        cached.cache_clear()


def _light_copy(source: Path, cache: Cache | None) -> Path:
    """The font without its layout and vertical-metrics tables: in ``cache`` when it can hold it, else in a
    temporary folder of this process; ``source`` itself when the copy cannot be made.

    matplotlib's PDF backend subsets the whole font for every file it writes, and decompiling those tables
    of this 16 MB font is most of that cost (1.4 s → 0.5 s a PDF). The glyphs (CFF) are copied unchanged,
    and so is the font's timestamp: every copy is the same bytes, so PDFs do not depend on which one was used.
    """
    key = digest(source.name, source.stat().st_size, *_UNUSED_TABLES)
    target = cache.path("fonts", key, source.suffix) if cache is not None else None
    if target is not None and target.is_file():
        return target.resolve()
    data = _strip_layout(source)
    if data is None:
        return source
    if target is not None:
        cache.write_bytes("fonts", key, data, source.suffix)  # one warning if the cache cannot hold it
        if target.is_file():
            return target.resolve()
    try:
        return atomic_write(_temp_folder() / f"{source.stem}-{key[:12]}{source.suffix}", data).resolve()
    except OSError:  # no writable temporary folder either
        return source


def make_subset(texts, cache: Cache | None) -> Path | None:
    """A copy of the font with only the characters of ``texts`` (and ASCII), named :data:`SUBSET_NAME`.

    Why: matplotlib's PDF backend subsets the font it draws with for every file, and reading the 65,000 glyphs
    of the whole font is most of the time a PDF takes (≈ 0.3 s of ≈ 0.45 s on a small chart). The figures of a
    build draw a few thousand distinct characters at most (their tables' labels and terms), so the build makes
    this copy once (about 0.5 s for 300 characters, 4 s for 3,000; kept in ``cache`` under a digest of the
    characters) and draws with it first: a character it lacks is drawn from the whole font (matplotlib's
    font fallback), so nothing is lost, only that PDF is slower. ``None`` when no copy can be made.

    Parameters
    ----------
    texts : iterable of str
    cache : compare.cache.Cache or None
    """
    chars = sorted(set(_SUBSET_ALWAYS).union(*map(set, texts)))
    source = font_path()
    key = digest("subset", source.name, source.stat().st_size, SUBSET_NAME, "".join(chars))
    target = cache.path("fonts", key, source.suffix) if cache is not None and cache.enabled else None
    if target is not None and target.is_file():
        return target.resolve()
    try:
        from fontTools import subset

        opts = subset.Options(layout_features=[], name_IDs=["*"], notdef_outline=True, recalc_timestamp=False)
        with _open_font(source) as font:
            sub = subset.Subsetter(opts)
            sub.populate(unicodes=[ord(c) for c in chars])
            sub.subset(font)
            _rename(font, SUBSET_NAME)
            buf = io.BytesIO()
            font.save(buf)
    except Exception:  # an odd font: the build draws with the whole one
        return None
    if target is not None:
        cache.write_bytes("fonts", key, buf.getvalue(), source.suffix)
        if target.is_file():
            return target.resolve()
    try:
        return atomic_write(_temp_folder() / f"subset-{key[:12]}{source.suffix}", buf.getvalue()).resolve()
    except OSError:
        return None


def _open_font(path: Path):
    from fontTools.ttLib import TTFont

    return TTFont(str(path), lazy=True, recalcTimestamp=False)


def _rename(font, family: str) -> None:
    """Give a font another family name (name table and CFF), so that it never stands in for the original."""
    postscript = family.replace(" ", "") + "-Regular"
    for rec in font["name"].names:
        if rec.nameID in (1, 16):
            rec.string = family
        elif rec.nameID in (3, 4):
            rec.string = f"{family} Regular"
        elif rec.nameID == 6:
            rec.string = postscript
    if "CFF " in font:
        font["CFF "].cff.fontNames = [postscript]


def use_subset(path: Path | None) -> None:
    """Draw with the subset at ``path`` (from :func:`make_subset`) first, the whole font filling in; ``None``:
    the whole font alone. Entry points call this in every process that draws a build's figures."""
    if path is not None and path != _STATE["subset"]:
        font_path()
        _add_font(path, SUBSET_NAME)
    _STATE["subset"] = path


def _strip_layout(source: Path) -> bytes | None:
    try:
        buf = io.BytesIO()
        with _open_font(source) as font:
            for tag in _UNUSED_TABLES:
                if tag in font:
                    del font[tag]
            font.save(buf)
        return buf.getvalue()
    except Exception:  # an odd font or no fontTools: the package's file is used as it is
        return None


def _temp_folder() -> Path:
    if _STATE["tmp"] is None:
        _STATE["tmp"] = Path(tempfile.mkdtemp(prefix="compare-fonts-"))
        atexit.register(shutil.rmtree, _STATE["tmp"], ignore_errors=True)
    return _STATE["tmp"]


# --------------------------------------------------------------------------------------------- the theme
@contextlib.contextmanager
def theme():
    """Apply :data:`THEME` inside a ``with`` block (restores the previous rcParams afterwards).

    The font is registered first (see :func:`font_path`).
    """
    font_path()
    rc = THEME if _STATE["subset"] is None else {**THEME, "font.family": [SUBSET_NAME, *THEME["font.family"]]}
    with mpl.rc_context(rc):
        yield rc


def set_theme() -> None:
    """Apply :data:`THEME` globally (e.g. at the top of a notebook), registering the font first."""
    font_path()
    mpl.rcParams.update(THEME)


def show_inline() -> None:
    """Let IPython show a compare Figure as a PNG when it is a cell's last expression.

    The charts are built without pyplot, so IPython knows no display for them until ``%matplotlib inline``
    registers one; this registers the same PNG formatter on first use (nothing happens outside IPython).
    """
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    formatters = getattr(getattr(shell, "display_formatter", None), "formatters", None)
    if not formatters or "image/png" not in formatters:
        return
    png = formatters["image/png"]
    if Figure not in png.type_printers:
        from IPython.core.pylabtools import print_figure

        png.for_type(Figure, lambda fig: print_figure(fig, "png", bbox_inches="tight"))
