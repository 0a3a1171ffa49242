"""Running the per-file work over many files: in this process, in local worker processes, or on Dask.

The per-file function (:func:`compare.tables.process_file`: read, normalise, parse, extract, tokenise) is pure,
so the engines only differ in where it runs; results come back in input order, whatever the engine.

* ``engine="local"``, ``jobs=1``: in this process;
* ``engine="local"``, ``jobs=N``: a :class:`concurrent.futures.ProcessPoolExecutor` of N processes, files
  handed out in chunks;
* ``engine="dask"``: the same function submitted to a ``dask.distributed`` cluster (``scheduler`` is its
  address or a ``distributed.Client``), one task per file; needs the ``compare[dask]`` extra.

:func:`map_frames` does the same for a row-wise function of the tables (classification): it splits them into
chunks of whole reports, runs the function on each chunk in worker processes and concatenates the results.

The results carry the tables' rows but not the tokens: those stay in the caches (the per-file cache entry and
:mod:`compare.text`'s token cache), where the tokenizers find them; shipping them back would only cost time
and memory.
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import ProcessPoolExecutor

__all__ = ["imap_files", "map_files", "map_frames", "n_jobs"]


def n_jobs(jobs: int | None) -> int:
    """Worker processes for ``jobs``: ``None``, 0 or a negative number mean all cores.

    Parameters
    ----------
    jobs : int or None

    Returns
    -------
    int
        At least 1.
    """
    cores = os.cpu_count() or 1
    if not jobs or jobs < 0:
        return cores
    return max(1, jobs)


def _progress(it, total: int, desc: str, progress: bool | None, unit: str = "file"):
    from tqdm.auto import tqdm

    disable = not (progress if progress is not None else sys.stderr.isatty())
    return tqdm(it, total=total, desc=desc, unit=unit, disable=disable)


def _one(args):
    """The per-file work on one ``(path, report_id, cache, tokens)``; importable by worker processes.

    The result's ``normalized`` is replaced by a :class:`compare.tables.LazyDocument` that loads it again when
    asked (from the per-file cache): a corpus then never holds every report's text and offset map at once,
    and worker processes do not send them back.
    """
    from .tables import LazyDocument

    path, rid, cache, tokens = args
    out = _one_whole(args)
    if out["normalized"] is not None:
        out["normalized"] = LazyDocument(path, rid, cache, tokens, out["report"]["sha256"])
    return out


def _one_whole(args):
    """:func:`_one` keeping the normalised document (Dask workers' files may not be readable here)."""
    from .tables import _process_file

    path, rid, cache, tokens = args
    return _process_file(path, rid, cache, tokens, False)


def map_files(paths: list[str], ids: list[str], jobs: int | None = 1, cache: bool = True,
              progress: bool | None = None, engine: str = "local", scheduler=None,
              tokens: bool = True) -> list[dict]:
    """Apply the per-file work to every path and return the results in order.

    The list of :func:`imap_files`; prefer that iterator (or :func:`compare.tables.load_reports`) for a large
    corpus: :func:`compare.tables.gather` then never holds every file's rows at once.

    Parameters
    ----------
    paths, ids : list of str
        Files and their report ids.
    jobs : int
        Local worker processes (1: in this process; 0 or -1: all cores). Ignored by the dask engine.
    cache : bool
        Use the per-file and token caches under ``config.CACHE_DIR`` (on a Dask cluster: the workers' own).
    progress : bool, optional
        A tqdm bar (default: only when stderr is a terminal).
    engine : {"local", "dask"}
        ``"dask"`` submits the same function to a dask.distributed cluster at ``scheduler`` (an address such
        as ``tcp://10.0.0.5:8786``, or a ``distributed.Client``); needs the ``compare[dask]`` extra.
    scheduler : str or distributed.Client, optional
        For ``engine="dask"``.
    tokens : bool
        Tokenise in the per-file stage (see :mod:`compare.tables`).

    Returns
    -------
    list of dict
        :func:`compare.tables.process_file` results, ``tokens`` left out (``None``).
    """
    return list(imap_files(paths, ids, jobs=jobs, cache=cache, progress=progress, engine=engine,
                           scheduler=scheduler, tokens=tokens))


def imap_files(paths: list[str], ids: list[str], jobs: int | None = 1, cache: bool = True,
               progress: bool | None = None, engine: str = "local", scheduler=None, tokens: bool = True):
    """:func:`map_files` as an iterator: results in input order, each as soon as it (and those before it) is done.

    Parameters and results as :func:`map_files`. Checks the arguments at once; the work starts on iteration.
    """
    args = [(str(p), r, cache, tokens) for p, r in zip(paths, ids, strict=True)]
    if engine == "dask":
        return _map_dask(args, scheduler, progress)
    if engine != "local":
        raise ValueError(f"unknown engine {engine!r}; use 'local' or 'dask'")
    return _map_local(args, jobs, progress)


def _map_local(args, jobs, progress):
    workers = min(n_jobs(jobs), len(args)) if args else 1
    if workers <= 1:
        yield from _progress(map(_one, args), len(args), "reports", progress)
        return
    # small chunks keep both workers busy to the end; a chunk of several files saves inter-process traffic
    chunk = max(1, min(16, len(args) // (workers * 8)))
    with ProcessPoolExecutor(max_workers=workers) as ex:
        yield from _progress(ex.map(_one, args, chunksize=chunk), len(args), "reports", progress)


def _map_dask(args, scheduler, progress):
    """One task per file on the cluster; the results, gathered in input order."""
    try:
        from distributed import Client, as_completed
    except ImportError as exc:  # pragma: no cover - depends on the extra
        raise ImportError("the dask engine needs the extra: pip install 'compare[dask]'") from exc
    if scheduler is None:
        raise ValueError("engine='dask' needs a scheduler address (or a distributed.Client)")
    client = scheduler if isinstance(scheduler, Client) else Client(scheduler)
    try:
        futures = client.map(_one_whole, args, pure=False)
        for _ in _progress(as_completed(futures), len(futures), "reports", progress):
            pass
        return client.gather(futures)
    finally:
        if client is not scheduler:
            client.close()


def _call_chunk(args):
    func, frames, kwargs = args
    return func(*frames, **kwargs)


def map_frames(func, frames, by: str = "report_id", jobs: int | None = 1, chunks: int | None = None,
               max_groups: int | None = 250, progress: bool | None = False, desc: str = "chunks", **kwargs):
    """Apply a row-wise function of tables to chunks of whole reports (in worker processes); concatenate.

    ``func(first, *others, **kwargs)`` must return a DataFrame whose rows depend only on the rows it is given
    (each output row computed from its own input row and the rows of the other frames with the same ``by``
    value), as :func:`compare.classify.classify_problems` and :func:`compare.classify.classify_measures` do:
    then the result equals ``func(*frames, **kwargs)``, whatever the number of chunks.

    Parameters
    ----------
    func : callable
        A module-level function (it is pickled by reference). With the default ``fork`` start method the
        workers inherit what the parent loaded (the classifier cached by :func:`compare.classify.load_model`),
        so leave large arguments such as ``model`` out when the function can load them itself.
    frames : DataFrame or sequence of DataFrame
        The first frame is cut into contiguous chunks that never split a ``by`` group; each further frame
        contributes the rows whose ``by`` value is in the chunk.
    by : str
        The column that groups rows (a report's rows stay together).
    jobs : int
        Worker processes (1: the chunks are done one after the other, here).
    chunks : int, optional
        Number of chunks (default: four per worker, for an even load, and at least enough for ``max_groups``).
    max_groups : int, optional
        At most this many ``by`` groups (reports) per call, which bounds the memory one call needs (a
        classifier's feature matrices grow with its input); None: no limit.
    progress : bool, optional
        A tqdm bar over the chunks labelled ``desc`` (None: only when stderr is a terminal).
    desc : str
    **kwargs
        Passed to ``func``.

    Returns
    -------
    pandas.DataFrame
        The chunks' results in order; a column that came out with different dtypes in different chunks (an
        all-missing chunk) is rebuilt from its values, so dtypes are those of a single call.
    """
    import numpy as np
    import pandas as pd

    frames = [frames] if isinstance(frames, pd.DataFrame) else list(frames)
    first, others = frames[0], frames[1:]
    workers = n_jobs(jobs)
    keys = first[by].to_numpy() if len(first) else np.array([], dtype=object)
    starts = [0] + [i for i in range(1, len(keys)) if keys[i] != keys[i - 1]]  # where each group begins
    wanted_chunks = chunks or (workers * 4 if workers > 1 else 1)
    if max_groups:
        wanted_chunks = max(wanted_chunks, -(-len(starts) // max_groups))
    n_chunks = min(len(starts), wanted_chunks)
    if n_chunks <= 1:
        return func(*frames, **kwargs)
    bounds = [starts[round(k * len(starts) / n_chunks)] for k in range(n_chunks)] + [len(first)]
    tasks = []
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        part = first.iloc[a:b]
        wanted = set(part[by])
        tasks.append((func, [part, *[o[o[by].isin(wanted)] for o in others]], kwargs))
    if workers <= 1:
        parts = list(_progress(map(_call_chunk, tasks), len(tasks), desc, progress, unit="chunk"))
    else:
        with ProcessPoolExecutor(max_workers=min(workers, len(tasks))) as ex:
            parts = list(_progress(ex.map(_call_chunk, tasks), len(tasks), desc, progress, unit="chunk"))
    out = pd.concat(parts)
    for col in out.columns:
        if len({str(p[col].dtype) for p in parts}) > 1:
            out[col] = pd.DataFrame({col: out[col].tolist()}, index=out.index)[col]
    return out
