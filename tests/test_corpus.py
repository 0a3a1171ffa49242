"""compare.corpus: the Corpus tables, lossless spans, errors for bad files, saving, and the parse --json CLI."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pandas as pd
import pytest
from conftest import BUNDLED, raw_text

from compare import config, load_reports, schema
from compare.corpus import process_file


def test_tables_have_the_design_columns(corpus):
    assert list(corpus.reports.columns) == schema.REPORT_COLUMNS
    assert list(corpus.problems.columns) == schema.PROBLEM_COLUMNS
    assert list(corpus.measures.columns) == schema.MEASURE_COLUMNS
    assert list(corpus.mentions.columns) == schema.MENTION_COLUMNS
    assert list(corpus.errors.columns) == schema.ERROR_COLUMNS
    assert corpus.errors.empty


def test_counts_and_ids(corpus):
    rep = corpus.reports.set_index("report_id")
    assert rep.loc["huidong_2024-08-20", ["n_problems", "n_measures"]].tolist() == [10, 40]
    assert rep.loc["haizhu_2025-05-13", ["n_problems", "n_measures"]].tolist() == [26, 106]
    assert rep.loc["xuchang_2024-12-31", ["n_problems", "n_measures"]].tolist() == [39, 113]
    assert len(corpus.problems) == 75 and len(corpus.measures) == 259
    assert corpus.problems.problem_id.is_unique and corpus.measures.measure_id.is_unique
    assert corpus.problems.iloc[0].problem_id == "haizhu_2025-05-13:P01"
    n_by_problem = corpus.measures.groupby("problem_id").size()
    assert (corpus.problems.set_index("problem_id").n_measures == n_by_problem).all()
    assert rep.source_format.tolist() == ["txt"] * 3 and rep.encoding.tolist() == ["utf-8"] * 3


def test_every_character_is_accounted_for(corpus):
    """Spans tile each normalised text; the offset map accounts for every raw character."""
    for rid, doc in corpus.documents.items():
        spans = corpus.spans[corpus.spans.report_id == rid]
        assert spans.start.iloc[0] == 0 and spans.end.iloc[-1] == len(doc.text)
        assert (spans.start.to_numpy()[1:] == spans.end.to_numpy()[:-1]).all()
        kept = len(set(doc.offsets[:-1].tolist()))
        deleted = sum(b - a for a, b, _ in doc.deleted)
        assert kept + deleted == len(doc.raw)
        key = rid.split("_")[0]
        assert doc.raw == raw_text(key)


def test_spans_point_back_into_the_original(corpus):
    m = corpus.measures.set_index("measure_id").loc["huidong_2024-08-20:P03:M01"]
    assert corpus.text("huidong_2024-08-20", m.start, m.end).startswith("一是推动建设长者照护之家")
    assert corpus.text("huidong_2024-08-20", m.start, m.end, raw=True).startswith("一是**推动建设长者照护之家。2023 年，全县")


def test_mentions_sit_in_their_measures(corpus):
    men = corpus.mentions
    money = men[(men.report_id == "huidong_2024-08-20") & (men.kind == "money")]
    assert money.text.tolist() == ["277万元", "232万元", "45万元"]
    assert set(money.measure_id) == {"huidong_2024-08-20:P06:M05"}


def test_bad_files_become_error_rows_and_the_batch_goes_on(tmp_path):
    for name in BUNDLED.values():
        shutil.copy(config.RAW_DIR / name, tmp_path / name)
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "binary.txt").write_bytes(bytes(range(256)) * 8)
    (tmp_path / "notes.xyz").write_text("整改", encoding="utf-8")
    (tmp_path / "broken.docx").write_bytes(b"PK\x03\x04 not really a zip")
    corpus = load_reports(tmp_path, cache=False)
    assert len(corpus.reports) == 3 and len(corpus.problems) == 75
    errors = corpus.errors.set_index(corpus.errors.path.map(lambda p: p.rsplit("/", 1)[-1]))
    assert errors.error.to_dict() == {
        "binary.txt": "binary", "broken.docx": "corrupt_docx", "empty.txt": "empty", "notes.xyz": "unsupported_format",
    }
    for name, msg in errors.message.items():
        assert name in msg
    missing = load_reports([tmp_path / "nope.txt"], cache=False)
    assert missing.errors.error.tolist() == ["not_found"]


def test_news_item_loads_with_is_report_false(tmp_path):
    p = tmp_path / "news.txt"
    p.write_text("市委第六巡察组向市民政局党组反馈巡察情况\n2024年9月19日，市委第六巡察组向市民政局党组反馈巡察情况。\n", encoding="utf-8")
    c = load_reports(p, cache=False)
    assert c.reports.is_report.tolist() == [False] and c.reports.n_warnings.tolist() == [1]
    assert c.problems.empty and c.errors.empty


def test_parallel_and_cache_give_identical_tables(tmp_path, monkeypatch, corpus):
    from compare.study import Study

    study = Study.resolve(cache_dir=tmp_path / "cache")
    cold = study.load(config.RAW_DIR, jobs=2)
    warm = study.load(config.RAW_DIR, jobs=1)
    assert len(list((tmp_path / "cache" / "parse").rglob("*.json"))) == 3  # data, never pickles
    assert not [p for p in (tmp_path / "cache").rglob("*") if p.suffix in (".pkl", ".pickle", ".joblib")]
    for name in ("reports", "problems", "measures", "mentions", "spans"):
        pd.testing.assert_frame_equal(getattr(cold, name), getattr(corpus, name))
        pd.testing.assert_frame_equal(getattr(warm, name), getattr(corpus, name))


def test_save_writes_parquet_and_excel_friendly_csv(tmp_path, corpus):
    from compare.corpus import Corpus
    from compare.export import save_corpus

    save_corpus(corpus, tmp_path)
    back = Corpus.load(tmp_path)  # what a build wrote, read back
    pd.testing.assert_frame_equal(back.problems, corpus.problems)
    assert back.text("huidong_2024-08-20", 0, 4) == corpus.text("huidong_2024-08-20", 0, 4)
    raw = (tmp_path / "problems.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    back = pd.read_parquet(tmp_path / "problems.parquet")
    pd.testing.assert_frame_equal(back, corpus.problems)
    csv = pd.read_csv(tmp_path / "measures.csv", encoding="utf-8-sig")
    assert len(csv) == 259


def test_process_file_reports_missing_file(tmp_path):
    res = process_file(tmp_path / "missing.txt")
    assert res.error["error"] == "not_found" and "missing.txt" in res.error["message"]


@pytest.mark.parametrize("key", ["xuchang"])
def test_cli_parse_json(key):
    path = config.RAW_DIR / BUNDLED[key]
    out = subprocess.run([sys.executable, "-m", "compare", "parse", str(path), "--json"],
                         capture_output=True, text=True, check=True)
    doc = json.loads(out.stdout)
    assert set(doc) == {"report", "problems", "warnings"}
    assert set(doc["report"]) == set(schema.REPORT_COLUMNS) - {"warnings"}
    assert doc["report"]["published_date"] == "2024-12-31" and doc["report"]["n_problems"] == 39
    assert len(doc["problems"]) == 39 and sum(len(p["measures"]) for p in doc["problems"]) == 113
    p5 = doc["problems"][4]
    assert p5["title"] == "跟进学习习近平总书记重要讲话、指示精神不及时" and p5["label"] == "5."
    assert set(schema.PROBLEM_COLUMNS) <= set(p5)
    assert set(p5["measures"][0]) == set(schema.MEASURE_COLUMNS)
    assert doc["warnings"] == []


def test_documents_load_on_access_and_notice_a_changed_file(tmp_path, monkeypatch):
    from compare.corpus import Documents, LazyDocument
    from compare.study import Study

    src = tmp_path / "huidong.txt"
    shutil.copy(config.RAW_DIR / BUNDLED["huidong"], src)
    corpus = Study.resolve(cache_dir=tmp_path / "cache").load([src])
    docs = corpus.documents
    assert isinstance(docs, Documents) and isinstance(docs._items["huidong"], LazyDocument)  # nothing held
    doc = docs["huidong"]
    assert doc.raw == raw_text("huidong") and doc.text == process_file(src).document.text
    assert corpus.text("huidong", 0, 4) == doc.text[:4]
    src.write_text(raw_text("huidong") + "附件", encoding="utf-8")
    docs._recent.clear()
    with pytest.raises(ValueError, match="changed"):
        docs["huidong"]


def test_a_document_loads_from_the_entry_its_run_cached_without_parsing_again(tmp_path, monkeypatch):
    """The explorer's and kwic's texts: a report loaded with tokens is read back from that run's cache entry,
    in the run's corpus and in the corpus a build wrote (a notebook kernel), not parsed again."""
    from compare import corpus as corpus_mod
    from compare.corpus import Corpus
    from compare.export import save_corpus
    from compare.study import Study

    src = tmp_path / "huidong.txt"
    shutil.copy(config.RAW_DIR / BUNDLED["huidong"], src)
    study = Study.resolve(cache_dir=tmp_path / "cache")
    loaded = study.load([src])
    save_corpus(loaded, tmp_path / "out")
    built = Corpus.load(tmp_path / "out", cache=study.cache, dict_hash=study.tokenizer.dict_hash_)
    entries = sorted((tmp_path / "cache" / "parse").rglob("*.json"))
    assert len(entries) == 1

    def no_parsing(*args, **kwargs):
        raise AssertionError("parsed again")

    monkeypatch.setattr(corpus_mod, "process_bytes", no_parsing)
    expected = raw_text("huidong")
    for corpus in (loaded, built):
        assert corpus.documents["huidong"].raw == expected
        assert corpus.text("huidong", 0, 4) == corpus.documents["huidong"].text[:4]
    assert sorted((tmp_path / "cache" / "parse").rglob("*.json")) == entries  # no second entry written
    # without the run's dictionary hash the entry is not the one asked for: the file is parsed again
    with pytest.raises(AssertionError, match="parsed again"):
        Corpus.load(tmp_path / "out", cache=study.cache).documents["huidong"]


def test_an_exception_in_any_step_of_one_report_is_an_errors_row_naming_the_step(tmp_path, monkeypatch):
    """A bug that trips on one report (here: in the mention finder) costs that report, not the batch."""
    import compare.corpus as corpus_module
    from compare.corpus import expand_paths, read_corpus

    real = corpus_module.find_mentions

    def fragile(text):
        if "惠东" in text[:40]:
            raise RuntimeError("a bug that only this report triggers")
        return real(text)

    monkeypatch.setattr(corpus_module, "find_mentions", fragile)
    c = read_corpus(expand_paths(config.RAW_DIR))
    assert sorted(c.reports.report_id) == ["haizhu_2025-05-13", "xuchang_2024-12-31"]
    assert len(c.problems) == 26 + 39
    (err,) = c.errors.itertuples()
    assert (err.stage, err.error) == ("extract", "extract_failed")
    assert "huidong_2024-08-20.txt" in err.message and "a bug that only this report triggers" in err.message


def test_cache_entry_keeps_the_offset_map_as_runs():
    """A parse entry stores the offset map as runs (a few numbers, not one per character) and reads back the
    same map, jumps over deleted markup and collapsed blank lines included."""
    import numpy as np

    from compare.corpus import _document_from, _document_json
    from compare.normalize import normalize

    norm = normalize("一、**关于整改**的问题\n\n\n（一）台账不全，　已　补齐。\n")
    entry = _document_json(norm)
    assert "offsets" not in entry and 1 < len(entry["offset_runs"]) < len(norm.offsets) // 2
    back = _document_from(entry)
    assert back.offsets.dtype == np.int32 and back.offsets.tolist() == norm.offsets.tolist()
    assert (back.raw, back.text, back.deleted) == (norm.raw, norm.text, norm.deleted)


def test_gathered_columns_equal_one_frame_when_a_chunk_has_no_text():
    """Chunks in which a text column is all missing take the text dtype of the others (no Python strings for the
    whole column): the table equals one DataFrame of all the rows."""
    from compare.corpus import _Columns

    rows = [{"a": "x", "b": None, "n": 1}, {"a": None, "b": None, "n": 2}, {"a": "y", "b": None, "n": 3},
            {"a": "z", "b": "q", "n": 4}, {"a": None, "b": None, "n": None}]
    cols = _Columns(["a", "b", "n"], chunk=2)
    for r in rows:
        cols.extend([r])
    got = cols.frame()
    pd.testing.assert_frame_equal(got, pd.DataFrame(rows, columns=["a", "b", "n"]))
    assert got["b"].tolist()[3] == "q" and str(got["b"].dtype) == str(got["a"].dtype) == "str"


def test_stored_tables_read_back_as_the_frames_gathered_in_memory(tmp_path):
    """With a folder, gather writes mentions and spans to Parquet as it goes and the corpus reads them on access:
    the same frames (values and dtypes) as a gather in memory, the same rows in len(), one read shared by two
    accesses while the frame is held, and the files gone with the corpus."""
    import gc
    import pickle

    from compare.corpus import STORED, StoredTable, expand_paths, gather, process_file

    paths = expand_paths(config.RAW_DIR)
    results = [process_file(p) for p in paths]
    plain = gather(results)
    stored = gather(results, tmp_path / "tables")
    for name in STORED:
        handle = stored.__dict__[name]
        assert isinstance(handle, StoredTable) and handle.path == tmp_path / "tables" / f"{name}.parquet"
        pd.testing.assert_frame_equal(getattr(stored, name), getattr(plain, name))
        assert len(handle) == stored.size(name) == len(getattr(plain, name)) > 0
    assert stored.size("mentions") == 405 and stored.size("spans") == len(plain.spans)
    held = stored.mentions
    assert stored.mentions is held  # read once while held
    del held
    copy = pickle.loads(pickle.dumps(stored))  # a copy holds the frames themselves
    assert isinstance(copy.__dict__["spans"], pd.DataFrame)
    for name in ("reports", "problems", "measures", "errors"):
        pd.testing.assert_frame_equal(getattr(stored, name), getattr(plain, name))
    del stored, handle
    gc.collect()
    assert not (tmp_path / "tables").exists()
    pd.testing.assert_frame_equal(copy.spans, plain.spans)


def test_batches_keep_one_schema_when_a_chunk_has_no_ids(tmp_path):
    """Rows sent as Arrow batches (row_batch), combined every two rows, give the frame the dict rows give: a chunk
    whose problem ids are all missing (a preamble) is text like the others, in memory and in a stored file."""
    from compare.corpus import _Batches, _Columns, row_batch

    rows = [{"report_id": "r", "kind": "preamble", "start": 0, "end": 5, "problem_id": None, "measure_id": None},
            {"report_id": "r", "kind": "blank", "start": 5, "end": 6, "problem_id": None, "measure_id": None},
            {"report_id": "r", "kind": "measure", "start": 6, "end": 9, "problem_id": "r:P01", "measure_id": "r:P01:M01"},
            {"report_id": "s", "kind": "body", "start": 0, "end": 3, "problem_id": "s:P01"}]
    expected = _Columns(list(rows[0]), chunk=2)
    memory, stored = _Batches("spans", chunk=2), _Batches("spans", tmp_path / "spans.parquet", chunk=2)
    for part in (rows[:1], rows[1:3], rows[3:]):
        expected.extend(part)
        memory.add(row_batch("spans", part))
        stored.add(row_batch("spans", part))
    want = expected.frame()
    pd.testing.assert_frame_equal(memory.frame(), want)
    got = stored.frame().frame()
    pd.testing.assert_frame_equal(got, want)
    assert got["measure_id"].isna().tolist() == [True, True, False, True]
    assert got["start"].dtype == "int64" and str(got["kind"].dtype) == "str"


def test_a_gather_that_fails_leaves_no_stored_file(tmp_path):
    from compare.corpus import expand_paths, gather, process_file

    def results():
        yield process_file(expand_paths(config.RAW_DIR)[0])
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        gather(results(), tmp_path / "tables")
    assert not (tmp_path / "tables").exists()
