"""Stage: analyses (DESIGN.md section 2) — structure of the texts on their own: TF-IDF/LSA, k-means and
agglomerative clustering.

:func:`lsa_embed` is the package's one LSA (also used by :func:`compare.similarity.similar_pairs`). Nothing is
loaded here: the tokenizer and the reference labels are arguments, passed down by the entry points.

Follows scikit-learn's example "Clustering text documents using k-means": documents (problems as
``title + text``, measures as their text, separately) go through a jieba TF-IDF
(:class:`compare.tokens.JiebaTokenizer` as ``tokenizer``) and LSA (``TruncatedSVD`` then ``Normalizer``, so
Euclidean distances are cosine distances). On the LSA vectors:

* **k is chosen by silhouette**: for every k of ``k_range``, k-means is run with ``n_seeds`` seeds
  (``n_init=1`` each, so the seeds show the variability) and agglomerative clustering (Ward) once; each method
  takes the k with the highest mean silhouette;
* **metrics against the hand labels** at that k: homogeneity, completeness, V-measure and adjusted Rand index,
  mean ± std over the seeds (agglomerative clustering is deterministic: one run, std 0);
* the reported k-means partition is the seed with the lowest inertia; **top terms** per cluster are the
  heaviest TF-IDF terms of the cluster centroid mapped back from LSA space; :meth:`ClusterResult.crosstab`
  is the cluster × code table.

Everything is deterministic given ``seed``. :func:`embed_texts` gives 2-D coordinates (t-SNE on the LSA vectors,
PCA of them for large n, or the first two LSA components) for a map plot.

Thousands of documents: k-means is linear in n (0.24 s for k = 15 on 25,000 problems, faster than
MiniBatchKMeans here, so it stays); above :data:`SAMPLE_MAX` documents the silhouette is computed on a seeded
sample and Ward clustering is fitted on a seeded sample, the rest joining the nearest centroid; t-SNE is
openTSNE's above :data:`TSNE_SKLEARN_MAX` and the map a PCA above :data:`TSNE_MAX`. At the bundled corpus's size
none of this applies and the results are those of before.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn import metrics
from sklearn.cluster import AgglomerativeClustering, KMeans
from sklearn.decomposition import PCA, TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.manifold import TSNE
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import Normalizer

from .documents import problem_documents

__all__ = [
    "METHODS",
    "ClusterResult",
    "cluster_measures",
    "cluster_score",
    "cluster_problems",
    "cluster_texts",
    "embed_measures",
    "embed_problems",
    "embed_texts",
    "embed_vectors",
    "evaluate_clustering",
    "lsa_embed",
    "select_k",
]

METHODS = ("kmeans", "agglomerative")
METRICS = ("homogeneity", "completeness", "v_measure", "adjusted_rand", "silhouette")
#: Above this many documents the silhouette is the mean over a seeded sample of this size, and agglomerative
#: clustering (Ward: memory and time quadratic in n) is fitted on such a sample, the other documents joining the
#: cluster with the nearest centroid. At or below it nothing is sampled.
SAMPLE_MAX = 2000
#: 2-D maps: scikit-learn's t-SNE up to ``TSNE_SKLEARN_MAX`` documents, openTSNE's above; ``method="auto"``
#: draws a PCA map above ``TSNE_MAX``.
TSNE_SKLEARN_MAX = 1000
TSNE_MAX = 5000
#: openTSNE's Barnes-Hut angle and its iterations after the early exaggeration (openTSNE's defaults: 0.5 and
#: 500). Measured on 3,750 distinct 20-dimensional LSA vectors (pairs of a 150-report build's measures) on two
#: cores: 23.3 s → 9.3 s wall, with the same share of each point's 10 nearest neighbours kept in the map
#: (0.592 both) and KL divergence 0.53 → 0.60; on the build's own problems 18.8 → 10.6 s (0.375 → 0.379).
TSNE_THETA = 0.8
TSNE_ITER = 250


def _tfidf(tokenizer, min_df: int | float = 2, max_df: float = 0.5) -> TfidfVectorizer:
    return TfidfVectorizer(
        tokenizer=tokenizer, token_pattern=None, lowercase=False, min_df=min_df, max_df=max_df, sublinear_tf=True
    )


def lsa_embed(
    texts, *, tokenizer, n_components: int = 20, seed: int = 0, min_df: int | float = 2, max_df: float = 0.5
) -> tuple[np.ndarray, Pipeline]:
    """TF-IDF then LSA (TruncatedSVD + Normalizer) of texts: the one LSA of the package.

    Clustering, the 2-D maps and :func:`compare.similarity.similar_pairs` all embed texts here.

    Parameters
    ----------
    texts : list of str
    tokenizer : callable
        ``str -> list of str``, e.g. a :class:`compare.tokens.JiebaTokenizer` (required: nothing is loaded
        here).
    n_components : int
        LSA dimensions (lowered to ``min(n_documents, n_terms) - 1`` when larger).
    seed : int
        ``random_state`` of the SVD.
    min_df, max_df :
        Of the TF-IDF vectorizer: terms in fewer than ``min_df`` documents or more than ``max_df`` of them are
        dropped. With two documents or fewer every term is kept (``min_df=1, max_df=1.0``).

    Returns
    -------
    X : ndarray of shape (n_documents, n_components)
        Unit-length LSA vectors.
    pipeline : sklearn.pipeline.Pipeline
        Fitted ``tfidf`` → ``lsa`` (itself ``truncatedsvd`` → ``normalizer``).
    """
    texts = list(texts)
    tfidf = _tfidf(
        tokenizer, min_df=min_df if len(texts) > 2 else 1, max_df=max_df if len(texts) > 2 else 1.0
    )
    Xt = tfidf.fit_transform(texts)
    k = max(1, min(n_components, min(Xt.shape) - 1))
    lsa = make_pipeline(TruncatedSVD(n_components=k, random_state=seed), Normalizer(copy=False))
    X = lsa.fit_transform(Xt)
    return X, Pipeline([("tfidf", tfidf), ("lsa", lsa)])


def _seeds(seed: int, n_seeds: int) -> list[int]:
    return [seed + i for i in range(n_seeds)]


def _sample(n: int, seed: int) -> np.ndarray | None:
    """The seeded sample of :data:`SAMPLE_MAX` rows (sorted), or None when there are no more rows than that."""
    if n <= SAMPLE_MAX:
        return None
    return np.sort(np.random.default_rng(seed).choice(n, SAMPLE_MAX, replace=False))


def _ward(X: np.ndarray, k: int, seed: int):
    """Ward clustering, on the sample of :func:`_sample` when X is large (the others by nearest centroid)."""
    idx = _sample(len(X), seed)
    if idx is None:
        return AgglomerativeClustering(n_clusters=k, linkage="ward").fit(X)
    est = AgglomerativeClustering(n_clusters=k, linkage="ward").fit(X[idx])
    centroids = np.vstack([X[idx][est.labels_ == c].mean(axis=0) for c in range(k)])
    labels = metrics.pairwise_distances_argmin(X, centroids)
    labels[idx] = est.labels_
    est.labels_ = labels
    return est


def _fit(method: str, X: np.ndarray, k: int, seed: int):
    if method == "kmeans":
        return KMeans(n_clusters=k, n_init=1, max_iter=300, random_state=seed).fit(X)
    if method == "agglomerative":
        return _ward(X, k, seed)
    raise ValueError(f"method must be one of {METHODS}, got {method!r}")


def _silhouette(X: np.ndarray, labels: np.ndarray, seed: int) -> float:
    """Mean silhouette (on a seeded sample of :data:`SAMPLE_MAX` documents when there are more); -1 for one
    cluster."""
    if len(set(labels)) < 2:
        return -1.0
    sample = SAMPLE_MAX if len(X) > SAMPLE_MAX else None
    return float(metrics.silhouette_score(X, labels, sample_size=sample, random_state=seed))


def select_k(X: np.ndarray, k_range=None, seed: int = 0, n_seeds: int = 5, methods=METHODS) -> pd.DataFrame:
    """Silhouette of every k of ``k_range`` for each method (k-means over ``n_seeds`` seeds).

    Parameters
    ----------
    X : ndarray
        LSA vectors (:func:`lsa_embed`).
    k_range : iterable of int, optional
        Defaults to 2 … min(15, n_documents - 1).
    seed, n_seeds : int
        k-means runs with seeds ``seed, seed + 1, …``.
    methods : sequence of str

    Returns
    -------
    pandas.DataFrame
        ``method``, ``k``, ``silhouette_mean``, ``silhouette_std``, ``n_runs``, ``best`` (the chosen k).
    """
    n = len(X)
    ks = [k for k in (k_range if k_range is not None else range(2, min(15, n - 1) + 1)) if 2 <= k < n]
    if not ks:
        raise ValueError(f"no k to try for {n} documents")
    rows = []
    for method in methods:
        runs = _seeds(seed, n_seeds) if method == "kmeans" else [seed]
        for k in ks:
            sil = []
            for s in runs:
                sil.append(_silhouette(X, _fit(method, X, k, s).labels_, seed))
            rows.append(
                {
                    "method": method,
                    "k": k,
                    "silhouette_mean": float(np.mean(sil)),
                    "silhouette_std": float(np.std(sil)),
                    "n_runs": len(runs),
                }
            )
    df = pd.DataFrame(rows)
    best = df.loc[df.groupby("method", sort=False)["silhouette_mean"].idxmax()]
    df["best"] = False
    df.loc[best.index, "best"] = True
    return df


def cluster_score(
    result: ClusterResult, method: str = "kmeans", metric: str = "v_measure", k_choice: str | None = None
) -> float:
    """The mean of one metric of a :class:`ClusterResult` at its chosen k (or at ``k_choice``)."""
    s = result.scores
    choice = k_choice or ("fixed" if "fixed" in set(s["k_choice"]) else "silhouette")
    row = s[(s["method"] == method) & (s["metric"] == metric) & (s["k_choice"] == choice)]
    if row.empty:
        raise KeyError(f"no {metric} for {method} ({choice})")
    return float(row["mean"].iloc[0])


def evaluate_clustering(
    X: np.ndarray, labels, k: int, method: str = "kmeans", seed: int = 0, n_seeds: int = 5
) -> tuple[pd.DataFrame, np.ndarray]:
    """Cluster at ``k`` and score the partitions against reference labels, mean ± std over seeds.

    Parameters
    ----------
    X : ndarray
        LSA vectors.
    labels : array-like or None
        Reference labels (hand codes); rows with a missing label are left out of the external metrics.
        None: only the silhouette is computed.
    k : int
    method : {"kmeans", "agglomerative"}
    seed, n_seeds : int

    Returns
    -------
    scores : pandas.DataFrame
        ``method``, ``k``, ``metric`` (homogeneity, completeness, v_measure, adjusted_rand, silhouette),
        ``mean``, ``std``, ``n_runs``.
    assignment : ndarray of int
        The partition reported: for k-means the seed with the lowest inertia, else the single run.
    """
    runs = _seeds(seed, n_seeds) if method == "kmeans" else [seed]
    ref = None
    if labels is not None:
        ref = pd.Series(list(labels), dtype=object)
        known = ref.notna().to_numpy() & (ref.astype(str) != "").to_numpy()
    per_metric: dict[str, list[float]] = {m: [] for m in METRICS}
    best, best_inertia = None, np.inf
    for s in runs:
        est = _fit(method, X, k, s)
        pred = est.labels_
        inertia = getattr(est, "inertia_", 0.0)
        if best is None or inertia < best_inertia:
            best, best_inertia = pred, inertia
        per_metric["silhouette"].append(_silhouette(X, pred, seed))
        if ref is not None:
            t, p = ref[known].astype(str).to_numpy(), pred[known]
            per_metric["homogeneity"].append(metrics.homogeneity_score(t, p))
            per_metric["completeness"].append(metrics.completeness_score(t, p))
            per_metric["v_measure"].append(metrics.v_measure_score(t, p))
            per_metric["adjusted_rand"].append(metrics.adjusted_rand_score(t, p))
    rows = [
        {
            "method": method,
            "k": k,
            "metric": m,
            "mean": float(np.mean(v)),
            "std": float(np.std(v)),
            "n_runs": len(v),
        }
        for m, v in per_metric.items()
        if v
    ]
    return pd.DataFrame(rows), np.asarray(best)


def _top_terms(
    X: np.ndarray, assignment: np.ndarray, pipeline: Pipeline, n_terms: int, method: str
) -> pd.DataFrame:
    tfidf = pipeline.named_steps["tfidf"]
    svd = pipeline.named_steps["lsa"][0]
    terms = tfidf.get_feature_names_out()
    rows = []
    for c in np.unique(assignment):
        centroid = X[assignment == c].mean(axis=0, keepdims=True)
        weights = svd.inverse_transform(centroid)[0]
        for rank, j in enumerate(np.argsort(-weights, kind="stable")[:n_terms], start=1):
            rows.append(
                {
                    "method": method,
                    "cluster": int(c),
                    "rank": rank,
                    "term": str(terms[j]),
                    "weight": float(weights[j]),
                }
            )
    return pd.DataFrame(rows, columns=["method", "cluster", "rank", "term", "weight"])


@dataclass
class ClusterResult:
    """Clusters of one kind of text (:func:`cluster_texts`).

    Attributes
    ----------
    kind : str
        ``problems``, ``measures`` or ``texts``.
    assignments : pandas.DataFrame
        ``id``, ``label`` (the reference code, if any) and one column per method with the cluster number.
    selection : pandas.DataFrame
        Silhouette per method and k (:func:`select_k`).
    k : dict
        The k chosen per method.
    scores : pandas.DataFrame
        Metrics per method: ``method``, ``k``, ``metric``, ``mean``, ``std``, ``n_runs`` and ``k_choice``:
        ``silhouette`` (or ``fixed``) for the chosen k, ``n_codes`` for the reference run with as many clusters
        as the reference labels have codes.
    top_terms : pandas.DataFrame
        ``method``, ``cluster``, ``rank``, ``term``, ``weight``.
    X : ndarray
        The LSA vectors.
    pipeline : sklearn.pipeline.Pipeline
        The fitted TF-IDF → LSA.
    explained_variance : float
        Of the SVD step.
    """

    kind: str
    assignments: pd.DataFrame
    selection: pd.DataFrame
    k: dict
    scores: pd.DataFrame
    top_terms: pd.DataFrame
    X: np.ndarray = field(repr=False)
    pipeline: Pipeline = field(repr=False)
    explained_variance: float = 0.0

    def metrics_table(self) -> pd.DataFrame:
        """The scores as ``mean ± std`` strings, (method, k_choice, k) × metrics, as scikit-learn's example."""
        s = self.scores.assign(
            value=lambda d: d["mean"].map("{:.3f}".format) + " ± " + d["std"].map("{:.3f}".format)
        )
        out = s.pivot(index=["method", "k_choice", "k"], columns="metric", values="value")
        return out[[m for m in METRICS if m in out.columns]]

    def crosstab(self, method: str = "kmeans") -> pd.DataFrame:
        """Cluster × reference code counts (clusters as rows)."""
        a = self.assignments
        if a["label"].isna().all():
            raise ValueError("no reference labels to cross-tabulate")
        return pd.crosstab(a[method].rename("cluster"), a["label"].fillna("(none)").rename("code"))

    def terms(self, method: str = "kmeans", n: int = 10) -> pd.Series:
        """Top terms per cluster joined by ``、`` (cluster → terms)."""
        t = self.top_terms[(self.top_terms["method"] == method) & (self.top_terms["rank"] <= n)]
        return t.groupby("cluster")["term"].agg("、".join)


def _chosen_k(selection: pd.DataFrame, methods, k) -> dict:
    """The k of every method: fixed (an int, or a dict per method) or the silhouette's best."""
    chosen = {}
    for method in methods:
        if isinstance(k, dict) and method in k:
            chosen[method] = int(k[method])
        elif isinstance(k, int):
            chosen[method] = k
        else:
            row = selection[(selection["method"] == method) & selection["best"]]
            chosen[method] = int(row["k"].iloc[0])
    return chosen


def _n_codes(ref: list) -> int:
    """Distinct reference codes (None, NaN and '' are no code)."""
    return len(
        {str(x) for x in ref if x is not None and not (isinstance(x, float) and np.isnan(x)) and x != ""}
    )


def _score_methods(X, pipe, labels, chosen: dict, k_choice: str, n_terms: int, seed: int, n_seeds: int):
    """Scores, assignment and top terms of every method at its chosen k.

    With labels, every method whose k differs from the number of codes is also scored, for reference, with as
    many clusters as there are codes (``k_choice="n_codes"``).
    """
    n_codes = _n_codes(list(labels)) if labels is not None else 0
    scores, tops, assigned = [], [], {}
    for method, k in chosen.items():
        sc, assignment = evaluate_clustering(X, labels, k, method, seed=seed, n_seeds=n_seeds)
        scores.append(sc.assign(k_choice=k_choice))
        assigned[method] = assignment
        tops.append(_top_terms(X, assignment, pipe, n_terms, method))
        if labels is not None and 2 <= n_codes < len(X) and n_codes != k:
            ref_sc, _ = evaluate_clustering(X, labels, n_codes, method, seed=seed, n_seeds=n_seeds)
            scores.append(ref_sc.assign(k_choice="n_codes"))
    return pd.concat(scores, ignore_index=True), assigned, pd.concat(tops, ignore_index=True)


def cluster_texts(
    texts,
    ids,
    labels,
    *,
    tokenizer,
    kind: str = "texts",
    k=None,
    k_range=None,
    seed: int = 0,
    n_seeds: int = 5,
    n_components: int = 20,
    methods=METHODS,
    n_terms: int = 10,
) -> ClusterResult:
    """Cluster texts with every method, choosing k by silhouette, and score against reference labels.

    Parameters
    ----------
    texts : list of str
    ids : list of str
    labels : array-like or None
        Reference codes aligned with ``texts`` (hand labels); None (no reference) or missing entries are not
        scored.
    tokenizer : callable
        Of the TF-IDF (:func:`lsa_embed`).
    kind : str
        Recorded on the result.
    k : int or dict, optional
        Fixed k (for every method, or per method) instead of the silhouette choice.
    k_range : iterable of int, optional
        Candidates for the silhouette choice (default 2 … min(15, n - 1)).
    seed, n_seeds : int
        Seeds ``seed … seed + n_seeds - 1`` for k-means; ``seed`` also seeds the SVD.
    n_components : int
        LSA dimensions.
    methods : sequence of str
    n_terms : int
        Top terms per cluster.

    Returns
    -------
    ClusterResult
    """
    texts, ids = list(texts), list(ids)
    if len(texts) != len(ids):
        raise ValueError(f"{len(texts)} texts but {len(ids)} ids")
    X, pipe = lsa_embed(texts, tokenizer=tokenizer, n_components=n_components, seed=seed)
    selection = select_k(X, k_range=k_range, seed=seed, n_seeds=n_seeds, methods=methods)
    chosen = _chosen_k(selection, methods, k)
    ref = list(labels) if labels is not None else [None] * len(texts)
    assignments = pd.DataFrame({"id": ids, "label": pd.Series(ref, dtype=object)})
    choice = "fixed" if k is not None else "silhouette"
    scores, assigned, tops = _score_methods(X, pipe, labels, chosen, choice, n_terms, seed, n_seeds)
    for method, assignment in assigned.items():
        assignments[method] = assignment
    variance = float(pipe.named_steps["lsa"][0].explained_variance_ratio_.sum())
    return ClusterResult(kind=kind, assignments=assignments, selection=selection, k=chosen, scores=scores,
                         top_terms=tops, X=X, pipeline=pipe, explained_variance=variance)


def _problem_labels(labels, ids) -> list | None:
    if labels is None:
        return None
    if isinstance(labels, pd.DataFrame):
        labels = labels.set_index("problem_id")["primary_code"]
    return [labels.get(i) for i in ids]


def cluster_problems(problems: pd.DataFrame, labels, *, tokenizer, **kwargs) -> ClusterResult:
    """Cluster problems (``title + text``) — :func:`cluster_texts` with the problems table.

    Parameters
    ----------
    problems : pandas.DataFrame
    labels : pandas.DataFrame, Series or None
        Hand labels (``problem_id``, ``primary_code``) or a Series ``problem_id`` → code; None: no reference
        (only the silhouette is scored). The caller loads them (:func:`compare.labels.load_problem_labels`).
    tokenizer : callable
        Of the TF-IDF (:func:`lsa_embed`).
    **kwargs
        Passed to :func:`cluster_texts`.

    Returns
    -------
    ClusterResult
    """
    ids = problems["problem_id"].tolist()
    return cluster_texts(
        problem_documents(problems), ids, _problem_labels(labels, ids), tokenizer=tokenizer, kind="problems",
        **kwargs,
    )


def cluster_measures(measures: pd.DataFrame, labels, *, tokenizer, **kwargs) -> ClusterResult:
    """Cluster measures (their text) — :func:`cluster_texts` with the measures table.

    Parameters
    ----------
    measures : pandas.DataFrame
    labels : pandas.DataFrame, Series or None
        A Series ``measure_id`` → reference type, or the *problem* hand labels (DataFrame with
        ``problem_id``, ``primary_code``): then every measure is scored against its problem's code, the only
        hand coding the measures have. None: no reference.
    tokenizer : callable
        Of the TF-IDF (:func:`lsa_embed`).
    **kwargs
        Passed to :func:`cluster_texts`.

    Returns
    -------
    ClusterResult
    """
    ids = measures["measure_id"].tolist()
    ref = None
    if isinstance(labels, pd.DataFrame):
        ref = _problem_labels(labels, measures["problem_id"].tolist())
    elif labels is not None:
        ref = [labels.get(i) for i in ids]
    texts = measures["text"].fillna("").astype(str).tolist()
    return cluster_texts(texts, ids, ref, tokenizer=tokenizer, kind="measures", **kwargs)


def _tsne(X: np.ndarray, seed: int) -> np.ndarray:
    """t-SNE (cosine, PCA initialisation) of LSA vectors: scikit-learn's up to :data:`TSNE_SKLEARN_MAX` points
    (Barnes-Hut, slow beyond), openTSNE's above (Barnes-Hut at :data:`TSNE_THETA`, :data:`TSNE_ITER`
    iterations; on every core: the same coordinates as on one, given ``seed``)."""
    perplexity = max(1.0, min(30.0, (len(X) - 1) / 3))
    if len(X) <= TSNE_SKLEARN_MAX:
        return TSNE(n_components=2, metric="cosine", init="pca", perplexity=perplexity,
                    random_state=seed).fit_transform(X)
    from openTSNE import TSNE as OpenTSNE

    return np.asarray(OpenTSNE(n_components=2, metric="cosine", initialization="pca", perplexity=perplexity,
                               random_state=seed, theta=TSNE_THETA, n_iter=TSNE_ITER, n_jobs=-1,
                               verbose=False).fit(X))


def embed_texts(
    texts, ids, method: str = "auto", seed: int = 0, n_components: int = 20, *, tokenizer
) -> pd.DataFrame:
    """2-D coordinates of texts for a map plot.

    Parameters
    ----------
    texts, ids : list of str
    method : {"auto", "tsne", "pca", "lsa"}
        ``tsne``: t-SNE (cosine, PCA init) on the ``n_components``-dimensional LSA vectors, perplexity
        ``min(30, (n - 1) / 3)`` (:func:`_tsne`: scikit-learn's, or openTSNE's above :data:`TSNE_SKLEARN_MAX`
        texts); ``pca``: the first two principal components of those LSA vectors (instant for any n);
        ``auto``: ``tsne`` up to :data:`TSNE_MAX` texts, ``pca`` above; ``lsa``: the first two LSA components
        (normalised, so on the unit circle).
    seed : int
    n_components : int
    tokenizer : callable
        Of the TF-IDF (:func:`lsa_embed`).

    Returns
    -------
    pandas.DataFrame
        ``id``, ``x``, ``y``; ``attrs["method"]`` is the method used (``tsne``, ``pca`` or ``lsa``).
    """
    texts, ids = list(texts), list(ids)
    if method not in ("auto", "tsne", "pca", "lsa"):
        raise ValueError(f"method must be 'auto', 'tsne', 'pca' or 'lsa', got {method!r}")
    if method == "lsa":
        X, _ = lsa_embed(texts, tokenizer=tokenizer, n_components=2, seed=seed)
        xy = X[:, :2] if X.shape[1] >= 2 else np.hstack([X, np.zeros((len(X), 1))])
        out = pd.DataFrame({"id": ids, "x": xy[:, 0].astype(float), "y": xy[:, 1].astype(float)})
        out.attrs["method"] = method
        return out
    X, _ = lsa_embed(texts, tokenizer=tokenizer, n_components=n_components, seed=seed)
    return embed_vectors(X, ids, method=method, seed=seed)


def embed_vectors(X: np.ndarray, ids, method: str = "auto", seed: int = 0) -> pd.DataFrame:
    """2-D coordinates of LSA vectors already computed (e.g. ``ClusterResult.X``: the texts are not tokenised
    again). ``method``: ``tsne``, ``pca`` or ``auto`` as in :func:`embed_texts`; columns ``id, x, y``."""
    if method == "auto":
        method = "tsne" if len(X) <= TSNE_MAX else "pca"
    if method == "tsne":
        xy = _tsne(X, seed)
    elif method == "pca":
        xy = PCA(n_components=min(2, X.shape[1]), random_state=seed).fit_transform(X)
        xy = xy if xy.shape[1] == 2 else np.hstack([xy, np.zeros((len(xy), 1))])
    else:
        raise ValueError(f"method must be 'auto', 'tsne' or 'pca', got {method!r}")
    out = pd.DataFrame({"id": list(ids), "x": xy[:, 0].astype(float), "y": xy[:, 1].astype(float)})
    out.attrs["method"] = method
    return out


def embed_problems(
    problems: pd.DataFrame, method: str = "auto", seed: int = 0, *, tokenizer, **kwargs
) -> pd.DataFrame:
    """:func:`embed_texts` of the problems (``title + text``); columns ``problem_id``, ``x``, ``y``."""
    df = embed_texts(
        problem_documents(problems), problems["problem_id"], method=method, seed=seed, tokenizer=tokenizer, **kwargs
    )
    return df.rename(columns={"id": "problem_id"})


def embed_measures(
    measures: pd.DataFrame, method: str = "auto", seed: int = 0, *, tokenizer, **kwargs
) -> pd.DataFrame:
    """:func:`embed_texts` of the measures; columns ``measure_id``, ``x``, ``y``."""
    df = embed_texts(
        measures["text"].fillna("").astype(str), measures["measure_id"], method=method, seed=seed,
        tokenizer=tokenizer, **kwargs,
    )
    return df.rename(columns={"id": "measure_id"})
