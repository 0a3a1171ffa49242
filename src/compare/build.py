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
        self.skipped: list[str] = []
        self.quiet = quiet

    @contextmanager
    def __call__(self, name: str):
        if not self.quiet:
            print(f"[compare] {name} …", file=sys.stderr, flush=True)
        t = time.perf_counter()
        yield
        self.seconds[name] = round(time.perf_counter() - t, 2)


_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")


def _run_notebook(nb_path: Path, out: Path, timeout: int, threads: int | None = None) -> Path:
    import os
    import tempfile

    import nbformat
    from jupyter_client import KernelManager
    from nbclient import NotebookClient
    from nbconvert import HTMLExporter

    nb = nbformat.read(nb_path, as_version=4)
    with tempfile.TemporaryDirectory() as sock:  # local IPC sockets: no TCP ports, no warning about them
        km = KernelManager(kernel_name="python3", transport="ipc", ip=str(Path(sock) / "kernel"))
        env = dict(os.environ)
        if threads:  # kernels side by side: one BLAS/OpenMP thread each, or their spinning threads fight for cores
            env.update({k: str(threads) for k in _THREAD_VARS})
        try:
            NotebookClient(nb, km=km, timeout=timeout,
                           resources={"metadata": {"path": str(config.NOTEBOOKS_DIR)}}).execute(env=env)
        finally:
            if km.has_kernel:
                km.shutdown_kernel(now=True)
    html, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
    target = out / f"{nb_path.stem}.html"
    target.write_text(html, encoding="utf-8")
    return target


def execute_notebooks(out_dir: Path | None = None, timeout: int = 600, progress: bool | None = None,
                      jobs: int | None = 1) -> list[Path]:
    """Execute every notebook in ``notebooks/`` (each in a fresh kernel) and write it as HTML.

    The committed ``.ipynb`` files carry no outputs; the executed copies go to ``out_dir`` only (default
    ``reports/``). With ``jobs`` > 1 that many notebooks run at once (each kernel is its own process).
    Returns the HTML files in notebook order.
    """
    from concurrent.futures import ThreadPoolExecutor

    from tqdm.auto import tqdm

    from .parallel import n_jobs

    out = Path(out_dir or config.REPORTS_HTML_DIR)
    out.mkdir(parents=True, exist_ok=True)
    books = sorted(config.NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))
    disable = not (progress if progress is not None else sys.stderr.isatty())
    workers = max(1, min(n_jobs(jobs), len(books) or 1))
    threads = max(1, n_jobs(0) // workers) if workers > 1 else None
    with ThreadPoolExecutor(max_workers=workers) as ex:
        futures = [ex.submit(_run_notebook, b, out, timeout, threads) for b in books]
        return [f.result() for f in tqdm(futures, desc="notebooks", unit="nb", disable=disable)]


def _stamp(*parts) -> str:
    """A hash of everything an output depends on: the package's code, the data files, and ``parts``."""
    import hashlib

    h = hashlib.sha256()
    for path in sorted(config.PACKAGE_DIR.rglob("*.py")) + sorted(config.PACKAGE_DIR.glob("models/*")):
        h.update(path.name.encode() + path.read_bytes())
    for path in (config.CODEBOOK_PATH, config.MEASURE_CODEBOOK_PATH, config.USERDICT_PATH, config.STOPWORDS_PATH,
                 config.PROBLEM_LABELS_PATH):
        h.update(path.read_bytes() if path.exists() else b"-")
    for part in parts:
        h.update(str(part).encode())
    return h.hexdigest()


class _Stamps:
    """Remembers what each output was made from, so an unchanged output is not made again."""

    def __init__(self, path: Path):
        self.path = path
        try:
            self.data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.data = {}

    def fresh(self, key: str, stamp: str, outputs: list[Path]) -> bool:
        return self.data.get(key) == stamp and bool(outputs) and all(p.exists() for p in outputs)

    def set(self, key: str, stamp: str) -> None:
        self.data[key] = stamp
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(self.data, indent=1), encoding="utf-8")


def draw_figures(results_tables: dict, lang: str, figs_dir) -> int:
    """Draw and save every figure of the study in one language; returns how many were written."""
    import matplotlib.pyplot as plt

    from .cache import Cache
    from .export import save_figure
    from .study import make_figures
    from .theme import use_cache

    use_cache(Cache(config.CACHE_DIR))  # the font's light copy is made once, in the project's cache
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
        code_corpus(corpus, jobs=jobs, progress=progress)
    with stage("tables"):
        corpus.save(out)
    results_tables = {}
    with stage("cluster+analysis"):
        if len(corpus.problems):
            results_tables = run_analyses(corpus)
            for name, df in results_tables.items():
                save_table(df, name, out / "tables")
    n_figs = 0
    corpus_key = ",".join(sorted(corpus.reports.sha256.astype(str)))
    stamps = _Stamps(config.CACHE_DIR / "build_stamps.json")
    fig_stamp = _stamp(corpus_key, figs_dir.resolve())
    fig_files = sorted(figs_dir.glob("0[0-9]_*.png"))
    if figures and results_tables and stamps.fresh("figures", fig_stamp, fig_files):
        n_figs = len(fig_files)
        stage.skipped.append("figures")
    elif figures and results_tables:
        with stage("figures"):
            langs = ("zh", "en")
            if n_jobs(jobs) > 1:  # one process per language: writing PNG/SVG/PDF is CPU-bound
                from concurrent.futures import ProcessPoolExecutor

                with ProcessPoolExecutor(max_workers=min(len(langs), n_jobs(jobs))) as ex:
                    n_figs = sum(ex.map(draw_figures, [results_tables] * len(langs), langs, [figs_dir] * len(langs)))
            else:
                n_figs = sum(draw_figures(results_tables, lang, figs_dir) for lang in langs)
        stamps.set("figures", fig_stamp)
    if notebooks:
        books = sorted(config.NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))
        nb_stamp = _stamp(corpus_key, *(b.read_bytes() for b in books))
        html = [config.REPORTS_HTML_DIR / f"{b.stem}.html" for b in books]
        if stamps.fresh("notebooks", nb_stamp, html):
            stage.skipped.append("notebooks")
        else:
            with stage("notebooks"):
                execute_notebooks(progress=progress, jobs=jobs)
            stamps.set("notebooks", nb_stamp)
    summary = {
        "reports": int(corpus.reports.is_report.sum()), "documents": len(corpus.reports),
        "problems": len(corpus.problems), "measures": len(corpus.measures), "mentions": len(corpus.mentions),
        "errors": len(corpus.errors), "figures": n_figs, "seconds": stage.seconds, "skipped": stage.skipped,
        "total_seconds": round(time.perf_counter() - t0, 2), "ok": True,
    }
    (out / "build_summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    if not quiet:
        print(f"compare build: {summary['reports']} reports, {summary['problems']} problems, "
              f"{summary['measures']} measures, {summary['errors']} errors, {n_figs} figures "
              f"in {summary['total_seconds']} s", file=sys.stderr)
        print("  seconds per stage: " + ", ".join(f"{k} {v}" for k, v in stage.seconds.items()), file=sys.stderr)
        if stage.skipped:
            print(f"  up to date, not redone: {', '.join(stage.skipped)}", file=sys.stderr)
        for _, e in corpus.errors.iterrows():
            print(f"  error: {e.message.splitlines()[0]}", file=sys.stderr)
    return summary
