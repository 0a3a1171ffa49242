"""Stage 5: the corpus — per-file work, gathered into the tables ``reports``, ``problems``, ``measures``,
``mentions``, ``errors`` and ``spans``.

:func:`process_bytes` is the per-file work (read → normalise → parse → metadata → extract → tokenise), a pure
function of a file's bytes and name that returns a :class:`compare.schema.FileResult`. Any exception in one
step becomes that file's ``errors`` row naming the step; the rest of the batch goes on.
:func:`process_file` caches the result by content hash in a :class:`compare.cache.Cache` as data (JSON), and
:func:`read_corpus` maps it over many files with :mod:`compare.runner` and gathers the rows
(:func:`gather`). :meth:`Corpus.load` reads back what a build wrote.

Nothing here picks a folder, a tokenizer or a cache: the caller passes them (``compare.load_reports`` is the
convenience that resolves the defaults).
"""

from __future__ import annotations

import bisect
import contextlib
import glob as _glob
import hashlib
import os
import traceback
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from . import runner, schema
from .cache import Cache, digest, source_fingerprint
from .extract import find_mentions
from .metadata import read_metadata
from .normalize import Normalized, normalize
from .parse import parse
from .schema import FileResult
from .tokens import segment_report

PathLike = str | os.PathLike
TABLES = ("reports", "problems", "measures", "mentions", "errors", "spans")

__all__ = ["STORED", "TABLES", "Corpus", "Documents", "LazyDocument", "StoredTable", "expand_paths", "gather",
           "process_bytes", "process_file", "read_corpus", "report_ids", "row_batch"]


# --------------------------------------------------------------------------------------------- per-file work
def _error(path: str, stage: str, exc: BaseException) -> dict:
    reason = getattr(exc, "reason", None) or f"{stage}_failed"
    message = f"{path}: {exc}" if reason != f"{stage}_failed" else f"{path}: {stage} failed: {type(exc).__name__}: {exc}"
    return {"path": path, "stage": stage, "error": reason, "message": message}


def _report_row(rid, path, doc, norm, parsed, meta, warnings) -> dict:
    return {
        "report_id": rid, "source_path": str(path), "source_format": doc.source_format, "encoding": doc.encoding,
        "sha256": doc.sha256, **meta, "n_problems": len(parsed.problems),
        "n_measures": sum(len(p.measures) for p in parsed.problems), "is_report": parsed.is_report,
        "truncated": parsed.truncated, "n_warnings": len(warnings), "n_chars": len(norm.text),
        "n_chars_raw": len(norm.raw), "warnings": warnings,
    }


def _structure_rows(rid: str, parsed) -> tuple[list[dict], list[dict], list[dict]]:
    problems, measures = [], []
    for p in parsed.problems:
        pid = schema.problem_id(rid, p.seq)
        problems.append({
            "report_id": rid, "problem_id": pid, "seq": p.seq, "label": p.label, "aspect": p.aspect, "theme": p.theme,
            "title": p.title, "text": p.text, "n_measures": len(p.measures), "start": p.start, "end": p.end,
        })
        measures.extend({
            "report_id": rid, "problem_id": pid, "measure_id": schema.measure_id(pid, m.seq), "seq": m.seq,
            "label": m.label, "sub_area": m.sub_area, "text": m.text, "start": m.start, "end": m.end,
        } for m in p.measures)
    spans = []
    for s in parsed.spans:
        pid = schema.problem_id(rid, s.problem) if s.problem else None
        spans.append({"report_id": rid, "kind": s.kind, "start": s.start, "end": s.end, "problem_id": pid,
                      "measure_id": schema.measure_id(pid, s.measure) if (pid and s.measure) else None})
    return problems, measures, spans


def _mention_rows(rid: str, text: str, problems: list[dict], measures: list[dict]) -> list[dict]:
    """Mentions of the text, each placed in the problem and measure that hold it (by offset)."""
    by_problem: dict[str, list[dict]] = {}
    for m in measures:
        by_problem.setdefault(m["problem_id"], []).append(m)
    starts = [p["start"] for p in problems]
    ordered = all(problems[i]["end"] <= problems[i + 1]["start"] for i in range(len(problems) - 1))
    out = []
    for mn in find_mentions(text):
        pid = mid = None
        k = bisect.bisect_right(starts, mn.start) - 1
        for p in ((problems[k:k + 1] if k >= 0 else []) if ordered else problems):
            if p["start"] <= mn.start < p["end"]:
                pid = p["problem_id"]
                mid = next((m["measure_id"] for m in by_problem.get(pid, []) if m["start"] <= mn.start < m["end"]),
                           None)
                break
        out.append({"report_id": rid, "problem_id": pid, "measure_id": mid, "kind": mn.kind, "text": mn.text,
                    "value": None if mn.value is None else str(mn.value), "unit": mn.unit, "start": mn.start,
                    "end": mn.end})
    return out


def process_bytes(data: bytes, path: str, report_id: str | None = None, tokenizer=None,
                  max_chars: int | None = None) -> FileResult:
    """Read, normalise, parse, read the metadata, extract and (with a ``tokenizer``) tokenise one report.

    Parameters
    ----------
    data : bytes
        The file's content.
    path : str
        Its path or name (the suffix selects the reader).
    report_id : str, optional
        Defaults to the file's stem.
    tokenizer : compare.tokens.JiebaTokenizer, optional
        Segment every problem document and measure text (kept in ``tokens``); None: no tokens.
    max_chars : int, optional
        The reader's size limit (default :data:`compare.io.DEFAULT_MAX_CHARS`): a bigger text is ``too_large``.

    Returns
    -------
    compare.schema.FileResult
        With ``error`` set (and no rows) when a step failed; ``error["stage"]`` names the step. The reader's
        warnings (replaced bytes, blank PDF pages …) come first in the report's ``warnings``.
    """
    from .io import DEFAULT_MAX_CHARS, read_bytes

    rid = report_id or Path(path).stem
    res = FileResult(str(path), rid)
    stage = "read"
    try:
        doc = read_bytes(data, str(path), max_chars or DEFAULT_MAX_CHARS)
        stage = "normalize"
        norm = normalize(doc.text)
        stage = "parse"
        parsed = parse(norm.text)
        stage = "metadata"
        meta, meta_warnings = read_metadata(norm.text, parsed, doc.page_meta)
        warnings = [*doc.warnings, *meta_warnings, *parsed.warnings]
        if norm.traditional:
            warnings.append("traditional characters converted to simplified")
        res.report = _report_row(rid, path, doc, norm, parsed, meta, warnings)
        res.problems, res.measures, res.spans = _structure_rows(rid, parsed)
        stage = "extract"
        res.mentions = _mention_rows(rid, norm.text, res.problems, res.measures)
        res.document = norm
        stage = "tokens"
        if tokenizer is not None:
            res.tokens = segment_report(res.problems, res.measures, tokenizer)
    except Exception as exc:  # one bad report never stops the batch: it becomes an errors row
        err = _error(str(path), stage, exc)
        if stage != "read":
            err["message"] += "\n" + traceback.format_exc(limit=3)
        return FileResult(str(path), rid, error=err)
    return res


# --------------------------------------------------------------------------------------------- the cache entry
def _offset_runs(offsets: np.ndarray) -> list[list[int]]:
    """The offset map as runs ``[first index, its offset]`` within which the offset grows by one per character
    (a few per report instead of one number per character)."""
    offsets = np.asarray(offsets, dtype=np.int64)
    if not len(offsets):
        return []
    starts = np.flatnonzero(np.diff(offsets) != 1) + 1
    starts = np.concatenate([[0], starts])
    return np.stack([starts, offsets[starts]], axis=1).tolist()


def _offsets_from_runs(runs: list[list[int]], n: int) -> np.ndarray:
    """:func:`_offset_runs` undone: the offset of each of ``n`` characters."""
    if not runs:
        return np.zeros(0, dtype=np.int32)
    starts, values = np.asarray(runs, dtype=np.int64).T
    lengths = np.diff(np.concatenate([starts, [n]]))
    return (np.arange(n) + np.repeat(values - starts, lengths)).astype(np.int32)


def _document_json(norm: Normalized) -> dict:
    return {"raw": norm.raw, "text": norm.text, "offset_runs": _offset_runs(norm.offsets),
            "n_offsets": len(norm.offsets), "deleted": [list(d) for d in norm.deleted],
            "traditional": norm.traditional}


def _document_from(d: dict) -> Normalized:
    offsets = (_offsets_from_runs(d["offset_runs"], d["n_offsets"]) if "offset_runs" in d
               else np.asarray(d["offsets"], dtype=np.int32))
    return Normalized(raw=d["raw"], text=d["text"], offsets=offsets,
                      deleted=[tuple(x) for x in d["deleted"]], traditional=bool(d["traditional"]))


def _entry_key(data: bytes, path: str, rid: str, dict_hash: str | None, max_chars: int | None = None) -> str:
    limit = () if max_chars is None else (f"max_chars={max_chars}",)
    return digest(hashlib.sha256(data).hexdigest(), path, rid, source_fingerprint(), dict_hash or "no-tokens", *limit)


def _from_entry(entry: dict, path: str, rid: str) -> FileResult:
    res = FileResult(path, rid, report=entry["report"], error=entry["error"],
                     **{t: entry[t] for t in FileResult.TABLES})
    if entry.get("document") is not None:
        res.document = _document_from(entry["document"])
    return res


def process_file(path: PathLike, report_id: str | None = None, cache: Cache | None = None, tokenizer=None,
                 want_tokens: bool = True, max_chars: int | None = None,
                 dict_hash: str | None = None) -> FileResult:
    """:func:`process_bytes` on a file, cached in ``cache`` by content hash, code fingerprint and dictionary.

    Parameters
    ----------
    path : path-like
    report_id : str, optional
        Defaults to the file's stem.
    cache : compare.cache.Cache, optional
        Where results are kept as data (None: always recompute).
    tokenizer : compare.tokens.JiebaTokenizer, optional
        Tokenise too (see :func:`process_bytes`).
    want_tokens : bool
        Return the tokens (False: they are computed and cached, but not read back or returned).
    max_chars : int, optional
        The reader's size limit (see :func:`process_bytes`); a file too big for it is refused unread.
    dict_hash : str, optional
        Without a tokenizer: the ``dict_hash_`` of the tokenizer whose run cached this file, whose entry
        (tokens and all) is then read first (a :class:`LazyDocument` loading its report again).

    A missing file, a dangling link, a symlink loop, a folder (``x.txt/``) or a file too large gives an
    ``errors`` row (stage ``read``), like a file that cannot be decoded.
    """
    path = str(path)
    rid = report_id or Path(path).stem
    try:
        data = _file_bytes(path, max_chars)
    except Exception as exc:  # ReadError, or an unsupported suffix
        return FileResult(path, rid, error=_error(path, "read", exc))
    cache = cache or Cache(None)
    key = _entry_key(data, path, rid, tokenizer.dict_hash_ if tokenizer is not None else None, max_chars)
    entry = cache.read_json("parse", key)
    if entry is None and tokenizer is None and dict_hash is not None:
        entry = cache.read_json("parse", _entry_key(data, path, rid, dict_hash, max_chars))
    if entry is not None and "report" in entry:
        res = _from_entry(entry, path, rid)
        if tokenizer is not None and want_tokens:
            res.tokens = _cached_tokens(entry, res, tokenizer)
        if tokenizer is None or not want_tokens or res.tokens is not None or not res.ok:
            return res
    res = process_bytes(data, path, rid, tokenizer, max_chars)
    doc = _document_json(res.document) if res.document is not None else None
    # the problems' segmentations are in the tokenizer's own cache already; the measures' travel here
    measure_tokens = res.tokens["measures"] if res.tokens is not None else None
    cache.write_json("parse", key, {**res.rows(), "document": doc, "measure_tokens": measure_tokens})
    if not want_tokens:
        res.tokens = None
    return res


def _cached_tokens(entry: dict, res: FileResult, tokenizer) -> dict | None:
    """A cached report's tokens: the measures' from its entry, the problems' from the tokenizer's cache."""
    from .documents import problem_document

    if not isinstance(entry.get("measure_tokens"), list):
        return None
    problems = tokenizer.segment_all([problem_document(p["title"], p["text"]) for p in res.problems])
    return {"dict_hash": tokenizer.dict_hash_, "problems": [list(s) for s in problems],
            "measures": entry["measure_tokens"]}


def _file_bytes(path: str, max_chars: int | None) -> bytes:
    """The bytes of ``path``, or a ReadError that says why it names no readable file."""
    from .io import DEFAULT_MAX_CHARS, ReadError, check_size

    p = Path(path)
    if p.is_symlink() and not p.exists():
        try:
            p.resolve(strict=True)
        except (RuntimeError, OSError) as exc:  # RuntimeError: a loop before Python 3.13
            if isinstance(exc, FileNotFoundError):
                raise ReadError(path, "not_found", f"dangling symlink to {os.readlink(p)!r}") from None
            raise ReadError(path, "unreadable", "symlink loop") from None
    if p.is_dir():
        raise ReadError(path, "unreadable", "a folder, not a file")
    try:
        check_size(path, p.stat().st_size, max_chars or DEFAULT_MAX_CHARS)
        return p.read_bytes()
    except FileNotFoundError:
        raise ReadError(path, "not_found") from None
    except OSError as exc:
        raise ReadError(path, "unreadable", exc.strerror or type(exc).__name__) from None


# --------------------------------------------------------------------------------------------- files
def expand_paths(path_or_glob: PathLike | Iterable[PathLike]) -> list[str]:
    """Files named by a folder (its non-hidden files), a glob pattern, a file, or a list of those; sorted.

    A folder's or a pattern's entry that is named like a report (``.txt``, ``.docx`` … ) but is no readable
    file — a dangling link, a symlink loop, a folder ``x.txt/`` — is kept, so that :func:`process_file`
    gives it an ``errors`` row instead of it vanishing from the build.
    """
    items = [path_or_glob] if isinstance(path_or_glob, (str, os.PathLike)) else list(path_or_glob)
    out: list[str] = []
    for it in items:
        p = Path(it)
        if p.is_dir():
            out.extend(str(q) for q in sorted(p.iterdir()) if _listed(q))
        elif any(ch in str(it) for ch in "*?["):
            out.extend(sorted(q for q in _glob.glob(str(it), recursive=True) if _listed(Path(q))))
        else:
            out.append(str(p))  # a missing file is reported by process_file, not dropped here
    return out


def _looks_like_report(p: Path) -> bool:
    from .io import SUPPORTED_SUFFIXES

    return p.suffix.lower() in SUPPORTED_SUFFIXES


def _listed(q: Path) -> bool:
    """A folder entry worth a row: a visible file, or anything named like a report."""
    if q.name.startswith("."):
        return False
    return q.is_file() or _looks_like_report(q)


def report_ids(paths: list[str]) -> list[str]:
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


# --------------------------------------------------------------------------------------------- documents
@dataclass(frozen=True)
class LazyDocument:
    """Where a report's :class:`compare.normalize.Normalized` can be made again: its file, id, cache and hash.

    :meth:`load` repeats the per-file work (a read of the cache entry when there is one) and checks the file
    has not changed since the corpus was loaded. ``dict_hash`` names the tokenizer of the run that cached the
    report, whose entry is the one to read (without it, or when that entry is gone, the file is parsed again).
    """

    path: str
    report_id: str
    cache: Cache | None
    sha256: str
    max_chars: int | None = None
    dict_hash: str | None = None

    def load(self) -> Normalized:
        res = process_file(self.path, self.report_id, self.cache, None, want_tokens=False, max_chars=self.max_chars,
                           dict_hash=self.dict_hash)
        if res.report is None or res.report["sha256"] != self.sha256:
            raise ValueError(f"{self.path} changed (or vanished) since the corpus was loaded; load it again")
        return res.document


class Documents(Mapping):
    """``report_id`` → :class:`compare.normalize.Normalized`, loaded on access for lazy entries.

    Holding the text and offset map of every report would be the largest part of a big corpus's memory, so
    :func:`gather` keeps a :class:`LazyDocument` where it can and loads it when asked, keeping the last few.
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


# --------------------------------------------------------------------------------------------- the corpus
class StoredTable:
    """A table kept in a Parquet file and read back (Arrow-backed) when asked for.

    :class:`Corpus` holds its large tables that few steps read (``mentions``, ``spans``) this way when its
    loader was given a folder: at 10,000 reports they are about half a gigabyte. The frame read last is shared
    while anyone holds it (a weak reference), so two reads in one expression read the file once; an edit made in
    place to that frame is gone once it is dropped (assign a frame to the corpus to keep it in memory).
    ``owned``: the file is removed when this handle is, and its folder with it once empty.
    """

    def __init__(self, path: PathLike, owned: bool = False):
        self.path = Path(path)
        self._last = None
        if owned:
            weakref.finalize(self, _remove_file, str(self.path))

    def frame(self) -> pd.DataFrame:
        df = self._last() if self._last is not None else None
        if df is None:
            df = pd.read_parquet(self.path)
            self._last = weakref.ref(df)
        return df

    def __len__(self) -> int:
        import pyarrow.parquet as pq

        return pq.ParquetFile(self.path).metadata.num_rows

    def __repr__(self) -> str:
        return f"StoredTable({str(self.path)!r})"

    def __reduce__(self):  # a copy (pickle, deepcopy) is the frame itself: it must not outlive this file
        return (_same, (self.frame(),))


def _same(value):
    return value


def _remove_file(path: str) -> None:
    with contextlib.suppress(OSError):
        os.remove(path)
    with contextlib.suppress(OSError):
        os.rmdir(os.path.dirname(path))  # only when empty: the other stored tables of the corpus may be there


class _Table:
    """A :class:`Corpus` table attribute: a DataFrame, or a :class:`StoredTable` read on access."""

    def __set_name__(self, owner, name: str) -> None:
        self.name = name

    def __get__(self, obj, owner=None):
        if obj is None:
            raise AttributeError(self.name)  # no class-level default: the dataclass field stays required
        value = obj.__dict__[self.name]
        return value.frame() if isinstance(value, StoredTable) else value

    def __set__(self, obj, value) -> None:
        obj.__dict__[self.name] = value


@dataclass
class Corpus:
    """The tables of a set of reports (DESIGN.md section 3).

    Attributes
    ----------
    reports, problems, measures, mentions, errors, spans : pandas.DataFrame
        ``mentions`` and ``spans`` may be given as a :class:`StoredTable`: each access reads its file.
    documents : Mapping
        ``report_id`` → :class:`compare.normalize.Normalized` (the canonical text and the map to the raw text);
        a :class:`Documents` that loads each on access.
    """

    reports: pd.DataFrame
    problems: pd.DataFrame
    measures: pd.DataFrame
    mentions: pd.DataFrame = _Table()
    errors: pd.DataFrame
    spans: pd.DataFrame = _Table()
    documents: Mapping[str, Normalized] = field(default_factory=Documents, repr=False)

    TABLES = TABLES

    def __repr__(self) -> str:
        return (f"Corpus({len(self.reports)} reports, {len(self.problems)} problems, {len(self.measures)} measures, "
                f"{self.size('mentions')} mentions, {len(self.errors)} errors)")

    def size(self, name: str) -> int:
        """The number of rows of a table, without reading a stored one."""
        return len(self.__dict__[name])

    def text(self, report_id: str, start: int, end: int, raw: bool = False) -> str:
        """The text of a span of a report, canonical or (``raw=True``) as in the source."""
        doc = self.documents[report_id]
        return doc.raw_slice(start, end) if raw else doc.text[start:end]

    def tables(self) -> dict[str, pd.DataFrame]:
        """The six tables by name."""
        return {name: getattr(self, name) for name in TABLES}

    @classmethod
    def load(cls, out: PathLike, cache: Cache | None = None, dict_hash: str | None = None) -> Corpus:
        """The corpus a build wrote into ``out`` (its Parquet tables; those of :data:`STORED` read on access);
        documents load from the source files, or from ``cache`` where the build's run kept them (``dict_hash``:
        its tokenizer's, see :class:`LazyDocument`).

        Raises ``FileNotFoundError`` naming the folder when a table is missing.
        """
        out = Path(out)
        missing = [n for n in TABLES if not (out / f"{n}.parquet").is_file()]
        if missing:
            raise FileNotFoundError(f"{out} holds no complete build: missing {', '.join(missing)}.parquet")
        frames = {n: StoredTable(out / f"{n}.parquet") if n in STORED else pd.read_parquet(out / f"{n}.parquet")
                  for n in TABLES}
        docs = Documents({r.report_id: LazyDocument(r.source_path, r.report_id, cache, r.sha256, dict_hash=dict_hash)
                          for r in frames["reports"].itertuples()})
        return cls(**frames, documents=docs)


class _Columns:
    """Rows of one table gathered column by column, turned into DataFrames every ``chunk`` rows.

    ``frame()`` gives the same DataFrame as ``pd.DataFrame(rows, columns=columns)``: NaN where a row lacks a
    key, and a column whose chunks came out with different dtypes is rebuilt from all its values.
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
        parts = _text_dtypes(parts, mixed)
        mixed = [c for c in mixed if len({str(p[c].dtype) for p in parts}) > 1]
        out = pd.concat(parts, ignore_index=True)
        for c in mixed:
            out[c] = pd.DataFrame({c: out[c].tolist()})[c]
        return out


#: The columns of the row tables that hold whole numbers; every other column of them is text.
_INT_COLUMNS = frozenset({"seq", "n_measures", "start", "end"})


def _arrow_schema(name: str):
    import pyarrow as pa

    return pa.schema([(c, pa.int64() if c in _INT_COLUMNS else pa.large_string()) for c in _COLUMNS[name]])


def row_batch(name: str, rows: list[dict]):
    """The rows of one report for table ``name`` (one of :attr:`compare.schema.FileResult.TABLES`) as an Arrow
    record batch of that table's schema (a missing key is null).

    The per-file work in a worker sends its rows so (:func:`read_corpus`): the parent then unpickles a few
    buffers per report instead of a Python object per value, which at 10,000 reports left freed memory
    scattered through the parent's heap, and it gathers with no loop over rows.
    """
    import pyarrow as pa

    schema = _arrow_schema(name)
    return pa.RecordBatch.from_arrays([pa.array([r.get(f.name) for r in rows], type=f.type) for f in schema],
                                      schema=schema)


class _Batches:
    """The record batches of one table, combined every ``chunk`` rows into one contiguous chunk (which lets the
    per-report buffers go) and, with a ``path``, written to a Parquet file instead of kept.

    :meth:`frame` gives the DataFrame (text columns ``str``, whole numbers ``int64``), or with a path a
    :class:`StoredTable` that reads it back.
    """

    def __init__(self, name: str, path: Path | None = None, chunk: int = 4_096):
        self.schema = _arrow_schema(name)
        self.path = None if path is None else Path(path)
        self.chunk = chunk
        self.pending: list = []
        self.n = 0
        self.chunks: list = []
        self.writer = None

    def add(self, batch) -> None:
        self.pending.append(batch)
        self.n += batch.num_rows
        if self.n >= self.chunk:
            self._flush()

    def _flush(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_batches(self.pending, self.schema).combine_chunks()
        self.pending, self.n = [], 0
        if self.path is None:
            self.chunks.append(table)
            return
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.path, self.schema)
        self.writer.write_table(table)

    def frame(self) -> pd.DataFrame | StoredTable:
        import pyarrow as pa

        self._flush()
        if self.path is not None:
            self.writer.close()
            return StoredTable(self.path, owned=True)
        chunks, self.chunks = self.chunks, []
        return pa.concat_tables(chunks).to_pandas(self_destruct=True)

    def discard(self) -> None:
        """Close and remove the file (a gather that failed)."""
        if self.writer is not None:
            self.writer.close()
        if self.path is not None:
            _remove_file(str(self.path))


def _text_dtypes(parts: list[pd.DataFrame], columns: list[str]) -> list[pd.DataFrame]:
    """Chunks whose column is all missing take the text dtype of the other chunks of that column.

    That is the dtype one DataFrame of all the rows infers, reached without turning a text column of the whole
    corpus into Python strings (the fallback for other mixtures), which at 10,000 reports was the largest
    transient memory of the gather.
    """
    casts: dict[str, object] = {}
    for c in columns:
        full = {str(p[c].dtype): p[c].dtype for p in parts if not p[c].isna().all()}
        if len(full) == 1 and pd.api.types.is_string_dtype(next(iter(full.values()))) and "object" not in full:
            casts[c] = next(iter(full.values()))
    if not casts:
        return parts
    out = []
    for p in parts:
        todo = {c: d for c, d in casts.items() if p[c].dtype != d}
        out.append(p.astype(todo) if todo else p)
    return out


_COLUMNS = {"reports": schema.REPORT_COLUMNS, "problems": schema.PROBLEM_COLUMNS,
            "measures": schema.MEASURE_COLUMNS, "mentions": schema.MENTION_COLUMNS,
            "errors": schema.ERROR_COLUMNS, "spans": schema.SPAN_COLUMNS}


def _typed_reports(reports: pd.DataFrame) -> pd.DataFrame:
    for col in ("declared_problem_count", "declared_measure_count"):
        reports[col] = pd.array([None if pd.isna(v) else int(v) for v in reports[col]], dtype="Int64")
    for col in ("n_problems", "n_measures", "n_warnings", "n_chars", "n_chars_raw"):
        reports[col] = reports[col].astype("int64")
    for col in ("is_report", "truncated"):
        reports[col] = reports[col].astype(bool)
    return reports


#: The tables a gather given a folder writes to Parquet as it goes (:class:`StoredTable`), not kept in memory.
STORED = ("mentions", "spans")


def gather(results: Iterable[FileResult], folder: PathLike | None = None) -> Corpus:
    """Assemble per-file results into a :class:`Corpus`, consuming them one at a time.

    Parameters
    ----------
    results : iterable of compare.schema.FileResult
        An iterator (such as :func:`read_corpus`'s) keeps only the tables in memory.
    folder : path, optional
        An empty folder (made if missing) for the tables of :data:`STORED`: they are written there chunk by
        chunk and the corpus reads them on access (:class:`StoredTable`). Their files, and then the folder, are
        removed with the last handle on them. None: every table is held in memory.
    """
    tabs: dict = {"reports": _Columns(_COLUMNS["reports"]), "errors": _Columns(_COLUMNS["errors"])}
    if folder is not None:
        Path(folder).mkdir(parents=True, exist_ok=True)
    tabs.update({name: _Batches(name, Path(folder) / f"{name}.parquet" if folder is not None and name in STORED
                                else None) for name in FileResult.TABLES})
    try:
        return _gather(results, tabs)
    except BaseException:
        for t in tabs.values():
            if isinstance(t, _Batches):
                t.discard()
        raise


def _gather(results: Iterable[FileResult], tabs: dict) -> Corpus:
    docs = Documents()
    for r in results:
        if r.error is not None:
            tabs["errors"].extend([r.error])
            continue
        tabs["reports"].extend([r.report])
        for name in FileResult.TABLES:
            tabs[name].add(r.batches[name] if r.batches is not None else row_batch(name, getattr(r, name)))
        docs[r.report_id] = r.document
    frames = {name: t.frame() for name, t in tabs.items()}
    frames["reports"] = _typed_reports(frames["reports"])
    return Corpus(**frames, documents=docs)


def _work(item: tuple[str, str], cache: Cache | None, tokenizer, lazy: bool = True,
          max_chars: int | None = None) -> FileResult:
    """The per-file work in a worker: the rows travel back as Arrow record batches (:func:`row_batch`), the
    document as a handle, not as text and offset map.

    ``lazy=False`` (a Dask cluster, whose workers' files and caches this machine may not see) sends the
    document back whole.
    """
    path, rid = item
    res = process_file(path, rid, cache, tokenizer, want_tokens=False, max_chars=max_chars)
    if res.ok:
        res.batches = {name: row_batch(name, getattr(res, name)) for name in FileResult.TABLES}
        for name in FileResult.TABLES:
            setattr(res, name, [])
    if lazy and res.document is not None and cache is not None and cache.enabled:
        res.document = LazyDocument(path, rid, cache, res.report["sha256"], max_chars,
                                    tokenizer.dict_hash_ if tokenizer is not None else None)
    return res


def read_corpus(paths: list[str], ids: list[str] | None = None, *, cache: Cache | None = None, tokenizer=None,
                jobs: int | None = 1, engine: str = "local", scheduler=None,
                progress: bool | None = None, max_chars: int | None = None, folder: PathLike | None = None) -> Corpus:
    """Run the per-file work over ``paths`` (with :mod:`compare.runner`) and gather the tables.

    Parameters
    ----------
    paths : list of str
        Files (see :func:`expand_paths`).
    ids : list of str, optional
        Their report ids (default :func:`report_ids`).
    cache : compare.cache.Cache, optional
    tokenizer : compare.tokens.JiebaTokenizer, optional
        Tokenise in the per-file stage (the tokens go to the caches, not to the tables).
    jobs, engine, scheduler, progress
        See :func:`compare.runner.imap`.
    max_chars : int, optional
        The reader's size limit per file (default :data:`compare.io.DEFAULT_MAX_CHARS`): a bigger file is an
        ``errors`` row ``too_large``.
    folder : path, optional
        Where the large tables few steps read are kept instead of memory (see :func:`gather`).
    """
    ids = ids if ids is not None else report_ids(paths)
    items = list(zip(map(str, paths), ids, strict=True))
    if tokenizer is not None and engine == "local" and runner.resolve_jobs(jobs) > 1 and len(items) > 1:
        _ = tokenizer.jieba  # loaded here once: forked workers inherit the dictionary instead of each loading it
    work = partial(_work, cache=cache, tokenizer=tokenizer, lazy=engine == "local", max_chars=max_chars)
    return gather(runner.imap(work, items, jobs=jobs, engine=engine, scheduler=scheduler, progress=progress,
                              desc="reports", unit="file"), folder)
