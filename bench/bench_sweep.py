"""Benchmark of a budget sweep (`lojal sweep`); prints figures, asserts nothing.

    python bench/bench_sweep.py                 # (a) on a share of the 200 designs, (b), (c), (d)
    python bench/bench_sweep.py --designs 200   # (a) in full: minutes
    python bench/bench_sweep.py --only b        # where the time of one task goes

Sections
    (a) the sweep of the issue: 200 designs (earn rate x reward value, 20 x 10) x 10
        replications x 20,000 customers x 36 months of the coffee example, on this machine's
        cores; run on the first --designs of them and extrapolated linearly (tasks are
        independent: the time is the tasks' time over the processes)
    (b) where a task's time goes: CPU seconds of one replication with both arms, the program
        arm alone, the twin alone; the summary of a design's replications; one task's overhead
        of sending it to a worker and its result back (pickled sizes, times)
    (c) scaling: the same small sweep on 1, 2 and 4 local processes (wall time; beyond the
        machine's cores more processes only share them)
    (d) what 10,000 designs x 10 replications would need on a cluster, from (b)

Figures depend on the machine's load (it is shared): the load average is printed with them.
"""

from __future__ import annotations

import argparse
import os
import pickle
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import simulation  # noqa: E402
from simulation import design_space, twin  # noqa: E402
from simulation.runner import Runner, Task, run_task  # noqa: E402
from simulation.sweep import estimate as sweep_estimate  # noqa: E402
from simulation.sweep import run_sweep, summarise  # noqa: E402

COFFEE = ROOT / "scenarios" / "coffee-points-card.yaml"
GRID = ("program.points.earn_rate=0.5:2.4:20", "program.points.reward_value=20:65:10")  # 200 designs


def _scenario(size: int = 20_000, months: int = 36, replications: int = 10):
    return simulation.load(COFFEE, [f"customers.size={size}", f"simulation.horizon_months={months}",
                                    f"simulation.replications={replications}"])  # fmt: skip


def _load() -> str:
    return "load average " + ", ".join(f"{x:.1f}" for x in os.getloadavg())


def _all_cpu() -> float:
    """CPU seconds of this process and of its finished children (the worker processes)."""
    import resource

    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def _cpu(fn, repeat: int = 3) -> float:
    """Best CPU seconds of `fn()` over `repeat` calls."""
    best = float("inf")
    for _ in range(repeat):
        t = time.process_time()
        fn()
        best = min(best, time.process_time() - t)
    return best


def section_a(designs: int, workers: int | None) -> None:
    sc = _scenario()
    levers = [design_space.parse_vary(text, sc) for text in GRID]
    grid = design_space.grid(levers)
    total = len(grid)
    n = min(designs, total)
    runner = Runner(workers=workers)
    start, cpu0 = time.perf_counter(), _all_cpu()
    if n == total:
        sweep = run_sweep(sc, levers, runner=runner)
    else:  # the first n designs of the grid (both levers move within them)
        from simulation.sweep import sweep_designs

        chosen = grid[:: total // n][:n]
        scenarios = [design_space.design(sc, v) for v in chosen]
        sweep = sweep_designs(sc, levers, chosen, scenarios, 10, sc.simulation.seed, runner=runner)
    wall, cpu = time.perf_counter() - start, _all_cpu() - cpu0
    full = wall * total / n
    said = sweep_estimate(runner, sc, total).seconds
    processes = int(sweep.record.where.split()[0]) if sweep.record.where[0].isdigit() else 1
    idle = cpu / processes * total / n  # the wall time if each process had a core of its own
    print(f"(a) sweep: {n} of {total} designs x 10 replications x 20,000 customers x 36 months, coffee example")
    print(f"    {sweep.record.where}: {wall:.1f} s wall for {sweep.record.tasks} tasks ({sweep.twins} twins)"
          f"  -> {full:.0f} s = {full / 60:.1f} min for all {total} designs  [{_load()}]")  # fmt: skip
    print(f"    CPU of all processes {cpu:.1f} s ({cpu / sweep.record.tasks:.2f} s a task) -> {idle:.0f} s ="
          f" {idle / 60:.1f} min for all {total} designs on {processes} otherwise idle core(s)")  # fmt: skip
    print(f"    the runner's estimate before a sweep of all {total} designs (`lojal sweep` warns from it):"
          f" {said:.0f} s, {said / full:.2f}x the time measured")  # fmt: skip


def section_b() -> None:
    sc = _scenario()
    task = Task(sc, 0, sc.simulation.seed, 10, light=True)
    run_task(task)  # (imports, first-call costs)
    both = _cpu(lambda: run_task(task))
    program = _cpu(lambda: run_task(Task(sc, 0, sc.simulation.seed, 10, "program", light=True)))
    baseline = _cpu(lambda: run_task(twin.twin_task(task)))
    reps = [run_task(Task(sc, r, sc.simulation.seed, 10, light=True)) for r in range(10)]
    summary = _cpu(lambda: summarise([reps]), repeat=5)
    combine = _cpu(lambda: simulation.results.combine(sc, [run_task(Task(sc, r, 1, 10)) for r in range(1)]), 1)
    sent, back = pickle.dumps(task), pickle.dumps(reps[0])
    full_back = pickle.dumps(run_task(Task(sc, 0, sc.simulation.seed, 10)))
    wire = _cpu(lambda: pickle.loads(pickle.dumps(task)) and pickle.loads(pickle.dumps(reps[0])), repeat=20)
    prepare = _cpu(lambda: design_space.design(sc, {"program.points.earn_rate": 1.3}), repeat=20)
    print("(b) one task of the sweep (20,000 customers x 36 months), CPU seconds, best of 3")
    print(f"    both arms {both:.3f} s; program arm alone {program:.3f} s; twin alone {baseline:.3f} s  [{_load()}]")
    print(f"    a design of 10 replications: {10 * both:.2f} s with own twins, {10 * program:.2f} s with a shared twin"
          f" ({1 - program / both:.0%} less)")  # fmt: skip
    print(f"    a design's summary (10 replications) {summary * 1e3:.1f} ms; a full `combine` of one replication "
          f"(monthly tables, cohorts) {combine:.3f} s incl. its simulation")  # fmt: skip
    print(f"    pickled task {len(sent) / 1e3:.1f} kB, light result {len(back) / 1e3:.1f} kB (full: "
          f"{len(full_back) / 1e3:.1f} kB); pickling both ways {wire * 1e3:.2f} ms; a design's scenario "
          f"(override, validation) {prepare * 1e3:.1f} ms")  # fmt: skip
    global PER_TASK
    PER_TASK = program


PER_TASK = 0.0


def section_c() -> None:
    sc = _scenario(size=20_000, months=36, replications=4)
    levers = [design_space.parse_vary("program.points.earn_rate=0.5:2:4", sc)]
    print("(c) scaling: 4 designs x 4 replications (+4 twins) x 20,000 customers x 36 months")
    base = None
    for workers in (1, 2, 4):
        start = time.perf_counter()
        run_sweep(sc, levers, runner=Runner(workers=workers))
        wall = time.perf_counter() - start
        base = base or wall
        print(f"    {workers} process(es): {wall:.1f} s wall, speed-up {base / wall:.2f}  [{_load()}]")


def section_d() -> None:
    per = PER_TASK or 0.13  # CPU s of a program arm alone on an idle machine (bench/README.md)
    tasks = 10_000 * 10
    cpu_h = tasks * per / 3600
    print("(d) 10,000 designs x 10 replications on a cluster (20,000 customers x 36 months each)")
    print(f"    {tasks:,} program-arm tasks x {per:.2f} CPU s = {cpu_h:.1f} CPU hours (+10 twins: nothing)")
    for cores in (16, 64, 256):
        print(f"    on {cores} Dask worker threads: about {cpu_h * 60 / cores:.0f} min"
              f" (plus ~1 ms of scheduler time per task: {tasks / 1000 / 60:.1f} min in all, overlapped)")  # fmt: skip
    print("    memory: ~32 MB per task (simulation/runner.py estimate) per worker thread; results ~8 kB per task")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--designs", type=int, default=10, help="designs of the 200 to run in (a) (default 10)")
    parser.add_argument("--workers", type=int, help="local processes for (a) (default: the cores)")
    parser.add_argument("--only", default="abcd", help="sections to run, e.g. 'bd'")
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {_load()}\n")
    for key, fn in (("b", section_b), ("a", lambda: section_a(args.designs, args.workers)), ("c", section_c),
                    ("d", section_d)):  # fmt: skip
        if key in args.only:
            fn()
            print()


if __name__ == "__main__":
    main()
