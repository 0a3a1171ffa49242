"""Stage 4 (reading): mentions — numbers with units, money, percentages, dates and cited documents 《…》.

Each mention carries its offsets in the normalised text, so the ``mentions`` table can say which problem
and measure it sits in. Regular expressions, because the forms are regular (``共 30 人``, ``277万元``,
``70.8%``, ``2024年9月25日``, ``《惠东县民政局车辆管理制度》``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .dates import parse_date

#: counting units, longest first so 人次 wins over 人
UNITS = (
    "人次", "车次", "台次", "户次", "余人", "个人", "万人", "人", "家", "次", "个", "份", "件", "户", "条", "名",
    "所", "张", "台", "项", "场", "期", "起", "处", "座", "间", "床", "张床", "批", "轮", "篇", "天", "小时",
    "年度", "类", "组", "支", "辆", "册", "本", "万份", "平方米", "公里", "亩",
)
MONEY_UNITS = ("亿元", "万元", "千元", "元")

_NUM = r"\d+(?:\.\d+)?"
_RE_DOC = re.compile(r"《[^《》\n]{1,80}》")
# The leading (?=\d) changes no match (every form starts with a digit); it lets the scan skip other characters fast.
_RE_DATE = re.compile(r"(?=\d)(?:(?:\d{4}年)?\d{1,2}月\d{1,2}日|\d{4}年\d{1,2}月(?!\d{0,2}日)|\d{4}年(?!\d))")
_RE_PERCENT = re.compile(rf"{_NUM}\s*[%％]")
_RE_MONEY = re.compile(rf"({_NUM})\s*(余|多)?\s*({'|'.join(MONEY_UNITS)})")
_RE_COUNT = re.compile(
    rf"(?=\d)(?<![\d.第届])({_NUM})\s*(余|多)?\s*({'|'.join(sorted(UNITS, key=len, reverse=True))})"
)


@dataclass(frozen=True)
class Mention:
    """One mention in the normalised text.

    Attributes
    ----------
    kind : str
        ``number``, ``money``, ``percent``, ``date`` or ``document``.
    text : str
        The characters matched.
    value : float or str or None
        See :func:`find_mentions`.
    unit : str or None
        The counting unit of a number, ``元`` for money, ``%``, or ``day``/``month``/``year`` for a date.
    start, end : int
        Offsets in the normalised text.
    """

    kind: str  # number | money | percent | date | document
    text: str
    value: float | str | None
    unit: str | None
    start: int
    end: int


def _money_value(num: str, unit: str) -> float:
    scale = {"亿元": 1e8, "万元": 1e4, "千元": 1e3, "元": 1.0}[unit]
    return float(num) * scale


def find_mentions(text: str) -> list[Mention]:
    """All mentions in ``text``, in order, without overlaps (documents and dates win over numbers inside them).

    Parameters
    ----------
    text : str
        Normalised report text.

    Returns
    -------
    list of Mention
        ``value`` is a float for numbers, money (in 元) and percentages, an ISO string for dates (``None``
        when the year cannot be known), the title for documents.
    """
    found: list[Mention] = []
    taken = bytearray(len(text))

    def free(a: int, b: int) -> bool:
        return not any(taken[a:b])

    def take(m: Mention) -> None:
        found.append(m)
        taken[m.start : m.end] = b"\x01" * (m.end - m.start)

    for m in _RE_DOC.finditer(text):
        take(Mention("document", m.group(0), m.group(0)[1:-1], None, m.start(), m.end()))
    year = None
    for m in _RE_DATE.finditer(text):
        if not free(*m.span()):
            continue
        s = m.group(0)
        if re.fullmatch(r"\d{4}年", s):
            year = int(s[:4])
            take(Mention("date", s, s[:4], "year", m.start(), m.end()))
            continue
        iso, year = parse_date(s, year)
        take(Mention("date", s, iso, "day" if "日" in s else "month", m.start(), m.end()))
    for m in _RE_PERCENT.finditer(text):
        if free(*m.span()):
            take(Mention("percent", m.group(0), float(re.match(_NUM, m.group(0)).group(0)), "%", m.start(), m.end()))
    for m in _RE_MONEY.finditer(text):
        if free(*m.span()):
            take(Mention("money", m.group(0), _money_value(m.group(1), m.group(3)), "元", m.start(), m.end()))
    for m in _RE_COUNT.finditer(text):
        if free(*m.span()):
            unit = m.group(3)
            take(Mention("number", m.group(0), float(m.group(1)), unit, m.start(), m.end()))
    found.sort(key=lambda x: x.start)
    return found
