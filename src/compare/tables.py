"""Stage 5: the Corpus — tidy DataFrames ``reports``, ``problems``, ``measures``, ``mentions``, ``errors``.

:func:`process_file` is the per-file work (read → normalise → parse → extract), a pure function of the
file's bytes and name, cached by content hash; :func:`load_reports` runs it over a folder, a glob or a list of
paths (in parallel processes with ``jobs``) and gathers the rows. A file that cannot be read or parsed becomes a
row of ``errors`` naming the file and the reason; the rest of the batch goes on.
"""

from __future__ import annotations

import glob as _glob
import hashlib
import os
import pickle
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pandas as pd

from . import config, schema
from .extract import find_mentions
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


def _error(path: str, stage: str, exc: BaseException) -> dict:
    reason = getattr(exc, "reason", type(exc).__name__)
    return {"path": path, "stage": stage, "error": reason, "message": f"{path}: {exc}"}


def process_bytes(data: bytes, path: str, report_id: str | None = None) -> dict:
    """Read, normalise, parse and extract one report given its bytes.

    Parameters
    ----------
    data : bytes
        The file's content.
    path : str
        Its path or name (the suffix selects the reader).
    report_id : str, optional
        Defaults to the file's stem.

    Returns
    -------
    dict
        ``report`` (a row), ``problems``, ``measures``, ``mentions``, ``spans`` (lists of rows),
        ``normalized`` (:class:`compare.normalize.Normalized`) and ``error`` (a row or ``None``).
    """
    from .io import read_bytes

    rid = report_id or Path(path).stem
    out = {"report": None, "problems": [], "measures": [], "mentions": [], "spans": [], "normalized": None, "error": None}
    try:
        doc = read_bytes(data, str(path))
    except Exception as exc:  # io raises ReadError with a reason; anything else is reported too
        out["error"] = _error(str(path), "read", exc)
        return out
    try:
        norm = normalize(doc.text)
        parsed = parse(norm.text)
    except Exception as exc:  # a parser bug must not stop the batch; keep the traceback in the message
        exc.reason = "parse_failed"
        out["error"] = _error(str(path), "parse", exc)
        out["error"]["message"] += "\n" + traceback.format_exc(limit=3)
        return out
    text = norm.text
    out["normalized"] = norm
    warnings = list(parsed.warnings)
    if norm.traditional:
        warnings.append("traditional characters converted to simplified")
    n_measures = sum(len(p.measures) for p in parsed.problems)
    out["report"] = {
        "report_id": rid, "source_path": str(path), "source_format": doc.source_format, "encoding": doc.encoding,
        "sha256": doc.sha256, **parsed.meta, "n_problems": len(parsed.problems), "n_measures": n_measures,
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
    # locate mentions in problems/measures by offset
    owners = [(p.start, p.end, schema.problem_id(rid, p.seq), [(m.start, m.end, schema.measure_id(schema.problem_id(rid, p.seq), m.seq)) for m in p.measures]) for p in parsed.problems]
    for mn in find_mentions(text):
        pid = mid = None
        for a, b, ppid, ms in owners:
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
    return out


def process_file(path: PathLike, report_id: str | None = None, cache: bool = True) -> dict:
    """:func:`process_bytes` on a file, cached under ``config.CACHE_DIR`` by content hash and code version."""
    path = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        exc.reason = "not_found" if isinstance(exc, FileNotFoundError) else "unreadable"
        return {"report": None, "problems": [], "measures": [], "mentions": [], "spans": [], "normalized": None,
                "error": _error(path, "read", exc)}
    rid = report_id or Path(path).stem
    if not cache:
        return process_bytes(data, path, rid)
    key = hashlib.sha256(data + b"\0" + path.encode() + b"\0" + rid.encode() + code_version().encode()).hexdigest()
    cfile = config.CACHE_DIR / "parse" / key[:2] / f"{key}.pkl"
    if cfile.exists():
        try:
            with cfile.open("rb") as fh:
                return pickle.load(fh)
        except Exception:  # a damaged cache entry is recomputed
            pass
    out = process_bytes(data, path, rid)
    cfile.parent.mkdir(parents=True, exist_ok=True)
    tmp = cfile.with_suffix(f".{os.getpid()}.tmp")
    with tmp.open("wb") as fh:
        pickle.dump(out, fh, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, cfile)
    return out


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


@dataclass
class Corpus:
    """The tables of a set of reports (DESIGN.md section 3).

    Attributes
    ----------
    reports, problems, measures, mentions, errors, spans : pandas.DataFrame
    documents : dict
        ``report_id`` → :class:`compare.normalize.Normalized` (the canonical text and the map to the raw text).
    """

    reports: pd.DataFrame
    problems: pd.DataFrame
    measures: pd.DataFrame
    mentions: pd.DataFrame
    errors: pd.DataFrame
    spans: pd.DataFrame
    documents: dict[str, Normalized] = field(default_factory=dict, repr=False)

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


def _frame(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=columns) if rows else pd.DataFrame(columns=columns)
    return df


def gather(results: list[dict]) -> Corpus:
    """Assemble per-file results (from :func:`process_file`) into a :class:`Corpus`."""
    rep, pro, mea, men, err, spa, docs = [], [], [], [], [], [], {}
    for r in results:
        if r["error"] is not None:
            err.append(r["error"])
            continue
        rep.append(r["report"])
        pro += r["problems"]
        mea += r["measures"]
        men += r["mentions"]
        spa += r["spans"]
        docs[r["report"]["report_id"]] = r["normalized"]
    reports = _frame(rep, schema.REPORT_COLUMNS)
    for col in ("declared_problem_count", "declared_measure_count"):
        reports[col] = reports[col].astype("Int64")
    for col in ("n_problems", "n_measures", "n_warnings", "n_chars", "n_chars_raw"):
        reports[col] = reports[col].astype("int64")
    for col in ("is_report", "truncated"):
        reports[col] = reports[col].astype(bool)
    return Corpus(reports, _frame(pro, schema.PROBLEM_COLUMNS), _frame(mea, schema.MEASURE_COLUMNS),
                  _frame(men, schema.MENTION_COLUMNS), _frame(err, schema.ERROR_COLUMNS),
                  _frame(spa, schema.SPAN_COLUMNS), docs)


def load_reports(path_or_glob: PathLike | Iterable[PathLike] | None = None, jobs: int = 1, cache: bool = True,
                 progress: bool | None = None) -> Corpus:
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

    Returns
    -------
    Corpus
        Unreadable or unparsable files are rows of ``corpus.errors``; they never stop the batch.

    Examples
    --------
    >>> corpus = load_reports("data/raw")                       # doctest: +SKIP
    >>> corpus.problems.groupby("report_id").size()             # doctest: +SKIP
    """
    from .parallel import map_files

    paths = expand_paths(path_or_glob if path_or_glob is not None else config.RAW_DIR)
    ids = _report_ids(paths)
    results = map_files(paths, ids, jobs=jobs, cache=cache, progress=progress)
    return gather(results)
