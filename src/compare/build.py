"""The main job: ``python -m compare build`` — load → tables → classify → cluster → analysis → figures → notebooks.

Each stage is timed; the summary (reports, problems, measures, errors, seconds per stage) is printed and
written to ``<out>/build_summary.json``. The per-file stage runs in parallel and is cached by content hash,
so a re-run only does new work.
"""

from __future__ import annotations

import json
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from . import config


class _Stages:
    def __init__(self, quiet: bool):
        self.seconds: dict[str, float] = {}
        self.quiet = quiet

    @contextmanager
    def __call__(self, name: str):
        if not self.quiet:
            print(f"[compare] {name} …", file=sys.stderr, flush=True)
        t = time.perf_counter()
        yield
        self.seconds[name] = round(time.perf_counter() - t, 2)


def execute_notebooks(out_dir: Path | None = None, timeout: int = 600, progress: bool | None = None) -> list[Path]:
    """Execute every notebook in ``notebooks/`` (in a fresh kernel, in order) and write it as HTML.

    The committed ``.ipynb`` files carry no outputs; the executed copies go to ``out_dir`` only.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbconvert import HTMLExporter
    from tqdm.auto import tqdm

    out = Path(out_dir or config.REPORTS_HTML_DIR)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    books = sorted(config.NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))
    disable = not (progress if progress is not None else sys.stderr.isatty())
    for nb_path in tqdm(books, desc="notebooks", unit="nb", disable=disable):
        nb = nbformat.read(nb_path, as_version=4)
        NotebookClient(nb, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(config.NOTEBOOKS_DIR)}}).execute()
        html, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
        target = out / f"{nb_path.stem}.html"
        target.write_text(html, encoding="utf-8")
        written.append(target)
    return written


def draw_figures(results_tables: dict, lang: str, figs_dir) -> int:
    """Draw and save every figure of the study in one language; returns how many were written."""
    import matplotlib.pyplot as plt

    from .export import save_figure
    from .study import make_figures

    n = 0
    for name, fig in make_figures(results_tables, lang).items():
        save_figure(fig, f"{name}_{lang}", figs_dir)
        plt.close(fig)
        n += 1
    return n


def build(raw_dir=None, out_dir=None, jobs: int | None = 0, engine: str = "local", scheduler: str | None = None,
          figures: bool = True, notebooks: bool = True, figures_dir=None, quiet: bool = False,
          progress: bool | None = None) -> dict:
    """Run the whole study on a folder of reports.

    Parameters
    ----------
    raw_dir : path, optional
        Reports to load (default ``data/raw``).
    out_dir : path, optional
        Tables go here (default ``data/processed``); analysis tables in its ``tables/`` folder.
    jobs : int
        Worker processes for the per-file stage (0: all cores).
    engine, scheduler : str
        ``"dask"`` with a scheduler address runs the per-file stage on a Dask cluster.
    figures, notebooks : bool
        Draw the figures into ``figures/``; execute the notebooks into HTML under ``reports/``.

    Returns
    -------
    dict
        The summary printed at the end.
    """
    from .export import save_table
    from .parallel import map_files, n_jobs
    from .study import code_corpus, run_analyses
    from .tables import _report_ids, expand_paths, gather

    stage = _Stages(quiet)
    raw = Path(raw_dir or config.RAW_DIR)
    out = Path(out_dir or config.PROCESSED_DIR)
    figs_dir = Path(figures_dir or config.FIGURES_DIR)
    t0 = time.perf_counter()
    with stage("load"):
        paths = expand_paths(raw)
        results = map_files(paths, _report_ids(paths), jobs=jobs, engine=engine, scheduler=scheduler,
                            progress=progress)
        corpus = gather(results)
    with stage("classify"):
        code_corpus(corpus)
    with stage("tables"):
        corpus.save(out)
    results_tables = {}
    with stage("cluster+analysis"):
        if len(corpus.problems):
            results_tables = run_analyses(corpus)
            for name, df in results_tables.items():
                save_table(df, name, out / "tables")
    n_figs = 0
    if figures and results_tables:
        with stage("figures"):
            langs = ("zh", "en")
            if n_jobs(jobs) > 1:  # one process per language: writing PNG/SVG/PDF is CPU-bound
                from concurrent.futures import ProcessPoolExecutor

                with ProcessPoolExecutor(max_workers=min(len(langs), n_jobs(jobs))) as ex:
                    n_figs = sum(ex.map(draw_figures, [results_tables] * len(langs), langs, [figs_dir] * len(langs)))
            else:
                n_figs = sum(draw_figures(results_tables, lang, figs_dir) for lang in langs)
    if notebooks:
        with stage("notebooks"):
            execute_notebooks(progress=progress)
    summary = {
        "reports": int(corpus.reports.is_report.sum()), "documents": len(corpus.reports),
        "problems": len(corpus.problems), "measures": len(corpus.measures), "mentions": len(corpus.mentions),
        "errors": len(corpus.errors), "figures": n_figs, "seconds": stage.seconds,
        "total_seconds": round(time.perf_counter() - t0, 2), "ok": True,
    }
    (out / "build_summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    if not quiet:
        print(f"compare build: {summary['reports']} reports, {summary['problems']} problems, "
              f"{summary['measures']} measures, {summary['errors']} errors, {n_figs} figures "
              f"in {summary['total_seconds']} s", file=sys.stderr)
        print("  seconds per stage: " + ", ".join(f"{k} {v}" for k, v in stage.seconds.items()), file=sys.stderr)
        for _, e in corpus.errors.iterrows():
            print(f"  error: {e.message.splitlines()[0]}", file=sys.stderr)
    return summary
