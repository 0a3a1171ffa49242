"""Every path the project uses, in one place.

Nothing else in the package hard-codes a path: modules import the constants below.
The project root is the checkout that holds ``pyproject.toml`` (the package is
installed in editable mode by ``make``); set ``COMPARE_ROOT`` to point the
library at another project folder with the same layout.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
ROOT = Path(os.environ.get("COMPARE_ROOT", PACKAGE_DIR.parents[1])).resolve()

DATA_DIR = ROOT / "data"
RAW_DIR = DATA_DIR / "raw"
PROCESSED_DIR = DATA_DIR / "processed"
LABELS_DIR = DATA_DIR / "labels"
FIGURES_DIR = ROOT / "figures"
NOTEBOOKS_DIR = ROOT / "notebooks"
REPORTS_HTML_DIR = ROOT / "reports"

CODEBOOK_PATH = DATA_DIR / "codebook.yaml"
MEASURE_CODEBOOK_PATH = DATA_DIR / "measure_codebook.yaml"
USERDICT_PATH = DATA_DIR / "userdict.txt"
STOPWORDS_PATH = DATA_DIR / "stopwords.txt"
PROBLEM_LABELS_PATH = LABELS_DIR / "problems.csv"

#: Bundled model trained on ``data/labels`` (written by ``python -m compare train``).
MODEL_DIR = PACKAGE_DIR / "models"
PROBLEM_MODEL_PATH = MODEL_DIR / "problem_classifier.joblib"

#: Content-hash caches (parse results, tokens). Safe to delete at any time.
CACHE_DIR = Path(os.environ.get("COMPARE_CACHE", ROOT / ".cache" / "compare"))

#: File extensions the readers understand.
SUPPORTED_SUFFIXES = (".txt", ".docx", ".pdf", ".html", ".htm")
