"""compare — Chinese inspection-rectification reports into tidy tables, problem types and regional comparisons."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "load_reports", "Corpus"]


def __getattr__(name):  # lazy: `import compare` stays cheap for the command line
    if name == "load_reports":
        from .study import load_reports

        return load_reports
    if name == "Corpus":
        from .corpus import Corpus

        return Corpus
    raise AttributeError(name)
