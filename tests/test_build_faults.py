"""A build whose outputs can be trusted: killed builds, deleted outputs, bad caches, bad inputs, bad cells.

Every test runs the real command line (``python -m compare build``) in a subprocess, with its own cache
folder, on copies of the bundled reports and on fixtures written here.
"""

from __future__ import annotations

import base64
import io
import json
import os
import pickle
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest
from PIL import Image

from compare import config

pytestmark = pytest.mark.slow

CLEAN_CACHE = {}
#: The figures notebook 03 shows, in its order (one page each on the bundled reports).
NB03_FIGURES = ["01_heatmap_region_type", "03_recurring_matrix", "08_distinctive_terms", "06_concreteness",
                "07_timeline"]
_PNG_RE = re.compile(r'<img[^>]+src="data:image/png;base64,([^"]+)"')


def run_build(out: Path, raw: Path, cache: Path, *extra: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "COMPARE_CACHE": str(cache)}
    proc = subprocess.run([sys.executable, "-m", "compare", "build", "--raw", str(raw), "--out", str(out),
                           "--jobs", "2", *extra], capture_output=True, text=True, env=env, timeout=900)
    if check:
        assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def manifest(out: Path, parts=("tables", "figures")) -> dict[str, str]:
    """Relative path → sha256 of the build's outputs, from its summary (written last)."""
    summary = json.loads((out / "build_summary.json").read_text(encoding="utf-8"))
    files = {}
    for part in parts:
        for path, sha in summary["outputs"][part].items():
            files[path] = sha
    return files


@pytest.fixture(scope="module")
def raw(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("raw")
    for p in sorted(config.RAW_DIR.iterdir()):
        shutil.copy(p, folder / p.name)
    return folder


@pytest.fixture(scope="module")
def clean(raw, tmp_path_factory) -> Path:
    """A build from scratch without notebooks: what every other build must equal."""
    base = tmp_path_factory.mktemp("clean")
    run_build(base / "out", raw, base / "cache", "--no-notebooks")
    return base / "out"


def kill_at(out: Path, raw: Path, cache: Path, marker: str, *extra: str) -> None:
    """Start a build and SIGKILL it (and only it) as soon as its stderr announces ``marker``."""
    env = {**os.environ, "COMPARE_CACHE": str(cache)}
    proc = subprocess.Popen([sys.executable, "-m", "compare", "build", "--raw", str(raw), "--out", str(out),
                             "--jobs", "2", *extra], stderr=subprocess.PIPE, text=True, env=env)
    seen = False
    for line in proc.stderr:
        if marker in line:
            seen = True
            time.sleep(0.3)  # into the stage's work
            break
    children = psutil.Process(proc.pid).children(recursive=True)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert seen, f"the build never reached {marker!r}"
    gone, alive = psutil.wait_procs(children, timeout=15)
    assert not alive, f"processes left behind by the killed build: {[p.cmdline() for p in alive]}"


@pytest.mark.parametrize("stage", ["load", "classify", "tables", "figures"])
def test_a_build_killed_midway_then_run_again_equals_a_clean_build(stage, raw, clean, tmp_path):
    out, cache = tmp_path / "out", tmp_path / "cache"
    # killed before the figures: the tables are what is at stake, so these builds draw none (quicker)
    flags = ("--no-notebooks",) if stage == "figures" else ("--no-notebooks", "--no-figures")
    parts = ("tables", "figures") if stage == "figures" else ("tables",)
    if stage == "figures":  # a complete earlier build is there, and the next one is killed drawing
        run_build(out, raw, cache, "--no-notebooks", "--no-figures")
    kill_at(out, raw, cache, f"[compare] {stage} …", *flags)
    again = run_build(out, raw, cache, *flags)
    if stage in ("load", "classify"):  # killed before any table was written: the tables must be made
        assert "up to date, not redone: tables" not in again.stderr
    if stage == "figures":  # the earlier complete tables stand; the figures the kill cut short are drawn
        assert "[compare] figures" in again.stderr and "up to date, not redone: tables" in again.stderr
    assert manifest(out, parts) == manifest(clean, parts)
    for name in ("reports", "problems", "measures"):
        pd.testing.assert_frame_equal(pd.read_parquet(out / f"{name}.parquet"),
                                      pd.read_parquet(clean / f"{name}.parquet"))
    assert not (out / ".staging").exists()


def test_a_build_killed_running_notebooks_redoes_them(raw, tmp_path):
    out, cache = tmp_path / "out", tmp_path / "cache"
    kill_at(out, raw, cache, "[compare] notebooks …")
    summary = json.loads((out / "build_summary.json").read_text(encoding="utf-8"))
    assert summary["ok"] is False and "reports" not in summary["stamps"]  # tables and figures done, reports not
    again = run_build(out, raw, cache)
    assert "up to date, not redone: tables, figures" in again.stderr and "[compare] notebooks" in again.stderr
    html = sorted(p.name for p in (out / "reports").glob("*.html"))
    assert html == ["01_load_reports.html", "02_problem_types.html", "03_compare_regions.html",
                    "04_export_figures.html"]
    # notebook 04 exported into the build's folder, nothing into the project's figures/
    assert sorted(p.suffix for p in (out / "reports" / "export").rglob("*.png"))
    # notebook 03 shows the build's figures (drawn before the kill, from these tables), each at half resolution
    page = (out / "reports" / "03_compare_regions.html").read_text(encoding="utf-8")
    shown = [Image.open(io.BytesIO(base64.b64decode(d))) for d in _PNG_RE.findall(page)]
    built = [Image.open(out / "figures" / f"{name}_zh.png") for name in NB03_FIGURES]
    assert [im.size for im in shown] == [((w + 1) // 2, (h + 1) // 2) for w, h in (im.size for im in built)]
    assert all(a.tobytes() == b.reduce(2).tobytes() for a, b in zip(shown, built, strict=True))


def test_a_deleted_or_changed_output_is_redone_and_nothing_else(raw, clean, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(clean, out)
    summary = json.loads((out / "build_summary.json").read_text(encoding="utf-8"))
    cache = tmp_path / "cache"
    first = run_build(out, raw, cache, "--no-notebooks")
    assert "up to date, not redone: tables, figures" in first.stderr
    (out / "figures" / "04_problem_map_en.png").unlink()
    second = run_build(out, raw, cache, "--no-notebooks")
    assert "up to date, not redone: tables\n" in second.stderr and "[compare] figures" in second.stderr
    assert (out / "figures" / "04_problem_map_en.png").is_file()
    (out / "problems.csv").write_text("tampered", encoding="utf-8")
    third = run_build(out, raw, cache, "--no-notebooks")
    assert "[compare] tables" in third.stderr
    assert manifest(out) == manifest(clean)
    assert summary["figures"] == 16


def test_a_read_only_or_missing_cache_warns_once_and_goes_on(raw, clean, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be", encoding="utf-8")
    proc = run_build(tmp_path / "out", raw, blocker / "cache", "--no-notebooks", "--no-figures")
    assert proc.stderr.count("cannot be used") == 1 and "Traceback" not in proc.stderr
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "out" / "problems.parquet"),
                                  pd.read_parquet(clean / "problems.parquet"))


class _Planted:
    def __reduce__(self):
        return (Path.write_text, (Path(os.environ["PLANTED_MARKER"]), "executed"))


def test_nothing_in_the_cache_folder_can_run_code(raw, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    run_build(tmp_path / "out", raw, cache, "--no-notebooks", "--no-figures")
    marker = tmp_path / "marker"
    monkeypatch.setenv("PLANTED_MARKER", str(marker))
    payload = pickle.dumps(_Planted())
    entries = [p for p in cache.rglob("*") if p.is_file()]
    assert entries and all(p.suffix in (".json", ".arrow", ".parquet", ".npy", ".otf", ".bin") for p in entries)
    for p in entries:  # every entry replaced by a pickle, and a pickle beside it under every usual name
        p.write_bytes(payload)
        for suffix in (".pkl", ".pickle", ".joblib"):
            p.with_suffix(suffix).write_bytes(payload)
    proc = run_build(tmp_path / "out", raw, cache, "--no-notebooks", "--no-figures")
    assert not marker.exists()
    assert json.loads((tmp_path / "out" / "build_summary.json").read_text(encoding="utf-8"))["problems"] == 75
    assert "Traceback" not in proc.stderr


# --------------------------------------------------------------------------------------------- bad input
REPORT = """中共{place}民政局党组关于县委第二巡察组反馈意见整改进展情况的通报

根据县委统一部署，2024年3月4日至4月26日，县委第二巡察组对{place}民政局党组开展了巡察，5月20日反馈了意见。{count}
一、整改工作总体情况
党组把整改作为政治任务来抓。
二、反馈问题的整改落实情况
1.{title}
整改情况：一是召开专题会议研究部署。二是建立问题台账，逐项销号。
2.养老机构安全检查不到位的问题。
整改情况：一是开展养老机构消防检查12次。二是督促整改隐患8处。
三、下一步工作打算
继续巩固整改成果。

中共{place}民政局党组
2024年8月30日
"""


def test_a_batch_with_formula_cells_control_characters_and_huge_counts_builds(raw, tmp_path):
    batch = tmp_path / "batch"
    shutil.copytree(raw, batch)
    (batch / "=HYPERLINK(1).txt").write_text(
        REPORT.format(place="青山县", count="", title="=1+1 学习制度执行不严的问题。"), encoding="utf-8")
    (batch / "form_feed.txt").write_text(
        REPORT.format(place="白水县", count="", title="财务报销审核不严的问题。").replace("三、下一步", "\f三、下一步"),
        encoding="utf-8")
    (batch / "huge_count.txt").write_text(
        REPORT.format(place="红河县", title="干部轮岗交流不足的问题。",
                      count="对应12345678901234567890个具体问题制定了95条整改措施。"), encoding="utf-8")
    (batch / "broken.docx").write_bytes(b"PK\x03\x04 not a zip")
    out = tmp_path / "out"
    proc = run_build(out, batch, tmp_path / "cache", "--no-notebooks")
    reports = pd.read_parquet(out / "reports.parquet").set_index("report_id")
    assert reports.loc[["=HYPERLINK(1)", "form_feed", "huge_count"], "n_problems"].tolist() == [2, 2, 2]
    assert pd.isna(reports.loc["huge_count", "declared_problem_count"])
    assert "declared" in reports.loc["huge_count", "warnings"]
    errors = pd.read_parquet(out / "errors.parquet")
    assert errors.error.tolist() == ["corrupt_docx"] and "broken.docx" in proc.stderr
    # no live formula anywhere a spreadsheet reads
    from openpyxl import load_workbook

    for book in sorted((out / "tables").glob("*.xlsx")):
        for ws in load_workbook(book).worksheets:
            for row in ws.iter_rows(values_only=True):
                assert not any(isinstance(v, str) and v[:1] in "=+-@\t\r" for v in row), book.name
    csv = (out / "reports.csv").read_text(encoding="utf-8-sig")
    assert "\n=HYPERLINK" not in csv and ",=HYPERLINK" not in csv and "'=HYPERLINK(1)" in csv
    assert pd.read_parquet(out / "problems.parquet").title.str.startswith("=1+1").sum() == 1  # parquet as is


def test_bad_arguments_give_one_clear_line_and_leave_the_outputs_alone(raw, clean, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(clean, out)
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    env = {**os.environ, "COMPARE_CACHE": str(tmp_path / "cache")}

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "compare", *args], capture_output=True, text=True, env=env,
                              timeout=300)

    missing = cli("build", "--raw", str(tmp_path / "nope"), "--out", str(out))
    assert missing.returncode == 2 and missing.stderr.strip().count("\n") == 0
    assert "nope" in missing.stderr and "no such folder" in missing.stderr and "Traceback" not in missing.stderr
    broken = tmp_path / "codebook.yaml"
    broken.write_text("codes: [unclosed\n", encoding="utf-8")
    bad_cb = cli("build", "--raw", str(raw), "--out", str(out), "--codebook", str(broken))
    assert bad_cb.returncode == 2 and "codebook.yaml" in bad_cb.stderr and "Traceback" not in bad_cb.stderr
    assert bad_cb.stderr.strip().count("\n") == 0
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    bad_out = cli("build", "--raw", str(raw), "--out", str(blocker / "out"))
    assert bad_out.returncode == 2 and "out" in bad_out.stderr and "Traceback" not in bad_out.stderr
    no_pages = cli("build", "--raw", str(raw), "--out", str(out), "--max-pages", "0")
    assert no_pages.returncode == 2 and no_pages.stderr.strip() == \
        "compare: error: --max-pages 0: a figure needs at least one page (--debug shows the traceback)"
    debug = cli("--debug", "build", "--raw", str(tmp_path / "nope"), "--out", str(out))
    assert "Traceback" in debug.stderr
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()} == before


def test_an_edited_code_module_redoes_the_codes(raw, clean, tmp_path):
    """The same cache, the package copied and one module edited: the build must code again, not serve the cache."""
    cache = tmp_path / "cache"
    run_build(tmp_path / "before", raw, cache, "--no-notebooks", "--no-figures")
    copy = tmp_path / "src" / "compare"
    shutil.copytree(Path(config.PACKAGE_DIR), copy, ignore=shutil.ignore_patterns("__pycache__"))
    with (copy / "coding.py").open("a", encoding="utf-8") as fh:
        fh.write("\n\n_classify_problems = classify_problems\n\n\n"
                 "def classify_problems(*args, **kwargs):  # the edit: every problem becomes mandate_general\n"
                 "    out = _classify_problems(*args, **kwargs)\n"
                 "    out['primary_code'] = 'mandate_general'\n"
                 "    return out\n")
    env = {**os.environ, "COMPARE_CACHE": str(cache), "PYTHONPATH": str(tmp_path / "src")}
    proc = subprocess.run([sys.executable, "-m", "compare", "build", "--raw", str(raw), "--out",
                           str(tmp_path / "after"), "--no-notebooks", "--no-figures"], capture_output=True,
                          text=True, env=env, timeout=600, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    before = pd.read_parquet(tmp_path / "before" / "problems.parquet")
    after = pd.read_parquet(tmp_path / "after" / "problems.parquet")
    assert before.primary_code.nunique() > 3
    assert set(after.primary_code) == {"mandate_general"} and len(after) == 75
