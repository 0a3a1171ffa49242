"""Stage: words — the one definition of the text a problem or a measure is read by.

Everything that reads a problem's words (the per-file tokenising, the classifier, the clustering, the
vocabulary audit) reads the same **problem document**: the problem's title (on one line), a newline, and its
full text (the text of the problems table holds the problem heading and every measure). A **measure
document** is the measure's lead phrase (up to the first ``。；：！？``, at most 40 characters), a newline, and
the measure text. In both, the first line plays the part of a title.

:func:`measure_segments` cuts a problem document's body into its measures at the ``一是/二是…`` ordinals, and
:func:`han_only` is the preprocessor of the character n-grams (Han characters only).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

__all__ = [
    "as_text",
    "han_only",
    "measure_document",
    "measure_documents",
    "measure_segments",
    "measure_spans",
    "problem_document",
    "problem_documents",
    "title_of",
]

_NON_HAN_RE = re.compile(r"[^\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_LEAD_RE = re.compile(r"^(.{1,40}?)[。；：！？]")
_ORDINAL_RE = re.compile(r"(?:(?<=^)|(?<=[。；：！？\n]))[ \t]*[一二三四五六七八九十]{1,3}是")


def as_text(value) -> str:
    """``value`` as a string: ``""`` for None and NaN."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value)


def han_only(text: str) -> str:
    """Replace every run of non-Han characters (digits, punctuation, Latin) by one space.

    The preprocessor of the character n-grams: numbers and punctuation carry no topic, and ``char_wb``
    then never builds an n-gram across them.
    """
    return _NON_HAN_RE.sub(" ", text or "")


def title_of(doc: str) -> str:
    """The first line of a document (its title)."""
    return doc.split("\n", 1)[0]


def problem_document(title: str | None, text: str | None) -> str:
    """The text a problem is read by: its title (newlines made spaces), a newline, its full text.

    Parameters
    ----------
    title, text : str or None

    Returns
    -------
    str
    """
    return as_text(title).replace("\n", " ") + "\n" + as_text(text)


def _measure_texts(problems: pd.DataFrame, measures: pd.DataFrame | None) -> dict:
    """``problem_id`` → its measures' texts joined by newlines, for the problems that have no text."""
    missing = problems["text"].map(lambda t: not as_text(t).strip()) if "text" in problems else None
    if measures is None or not len(measures) or (missing is not None and not missing.any()):
        return {}
    by_problem = {}
    for pid, grp in measures.sort_values(["problem_id", "seq"]).groupby("problem_id", sort=False):
        by_problem[pid] = "\n".join(grp["text"].map(as_text))
    return by_problem


def problem_documents(problems: pd.DataFrame, measures: pd.DataFrame | None = None) -> list[str]:
    """The :func:`problem_document` of every problem of a table.

    Parameters
    ----------
    problems : pandas.DataFrame
        ``title`` and ``text`` (the problems table, whose text holds the measures).
    measures : pandas.DataFrame, optional
        Used only for problems without a ``text``: their measures' texts, in order, stand in for it.

    Returns
    -------
    list of str
    """
    by_problem = _measure_texts(problems, measures)
    docs = []
    for title, text, pid in zip(*(_column(problems, c) for c in ("title", "text", "problem_id")), strict=True):
        text = as_text(text)
        if not text.strip():
            text = by_problem.get(pid, "")
        docs.append(problem_document(title, text))
    return docs


def _column(df: pd.DataFrame, name: str) -> list:
    """A column's values as a list (None where the table has no such column): read in one piece, not row by row."""
    return df[name].tolist() if name in df else [None] * len(df)


def measure_document(text: str | None) -> str:
    """The text a measure is read by: its lead phrase (up to the first ``。；：！？``), a newline, its text."""
    text = as_text(text)
    m = _LEAD_RE.match(text)
    return (m.group(1) if m else "") + "\n" + text


def measure_documents(measures: pd.DataFrame) -> list[str]:
    """The :func:`measure_document` of every measure of a table (column ``text``)."""
    return [measure_document(t) for t in _column(measures, "text")]


def measure_segments(doc: str) -> list[str]:
    """The measures of a document: its body (after the title line) cut at the ``一是/二是…`` ordinals.

    A body without ordinals is one measure; text before the first ordinal (the heading) is dropped.
    """
    return [doc[a:b] for a, b in measure_spans(doc)]


def measure_spans(doc: str) -> list[tuple[int, int]]:
    """Where the :func:`measure_segments` of a document lie in it: ``(start, end)`` of each, whitespace stripped."""
    nl = doc.find("\n")
    if nl < 0:
        return []
    base, body = nl + 1, doc[nl + 1:]
    cuts = [m.span() for m in _ORDINAL_RE.finditer(body)]
    pieces = (zip([e for _, e in cuts], [s for s, _ in cuts[1:]] + [len(body)], strict=True) if cuts
              else [(0, len(body))])
    out = []
    for a, b in pieces:
        seg = body[a:b]
        kept = seg.strip()
        if kept:
            lead = a + len(seg) - len(seg.lstrip())
            out.append((base + lead, base + lead + len(kept)))
    return out
