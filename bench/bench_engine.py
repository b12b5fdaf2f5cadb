"""Benchmarks of the vectorised engine (`simulation.run`); prints figures, asserts nothing.

    python bench/bench_engine.py            # full: takes several minutes
    python bench/bench_engine.py --quick    # small sizes, a smoke run of every section
    python bench/bench_engine.py --repeat 3 --only bc   # best of 3, sections (b) and (c)

Sections
    (a) large run: one example scenario at 1,000,000 customers x 36 months, 1 replication
        (with its no-program twin): wall time, customer-months per second, peak RSS
    (b) every example scenario in scenarios/ as shipped (its own size, replications, twins)
    (c) engine vs the naive reference (bench/reference_simpy.py, one SimPy process per
        customer) on the model core at 100,000 customers x 12 months; the reference is
        timed at 20,000 customers and extrapolated linearly
    (d) peak RSS at 250k, 500k and 1M customers, to show that memory grows linearly

Every measurement runs in its own Python subprocess, so peak RSS (resource.getrusage
ru_maxrss) belongs to that measurement alone and earlier runs do not warm caches for
later ones. Wall times exclude interpreter start-up, imports (pandas too, which `simulation.run`
imports on first use for its tables: ~0.35 s of CPU that a server or a second run never pays)
and scenario loading.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"


def core_overrides() -> dict:
    """The model core: no program, no acquisition, no word of mouth, no new-customer effect."""
    from simulation.schema import LEVELS

    zero = {name: 0 for name in LEVELS}
    return {
        "customers.acquisition.paid_per_month": 0,
        "customers.ladder.new_customer_months": 0,
        "customers.word_of_mouth.listeners_per_month": zero,
        "customers.word_of_mouth.complaint_listeners": zero,
    }


# --------------------------------------------------------------------------- worker side
def _maxrss_mb(who) -> float:
    return resource.getrusage(who).ru_maxrss / 1024.0  # Linux reports KiB


def _cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _worker(job: dict) -> dict:
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    import pandas  # noqa: F401  (simulation.run imports it for its tables: an import, not the run's time)

    import simulation
    from simulation import scenario_io
    from simulation.schema import Scenario

    if job["kind"] == "reference":
        import reference_simpy

        scenario = scenario_io.override(Scenario(), core_overrides())
        rss0 = _maxrss_mb(resource.RUSAGE_SELF)
        c0, t0 = _cpu_s(), time.perf_counter()
        _, events = reference_simpy.simulate(scenario, job["customers"], job["months"], seed=0, return_events=True)
        wall, cpu = time.perf_counter() - t0, _cpu_s() - c0
        return {
            "wall": wall,
            "cpu": cpu,
            "events": events,
            "rss_before_mb": rss0,
            "rss_mb": _maxrss_mb(resource.RUSAGE_SELF),
        }

    if job["scenario"] == "core":
        scenario = scenario_io.override(Scenario(), core_overrides())
    else:
        scenario = scenario_io.load(job["scenario"])
    if job.get("overrides"):
        scenario = scenario_io.override(scenario, job["overrides"])
    rss0 = _maxrss_mb(resource.RUSAGE_SELF)
    c0, t0 = _cpu_s(), time.perf_counter()
    simulation.run(scenario)
    wall, cpu = time.perf_counter() - t0, _cpu_s() - c0
    return {
        "wall": wall,
        "cpu": cpu,
        "customers": scenario.customers.size,
        "months": scenario.simulation.horizon_months,
        "replications": scenario.simulation.replications,
        "instruments": list(scenario.program.active_instruments()),
        "rss_before_mb": rss0,
        "rss_mb": _maxrss_mb(resource.RUSAGE_SELF),
        "rss_children_mb": _maxrss_mb(resource.RUSAGE_CHILDREN),
    }


# --------------------------------------------------------------------------- driver side
REPEAT = 1  # --repeat: best of N runs per measurement


def measure(job: dict) -> dict:
    """Best (lowest wall time) of REPEAT fresh-interpreter runs of one job (or an error)."""
    runs = [_measure_once(job) for _ in range(REPEAT)]
    ok = [r for r in runs if "error" not in r]
    return min(ok, key=lambda r: r["wall"]) if ok else runs[0]


def _measure_once(job: dict) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, "--_worker", json.dumps(job)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    return {"error": (proc.stderr.strip().splitlines() or ["(no output)"])[-1]}


def _rss(r: dict) -> float:
    """Peak RSS of the measurement: the worker's own peak, or a pool child's if larger."""
    return max(r["rss_mb"], r.get("rss_children_mb", 0.0))


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def examples() -> list[Path]:
    return sorted(SCENARIOS.glob("*.yaml"))


def pick_large_example() -> Path | None:
    """The example with the most instruments switched on: the heaviest month."""
    sys.path.insert(0, str(ROOT))
    from simulation import scenario_io

    best, best_n = None, -1
    for path in examples():
        try:
            n = len(scenario_io.load(path).program.active_instruments())
        except Exception:
            continue
        if n > best_n:
            best, best_n = path, n
    return best


def section_a(size: int, months: int, scenario: Path | None) -> None:
    print(f"\n(a) large run: {size:,} customers x {months} months, 1 replication + its baseline twin")
    if scenario is None:
        print("    no example scenario in scenarios/; skipped")
        return
    job = {
        "kind": "engine",
        "scenario": str(scenario),
        "overrides": {"customers.size": size, "simulation.horizon_months": months, "simulation.replications": 1},
    }
    r = measure(job)
    if "error" in r:
        print(f"    {scenario.name}: FAILED: {r['error']}")
        return
    cm = size * months
    print(
        f"    scenario             {scenario.relative_to(ROOT)} (instruments: {', '.join(r['instruments']) or 'none'})"
    )
    print(
        f"    wall time            {r['wall']:10.1f} s   ({r['wall'] / months:.2f} s per month; CPU time {r['cpu']:.1f} s)"
    )
    print(f"    customer-months/s    {cm / r['wall']:>12,.0f}   (per arm; x2 counting the twin arm)")
    print(f"    peak RSS             {_rss(r):10.0f} MB  (process before the run: {r['rss_before_mb']:.0f} MB)")


def section_b() -> None:
    print("\n(b) example scenarios as shipped (their own size, horizon and replications, each with its twin)")
    paths = examples()
    if not paths:
        print("    no example scenario in scenarios/")
        return
    print(
        f"    {'scenario':32} {'customers':>10} {'months':>6} {'reps':>5} {'wall s':>8} {'cpu s':>7} {'s/rep':>7} "
        f"{'peak MB':>8}  instruments"
    )
    for path in paths:
        r = measure({"kind": "engine", "scenario": str(path)})
        if "error" in r:
            print(f"    {path.name:32} FAILED: {r['error']}")
            continue
        print(
            f"    {path.name:32} {r['customers']:>10,} {r['months']:>6} {r['replications']:>5} {r['wall']:>8.1f} "
            f"{r['cpu']:>7.1f} {r['wall'] / r['replications']:>7.2f} {_rss(r):>8.0f}  {', '.join(r['instruments']) or 'none'}"
        )


def section_c(engine_n: int, ref_n: int, months: int) -> None:
    print(f"\n(c) engine vs the naive reference, model core, {engine_n:,} customers x {months} months, 1 replication")
    e = measure(
        {
            "kind": "engine",
            "scenario": "core",
            "overrides": {
                "customers.size": engine_n,
                "simulation.horizon_months": months,
                "simulation.replications": 1,
            },
        }
    )
    ref = measure({"kind": "reference", "customers": ref_n, "months": months})
    if "error" in e or "error" in ref:
        print(f"    FAILED: {e.get('error') or ref.get('error')}")
        return
    scale = engine_n / ref_n
    ref_wall = ref["wall"] * scale
    print(
        f"    engine               {e['wall']:10.2f} s   (CPU {e['cpu']:.2f} s; {engine_n * months / e['wall']:,.0f} customer-months/s; "
        f"it also simulates the no-program twin arm, i.e. 2x the customer-months)"
    )
    print(
        f"    reference measured   {ref['wall']:10.2f} s   (CPU {ref['cpu']:.2f} s) at {ref_n:,} customers "
        f"({ref['events']:,} SimPy events, {ref['events'] / ref['wall']:,.0f} events/s, "
        f"{ref_n * months / ref['wall']:,.0f} customer-months/s)"
    )
    if scale != 1:
        print(
            f"    reference extrapol.  {ref_wall:10.2f} s   at {engine_n:,} customers (linear x{scale:g}; the "
            f"reference slows down per customer as it grows, so this flatters it)"
        )
    print(f"    speed ratio          {ref_wall / e['wall']:10.1f} x  (reference / engine, one arm vs two arms)")
    print(f"    per arm              {2 * ref_wall / e['wall']:10.1f} x  (counting the engine's twin arm as work)")


def section_d(sizes: list[int], months: int) -> None:
    print(f"\n(d) memory: peak RSS vs customers (model core, {months} months, 1 replication, one process each)")
    idle = measure(
        {
            "kind": "engine",
            "scenario": "core",
            "overrides": {"customers.size": 1, "simulation.horizon_months": 1, "simulation.replications": 1},
        }
    )
    base = _rss(idle) if "error" not in idle else 0.0
    print(f"    {'customers':>10} {'peak MB':>8} {'above idle':>10} {'bytes/customer':>15}")
    print(f"    {'1 (idle)':>10} {base:>8.0f}")
    for n in sizes:
        r = measure(
            {
                "kind": "engine",
                "scenario": "core",
                "overrides": {"customers.size": n, "simulation.horizon_months": months, "simulation.replications": 1},
            }
        )
        if "error" in r:
            print(f"    {n:>10,} FAILED: {r['error']}")
            continue
        above = _rss(r) - base
        print(f"    {n:>10,} {_rss(r):>8.0f} {above:>10.0f} {above * 2**20 / n:>15,.0f}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Benchmarks of the lojal engine.")
    ap.add_argument("--quick", action="store_true", help="small sizes: a smoke run of every section")
    ap.add_argument("--scenario", type=Path, help="example for (a) (default: the one with the most instruments)")
    ap.add_argument("--only", default="abcd", help="sections to run, e.g. --only ac")
    ap.add_argument(
        "--reference-customers",
        type=int,
        help="customers the reference is timed at in (c) (default 20,000; 5,000 with --quick)",
    )
    ap.add_argument("--repeat", type=int, default=1, help="run each measurement N times and keep the fastest")
    ap.add_argument("--_worker", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args._worker:
        print(json.dumps(_worker(json.loads(args._worker))))
        return
    global REPEAT
    REPEAT = max(1, args.repeat)

    print(
        f"lojal engine benchmark -- {platform.node()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
        f"{'  [--quick]' if args.quick else ''}"
    )
    print(f"load average at start {_load()} (wall times assume an otherwise idle machine)")
    if REPEAT > 1:
        print(f"each figure is the fastest of {REPEAT} runs")
    t0 = time.perf_counter()
    if "a" in args.only:
        large = args.scenario.resolve() if args.scenario else pick_large_example()  # (a path given from here)
        section_a(100_000 if args.quick else 1_000_000, 36, large)
    if "b" in args.only:
        section_b()
    if "c" in args.only:
        engine_n, ref_n = (20_000, 5_000) if args.quick else (100_000, 20_000)
        section_c(engine_n, args.reference_customers or ref_n, months=12)
    if "d" in args.only:
        section_d([50_000, 100_000, 200_000] if args.quick else [250_000, 500_000, 1_000_000], months=12)
    print(f"\ntotal benchmark time {time.perf_counter() - t0:.0f} s; load average at the end {_load()}")


if __name__ == "__main__":
    main()
