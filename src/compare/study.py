"""Entry point: the study — defaults resolved once (codebooks, model, tokenizer, cache, folders) and passed down.

:class:`Study` holds what every stage needs; the build, the command line and the notebooks make one with
:meth:`Study.resolve` and call its methods, so a figure in a notebook is the figure the build wrote. The module
functions :func:`load_reports`, :func:`code_corpus`, :func:`run_analyses` and :func:`make_figures` are the same
calls on the default study, for interactive use.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pandas as pd

from . import config

#: figure name → (plot function name, analysis table it draws, keyword arguments)
FIGURES = {
    "01_heatmap_region_type": ("heatmap_region_type", "type_counts", {}),
    "02_bars_type_by_region": ("bars_type_by_region", "type_counts", {}),
    "03_recurring_matrix": ("recurring_matrix", "type_counts", {}),
    "04_problem_map": ("problem_map", "problem_map", {}),
    "05_measure_types": ("bars_measure_types", "measure_type_counts", {}),
    "06_concreteness": ("bars_concreteness", "concreteness_by_region", {}),
    "07_timeline": ("timeline_gantt", "timeline", {}),
    "08_distinctive_terms": ("distinctive_terms", "keyness", {}),
}

TITLES = {
    "zh": {
        "01_heatmap_region_type": "各地区问题类型构成（占本地区问题的比例）",
        "02_bars_type_by_region": "各地区巡察反馈问题的类型",
        "03_recurring_matrix": "跨地区反复出现的问题类型",
        "04_problem_map": "问题文本的二维分布（颜色为问题类型）",
        "05_measure_types": "各地区整改措施的类型",
        "06_concreteness": "整改措施的具体程度",
        "07_timeline": "巡察、反馈与整改通报的时间线",
        "08_distinctive_terms": "各地区的特色词（对数似然比）",
    },
    "en": {
        "01_heatmap_region_type": "Problem types by region (share of the region's problems)",
        "02_bars_type_by_region": "Types of problems found by the inspectors, by region",
        "03_recurring_matrix": "Problem types recurring across regions",
        "04_problem_map": "Map of problem texts (colour: problem type)",
        "05_measure_types": "Types of rectification measures, by region",
        "06_concreteness": "How concrete the claimed measures are",
        "07_timeline": "Inspection, feedback and publication",
        "08_distinctive_terms": "Distinctive terms by region (log-likelihood G²)",
    },
}

SOURCE = {
    "zh": "来源：各局党组巡察整改进展情况通报；compare 解析与编码",
    "en": "Source: inspection-rectification reports of the bureaus; parsed and coded with compare",
}

#: Environment variables through which the build tells the notebooks what to read and where to write.
ENV_RAW, ENV_OUT, ENV_EXPORT = "COMPARE_RAW", "COMPARE_OUT", "COMPARE_EXPORT"
#: Set by the build only when the figures in that folder are its own, drawn from the tables in ``COMPARE_OUT``.
ENV_FIGURES = "COMPARE_FIGURES"
#: The unit the build and the study compare by unless told otherwise (``build --by``; :func:`compare.analysis.units`).
DEFAULT_BY = "place"
#: What ``build --by`` offers besides a column of the reports (:data:`compare.analysis.UNITS`).
BY_CHOICES = ("report", "place", "place_year", "city", "province", "admin_level", "agency", "year")
#: Beside the analysis tables (``OUT/tables``): their names, the unit and the weighting they were made with.
ANALYSES_META = "analyses.json"


@dataclass
class Folders:
    """The folders a notebook works with: the reports, the build's output, where an export goes, and the
    build's figures (None: not known to be drawn from these tables, so a notebook draws its own)."""

    raw: Path
    out: Path
    export: Path
    figures: Path | None = None

    @classmethod
    def from_env(cls) -> Folders:
        """The folders the build passed (``COMPARE_RAW``/``OUT``/``EXPORT``/``FIGURES``), else the project's."""
        raw = Path(os.environ.get(ENV_RAW) or config.RAW_DIR)
        out = Path(os.environ.get(ENV_OUT) or config.PROCESSED_DIR)
        export = Path(os.environ.get(ENV_EXPORT) or out / "export")
        figures = os.environ.get(ENV_FIGURES)
        return cls(raw, out, export, Path(figures) if figures else None)


@dataclass
class Study:
    """The resolved defaults of one study: codebooks, tokenizer, cache and model, passed to every stage."""

    codebook: object
    measure_codebook: object
    cache: object
    tokenizer: object
    codebook_path: Path
    measure_codebook_path: Path
    labels_path: Path = config.PROBLEM_LABELS_PATH
    model_path: Path = config.PROBLEM_MODEL_PATH
    max_chars: int | None = None  # the reader's size limit per file (None: compare.io.DEFAULT_MAX_CHARS)
    _model: object = field(default=None, repr=False)

    @classmethod
    def resolve(cls, codebook_path=None, measure_codebook_path=None, cache_dir=None, cache: bool = True,
                max_chars: int | None = None) -> Study:
        """Read the codebooks and make the tokenizer and cache (defaults from :mod:`compare.config`);
        ``max_chars`` is the reader's size limit per file (a bigger one is an ``errors`` row ``too_large``).

        Raises ``ValueError``/``FileNotFoundError`` naming the codebook file when it cannot be read.
        """
        from .cache import Cache
        from .codebook import load_codebook
        from .tokens import JiebaTokenizer

        _memory_goes_back()
        cb_path = Path(codebook_path or config.CODEBOOK_PATH)
        mcb_path = Path(measure_codebook_path or config.MEASURE_CODEBOOK_PATH)
        store = Cache(Path(cache_dir or config.CACHE_DIR) if cache else None).check()
        tokenizer = JiebaTokenizer(config.USERDICT_PATH, config.STOPWORDS_PATH, cache=store)
        return cls(load_codebook(cb_path), load_codebook(mcb_path), store, tokenizer, cb_path, mcb_path,
                   max_chars=max_chars)

    # ----------------------------------------------------------------------------------------- inputs
    def stamp_inputs(self) -> dict:
        """The files outside the package that the outputs depend on, by content hash."""
        from .cache import digest

        files = {"codebook": self.codebook_path, "measure_codebook": self.measure_codebook_path,
                 "labels": self.labels_path, "model": self.model_path}
        return {k: digest(p.read_bytes() if p.is_file() else b"-") for k, p in files.items()}

    def notebooks(self) -> list[Path]:
        return sorted(config.NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))

    def model(self):
        """The problem classifier saved at :attr:`model_path`, loaded once.

        A model trained under another codebook, dictionary or labels is used with a
        :class:`compare.training.StaleModelWarning` (``python -m compare train`` makes a new one); it is never
        retrained behind the caller's back.
        """
        if self._model is None:
            from .training import load_model, model_for_codebook, model_inputs

            inputs = model_inputs(self.codebook_path, config.USERDICT_PATH, config.STOPWORDS_PATH, self.labels_path)
            self._model = model_for_codebook(load_model(self.model_path, inputs=inputs), self.codebook)
            tok = getattr(self._model, "tokenizer", None)
            if tok is not None and getattr(tok, "dict_hash_", None) == self.tokenizer.dict_hash_:
                tok.cache = self.cache  # the model reads the segmentations the per-file stage stored
        return self._model

    def measure_model(self):
        from .classify import measure_classifier

        return measure_classifier(self.measure_codebook)

    def training(self, corpus):
        """The training inputs for :func:`compare.training.train_model` or ``load_model(training=…)``."""
        from .labels import read_labels
        from .training import Training

        labels = read_labels(self.labels_path, problems=corpus.problems, codebook=self.codebook)
        return Training(corpus, labels[labels["primary_code"] != ""], self.codebook, self.tokenizer)

    def codebooks(self) -> dict:
        return {"codebook": self.codebook, "measure_codebook": self.measure_codebook}

    # ----------------------------------------------------------------------------------------- stages
    def load(self, path_or_glob=None, jobs: int | None = 1, engine: str = "local", scheduler=None,
             progress: bool | None = None, tokens: bool = True):
        """Read reports into a :class:`compare.corpus.Corpus` (the per-file stage, cached).

        Its ``mentions`` and ``spans`` are kept in a new folder of the system's temporary folder (``TMPDIR``),
        read on access and removed with the corpus (:class:`compare.corpus.StoredTable`).
        """
        import tempfile

        from .corpus import expand_paths, read_corpus

        paths = expand_paths(path_or_glob if path_or_glob is not None else config.RAW_DIR)
        return read_corpus(paths, cache=self.cache, tokenizer=self.tokenizer if tokens else None, jobs=jobs,
                           engine=engine, scheduler=scheduler, progress=progress, max_chars=self.max_chars,
                           folder=tempfile.mkdtemp(prefix="compare-tables-"))

    def code(self, corpus, jobs: int | None = 1, progress: bool | None = None, model=None):
        """Add problem codes and measure types to the corpus tables (cached per report); returns the corpus.

        ``model`` replaces the shipped problem model (its codes are then not cached).
        """
        from .cache import digest
        from .coding import code_tables

        key = None
        if model is None:
            model = self.model()
            key = digest(*self.stamp_inputs().values())
        corpus.problems, corpus.measures = code_tables(
            corpus.problems, corpus.measures, model, self.measure_model(), jobs=jobs, cache=self.cache,
            model_key=key, progress=progress, agency=_units(corpus.reports))
        return corpus

    def analyses(self, corpus, clusters=None, seed: int = 0, unit: str = DEFAULT_BY,
                 weighting: str = "pooled", evaluate: bool = True, jobs: int | None = 1,
                 stage=None) -> dict[str, pd.DataFrame]:
        """Every analysis table of the comparison (see :func:`run_analyses`), by ``unit``.

        Every table's ``attrs`` holds ``unit`` and ``weighting`` (pooled problems or the mean of the reports'
        shares, :func:`compare.analysis.type_counts`). With ``evaluate``, where hand labels cover the problems
        of two reports or more (:meth:`evaluation`), also the classifier's leave-one-region-out evaluation
        (``evaluation_scores``, ``evaluation_confusion``, ``evaluation_predictions``:
        :meth:`compare.training.LoroResult.tables`), and the clusters are scored against those labels.
        ``stage``: a context manager per step (``stage("evaluation")``, ``stage("cluster+analysis")``), which
        the build uses to time them; ``jobs``: the evaluation's folds fitted at once.
        """
        from .training import evaluate_loro

        if not len(corpus.problems):
            return {}
        stage = stage or (lambda name: contextlib.nullcontext())
        with stage("evaluation"):
            training = self.evaluation(corpus)[0] if evaluate else None
            evaluation = evaluate_loro(*training, jobs=jobs).tables() if training is not None else {}
        with stage("cluster+analysis"):
            out = _run_analyses(corpus, self.codebook, self.measure_codebook, self.tokenizer, clusters=clusters,
                                seed=seed, unit=unit, weighting=weighting,
                                labels=None if training is None else training.labels)
        out.update(evaluation)
        for df in out.values():
            df.attrs.update(unit=unit, weighting=weighting)
        return out

    def figures(self, results: dict[str, pd.DataFrame], lang: str = "zh", only: list[str] | None = None,
                built: Path | None = None) -> dict[str, object]:
        """The first page of each figure of :data:`FIGURES` drawn from ``results``; ``only`` draws just the
        named ones, which is quicker in a notebook that shows a few.

        ``built``: the folder of the build's figures (``Folders.figures``). A figure whose PNG pages are there
        is shown from them, every page (:class:`compare.views.FigurePages`), instead of drawn again.
        """
        from .views import FigurePages

        names = _figure_names(only)
        shown = {n: FigurePages(pages) for n in names if built is not None and (pages := built_pages(built, n, lang))}
        drawn = make_figures(results, lang, only=[n for n in names if n not in shown], **self.codebooks())
        return {n: shown.get(n, drawn.get(n)) for n in names if n in shown or n in drawn}

    def open_build(self, folders: Folders, unit: str = DEFAULT_BY, note=print,
                   analyses: bool = True) -> tuple[object, dict[str, pd.DataFrame]]:
        """The coded corpus and the analysis tables the build wrote into ``folders.out``, read, not recomputed.

        Without a build there (a notebook run by hand before ``python -m compare build``), they are computed
        from ``folders.raw`` by ``unit`` (the analyses only with ``analyses``), and one line given to ``note``
        (printed) says so.
        """
        from .corpus import Corpus

        try:
            corpus = Corpus.load(folders.out, cache=self.cache, dict_hash=self.tokenizer.dict_hash_)
            return corpus, read_analyses(Path(folders.out) / "tables") if analyses else {}
        except FileNotFoundError as exc:
            note(f"No build in {folders.out} ({exc}); computing from {folders.raw} instead "
                 f"(python -m compare build writes it once).")
        corpus = self.code(self.load(folders.raw))
        return corpus, self.analyses(corpus, unit=unit) if analyses else {}

    def compare(self, corpus, a, b=None, unit: str = DEFAULT_BY, top_n: int = 10, results=None) -> Comparison:
        """Compare unit(s) ``a`` with ``b``, or with every other unit (``b=None``): types, terms and measures.

        ``a`` and ``b`` are unit labels (:func:`compare.analysis.units`), or any text that names exactly one
        unit: the start of its label (``海珠区`` for ``海珠区（广州市）``). ``results``: the build's analysis
        tables, whose concreteness flags of every measure are used when they were made by the same ``unit``
        (instead of finding them again). See :class:`Comparison`.
        """
        from . import analysis, similarity
        from .tokens import problem_tokens

        reports = corpus.reports[corpus.reports.is_report]
        problems = corpus.problems[corpus.problems.report_id.isin(reports.report_id)]
        measures = corpus.measures[corpus.measures.report_id.isin(reports.report_id)]
        labels = list(pd.unique(analysis.units(reports, unit)["region"]))
        a = [find_unit(labels, x) for x in ([a] if isinstance(a, str) else a)]
        b = None if b is None else [find_unit(labels, x) for x in ([b] if isinstance(b, str) else b)]
        types = analysis.compare_units(problems, reports, a, b, codebook=self.codebook, unit=unit)
        terms = similarity.keyness(problems, reports, top_n=top_n, tokenizer=problem_tokens(problems, self.tokenizer),
                                   unit=unit, target=a,
                                   reference=b, negative=True)
        built = (results or {}).get("concreteness")
        if built is not None and built.attrs.get("unit") == unit:
            flags = built
        else:
            flags = analysis.concreteness(measures, corpus.mentions, problems, reports, unit=unit)
        measures_cmp = analysis.compare_concreteness(flags, a, b)
        return Comparison(types.attrs["a"], types.attrs["b"], unit, types, terms, measures_cmp)

    def evaluation(self, corpus):
        """The hand labels of this corpus's problems as :class:`compare.training.Training`, or the reason why not.

        Returns ``(training, None)``, or ``(None, reason)`` — one line saying what the evaluation needs — when
        fewer than two reports of the corpus have hand-coded problems in :attr:`labels_path`, or when its codes
        are not this codebook's (a codebook of another sector).
        """
        from .labels import LabelError, read_labels
        from .training import Training

        try:
            labels = read_labels(self.labels_path, problems=False, codebook=self.codebook)
        except LabelError as exc:
            first = exc.rows[0]["message"] if exc.rows else str(exc)
            return None, (f"No evaluation: {len({r['row'] for r in exc.rows})} row(s) of {self.labels_path.name} do not fit the codebook "
                          f"{self.codebook_path.name} (the first: {first}); hand-code this corpus's problems with "
                          "its codes (python -m compare labels-export SHEET.xlsx, then labels-import).")
        labels = labels[labels["primary_code"] != ""]
        report_of = corpus.problems.set_index("problem_id")["report_id"]
        mine = labels[labels["problem_id"].isin(report_of.index)].copy()
        mine["report_id"] = mine["problem_id"].map(report_of)
        if mine["report_id"].nunique() < 2:
            return None, (f"No evaluation: {self.labels_path.name} codes {len(mine)} of this corpus's "
                          f"{len(report_of)} problems; leaving one report out needs hand codes for the problems "
                          "of at least two reports (python -m compare labels-export SHEET.xlsx, then labels-import).")
        return Training(corpus, mine.reset_index(drop=True), self.codebook, self.tokenizer), None

    def agreement(self, corpus, coder: str = "second", first=None, second=None):
        """Agreement of two codings of this corpus's problems (:func:`compare.labels.agreement`), or the reason
        why not: by default the first coder's labels (:attr:`labels_path`) against coder ``coder``'s
        (``labels-import --coder``); ``first`` / ``second`` name other label files.

        Returns ``(Agreement, None)``, or ``(None, reason)`` — one line — when the second coding is missing or a
        label file does not fit the corpus's problems.
        """
        from .labels import LabelError, agreement, coder_labels_path, read_labels

        first = Path(first) if first is not None else self.labels_path
        second = Path(second) if second is not None else coder_labels_path(self.labels_path, coder)
        if not second.exists():
            return None, (f"No second coding: {second.name} is missing (python -m compare labels-export SHEET.xlsx "
                          f"--blind, then labels-import SHEET.xlsx --coder {coder}).")
        try:
            a, b = (read_labels(f, problems=corpus.problems, codebook=self.codebook) for f in (first, second))
        except LabelError as exc:
            return None, f"No agreement on this corpus: {exc}"
        res = agreement(a, b, self.codebook, names=("first", coder))
        res.summary.attrs["files"] = (first.name, second.name)  # which two codings, for a printed header
        return res, None

def _memory_goes_back() -> None:
    """Let freed memory go back to the system, so a large corpus's peak is its tables and not what was freed.

    * Arrow's buffers (the tables' text columns) come from the system allocator unless
      ``ARROW_DEFAULT_MEMORY_POOL`` names one: Arrow's default, mimalloc, keeps freed pages for reuse.
    * glibc's malloc serves blocks of 64 KiB and more with their own mappings unless ``MALLOC_MMAP_THRESHOLD_``
      is set: the per-report messages from the workers and the chunks of a gather are freed in an order that
      otherwise leaves the heap full of holes it cannot return. Workers forked later inherit the setting.

    Measured on 1,000 reports with two workers, the parent's peak: 626 MB with neither, 600 -> 525 MB from the
    first (with the stored tables), 482 -> 442 MB from the second.
    """
    if not os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        import pyarrow as pa

        pa.set_memory_pool(pa.system_memory_pool())
    if not os.environ.get("MALLOC_MMAP_THRESHOLD_") and sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):  # a C library other than glibc (musl) has no mallopt
            ctypes.CDLL(None).mallopt(-3, 64 * 1024)  # M_MMAP_THRESHOLD


def built_clusters(results: dict[str, pd.DataFrame]):
    """The build's problem clusters as a :class:`compare.cluster.ClusterResult` read from its tables
    (``clusters``, ``cluster_terms``, ``cluster_scores``), for ``metrics_table``, ``terms`` and the assignments
    (the LSA vectors are not kept); None when the build clustered nothing."""
    from .cluster import ClusterResult

    if "clusters" not in results:
        return None
    scores = results["cluster_scores"]
    chosen = scores[scores["k_choice"] != "n_codes"].drop_duplicates("method")
    k = {m: int(v) for m, v in zip(chosen["method"], chosen["k"], strict=True)}
    return ClusterResult("problems", results["clusters"], pd.DataFrame(), k, scores, results["cluster_terms"],
                         X=None, pipeline=None)


def find_unit(labels: list[str], name: str) -> str:
    """The unit label ``name`` stands for: itself, else the one label that starts with it (or holds it).

    Raises ``ValueError`` naming the candidates when there are none or several.
    """
    if name in labels:
        return name
    for test in (str.startswith, str.__contains__):
        found = [x for x in labels if test(x, name)]
        if len(found) == 1:
            return found[0]
        if found:
            raise ValueError(f"{name!r} names several units: {', '.join(found[:10])}")
    shown = ", ".join(labels[:10]) + (" …" if len(labels) > 10 else "")
    raise ValueError(f"no unit {name!r} (units: {shown})")


@dataclass
class Comparison:
    """Units ``a`` against ``b`` (:meth:`Study.compare`).

    Attributes
    ----------
    a, b : list of str
        The unit labels of the two sides (``b``: every other unit when none was given).
    unit : str
        What a unit is (:func:`compare.analysis.units`).
    types : pandas.DataFrame
        :func:`compare.analysis.compare_units`: shares with 95 % Wilson intervals, χ² or Fisher's exact test,
        adjusted standardized residuals, small cells flagged; ``attrs["overall"]`` the χ² of the whole table.
    terms : pandas.DataFrame
        :func:`compare.similarity.keyness` of a against b: the most positive and most negative terms
        (``direction``), place names of the corpus left out.
    measures : pandas.DataFrame
        :func:`compare.analysis.compare_concreteness`: the concreteness flags of the measures, a against b.
    """

    a: list
    b: list
    unit: str
    types: pd.DataFrame
    terms: pd.DataFrame
    measures: pd.DataFrame

    def table(self, lang: str = "zh") -> pd.DataFrame:
        """The rows of the comparison: every type with problems on either side (``of`` = "problems"), then every
        concreteness flag (``of`` = "measures"); ``a`` and ``b`` as "n/total share [95 % interval]"."""
        from .analysis import CONCRETENESS_FLAGS

        types = self.types[(self.types.n_a + self.types.n_b) > 0]
        labels = [*types["name_zh" if lang == "zh" else "name_en"],
                  *(CONCRETENESS_FLAGS[f][0 if lang == "zh" else 1] for f in self.measures["flag"])]
        rows = pd.concat([types, self.measures], ignore_index=True)
        return pd.DataFrame({
            "of": ["problems"] * len(types) + ["measures"] * len(self.measures), "label": labels,
            "a": [_share(r.n_a, r.total_a, r.low_a, r.high_a) for r in rows.itertuples()],
            "b": [_share(r.n_b, r.total_b, r.low_b, r.high_b) for r in rows.itertuples()],
            "test": rows["test"].fillna("-").replace("", "-"), "p": rows["p"], "residual": rows["residual"],
            "small": rows["small"].astype(bool)})

    def _heading(self) -> list[str]:
        rest = f"{len(self.b)} other units" if len(self.b) > 3 else " + ".join(self.b)
        o = self.types.attrs.get("overall", {})
        return [f"{' + '.join(self.a)}  vs  {rest}  (unit: {self.unit}; problems {self.types.total_a.iat[0]}"
                f" vs {self.types.total_b.iat[0]}, pooled)",
                f"types overall: chi2 = {o.get('chi2', float('nan')):.2f}, dof {o.get('dof', 0)}, "
                f"p = {o.get('p', float('nan')):.3g}, cells with expected < 5: {o.get('small_cells', 0):.0%}"]

    def _terms(self, k: int) -> list[str]:
        lines = []
        for direction in ("positive", "negative"):
            t = self.terms[self.terms["direction"] == direction].head(k) if "direction" in self.terms else self.terms
            lines.append(f"terms {direction} (G²): " + ("、".join(f"{x.term} {x.score:+.1f}" for x in t.itertuples())
                                                        or "-"))
        return lines

    def summary(self, lang: str = "zh", k: int = 8) -> str:
        """A summary for a terminal: the sides, the overall test, the types and flags (:meth:`table`), the key
        terms. Its columns line up where a CJK character takes two columns; a notebook shows the HTML of
        the same rows instead (``_repr_html_``)."""
        lines = self._heading()
        head = f"{'a':>22}{'b':>22}{'test':>8}{'p':>8}{'resid':>7}"
        table = self.table(lang)
        for of in ("problems", "measures"):
            lines.append(_pad("types (of problems)" if of == "problems" else "flags (of measures)", 24) + head)
            lines += [_pad(f"  {r.label}", 24) + f"{r.a:>22}{r.b:>22}{r.test:>8}{r.p:>8.3f}{r.residual:>7.2f}"
                      f"{'  small' if r.small else ''}" for r in table[table["of"] == of].itertuples()]
        return "\n".join(lines + self._terms(k))

    def _repr_html_(self, lang: str = "zh", k: int = 8) -> str:
        """The comparison in a notebook: the heading, the rows of :meth:`table` as an HTML table, the terms."""
        from html import escape

        from .views import styled

        def paragraphs(lines: list[str]) -> str:
            return "".join(f"<p>{escape(x)}</p>" for x in lines)

        return (paragraphs(self._heading())
                + styled(self.table(lang).round({"p": 3, "residual": 2})).to_html() + paragraphs(self._terms(k)))


def _share(n: int, total: int, low: float, high: float) -> str:
    return f"{n}/{total} {n / total:.0%} [{low:.0%}–{high:.0%}]" if total else f"{n}/0"


def _pad(text: str, width: int) -> str:
    """``text`` cut or padded to ``width`` terminal columns (a CJK character takes two)."""
    from .names import display_width

    while display_width(text) > width:
        text = text[:-1]
    return text + " " * (width - display_width(text))


def read_analyses(folder) -> dict[str, pd.DataFrame]:
    """The analysis tables a build wrote into ``folder`` (``OUT/tables``: Parquet and :data:`ANALYSES_META`).

    Every table's ``attrs`` holds the ``unit`` and ``weighting`` it was made with. Raises
    ``FileNotFoundError`` naming the folder when the build wrote no such tables.
    """
    import json

    folder = Path(folder)
    try:
        meta = json.loads((folder / ANALYSES_META).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"{folder} holds no analysis tables ({ANALYSES_META} missing)") from None
    out = {}
    for name in meta["tables"]:
        df = pd.read_parquet(folder / f"{name}.parquet")
        df.attrs.update(unit=meta["unit"], weighting=meta["weighting"])
        out[name] = df
    return out


def _units(reports: pd.DataFrame) -> dict:
    """``report_id`` → the report's unit for the coder's sector boundary: its ``agency``, else its ``issuer``."""
    if not len(reports) or "report_id" not in reports:
        return {}
    unit = reports["agency"] if "agency" in reports else pd.Series(None, index=reports.index)
    if "issuer" in reports:
        unit = unit.where(unit.notna() & (unit.astype(str) != ""), reports["issuer"])
    return dict(zip(reports["report_id"], unit, strict=True))


def _run_analyses(corpus, codebook, measure_codebook, tok, clusters=None, seed: int = 0,
                  unit: str = DEFAULT_BY, weighting: str = "pooled", labels=None) -> dict[str, pd.DataFrame]:
    from . import analysis, similarity
    from .cluster import cluster_problems, embed_problems, embed_vectors
    from .tokens import problem_tokens

    reports = corpus.reports[corpus.reports.is_report]
    problems = corpus.problems[corpus.problems.report_id.isin(reports.report_id)]
    measures = corpus.measures[corpus.measures.report_id.isin(reports.report_id)]
    mentions = corpus.mentions[corpus.mentions.report_id.isin(reports.report_id)]
    out: dict[str, pd.DataFrame] = {}
    by = {"unit": unit}
    out["type_counts"] = analysis.type_counts(problems, reports, codes="primary", codebook=codebook,
                                              weighting=weighting, **by)
    out["type_counts_all"] = analysis.type_counts(problems, reports, codes="all", codebook=codebook,
                                                  weighting=weighting, **by)
    out["recurring_types"] = analysis.recurring_types(problems, reports, codebook=codebook, **by)
    out["measure_type_counts"] = analysis.measure_type_counts(measures, problems, reports,
                                                              codebook=measure_codebook, **by)
    flags = analysis.concreteness(measures, mentions, problems, reports, **by)
    out["concreteness"] = flags
    out["concreteness_by_region"] = analysis.concreteness_by_region(flags)
    out["timeline"] = analysis.timeline(reports)
    tok = problem_tokens(problems, tok)  # each problem segmented once, for keyness, pairs, clusters and map
    out["keyness"] = similarity.keyness(problems, reports, top_n=12, tokenizer=tok, **by)
    out["similar_pairs"] = similarity.similar_pairs(problems, reports, top_n=20, seed=seed, tokenizer=tok, **by)
    out["recycled_text"], out["recycled_by_report"] = similarity.recycled(measures, reports)
    if len(problems) >= 4:
        clusters = clusters or cluster_problems(problems, labels, seed=seed, tokenizer=tok)
        out["clusters"], out["cluster_terms"] = clusters.assignments, clusters.top_terms
        out["cluster_scores"] = clusters.scores
        assign = clusters.assignments.set_index("id")["kmeans"].reindex(problems.problem_id)
        out["recurring_themes"] = similarity.recurring_themes(problems, reports, assign.to_numpy(),
                                                              clusters.terms("kmeans", 6).to_dict(), **by)
        ids = problems.problem_id.tolist()
        # the map of the clusters' own LSA vectors when they are of these problems (the same TF-IDF and SVD)
        pts = (embed_vectors(clusters.X, ids, seed=seed).rename(columns={"id": "problem_id"})
               if clusters.assignments["id"].tolist() == ids else embed_problems(problems, seed=seed, tokenizer=tok))
        region = problems.report_id.astype(str).map(analysis.units(reports, unit).set_index("report_id").region)
        out["problem_map"] = pts.assign(primary_code=problems.primary_code.to_numpy(), region=region.to_numpy(),
                                        title=problems.title.to_numpy())
    return out


#: Which codebook names the codes of each chart (the others draw no codes).
_CODEBOOK_OF = {"heatmap_region_type": "problems", "bars_type_by_region": "problems", "recurring_matrix": "problems",
                "problem_map": "problems", "bars_measure_types": "measures"}

#: Units (rows, columns or panels) a page of each figure holds; beyond, the figure is split into pages.
PAGE_UNITS = {"01_heatmap_region_type": 45, "02_bars_type_by_region": 40, "03_recurring_matrix": 30,
              "05_measure_types": 40, "06_concreteness": 45, "07_timeline": 40, "08_distinctive_terms": 9}
#: Pages the build writes of a figure at most (``build --max-pages``); the units beyond them are in the tables
#: (and a note on the last page says so). Three pages hold 135 units of the heatmap and 120 of the bars.
MAX_PAGES = 3
#: The keyword that sets a chart's units a page (the timeline counts reports, the others units).
_PAGE_ARG = {"timeline_gantt": "max_rows"}


def figure_pages(results: dict[str, pd.DataFrame], max_pages: int = MAX_PAGES) -> list[tuple[str, int, int]]:
    """``(figure name, page, pages)`` of every page the build draws from :func:`run_analyses` output."""
    from .plots import n_pages

    out = []
    for name, (_, table, _) in FIGURES.items():
        df = results.get(table)
        if df is None or df.empty:
            continue
        n = len(df) if table == "timeline" else df["region"].nunique()
        pages = n_pages(n, PAGE_UNITS.get(name), max_pages)
        out += [(name, page, pages) for page in range(1, pages + 1)]
    return out


def figure_file(name: str, page: int, pages: int, lang: str) -> str:
    """The stable file stem of a page: ``01_heatmap_region_type_zh``, or ``…_p2_zh`` when there are pages."""
    return f"{name}_{lang}" if pages == 1 else f"{name}_p{page}_{lang}"


def built_pages(folder: Path, name: str, lang: str) -> list[Path]:
    """The PNG pages of figure ``name`` in ``lang`` that a build wrote into ``folder`` (:func:`figure_file`), in
    page order; empty when there are none."""
    one = Path(folder) / f"{figure_file(name, 1, 1, lang)}.png"
    if one.is_file():
        return [one]
    pages = {int(m.group(1)): p for p in Path(folder).glob(f"{name}_p*_{lang}.png")
             if (m := re.fullmatch(rf"{re.escape(name)}_p(\d+)_{lang}\.png", p.name))}
    return [pages[k] for k in sorted(pages)]


def figure_tables(results: dict[str, pd.DataFrame], name: str) -> dict[str, pd.DataFrame]:
    """The analysis tables figure ``name`` draws from (what a worker drawing it needs, no more)."""
    fn, table, _ = FIGURES[name]
    needed = {table, "recurring_types" if fn == "recurring_matrix" else None,
              "type_counts" if fn == "distinctive_terms" else None}
    return {k: results[k] for k in needed if k in results}


#: Columns of the analysis tables that no figure draws (long texts), left out of :func:`figure_texts`.
_UNDRAWN = {"title", "text", "text_a", "text_b", "title_a", "title_b", "evidence"}


def figure_texts(results: dict[str, pd.DataFrame], codebook=None, measure_codebook=None) -> list[str]:
    """The texts the figures of ``results`` can show: titles, source lines, axis labels, code names and the
    labels in their tables (for :func:`compare.theme.make_subset`; a text missed here is still drawn)."""
    from .analysis import CONCRETENESS_FLAGS
    from .names import AXIS_LABELS
    from .plots import drawn_texts

    texts = [*TITLES["zh"].values(), *TITLES["en"].values(), *SOURCE.values(), "…", *drawn_texts()]
    texts += [t for labels in (AXIS_LABELS, CONCRETENESS_FLAGS) for pair in labels.values() for t in pair]
    for cb in (codebook, measure_codebook):
        if cb is not None:
            texts += [*cb.names("zh").values(), *cb.names("en").values()]
    seen = set()
    for name in FIGURES:
        for key, df in figure_tables(results, name).items():
            if key in seen:
                continue
            seen.add(key)
            for col in df.columns:
                if col not in _UNDRAWN and (df[col].dtype == object or pd.api.types.is_string_dtype(df[col])):
                    texts += [str(v) for v in df[col].dropna().unique()]
    return texts


def draw_figure(results: dict[str, pd.DataFrame], name: str, lang: str = "zh", page: int = 1, codebook=None,
                measure_codebook=None, max_pages: int = MAX_PAGES):
    """Page ``page`` of figure ``name`` (a key of :data:`FIGURES`) from :func:`run_analyses` output."""
    from . import plots

    fn, table, kwargs = FIGURES[name]
    extra = dict(kwargs)
    if fn in _CODEBOOK_OF:
        extra["codebook"] = {"problems": codebook, "measures": measure_codebook}[_CODEBOOK_OF[fn]]
    if fn == "recurring_matrix" and not results.get("recurring_types", pd.DataFrame()).empty:
        extra["order"] = results["recurring_types"]["code"]
    if fn == "distinctive_terms" and "type_counts" in results:
        extra["sizes"] = results["type_counts"].drop_duplicates("region").set_index("region")["n_region"]
    if name in PAGE_UNITS:
        extra.update({_PAGE_ARG.get(fn, "max_units"): PAGE_UNITS[name], "page": page, "max_pages": max_pages})
    return getattr(plots, fn)(results[table], lang=lang, title=TITLES[lang][name], source=SOURCE[lang], **extra)


def make_figures(results: dict[str, pd.DataFrame], lang: str = "zh", codebook=None,
                 measure_codebook=None, only: list[str] | None = None) -> dict[str, object]:
    """Draw the first page of every figure of :data:`FIGURES` (or of those named in ``only``) from
    :func:`run_analyses` output, in one language (the build draws every page: :func:`figure_pages`,
    :func:`draw_figure`).

    Returns
    -------
    dict of str to matplotlib.figure.Figure
        Keyed by the figure's stable file name (without language suffix), in the order of :data:`FIGURES`; a
        figure whose table is missing or empty is left out.
    """
    from .codebook import load_codebook

    names = _figure_names(only)
    books = {"codebook": codebook or load_codebook(config.CODEBOOK_PATH),
             "measure_codebook": measure_codebook or load_codebook(config.MEASURE_CODEBOOK_PATH)}
    return {name: draw_figure(results, name, lang, 1, **books)
            for name, page, _ in figure_pages(results) if page == 1 and name in names}


def _figure_names(only: list[str] | None) -> list[str]:
    """The figures of :data:`FIGURES` named in ``only`` (None: all), in that order; a ValueError for another name."""
    unknown = sorted(set(only or ()) - set(FIGURES))
    if unknown:
        raise ValueError(f"no figure named {', '.join(unknown)}; the figures are {', '.join(FIGURES)}")
    return [n for n in FIGURES if only is None or n in only]


# --------------------------------------------------------------------------------------------- the default study
@lru_cache(maxsize=1)
def default_study() -> Study:
    """The study with every default of :mod:`compare.config` (bundled codebooks, user cache folder)."""
    return Study.resolve()


def load_reports(path_or_glob=None, jobs: int | None = 1, cache: bool = True, progress: bool | None = None,
                 engine: str = "local", scheduler=None, tokens: bool = True):
    """Load rectification reports into tidy tables.

    Parameters
    ----------
    path_or_glob : path, glob pattern or list of them, optional
        A folder (all its non-hidden files), a glob (``data/raw/*.txt``), a file, or a list. Defaults to
        ``config.RAW_DIR``.
    jobs : int
        Worker processes for the per-file work (scikit-learn convention: -1 every core).
    cache : bool
        Reuse per-file results cached by content hash in the cache folder (``config.CACHE_DIR``).
    progress : bool, optional
        A progress bar (default: only when stderr is a terminal).
    engine : {"local", "dask"}
    scheduler : str or distributed.Client, optional
        The Dask scheduler, with ``engine="dask"``.
    tokens : bool
        Tokenise in the per-file stage (the tokens go to the caches, not to the tables).

    Returns
    -------
    compare.corpus.Corpus
        Unreadable or unparsable files are rows of ``corpus.errors``; they never stop the batch.
    """
    study = default_study() if cache else Study.resolve(cache=False)
    return study.load(path_or_glob, jobs=jobs, engine=engine, scheduler=scheduler, progress=progress, tokens=tokens)


def code_corpus(corpus, model=None, jobs: int | None = 1, cache: bool = True, progress: bool | None = None):
    """Add problem codes (``primary_code``, ``codes``, scores, evidence) and measure types to the corpus tables."""
    study = default_study() if cache else Study.resolve(cache=False)
    return study.code(corpus, jobs=jobs, progress=progress, model=model)


def compare(corpus, a, b=None, unit: str = DEFAULT_BY, top_n: int = 10) -> Comparison:
    """Units ``a`` against ``b``, or against every other unit (:meth:`Study.compare` on the default study)."""
    return default_study().compare(corpus, a, b, unit=unit, top_n=top_n)


def run_analyses(corpus, clusters=None, seed: int = 0, unit: str = DEFAULT_BY,
                 weighting: str = "pooled") -> dict[str, pd.DataFrame]:
    """Every analysis table of the comparison (the corpus must be coded: :func:`code_corpus`).

    Parameters
    ----------
    corpus : compare.corpus.Corpus
    clusters : compare.cluster.ClusterResult, optional
        Problem clusters for the recurring themes; computed when not given.
    seed : int
        For the 2-D map and the clustering.
    unit : str
        The unit of comparison (:func:`compare.analysis.units`: ``"report"``, ``"place_year"``, ``"place"``,
        ``"city"``, ``"province"``, ``"admin_level"``, ``"agency"``, ``"year"`` or a column of the reports);
        default :data:`DEFAULT_BY`, a place told apart by its admin code.
    weighting : {"pooled", "mean"}
        The shares of a unit of several reports: its problems pooled, or the mean of its reports' shares.
    """
    return default_study().analyses(corpus, clusters=clusters, seed=seed, unit=unit, weighting=weighting)
