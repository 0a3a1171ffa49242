"""Layer 0: map a picklable function over items, here, in worker processes, or on a Dask cluster.

The runner knows no stage: it takes a module-level function and a list of items and yields the results in
input order, whatever the engine.

* ``engine="local"``, one worker: in this process;
* ``engine="local"``, N workers: a :class:`concurrent.futures.ProcessPoolExecutor`, items handed out in
  chunks; the workers die with the parent (Linux ``PR_SET_PDEATHSIG``, and a watchdog elsewhere), so a killed
  build leaves no process behind;
* inside :func:`shared_workers`, those calls share one pool whose workers are started once for the block
  (a whole build), forked after the parent loaded what they need;
* ``engine="dask"``: one task per item on a ``dask.distributed`` cluster (``scheduler`` is its address or a
  ``distributed.Client``); needs the ``compare[dask]`` extra.

:func:`resolve_jobs` is the one place that turns ``jobs`` into a number of workers; :func:`progress_bar` the
one place that makes a progress bar (tqdm's ``auto`` flavour: a widget in Jupyter, text in a terminal; quiet
under CI and in the notebooks a build executes).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from functools import partial

__all__ = ["imap", "map_frames", "progress_bar", "resolve_jobs", "shared_workers", "show_progress"]


def resolve_jobs(jobs: int | None) -> int:
    """Number of workers for ``jobs``, with scikit-learn's convention.

    ``None`` or 1: one (this process); ``n > 1``: n; ``-1``: every core; ``-k``: every core but ``k - 1``
    (at least one). ``0`` is an error, as in scikit-learn.
    """
    cores = os.cpu_count() or 1
    if jobs is None:
        return 1
    if jobs == 0:
        raise ValueError("jobs=0 is not a number of workers: use 1 for this process or -1 for every core")
    if jobs < 0:
        return max(1, cores + 1 + jobs)
    return int(jobs)


def show_progress(progress: bool | None = None) -> bool:
    """Whether to draw a progress bar: ``progress`` when given, else ``COMPARE_PROGRESS`` (``0``/``1``) when set,
    else never under CI (``CI`` set), else in a terminal or a Jupyter kernel."""
    if progress is not None:
        return bool(progress)
    setting = os.environ.get("COMPARE_PROGRESS")
    if setting in ("0", "1"):
        return setting == "1"
    if os.environ.get("CI"):
        return False
    return sys.stderr.isatty() or "ipykernel" in sys.modules


def progress_bar(it: Iterable, total: int | None, desc: str, progress: bool | None, unit: str = "it"):
    """``it`` wrapped in a tqdm bar (tqdm's ``auto`` flavour: a widget in Jupyter, text in a terminal) when
    :func:`show_progress` says so."""
    from tqdm.auto import tqdm

    return tqdm(it, total=total, desc=desc, unit=unit, disable=not show_progress(progress))


def _die_with_parent() -> None:
    """Worker initializer: end this process when the parent ends, even by SIGKILL."""
    parent = os.getppid()
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: poll for a new parent instead
        def watch():
            while True:
                threading.Event().wait(1.0)
                if os.getppid() != parent:
                    os._exit(1)

        threading.Thread(target=watch, daemon=True).start()
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)


def pool(workers: int) -> ProcessPoolExecutor:
    """A process pool whose workers end with this process."""
    return ProcessPoolExecutor(max_workers=workers, initializer=_die_with_parent)


_SHARED: dict[int, ProcessPoolExecutor] = {}  # the pools of the open shared_workers() blocks, by size


@contextlib.contextmanager
def shared_workers(jobs: int | None):
    """Inside this block :func:`imap` and :func:`map_frames` with ``jobs`` workers use one pool, started once.

    An entry point opens it around a whole build, so the worker processes are forked once (after the parent
    has loaded what they share: jieba's dictionary, the model) instead of once per stage. Outside such a
    block every call starts and ends its own pool, so workers never outlive the call that needed them.
    """
    workers = resolve_jobs(jobs)
    if workers <= 1 or workers in _SHARED:
        yield
        return
    ex = _SHARED[workers] = pool(workers)
    try:
        yield
    finally:
        _SHARED.pop(workers, None)
        ex.shutdown(wait=True, cancel_futures=True)


@contextlib.contextmanager
def _pool_for(workers: int):
    shared = next((ex for n, ex in sorted(_SHARED.items()) if n >= workers), None)
    if shared is not None:
        yield shared
        return
    with pool(workers) as ex:
        yield ex


def imap(func: Callable, items: Sequence, jobs: int | None = 1, engine: str = "local", scheduler=None,
         progress: bool | None = None, desc: str = "items", unit: str = "item") -> Iterator:
    """``func(item)`` for every item, yielded in input order.

    Parameters
    ----------
    func : callable
        A module-level function (pickled by reference for workers).
    items : sequence
    jobs : int, optional
        Local workers (:func:`resolve_jobs`). Ignored by the dask engine.
    engine : {"local", "dask"}
    scheduler : str or distributed.Client, optional
        For ``engine="dask"``.
    progress : bool, optional
        A progress bar labelled ``desc`` (None: only when stderr is a terminal).

    Returns
    -------
    iterator
        Checks the arguments at once; the work starts on iteration.
    """
    items = list(items)
    if engine == "dask":
        if scheduler is None:
            raise ValueError("engine='dask' needs a scheduler address (or a distributed.Client)")
        return iter(_map_dask(func, items, scheduler, progress, desc, unit))
    if engine != "local":
        raise ValueError(f"unknown engine {engine!r}; use 'local' or 'dask'")
    return _map_local(func, items, resolve_jobs(jobs), progress, desc, unit)


def _map_local(func, items, workers, progress, desc, unit):
    workers = min(workers, len(items)) if items else 1
    if workers <= 1:
        yield from progress_bar(map(func, items), len(items), desc, progress, unit)
        return
    # small chunks keep every worker busy to the end (the last chunk of one worker is the other's idle time:
    # 100 reports in chunks of 6 left one of two workers idle for 0.4 s of 6.5); a chunk of several items
    # saves inter-process traffic on a large corpus
    chunk = max(1, min(16, len(items) // (workers * 32)))
    with _pool_for(workers) as ex:
        yield from progress_bar(ex.map(func, items, chunksize=chunk), len(items), desc, progress, unit)


def _map_dask(func, items, scheduler, progress, desc, unit) -> list:
    try:
        from distributed import Client, as_completed
    except ImportError as exc:  # pragma: no cover - depends on the extra
        raise ImportError("the dask engine needs the extra: pip install 'compare[dask]'") from exc
    client = scheduler if isinstance(scheduler, Client) else Client(scheduler)
    try:
        futures = client.map(func, items, pure=False)
        for _ in progress_bar(as_completed(futures), len(futures), desc, progress, unit):
            pass
        return client.gather(futures)
    finally:
        if client is not scheduler:
            client.close()


def _map_window(func, tasks: Iterator, n: int, workers: int, progress, desc, unit) -> Iterator:
    """``func(task)`` in worker processes, in order, with at most two tasks per worker made and in flight.

    ``tasks`` is consumed only as workers free up, so the inputs that exist at once (chunks of tables, each a
    copy of its rows) are bounded by the number of workers, not by the size of the corpus.
    """
    from collections import deque

    with _pool_for(workers) as ex:
        pending: deque = deque()
        bar = progress_bar(None, n, desc, progress, unit)
        try:
            for task in tasks:
                pending.append(ex.submit(func, task))
                if len(pending) >= 2 * workers:
                    yield pending.popleft().result()
                    bar.update(1)
            while pending:
                yield pending.popleft().result()
                bar.update(1)
        finally:
            for f in pending:
                f.cancel()
            bar.close()


class _Packed:
    """The keyword arguments of one :func:`map_frames` call, pickled once in the parent and opened once per worker.

    Every chunk carries the same bytes; a worker unpickles them at its first chunk and hands the same objects
    to the next ones. Objects that keep what they compute on first use (a model's feature labels, a
    codebook's term index) compute it once per worker, not once per chunk (four per worker and pass on 100
    reports with two workers, whose coding went 3.68 -> 3.15 s).
    """

    _opened: dict[str, dict] = {}  # in a worker: token -> the keyword arguments, the last few calls

    def __init__(self, kwargs: dict):
        import pickle
        import uuid

        self.token, self.payload = uuid.uuid4().hex, pickle.dumps(kwargs, protocol=pickle.HIGHEST_PROTOCOL)

    def open(self) -> dict:
        import pickle

        hit = self._opened.get(self.token)
        if hit is None:
            hit = pickle.loads(self.payload)
            for old in list(self._opened)[:-3]:
                del self._opened[old]
            self._opened[self.token] = hit
        return hit


def _call_chunk(args):
    func, frames, kwargs = args
    return func(*frames, **(kwargs.open() if isinstance(kwargs, _Packed) else kwargs))


def _chunk_bounds(keys, workers: int, chunks: int | None, max_groups: int | None) -> list[int]:
    """Row bounds of contiguous chunks that never split a run of equal ``keys``."""
    starts = [0] + [i for i in range(1, len(keys)) if keys[i] != keys[i - 1]]
    wanted = chunks or (workers * 4 if workers > 1 else 1)
    if max_groups:
        wanted = max(wanted, -(-len(starts) // max_groups))
    n = min(len(starts), wanted)
    if n <= 1:
        return [0, len(keys)]
    return [starts[round(k * len(starts) / n)] for k in range(n)] + [len(keys)]


def _runs(keys) -> dict | None:
    """``key`` → ``(start, end)`` of its rows when each key's rows are one run (as the corpus tables are, in
    report order), else None. Slicing such a run costs nothing; selecting rows by a mask copies every text
    column of the table first when it is held in several Arrow chunks."""
    import numpy as np

    values = keys.to_numpy()
    if not len(values):
        return {}
    starts = np.flatnonzero(values[1:] != values[:-1]) + 1
    bounds = [0, *starts.tolist(), len(values)]
    out = {values[a]: (a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True)}
    return out if len(out) == len(bounds) - 1 else None


def _rows_of(other, runs: dict | None, by: str, wanted: set):
    """The rows of ``other`` in the groups ``wanted``: a slice when they lie side by side (no copy)."""
    if runs is not None:
        spans = sorted(runs[k] for k in wanted if k in runs)
        if all(e == s for (_, e), (s, _) in zip(spans, spans[1:], strict=False)):
            return other.iloc[spans[0][0]:spans[-1][1]] if spans else other.iloc[:0]
    return other[other[by].isin(wanted)]


def _chunk_tasks(func, first, others, by: str, bounds: list[int], kwargs: dict):
    """The tasks of :func:`map_frames`, made as they are handed out: only a few chunks' rows exist at once."""
    runs = [_runs(o[by]) for o in others]
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        part = first.iloc[a:b]
        wanted = set(part[by])
        yield func, [part, *[_rows_of(o, r, by, wanted) for o, r in zip(others, runs, strict=True)]], kwargs


def map_frames(func, frames, by: str = "report_id", jobs: int | None = 1, chunks: int | None = None,
               max_groups: int | None = 250, progress: bool | None = False, desc: str = "chunks", **kwargs):
    """Apply a row-wise function of tables to chunks of whole groups (in worker processes); concatenate.

    ``func(first, *others, **kwargs)`` must return a DataFrame whose rows depend only on the rows it is given
    (each output row computed from its own input row and the rows of the other frames with the same ``by``
    value): then the result equals ``func(*frames, **kwargs)``, whatever the number of chunks.

    Parameters
    ----------
    func : callable
        A module-level function (pickled by reference).
    frames : DataFrame or sequence of DataFrame
        The first frame is cut into contiguous chunks that never split a ``by`` group; each further frame
        contributes the rows whose ``by`` value is in the chunk.
    by : str
        The column that groups rows.
    jobs : int, optional
        Workers (:func:`resolve_jobs`; 1: the chunks are done one after the other, here).
    chunks : int, optional
        Number of chunks (default: four per worker, and at least enough for ``max_groups``).
    max_groups : int, optional
        At most this many groups per call, which bounds the memory one call needs; None: no limit.
    progress : bool, optional
        A progress bar over the chunks labelled ``desc``.
    **kwargs
        Passed to ``func``.

    Returns
    -------
    pandas.DataFrame
        The chunks' results in order; a column whose dtype differs between chunks (an all-missing chunk) is
        rebuilt from its values, so dtypes are those of a single call.
    """
    import numpy as np
    import pandas as pd

    frames = [frames] if isinstance(frames, pd.DataFrame) else list(frames)
    first, others = frames[0], frames[1:]
    workers = resolve_jobs(jobs)
    keys = first[by].to_numpy() if len(first) else np.array([], dtype=object)
    bounds = _chunk_bounds(keys, workers, chunks, max_groups)
    if len(bounds) <= 2:
        return func(*frames, **kwargs)

    n = len(bounds) - 1
    tasks = partial(_chunk_tasks, func, first, others, by, bounds, _Packed(kwargs) if workers > 1 else kwargs)
    parts = (list(_map_window(_call_chunk, tasks(), n, min(workers, n), progress, desc, "chunk")) if workers > 1
             else [_call_chunk(t) for t in progress_bar(tasks(), n, desc, progress, "chunk")])
    out = pd.concat(parts)
    for col in out.columns:
        if len({str(p[col].dtype) for p in parts}) > 1:
            out[col] = pd.DataFrame({col: out[col].tolist()}, index=out.index)[col]
    return out
