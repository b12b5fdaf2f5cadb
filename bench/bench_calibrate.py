"""How long `lojal calibrate` takes: the full CDNOW master file (23,570 customers, 69,659
rows; the issue's target: under 10 s) and a synthetic 100,000-customer log drawn from the
agent model (target: under a minute). Prints the time of each stage.

    python bench/bench_calibrate.py            # both
    python bench/bench_calibrate.py --master   # the CDNOW master file only
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from simulation.calibrate import agent_fit, bgnbd, gammagamma, paretonbd, pipeline, synthetic  # noqa: E402
from simulation.calibrate import transactions as tx  # noqa: E402
from simulation.schema import Scenario  # noqa: E402

MASTER = ROOT / "data" / "cdnow" / "cdnow_master.csv.gz"


def stages(path, columns: tx.Columns, calibration_end, holdout_end) -> dict[str, float]:
    """Seconds per stage of `lojal calibrate --holdout-end` (the same calls, timed apart), and
    the CPU seconds of them all (`cpu`: the better guide on a machine others share)."""
    times, t, cpu = {}, time.perf_counter(), time.process_time()

    def lap(name: str) -> None:
        nonlocal t
        now = time.perf_counter()
        times[name], t = now - t, now

    log = tx.read_transactions(path, columns)
    lap("read")
    summary = tx.summarize(log, calibration_end, holdout_end)
    c = summary.customers
    x, t_x, T = c.x.to_numpy(float), c.t_x.to_numpy(), c["T"].to_numpy()
    lap("summary")
    fits = {"bgnbd": bgnbd.fit(x, t_x, T)}
    lap("BG/NBD")
    fits["pareto_nbd"] = paretonbd.fit(x, t_x, T)
    lap("Pareto/NBD")
    fits["gamma_gamma"] = gammagamma.fit(x, c.monetary.to_numpy())
    lap("Gamma-Gamma")
    base = Scenario()
    fits["histories"], fits["ladder"] = agent_fit.histories(log, summary), agent_fit.Ladder.of(base)
    ladder0 = np.array(base.customers.segments[0].ladder_shares())
    fits["agent"] = agent_fit.fit(fits["histories"], fits["ladder"], [ladder0], pipeline.N_SEGMENTS, fit_ladder=True)
    lap("agent model")
    scenario = pipeline.calibrated_scenario(fits, summary, base, None)
    lap("scenario")
    if holdout_end is not None:
        out = pipeline.holdout(log, summary, fits, scenario, replications=4, seed=1)
        lap("holdout forecast")
        errors = ", ".join(f"{k} {v:+.1%}" for k, v in out["errors"].items())
        print(f"  holdout errors: {errors}")
    times["cpu"] = time.process_time() - cpu
    return times


def report(title: str, times: dict[str, float]) -> None:
    cpu = times.pop("cpu")
    total = sum(times.values())
    print(f"{title}: {total:.1f} s, CPU {cpu:.1f} s (" + ", ".join(f"{k} {v:.1f}" for k, v in times.items()) + ")")


def main(argv: list[str]) -> None:
    cols = tx.Columns("customer_id", "date", "amount")
    report("CDNOW master, calibration only", stages(MASTER, cols, "1997-09-30", None))
    report("CDNOW master, with the holdout", stages(MASTER, cols, "1997-09-30", "1998-06-30"))
    if "--master" in argv:
        return
    ladder = agent_fit.Ladder.of(Scenario())
    start = np.array(Scenario().customers.segments[0].ladder_shares())
    log = synthetic.agent_log(100_000, 0.3, 0.8, ladder, start, churn_multipliers=(0.3, 3.0), shares=(0.5, 0.5))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "log.csv"
        log.assign(date=log.date.dt.strftime("%Y-%m-%d")).to_csv(path, index=False)
        print(f"synthetic log: {log.customer.nunique():,} customers, {len(log):,} rows")
        end = synthetic.START + np.timedelta64(360, "D")
        report("100,000 customers, calibration only", stages(path, tx.Columns("customer", "date", "amount"), end, None))


if __name__ == "__main__":
    main(sys.argv[1:])
