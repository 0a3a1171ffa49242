"""The command line: ``python -m compare {parse,build,classify,...}`` over the same calls as the library."""

from __future__ import annotations

import argparse
import json
import sys
import warnings
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


def report_json(path: str, max_chars: int | None = None) -> dict:
    """One report as the JSON document of ``compare parse FILE --json`` (schema in the README)."""
    from . import schema
    from .corpus import process_file

    res = process_file(path, max_chars=max_chars)
    if res.error is not None:
        return {"error": res.error}
    report = dict(res.report)
    warnings = report.pop("warnings")
    report = {k: report.get(k) for k in schema.REPORT_COLUMNS if k != "warnings"}
    codes = _codes_for(res.problems, res.measures, res.report.get("agency") or res.report.get("issuer"))
    problems = []
    for p in res.problems:
        row = _clean(p)
        if codes is not None:
            row.update(codes.get(p["problem_id"], {}))
        row["measures"] = [_clean(m) for m in res.measures if m["problem_id"] == p["problem_id"]]
        problems.append(row)
    return {"report": _clean(report), "problems": problems, "warnings": warnings}


def _codes_for(problems: list[dict], measures: list[dict], agency: str | None = None) -> dict | None:
    """primary_code/codes per problem when the classifier is available (None before it exists)."""
    from .coding import code_problem_rows
    from .study import default_study

    return code_problem_rows(problems, measures, default_study().model(), agency=agency)


#: the metadata fields the outline of ``compare parse FILE`` shows, in reading order
_OUTLINE_FIELDS = (
    "title", "issuer", "party_org_type", "agency", "region_label", "province", "city", "region", "adcode",
    "admin_level", "inspection_kind", "inspection_body", "inspection_start", "inspection_end", "feedback_date",
    "published_date", "declared_problem_count", "declared_measure_count",
)


def cmd_parse(args) -> int:
    max_chars = int(args.max_mb * 1_000_000) if getattr(args, "max_mb", None) else None
    doc = report_json(args.file, max_chars)
    if "error" in doc:
        print(doc["error"]["message"], file=sys.stderr)
        if args.json:
            print(json.dumps(doc, ensure_ascii=False, indent=2, default=_json_default))
        return 2
    if args.json:
        print(json.dumps(doc, ensure_ascii=False, indent=2, default=_json_default))
    else:
        print("\n".join(outline(args.file, doc)))
    return 0


def outline(path: str, doc: dict) -> list[str]:
    """The readable outline of one parsed report: metadata, the aspect → theme → problem tree, the warnings."""
    r = doc["report"]
    out = [f"{path}  ({r['source_format']}, {r['n_chars']} characters)",
           f"  is_report={r['is_report']}  truncated={r['truncated']}  "
           f"{r['n_problems']} problems, {r['n_measures']} measures", "metadata:"]
    width = max(map(len, _OUTLINE_FIELDS))
    sources = dict(p.split("=", 1) for p in (r.get("meta_sources") or "").split("；") if "=" in p)
    for k in _OUTLINE_FIELDS:
        if r.get(k) is not None:
            src = f"   ← {sources[k]}" if k in sources else ""
            out.append(f"  {k:<{width}}  {r[k]}{src}")
    empty = [k for k in _OUTLINE_FIELDS if r.get(k) is None]
    if empty:
        out.append(f"  (not found: {', '.join(empty)})")
    out.append("structure:")
    out += _tree(doc["problems"])
    out.append(f"warnings: {len(doc['warnings'])}")
    out += [f"  - {w}" for w in doc["warnings"]]
    return out


def _tree(problems: list[dict]) -> list[str]:
    """Problems indented under their aspect and theme, each with its measure count (and code when known)."""
    out: list[str] = []
    aspect = theme = object()
    for p in problems:
        if p.get("aspect") != aspect:
            aspect, theme = p.get("aspect"), object()
            if aspect is not None:
                out.append(f"  [aspect] {aspect}")
        if p.get("theme") != theme:
            theme = p.get("theme")
            if theme is not None:
                out.append(f"    [theme] {theme}")
        indent = "  " * (1 + (aspect is not None) + (theme is not None))
        code = f" [{p['primary_code']}]" if p.get("primary_code") else ""
        out.append(f"{indent}{p['label']} {p['title']}{code}  — {p['n_measures']} measures")
    if not problems:
        out.append("  (no problems found)")
    return out


def cmd_build(args) -> int:
    from .build import build

    summary = build(raw_dir=args.raw, out_dir=args.out, jobs=args.jobs, engine=args.engine,
                    scheduler=args.scheduler, figures=not args.no_figures, notebooks=not args.no_notebooks,
                    codebook_path=args.codebook, measure_codebook_path=args.measure_codebook, by=args.by,
                    weighting=args.weight, max_pages=args.max_pages,
                    max_chars=int(args.max_mb * 1_000_000) if getattr(args, "max_mb", None) else None)
    return 0 if summary.get("ok", True) else 1


def cmd_compare(args) -> int:
    """Compare unit A with unit B, or with every other unit: types, terms, measures (a readable summary)."""
    from .study import DEFAULT_BY, Folders, Study

    if (args.b is None) != bool(args.vs_rest):
        print("compare: give a second unit B, or --vs-rest to compare A with every other unit", file=sys.stderr)
        return 2
    study = Study.resolve()
    folders = Folders.from_env()
    folders = Folders(args.raw or folders.raw, args.out or folders.out, folders.export)
    corpus, results = study.open_build(folders, unit=args.by or DEFAULT_BY,
                                       note=lambda line: print(f"compare: {line}", file=sys.stderr))
    result = study.compare(corpus, args.a, args.b, unit=args.by or DEFAULT_BY, top_n=args.top, results=results)
    if args.json:
        doc = {k: getattr(result, k).to_dict("records") for k in ("types", "terms", "measures")}
        print(json.dumps({"a": result.a, "b": result.b, "unit": result.unit, **doc,
                          "overall": result.types.attrs.get("overall")}, ensure_ascii=False, indent=2,
                         default=_json_default))
    else:
        print(result.summary(lang=args.lang, k=args.top))
    return 0


def cmd_classify(args) -> int:
    """Code free texts (first line = title) with the shipped model, or measure types with --measures."""
    from .study import default_study

    texts = [t.replace("\\n", "\n") for t in args.text]
    if not texts:
        texts = [sys.stdin.read()]
    study = default_study()
    model = study.measure_model() if args.measures else study.model()
    if args.measures:
        texts = [t if "\n" in t else t.split("。", 1)[0] + "\n" + t for t in texts]
    results = model.explain(texts) if args.measures else model.explain(texts, agency=args.agency)
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=2, default=_json_default))
        return 0
    for r in results:
        top = sorted(r["scores"].items(), key=lambda kv: -kv[1])[:3]
        print(f"{r['title'][:40]}")
        print(f"  primary: {r['primary_code']}   secondary: {', '.join(r['codes']) or '-'}"
              f"   confidence: {r.get('confidence', 0):.2f}" + (f"   NEEDS REVIEW: {r['review_reason']}"
                                                               if r.get("needs_review") else ""))
        print("  scores: " + ", ".join(f"{c} {v:.2f}" for c, v in top))
        for code, terms in r["matched_terms"].items():
            print(f"  rule terms [{code}]: {'、'.join(terms)}")
        if r["top_features"]:
            print("  model features: " + "、".join(f for f, _ in r["top_features"]))
    return 0


def cmd_train(args) -> int:
    """Fit the problem classifier on the hand labels, write it, and report leave-one-region-out figures."""
    from . import config
    from .study import Study
    from .training import calibration_set, evaluate_loro, model_inputs, train_model

    study = Study.resolve()
    if args.labels:
        study.labels_path = Path(args.labels)
    corpus = study.load(args.raw)
    training = study.training(corpus)
    out = Path(args.out) if args.out else study.model_path
    inputs = model_inputs(study.codebook_path, config.USERDICT_PATH, config.STOPWORDS_PATH,
                          study.labels_path, config.CALIBRATION_PATH)
    statements = None
    if config.CALIBRATION_PATH.is_file():
        statements = calibration_set(config.CALIBRATION_PATH, study.codebook)
    model = train_model(*training, path=out, inputs=inputs, calibration=statements)
    size = out.stat().st_size
    print(f"trained on {model.training_info_['n_train']} problems "
          f"({', '.join(model.training_info_['regions'])}); wrote {out} ({size / 1e6:.2f} MB)")
    cal = getattr(model, "calibration_info_", {})
    if cal:
        print(f"confidence calibrated on {cal['n']} out-of-sample predictions ({cal['n_training_folds']} "
              f"leave-one-region-out, {cal['n_statements']} written statements; {cal['errors']} wrong)")
    if not args.no_eval:
        res = evaluate_loro(*training, jobs=-1)  # the folds on every core
        print("leave-one-region-out (train on the other regions, predict this one):")
        print(res.scores.round(3).to_string(index=False))
    return 0


def cmd_vocab_check(args) -> int:
    """List codebook terms jieba splits apart (exit 1 if any) and terms that match nothing in the corpus."""
    from .study import default_study
    from .vocab import vocab_check

    study = default_study()
    corpus = study.load(args.raw)
    df = vocab_check(corpus, study.tokenizer, {"problem": study.codebook, "measure": study.measure_codebook})
    split = df[df["split"]]
    unmatched = df[df["unmatched"]]
    if args.json:
        print(json.dumps({"n_terms": len(df), "split": split.to_dict("records"),
                          "unmatched": unmatched.to_dict("records")}, ensure_ascii=False, indent=2,
                         default=_json_default))
    else:
        print(f"{len(df)} rule terms; {len(split)} split by jieba; {len(unmatched)} match no problem or measure")
        for r in split.itertuples():
            print(f"  split     [{r.codebook}/{r.code}] {r.term} -> {r.tokens}")
        for r in unmatched.itertuples():
            print(f"  unmatched [{r.codebook}/{r.code}] {r.term}")
    return 1 if len(split) else 0


def cmd_labels_export(args) -> int:
    """Write the problems table as a coding sheet (.xlsx or .csv with BOM); --blind, --uncertain N."""
    from .labels import export_for_coding, least_sure, read_labels
    from .study import default_study

    study = default_study()
    corpus = study.load(args.raw)
    codebook = study.codebook
    labels = None
    if args.prefill and args.blind:
        print("--prefill and --blind exclude each other", file=sys.stderr)
        return 2
    if args.prefill:
        labels = read_labels(study.labels_path, problems=corpus.problems, codebook=codebook)
    problems = corpus.problems
    if args.uncertain is not None:
        problems = least_sure(study.code(corpus).problems, args.uncertain)
        print(f"{len(problems)} least sure problems (confidence {problems['confidence'].min():.2f}"
              f"–{problems['confidence'].max():.2f})")
    for path in export_for_coding(problems, args.out, codebook, labels=labels, blind=args.blind):
        print(f"wrote {path}")
    return 0


def cmd_labels_import(args) -> int:
    """Validate a coded sheet and write it as a label file (problem_id … rationale)."""
    from .labels import LabelError, read_labels
    from .study import default_study

    study = default_study()
    corpus = study.load(args.raw)
    try:
        labels = read_labels(args.file, problems=corpus.problems, codebook=study.codebook,
                             allow_uncoded=not args.complete)
    except LabelError as exc:
        print(exc, file=sys.stderr)
        return 1
    n_coded = int((labels["primary_code"] != "").sum())
    print(f"{args.file}: {len(labels)} rows valid, {n_coded} coded")
    if args.out is None and not args.write and not args.coder:
        return 0
    from .cache import atomic_write

    if args.coder:
        from .labels import coder_labels_path

        out = Path(args.out) if args.out else coder_labels_path(study.labels_path, args.coder)
    else:
        out = Path(args.out) if args.out else study.labels_path
    if out.exists() and not args.force:
        print(f"{out} exists; pass --force to overwrite it", file=sys.stderr)
        return 1
    atomic_write(out, labels.to_csv(index=False))
    print(f"wrote {out}")
    return 0


def cmd_agreement(args) -> int:
    """Agreement of two codings: Cohen's κ overall and per code, Krippendorff's α, confusion, disagreements."""
    import pandas as pd

    from .study import default_study

    if args.second is None and args.coder is None:
        print("agreement needs --coder NAME (labels-import --coder) or --second FILE", file=sys.stderr)
        return 2
    study = default_study()
    res, why_not = study.agreement(study.load(args.raw), coder=args.coder or "second", first=args.first,
                                   second=args.second)
    if res is None:
        print(why_not, file=sys.stderr)
        return 1
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(" vs ".join(res.summary.attrs["files"]))
        print(res.summary.round(3).to_string(index=False))
        print("\nper code:\n" + res.per_code.round(3).to_string(index=False))
        print("\nconfusion (rows: first coder):\n" + res.confusion.to_string())
        cols = [c for c in res.disagreements.columns if c.startswith(("problem_id", "title", "primary_code"))]
        print(f"\n{len(res.disagreements)} disagreements:\n" + res.disagreements[cols].to_string(index=False))
    if args.out:
        from .cache import atomic_write

        out = Path(args.out)
        for name, df in res.items():
            atomic_write(out / f"agreement_{name}.csv", df.to_csv(index=name == "confusion"))
        print(f"wrote {out}/agreement_*.csv")
    return 0


def cmd_codebook_draft(args) -> int:
    """Candidate codes from clusters of problems no code covers well, with a YAML skeleton."""
    from .study import default_study
    from .vocab import draft_codebook

    study = default_study()
    corpus = study.code(study.load(args.raw))
    draft = draft_codebook(corpus.problems, study.tokenizer, max_score=args.max_score, k=args.k)
    print(draft.summary())
    if args.out:
        from .cache import atomic_write

        atomic_write(Path(args.out), draft.yaml())
        print(f"wrote {args.out}")
    else:
        print(draft.yaml())
    return 0


def _add_label_commands(sub) -> None:
    """The hand-coding commands: labels-export, labels-import, agreement, codebook-draft."""
    le = sub.add_parser("labels-export", help="write the problems table as a sheet for hand coding")
    le.add_argument("out", type=Path, help="coding sheet, .xlsx or .csv")
    le.add_argument("--raw", type=Path, default=None, help="folder of reports (default data/raw)")
    le.add_argument("--prefill", action="store_true", help="fill in the codes of resources/labels/problems.csv")
    le.add_argument("--blind", action="store_true", help="for an independent coder: no codes, a 'clear' column")
    le.add_argument("--uncertain", type=int, default=None, metavar="N",
                    help="only the N problems the coder is least sure of (lowest confidence)")
    le.set_defaults(func=cmd_labels_export)
    li = sub.add_parser("labels-import", help="validate a coded sheet and write it as a label file")
    li.add_argument("file", type=Path, help="the coded .xlsx or .csv")
    li.add_argument("--raw", type=Path, default=None, help="folder of reports (default data/raw)")
    li.add_argument("--out", type=Path, default=None, help="label file to write")
    li.add_argument("--write", action="store_true", help="write to resources/labels/problems.csv")
    li.add_argument("--force", action="store_true", help="overwrite an existing label file")
    li.add_argument("--complete", action="store_true", help="every row must have a primary code")
    li.add_argument("--coder", default=None, help="a second (third …) coder: write problems_<NAME>.csv beside "
                                                  "the labels, apart from the first coder's")
    li.set_defaults(func=cmd_labels_import)
    ag = sub.add_parser("agreement", help="Cohen's κ, Krippendorff's α and the disagreements of two codings")
    ag.add_argument("--coder", default=None, help="the second coder (labels-import --coder NAME)")
    ag.add_argument("--second", type=Path, default=None, help="the second coding's label file")
    ag.add_argument("--first", type=Path, default=None, help="the first coding (default the shipped labels)")
    ag.add_argument("--raw", type=Path, default=None, help="folder of reports (default data/raw)")
    ag.add_argument("--out", type=Path, default=None, help="write agreement_*.csv into this folder")
    ag.set_defaults(func=cmd_agreement)
    cd = sub.add_parser("codebook-draft", help="candidate codes from problems no code covers well (YAML skeleton)")
    cd.add_argument("--raw", type=Path, default=None, help="folder of reports (default data/raw)")
    cd.add_argument("--out", type=Path, default=None, help="write the YAML skeleton here (default: print it)")
    cd.add_argument("--max-score", type=float, default=None,
                    help="a problem is poorly covered below this confidence (default: needs_review problems "
                         "and those under 0.8)")
    cd.add_argument("-k", type=int, default=None, help="number of candidate codes (default: by silhouette)")
    cd.set_defaults(func=cmd_codebook_draft)


def _compare_parser(sub) -> None:
    cp = sub.add_parser("compare", help="compare two units (or one against the rest): types, terms, measures")
    cp.add_argument("a", help="a unit: its label or the start of it (e.g. 海珠区 for 海珠区（广州市）)")
    cp.add_argument("b", nargs="?", default=None, help="the unit to compare with")
    cp.add_argument("--vs-rest", action="store_true", help="compare A with every other unit")
    cp.add_argument("--by", default=None, metavar="UNIT", help="what a unit is (as build --by; default place)")
    cp.add_argument("--out", type=Path, default=None,
                    help="the build's output folder to read (default data/processed); without a build there, "
                         "the reports of --raw are read and coded")
    cp.add_argument("--raw", type=Path, default=None, help="folder of reports (default data/raw)")
    cp.add_argument("--top", type=int, default=8, help="key terms shown in each direction")
    cp.add_argument("--lang", choices=["zh", "en"], default="zh", help="names of the types")
    cp.add_argument("--json", action="store_true", help="print the three tables as JSON")
    cp.set_defaults(func=cmd_compare)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m compare", description=__doc__)
    ap.add_argument("--debug", action="store_true", help="show the traceback of an error")
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("parse", help="parse one report and print its structure")
    p.add_argument("file")
    p.add_argument("--json", action="store_true", help="print the report, problems and measures as JSON")
    p.add_argument("--max-mb", type=float, default=None,
                   help="refuse a file whose text exceeds this many million characters (default 20)")
    p.set_defaults(func=cmd_parse)
    b = sub.add_parser("build", help="the whole study: tables, codes, clusters, analysis, figures, notebooks")
    b.add_argument("--raw", type=Path, default=None, help="folder of reports (default data/raw)")
    b.add_argument("--out", type=Path, default=None,
                   help="write everything under this folder: tables, tables/, figures/, reports/ "
                        "(default: data/processed, figures/, reports/ of the project)")
    b.add_argument("--jobs", type=int, default=-1, help="worker processes (default -1: all cores)")
    b.add_argument("--codebook", type=Path, default=None, help="problem codebook YAML (default: the bundled one)")
    b.add_argument("--measure-codebook", type=Path, default=None, help="measure codebook YAML")
    b.add_argument("--engine", choices=["local", "dask"], default="local")
    b.add_argument("--scheduler", default=None, help="dask scheduler address, with --engine dask")
    b.add_argument("--by", default=None, metavar="UNIT",
                   help="unit of comparison: report, place (default), place_year, city, province, admin_level, "
                        "agency, year or a column of the reports table")
    b.add_argument("--weight", choices=["pooled", "mean"], default="pooled",
                   help="a unit's shares: its problems pooled (default) or the mean of its reports' shares")
    b.add_argument("--max-pages", type=int, default=None, metavar="N",
                   help="pages of each figure at most (default 3); the units beyond are in the tables")
    b.add_argument("--no-figures", action="store_true")
    b.add_argument("--no-notebooks", action="store_true")
    b.add_argument("--max-mb", type=float, default=None,
                   help="refuse a file whose text exceeds this many million characters (default 20): an errors row")
    b.set_defaults(func=cmd_build)
    _compare_parser(sub)
    c = sub.add_parser("classify", help="code free texts (first line = title) with the shipped problem model")
    c.add_argument("text", nargs="*", help="texts to code (default: stdin); a literal \\n separates the title")
    c.add_argument("--json", action="store_true", help="print primary code, scores and evidence as JSON")
    c.add_argument("--measures", action="store_true", help="code measure types (rules of the measure codebook)")
    c.add_argument("--agency", default=None, help="the unit the texts come from, e.g. 卫生健康局 (default: 民政)")
    c.set_defaults(func=cmd_classify)
    t = sub.add_parser("train", help="fit the problem classifier on resources/labels and write the shipped model")
    t.add_argument("--labels", type=Path, default=None, help="label file (default resources/labels/problems.csv)")
    t.add_argument("--raw", type=Path, default=None, help="folder of reports (default data/raw)")
    t.add_argument("--out", type=Path, default=None, help="model file (default: inside the package)")
    t.add_argument("--no-eval", action="store_true", help="skip the leave-one-region-out evaluation")
    t.set_defaults(func=cmd_train)
    v = sub.add_parser("vocab-check", help="codebook terms jieba splits apart or that match nothing")
    v.add_argument("--raw", type=Path, default=None, help="folder of reports (default data/raw)")
    v.add_argument("--json", action="store_true")
    v.set_defaults(func=cmd_vocab_check)
    _add_label_commands(sub)
    return ap


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    if isinstance(exc, OSError) and exc.filename and str(exc.filename) not in text:
        text = f"{exc.filename}: {text}"
    return text.splitlines()[0]


def main(argv: list[str] | None = None) -> int:
    """Run one command; an error is one line on stderr and exit status 2 (``--debug``: the traceback)."""
    args = build_parser().parse_args(argv)
    if not args.debug:  # a warning is one line too: what and where, without the source line that raised it
        warnings.formatwarning = lambda message, category, *_a, **_k: f"compare: warning: {message}\n"
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("compare: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.debug:
            raise
        print(f"compare: error: {_one_line(exc)} (--debug shows the traceback)", file=sys.stderr)
        return 2
