"""compare.similarity: keyness by hand on a toy corpus; recycled measures found in the Xuchang report."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from compare.similarity import keyness, place_terms, recurring_themes, recycled_text, similar_pairs


@pytest.fixture
def toy():
    reports = pd.DataFrame({"report_id": ["a", "b"], "region": ["甲县", "乙区"], "city": [None, None],
                            "province": [None, None]})
    problems = pd.DataFrame({
        "report_id": ["a", "b"], "problem_id": ["a:P01", "b:P01"], "title": ["养老", "救助"],
        "text": ["养老 救助", "救助 殡葬"],
    })
    return problems, reports


def test_keyness_log_likelihood_by_hand(toy):
    problems, reports = toy
    # docs are “title。text”: 甲县 = 养老 养老 救助, 乙区 = 救助 救助 殡葬
    k = keyness(problems, reports, min_count=1, top_n=None, tokenizer=lambda s: s.replace("。", " ").split())
    row = k[(k.region == "甲县") & (k.term == "养老")].iloc[0]
    # a=2, b=0, c=1, d=3; expected 1, 1, 2, 2 → G² = 2(2ln2 + 1·ln½ + 3·ln1.5)
    assert row.score == pytest.approx(2 * (2 * math.log(2) + math.log(0.5) + 3 * math.log(1.5)))
    assert (row.n_target, row.n_reference) == (2, 0)
    neg = k[(k.region == "甲县") & (k.term == "殡葬")].iloc[0]
    assert neg.score < 0  # rarer in 甲县 than elsewhere
    chi = keyness(problems, reports, measure="chi2", min_count=1, top_n=None,
                  tokenizer=lambda s: s.replace("。", " ").split())
    r = chi[(chi.region == "甲县") & (chi.term == "养老")].iloc[0]
    # Yates: n(|ad-bc| - n/2)² / ((a+b)(c+d)(a+c)(b+d)) = 6(6-3)² / (2·4·3·3)
    assert r.score == pytest.approx(6 * 9 / (2 * 4 * 3 * 3))


def test_keyness_drops_place_names(corpus, tokenizer):
    k = keyness(corpus.problems, corpus.reports, top_n=10, tokenizer=tokenizer)
    assert not set(k.term) & {"海珠区", "惠东县", "许昌市", "区", "市", "县"}
    top = k.groupby("region").term.first().to_dict()
    # counted with the tokenizer: 消防安全 17× in 海珠区's problems and never elsewhere; 年轻干部 17× in 许昌市's
    assert top == {"海珠区（广州市）": "消防安全", "惠东县（惠州市）": "社工", "许昌市": "年轻干部"}


def test_recycled_measures_in_xuchang(corpus):
    r = recycled_text(corpus.measures, corpus.reports, threshold=0.8)
    pairs = set(zip(r.measure_id_a, r.measure_id_b, strict=True))
    x = "xuchang_2024-12-31"
    # read in the report: P1 and P39 share their 一是/二是, P4 and P31 their 一是, P30 is copied into P29
    assert pairs == {(f"{x}:P01:M01", f"{x}:P39:M01"), (f"{x}:P01:M02", f"{x}:P39:M02"),
                     (f"{x}:P04:M01", f"{x}:P31:M01"), (f"{x}:P29:M01", f"{x}:P30:M01")}
    assert set(r.scope) == {"within report"}
    row = r[r.measure_id_a == f"{x}:P29:M01"].iloc[0]
    assert row.containment >= 0.9 > row.cosine


def test_similar_pairs_are_across_regions(corpus, tokenizer):
    s = similar_pairs(corpus.problems, corpus.reports, top_n=10, tokenizer=tokenizer)
    assert len(s) == 10 and (s.region_a != s.region_b).all()
    assert s.similarity.is_monotonic_decreasing
    # the closest pair: the two reports' problems on studying the General Secretary's speeches (第一议题)
    best = {s.problem_id_a.iloc[0], s.problem_id_b.iloc[0]}
    assert "xuchang_2024-12-31:P05" in best


def test_recurring_themes_ranks_by_regions(toy):
    problems, reports = toy
    themes = recurring_themes(problems, reports, pd.Series([0, 0]), {0: "养老 救助"})
    assert themes.iloc[0][["cluster", "terms", "n_regions", "regions", "n_problems", "甲县", "乙区"]].tolist() == [
        0, "养老 救助", 2, "甲县、乙区", 2, "养老", "救助"]
    assert recurring_themes(problems, reports, pd.Series([0, 1])).empty


def test_place_terms_keep_whole_names():
    reports = pd.DataFrame({"report_id": ["a", "b"], "region": ["潮州市", "七里河区"], "city": ["潮州市", "兰州市"],
                            "province": ["广东省", "甘肃省"]})
    terms = place_terms(reports)
    assert {"潮州市", "潮州", "兰州市", "兰州", "七里河区", "七里河", "广东", "甘肃"} <= terms
    assert not {"潮", "兰"} & terms  # 州 is part of the names, not a suffix to strip twice


def test_similar_pairs_compare_reports_that_share_a_name():
    reports = pd.DataFrame({"report_id": ["nj", "fz"], "region": ["鼓楼区", "鼓楼区"], "city": ["南京市", "福州市"],
                            "province": ["江苏省", "福建省"]})
    problems = pd.DataFrame({"report_id": ["nj", "nj", "fz"], "problem_id": ["nj:P01", "nj:P02", "fz:P01"],
                             "title": ["养老 服务", "殡葬 管理", "养老 服务"], "text": ["养老", "殡葬", "养老"]})
    s = similar_pairs(problems, reports, top_n=5, n_components=2, tokenizer=lambda t: t.replace("。", " ").split())
    assert len(s) == 2 and set(s.region_a) | set(s.region_b) == {"鼓楼区（南京市）", "鼓楼区（福州市）"}
    assert {s.problem_id_a.iloc[0], s.problem_id_b.iloc[0]} == {"nj:P01", "fz:P01"}


def test_char_ngrams_count_as_scikit_learn():
    from sklearn.feature_extraction.text import CountVectorizer

    from compare.similarity import _code_points, _ngram_counts

    texts = ["加强养老服务  监管，一是 AB", "殡葬改革宣传不够。", "x", "二是完善制度二是完善制度"]
    cps, lengths = _code_points(texts)
    for n in (2, 3, 4):
        ours, keys = _ngram_counts(cps, lengths, n)
        names = ["".join(chr(int(k) >> 16 * (n - 1 - p) & 0xFFFF) for p in range(n)) for k in keys]
        ref = CountVectorizer(analyzer="char", ngram_range=(n, n))
        theirs = ref.fit_transform(texts)
        cols = [ref.vocabulary_[t] for t in names]  # the same n-grams, in another column order
        assert sorted(names) == sorted(ref.vocabulary_) and (ours.toarray() == theirs[:, cols].toarray()).all()


def test_minhash_is_datasketch():
    from datasketch import MinHash

    from compare.similarity import _char_vectors, _fmix, minhash_signatures

    texts = ["一是加强养老机构消防安全检查", "殡葬改革宣传不够深入", "二是"]
    _, _, B, keys = _char_vectors(texts)
    sig = minhash_signatures(B, keys, num_perm=16, seed=3)
    hv = (_fmix(keys.astype(np.uint64), 64) & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    for row in range(2):
        m = MinHash(num_perm=16, seed=3, hashfunc=lambda x: x, scheme="affine32")
        m.update_batch(hv[B.indices[B.indptr[row]:B.indptr[row + 1]]])
        assert (sig[row] == m.hashvalues).all()
    assert (sig[2] == 2**32 - 1).all()  # 二是 has no 4-gram: the empty MinHash


_POOL = ("的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定"
         "行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些")


def _copies(n_reports: int) -> pd.DataFrame:
    """Every report answers two problems with one paragraph (one character changed), and one problem with a
    paragraph that every report shares; its fourth measure is its own."""
    import random

    common = "严格落实养老机构安全管理责任，每季度开展一次消防安全隐患排查整治，建立问题清单并逐项销号。"
    rows = []
    for r in range(n_reports):
        rng = random.Random(r)
        own, other = "".join(rng.sample(_POOL, 40)), "".join(rng.sample(_POOL, 40))
        edited = own[:20] + ("甲" if own[20] != "甲" else "乙") + own[21:]
        for p, text in enumerate([own, edited, common, other]):
            rows.append({"report_id": f"r{r}", "problem_id": f"r{r}:P{p}", "measure_id": f"r{r}:P{p}:M01",
                         "text": text})
    return pd.DataFrame(rows)


def test_recycled_is_bounded_with_totals():
    from compare.similarity import recycled

    pairs, totals = recycled(_copies(30), per_measure=2, per_report=3)
    # 30 within-report pairs (P0 ~ P1 of each report) and 30·29/2 = 435 pairs of the common paragraph exist
    within = pairs[pairs.scope == "within report"]
    assert set(zip(within.measure_id_a, within.measure_id_b, strict=True)) == {
        (f"r{r}:P0:M01", f"r{r}:P1:M01") for r in range(30)}
    across = pairs[pairs.scope == "across reports"]
    assert across.measure_id_a.str.endswith("P2:M01").all() and (across.similarity == 1).all()
    # shown: a measure's 2 best pairs, then a report's 3 best within and 3 best across (of either side)
    assert len(across) <= 30 * 3  # each pair is kept by the report of one of its sides
    assert totals.n_measures.eq(4).all() and totals.n_recycled_within.eq(2).all()
    assert totals.n_recycled_across.eq(1).all()  # only the common paragraph is found in other reports
    assert (totals.n_pairs_shown <= totals.n_pairs_found).all() and totals.n_pairs_found.ge(2).all()
    assert "per report" in pairs.attrs["bound"]
    assert list(totals.columns) == ["report_id", "n_measures", "n_recycled_within", "n_recycled_across",
                                    "n_pairs_found", "n_pairs_shown"]
