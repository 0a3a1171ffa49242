"""Stage: coding support — the codebooks' vocabulary audited against the tokenizer and a corpus.

:func:`vocab_check` lists every codebook rule term that the tokenizer splits apart (the user dictionary
should protect it, or no word feature can see it) and every term that occurs in no problem or measure of
the corpus it is given.
"""

from __future__ import annotations

import pandas as pd

from .documents import problem_documents
from .tokens import is_punct

__all__ = ["VOCAB_COLUMNS", "vocab_check"]

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
