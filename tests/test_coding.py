"""Tests for compare.coding: a corpus coded in chunks, in processes and from the per-report cache equals the
classifiers run once on the whole tables."""

from __future__ import annotations

import pandas as pd
import pytest

from compare import classify, coding, config


@pytest.fixture()
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "CACHE_DIR", tmp_path / "cache")
    return tmp_path / "cache"


@pytest.fixture(scope="module")
def direct(corpus):
    return (classify.classify_problems(corpus.problems, corpus.measures),
            classify.classify_measures(corpus.measures))


def _entries(cache_dir):
    return sorted(p.name for p in (cache_dir / "coded").rglob("*.pkl"))


def test_cold_parallel_and_warm_equal_the_direct_run(corpus, direct, cache_dir):
    cold = coding.code_tables(corpus.problems, corpus.measures, jobs=2)
    assert len(_entries(cache_dir)) == 3  # one entry per report
    warm = coding.code_tables(corpus.problems, corpus.measures, jobs=1)
    for got in (cold, warm):
        pd.testing.assert_frame_equal(got[0], direct[0])
        pd.testing.assert_frame_equal(got[1], direct[1])
    assert direct[0].primary_code.notna().sum() == 75


def test_only_new_or_changed_reports_are_coded(corpus, direct, cache_dir, monkeypatch):
    first = corpus.reports.report_id.iloc[0]
    coding.code_tables(corpus.problems[corpus.problems.report_id != first],
                       corpus.measures[corpus.measures.report_id != first])
    assert len(_entries(cache_dir)) == 2
    seen = []
    real = classify.classify_problems

    def spy(problems, *args, **kwargs):
        seen.append(sorted(set(problems.report_id)))
        return real(problems, *args, **kwargs)

    monkeypatch.setattr(classify, "classify_problems", spy)
    got, _ = coding.code_tables(corpus.problems, corpus.measures)
    assert seen == [[first]]  # the two cached reports were not classified again
    pd.testing.assert_frame_equal(got, direct[0])
    # an edited problem text changes its report's key: that report alone is coded again
    problems = corpus.problems.copy()
    last = problems.index[-1]
    problems.loc[last, "text"] = problems.loc[last, "text"] + "殡葬"
    seen.clear()
    coding.code_tables(problems, corpus.measures)
    assert seen == [[problems.loc[last, "report_id"]]]


def test_a_given_model_is_not_cached(corpus, cache_dir):
    model = classify.load_model()
    got, _ = coding.code_tables(corpus.problems, corpus.measures, model=model)
    assert _entries(cache_dir) == []
    assert got.primary_code.notna().sum() == 75
