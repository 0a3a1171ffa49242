"""Stage 3: structure of a normalised report — metadata and aspect → theme → problem → measures.

The parser works on the canonical text of ``compare.normalize`` and returns typed character spans that tile
that text exactly (front matter, preamble, section headings, intro, aspect/theme/problem headings, measure
labels, measures, other body, closing, footer, blank), so nothing is silently dropped.

It is written for the family of layouts such reports use, not for particular files:

* sections ``一、…``; an introduction (总体情况, 组织领导 …) before the problems and a closing part
  (下一步工作安排 …, contact footer) after them are recognised by where the problems are, not by wording;
* aspects ``第一方面问题，…`` and ``（一）…`` headings, themes below them;
* problems ``1.针对“…”问题。``, ``1.针对…问题``, ``1.关于“…”问题的整改``, ``1.关于…的问题`` followed by
  ``整改情况：``, or a bare ``1.问题陈述。``, numbered ``1.`` ``1、`` ``（1）``; numbering restarts under a
  new heading or continues across it;
* measures ``一是…二是…`` with optional sub-areas ``在…方面：`` that group them, or a single unnumbered
  measure after ``整改情况：``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from .dates import RANGE_RE, cn_number, parse_date

CN_NUM = "一二三四五六七八九十"

# --- line patterns --------------------------------------------------------------------------------------
RE_SECTION = re.compile(rf"^([{CN_NUM}]+)、\s*(.*)$")
RE_PART = re.compile(rf"^第([{CN_NUM}]+)(?:方面|部分)(?:问题|存在的问题)?[，：、。\s]*(.*)$")
RE_PAREN = re.compile(rf"^[（(]([{CN_NUM}]+)[）)]\s*(.*)$")
RE_NUM = re.compile(r"^(?:(\d{1,3})\s*[.、](?!\d)|[（(](\d{1,3})[）)])\s*(.*)$")
RE_FIX = re.compile(r"整改(?:落实)?(?:情况|措施|进展(?:情况)?)[：]")
RE_FIX_START = re.compile(r"^\s*整改(?:落实)?(?:情况|措施|进展(?:情况)?)[：]")
RE_ORDINAL = re.compile(rf"(?:(?<=^)|(?<=[。；：！？\n]))[ \t]*([{CN_NUM}]{{1,3}})是")
RE_SUBAREA = re.compile(r"(?:(?<=^)|(?<=[。；：\n]))[ \t]*在([^，。；：\n]{1,20}?)方面[：]")
RE_DATE_LINE = re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日$")
RE_SIGNATURE = re.compile(r"^(?:中共)?[^，。；：\s]{2,40}(?:党组|党委|民政局|民政厅|委员会|局|厅)$")
RE_CONTACT = re.compile(r"(?:联系方式|联系电话|电子邮箱|邮政编码|邮政信箱|欢迎广大干部群众|欢迎广大党员干部)")
RE_TITLE_WORDS = re.compile(r"(?:通报|情况|公告|公示|报告|公开)$")
RE_ISSUER = re.compile(r"(中共[^，。；：\s“”]{2,40}?(?:党组|党委))")
RE_BODY = re.compile(r"((?:中央|省委|市委|州委|盟委|县委|区委|旗委|市|县|区)?(?:第[一二三四五六七八九十\d]+)?(?:巡察|巡视)组)")

#: wrappers around a problem statement: 针对“…”问题 → …
_TITLE_WRAPPERS = [
    re.compile(r"^针对[“\"](?P<t>.+)[”\"](?:的)?问题$"),
    re.compile(r"^关于[“\"](?P<t>.+)[”\"](?:的)?问题(?:的整改(?:情况)?)?$"),
    re.compile(r"^针对(?P<t>.+?)(?:的)?问题$"),
    re.compile(r"^关于(?P<t>.+?)(?:的)?问题(?:的整改(?:情况)?)?$"),
]
_PROBLEM_TEMPLATE = re.compile(r"^(?:针对|关于).{2,}问题")

SPAN_KINDS = (
    "front_matter", "preamble", "section_heading", "intro", "aspect_heading", "theme_heading",
    "problem_heading", "measure_label", "measure", "body", "closing", "footer", "blank",
)


@dataclass
class Span:
    """A typed range ``[start, end)`` of the normalised text."""

    kind: str
    start: int
    end: int
    problem: int | None = None  # problem seq (1-based) the span belongs to
    measure: int | None = None  # measure seq within that problem


@dataclass
class Measure:
    seq: int
    label: str | None
    sub_area: str | None
    text: str
    start: int
    end: int


@dataclass
class Problem:
    seq: int
    label: str
    aspect: str | None
    theme: str | None
    title: str
    text: str
    start: int
    end: int
    heading_end: int
    measures: list[Measure] = field(default_factory=list)


@dataclass
class ParsedReport:
    """Result of :func:`parse`: metadata, problems with measures, tiling spans and warnings."""

    meta: dict
    problems: list[Problem]
    spans: list[Span]
    warnings: list[str]
    is_report: bool
    truncated: bool


@dataclass
class _Line:
    i: int
    start: int
    end: int
    text: str  # stripped

    @property
    def blank(self) -> bool:
        return not self.text


def _lines(text: str) -> list[_Line]:
    out, pos = [], 0
    for i, raw in enumerate(text.split("\n")):
        lead = len(raw) - len(raw.lstrip())
        s = raw.strip()
        out.append(_Line(i, pos + lead, pos + lead + len(s), s))
        pos += len(raw) + 1
    return out


def strip_title(statement: str) -> str:
    """The problem statement without ``针对“…”问题`` / ``关于…的问题`` wrappers and final punctuation."""
    s = statement.strip().rstrip("。；;.，,：: ")
    for rx in _TITLE_WRAPPERS:
        m = rx.match(s)
        if m and m["t"].strip():
            return m["t"].strip().rstrip("。，")
    return s


def _heading_text(s: str) -> str:
    return s.strip().rstrip("。：:；")


def _is_heading_line(body: str) -> bool:
    """A heading stands alone: no sentence break inside it (a final 。 is allowed)."""
    return "。" not in body.rstrip("。") and len(body) <= 120


def _problem_head_end(line: _Line) -> int:
    """Where the problem statement of a numbered line ends (the rest of the line is body)."""
    t = line.text
    m = RE_FIX.search(t)
    cut = m.start() if m else len(t)
    dot = t.find("。")
    if 0 <= dot < cut:
        cut = dot + 1
    return line.start + cut


# --- sections -------------------------------------------------------------------------------------------
@dataclass
class _Section:
    heading: _Line | None
    lines: list[_Line]
    problem_lines: list[int] = field(default_factory=list)  # indices into self.lines
    role: str = "other"


def _next_nonblank(lines: list[_Line], k: int) -> _Line | None:
    for ln in lines[k + 1 :]:
        if not ln.blank:
            return ln
    return None


def _strong_problem(lines: list[_Line], k: int) -> bool:
    """A numbered line is surely a problem when measures follow it or it is worded as one."""
    ln = lines[k]
    m = RE_NUM.match(ln.text)
    if not m:
        return False
    body = m.group(3)
    if RE_FIX.search(body[:200]):
        return True
    nxt = _next_nonblank(lines, k)
    if nxt is not None and (RE_FIX_START.match(nxt.text) or re.match(rf"^[{CN_NUM}]{{1,3}}是", nxt.text)
                            or RE_SUBAREA.match(nxt.text)):
        return True
    head = body.split("。")[0]
    return bool(_PROBLEM_TEMPLATE.match(head)) and len(head) <= 120


def _find_problem_lines(lines: list[_Line]) -> list[int]:
    """Numbered lines that head problems: strong ones, plus weak ones continuing their numbering."""
    strong = [k for k in range(len(lines)) if _strong_problem(lines, k)]
    if not strong:
        return []
    chosen: list[int] = []
    expected = None
    restart_ok = True
    for k, ln in enumerate(lines):
        if RE_PART.match(ln.text) or (RE_PAREN.match(ln.text) and _is_heading_line(RE_PAREN.match(ln.text).group(2))):
            restart_ok = True
            continue
        m = RE_NUM.match(ln.text)
        if not m:
            continue
        n = int(m.group(1) or m.group(2))
        body = m.group(3)
        is_strong = k in strong
        fits = n == expected or (restart_ok and n == 1)
        weak = _is_heading_line(body.split("整改情况")[0]) and fits and chosen
        if is_strong or weak:
            chosen.append(k)
            expected = n + 1
            restart_ok = False
    return chosen


def _split_sections(lines: list[_Line]) -> tuple[list[_Line], list[_Section]]:
    """Lines before the first ``一、`` heading, and the sections."""
    head: list[_Line] = []
    sections: list[_Section] = []
    for ln in lines:
        if RE_SECTION.match(ln.text) and _is_heading_line(RE_SECTION.match(ln.text).group(2)):
            sections.append(_Section(ln, []))
        elif sections:
            sections[-1].lines.append(ln)
        else:
            head.append(ln)
    return head, sections


# --- footer ---------------------------------------------------------------------------------------------
def _footer_start(lines: list[_Line]) -> int:
    """Index of the first line of the trailing footer (signature, date, contact); len(lines) if none."""
    k = len(lines)
    seen = False
    while k > 0:
        ln = lines[k - 1]
        if ln.blank:
            k -= 1
            continue
        t = ln.text
        if RE_DATE_LINE.match(t) or (RE_SIGNATURE.match(t) and len(t) <= 40) or (RE_CONTACT.search(t) and len(t) <= 400):
            k -= 1
            seen = True
            continue
        break
    if not seen:
        return len(lines)
    while k < len(lines) and lines[k].blank:
        k += 1
    return k


# --- measures -------------------------------------------------------------------------------------------
def _parse_measures(text: str, a: int, b: int, spans: list[Span], pseq: int) -> list[Measure]:
    """Measures in ``text[a:b]`` (a problem's body); adds their spans."""
    body = text[a:b]
    markers: list[tuple[int, int, str, str | None]] = []  # (start, end_of_label, kind, value)
    for m in RE_FIX.finditer(body):
        if m.start() == 0 or body[m.start() - 1] in "\n。":
            markers.append((m.start(), m.end(), "fix", None))
    for m in RE_SUBAREA.finditer(body):
        markers.append((m.start(1) - 1, m.end(), "sub", m.group(1)))
    ordinals = [(m.start(1), m.end(), "ord", m.group(1)) for m in RE_ORDINAL.finditer(body)]
    markers.sort()
    # keep ordinals whose numbering runs 一是, 二是, … (restarting after a sub-area or fix label)
    events = sorted(markers + ordinals)
    kept: list[tuple[int, int, str, str | None]] = []
    expected = 1
    for ev in events:
        if ev[2] in ("fix", "sub"):
            kept.append(ev)
            expected = 1
        elif cn_number(ev[3]) == expected or (cn_number(ev[3]) == 1 and expected > 1):
            kept.append(ev)
            expected = cn_number(ev[3]) + 1
    measures: list[Measure] = []
    sub_area = None
    has_ord = any(ev[2] == "ord" for ev in kept)
    boundaries = [ev[0] for ev in kept] + [len(body)]
    cursor = 0

    def emit_body(lo: int, hi: int):
        if hi > lo and body[lo:hi].strip():
            spans.append(Span("body", a + lo, a + hi, pseq))

    for j, ev in enumerate(kept):
        lo, lab_end, kind, val = ev
        emit_body(cursor, lo)
        nxt = boundaries[j + 1]
        seg_end = lo + len(body[lo:nxt].rstrip())
        if kind == "fix":
            spans.append(Span("measure_label", a + lo, a + lab_end, pseq))
            cursor = lab_end
            if not has_ord:
                # one unnumbered measure: everything after the label up to the next marker
                rest_end = lab_end + len(body[lab_end:nxt].rstrip())
                lead = len(body[lab_end:rest_end]) - len(body[lab_end:rest_end].lstrip())
                if rest_end > lab_end + lead:
                    mseq = len(measures) + 1
                    measures.append(Measure(mseq, None, sub_area, body[lab_end + lead : rest_end], a + lab_end + lead, a + rest_end))
                    spans.append(Span("measure", a + lab_end + lead, a + rest_end, pseq, mseq))
                    cursor = rest_end
            continue
        if kind == "sub":
            sub_area = val
            spans.append(Span("measure_label", a + lo, a + lab_end, pseq))
            cursor = lab_end
            continue
        label = f"{val}是"
        mseq = len(measures) + 1
        content = body[lab_end:seg_end].strip()
        measures.append(Measure(mseq, label, sub_area, content, a + lo, a + seg_end))
        spans.append(Span("measure", a + lo, a + seg_end, pseq, mseq))
        cursor = seg_end
    if not kept:
        # no label and no ordinals: the whole body is a single measure when it has text
        lead = len(body) - len(body.lstrip())
        end = len(body.rstrip())
        if end > lead:
            measures.append(Measure(1, None, None, body[lead:end], a + lead, a + end))
            spans.append(Span("measure", a + lead, a + end, pseq, 1))
            cursor = end
    emit_body(cursor, len(body))
    return measures


# --- metadata -------------------------------------------------------------------------------------------
_DECLARED = [
    (re.compile(r"对应(\d+|[一二三四五六七八九十百两]+)个具体问题清单制定了?(\d+|[一二三四五六七八九十百两]+)[条项个]"), 1, 2),
    (re.compile(r"(\d+|[一二三四五六七八九十百两]+)个(?:具体)?问题(?:细化)?(?:分解|细化)为(\d+|[一二三四五六七八九十百两]+)[个条项]"), 1, 2),
    (re.compile(r"(?:反馈|指出)(?:的)?(?:\d+|[一二三四五六七八九十]+)?(?:个)?(?:方面)?(\d+|[一二三四五六七八九十百两]+)个(?:具体)?问题"), 1, None),
    (re.compile(r"制定(?:了)?(?:具体)?(?:整改)?措施(\d+|[一二三四五六七八九十百两]+)[条项个]"), None, 1),
    (re.compile(r"制定(?:了)?(\d+|[一二三四五六七八九十百两]+)[条项个](?:具体)?(?:整改)?措施"), None, 1),
]


def declared_counts(text: str) -> tuple[int | None, int | None]:
    """Problem and measure counts the report states about itself, e.g. “对应34个具体问题清单制定了95条具体整改措施”."""
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


def _dates(pre: str, warnings: list[str]) -> dict:
    """Inspection period and feedback date from the opening paragraph(s)."""
    out = {"inspection_start": None, "inspection_end": None, "feedback_date": None}
    year = None
    sentences = re.split(r"(?<=[。；])", pre)
    for sent in sentences:
        if out["inspection_start"] is None and re.search(r"巡察|巡视", sent):
            m = RANGE_RE.search(sent)
            if m and not re.search(r"反馈", sent[: m.start()]) and re.search(r"进行了|开展了|进驻|对", sent[m.end():]):
                s_iso, year = parse_date(m["a"], year)
                e_iso, year = parse_date(m["b"], year)
                if s_iso is None or e_iso is None:
                    warnings.append(f"garbled inspection period {m.group(0)!r}")
                out["inspection_start"], out["inspection_end"] = s_iso, e_iso
                sent = sent[m.end():]
        if out["feedback_date"] is None and "反馈" in sent:
            m = re.search(r"((?:\d{4}年)?\d{1,2}月(?:\d{1,2}日)?)[^。；]{0,60}?反馈", sent)
            if m:
                iso, year = parse_date(m.group(1), year)
                if iso is None:
                    no_year = year is None and "年" not in m.group(1)
                    warnings.append(f"date without a year: {m.group(1)!r}" if no_year else f"garbled feedback date {m.group(1)!r}")
                out["feedback_date"] = iso
        for y in re.findall(r"(\d{4})年", sent):
            year = int(y)
    return out


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

    df = cpca.transform([issuer_core])
    row = df.iloc[0]
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


def _metadata(text: str, head: list[_Line], footer: list[_Line], warnings: list[str]) -> dict:
    meta: dict = {}
    nonblank = [ln for ln in head if not ln.blank]
    title = None
    if nonblank and "。" not in nonblank[0].text and RE_TITLE_WORDS.search(nonblank[0].text) and len(nonblank[0].text) <= 80:
        title = nonblank[0].text
    meta["title"] = title
    pre = "\n".join(ln.text for ln in nonblank if ln.text != title)
    issuer = None
    for ln in footer:
        if RE_SIGNATURE.match(ln.text) and not RE_DATE_LINE.match(ln.text):
            issuer = ln.text
    if issuer is None and title:
        m = RE_ISSUER.match(title)
        issuer = m.group(1) if m else None
    if issuer is None:
        m = RE_ISSUER.search(text)
        issuer = m.group(1) if m else None
    meta["issuer"] = issuer
    core = None
    if issuer:
        core = re.sub(r"^中共", "", issuer)
        org = re.search(r"(党组|党委)$", core)
        meta["party_org_type"] = org.group(1) if org else None
        core = re.sub(r"(党组|党委)$", "", core)
    else:
        meta["party_org_type"] = None
    meta.update(_region(core or ""))
    kinds = re.findall(r"巡察|巡视", pre + (title or ""))
    meta["inspection_kind"] = ("巡察" if "巡察" in kinds else "巡视") if kinds else None
    m = RE_BODY.search(pre)
    meta["inspection_body"] = m.group(1) if m else None
    meta.update(_dates(pre, warnings))
    published = None
    for ln in footer:
        if RE_DATE_LINE.match(ln.text):
            published, _ = parse_date(ln.text)
            if published is None:
                warnings.append(f"garbled publication date {ln.text!r}")
    meta["published_date"] = published
    meta["declared_problem_count"], meta["declared_measure_count"] = declared_counts(text)
    return meta


# --- the parser -----------------------------------------------------------------------------------------
def parse(text: str) -> ParsedReport:
    """Parse the canonical text of one report.

    Parameters
    ----------
    text : str
        Output of :func:`compare.normalize.normalize` (``Normalized.text``).

    Returns
    -------
    ParsedReport
        Metadata, problems with measures, spans tiling ``text`` and warnings. Never raises on odd input:
        a text without problems is returned with ``is_report = False`` and a warning.
    """
    warnings: list[str] = []
    lines = _lines(text)
    fstart = _footer_start(lines)
    footer = lines[fstart:]
    body_lines = lines[:fstart]
    head, sections = _split_sections(body_lines)
    spans: list[Span] = []

    # which part holds the problems
    if sections:
        for sec in sections:
            sec.problem_lines = _find_problem_lines(sec.lines)
        roles_idx = [i for i, s in enumerate(sections) if s.problem_lines]
        head_problem_lines: list[int] = []
    else:
        roles_idx = []
        head_problem_lines = _find_problem_lines(head)
    if roles_idx:
        first, last = roles_idx[0], roles_idx[-1]
        for i, sec in enumerate(sections):
            sec.role = "problems" if sec.problem_lines else ("intro" if i < first else "closing" if i > last else "intro")
    else:
        for sec in sections:
            sec.role = "intro"

    # front matter and preamble
    nonblank_head = [ln for ln in head if not ln.blank]
    title_line = None
    if nonblank_head and "。" not in nonblank_head[0].text and len(nonblank_head[0].text) <= 80 and not RE_NUM.match(nonblank_head[0].text):
        title_line = nonblank_head[0]
        spans.append(Span("front_matter", title_line.start, title_line.end))
    first_problem_line = head_problem_lines[0] if head_problem_lines else len(head)
    for ln in head[:first_problem_line]:
        if not ln.blank and ln is not title_line:
            spans.append(Span("preamble", ln.start, ln.end))

    problems: list[Problem] = []
    multi = len(roles_idx) > 1

    def walk(sec_lines: list[_Line], plines: list[int], section_title: str | None, end_pos: int):
        """Assign headings and problems within one problem-bearing run of lines."""
        has_part = any(RE_PART.match(ln.text) for ln in sec_lines)
        aspect = section_title if multi else None
        theme = None
        pset = set(plines)
        bounds: list[int] = []  # starts of structural lines (headings/problems) to end problem blocks
        heads: list[tuple[_Line, str, str]] = []
        def opens(k: int) -> bool:
            """A heading line counts only when a problem or another heading follows it."""
            for j in range(k + 1, len(sec_lines)):
                if sec_lines[j].blank:
                    continue
                return j in pset or bool(RE_PART.match(sec_lines[j].text) or RE_PAREN.match(sec_lines[j].text))
            return False

        for k, ln in enumerate(sec_lines):
            if ln.blank:
                continue
            mp = RE_PART.match(ln.text)
            mq = RE_PAREN.match(ln.text)
            if mp and _is_heading_line(ln.text) and opens(k):
                heads.append((ln, "aspect", ln.text))
                bounds.append(ln.start)
            elif mq and _is_heading_line(mq.group(2)) and opens(k):
                level = "theme" if (has_part or multi) else "aspect"
                heads.append((ln, level, mq.group(2)))
                bounds.append(ln.start)
            elif k in pset:
                bounds.append(ln.start)
        bounds.append(end_pos)
        bounds.sort()
        head_by_line = {h[0].i: h for h in heads}
        before_first = True
        for k, ln in enumerate(sec_lines):
            if ln.blank:
                continue
            if ln.i in head_by_line:
                _, level, htext = head_by_line[ln.i]
                if level == "aspect":
                    aspect, theme = _heading_text(htext), None
                    mp = RE_PART.match(ln.text)
                    if mp:  # 第一方面问题，聚焦… → 聚焦…
                        aspect = _heading_text(mp.group(2)) or _heading_text(ln.text)
                else:
                    theme = _heading_text(htext)
                spans.append(Span(f"{level}_heading", ln.start, ln.end))
                continue
            if k in pset:
                before_first = False
                m = RE_NUM.match(ln.text)
                label = ln.text[: m.start(3)].strip()
                hend = _problem_head_end(ln)
                statement = text[ln.start + m.start(3) : hend]
                block_end = next(b for b in bounds if b > ln.start)
                block_end = ln.start + len(text[ln.start:block_end].rstrip())
                seq = len(problems) + 1
                spans.append(Span("problem_heading", ln.start, hend, seq))
                ms = _parse_measures(text, hend, block_end, spans, seq)
                problems.append(Problem(seq, label, aspect, theme, strip_title(statement),
                                        text[ln.start:block_end], ln.start, block_end, hend, ms))
                continue
            inside = any(p.start <= ln.start < p.end for p in problems[-1:])
            if not inside:
                spans.append(Span("intro" if before_first else "body", ln.start, ln.end))

    for sec in sections:
        h = sec.heading
        spans.append(Span("section_heading", h.start, h.end))
        sec_end = sec.lines[-1].end if sec.lines else h.end
        if sec.role == "problems":
            walk(sec.lines, sec.problem_lines, _heading_text(RE_SECTION.match(h.text).group(2)), sec_end)
        else:
            kind = sec.role
            for ln in sec.lines:
                if not ln.blank:
                    spans.append(Span(kind, ln.start, ln.end))
    if head_problem_lines:
        walk(head[first_problem_line:], [k - first_problem_line for k in head_problem_lines], None,
             head[-1].end if head else 0)
    for ln in footer:
        if not ln.blank:
            spans.append(Span("footer", ln.start, ln.end))

    spans = _tile(spans, len(text), text)
    meta = _metadata(text, head, footer, warnings)
    is_report = bool(problems) and any(p.measures for p in problems)
    if not is_report:
        warnings.append("not a rectification report: no numbered problems with measures found")
    has_closing = any(s.role == "closing" for s in sections)
    truncated = is_report and not footer and not has_closing
    if truncated:
        warnings.append("report looks truncated: no closing section and no footer after the last problem")
    stripped = text.rstrip()
    if is_report and stripped and not footer and stripped[-1] not in "。！？”）》":
        warnings.append("text ends mid-sentence")
        truncated = True
    for p in problems:
        if not p.measures:
            warnings.append(f"problem {p.seq} ({p.label}) has no measures")
    dp, dm = meta["declared_problem_count"], meta["declared_measure_count"]
    n_measures = sum(len(p.measures) for p in problems)
    if dp is not None and dp != len(problems):
        warnings.append(f"declared {dp} problems but parsed {len(problems)}")
    if dm is not None and dm != n_measures:
        warnings.append(f"declared {dm} measures but parsed {n_measures}")
    return ParsedReport(meta, problems, spans, warnings, is_report, truncated)


def _tile(spans: list[Span], n: int, text: str) -> list[Span]:
    """Sort spans, check they do not overlap, and fill the gaps (whitespace → blank, else body)."""
    spans = sorted((s for s in spans if s.end > s.start), key=lambda s: (s.start, s.end))
    out: list[Span] = []
    pos = 0
    for s in spans:
        if s.start < pos:
            raise AssertionError(f"overlapping spans at {s.start}: {out[-1]} / {s}")
        if s.start > pos:
            out.append(Span("blank" if not text[pos:s.start].strip() else "body", pos, s.start))
        out.append(s)
        pos = s.end
    if pos < n:
        out.append(Span("blank" if not text[pos:n].strip() else "body", pos, n))
    return out
