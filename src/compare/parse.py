"""Stage 3 (reading): the structure of a normalised report — aspect → theme → problem → measures.

The parser works on the canonical text of ``compare.normalize`` and returns typed character spans that tile
that text exactly (front matter, preamble, section headings, intro, aspect/theme/problem headings, measure
labels, measures, other body, closing, footer, blank), so nothing is silently dropped. The metadata (title,
issuer, place, dates, declared counts) is read from this structure by :mod:`compare.metadata`; the patterns
come from :mod:`compare.grammar`.

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

from dataclasses import dataclass, field

from .grammar import (
    CONTACT_RE,
    DATE_LINE_RE,
    EFFECT_RE,
    FIX_RE,
    FIX_START_RE,
    MEASURE_NUMBER_RE,
    MEASURE_ORDINAL_RE,
    NUMBER_RE,
    PAREN_RE,
    PART_RE,
    PROBLEM_TEMPLATE_RE,
    SECTION_RE,
    SIGNATURE_RE,
    SUBAREA_RE,
    TITLE_WRAPPERS,
    Line,
    cn_number,
    lines,
)
from .recognize import verdict

__all__ = ["SPAN_KINDS", "Span", "Measure", "Problem", "ParsedReport", "parse", "strip_title"]

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
    """One measure of a problem: its ordinal label (``一是``) or None, sub-area, text and offsets."""

    seq: int
    label: str | None
    sub_area: str | None
    text: str
    start: int
    end: int


@dataclass
class Problem:
    """One numbered problem: label, the aspect and theme headings above it, title, text, offsets, measures."""

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
    """Result of :func:`parse`: problems with measures, tiling spans, warnings and the verdict.

    The metadata is not here: :func:`compare.metadata.read_metadata` reads it from the text and this result.
    """

    problems: list[Problem]
    spans: list[Span]
    warnings: list[str]
    is_report: bool
    truncated: bool


def strip_title(statement: str) -> str:
    """The problem statement without ``针对“…”问题`` / ``关于…的问题`` wrappers and final punctuation.

    Parameters
    ----------
    statement : str
        The text of a problem heading after its number.

    Returns
    -------
    str
    """
    s = statement.strip().rstrip("。；;.，,：: ")
    for rx in TITLE_WRAPPERS:
        m = rx.match(s)
        if m and m["t"].strip():
            return m["t"].strip().rstrip("。，")
    return s


def _heading_text(s: str) -> str:
    return s.strip().rstrip("。：:；")


def _is_heading_line(body: str) -> bool:
    """A heading stands alone: no sentence break inside it (a final 。 is allowed)."""
    return "。" not in body.rstrip("。") and len(body) <= 120


def _problem_head_end(line: Line) -> int:
    """Where the problem statement of a numbered line ends (the rest of the line is body)."""
    t = line.text
    m = FIX_RE.search(t)
    cut = m.start() if m else len(t)
    dot = t.find("。")
    if 0 <= dot < cut:
        cut = dot + 1
    return line.start + cut


# --- layout: footer, head, sections and which of them hold the problems ---------------------------------
@dataclass
class _Section:
    heading: Line
    lines: list[Line]
    problem_lines: list[int] = field(default_factory=list)  # indices into self.lines
    parents: list[int] = field(default_factory=list)  # outer items whose inner items are the problems
    role: str = "other"  # problems, problem_section (the section is one problem), intro, closing


@dataclass
class _Layout:
    """The lines of a report by part: before the first section, the sections, the footer."""

    head: list[Line]
    sections: list[_Section]
    footer: list[Line]
    head_problem_lines: list[int]  # problems in the head (only when there are no sections)
    head_parents: list[int] = field(default_factory=list)


def _next_nonblank(lines_: list[Line], k: int) -> Line | None:
    for ln in lines_[k + 1 :]:
        if not ln.blank:
            return ln
    return None


def _strong_problem(lines_: list[Line], k: int, rx=NUMBER_RE) -> bool:
    """A numbered line is surely a problem when measures follow it or it is worded as one."""
    m = rx.match(lines_[k].text)
    if not m:
        return False
    body = m.group(m.lastindex)
    if FIX_RE.search(body[:200]):
        return True
    nxt = _next_nonblank(lines_, k)
    if nxt is not None and (FIX_START_RE.match(nxt.text) or MEASURE_ORDINAL_RE.match(nxt.text)
                            or SUBAREA_RE.match(nxt.text)):
        return True
    head = body.split("。")[0]
    return bool(PROBLEM_TEMPLATE_RE.match(head)) and len(head) <= 120


def _style(text: str) -> str:
    """The numbering style of a numbered line: ``1.`` (dot), ``（1）`` (paren) or ``1）`` (half)."""
    t = text.removeprefix("问题").lstrip()
    if t[:1] in "（(":
        return "paren"
    digits = len(t) - len(t.lstrip("0123456789"))
    return "half" if t[digits : digits + 1] in ("）", ")") else "dot"


def _nested(lines_: list[Line], strong: set[int]) -> tuple[set[int], set[int]]:
    """Two numbering levels (``1.`` → ``（1）``): the inner items are problems (their outer item a parent
    heading) when some of them are surely problems and their outer item has no measures of its own; else the
    inner items are measures. Returns the lines that are no problem candidates, and the parent lines."""
    numbered = [k for k, ln in enumerate(lines_) if NUMBER_RE.match(ln.text)]
    styles = list(dict.fromkeys(_style(lines_[k].text) for k in numbered))
    if len(styles) < 2:
        return set(), set()
    outer, inner = styles[0], styles[1]
    dropped = {k for k in numbered if _style(lines_[k].text) not in (outer, inner)}
    groups: list[tuple[int, list[int]]] = []
    for k in numbered:
        st = _style(lines_[k].text)
        if st == outer:
            groups.append((k, []))
        elif st == inner and groups:
            groups[-1][1].append(k)
        elif st == inner:
            dropped.add(k)
    parents: set[int] = set()
    for head, kids in groups:
        nxt = _next_nonblank(lines_, head)
        if kids and any(c in strong for c in kids) and nxt is not None and nxt.i == lines_[kids[0]].i:
            parents.add(head)
        else:
            dropped.update(kids)
    return dropped, parents


def _paren_problems(lines_: list[Line]) -> list[int]:
    """Problems at the second level: ``（一）政治站位不高的问题`` followed by a ``整改情况：`` label (or worded as a
    problem and followed by numbered measures)."""
    out = []
    for k, ln in enumerate(lines_):
        m = PAREN_RE.match(ln.text)
        if not m or not _is_heading_line(m.group(2).split("整改情况")[0]):
            continue
        nxt = _next_nonblank(lines_, k)
        fix = FIX_RE.search(m.group(2)) or (nxt is not None and FIX_START_RE.match(nxt.text))
        worded = _heading_text(m.group(2)).endswith("问题") or PROBLEM_TEMPLATE_RE.match(m.group(2))
        measures = nxt is not None and (MEASURE_ORDINAL_RE.match(nxt.text) or NUMBER_RE.match(nxt.text))
        if fix or (worded and measures):
            out.append(k)
    return out


@dataclass
class _Found:
    """The problem lines of a run of lines, and the parent headings of sub-problems (indices into the run)."""

    problems: list[int] = field(default_factory=list)
    parents: list[int] = field(default_factory=list)


def _find_problem_lines(lines_: list[Line]) -> _Found:
    """Numbered lines that head problems: strong ones, plus weak ones continuing their numbering; numbering
    is followed per style, and restarts under a heading or a parent item."""
    strong = {k for k in range(len(lines_)) if _strong_problem(lines_, k)}
    if not strong:
        return _Found(_paren_problems(lines_))
    dropped, parents = _nested(lines_, strong)
    chosen: list[int] = []
    expected: dict[str, int | None] = {}
    restart_ok = True
    for k, ln in enumerate(lines_):
        paren = PAREN_RE.match(ln.text)
        m = NUMBER_RE.match(ln.text)
        if k in parents:  # its number counts in its own style; its children start again at 1
            expected[_style(ln.text)] = int(m.group(1) or m.group(2)) + 1
        if k in parents or PART_RE.match(ln.text) or (paren and _is_heading_line(paren.group(2))):
            restart_ok = True
            continue
        if not m or k in dropped:
            continue
        n, st = int(m.group(1) or m.group(2)), _style(ln.text)
        fits = n == expected.get(st) or (restart_ok and n == 1)
        weak = _is_heading_line(m.group(3).split("整改情况")[0]) and fits and chosen
        if k in strong or weak:
            chosen.append(k)
            expected[st] = n + 1
            restart_ok = False
    return _Found(chosen, sorted(parents))


def _split_sections(lines_: list[Line]) -> tuple[list[Line], list[_Section]]:
    """Lines before the first ``一、`` heading, and the sections."""
    head: list[Line] = []
    sections: list[_Section] = []
    for ln in lines_:
        m = SECTION_RE.match(ln.text)
        if m and _is_heading_line(m.group(2)):
            sections.append(_Section(ln, []))
        elif sections:
            sections[-1].lines.append(ln)
        else:
            head.append(ln)
    return head, sections


def _footer_start(lines_: list[Line]) -> int:
    """Index of the first line of the trailing footer (signature, date, contact); len(lines) if none."""
    k = len(lines_)
    seen = False
    while k > 0:
        ln = lines_[k - 1]
        if ln.blank:
            k -= 1
            continue
        t = ln.text
        if DATE_LINE_RE.match(t) or (SIGNATURE_RE.match(t) and len(t) <= 40) or (CONTACT_RE.search(t) and len(t) <= 400):
            k -= 1
            seen = True
            continue
        break
    if not seen:
        return len(lines_)
    while k < len(lines_) and lines_[k].blank:
        k += 1
    return k


_NOT_A_PROBLEM_HEADING = ("巡察", "巡视", "反馈", "存在的问题", "整改工作", "下一步")


def _is_problem_section(sec: _Section) -> bool:
    """A section that is itself one problem: ``一、关于“…”问题的整改情况`` (or ``一、…的问题``) over measures
    (numbered items, ``整改情况：`` labels or ``一是`` ordinals)."""
    head = _heading_text(SECTION_RE.match(sec.heading.text).group(2))
    head = head.removesuffix("的整改情况").removesuffix("整改情况").removesuffix("的整改")
    if any(w in head for w in _NOT_A_PROBLEM_HEADING) or not (head.endswith("问题") or PROBLEM_TEMPLATE_RE.match(head)):
        return False
    return any(NUMBER_RE.match(ln.text) or FIX_START_RE.match(ln.text) or MEASURE_ORDINAL_RE.match(ln.text)
               for ln in sec.lines)


def _assign_roles(sections: list[_Section]) -> None:
    """Find each section's problems; sections after the last problem-bearing one close, the others introduce."""
    for sec in sections:
        found = _find_problem_lines(sec.lines)
        sec.problem_lines, sec.parents = found.problems, found.parents
        if sec.problem_lines:
            sec.role = "problems"
        elif _is_problem_section(sec):
            sec.role = "problem_section"
    with_problems = [i for i, s in enumerate(sections) if s.role.startswith("problem")]
    last = with_problems[-1] if with_problems else len(sections)
    for i, sec in enumerate(sections):
        if not sec.role.startswith("problem"):
            sec.role = "closing" if i > last else "intro"


def _layout(text: str) -> _Layout:
    """Cut the lines of ``text`` into head, sections (with roles) and footer."""
    all_lines = lines(text)
    fstart = _footer_start(all_lines)
    head, sections = _split_sections(all_lines[:fstart])
    _assign_roles(sections)
    found = _Found() if sections else _find_problem_lines(head)
    return _Layout(head, sections, all_lines[fstart:], found.problems, found.parents)


# --- measures -------------------------------------------------------------------------------------------
_Marker = tuple[int, int, str, str | None]  # (start, end of label, kind fix|effect|sub|ord, value)


def _measure_markers(body: str) -> list[_Marker]:
    """The ``整改情况：`` labels, ``整改成效：`` labels, sub-areas and ordinals of a problem's body.

    Ordinals are ``一是``, ``二是`` … or, when a body has none, numbered items ``1.`` ``（1）`` ``1）``; they are
    kept while their numbering runs (restarting at one, or after a label), and not inside an outcome block.
    """
    markers: list[_Marker] = []
    for m in FIX_RE.finditer(body):
        if m.start() == 0 or body[m.start() - 1] in "\n。":
            markers.append((m.start(), m.end(), "fix", None))
    for m in EFFECT_RE.finditer(body):
        if m.start() == 0 or body[m.start() - 1] in "\n。；":
            markers.append((m.start(), m.end(), "effect", None))
    for m in SUBAREA_RE.finditer(body):
        markers.append((m.start(1) - 1, m.end(), "sub", m.group(1)))
    ordinals = [(m.start(1), m.end(), "ord", f"{m.group(1)}是") for m in MEASURE_ORDINAL_RE.finditer(body)]
    kept = _in_sequence(sorted(markers + ordinals), lambda v: cn_number(v[:-1]))
    if not any(ev[2] == "ord" for ev in kept):
        numbered = [(m.end() - len(m.group().lstrip()), m.end(), "ord", m.group().strip())
                    for m in MEASURE_NUMBER_RE.finditer(body)]
        kept = _in_sequence(sorted(markers + numbered), lambda v: int(v.strip("（()）.、．")))
    return kept


def _in_sequence(events: list[_Marker], number) -> list[_Marker]:
    """Labels, and ordinals whose numbers run 1, 2, … (a restart at 1 allowed); none after an outcome label."""
    kept: list[_Marker] = []
    expected, in_effect = 1, False
    for ev in events:
        if ev[2] != "ord":
            kept.append(ev)
            expected, in_effect = 1, ev[2] == "effect"
            continue
        n = number(ev[3])
        if not in_effect and (n == expected or (n == 1 and expected > 1)):
            kept.append(ev)
            expected = n + 1
    return kept


class _MeasureReader:
    """Cuts one problem's body ``text[a:b]`` into measures at its markers, adding their spans."""

    def __init__(self, text: str, a: int, b: int, spans: list[Span], pseq: int):
        self.body, self.a, self.spans, self.pseq = text[a:b], a, spans, pseq
        self.measures: list[Measure] = []
        self.sub_area: str | None = None
        self.cursor = 0

    def read(self) -> list[Measure]:
        kept = _measure_markers(self.body)
        if not kept:
            self._whole_body()
            return self.measures
        has_ord = any(ev[2] == "ord" for ev in kept)
        boundaries = [ev[0] for ev in kept] + [len(self.body)]
        for j, (lo, lab_end, kind, val) in enumerate(kept):
            self._other(lo)
            if kind == "fix":
                self._label(lo, lab_end)
                if not has_ord:
                    self._unnumbered(lab_end, boundaries[j + 1])
            elif kind == "sub":
                self.sub_area = val
                self._label(lo, lab_end)
            elif kind == "effect":  # an outcome: its text stays body, not a measure
                self._label(lo, lab_end)
            else:
                self._ordinal(lo, lab_end, boundaries[j + 1], val)
        self._other(len(self.body))
        return self.measures

    def _other(self, hi: int) -> None:
        """Text between the cursor and ``hi`` that is no measure: body (whitespace is left to tiling)."""
        if hi > self.cursor and self.body[self.cursor : hi].strip():
            self.spans.append(Span("body", self.a + self.cursor, self.a + hi, self.pseq))

    def _label(self, lo: int, hi: int) -> None:
        self.spans.append(Span("measure_label", self.a + lo, self.a + hi, self.pseq))
        self.cursor = hi

    def _add(self, label: str | None, lo: int, hi: int, content: str) -> None:
        mseq = len(self.measures) + 1
        self.measures.append(Measure(mseq, label, self.sub_area, content, self.a + lo, self.a + hi))
        self.spans.append(Span("measure", self.a + lo, self.a + hi, self.pseq, mseq))
        self.cursor = hi

    def _ordinal(self, lo: int, lab_end: int, nxt: int, label: str) -> None:
        seg_end = lo + len(self.body[lo:nxt].rstrip())
        self._add(label, lo, seg_end, self.body[lab_end:seg_end].strip())

    def _unnumbered(self, lab_end: int, nxt: int) -> None:
        """One unnumbered measure: everything after a label up to the next marker."""
        rest_end = lab_end + len(self.body[lab_end:nxt].rstrip())
        lead = len(self.body[lab_end:rest_end]) - len(self.body[lab_end:rest_end].lstrip())
        if rest_end > lab_end + lead:
            self._add(None, lab_end + lead, rest_end, self.body[lab_end + lead : rest_end])

    def _whole_body(self) -> None:
        """No label and no ordinals: the whole body is a single measure when it has text."""
        lead = len(self.body) - len(self.body.lstrip())
        end = len(self.body.rstrip())
        if end > lead:
            self._add(None, lead, end, self.body[lead:end])


# --- problems -------------------------------------------------------------------------------------------
@dataclass
class _Block:
    """A problem-bearing run of lines: a section of problems, or the head of a report without sections."""

    lines: list[Line]
    problem_lines: set[int]  # indices into lines
    aspect: str | None  # the section's title when several sections hold problems
    end: int  # where the block's text ends
    multi: bool  # several sections hold problems: ``（一）`` headings are themes
    parents: set[int] = field(default_factory=set)  # outer items over sub-problems: theme headings


def _opens(block: _Block, k: int) -> bool:
    """A heading line counts only when a problem or another heading follows it."""
    for j in range(k + 1, len(block.lines)):
        if block.lines[j].blank:
            continue
        t = block.lines[j].text
        return j in block.problem_lines or bool(PART_RE.match(t) or PAREN_RE.match(t))
    return False


def _headings(block: _Block) -> tuple[dict[int, tuple[str, str]], list[int]]:
    """The aspect/theme headings of a block by line index (level, text), and where its parts begin."""
    has_part = any(PART_RE.match(ln.text) for ln in block.lines)
    heads: dict[int, tuple[str, str]] = {}
    bounds: list[int] = []  # starts of structural lines (headings, problems): they end problem blocks
    for k, ln in enumerate(block.lines):
        if ln.blank:
            continue
        paren = PAREN_RE.match(ln.text)
        if k in block.problem_lines:
            pass
        elif k in block.parents:
            heads[ln.i] = ("parent", ln.text[_label_end(ln.text) :])
        elif PART_RE.match(ln.text) and _is_heading_line(ln.text) and _opens(block, k):
            heads[ln.i] = ("aspect", ln.text)
        elif paren and _is_heading_line(paren.group(2)) and _opens(block, k):
            heads[ln.i] = ("theme" if (has_part or block.multi) else "aspect", paren.group(2))
        else:
            continue
        bounds.append(ln.start)
    return heads, sorted([*bounds, block.end])


def _enter_heading(ln: Line, level: str, htext: str, aspect: str | None) -> tuple[str | None, str | None]:
    """The (aspect, theme) in force below a heading."""
    if level != "aspect":
        return aspect, _heading_text(htext)
    part = PART_RE.match(ln.text)
    if part:  # 第一方面问题，聚焦… → 聚焦…
        return _heading_text(part.group(2)) or _heading_text(ln.text), None
    return _heading_text(htext), None


def _label_end(t: str) -> int:
    """Where the number of a problem heading ends: ``1.`` ``（1）`` ``问题1.`` ``（一）`` ``一、``."""
    m = NUMBER_RE.match(t)
    if m:
        return m.start(3)
    m = PAREN_RE.match(t) or SECTION_RE.match(t)
    return m.start(2) if m else 0


def _section_statement(s: str) -> str:
    """A first-level problem heading without its ``…问题的整改情况`` tail."""
    t = s.rstrip("。：: ")
    for tail in ("的整改情况", "整改情况", "的整改进展情况", "整改进展情况"):
        if t.endswith(tail) and t[: -len(tail)].endswith("问题"):
            return t[: -len(tail)]
    return s


def _problem(text: str, ln: Line, seq: int, where: tuple[str | None, str | None], bounds: list[int],
             spans: list[Span]) -> Problem:
    """The problem headed by numbered line ``ln``: it runs to the next structural line; adds its spans."""
    lab = _label_end(ln.text)
    hend = _problem_head_end(ln)
    block_end = next(b for b in bounds if b > ln.start)
    block_end = ln.start + len(text[ln.start : block_end].rstrip())
    spans.append(Span("problem_heading", ln.start, hend, seq))
    measures = _MeasureReader(text, hend, block_end, spans, seq).read()
    statement = text[ln.start + lab : hend]
    return Problem(seq, ln.text[:lab].strip(), where[0], where[1], strip_title(_section_statement(statement)),
                   text[ln.start : block_end], ln.start, block_end, hend, measures)


def _walk(text: str, block: _Block, problems: list[Problem], spans: list[Span]) -> None:
    """Headings, problems and the lines between them within one block; appends to ``problems`` and ``spans``."""
    heads, bounds = _headings(block)
    aspect, theme = block.aspect, None
    before_first = True
    parent: tuple[str, str | None] | None = None  # (style, theme above) while under an outer item
    for k, ln in enumerate(block.lines):
        if ln.blank:
            continue
        if ln.i in heads:
            level, htext = heads[ln.i]
            if level == "parent":  # ``1.…问题`` over sub-problems: a theme until the next item of its style
                parent, theme = (_style(ln.text), theme), _heading_text(htext)
                level = "theme"
            else:
                aspect, theme = _enter_heading(ln, level, htext, aspect)
                parent = None
            spans.append(Span(f"{level}_heading", ln.start, ln.end))
        elif k in block.problem_lines:
            before_first = False
            if parent is not None and _style(ln.text) == parent[0]:
                theme, parent = parent[1], None
            problems.append(_problem(text, ln, len(problems) + 1, (aspect, theme), bounds, spans))
        elif not any(p.start <= ln.start < p.end for p in problems[-1:]):
            spans.append(Span("intro" if before_first else "body", ln.start, ln.end))


def _front_spans(layout: _Layout) -> list[Span]:
    """The title line (front matter) and the preamble lines before the problems of the head."""
    spans: list[Span] = []
    head = layout.head
    nonblank = [ln for ln in head if not ln.blank]
    title_line = None
    first = nonblank[0] if nonblank else None
    if first and "。" not in first.text and len(first.text) <= 80 and not NUMBER_RE.match(first.text):
        title_line = first
        spans.append(Span("front_matter", first.start, first.end))
    end = layout.head_problem_lines[0] if layout.head_problem_lines else len(head)
    spans += [Span("preamble", ln.start, ln.end) for ln in head[:end] if not ln.blank and ln is not title_line]
    return spans


def _problems(text: str, layout: _Layout, spans: list[Span]) -> list[Problem]:
    """The problems of every problem-bearing section (or of the head); spans of the sections' other lines."""
    problems: list[Problem] = []
    multi = sum(sec.role == "problems" for sec in layout.sections) > 1
    for sec in layout.sections:
        h = sec.heading
        spans.append(Span("section_heading", h.start, h.end))
        if sec.role == "problem_section":
            spans.pop()
            end = max([h.end, *(ln.end for ln in sec.lines)])
            problems.append(_problem(text, h, len(problems) + 1, (None, None), [end], spans))
        elif sec.role == "problems":
            title = _heading_text(SECTION_RE.match(h.text).group(2)) if multi else None
            end = sec.lines[-1].end if sec.lines else h.end
            block = _Block(sec.lines, set(sec.problem_lines), title, end, multi, set(sec.parents))
            _walk(text, block, problems, spans)
        else:
            spans += [Span(sec.role, ln.start, ln.end) for ln in sec.lines if not ln.blank]
    if layout.head_problem_lines:
        k0, head = layout.head_problem_lines[0], layout.head
        block = _Block(head[k0:], {k - k0 for k in layout.head_problem_lines}, None, head[-1].end, multi,
                       {k - k0 for k in layout.head_parents})
        _walk(text, block, problems, spans)
    return problems


def _verdict(text: str, problems: list[Problem], layout: _Layout) -> tuple[bool, bool, list[str]]:
    """Whether the text is a report, whether it looks truncated (:func:`compare.recognize.verdict`), and the
    structural warnings."""
    has_closing = any(s.role == "closing" for s in layout.sections)
    is_report, truncated, warnings = verdict(text, len(problems), any(p.measures for p in problems),
                                             bool(layout.footer), has_closing)
    for p in problems:
        if not p.measures:
            warnings.append(f"problem {p.seq} ({p.label}) has no measures")
    return is_report, truncated, warnings


# --- the parser -----------------------------------------------------------------------------------------
def parse(text: str) -> ParsedReport:
    """Parse the structure of the canonical text of one report.

    Parameters
    ----------
    text : str
        Output of :func:`compare.normalize.normalize` (``Normalized.text``).

    Returns
    -------
    ParsedReport
        Problems with measures, spans tiling ``text``, warnings and the verdict. Never raises on odd input:
        a text without problems is returned with ``is_report = False`` and a warning. The metadata is read
        apart, by :func:`compare.metadata.read_metadata`.
    """
    layout = _layout(text)
    spans = _front_spans(layout)
    problems = _problems(text, layout, spans)
    spans += [Span("footer", ln.start, ln.end) for ln in layout.footer if not ln.blank]
    is_report, truncated, warnings = _verdict(text, problems, layout)
    if not is_report:  # the numbered items of a near-miss page (news, a 督察 list) are no problems
        problems = []
        spans = [s if s.problem is None else Span("body", s.start, s.end) for s in spans]
    return ParsedReport(problems, _tile(spans, len(text), text), warnings, is_report, truncated)


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
