"""Stage 3b (reading): the metadata of a parsed report — title, issuer, place, inspection, dates, counts.

Read from the canonical text and the structure :func:`compare.parse.parse` found in it: the title and the
opening paragraphs come from the lines before the first section (or the footer), the issuer and the
publication date from the footer. The issuer's place (province, city, region, admin level) comes from cpca.

:func:`read_metadata` returns a dict with the keys of :data:`META_KEYS`, in that order, and the warnings
(garbled or year-less dates, absurd declared counts, declared counts that differ from the parsed ones).
"""

from __future__ import annotations

import re
from functools import lru_cache

from .dates import DATE_TEXT, RANGE_RE, parse_date
from .grammar import DATE_LINE_RE, SIGNATURE_RE, Line, cn_number, lines
from .parse import ParsedReport

__all__ = ["META_KEYS", "MAX_DECLARED_COUNT", "read_metadata", "declared_counts"]

#: the keys of the metadata dict, in order (columns of the ``reports`` table)
META_KEYS = (
    "title", "issuer", "party_org_type", "region", "city", "province", "admin_level", "agency",
    "inspection_kind", "inspection_body", "inspection_start", "inspection_end", "feedback_date",
    "published_date", "declared_problem_count", "declared_measure_count",
)
#: a declared count above this is a misreading (no report lists that many problems or measures): null + warning
MAX_DECLARED_COUNT = 100_000

_TITLE_WORDS_RE = re.compile(r"(?:通报|情况|公告|公示|报告|公开)$")
_ISSUER_RE = re.compile(r"(中共[^，。；：\s“”]{2,40}?(?:党组|党委))")
_BODY_RE = re.compile(r"((?:中央|省委|市委|州委|盟委|县委|区委|旗委|市|县|区)?(?:第[一二三四五六七八九十\d]+)?(?:巡察|巡视)组)")
_FEEDBACK_RE = re.compile(rf"({DATE_TEXT})[^。；]{{0,60}}?反馈")
_COUNT = r"(\d+|[一二三四五六七八九十百两]+)"
#: (pattern, group of the problem count, group of the measure count)
_DECLARED = [
    (re.compile(rf"对应{_COUNT}个具体问题清单制定了?{_COUNT}[条项个]"), 1, 2),
    (re.compile(rf"{_COUNT}个(?:具体)?问题(?:细化)?(?:分解|细化)为{_COUNT}[个条项]"), 1, 2),
    (re.compile(rf"(?:反馈|指出)(?:的)?(?:\d+|[一二三四五六七八九十]+)?(?:个)?(?:方面)?{_COUNT}个(?:具体)?问题"), 1, None),
    (re.compile(rf"制定(?:了)?(?:具体)?(?:整改)?措施{_COUNT}[条项个]"), None, 1),
    (re.compile(rf"制定(?:了)?{_COUNT}[条项个](?:具体)?(?:整改)?措施"), None, 1),
]


def declared_counts(text: str) -> tuple[int | None, int | None]:
    """Problem and measure counts the report states about itself, e.g. “对应34个具体问题清单制定了95条具体整改措施”.

    Parameters
    ----------
    text : str
        Canonical report text.

    Returns
    -------
    (problems, measures)
        The numbers as written (``None`` where the report states none); :func:`read_metadata` nulls the
        absurd ones.
    """
    problems = measures = None
    for rx, gp, gm in _DECLARED:
        m = rx.search(text)
        if not m:
            continue
        if gp and problems is None:
            problems = cn_number(m.group(gp))
        if gm and measures is None:
            measures = cn_number(m.group(gm))
    return problems, measures


# --- where the metadata is ------------------------------------------------------------------------------
def _head_and_footer(text: str, parsed: ParsedReport) -> tuple[list[Line], list[Line]]:
    """The non-blank lines before the first section heading (or the footer), and the footer's lines."""
    footer_at = next((s.start for s in parsed.spans if s.kind == "footer"), len(text))
    head_end = next((s.start for s in parsed.spans if s.kind == "section_heading"), footer_at)
    nonblank = [ln for ln in lines(text) if not ln.blank]
    return [ln for ln in nonblank if ln.start < head_end], [ln for ln in nonblank if ln.start >= footer_at]


def _title(head: list[Line]) -> str | None:
    first = head[0].text if head else ""
    if first and "。" not in first and _TITLE_WORDS_RE.search(first) and len(first) <= 80:
        return first
    return None


def _issuer(text: str, title: str | None, footer: list[Line]) -> str | None:
    """The signature of the footer, else the 中共…党组 the title or the text names first."""
    issuer = None
    for ln in footer:
        if SIGNATURE_RE.match(ln.text) and not DATE_LINE_RE.match(ln.text):
            issuer = ln.text
    if issuer is None and title:
        m = _ISSUER_RE.match(title)
        issuer = m.group(1) if m else None
    if issuer is None:
        m = _ISSUER_RE.search(text)
        issuer = m.group(1) if m else None
    return issuer


def _party_org(issuer: str | None) -> tuple[str | None, str]:
    """The party organisation type (党组/党委) of an issuer, and the issuer without 中共 and that type."""
    if not issuer:
        return None, ""
    core = re.sub(r"^中共", "", issuer)
    org = re.search(r"(党组|党委)$", core)
    return (org.group(1) if org else None), re.sub(r"(党组|党委)$", "", core)


def _region(issuer_core: str) -> dict:
    """Province, city, region, admin level and agency from an issuer like 广州市海珠区民政局 (via cpca)."""
    return dict(_region_cached(issuer_core))


@lru_cache(maxsize=4096)
def _region_cached(issuer_core: str) -> dict:
    """:func:`_region`, once per issuer (cpca builds a DataFrame per call; reports of a bureau share an issuer)."""
    out = {"region": None, "city": None, "province": None, "admin_level": None, "agency": None}
    if not issuer_core:
        return out
    import cpca

    row = cpca.transform([issuer_core]).iloc[0]
    prov, city, dist, rest = (row.get("省"), row.get("市"), row.get("区"), row.get("地址"))

    def ok(v):
        return isinstance(v, str) and v

    out["province"] = prov if ok(prov) else None
    out["city"] = city if ok(city) else None
    if ok(dist):
        out["region"] = dist
        out["admin_level"] = "district" if dist.endswith("区") else "county"
    elif ok(city) and city in issuer_core:
        out["region"] = city
        out["admin_level"] = "city"
    elif ok(prov) and prov.rstrip("省市") in issuer_core:
        out["region"] = prov
        out["admin_level"] = "province"
    agency = rest if ok(rest) else None
    m = re.search(r"([^市县区省州旗]{0,8}(?:局|厅|部|委员会|委|办公室|办))$", issuer_core)
    if m:
        agency = m.group(1)
    out["agency"] = agency
    return out


# --- dates ----------------------------------------------------------------------------------------------
def _inspection_period(sent: str, year: int | None, out: dict, warnings: list[str]) -> tuple[str, int | None]:
    """Fill the inspection period from a sentence ``2024年3月至6月，…对…进行了巡察``; the rest of the sentence."""
    m = RANGE_RE.search(sent)
    if m and not re.search(r"反馈", sent[: m.start()]) and re.search(r"进行了|开展了|进驻|对", sent[m.end():]):
        s_iso, year = parse_date(m["a"], year)
        e_iso, year = parse_date(m["b"], year)
        if s_iso is None or e_iso is None:
            warnings.append(f"garbled inspection period {m.group(0)!r}")
        out["inspection_start"], out["inspection_end"] = s_iso, e_iso
        sent = sent[m.end():]
    return sent, year


def _feedback_date(sent: str, year: int | None, out: dict, warnings: list[str]) -> int | None:
    """Fill the feedback date from a sentence ``9月19日，…反馈…``; the year in force after it."""
    m = _FEEDBACK_RE.search(sent)
    if m:
        iso, year = parse_date(m.group(1), year)
        if iso is None:
            no_year = year is None and "年" not in m.group(1)
            warnings.append(f"date without a year: {m.group(1)!r}" if no_year else f"garbled feedback date {m.group(1)!r}")
        out["feedback_date"] = iso
    return year


def _dates(pre: str, warnings: list[str]) -> dict:
    """Inspection period and feedback date from the opening paragraph(s); a year carries over sentences."""
    out = {"inspection_start": None, "inspection_end": None, "feedback_date": None}
    year = None
    for sent in re.split(r"(?<=[。；])", pre):
        if out["inspection_start"] is None and re.search(r"巡察|巡视", sent):
            sent, year = _inspection_period(sent, year, out, warnings)
        if out["feedback_date"] is None and "反馈" in sent:
            year = _feedback_date(sent, year, out, warnings)
        for y in re.findall(r"(\d{4})年", sent):
            year = int(y)
    return out


def _published(footer: list[Line], warnings: list[str]) -> str | None:
    """The date line of the footer (the last one)."""
    published = None
    for ln in footer:
        if DATE_LINE_RE.match(ln.text):
            published, _ = parse_date(ln.text)
            if published is None:
                warnings.append(f"garbled publication date {ln.text!r}")
    return published


# --- declared counts ------------------------------------------------------------------------------------
def _checked_count(n: int | None, what: str, warnings: list[str]) -> int | None:
    if n is not None and n > MAX_DECLARED_COUNT:
        warnings.append(f"implausible declared count of {what}: {n}; set to null")
        return None
    return n


def _declared(text: str, parsed: ParsedReport, warnings: list[str]) -> dict:
    """The declared counts (absurd ones nulled) and warnings where they differ from the parsed counts."""
    dp, dm = declared_counts(text)
    dp, dm = _checked_count(dp, "problems", warnings), _checked_count(dm, "measures", warnings)
    n_problems = len(parsed.problems)
    n_measures = sum(len(p.measures) for p in parsed.problems)
    if dp is not None and dp != n_problems:
        warnings.append(f"declared {dp} problems but parsed {n_problems}")
    if dm is not None and dm != n_measures:
        warnings.append(f"declared {dm} measures but parsed {n_measures}")
    return {"declared_problem_count": dp, "declared_measure_count": dm}


# --- the stage ------------------------------------------------------------------------------------------
def read_metadata(text: str, parsed: ParsedReport) -> tuple[dict, list[str]]:
    """The metadata of one report.

    Parameters
    ----------
    text : str
        The canonical text (``Normalized.text``) that ``parsed`` was parsed from.
    parsed : ParsedReport
        :func:`compare.parse.parse` of ``text``.

    Returns
    -------
    (meta, warnings)
        ``meta`` has the keys of :data:`META_KEYS` in that order (``None`` where unknown); ``warnings`` lists
        garbled dates, absurd declared counts (above :data:`MAX_DECLARED_COUNT`, set to ``None``) and
        declared counts that differ from the parsed ones.
    """
    warnings: list[str] = []
    head, footer = _head_and_footer(text, parsed)
    title = _title(head)
    pre = "\n".join(ln.text for ln in head if ln.text != title)
    issuer = _issuer(text, title, footer)
    party_org_type, core = _party_org(issuer)
    meta = {"title": title, "issuer": issuer, "party_org_type": party_org_type, **_region(core)}
    kinds = re.findall(r"巡察|巡视", pre + (title or ""))
    meta["inspection_kind"] = ("巡察" if "巡察" in kinds else "巡视") if kinds else None
    body = _BODY_RE.search(pre)
    meta["inspection_body"] = body.group(1) if body else None
    meta.update(_dates(pre, warnings))
    meta["published_date"] = _published(footer, warnings)
    meta.update(_declared(text, parsed, warnings))
    return meta, warnings
