"""Running the per-file work over many files: in this process, in local worker processes, or on Dask.

The per-file function (:func:`compare.tables.process_file`) is pure, so the engines only differ in where it
runs; results come back in input order, whatever the engine.
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import ProcessPoolExecutor


def n_jobs(jobs: int | None) -> int:
    """``None``, 0 or a negative number mean all cores."""
    cores = os.cpu_count() or 1
    if not jobs or jobs < 0:
        return cores
    return max(1, jobs)


def _progress(it, total: int, desc: str, progress: bool | None):
    from tqdm.auto import tqdm

    disable = not (progress if progress is not None else sys.stderr.isatty())
    return tqdm(it, total=total, desc=desc, unit="file", disable=disable)


def _one(args):
    from .tables import process_file

    path, rid, cache = args
    return process_file(path, rid, cache=cache)


def map_files(paths: list[str], ids: list[str], jobs: int | None = 1, cache: bool = True,
              progress: bool | None = None, engine: str = "local", scheduler: str | None = None) -> list[dict]:
    """Apply the per-file work to every path and return the results in order.

    Parameters
    ----------
    paths, ids : list of str
        Files and their report ids.
    jobs : int
        Local worker processes (1: in this process; 0 or -1: all cores).
    engine : {"local", "dask"}
        ``"dask"`` submits the same function to a dask.distributed cluster at ``scheduler`` (an address such
        as ``tcp://10.0.0.5:8786``, or a ``distributed.Client``); needs the ``compare[dask]`` extra.
    """
    args = [(p, r, cache) for p, r in zip(paths, ids, strict=True)]
    if engine == "dask":
        return _map_dask(args, scheduler, progress)
    if engine != "local":
        raise ValueError(f"unknown engine {engine!r}; use 'local' or 'dask'")
    workers = min(n_jobs(jobs), len(args)) if args else 1
    if workers <= 1:
        return list(_progress(map(_one, args), len(args), "reports", progress))
    chunk = max(1, len(args) // (workers * 8))
    with ProcessPoolExecutor(max_workers=workers) as ex:
        return list(_progress(ex.map(_one, args, chunksize=chunk), len(args), "reports", progress))


def _map_dask(args, scheduler, progress):
    try:
        from distributed import Client
    except ImportError as exc:  # pragma: no cover - depends on the extra
        raise ImportError("the dask engine needs the extra: pip install 'compare[dask]'") from exc
    client = scheduler if isinstance(scheduler, Client) else Client(scheduler)
    try:
        futures = client.map(_one, args, pure=False)
        return client.gather(futures)
    finally:
        if client is not scheduler:
            client.close()
