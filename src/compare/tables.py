"""Stage 5: the Corpus — tidy DataFrames ``reports``, ``problems``, ``measures``, ``mentions``, ``errors``.

:func:`process_file` is the per-file work (read → normalise → parse → extract → tokenise), a pure function of
the file's bytes and name, cached by content hash; :func:`load_reports` runs it over a folder, a glob or a list
of paths (in parallel processes with ``jobs``, see :mod:`compare.parallel`) and gathers the rows. A file that
cannot be read or parsed becomes a row of ``errors`` naming the file and the reason; the rest of the batch goes on.

Tokenising is part of the per-file work: the jieba segmentation of every problem's document
(:func:`problem_document`, what the classifier and the clustering read) and of every measure's text is computed
once and kept in the per-file result (and so in its cache entry); the problem documents' segmentations also go
to :mod:`compare.text`'s token cache, where any :class:`compare.text.JiebaTokenizer` with the same dictionary
finds them instead of segmenting again.
"""

from __future__ import annotations

import bisect
import copy
import glob as _glob
import hashlib
import os
import pickle
import traceback
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from . import config, schema
from .extract import find_mentions
from .metadata import read_metadata
from .normalize import Normalized, normalize
from .parse import parse

PathLike = str | os.PathLike


@lru_cache(maxsize=1)
def code_version() -> str:
    """Hash of the per-file stages' source code: a cached result is reused only by the code that made it."""
    h = hashlib.sha256()
    for mod in ("io", "normalize", "parse", "extract", "dates", "tables", "schema"):
        h.update((config.PACKAGE_DIR / f"{mod}.py").read_bytes())
    return h.hexdigest()[:16]


def problem_document(title: str | None, text: str | None) -> str:
    """The text a problem is classified and clustered by: its title, a newline, its full text.

    The same string as :func:`compare.classify.problem_documents` builds for a problem with a text, so the
    tokens computed by the per-file stage are found in the token cache under that document.
    """
    return (title or "").replace("\n", " ") + "\n" + (text or "")


@lru_cache(maxsize=1)
def _jieba_blocks():
    """jieba's block pattern: it segments runs of these characters and yields every other character alone."""
    import jieba

    return jieba.re_han_default


def _tokenizer(cache: bool):
    """A private copy of the project tokenizer (fresh in-memory caches, so a long batch does not grow them)."""
    from .text import default_tokenizer

    tok = copy.copy(default_tokenizer())  # the pickled state: parameters and word lists; caches start empty
    tok.cache = cache
    return tok


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


def _tokenize(problems: list[dict], measures: list[dict], cache: bool) -> dict:
    """Segmentations of the problem documents and measure texts of one report (see the module docstring)."""
    tok = _tokenizer(cache)
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


def _error(path: str, stage: str, exc: BaseException) -> dict:
    reason = getattr(exc, "reason", type(exc).__name__)
    return {"path": path, "stage": stage, "error": reason, "message": f"{path}: {exc}"}


def process_bytes(data: bytes, path: str, report_id: str | None = None, tokens: bool = True,
                  cache: bool = False) -> dict:
    """Read, normalise, parse, extract and tokenise one report given its bytes.

    Parameters
    ----------
    data : bytes
        The file's content.
    path : str
        Its path or name (the suffix selects the reader).
    report_id : str, optional
        Defaults to the file's stem.
    tokens : bool
        Also segment the problems and measures with the project tokenizer (:mod:`compare.text`).
    cache : bool
        Let the tokenizer use its on-disk token cache (read and write).

    Returns
    -------
    dict
        ``report`` (a row), ``problems``, ``measures``, ``mentions``, ``spans`` (lists of rows),
        ``normalized`` (:class:`compare.normalize.Normalized`), ``error`` (a row or ``None``) and ``tokens``:
        ``None``, or ``{"dict_hash": …, "problems": [...], "measures": [...]}``, the raw jieba segmentation (a
        list of str) of every problem's :func:`problem_document` and of every measure's text, in row order.
    """
    from .io import read_bytes

    rid = report_id or Path(path).stem
    out = {"report": None, "problems": [], "measures": [], "mentions": [], "spans": [], "normalized": None,
           "error": None, "tokens": None}
    try:
        doc = read_bytes(data, str(path))
    except Exception as exc:  # io raises ReadError with a reason; anything else is reported too
        out["error"] = _error(str(path), "read", exc)
        return out
    try:
        norm = normalize(doc.text)
        parsed = parse(norm.text)
        meta, meta_warnings = read_metadata(norm.text, parsed)
    except Exception as exc:  # a parser bug must not stop the batch; keep the traceback in the message
        exc.reason = "parse_failed"
        out["error"] = _error(str(path), "parse", exc)
        out["error"]["message"] += "\n" + traceback.format_exc(limit=3)
        return out
    text = norm.text
    out["normalized"] = norm
    warnings = [*meta_warnings, *parsed.warnings]
    if norm.traditional:
        warnings.append("traditional characters converted to simplified")
    n_measures = sum(len(p.measures) for p in parsed.problems)
    out["report"] = {
        "report_id": rid, "source_path": str(path), "source_format": doc.source_format, "encoding": doc.encoding,
        "sha256": doc.sha256, **meta, "n_problems": len(parsed.problems), "n_measures": n_measures,
        "is_report": parsed.is_report, "truncated": parsed.truncated, "n_warnings": len(warnings),
        "n_chars": len(text), "n_chars_raw": len(norm.raw), "warnings": warnings,
    }
    for p in parsed.problems:
        pid = schema.problem_id(rid, p.seq)
        out["problems"].append({
            "report_id": rid, "problem_id": pid, "seq": p.seq, "label": p.label, "aspect": p.aspect, "theme": p.theme,
            "title": p.title, "text": p.text, "n_measures": len(p.measures), "start": p.start, "end": p.end,
        })
        for m in p.measures:
            out["measures"].append({
                "report_id": rid, "problem_id": pid, "measure_id": schema.measure_id(pid, m.seq), "seq": m.seq,
                "label": m.label, "sub_area": m.sub_area, "text": m.text, "start": m.start, "end": m.end,
            })
    # locate mentions in problems/measures by offset: the first problem holding the mention (problems come in
    # document order without overlaps, so a binary search finds it; otherwise scan them all)
    owners = [(p.start, p.end, schema.problem_id(rid, p.seq), [(m.start, m.end, schema.measure_id(schema.problem_id(rid, p.seq), m.seq)) for m in p.measures]) for p in parsed.problems]
    starts = [o[0] for o in owners]
    ordered = all(owners[i][1] <= owners[i + 1][0] for i in range(len(owners) - 1))
    for mn in find_mentions(text):
        pid = mid = None
        k = bisect.bisect_right(starts, mn.start) - 1
        for a, b, ppid, ms in ((owners[k : k + 1] if k >= 0 else []) if ordered else owners):
            if a <= mn.start < b:
                pid = ppid
                mid = next((x for s, e, x in ms if s <= mn.start < e), None)
                break
        out["mentions"].append({
            "report_id": rid, "problem_id": pid, "measure_id": mid, "kind": mn.kind, "text": mn.text,
            "value": None if mn.value is None else str(mn.value), "unit": mn.unit, "start": mn.start, "end": mn.end,
        })
    for s in parsed.spans:
        pid = schema.problem_id(rid, s.problem) if s.problem else None
        out["spans"].append({
            "report_id": rid, "kind": s.kind, "start": s.start, "end": s.end, "problem_id": pid,
            "measure_id": schema.measure_id(pid, s.measure) if (pid and s.measure) else None,
        })
    if tokens:
        out["tokens"] = _tokenize(out["problems"], out["measures"], cache)
    return out


def process_file(path: PathLike, report_id: str | None = None, cache: bool = True, tokens: bool = True) -> dict:
    """:func:`process_bytes` on a file, cached under ``config.CACHE_DIR`` by content hash and code version.

    Parameters
    ----------
    path : path-like
        The report file.
    report_id : str, optional
        Defaults to the file's stem.
    cache : bool
        Reuse (and write) the cached result of these bytes, and let the tokenizer use its token cache.
    tokens : bool
        Tokenise too (the cache key then includes the tokenizer's dictionary hash).

    Returns
    -------
    dict
        See :func:`process_bytes`.
    """
    return _process_file(str(path), report_id, cache, tokens, True)


def _process_file(path: str, report_id: str | None, cache: bool, tokens: bool, load_tokens: bool) -> dict:
    """:func:`process_file`; ``load_tokens=False`` computes and caches the tokens but returns ``tokens: None``.

    A cache entry holds two pickles, the result without its tokens and then the tokens, so a caller that does
    not want the tokens back (:func:`compare.parallel.map_files`) never reads them.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        exc.reason = "not_found" if isinstance(exc, FileNotFoundError) else "unreadable"
        return {"report": None, "problems": [], "measures": [], "mentions": [], "spans": [], "normalized": None,
                "error": _error(path, "read", exc), "tokens": None}
    rid = report_id or Path(path).stem
    if not cache:
        out = process_bytes(data, path, rid, tokens=tokens, cache=False)
        if not load_tokens:
            out["tokens"] = None
        return out
    tok_key = _tokenizer_hash() if tokens else "no-tokens"
    h = hashlib.sha256(data)
    h.update(b"\0" + path.encode() + b"\0" + rid.encode() + b"\0" + code_version().encode() + b"\0" + tok_key.encode())
    key = h.hexdigest()
    cfile = config.CACHE_DIR / "parse" / key[:2] / f"{key}.pkl"
    if cfile.exists():
        try:
            with cfile.open("rb") as fh:
                out = pickle.load(fh)
                out["tokens"] = pickle.load(fh) if load_tokens else None
            return out
        except Exception:  # a damaged cache entry is recomputed
            pass
    out = process_bytes(data, path, rid, tokens=tokens, cache=True)
    cfile.parent.mkdir(parents=True, exist_ok=True)
    tmp = cfile.with_suffix(f".{os.getpid()}.tmp")
    with tmp.open("wb") as fh:
        pickle.dump({**out, "tokens": None}, fh, protocol=pickle.HIGHEST_PROTOCOL)
        pickle.dump(out["tokens"], fh, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, cfile)
    if not load_tokens:
        out["tokens"] = None
    return out


def _tokenizer_hash() -> str:
    """Hash of the project tokenizer's dictionary: tokens cached under another dictionary are not reused."""
    from .text import default_tokenizer

    return default_tokenizer().dict_hash_


def expand_paths(path_or_glob: PathLike | Iterable[PathLike]) -> list[str]:
    """Files named by a folder (its non-hidden files), a glob pattern, a file, or a list of those; sorted."""
    if isinstance(path_or_glob, (str, os.PathLike)):
        items = [path_or_glob]
    else:
        items = list(path_or_glob)
    out: list[str] = []
    for it in items:
        p = Path(it)
        if p.is_dir():
            out.extend(str(q) for q in sorted(p.iterdir()) if q.is_file() and not q.name.startswith("."))
        elif any(ch in str(it) for ch in "*?["):
            out.extend(sorted(q for q in _glob.glob(str(it), recursive=True) if Path(q).is_file()))
        else:
            out.append(str(p))  # a missing file is reported by process_file, not dropped here
    return out


def _report_ids(paths: list[str]) -> list[str]:
    """File stems, made unique (``name``, ``name~docx``, ``name~2``) when two files share one."""
    stems = [Path(p).stem for p in paths]
    seen: dict[str, int] = {}
    out = []
    for p, s in zip(paths, stems, strict=True):
        rid = s if stems.count(s) == 1 else f"{s}~{Path(p).suffix.lstrip('.') or 'noext'}"
        n = seen.get(rid, 0)
        seen[rid] = n + 1
        out.append(rid if n == 0 else f"{rid}~{n + 1}")
    return out


@dataclass(frozen=True)
class LazyDocument:
    """Where a report's :class:`compare.normalize.Normalized` can be made again: its file, id and settings.

    :meth:`load` repeats the per-file work (a read of the per-file cache when ``cache`` is on) and checks the
    file has not changed since the corpus was loaded.
    """

    path: str
    report_id: str
    cache: bool
    tokens: bool
    sha256: str

    def load(self) -> Normalized:
        out = _process_file(self.path, self.report_id, self.cache, self.tokens, False)
        if out["report"] is None or out["report"]["sha256"] != self.sha256:
            raise ValueError(f"{self.path} changed (or vanished) since the corpus was loaded; load it again")
        return out["normalized"]


class Documents(Mapping):
    """``report_id`` → :class:`compare.normalize.Normalized`, loaded on access for lazy entries.

    Holding the text and offset map of every report would be the largest part of a big corpus's memory, so
    :func:`gather` keeps a :class:`LazyDocument` where it can and loads it when asked, keeping the last few
    loaded documents.
    """

    def __init__(self, items=(), recent: int = 16):
        self._items: dict[str, Normalized | LazyDocument] = dict(items)
        self._recent: dict[str, Normalized] = {}
        self._n_recent = recent

    def __getitem__(self, report_id: str) -> Normalized:
        item = self._items[report_id]
        if not isinstance(item, LazyDocument):
            return item
        doc = self._recent.pop(report_id, None) or item.load()
        self._recent[report_id] = doc  # most recent last
        while len(self._recent) > self._n_recent:
            self._recent.pop(next(iter(self._recent)))
        return doc

    def __setitem__(self, report_id: str, item: Normalized | LazyDocument) -> None:
        self._items[report_id] = item
        self._recent.pop(report_id, None)

    def __iter__(self):
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Documents({len(self)} reports)"


@dataclass
class Corpus:
    """The tables of a set of reports (DESIGN.md section 3).

    Attributes
    ----------
    reports, problems, measures, mentions, errors, spans : pandas.DataFrame
    documents : Mapping
        ``report_id`` → :class:`compare.normalize.Normalized` (the canonical text and the map to the raw text);
        a :class:`Documents` that loads each on access.
    """

    reports: pd.DataFrame
    problems: pd.DataFrame
    measures: pd.DataFrame
    mentions: pd.DataFrame
    errors: pd.DataFrame
    spans: pd.DataFrame
    documents: Mapping[str, Normalized] = field(default_factory=Documents, repr=False)

    TABLES = ("reports", "problems", "measures", "mentions", "errors", "spans")

    def __repr__(self) -> str:
        return (f"Corpus({len(self.reports)} reports, {len(self.problems)} problems, {len(self.measures)} measures, "
                f"{len(self.mentions)} mentions, {len(self.errors)} errors)")

    def text(self, report_id: str, start: int, end: int, raw: bool = False) -> str:
        """The text of a span of a report, canonical or (``raw=True``) as in the source."""
        doc = self.documents[report_id]
        return doc.raw_slice(start, end) if raw else doc.text[start:end]

    def save(self, out_dir: PathLike | None = None) -> list[Path]:
        """Write every table as Parquet and as CSV with BOM (opens in Excel) under ``out_dir``."""
        out = Path(out_dir or config.PROCESSED_DIR)
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for name in self.TABLES:
            df = getattr(self, name).copy()
            for col in df.columns:
                if df[col].map(lambda v: isinstance(v, (list, tuple))).any():
                    df[col] = df[col].map(lambda v: "；".join(map(str, v)) if isinstance(v, (list, tuple)) else v)
            df.to_parquet(out / f"{name}.parquet", index=False)
            df.to_csv(out / f"{name}.csv", index=False, encoding="utf-8-sig")
            written += [out / f"{name}.parquet", out / f"{name}.csv"]
        return written


class _Columns:
    """Rows of one table gathered column by column, turned into DataFrames every ``chunk`` rows.

    A dict per row, or the Python objects of every row kept until the end, would cost several times the
    memory of the finished table. ``frame()`` gives the same DataFrame as ``pd.DataFrame(rows,
    columns=columns)``: NaN where a row lacks a key, and a column whose chunks came out with different dtypes
    (a chunk with only missing values) is rebuilt from all its values, so dtypes are those of one call.
    """

    def __init__(self, columns: list[str], chunk: int = 5_000):
        self.columns = list(columns)
        self.chunk = chunk
        self.parts: list[pd.DataFrame] = []
        self._new()

    def _new(self) -> None:
        self.data: dict[str, list] = {c: [] for c in self.columns}
        self.n = 0

    def extend(self, rows: list[dict]) -> None:
        for c, values in self.data.items():
            values.extend(r[c] if c in r else np.nan for r in rows)
        self.n += len(rows)
        if self.n >= self.chunk:
            self._flush()

    def _flush(self) -> None:
        if self.n:
            self.parts.append(pd.DataFrame(self.data, columns=self.columns))
        self._new()

    def frame(self) -> pd.DataFrame:
        self._flush()
        parts, self.parts = self.parts, []
        if not parts:
            return pd.DataFrame(columns=self.columns)
        if len(parts) == 1:
            return parts[0]
        mixed = [c for c in self.columns if len({str(p[c].dtype) for p in parts}) > 1]
        out = pd.concat(parts, ignore_index=True)
        for c in mixed:
            out[c] = pd.DataFrame({c: out[c].tolist()})[c]
        return out


def gather(results: Iterable[dict]) -> Corpus:
    """Assemble per-file results (from :func:`process_file`) into a :class:`Corpus`.

    Parameters
    ----------
    results : iterable of dict
        Consumed one at a time (an iterator such as :func:`compare.parallel.imap_files` keeps only the
        tables in memory, not every file's rows as well).

    Returns
    -------
    Corpus
    """
    tabs = {name: _Columns(cols) for name, cols in (
        ("reports", schema.REPORT_COLUMNS), ("problems", schema.PROBLEM_COLUMNS), ("measures", schema.MEASURE_COLUMNS),
        ("mentions", schema.MENTION_COLUMNS), ("errors", schema.ERROR_COLUMNS), ("spans", schema.SPAN_COLUMNS))}
    docs = Documents()
    for r in results:
        if r["error"] is not None:
            tabs["errors"].extend([r["error"]])
            continue
        tabs["reports"].extend([r["report"]])
        for name in ("problems", "measures", "mentions", "spans"):
            tabs[name].extend(r[name])
        docs[r["report"]["report_id"]] = r["normalized"]
    reports = tabs.pop("reports").frame()
    for col in ("declared_problem_count", "declared_measure_count"):
        reports[col] = reports[col].astype("Int64")
    for col in ("n_problems", "n_measures", "n_warnings", "n_chars", "n_chars_raw"):
        reports[col] = reports[col].astype("int64")
    for col in ("is_report", "truncated"):
        reports[col] = reports[col].astype(bool)
    frames = {name: tabs.pop(name).frame() for name in ("problems", "measures", "mentions", "errors", "spans")}
    return Corpus(reports, frames["problems"], frames["measures"], frames["mentions"], frames["errors"],
                  frames["spans"], docs)


def load_reports(path_or_glob: PathLike | Iterable[PathLike] | None = None, jobs: int = 1, cache: bool = True,
                 progress: bool | None = None, engine: str = "local", scheduler=None, tokens: bool = True) -> Corpus:
    """Load rectification reports into tidy tables.

    Parameters
    ----------
    path_or_glob : path, glob pattern or list of them, optional
        A folder (all its non-hidden files), a glob (``data/raw/*.txt``), a file, or a list. Defaults to
        ``config.RAW_DIR``.
    jobs : int
        Worker processes for the per-file work (``-1`` or ``0``: all cores).
    cache : bool
        Reuse per-file results cached by content hash under ``config.CACHE_DIR``.
    progress : bool, optional
        Show a tqdm progress bar (default: only when stderr is a terminal).
    engine : {"local", "dask"}
        Where the per-file work runs (see :func:`compare.parallel.map_files`).
    scheduler : str or distributed.Client, optional
        The Dask scheduler, with ``engine="dask"``.
    tokens : bool
        Tokenise in the per-file stage (the tokens go to the caches, not to the tables).

    Returns
    -------
    Corpus
        Unreadable or unparsable files are rows of ``corpus.errors``; they never stop the batch.

    Examples
    --------
    >>> corpus = load_reports("data/raw")                       # doctest: +SKIP
    >>> corpus.problems.groupby("report_id").size()             # doctest: +SKIP
    """
    from .parallel import imap_files

    paths = expand_paths(path_or_glob if path_or_glob is not None else config.RAW_DIR)
    ids = _report_ids(paths)
    return gather(imap_files(paths, ids, jobs=jobs, cache=cache, progress=progress, engine=engine,
                             scheduler=scheduler, tokens=tokens))
