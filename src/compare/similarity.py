"""Stage: analyses (DESIGN.md section 2) — over the words of the texts: distinctive terms, alike problems,
recycled measures, recurring themes. The tokenizer is an argument (nothing is loaded here); the LSA is
:func:`compare.cluster.lsa_embed`.

Each function returns a tidy DataFrame (companions to the count-based :mod:`compare.analysis`):

* :func:`keyness` — terms distinctive of each region against the others, by signed log-likelihood G²
  (or Pearson χ²), as quanteda's ``textstat_keyness`` does;
* :func:`similar_pairs` — the most alike problem pairs across units (cosine on jieba TF-IDF → LSA, nearest
  neighbours);
* :func:`recycled` / :func:`recycled_text` — near-duplicate measures within and across reports (MinHash LSH
  candidates, verified by cosine on character n-gram TF-IDF or containment), e.g. the same paragraph answering
  two different problems, bounded per measure and per report, with totals per report;
* :func:`recurring_themes` — clusters of problems found in two or more regions, with their top terms
  and the titles from every region side by side.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import scipy.sparse as sp
from datasketch import MinHash, MinHashLSH
from scipy.stats import chi2 as _chi2
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
from sklearn.neighbors import NearestNeighbors

from .analysis import units
from .cluster import lsa_embed
from .documents import problem_documents


def _regions(problems: pd.DataFrame, reports: pd.DataFrame, unit: str = "report") -> pd.Series:
    """The label of every problem's unit (:func:`compare.analysis.units`), aligned with ``problems``."""
    labels = units(reports, unit).set_index("report_id")["region"]
    return pd.Series(problems.report_id.astype(str).map(labels).to_numpy(), index=problems.index)


def _unit_order(reports: pd.DataFrame, unit: str) -> list[str]:
    return list(pd.unique(units(reports, unit)["region"]))


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
    X = vec.fit_transform(problem_documents(problems))
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
                  seed: int = 0, *, tokenizer, unit: str = "report", n_neighbors: int = 20) -> pd.DataFrame:
    """The problem pairs from *different* units (by default: different reports) that are most alike (cosine in LSA
    space). Two reports of places that share a name (鼓楼区 of 南京市 and of 福州市) are different units: units are
    told apart by their unique label (:func:`compare.analysis.units`), never by the place name.

    The LSA is :func:`compare.cluster.lsa_embed` with every term kept (``min_df=1, max_df=1.0``). The pairs are
    searched among every problem's ``n_neighbors`` nearest neighbours (a k-d tree on the unit LSA vectors,
    where Euclidean order is cosine order), never in an n × n matrix: time and memory grow with n log n.

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
    n_neighbors : int
        Neighbours searched per problem: a pair is missed only when both its problems have ``n_neighbors``
        closer problems.

    Returns
    -------
    DataFrame
        ``similarity, region_a, problem_id_a, title_a, text_a, region_b, problem_id_b, title_b, text_b``,
        most similar first.
    """
    regions = _regions(problems, reports, unit).to_numpy()
    Z, _ = lsa_embed(problem_documents(problems), tokenizer=tokenizer, n_components=n_components, seed=seed, min_df=1,
                     max_df=1.0)
    k = min(len(Z), n_neighbors + 1)
    near = NearestNeighbors(n_neighbors=k, algorithm="kd_tree").fit(Z).kneighbors(Z, return_distance=False)
    i, j = np.repeat(np.arange(len(Z)), k), near.ravel()
    i, j = np.minimum(i, j), np.maximum(i, j)
    cross = (i != j) & (regions[i] != regions[j])
    codes = np.unique(i[cross].astype(np.int64) * len(Z) + j[cross])
    i, j = codes // len(Z), codes % len(Z)
    s = np.einsum("ij,ij->i", Z[i], Z[j])
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
RECYCLED_TOTALS_COLUMNS = ["report_id", "n_measures", "n_recycled_within", "n_recycled_across", "n_pairs_found",
                           "n_pairs_shown"]
#: Rows of a spreadsheet (XLSX) under its header: no table of pairs is longer.
SHEET_ROWS = 1_048_575
#: The MinHash LSH of :func:`recycled_text`: permutations, the Jaccard threshold of the index (below the
#: verification threshold, so that a short measure copied into one twice its length still collides), and the
#: candidates verified per measure and pass.
NUM_PERM = 64
LSH_THRESHOLD = 0.3
CANDIDATES = 8
_VERIFY_CHUNK = 20_000
_HASH_CHUNK = 1 << 14
_WHITE = re.compile(r"\s\s+")
_M32, _M64 = np.uint32(0xFFFFFFFF), np.uint64(0xFFFFFFFFFFFFFFFF)


def _code_points(texts) -> tuple[np.ndarray, np.ndarray]:
    """The characters of all texts as one array of 16-bit ids, and the length of every text.

    The texts are seen as scikit-learn's ``analyzer="char"`` sees them (lower case, runs of white space as one
    space). Ids are code points, or ranks of the characters when one lies beyond U+FFFF.
    """
    texts = [_WHITE.sub(" ", str(t).lower()) for t in texts]
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    cps = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32)
    if cps.size and cps.max() > 0xFFFF:
        cps = np.unique(cps, return_inverse=True)[1]
        if cps.max() > 0xFFFF:
            raise ValueError("more than 65,536 distinct characters in the measures")
    return cps.astype(np.uint64), lengths


def _ngram_counts(cps: np.ndarray, lengths: np.ndarray, n: int) -> tuple[sp.csr_matrix, np.ndarray]:
    """Counts of the character n-grams of every text (texts × distinct n-grams, as scikit-learn's
    ``CountVectorizer(analyzer="char", ngram_range=(n, n))`` counts them, in float32) and each column's key
    (the n character ids, 16 bits each).

    Computed on arrays: scikit-learn builds every n-gram as a Python string (about 9 s per million characters);
    the columns are in order of first use, not alphabetical.
    """
    doc = np.repeat(np.arange(len(lengths), dtype=np.int32), lengths)
    offset = np.arange(len(cps), dtype=np.int64) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    start = np.flatnonzero(offset <= (lengths - n)[doc])
    del offset
    key = np.zeros(len(start), dtype=np.uint64)
    for k in range(n):
        key = (key << np.uint64(16)) | cps[start + k]
    doc = doc[start]
    del start
    col, vocab = pd.factorize(key)  # a hash table: columns in order of first use, 10× faster than sorting
    del key
    M = sp.csr_matrix((np.ones(len(doc), dtype=np.float32), (doc, col.astype(np.int32))),
                      shape=(len(lengths), len(vocab)))
    M.sum_duplicates()
    return M, vocab


def _char_vectors(texts) -> tuple[list[sp.csr_matrix], np.ndarray, sp.csr_matrix, np.ndarray]:
    """Character 2–4-gram TF-IDF of the texts (``TfidfVectorizer(analyzer="char", ngram_range=(2, 4),
    sublinear_tf=True)`` in float32) as one block per n, unnormalised, with the vectors' norms; binary character
    4-gram sets and the 4-grams' keys.

    The blocks stay apart (a cosine is the sum over blocks divided by the norms): joining them would copy the
    largest matrix of the analysis.
    """
    cps, lengths = _code_points(texts)
    blocks, sq = [], np.zeros(len(lengths))
    for n in (2, 3, 4):
        C, keys = _ngram_counts(cps, lengths, n)
        X = TfidfTransformer(norm=None, sublinear_tf=True).fit_transform(C)
        sq += np.asarray(X.multiply(X).sum(axis=1), dtype=np.float64).ravel()
        blocks.append(X)
    C.data[:] = 1.0
    return blocks, np.sqrt(sq), C, keys


def _fmix(h: np.ndarray, bits: int) -> np.ndarray:
    """MurmurHash3's finalizer (a bijection of 32- or 64-bit integers that mixes every bit into every other)."""
    if bits == 64:
        c, s = (np.uint64(0xFF51AFD7ED558CCD), np.uint64(0xC4CEB9FE1A85EC53)), (np.uint64(33),) * 3
    else:
        c, s = (np.uint32(0x85EBCA6B), np.uint32(0xC2B2AE35)), (np.uint32(16), np.uint32(13), np.uint32(16))
    h = h ^ (h >> s[0])
    h = h * c[0]
    h = h ^ (h >> s[1])
    h = h * c[1]
    return h ^ (h >> s[2])


def minhash_signatures(B: sp.csr_matrix, keys: np.ndarray, num_perm: int = NUM_PERM, seed: int = 0) -> np.ndarray:
    """datasketch's MinHash (scheme ``affine32``) of every row's set of features, all rows at once.

    Row ``i`` equals ``datasketch.MinHash(num_perm, seed, hashfunc=lambda x: x, scheme="affine32")`` updated with
    the 32-bit hashes of its features (the low half of :func:`_fmix` of each feature's 64-bit key); an empty row
    is datasketch's empty MinHash (every value ``2**32 - 1``).
    """
    a, b = MinHash(num_perm=num_perm, seed=seed, scheme="affine32").permutations
    with np.errstate(over="ignore"):
        hv = _fmix((_fmix(keys.astype(np.uint64), 64) & np.uint64(_M32)).astype(np.uint32), 32)
        sig = np.full((B.shape[0], num_perm), _M32, dtype=np.uint32)
        rows = np.flatnonzero(np.diff(B.indptr))
        bounds = np.searchsorted(B.indptr[rows], np.arange(0, B.nnz, _HASH_CHUNK), side="left")
        for r0, r1 in zip(bounds, [*bounds[1:], len(rows)], strict=True):
            sel = rows[r0:r1]
            if not len(sel):
                continue
            lo, hi = B.indptr[sel[0]], B.indptr[sel[-1] + 1]
            phv = hv[B.indices[lo:hi]][:, None] * a[None, :] + b[None, :]
            sig[sel] = np.minimum.reduceat(phv, B.indptr[sel] - lo, axis=0)
    return sig


def _top_per(a: np.ndarray, b: np.ndarray, k: int) -> np.ndarray:
    """Mask of the items (in rank order) among the first ``k`` of their key ``a`` or their key ``b``."""
    n = len(a)
    keys = np.concatenate([a, b[a != b]])
    idx = np.concatenate([np.arange(n), np.flatnonzero(a != b)])
    order = np.lexsort((idx, keys))
    ks, ids = keys[order], idx[order]
    first = np.r_[True, ks[1:] != ks[:-1]] if len(ks) else np.zeros(0, bool)
    pos = np.arange(len(ks))
    rank = pos - np.maximum.accumulate(np.where(first, pos, 0))
    mask = np.zeros(n, dtype=bool)
    mask[ids[rank < k]] = True
    return mask


def _lsh_candidates(sig: np.ndarray, group: np.ndarray | None, keep: np.ndarray, seed: int,
                    per_item: int) -> np.ndarray:
    """Candidate pairs (as codes ``i · n + j``, ``i < j``) of the rows ``keep`` by MinHash LSH banding.

    Bands and rows per band are datasketch's :class:`~datasketch.MinHashLSH` choice for :data:`LSH_THRESHOLD`.
    Rows whose band is equal share a bucket (with ``group``: and the same group); instead of every pair of a
    bucket (a paragraph copied into 300 reports would make 45,000), each row is paired with the next row of its
    bucket in an order shuffled per band, and keeps the ``per_item`` pairs that collide in the most bands.
    """
    lsh = MinHashLSH(threshold=LSH_THRESHOLD, num_perm=sig.shape[1])
    rows, n = np.flatnonzero(keep), np.int64(len(sig))
    rng = np.random.default_rng(seed)
    codes = []
    for t in range(lsh.b):
        bucket = np.full(len(rows), t, dtype=np.uint64)  # the band's values hashed into 64 bits
        cols = [sig[rows, c] for c in range(t * lsh.r, (t + 1) * lsh.r)] + ([] if group is None else [group[rows]])
        with np.errstate(over="ignore"):
            for col in cols:
                bucket = _fmix(bucket ^ col.astype(np.uint64), 64)
        order = np.lexsort((rng.permutation(len(rows)), bucket))
        same = bucket[order[1:]] == bucket[order[:-1]]
        i, j = rows[order[:-1][same]], rows[order[1:][same]]
        codes.append(np.minimum(i, j) * n + np.maximum(i, j))
    pairs, hits = np.unique(np.concatenate(codes) if codes else np.zeros(0, np.int64), return_counts=True)
    order = np.lexsort((rng.permutation(len(pairs)), -hits))
    pairs = pairs[order]
    return np.sort(pairs[_top_per(pairs // n, pairs % n, per_item)])


def _verify(blocks: list[sp.csr_matrix], norms: np.ndarray, B: sp.csr_matrix, i: np.ndarray,
            j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cosine of the TF-IDF vectors and 4-grams shared, of every pair ``(i, j)`` (exact), in chunks."""
    cos, inter = np.zeros(len(i)), np.zeros(len(i))
    for s in range(0, len(i), _VERIFY_CHUNK):
        a, b = i[s:s + _VERIFY_CHUNK], j[s:s + _VERIFY_CHUNK]
        dot = sum(np.asarray(X[a].multiply(X[b]).sum(axis=1), dtype=np.float64).ravel() for X in blocks)
        cos[s:s + len(a)] = dot / np.maximum(norms[a] * norms[b], 1e-300)
        inter[s:s + len(a)] = np.asarray(B[a].multiply(B[b]).sum(axis=1)).ravel()
    return cos, inter


def _recycled_pairs(m: pd.DataFrame, threshold: float, seed: int) -> tuple[np.ndarray, ...]:
    """Pairs ``i < j`` of the measures ``m`` from different problems with cosine or containment ≥ ``threshold``
    among the LSH candidates (within reports and across): ``i, j, cosine, containment, similarity``, most
    similar first."""
    blocks, norms, B, keys = _char_vectors(m.text)
    sig = minhash_signatures(B, keys, seed=seed)
    sizes = np.diff(B.indptr)
    report = pd.factorize(m.report_id)[0].astype(np.uint32)
    found = [_lsh_candidates(sig, g, sizes > 0, seed + k, CANDIDATES) for k, g in enumerate((None, report))]
    codes = np.unique(np.concatenate(found))
    i, j = codes // len(m), codes % len(m)
    problem = m.problem_id.to_numpy()
    i, j = i[problem[i] != problem[j]], j[problem[i] != problem[j]]
    cs, inter = _verify(blocks, norms, B, i, j)
    ct = inter / np.maximum(np.minimum(sizes[i], sizes[j]), 1)
    best = np.maximum(cs, ct)
    keep = (inter > 0) & (best >= threshold)
    i, j, cs, ct, best = i[keep], j[keep], cs[keep], ct[keep], best[keep]
    order = np.lexsort((j, i, -best))
    return i[order], j[order], cs[order], ct[order], best[order]


def _recycled_totals(m: pd.DataFrame, reports: pd.DataFrame | None, i, j, shown: np.ndarray) -> pd.DataFrame:
    """Per report: measures compared, measures with a near-duplicate within the report / in another report,
    pairs found and pairs shown."""
    rid = m.report_id.astype(str).to_numpy()
    within = rid[i] == rid[j]
    flags = pd.DataFrame({"report_id": rid, "within": False, "across": False})
    for side in (i, j):
        flags.loc[side[within], "within"] = True
        flags.loc[side[~within], "across"] = True
    ids = (reports.report_id.astype(str).drop_duplicates().tolist() if reports is not None else []) + list(rid)
    per = flags.groupby("report_id", sort=False).agg(n_measures=("within", "size"), n_recycled_within=("within", "sum"),
                                                     n_recycled_across=("across", "sum"))
    pairs = pd.Series(np.concatenate([rid[i], rid[j][~within]])).value_counts()
    shown_pairs = pd.Series(np.concatenate([rid[i][shown], rid[j][shown & ~within]])).value_counts()
    out = per.reindex(pd.unique(np.asarray(ids, dtype=object))).fillna(0).astype("int64")
    out["n_pairs_found"] = pairs.reindex(out.index).fillna(0).astype("int64")
    out["n_pairs_shown"] = shown_pairs.reindex(out.index).fillna(0).astype("int64")
    return out.rename_axis("report_id").reset_index()[RECYCLED_TOTALS_COLUMNS]


def recycled(measures: pd.DataFrame, reports: pd.DataFrame | None = None, threshold: float = 0.8,
             min_chars: int = 20, per_measure: int = 3, per_report: int = 20, seed: int = 0
             ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Near-duplicate measures answering different problems, within a report and across reports, and their
    totals per report.

    Two measures are near-duplicates when they share a character 4-gram and either of two measures of overlap
    reaches ``threshold``: the cosine of their character 2–4-gram TF-IDF vectors (the same paragraph with small
    edits), or the *containment* of the shorter one's character 4-grams in the longer one (a paragraph copied
    into a longer one). Character n-grams need no segmentation. Measures shorter than ``min_chars``
    (``一是加强学习。``) are left out: short stock phrases are alike by nature.

    Candidates come from a MinHash LSH index of the 4-gram sets (:func:`minhash_signatures`, datasketch's
    banding), twice: across the corpus and within each report, each measure with at most :data:`CANDIDATES`
    candidates per pass; every candidate is verified exactly by the criterion above. The work grows with the
    number of measures, not with the pairs: a paragraph copied into 300 reports is found in each of them
    without its 45,000 pairs being listed. A pair is missed only when its 4-gram sets collide in no band (LSH;
    rare above Jaccard 0.5) or when its measures have more than :data:`CANDIDATES` closer candidates.

    Parameters
    ----------
    per_measure, per_report : int
        The pairs shown: of every measure its ``per_measure`` most similar pairs, then of every report its
        ``per_report`` most similar pairs within it and as many across reports; never more than
        :data:`SHEET_ROWS` rows (a spreadsheet's limit).
    seed : int
        Of the MinHash permutations and of the order within LSH buckets (the result is deterministic).

    Returns
    -------
    pairs : DataFrame
        :data:`RECYCLED_COLUMNS`: ``similarity`` (the larger of the two), ``cosine, containment, scope``
        ("within report" or "across reports"), then report, problem, measure id and text of both measures;
        most similar first. ``pairs.attrs["bound"]`` states the bound.
    totals : DataFrame
        :data:`RECYCLED_TOTALS_COLUMNS`, one row per report (of ``reports`` when given, then of ``measures``):
        measures compared, measures with a near-duplicate in the same report (another problem) and in another
        report, pairs found and pairs shown that involve the report.
    """
    m = measures[measures.text.fillna("").str.len() >= min_chars].reset_index(drop=True)
    i = j = cs = ct = best = np.zeros(0, dtype=np.int64)
    if len(m) >= 2:
        i, j, cs, ct, best = _recycled_pairs(m, threshold, seed)
    report = pd.factorize(m.report_id)[0].astype(np.int64)
    shown = _top_per(i, j, per_measure)
    scope = 2 * (report[i] == report[j])  # a report's pairs within it and across are bounded apart
    shown &= _top_per(np.where(shown, 4 * report[i] + scope, -1), np.where(shown, 4 * report[j] + scope + 1, -1),
                      per_report)
    shown &= np.cumsum(shown) <= SHEET_ROWS
    totals = _recycled_totals(m, reports, i, j, shown)
    pairs = _pairs_frame(m, i[shown], j[shown], cs[shown], ct[shown], best[shown])
    pairs.attrs["bound"] = (f"top {per_measure} pairs per measure, then top {per_report} per report within it and "
                            f"{per_report} across, at most "
                            f"{SHEET_ROWS:,} rows; totals per report in recycled_by_report")
    return pairs, totals


def _pairs_frame(m: pd.DataFrame, i, j, cs, ct, best) -> pd.DataFrame:
    ra, rb = m.report_id.to_numpy()[i], m.report_id.to_numpy()[j]
    return pd.DataFrame({
        "similarity": np.round(best, 4), "cosine": np.round(cs, 4), "containment": np.round(ct, 4),
        "scope": np.where(ra == rb, "within report", "across reports"),
        "report_id_a": ra, "problem_id_a": m.problem_id.to_numpy()[i], "measure_id_a": m.measure_id.to_numpy()[i],
        "text_a": m.text.to_numpy()[i],
        "report_id_b": rb, "problem_id_b": m.problem_id.to_numpy()[j], "measure_id_b": m.measure_id.to_numpy()[j],
        "text_b": m.text.to_numpy()[j],
    }, columns=RECYCLED_COLUMNS)


def recycled_text(measures: pd.DataFrame, reports: pd.DataFrame | None = None, threshold: float = 0.8,
                  min_chars: int = 20, **kwargs) -> pd.DataFrame:
    """The pairs of :func:`recycled` (near-duplicate measures answering different problems), bounded."""
    return recycled(measures, reports, threshold=threshold, min_chars=min_chars, **kwargs)[0]


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
        titles = {r: "；".join(sub["title"]) for r, sub in g.groupby("region", sort=False, observed=True)}
        present = [r for r in order if r in titles]
        if len(present) < min_regions:
            continue
        row = {"cluster": c, "terms": (terms or {}).get(c, "") if isinstance(terms, dict) else
               (terms.get(c, "") if terms is not None else ""),
               "n_regions": len(present), "regions": "、".join(present), "n_problems": len(g)}
        row.update({r: titles.get(r, "") for r in order})
        rows.append(row)
    out = pd.DataFrame(rows, columns=["cluster", "terms", "n_regions", "regions", "n_problems", *order])
    return out.sort_values(["n_regions", "n_problems", "cluster"], ascending=[False, False, True]).reset_index(drop=True)
