"""Column contracts of the tables (DESIGN.md section 3) and the id scheme.

Ids are stable and readable:

* ``report_id``  — the source file's stem, e.g. ``huidong_2024-08-20``;
* ``problem_id`` — ``f"{report_id}:P{seq:02d}"``, e.g. ``huidong_2024-08-20:P03``;
* ``measure_id`` — ``f"{problem_id}:M{seq:02d}"``, e.g. ``huidong_2024-08-20:P03:M02``.
"""

from __future__ import annotations

REPORT_COLUMNS = [
    "report_id", "source_path", "source_format", "encoding", "sha256", "title", "issuer", "agency",
    "party_org_type", "region", "city", "province", "admin_level", "inspection_kind", "inspection_body",
    "inspection_start", "inspection_end", "feedback_date", "published_date", "declared_problem_count",
    "declared_measure_count", "n_problems", "n_measures", "is_report", "truncated", "n_warnings",
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
