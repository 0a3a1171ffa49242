"""compare.tokens: the jieba tokenizer (own dictionary, stopwords, filtering), its content-hash cache, pickling,
and the reuse of a report's segmentation for its measures."""

from __future__ import annotations

import pickle
import tempfile

import jieba
import pytest

from compare import config
from compare.cache import Cache
from compare.documents import problem_document
from compare.tokens import JiebaTokenizer, read_wordlist, segment_report

WORD = "巡察整改台账系统"  # not in jieba's dictionary: only a user dictionary keeps it whole


@pytest.fixture()
def files(tmp_path):
    ud = tmp_path / "userdict.txt"
    ud.write_text(f"# comment\n{WORD} 1000 n\n低保边缘家庭 500 n\n", encoding="utf-8")
    sw = tmp_path / "stopwords.txt"
    sw.write_text("切实\n进一步\n的\n", encoding="utf-8")
    return ud, sw, tmp_path / "cache"


def test_user_dictionary_stopwords_punctuation_numbers(files):
    ud, sw, cache = files
    tok = JiebaTokenizer(userdict=ud, stopwords=sw, cache=Cache(cache))
    tokens = tok("一是切实进一步完善巡察整改台账系统，2024年核查低保边缘家庭30.5万户（１２户）。")
    assert WORD in tokens and "低保边缘家庭" in tokens
    assert not {"切实", "进一步", "的", "一"} & set(tokens)
    assert not any(t in {"，", "。", "（", "）"} for t in tokens)
    assert not any(t.replace(".", "").isdigit() for t in tokens)
    assert all(t == t.strip() and t for t in tokens)


def test_own_jieba_instance_leaves_global_dictionary_alone(files):
    ud, sw, cache = files
    tok = JiebaTokenizer(userdict=ud, stopwords=sw, cache=Cache(cache))
    assert tok.jieba is not jieba.dt
    tok(WORD)
    assert WORD not in jieba.dt.FREQ and WORD not in jieba.dt.user_word_tag_tab
    bare = JiebaTokenizer(userdict=False, stopwords=False, cache=None)
    assert bare.segment(WORD) != [WORD]


def test_picklable_and_self_contained(files, tmp_path):
    ud, sw, cache = files
    tok = JiebaTokenizer(userdict=ud, stopwords=sw, cache=Cache(cache))
    text = "切实完善巡察整改台账系统"
    before = tok(text)
    ud.unlink()  # the pickle carries the dictionary's content, not its path
    data = pickle.dumps(tok)
    assert len(data) < 50_000
    clone = pickle.loads(data)
    assert clone == tok and clone(text) == before


def test_disk_cache_by_content_hash(files, monkeypatch):
    ud, sw, cache = files
    tok = JiebaTokenizer(userdict=ud, stopwords=sw, cache=Cache(cache))
    text = "规范低保边缘家庭认定，完善巡察整改台账系统。"
    expected = tok(text)
    assert len(list(cache.rglob("*.json"))) == 1

    # a fresh tokenizer (empty memory) reads the segmentation from disk: jieba is never asked
    fresh = JiebaTokenizer(userdict=ud, stopwords=sw, cache=Cache(cache))
    monkeypatch.setattr(JiebaTokenizer, "jieba", property(lambda self: pytest.fail("re-segmented")))
    assert fresh(text) == expected
    # different stopwords reuse the same segmentation (stopwords are applied after the cache)
    sw.write_text("规范\n", encoding="utf-8")
    other = JiebaTokenizer(userdict=ud, stopwords=sw, cache=Cache(cache))
    assert other(text) == [
        t for t in JiebaTokenizer(userdict=ud, stopwords=False, cache=Cache(cache))(text) if t != "规范"
    ]
    monkeypatch.undo()
    # a different user dictionary is a different key
    ud.write_text("台账系统 1000 n\n", encoding="utf-8")
    JiebaTokenizer(userdict=ud, stopwords=sw, cache=Cache(cache))(text)
    assert len(list(cache.rglob("*.json"))) == 2


def test_damaged_cache_entry_is_recomputed(files):
    ud, sw, cache = files
    tok = JiebaTokenizer(userdict=ud, stopwords=sw, cache=Cache(cache))
    expected = tok("完善巡察整改台账系统")
    (entry,) = cache.rglob("*.json")
    entry.write_text("{not json", encoding="utf-8")
    assert JiebaTokenizer(userdict=ud, stopwords=sw, cache=Cache(cache))("完善巡察整改台账系统") == expected


def test_jiebas_dictionary_is_read_from_its_cache_file_in_one_piece(files, monkeypatch, tmp_path):
    import compare.tokens as tokens

    ud, sw, cache = files
    calls = []
    real = jieba.Tokenizer.initialize
    monkeypatch.setattr(jieba.Tokenizer, "initialize", lambda self, *a: calls.append(1) or real(self, *a))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # jieba's cache file: written to, read from here

    def fresh():
        monkeypatch.setattr(tokens, "_JIEBA_INSTANCES", {})  # as in a new process
        monkeypatch.setattr(tokens, "_SEGMENTATIONS", {})
        return JiebaTokenizer(userdict=ud, stopwords=sw, cache=Cache(cache))

    def segmented(text):  # by a new process's jieba: no segmentation of the text is cached yet
        tk = fresh().jieba
        return [w for w in tk.cut(text) if w.strip("，")]

    assert segmented("完善巡察整改台账系统，落实低保边缘家庭认定") == ["完善", WORD, "落实", "低保边缘家庭", "认定"]
    assert calls == [1] and (tmp_path / "jieba.cache").is_file()  # no file yet: jieba built and wrote it
    assert segmented("健全低保边缘家庭认定机制") == ["健全", "低保边缘家庭", "认定", "机制"]
    assert calls == [1]  # read from jieba's file, not by jieba's loader
    (tmp_path / "jieba.cache").write_bytes(b"torn")
    assert segmented("巡察整改台账系统上线") == [WORD, "上线"] and calls == [1, 1]  # damaged: jieba's own way
    assert segmented("巡察整改台账系统上线运行") == [WORD, "上线", "运行"] and calls == [1, 1]  # written again


def test_project_defaults():
    from compare.study import default_study

    tok = default_study().tokenizer
    assert tok is default_study().tokenizer
    assert tok.userdict_text == read_wordlist(config.USERDICT_PATH)
    assert tok.stopwords_ == frozenset(read_wordlist(config.STOPWORDS_PATH).split("\n")) - {""}
    assert "第一议题" in tok("落实第一议题制度")


def test_no_disk_cache_without_a_cache(files):
    ud, sw, cache = files
    JiebaTokenizer(userdict=ud, stopwords=sw)("完善巡察整改台账系统")
    assert not cache.exists()


def test_cache_entries_are_json_data_never_pickles(files):
    ud, sw, cache = files
    tok = JiebaTokenizer(userdict=ud, stopwords=sw, cache=Cache(cache))
    expected = tok("完善巡察整改台账系统")
    (entry,) = [p for p in cache.rglob("*.json") if p.is_file()]
    entry.write_bytes(pickle.dumps(["planted"]))  # a pickle where the JSON was: recomputed, never unpickled
    assert JiebaTokenizer(userdict=ud, stopwords=sw, cache=Cache(cache))("完善巡察整改台账系统") == expected
    entry.write_text('{"a": 1}', encoding="utf-8")  # JSON, but not a segmentation
    assert JiebaTokenizer(userdict=ud, stopwords=sw, cache=Cache(cache))("完善巡察整改台账系统") == expected


def test_segment_report_reuses_the_problem_segmentation(corpus):
    """Every measure's tokens equal its own segmentation, though most are taken from the problem's."""
    tok = JiebaTokenizer(config.USERDICT_PATH, config.STOPWORDS_PATH)
    rid = corpus.reports.report_id.iloc[0]
    problems = corpus.problems[corpus.problems.report_id == rid].to_dict("records")
    measures = corpus.measures[corpus.measures.report_id == rid].to_dict("records")
    out = segment_report(problems, measures, tok)
    assert out["dict_hash"] == tok.dict_hash_
    assert out["problems"] == [tok.segment(problem_document(p["title"], p["text"])) for p in problems]
    assert out["measures"] == [tok.segment(m["text"]) for m in measures]
    assert len(out["measures"]) == len(measures) > 0


def test_segment_report_with_spans_cutting_jieba_blocks():
    tok = JiebaTokenizer(userdict=False, stopwords=False)
    text = "一是完善制度ABC建设。二是加强123管理，规范流程。"
    problem = {"problem_id": "r:P01", "title": "标题", "text": text, "start": 0}
    cuts = [(2, 9), (13, 22), (0, len(text)), (5, 6), (3, 3)]  # inside runs, across runs, empty
    measures = [{"problem_id": "r:P01", "text": text[a:b], "start": a} for a, b in cuts]
    measures.append({"problem_id": "r:P99", "text": "没有问题的措施", "start": 0})  # no problem of its own
    out = segment_report([problem], measures, tok)
    assert out["measures"] == [tok.segment(m["text"]) if m["text"] else [] for m in measures]


def test_segment_all_is_one_cache_entry_read_back_without_jieba(files, monkeypatch):
    ud, sw, cache = files
    texts = [f"完善{WORD}。", "", "核查低保边缘家庭，30户。"]
    first = JiebaTokenizer(userdict=ud, stopwords=sw, cache=Cache(cache / "a"))
    segs = first.segment_all(texts)
    assert segs == [first.segment(t) for t in texts] and segs[1] == []
    assert ["".join(s) for s in segs] == texts
    assert len([p for p in (cache / "a").rglob("*.json")]) == 1  # one entry for the three texts
    other = JiebaTokenizer(userdict=ud, stopwords=sw, cache=Cache(cache / "a"))
    monkeypatch.setattr(JiebaTokenizer, "jieba", property(lambda self: pytest.fail("segmented again")))
    assert other.segment_all(texts) == segs
    assert other.segment(texts[0]) == segs[0]  # now in memory, shared by the tokenizers of this cache


def test_segment_all_ignores_an_entry_that_is_not_the_texts_segmentation(files):
    ud, sw, cache = files
    tok = JiebaTokenizer(userdict=ud, stopwords=sw, cache=Cache(cache / "b"))
    texts = ["完善台账。", "核查家庭。"]
    expected = tok.segment_all(texts)
    (entry,) = (cache / "b").rglob("*.json")
    entry.write_text('[["完善"], ["核查家庭。"]]', encoding="utf-8")  # the first does not join up to its text
    fresh = JiebaTokenizer(userdict=ud, stopwords=sw, cache=Cache(cache / "b"), hmm=True)
    from compare import tokens as tokens_module

    tokens_module._SEGMENTATIONS.clear()  # forget the memory: only the damaged entry remains
    assert fresh.segment_all(texts) == expected


def test_problem_tokens_read_each_reports_documents_once_without_jieba(files, monkeypatch):
    import pandas as pd

    from compare import tokens as tokens_module
    from compare.tokens import problem_tokens

    ud, sw, cache = files
    problems = pd.DataFrame({"report_id": ["a", "a", "b"], "title": ["完善台账", "核查家庭", f"建立{WORD}"],
                             "text": ["切实完善低保边缘家庭台账，30户。", "进一步核查。", f"建立{WORD}。"]})
    docs = [problem_document(t, x) for t, x in zip(problems.title, problems.text, strict=True)]
    first = JiebaTokenizer(userdict=ud, stopwords=sw, cache=Cache(cache / "p"))
    for _, grp in problems.groupby("report_id", sort=False):  # as the per-file stage stores them: one entry a report
        first.segment_all([problem_document(t, x) for t, x in zip(grp.title, grp.text, strict=True)])
    expected = [first.tokenize(d) for d in docs]
    assert expected[0] == ["完善", "台账", "完善", "低保边缘家庭", "台账", "户"]  # stopwords, numbers, punctuation out
    tokens_module._SEGMENTATIONS.clear()
    other = JiebaTokenizer(userdict=ud, stopwords=sw, cache=Cache(cache / "p"))
    monkeypatch.setattr(JiebaTokenizer, "jieba", property(lambda self: pytest.fail("segmented again")))
    known = problem_tokens(problems, other)
    assert [known(d) for d in docs] == expected
    with pytest.raises(pytest.fail.Exception):
        known("一个没有见过的文本")  # any other text goes to the tokenizer (here: jieba, forbidden)


def test_making_a_tokenizer_does_not_import_jieba(files):
    """A notebook kernel makes the study's tokenizer but never cuts a text: jieba (0.2 s to import) waits for
    the first text, and the dictionary hash, part of every segmentation's cache key, names jieba's version."""
    import subprocess
    import sys

    from compare.cache import digest

    ud, sw, _ = files
    code = ("import sys; from compare.tokens import JiebaTokenizer; "
            f"t = JiebaTokenizer({str(ud)!r}, {str(sw)!r}); "
            "print(t.dict_hash_, 'jieba' in sys.modules); t.tokenize('加强养老机构监管'); print('jieba' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    made = JiebaTokenizer(ud, sw)
    assert out == [made.dict_hash_, "False", "True"]
    assert made.dict_hash_ == digest("jieba", jieba.__version__, "hmm=True", made.userdict_text)
