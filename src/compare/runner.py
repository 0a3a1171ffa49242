"""Layer 0: map a picklable function over items, here, in worker processes, or on a Dask cluster.

The runner knows no stage: it takes a module-level function and a list of items and returns the results in
input order. :func:`resolve_jobs` is the one place that turns ``jobs`` into a number of workers.
"""

from __future__ import annotations

import os

__all__ = ["resolve_jobs"]


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
