"""Every path the project uses, in one place; only the entry points (study, build, cli) read it.

* **Package data** (read through :mod:`importlib.resources`, so a plain ``pip install`` works anywhere): the
  problem and measure codebooks, the jieba user dictionary, the stopwords, the hand labels and the model,
  in ``compare/resources/``.
* **Project folders** (``data/raw``, ``data/processed``, ``figures``, ``notebooks``, ``reports``): under
  :data:`ROOT`, which is ``COMPARE_ROOT`` when set, else the checkout that holds the package (``src/compare``
  beside a ``pyproject.toml``), else the current folder. ``build --raw DIR --out OUT`` overrides them.
* **The cache**: ``COMPARE_CACHE`` when set, else the user cache folder (platformdirs). Safe to delete.
"""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path

import platformdirs

PACKAGE_DIR = Path(__file__).resolve().parent
RESOURCES_DIR = Path(str(files("compare") / "resources"))


def _root() -> Path:
    if os.environ.get("COMPARE_ROOT"):
        return Path(os.environ["COMPARE_ROOT"]).resolve()
    checkout = PACKAGE_DIR.parents[1]
    if PACKAGE_DIR.parent.name == "src" and (checkout / "pyproject.toml").is_file():
        return checkout
    return Path.cwd().resolve()


ROOT = _root()
IN_CHECKOUT = (ROOT / "pyproject.toml").is_file() and (ROOT / "src" / "compare").is_dir()

DATA_DIR = ROOT / "data"
RAW_DIR = DATA_DIR / "raw"
PROCESSED_DIR = DATA_DIR / "processed"
FIGURES_DIR = ROOT / "figures"
NOTEBOOKS_DIR = ROOT / "notebooks"
REPORTS_HTML_DIR = ROOT / "reports"

CODEBOOK_PATH = RESOURCES_DIR / "codebook.yaml"
MEASURE_CODEBOOK_PATH = RESOURCES_DIR / "measure_codebook.yaml"
USERDICT_PATH = RESOURCES_DIR / "userdict.txt"
STOPWORDS_PATH = RESOURCES_DIR / "stopwords.txt"
LABELS_DIR = RESOURCES_DIR / "labels"
PROBLEM_LABELS_PATH = LABELS_DIR / "problems.csv"
#: Statements written by the project (not published text) that the coder's confidence is calibrated on.
CALIBRATION_PATH = LABELS_DIR / "calibration_statements.csv"

#: Model trained on the hand labels (written by ``python -m compare train``).
MODEL_DIR = RESOURCES_DIR
PROBLEM_MODEL_PATH = MODEL_DIR / "problem_classifier.joblib"

#: Content-addressed cache (parse results, tokens, codes). Safe to delete at any time.
CACHE_DIR = Path(os.environ.get("COMPARE_CACHE") or platformdirs.user_cache_dir("compare-reports"))
