"""Bilingual names on the charts: codes, places, concreteness flags and axis labels; label width and wrapping.

Stage: presentation (DESIGN.md section 2), used by :mod:`compare.plots` and :mod:`compare.export`. Nothing
here draws or reads a file: the names of codes come from the codebook the caller passes in, the names of the
concreteness flags from :data:`compare.analysis.CONCRETENESS_FLAGS`. :func:`display_width` is the one
measure of a label's width (a Chinese character counts two columns), used to wrap chart labels and to size
spreadsheet columns.
"""

from __future__ import annotations

import functools
import re
import unicodedata

from .analysis import CONCRETENESS_FLAGS
from .codebook import Codebook, check_lang

__all__ = [
    "AXIS_LABELS",
    "REGION_NAMES_EN",
    "axis_label",
    "check_lang",
    "code_label",
    "display_width",
    "flag_label",
    "region_label",
    "shorten_label",
    "shorten_labels",
    "unbreakable_width",
    "wrap_label",
]


# --------------------------------------------------------------------------------------------- labels
#: Axis, legend and colour-bar labels of the charts: key → (Chinese, English).
AXIS_LABELS: dict[str, tuple[str, str]] = {
    "n_problems": ("问题数", "Number of problems"),
    "share_of_region": ("占本地区问题的比例", "Share of the region's problems"),
    "share_of_type": ("占该类问题的比例", "Share of the type's problems"),
    "n_measures": ("整改措施数", "Number of measures"),
    "share_of_region_measures": ("占本地区措施的比例", "Share of the region's measures"),
    "share_measures": ("措施占比", "Share of measures"),
    "problem_type": ("问题类型", "Problem type"),
    "measure_type": ("措施类型", "Measure type"),
    "untyped_measures": ("未归类", "No type"),
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


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[0] if lang == "zh" else pair[1]


def axis_label(key: str, lang: str) -> str:
    """Return the label :data:`AXIS_LABELS` holds for ``key`` in Chinese (``"zh"``) or English (``"en"``)."""
    return _pick(AXIS_LABELS[key], lang)


def code_label(code, codebook: Codebook | None, lang: str = "zh") -> str:
    """Return the name of a code in ``codebook``, or the code itself when the codebook does not hold it.

    Parameters
    ----------
    code : str
        A problem type or measure type id.
    codebook : compare.codebook.Codebook or None
        The codebook the code comes from (``None``: no names, the id is shown).
    lang : {"zh", "en"}
    """
    if codebook is not None and code in codebook:
        return codebook.name(code, lang)
    return str(code)


def flag_label(flag: str, lang: str = "zh") -> str:
    """Return the name of a concreteness flag (:data:`compare.analysis.CONCRETENESS_FLAGS`), else the flag."""
    return _pick(CONCRETENESS_FLAGS[flag], lang) if flag in CONCRETENESS_FLAGS else flag


@functools.lru_cache(maxsize=8192)
def _char_width(ch: str) -> int:
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def display_width(value) -> int:
    """Return how many columns ``value`` takes as text: wide and full-width characters count two.

    Parameters
    ----------
    value : object
        Shown as ``str(value)``; ``None`` takes no columns.

    Returns
    -------
    int
        E.g. 4 for ``"养老"``, 5 for ``"Hello"``.
    """
    text = "" if value is None else str(value)
    return sum(_char_width(c) for c in text)


_NO_LINE_START = set("，。、；：？！）》」』”’%％·—…,.;:?!)]}")
_NO_LINE_END = set("（《「『“‘([{")


#: What :func:`wrap_label` does not break: a run of Latin letters, digits and their punctuation.
_WORD = r"[A-Za-z0-9'’\-.,&/()%]+"
#: What joins the parts of a unit label (``鼓楼区（南京市） · 2023``): a line may end with it, none starts with it.
_SEPARATOR = r"\s+·\s+"


def unbreakable_width(text: str) -> int:
    """The widest piece of ``text`` that :func:`wrap_label` keeps on one line: a Latin word, else a Chinese
    character (2); 0 for an empty text."""
    text = str(text)
    return max([display_width(w) for w in re.findall(_WORD, text)] + [display_width(c) for c in text], default=0)


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
    if display_width(text) <= width:
        return text
    tokens = re.findall(_SEPARATOR + "|" + _WORD + r"\s*(?!·)|\s+|.", text)
    lines: list[str] = []
    line = ""
    for tok in tokens:
        w_line = display_width(line)
        w_tok = display_width(tok.rstrip())
        if line and re.fullmatch(_SEPARATOR, tok) and w_line + w_tok > width:
            lines.append(line.rstrip())  # a label's parts (鼓楼区（南京市） · 2023): the line break separates them
            line = ""
        elif line and w_line + w_tok > width and tok.strip():
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


def shorten_label(text: str, width: int = 40, sep: str = " · ") -> str:
    """Shorten a label to at most ``width`` columns (a Chinese character counts two) by cutting out the middle of
    its longest parts.

    A unit label is parts joined by ``sep`` (``鼓楼区（南京市） · 2023 · 民政局 · r0042_nanjing_gulou``): the longest
    part loses its middle to ``…`` first (a report id before the place), so that every part still shows its
    start and its end; a label that fits is returned unchanged. Charts shorten unit labels this way; the
    tables keep them whole.

    Parameters
    ----------
    text : str
    width : int
        Columns at most (at least 5).
    sep : str
        What joins the parts.

    Returns
    -------
    str
        E.g. ``"Xincheng District (Nanjing) · Minzhengju · r00…05-13"`` at ``width=48``.
    """
    return _shorten_parts(str(text), width, sep, keep_last=False)


def shorten_labels(labels, width: int = 40, sep: str = " · ") -> list[str]:
    """:func:`shorten_label` of each label, still telling apart the labels that differ.

    Two labels that only differ in a middle cut out (``… · r00003_…_2025-05-13`` and ``… · r00010_…``) are
    shortened again with their last part (what tells them apart) kept before the others (down to twelve
    columns each); labels that still coincide get `` #1``, `` #2`` … in their order.

    Parameters
    ----------
    labels : iterable of str
    width, sep
        As :func:`shorten_label`.

    Returns
    -------
    list of str
        In the order given; as many distinct values as ``labels`` has.
    """
    labels = [str(v) for v in labels]
    out = [_shorten_parts(v, width, sep, keep_last=False) for v in labels]
    for again in (lambda v: _shorten_parts(v, width, sep, keep_last=True), None):
        seen: dict[str, list[int]] = {}
        for i, v in enumerate(out):
            seen.setdefault(v, []).append(i)
        clashes = [ix for ix in seen.values() if len({labels[i] for i in ix}) > 1]
        for ix in clashes:
            for k, i in enumerate(ix, 1):
                out[i] = again(labels[i]) if again else f"{_cut_middle(out[i], width - 3 - len(str(k)))} #{k}"
    return out


def _shorten_parts(text: str, width: int, sep: str, keep_last: bool) -> str:
    """Cut the middle of the longest part until ``text`` fits, no part below eight columns (with ``keep_last``,
    the others first, down to twelve, then the last); when every part is short, the middle of the whole."""
    parts, width = text.split(sep), max(width, 5)
    over = display_width(text) - width
    while over > 0:
        floor, k = 8, max(range(len(parts)), key=lambda i: display_width(parts[i]))
        if keep_last and len(parts) > 1:
            k = max(range(len(parts) - 1), key=lambda i: display_width(parts[i]))
            floor = 12
            if display_width(parts[k]) <= floor:
                floor, k = 8, len(parts) - 1
        have = display_width(parts[k])
        if have <= floor:  # every part is short already: the label as a whole loses its middle
            return _cut_middle(text, width)
        parts[k] = _cut_middle(parts[k], max(have - over, floor))
        over = display_width(sep.join(parts)) - width
    return sep.join(parts)


def _cut_middle(text: str, width: int) -> str:
    """``text`` in at most ``width`` columns: its start (two thirds of the room) and its end, joined by ``…``."""
    if display_width(text) <= width:
        return text
    room = width - 1
    head = tail = ""
    for ch in text:
        if display_width(head) + _char_width(ch) > (2 * room) // 3:
            break
        head += ch
    for ch in reversed(text):
        if display_width(head) + display_width(tail) + _char_width(ch) > room:
            break
        tail = ch + tail
    return head.rstrip() + "…" + tail.lstrip()


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
    "中央": "Central",
}
_ADMIN_SUFFIXES = (
    ("特别行政区", "Special Administrative Region"),
    ("自治区", "Autonomous Region"),
    ("自治州", "Autonomous Prefecture"),
    ("自治县", "Autonomous County"),
    ("自治旗", "Autonomous Banner"),
    ("经济技术开发区", "Economic and Technological Development Zone"),
    ("高新技术产业开发区", "High-tech Zone"),
    ("经济开发区", "Economic Development Zone"),
    ("经开区", "Economic Development Zone"),
    ("高新区", "High-tech Zone"),
    ("开发区", "Development Zone"),
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
#: The English of each kind of unit, for a name that is its kind alone (高新区).
_ADMIN_KINDS = dict(_ADMIN_SUFFIXES)
_HAS_CJK = re.compile(r"[\u3400-\u9fff]")
_WITH_PARENT = re.compile(r"^(.+?)（(.+?)）$")
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


def _peel_ethnic_groups(stem: str) -> tuple[str, list[str]]:
    """``"宽城满族"`` → ``("宽城", ["Manchu"])``: the peoples named at the end of an autonomous unit."""
    groups: list[str] = []
    peeled = True
    while peeled:
        peeled = False
        for zh, en in sorted(_ETHNIC_GROUPS.items(), key=lambda kv: -len(kv[0])):
            if stem.endswith(zh) and len(stem) > len(zh):
                groups.insert(0, en)
                stem = stem[: -len(zh)]
                peeled = True
                break
    return stem, groups


def _single_region_en(name: str) -> str:
    if name in REGION_NAMES_EN:
        return REGION_NAMES_EN[name]
    zone = _ADMIN_KINDS.get(name)
    if zone and len(name) >= 3:  # a zone named by its kind alone: 高新区 is a High-tech Zone, not "Gao New Area"
        return zone
    for suffix, english in _ADMIN_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            stem, groups = name[: -len(suffix)], []
            if suffix.startswith("自治"):
                stem, groups = _peel_ethnic_groups(stem)
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
        ``"Haizhu District (Guangzhou)"``, ``"Chaoyang District (Beijing)"`` in English (also for the unit
        labels ``"海珠区（广州市）"`` and ``"鼓楼区（南京市） · 2023"`` → ``"Gulou District (Nanjing) · 2023"``): pinyin
        (pypinyin) with the English level, the parent without its level. Names without Chinese characters are
        returned unchanged; exceptions to plain pinyin are in :data:`REGION_NAMES_EN`.
    """
    check_lang(lang)
    name = str(name).strip()
    if lang == "zh" or not _HAS_CJK.search(name):
        return name
    if " · " in name:  # a unit label with its year or agency: 鼓楼区（南京市） · 2023
        return " · ".join(region_label(part, lang) for part in name.split(" · "))
    m = _WITH_PARENT.match(name)
    if m:  # a place label: 鼓楼区（南京市）
        return f"{region_label(m.group(1), lang)} ({_without_level(_single_region_en(m.group(2)))})"
    if name in REGION_NAMES_EN:
        return REGION_NAMES_EN[name]
    m = _COMPOSITE.match(name)
    if m and not name.endswith(("自治区", "自治州", "特别行政区")):  # 北京市朝阳区: the parent written in front
        return f"{_single_region_en(m.group(2))} ({_without_level(_single_region_en(m.group(1)))})"
    return _single_region_en(name)


def _without_level(english: str) -> str:
    """``"Nanjing City"`` → ``"Nanjing"``, ``"Beijing Municipality"`` → ``"Beijing"``: a parent without its level."""
    for level in ("Municipality", "SAR"):
        if english.endswith(" " + level):
            return english[: -len(level) - 1]
    for _suffix, level in _ADMIN_SUFFIXES:
        if english.endswith(" " + level):
            return english[: -len(level) - 1]
    return english


