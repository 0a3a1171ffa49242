"""compare — Chinese inspection-rectification reports into tidy tables, problem types and regional comparisons."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "load_reports", "Corpus"]


def __getattr__(name):  # lazy: `import compare` stays cheap for the command line
    if name in ("load_reports", "Corpus"):
        from . import tables

        return getattr(tables, name)
    raise AttributeError(name)
