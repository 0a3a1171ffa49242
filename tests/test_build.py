"""compare.build: the main job on the bundled reports (tables and analysis; figures are tested in test_plots)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pandas as pd

from compare import config
from compare.build import build


def test_build_writes_tables_and_summary(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(config.RAW_DIR, raw)
    (raw / "garbage.txt").write_bytes(b"\x00\x01\x02" * 100)
    out = tmp_path / "processed"
    summary = build(raw_dir=raw, out_dir=out, jobs=1, figures=False, notebooks=False, quiet=True, progress=False)
    assert {k: summary[k] for k in ("reports", "problems", "measures", "errors")} == {
        "reports": 3, "problems": 75, "measures": 259, "errors": 1}
    assert set(summary["seconds"]) == {"load", "classify", "tables", "cluster+analysis"}
    assert json.loads((out / "build_summary.json").read_text(encoding="utf-8"))["problems"] == 75
    problems = pd.read_parquet(out / "problems.parquet")
    assert problems.primary_code.notna().all() and len(problems) == 75
    errors = pd.read_csv(out / "errors.csv", encoding="utf-8-sig")
    assert errors.error.tolist() == ["binary"] and "garbage.txt" in errors.message.iloc[0]
    tc = pd.read_csv(out / "tables" / "type_counts.csv", encoding="utf-8-sig")
    assert tc.groupby("region").n.sum().to_dict() == {"惠东县（惠州市）": 10, "海珠区（广州市）": 26, "许昌市": 39}
    assert (out / "tables" / "recycled_text.xlsx").exists()


def test_cli_build_help_lists_the_options():
    out = subprocess.run([sys.executable, "-m", "compare", "build", "--help"], capture_output=True, text=True,
                         check=True).stdout
    for opt in ("--raw", "--out", "--jobs", "--engine", "--scheduler"):
        assert opt in out
