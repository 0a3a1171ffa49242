"""Stage 2 (reading): canonical text plus an offset map back to the raw text.

The readers (``compare.io``) give the text as the document holds it. Reports from PDF extraction and web
pages carry defects that make parsing brittle; this stage repairs them *without losing track of where any
character came from*:

* Traditional characters → simplified (OpenCC ``t2s``, character by character so offsets stay 1:1);
* inline pinyin that converter sites put after a character (``根據(jù)`` → ``根据``) dropped;
* form feeds, vertical tabs and the other line separators → ``\\n``; other control characters dropped;
* ``**bold**`` markers dropped;
* full-width letters/digits → ASCII, ASCII punctuation in Chinese context → full-width (``，：；（）！？``),
  ``．`` → ``.``; ideographic and other spaces next to Chinese text removed (``共 30 人`` → ``共30人``);
* doubled punctuation repaired (``5..`` → ``5.``, ``。。`` → ``。``);
* sentences re-joined where PDF extraction broke them across (blank) lines (``强\\n\\n化跟踪督办``), and the
  lines of a hard-wrapped text layer (every line as wide as the page) joined back into paragraphs.

``Normalized.offsets[i]`` is the index in the raw text of normalised character ``i`` (one more entry at the
end for the raw length), so any span ``[start, end)`` of the normalised text maps back to
``raw[offsets[start]:offsets[end]]``. Every raw character is either kept (mapped to by some normalised
character) or listed in ``Normalized.deleted`` with the edit that removed it: nothing is lost silently.

The edit machinery is hand-written (``_Editor``) because no library keeps an offset map through regex
rewrites; the rules themselves are data (the tables at the top of the module).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from .grammar import CHROME_RE, HEADING_START_RE, PARTY_ORG, UNIT_START_RE

# --- character classes --------------------------------------------------------------------------------
CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
CJK_PUNCT = "，。、；：？！“”‘’（）《》〈〉【】—…·「」『』〔〕"
_HSPACE = r"[ \u00a0\u2000-\u200b\u3000\ufeff]"

#: characters that may end a sentence-level line; a line ending in anything else may have been broken
TERMINAL = "。！？；：!?;:…"
#: ASCII punctuation → its full-width form in Chinese context
_TO_FULL = {",": "，", ":": "：", ";": "；", "(": "（", ")": "）", "!": "！", "?": "？"}



@dataclass
class Normalized:
    """Normalised text with its map back to the raw text.

    Attributes
    ----------
    raw : str
        The text as read.
    text : str
        The canonical text the parser works on.
    offsets : numpy.ndarray
        ``len(text) + 1`` raw indices (int32); ``offsets[i]`` is where ``text[i]`` came from.
    deleted : list of tuple
        ``(raw_start, raw_end, edit)`` for every raw range that has no counterpart in ``text``.
    traditional : bool
        Whether traditional characters were converted.
    """

    raw: str
    text: str
    offsets: np.ndarray
    deleted: list[tuple[int, int, str]] = field(default_factory=list)
    traditional: bool = False

    def raw_span(self, start: int, end: int) -> tuple[int, int]:
        """Map a normalised span ``[start, end)`` to the raw text.

        The raw span runs from the first to the last raw character behind the span, so it includes raw
        characters deleted *inside* it (``**`` markers, joined line breaks) but none around it.
        """
        if end <= start:
            a = int(self.offsets[start])
            return a, a
        return int(self.offsets[start]), int(self.offsets[end - 1]) + 1

    def raw_slice(self, start: int, end: int) -> str:
        """The raw text behind normalised ``text[start:end]``."""
        a, b = self.raw_span(start, end)
        return self.raw[a:b]


class _Editor:
    """Regex rewrites that keep a per-character offset map (hand-written: no library does this)."""

    def __init__(self, text: str):
        self.text = text
        self.offsets = list(range(len(text)))
        self.deleted: list[tuple[int, int, str]] = []
        self.raw_len = len(text)

    def sub(self, pattern: re.Pattern, repl: Callable[[re.Match], str], edit: str) -> None:
        """Replace every match by ``repl(match)``.

        Replacement characters map to the raw positions of the matched characters they stand for:
        when the replacement is no longer than the match, character ``k`` of the replacement maps to
        character ``k`` of the match and the rest of the match is recorded as deleted.
        """
        out: list[str] = []
        offs: list[int] = []
        pos = 0
        text, old = self.text, self.offsets
        for m in pattern.finditer(text):
            r = repl(m)
            a, b = m.span()
            if r == text[a:b]:
                continue  # unchanged: stays part of the copied stretch
            if len(r) > b - a:
                raise ValueError("replacements may not lengthen the text")
            out.append(text[pos:a])
            out.append(r)
            offs.extend(old[pos : a + len(r)])
            for i in range(a + len(r), b):
                self._delete(old[i], edit)
            pos = b
        if not pos:
            return  # nothing changed (a change at 0 always ends past 0): keep the text and offsets as they are
        out.append(text[pos:])
        offs.extend(old[pos:])
        self.text = "".join(out)
        self.offsets = offs

    def _delete(self, raw_i: int, edit: str) -> None:
        d = self.deleted
        if d and d[-1][1] == raw_i and d[-1][2] == edit:
            d[-1] = (d[-1][0], raw_i + 1, edit)
        else:
            d.append((raw_i, raw_i + 1, edit))


# --- traditional → simplified ---------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


@lru_cache(maxsize=1)
def _traditional_chars() -> frozenset[str]:
    """Characters OpenCC changes under t2s (computed once from OpenCC itself)."""
    conv = _t2s()
    chars = [chr(c) for c in range(0x4E00, 0xA000)]
    block = "".join(chars)
    converted = conv.convert(block)
    if len(converted) != len(block):  # pragma: no cover - defensive; OpenCC maps characters 1:1 here
        return frozenset(c for c in chars if conv.convert(c) != c)
    return frozenset(a for a, b in zip(block, converted, strict=True) if a != b)


@lru_cache(maxsize=1)
def _traditional_re() -> re.Pattern:
    """A character class of :func:`_traditional_chars` (a regex scan is far faster than a per-character loop)."""
    return re.compile("[" + "".join(sorted(_traditional_chars())) + "]")


def to_simplified(text: str) -> tuple[str, bool]:
    """Convert traditional characters to simplified, keeping the length (and so the offsets).

    OpenCC converts phrase by phrase; where a phrase changes length we fall back to converting that
    text character by character, so the result always has ``len(text)`` characters.

    Parameters
    ----------
    text : str

    Returns
    -------
    (simplified, changed)
        The text in simplified characters, and whether any character was converted.
    """
    if not _traditional_re().search(text):
        return text, False
    trad = _traditional_chars()
    conv = _t2s()
    out = conv.convert(text)
    if len(out) != len(text):
        out = "".join(conv.convert(c) if c in trad else c for c in text)
        out = "".join(o if len(o) == 1 else c for o, c in zip(out, text, strict=True))
    return out, True


# --- the rules ------------------------------------------------------------------------------------------
_RE_NEWLINE = re.compile(r"\r\n?")
#: the other characters ``str.splitlines`` breaks at (VT, FF, FS, GS, RS, NEL, LS, PS): line breaks
_RE_LINE_SEP = re.compile("[\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
#: the other control characters (C0 but tab/LF/CR, DEL, C1): nothing in a report means them
_RE_CONTROL = re.compile("[\x00-\x08\x0e-\x1b\x1f\x7f-\x84\x86-\x9f]")
_RE_BOLD = re.compile(r"\*\*")
#: a pinyin reading in brackets right after a Chinese character, as mirror sites print them (``據(jù)``): at
#: least one tone-marked vowel, so ``(a)`` or ``（ISO）`` stay
_RE_PINYIN = re.compile(
    rf"(?<=[{CJK}])[(（](?=[a-zü]*[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ])[a-zāáǎàēéěèīíǐìōóǒòūúǔùüǖǘǚǜńňǹḿ]{{1,7}}[)）]"
)
_RE_TAB = re.compile(r"\t")
_RE_FULLWIDTH_ALNUM = re.compile(r"[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\uff0e]")
_RE_ASCII_PUNCT = re.compile(r"[,:;()!?]")
# Every alternative starts at a space: the leading (?=…) changes no match but lets the scan skip text fast.
_RE_SPACE_CJK = re.compile(
    rf"(?={_HSPACE})(?:(?<=[{CJK}{CJK_PUNCT}]){_HSPACE}+|{_HSPACE}+(?=[{CJK}{CJK_PUNCT}])|(?<=\d){_HSPACE}+(?=%)|^{_HSPACE}+|{_HSPACE}+$)",
    re.M,
)
_RE_DOUBLED = re.compile(r"([.。，、；：,])\1+")
_RE_BREAK = re.compile(r"\n(?:[ \t\u3000]*\n)*")


def _ascii_punct(m: re.Match) -> str:
    ch, s, i = m.group(0), m.string, m.start()
    prev = s[i - 1] if i else ""
    nxt = s[i + 1] if i + 1 < len(s) else ""
    if ch in ",:" and prev.isdigit() and nxt.isdigit():  # 1,600 and 10:30 stay
        return ch
    if ch == ":" and nxt == "/":  # URLs
        return ch
    return _TO_FULL[ch]


def _fullwidth_alnum(m: re.Match) -> str:
    ch = m.group(0)
    return "." if ch == "\uff0e" else chr(ord(ch) - 0xFEE0)


def _is_terminal(line: str) -> bool:
    line = line.rstrip("”’」』\"'）)】》")  or line
    return line[-1] in TERMINAL if line else True


_RE_WIDE = re.compile(r"[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf"
                      r"\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]")


def _width(s: str) -> int:
    """Display width: East Asian wide and full-width characters count two, others one (by code block)."""
    return len(s) + len(_RE_WIDE.findall(s))


def wrap_width(text: str) -> int | None:
    """The line width of a hard-wrapped text (PDF text layers wrap every line), or None.

    A text is hard-wrapped when at least 40% of its non-blank lines (and at least 8) end within a few
    columns of one width and no line is much longer: then a break after such a full line is a wrap.

    Parameters
    ----------
    text : str

    Returns
    -------
    int or None
        The display width (wide characters count two) of a full line, or None when not hard-wrapped.
    """
    lines = [ln.strip() for ln in text.split("\n") if ln.strip()]
    if len(lines) < 8 or sum(len(ln) > 150 for ln in lines) > 0.05 * len(lines):
        return None  # quick exit: paragraphs on long lines are not hard-wrapped
    widths = [_width(ln) for ln in lines]
    best, best_n = 0, 0
    for w in set(widths):
        n = sum(1 for x in widths if w - 6 <= x <= w)
        if n > best_n or (n == best_n and w > best):
            best, best_n = w, n
    if best < 30 or best_n < max(8, 0.4 * len(widths)) or max(widths) > best + 8:
        return None
    return best


_TITLE_END = re.compile(r"(?:通报|情况|公告|公示|报告|说明|决定|通知|党组|党委)$")
_PAIRS = {"》": "《", "”": "“", "）": "（"}
_RE_BRACKETS = re.compile("[《》“”（）]")


def _ends_inside_brackets(line: str) -> bool:
    """Whether ``line`` ends after an opening 《 “ （ that it does not close (scanning from the end)."""
    pending: dict[str, int] = {}
    for ch in reversed(_RE_BRACKETS.findall(line)):  # the other characters play no part
        if ch in _PAIRS:
            pending[_PAIRS[ch]] = pending.get(_PAIRS[ch], 0) + 1
        elif ch in "《“（":
            if pending.get(ch):
                pending[ch] -= 1
            else:
                return True
    return False


_TITLE_DONE = re.compile(r"(?:通报|报告)(?:\s*\d{4}[-./年]\d{1,2}[-./月]\d{1,2}日?)?$")


#: a whole title on one line: names the inspection and its rectification and ends as a title does
_WHOLE_TITLE = re.compile(r"^[^。]*(?:巡察|巡视)[^。]*整改[^。]*(?:通报|报告|情况|进展)$")
#: the end of a line that a title's second half continues: an issuer (``…局党组`` / ``关于…``) or 关于
_TITLE_HEAD_END = re.compile(rf"(?:{PARTY_ORG}|委员会|[省市县区州旗]委|人民政府|关于)$")


def _stands_alone(prev: str, nxt: str) -> bool:
    """Web chrome (breadcrumbs, metadata lines) and a finished title are lines of their own; so is a short
    label (a site's column name, 行业新闻) before a whole title."""
    if (len(prev) <= 100 and CHROME_RE.search(prev)) or (len(nxt) <= 100 and CHROME_RE.search(nxt)):
        return True
    if len(prev) <= 12 and "关于" not in prev and not _TITLE_HEAD_END.search(prev) and _WHOLE_TITLE.match(nxt):
        return True
    return "。" not in prev and len(prev) >= 8 and bool(_TITLE_DONE.search(prev))


def _join_broken(m: re.Match, wrap: int | None = None) -> str:
    """Decide whether a line break inside a paragraph is a PDF-extraction artefact."""
    s, a, b = m.string, m.start(), m.end()
    prev_start = s.rfind("\n", 0, a) + 1
    prev = s[prev_start:a].strip()
    nxt_end = s.find("\n", b)
    nxt = s[b : nxt_end if nxt_end != -1 else len(s)].strip()
    if not prev or not nxt:
        return m.group(0)
    if nxt[0] in "，、。；：）》”’」』〉】>,.;:)%％":
        return ""  # a line cannot start with closing punctuation: always a continuation
    if _stands_alone(prev, nxt):
        return m.group(0)
    if wrap and "\n\n" not in m.group(0) and _width(prev) >= wrap - 6:
        if not _is_terminal(prev) or not UNIT_START_RE.match(nxt):
            return ""  # a full line of a hard-wrapped text continues on the next line (even 9|3.75%)
    if _ends_inside_brackets(prev) and not UNIT_START_RE.match(nxt):
        return ""  # an open 《, “ or （ is closed on the next line
    if _is_terminal(prev) or UNIT_START_RE.match(nxt):
        return m.group(0)
    if not re.match(rf"[{CJK}\d“《（(<A-Za-z]", nxt):
        return m.group(0)
    short = len(prev) < 40 and "，" not in prev and (not wrap or _TITLE_END.search(prev))
    if "。" not in prev and (short or HEADING_START_RE.match(prev)):
        # a short line (a title, a signature) or a heading is complete unless what follows is itself an
        # unfinished fragment; a paragraph that merely starts with a heading marker is not a heading.
        # In a hard-wrapped text only a title-like short line stands alone: others are paragraph tails.
        if _is_terminal(nxt) or len(nxt) > 60 or (wrap and _width(nxt) >= wrap - 6):
            return m.group(0)
    return ""


def normalize(raw: str) -> Normalized:
    """Return the canonical text of a report and the offset map back to ``raw``.

    Parameters
    ----------
    raw : str
        Decoded text of a report (any width of punctuation, traditional or simplified characters).

    Returns
    -------
    Normalized
    """
    simplified, traditional = to_simplified(raw)
    ed = _Editor(simplified)
    ed.sub(_RE_NEWLINE, lambda m: "\n", "newline")
    ed.sub(_RE_LINE_SEP, lambda m: "\n", "line_separator")  # a form feed between pages breaks the line
    ed.sub(_RE_CONTROL, lambda m: "", "control")
    ed.sub(_RE_TAB, lambda m: "\n", "tab")  # table cells (docx rows come joined by tabs) are lines of their own
    ed.sub(_RE_BOLD, lambda m: "", "bold_marker")
    ed.sub(_RE_PINYIN, lambda m: "", "pinyin")
    ed.sub(_RE_FULLWIDTH_ALNUM, _fullwidth_alnum, "width")
    ed.sub(_RE_ASCII_PUNCT, _ascii_punct, "width")
    ed.sub(_RE_SPACE_CJK, lambda m: "", "space")
    ed.sub(_RE_DOUBLED, lambda m: m.group(1), "doubled_punctuation")
    wrap = wrap_width(ed.text)
    ed.sub(_RE_BREAK, lambda m: _join_broken(m, wrap), "broken_line")
    # int32 halves the map's memory (a corpus keeps one per report); a text of 2**31 characters needs int64
    dtype = np.int32 if len(raw) < 2**31 - 1 else np.int64
    offsets = np.array(ed.offsets + [len(raw)], dtype=dtype)
    return Normalized(raw=raw, text=ed.text, offsets=offsets, deleted=ed.deleted, traditional=traditional)
