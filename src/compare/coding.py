"""Stage 7 over a corpus: problem and measure types for every report, in parallel and cached per report.

:func:`code_tables` gives what :func:`compare.classify.classify_problems` and
:func:`compare.classify.classify_measures` give on the whole tables, but

* splits the work into chunks of whole reports run in worker processes (:func:`compare.parallel.map_frames`;
  classification of a problem only reads its own row and its report's measures, so the chunks are independent);
* caches each report's codes under ``config.CACHE_DIR / "coded"``, keyed by the sha256 of the report's problem
  and measure rows and of everything the classifiers depend on (the package code, the shipped model file, the
  codebooks, dictionary, stopwords and hand labels). A re-run after adding reports codes only the new ones; an
  edit of the codebook or the labels codes everything again.

Only the shipped classifier (``model=None``) is cached: a model passed in is used as it is, without a cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle

import pandas as pd

from . import config

__all__ = ["code_tables"]


def _fingerprint() -> str:
    """Everything the shipped problem classifier and the measure classifier depend on, hashed."""
    from .classify import _file_sha, _training_info
    from .cache import source_fingerprint as code_version

    parts = {
        "code": code_version(),
        "model": _file_sha(config.PROBLEM_MODEL_PATH),
        "measure_codebook": _file_sha(config.MEASURE_CODEBOOK_PATH),
        **_training_info(),
    }
    return json.dumps(parts, sort_keys=True)


def _report_keys(problems: pd.DataFrame, measures: pd.DataFrame, fingerprint: str) -> dict[str, str]:
    """``report_id`` → sha256 of the fingerprint and the report's problem and measure rows."""
    p_cols = [c for c in ("problem_id", "title", "text") if c in problems]
    m_cols = [c for c in ("problem_id", "measure_id", "seq", "text") if c in measures]
    by_report: dict[str, hashlib._Hash] = {}
    for rid in pd.unique(pd.concat([problems["report_id"], measures["report_id"]])):
        h = hashlib.sha256(fingerprint.encode())
        by_report[rid] = h
    for name, df, cols in (("p", problems, p_cols), ("m", measures, m_cols)):
        for row in df[["report_id", *cols]].itertuples(index=False, name=None):
            by_report[row[0]].update(repr((name, *row[1:])).encode())
    return {rid: h.hexdigest() for rid, h in by_report.items()}


def _cache_file(key: str):
    return config.CACHE_DIR / "coded" / key[:2] / f"{key}.pkl"


def _read(key: str):
    path = _cache_file(key)
    if not path.is_file():
        return None
    try:
        with path.open("rb") as fh:
            return pickle.load(fh)
    except Exception:  # a damaged entry is coded again
        return None


def _write(key: str, value) -> None:
    path = _cache_file(key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with tmp.open("wb") as fh:
            pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except OSError:  # a read-only cache is not an error
        pass


def _added(coded: pd.DataFrame, given: pd.DataFrame, id_col: str) -> pd.DataFrame:
    """The columns classification added, indexed by ``id_col``."""
    return coded[[id_col, *[c for c in coded.columns if c not in given.columns]]].set_index(id_col)


def code_tables(problems: pd.DataFrame, measures: pd.DataFrame, model=None, jobs: int | None = 1,
                cache: bool = True, progress: bool | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Code every problem (problem types) and every measure (measure types) of a corpus.

    Parameters
    ----------
    problems, measures : pandas.DataFrame
        The corpus tables (``report_id``, ``problem_id``, ``title``, ``text``; ``measure_id``, ``seq``, ``text``).
    model : CodebookClassifier, optional
        Defaults to the shipped problem classifier (:func:`compare.classify.load_model`).
    jobs : int
        Worker processes (1: here; 0 or -1: all cores).
    cache : bool
        Reuse and write the per-report cache (only with ``model=None``).
    progress : bool, optional
        tqdm bars over the chunks of reports (default: only when stderr is a terminal).

    Returns
    -------
    problems, measures : pandas.DataFrame
        Equal to ``classify_problems(problems, measures, model)`` and ``classify_measures(measures)``.
    """
    from .classify import classify_measures, classify_problems, load_model
    from .runner import map_frames

    use_cache = cache and model is None
    if model is None:
        load_model()  # loaded (or retrained) once here; forked workers inherit it
    keys = _report_keys(problems, measures, _fingerprint()) if use_cache else {}
    cached = {rid: hit for rid, key in keys.items() if (hit := _read(key)) is not None}
    todo_p = problems[~problems["report_id"].isin(cached.keys())]
    todo_m = measures[~measures["report_id"].isin(cached.keys())]
    # chunks of at most 50 reports: a chunk's feature matrices (and scikit-learn's Python lists building them)
    # are the largest transient memory of the whole pipeline
    new_p = map_frames(classify_problems, [todo_p, todo_m], jobs=jobs, max_groups=50, progress=progress,
                       desc="coding problems", model=model)
    new_m = map_frames(classify_measures, todo_m, jobs=jobs, max_groups=50, progress=progress,
                       desc="coding measures")
    new_p, new_m = _added(new_p, problems, "problem_id"), _added(new_m, measures, "measure_id")
    if use_cache:
        p_groups = dict(tuple(new_p.groupby(todo_p["report_id"].to_numpy(), sort=False))) if len(new_p) else {}
        m_groups = dict(tuple(new_m.groupby(todo_m["report_id"].to_numpy(), sort=False))) if len(new_m) else {}
        for rid in set(p_groups) | set(m_groups):
            _write(keys[rid], (p_groups.get(rid, new_p.iloc[:0]), m_groups.get(rid, new_m.iloc[:0])))
    parts_p = [new_p, *(p for p, _ in cached.values())]
    parts_m = [new_m, *(m for _, m in cached.values())]
    return (_join(problems, parts_p, "problem_id", new_p.columns),
            _join(measures, parts_m, "measure_id", new_m.columns))


def _join(given: pd.DataFrame, parts: list[pd.DataFrame], id_col: str, columns) -> pd.DataFrame:
    """``given`` plus the coded columns of ``parts`` (indexed by ``id_col``), rows and index as ``given``."""
    parts = [p for p in parts if len(p)] or parts[:1]
    added = pd.concat(parts) if len(parts) > 1 else parts[0]
    added = added.reindex(given[id_col].to_numpy())[list(columns)]
    added.index = given.index
    return pd.concat([given.drop(columns=[c for c in added.columns if c in given]), added], axis=1)
