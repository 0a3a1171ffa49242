"""Stage: coding support — the codebooks' vocabulary audited against the tokenizer and a corpus.

:func:`vocab_check` lists every codebook rule term that the tokenizer splits apart (the user dictionary
should protect it, or no word feature can see it) and every term that occurs in no problem or measure of
the corpus it is given.

:func:`draft_codebook` proposes candidate codes for a study of other units (``python -m compare
codebook-draft``): it clusters the problems the coder covers poorly (``needs_review`` or a low ``confidence``)
with TF-IDF over the tokenizer's words and k-means, and gives per cluster its top terms, the titles nearest
its centre, and a YAML skeleton in the codebook format to edit and pass to ``build --codebook FILE``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .documents import problem_documents
from .tokens import is_punct

__all__ = ["VOCAB_COLUMNS", "CodebookDraft", "draft_codebook", "vocab_check"]

#: Columns of :func:`vocab_check`.
VOCAB_COLUMNS = [
    "codebook",
    "code",
    "term",
    "roles",
    "tokens",
    "pattern",
    "split",
    "n_problems",
    "n_measures",
    "unmatched",
]


def _codebook_terms(codebook, name: str) -> list[dict]:
    """One row per (code, term) of a codebook, with the rule roles (all/any/none) the term plays."""
    rows: dict[tuple[str, str], dict] = {}
    for code in codebook:
        for rule in code.rules:
            for role, terms in (("all", rule.all), ("any", rule.any), ("none", rule.none)):
                for term in terms:
                    row = rows.setdefault(
                        (code.code, term), {"codebook": name, "code": code.code, "term": term, "roles": []}
                    )
                    if role not in row["roles"]:
                        row["roles"].append(role)
    return list(rows.values())


def _audit(row: dict, tokenizer, problem_texts: list[str], measure_texts: list[str]) -> dict:
    """Fill one term's row: its segmentation, whether it is split, and the texts that contain it."""
    term = row["term"]
    seg = tokenizer.is_split(term)
    row["roles"] = ";".join(row["roles"])
    row["tokens"] = "/".join(seg)
    # a term with punctuation (学习《) is a substring pattern, not a word: no tokenizer keeps it whole
    row["pattern"] = any(is_punct(ch) for ch in term)
    row["split"] = len(seg) != 1 and not row["pattern"]
    row["n_problems"] = sum(term in t for t in problem_texts)
    row["n_measures"] = sum(term in t for t in measure_texts)
    row["unmatched"] = row["n_problems"] == 0 and row["n_measures"] == 0
    return row


def vocab_check(corpus, tokenizer, codebooks: dict) -> pd.DataFrame:
    """Audit every codebook rule term against the tokenizer and the corpus.

    A term is *split* when the tokenizer, segmenting the term on its own, does not return it as one
    token. Terms with punctuation (``学习《``) are substring *patterns*, not words, and are not checked for
    splitting. A term is *unmatched* when no problem document
    (:func:`compare.documents.problem_documents`) or measure text of the corpus contains it.

    Parameters
    ----------
    corpus : compare.tables.Corpus
        Any object with ``problems`` and ``measures`` tables (the corpus the terms should be grounded in).
    tokenizer : compare.tokens.JiebaTokenizer
        Its :meth:`~compare.tokens.JiebaTokenizer.is_split` decides ``split``.
    codebooks : dict of str to Codebook
        E.g. ``{"problem": load_codebook(config.CODEBOOK_PATH),
        "measure": load_codebook(config.MEASURE_CODEBOOK_PATH)}``.

    Returns
    -------
    pandas.DataFrame
        One row per (codebook, code, term): ``codebook``, ``code``, ``term``, ``roles`` (all/any/none
        joined by ``;``), ``tokens`` (the segmentation, joined by ``/``), ``pattern`` (bool), ``split`` (bool),
        ``n_problems`` and ``n_measures`` (texts containing the term), ``unmatched`` (bool).

    Examples
    --------
    >>> df = vocab_check(corpus, tokenizer, codebooks)  # doctest: +SKIP
    >>> df.loc[df.split, ["code", "term", "tokens"]]             # doctest: +SKIP
    """
    problem_texts = problem_documents(corpus.problems)
    measure_texts = corpus.measures["text"].fillna("").tolist()
    rows = [row for name, cb in codebooks.items() for row in _codebook_terms(cb, name)]
    rows = [_audit(row, tokenizer, problem_texts, measure_texts) for row in rows]
    return pd.DataFrame(rows, columns=VOCAB_COLUMNS)


#: colours of candidate codes (Paul Tol's "light" scheme; the bundled codebook uses his "muted" one)
_DRAFT_COLOURS = ["#77AADD", "#EE8866", "#EEDD88", "#FFAABB", "#99DDFF", "#44BB99", "#BBCC33", "#AAAA00",
                  "#DDDDDD"]


@dataclass
class CodebookDraft:
    """Candidate codes (:func:`draft_codebook`).

    Attributes
    ----------
    clusters : pandas.DataFrame
        One row per candidate: ``candidate``, ``n`` (problems), ``top_terms`` (list), ``examples`` (titles
        nearest the centre), ``problem_ids``.
    n_poor : int
        How many problems were poorly covered (the ones clustered).
    n_problems : int
    """

    clusters: pd.DataFrame
    n_poor: int
    n_problems: int

    def summary(self) -> str:
        """A readable account: how many problems are poorly covered, and each candidate's terms and examples."""
        lines = [f"{self.n_poor} of {self.n_problems} problems are poorly covered by the codebook; "
                 f"{len(self.clusters)} candidate code(s)"]
        for r in self.clusters.itertuples():
            lines.append(f"  {r.candidate} ({r.n} problems): {'、'.join(r.top_terms)}")
            lines += [f"      e.g. {t}" for t in r.examples]
        return "\n".join(lines)

    def yaml(self) -> str:
        """A codebook skeleton with one code per candidate (names, definition and rules to edit)."""
        import yaml

        codes = []
        for i, r in enumerate(self.clusters.itertuples()):
            codes.append({
                "code": r.candidate, "name_zh": r.top_terms[0] if r.top_terms else r.candidate,
                "name_en": f"Candidate {i + 1} (rename)", "color": _DRAFT_COLOURS[i % len(_DRAFT_COLOURS)],
                "definition": "TODO: what this type covers, decided by the substance of the whole item",
                "include": list(r.examples), "exclude": [],
                "rules": [{"any": list(r.top_terms[:5]), "weight": 2}],
            })
        head = ("# Candidate codes drafted by `python -m compare codebook-draft` from problems the codebook\n"
                "# covers poorly. Rename, define and check every code; merge them into a copy of the codebook\n"
                "# (same format) and pass it with `build --codebook FILE`.\n")
        return head + yaml.safe_dump({"version": 1, "codes": codes}, allow_unicode=True, sort_keys=False)


def _cluster(X, k: int | None, seed: int) -> np.ndarray:
    """k-means labels of the rows of ``X``; k by silhouette over 2…min(8, n - 1) when not given."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    n = X.shape[0]
    if k is not None:
        return KMeans(min(k, n), n_init=10, random_state=seed).fit_predict(X)
    best, labels = -2.0, np.zeros(n, dtype=int)
    for kk in range(2, min(8, n - 1) + 1):
        lab = KMeans(kk, n_init=10, random_state=seed).fit_predict(X)
        if len(set(lab)) > 1 and (score := silhouette_score(X, lab)) > best:
            best, labels = score, lab
    return labels


def draft_codebook(problems: pd.DataFrame, tokenizer, max_score: float | None = None, k: int | None = None,
                   n_terms: int = 8, n_examples: int = 3, seed: int = 0) -> CodebookDraft:
    """Candidate codes from the clusters of problems no code covers well.

    Parameters
    ----------
    problems : pandas.DataFrame
        A coded problems table (``problem_id``, ``title``, ``text``, ``confidence``, ``needs_review``).
    tokenizer : compare.tokens.JiebaTokenizer
        The word tokenizer of the TF-IDF.
    max_score : float, optional
        A problem is poorly covered when it ``needs_review``, its confidence is below this (default 0.8) or
        no rule term of its code matched (``matched_terms`` empty: for a unit outside the codebook's sector,
        its own line of business).
    k : int, optional
        Number of candidates (default: by silhouette over 2…8).
    n_terms, n_examples : int
        Top terms and example titles per candidate.
    seed : int

    Returns
    -------
    CodebookDraft
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    limit = 0.8 if max_score is None else max_score
    poor = problems["needs_review"].fillna(False).astype(bool) | (problems["confidence"] < limit)
    if "matched_terms" in problems:  # no rule of its code matched: e.g. another unit's line of business
        poor |= problems["matched_terms"].fillna("").astype(str) == ""
    poor = problems[poor]
    empty = pd.DataFrame(columns=["candidate", "n", "top_terms", "examples", "problem_ids"])
    if len(poor) < 2:
        return CodebookDraft(empty, len(poor), len(problems))
    docs = (poor["title"].fillna("") + "\n" + poor["text"].fillna("")).tolist()
    vec = TfidfVectorizer(tokenizer=tokenizer, token_pattern=None, lowercase=False, sublinear_tf=True)
    X = vec.fit_transform(docs)
    labels = _cluster(X, k, seed) if len(poor) > 2 else np.zeros(len(poor), dtype=int)
    terms = vec.get_feature_names_out()
    rows = []
    for j, c in enumerate(sorted(set(labels), key=lambda c: (-(labels == c).sum(), c))):
        idx = np.flatnonzero(labels == c)
        centre = np.asarray(X[idx].mean(axis=0)).ravel()
        near = idx[np.argsort(-(X[idx] @ centre), kind="stable")][:n_examples]
        top = [t for t in terms[np.argsort(-centre, kind="stable")] if len(t) > 1][:n_terms]
        rows.append({"candidate": f"candidate_{j + 1}", "n": len(idx), "top_terms": top,
                     "examples": poor["title"].iloc[near].tolist(),
                     "problem_ids": poor["problem_id"].iloc[idx].tolist()})
    return CodebookDraft(pd.DataFrame(rows), len(poor), len(problems))
