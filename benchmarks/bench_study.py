#!/usr/bin/env python
"""Benchmark of the whole study (issue 11): the real build on generated corpora of several sizes.

For every size N of ``--sizes`` (default 30, 150, 1000) the corpus generator of ``bench_pipeline.py`` writes N
distinct reports (places, years, dates, order of problems and sentences varied). Among them, always: 鼓楼区 of
南京市 and 鼓楼区 of 福州市 (two places sharing a name), 南京市鼓楼区's bureau reporting twice, and one county
bureau reporting twice. Then, each in a fresh process:

a. the floor: ``jieba.lcut`` of every file's text (``bench_pipeline.run_variant("jieba_floor")``);
b. the study: ``python -m compare build --raw CORPUS --out OUT`` with an empty cache (``COMPARE_CACHE`` a new
   folder), ``--jobs 2``, notebooks included unless ``--no-notebooks``.

It prints the seconds of every stage of the build (from ``OUT/build_summary.json``), the peak memory of each
stage (the largest resident set of the build's process tree sampled every 100 ms, stages placed on the clock
backwards from the end of the process, so a stage's figure is approximate by a sample or two; with PSS, where
psutil can read it, the pages forked workers share with their parent counted once) and its CPU seconds (of the
process tree, sampled likewise: on a shared machine a steadier figure than the wall time), the growth of every stage
between consecutive sizes scaled to a tenfold corpus, t(10·N)/t(N) = (t₂/t₁)^(log 10 / log(N₂/N₁)), and the
build's time over jieba's for the same files in the same run. Targets (pass/miss): growth ≤ 11 per stage, the
build of 1,000 reports ≤ 600 s, the largest process ≤ 2 GiB (its resident set) and all of them ≤ 2 GiB by PSS,
the build of 150 reports ≤ 15 × jieba.

Usage::

    python benchmarks/bench_study.py [--sizes 30 150 1000] [--json] [--no-notebooks] [--keep]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_pipeline import _places, build_corpus, run_variant  # noqa: E402  (the one corpus generator)

#: peak_mb: all processes together by PSS; largest_process_mb: the resident set of the largest one (issue 11).
TARGETS = {"growth": 11.0, "build_1000_s": 600.0, "peak_mb": 2048.0, "largest_process_mb": 2048.0,
           "vs_jieba_150": 15.0}


def fixed_places() -> dict[int, dict]:
    """Places of some reports (bench_pipeline cycles over the bundled seeds: county, district, city, …)."""
    places = _places()
    gulou = {p["city"]: p for p in places["district"] if p["name"] == "鼓楼区"}
    county = places["county"][0]
    # indices 1, 4, 7 are district reports, 0 and 3 county reports
    return {1: gulou["南京市"], 4: gulou["福州市"], 7: gulou["南京市"], 0: county, 3: county}


class _Sampler:
    """Peak RSS (and PSS where readable) of a process tree, sampled with timestamps."""

    def __init__(self, pid: int, every: float = 0.1):
        import psutil

        self.root, self.every, self.samples = psutil.Process(pid), every, []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        import psutil

        k = 0
        while True:
            try:
                procs = [self.root, *self.root.children(recursive=True)]
            except psutil.Error:
                return
            rss = pss = cpu = largest = 0.0
            try:
                t = self.root.cpu_times()
                cpu = t.children_user + t.children_system  # of the workers that ended
            except psutil.Error:
                return
            for p in procs:
                try:
                    t = p.cpu_times()
                    cpu += t.user + t.system
                    one = p.memory_info().rss
                    rss += one
                    largest = max(largest, one)
                    if k % 10 == 0:  # PSS reads /proc/PID/smaps: every second only
                        pss += getattr(p.memory_full_info(), "pss", 0.0)
                except psutil.Error:
                    pass
            self.samples.append((time.perf_counter(), rss / 2**20, pss / 2**20 if k % 10 == 0 else None, cpu,
                                 largest / 2**20))
            k += 1
            time.sleep(self.every)


def run_build(raw: Path, out: Path, cache: Path, notebooks: bool, threads: int | None = None) -> dict:
    """The real build in a fresh process; its summary, wall time and memory per stage."""
    env = {**os.environ, "COMPARE_CACHE": str(cache), "PYTHONHASHSEED": "0"}
    if threads:  # OpenMP/BLAS threads: on a shared machine, two threads that wait for each other lose much
        env.update({k: str(threads) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")})
    cmd = [sys.executable, "-m", "compare", "build", "--raw", str(raw), "--out", str(out), "--jobs", "2"]
    cmd += [] if notebooks else ["--no-notebooks"]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    sampler = _Sampler(proc.pid)
    _, err = proc.communicate()
    t1 = time.perf_counter()
    if proc.returncode != 0:
        raise SystemExit(f"build of {raw} failed (exit {proc.returncode}):\n{err[-3000:]}")
    summary = json.loads((out / "build_summary.json").read_text(encoding="utf-8"))
    stages, end, memory, cpu = summary["seconds"], t1, {}, {}
    for name, sec in reversed(list(stages.items())):  # place the stages on the clock from the end backwards
        begin = end - sec
        inside = [s for s in sampler.samples if begin <= s[0] <= end]
        memory[name] = round(max((s[1] for s in inside), default=0.0), 1)
        cpu[name] = round(inside[-1][3] - inside[0][3], 1) if len(inside) > 1 else None
        end = begin
    pss = [s[2] for s in sampler.samples if s[2]]
    return {"process_s": round(t1 - t0, 2), "total_s": summary["total_seconds"], "stages_s": stages,
            "stages_peak_rss_mb": dict(reversed(list(memory.items()))),
            "stages_cpu_s": dict(reversed(list(cpu.items()))),
            "cpu_s": round(sampler.samples[-1][3], 1) if sampler.samples else None,
            "peak_rss_mb": round(max((s[1] for s in sampler.samples), default=0.0), 1),
            "peak_pss_mb": round(max(pss), 1) if pss else None,
            "peak_rss_largest_mb": round(max((s[4] for s in sampler.samples), default=0.0), 1),
            "reports": summary["reports"], "problems": summary["problems"], "measures": summary["measures"],
            "errors": summary["errors"], "figures": summary["figures"]}


def growth(small: dict, big: dict, n1: int, n2: int) -> dict:
    """t(10·N)/t(N) of every stage and of the total, from two sizes."""
    power = math.log(10) / math.log(n2 / n1)
    out = {}
    for name in [*big["stages_s"], "total_s"]:
        a = small["stages_s"].get(name) if name != "total_s" else small["total_s"]
        b = big["stages_s"].get(name) if name != "total_s" else big["total_s"]
        out[name] = round((b / a) ** power, 2) if a and b else None
    return out


def evaluate(out: dict) -> dict:
    res = {}
    worst = max((v for g in out["growth"].values() for v in g.values() if v is not None), default=None)
    res["growth"] = (worst, worst is not None and worst <= TARGETS["growth"])
    runs = out["runs"]
    if "1000" in runs:
        t = runs["1000"]["build"]["total_s"]
        res["build_1000_s"] = (t, t <= TARGETS["build_1000_s"])
    peak = max(r["build"]["peak_pss_mb"] or r["build"]["peak_rss_mb"] for r in runs.values())
    res["peak_mb"] = (peak, peak <= TARGETS["peak_mb"])
    largest = max(r["build"]["peak_rss_largest_mb"] for r in runs.values())
    res["largest_process_mb"] = (largest, largest <= TARGETS["largest_process_mb"])
    if "150" in runs:
        ratio = runs["150"]["build_vs_jieba"]
        res["vs_jieba_150"] = (ratio, ratio <= TARGETS["vs_jieba_150"])
    return {k: {"value": v, "target": TARGETS[k], "result": "pass" if ok else "miss"} for k, (v, ok) in res.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[30, 150, 1000])
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument("--no-notebooks", action="store_true", help="build without executing the notebooks")
    ap.add_argument("--keep", action="store_true", help="keep the corpora and builds (printed at the end)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=None,
                    help="OMP/BLAS threads of the build (default: the environment's; 1 on a busy shared machine)")
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-study-"))
    sizes = sorted(set(args.sizes))
    out = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                       "load_avg": os.getloadavg(), "threads": args.threads}, "notebooks": not args.no_notebooks,
           "runs": {}}
    try:
        for n in sizes:
            raw = work / f"corpus_{n}"
            corpus = build_corpus(raw, n, args.seed, fixed={i: p for i, p in fixed_places().items() if i < n})
            print(f"[{n}] corpus: {len(corpus['paths'])} reports, {corpus['n_chars']:,} characters", file=sys.stderr)
            floor = run_variant("jieba_floor", raw, work / f"cache_jieba_{n}", work)
            build = run_build(raw, work / f"out_{n}", work / f"cache_{n}", not args.no_notebooks, args.threads)
            print(f"[{n}] jieba {floor['seconds']:.1f} s; build {build['total_s']} s {build['stages_s']}",
                  file=sys.stderr)
            out["runs"][str(n)] = {"n_chars": corpus["n_chars"], "jieba_s": round(floor["seconds"], 2),
                                   "build": build, "build_vs_jieba": round(build["total_s"] / floor["seconds"], 2)}
        out["growth"] = {f"{a}->{b}": growth(out["runs"][str(a)]["build"], out["runs"][str(b)]["build"], a, b)
                         for a, b in zip(sizes, sizes[1:], strict=False)}
        out["machine"]["load_avg_end"] = os.getloadavg()
        out["targets"] = evaluate(out)
    finally:
        if args.keep:
            print(f"kept: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(out, ensure_ascii=False, indent=2) if args.json else _text(out))
    return 0


def _text(out: dict) -> str:
    lines = []
    for n, r in out["runs"].items():
        b = r["build"]
        lines.append(f"N = {n}: {b['reports']} reports, {b['problems']} problems, {b['measures']} measures; "
                     f"build {b['total_s']} s (jieba {r['jieba_s']} s, ratio {r['build_vs_jieba']}), "
                     f"peak RSS {b['peak_rss_mb']} MB, PSS {b['peak_pss_mb']} MB")
        for stage, sec in b["stages_s"].items():
            lines.append(f"    {stage:<18} {sec:>8} s  CPU {b['stages_cpu_s'].get(stage)} s  "
                         f"peak {b['stages_peak_rss_mb'].get(stage)} MB")
    for pair, g in out["growth"].items():
        lines.append(f"growth t(10N)/t(N) {pair}: " + ", ".join(f"{k} {v}" for k, v in g.items()))
    for k, v in out["targets"].items():
        lines.append(f"target {k}: {v['value']} (≤ {v['target']}) {v['result']}")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
