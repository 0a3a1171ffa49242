"""The study: every analysis table and every figure of the comparison, from one coded corpus.

The main job (:mod:`compare.build`) and the notebooks call these two functions, so a figure in a notebook is
the figure in ``figures/``. :func:`run_analyses` computes (each entry a tidy DataFrame from
:mod:`compare.analysis` or :mod:`compare.similarity`); :func:`make_figures` only draws them
(:mod:`compare.plots`).
"""

from __future__ import annotations

import pandas as pd

from . import analysis, config, plots, similarity

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


def code_corpus(corpus, model=None, jobs: int | None = 1, cache: bool = True, progress: bool | None = None):
    """Add problem codes (``primary_code``, ``codes``, scores, evidence) and measure types to the corpus tables.

    In ``jobs`` processes and cached per report (:func:`compare.coding.code_tables`); returns the corpus.
    """
    from .coding import code_tables

    corpus.problems, corpus.measures = code_tables(corpus.problems, corpus.measures, model=model, jobs=jobs,
                                                   cache=cache, progress=progress)
    return corpus


def _analysis_defaults(codebook, measure_codebook, tokenizer):
    """The codebooks and tokenizer of the project (``config``) for those not given; no measure codebook file: None."""
    from .codebook import load_codebook
    from .text import default_tokenizer

    if codebook is None:
        codebook = load_codebook(config.CODEBOOK_PATH)
    if measure_codebook is None:
        try:
            measure_codebook = load_codebook(config.MEASURE_CODEBOOK_PATH)
        except FileNotFoundError:
            measure_codebook = None
    return codebook, measure_codebook, tokenizer if tokenizer is not None else default_tokenizer()


def run_analyses(corpus, clusters=None, seed: int = 0, codebook=None, measure_codebook=None,
                 tokenizer=None) -> dict[str, pd.DataFrame]:
    """Every analysis table of the comparison (the corpus must be coded: :func:`code_corpus`).

    Parameters
    ----------
    corpus : compare.tables.Corpus
    clusters : compare.cluster.ClusterResult, optional
        Problem clusters for the recurring themes; computed when not given.
    seed : int
        For the 2-D map and the clustering.
    codebook, measure_codebook : compare.codebook.Codebook, optional
        Default: ``config.CODEBOOK_PATH`` and ``config.MEASURE_CODEBOOK_PATH`` (none when that file is missing).
    tokenizer : callable, optional
        Default: :func:`compare.text.default_tokenizer`.

    Returns
    -------
    dict of str to DataFrame
    """
    from .cluster import cluster_problems, embed_problems

    codebook, measure_codebook, tok = _analysis_defaults(codebook, measure_codebook, tokenizer)
    reports = corpus.reports[corpus.reports.is_report]
    problems = corpus.problems[corpus.problems.report_id.isin(reports.report_id)]
    measures = corpus.measures[corpus.measures.report_id.isin(reports.report_id)]
    mentions = corpus.mentions[corpus.mentions.report_id.isin(reports.report_id)]
    out: dict[str, pd.DataFrame] = {}
    out["type_counts"] = analysis.type_counts(problems, reports, codes="primary", codebook=codebook)
    out["type_counts_all"] = analysis.type_counts(problems, reports, codes="all", codebook=codebook)
    out["recurring_types"] = analysis.recurring_types(problems, reports, codebook=codebook)
    out["measure_type_counts"] = analysis.measure_type_counts(measures, problems, reports,
                                                              codebook=measure_codebook)
    flags = analysis.concreteness(measures, mentions, problems, reports)
    out["concreteness"] = flags
    out["concreteness_by_region"] = analysis.concreteness_by_region(flags)
    out["timeline"] = analysis.timeline(reports)
    out["keyness"] = similarity.keyness(problems, reports, top_n=12, tokenizer=tok)
    out["similar_pairs"] = similarity.similar_pairs(problems, reports, top_n=20, seed=seed, tokenizer=tok)
    out["recycled_text"] = similarity.recycled_text(measures, reports)
    if len(problems) >= 4:
        clusters = clusters or cluster_problems(problems, None, seed=seed, tokenizer=tok)
        assign = clusters.assignments.set_index("id")["kmeans"].reindex(problems.problem_id)
        out["recurring_themes"] = similarity.recurring_themes(problems, reports, assign.to_numpy(),
                                                              clusters.terms("kmeans", 6).to_dict())
        pts = embed_problems(problems, seed=seed, tokenizer=tok)
        region = problems.report_id.map(reports.set_index("report_id").region)
        out["problem_map"] = pts.assign(primary_code=problems.primary_code.to_numpy(), region=region.to_numpy(),
                                        title=problems.title.to_numpy())
    return out


def make_figures(results: dict[str, pd.DataFrame], lang: str = "zh") -> dict[str, object]:
    """Draw every figure of :data:`FIGURES` from :func:`run_analyses` output, in one language.

    Returns
    -------
    dict of str to matplotlib.figure.Figure
        Keyed by the figure's stable file name (without language suffix).
    """
    figs = {}
    for name, (fn, table, kwargs) in FIGURES.items():
        if table not in results or results[table].empty:
            continue
        extra = dict(kwargs)
        if fn == "recurring_matrix" and "recurring_types" in results and not results["recurring_types"].empty:
            extra["order"] = results["recurring_types"]["code"]
        figs[name] = getattr(plots, fn)(results[table], lang=lang, title=TITLES[lang][name], source=SOURCE[lang],
                                        **extra)
    return figs
