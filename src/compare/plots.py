"""Publication charts: one function per chart, tidy DataFrame in, matplotlib Figure out.

Stage: plots (DESIGN.md section 2). The functions *draw*: they take the tables of
:mod:`compare.analysis` as they are (rows in the order given, codes in codebook order) and never
classify or count. Every function accepts

* ``ax=None`` — draw into an existing Axes (the Figure returned is then ``ax.figure``);
* ``lang="zh"|"en"`` — labels from the codebook names, regions via :func:`region_label`;
* ``title=None`` and ``source=None`` — a title, and a source note at the bottom left
  (e.g. ``"来源：各局巡察整改进展情况通报；compare 编码"``);

and returns the :class:`matplotlib.figure.Figure`. Figures are created without pyplot (so nothing
piles up in pyplot's state; a notebook shows the returned Figure), with constrained layout, legends
outside the data and long Chinese labels wrapped. Save them with :func:`compare.export.save_figure`.

Fonts: on import the module registers Noto Sans CJK SC from the ``mplfonts`` PyPI package (never a
system font, so figures look the same on every machine) and builds :data:`THEME`, the one rcParams
dict of the project, applied with :func:`theme` (a context manager) or :func:`set_theme`.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import math
import os
import re
import sys
import unicodedata
from collections.abc import Sequence
from pathlib import Path

import matplotlib as mpl
import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib import colormaps, font_manager
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator, PercentFormatter

from . import config
from .analysis import CONCRETENESS_FLAGS
from .codebook import Codebook, load_codebook

__all__ = [
    "FONT_NAME",
    "FONT_PATH",
    "REGION_NAMES_EN",
    "THEME",
    "bars_concreteness",
    "bars_measure_types",
    "bars_type_by_region",
    "distinctive_terms",
    "heatmap_region_type",
    "problem_map",
    "recurring_matrix",
    "region_label",
    "set_theme",
    "theme",
    "timeline_gantt",
    "wrap_label",
]

_FONT_FILE = "NotoSansCJKsc-Regular.otf"


# --------------------------------------------------------------------------------------------- font & theme
def _find_cjk_font() -> Path:
    """Noto Sans CJK SC inside the installed ``mplfonts`` package (not imported, only located)."""
    spec = importlib.util.find_spec("mplfonts")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("compare.plots needs the 'mplfonts' package for its CJK font: pip install mplfonts")
    for location in spec.submodule_search_locations:
        path = Path(location) / "fonts" / _FONT_FILE
        if path.is_file():
            return path.resolve()
    raise ImportError(f"mplfonts is installed but {_FONT_FILE} is missing from its fonts/ folder")


def _register_font(path: Path) -> str:
    fm = font_manager.fontManager
    name = font_manager.FontProperties(fname=str(path)).get_name()
    # Keep exactly one font of that name, ours: a system copy of Noto Sans CJK SC must not win.
    fm.ttflist = [f for f in fm.ttflist if f.name != name]
    fm.addfont(str(path))
    cached = getattr(fm, "_findfont_cached", None)
    if cached is not None and hasattr(cached, "cache_clear"):
        cached.cache_clear()
    return name


def _light_copy(path: Path) -> Path:
    """The font without its OpenType layout and vertical-metrics tables, made once under the cache.

    matplotlib draws CJK text glyph by glyph and never uses GSUB/GPOS/vertical metrics, but its PDF
    backend subsets the whole font for every file it writes, and decompiling those tables of this 16 MB
    font is most of that cost (1.4 s → 0.5 s a PDF). The glyphs (CFF) are copied unchanged; if the copy
    cannot be made, the package's file is used as it is.
    """
    target = config.CACHE_DIR / "fonts" / f"{path.stem}-{path.stat().st_size}-light{path.suffix}"
    if target.is_file():
        return target
    try:
        from fontTools.ttLib import TTFont

        font = TTFont(str(path), lazy=True)
        for tag in ("GSUB", "GPOS", "GDEF", "BASE", "VORG", "vhea", "vmtx"):
            if tag in font:
                del font[tag]
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        font.save(str(tmp))
        os.replace(tmp, target)
        return target
    except Exception:  # a read-only cache or an odd font: fall back to the original file
        return path


#: The CJK font file inside the mplfonts package, the copy matplotlib uses, and its family name.
FONT_SOURCE: Path = _find_cjk_font()
FONT_PATH: Path = _light_copy(FONT_SOURCE)
FONT_NAME: str = _register_font(FONT_PATH)
_FAMILY = [FONT_NAME, "DejaVu Sans"]

#: The project's one theme. SVG text is stored as paths (renders without the font installed); PDF
#: embeds the font as TrueType/CID (type 42); a fixed ``svg.hashsalt`` keeps SVG ids reproducible.
THEME: dict = {
    "font.family": _FAMILY,
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


@contextlib.contextmanager
def theme():
    """Apply :data:`THEME` inside a ``with`` block (restores the previous rcParams afterwards)."""
    with mpl.rc_context(THEME):
        yield THEME


def set_theme() -> None:
    """Apply :data:`THEME` globally (e.g. at the top of a notebook)."""
    mpl.rcParams.update(THEME)


def _themed(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with theme():
            return func(*args, **kwargs)

    return wrapper


# --------------------------------------------------------------------------------------------- labels
_LABELS = {
    "n_problems": ("问题数", "Number of problems"),
    "share_of_region": ("占本地区问题的比例", "Share of the region's problems"),
    "share_of_type": ("占该类问题的比例", "Share of the type's problems"),
    "n_measures": ("整改措施数", "Number of measures"),
    "share_of_region_measures": ("占本地区措施的比例", "Share of the region's measures"),
    "share_measures": ("措施占比", "Share of measures"),
    "problem_type": ("问题类型", "Problem type"),
    "measure_type": ("措施类型", "Measure type"),
    "region": ("地区", "Region"),
    "regions_covered": ("覆盖地区", "Regions"),
    "dimension": ("维度", "Dimension"),
    "inspection": ("巡察期间", "Inspection"),
    "feedback": ("反馈意见", "Feedback"),
    "published": ("公布整改进展", "Progress report published"),
    "days": ("天", " d"),
    "approx": ("≈ 仅知月份，按当月1日计", "≈ month only, counted from the 1st"),
    "score": ("区分度", "Distinctiveness score"),
    "date": ("日期", "Date"),
}


def _t(key: str, lang: str) -> str:
    zh, en = _LABELS[key]
    return zh if lang == "zh" else en


def _check_lang(lang: str) -> None:
    if lang not in ("zh", "en"):
        raise ValueError(f"lang must be 'zh' or 'en', not {lang!r}")


def _char_width(ch: str) -> int:
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


_NO_LINE_START = set("，。、；：？！）》」』”’%％·—…,.;:?!)]}")
_NO_LINE_END = set("（《「『“‘([{")


def wrap_label(text: str, width: int = 16) -> str:
    """Wrap a label to lines of at most ``width`` columns (a Chinese character counts two).

    Latin words are not split; Chinese breaks between characters but not before closing
    punctuation (，。；》…) or after opening punctuation (《“（).

    Parameters
    ----------
    text : str
    width : int
        Columns per line.

    Returns
    -------
    str
        The label with ``\\n`` inserted.
    """
    text = str(text)
    if sum(_char_width(c) for c in text) <= width:
        return text
    tokens = re.findall(r"[A-Za-z0-9'’\-.,&/()%]+\s*|\s+|.", text)
    lines: list[str] = []
    line = ""
    for tok in tokens:
        w_line = sum(_char_width(c) for c in line)
        w_tok = sum(_char_width(c) for c in tok.rstrip())
        if line and w_line + w_tok > width and tok.strip():
            # carry characters over so that closing punctuation does not start the new line and
            # opening punctuation does not end the old one
            carry = tok.lstrip()
            while len(line) > 1 and (carry[0] in _NO_LINE_START or line[-1] in _NO_LINE_END):
                carry = line[-1] + carry
                line = line[:-1]
            lines.append(line.rstrip())
            line = carry
        else:
            line += tok
    if line.strip():
        lines.append(line.rstrip())
    return "\n".join(lines)


#: English names that pinyin would get wrong or that have a customary form; extend as needed.
REGION_NAMES_EN: dict[str, str] = {
    "北京市": "Beijing Municipality",
    "上海市": "Shanghai Municipality",
    "天津市": "Tianjin Municipality",
    "重庆市": "Chongqing Municipality",
    "陕西省": "Shaanxi Province",
    "内蒙古自治区": "Inner Mongolia Autonomous Region",
    "广西壮族自治区": "Guangxi Zhuang Autonomous Region",
    "西藏自治区": "Tibet Autonomous Region",
    "宁夏回族自治区": "Ningxia Hui Autonomous Region",
    "新疆维吾尔自治区": "Xinjiang Uygur Autonomous Region",
    "新疆生产建设兵团": "Xinjiang Production and Construction Corps",
    "香港特别行政区": "Hong Kong SAR",
    "澳门特别行政区": "Macao SAR",
    "朝阳区": "Chaoyang District",
    "呼和浩特市": "Hohhot City",
    "乌鲁木齐市": "Urumqi City",
    "拉萨市": "Lhasa City",
}
_ADMIN_SUFFIXES = (
    ("特别行政区", "Special Administrative Region"),
    ("自治区", "Autonomous Region"),
    ("自治州", "Autonomous Prefecture"),
    ("自治县", "Autonomous County"),
    ("自治旗", "Autonomous Banner"),
    ("新区", "New Area"),
    ("林区", "Forestry District"),
    ("地区", "Prefecture"),
    ("街道", "Subdistrict"),
    ("省", "Province"),
    ("市", "City"),
    ("区", "District"),
    ("县", "County"),
    ("旗", "Banner"),
    ("盟", "League"),
    ("镇", "Town"),
    ("乡", "Township"),
)
_HAS_CJK = re.compile(r"[\u3400-\u9fff]")
_COMPOSITE = re.compile(r"^(.{2,}?(?:省|市|自治区|自治州|地区|盟))(.{2,}(?:区|县|市|旗|镇|乡|街道))$")


def _pinyin(stem: str) -> str:
    from pypinyin import lazy_pinyin

    out = ""
    syllables = lazy_pinyin(stem)
    # 长 in a place name is read chang (长沙, 长阳, 长葛), which pypinyin does not always know
    syllables = ["chang" if ch == "长" else syl for ch, syl in zip(stem, syllables, strict=False)] + syllables[len(stem):]
    for i, syl in enumerate(syllables):
        if i and syl[:1] in ("a", "o", "e"):
            out += "'"
        out += syl
    return out[:1].upper() + out[1:]


_ETHNIC_GROUPS = {
    "朝鲜族": "Korean", "回族": "Hui", "藏族": "Tibetan", "苗族": "Miao", "彝族": "Yi", "壮族": "Zhuang",
    "土家族": "Tujia", "布依族": "Bouyei", "侗族": "Dong", "哈尼族": "Hani", "傣族": "Dai", "白族": "Bai",
    "蒙古族": "Mongol", "哈萨克族": "Kazakh", "哈萨克": "Kazakh", "维吾尔族": "Uygur", "满族": "Manchu",
    "瑶族": "Yao", "黎族": "Li", "羌族": "Qiang", "畲族": "She", "傈僳族": "Lisu", "景颇族": "Jingpo",
    "柯尔克孜": "Kirgiz", "仡佬族": "Gelao", "水族": "Shui", "纳西族": "Naxi", "佤族": "Va", "拉祜族": "Lahu",
}


def _single_region_en(name: str) -> str:
    if name in REGION_NAMES_EN:
        return REGION_NAMES_EN[name]
    for suffix, english in _ADMIN_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            stem = name[: -len(suffix)]
            groups: list[str] = []
            if suffix.startswith("自治"):
                peeled = True
                while peeled:
                    peeled = False
                    for zh, en in sorted(_ETHNIC_GROUPS.items(), key=lambda kv: -len(kv[0])):
                        if stem.endswith(zh) and len(stem) > len(zh):
                            groups.insert(0, en)
                            stem = stem[: -len(zh)]
                            peeled = True
                            break
            people = (" " + " and ".join(groups)) if groups else ""
            return f"{_pinyin(stem)}{people} {english}"
    return _pinyin(name)


@functools.lru_cache(maxsize=4096)
def region_label(name: str, lang: str = "zh") -> str:
    """A region's name as a label: the Chinese name, or pinyin with the English level.

    Parameters
    ----------
    name : str
        E.g. ``"惠东县"``; a name with its parent (``"广州市海珠区"``) is accepted too.
    lang : {"zh", "en"}

    Returns
    -------
    str
        ``"惠东县"`` in Chinese; ``"Huidong County"``, ``"Haizhu District"``, ``"Xuchang City"``,
        ``"Haizhu District, Guangzhou"`` in English. Names without Chinese characters are returned
        unchanged; exceptions to plain pinyin are in :data:`REGION_NAMES_EN`.
    """
    _check_lang(lang)
    name = str(name).strip()
    if lang == "zh" or not _HAS_CJK.search(name):
        return name
    if name in REGION_NAMES_EN:
        return REGION_NAMES_EN[name]
    m = _COMPOSITE.match(name)
    if m and m.group(1) not in REGION_NAMES_EN and not name.endswith(("自治区", "自治州", "特别行政区")):
        parent = _single_region_en(m.group(1))
        for _suffix, english in _ADMIN_SUFFIXES:
            if parent.endswith(" " + english):
                parent = parent[: -len(english) - 1]
                break
        return f"{_single_region_en(m.group(2))}, {parent}"
    return _single_region_en(name)


# --------------------------------------------------------------------------------------------- helpers
def _need(df: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{what} expects a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{what} needs columns {missing}; got {list(df.columns)}")
    if df.empty:
        raise ValueError(f"{what}: the table is empty, nothing to draw")


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


def _figure(figsize) -> Figure:
    """A new constrained-layout Figure that IPython shows inline."""
    show_inline()
    return Figure(figsize=figsize, layout="constrained")


def _new_figure(ax, figsize):
    if ax is None:
        fig = _figure(figsize)
        ax = fig.add_subplot()
        return fig, ax
    return ax.figure, ax


def _finish(fig, ax, title: str | None, source: str | None, fig_title: bool = False) -> Figure:
    if title:
        if fig_title or ax is None:
            fig.suptitle(title, x=0.01, ha="left")
        else:
            ax.set_title(title, loc="left", pad=10)
    if source:
        fig.supxlabel(source, x=0.01, ha="left", fontsize=7.5, color="#555555")
    return fig


_FALLBACK_COLORS = [mpl.colors.to_hex(c) for c in colormaps["tab10"].colors]


def _category_style(ids: Sequence[str], codebook: Codebook | None, lang: str) -> tuple[dict, dict]:
    """Colours and labels of codes; codes outside the codebook get a grey and their id."""
    colors, labels = {}, {}
    fallback = iter(_FALLBACK_COLORS * 3)
    for code in ids:
        if codebook is not None and code in codebook:
            colors[code] = codebook.color(code)
            labels[code] = codebook.name(code, lang)
        else:
            colors[code] = "#bdbdbd" if codebook is not None else next(fallback)
            labels[code] = str(code)
    return colors, labels


def _default_codebook(codebook: Codebook | None) -> Codebook:
    return codebook if codebook is not None else load_codebook()


def _default_measure_codebook(codebook: Codebook | None) -> Codebook | None:
    if codebook is not None:
        return codebook
    try:
        return load_codebook(config.MEASURE_CODEBOOK_PATH)
    except FileNotFoundError:
        return None


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


def _pct(x: float) -> str:
    return f"{x:.0%}"


def _wrapped(handle, width: int):
    handle.set_label(wrap_label(handle.get_label(), width))
    return handle


def _legend_outside(ax, handles, title=None, loc="upper left", anchor=(1.01, 1.0)):
    leg = ax.legend(handles=handles, title=title, loc=loc, bbox_to_anchor=anchor, borderaxespad=0.0,
                    handlelength=1.2, handleheight=1.0, alignment="left")
    return leg


# --------------------------------------------------------------------------------------------- 1 heatmap
@_themed
def heatmap_region_type(
    counts: pd.DataFrame,
    *,
    value: str = "share_of_region",
    codebook: Codebook | None = None,
    ax=None,
    lang: str = "zh",
    title: str | None = None,
    source: str | None = None,
    cmap: str = "Blues",
) -> Figure:
    """Heatmap of types (rows) × regions (columns): colour = share, each cell annotated with its count.

    Parameters
    ----------
    counts : pandas.DataFrame
        :func:`compare.analysis.type_counts` output: ``region, code, n`` and the ``value`` column
        (``share_of_region`` by default, or ``share_of_type``). Codes are drawn in table order
        (codebook order), regions in order of appearance.
    value : str
        The column coloured (a share in [0, 1]).
    codebook : Codebook, optional
        Names of the codes (default: the project codebook).
    ax, lang, title, source
        See the module docstring.

    Returns
    -------
    matplotlib.figure.Figure
    """
    _check_lang(lang)
    _need(counts, ["region", "code", "n", value], "heatmap_region_type")
    codebook = _default_codebook(codebook)
    codes = _unique(counts["code"])
    regions = _unique(counts["region"])
    _, labels = _category_style(codes, codebook, lang)
    table = counts.drop_duplicates(["code", "region"]).set_index(["code", "region"])
    shares = table[value].unstack("region").reindex(index=codes, columns=regions).astype(float)
    ns = table["n"].unstack("region").reindex(index=codes, columns=regions)
    region_names = [wrap_label(region_label(r, lang), 18) for r in regions]
    fig, ax = _new_figure(ax, (min(max(4.8, 1.25 * len(regions) + 3.6), 13.0), max(3.2, 0.46 * len(codes) + 1.9)))
    colormap = colormaps[cmap].with_extremes(bad="#f0f0f0")
    vmax = float(np.nanmax(shares.to_numpy())) if np.isfinite(shares.to_numpy()).any() else 1.0
    vmax = vmax if vmax > 0 else 1.0
    image = ax.imshow(np.ma.masked_invalid(shares.to_numpy()), cmap=colormap, vmin=0, vmax=vmax,
                      aspect="auto", interpolation="nearest")
    for i in range(len(codes)):
        for j in range(len(regions)):
            share, n = shares.iat[i, j], ns.iat[i, j]
            if pd.isna(n):
                continue
            rgba = colormap(share / vmax) if not pd.isna(share) else (0.94, 0.94, 0.94, 1)
            text = f"{int(n)}" if (pd.isna(share) or not n) else f"{int(n)}\n{_pct(share)}"
            ax.text(j, i, text, ha="center", va="center", fontsize=8.5, linespacing=1.1,
                    color=_text_color(rgba) if n else "#b0b0b0")
    ax.set_xticks(range(len(regions)), region_names)
    ax.set_yticks(range(len(codes)), [wrap_label(labels[c], 24) for c in codes])
    ax.tick_params(length=0)
    ax.xaxis.tick_top()
    if len(regions) > 7 or (max(len(r) for r in region_names) > 12 and len(regions) > 4):
        ax.tick_params(axis="x", labelrotation=40)
        for lab in ax.get_xticklabels():
            lab.set_ha("left")
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_xticks(np.arange(-0.5, len(regions), 1), minor=True)
    ax.set_yticks(np.arange(-0.5, len(codes), 1), minor=True)
    ax.grid(which="minor", color="white", linewidth=2)
    ax.tick_params(which="minor", length=0)
    bar = fig.colorbar(image, ax=ax, shrink=0.75, aspect=25, pad=0.02, format=PercentFormatter(1.0, decimals=0))
    bar.set_label(_t(value if value in _LABELS else "share_of_region", lang))
    bar.outline.set_visible(False)
    return _finish(fig, ax, title, source)


# --------------------------------------------------------------------------------------------- 2/5 bars
def _stacked_or_grouped(
    df, cat_col, value, stacked, colors, labels, ax, lang, axis_label, legend_title, annotate
):
    regions = _unique(df["region"])
    cats = _unique(df[cat_col])
    table = df.drop_duplicates([cat_col, "region"]).set_index([cat_col, "region"])
    values = table[value].unstack("region").reindex(index=cats, columns=regions).fillna(0).astype(float)
    ns = table["n"].unstack("region").reindex(index=cats, columns=regions).fillna(0).astype(int)
    is_share = value.startswith("share")
    y = np.arange(len(regions))
    present = [c for c in cats if values.loc[c].sum() > 0]
    if stacked:
        left = np.zeros(len(regions))
        totals = values.sum(axis=0).to_numpy()
        threshold = 0.045 * max(totals.max(), 1e-9)
        for cat in cats:
            widths = values.loc[cat].to_numpy()
            if not widths.any():
                continue
            bars = ax.barh(y, widths, left=left, height=0.62, color=colors[cat], edgecolor="white",
                           linewidth=0.8, label=labels[cat])
            if annotate:
                rgba = mpl.colors.to_rgba(colors[cat])
                for k, (w, n) in enumerate(zip(widths, ns.loc[cat].to_numpy(), strict=True)):
                    if w >= threshold and n > 0:
                        ax.text(left[k] + w / 2, y[k], str(n), ha="center", va="center", fontsize=8,
                                color=_text_color(rgba))
            left += widths
            del bars
        if annotate and "n_region" in df.columns and not is_share:
            n_region = df.drop_duplicates("region").set_index("region")["n_region"].reindex(regions)
            for k, total in enumerate(left):
                ax.text(total + 0.01 * max(left.max(), 1), y[k], f"n={int(n_region.iloc[k])}", va="center",
                        ha="left", fontsize=8, color="#555555")
    else:
        # each region shows only its non-zero categories (in category order), centred on its row
        k_max = max(int((values > 0).sum(axis=0).max()), 1)
        height = 0.84 / k_max
        for j, region in enumerate(regions):
            shown = [c for c in cats if values.at[c, region] > 0]
            for i, cat in enumerate(shown):
                yy = y[j] - height * len(shown) / 2 + height * (i + 0.5)
                w = values.at[cat, region]
                ax.barh(yy, w, height=height * 0.9, color=colors[cat])
                if annotate:
                    text = _pct(w) if is_share else str(ns.at[cat, region])
                    ax.text(w, yy, " " + text, va="center", ha="left", fontsize=7.5, color="#444444")
    ax.set_yticks(y, [wrap_label(region_label(r, lang), 18) for r in regions])
    ax.invert_yaxis()
    ax.set_xlabel(axis_label)
    longest = float(values.sum(axis=0).max()) if stacked else float(values.to_numpy().max())
    room = 1.12 if annotate and not (stacked and is_share) else 1.01
    ax.set_xlim(0, max(longest, 1e-9) * room)
    if is_share:
        ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(axis="x")
    ax.spines["left"].set_visible(False)
    ax.tick_params(axis="y", length=0)
    handles = [Patch(facecolor=colors[c], label=wrap_label(labels[c], 26)) for c in present]
    _legend_outside(ax, handles, title=legend_title)


@_themed
def bars_type_by_region(
    counts: pd.DataFrame,
    *,
    value: str = "n",
    stacked: bool = True,
    codebook: Codebook | None = None,
    annotate: bool = True,
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
    value : {"n", "share_of_region"}
        Bar length. Stacked shares only add up to 100% for ``codes="primary"`` tables.
    stacked : bool
        Stacked segments (True) or a group of bars per region (False).
    codebook : Codebook, optional
        Names and colours of the codes (default: the project codebook).
    annotate : bool
        Print counts on segments wide enough to hold them.
    ax, lang, title, source
        See the module docstring.

    Returns
    -------
    matplotlib.figure.Figure
    """
    _check_lang(lang)
    _need(counts, ["region", "code", "n", value], "bars_type_by_region")
    codebook = _default_codebook(codebook)
    codes = _unique(counts["code"])
    colors, labels = _category_style(codes, codebook, lang)
    regions = _unique(counts["region"])
    height = (0.55 * len(regions) + 1.6) if stacked else (0.25 * len(regions) * max(len(codes), 1) / 2 + 1.6)
    fig, ax = _new_figure(ax, (8.0, max(2.8, height)))
    _stacked_or_grouped(counts, "code", value, stacked, colors, labels, ax, lang,
                        _t("n_problems" if value == "n" else value if value in _LABELS else "share_of_region", lang),
                        _t("problem_type", lang), annotate)
    return _finish(fig, ax, title, source)


@_themed
def bars_measure_types(
    counts: pd.DataFrame,
    *,
    value: str = "share_of_region",
    stacked: bool = True,
    codebook: Codebook | None = None,
    annotate: bool = True,
    ax=None,
    lang: str = "zh",
    title: str | None = None,
    source: str | None = None,
) -> Figure:
    """Horizontal bars of measure types per region, one colour per measure type.

    Parameters
    ----------
    counts : pandas.DataFrame
        :func:`compare.analysis.measure_type_counts` output: ``region, measure_type, n`` and ``value``
        (``share_of_region`` by default, or ``n``).
    value : {"share_of_region", "n"}
    stacked : bool
        Stacked (True) or grouped (False).
    codebook : Codebook, optional
        The measure codebook (default ``config.MEASURE_CODEBOOK_PATH``; without it, ids and a
        default palette are used).
    annotate : bool
        Print counts on segments wide enough to hold them.
    ax, lang, title, source
        See the module docstring.

    Returns
    -------
    matplotlib.figure.Figure
    """
    _check_lang(lang)
    _need(counts, ["region", "measure_type", "n", value], "bars_measure_types")
    codebook = _default_measure_codebook(codebook)
    types = _unique(counts["measure_type"])
    colors, labels = _category_style(types, codebook, lang)
    regions = _unique(counts["region"])
    height = (0.55 * len(regions) + 1.6) if stacked else (0.25 * len(regions) * max(len(types), 1) / 2 + 1.6)
    fig, ax = _new_figure(ax, (8.0, max(2.8, height)))
    label = _t("n_measures", lang) if value == "n" else _t("share_of_region_measures", lang)
    _stacked_or_grouped(counts, "measure_type", value, stacked, colors, labels, ax, lang, label,
                        _t("measure_type", lang), annotate)
    return _finish(fig, ax, title, source)


# --------------------------------------------------------------------------------------------- 3 recurring
@_themed
def recurring_matrix(
    counts: pd.DataFrame,
    *,
    order: Sequence[str] | None = None,
    codebook: Codebook | None = None,
    max_size: float = 700.0,
    ax=None,
    lang: str = "zh",
    title: str | None = None,
    source: str | None = None,
) -> Figure:
    """Dot matrix of types × regions (UpSet style): dot area ∝ count, a line joins the regions sharing a type.

    Parameters
    ----------
    counts : pandas.DataFrame
        :func:`compare.analysis.type_counts` output: ``region, code, n``.
    order : sequence of str, optional
        The codes to show, top to bottom — e.g. ``recurring_types(...)["code"]`` to show recurring
        types ranked. Defaults to the table order (all codes).
    codebook : Codebook, optional
        Names and colours (default: the project codebook).
    max_size : float
        Marker area (points²) of the largest count.
    ax, lang, title, source
        See the module docstring.

    Returns
    -------
    matplotlib.figure.Figure
    """
    _check_lang(lang)
    _need(counts, ["region", "code", "n"], "recurring_matrix")
    codebook = _default_codebook(codebook)
    codes = list(order) if order is not None else _unique(counts["code"])
    if not codes:
        raise ValueError("recurring_matrix: no codes to draw")
    regions = _unique(counts["region"])
    colors, labels = _category_style(codes, codebook, lang)
    ns = (counts.drop_duplicates(["code", "region"]).set_index(["code", "region"])["n"].unstack("region")
          .reindex(index=codes, columns=regions).fillna(0).astype(int))
    max_n = max(int(ns.to_numpy().max()), 1)
    fig, ax = _new_figure(ax, (min(max(5.0, 1.15 * len(regions) + 4.2), 13.0), max(2.8, 0.5 * len(codes) + 1.7)))
    for i, code in enumerate(codes):
        row = ns.loc[code].to_numpy()
        hit = np.flatnonzero(row > 0)
        if len(hit) > 1:
            ax.plot([hit.min(), hit.max()], [i, i], color=colors[code], linewidth=2.2, alpha=0.55, zorder=1)
        ax.scatter(np.flatnonzero(row == 0), [i] * int((row == 0).sum()), s=14, color="#d9d9d9", zorder=2)
        for j in hit:
            size = max_size * row[j] / max_n
            ax.scatter([j], [i], s=size, color=colors[code], zorder=3, edgecolor="white", linewidth=0.8)
            inside = size >= 170
            ax.text(j if inside else j + 0.14, i, str(row[j]), ha="center" if inside else "left", va="center",
                    fontsize=8, color=_text_color(mpl.colors.to_rgba(colors[code])) if inside else "#333333",
                    zorder=4)
        ax.text(len(regions), i, f"{len(hit)}/{len(regions)}", ha="center", va="center", fontsize=8.5,
                color="#333333")
    for j in range(len(regions)):
        ax.axvline(j, color="#eeeeee", linewidth=0.8, zorder=0)
    ax.set_xlim(-0.6, len(regions) + 0.5)
    ax.set_ylim(len(codes) - 0.5, -0.5)
    ax.set_xticks(range(len(regions) + 1),
                  [wrap_label(region_label(r, lang), 18) for r in regions] + [_t("regions_covered", lang)])
    ax.xaxis.tick_top()
    ax.get_xticklabels()[-1].set_color("#666666")
    if len(regions) > 7:
        ax.tick_params(axis="x", labelrotation=40)
        for lab in ax.get_xticklabels():
            lab.set_ha("left")
    ax.set_yticks(range(len(codes)), [wrap_label(labels[c], 24) for c in codes])
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    return _finish(fig, ax, title, source)


# --------------------------------------------------------------------------------------------- 4 map
_MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*", "<", ">", "h", "p"]


@_themed
def problem_map(
    points: pd.DataFrame,
    *,
    codebook: Codebook | None = None,
    label: str | None = None,
    ax=None,
    lang: str = "zh",
    title: str | None = None,
    source: str | None = None,
) -> Figure:
    """2-D map of problems (e.g. an LSA/embedding projection): colour = type, marker = region.

    Parameters
    ----------
    points : pandas.DataFrame
        ``x, y, primary_code, region`` (one row per problem).
    codebook : Codebook, optional
        Names and colours (default: the project codebook).
    label : str, optional
        A column printed next to each point (e.g. ``"seq"``).
    ax, lang, title, source
        See the module docstring.

    Returns
    -------
    matplotlib.figure.Figure
    """
    _check_lang(lang)
    _need(points, ["x", "y", "primary_code", "region"], "problem_map")
    codebook = _default_codebook(codebook)
    present = set(points["primary_code"].dropna())
    codes = [c for c in codebook.ids if c in present] + sorted(present - set(codebook.ids))
    colors, labels = _category_style(codes, codebook, lang)
    regions = _unique(points["region"])
    markers = {r: _MARKERS[i % len(_MARKERS)] for i, r in enumerate(regions)}
    fig, ax = _new_figure(ax, (8.0, 5.6))
    for region in regions:
        sub = points[points["region"] == region]
        cols = [colors.get(c, "#bdbdbd") if not pd.isna(c) else "#bdbdbd" for c in sub["primary_code"]]
        ax.scatter(sub["x"], sub["y"], c=cols, marker=markers[region], s=58, edgecolor="white", linewidth=0.6,
                   alpha=0.92, zorder=3)
        if label is not None:
            for x, y, t in zip(sub["x"], sub["y"], sub[label], strict=True):
                ax.annotate(str(t), (x, y), xytext=(4, 3), textcoords="offset points", fontsize=7, color="#555555")
    handles = [Line2D([], [], linestyle="none", label=_t("problem_type", lang))]
    handles += [Line2D([], [], linestyle="none", marker="o", markersize=7, color=colors[c],
                       label=wrap_label(labels[c], 26)) for c in codes]
    handles += [Line2D([], [], linestyle="none", label=" "), Line2D([], [], linestyle="none", label=_t("region", lang))]
    handles += [Line2D([], [], linestyle="none", marker=markers[r], markersize=7, color="#555555",
                       label=wrap_label(region_label(r, lang), 26)) for r in regions]
    leg = _legend_outside(ax, handles)
    for text, handle in zip(leg.get_texts(), handles, strict=True):
        if handle.get_marker() in (None, "None", "none", ""):
            text.set_color("#555555")
            text.set_x(-18)
    ax.set_xlabel(f"{_t('dimension', lang)} 1")
    ax.set_ylabel(f"{_t('dimension', lang)} 2")
    ax.tick_params(labelbottom=False, labelleft=False, length=0)
    ax.margins(0.08)
    ax.grid(True)
    return _finish(fig, ax, title, source)


# --------------------------------------------------------------------------------------------- 6 concreteness
@_themed
def bars_concreteness(
    by_region: pd.DataFrame,
    *,
    flags: Sequence[str] | None = None,
    ax=None,
    lang: str = "zh",
    title: str | None = None,
    source: str | None = None,
) -> Figure:
    """Share of measures with each concreteness flag, one bar per region.

    Parameters
    ----------
    by_region : pandas.DataFrame
        :func:`compare.analysis.concreteness_by_region` output: ``region, flag, share`` and
        ``n_measures`` (shown in the legend).
    flags : sequence of str, optional
        Flags to show, top to bottom (default: those of the table, in its order).
    ax, lang, title, source
        See the module docstring.

    Returns
    -------
    matplotlib.figure.Figure
    """
    _check_lang(lang)
    _need(by_region, ["region", "flag", "share"], "bars_concreteness")
    flags = list(flags) if flags is not None else _unique(by_region["flag"])
    regions = _unique(by_region["region"])
    shares = (by_region.drop_duplicates(["flag", "region"]).set_index(["flag", "region"])["share"]
              .unstack("region").reindex(index=flags, columns=regions).astype(float))
    n_measures = {}
    if "n_measures" in by_region.columns:
        n_measures = by_region.drop_duplicates("region").set_index("region")["n_measures"].to_dict()
    colors = _region_colors(len(regions))
    fig, ax = _new_figure(ax, (8.0, max(3.2, 0.22 * len(flags) * len(regions) + 1.8)))
    y = np.arange(len(flags))
    height = 0.8 / len(regions)
    for i, region in enumerate(regions):
        offs = y - 0.4 + height * (i + 0.5)
        vals = shares[region].to_numpy()
        name = region_label(region, lang)
        if region in n_measures:
            name += f" (n={int(n_measures[region])})"
        ax.barh(offs, np.nan_to_num(vals), height=height * 0.9, color=colors[i], label=name)
        for yy, v in zip(offs, vals, strict=True):
            if not np.isnan(v):
                ax.text(v + 0.01, yy, _pct(v), va="center", ha="left", fontsize=7.5, color="#444444")
    names = [CONCRETENESS_FLAGS[f][0 if lang == "zh" else 1] if f in CONCRETENESS_FLAGS else f for f in flags]
    ax.set_yticks(y, [wrap_label(n, 28) for n in names])
    ax.invert_yaxis()
    if "concrete" in flags:
        k = flags.index("concrete")
        if k > 0:
            ax.axhline(k - 0.5, color="#999999", linewidth=0.8, linestyle=(0, (3, 2)))
    ax.set_xlim(0, 1.08)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel(_t("share_measures", lang))
    ax.grid(axis="x")
    ax.spines["left"].set_visible(False)
    ax.tick_params(axis="y", length=0)
    handles = [Patch(facecolor=colors[i], label=wrap_label(t.get_label(), 28))
               for i, t in enumerate(ax.containers)]
    _legend_outside(ax, handles, title=_t("region", lang))
    return _finish(fig, ax, title, source)


# --------------------------------------------------------------------------------------------- 7 gantt
@_themed
def timeline_gantt(
    timeline: pd.DataFrame,
    *,
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
        printed with ≈). Rows are drawn top to bottom in table order.
    ax, lang, title, source
        See the module docstring.

    Returns
    -------
    matplotlib.figure.Figure
    """
    _check_lang(lang)
    cols = ["region", "inspection_start", "inspection_end", "feedback_date", "published_date"]
    _need(timeline, cols, "timeline_gantt")
    tl = timeline.reset_index(drop=True)
    names = [region_label(r, lang) for r in tl["region"]]
    dup = pd.Series(names).duplicated(keep=False)
    if dup.any() and "report_id" in tl.columns:
        names = [f"{n} ({rid})" if d else n for n, d, rid in zip(names, dup, tl["report_id"], strict=True)]
    fig, ax = _new_figure(ax, (10.0, max(2.6, 0.62 * len(tl) + 1.7)))
    day = _t("days", lang)
    c_bar, c_feedback, c_pub = "#6baed6", "#d94801", "#238b45"

    def _date(v):
        return None if pd.isna(v) else mdates.date2num(pd.Timestamp(v).to_pydatetime())

    def _lag(row, col):
        if col not in tl.columns or pd.isna(row[col]):
            return None
        approx = bool(row.get(f"{col}_approx", False))
        return f"{'≈' if approx else ''}{int(row[col])}{day}"

    any_coarse = False
    for i, row in tl.iterrows():
        s, e, f, p = (_date(row[c]) for c in cols[1:])
        if s is not None and e is not None:
            coarse = any(str(row.get(f"{c}_precision")) in ("month", "year") for c in cols[1:3])
            any_coarse = any_coarse or coarse
            ax.barh(i, e - s, left=s, height=0.42, color=c_bar, zorder=2, edgecolor="white" if coarse else c_bar,
                    hatch="///" if coarse else None, linewidth=0)
            lag = _lag(row, "inspection_days")
            if lag:
                ax.annotate(lag, ((s + e) / 2, i - 0.21), xytext=(0, 1.5), textcoords="offset points",
                            ha="center", va="bottom", fontsize=7.5, color="#2b5d82")
        chain = [(e, f, "to_feedback_days"), (f, p, "to_publication_days")]
        for a, b, col in chain:
            if a is None or b is None:
                continue
            ax.plot([a, b], [i, i], color="#9a9a9a", linewidth=1, linestyle=(0, (3, 2)), zorder=1)
            lag = _lag(row, col)
            if lag:
                ax.annotate(lag, ((a + b) / 2, i), xytext=(0, 7), textcoords="offset points", ha="center",
                            va="bottom", fontsize=7.5, color="#444444")
        if f is not None:
            ax.plot([f], [i], marker="D", markersize=6.5, color=c_feedback, linestyle="none", zorder=3)
        if p is not None:
            ax.plot([p], [i], marker="o", markersize=7.5, color=c_pub, linestyle="none", zorder=3)
    ax.set_yticks(range(len(tl)), [wrap_label(n, 20) for n in names])
    ax.set_ylim(len(tl) - 0.45, -0.75)
    locator = mdates.AutoDateLocator(minticks=4, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m"))
    ax.grid(axis="x")
    ax.spines["left"].set_visible(False)
    ax.tick_params(axis="y", length=0)
    handles = [
        Patch(facecolor=c_bar, label=_t("inspection", lang)),
        Line2D([], [], marker="D", color=c_feedback, linestyle="none", markersize=6.5, label=_t("feedback", lang)),
        Line2D([], [], marker="o", color=c_pub, linestyle="none", markersize=7.5, label=_t("published", lang)),
    ]
    approx = any_coarse or any(
        bool(tl[c].any()) for c in tl.columns if c.endswith("_approx") and tl[c].dtype == bool
    )
    if approx:
        handles.append(Patch(facecolor=c_bar, edgecolor="white", hatch="///", label=_t("approx", lang)))
    _legend_outside(ax, [_wrapped(h, 24) for h in handles])
    ax.use_sticky_edges = False
    ax.margins(x=0.03)
    return _finish(fig, ax, title, source)


# --------------------------------------------------------------------------------------------- 8 terms
@_themed
def distinctive_terms(
    terms: pd.DataFrame,
    *,
    top_n: int = 10,
    ncols: int | None = None,
    color: str = "#4a6fa5",
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
    ax : sequence of matplotlib Axes, optional
        One Axes per region, in region order; by default a new figure with a grid of panels.
    lang, title, source
        See the module docstring (terms stay in Chinese in English figures).

    Returns
    -------
    matplotlib.figure.Figure
    """
    _check_lang(lang)
    _need(terms, ["region", "term", "score"], "distinctive_terms")
    regions = _unique(terms["region"])
    if ax is None:
        ncols = ncols or min(3, len(regions))
        nrows = math.ceil(len(regions) / ncols)
        shown = max(min(top_n, int(terms.groupby("region").size().max())), 1)
        fig = _figure((3.3 * ncols + 0.6, nrows * (0.26 * shown + 1.0) + 0.5))
        axes = list(np.atleast_1d(fig.subplots(nrows, ncols, sharex=True, squeeze=False)).ravel())
    else:
        axes = list(np.atleast_1d(ax).ravel())
        if len(axes) < len(regions):
            raise ValueError(f"distinctive_terms needs {len(regions)} axes, got {len(axes)}")
        fig = axes[0].figure
    xmax = float(terms["score"].max()) if len(terms) else 1.0
    rows = max(min(top_n, int(terms.groupby("region", sort=False).size().max())), 1)
    for k, region in enumerate(regions):
        a = axes[k]
        sub = terms[terms["region"] == region].sort_values("score", ascending=False, kind="stable").head(top_n)
        y = np.arange(len(sub))
        a.barh(y, sub["score"], color=color, height=0.7)
        a.set_yticks(y, [wrap_label(t, 24) for t in sub["term"]])
        a.set_ylim(rows - 0.5, -0.6)
        a.set_title(region_label(region, lang), loc="left", fontsize=10.5)
        a.grid(axis="x")
        a.spines["left"].set_visible(False)
        a.tick_params(axis="y", length=0)
        a.set_xlim(0, xmax * 1.05 if xmax > 0 else 1)
    for a in axes[len(regions):]:
        a.set_visible(False)
    ncols_eff = ncols or min(3, len(regions))
    last_row = axes[max(0, len(regions) - ncols_eff): len(regions)]
    for a in last_row:
        a.set_xlabel(_t("score", lang))
        a.tick_params(labelbottom=True)
    return _finish(fig, None, title, source, fig_title=True)
