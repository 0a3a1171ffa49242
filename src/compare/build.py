"""The main job: ``python -m compare build`` — load → code → tables → analyses → figures → notebooks.

Outputs are trustworthy:

* everything goes under one :class:`Layout` (``--out OUT``: ``OUT/`` the tables, ``OUT/tables/`` the analysis
  tables, ``OUT/figures/``, ``OUT/reports/``; without ``--out`` the project's usual folders);
* each part (tables, figures, reports) is written into a staging folder first and moved into place only when
  complete, so a build killed at any moment leaves each part as the previous complete one or the new one;
* ``build_summary.json`` is written last. It records, per part, the stamp of what the part was made from
  (reports, codebooks, labels, dictionary, the package's code) and the sha256 of every file. A part is
  "up to date" only when its stamp matches and every file is there with that hash; a build that was killed
  during a move leaves no summary, so everything is redone.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import threading
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from . import config, runner
from .cache import atomic_write, digest, move_tree, source_fingerprint

SUMMARY = "build_summary.json"
PARTS = ("tables", "figures", "reports")
LANGS = ("zh", "en")


class BuildError(Exception):
    """A problem with the build's inputs or outputs, told in one line (names the file and what is wrong)."""


@dataclass(frozen=True)
class Layout:
    """Where a build writes: the tables, the analysis tables, the figures and the HTML reports."""

    tables: Path
    analysis: Path
    figures: Path
    reports: Path

    @classmethod
    def under(cls, out: str | os.PathLike) -> Layout:
        out = Path(out)
        return cls(out, out / "tables", out / "figures", out / "reports")

    @classmethod
    def project(cls) -> Layout:
        """The checkout's folders: data/processed, data/processed/tables, figures, reports."""
        return cls(config.PROCESSED_DIR, config.PROCESSED_DIR / "tables", config.FIGURES_DIR,
                   config.REPORTS_HTML_DIR)

    def folders(self, part: str) -> list[Path]:
        return {"tables": [self.tables, self.analysis], "figures": [self.figures], "reports": [self.reports]}[part]


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


# --------------------------------------------------------------------------------------------- the manifest
def _sha(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def _read_summary(layout: Layout) -> dict:
    try:
        data = json.loads((layout.tables / SUMMARY).read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _intact(previous: dict, part: str, stamp: str, base: Path) -> bool:
    """Whether ``part`` was made from ``stamp`` and every file it wrote is still there, unchanged.

    The manifest's paths are relative to the tables folder (``base``), so a copied output folder stays valid.
    """
    files = previous.get("outputs", {}).get(part)
    if previous.get("stamps", {}).get(part) != stamp or not files:
        return False
    try:
        return all(_sha(base / p) == h for p, h in files.items())
    except OSError:
        return False


class _Staging:
    """A hidden folder beside the tables where a part is written before it is moved into place."""

    def __init__(self, layout: Layout):
        self.layout = layout
        self.root = layout.tables / ".staging"
        shutil.rmtree(self.root, ignore_errors=True)

    def folder(self, part: str, k: int = 0) -> Path:
        path = self.root / part / str(k)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def commit(self, part: str, old_files: dict[str, str]) -> dict[str, str]:
        """Move the staged files of ``part`` into place; remove the part's ``old_files`` it no longer makes.

        Returns the part's manifest: path relative to the tables folder → sha256.
        """
        (self.layout.tables / SUMMARY).unlink(missing_ok=True)  # from here until the summary: not up to date
        written: dict[str, str] = {}
        for k, target in enumerate(self.layout.folders(part)):
            for path in move_tree(self.folder(part, k), target):
                written[os.path.relpath(path, self.layout.tables)] = _sha(path)
        for old in old_files:
            if old not in written:
                (self.layout.tables / old).unlink(missing_ok=True)
        return written

    def clear(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def _write_summary(layout: Layout, summary: dict) -> None:
    atomic_write(layout.tables / SUMMARY, json.dumps(summary, ensure_ascii=False, indent=2))


# --------------------------------------------------------------------------------------------- the parts
def _inputs_stamp(corpus, extra: dict) -> str:
    """Everything the outputs depend on: the package's code and data, the reports, and the given inputs."""
    reports = sorted(zip(corpus.reports.report_id.astype(str), corpus.reports.sha256.astype(str), strict=True))
    errors = sorted(zip(corpus.errors.path.astype(str), corpus.errors.error.astype(str), strict=True))
    return digest(source_fingerprint(), json.dumps(reports), json.dumps(errors),
                  *(f"{k}={v}" for k, v in sorted(extra.items())))


def write_tables(corpus, analyses: dict, layout_tables: Path, layout_analysis: Path, unit: str = "place",
                 weighting: str = "pooled", jobs: int | None = 1) -> int:
    """The six corpus tables (Parquet + CSV) and the analysis tables (CSV + XLSX for people, Parquet and
    :data:`compare.study.ANALYSES_META` for the notebooks, which read them with :func:`compare.study.read_analyses`).

    Each table is a task of the runner, the largest first (a spreadsheet of 13,000 rows takes seconds); the
    warnings the workers give are given here again, in table order.
    """
    from .export import CORPUS_FORMATS
    from .runner import imap
    from .study import ANALYSES_META

    tasks = [(df, name, layout_tables, CORPUS_FORMATS) for name, df in corpus.tables().items()]
    tasks += [(df, name, layout_analysis, ("csv", "xlsx")) for name, df in analyses.items()]
    order = sorted(range(len(tasks)), key=lambda i: -len(tasks[i][0]) * (3 if "xlsx" in tasks[i][3] else 1))
    done = dict(zip(order, imap(_write_table, [tasks[i] for i in order], jobs=jobs), strict=True))
    n = 0
    for i in range(len(tasks)):
        written, caught = done[i]
        n += written
        for message, category in caught:
            warnings.warn(message, category, stacklevel=2)
    meta = {"unit": unit, "weighting": weighting, "tables": list(analyses)}
    atomic_write(layout_analysis / ANALYSES_META, json.dumps(meta, ensure_ascii=False, indent=2))
    return n + 1


def _write_table(task) -> tuple[int, list]:
    """One table in its formats (an analysis table also as Parquet, for the notebooks): a runner task, which
    returns the number of files written and the warnings given."""
    from .export import save_table

    df, name, folder, formats = task
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        n = len(save_table(df, name, folder, formats=formats))
        if "xlsx" in formats:
            n += len(save_table(_parquet_safe(df), name, folder, formats=("parquet",)))
    return n, [(str(w.message), w.category) for w in caught]


def _parquet_safe(df):
    """``df`` with every text column of mixed types (years ``2024`` beside ``2023–2024``) as text, for Parquet."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object:
            kinds = {type(v) for v in out[col] if v is not None and v == v}
            if len(kinds) > 1:
                out[col] = out[col].map(lambda v: v if v is None or v != v else str(v))
    return out


def _font_subset(analyses: dict, codebooks: dict, cache):
    """The font subset of what these figures show (:func:`compare.theme.make_subset`), made once per build."""
    from .study import figure_texts
    from .theme import make_subset, use_cache

    if cache is not None:
        use_cache(cache)
    return make_subset(figure_texts(analyses, **codebooks), cache)


def _draw_page(task) -> int:
    """One page of one figure in one language, laid out once and saved as PNG, SVG and PDF (a runner task)."""
    from .export import save_figure
    from .study import draw_figure, figure_file
    from .theme import use_cache, use_subset

    tables, name, lang, page, pages, figs_dir, codebooks, cache, font, max_pages = task
    if cache is not None:
        use_cache(cache)  # the font's light copy is made once, in the study's cache
    use_subset(font)
    fig = draw_figure(tables, name, lang, page, max_pages=max_pages, **codebooks)
    return len(save_figure(fig, figure_file(name, page, pages, lang), figs_dir))


def _figures(analyses: dict, folder: Path, jobs: int | None, codebooks: dict, cache, max_pages: int) -> int:
    """Every page of every figure in every language, each a task of the runner (the largest first)."""
    from .runner import imap
    from .study import figure_pages, figure_tables

    pages = figure_pages(analyses, max_pages)
    tables = {name: figure_tables(analyses, name) for name, _, _ in pages}
    order = {"08_distinctive_terms": 0, "01_heatmap_region_type": 1, "04_problem_map": 2}
    pages.sort(key=lambda p: (order.get(p[0], 3), p[1]))
    font = _font_subset(analyses, codebooks, cache)
    tasks = [(tables[name], name, lang, page, n, folder, codebooks, cache, font, max_pages)
             for name, page, n in pages for lang in LANGS]
    return sum(imap(_draw_page, tasks, jobs=jobs, desc="figures", unit="page"))


# --------------------------------------------------------------------------------------------- notebooks
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")


#: The reader versions of the reports go into this sub-folder of the reports folder, under the same names.
READER_DIR = "reader"
_TEMPLATE = "compare_offline.html.j2"
#: nbconvert's lab template without what it would fetch from the web (require.js, MathJax, Mermaid, the
#: widget manager): the notebooks use none of them, and the pages must read offline.
_OFFLINE_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
"""
_WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
#: What a static page shows in place of a widget, which needs a running kernel.
WIDGET_NOTE = ('<div class="compare-widget-note"><p><em>交互式部件：请在 JupyterLab 中运行本笔记本。<br>'
               "An interactive widget: run this notebook in JupyterLab to use it.</em></p></div>")
_HEADING_RE = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")


_EXPORTERS: dict[bool, tuple[threading.Lock, object]] = {}  # reader -> (its lock, the exporter)
_EXPORTERS_LOCK = threading.Lock()


@contextmanager
def _exporter(reader: bool):
    """The HTML exporter of the full (``reader=False``) or the reader pages, made once per process and lent to
    one notebook at a time: a new exporter compiles its twenty templates again (0.35 s here, twice a notebook)."""
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    with _EXPORTERS_LOCK:
        if reader not in _EXPORTERS:
            hidden = dict(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True) if reader else {}
            _EXPORTERS[reader] = (threading.Lock(), HTMLExporter(
                template_name="lab", extra_loaders=[DictLoader({_TEMPLATE: _OFFLINE_TEMPLATE})],
                template_file=_TEMPLATE, embed_images=True, **hidden))
        lock, exporter = _EXPORTERS[reader]
    with lock:  # from_notebook_node registers filters on the exporter: one notebook at a time
        yield exporter


def headings(nb) -> list[tuple[int, str, str]]:
    """The markdown headings of a notebook as ``(level, anchor id, text)``, in order.

    The ids are the ones nbconvert gives the headings in the HTML (its own markdown filter renders each one).
    Lines inside fenced code blocks are not headings.
    """
    from xml.etree import ElementTree

    from nbconvert.filters import markdown2html_mistune

    out = []
    for cell in (c for c in nb.cells if c.cell_type == "markdown"):
        fenced = False
        for line in cell.source.splitlines():
            if line.lstrip().startswith(("```", "~~~")):
                fenced = not fenced
            if fenced or not (m := _HEADING_RE.match(line)):
                continue
            try:
                h = ElementTree.fromstring(markdown2html_mistune(line.strip()))
            except ElementTree.ParseError:
                continue
            if h.get("id"):
                out.append((len(m.group(1)), h.get("id"), "".join(h.itertext()).rstrip("¶").strip()))
    return out


def static_notebook(nb):
    """A copy of ``nb`` in which every widget output is :data:`WIDGET_NOTE` and its static HTML copy, if any.

    A widget's view needs a running kernel; an object that shows a widget may give an HTML copy of its state
    beside it (``text/html`` in the same output), which a page can show.
    """
    import copy

    static = copy.deepcopy(nb)
    for cell in (c for c in static.cells if c.cell_type == "code"):
        for output in cell.get("outputs", []):
            if _WIDGET_VIEW in output.get("data", {}):
                output.data = {"text/html": WIDGET_NOTE + output.data.get("text/html", ""),
                               "text/plain": "(an interactive widget)"}
    static.metadata.pop("widgets", None)
    return static


def reader_notebook(nb):
    """A copy of ``nb`` with a table of contents: a markdown cell after the title cell, linking each heading.

    The title cell is the first cell when it is markdown that opens with a level-1 heading; its heading is not
    listed. Returns the copy (``nb`` is unchanged).
    """
    import copy
    from html import escape

    import nbformat

    reader = copy.deepcopy(nb)
    first = reader.cells[0] if reader.cells else None
    titled = first is not None and first.cell_type == "markdown" and first.source.lstrip().startswith("# ")
    title = headings(nbformat.v4.new_notebook(cells=[first]))[:1] if titled else []
    items = [f'<li style="margin-left: {1.5 * max(0, level - 2):g}em"><a href="#{escape(anchor)}">'
             f"{escape(text)}</a></li>" for level, anchor, text in headings(reader)[len(title):]]
    if items:
        toc = ('<nav class="compare-toc">\n<p><strong>目录 / Contents</strong></p>\n<ul>\n' + "\n".join(items)
               + "\n</ul>\n</nav>")
        # a fixed cell id (nbformat would draw a random one): the same notebook gives the same page
        reader.cells.insert(1 if titled else 0, nbformat.v4.new_markdown_cell(toc, id="compare-toc"))
    return reader


def export_html(nb, stem: str, out: Path, path: Path | None = None) -> tuple[Path, Path]:
    """Write an executed notebook twice, both pages self-contained (images embedded, nothing fetched).

    ``out/<stem>.html`` is the full notebook; ``out/reader/<stem>.html`` the reader version: no code, no
    prompts, a table of contents (:func:`reader_notebook`). Widgets show a note (:func:`static_notebook`). ``path`` is the notebook's folder, for images that
    markdown cells link. Returns ``(full, reader)``.
    """
    nb = static_notebook(nb)
    title = next((text for level, _, text in headings(nb) if level == 1), stem)  # the page's <title>

    def resources() -> dict:  # an exporter writes into its resources: a fresh dict for each
        return {"metadata": {"name": title, "path": str(path or out)}}

    with _exporter(reader=False) as exporter:
        full, _ = exporter.from_notebook_node(nb, resources=resources())
    with _exporter(reader=True) as exporter:
        reader, _ = exporter.from_notebook_node(reader_notebook(nb), resources=resources())
    return atomic_write(out / f"{stem}.html", full), atomic_write(out / READER_DIR / f"{stem}.html", reader)


def _run_notebook(nb_path: Path, out: Path, timeout: int, env: dict) -> Path:
    import tempfile

    import nbformat
    from jupyter_client import KernelManager
    from nbclient import NotebookClient

    nb = nbformat.read(nb_path, as_version=4)
    with tempfile.TemporaryDirectory() as sock:  # local IPC sockets: no TCP ports, no warning about them
        km = KernelManager(kernel_name="python3", transport="ipc", ip=str(Path(sock) / "kernel"))
        try:
            NotebookClient(nb, km=km, timeout=timeout,
                           resources={"metadata": {"path": str(nb_path.parent)}}).execute(env=env)
        finally:
            if km.has_kernel:
                km.shutdown_kernel(now=True)
    return export_html(nb, nb_path.stem, out, nb_path.parent)[0]  # executed once, exported twice


def execute_notebooks(out_dir, raw=None, out=None, export=None, timeout: int = 600, progress: bool | None = None,
                      jobs: int | None = 1, notebooks: list[Path] | None = None, figures=None) -> list[Path]:
    """Execute the notebooks (each in a fresh kernel) and write them as HTML into ``out_dir``.

    The kernels are told the folders through the environment (:class:`compare.study.Folders`): ``raw`` the
    reports, ``out`` the build's tables, ``export`` where notebook 04 writes, ``figures`` the build's figures
    drawn from those tables (notebook 03 shows them; None: it draws its own). With ``jobs`` > 1 that many
    notebooks run at once. Each notebook is executed once and written twice (:func:`export_html`):
    ``out_dir/NN_name.html`` in full and ``out_dir/reader/NN_name.html`` without code. Returns the full HTML
    files in notebook order.
    """
    from concurrent.futures import ThreadPoolExecutor

    from .runner import progress_bar, resolve_jobs
    from .study import ENV_EXPORT, ENV_FIGURES, ENV_OUT, ENV_RAW

    books = notebooks if notebooks is not None else sorted(config.NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))
    out_dir = Path(out_dir)
    env = dict(os.environ)
    # absolute: a kernel runs in its notebook's folder, where a relative --raw would name another folder
    env.pop(ENV_FIGURES, None)  # figures of another build are not these tables' figures
    env.update({k: str(Path(v).resolve()) for k, v in ((ENV_RAW, raw), (ENV_OUT, out), (ENV_EXPORT, export),
                                                       (ENV_FIGURES, figures)) if v is not None})
    env["COMPARE_PROGRESS"] = "0"  # an executed report is read, not watched: no progress bars in it
    # the kernels import this very package (a relative PYTHONPATH would name another folder from theirs)
    env["PYTHONPATH"] = os.pathsep.join([str(config.PACKAGE_DIR.parent),
                                         *(str(Path(q).resolve()) for q in env.get("PYTHONPATH", "").split(os.pathsep) if q)])
    workers = max(1, min(resolve_jobs(jobs), len(books) or 1))
    if workers > 1:  # kernels side by side: one BLAS/OpenMP thread each, or their spinning threads fight for cores
        env.update({k: str(max(1, resolve_jobs(-1) // workers)) for k in _THREAD_VARS})
    with ThreadPoolExecutor(max_workers=workers) as ex:
        futures = [ex.submit(_run_notebook, b, out_dir, timeout, env) for b in books]
        return [f.result() for f in progress_bar(futures, len(futures), "notebooks", progress, unit="nb")]


# --------------------------------------------------------------------------------------------- the build
def _check_options(raw: Path, layout: Layout, max_pages: int | None) -> None:
    """What can be told wrong before anything is read: the reports folder, the outputs, the pages."""
    _check_raw(raw)
    _check_writable(layout)
    if max_pages is not None and max_pages < 1:
        raise BuildError(f"--max-pages {max_pages}: a figure needs at least one page")


def _check_raw(raw: Path) -> None:
    if not raw.exists():
        raise BuildError(f"{raw}: no such folder of reports (give one with --raw DIR)")
    if raw.is_dir() and not any(p.is_file() and not p.name.startswith(".") for p in raw.iterdir()):
        raise BuildError(f"{raw}: the folder holds no report files")


def _check_by(corpus, by: str, weighting: str) -> None:
    from .analysis import UNITS, WEIGHTINGS

    if by not in UNITS and by not in corpus.reports.columns:
        raise BuildError(f"--by {by}: not a unit ({', '.join(UNITS)}) nor a column of the reports table")
    if weighting not in WEIGHTINGS:
        raise BuildError(f"--weight {weighting}: must be one of {', '.join(WEIGHTINGS)}")


def _check_writable(layout: Layout) -> None:
    for folder in (layout.tables, layout.analysis, layout.figures, layout.reports):
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BuildError(f"{folder}: cannot create the output folder ({exc.strerror or exc})") from exc
        if not os.access(folder, os.W_OK):
            raise BuildError(f"{folder}: the output folder is not writable")


def build(raw_dir=None, out_dir=None, jobs: int | None = -1, engine: str = "local", scheduler=None,
          figures: bool = True, notebooks: bool = True, quiet: bool = False, progress: bool | None = None,
          codebook_path=None, measure_codebook_path=None, cache_dir=None, layout: Layout | None = None,
          by: str | None = None, weighting: str = "pooled", max_chars: int | None = None,
          max_pages: int | None = None) -> dict:
    """Run the whole study on a folder of reports and write every output (see the module docstring).

    Parameters
    ----------
    raw_dir, out_dir : path, optional
        Reports to load (default ``data/raw``); write everything under ``out_dir`` (:meth:`Layout.under`).
    jobs : int
        Workers (scikit-learn convention: -1 every core).
    engine, scheduler : str
        ``"dask"`` with a scheduler address runs the per-file stage on a Dask cluster.
    figures, notebooks : bool
        Draw the figures; execute the notebooks into HTML.
    codebook_path, measure_codebook_path, cache_dir : path, optional
        Codebooks (default: the bundled ones); the cache folder (default ``config.CACHE_DIR``).
    by, weighting : str
        The unit of comparison (:func:`compare.analysis.units`; default ``place``) and a unit's shares:
        ``pooled`` problems or the ``mean`` of its reports' shares (stated in the tables).
    max_chars : int, optional
        The reader's size limit per file (default :data:`compare.io.DEFAULT_MAX_CHARS`): a bigger file is an
        ``errors`` row ``too_large`` and the build goes on.
    max_pages : int, optional
        Pages of each figure at most (default :data:`compare.study.MAX_PAGES`; the rest is in the tables).

    Returns
    -------
    dict
        The summary printed at the end (also ``build_summary.json``).

    Raises
    ------
    BuildError
        A missing ``raw_dir``, an output folder that cannot be written, a broken codebook.
    """
    from .study import DEFAULT_BY, Study

    t0 = time.perf_counter()
    by = by or DEFAULT_BY
    raw = Path(raw_dir) if raw_dir is not None else config.RAW_DIR
    layout = layout or (Layout.under(out_dir) if out_dir is not None else Layout.project())
    _check_options(raw, layout, max_pages)
    study, stage = Study.resolve(codebook_path=codebook_path, measure_codebook_path=measure_codebook_path,
                                 cache_dir=cache_dir, max_chars=max_chars), _Stages(quiet)
    corpus = _coded_corpus(study, raw, stage, jobs, engine, scheduler, progress)
    _check_by(corpus, by, weighting)
    state = _BuildState(layout, corpus, study, raw, stage, by, weighting, max_pages)
    state.tables(jobs)
    if figures:
        state.figures(jobs)
    if notebooks:
        state.reports(jobs, progress)
    return state.finish(t0, quiet, figures, notebooks)


def _coded_corpus(study, raw: Path, stage: _Stages, jobs, engine: str, scheduler, progress):
    """The stages model, load and classify: the reports of ``raw`` read and coded, in one pool of workers."""
    with runner.shared_workers(jobs if engine == "local" else 1):  # one pool for both stages, forked once
        with stage("model"):  # before the first task forks the workers: they inherit the model and scikit-learn
            study.model()
        with stage("load"):
            corpus = study.load(raw, jobs=jobs, engine=engine, scheduler=scheduler, progress=progress)
        with stage("classify"):
            return study.code(corpus, jobs=jobs, progress=progress)


class _BuildState:
    """One build's progress through the parts; each part is committed with the summary written after it."""

    def __init__(self, layout: Layout, corpus, study, raw: Path, stage: _Stages, by: str = "place",
                 weighting: str = "pooled", max_pages: int | None = None):
        self.layout, self.corpus, self.study, self.raw, self.stage = layout, corpus, study, raw, stage
        from .study import MAX_PAGES

        self.by, self.weighting, self.max_pages = by, weighting, max_pages or MAX_PAGES
        self.previous = _read_summary(layout)
        self.staging = _Staging(layout)
        base = _inputs_stamp(corpus, {**study.stamp_inputs(), "by": by, "weighting": weighting})
        self.stamps = {"tables": base, "figures": digest(base, "figures", *LANGS, f"pages={self.max_pages}"),
                       "reports": digest(base, "reports", *(p.read_bytes() for p in study.notebooks()))}
        self.outputs = {p: dict(self.previous.get("outputs", {}).get(p, {})) for p in PARTS}
        self.done: dict[str, str] = {p: s for p, s in self.previous.get("stamps", {}).items()
                                     if p in PARTS and _intact(self.previous, p, s, layout.tables)}
        self.analyses: dict | None = None
        self.n_figures = 0

    def _fresh(self, part: str) -> bool:
        if self.done.get(part) == self.stamps[part]:
            self.stage.skipped.append(part)
            return True
        return False

    def _commit(self, part: str) -> None:
        self.outputs[part] = self.staging.commit(part, self.outputs[part])
        self.done[part] = self.stamps[part]
        _write_summary(self.layout, self._summary(ok=False))

    def _analyses(self, jobs) -> dict:
        if self.analyses is None:  # timed as two stages: evaluation, cluster+analysis
            self.analyses = self.study.analyses(self.corpus, unit=self.by, weighting=self.weighting, jobs=jobs,
                                                stage=self.stage)
        return self.analyses

    def tables(self, jobs) -> None:
        if self._fresh("tables"):
            return
        analyses = self._analyses(jobs)
        with self.stage("tables"):
            write_tables(self.corpus, analyses, self.staging.folder("tables", 0), self.staging.folder("tables", 1),
                         self.by, self.weighting, jobs=jobs)
            self._commit("tables")

    def figures(self, jobs) -> None:
        if self._fresh("figures"):
            self.n_figures = sum(1 for p in self.outputs["figures"] if p.endswith(".png"))
            return
        analyses = self._analyses(jobs)
        with self.stage("figures"):
            if analyses:
                _figures(analyses, self.staging.folder("figures"), jobs, self.study.codebooks(), self.study.cache,
                         self.max_pages)
            self._commit("figures")
            self.n_figures = sum(1 for p in self.outputs["figures"] if p.endswith(".png"))

    def reports(self, jobs, progress) -> None:
        if self._fresh("reports"):
            return
        with self.stage("notebooks"):
            execute_notebooks(self.staging.folder("reports"), raw=self.raw, out=self.layout.tables,
                              export=self.staging.folder("reports") / "export", jobs=jobs, progress=progress,
                              notebooks=self.study.notebooks(),
                              figures=self.layout.figures if self.done.get("figures") == self.stamps["figures"] else None)
            self._commit("reports")

    def _summary(self, ok: bool, total: float | None = None) -> dict:
        c = self.corpus
        return {
            "reports": int(c.reports.is_report.sum()) if len(c.reports) else 0, "documents": len(c.reports),
            "problems": len(c.problems), "measures": len(c.measures), "mentions": c.size("mentions"),
            "errors": len(c.errors), "figures": self.n_figures, "seconds": self.stage.seconds,
            "skipped": self.stage.skipped, "total_seconds": total, "ok": ok, "raw": str(self.raw),
            "by": self.by, "weighting": self.weighting,
            "stamps": dict(self.done), "outputs": self.outputs,
        }

    def finish(self, t0: float, quiet: bool, figures: bool, notebooks: bool) -> dict:
        self.staging.clear()
        summary = self._summary(ok=True, total=round(time.perf_counter() - t0, 2))
        _write_summary(self.layout, summary)
        if not quiet:
            _print_summary(summary, self.corpus)
        return summary


def _print_summary(summary: dict, corpus) -> None:
    print(f"compare build: {summary['reports']} reports, {summary['problems']} problems, "
          f"{summary['measures']} measures, {summary['errors']} errors, {summary['figures']} figures "
          f"in {summary['total_seconds']} s", file=sys.stderr)
    print(f"  compared by {summary['by']} (shares: {summary['weighting']})", file=sys.stderr)
    print("  seconds per stage: " + ", ".join(f"{k} {v}" for k, v in summary["seconds"].items()), file=sys.stderr)
    if summary["skipped"]:
        print(f"  up to date, not redone: {', '.join(summary['skipped'])}", file=sys.stderr)
    for _, e in corpus.errors.iterrows():
        print(f"  error: {e.message.splitlines()[0]}", file=sys.stderr)
