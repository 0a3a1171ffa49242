"""Layer 0: the heading grammar of rectification reports — numerals, heading and ordinal patterns, lines.

The one copy of the patterns that :mod:`compare.normalize` (which line breaks to keep) and
:mod:`compare.parse` (the structure) read the reports by:

* Chinese numerals: :data:`CN_NUM` and :func:`cn_number`;
* headings: sections ``一、…`` (:data:`SECTION_RE`), parts ``第一方面…`` (:data:`PART_RE`), parens ``（一）…``
  (:data:`PAREN_RE`), numbered problems ``1.`` ``1．`` ``1、`` ``（1）`` (:data:`NUMBER_RE`) and the wrappers of
  a problem statement ``针对“…”问题`` (:data:`TITLE_WRAPPERS`, :data:`PROBLEM_TEMPLATE_RE`);
* measures: ordinals ``一是/二是…`` (:data:`MEASURE_ORDINAL_RE`), ``整改情况：`` labels (:data:`FIX_RE`) and
  sub-areas ``在…方面：`` (:data:`SUBAREA_RE`);
* closing lines: date line, signature, contact (:data:`DATE_LINE_RE`, :data:`SIGNATURE_RE`, :data:`CONTACT_RE`);
* the loose line starts normalisation uses before the text is canonical (:data:`UNIT_START_RE`,
  :data:`HEADING_START_RE`);
* the line model: :class:`Line` and :func:`lines` (a text split at ``\\n`` with stripped offsets).

It knows no stage and imports nothing from the package.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "CN_NUM", "cn_number", "PARTY_ORG",
    "SECTION_RE", "PART_RE", "PAREN_RE", "NUMBER_RE", "TITLE_WRAPPERS", "PROBLEM_TEMPLATE_RE",
    "FIX_RE", "FIX_START_RE", "EFFECT_RE", "MEASURE_ORDINAL_RE", "MEASURE_NUMBER_RE", "SUBAREA_RE",
    "DATE_LINE_RE", "SIGNATURE_RE", "CONTACT_RE", "CHROME_RE", "META_DATE_RE", "UNIT_START_RE", "HEADING_START_RE",
    "Line", "lines",
]

# --- numerals -------------------------------------------------------------------------------------------
#: the Chinese digits headings and ordinals are numbered with
CN_NUM = "一二三四五六七八九十"
#: the party organisations that issue a report (an alternation, to be grouped by the pattern using it)
PARTY_ORG = "党组|党委|党工委|党总支"
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def cn_number(s: str) -> int | None:
    """Parse a small Chinese or Arabic numeral (``三`` → 3, ``十二`` → 12, ``二十三`` → 23, ``34`` → 34).

    Parameters
    ----------
    s : str
        The numeral, surrounding whitespace allowed.

    Returns
    -------
    int or None
        ``None`` when ``s`` is not a numeral.
    """
    s = s.strip()
    if s.isdigit():
        return int(s)
    if not s or any(c not in _CN_DIGITS and c not in "十百" for c in s):
        return None
    total, cur = 0, 0
    for c in s:
        if c == "百":
            total += (cur or 1) * 100
            cur = 0
        elif c == "十":
            total += (cur or 1) * 10
            cur = 0
        else:
            cur = _CN_DIGITS[c]
    return total + cur


# --- headings (on canonical, stripped lines) ------------------------------------------------------------
_PART = rf"第[{CN_NUM}]+(?:方面|部分)"
_FIX = r"整改(?:落实)?(?:情况|措施|进展(?:情况)?)[：]"
#: what may stand before a measure marker inside a paragraph: the start or the end of a sentence/clause
_CLAUSE_START = r"(?:(?<=^)|(?<=[。；：！？\n]))"

#: section ``一、总体情况`` — group 1 the numeral, group 2 the heading text
SECTION_RE = re.compile(rf"^([{CN_NUM}]+)、\s*(.*)$")
#: part ``第一方面问题，聚焦…`` — group 1 the numeral, group 2 the heading text after the part marker
PART_RE = re.compile(rf"^第([{CN_NUM}]+)(?:方面|部分)(?:问题|存在的问题)?[，：、。\s]*(.*)$")
#: paren heading ``（一）关于…方面`` — group 1 the numeral, group 2 the heading text
PAREN_RE = re.compile(rf"^[（(]([{CN_NUM}]+)[）)]\s*(.*)$")
#: numbered line ``1.`` ``1、`` ``（1）`` ``1）`` ``问题1.`` — group 1 or 2 the number, group 3 the rest of the line
NUMBER_RE = re.compile(r"^(?:问题\s*)?(?:(\d{1,3})\s*(?:[.、．](?!\d)|[)）])|[（(](\d{1,3})[）)])\s*(.*)$")
#: wrappers around a problem statement: 针对“…”问题 → … (group ``t``), tried in order
TITLE_WRAPPERS = (
    re.compile(r"^针对[“\"](?P<t>.+)[”\"](?:的)?问题$"),
    re.compile(r"^关于[“\"](?P<t>.+)[”\"](?:的)?问题(?:的整改(?:情况)?)?$"),
    re.compile(r"^针对(?P<t>.+?)(?:的)?问题$"),
    re.compile(r"^关于(?P<t>.+?)(?:的)?问题(?:的整改(?:情况)?)?$"),
    re.compile(r"^(?P<t>.{4,}?)的问题$"),  # （一）政治站位不高的问题: the statement, as with 关于…的问题
)
#: a statement worded as a problem: 针对…问题 / 关于…问题
PROBLEM_TEMPLATE_RE = re.compile(r"^(?:针对|关于).{2,}问题")

# --- measures -------------------------------------------------------------------------------------------
#: the ``整改情况：`` / ``整改措施：`` / ``整改进展情况：`` label, anywhere, with a status sentence after it
#: (``整改情况：已完成。``) taken into the label
FIX_RE = re.compile(rf"{_FIX}(?:\s*(?:已|基本|正在|持续|长期|立行立改)?(?:完成|整改到位|整改|推进|坚持)"
                    r"(?:整改|中)?(?:[。；](?=\s*(?:整改|\n|$|[一二三四五六七八九十]是|\d))|$|(?=\n)))?")
#: the ``整改成效：`` / ``整改效果：`` label: an outcome, not a measure
EFFECT_RE = re.compile(r"整改(?:成效|效果|结果)[：]")
#: the label at the start of a line
FIX_START_RE = re.compile(rf"^\s*{_FIX}")
#: a measure ordinal ``一是`` at the start of the text or after 。；：！？ or a line break — group 1 the numeral
MEASURE_ORDINAL_RE = re.compile(rf"{_CLAUSE_START}[ \t]*([{CN_NUM}]{{1,3}})是")
#: an Arabic-numbered measure ``1.`` ``1、`` ``（1）`` ``1）`` at the start of the text or of a clause — group 1
#: or 2 the number
MEASURE_NUMBER_RE = re.compile(rf"{_CLAUSE_START}[ \t]*(?:(\d{{1,2}})\s*(?:[.、．](?!\d)|[)）])|[（(](\d{{1,2}})[）)])")
#: a sub-area ``在…方面：`` grouping measures — group 1 the area
SUBAREA_RE = re.compile(r"(?:(?<=^)|(?<=[。；：\n]))[ \t]*在([^，。；：\n]{1,20}?)方面[：]")

# --- closing lines --------------------------------------------------------------------------------------
#: a line holding only a date ``2024年8月20日``
DATE_LINE_RE = re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日$")
#: a signature line ``中共某某县民政局党组``
SIGNATURE_RE = re.compile(r"^(?:中共)?[^，。；：\s]{2,40}(?:党组|党委|民政局|民政厅|委员会|局|厅)$")
#: a contact line (phone, mail, post box, the invitation to report)
CONTACT_RE = re.compile(r"(?:联系方式|联系电话|电子邮箱|邮政编码|邮政信箱|欢迎广大干部群众|欢迎广大党员干部)")

# --- web chrome ----------------------------------------------------------------------------------------
#: a line of web chrome: breadcrumbs, toolbars, the page's metadata line or table, a document number, a URL,
#: site footers (matched at the start of a line, or as a metadata label anywhere in a short line)
CHROME_RE = re.compile(
    r"^(?:[-•·*]\s*)?(?:当前位置|您当前的位置|您的位置|所在位置|首页\s*[>＞|｜/]|返回上一级|返回首页|字号|字体|【|\[|"
    r"Loading|无障碍|长者模式|关怀版|打印|关闭|分享到|扫一扫|收藏|https?://|www\.|主办单位|承办单位|版权所有|"
    r"网站标识码|上一篇|下一篇|相关链接|责任编辑|编辑[：:]|作者[：:]|来源[：:]|信息来源|发布(?:时间|日期|机构)|"
    r"信息时间|成文日期|索引号|主题分类|文号[：:]|点击|阅读次数|浏览次数|[^，。\s]{1,12}〔\d{4}〕\d+号$)"
    r"|(?:发布时间|发布日期|发表时间|信息时间|成文日期|点击数|阅读次数|浏览次数|浏览量|访问量|字号|字体大小)[：:]?"
)
#: a metadata label and the date after it: 发布时间：2024-05-17 09:30, 发布日期:2023年06月02日, 成文日期：…
META_DATE_RE = re.compile(
    r"(?P<label>发布时间|发布日期|发表时间|信息时间|成文日期|日期|时间)[：:]?\s*"
    r"(?P<y>\d{4})\s*[-./年]\s*(?P<m>\d{1,2})\s*[-./月]\s*(?P<d>\d{1,2})"
)

# --- loose line starts (normalisation: the text is not canonical yet) -----------------------------------
#: a line start that opens a new structural unit: a broken line is never joined onto it
UNIT_START_RE = re.compile(
    rf"^(?:[{CN_NUM}]+[、是]|[（(][{CN_NUM}\d]+[）)]|(?:问题\s*)?\d{{1,3}}\s*[.．、)）]|整改成效|"
    rf"{_PART}|整改情况|整改措施|整改进展|在[^，。：:]{{1,20}}方面[：:]|"
    r"\d{4}\s*年\s*\d{1,2}\s*月(?:\s*\d{1,2}\s*日)?\s*$|中共\S{2,30}(?:党组|党委)\s*$|联系方式|欢迎)"
)
#: a line start that makes the line a heading: ``一、`` ``（一）`` ``（1）`` ``第一方面``
HEADING_START_RE = re.compile(rf"^(?:[{CN_NUM}]+、|[（(][{CN_NUM}\d]+[）)]|第[{CN_NUM}]+方面)")


# --- the line model -------------------------------------------------------------------------------------
@dataclass
class Line:
    """One line of a text: its index, the ``[start, end)`` of its stripped content, and that content."""

    i: int
    start: int
    end: int
    text: str  # stripped

    @property
    def blank(self) -> bool:
        """Whether the line holds only whitespace."""
        return not self.text


def lines(text: str) -> list[Line]:
    """Split ``text`` at ``\\n`` into :class:`Line` objects whose offsets point into ``text``.

    Parameters
    ----------
    text : str
        Usually the canonical text of :func:`compare.normalize.normalize`.

    Returns
    -------
    list of Line
        One per ``\\n``-separated line (so ``len(text.split("\\n"))`` of them), blank ones included.
    """
    out, pos = [], 0
    for i, raw in enumerate(text.split("\n")):
        lead = len(raw) - len(raw.lstrip())
        s = raw.strip()
        out.append(Line(i, pos + lead, pos + lead + len(s), s))
        pos += len(raw) + 1
    return out
