"""Layer 0: Chinese dates in report text (helpers for ``compare.metadata`` and ``compare.extract``).

Hand-written because the forms are narrow and regular (``2024年8月20日``, ``9月19日``, ``2024年3月至6月``);
a general date library would accept far more than a report means. Chinese numerals (``三个方面``) are
:func:`compare.grammar.cn_number`.
"""

from __future__ import annotations

import datetime as _dt
import re

__all__ = ["DATE_RE", "DATE_TEXT", "RANGE_RE", "LOOSE_DATE_TEXT", "LOOSE_RANGE_RE", "iso_date", "parse_date",
           "parse_loose_date"]

#: a date with optional year and day: 2024年8月20日, 9月19日, 2024年3月
DATE_RE = re.compile(r"(?:(?P<y>\d{4})年)?(?P<m>\d{1,2})月(?:(?P<d>\d{1,2})日)?")
#: the text of a date with optional year and day (no groups), to build patterns with
DATE_TEXT = r"(?:\d{4}年)?\d{1,2}月(?:\d{1,2}日)?"
#: a range: 2023年3月27日至2023年6月30日, 2024年3月至6月, 7月2日至8月21日
RANGE_RE = re.compile(rf"(?P<a>{DATE_TEXT})\s*(?:至|到|—|－|-|~|～)\s*(?P<b>{DATE_TEXT})")


#: the dates of an inspection period as reports write them: also 上旬/中旬/下旬 (month precision) and 2024.3.1
LOOSE_DATE_TEXT = (r"(?:(?:\d{4}年)?\d{1,2}月(?:\d{1,2}日|[上中下]旬|初|底|末|中)?|"
                   r"\d{4}\s*[.．/-]\s*\d{1,2}(?:\s*[.．/-]\s*\d{1,2}(?!\d))?)")
#: a period with any separator: 2023年8月下旬至10月下旬, 2024.3.1-2024.5.30, 3月6日—4月16日
LOOSE_RANGE_RE = re.compile(rf"(?P<a>{LOOSE_DATE_TEXT})\s*(?:至|到|—+|－|–|-|~|～)\s*(?P<b>{LOOSE_DATE_TEXT})")
_DOTTED_RE = re.compile(r"(?P<y>\d{4})\s*[.．/-]\s*(?P<m>\d{1,2})(?:\s*[.．/-]\s*(?P<d>\d{1,2}))?")


def parse_loose_date(s: str, default_year: int | None = None) -> tuple[str | None, int | None]:
    """:func:`parse_date` that also reads ``2024.3.1`` and ``8月下旬`` (a 旬 or 初/底 gives the month only)."""
    m = _DOTTED_RE.fullmatch(s.strip())
    if m:
        year = int(m["y"])
        return iso_date(year, int(m["m"]), int(m["d"]) if m["d"] else None), year
    m = DATE_RE.search(s)
    if not m:
        return None, default_year
    year = int(m["y"]) if m["y"] else default_year
    return iso_date(year, int(m["m"]), int(m["d"]) if m["d"] else None), year


def iso_date(year: int | None, month: int, day: int | None) -> str | None:
    """Return ``YYYY-MM-DD`` (or ``YYYY-MM`` without a day); ``None`` when no year or the date is impossible."""
    if year is None:
        return None
    try:
        if day is None:
            _dt.date(year, month, 1)
            return f"{year:04d}-{month:02d}"
        return _dt.date(year, month, day).isoformat()
    except ValueError:
        return None


def parse_date(s: str, default_year: int | None = None) -> tuple[str | None, int | None]:
    """Parse one Chinese date expression.

    Parameters
    ----------
    s : str
        Text such as ``2024年8月20日`` or ``9月19日``.
    default_year : int, optional
        The year carried over from context when ``s`` omits it.

    Returns
    -------
    (iso, year)
        The ISO string (``None`` when garbled) and the year it used (for carrying on).
    """
    m = DATE_RE.search(s)
    if not m:
        return None, default_year
    year = int(m["y"]) if m["y"] else default_year
    iso = iso_date(year, int(m["m"]), int(m["d"]) if m["d"] else None)
    return iso, year
