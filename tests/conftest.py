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


@pytest.fixture(scope="session")
def tokenizer():
    """The project's jieba tokenizer, built explicitly from the bundled dictionary and stopwords."""
    from compare.text import JiebaTokenizer

    return JiebaTokenizer(userdict=config.USERDICT_PATH, stopwords=config.STOPWORDS_PATH)
