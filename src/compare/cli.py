"""The command line: ``python -m compare {parse,build,classify,...}`` over the same calls as the library."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _json_default(o):
    import numpy as np

    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.bool_):
        return bool(o)
    return str(o)


def _clean(row: dict) -> dict:
    import math

    out = {}
    for k, v in row.items():
        if v is None or (isinstance(v, float) and math.isnan(v)):
            out[k] = None
        elif hasattr(v, "item") and not isinstance(v, (list, tuple, str)):
            out[k] = v.item()
        else:
            out[k] = v
    return out


def report_json(path: str) -> dict:
    """One report as the JSON document of ``compare parse FILE --json`` (schema in the README)."""
    from . import schema
    from .tables import process_file

    res = process_file(path, cache=False)
    if res["error"] is not None:
        return {"error": res["error"]}
    report = dict(res["report"])
    warnings = report.pop("warnings")
    report = {k: report.get(k) for k in schema.REPORT_COLUMNS if k != "warnings"}
    codes = _codes_for(res["problems"], res["measures"])
    problems = []
    for p in res["problems"]:
        row = _clean(p)
        if codes is not None:
            row.update(codes.get(p["problem_id"], {}))
        row["measures"] = [_clean(m) for m in res["measures"] if m["problem_id"] == p["problem_id"]]
        problems.append(row)
    return {"report": _clean(report), "problems": problems, "warnings": warnings}


def _codes_for(problems: list[dict], measures: list[dict]) -> dict | None:
    """primary_code/codes per problem when the classifier is available (None before it exists)."""
    try:
        from .classify import code_problem_rows
    except ImportError:
        return None
    return code_problem_rows(problems, measures)


def cmd_parse(args) -> int:
    doc = report_json(args.file)
    if "error" in doc:
        print(doc["error"]["message"], file=sys.stderr)
        if args.json:
            print(json.dumps(doc, ensure_ascii=False, indent=2, default=_json_default))
        return 2
    if args.json:
        print(json.dumps(doc, ensure_ascii=False, indent=2, default=_json_default))
    else:
        r = doc["report"]
        print(f"{args.file}: {r['issuer']} · {r['region']} · published {r['published_date']}")
        print(f"  {r['n_problems']} problems, {r['n_measures']} measures; is_report={r['is_report']} truncated={r['truncated']}")
        for p in doc["problems"]:
            code = f" [{p['primary_code']}]" if "primary_code" in p else ""
            print(f"  {p['seq']:>3} {p['label']:<5} {p['title']}{code}  ({p['n_measures']} measures)")
        for w in doc["warnings"]:
            print(f"  warning: {w}")
    return 0


def cmd_build(args) -> int:
    from .build import build

    summary = build(raw_dir=args.raw, out_dir=args.out, jobs=args.jobs, engine=args.engine,
                    scheduler=args.scheduler, figures=not args.no_figures, notebooks=not args.no_notebooks)
    return 0 if summary.get("ok", True) else 1


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m compare", description=__doc__)
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("parse", help="parse one report and print its structure")
    p.add_argument("file")
    p.add_argument("--json", action="store_true", help="print the report, problems and measures as JSON")
    p.set_defaults(func=cmd_parse)
    b = sub.add_parser("build", help="the whole study: tables, codes, clusters, analysis, figures, notebooks")
    b.add_argument("--raw", type=Path, default=None, help="folder of reports (default data/raw)")
    b.add_argument("--out", type=Path, default=None, help="folder for tables (default data/processed)")
    b.add_argument("--jobs", type=int, default=0, help="worker processes (default: all cores)")
    b.add_argument("--engine", choices=["local", "dask"], default="local")
    b.add_argument("--scheduler", default=None, help="dask scheduler address, with --engine dask")
    b.add_argument("--no-figures", action="store_true")
    b.add_argument("--no-notebooks", action="store_true")
    b.set_defaults(func=cmd_build)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)
