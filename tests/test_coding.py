"""Tests for compare.coding: a corpus coded in chunks, in processes and from the per-report cache equals the
classifiers run once on the whole tables; the cache follows the code and holds data, never pickles."""

from __future__ import annotations

import pickle

import pandas as pd
import pytest

from compare import coding, config
from compare.cache import FRAME_SUFFIX, Cache
from compare.training import load_model


@pytest.fixture()
def cache_dir(tmp_path):
    return tmp_path / "cache"


@pytest.fixture(scope="module")
def direct(corpus, shipped_model, measure_model):
    return (coding.classify_problems(corpus.problems, corpus.measures, shipped_model),
            coding.classify_measures(corpus.measures, measure_model))


@pytest.fixture()
def code(shipped_model, measure_model, cache_dir):
    """code_tables with the shipped classifiers and a cache under ``cache_dir``."""
    def run(problems, measures, jobs=1):
        return coding.code_tables(problems, measures, shipped_model, measure_model, jobs=jobs,
                                  cache=Cache(cache_dir), model_key="shipped")
    return run


def _entries(cache_dir):
    return sorted(p.name for p in (cache_dir / "coded").rglob("*" + FRAME_SUFFIX))


def test_cold_parallel_and_warm_equal_the_direct_run(corpus, direct, cache_dir, code, monkeypatch):
    cold = code(corpus.problems, corpus.measures, jobs=2)
    assert len(_entries(cache_dir)) == 4  # one entry per report, and one of the three together
    reads = []
    real = Cache.read_frame
    monkeypatch.setattr(Cache, "read_frame", lambda self, kind, key: reads.append(kind) or real(self, kind, key))
    warm = code(corpus.problems, corpus.measures, jobs=1)
    assert reads == ["coded", "coded-measures"]  # the same reports: the corpus's entry, not one per report
    for got in (cold, warm):
        pd.testing.assert_frame_equal(got[0], direct[0])
        pd.testing.assert_frame_equal(got[1], direct[1])
    assert direct[0].primary_code.notna().sum() == 75


def _spy(monkeypatch) -> list:
    seen = []
    real = coding.classify_problems

    def spy(problems, *args, **kwargs):
        seen.append(sorted(set(problems.report_id)))
        return real(problems, *args, **kwargs)

    monkeypatch.setattr(coding, "classify_problems", spy)
    return seen


def test_only_new_or_changed_reports_are_coded(corpus, direct, cache_dir, monkeypatch, code):
    first = corpus.reports.report_id.iloc[0]
    code(corpus.problems[corpus.problems.report_id != first],
         corpus.measures[corpus.measures.report_id != first])
    assert len(_entries(cache_dir)) == 3  # two reports, and the two together
    seen = _spy(monkeypatch)
    got, _ = code(corpus.problems, corpus.measures)
    assert seen == [[first]]  # the two cached reports were not classified again
    pd.testing.assert_frame_equal(got, direct[0])
    # an edited problem text changes its report's key: that report alone is coded again
    problems = corpus.problems.copy()
    last = problems.index[-1]
    problems.loc[last, "text"] = problems.loc[last, "text"] + "殡葬"
    seen.clear()
    code(problems, corpus.measures)
    assert seen == [[problems.loc[last, "report_id"]]]


def test_a_given_model_is_not_cached(corpus, cache_dir, measure_model):
    model = load_model(config.PROBLEM_MODEL_PATH)
    got, _ = coding.code_tables(corpus.problems, corpus.measures, model, measure_model, cache=Cache(cache_dir))
    assert _entries(cache_dir) == []
    assert got.primary_code.notna().sum() == 75


def test_an_edit_of_the_code_codes_everything_again(corpus, direct, monkeypatch, code):
    """The bug this cache had: after an edit of classify.py it still served the old codes."""
    monkeypatch.setattr(coding, "source_fingerprint", lambda: "code-before-the-edit")
    code(corpus.problems, corpus.measures)
    seen = _spy(monkeypatch)
    code(corpus.problems, corpus.measures)
    assert [r for call in seen for r in call] == []  # same code: every report from the cache
    monkeypatch.setattr(coding, "source_fingerprint", lambda: "code-after-the-edit")
    got, _ = code(corpus.problems, corpus.measures)
    assert sorted(r for call in seen for r in call) == sorted(corpus.reports.report_id)
    pd.testing.assert_frame_equal(got, direct[0])


class _Payload:
    """A pickle that would run code when loaded."""

    def __reduce__(self):
        return (pytest.fail, ("a pickle from the cache folder was loaded",))


def test_a_planted_pickle_is_never_loaded(corpus, direct, cache_dir, monkeypatch, code):
    code(corpus.problems, corpus.measures)
    planted = pickle.dumps(_Payload())
    entries = [p for p in cache_dir.rglob("*" + FRAME_SUFFIX)]
    assert entries
    for entry in entries:  # every entry replaced by a pickle, and a .pkl beside it as the old cache had
        entry.write_bytes(planted)
        entry.with_suffix(".pkl").write_bytes(planted)

    def refuse(*args, **kwargs):
        pytest.fail("the coding cache unpickled something")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    got_p, got_m = code(corpus.problems, corpus.measures)  # the damaged entries are coded again
    monkeypatch.undo()
    pd.testing.assert_frame_equal(got_p, direct[0])
    pd.testing.assert_frame_equal(got_m, direct[1])


def test_jobs_follow_the_scikit_learn_convention(corpus, shipped_model, measure_model):
    with pytest.raises(ValueError, match="jobs=0"):
        coding.code_tables(corpus.problems, corpus.measures, shipped_model, measure_model, jobs=0)


def test_coded_problems_carry_confidence_and_review_and_count_them_apart(shipped_model):
    import pandas as pd

    from compare.coding import classify_problems, review_split

    problems = pd.DataFrame({
        "report_id": ["a", "a", "b"], "problem_id": ["a:P01", "a:P02", "b:P01"],
        "title": ["低保审核审批不规范", "某项工作进度滞后", "农村公路日常养护不到位"], "text": ["", "", ""],
    })
    coded = classify_problems(problems, None, shipped_model, agency={"a": "民政局", "b": "交通运输局"})
    assert list(coded["primary_code"]) == ["social_assistance", "party_building", "mandate_general"]
    assert list(coded["needs_review"]) == [False, True, False]
    assert coded["review_reason"].iloc[1].startswith("no codebook rule matched")
    assert coded["confidence"].between(0, 1).all()
    split = review_split(coded)
    assert split.to_dict("records") == [
        {"report_id": "a", "n": 2, "n_reviewed": 1, "n_needs_review": 1, "share_needs_review": 0.5},
        {"report_id": "b", "n": 1, "n_reviewed": 1, "n_needs_review": 0, "share_needs_review": 0.0},
    ]
