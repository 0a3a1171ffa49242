#!/usr/bin/env python
"""Benchmark of compare's per-file stage and classification against raw jieba (issue 5).

Builds a corpus of N distinct reports in a temporary folder from the bundled ones (``config.RAW_DIR``): every
copy gets another region (a real county, district or city from cpca's table), shifted years and another
publication date, its problems shuffled within their heading (and renumbered), and the sentences of its
measures shuffled (the first, which carries the ``一是`` label, stays first). Copies are checked to be pairwise
distinct, so no cache or dedup can shortcut the work, and to parse as reports (``n_problems > 0``).

Then, each variant in a fresh Python process (so peaks of memory are separate and no in-memory cache is shared):

a. ``jieba_floor``: read every file and ``jieba.lcut`` all of its text;
b. ``pipeline_cold``: ``load_reports`` (read, normalise, parse, extract, tokenise) plus ``classify_problems`` and
   ``classify_measures``, one process, empty cache (``COMPARE_CACHE`` points to a new folder);
c. ``pipeline_cold_jobs2``: the same with ``jobs=2`` and another empty cache: ``load_reports(jobs=2)``, and the
   two classifications through ``compare.runner.map_frames(..., jobs=2)`` (chunks of whole reports in two
   forked processes that inherit the loaded model);
d. ``pipeline_warm``: b again on b's cache, in a new process.

``seconds`` is the wall time of that work inside the process; interpreter start, imports and loading the
classifier are reported apart (``setup_s``). jieba's dictionary is loaded inside the timed work in every variant
(the floor's ``lcut`` loads it lazily, as the pipeline's tokenizer does). Peak memory is the largest sum of the
resident set sizes of the process and its worker processes, sampled every 20 ms with psutil (pages that forked
workers share with their parent count twice, so it is an upper bound), and never below the process's own
``ru_maxrss``.

Variants a and b run again on ``scale·N`` reports (all four with ``--scale-all``): ``growth`` = t(scale·N)/t(N) of
b, and the memory per report between the two sizes extrapolates the peak to 10,000 reports.

Usage::

    python benchmarks/bench_pipeline.py --reports 100 --json [--scale 10] [--targets] [--keep]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import platform
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

#: The issue's targets: (ratio or figure, comparison, bound).
TARGETS = {
    "pipeline_vs_jieba": ("<=", 1.2),
    "pipeline_vs_jieba_at_scale": ("<=", 1.2),
    "speedup_jobs2": (">=", 1.8),
    "warm_vs_cold": ("<=", 0.1),
    "growth": ("<=", 11.0),
    "peak_rss_mb_10000": ("<=", 2048.0),
    "pss_mb_10000": ("<=", 2560.0),
}
#: Targets that only a ``--measure-at 10000`` run measures (the others: "not measured" without it).
MEMORY_TARGETS = ("peak_rss_mb_10000", "pss_mb_10000")

VARIANTS = {  # name: (kind, jobs)
    "jieba_floor": ("jieba", 1),
    "pipeline_cold": ("pipeline", 1),
    "pipeline_cold_jobs2": ("pipeline", 2),
    "pipeline_warm": ("pipeline", 1),
}

# --------------------------------------------------------------------------------------------- the corpus

_PROVINCE_SUFFIX = re.compile(r"(省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区)$")


def _places() -> dict[str, list[dict]]:
    """Real counties, districts and prefecture cities with their city and province (cpca's adcode table)."""
    import importlib.resources

    with importlib.resources.files("cpca").joinpath("resources/adcodes.csv").open(encoding="utf-8") as fh:
        rows = [(r["adcode"][:6], r["name"]) for r in csv.DictReader(fh)]
    by_code = dict(rows)
    out: dict[str, list[dict]] = {"county": [], "district": [], "city": []}
    for code, name in rows:
        prov = by_code.get(code[:2] + "0000")
        if not prov or prov.endswith(("特别行政区",)) or code[:2] in ("11", "12", "31", "50"):
            continue  # municipalities have no city level to swap in
        if code[4:] == "00" and code[2:4] != "00" and name.endswith("市"):
            out["city"].append({"city": name, "province": prov})
            continue
        city = by_code.get(code[:4] + "00")
        if code[4:] == "00" or not city or not city.endswith("市"):
            continue
        kind = "district" if name.endswith("区") else "county" if name.endswith("县") else None
        if kind:
            out[kind].append({"name": name, "city": city, "province": prov})
    return out


def _short(name: str) -> str:
    core = re.sub(r"(县|区|市)$", "", name)
    return core if len(core) >= 2 else name


def _place_names(region: str | None, city: str | None, province: str | None) -> list[tuple[str, str]]:
    """(name, level) of a report's places, full names and short forms, longest first (the order to replace in)."""
    names: dict[str, str] = {}
    if region and region != city:
        names[region] = "region"
    if city:
        names[city] = "city"
    if province:
        names[province] = "province"
    for name, level in list(names.items()):
        short = _PROVINCE_SUFFIX.sub("", name) if level == "province" else _short(name)
        if short and short != name:
            names.setdefault(short, level + "_short")
    return sorted(names.items(), key=lambda kv: -len(kv[0]))


def _renames(names: list[tuple[str, str]], place: dict) -> list[tuple[str, str]]:
    prov = place["province"]
    region = place.get("name") or place["city"]
    new = {
        "region": region, "city": place["city"], "province": prov, "region_short": _short(region),
        "city_short": _short(place["city"]), "province_short": _PROVINCE_SUFFIX.sub("", prov) or prov,
    }
    return [(old, new[level]) for old, level in names]


class _Seed:
    """A bundled report with its problems' and measures' spans mapped back to the raw text, and its places.

    The places come from the parser's metadata (region, city, province of the issuer, found with cpca), so any
    report in ``data/raw`` whose issuer names a county, district or prefecture city can seed the corpus.
    """

    def __init__(self, path: Path):
        from compare.metadata import read_metadata
        from compare.normalize import normalize
        from compare.parse import parse

        self.key = path.stem
        self.raw = path.read_text(encoding="utf-8")
        norm = normalize(self.raw)
        parsed = parse(norm.text)
        meta, _ = read_metadata(norm.text, parsed)
        self.level = {"county": "county", "district": "district", "city": "city"}.get(meta.get("admin_level"))
        self.names = _place_names(meta.get("region"), meta.get("city"), meta.get("province"))
        self.n_problems = len(parsed.problems)
        self.groups: list[list[tuple[int, int]]] = []  # raw (start, end) of the problems under one heading
        self.measures: list[tuple[int, int]] = []  # raw spans of labelled measures
        last = None
        for p in parsed.problems:
            span = norm.raw_span(p.start, p.end)
            if (p.aspect, p.theme) != last:
                self.groups.append([])
                last = (p.aspect, p.theme)
            self.groups[-1].append(span)
            self.measures += [norm.raw_span(m.start, m.end) for m in p.measures if m.label]


_LABEL = re.compile(r"^(\s*(?:\*\*)?\s*[（(]?)(\d{1,3})")
_YEAR = re.compile(r"(20[12]\d)(?=\s*年)")
_DATE_LINE = re.compile(r"^(\s*)(20\d\d)(\s*年\s*)(\d{1,2})(\s*月\s*)(\d{1,2})(\s*日\s*)$", re.M)


def _shuffle_sentences(text: str, rng: random.Random) -> str:
    parts = re.findall(r"[^。]*。|[^。]+$", text)
    whole = [p for p in parts if p.endswith("。")]
    if len(whole) < 3:
        return text
    tail = "" if parts[-1].endswith("。") else parts[-1]
    body = whole[1:]
    rng.shuffle(body)
    return whole[0] + "".join(body) + tail


def _variant(seed: _Seed, rng: random.Random, place: dict) -> str:
    raw = seed.raw
    # sentences within measures (a permutation keeps every length, so the spans stay valid)
    pieces, pos = [], 0
    for a, b in seed.measures:
        pieces += [raw[pos:a], _shuffle_sentences(raw[a:b], rng)]
        pos = b
    raw = "".join(pieces) + raw[pos:]
    # problems within their heading, renumbered in their new order
    pieces, pos = [], 0
    for group in seed.groups:
        if len(group) < 2:
            continue
        starts = [a for a, _ in group]
        ends = starts[1:] + [group[-1][1]]
        blocks = [raw[a:b] for a, b in zip(starts, ends, strict=True)]
        content = [b.rstrip() for b in blocks]
        gaps = [b[len(c):] for b, c in zip(blocks, content, strict=True)]
        numbers = [m.group(2) if (m := _LABEL.match(c)) else None for c in content]
        order = list(range(len(blocks)))
        rng.shuffle(order)
        moved = []
        for k, j in enumerate(order):
            c = content[j]
            if numbers[k] is not None and _LABEL.match(c):
                c = _LABEL.sub(lambda m, n=numbers[k]: m.group(1) + n, c, count=1)
            moved.append(c + gaps[k])
        pieces += [raw[pos:starts[0]], "".join(moved)]
        pos = ends[-1]
    raw = "".join(pieces) + raw[pos:]
    # places, years, publication date
    for old, new in _renames(seed.names, place):
        raw = raw.replace(old, new)
    shift = rng.choice((-3, -2, -1, 0, 1))
    raw = _YEAR.sub(lambda m: str(int(m.group(1)) + shift), raw)
    dates = list(_DATE_LINE.finditer(raw))
    if dates:
        m = dates[-1]
        new = (f"{m.group(1)}{m.group(2)}{m.group(3)}{rng.randint(1, 12)}{m.group(5)}{rng.randint(1, 28)}"
               f"{m.group(7)}")
        raw = raw[: m.start()] + new + raw[m.end():]
    return raw


def build_corpus(out_dir: Path, n: int, seed: int = 0, fixed: dict[int, dict] | None = None) -> dict:
    """Write ``n`` distinct report variants into ``out_dir``; the i-th file depends only on ``seed`` and i.

    ``fixed`` gives the place of some reports (index → a place of :func:`_places` of the report's level)
    instead of a random one: places that share a name, or one bureau reporting twice (benchmarks/bench_study.py).

    Returns
    -------
    dict
        ``paths``, ``n_chars`` (total characters), ``seed_problems`` (problems of each file's source report).
    """
    from compare import config

    seeds = [s for s in map(_Seed, sorted(config.RAW_DIR.glob("*.txt"))) if s.level and s.names and s.n_problems]
    if not seeds:
        raise SystemExit(f"no bundled report in {config.RAW_DIR} names a county, district or city and parses")
    places = _places()
    out_dir.mkdir(parents=True, exist_ok=True)
    seen: set[str] = set()
    paths, n_chars, expected = [], 0, []
    for i in range(n):
        s = seeds[i % len(seeds)]
        for attempt in range(100):
            rng = random.Random(f"{seed}:{i}:{attempt}")
            text = _variant(s, rng, (fixed or {}).get(i) or rng.choice(places[s.level]))
            digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
            if digest not in seen:
                break
        else:  # pragma: no cover - 100 collisions in a row would mean the variation is broken
            raise RuntimeError(f"could not make report {i} distinct")
        seen.add(digest)
        path = out_dir / f"r{i:05d}_{s.key}.txt"
        path.write_text(text, encoding="utf-8")
        paths.append(str(path))
        n_chars += len(text)
        expected.append(s.n_problems)
    return {"paths": paths, "n_chars": n_chars, "seed_problems": expected}


# --------------------------------------------------------------------------------------- child processes


def _maxrss_mb(who) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # KiB on Linux


def _child(kind: str, files_dir: str, jobs: int) -> dict:
    """One variant's work in this (fresh) process; returns its figures."""
    t_setup = time.perf_counter()
    paths = sorted(str(p) for p in Path(files_dir).iterdir() if p.suffix == ".txt")
    if kind == "jieba":
        import jieba

        jieba.setLogLevel(60)
        setup = time.perf_counter() - t_setup
        t0 = time.perf_counter()
        n_tokens = n_chars = 0
        for p in paths:
            text = Path(p).read_bytes().decode("utf-8")
            n_chars += len(text)
            n_tokens += len(jieba.lcut(text))
        seconds = time.perf_counter() - t0
        return {"seconds": seconds, "setup_s": setup, "n_reports": len(paths), "n_chars": n_chars,
                "n_tokens": n_tokens, "maxrss_self_mb": _maxrss_mb(resource.RUSAGE_SELF),
                "maxrss_children_mb": _maxrss_mb(resource.RUSAGE_CHILDREN), "cpu_s": _cpu_s()}

    from compare.runner import shared_workers
    from compare.study import Study

    study = Study.resolve()  # the cache folder comes from COMPARE_CACHE, set by the parent per variant
    study.model()  # loaded once: coding (here or in forked workers) finds it loaded
    setup = time.perf_counter() - t_setup
    t0 = time.perf_counter()
    with shared_workers(jobs):  # as a build does: workers started once for both stages
        corpus = study.load(paths, jobs=jobs, progress=False)
        t1 = time.perf_counter()
        study.code(corpus, jobs=jobs, progress=False)
    problems, measures = corpus.problems, corpus.measures
    t3 = time.perf_counter()
    per_report = corpus.reports["n_problems"]
    return {
        "seconds": t3 - t0, "setup_s": setup,
        "stages": {"load_reports": t1 - t0, "classify": t3 - t1},
        "n_reports": len(corpus.reports), "n_errors": len(corpus.errors), "n_chars": int(corpus.reports["n_chars_raw"].sum()),
        "n_problems": len(problems), "n_measures": len(measures),
        "n_problems_per_report": per_report.tolist(),
        "maxrss_self_mb": _maxrss_mb(resource.RUSAGE_SELF),
        "maxrss_children_mb": _maxrss_mb(resource.RUSAGE_CHILDREN),
        "cpu_s": _cpu_s(),
    }


def _cpu_s() -> float:
    """User + system CPU seconds of this process and its ended workers."""
    return sum(getattr(resource.getrusage(w), f) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
               for f in ("ru_utime", "ru_stime"))


class _MemorySampler(threading.Thread):
    """Samples the memory of a process and its workers until it ends.

    ``rss_sum`` is the largest sum of resident sets (pages forked workers share with the parent count more than
    once: an upper bound), ``rss_max`` the largest resident set of any one process, and with ``pss=True``
    ``pss`` the largest total proportional set size (psutil's ``memory_full_info().pss``: each shared page
    divided among the processes that map it, so the sum is what the tree really holds). PSS is read from
    ``/proc/PID/smaps``, which costs time on a large process, so it is sampled every 0.25 s, RSS every 20 ms.
    """

    def __init__(self, pid: int, pss: bool = False):
        super().__init__(daemon=True)
        self.pid, self.want_pss = pid, pss
        self.rss_sum = self.rss_max = self.pss = 0
        self.stop = threading.Event()

    def run(self) -> None:
        import psutil

        try:
            root = psutil.Process(self.pid)
        except psutil.Error:
            return
        last_pss = 0.0
        while not self.stop.is_set():
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.Error:
                break
            rss = [_safe(lambda p=p: p.memory_info().rss) for p in procs]
            self.rss_sum = max(self.rss_sum, sum(rss))
            self.rss_max = max(self.rss_max, max(rss, default=0))
            if self.want_pss and time.monotonic() - last_pss >= 0.25:
                last_pss = time.monotonic()
                self.pss = max(self.pss, sum(_safe(lambda p=p: p.memory_full_info().pss) for p in procs))
            self.stop.wait(0.02)


def _safe(get) -> int:
    import psutil

    try:
        return get()
    except psutil.Error:
        return 0


def run_variant(name: str, files_dir: Path, cache_dir: Path, work: Path, jobs: int | None = None,
                pss: bool = False) -> dict:
    """Run one variant in a new process (``jobs`` overrides its number of workers), sampling the memory of
    its process tree (:class:`_MemorySampler`; ``pss`` also the proportional set sizes)."""
    kind, default_jobs = VARIANTS[name]
    jobs = default_jobs if jobs is None else jobs
    out_file = work / f"{name}-{time.monotonic_ns()}.json"
    env = {**os.environ, "COMPARE_CACHE": str(cache_dir), "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1",
           "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "COMPARE_PROGRESS": "0"}
    cmd = [sys.executable, str(Path(__file__).resolve()), "--_child", kind, "--_files", str(files_dir),
           "--_jobs", str(jobs), "--_out", str(out_file)]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    sampler = _MemorySampler(proc.pid, pss)
    sampler.start()
    _, err = proc.communicate()
    sampler.stop.set()
    sampler.join()
    wall = time.perf_counter() - started
    if proc.returncode != 0 or not out_file.exists():
        raise RuntimeError(f"variant {name} failed (exit {proc.returncode}):\n{err[-3000:]}")
    res = json.loads(out_file.read_text(encoding="utf-8"))
    res["process_s"] = wall
    res["peak_rss_mb"] = max(sampler.rss_sum / 2**20, res["maxrss_self_mb"])
    res["peak_rss_largest_mb"] = max(sampler.rss_max / 2**20, res["maxrss_self_mb"], res["maxrss_children_mb"])
    if pss:
        res["peak_pss_mb"] = sampler.pss / 2**20
    return res


def run_best(name: str, files_dir: Path, cache_dir: Path, work: Path, repeat: int) -> dict:
    """:func:`run_variant` ``repeat`` times; the run with the least time, with every run's seconds.

    A cold variant starts each run from an empty cache (its folder is removed first); the warm variant runs
    on the cache the cold one left. The minimum is the figure least disturbed by other jobs on the machine.
    """
    runs = []
    for _ in range(max(1, repeat)):
        if VARIANTS[name][0] == "pipeline" and name != "pipeline_warm":
            shutil.rmtree(cache_dir, ignore_errors=True)
        runs.append(run_variant(name, files_dir, cache_dir, work))
    best = min(runs, key=lambda r: r["seconds"])
    best["runs_s"] = [round(r["seconds"], 3) for r in runs]
    best["peak_rss_mb"] = max(r["peak_rss_mb"] for r in runs)
    return best


# ---------------------------------------------------------------------------------------------- reporting


def _summary(res: dict, n_chars: int) -> dict:
    out = {
        "seconds": round(res["seconds"], 3),
        "reports_per_s": round(res["n_reports"] / res["seconds"], 2) if res["seconds"] else None,
        "chars_per_s": round(n_chars / res["seconds"]) if res["seconds"] else None,
        "peak_rss_mb": round(res["peak_rss_mb"], 1),
        "peak_rss_self_mb": round(res["maxrss_self_mb"], 1),
        "peak_rss_one_worker_mb": round(res["maxrss_children_mb"], 1),
        "peak_rss_largest_mb": round(res["peak_rss_largest_mb"], 1),
        "cpu_s": round(res["cpu_s"], 3),
        "runs_s": res.get("runs_s"),
        "setup_s": round(res["setup_s"], 3),
        "process_s": round(res["process_s"], 3),
        "n_reports": res["n_reports"],
    }
    if "stages" in res:
        out["stages_s"] = {k: round(v, 3) for k, v in res["stages"].items()}
        out.update({k: res[k] for k in ("n_problems", "n_measures", "n_errors")})
    return out


def _ratio(a, b):
    return round(a / b, 3) if a is not None and b else None


def _check(results: dict, expected: list[int], name: str) -> None:
    got = results.get("n_problems_per_report")
    if got is None:
        return
    if results["n_errors"] or len(got) != len(expected) or min(got, default=0) <= 0:
        raise SystemExit(f"{name}: generated reports that do not parse: {results['n_errors']} errors, "
                         f"{sum(1 for g in got if g <= 0)} without problems")


def evaluate_targets(out: dict) -> dict:
    """pass/miss of every target of the issue for the figures in ``out`` ("not measured" when absent)."""
    res = {}
    for key, (op, bound) in TARGETS.items():
        value = out.get(key) if key in MEMORY_TARGETS else out["ratios"].get(key)
        if value is None:
            res[key] = {"value": None, "target": f"{op} {bound}", "result": "not measured"}
            continue
        ok = value <= bound if op == "<=" else value >= bound
        res[key] = {"value": value, "target": f"{op} {bound}", "result": "pass" if ok else "miss"}
    return res


def _ratios(raw: dict, scaled: dict) -> dict:
    """Every ratio of the figures at N (``raw``) and scale·N (``scaled``), the stages' too."""
    sec = {k: v["seconds"] for k, v in raw.items()}
    ratios = {
        "pipeline_vs_jieba": _ratio(sec["pipeline_cold"], sec["jieba_floor"]),
        "speedup_jobs2": _ratio(sec["pipeline_cold"], sec["pipeline_cold_jobs2"]),
        "warm_vs_cold": _ratio(sec["pipeline_warm"], sec["pipeline_cold"]),
        "growth": _ratio(scaled["pipeline_cold"]["seconds"], sec["pipeline_cold"]) if scaled else None,
        "growth_jieba": _ratio(scaled["jieba_floor"]["seconds"], sec["jieba_floor"]) if scaled else None,
    }
    # the same ratios for the per-file stage alone (load_reports), to show where the time goes
    load = {k: v["stages"]["load_reports"] for k, v in raw.items() if "stages" in v}
    ratios["load_vs_jieba"] = _ratio(load["pipeline_cold"], sec["jieba_floor"])
    ratios["speedup_jobs2_load"] = _ratio(load["pipeline_cold"], load["pipeline_cold_jobs2"])
    ratios["warm_vs_cold_load"] = _ratio(load["pipeline_warm"], load["pipeline_cold"])
    # CPU seconds of the whole process tree: what the work costs, whatever else runs on the machine
    ratios["pipeline_vs_jieba_cpu"] = _ratio(raw["pipeline_cold"].get("cpu_s"), raw["jieba_floor"].get("cpu_s"))
    if scaled:
        ratios["pipeline_vs_jieba_at_scale"] = _ratio(scaled["pipeline_cold"]["seconds"],
                                                      scaled["jieba_floor"]["seconds"])
        if "pipeline_cold_jobs2" in scaled:
            ratios["speedup_jobs2_at_scale"] = _ratio(scaled["pipeline_cold"]["seconds"],
                                                      scaled["pipeline_cold_jobs2"]["seconds"])
            ratios["warm_vs_cold_at_scale"] = _ratio(scaled["pipeline_warm"]["seconds"],
                                                     scaled["pipeline_cold"]["seconds"])
    return ratios


def measure_memory(work: Path, n: int, jobs: int, seed: int, log) -> dict:
    """The real build of ``n`` reports (per-file stage and coding, cold) with ``jobs`` workers, and its memory:
    the largest resident set of any one process and the largest total PSS of all of them."""
    t = time.perf_counter()
    folder = work / f"corpus_{n}"
    corpus = build_corpus(folder, n, seed)
    log(f"memory: {n} distinct reports in {time.perf_counter() - t:.1f}s; pipeline_cold with jobs={jobs} …")
    res = run_variant("pipeline_cold", folder, work / f"cache_{n}", work, jobs=jobs, pss=True)
    _check(res, corpus["seed_problems"], f"memory at {n}")
    log(f"memory: {res['seconds']:.1f}s, largest process {res['peak_rss_largest_mb']:.0f} MB, "
        f"PSS {res['peak_pss_mb']:.0f} MB")
    return {
        "measured": True, "reports": n, "jobs": jobs, "seconds": round(res["seconds"], 1),
        "peak_rss_mb": round(res["peak_rss_largest_mb"], 1), "pss_mb": round(res["peak_pss_mb"], 1),
        "rss_sum_mb": round(res["peak_rss_mb"], 1), "n_problems": res["n_problems"], "n_measures": res["n_measures"],
        "method": (f"a real cold run on {n} reports with jobs={jobs}: peak resident set of the largest process, "
                   "and peak of the summed PSS (psutil memory_full_info) over the process and its workers"),
    }


def _arguments(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reports", "-n", type=int, default=30, help="N, the number of reports (default 30)")
    ap.add_argument("--scale", type=int, default=10, help="also run a and b on scale·N reports (default 10; 1: no)")
    ap.add_argument("--scale-all", action="store_true", help="run all four variants at scale·N too")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each variant at N; the least time counts (3)")
    ap.add_argument("--repeat-at-scale", type=int, default=1, help="runs of each variant at scale·N (default 1)")
    ap.add_argument("--measure-at", type=int, default=None, metavar="M",
                    help="also run a real cold build of M reports and measure its memory (e.g. 10000)")
    ap.add_argument("--measure-jobs", type=int, default=2, help="workers of the --measure-at run (default 2)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the corpus variations (default 0)")
    ap.add_argument("--json", action="store_true", help="print the results as JSON on stdout")
    ap.add_argument("--targets", action="store_true", help="compare with the issue's targets (pass/miss)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder (corpus and caches)")
    ap.add_argument("--_child", help=argparse.SUPPRESS)
    ap.add_argument("--_files", help=argparse.SUPPRESS)
    ap.add_argument("--_jobs", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--_out", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if not args._child and (args.reports < 1 or args.scale < 1 or args.repeat < 1):
        ap.error("--reports, --scale and --repeat must be at least 1")
    return args


def _log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def _run_all(args, work: Path) -> dict:
    n, big = args.reports, args.reports * args.scale
    t = time.perf_counter()
    corpus_all = build_corpus(work / "corpus_big", big, args.seed)
    small_dir = work / "corpus"
    small_dir.mkdir()
    for p in corpus_all["paths"][:n]:
        os.link(p, small_dir / Path(p).name)
    n_chars_small = sum(len(Path(p).read_text(encoding="utf-8")) for p in corpus_all["paths"][:n])
    _log(f"corpus: {big} distinct reports in {time.perf_counter() - t:.1f}s ({work})")
    raw: dict[str, dict] = {}
    for name in VARIANTS:
        cache = work / ("cache_b" if name in ("pipeline_cold", "pipeline_warm") else f"cache_{name}")
        raw[name] = run_best(name, small_dir, cache, work, args.repeat)
        _check(raw[name], corpus_all["seed_problems"][:n], name)
        _log(f"N={n}: {name} {raw[name]['seconds']:.2f}s (runs {raw[name]['runs_s']})")
    scaled: dict[str, dict] = {}
    if args.scale > 1:
        for name in list(VARIANTS) if args.scale_all else ["jieba_floor", "pipeline_cold"]:
            cache = work / ("cache_big_b" if name in ("pipeline_cold", "pipeline_warm") else f"cache_big_{name}")
            scaled[name] = run_best(name, work / "corpus_big", cache, work, args.repeat_at_scale)
            _check(scaled[name], corpus_all["seed_problems"], name)
            _log(f"N={big}: {name} {scaled[name]['seconds']:.2f}s (runs {scaled[name]['runs_s']})")
    mem = {"measured": False, "method": "not measured: run with --measure-at 10000"}
    if args.measure_at:
        mem = measure_memory(work, args.measure_at, args.measure_jobs, args.seed, _log)
    out = {
        "reports": n, "scale": args.scale, "reports_at_scale": big if scaled else None, "seed": args.seed,
        "repeat": args.repeat, "n_chars": n_chars_small, "n_chars_at_scale": corpus_all["n_chars"] if scaled else None,
        "machine": {"cores": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "load_average": [round(x, 2) for x in os.getloadavg()]},
        "variants": {k: _summary(v, n_chars_small) for k, v in raw.items()},
        "variants_at_scale": {k: _summary(v, corpus_all["n_chars"]) for k, v in scaled.items()},
        "seconds": {"N": {k: round(v["seconds"], 3) for k, v in raw.items()},
                    "scale_N": {k: round(v["seconds"], 3) for k, v in scaled.items()}},
        "ratios": _ratios(raw, scaled),
        "memory_10000": mem,
    }
    if mem["measured"] and mem["reports"] == 10_000:
        out["peak_rss_mb_10000"], out["pss_mb_10000"] = mem["peak_rss_mb"], mem["pss_mb"]
    return out


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    if args._child:
        res = _child(args._child, args._files, args._jobs)
        Path(args._out).write_text(json.dumps(res), encoding="utf-8")
        return 0
    work = Path(tempfile.mkdtemp(prefix="compare-bench-"))
    try:
        out = _run_all(args, work)
        if args.targets:
            out["targets"] = evaluate_targets(out)
        if args.keep:
            out["folder"] = str(work)
        if args.json:
            print(json.dumps(out, ensure_ascii=False, indent=2))
        else:
            _print_text(out)
        if args.targets:
            stream = sys.stderr if args.json else sys.stdout
            for key, t in out["targets"].items():
                print(f"{t['result']:>12}  {key} = {t['value']} (target {t['target']})", file=stream)
    finally:
        if args.keep:
            _log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


def _print_text(out: dict) -> None:
    print(f"{out['reports']} reports ({out['n_chars']:,} characters), {out['machine']['cores']} cores")
    for name, v in out["variants"].items():
        print(f"  {name:<22} {v['seconds']:>8.2f} s  {v['reports_per_s']:>8.1f} reports/s  "
              f"{v['chars_per_s']:>10,} chars/s  peak {v['peak_rss_mb']:>7.1f} MB")
    for name, v in out["variants_at_scale"].items():
        print(f"  {name + ' ×' + str(out['scale']):<22} {v['seconds']:>8.2f} s  {v['reports_per_s']:>8.1f} reports/s  "
              f"{v['chars_per_s']:>10,} chars/s  peak {v['peak_rss_mb']:>7.1f} MB")
    for k, v in out["ratios"].items():
        print(f"  {k} = {v}")
    mem = out["memory_10000"]
    if mem["measured"]:
        print(f"  memory at {mem['reports']:,} reports (jobs={mem['jobs']}): largest process {mem['peak_rss_mb']} MB, "
              f"PSS of all {mem['pss_mb']} MB")
    else:
        print(f"  memory: {mem['method']}")


if __name__ == "__main__":
    sys.exit(main())
