"""compare.cluster: TF-IDF/LSA clustering of problems and measures, k by silhouette, scored against hand labels.

Floors measured on the three bundled reports with the defaults (seed 0, 20 LSA dimensions, k 2–15, 5 seeds):
problems V-measure k-means 0.490 ± 0.039 (k=15), agglomerative 0.499 (k=15); measures scored against their
problem's hand code, k-means 0.319 ± 0.017, agglomerative 0.361.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from compare import config
from compare.cluster import (
    METHODS,
    cluster_measures,
    cluster_problems,
    cluster_score,
    embed_problems,
    embed_texts,
    select_k,
)
from compare.labels import load_problem_labels

FLOOR_PROBLEMS_V = 0.40
FLOOR_MEASURES_V = 0.25


@pytest.fixture(scope="module")
def labels(corpus, codebook):
    return load_problem_labels(config.PROBLEM_LABELS_PATH, corpus.problems, codebook)


@pytest.fixture(scope="module")
def problems(corpus, labels, tokenizer):
    return cluster_problems(corpus.problems, labels, seed=0, tokenizer=tokenizer)


@pytest.fixture(scope="module")
def measures(corpus, labels, tokenizer):
    return cluster_measures(corpus.measures, labels, seed=0, tokenizer=tokenizer)


@pytest.mark.parametrize("which", ["problems", "measures"])
def test_metrics_in_range(which, problems, measures):
    res = {"problems": problems, "measures": measures}[which]
    s = res.scores
    assert set(s["method"]) == set(METHODS)
    external = s[s["metric"] != "silhouette"]
    assert external["mean"].between(-0.5, 1).all()  # ARI may dip below 0 by chance; never in practice here
    homog = s[s["metric"].isin(["homogeneity", "completeness", "v_measure"])]
    assert homog["mean"].between(0, 1).all() and homog["std"].ge(0).all()
    assert s[s["metric"] == "adjusted_rand"]["mean"].between(0, 1).all()
    assert s[s["metric"] == "silhouette"]["mean"].between(-1, 1).all()
    assert (s[s["method"] == "agglomerative"]["std"] == 0).all()
    assert (s[s["method"] == "kmeans"]["n_runs"] == 5).all()


def test_v_measure_floors(problems, measures):
    for method in METHODS:
        assert cluster_score(problems, method) >= FLOOR_PROBLEMS_V, problems.metrics_table()
        assert cluster_score(measures, method) >= FLOOR_MEASURES_V, measures.metrics_table()


def test_k_chosen_by_silhouette(problems):
    sel = problems.selection
    for method in METHODS:
        rows = sel[sel["method"] == method]
        best = rows.loc[rows["silhouette_mean"].idxmax()]
        assert problems.k[method] == best["k"] and rows["best"].sum() == 1
        assert rows["k"].min() == 2
    assert (sel[sel["method"] == "kmeans"]["n_runs"] == 5).all()
    # the reference run with as many clusters as codes is reported next to the silhouette choice
    assert set(problems.scores["k_choice"]) == {"silhouette", "n_codes"}
    assert set(problems.scores.loc[problems.scores["k_choice"] == "n_codes", "k"]) == {9}


def test_assignments_top_terms_crosstab(corpus, problems):
    a = problems.assignments
    assert a["id"].tolist() == corpus.problems["problem_id"].tolist()
    for method in METHODS:
        assert a[method].nunique() == problems.k[method]
        ct = problems.crosstab(method)
        assert ct.to_numpy().sum() == len(corpus.problems)
        assert len(ct) == problems.k[method]
        terms = problems.terms(method, n=5)
        assert len(terms) == problems.k[method] and terms.str.len().gt(0).all()
    tt = problems.top_terms
    assert tt.groupby(["method", "cluster"]).size().eq(10).all()
    table = problems.metrics_table()
    assert "v_measure" in table.columns and table.iloc[0, 0].count("±") == 1


def test_deterministic(corpus, labels, problems, tokenizer):
    again = cluster_problems(corpus.problems, labels, seed=0, tokenizer=tokenizer)
    pd.testing.assert_frame_equal(problems.assignments, again.assignments)
    pd.testing.assert_frame_equal(problems.scores, again.scores)
    pd.testing.assert_frame_equal(problems.top_terms, again.top_terms)
    assert problems.k == again.k


def test_fixed_k_and_no_labels(corpus, tokenizer):
    res = cluster_problems(corpus.problems, None, k=4, methods=("kmeans",), n_seeds=2, tokenizer=tokenizer)
    assert res.k == {"kmeans": 4}
    assert set(res.scores["metric"]) == {"silhouette"} and set(res.scores["k_choice"]) == {"fixed"}
    with pytest.raises(ValueError):
        res.crosstab()


def test_select_k_range():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(c, 0.05, size=(10, 3)) for c in (0, 1, 2)])
    sel = select_k(X, k_range=range(2, 6), n_seeds=2)
    assert sel.loc[sel["best"], "k"].tolist() == [3, 3]


def test_embedding(corpus, tokenizer):
    emb = embed_problems(corpus.problems, method="tsne", seed=0, tokenizer=tokenizer)
    assert list(emb.columns) == ["problem_id", "x", "y"] and len(emb) == len(corpus.problems)
    assert np.isfinite(emb[["x", "y"]].to_numpy()).all()
    pd.testing.assert_frame_equal(emb, embed_problems(corpus.problems, method="tsne", seed=0, tokenizer=tokenizer))
    lsa = embed_texts(corpus.problems["text"], corpus.problems["problem_id"], method="lsa", tokenizer=tokenizer)
    assert lsa[["x", "y"]].abs().max().max() <= 1 + 1e-9
    with pytest.raises(ValueError):
        embed_texts(["a", "b", "c"], [1, 2, 3], method="umap", tokenizer=tokenizer)


def _blobs(n_per: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.normal(c, 0.05, size=(n_per, 3)) for c in ((1, 0, 0), (0, 1, 0), (0, 0, 1))])
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def test_large_n_samples_silhouette_and_ward(monkeypatch):
    import compare.cluster as C

    X = _blobs(40)
    full = select_k(X, k_range=range(2, 5), n_seeds=1)
    monkeypatch.setattr(C, "SAMPLE_MAX", 60)  # 120 documents: sampled
    sampled = select_k(X, k_range=range(2, 5), n_seeds=1)
    assert sampled.loc[sampled["best"], "k"].tolist() == full.loc[full["best"], "k"].tolist() == [3, 3]
    labels = C._fit("agglomerative", X, 3, seed=0).labels_
    # Ward on 60 sampled points, the other 60 by nearest centroid: the three blobs exactly
    assert len(labels) == 120 and all(len(set(labels[i * 40:(i + 1) * 40])) == 1 for i in range(3))
    assert len(set(labels)) == 3


def test_map_methods_by_size(monkeypatch, tokenizer):
    import compare.cluster as C

    monkeypatch.setattr(C, "TSNE_SKLEARN_MAX", 50)
    X = _blobs(30)  # 90 points: openTSNE
    a, b = C._tsne(X, seed=0), C._tsne(X, seed=0)
    assert a.shape == (90, 2) and np.isfinite(a).all() and (a == b).all()
    monkeypatch.setattr(C, "TSNE_MAX", 3)
    texts = ["养老 服务 监管", "殡葬 改革 宣传", "低保 救助 审核", "养老 机构 消防", "殡葬 管理 收费"]
    pca = embed_texts(texts, list(range(5)), tokenizer=lambda s: s.split(), n_components=3)
    assert pca.attrs["method"] == "pca" and list(pca.columns) == ["id", "x", "y"]
    assert abs(pca[["x", "y"]].to_numpy().mean(axis=0)).max() < 1e-9  # centred principal components


def test_embed_vectors_equals_embed_texts(corpus, problems, tokenizer):
    from compare.cluster import embed_vectors
    from compare.documents import problem_documents

    # ClusterResult.X is the LSA embed_texts computes: the map from it is the same, without tokenising again
    again = embed_texts(problem_documents(corpus.problems), corpus.problems["problem_id"], seed=0,
                        tokenizer=tokenizer)
    pd.testing.assert_frame_equal(embed_vectors(problems.X, corpus.problems["problem_id"], seed=0), again)
