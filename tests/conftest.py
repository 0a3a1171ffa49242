"""Shared fixtures: the bundled reports, read once per session."""

from __future__ import annotations

import pytest

from compare import config

BUNDLED = {
    "huidong": "huidong_2024-08-20.txt",
    "haizhu": "haizhu_2025-05-13.txt",
    "xuchang": "xuchang_2024-12-31.txt",
}


def raw_text(key: str) -> str:
    """The text of a bundled report as stored in data/raw (UTF-8)."""
    return (config.RAW_DIR / BUNDLED[key]).read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def raw_texts() -> dict[str, str]:
    return {k: raw_text(k) for k in BUNDLED}


@pytest.fixture(scope="session")
def corpus():
    """The three bundled reports through the whole per-file pipeline (no cache)."""
    from compare import load_reports

    return load_reports(config.RAW_DIR, cache=False)


# --- the coding stage's inputs, built explicitly (nothing below the entry points loads them by itself) ------
@pytest.fixture(scope="session")
def codebook():
    from compare.codebook import load_codebook

    return load_codebook(config.CODEBOOK_PATH)


@pytest.fixture(scope="session")
def measure_codebook():
    from compare.codebook import load_codebook

    return load_codebook(config.MEASURE_CODEBOOK_PATH)


@pytest.fixture(scope="session")
def tokenizer():
    from compare.tokens import JiebaTokenizer

    return JiebaTokenizer(config.USERDICT_PATH, config.STOPWORDS_PATH)


@pytest.fixture(scope="session")
def labels(corpus, codebook):
    """The bundled hand labels, validated against the bundled corpus."""
    from compare.labels import load_problem_labels

    return load_problem_labels(config.PROBLEM_LABELS_PATH, corpus.problems, codebook)


@pytest.fixture(scope="session")
def shipped_model():
    from compare.training import load_model

    return load_model(config.PROBLEM_MODEL_PATH)


@pytest.fixture(scope="session")
def measure_model(measure_codebook):
    from compare.classify import measure_classifier

    return measure_classifier(measure_codebook)
