"""Entry point: the study — defaults resolved once (codebooks, model, tokenizer, cache, folders) and passed down.

:class:`Study` holds what every stage needs; the build, the command line and the notebooks make one with
:meth:`Study.resolve` and call its methods, so a figure in a notebook is the figure the build wrote. The module
functions :func:`load_reports`, :func:`code_corpus`, :func:`run_analyses` and :func:`make_figures` are the same
calls on the default study, for interactive use.
"""

from __future__ import annotations

import os
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
        "04_problem_map": "问题文本的二维分布（t-SNE；颜色为类型，标记为地区）",
        "05_measure_types": "各地区整改措施的类型",
        "06_concreteness": "整改措施的具体程度",
        "07_timeline": "巡察、反馈与整改通报的时间线",
        "08_distinctive_terms": "各地区的特色词（对数似然比）",
    },
    "en": {
        "01_heatmap_region_type": "Problem types by region (share of the region's problems)",
        "02_bars_type_by_region": "Types of problems found by the inspectors, by region",
        "03_recurring_matrix": "Problem types recurring across regions",
        "04_problem_map": "Map of problem texts (t-SNE of LSA; colour: type, marker: region)",
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


@dataclass
class Folders:
    """The folders a notebook works with: the reports, the build's output, and where an export goes."""

    raw: Path
    out: Path
    export: Path

    @classmethod
    def from_env(cls) -> Folders:
        """The folders the build passed (``COMPARE_RAW``/``COMPARE_OUT``/``COMPARE_EXPORT``), else the project's."""
        raw = Path(os.environ.get(ENV_RAW) or config.RAW_DIR)
        out = Path(os.environ.get(ENV_OUT) or config.PROCESSED_DIR)
        export = Path(os.environ.get(ENV_EXPORT) or out / "export")
        return cls(raw, out, export)


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
    _model: object = field(default=None, repr=False)

    @classmethod
    def resolve(cls, codebook_path=None, measure_codebook_path=None, cache_dir=None, cache: bool = True) -> Study:
        """Read the codebooks and make the tokenizer and cache (defaults from :mod:`compare.config`).

        Raises ``ValueError``/``FileNotFoundError`` naming the codebook file when it cannot be read.
        """
        from .cache import Cache
        from .codebook import load_codebook
        from .tokens import JiebaTokenizer

        cb_path = Path(codebook_path or config.CODEBOOK_PATH)
        mcb_path = Path(measure_codebook_path or config.MEASURE_CODEBOOK_PATH)
        store = Cache(Path(cache_dir or config.CACHE_DIR) if cache else None).check()
        tokenizer = JiebaTokenizer(config.USERDICT_PATH, config.STOPWORDS_PATH, cache=store)
        return cls(load_codebook(cb_path), load_codebook(mcb_path), store, tokenizer, cb_path, mcb_path)

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
            from .training import load_model, model_inputs

            inputs = model_inputs(self.codebook_path, config.USERDICT_PATH, config.STOPWORDS_PATH, self.labels_path)
            self._model = load_model(self.model_path, inputs=inputs)
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
        """Read reports into a :class:`compare.corpus.Corpus` (the per-file stage, cached)."""
        from .corpus import expand_paths, read_corpus

        paths = expand_paths(path_or_glob if path_or_glob is not None else config.RAW_DIR)
        return read_corpus(paths, cache=self.cache, tokenizer=self.tokenizer if tokens else None, jobs=jobs,
                           engine=engine, scheduler=scheduler, progress=progress)

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
            model_key=key, progress=progress)
        return corpus

    def analyses(self, corpus, clusters=None, seed: int = 0, unit: str = "report") -> dict[str, pd.DataFrame]:
        """Every analysis table of the comparison (see :func:`run_analyses`), by ``unit``."""
        if not len(corpus.problems):
            return {}
        return _run_analyses(corpus, self.codebook, self.measure_codebook, self.tokenizer, clusters=clusters,
                             seed=seed, unit=unit)

    def figures(self, results: dict[str, pd.DataFrame], lang: str = "zh") -> dict[str, object]:
        return make_figures(results, lang, **self.codebooks())


def _run_analyses(corpus, codebook, measure_codebook, tok, clusters=None, seed: int = 0,
                  unit: str = "report") -> dict[str, pd.DataFrame]:
    from . import analysis, similarity
    from .cluster import cluster_problems, embed_problems

    reports = corpus.reports[corpus.reports.is_report]
    problems = corpus.problems[corpus.problems.report_id.isin(reports.report_id)]
    measures = corpus.measures[corpus.measures.report_id.isin(reports.report_id)]
    mentions = corpus.mentions[corpus.mentions.report_id.isin(reports.report_id)]
    out: dict[str, pd.DataFrame] = {}
    by = {"unit": unit}
    out["type_counts"] = analysis.type_counts(problems, reports, codes="primary", codebook=codebook, **by)
    out["type_counts_all"] = analysis.type_counts(problems, reports, codes="all", codebook=codebook, **by)
    out["recurring_types"] = analysis.recurring_types(problems, reports, codebook=codebook, **by)
    out["measure_type_counts"] = analysis.measure_type_counts(measures, problems, reports,
                                                              codebook=measure_codebook, **by)
    flags = analysis.concreteness(measures, mentions, problems, reports, **by)
    out["concreteness"] = flags
    out["concreteness_by_region"] = analysis.concreteness_by_region(flags)
    out["timeline"] = analysis.timeline(reports)
    out["keyness"] = similarity.keyness(problems, reports, top_n=12, tokenizer=tok, **by)
    out["similar_pairs"] = similarity.similar_pairs(problems, reports, top_n=20, seed=seed, tokenizer=tok, **by)
    out["recycled_text"], out["recycled_by_report"] = similarity.recycled(measures, reports)
    if len(problems) >= 4:
        clusters = clusters or cluster_problems(problems, None, seed=seed, tokenizer=tok)
        assign = clusters.assignments.set_index("id")["kmeans"].reindex(problems.problem_id)
        out["recurring_themes"] = similarity.recurring_themes(problems, reports, assign.to_numpy(),
                                                              clusters.terms("kmeans", 6).to_dict(), **by)
        pts = embed_problems(problems, seed=seed, tokenizer=tok)
        region = problems.report_id.astype(str).map(analysis.units(reports, unit).set_index("report_id").region)
        out["problem_map"] = pts.assign(primary_code=problems.primary_code.to_numpy(), region=region.to_numpy(),
                                        title=problems.title.to_numpy())
    return out


#: Which codebook names the codes of each chart (the others draw no codes).
_CODEBOOK_OF = {"heatmap_region_type": "problems", "bars_type_by_region": "problems", "recurring_matrix": "problems",
                "problem_map": "problems", "bars_measure_types": "measures"}


def make_figures(results: dict[str, pd.DataFrame], lang: str = "zh", codebook=None,
                 measure_codebook=None) -> dict[str, object]:
    """Draw every figure of :data:`FIGURES` from :func:`run_analyses` output, in one language.

    Returns
    -------
    dict of str to matplotlib.figure.Figure
        Keyed by the figure's stable file name (without language suffix).
    """
    from . import plots
    from .codebook import load_codebook

    books = {"problems": codebook or load_codebook(config.CODEBOOK_PATH),
             "measures": measure_codebook or load_codebook(config.MEASURE_CODEBOOK_PATH)}
    figs = {}
    for name, (fn, table, kwargs) in FIGURES.items():
        if table not in results or results[table].empty:
            continue
        extra = dict(kwargs)
        if fn in _CODEBOOK_OF:
            extra["codebook"] = books[_CODEBOOK_OF[fn]]
        if fn == "recurring_matrix" and "recurring_types" in results and not results["recurring_types"].empty:
            extra["order"] = results["recurring_types"]["code"]
        figs[name] = getattr(plots, fn)(results[table], lang=lang, title=TITLES[lang][name], source=SOURCE[lang],
                                        **extra)
    return figs


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


def run_analyses(corpus, clusters=None, seed: int = 0, unit: str = "report") -> dict[str, pd.DataFrame]:
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
        ``"city"``, ``"province"``, ``"admin_level"``, ``"agency"``, ``"year"`` or a column of the reports).
    """
    return default_study().analyses(corpus, clusters=clusters, seed=seed, unit=unit)
