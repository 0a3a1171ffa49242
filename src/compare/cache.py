"""Layer 0: the one atomic file write, the one source fingerprint, and the one on-disk cache.

* :func:`atomic_write` / :func:`atomic_path` — every file the project writes (tables, figures, reports,
  cache entries, stamps) goes through here: written beside its target under a temporary name, then renamed
  over it, so a reader (or a build killed half-way) sees the old file or the new one, never a torn one.
* :func:`source_fingerprint` — a hash of the package's code and bundled resources; every cache key and
  build stamp includes it, so an edit to any module redoes what that code produced.
* :class:`Cache` — a content-addressed store of *data* (JSON, Arrow IPC tables, NumPy without pickles). Nothing read
  from the cache folder can run code. A folder that cannot be written, fills up or vanishes mid-run gives one
  :class:`CacheWarning` and the work goes on uncached.

No module below the entry points picks a cache folder: they receive a :class:`Cache` (or ``None``).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import tempfile
import warnings
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

__all__ = ["Cache", "CacheWarning", "atomic_path", "atomic_write", "digest", "move_tree", "source_fingerprint"]


_UMASK = os.umask(0)
os.umask(_UMASK)


class CacheWarning(UserWarning):
    """The cache folder cannot be used; the work goes on without it."""


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it replaces ``target`` in one rename.

    The parent folder is created. On an exception the temporary file is removed and ``target`` is untouched.
    The temporary name keeps ``target``'s suffix, so writers that choose a format by suffix still work.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.stem}.", suffix=f".tmp{target.suffix}")
    os.close(fd)
    tmp = Path(name)
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; outputs get the usual permissions
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def atomic_write(target: str | os.PathLike, data: bytes | str, encoding: str = "utf-8") -> Path:
    """Write ``data`` to ``target`` atomically (see :func:`atomic_path`); returns ``target`` as a Path."""
    payload = data.encode(encoding) if isinstance(data, str) else data
    with atomic_path(target) as tmp:
        tmp.write_bytes(payload)
    return Path(target)


def move_tree(source: str | os.PathLike, target: str | os.PathLike) -> list[Path]:
    """Move every file under ``source`` to the same place under ``target``, each in one rename.

    ``source`` and ``target`` must be on one file system (a staging folder beside the outputs). Returns the
    target paths, sorted.
    """
    source, target = Path(source), Path(target)
    moved = []
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        dest = target / path.relative_to(source)
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, dest)
        moved.append(dest)
    return moved


def digest(*parts: bytes | str | int | float | None) -> str:
    """sha256 hex digest of ``parts`` (separated, so ``("ab", "c")`` and ``("a", "bc")`` differ)."""
    h = hashlib.sha256()
    for part in parts:
        b = part if isinstance(part, bytes) else str(part).encode("utf-8")
        h.update(len(b).to_bytes(8, "little") + b)
    return h.hexdigest()


@lru_cache(maxsize=1)
def source_fingerprint() -> str:
    """Hash of every module and bundled resource of the installed ``compare`` package.

    The one fingerprint of the code: the per-file cache, the coding cache and the build stamps all include it.
    """
    package = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for path in sorted(p for p in package.rglob("*") if p.is_file() and p.suffix not in (".pyc",)
                       and "__pycache__" not in p.parts):
        h.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:20]


#: The file suffix of a table entry (:meth:`Cache.write_frame`): an Arrow IPC file.
FRAME_SUFFIX = ".arrow"


class Cache:
    """A content-addressed store of data under one folder (``root=None``: a cache that holds nothing).

    Entries are addressed by ``(kind, key)``: ``kind`` names the use (``"parse"``, ``"tokens"``, ``"coded"``)
    and ``key`` is a digest of everything the entry depends on. Values are JSON, Arrow tables or NumPy
    arrays; reading a damaged or missing entry returns ``None`` (the caller recomputes). The first failure to
    write disables the cache for the rest of the run, with one :class:`CacheWarning`.
    """

    def __init__(self, root: str | os.PathLike | None):
        self.root = Path(root) if root is not None else None
        self._broken: str | None = None

    def __repr__(self) -> str:
        state = "disabled" if not self.enabled else str(self.root)
        return f"Cache({state})"

    def __reduce__(self):  # worker processes get a fresh cache over the same folder
        return (Cache, (None if self._broken else self.root,))

    def check(self) -> Cache:
        """Make sure the folder can be written now (one :class:`CacheWarning` and no cache if not); returns self.

        Entry points call it once, before handing the cache to worker processes, so a read-only or misplaced
        folder is reported once rather than by every worker.
        """
        if self.enabled:
            probe = digest("probe", os.getpid())
            self.write_bytes("probe", probe, b"")
            path = self.path("probe", probe, ".bin")
            if path is not None:
                with contextlib.suppress(OSError):
                    path.unlink()
        return self

    @property
    def enabled(self) -> bool:
        return self.root is not None and self._broken is None

    def path(self, kind: str, key: str, suffix: str) -> Path | None:
        if not self.enabled:
            return None
        return self.root / kind / key[:2] / f"{key}{suffix}"

    # ----------------------------------------------------------------------------------------- raw bytes
    def read_bytes(self, kind: str, key: str, suffix: str = ".bin") -> bytes | None:
        path = self.path(kind, key, suffix)
        if path is None:
            return None
        try:
            return path.read_bytes()
        except OSError:  # missing, vanished or unreadable: recompute
            return None

    def write_bytes(self, kind: str, key: str, data: bytes, suffix: str = ".bin") -> None:
        path = self.path(kind, key, suffix)
        if path is None:
            return
        try:
            atomic_write(path, data)
        except OSError as exc:
            self._disable(exc)

    def _disable(self, exc: OSError) -> None:
        self._broken = str(exc)
        warnings.warn(f"cache folder {self.root} cannot be used ({exc.strerror or exc}); going on without a cache",
                      CacheWarning, stacklevel=3)

    # ----------------------------------------------------------------------------------------- typed values
    def read_json(self, kind: str, key: str):
        data = self.read_bytes(kind, key, ".json")
        if data is None:
            return None
        try:
            return json.loads(data)
        except ValueError:
            return None

    def write_json(self, kind: str, key: str, value) -> None:
        self.write_bytes(kind, key, json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode(), ".json")

    def read_frame(self, kind: str, key: str):
        import pyarrow as pa

        data = self.read_bytes(kind, key, FRAME_SUFFIX)
        if data is None:
            return None
        try:
            return pa.ipc.open_file(pa.BufferReader(data)).read_all().to_pandas()
        except Exception:  # a torn or foreign file is recomputed, never trusted
            return None

    def write_frame(self, kind: str, key: str, df) -> None:
        """Keep a DataFrame (its index dropped) under ``(kind, key)``; :meth:`read_frame` reads it back."""
        self.write_frame_parts(kind, df, [(key, None)])

    def write_frame_parts(self, kind: str, df, parts) -> None:
        """:meth:`write_frame` of row subsets of one frame, each under its own key.

        ``parts`` gives ``(key, positions)`` pairs (row positions of ``df``; None: every row). The frame is
        converted to Arrow once and each part is taken from that table, so many small entries (a chunk's
        reports) cost one conversion instead of one each; every entry reads back as ``df.iloc[positions]`` would
        have been written. Entries are Arrow IPC files, uncompressed: a report's coded rows take 0.04 ms to
        write where Parquet took 0.64 ms, and read back with the same dtypes (measured on 100 reports' codes).
        """
        if not self.enabled:
            return
        import pyarrow as pa

        table = pa.Table.from_pandas(df, preserve_index=False)
        for key, positions in parts:
            part = table if positions is None else table.take(positions)
            sink = pa.BufferOutputStream()
            with pa.ipc.new_file(sink, part.schema) as writer:
                writer.write_table(part)
            self.write_bytes(kind, key, sink.getvalue().to_pybytes(), FRAME_SUFFIX)

    def read_array(self, kind: str, key: str):
        import numpy as np

        data = self.read_bytes(kind, key, ".npy")
        if data is None:
            return None
        try:
            return np.load(io.BytesIO(data), allow_pickle=False)
        except (ValueError, OSError):
            return None

    def write_array(self, kind: str, key: str, array) -> None:
        import numpy as np

        buf = io.BytesIO()
        np.save(buf, array, allow_pickle=False)
        self.write_bytes(kind, key, buf.getvalue(), ".npy")
