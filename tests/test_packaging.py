"""The wheel works on its own: installed (not editable) into a fresh venv and run from a folder outside the checkout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from compare import config

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> Path:
    """A new venv holding only the wheel; the dependencies come from this environment's site-packages.

    The site-packages folder is added by a plain path line, so its ``.pth`` files (the editable install of the
    checkout among them) are not run: ``compare`` can only come from the wheel.
    """
    base = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                    str(base / "dist"), str(config.ROOT)], check=True, timeout=600)
    (wheel,) = (base / "dist").glob("compare-*.whl")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    py = venv / "bin" / "python"
    site = Path(subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "-q", str(wheel)],
                   check=True, timeout=600)
    return venv


def run(venv: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "COMPARE_ROOT")}
    env["COMPARE_CACHE"] = str(cwd / "cache")
    return subprocess.run([str(venv / "bin" / "python"), *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=600)


def test_the_wheel_runs_outside_the_checkout(fresh, tmp_path):
    where = run(fresh, "-c", "import compare, compare.config as c; print(compare.__file__); "
                "print(c.CODEBOOK_PATH); print(c.PROBLEM_MODEL_PATH.is_file())", cwd=tmp_path)
    assert where.returncode == 0, where.stderr
    module, codebook, model = where.stdout.split("\n")[:3]
    assert str(fresh) in module and str(fresh) in codebook and model == "True"  # package data, from the wheel
    report = config.RAW_DIR / "xuchang_2024-12-31.txt"
    parsed = run(fresh, "-m", "compare", "parse", str(report), "--json", cwd=tmp_path)
    assert parsed.returncode == 0, parsed.stderr
    doc = json.loads(parsed.stdout)
    assert doc["report"]["n_problems"] == 39 and doc["report"]["published_date"] == "2024-12-31"
    assert all("primary_code" in p for p in doc["problems"])  # the packaged model coded them
    measures = run(fresh, "-m", "compare", "classify", "--measures", "组织全体干部开展专题学习。", cwd=tmp_path)
    assert measures.returncode == 0 and "primary:" in measures.stdout, measures.stderr
    raw = tmp_path / "reports"
    raw.mkdir()
    (raw / report.name).write_bytes(report.read_bytes())
    built = run(fresh, "-m", "compare", "build", "--raw", str(raw), "--out", str(tmp_path / "out"), "--no-figures",
                "--no-notebooks", cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    assert json.loads((tmp_path / "out" / "build_summary.json").read_text(encoding="utf-8"))["problems"] == 39
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "out", "reports"]  # nothing written elsewhere


def test_the_console_script_shadows_no_other_program(fresh, tmp_path):
    scripts = sorted(p.name for p in (fresh / "bin").iterdir())
    assert "compare-reports" in scripts and "compare" not in scripts
    helped = subprocess.run([str(fresh / "bin" / "compare-reports"), "build", "--help"], capture_output=True,
                            text=True, cwd=tmp_path, timeout=120)
    assert helped.returncode == 0 and "--raw" in helped.stdout
