"""Stage 3b (reading): the metadata of a parsed report — title, issuer, place, inspection, dates, counts.

Read from the canonical text and the structure :func:`compare.parse.parse` found in it, for the family of
pages LAYOUTS.md describes:

* the title and the page's own dates come from :func:`compare.recognize.front` (web chrome skipped, a title
  printed twice or broken over two lines is one title, a date on the title line is the publication date);
* the issuer from the title (``中共…党组关于…``), else the signature, else a cited plan title
  (``《中共…党组关于落实…的整改方案》``), else the opening (``对县林业局党组进行了巡察``); joint issuers
  (``中共某市委 某市人民政府``) are kept whole, the party organisation type read from the first;
* the party organisation type: 党组 / 党委 (also ``…局委员会``) / 党工委 / 党总支, or 县委 / 区委 / 市委 / 州委 /
  省委 for a territorial committee (``中共某县委员会``);
* the place by :func:`compare.places.resolve_place` (cpca, checked against what is written; ambiguous names
  settled from the rest of the text or left empty with a warning);
* the inspection: the team in every form (第三巡察组, 巡察六组, 第四轮巡察一组, 机动巡察组, 专项巡察组, 巡视组),
  the period with any separator (上旬/中旬/下旬 at month precision), years inherited as a reader would, the
  feedback date being the date of the 反馈 (not a later meeting or deadline); a garbled date is null with
  a warning;
* the publication date: the page's 发布时间/发布日期/信息时间, else the date on the title line, else the
  signature's date, else the page's 成文日期;
* the declared counts in the phrasings reports use (Arabic or Chinese numerals), every count phrase kept in
  ``declared_counts``; when several counts of problems compete the finest (``具体问题``) is taken and a
  warning says so; absurd numbers are null with a warning.

:func:`read_metadata` returns a dict with the keys of :data:`META_KEYS`, in that order, and the warnings.
"""

from __future__ import annotations

import re

from .dates import LOOSE_DATE_TEXT, LOOSE_RANGE_RE, parse_date, parse_loose_date
from .grammar import CHROME_RE, CONTACT_RE, DATE_LINE_RE, PARTY_ORG, Line, cn_number, lines
from .parse import ParsedReport
from .places import place_in_text, resolve_place
from .recognize import Front, add_page_dates, front

__all__ = ["META_KEYS", "MAX_DECLARED_COUNT", "read_metadata", "declared_counts", "count_phrases"]

#: the keys of the metadata dict, in order (columns of the ``reports`` table)
META_KEYS = (
    "title", "issuer", "party_org_type", "region", "city", "province", "adcode", "region_label", "admin_level",
    "agency", "inspection_kind", "inspection_body", "inspection_start", "inspection_end", "feedback_date",
    "published_date", "declared_problem_count", "declared_measure_count", "declared_counts", "meta_sources",
)
#: a declared count above this is a misreading (no report lists that many problems or measures): null + warning
MAX_DECLARED_COUNT = 100_000

_ORG_END = rf"(?:{PARTY_ORG}|委员会|[省市县区州旗盟]委)"
_ISSUER_RE = re.compile(rf"(中共[^，。；：\s“”《》]{{2,40}}?{_ORG_END})(?![^，。；：\s“”《》]{{0,3}}{_ORG_END})")
_JOINT_RE = re.compile(r"^(中共[^，。；\s]{2,20}?[省市县区州旗盟]委)([^，。；\s]{2,20}人民政府)$")
_SIGNATURE_ORG_RE = re.compile(rf"^(?:中共)?[^，。；：\s]{{2,40}}(?:{_ORG_END}|人民政府|局|厅|部)$")
_CITED_RE = re.compile(rf"《(中共[^《》，。]{{2,40}}?(?:{PARTY_ORG}|委员会))关于")
_INSPECTED_RE = re.compile(rf"对((?:中共)?[^，。；、\s“”]{{2,30}}?(?:{PARTY_ORG}))(?:进行|开展|实施)")
_NUM = "[一二三四五六七八九十\\d]+"
_BODY_RE = re.compile(
    r"((?:中央|自治区党委|省委|市委|州委|盟委|县委|区委|旗委)"
    rf"(?:第{_NUM}轮)?(?:第{_NUM})?(?:(?:(?!巡察|巡视)[^，。；\s对向]){{2,30}}?专项|机动)?(?:巡察|巡视)(?:{_NUM})?组)"
)
_NUMBER = r"(\d+|[零〇一二两三四五六七八九十百千]+)"
_NOT_TOTAL_BEFORE = re.compile(r"(?:领办|已完成|完成|销号|剩余|其中|已|涉及|每|逐)\S{0,2}$")
def _count_matches(text: str) -> tuple[list[re.Match], list[re.Match]]:
    """The problem-count and measure-count phrases of ``text`` that state totals."""
    problems = [m for m in re.finditer(rf"{_NUMBER}[个项条](具体)?(?:反馈)?问题", text)
                if not _NOT_TOTAL_BEFORE.search(text[max(0, m.start() - 6):m.start()])]
    measures = list(re.finditer(rf"{_NUMBER}[条项个](?:具体)?(?:的)?(?:整改)?措施|(?:整改)?措施{_NUMBER}[条项]", text))
    return problems, measures


def declared_counts(text: str) -> tuple[int | None, int | None]:
    """Problem and measure counts the report states about itself, e.g. “对应34个具体问题清单制定了95条具体整改措施”.

    Of several problem counts (``4个方面18个问题34个具体问题``) the finest, the ``具体问题``, is taken; a subset
    (``主动领办13项反馈问题``, ``41个已完成整改``) is no total; tasks and lists (``22小项整改任务``,
    ``60项整改落实责任清单``) are no measures, unless problems are ``分解为`` them.

    Parameters
    ----------
    text : str
        Canonical report text (:func:`read_metadata` passes the opening).

    Returns
    -------
    (problems, measures)
        The numbers as written (``None`` where the report states none); :func:`read_metadata` nulls the
        absurd ones.
    """
    split = re.search(rf"{_NUMBER}个(?:具体)?问题(?:细化)?(?:分解|细化)为{_NUMBER}[个条项]", text)
    if split:
        return cn_number(split.group(1)), cn_number(split.group(2))
    pm, mm = _count_matches(text)
    fine = [m for m in pm if m.group(2)]
    problems = cn_number((fine or pm)[0].group(1)) if pm else None
    measures = cn_number(next(g for g in mm[0].groups() if g)) if mm else None
    return problems, measures


def count_phrases(text: str) -> list[str]:
    """Every count phrase of ``text`` as written: ``4个方面``, ``34个具体问题``, ``95条具体整改措施``, ``60项…清单``."""
    rx = rf"{_NUMBER}(?:个|条|项|大类|小项|类)(?:具体|反馈|整改)*(?:方面|问题|措施|任务|事项|责任清单|清单)"
    return [m.group(0) for m in re.finditer(rf"{rx}|(?:整改)?措施{_NUMBER}[条项]", text)]


# --- where the metadata is ------------------------------------------------------------------------------
def _head_and_footer(text: str, parsed: ParsedReport, fr: Front) -> tuple[list[Line], list[Line]]:
    """The lines of the opening (before the first section heading, chrome and title left out) and of the end
    (the signature and date lines at the end of the text, trailing site chrome skipped)."""
    footer_at = next((s.start for s in parsed.spans if s.kind == "footer"), len(text))
    head_end = next((s.start for s in parsed.spans if s.kind == "section_heading"), footer_at)
    nonblank = [ln for ln in lines(text) if not ln.blank]
    skip = fr.chrome_lines | fr.title_lines
    head = [ln for ln in nonblank if ln.start < head_end and ln.i not in skip]
    end: list[Line] = []
    for ln in reversed(nonblank[-12:]):
        t = ln.text
        if CHROME_RE.search(t) and len(t) <= 160 and not end:
            continue
        if DATE_LINE_RE.match(t) or (_SIGNATURE_ORG_RE.match(t) and len(t) <= 40) or (CONTACT_RE.search(t) and len(t) <= 400):
            end.insert(0, ln)
            continue
        break
    return head, end


def _signature(end: list[Line]) -> str | None:
    """The issuer signed at the end: one line, or a joint signature over two lines."""
    orgs = [ln.text for ln in end if _SIGNATURE_ORG_RE.match(ln.text) and not DATE_LINE_RE.match(ln.text)]
    return " ".join(orgs[-2:]) if len(orgs) >= 2 and orgs[-2].startswith("中共") else (orgs[-1] if orgs else None)


def _joint(lead: str) -> str | None:
    """Joint issuers at the head of a title, space or none between them: ``中共某市委 某市人民政府``,
    ``中共某区卫生健康局党组中共某区红十字会党组``."""
    joint = _JOINT_RE.match(lead)
    if joint:
        return f"{joint.group(1)} {joint.group(2)}"
    parts = re.findall(r"中共.+?(?=中共|$)", lead)
    if len(parts) >= 2 and all(re.search(rf"{_ORG_END}$", p) for p in parts):
        return " ".join(parts)
    return None


def _issuer(title: str | None, pre: str, end: list[Line], wider: str = "") -> tuple[str | None, str | None]:
    """The title's issuer (``中共…党组关于…``), else the signature, a cited plan title (in the opening, else in
    ``wider``: the organisation part before the first problem), or the inspected unit; and where it was found
    (``title``, ``signature``, ``cited plan title``, ``body``)."""
    if title and "关于" in title:
        lead = title.split("关于")[0]
        joint = _joint(lead)
        if joint:
            return joint, "title"
        if re.search(rf"{_ORG_END}$", lead) and len(lead) >= 4:
            return lead, "title"
    sig = _signature(end)
    if sig:
        return sig, "signature"
    for rx, where, text in ((_CITED_RE, "cited plan title", pre), (_INSPECTED_RE, "body", pre),
                            (_CITED_RE, "cited plan title", wider)):
        m = rx.search(text)
        if m and not m.group(1).startswith(("我", "本")):
            return m.group(1), where
    return None, None


#: the end of an agency's own name: before a trailing 委员会 it makes that 委员会 the party committee
#: (``…交通运输局委员会`` = its 党委); otherwise the 委员会 is part of the name (``…卫生健康委员会``)
_AGENCY_END_RE = re.compile(r"(?:局|厅|部|办|委|院|会|社|中心|集团|公司|学校|大学|馆|站|所|队)$")


def _party_org(issuer: str | None, pre: str = "") -> tuple[str | None, str, bool]:
    """The party organisation type, the issuer without 中共 and that type, and whether it is territorial.

    An issuer named by its agency only (``中共某市卫生健康委员会``) takes the type the body gives that agency
    (``…委员会党组``), else 党委."""
    if not issuer:
        return None, "", False
    first = issuer.split(" ")[0]
    core = re.sub(r"^中共", "", first)
    m = re.search(rf"({PARTY_ORG})$", core)
    if m:
        return m.group(1), core[: m.start()], False
    m = re.search(r"([省市县区州旗盟])(?:委员会|委)$", core)
    if m:
        return f"{m.group(1)}委", core[: m.start() + 1], True
    if core.endswith("委员会"):
        base = core[: -len("委员会")]
        if _AGENCY_END_RE.search(base):
            return "党委", base, False
        said = re.search(rf"{re.escape(core)}(党组|党委)", pre)
        return (said.group(1) if said else "党委"), core, False
    return None, core, False


# --- dates ----------------------------------------------------------------------------------------------
def _next_year(iso: str | None, year: int | None, prev: str | None, given: str) -> tuple[str | None, int | None]:
    """A year-less date earlier in the calendar than the one before it belongs to the next year."""
    if iso and prev and "年" not in given and not re.match(r"\d{4}", given) and iso[:7] < prev[:7]:
        year = (year or 0) + 1
        return parse_loose_date(given, year)[0], year
    return iso, year


def _inspection_period(sent: str, year: int | None, out: dict, warnings: list[str]) -> tuple[str, int | None]:
    """Fill the inspection period from a sentence ``2024年3月至6月，…对…进行了巡察``; the rest of the sentence."""
    m = LOOSE_RANGE_RE.search(sent)
    if m and not re.search(r"反馈", sent[: m.start()]) and re.search(r"进行了|开展了|进驻|对|进行", sent[m.end():]):
        s_iso, year = parse_loose_date(m["a"], year)
        e_iso, year = parse_loose_date(m["b"], year)
        e_iso, year = _next_year(e_iso, year, s_iso, m["b"])
        if (s_iso is None or e_iso is None) and year is None and "年" not in m.group(0):
            warnings.append(f"inspection period without a year: {m.group(0)!r}")
        elif s_iso is None or e_iso is None:
            warnings.append(f"garbled inspection period {m.group(0)!r}")
        out["inspection_start"], out["inspection_end"] = s_iso, e_iso
        sent = sent[m.end():]
    elif _GLUED_RANGE_RE.search(sent):
        warnings.append(f"garbled inspection period {_GLUED_RANGE_RE.search(sent).group(0)!r}")
    return sent, year


#: a period whose 年/月 were lost in extraction: ``2024717日至830日``
_GLUED_RANGE_RE = re.compile(r"\d{5,8}日?[至到—－-]+\d{2,4}日?")


_FEEDBACK_DATE_RE = re.compile(rf"({LOOSE_DATE_TEXT}|(?<![\d月])\d{{1,4}}日)")


def _feedback_date(sent: str, year: int | None, out: dict, warnings: list[str]) -> int | None:
    """Fill the feedback date: the last date before the 反馈 of a sentence (not a later meeting or deadline)."""
    k = sent.find("反馈")
    dates = [m for m in _FEEDBACK_DATE_RE.finditer(sent[:k]) if k - m.end() <= 60]
    if not dates:
        return year
    given = dates[-1].group(1)
    iso, year = parse_loose_date(given, year) if "月" in given or "." in given else (None, year)
    iso, year = _next_year(iso, year, out.get("inspection_end"), given)
    if iso is None:
        no_year = year is None and "年" not in given and "月" in given
        warnings.append(f"date without a year: {given!r}" if no_year else f"garbled feedback date {given!r}")
    out["feedback_date"] = iso
    return year


def _dates(pre: str, warnings: list[str]) -> dict:
    """Inspection period and feedback date from the opening paragraph(s); a year carries over sentences."""
    out = {"inspection_start": None, "inspection_end": None, "feedback_date": None}
    year = None
    done = False
    for sent in re.split(r"(?<=[。；])", pre):
        if out["inspection_start"] is None and re.search(r"巡察|巡视", sent):
            sent, year = _inspection_period(sent, year, out, warnings)
        if not done and "反馈" in sent:
            year = _feedback_date(sent, year, out, warnings)
            done = out["feedback_date"] is not None or any("feedback" in w or "without a year" in w for w in warnings)
        for y in re.findall(r"(\d{4})年", sent):
            year = int(y)
    return out


def _published(fr: Front, end: list[Line], warnings: list[str]) -> tuple[str | None, str | None]:
    """The page's publication date, else the title line's date, the signature's date, the page's 成文日期;
    and where it was found (``metadata line``, ``title``, ``signature``)."""
    if fr.meta_dates.get("published"):
        return fr.meta_dates["published"], "metadata line"
    if fr.title_date:
        return fr.title_date, "title"
    signed = None
    for ln in end:
        if DATE_LINE_RE.match(ln.text):
            signed, _ = parse_date(ln.text)
            if signed is None:
                warnings.append(f"garbled publication date {ln.text!r}")
    if signed:
        return signed, "signature"
    written = fr.meta_dates.get("written")
    return written, "metadata line" if written else None


# --- declared counts ------------------------------------------------------------------------------------
def _checked_count(n: int | None, what: str, warnings: list[str]) -> int | None:
    if n is not None and n > MAX_DECLARED_COUNT:
        warnings.append(f"implausible declared count of {what}: {n}; set to null")
        return None
    return n


#: how far a report without problems is read for its declared counts (characters)
_COUNT_WINDOW = 3000


def _before_problems(text: str, parsed: ParsedReport, pre: str) -> str:
    """Where a report states its counts: the opening and the organisation part up to the first problem
    (``市委巡察组反馈意见提出了11项问题`` often stands in section 一), else the first pages."""
    end = parsed.problems[0].start if parsed.problems else min(len(text), _COUNT_WINDOW)
    return text[:end] if len(text[:end]) >= len(pre) else pre


def _declared(pre: str, parsed: ParsedReport, warnings: list[str]) -> dict:
    """The declared counts (absurd ones nulled), all count phrases, and warnings: competing problem counts,
    counts that differ from the parsed ones."""
    dp, dm = declared_counts(pre)
    pm, _ = _count_matches(pre)
    if len({m.group(0) for m in pm}) > 1 and dp is not None:
        why = "the finest (具体问题)" if any(m.group(2) for m in pm) else "the first"
        warnings.append(f"several problem counts declared ({', '.join(m.group(0) for m in pm)}): {dp} taken, {why}")
    dp, dm = _checked_count(dp, "problems", warnings), _checked_count(dm, "measures", warnings)
    n_problems = len(parsed.problems)
    n_measures = sum(len(p.measures) for p in parsed.problems)
    if dp is not None and n_problems and dp != n_problems:
        warnings.append(f"declared {dp} problems but parsed {n_problems}")
    if dm is not None and n_problems and dm != n_measures:
        warnings.append(f"declared {dm} measures but parsed {n_measures}")
    return {"declared_problem_count": dp, "declared_measure_count": dm, "declared_counts": count_phrases(pre)}


# --- the stage ------------------------------------------------------------------------------------------
def _inspection(title: str | None, pre: str) -> dict:
    kinds = re.findall(r"巡察|巡视", pre + (title or ""))
    body = _BODY_RE.search(pre) or _BODY_RE.search(title or "")
    return {"inspection_kind": ("巡察" if "巡察" in kinds else "巡视") if kinds else None,
            "inspection_body": body.group(1) if body else None}


def _place(core: str, title: str | None, pre: str, text: str, territorial: bool, central: bool,
           warnings: list[str]) -> tuple[dict, bool]:
    """The place of the issuer; an issuer that names none (``市卫健委党委``) takes the one place of its level
    written in the title, else the opening, else the first pages (with a warning). Returns the place and whether the text gave it."""
    context = (title or "") + "\n" + pre
    place, place_warnings = resolve_place(core, context, territorial, central)
    m = re.match(r"[省市县区州旗]", core)
    if m and not any(place[k] for k in ("province", "city", "region")) and not place_warnings:
        named = next(filter(None, (place_in_text(m.group(0), t) for t in (title or "", pre, text[:_PLACE_WINDOW]))), None)
        if named:
            place, place_warnings = resolve_place(named + core[1:], context, territorial, central)
            warnings.append(f"the issuer names no place; {named} read from the text")
            return place, True
    warnings += place_warnings
    return place, bool(place_warnings) and place["region"] is not None


#: how far into the text a place for an issuer that names none is looked for (characters)
_PLACE_WINDOW = 4000
_PLACE_FIELDS = ("province", "city", "region", "adcode", "region_label", "admin_level")


def _sources(meta: dict, issuer_from: str | None, place_from_text: bool, published_from: str | None,
             title: str | None, pre: str) -> dict:
    """Where each field that has a value came from: title, body, signature, metadata line, cited plan title or
    place context."""
    src: dict[str, str | None] = {"title": "title", "issuer": issuer_from, "party_org_type": issuer_from,
                                  "agency": issuer_from, "published_date": published_from}
    src.update({k: "place context" if place_from_text else issuer_from for k in _PLACE_FIELDS})
    for k in ("inspection_kind", "inspection_body"):
        src[k] = "body" if meta[k] and meta[k] in pre else "title"
    for k in ("inspection_start", "inspection_end", "feedback_date", "declared_problem_count",
              "declared_measure_count", "declared_counts"):
        src[k] = "body"
    return {k: v for k, v in src.items() if v and meta.get(k) not in (None, [], "")}


def read_metadata(text: str, parsed: ParsedReport, page_meta: str = "") -> tuple[dict, list[str]]:
    """The metadata of one report.

    Parameters
    ----------
    text : str
        The canonical text (``Normalized.text``) that ``parsed`` was parsed from.
    parsed : ParsedReport
        :func:`compare.parse.parse` of ``text``.
    page_meta : str
        The page's metadata line kept apart from the text (``Document.page_meta`` of an HTML page): its
        发布时间 is the publication date when the text shows none.

    Returns
    -------
    (meta, warnings)
        ``meta`` has the keys of :data:`META_KEYS` in that order (``None`` where unknown; ``meta_sources``
        says where each field found came from, as ``field=source`` pairs joined by ``；``); ``warnings``
        lists garbled dates, ambiguous places left empty, a place read from the text, competing and absurd
        declared counts (above :data:`MAX_DECLARED_COUNT`, set to ``None``), declared counts that differ
        from the parsed ones and dates out of order.
    """
    warnings: list[str] = []
    fr = front(text)
    add_page_dates(fr, page_meta)
    head, end = _head_and_footer(text, parsed, fr)
    pre = "\n".join(ln.text for ln in head)
    title = fr.title
    before = _before_problems(text, parsed, pre)
    issuer, issuer_from = _issuer(title, pre, end, before)
    party_org_type, core, territorial = _party_org(issuer, pre)
    insp = _inspection(title, pre)
    central = bool(insp["inspection_body"] and insp["inspection_body"].startswith("中央")) or core.endswith("部")
    place, place_from_text = _place(core, title, pre, text, territorial, central, warnings)
    meta = {"title": title, "issuer": issuer, "party_org_type": party_org_type, **place, **insp}
    meta.update(_dates(pre, warnings))
    meta["published_date"], published_from = _published(fr, end, warnings)
    meta.update(_declared(before, parsed, warnings))
    warnings += date_order_warnings(meta)
    sources = _sources(meta, issuer_from, place_from_text, published_from, title, pre)
    meta["meta_sources"] = "；".join(f"{k}={v}" for k, v in sources.items())
    return {k: meta.get(k) for k in META_KEYS}, warnings


def date_order_warnings(meta: dict) -> list[str]:
    """Warnings for dates out of their natural order: the inspection ends before it starts or after the
    feedback, the report is published before the feedback (dates of month precision compared as months)."""
    order = (("inspection_start", "inspection_end"), ("inspection_end", "feedback_date"),
             ("inspection_start", "feedback_date"), ("feedback_date", "published_date"))
    out = []
    for a, b in order:
        x, y = meta.get(a), meta.get(b)
        if x and y:
            n = min(len(x), len(y))
            if y[:n] < x[:n]:
                out.append(f"dates out of order: {b} {y} is before {a} {x}")
    return out
