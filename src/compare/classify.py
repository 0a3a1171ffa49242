"""Stage: coding — the estimators: codebook rules blended with a supervised text model.

This module holds the estimators only (scikit-learn idioms: parameters in ``__init__``, fitted state with a
trailing underscore). They read *documents* (:mod:`compare.documents`): a problem's title, a newline and its
full text; free text follows the same convention (its first line is the title); a measure document is the
measure's lead phrase, a newline, its text. Coding the tables is :mod:`compare.coding`; fitting, saving,
loading and evaluating the problem model is :mod:`compare.training`.

Two sources of evidence are combined by :class:`CodebookClassifier`:

* **rules** (:class:`RuleScorer`): the codebook's keyword rules scored on the title and on the whole document,
  ``rule = title_weight * score(title) + score(document)`` per code — the title counts extra because the
  codebook's decision rule 2 lets a substantive title decide — then normalised to shares that sum to 1;
* **model** (:func:`make_text_pipeline`): a scikit-learn Pipeline, FeatureUnion of word TF-IDF (jieba
  :class:`compare.tokens.JiebaTokenizer` as ``tokenizer``, 1–2-grams) and character TF-IDF (``char_wb``
  2–4-grams over Han characters only), into a class-balanced multinomial LogisticRegression.

The **blend** is a convex combination of two probability vectors::

    scores = (1 - rule_weight) * P_model + rule_weight * rule_shares

(``rule_weight=0.5`` by default; where no rule matches, ``scores = P_model``; a code the model never saw in
training gets ``P_model = 0`` and can still win through the rules — this is why the rules are blended *after*
the model rather than used as extra features: with three reports, several codes occur in one report only).
``primary_code`` is the code with the highest score.

**The unit** (``agency=`` of :meth:`CodebookClassifier.explain` / ``predict_proba``): when the codebook has a
``sector`` and a document comes from a unit outside it, the field codes' rule scores and model probabilities
go to the sector's ``other_units`` code (DESIGN.md §4: line-of-business problems of other units), and a
document no rule matches gets the rule share 1 for ``other_units``.

**Confidence** (:meth:`CodebookClassifier.confidence`): a Platt-style LogisticRegression of "the primary code is
right" on signals that carry information (:data:`CONFIDENCE_FEATURES`: blended top score and margin, the rules'
margin between their top two codes, whether and how strongly a rule fired, the model's top probability and
entropy, whether rules and model agree, whether the unit is known), fitted on out-of-sample predictions
(``calibrator_``): leave-one-region-out predictions of the training labels and labelled statements the
classifier was not fitted on (``fit(calibration=…)``). :meth:`CodebookClassifier.review` flags ``needs_review`` below
``review_threshold`` or when no rule matched and the model's top probability is below ``model_unsure``.

Secondary ``codes`` follow the codebook's decision rule 4 — a secondary code is a field that at least one
whole measure substantively addresses — so with ``secondary="measures"`` (problems) the document body is cut
into its measures at the ``一是/二是…`` ordinals and every measure is scored by the rules on its own; the
codes that are the top rule code of at least ``secondary_min_measures`` (1) measures, other than the primary
code, are the secondary codes. With ``secondary="threshold"`` (measures, which have no sub-items) they are
the other codes whose blended score reaches ``secondary_threshold``. ``explain`` gives the scores, the
matched codebook terms, each measure's rule code and the model features that pushed the primary code most
(``tf-idf value × coefficient``).

Measure types use the same class with the measure codebook and ``rule_weight=1`` (rules only): there are
no hand-coded measure labels to train a model on (:func:`measure_classifier`).

A fitted model is self-contained (codebook, dictionary and stopwords travel inside it); see
:mod:`compare.training` for the shipped one and for its leave-one-region-out evaluation.

How good the coding is, and what that figure can and cannot say: :mod:`compare.training`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from operator import itemgetter

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from .codebook import Codebook, load_codebook, terms_within
from .documents import as_text as _as_text
from .documents import han_only, measure_spans
from .documents import title_of as _title

__all__ = [
    "CONFIDENCE_FEATURES",
    "CodebookClassifier",
    "Decisions",
    "ProblemClassifier",
    "RuleScorer",
    "confidence_features",
    "known_units",
    "make_text_pipeline",
    "measure_classifier",
    "text_features",
]

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


def _load(codebook) -> Codebook:
    """A Codebook, or the one at path ``codebook``; there is no default codebook."""
    if isinstance(codebook, Codebook):
        return codebook
    if codebook is None:
        raise ValueError("no codebook: pass a Codebook or the path of one (e.g. config.CODEBOOK_PATH)")
    return load_codebook(codebook)


class RuleScorer(TransformerMixin, BaseEstimator):
    """Codebook rule scores of documents (first line = title) as features.

    Parameters
    ----------
    codebook : path-like or Codebook
        Required (None fails at ``fit``). A path is read at ``fit``; the codebook is kept (``codebook_``).
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

    def occurrences(self, X) -> list[list[tuple[int, str]]]:
        """The rule terms' occurrences in each document (:meth:`compare.codebook.Codebook.occurrences`): one pass
        of the term index per document, which :meth:`score` and the measures' codes then read."""
        check_is_fitted(self, "codebook_")
        return [self.codebook_.occurrences(_as_text(doc)) for doc in X]

    def score(self, X, occurrences=None) -> tuple[np.ndarray, list[dict[str, tuple[str, ...]]]]:
        """Raw rule scores and the matched terms.

        Parameters
        ----------
        X : iterable of str
            Documents (first line = title).
        occurrences : list, optional
            :meth:`occurrences` of ``X`` when already found.

        Returns
        -------
        scores : ndarray of shape (n_documents, n_codes)
        terms : list of dict
            Per document, ``{code: matched terms}`` for the codes with a positive score.
        """
        check_is_fitted(self, "codebook_")
        X = [_as_text(doc) for doc in X]
        occurrences = self.occurrences(X) if occurrences is None else occurrences
        rows, terms = [], []
        for doc, occ in zip(X, occurrences, strict=True):
            head = self.codebook_.score_terms(terms_within(occ, 0, len(_title(doc))))
            full = self.codebook_.score_terms(frozenset(map(itemgetter(1), occ)))
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
    tokenizer, C: float = 1.0, word_ngram_range=(1, 2), char_ngram_range=(2, 4), min_df: int = 2
) -> Pipeline:
    """The supervised part: word + character TF-IDF into a class-balanced LogisticRegression.

    Parameters
    ----------
    tokenizer : callable
        The word tokenizer, e.g. ``compare.study.default_study().tokenizer`` (bundled dictionary and stopwords).
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
    if tokenizer is None:
        raise ValueError("make_text_pipeline needs a tokenizer (e.g. compare.study.default_study().tokenizer)")
    tok = tokenizer
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


# -- the text model's features, computed from tokens and code points in NumPy ------------------------------
def _plain_word_vectorizer(vec) -> bool:
    """A fitted TfidfVectorizer that only splits its input with its tokenizer and joins word n-grams."""
    return (vec.analyzer == "word" and vec.tokenizer is not None and vec.preprocessor is None
            and not vec.lowercase and vec.strip_accents is None and vec.stop_words is None
            and not vec.binary and vec.input == "content")


def _plain_char_vectorizer(vec) -> bool:
    """A fitted ``char_wb`` TfidfVectorizer over :func:`compare.documents.han_only`, n-grams of 2 to 4."""
    lo, hi = vec.ngram_range
    return (vec.analyzer == "char_wb" and vec.preprocessor is han_only and 1 <= lo <= hi <= 4
            and not vec.binary and vec.input == "content")


def _word_counts(vec, docs: list[str]):
    """The word n-gram counts of ``docs`` in ``vec``'s vocabulary (what ``CountVectorizer.transform`` gives).

    The tokens come from the vectorizer's tokenizer, which reads a segmentation the per-file stage already
    made (:class:`compare.tokens.JiebaTokenizer`'s caches) instead of segmenting again.
    """
    from scipy import sparse

    voc, tok = vec.vocabulary_, vec.tokenizer
    lo, hi = vec.ngram_range
    rows, cols = [], []
    for doc in docs:
        words = tok(doc)
        found = [] if lo > 1 else [c for c in map(voc.get, words) if c is not None]
        for n in range(max(lo, 2), hi + 1):
            grams = map(" ".join, zip(*(words[k:] for k in range(n)), strict=False))  # the n-grams, made in C
            found += [c for c in map(voc.get, grams) if c is not None]
        cols.append(found)
        rows.append(len(found))
    col = np.fromiter((c for found in cols for c in found), dtype=np.int64, count=sum(rows))
    row = np.repeat(np.arange(len(docs)), rows)
    return sparse.csr_matrix((np.ones(len(col), dtype=vec.dtype), (row, col)),
                             shape=(len(docs), len(voc)), dtype=vec.dtype)


_CHAR_TABLES: list[tuple[object, dict]] = []  # (fitted vectorizer, {n: (index of packed n-grams, their columns)})


def _char_tables(vec) -> dict[int, tuple[object, np.ndarray]]:
    """``vec``'s n-gram vocabulary per length as a hash index of 64-bit keys (16 bits per character), made once.

    pandas' ``Index.get_indexer`` looks the keys up in a hash table: six times as fast as ``searchsorted`` in
    the sorted keys, measured on 800,000 keys looked up among 60,000."""
    import pandas as pd

    for v, tables in _CHAR_TABLES:
        if v is vec:
            return tables
    by_n: dict[int, tuple[list, list]] = {}
    for gram, col in vec.vocabulary_.items():
        units = np.frombuffer(gram.encode("utf-16-le"), dtype=np.uint16)
        if len(units) != len(gram):  # beyond the BMP: never made by han_only; leave such a gram out
            continue
        key = 0
        for u in units.tolist():
            key = (key << 16) | u
        by_n.setdefault(len(gram), ([], []))
        by_n[len(gram)][0].append(key)
        by_n[len(gram)][1].append(col)
    tables = {n: (pd.Index(np.array(keys, dtype=np.uint64)), np.array(cols, dtype=np.int64))
              for n, (keys, cols) in by_n.items()}
    _CHAR_TABLES[:] = [*_CHAR_TABLES[-3:], (vec, tables)]
    return tables


def _char_counts(vec, docs: list[str]):
    """The ``char_wb`` n-gram counts of ``docs`` in ``vec``'s vocabulary, for all documents at once.

    ``char_wb`` pads every word of :func:`han_only` with a space on each side; joining the words with one
    space and the documents with a NUL gives every such n-gram, plus n-grams holding an inner space or a NUL,
    which the vocabulary never contains. Each n-gram is packed into an integer (16 bits per character) and
    looked up in the hash index of the vocabulary's keys (:func:`_char_tables`).
    """
    from scipy import sparse

    texts = [" " + " ".join(han_only(d).split()) + " " for d in docs]
    units = np.frombuffer("\0".join(texts).encode("utf-16-le"), dtype=np.uint16).astype(np.uint64)
    doc_of = np.repeat(np.arange(len(docs)), [len(t) + 1 for t in texts])[: len(units)]
    rows, cols = [], []
    lo, hi = vec.ngram_range
    for n, (keys, colmap) in _char_tables(vec).items():
        if not lo <= n <= hi or len(units) < n or not len(keys):
            continue
        packed = np.zeros(len(units) - n + 1, dtype=np.uint64)
        for k in range(n):
            packed = (packed << np.uint64(16)) | units[k:len(units) - n + 1 + k]
        at = keys.get_indexer(packed)
        hit = at >= 0
        rows.append(doc_of[: len(packed)][hit])
        cols.append(colmap[at[hit]])
    row = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    col = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
    return sparse.csr_matrix((np.ones(len(col), dtype=vec.dtype), (row, col)),
                             shape=(len(docs), len(vec.vocabulary_)), dtype=vec.dtype)


def _largest(values: np.ndarray, names: np.ndarray, k: int) -> list[tuple[float, str]]:
    """The ``k`` largest ``(value, name)``, largest first and ties by name: what sorting them all gives,
    sorting only the candidates at or above the k-th largest value."""
    if len(values) > k > 0:
        keep = values >= np.partition(values, len(values) - k)[len(values) - k]
        values, names = values[keep], names[keep]
    top = sorted(zip(values.tolist(), names.tolist(), strict=True), key=lambda v: (-v[0], v[1]))
    return top[:k] if k > 0 else []


def text_features(features, X: list[str]):
    """``features.transform(X)`` of the text model's FeatureUnion (:func:`make_text_pipeline`), the same matrix.

    The word and character vectorizers of :func:`make_text_pipeline` are computed here: word n-grams looked up
    in the vocabulary from the tokenizer's tokens, character n-grams packed into integers and looked up in
    NumPy, then each vectorizer's own fitted TF-IDF step. Any other FeatureUnion goes through scikit-learn.
    """
    from scipy import sparse

    steps = dict(features.transformer_list)
    if (set(steps) != {"word", "char"} or features.transformer_weights or not len(X)
            or not _plain_word_vectorizer(steps["word"]) or not _plain_char_vectorizer(steps["char"])):
        return features.transform(X)
    X = [_as_text(d) for d in X]
    parts = {"word": _word_counts(steps["word"], X), "char": _char_counts(steps["char"], X)}
    out = []
    for name, _ in features.transformer_list:
        counts = parts[name]
        counts.sum_duplicates()  # also sorts the indices, as CountVectorizer does
        out.append(steps[name]._tfidf.transform(counts, copy=False))  # the vectorizer's own fitted TF-IDF
    return sparse.hstack(out).tocsr()


@dataclass
class Decisions:
    """What :meth:`CodebookClassifier.decide` found for a list of documents (row ``i`` is document ``i``)."""

    docs: list[str]
    primary: list            # the primary code, None where nothing scored
    secondary: list          # the secondary codes, highest support first
    blend: np.ndarray        # blended scores (documents × codes of ``classes_``)
    model: np.ndarray        # the text model's probabilities
    raw: np.ndarray          # raw rule scores
    terms: list              # {code: matched terms}
    confidence: np.ndarray
    reasons: list            # why a document needs review ("" when it does not)
    features: list           # [(feature, contribution)] of the primary code
    measure_codes: list
    outside: np.ndarray      # whether the document's unit is outside the codebook's sector


class CodebookClassifier(ClassifierMixin, BaseEstimator):
    """Codebook rules blended with a word/character TF-IDF LogisticRegression (see the module docstring).

    Parameters
    ----------
    codebook : path-like or Codebook
        Required (e.g. ``load_codebook(config.CODEBOOK_PATH)``); None fails at ``fit``.
    tokenizer : callable, optional
        jieba tokenizer of the word features (:class:`compare.tokens.JiebaTokenizer`); required unless
        ``rule_weight == 1`` (no model is fitted).
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
    calibrate : bool
        Fit the confidence calibrator (``calibrator_``) on out-of-fold predictions of the training data
        (5-fold); without it (or without a model) the confidence is the blended score of the primary code.
    review_threshold : float
        A problem whose confidence is below this ``needs_review``.
    model_unsure : float
        A problem no rule matches ``needs_review`` when the model's top probability is below this.

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
        :func:`compare.training.train_model`).
    calibrator_ : sklearn.pipeline.Pipeline or None
        P(primary code right | :data:`CONFIDENCE_FEATURES`): StandardScaler → LogisticRegression, fitted on
        out-of-sample predictions (held-out groups of the training data, plus the ``calibration``
        statements given to :meth:`fit`); None: not calibrated.
    calibration_info_ : dict
        How many out-of-sample predictions the calibrator saw (``n``, ``n_training_folds``,
        ``n_statements``) and how many of them were wrong (``errors``).

    Examples
    --------
    >>> docs, y, groups = training_data(corpus, labels)             # doctest: +SKIP
    >>> clf = ProblemClassifier(codebook, tokenizer).fit(docs, y)  # doctest: +SKIP
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
        calibrate: bool = True,
        review_threshold: float = 0.7,
        model_unsure: float = 0.5,
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
        self.calibrate = calibrate
        self.review_threshold = review_threshold
        self.model_unsure = model_unsure

    # -- fitting -------------------------------------------------------------------------------------------
    def fit(self, X, y=None, groups=None, agency=None, calibration=None):
        """Fit on documents ``X`` (first line = title) and codes ``y``.

        Parameters
        ----------
        X : list of str
        y : array-like of str, optional
            Codes of the codebook; required unless ``rule_weight == 1``.
        groups : array-like, optional
            The group (region) of every document: the confidence is then calibrated on leave-one-group-out
            predictions of the training documents (else 5-fold).
        agency : str or sequence of str, optional
            The unit of every training document (:meth:`outside_sector`), for those predictions.
        calibration : tuple (documents, codes, agencies), optional
            Further labelled statements the confidence is calibrated on, coded by the fitted classifier
            (they are not used to fit it): see :func:`compare.training.calibration_set`.

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
        self.calibrator_ = None
        self.calibration_info_ = {}
        if self.calibrate and self.pipeline_ is not None:
            self.calibrator_, self.calibration_info_ = _fit_calibrator(self, X, y, groups, agency, calibration)
        return self

    # -- scores --------------------------------------------------------------------------------------------
    def _model_proba(self, X) -> tuple[np.ndarray, object]:
        """The model's probabilities (columns ``classes_``) and its feature matrix (None without a model)."""
        out = np.zeros((len(X), len(self.classes_)))
        if self.pipeline_ is None or not len(X):
            return out, None
        with threadpool_limits(1, user_api="blas"):
            # the two steps by hand, so explain() reuses the features instead of transforming X again
            M = text_features(self.pipeline_.named_steps["features"], X)
            proba = self.pipeline_.named_steps["clf"].predict_proba(M)
        cols = [int(np.flatnonzero(self.classes_ == c)[0]) for c in self.model_classes_]
        out[:, cols] = proba
        return out, M

    def outside_sector(self, agency, n: int) -> np.ndarray:
        """Which of ``n`` documents come from units outside the codebook's sector (see
        :class:`compare.codebook.Sector`); all False for a codebook without a sector or without ``agency``.

        Parameters
        ----------
        agency : str or sequence of str, optional
            The unit of every document (a report's ``agency``, else its ``issuer``), or one for all.
        n : int
        """
        sector = getattr(self.rules_.codebook_, "sector", None)
        if sector is None or agency is None:
            return np.zeros(n, dtype=bool)
        units = [agency] * n if isinstance(agency, str) else list(agency)
        if len(units) != n:
            raise ValueError(f"{n} documents but {len(units)} agencies")
        return np.array([not sector.covers(u) for u in units], dtype=bool)

    def _line_of_business(self, A: np.ndarray, out: np.ndarray) -> np.ndarray:
        """``A`` (documents × codes) with the field codes' mass of the ``out`` rows moved to ``other_units``."""
        if not out.any():
            return A
        sector = self.rules_.codebook_.sector
        idx = {c: i for i, c in enumerate(self.classes_)}
        fields = [idx[c] for c in sector.field_codes]
        A = A.copy()
        rows = np.flatnonzero(out)
        A[rows, idx[sector.other_units]] += A[np.ix_(rows, fields)].sum(axis=1)
        A[np.ix_(rows, fields)] = 0
        return A

    def _outside_model(self, P: np.ndarray, out: np.ndarray, fired: np.ndarray) -> np.ndarray:
        """The model's probabilities for documents of units outside the sector: where a rule matched, the
        field codes' mass is dropped and the rest renormalised (the model, trained on the sector, says
        nothing about which other code applies); where none matched, it goes to ``other_units``."""
        P = self._line_of_business(P, out & ~fired)
        rows = np.flatnonzero(out & fired)
        if not len(rows):
            return P
        fields = [int(np.flatnonzero(self.classes_ == c)[0]) for c in self.rules_.codebook_.sector.field_codes]
        P = P.copy()
        P[np.ix_(rows, fields)] = 0
        total = P[rows].sum(axis=1, keepdims=True)
        P[rows] = np.divide(P[rows], total, out=np.zeros_like(P[rows]), where=total > 0)
        return P

    def _scores(self, X, agency=None, occurrences=None):
        """Blended scores and their parts (module docstring), with the sector boundary applied.

        For a document of a unit outside the codebook's sector the field codes' rule scores go to the
        sector's ``other_units`` code, and so do the model's field probabilities when no rule matches (the
        rule share of ``other_units`` is then 1: its own line of business, DESIGN.md §4; the returned raw
        rule scores stay 0 there); when a rule matches, the model's field probabilities are dropped and the
        rest renormalised (:meth:`_outside_model`).
        """
        check_is_fitted(self, "classes_")
        X = [_as_text(d) for d in X]
        raw, terms = self.rules_.score(X, occurrences)
        out = self.outside_sector(agency, len(X))
        raw = self._line_of_business(raw, out)
        evidence = raw
        if out.any():  # no rule at all: the rule share of other_units is 1 (raw stays 0: no rule matched)
            other = int(np.flatnonzero(self.classes_ == self.rules_.codebook_.sector.other_units)[0])
            evidence = raw.copy()
            evidence[out & (raw.sum(axis=1) == 0), other] = 1.0
        total = evidence.sum(axis=1, keepdims=True)
        shares = np.divide(evidence, total, out=np.zeros_like(evidence), where=total > 0)
        model, M = self._model_proba(X)
        model = self._outside_model(model, out, raw.sum(axis=1) > 0)
        if self.pipeline_ is None:
            blend = shares
        else:
            w = self.rule_weight
            blend = np.where(total > 0, (1 - w) * model + w * shares, model)
        return blend, model, shares, raw, terms, M

    def confidence(self, blend: np.ndarray, model: np.ndarray, shares: np.ndarray, raw: np.ndarray,
                   known: np.ndarray | None = None) -> np.ndarray:
        """Calibrated probability that each primary code is right (module docstring, ``calibrator_``).

        Parameters
        ----------
        blend, model, shares, raw : ndarray
            The blended scores, the model's probabilities, the rule shares and the raw rule scores of the
            same documents (:meth:`_scores`).
        known : ndarray of bool, optional
            Whether each document's unit is known (an ``agency`` was given); default all False.
        """
        feats = confidence_features(blend, model, shares, raw, known)
        cal = getattr(self, "calibrator_", None)
        if cal is None or not len(feats):
            return blend.max(axis=1) if len(blend) else np.zeros(0)
        if getattr(cal, "n_features_in_", feats.shape[1]) != feats.shape[1]:  # saved with other signals
            return blend.max(axis=1)
        return cal.predict_proba(feats)[:, 1]

    def review(self, blend: np.ndarray, model: np.ndarray, shares: np.ndarray, raw: np.ndarray,
               outside: np.ndarray | None = None, known: np.ndarray | None = None) -> tuple[np.ndarray, list[str]]:
        """Confidence, and why a problem needs review ("" when it does not).

        A problem needs review when its confidence is below ``review_threshold``, or when no rule of any
        code matched and the model's top probability is below ``model_unsure`` (for a unit outside the
        codebook's sector the code is then its line of business, ``other_units``, and the reason says so).
        """
        conf = self.confidence(blend, model, shares, raw, known)
        outside = np.zeros(len(blend), dtype=bool) if outside is None else outside
        unsure = getattr(self, "model_unsure", 0.5)
        threshold = getattr(self, "review_threshold", 0.6)
        reasons = []
        for c, m, r, o in zip(conf, model, raw, outside, strict=True):
            if r.max() <= 0 and m.max() < unsure:
                lob = "; coded as the unit's line of business (outside the codebook's sector)" if o else ""
                reasons.append(f"no codebook rule matched and the model is unsure (p={m.max():.2f}){lob}")
            elif c < threshold:
                reasons.append(f"low confidence ({c:.2f} < {threshold:.2f})")
            else:
                reasons.append("")
        return conf, reasons

    def predict_proba(self, X, agency=None) -> np.ndarray:
        """Blended scores, one column per code of ``classes_`` (rows sum to 1; to 0 for a rules-only
        classifier on a text no rule matches).

        Parameters
        ----------
        X : list of str
        agency : str or sequence of str, optional
            The unit each document comes from (:meth:`outside_sector`).

        Returns
        -------
        ndarray of shape (n_documents, n_codes)
        """
        return self._scores(X, agency)[0]

    def predict(self, X, agency=None) -> np.ndarray:
        """Primary code of every document (``None`` where a rules-only classifier finds no rule)."""
        proba = self.predict_proba(X, agency)
        out = self.classes_[proba.argmax(axis=1)].astype(object) if len(proba) else np.array([], dtype=object)
        out[proba.max(axis=1) <= 0] = None
        return out

    def measure_codes(self, X, occurrences=None) -> list[list[str | None]]:
        """The top rule code of every measure of every document (None for a measure no rule matches).

        The body (after the title line) is cut at the ``一是/二是…`` ordinals; a body without them is one
        measure. Text before the first ordinal (a heading) is not a measure. ``occurrences``: the rule terms'
        occurrences in ``X`` (:meth:`RuleScorer.occurrences`) when already found.
        """
        check_is_fitted(self, "classes_")
        X = [_as_text(doc) for doc in X]
        occurrences = self.rules_.occurrences(X) if occurrences is None else occurrences
        codebook, codes = self.rules_.codebook_, self.rules_.codes_
        out = []
        for doc, occ in zip(X, occurrences, strict=True):
            per = []
            for a, b in measure_spans(doc):  # a measure is scored as a document of its own, with no title
                found = codebook.score_terms(terms_within(occ, a, b))
                row = np.array([found[c].score for c in codes])
                per.append(self.classes_[row.argmax()] if row.max() > 0 else None)
            out.append(per)
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
        M = (text_features(feats, X) if M is None else M).tocsr()
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
            out.append([(f, round(v, 4)) for v, f in _largest(sums, labels[uniq], self.n_features)])
        return out

    def decide(self, X, agency=None) -> Decisions:
        """The decisions on documents and their evidence as arrays and lists (what :meth:`explain` shows as one
        dict per document, and :func:`compare.coding.evidence_columns` as table columns).

        Parameters
        ----------
        X : list of str
        agency : str or sequence of str, optional
            As in :meth:`explain`.
        """
        docs = [_as_text(d) for d in X]
        occurrences = self.rules_.occurrences(docs)  # one pass of the term index: the documents' and measures' rules
        blend, model, shares, raw, terms, M = self._scores(docs, agency, occurrences)
        outside = self.outside_sector(agency, len(docs))
        conf, reasons = self.review(blend, model, shares, raw, outside, known_units(agency, len(docs)))
        top = blend.argmax(axis=1) if len(docs) else np.zeros(0, dtype=int)
        coded = blend.max(axis=1) > 0 if len(docs) else np.zeros(0, dtype=bool)
        primary = [self.classes_[j] if ok else None for j, ok in zip(top.tolist(), coded.tolist(), strict=True)]
        per_measure = self.measure_codes(docs, occurrences) if self.secondary == "measures" else [[] for _ in docs]
        return Decisions(docs=docs, primary=primary, secondary=self.secondary_codes(docs, blend, per_measure),
                         blend=blend, model=model, raw=raw, terms=terms, confidence=np.asarray(conf),
                         reasons=reasons, features=self._top_features(docs, primary, M),
                         measure_codes=per_measure, outside=outside)

    def explain(self, X, decimals: int | None = 4, agency=None):
        """Decisions with their evidence.

        Parameters
        ----------
        X : str or list of str
            A document (first line = title) or several.
        decimals : int, optional
            Round the scores (None: full precision).
        agency : str or sequence of str, optional
            The unit each document comes from (a report's ``agency`` or ``issuer``): a unit outside the
            codebook's sector has its line-of-business problems coded ``other_units`` (:meth:`_scores`).

        Returns
        -------
        dict or list of dict
            Per document: ``primary_code``, ``codes`` (secondary), ``scores`` (blended, every code),
            ``model_proba``, ``rule_scores`` (raw rule scores of the codes that matched), ``matched_terms``
            (``{code: [terms]}``), ``top_features`` (``[(feature, contribution)]`` for the primary code),
            ``measure_codes`` (the rule code of each measure, with ``secondary="measures"``), ``title``,
            ``confidence`` (:meth:`confidence`), ``needs_review`` and ``review_reason`` (:meth:`review`),
            ``outside_sector``.
        """
        single = isinstance(X, str)
        d = self.decide([X] if single else X, agency)

        def rnd(v):
            return float(v) if decimals is None else round(float(v), decimals)

        out = []
        for i, doc in enumerate(d.docs):
            out.append(
                {
                    "title": _title(doc),
                    "primary_code": d.primary[i],
                    "codes": d.secondary[i],
                    "scores": {c: rnd(v) for c, v in zip(self.classes_, d.blend[i], strict=True)},
                    "model_proba": {c: rnd(v) for c, v in zip(self.classes_, d.model[i], strict=True)},
                    "rule_scores": {c: float(v) for c, v in zip(self.classes_, d.raw[i], strict=True) if v > 0},
                    "matched_terms": {c: list(t) for c, t in d.terms[i].items()},
                    "top_features": d.features[i],
                    "measure_codes": d.measure_codes[i],
                    "confidence": rnd(d.confidence[i]),
                    "needs_review": bool(d.reasons[i]),
                    "review_reason": d.reasons[i],
                    "outside_sector": bool(d.outside[i]),
                }
            )
        return out[0] if single else out


#: The signals the confidence is calibrated on (:func:`confidence_features`), in column order.
CONFIDENCE_FEATURES = (
    "blend_top",        # the primary code's blended score
    "blend_margin",     # its margin over the second code
    "rule_margin",      # top rule share minus the second (0 when no rule matched)
    "rule_fired",       # any codebook rule matched
    "rule_strength",    # log(1 + the top raw rule score)
    "model_top",        # the text model's top probability
    "model_entropy",    # the model's entropy over the codes, divided by log(number of codes)
    "agree",            # the rules' top code is the model's top code (a rule matched)
    "unit_known",       # the document's unit (agency) was given
)


def known_units(agency, n: int) -> np.ndarray:
    """Whether each of ``n`` documents has a known unit (a non-empty ``agency``)."""
    if agency is None:
        return np.zeros(n, dtype=bool)
    units = [agency] * n if isinstance(agency, str) else list(agency)
    return np.array([isinstance(u, str) and u.strip() != "" for u in units], dtype=bool)


def confidence_features(blend: np.ndarray, model: np.ndarray, shares: np.ndarray, raw: np.ndarray,
                        known: np.ndarray | None = None) -> np.ndarray:
    """Per document, the signals of :data:`CONFIDENCE_FEATURES` (documents × 9)."""
    n = len(blend)
    if not n:
        return np.zeros((0, len(CONFIDENCE_FEATURES)))

    def top2(a):
        s = -np.sort(-a, axis=1)
        return s[:, 0], (s[:, 1] if a.shape[1] > 1 else np.zeros(len(a)))

    b1, b2 = top2(blend)
    r1, r2 = top2(shares)
    fired = raw.max(axis=1) > 0
    p = np.clip(model, 1e-12, 1)
    entropy = -(model * np.log(p)).sum(axis=1) / np.log(max(model.shape[1], 2))
    agree = fired & (shares.argmax(axis=1) == model.argmax(axis=1))
    known = np.zeros(n, dtype=bool) if known is None else np.asarray(known, dtype=bool)
    return np.column_stack([b1, b1 - b2, np.where(fired, r1 - r2, 0.0), fired, np.log1p(raw.max(axis=1)),
                            model.max(axis=1), entropy, agree, known]).astype(float)


def _out_of_sample(clf: CodebookClassifier, X: list[str], y: np.ndarray, groups, agency, folds: int = 5):
    """Confidence features and rightness of held-out predictions of the training documents: one fold per
    group (region) when ``groups`` has two or more, else ``folds``-fold (shuffled, seed 0)."""
    from sklearn.base import clone
    from sklearn.model_selection import KFold, LeaveOneGroupOut

    units = None if agency is None else ([agency] * len(X) if isinstance(agency, str) else list(agency))
    if groups is not None and len(set(groups)) >= 2:
        splits = LeaveOneGroupOut().split(X, y, groups=np.asarray(groups))
    elif len(X) >= 2 * folds:
        splits = KFold(folds, shuffle=True, random_state=0).split(X)
    else:
        return np.zeros((0, len(CONFIDENCE_FEATURES))), np.zeros(0, dtype=bool)
    base = clone(clf).set_params(calibrate=False)
    feats, right = [], []
    for train, test in splits:
        fold = clone(base).fit([X[i] for i in train], y[train])
        unit = None if units is None else [units[i] for i in test]
        blend, model, shares, raw, _, _ = fold._scores([X[i] for i in test], unit)
        feats.append(confidence_features(blend, model, shares, raw, known_units(unit, len(test))))
        right.append(fold.classes_[blend.argmax(axis=1)] == y[test])
    return np.vstack(feats), np.concatenate(right)


def _fit_calibrator(clf: CodebookClassifier, X: list[str], y: np.ndarray, groups=None, agency=None,
                    calibration=None):
    """Platt calibration of the confidence: a LogisticRegression of "the primary code is right" on the
    standardised :data:`CONFIDENCE_FEATURES` of out-of-sample predictions — held-out folds of the training
    documents (:func:`_out_of_sample`) plus the ``calibration`` statements coded by ``clf`` itself.

    Returns the calibrator (None when the predictions are all right or all wrong) and a summary dict.
    """
    from sklearn.preprocessing import StandardScaler

    F, R = _out_of_sample(clf, X, y, groups, agency)
    n_folds = len(R)
    if calibration is not None and len(calibration[0]):
        docs, codes, units = calibration
        blend, model, shares, raw, _, _ = clf._scores(list(docs), list(units))
        F = np.vstack([F, confidence_features(blend, model, shares, raw, known_units(list(units), len(docs)))])
        R = np.concatenate([R, clf.classes_[blend.argmax(axis=1)] == np.asarray(codes, dtype=object)])
    info = {"n": int(len(R)), "n_training_folds": int(n_folds), "n_statements": int(len(R) - n_folds),
            "errors": int((~R).sum())}
    if R.all() or not R.any():
        return None, info
    cal = Pipeline([("scale", StandardScaler()), ("logit", LogisticRegression(C=1.0))]).fit(F, R)
    return cal, info


class ProblemClassifier(CodebookClassifier):
    """:class:`CodebookClassifier` for problem types (the problem codebook); same parameters."""


def measure_classifier(codebook, title_weight: float = 2.0, secondary_threshold: float = 0.3):
    """A fitted rules-only :class:`CodebookClassifier` for measure types.

    Rules only because there are no hand-coded measure labels to train or test a model on; the lead
    phrase (the first line of :func:`compare.documents.measure_documents`) plays the title's part.

    Parameters
    ----------
    codebook : path-like or Codebook
        The measure codebook (e.g. ``load_codebook(config.MEASURE_CODEBOOK_PATH)``).
    title_weight, secondary_threshold : float
        See :class:`CodebookClassifier`.
    """
    return CodebookClassifier(
        _load(codebook),
        rule_weight=1.0,
        title_weight=title_weight,
        secondary="threshold",
        secondary_threshold=secondary_threshold,
    ).fit([])
