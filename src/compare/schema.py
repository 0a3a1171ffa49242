"""Column contracts of the tables (DESIGN.md section 3) and the id scheme.

Ids are stable and readable:

* ``report_id``  — the source file's stem, e.g. ``huidong_2024-08-20``;
* ``problem_id`` — ``f"{report_id}:P{seq:02d}"``, e.g. ``huidong_2024-08-20:P03``;
* ``measure_id`` — ``f"{problem_id}:M{seq:02d}"``, e.g. ``huidong_2024-08-20:P03:M02``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

REPORT_COLUMNS = [
    "report_id", "source_path", "source_format", "encoding", "sha256", "title", "issuer", "agency",
    "party_org_type", "region", "city", "province", "adcode", "region_label", "admin_level", "inspection_kind",
    "inspection_body", "inspection_start", "inspection_end", "feedback_date", "published_date",
    "declared_problem_count", "declared_measure_count", "declared_counts", "meta_sources", "n_problems", "n_measures", "is_report", "truncated", "n_warnings",
    "n_chars", "n_chars_raw", "warnings",
]
PROBLEM_COLUMNS = [
    "report_id", "problem_id", "seq", "label", "aspect", "theme", "title", "text", "n_measures",
    "start", "end",
]
MEASURE_COLUMNS = [
    "report_id", "problem_id", "measure_id", "seq", "label", "sub_area", "text", "start", "end",
]
MENTION_COLUMNS = [
    "report_id", "problem_id", "measure_id", "kind", "text", "value", "unit", "start", "end",
]
ERROR_COLUMNS = ["path", "stage", "error", "message"]
SPAN_COLUMNS = ["report_id", "kind", "start", "end", "problem_id", "measure_id"]


def problem_id(report_id: str, seq: int) -> str:
    """Return the id of the ``seq``-th problem (1-based) of a report."""
    return f"{report_id}:P{seq:02d}"


def measure_id(pid: str, seq: int) -> str:
    """Return the id of the ``seq``-th measure (1-based) of a problem."""
    return f"{pid}:M{seq:02d}"


@dataclass
class FileResult:
    """What the per-file work makes of one file: its rows, or the error that stopped it.

    Attributes
    ----------
    path, report_id : str
    report : dict or None
        The row of ``reports`` (None when the file could not be read or parsed).
    problems, measures, mentions, spans : list of dict
        Rows of those tables, in document order.
    error : dict or None
        The row of ``errors`` (``path, stage, error, message``).
    document : object or None
        The report's normalised text with its offset map (:class:`compare.normalize.Normalized`), or a
        handle that loads it on access.
    tokens : dict or None
        ``{"dict_hash", "problems", "measures"}``: the jieba segmentation of every problem document and
        measure text, in row order (kept only when asked for).
    batches : dict or None
        Table name → the rows of that table as an Arrow record batch, in place of the lists (which are then
        empty): how the rows travel back from a worker (:func:`compare.corpus.row_batch`).
    """

    path: str
    report_id: str
    report: dict | None = None
    problems: list[dict] = field(default_factory=list)
    measures: list[dict] = field(default_factory=list)
    mentions: list[dict] = field(default_factory=list)
    spans: list[dict] = field(default_factory=list)
    error: dict | None = None
    document: Any = None
    tokens: dict | None = None
    batches: dict | None = None

    TABLES = ("problems", "measures", "mentions", "spans")

    @property
    def ok(self) -> bool:
        return self.error is None

    def rows(self) -> dict:
        """The tables' part as plain data (JSON-serialisable): report, rows, error."""
        return {"report": self.report, "error": self.error, **{t: getattr(self, t) for t in self.TABLES}}
