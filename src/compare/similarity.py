"""Stage: analyses (DESIGN.md section 2) — over the words of the texts: distinctive terms, alike problems,
recycled measures, recurring themes. The tokenizer is an argument (nothing is loaded here); the LSA is
:func:`compare.cluster.lsa_embed`.

Each function returns a tidy DataFrame (companions to the count-based :mod:`compare.analysis`):

* :func:`keyness` — terms distinctive of each region against the others, by signed log-likelihood G²
  (or Pearson χ²), as quanteda's ``textstat_keyness`` does;
* :func:`similar_pairs` — the most alike problem pairs across regions (cosine on jieba TF-IDF → LSA);
* :func:`recycled_text` — near-duplicate measures within and across reports (cosine on character
  n-gram TF-IDF), e.g. the same paragraph answering two different problems;
* :func:`recurring_themes` — clusters of problems found in two or more regions, with their top terms
  and the titles from every region side by side.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.stats import chi2 as _chi2
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.preprocessing import normalize

from .analysis import units
from .cluster import lsa_embed


def _regions(problems: pd.DataFrame, reports: pd.DataFrame, unit: str = "report") -> pd.Series:
    """The label of every problem's unit (:func:`compare.analysis.units`), aligned with ``problems``."""
    labels = units(reports, unit).set_index("report_id")["region"]
    return pd.Series(problems.report_id.astype(str).map(labels).to_numpy(), index=problems.index)


def _unit_order(reports: pd.DataFrame, unit: str) -> list[str]:
    return list(pd.unique(units(reports, unit)["region"]))


def _docs(problems: pd.DataFrame) -> list[str]:
    return (problems.title.fillna("") + "。" + problems.text.fillna("")).tolist()


_ADMIN = {"省", "市", "区", "县", "镇", "乡", "村", "街道", "全县", "全市", "全区", "全省", "各镇", "各街道", "各县",
          "各区", "县级", "市级", "区级", "镇级", "市直", "区直", "县直"}


#: Endings of admin names, longest first: a name without one of them is still the place (潮州市 → 潮州).
_ADMIN_ENDINGS = ("特别行政区", "自治区", "自治州", "自治县", "自治旗", "地区", "新区", "省", "市", "区", "县",
                  "旗", "盟", "州")


def _short_forms(name: str) -> set[str]:
    """A place name and the forms a report may use: 潮州市 → 潮州 (never 潮), 甘孜藏族自治州 → 甘孜藏族."""
    out = {name}
    for ending in _ADMIN_ENDINGS:
        if name.endswith(ending) and len(name) - len(ending) >= 2:
            out.add(name[: -len(ending)])
            break
    return out


def place_terms(reports: pd.DataFrame) -> set[str]:
    """Place names of the reports as whole words, and administrative words (区, 全县, 各街道 …).

    Every name of the corpus (``region``, ``city``, ``province``) is left out whole and in the short form a
    report may use — one admin ending taken off, keeping at least two characters: 惠东县 and 惠东, 潮州市 and 潮州
    (never 潮: 州 of 潮州 and 兰州 is part of the name).
    """
    out = set(_ADMIN)
    for col in ("region", "city", "province"):
        for name in reports.get(col, pd.Series(dtype=object)).dropna():
            if str(name).strip():
                out |= _short_forms(str(name).strip())
    return out


KEYNESS_COLUMNS = ["region", "term", "n_target", "n_reference", "score", "p"]


def _keyness_stat(a: np.ndarray, b: np.ndarray, measure: str) -> tuple[np.ndarray, np.ndarray]:
    """Signed score and the unsigned statistic of every term, from its counts in target (a) and reference (b).

    The 2 × 2 table of a term is ``a, b`` (the term) and ``c, d`` (every other term), in the target and the
    reference.
    """
    na, nb = a.sum(), b.sum()
    c, d = na - a, nb - b
    n = na + nb
    obs = np.stack([a, b, c, d])
    exp = np.stack([(a + b) * na / n, (a + b) * nb / n, (c + d) * na / n, (c + d) * nb / n])
    if measure == "lr":
        with np.errstate(divide="ignore", invalid="ignore"):
            term = np.where(obs > 0, obs * np.log(obs / exp), 0.0)
        stat = 2 * term.sum(axis=0)
    elif measure == "chi2":
        stat = (n * np.maximum(np.abs(a * d - b * c) - n / 2, 0) ** 2) / ((a + b) * (c + d) * na * nb)
    else:
        raise ValueError("measure must be 'lr' or 'chi2'")
    sign = np.where(a > exp[0], 1.0, -1.0)
    return sign * stat, stat


def _region_keyness(X, mask: np.ndarray, region, terms, keep: np.ndarray, measure: str,
                    top_n: int | None, ref: np.ndarray | None = None, negative: bool = False) -> pd.DataFrame | None:
    """The keyness table of one region (rows ``mask`` of the counts ``X``) against the rows ``ref`` (default:
    all others); None if empty. ``negative``: the ``top_n`` most negative terms as well, ``direction`` saying which."""
    a = np.asarray(X[mask].sum(axis=0)).ravel().astype(float)
    b = np.asarray(X[~mask if ref is None else ref].sum(axis=0)).ravel().astype(float)
    if a.sum() == 0 or b.sum() == 0:
        return None
    score, stat = _keyness_stat(a, b, measure)
    df = pd.DataFrame({"region": region, "term": terms, "n_target": a.astype(int), "n_reference": b.astype(int),
                       "score": score, "p": _chi2.sf(stat, 1)})[keep & (a + b > 0)]
    df = df.sort_values(["score", "term"], ascending=[False, True])
    if negative:
        low = df[df.score < 0].sort_values(["score", "term"]).head(top_n)
        high = df[df.score > 0].head(top_n)
        return pd.concat([high.assign(direction="positive"), low.assign(direction="negative")])
    if top_n is not None:
        df = df[df.score > 0].head(top_n)
    return df


def _as_units(value) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def keyness(problems: pd.DataFrame, reports: pd.DataFrame, measure: str = "lr", min_count: int = 3,
            top_n: int | None = 15, drop_places: bool = True, *, tokenizer, unit: str = "report", target=None,
            reference=None, negative: bool = False) -> pd.DataFrame:
    """Terms distinctive of each unit's problems (title + measures) against all other units, or of ``target``
    against a chosen ``reference``.

    Parameters
    ----------
    measure : {"lr", "chi2"}
        ``"lr"``: likelihood-ratio G² (Dunning); ``"chi2"``: Pearson χ² with Yates' correction
        (quanteda's default). Both are signed: negative when the term is rarer in the region than elsewhere.
    min_count : int
        Ignore terms used fewer times than this in the whole corpus.
    drop_places : bool
        Leave out place names and administrative words (:func:`place_terms`): that 海珠区's report says
        海珠区 is true but says nothing about its weaknesses.
    top_n : int, optional
        Keep the ``top_n`` most distinctive (positive) terms per region; ``None`` keeps all.
    tokenizer : callable
        ``str -> list of str`` (e.g. a :class:`compare.tokens.JiebaTokenizer`); required, nothing is loaded here.
    unit : str
        The unit of comparison (:func:`compare.analysis.units`); ``region`` holds its labels.
    target, reference : str or list of str, optional
        Only ``target`` (one unit, or several pooled) against ``reference`` (units; default: every other
        unit). ``min_count`` then counts in the two sides only.
    negative : bool
        Keep the ``top_n`` most *negative* terms as well (rarer in the unit than in the reference), with a
        ``direction`` column (``positive``/``negative``).

    Returns
    -------
    DataFrame
        ``region, term, n_target, n_reference, score, p`` sorted by region then score (descending); with
        ``target``, ``region`` is the target's label(s) joined by ``'+'``.
    """
    regions = _regions(problems, reports, unit)
    vec = CountVectorizer(tokenizer=tokenizer, lowercase=False, token_pattern=None)
    X = vec.fit_transform(_docs(problems))
    terms = vec.get_feature_names_out()
    sides = _target_sides(regions, target, reference)
    used = np.ones(len(regions), bool) if sides is None else sides[0] | sides[1]
    keep = np.asarray(X[used].sum(axis=0)).ravel() >= min_count
    if drop_places:
        places = place_terms(reports)
        keep &= np.array([t not in places for t in terms])
    if sides is not None:
        rows = [_region_keyness(X, sides[0], "+".join(_as_units(target)), terms, keep, measure, top_n,
                                ref=sides[1], negative=negative)]
    else:
        rows = [_region_keyness(X, (regions == region).to_numpy(), region, terms, keep, measure, top_n,
                                negative=negative) for region in pd.unique(regions)]
    rows = [df for df in rows if df is not None]
    out = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=KEYNESS_COLUMNS)
    return out.reset_index(drop=True)


def _target_sides(regions: pd.Series, target, reference) -> tuple[np.ndarray, np.ndarray] | None:
    """Row masks of the target units and of the reference (default: every other unit); None without target."""
    if target is None:
        return None
    present = set(regions)
    wanted = _as_units(target) + ([] if reference is None else _as_units(reference))
    unknown = [u for u in wanted if u not in present]
    if unknown:
        raise ValueError(f"no units {unknown} among {sorted(present)[:10]}")
    a = regions.isin(_as_units(target)).to_numpy()
    b = ~a if reference is None else regions.isin(_as_units(reference)).to_numpy()
    if (a & b).any() or not b.any():
        raise ValueError("target and reference must be different, non-empty sets of units")
    return a, b


def similar_pairs(problems: pd.DataFrame, reports: pd.DataFrame, top_n: int = 20, n_components: int = 30,
                  seed: int = 0, *, tokenizer, unit: str = "report") -> pd.DataFrame:
    """The problem pairs from *different* units (by default: different reports) that are most alike (cosine in LSA
    space). Two reports of places that share a name (鼓楼区 of 南京市 and of 福州市) are different units.

    The LSA is :func:`compare.cluster.lsa_embed` with every term kept (``min_df=1, max_df=1.0``).

    Parameters
    ----------
    top_n : int
        Pairs kept.
    n_components, seed :
        Of the LSA.
    tokenizer : callable
        Of the TF-IDF; required, nothing is loaded here.
    unit : str
        Pairs are taken across units (:func:`compare.analysis.units`); ``region_a``/``region_b`` are their labels.

    Returns
    -------
    DataFrame
        ``similarity, region_a, problem_id_a, title_a, text_a, region_b, problem_id_b, title_b, text_b``,
        most similar first.
    """
    regions = _regions(problems, reports, unit).to_numpy()
    Z, _ = lsa_embed(_docs(problems), tokenizer=tokenizer, n_components=n_components, seed=seed, min_df=1,
                     max_df=1.0)
    S = Z @ Z.T
    iu = np.triu_indices(len(problems), k=1)
    cross = regions[iu[0]] != regions[iu[1]]
    i, j, s = iu[0][cross], iu[1][cross], S[iu][cross]
    order = np.lexsort((j, i, -s))[:top_n]
    p = problems.reset_index(drop=True)
    return pd.DataFrame({
        "similarity": s[order].round(4),
        "region_a": regions[i[order]], "problem_id_a": p.problem_id.to_numpy()[i[order]],
        "title_a": p.title.to_numpy()[i[order]], "text_a": p.text.to_numpy()[i[order]],
        "region_b": regions[j[order]], "problem_id_b": p.problem_id.to_numpy()[j[order]],
        "title_b": p.title.to_numpy()[j[order]], "text_b": p.text.to_numpy()[j[order]],
    })


RECYCLED_COLUMNS = ["similarity", "cosine", "containment", "scope", "report_id_a", "problem_id_a", "measure_id_a",
                    "text_a", "report_id_b", "problem_id_b", "measure_id_b", "text_b"]
#: Rows of the pair scores computed in one block (bounds the memory of :func:`_pair_scores`).
_SCORE_BLOCK = 256


def _char_vectors(texts) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Unit-length character 2–4-gram TF-IDF vectors (as :func:`~sklearn.metrics.pairwise.cosine_similarity`
    normalises them) and binary character 4-gram sets of the texts."""
    X = TfidfVectorizer(analyzer="char", ngram_range=(2, 4), sublinear_tf=True).fit_transform(texts)
    B = CountVectorizer(analyzer="char", ngram_range=(4, 4), binary=True).fit_transform(texts)
    return normalize(X, copy=True).tocsr(), B.tocsr()


def _row_order(M: sp.csr_matrix, rare_first: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The stored entries of every row sorted by the document frequency of their feature.

    Returns the entry order, the row of each sorted entry and its position within its row.
    """
    rows = np.repeat(np.arange(M.shape[0]), np.diff(M.indptr))
    df = np.bincount(M.indices, minlength=M.shape[1])[M.indices]
    order = np.lexsort((M.indices, df if rare_first else -df, rows))
    return order, rows[order], np.arange(len(order)) - M.indptr[rows[order]]


def _prefix_matrix(M: sp.csr_matrix, order: np.ndarray, rows: np.ndarray, keep: np.ndarray) -> sp.csr_matrix:
    """Binary matrix of the sorted entries ``order[keep]`` of ``M`` (the prefix of every row)."""
    cols = M.indices[order][keep]
    return sp.csr_matrix((np.ones(len(cols)), (rows[keep], cols)), shape=M.shape)


def _cosine_prefix(X: sp.csr_matrix, threshold: float) -> sp.csr_matrix:
    """Features of each unit vector that any vector with cosine ≥ ``threshold`` to it must share.

    The most common features are left out while their squared weights sum to less than ``threshold²``: a
    vector sharing none of the others has a cosine of at most that part's norm, below the threshold.
    """
    order, rows, _ = _row_order(X, rare_first=False)
    sq = np.cumsum(X.data[order] ** 2)
    starts = np.concatenate([[0.0], sq])[X.indptr[rows]]
    common = (sq - starts) < threshold**2 * (1 - 1e-9)  # a safety margin for rounding: more candidates
    return _prefix_matrix(X, order, rows, ~common)


def _containment_prefix(B: sp.csr_matrix, threshold: float) -> sp.csr_matrix:
    """The rarest ``n - floor(threshold · n) + 1`` of each set's n 4-grams.

    A set that holds at least ``threshold · n`` of these n 4-grams holds one of any ``n - floor(threshold · n)
    + 1`` of them.
    """
    order, rows, pos = _row_order(B, rare_first=True)
    sizes = np.diff(B.indptr)
    length = sizes - np.floor(threshold * sizes) + 1
    return _prefix_matrix(B, order, rows, pos < length[rows])


def _candidate_pairs(X: sp.csr_matrix, B: sp.csr_matrix, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Every pair ``i < j`` that may reach ``threshold`` by cosine or by containment (prefix filtering).

    Exact: no pair above the threshold is missed, so the cost grows with the number of pairs that share a
    rare n-gram instead of with the square of the number of measures.
    """
    found = []
    for prefix, full in ((_cosine_prefix(X, threshold), X), (_containment_prefix(B, threshold), B)):
        support = full.copy()
        support.data[:] = 1.0
        hits = (prefix @ support.T).tocoo()
        found.append(np.stack([np.minimum(hits.row, hits.col), np.maximum(hits.row, hits.col)]))
    pairs = np.concatenate(found, axis=1)
    pairs = np.unique(pairs[:, pairs[0] < pairs[1]], axis=1)  # sorted by i, then j
    return pairs[0], pairs[1]


def _pair_scores(X: sp.csr_matrix, B: sp.csr_matrix, i: np.ndarray, j: np.ndarray):
    """Cosine and shared 4-grams of the pairs ``(i, j)``, row block by row block.

    Row ``i`` of the product is computed as in the all-pairs product (same order of summation), so the
    cosines are those of :func:`~sklearn.metrics.pairwise.cosine_similarity` to the last bit.
    """
    cos, inter = np.zeros(len(i)), np.zeros(len(i), dtype=np.int64)
    rows = np.unique(i)
    for block in np.array_split(rows, max(1, -(-len(rows) // _SCORE_BLOCK))):
        sel = np.flatnonzero(np.isin(i, block))
        cols = np.unique(j[sel])
        ri, cj = np.searchsorted(block, i[sel]), np.searchsorted(cols, j[sel])
        cos[sel] = (X[block] @ X[cols].T).toarray()[ri, cj]
        inter[sel] = (B[block] @ B[cols].T).toarray()[ri, cj]
    return cos, inter


def _recycled_pairs(m: pd.DataFrame, threshold: float) -> tuple[np.ndarray, ...]:
    """Pairs ``i < j`` of the measures ``m`` sharing a 4-gram, from different problems, with cosine or
    containment ≥ ``threshold``: ``i, j, cosine, containment, similarity``, most similar first."""
    X, B = _char_vectors(m.text)
    i, j = _candidate_pairs(X, B, threshold)
    cs, inter = _pair_scores(X, B, i, j)
    sizes = np.diff(B.indptr)
    ct = inter / np.maximum(np.minimum(sizes[i], sizes[j]), 1)
    best = np.maximum(cs, ct)
    problem = m.problem_id.to_numpy()
    keep = (inter > 0) & (best >= threshold) & (problem[i] != problem[j])
    i, j, cs, ct, best = i[keep], j[keep], cs[keep], ct[keep], best[keep]
    order = np.lexsort((j, i, -best))
    return i[order], j[order], cs[order], ct[order], best[order]


def recycled_text(measures: pd.DataFrame, reports: pd.DataFrame | None = None, threshold: float = 0.8,
                  min_chars: int = 20) -> pd.DataFrame:
    """Near-duplicate measures answering different problems, within a report and across reports.

    Two measures are near-duplicates when they share a character 4-gram and either of two measures of overlap
    reaches ``threshold``: the cosine of their character 2–4-gram TF-IDF vectors (the same paragraph with small
    edits), or the *containment* of the shorter one's character 4-grams in the longer one (a paragraph copied
    into a longer one). Character n-grams need no segmentation. Measures shorter than ``min_chars``
    (``一是加强学习。``) are left out: short stock phrases are alike by nature. Only the pairs that can reach
    the threshold are scored (prefix filtering, exact), so the work grows with the pairs found, not with the
    square of the number of measures.

    Returns
    -------
    DataFrame
        ``similarity`` (the larger of the two), ``cosine, containment, scope`` ("within report" or
        "across reports"), then report, problem, measure id and text of both measures; most similar first.
    """
    m = measures[measures.text.str.len() >= min_chars].reset_index(drop=True)
    if len(m) < 2:
        return pd.DataFrame(columns=RECYCLED_COLUMNS)
    i, j, cs, ct, best = _recycled_pairs(m, threshold)
    ra, rb = m.report_id.to_numpy()[i], m.report_id.to_numpy()[j]
    return pd.DataFrame({
        "similarity": best.round(4), "cosine": cs.round(4), "containment": ct.round(4),
        "scope": np.where(ra == rb, "within report", "across reports"),
        "report_id_a": ra, "problem_id_a": m.problem_id.to_numpy()[i], "measure_id_a": m.measure_id.to_numpy()[i],
        "text_a": m.text.to_numpy()[i],
        "report_id_b": rb, "problem_id_b": m.problem_id.to_numpy()[j], "measure_id_b": m.measure_id.to_numpy()[j],
        "text_b": m.text.to_numpy()[j],
    }, columns=RECYCLED_COLUMNS)


def recurring_themes(problems: pd.DataFrame, reports: pd.DataFrame, clusters: pd.Series,
                     terms: pd.Series | dict | None = None, min_regions: int = 2, unit: str = "report"
                     ) -> pd.DataFrame:
    """Themes finer than the codebook's types: clusters of problems present in ``min_regions`` or more regions.

    Parameters
    ----------
    clusters : Series
        Cluster label per problem, aligned with ``problems`` (e.g. ``ClusterResult`` k-means labels).
    terms : Series or dict, optional
        Cluster label → its top terms (a string), shown as the theme's name.
    unit : str
        The unit of comparison (:func:`compare.analysis.units`): ``regions`` are its labels.

    Returns
    -------
    DataFrame
        ``cluster, terms, n_regions, regions, n_problems`` and one column of titles (joined by '；') per
        region, ranked by how widely the theme recurs.
    """
    regions = _regions(problems, reports, unit)
    df = pd.DataFrame({"cluster": np.asarray(clusters), "region": regions.to_numpy(),
                       "title": problems.title.to_numpy()})
    order = _unit_order(reports, unit)
    rows = []
    for c, g in df.groupby("cluster", sort=True):
        present = [r for r in order if r in set(g.region)]
        if len(present) < min_regions:
            continue
        row = {"cluster": c, "terms": (terms or {}).get(c, "") if isinstance(terms, dict) else
               (terms.get(c, "") if terms is not None else ""),
               "n_regions": len(present), "regions": "、".join(present), "n_problems": len(g)}
        for r in order:
            row[r] = "；".join(g.loc[g.region == r, "title"])
        rows.append(row)
    out = pd.DataFrame(rows, columns=["cluster", "terms", "n_regions", "regions", "n_problems", *order])
    return out.sort_values(["n_regions", "n_problems", "cluster"], ascending=[False, False, True]).reset_index(drop=True)
