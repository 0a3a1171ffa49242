"""compare.runner: the same tables in this process, in two worker processes and on a Dask cluster;
and the pipeline benchmark runs and prints well-formed JSON (its figures are not tested)."""

from __future__ import annotations

import json
import subprocess
import sys
from functools import partial

import pandas as pd
import pytest

from compare import config, load_reports
from compare.cache import Cache
from compare.corpus import Corpus, _work, expand_paths, process_file, report_ids
from compare.runner import imap, map_frames, resolve_jobs

BENCH = config.ROOT / "benchmarks" / "bench_pipeline.py"


def assert_same_corpus(a: Corpus, b: Corpus) -> None:
    for name in Corpus.TABLES:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), obj=name)
    assert a.documents.keys() == b.documents.keys()
    for rid, doc in a.documents.items():
        other = b.documents[rid]
        assert (doc.raw, doc.text, doc.deleted) == (other.raw, other.text, other.deleted)
        assert doc.offsets.tolist() == other.offsets.tolist()


@pytest.fixture(scope="module")
def local():
    return load_reports(config.RAW_DIR, jobs=1, cache=False)


def test_jobs2_gives_identical_tables(local):
    assert_same_corpus(load_reports(config.RAW_DIR, jobs=2, cache=False), local)


def test_dask_local_cluster_gives_identical_tables(local):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cl:
        with distributed.Client(cl) as client:
            by_client = load_reports(config.RAW_DIR, cache=False, engine="dask", scheduler=client)
            by_address = load_reports(config.RAW_DIR, cache=False, engine="dask", scheduler=cl.scheduler_address)
    assert_same_corpus(by_client, local)
    assert_same_corpus(by_address, local)


def test_results_come_in_input_order_and_without_tokens():
    paths = list(reversed(expand_paths(config.RAW_DIR)))
    ids = report_ids(paths)
    out = list(imap(partial(_work, cache=None, tokenizer=None), list(zip(paths, ids, strict=True)), jobs=2))
    assert [r.report["report_id"] for r in out] == ids
    assert all(r.tokens is None for r in out)


def test_engine_and_jobs_arguments():
    with pytest.raises(ValueError, match="unknown engine"):
        imap(len, [], engine="spark")
    with pytest.raises(ValueError, match="scheduler"):
        imap(len, [], engine="dask")
    # scikit-learn's convention: None is one worker, -1 every core, -2 all but one, 0 an error
    import os

    cores = os.cpu_count()
    assert resolve_jobs(None) == 1 and resolve_jobs(3) == 3 and resolve_jobs(-1) == cores
    assert resolve_jobs(-2) == max(1, cores - 1)
    with pytest.raises(ValueError, match="jobs=0"):
        resolve_jobs(0)


def test_benchmark_prints_well_formed_json(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--reports", "3", "--scale", "2", "--repeat", "1", "--json", "--targets"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout)
    assert out["reports"] == 3 and out["reports_at_scale"] == 6
    variants = ("jieba_floor", "pipeline_cold", "pipeline_cold_jobs2", "pipeline_warm")
    assert set(out["variants"]) == set(variants)
    for v in out["variants"].values():
        for key in ("seconds", "reports_per_s", "chars_per_s", "peak_rss_mb"):
            assert isinstance(v[key], (int, float)) and v[key] > 0, key
    assert set(out["variants_at_scale"]) == {"jieba_floor", "pipeline_cold"}
    for key in ("pipeline_vs_jieba", "speedup_jobs2", "warm_vs_cold", "growth"):
        assert isinstance(out["ratios"][key], float), key
    assert out["memory_10000"]["measured"] is False and out["memory_10000"]["method"]
    assert set(out["targets"]) == {"pipeline_vs_jieba", "pipeline_vs_jieba_at_scale", "speedup_jobs2",
                                   "warm_vs_cold", "growth", "peak_rss_mb_10000", "pss_mb_10000"}
    memory = {"peak_rss_mb_10000", "pss_mb_10000"}  # only a --measure-at 10000 run measures these
    assert {t["result"] for k, t in out["targets"].items() if k not in memory} <= {"pass", "miss"}
    assert {out["targets"][k]["result"] for k in memory} == {"not measured"}
    assert all(len(v["runs_s"]) == 1 for v in out["variants"].values())  # --repeat 1
    assert all(v["n_errors"] == 0 and v["n_problems"] == 75 for k, v in out["variants"].items() if k != "jieba_floor")


def test_map_frames_classification_equals_one_call(local, shipped_model, measure_model):
    from compare.coding import classify_measures, classify_problems

    whole = classify_problems(local.problems, local.measures, shipped_model)
    pd.testing.assert_frame_equal(map_frames(classify_problems, [local.problems, local.measures], jobs=2, chunks=3,
                                             model=shipped_model), whole)
    pd.testing.assert_frame_equal(map_frames(classify_problems, [local.problems, local.measures], max_groups=1,
                                             model=shipped_model),
                                  whole)  # one report per call, one call after the other, here
    pd.testing.assert_frame_equal(map_frames(classify_measures, local.measures, jobs=2, chunks=3, model=measure_model),
                                  classify_measures(local.measures, measure_model))


def test_per_file_tokens_are_the_tokenizers_segmentations(tmp_path, monkeypatch):
    """The per-file stage's tokens equal JiebaTokenizer.segment of the classifier's documents and of the
    measure texts, and land in the token cache where a fresh tokenizer finds them without jieba."""
    from compare.documents import problem_documents
    from compare.tokens import JiebaTokenizer

    path = config.RAW_DIR / "haizhu_2025-05-13.txt"
    store = Cache(tmp_path / "store")
    words = (config.USERDICT_PATH, config.STOPWORDS_PATH)
    res = process_file(path, cache=store, tokenizer=JiebaTokenizer(*words, cache=store))
    tok = JiebaTokenizer(*words)
    docs = problem_documents(pd.DataFrame(res.problems))
    assert res.tokens["problems"] == [tok.segment(d) for d in docs]
    assert res.tokens["measures"] == [tok.segment(m["text"]) for m in res.measures]
    assert res.tokens["dict_hash"] == tok.dict_hash_
    cached = JiebaTokenizer(*words, cache=store)  # its memory is empty: a hit must come from the disk cache
    monkeypatch.setattr(type(cached), "jieba", property(lambda self: pytest.fail("segmented again")))
    assert [cached.segment(d) for d in docs] == res.tokens["problems"]
    again = process_file(path, cache=store, tokenizer=cached)  # from the per-file cache, tokens included
    assert again.tokens == res.tokens and again.problems == res.problems


def test_progress_bars_show_in_jupyter_and_terminals_and_stay_quiet_in_ci(monkeypatch):
    from compare.runner import show_progress

    monkeypatch.delenv("COMPARE_PROGRESS", raising=False)
    monkeypatch.setenv("CI", "true")
    assert show_progress() is False and show_progress(True) is True
    monkeypatch.delenv("CI")
    monkeypatch.setitem(sys.modules, "ipykernel", object())  # as inside a Jupyter kernel
    assert show_progress() is True
    monkeypatch.setenv("COMPARE_PROGRESS", "0")  # what the build gives the notebooks it executes
    assert show_progress() is False and show_progress(True) is True


def _pid(_):
    import os

    return os.getpid()


def test_shared_workers_start_once_for_several_calls():
    from compare.runner import shared_workers

    with shared_workers(2):
        first = set(imap(_pid, range(40), jobs=2))
        second = set(imap(_pid, range(40), jobs=2))
    assert len(first | second) <= 2 and first & second  # the same worker processes served both calls
    import os

    assert os.getpid() not in first
    third = set(imap(_pid, range(40), jobs=2))  # outside the block: a pool of its own
    assert not third & (first | second)


def test_benchmark_targets_read_the_memory_figures():
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_pipeline", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out = {"ratios": {"pipeline_vs_jieba": 1.1, "speedup_jobs2": 1.75, "warm_vs_cold": 0.05, "growth": 10.0},
           "peak_rss_mb_10000": 2100.0, "pss_mb_10000": 2400.0}
    res = {k: v["result"] for k, v in bench.evaluate_targets(out).items()}
    assert res == {"pipeline_vs_jieba": "pass", "pipeline_vs_jieba_at_scale": "not measured",
                   "speedup_jobs2": "miss", "warm_vs_cold": "pass", "growth": "pass",
                   "peak_rss_mb_10000": "miss", "pss_mb_10000": "pass"}


def _seen(first, other):
    """A map_frames function that returns what it was given of the other frame (ids and whether it is a view)."""
    return pd.DataFrame({"key": first["key"].iloc[:1].tolist() * len(other), "row": other["row"].tolist()})


def test_map_frames_slices_the_other_frames_when_their_groups_run_side_by_side():
    """The other frames' rows of a chunk are the same rows whether they are found by slicing (each group one run,
    as the corpus tables are) or by a mask (a group split in two runs, a key missing, rows in another order)."""
    from compare.runner import _runs

    first = pd.DataFrame({"key": list("aabccd"), "v": range(6)})
    runs = pd.DataFrame({"key": list("aaabccccd"), "row": range(9)})
    split = pd.DataFrame({"key": list("abacd"), "row": range(5)})
    missing = pd.DataFrame({"key": list("aad"), "row": range(3)})
    assert _runs(runs["key"]) == {"a": (0, 3), "b": (3, 4), "c": (4, 8), "d": (8, 9)}
    assert _runs(split["key"]) is None and _runs(missing["key"].iloc[:0]) == {}
    for other in (runs, split, missing):
        got = map_frames(_seen, [first, other], by="key", max_groups=2)
        want = pd.concat([_seen(first[first.key.isin(ks)], other[other.key.isin(ks)]) for ks in (["a", "b"], ["c", "d"])])
        pd.testing.assert_frame_equal(got, want)


class _Remembers:
    """Counts, per process, how often it was unpickled; remembers what a call computed on it."""

    unpickled = 0

    def __init__(self):
        self.seen: list[str] = []

    def __setstate__(self, state):
        type(self).unpickled += 1
        self.__dict__.update(state)


def _note_chunk(first, thing):
    import os

    thing.seen.append(first["key"].iloc[0])
    return pd.DataFrame({"pid": [os.getpid()], "unpickled": [type(thing).unpickled], "seen": [len(thing.seen)]})


def test_map_frames_opens_its_keyword_arguments_once_per_worker():
    """Every chunk of one call finds the same objects in its worker: unpickled at its first chunk only, so what
    an object computes on first use (a model's feature labels) is computed once per worker, not per chunk."""
    from compare.runner import shared_workers

    first = pd.DataFrame({"key": [f"r{i:02d}" for i in range(24)]})
    with shared_workers(2):
        got = map_frames(_note_chunk, first, by="key", jobs=2, chunks=12, thing=_Remembers())
        again = map_frames(_note_chunk, first, by="key", jobs=2, chunks=12, thing=_Remembers())
    assert len(got) == 12 and got["pid"].nunique() == 2
    for _, rows in got.groupby("pid"):
        assert rows["seen"].tolist() == list(range(1, len(rows) + 1))  # one object, chunk after chunk
        assert set(rows["unpickled"]) == {1}
    for _, rows in again.groupby("pid"):  # a new call: new objects, unpickled once more in each worker
        assert set(rows["unpickled"]) == {2} and rows["seen"].iloc[0] == 1


def test_a_study_lets_arrow_give_freed_memory_back_unless_told_otherwise(tmp_path):
    """Study.resolve puts Arrow on the system allocator (mimalloc keeps what the gather frees), and leaves the
    pool alone when ARROW_DEFAULT_MEMORY_POOL names one."""
    import os

    code = ("from compare.study import Study; import pyarrow as pa; Study.resolve(cache=False); "
            "print(pa.default_memory_pool().backend_name)")
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    got = [subprocess.run([sys.executable, "-c", code], env={**env, **extra}, capture_output=True, text=True,
                          check=True).stdout.strip() for extra in ({}, {"ARROW_DEFAULT_MEMORY_POOL": "mimalloc"})]
    assert got == ["system", "mimalloc"]
