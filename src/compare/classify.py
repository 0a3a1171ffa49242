"""Stage 7: coding — problem types from the codebook rules blended with a supervised text model.

A document is a problem's **title, a newline, and its full text** (the text of the problems table holds the
problem heading and every measure). Free text follows the same convention: its first line is read as the
title. Measures are documents too: the lead phrase (up to the first ``。``), a newline, the measure text.

Two sources of evidence are combined by :class:`CodebookClassifier`:

* **rules** (:class:`RuleScorer`): the codebook's keyword rules scored on the title and on the whole document,
  ``rule = title_weight * score(title) + score(document)`` per code — the title counts extra because the
  codebook's decision rule 2 lets a substantive title decide — then normalised to shares that sum to 1;
* **model** (:func:`make_text_pipeline`): a scikit-learn Pipeline, FeatureUnion of word TF-IDF (jieba
  :class:`compare.text.JiebaTokenizer` as ``tokenizer``, 1–2-grams) and character TF-IDF (``char_wb``
  2–4-grams over Han characters only), into a class-balanced multinomial LogisticRegression.

The **blend** is a convex combination of two probability vectors::

    scores = (1 - rule_weight) * P_model + rule_weight * rule_shares

(``rule_weight=0.5`` by default; where no rule matches, ``scores = P_model``; a code the model never saw in
training gets ``P_model = 0`` and can still win through the rules — this is why the rules are blended *after*
the model rather than used as extra features: with three reports, several codes occur in one report only).
``primary_code`` is the code with the highest score.

Secondary ``codes`` follow the codebook's decision rule 4 — a secondary code is a field that at least one
whole measure substantively addresses — so with ``secondary="measures"`` (problems) the document body is cut
into its measures at the ``一是/二是…`` ordinals and every measure is scored by the rules on its own; the
codes that are the top rule code of at least ``secondary_min_measures`` (1) measures, other than the primary
code, are the secondary codes. With ``secondary="threshold"`` (measures, which have no sub-items) they are
the other codes whose blended score reaches ``secondary_threshold``. ``explain`` gives the scores, the
matched codebook terms, each measure's rule code and the model features that pushed the primary code most
(``tf-idf value × coefficient``).

Measure types use the same class with ``data/measure_codebook.yaml`` and ``rule_weight=1`` (rules only):
there are no hand-coded measure labels to train a model on (:func:`measure_classifier`).

The trained problem model lives at ``config.PROBLEM_MODEL_PATH`` (``python -m compare train``); it is
self-contained (codebook, dictionary and stopwords travel inside it). :func:`load_model` retrains it in
memory, with a message on stderr, when the file is missing or the codebook, user dictionary, stopwords or
labels changed since it was trained. :func:`evaluate_loro` measures it leave-one-region-out against the
hand labels.

What the evaluation can and cannot say. On the three bundled reports (75 problems) leave-one-region-out
gives, for the blend, accuracy 0.947 (Haizhu 0.923, Huidong 1.000, Xuchang 0.949) and macro-F1 0.952; the
text model alone reaches 0.600 (macro-F1 0.427) and the rules alone 0.960. Only the model's figure is a
held-out estimate: the codebook rules were tuned by their author against all 75 hand labels, the held-out
region included, so the rules' and the blend's figures measure agreement with the labels the rules were
fitted to, not how well they carry over to a new bureau. A test asserts the figures as floors, so an edit
of the codebook, dictionary or labels that lowers them fails loudly.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin, clone
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from . import config

__all__ = [
    "CodebookClassifier",
    "LoroResult",
    "ProblemClassifier",
    "RuleScorer",
    "classify_measures",
    "classify_problems",
    "code_problem_rows",
    "evaluate_loro",
    "han_only",
    "load_model",
    "make_text_pipeline",
    "measure_classifier",
    "measure_documents",
    "measure_segments",
    "problem_documents",
    "train_model",
    "training_data",
]

_NON_HAN_RE = re.compile(r"[^\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_LEAD_RE = re.compile(r"^(.{1,40}?)[。；：！？]")


def han_only(text: str) -> str:
    """Replace every run of non-Han characters (digits, punctuation, Latin) by one space.

    The preprocessor of the character n-grams: numbers and punctuation carry no topic, and ``char_wb``
    then never builds an n-gram across them.
    """
    return _NON_HAN_RE.sub(" ", text or "")


def _as_text(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value)


def problem_documents(problems: pd.DataFrame, measures: pd.DataFrame | None = None) -> list[str]:
    """Build the classifier's input for every problem: ``title + "\\n" + text``.

    Parameters
    ----------
    problems : pandas.DataFrame
        ``title`` and ``text`` (the problems table, whose text holds the measures).
    measures : pandas.DataFrame, optional
        Used only for problems without a ``text``: their measures' texts, in order, stand in for it.

    Returns
    -------
    list of str
    """
    by_problem = {}
    missing = problems["text"].map(lambda t: not _as_text(t).strip()) if "text" in problems else None
    if measures is not None and len(measures) and (missing is None or missing.any()):
        for pid, grp in measures.sort_values(["problem_id", "seq"]).groupby("problem_id", sort=False):
            by_problem[pid] = "\n".join(grp["text"].map(_as_text))
    docs = []
    for r in problems.to_dict("records"):
        text = _as_text(r.get("text"))
        if not text.strip():
            text = by_problem.get(r.get("problem_id"), "")
        docs.append(_as_text(r.get("title")).replace("\n", " ") + "\n" + text)
    return docs


def measure_documents(measures: pd.DataFrame) -> list[str]:
    """Build the input for every measure: lead phrase (up to the first ``。``), newline, measure text."""
    docs = []
    for text in measures["text"].map(_as_text):
        m = _LEAD_RE.match(text)
        docs.append((m.group(1) if m else "") + "\n" + text)
    return docs


_ORDINAL_RE = re.compile(r"(?:(?<=^)|(?<=[。；：！？\n]))[ \t]*[一二三四五六七八九十]{1,3}是")


def measure_segments(doc: str) -> list[str]:
    """The measures of a document: its body (after the title line) cut at the ``一是/二是…`` ordinals.

    A body without ordinals is one measure; text before the first ordinal (the heading) is dropped.
    """
    body = doc.split("\n", 1)[1] if "\n" in doc else ""
    parts = _ORDINAL_RE.split(body)
    segs = parts[1:] if len(parts) > 1 else parts
    return [p.strip() for p in segs if p.strip()]


def _feature_label(name: str) -> str:
    """``word__养老 机构`` → ``word:养老 机构``; ``char__ 殡仪`` → ``char:殡仪``."""
    kind, _, feat = str(name).partition("__")
    return f"{kind}:{feat.strip()}"


_FEATURE_LABELS: list[tuple[object, np.ndarray, np.ndarray]] = []  # (fitted FeatureUnion, labels, ids), last few


def _feature_labels(features) -> tuple[np.ndarray, np.ndarray]:
    """The distinct :func:`_feature_label` of a fitted FeatureUnion's features and each feature's label id.

    Computed once per model (a million labels per call would otherwise dominate :meth:`explain`).
    """
    for feats, labels, ids in _FEATURE_LABELS:
        if feats is features:
            return labels, ids
    names = [_feature_label(n) for n in features.get_feature_names_out()]
    labels, ids = np.unique(np.array(names, dtype=object), return_inverse=True)
    _FEATURE_LABELS[:] = [*_FEATURE_LABELS[-3:], (features, labels, ids)]
    return labels, ids


def _title(doc: str) -> str:
    return doc.split("\n", 1)[0]


def _load(codebook):
    from .codebook import Codebook, load_codebook

    if isinstance(codebook, Codebook):
        return codebook
    return load_codebook(codebook)


def _file_sha(path) -> str | None:
    p = Path(path)
    return hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else None


class RuleScorer(TransformerMixin, BaseEstimator):
    """Codebook rule scores of documents (first line = title) as features.

    Parameters
    ----------
    codebook : path-like or Codebook, optional
        Defaults to ``config.CODEBOOK_PATH``. Read at ``fit`` and kept (``codebook_``).
    title_weight : float
        ``rule = title_weight * score(title) + score(document)``.

    Attributes
    ----------
    codebook_ : compare.codebook.Codebook
    codes_ : ndarray of str
        The codes in codebook order (the columns of :meth:`transform`).
    """

    def __init__(self, codebook=None, title_weight: float = 2.0):
        self.codebook = codebook
        self.title_weight = title_weight

    def fit(self, X=None, y=None):
        """Read the codebook."""
        self.codebook_ = _load(self.codebook)
        self.codes_ = np.array(self.codebook_.ids, dtype=object)
        return self

    def score(self, X) -> tuple[np.ndarray, list[dict[str, tuple[str, ...]]]]:
        """Raw rule scores and the matched terms.

        Parameters
        ----------
        X : iterable of str
            Documents (first line = title).

        Returns
        -------
        scores : ndarray of shape (n_documents, n_codes)
        terms : list of dict
            Per document, ``{code: matched terms}`` for the codes with a positive score.
        """
        check_is_fitted(self, "codebook_")
        rows, terms = [], []
        for doc in X:
            doc = _as_text(doc)
            head = self.codebook_.score(_title(doc))
            full = self.codebook_.score(doc)
            row = np.array([self.title_weight * head[c].score + full[c].score for c in self.codes_])
            rows.append(row)
            terms.append(
                {
                    c: tuple(dict.fromkeys(head[c].terms + full[c].terms))
                    for c, v in zip(self.codes_, row, strict=True)
                    if v > 0
                }
            )
        return (np.vstack(rows) if rows else np.zeros((0, len(self.codes_)))), terms

    def transform(self, X) -> np.ndarray:
        """Rule shares: each row divided by its sum (rows without any match stay zero)."""
        raw, _ = self.score(X)
        total = raw.sum(axis=1, keepdims=True)
        return np.divide(raw, total, out=np.zeros_like(raw), where=total > 0)

    def get_feature_names_out(self, input_features=None):
        check_is_fitted(self, "codebook_")
        return np.array([f"rule__{c}" for c in self.codes_], dtype=object)


def make_text_pipeline(
    tokenizer=None, C: float = 1.0, word_ngram_range=(1, 2), char_ngram_range=(2, 4), min_df: int = 2
) -> Pipeline:
    """The supervised part: word + character TF-IDF into a class-balanced LogisticRegression.

    Parameters
    ----------
    tokenizer : callable, optional
        Defaults to a new :class:`compare.text.JiebaTokenizer` (project dictionary and stopwords).
    C : float
        Inverse regularisation strength of the LogisticRegression (scikit-learn's default 1.0).
    word_ngram_range, char_ngram_range : tuple of int
    min_df : int
        Terms in fewer documents are dropped (keeps the model small and the features general).

    Returns
    -------
    sklearn.pipeline.Pipeline
        Steps ``features`` (FeatureUnion ``word``, ``char``) and ``clf``.
    """
    from .text import JiebaTokenizer

    tok = tokenizer if tokenizer is not None else JiebaTokenizer()
    features = FeatureUnion(
        [
            (
                "word",
                TfidfVectorizer(
                    tokenizer=tok,
                    token_pattern=None,
                    lowercase=False,
                    ngram_range=word_ngram_range,
                    sublinear_tf=True,
                    min_df=min_df,
                ),
            ),
            (
                "char",
                TfidfVectorizer(
                    analyzer="char_wb",
                    preprocessor=han_only,
                    ngram_range=char_ngram_range,
                    sublinear_tf=True,
                    min_df=min_df,
                ),
            ),
        ]
    )
    clf = LogisticRegression(C=C, class_weight="balanced", max_iter=5000)
    return Pipeline([("features", features), ("clf", clf)])


class CodebookClassifier(ClassifierMixin, BaseEstimator):
    """Codebook rules blended with a word/character TF-IDF LogisticRegression (see the module docstring).

    Parameters
    ----------
    codebook : path-like or Codebook, optional
        Defaults to ``config.CODEBOOK_PATH``.
    tokenizer : callable, optional
        jieba tokenizer of the word features (default :class:`compare.text.JiebaTokenizer`).
    rule_weight : float in [0, 1]
        Weight of the rule shares in the blend; 0 is the model alone, 1 the rules alone (no model is fitted
        and ``y`` may be None).
    title_weight : float
        Extra weight of rule matches in the title (first line).
    secondary : {"measures", "threshold"}
        How secondary codes are found (module docstring): from the measures' own rule codes, or by a
        threshold on the blended scores.
    secondary_min_measures : int
        With ``secondary="measures"``: how many measures a code must top to be secondary.
    secondary_threshold : float
        With ``secondary="threshold"``: the blended score a secondary code must reach.
    C, word_ngram_range, char_ngram_range, min_df :
        Passed to :func:`make_text_pipeline`.
    n_features : int
        How many model features :meth:`explain` reports.

    Attributes
    ----------
    classes_ : ndarray of str
        Every code of the codebook, in codebook order (the columns of :meth:`predict_proba`).
    rules_ : RuleScorer
    pipeline_ : sklearn.pipeline.Pipeline or None
        The fitted text model (None with ``rule_weight=1``).
    model_classes_ : ndarray of str
        The codes the model saw in training.
    training_info_ : dict
        Hashes of the codebook, dictionary, stopwords and labels it was trained with (set by
        :func:`train_model`).

    Examples
    --------
    >>> docs, y, groups = training_data()                           # doctest: +SKIP
    >>> clf = ProblemClassifier().fit(docs, y)                      # doctest: +SKIP
    >>> clf.explain("殡仪馆收费不规范\\n一是开展殡葬服务收费专项检查……")["primary_code"]  # doctest: +SKIP
    'funeral_services'
    """

    def __init__(
        self,
        codebook=None,
        tokenizer=None,
        rule_weight: float = 0.5,
        title_weight: float = 2.0,
        secondary: str = "measures",
        secondary_min_measures: int = 1,
        secondary_threshold: float = 0.2,
        C: float = 1.0,
        word_ngram_range=(1, 2),
        char_ngram_range=(2, 4),
        min_df: int = 2,
        n_features: int = 8,
    ):
        self.codebook = codebook
        self.tokenizer = tokenizer
        self.rule_weight = rule_weight
        self.title_weight = title_weight
        self.secondary = secondary
        self.secondary_min_measures = secondary_min_measures
        self.secondary_threshold = secondary_threshold
        self.C = C
        self.word_ngram_range = word_ngram_range
        self.char_ngram_range = char_ngram_range
        self.min_df = min_df
        self.n_features = n_features

    # -- fitting -------------------------------------------------------------------------------------------
    def fit(self, X, y=None):
        """Fit on documents ``X`` (first line = title) and codes ``y``.

        Parameters
        ----------
        X : list of str
        y : array-like of str, optional
            Codes of the codebook; required unless ``rule_weight == 1``.

        Returns
        -------
        self
        """
        if not 0 <= self.rule_weight <= 1:
            raise ValueError(f"rule_weight must be in [0, 1], got {self.rule_weight!r}")
        if self.secondary not in ("measures", "threshold"):
            raise ValueError(f"secondary must be 'measures' or 'threshold', got {self.secondary!r}")
        X = [_as_text(d) for d in X]
        self.rules_ = RuleScorer(self.codebook, self.title_weight).fit(X)
        self.classes_ = self.rules_.codes_.copy()
        self.pipeline_ = None
        self.model_classes_ = np.array([], dtype=object)
        if self.rule_weight < 1:
            if y is None:
                raise ValueError("y is required unless rule_weight == 1 (rules only)")
            y = np.asarray(y, dtype=object)
            unknown = sorted(set(y) - set(self.classes_))
            if unknown:
                raise ValueError(f"labels not in the codebook {self.rules_.codebook_.path}: {unknown}")
            if len(y) != len(X):
                raise ValueError(f"{len(X)} documents but {len(y)} labels")
            pipe = make_text_pipeline(
                self.tokenizer, self.C, self.word_ngram_range, self.char_ngram_range, self.min_df
            )
            with threadpool_limits(1, user_api="blas"):  # tiny problem: BLAS threads only add overhead (3x)
                self.pipeline_ = pipe.fit(X, y)
            for _, vec in self.pipeline_.named_steps["features"].transformer_list:
                # stop_words_ is only kept for introspection and is large (sklearn documents removing it);
                # _stop_words_id is an id() (a memory address) that would make the saved file differ per run
                vec.stop_words_ = None
                vec.__dict__.pop("_stop_words_id", None)
            self.model_classes_ = np.asarray(self.pipeline_.classes_, dtype=object)
        return self

    # -- scores --------------------------------------------------------------------------------------------
    def _model_proba(self, X) -> tuple[np.ndarray, object]:
        """The model's probabilities (columns ``classes_``) and its feature matrix (None without a model)."""
        out = np.zeros((len(X), len(self.classes_)))
        if self.pipeline_ is None or not len(X):
            return out, None
        with threadpool_limits(1, user_api="blas"):
            # the two steps by hand, so explain() reuses the features instead of transforming X again
            M = self.pipeline_.named_steps["features"].transform(X)
            proba = self.pipeline_.named_steps["clf"].predict_proba(M)
        cols = [int(np.flatnonzero(self.classes_ == c)[0]) for c in self.model_classes_]
        out[:, cols] = proba
        return out, M

    def _scores(self, X):
        check_is_fitted(self, "classes_")
        X = [_as_text(d) for d in X]
        raw, terms = self.rules_.score(X)
        total = raw.sum(axis=1, keepdims=True)
        shares = np.divide(raw, total, out=np.zeros_like(raw), where=total > 0)
        model, M = self._model_proba(X)
        if self.pipeline_ is None:
            blend = shares
        else:
            w = self.rule_weight
            blend = np.where(total > 0, (1 - w) * model + w * shares, model)
        return blend, model, shares, raw, terms, M

    def predict_proba(self, X) -> np.ndarray:
        """Blended scores, one column per code of ``classes_`` (rows sum to 1; to 0 for a rules-only
        classifier on a text no rule matches).

        Parameters
        ----------
        X : list of str

        Returns
        -------
        ndarray of shape (n_documents, n_codes)
        """
        return self._scores(X)[0]

    def predict(self, X) -> np.ndarray:
        """Primary code of every document (``None`` where a rules-only classifier finds no rule)."""
        proba = self.predict_proba(X)
        out = self.classes_[proba.argmax(axis=1)].astype(object) if len(proba) else np.array([], dtype=object)
        out[proba.max(axis=1) <= 0] = None
        return out

    def measure_codes(self, X) -> list[list[str | None]]:
        """The top rule code of every measure of every document (None for a measure no rule matches).

        The body (after the title line) is cut at the ``一是/二是…`` ordinals; a body without them is one
        measure. Text before the first ordinal (a heading) is not a measure.
        """
        check_is_fitted(self, "classes_")
        out = []
        for doc in X:
            segs = measure_segments(_as_text(doc))
            if not segs:
                out.append([])
                continue
            raw, _ = self.rules_.score(["\n" + seg for seg in segs])
            out.append([self.classes_[r.argmax()] if r.max() > 0 else None for r in raw])
        return out

    def secondary_codes(self, X, proba: np.ndarray | None = None, measure_codes=None) -> list[list[str]]:
        """Secondary codes of documents (see ``secondary``), highest support first, primary excluded.

        Parameters
        ----------
        X : list of str
        proba : ndarray, optional
            :meth:`predict_proba` of ``X`` when already computed.
        measure_codes : list, optional
            :meth:`measure_codes` of ``X`` when already computed.

        Returns
        -------
        list of list of str
        """
        proba = self.predict_proba(X) if proba is None else np.atleast_2d(proba)
        out = []
        order = {c: i for i, c in enumerate(self.classes_)}
        if self.secondary != "measures":
            per_measure = [[] for _ in X]
        else:
            per_measure = self.measure_codes(X) if measure_codes is None else measure_codes
        for row, mcodes in zip(proba, per_measure, strict=True):
            if row.max() <= 0:
                out.append([])
                continue
            top = self.classes_[row.argmax()]
            if self.secondary == "measures":
                counts = Counter(c for c in mcodes if c is not None and c != top)
                keep = [c for c, n in counts.items() if n >= self.secondary_min_measures]
                out.append(sorted(keep, key=lambda c: (-counts[c], order[c])))
            else:
                order = np.argsort(-row, kind="stable")
                out.append(
                    [
                        self.classes_[j]
                        for j in order
                        if self.classes_[j] != top and row[j] >= self.secondary_threshold
                    ]
                )
        return out

    def _top_features(self, X, codes, M=None) -> list[list[tuple[str, float]]]:
        if self.pipeline_ is None or not len(X):
            return [[] for _ in X]
        feats = self.pipeline_.named_steps["features"]
        coef = self.pipeline_.named_steps["clf"].coef_
        # char_wb pads chunk edges: " 殡仪" and "殡仪" are one feature to a reader, so contributions are
        # summed per label (ids into ``labels``)
        labels, label_ids = _feature_labels(feats)
        M = (feats.transform(X) if M is None else M).tocsr()
        row_of = {c: i for i, c in enumerate(self.model_classes_)}
        out = []
        for i, code in enumerate(codes):
            k = row_of.get(code)
            if k is None:
                out.append([])
                continue
            a, b = M.indptr[i], M.indptr[i + 1]
            idx = M.indices[a:b]
            contrib = M.data[a:b] * coef[k, idx]
            pos = contrib > 0
            uniq, inv = np.unique(label_ids[idx[pos]], return_inverse=True)
            sums = np.bincount(inv, weights=contrib[pos], minlength=len(uniq))
            top = sorted(zip(sums.tolist(), labels[uniq].tolist(), strict=True), key=lambda v: (-v[0], v[1]))
            out.append([(f, round(v, 4)) for v, f in top[: self.n_features]])
        return out

    def explain(self, X, decimals: int | None = 4):
        """Decisions with their evidence.

        Parameters
        ----------
        X : str or list of str
            A document (first line = title) or several.
        decimals : int, optional
            Round the scores (None: full precision).

        Returns
        -------
        dict or list of dict
            Per document: ``primary_code``, ``codes`` (secondary), ``scores`` (blended, every code),
            ``model_proba``, ``rule_scores`` (raw rule scores of the codes that matched), ``matched_terms``
            (``{code: [terms]}``), ``top_features`` (``[(feature, contribution)]`` for the primary code),
            ``measure_codes`` (the rule code of each measure, with ``secondary="measures"``), ``title``.
        """
        single = isinstance(X, str)
        docs = [X] if single else [_as_text(d) for d in X]
        blend, model, _, raw, terms, M = self._scores(docs)
        primary = [self.classes_[r.argmax()] if r.max() > 0 else None for r in blend]
        per_measure = self.measure_codes(docs) if self.secondary == "measures" else [[] for _ in docs]
        secondary = self.secondary_codes(docs, blend, per_measure)
        feats = self._top_features(docs, primary, M)

        def rnd(v):
            return float(v) if decimals is None else round(float(v), decimals)

        out = []
        for i, doc in enumerate(docs):
            out.append(
                {
                    "title": _title(doc),
                    "primary_code": primary[i],
                    "codes": secondary[i],
                    "scores": {c: rnd(v) for c, v in zip(self.classes_, blend[i], strict=True)},
                    "model_proba": {c: rnd(v) for c, v in zip(self.classes_, model[i], strict=True)},
                    "rule_scores": {c: float(v) for c, v in zip(self.classes_, raw[i], strict=True) if v > 0},
                    "matched_terms": {c: list(t) for c, t in terms[i].items()},
                    "top_features": feats[i],
                    "measure_codes": per_measure[i],
                }
            )
        return out[0] if single else out


class ProblemClassifier(CodebookClassifier):
    """:class:`CodebookClassifier` for problem types (``config.CODEBOOK_PATH``); same parameters."""


def measure_classifier(codebook=None, title_weight: float = 2.0, secondary_threshold: float = 0.3):
    """A fitted rules-only :class:`CodebookClassifier` for measure types (``config.MEASURE_CODEBOOK_PATH``).

    Rules only because there are no hand-coded measure labels to train or test a model on; the lead
    phrase (the first line of :func:`measure_documents`) plays the title's part.
    """
    return CodebookClassifier(
        codebook or config.MEASURE_CODEBOOK_PATH,
        rule_weight=1.0,
        title_weight=title_weight,
        secondary="threshold",
        secondary_threshold=secondary_threshold,
    ).fit([])


# -- tables --------------------------------------------------------------------------------------------------
def _evidence_columns(clf: CodebookClassifier, docs: list[str]) -> pd.DataFrame:
    exp = clf.explain(docs, decimals=None)
    rows = []
    for e in exp:
        p = e["primary_code"]
        terms = e["matched_terms"].get(p, []) if p else []
        feats = [f for f, _ in e["top_features"]]
        parts = []
        if terms:
            parts.append("terms: " + "、".join(terms))
        if feats:
            parts.append("features: " + "、".join(feats))
        others = [f"{c}: {'、'.join(t)}" for c, t in e["matched_terms"].items() if c != p]
        if others:
            parts.append("other rules: " + "; ".join(others))
        row = {
            "primary_code": p,
            "codes": ";".join(e["codes"]),
            "primary_score": e["scores"][p] if p else 0.0,
            "matched_terms": ";".join(terms),
            "top_features": ";".join(feats),
            "evidence": " | ".join(parts),
        }
        row.update({f"score_{c}": v for c, v in e["scores"].items()})
        rows.append(row)
    columns = ["primary_code", "codes", "primary_score", "matched_terms", "top_features", "evidence"]
    columns += [f"score_{c}" for c in clf.classes_]
    return pd.DataFrame(rows, index=range(len(docs)), columns=columns)


def classify_problems(
    problems_df: pd.DataFrame,
    measures_df: pd.DataFrame | None = None,
    model: CodebookClassifier | None = None,
) -> pd.DataFrame:
    """Code every problem.

    Parameters
    ----------
    problems_df : pandas.DataFrame
        The problems table (``title``, ``text``).
    measures_df : pandas.DataFrame, optional
        The measures table; only used for problems without text (see :func:`problem_documents`).
    model : CodebookClassifier, optional
        Defaults to :func:`load_model` (the shipped model).

    Returns
    -------
    pandas.DataFrame
        ``problems_df`` plus ``primary_code``, ``codes`` (secondary, ``;``-joined), ``primary_score``,
        ``matched_terms`` and ``top_features`` (``;``-joined, for the primary code), ``evidence`` (both in
        one readable line, plus the other codes whose rules matched) and one ``score_<code>`` column per code.
    """
    model = model if model is not None else load_model()
    docs = problem_documents(problems_df, measures_df)
    ev = _evidence_columns(model, docs)
    ev.index = problems_df.index
    return pd.concat([problems_df.drop(columns=[c for c in ev.columns if c in problems_df]), ev], axis=1)


def classify_measures(measures_df: pd.DataFrame, model: CodebookClassifier | None = None) -> pd.DataFrame:
    """Code every measure into a measure type (rules of ``data/measure_codebook.yaml``).

    Parameters
    ----------
    measures_df : pandas.DataFrame
        The measures table (``text``).
    model : CodebookClassifier, optional
        Defaults to :func:`measure_classifier`.

    Returns
    -------
    pandas.DataFrame
        ``measures_df`` plus ``measure_type`` (None where no rule matches), ``measure_types`` (secondary,
        ``;``-joined), ``measure_score``, ``matched_terms``, ``evidence`` and ``score_<type>`` columns.
    """
    model = model if model is not None else measure_classifier()
    ev = _evidence_columns(model, measure_documents(measures_df)).drop(columns=["top_features"])
    ev = ev.rename(
        columns={"primary_code": "measure_type", "codes": "measure_types", "primary_score": "measure_score"}
    )
    ev.index = measures_df.index
    return pd.concat([measures_df.drop(columns=[c for c in ev.columns if c in measures_df]), ev], axis=1)


def code_problem_rows(problems: list[dict], measures: list[dict]) -> dict[str, dict]:
    """Codes for problem rows as dicts (``python -m compare parse FILE --json``).

    Parameters
    ----------
    problems, measures : list of dict
        Rows of the problems and measures tables of one report.

    Returns
    -------
    dict
        ``problem_id`` → ``{"primary_code": str, "codes": [secondary codes]}``.
    """
    if not problems:
        return {}
    pdf = pd.DataFrame(problems)
    mdf = pd.DataFrame(measures) if measures else None
    model = load_model()
    docs = problem_documents(pdf, mdf)
    proba = model.predict_proba(docs)
    secondary = model.secondary_codes(docs, proba)
    return {
        pid: {"primary_code": str(model.classes_[row.argmax()]), "codes": list(sec)}
        for pid, row, sec in zip(pdf["problem_id"], proba, secondary, strict=True)
    }


# -- training ------------------------------------------------------------------------------------------------
def training_data(corpus=None, labels: pd.DataFrame | None = None):
    """Documents, primary codes and regions of the hand-labelled problems.

    Parameters
    ----------
    corpus : compare.tables.Corpus, optional
        Defaults to the bundled reports (``load_reports()``).
    labels : pandas.DataFrame, optional
        Defaults to :func:`compare.labels.load_problem_labels` (``config.PROBLEM_LABELS_PATH``).

    Returns
    -------
    docs : list of str
    y : ndarray of str
    frame : pandas.DataFrame
        ``problem_id``, ``report_id``, ``region`` (the report's region, else its id), ``primary_code``,
        ``secondary_codes``, in the order of ``docs``.
    """
    from .labels import load_problem_labels

    if corpus is None:
        from .study import load_reports

        corpus = load_reports()
    if labels is None:
        labels = load_problem_labels(problems=corpus.problems)
    lab = labels[labels["primary_code"].astype(str) != ""][["problem_id", "primary_code", "secondary_codes"]]
    df = corpus.problems.merge(lab, on="problem_id", how="inner", validate="one_to_one")
    missing = sorted(set(lab["problem_id"]) - set(df["problem_id"]))
    if missing:
        raise ValueError(f"labels for problems not in the corpus: {', '.join(missing)}")
    region = (
        corpus.reports.set_index("report_id")["region"]
        if "region" in corpus.reports
        else pd.Series(dtype=str)
    )
    df["region"] = df["report_id"].map(region).fillna(df["report_id"])
    df["region"] = df["region"].where(df["region"].astype(str) != "", df["report_id"])
    frame = df[["problem_id", "report_id", "region", "primary_code", "secondary_codes"]].reset_index(
        drop=True
    )
    return problem_documents(df), frame["primary_code"].to_numpy(dtype=object), frame


def _training_info() -> dict:
    return {
        "codebook": _file_sha(config.CODEBOOK_PATH),
        "userdict": _file_sha(config.USERDICT_PATH),
        "stopwords": _file_sha(config.STOPWORDS_PATH),
        "labels": _file_sha(config.PROBLEM_LABELS_PATH),
    }


def train_model(
    corpus=None, labels: pd.DataFrame | None = None, path=None, save: bool = True, **params
) -> ProblemClassifier:
    """Fit the problem classifier on the hand labels and (``save=True``) write it with joblib.

    Parameters
    ----------
    corpus, labels :
        See :func:`training_data`.
    path : path-like, optional
        Defaults to ``config.PROBLEM_MODEL_PATH``.
    save : bool
    **params
        :class:`ProblemClassifier` parameters.

    Returns
    -------
    ProblemClassifier
        With ``training_info_`` (file hashes and the number of training problems).
    """
    import joblib

    docs, y, frame = training_data(corpus, labels)
    model = ProblemClassifier(**params).fit(docs, y)
    model.training_info_ = {
        **_training_info(),
        "n_train": len(y),
        "regions": sorted(frame["region"].astype(str).unique()),
    }
    if save:
        out = Path(path or config.PROBLEM_MODEL_PATH)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(f".{os.getpid()}.tmp")
        joblib.dump(model, tmp, compress=("xz", 3))
        os.replace(tmp, out)
        _load_cached.cache_clear()
    return model


def _stale(model) -> list[str]:
    info = getattr(model, "training_info_", {}) or {}
    now = _training_info()
    return [k for k, v in now.items() if v is not None and info.get(k) != v]


@lru_cache(maxsize=4)
def _load_cached(path: str, mtime_ns: int, check: bool):
    import joblib

    p = Path(path)
    model = None
    if mtime_ns >= 0:
        try:
            model = joblib.load(p)
        except Exception as exc:  # an unreadable or incompatible model is retrained, and said so
            print(f"compare: could not load {p} ({exc}); training on the fly", file=sys.stderr)
    else:
        print(
            f"compare: no trained model at {p}; training on the fly (run `python -m compare train` to "
            "save one)",
            file=sys.stderr,
        )
    if model is not None and check:
        changed = _stale(model)
        if changed:
            print(
                f"compare: {', '.join(changed)} changed since {p.name} was trained; retraining on the fly "
                "(run `python -m compare train` to update it)",
                file=sys.stderr,
            )
            model = None
    if model is None:
        model = train_model(save=False)
    return model


def load_model(path=None, check: bool = True) -> ProblemClassifier:
    """The trained problem classifier (cached; retrained in memory when missing or stale).

    Parameters
    ----------
    path : path-like, optional
        Defaults to ``config.PROBLEM_MODEL_PATH`` (shipped with the package).
    check : bool
        Retrain (in memory, with a message on stderr) when the codebook, user dictionary, stopwords or
        labels in ``data/`` differ from those the model was trained with. Files that do not exist (an
        installed package without the project folder) are not compared.

    Returns
    -------
    ProblemClassifier
    """
    p = Path(path or config.PROBLEM_MODEL_PATH).resolve()
    mtime = p.stat().st_mtime_ns if p.is_file() else -1
    return _load_cached(str(p), mtime, check)


# -- evaluation ----------------------------------------------------------------------------------------------
@dataclass
class LoroResult:
    """Leave-one-region-out evaluation (:func:`evaluate_loro`).

    Attributes
    ----------
    scores : pandas.DataFrame
        ``method`` (``blend``, ``model``, ``rules``), ``region`` (each held-out region, then ``overall``),
        ``n``, ``accuracy``, ``macro_f1``, ``secondary_f1`` (micro-F1 of the secondary code sets).
    confusion : pandas.DataFrame
        Of the blend over all held-out predictions: hand label (rows) × predicted code (columns), every code.
    predictions : pandas.DataFrame
        Per problem: ``problem_id``, ``region``, ``true``, ``blend``, ``model``, ``rules``, ``true_secondary``,
        ``pred_secondary``.
    """

    scores: pd.DataFrame
    confusion: pd.DataFrame
    predictions: pd.DataFrame

    def summary(self, method: str = "blend") -> pd.DataFrame:
        """The scores of one method, indexed by region."""
        return self.scores[self.scores["method"] == method].set_index("region")


def _secondary_f1(true: list[set], pred: list[set]) -> float:
    tp = sum(len(t & p) for t, p in zip(true, pred, strict=True))
    n_pred = sum(len(p) for p in pred)
    n_true = sum(len(t) for t in true)
    if n_pred + n_true == 0:
        return 1.0
    return 2 * tp / (n_pred + n_true)


def evaluate_loro(corpus=None, labels: pd.DataFrame | None = None, **params) -> LoroResult:
    """Leave-one-region-out: train on the other regions, predict the held-out one, for every region.

    Nothing is tuned on the held-out region. Three methods are scored on the same folds: ``blend`` (the
    classifier as configured), ``model`` (the text model alone, ``rule_weight=0``) and ``rules`` (the
    codebook rules alone, ``rule_weight=1``). Note that the rules need no training, so their figure is only
    held out to the extent that the codebook was written without the held-out region's labels.

    Parameters
    ----------
    corpus, labels :
        See :func:`training_data`.
    **params
        :class:`ProblemClassifier` parameters of the blend.

    Returns
    -------
    LoroResult
    """
    from .labels import split_codes

    docs, y, frame = training_data(corpus, labels)
    regions = frame["region"].astype(str).to_numpy()
    base = ProblemClassifier(**params)
    if base.rule_weight in (0, 1):
        raise ValueError("evaluate_loro compares the blend with its parts: use 0 < rule_weight < 1")
    preds = {m: np.empty(len(y), dtype=object) for m in ("blend", "model", "rules")}
    sec_pred = [set() for _ in y]
    codes: list[str] = []
    for region in pd.unique(regions):
        test = regions == region
        d_train = [d for d, t in zip(docs, test, strict=True) if not t]
        d_test = [d for d, t in zip(docs, test, strict=True) if t]
        # one fit per fold: the model's and the rules' own scores are the two parts of the blend
        clf = clone(base).fit(d_train, y[~test])
        codes = list(clf.classes_)
        blend, model, shares, _, _, _ = clf._scores(d_test)
        for method, proba in (("blend", blend), ("model", model), ("rules", shares)):
            pred = clf.classes_[proba.argmax(axis=1)].astype(object)
            pred[proba.max(axis=1) <= 0] = None  # rules alone: no rule matched
            preds[method][test] = pred
        for i, s in zip(np.flatnonzero(test), clf.secondary_codes(d_test, blend), strict=True):
            sec_pred[i] = set(s)
    sec_true = [set(split_codes(s)) for s in frame["secondary_codes"]]
    rows = []
    for method, pred in preds.items():
        for region in [*pd.unique(regions), "overall"]:
            m = np.ones(len(y), bool) if region == "overall" else regions == region
            rows.append(
                {
                    "method": method,
                    "region": region,
                    "n": int(m.sum()),
                    "accuracy": accuracy_score(y[m], pred[m].astype(str)),
                    "macro_f1": f1_score(y[m], pred[m].astype(str), average="macro", zero_division=0),
                    "secondary_f1": _secondary_f1(
                        [sec_true[i] for i in np.flatnonzero(m)], [sec_pred[i] for i in np.flatnonzero(m)]
                    )
                    if method == "blend"
                    else np.nan,
                }
            )
    scores = pd.DataFrame(rows)
    cm = confusion_matrix(y, preds["blend"], labels=codes)
    confusion = pd.DataFrame(
        cm, index=pd.Index(codes, name="true"), columns=pd.Index(codes, name="predicted")
    )
    predictions = frame[["problem_id", "region"]].assign(
        true=y,
        blend=preds["blend"],
        model=preds["model"],
        rules=preds["rules"],
        true_secondary=[";".join(sorted(s)) for s in sec_true],
        pred_secondary=[";".join(sorted(s)) for s in sec_pred],
    )
    return LoroResult(scores, confusion, predictions)
