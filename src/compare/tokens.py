"""TEMPORARY (merge window): segmentation reuse, until the words refactor lands."""

from __future__ import annotations

import bisect
from functools import lru_cache

from .documents import problem_document


@lru_cache(maxsize=1)
def _jieba_blocks():
    """jieba's block pattern: it segments runs of these characters and yields every other character alone."""
    import jieba

    return jieba.re_han_default


def _sub_segmentation(doc: str, seg: list[str], starts: list[int], blocks, a: int, b: int, cut) -> list[str]:
    """``cut(doc[a:b])``, taken from the segmentation ``seg`` of ``doc`` wherever that is exact.

    jieba segments the runs of :func:`_jieba_blocks` characters independently and yields every other character
    on its own, so the tokens of ``doc`` inside ``doc[a:b]`` are those of ``doc[a:b]``, except in a run that the
    span cuts in two: only such partial runs (at either end) are segmented again.
    """
    if a >= b:
        return cut(doc[a:b])
    run_starts, run_ends = blocks
    k = bisect.bisect_right(run_starts, a) - 1  # the run holding a, or the last one before it
    left = None
    if k >= 0 and run_starts[k] < a < run_ends[k]:
        if b <= run_ends[k]:
            return cut(doc[a:b])  # the span lies inside one run
        left = run_ends[k]
    j = bisect.bisect_left(run_ends, b)  # the run holding b, or the first one after it
    right = None
    if j < len(run_starts) and run_starts[j] < b < run_ends[j]:
        right = run_starts[j]
    lo = a if left is None else left
    hi = b if right is None else right
    i0, i1 = bisect.bisect_left(starts, lo), bisect.bisect_left(starts, hi)
    on_lo = i0 < len(starts) and starts[i0] == lo or lo == hi
    on_hi = i1 < len(starts) and starts[i1] == hi or hi == len(doc)
    if not (on_lo and on_hi):  # not on token boundaries (jieba's rules exclude it; stay exact anyway)
        return cut(doc[a:b])
    out = cut(doc[a:lo]) if left is not None else []
    out += seg[i0:i1]
    if right is not None:
        out += cut(doc[hi:b])
    return out


def segment_report(problems: list[dict], measures: list[dict], tok) -> dict:
    """Segmentations of the problem documents and measure texts of one report."""
    jb = tok.jieba

    def cut(s: str) -> list[str]:
        return list(jb.cut(s, HMM=tok.hmm))

    rx = _jieba_blocks()
    by_problem: dict[str, list[dict]] = {}
    for m in measures:
        by_problem.setdefault(m["problem_id"], []).append(m)
    out_p: list[list[str]] = []
    out_m: list[list[str]] = []
    for p in problems:
        doc = problem_document(p["title"], p["text"])
        head = len(doc) - len(p["text"] or "")
        seg = list(tok.segment(doc))  # jieba, or the token cache (which it fills)
        out_p.append(seg)
        starts, pos = [], 0
        for t in seg:
            starts.append(pos)
            pos += len(t)
        runs = [m.span() for m in rx.finditer(doc)]
        blocks = ([x for x, _ in runs], [y for _, y in runs])
        for m in by_problem.get(p["problem_id"], []):
            text = m["text"] or ""
            at = (p["text"] or "").find(text, max(0, m["start"] - p["start"])) if pos == len(doc) else -1
            if at < 0:
                out_m.append(cut(text))
            else:
                out_m.append(_sub_segmentation(doc, seg, starts, blocks, head + at, head + at + len(text), cut))
    return {"dict_hash": tok.dict_hash_, "problems": out_p, "measures": out_m}
