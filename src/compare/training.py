"""Stage: coding — the problem model's training data, fit, save, load, staleness and evaluation.

Everything here takes the corpus, the hand labels, the codebook and the tokenizer as arguments; nothing
loads the bundled reports or labels by itself.

* :func:`training_data` — documents, primary codes and regions of the hand-labelled problems of a corpus;
* :func:`train_model` — fit a :class:`compare.classify.ProblemClassifier` on them and (``path``) save it with
  joblib, atomically; :func:`model_inputs` names the files it was trained from, which the model keeps in
  ``training_info_``;
* :func:`load_model` — the saved model. When the file is missing, unreadable or *stale* (one of the ``inputs``
  files changed since it was trained) it retrains in memory **only** when the caller passes ``training``
  data; otherwise a missing or unreadable model raises, and a stale one is returned with a
  :class:`StaleModelWarning`. A model never retrains itself on the bundled reports while another corpus is
  coded;
* :func:`evaluate_loro` — leave-one-region-out evaluation against the hand labels (:class:`LoroResult`).

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
import sys
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

from .cache import atomic_path
from .classify import ProblemClassifier
from .documents import problem_documents
from .labels import split_codes

__all__ = [
    "LoroResult",
    "StaleModelWarning",
    "Training",
    "calibration_set",
    "evaluate_loro",
    "load_model",
    "model_for_codebook",
    "model_inputs",
    "report_units",
    "save_model",
    "stale",
    "train_model",
    "training_data",
]


class StaleModelWarning(UserWarning):
    """A saved model was trained from other inputs than the current ones and is used as it is."""


class Training(NamedTuple):
    """The arguments of :func:`train_model` that :func:`load_model` retrains with, when it must."""

    corpus: object
    labels: pd.DataFrame
    codebook: object
    tokenizer: object


# -- data -------------------------------------------------------------------------------------------------------
def training_data(corpus, labels: pd.DataFrame):
    """Documents, primary codes and regions of the hand-labelled problems.

    Parameters
    ----------
    corpus : compare.tables.Corpus
        ``problems`` and ``reports`` (for the regions); a coded corpus is fine (its codes are not read).
    labels : pandas.DataFrame
        Hand labels (:func:`compare.labels.load_problem_labels`): ``problem_id``, ``primary_code``,
        ``secondary_codes``; rows without a primary code are ignored.

    Returns
    -------
    docs : list of str
    y : ndarray of str
    frame : pandas.DataFrame
        ``problem_id``, ``report_id``, ``region`` (the report's region, else its id), ``primary_code``,
        ``secondary_codes``, in the order of ``docs``.

    Raises
    ------
    ValueError
        For labels of problems that are not in the corpus.
    """
    lab = labels[labels["primary_code"].astype(str) != ""][["problem_id", "primary_code", "secondary_codes"]]
    problems = corpus.problems.drop(columns=[c for c in lab.columns if c != "problem_id"], errors="ignore")
    df = problems.merge(lab, on="problem_id", how="inner", validate="one_to_one")
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


def report_units(reports: pd.DataFrame) -> dict:
    """``report_id`` → the report's unit (its ``agency``, else its ``issuer``; None when neither is known)."""
    if not len(reports) or "report_id" not in reports:
        return {}
    unit = reports["agency"] if "agency" in reports else pd.Series(None, index=reports.index, dtype=object)
    if "issuer" in reports:
        unit = unit.where(unit.notna() & (unit.astype(str) != ""), reports["issuer"])
    return {r: (u if isinstance(u, str) and u else None) for r, u in zip(reports["report_id"], unit, strict=True)}


def calibration_set(path, codebook=None) -> tuple[list[str], list[str], list[str | None]]:
    """Labelled statements for calibrating the confidence (``resources/labels/calibration_statements.csv``).

    A CSV with ``title``, ``primary_code``, ``agency`` (the unit; empty: unknown) and ``role``. The
    statements were written by the project, not taken from published reports (``resources/labels/README.md``).
    Only the rows whose ``role`` is ``calibration`` are returned: the ``development`` rows are the ones the
    codebook rules may be tuned on and the tests use, so the confidence is calibrated on statements the rules
    were not written for.

    Parameters
    ----------
    path : path-like
    codebook : Codebook, optional
        Statements whose code is not in it are left out (a study with a codebook of its own).

    Returns
    -------
    (documents, codes, agencies)
        Ready for ``CodebookClassifier.fit(calibration=…)``.

    Raises
    ------
    ValueError
        When a column is missing (the message names the file).
    """
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = sorted({"title", "primary_code", "agency"} - set(df.columns))
    if missing:
        raise ValueError(f"{path}: missing column(s) {', '.join(missing)}")
    if "role" in df:
        df = df[df["role"] == "calibration"]
    if codebook is not None:
        df = df[df["primary_code"].isin(list(codebook.ids))]
    units = [a if a.strip() else None for a in df["agency"]]
    return df["title"].tolist(), df["primary_code"].tolist(), units


def _file_sha(path) -> str | None:
    p = Path(path) if path is not None else None
    return hashlib.sha256(p.read_bytes()).hexdigest() if p is not None and p.is_file() else None


def model_inputs(codebook=None, userdict=None, stopwords=None, labels=None,
                 calibration=None) -> dict[str, str | None]:
    """The sha256 of each file a model is trained from (None for a file not given or missing).

    Parameters
    ----------
    codebook, userdict, stopwords, labels : path-like, optional
        E.g. ``config.CODEBOOK_PATH``, ``config.USERDICT_PATH``, ``config.STOPWORDS_PATH``,
        ``config.PROBLEM_LABELS_PATH``.
    calibration : path-like, optional
        The calibration statements (``config.CALIBRATION_PATH``); only stamped when given.

    Returns
    -------
    dict
        ``{"codebook": sha, "userdict": sha, "stopwords": sha, "labels": sha}``: what :func:`train_model`
        stamps into ``training_info_`` and :func:`stale` compares.
    """
    files = {"codebook": codebook, "userdict": userdict, "stopwords": stopwords, "labels": labels}
    if calibration is not None:
        files["calibration"] = calibration
    return {name: _file_sha(path) for name, path in files.items()}


# -- fit, save, load -------------------------------------------------------------------------------------------
def train_model(corpus, labels: pd.DataFrame, codebook, tokenizer, path=None, save: bool = True,
                inputs: dict | None = None, calibration=None, **params) -> ProblemClassifier:
    """Fit the problem classifier on the hand labels and (``save`` and ``path``) write it with joblib.

    Parameters
    ----------
    corpus, labels :
        See :func:`training_data`.
    codebook : Codebook or path-like
        The problem codebook.
    tokenizer : compare.tokens.JiebaTokenizer
        The word tokenizer; it travels inside the model (give one without a disk cache to a model you save).
    path : path-like, optional
        Where to save the model (required with ``save=True``).
    save : bool
    inputs : dict, optional
        :func:`model_inputs` of the files ``codebook``, ``tokenizer`` and ``labels`` came from, kept in
        ``training_info_`` so that :func:`load_model` can tell when the model is stale.
    calibration : tuple, optional
        :func:`calibration_set`: further labelled statements the confidence is calibrated on, together with
        the leave-one-region-out predictions of the labels (never used to fit the model).
    **params
        Further :class:`ProblemClassifier` parameters.

    Returns
    -------
    ProblemClassifier
        With ``training_info_`` (the ``inputs``, the number of training problems and the regions).
    """
    docs, y, frame = training_data(corpus, labels)
    units = frame["report_id"].map(report_units(corpus.reports)).tolist()
    model = ProblemClassifier(codebook=codebook, tokenizer=tokenizer, **params).fit(
        docs, y, groups=frame["region"].astype(str).to_numpy(), agency=units, calibration=calibration)
    model.training_info_ = {
        **(inputs or {}),
        "n_train": len(y),
        "regions": sorted(frame["region"].astype(str).unique()),
    }
    if save:
        if path is None:
            raise ValueError("train_model(save=True) needs the path to save the model at")
        save_model(model, path)
    return model


def save_model(model, path) -> Path:
    """Write a fitted model with joblib (xz-compressed), atomically; returns the path."""
    import joblib

    out = Path(path)
    with atomic_path(out) as tmp:
        joblib.dump(model, tmp, compress=("xz", 3))
    _read_model.cache_clear()
    return out


def stale(model, inputs: dict) -> list[str]:
    """The names of the ``inputs`` (:func:`model_inputs`) that differ from those ``model`` was trained with.

    Inputs that are None (a file not given or missing) are not compared.
    """
    info = getattr(model, "training_info_", {}) or {}
    return [k for k, v in inputs.items() if v is not None and info.get(k) != v]


@lru_cache(maxsize=4)
def _read_model(path: str, mtime_ns: int) -> tuple[ProblemClassifier | None, str | None]:
    """The model saved at ``path`` (cached until the file changes), or None and what is wrong."""
    import joblib

    if mtime_ns < 0:
        return None, f"no trained model at {path}"
    try:
        return joblib.load(path), None
    except Exception as exc:  # an unreadable or incompatible model file
        return None, f"could not load {path} ({exc})"


def load_model(path, inputs: dict | None = None, training: Training | None = None) -> ProblemClassifier:
    """The saved problem classifier at ``path`` (cached until the file changes).

    Parameters
    ----------
    path : path-like
        The model file (``config.PROBLEM_MODEL_PATH`` for the shipped one).
    inputs : dict, optional
        :func:`model_inputs` of the current codebook, dictionary, stopwords and labels; when given, a model
        trained from other ones is *stale*.
    training : Training, optional
        ``(corpus, labels, codebook, tokenizer)``: when the model is missing, unreadable or stale, a model is
        trained on these in memory (with a message on stderr). Without it nothing is ever retrained.

    Returns
    -------
    ProblemClassifier

    Raises
    ------
    FileNotFoundError
        When there is no model at ``path`` and no ``training``.
    ValueError
        When the file cannot be loaded and there is no ``training``.

    Warns
    -----
    StaleModelWarning
        When the model is stale and there is no ``training``: it is returned as it is.
    """
    p = Path(path).resolve()
    model, problem = _read_model(str(p), p.stat().st_mtime_ns if p.is_file() else -1)
    changed = stale(model, inputs) if model is not None and inputs else []
    if changed:
        problem = f"{', '.join(changed)} changed since {p.name} was trained"
    if problem is None:
        return model
    if training is not None:
        print(f"compare: {problem}; training on the fly (run `python -m compare train` to save one)",
              file=sys.stderr)
        return train_model(*training, save=False)
    hint = "run `python -m compare train` to train one"
    if model is None:
        raise (FileNotFoundError if "no trained model" in problem else ValueError)(f"{problem}; {hint}")
    warnings.warn(f"{problem}; using it as it is ({hint} from the current files)", StaleModelWarning,
                  stacklevel=2)
    return model


def model_for_codebook(model, codebook):
    """``model`` when it codes with the codes of ``codebook``; otherwise a rules-only classifier of ``codebook``.

    A study of other units points the build at a codebook of its own (``build --codebook FILE``); a model
    trained on the bundled labels knows other codes, so its problems are coded by the rules of ``codebook``
    alone (with a warning) until labels for the new codes exist (``labels-import``, then ``train``).

    Parameters
    ----------
    model : CodebookClassifier
        A fitted problem classifier.
    codebook : compare.codebook.Codebook
    """
    own = getattr(getattr(model, "rules_", None), "codebook_", None)
    if own is not None and list(own.ids) == list(codebook.ids):
        return model
    warnings.warn(f"the problem model was trained on other codes than {codebook.path}; coding with that "
                  "codebook's rules only (hand-code some problems and run `python -m compare train` for a "
                  "model)", StaleModelWarning, stacklevel=2)
    return ProblemClassifier(codebook, rule_weight=1.0).fit([])


# -- evaluation --------------------------------------------------------------------------------------------------
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

    def tables(self) -> dict[str, pd.DataFrame]:
        """The evaluation as the build's tables: ``evaluation_scores`` (:attr:`scores`), ``evaluation_confusion``
        (long: ``true``, ``predicted``, ``problems``, every pair of codes) and ``evaluation_predictions``."""
        confusion = self.confusion.stack().rename("problems").reset_index()
        return {"evaluation_scores": self.scores, "evaluation_confusion": confusion,
                "evaluation_predictions": self.predictions}

    @classmethod
    def from_tables(cls, tables: dict[str, pd.DataFrame]) -> LoroResult | None:
        """The evaluation back from :meth:`tables` (e.g. the build's, :func:`compare.study.read_analyses`);
        None when there is none (the build found fewer than two reports with hand-coded problems)."""
        if "evaluation_scores" not in tables:
            return None
        long = tables["evaluation_confusion"]
        confusion = (long.pivot(index="true", columns="predicted", values="problems")
                     .reindex(index=pd.unique(long["true"]), columns=pd.unique(long["predicted"])).astype(int))
        confusion.index.name, confusion.columns.name = "true", "predicted"
        return cls(tables["evaluation_scores"], confusion, tables["evaluation_predictions"])


def _secondary_f1(true: list[set], pred: list[set]) -> float:
    tp = sum(len(t & p) for t, p in zip(true, pred, strict=True))
    n_pred = sum(len(p) for p in pred)
    n_true = sum(len(t) for t in true)
    if n_pred + n_true == 0:
        return 1.0
    return 2 * tp / (n_pred + n_true)


def _loro_fold(task):
    """One fold (a runner task): one fit on the other regions; the held-out predictions of the blend and of its
    two parts, and the blend's secondary codes. The model's and the rules' own scores are the blend's parts."""
    base, docs, y, test = task
    clf = clone(base).fit([d for d, t in zip(docs, test, strict=True) if not t], y[~test])
    d_test = [d for d, t in zip(docs, test, strict=True) if t]
    blend, model, shares, _, _, _ = clf._scores(d_test)
    preds = {}
    for method, proba in (("blend", blend), ("model", model), ("rules", shares)):
        pred = clf.classes_[proba.argmax(axis=1)].astype(object)
        pred[proba.max(axis=1) <= 0] = None  # rules alone: no rule matched
        preds[method] = pred
    return list(clf.classes_), preds, [set(s) for s in clf.secondary_codes(d_test, blend)]


def _loro_predictions(base, docs: list[str], y: np.ndarray, regions: np.ndarray, jobs: int | None = 1):
    """Every fold (:func:`_loro_fold`), ``jobs`` at a time; the predictions put back in the problems' order."""
    from .runner import imap

    preds = {m: np.empty(len(y), dtype=object) for m in ("blend", "model", "rules")}
    sec_pred = [set() for _ in y]
    codes: list[str] = []
    folds = [regions == region for region in pd.unique(regions)]
    done = imap(_loro_fold, [(base, docs, y, test) for test in folds], jobs=jobs, progress=False)
    for test, (classes, fold, secondary) in zip(folds, done, strict=True):
        codes = classes  # the codebook's codes, the same in every fold
        for method, pred in fold.items():
            preds[method][test] = pred
        for i, s in zip(np.flatnonzero(test), secondary, strict=True):
            sec_pred[i] = s
    return preds, sec_pred, codes


def _loro_scores(preds: dict, y: np.ndarray, regions: np.ndarray, sec_true: list, sec_pred: list) -> pd.DataFrame:
    """Accuracy, macro-F1 and (blend) secondary-code F1 per method and held-out region, then overall."""
    rows = []
    for method, pred in preds.items():
        for region in [*pd.unique(regions), "overall"]:
            m = np.ones(len(y), bool) if region == "overall" else regions == region
            idx = np.flatnonzero(m)
            rows.append({
                "method": method,
                "region": region,
                "n": int(m.sum()),
                "accuracy": accuracy_score(y[m], pred[m].astype(str)),
                "macro_f1": f1_score(y[m], pred[m].astype(str), average="macro", zero_division=0),
                "secondary_f1": _secondary_f1([sec_true[i] for i in idx], [sec_pred[i] for i in idx])
                if method == "blend" else np.nan,
            })
    return pd.DataFrame(rows)


def evaluate_loro(corpus, labels: pd.DataFrame, codebook, tokenizer, jobs: int | None = 1, **params) -> LoroResult:
    """Leave-one-region-out: train on the other regions, predict the held-out one, for every region.

    Nothing is tuned on the held-out region. Three methods are scored on the same folds: ``blend`` (the
    classifier as configured), ``model`` (the text model alone, ``rule_weight=0``) and ``rules`` (the
    codebook rules alone, ``rule_weight=1``). Note that the rules need no training, so their figure is only
    held out to the extent that the codebook was written without the held-out region's labels.

    Parameters
    ----------
    corpus, labels :
        See :func:`training_data`.
    codebook, tokenizer :
        See :func:`train_model`.
    jobs : int, optional
        Folds fitted at once (:func:`compare.runner.resolve_jobs`); the figures are the same for any ``jobs``.
    **params
        Further :class:`ProblemClassifier` parameters of the blend.

    Returns
    -------
    LoroResult
    """
    docs, y, frame = training_data(corpus, labels)
    regions = frame["region"].astype(str).to_numpy()
    base = ProblemClassifier(codebook=codebook, tokenizer=tokenizer, **params)
    if base.rule_weight in (0, 1):
        raise ValueError("evaluate_loro compares the blend with its parts: use 0 < rule_weight < 1")
    preds, sec_pred, codes = _loro_predictions(base, docs, y, regions, jobs=jobs)
    sec_true = [set(split_codes(s)) for s in frame["secondary_codes"]]
    scores = _loro_scores(preds, y, regions, sec_true, sec_pred)
    cm = confusion_matrix(y, preds["blend"], labels=codes)
    confusion = pd.DataFrame(cm, index=pd.Index(codes, name="true"), columns=pd.Index(codes, name="predicted"))
    predictions = frame[["problem_id", "region"]].assign(
        true=y,
        blend=preds["blend"],
        model=preds["model"],
        rules=preds["rules"],
        true_secondary=[";".join(sorted(s)) for s in sec_true],
        pred_secondary=[";".join(sorted(s)) for s in sec_pred],
    )
    return LoroResult(scores, confusion, predictions)
