"""The budget explorer's commands: `lojal sweep`, `lojal optimize`, `lojal sensitivity`.

Each loads a scenario file like `lojal run` (with --set, --replications, --seed), runs its
designs on one runner (here, local processes or `--scheduler tcp://HOST:PORT`) and prints a
table or JSON with the provenance of the run.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from . import design_space, frontier, metrics, provenance
from .runner import Runner
from .scenario_io import ScenarioError, dumps


def add_parsers(sub, add_set) -> None:
    """The explorer's subcommands on the `lojal` parser (`add_set`: its --set option)."""
    p = sub.add_parser(
        "sweep", help="run a grid of designs; the cost / outcome frontier and the best design within a budget"
    )
    _common(p, add_set)
    p.add_argument("--vary", action="append", required=True, metavar="PATH=LOW:HIGH:STEPS",
                   help="a lever and its grid, e.g. program.points.earn_rate=0.5:2:4 (repeatable: every combination)")  # fmt: skip
    _objective(p)
    p.add_argument("--out", type=Path, help="write sweep.csv (one row per design) and, with --budget, best.yaml here")

    p = sub.add_parser("optimize", help="search the levers' ranges with Optuna for the best design within a budget")
    _common(p, add_set)
    p.add_argument("--tune", action="append", required=True, metavar="PATH=LOW:HIGH",
                   help="a lever and its range, e.g. program.points.reward_value=10:60 (repeatable)")  # fmt: skip
    _objective(p)
    p.add_argument("--trials", type=int, default=30, help="designs to try (default 30)")
    p.add_argument("--out", type=Path, help="write trials.csv and the best design as best.yaml here")

    p = sub.add_parser("sensitivity", help="which assumptions move a result: a tornado, or Morris / Sobol indices")
    _common(p, add_set)
    p.add_argument("--metric", default="net_profit", help="the result to explain (default net_profit, incremental)")
    p.add_argument("--params", nargs="+", metavar="PATH", help="the assumptions (default: the judgement parameters the scenario uses, docs/model.md 11.1)")  # fmt: skip
    p.add_argument("--method", choices=("tornado", "morris", "sobol"), default="tornado", help="default tornado")
    p.add_argument("--samples", type=int, default=8, help="Morris trajectories / Sobol base samples (default 8)")
    p.add_argument("--out", type=Path, help="write sensitivity.csv here")


def _common(p: argparse.ArgumentParser, add_set) -> None:
    p.add_argument("scenario", help="scenario YAML file")
    add_set(p)
    p.add_argument("--replications", type=int, help="override simulation.replications (of every design)")
    p.add_argument("--seed", type=int, help="override simulation.seed")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run on this Dask scheduler instead of this machine")
    p.add_argument("--format", choices=("table", "json"), default="table", help="what to print (default: table)")


def _objective(p: argparse.ArgumentParser) -> None:
    p.add_argument("--objective", default=frontier.DEFAULT_OBJECTIVE,
                   help=f"the outcome to maximise (default net_profit, incremental; also {', '.join(frontier.OUTCOMES[1:])})")  # fmt: skip
    p.add_argument("--budget", type=float, metavar="AMOUNT", help="the most the program may cost over the horizon")


def _load(args):
    from .cli import _check_run_options, _load

    scenario, raw = _load(args.scenario, args.overrides)
    _check_run_options(args)
    if getattr(args, "budget", None) is not None and args.budget < 0:
        raise ScenarioError([f"--budget: must be >= 0 (got {args.budget:g})"])
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
    return scenario, raw


def _note_estimate(runner: Runner, scenario, replications: int | None, designs: int) -> None:
    """A line on stderr before work that will take long (sweep.estimate); work that would not
    fit in memory is refused."""
    from .sweep import estimate as sweep_estimate

    estimate = sweep_estimate(runner, scenario, designs, replications)
    estimate.check()
    if estimate.warning():
        print(f"note: {designs} designs: {estimate.warning()}", file=sys.stderr)


def _record(args, raw: bytes, sweep_or_run) -> provenance.Provenance:
    sim = sweep_or_run.scenario.simulation
    return provenance.Provenance(
        args.scenario, provenance.sha256(raw), sim.seed, sim.replications, tuple(args.overrides)
    )


def cmd_sweep(args: argparse.Namespace) -> int:
    from .cli import progress_bar
    from .sweep import run_sweep

    scenario, raw = _load(args)
    levers = [design_space.parse_vary(text, scenario) for text in args.vary]
    designs = len(design_space.grid(levers))
    with Runner(args.scheduler) as runner, progress_bar("sweeping") as progress:
        _note_estimate(runner, scenario, args.replications, designs)
        sweep = run_sweep(scenario, levers, args.replications, args.seed, progress, runner=runner)
    metric, arm = frontier.check_objective(sweep, args.objective)
    on = frontier.frontier(sweep, args.objective)
    best = frontier.best_within(sweep, args.budget, args.objective) if args.budget is not None else None
    prov = _record(args, raw, sweep)
    table = sweep.table()
    table["on_frontier"] = on
    if args.budget is not None:
        table["within_budget"] = sweep.stat(*frontier.COST) <= args.budget
    written = []
    if args.out:
        table.to_csv(args.out / "sweep.csv", index=False)
        written.append("sweep.csv")
        if best is not None:
            (args.out / "best.yaml").write_text(dumps(sweep.scenario_of(best.design)), encoding="utf-8")
            written.append("best.yaml")
    if args.format == "json":
        print(_json(_sweep_json(sweep, metric, arm, on, best, args, prov)))
        return 0
    print(format_sweep(sweep, metric, arm, on, args.budget))
    if args.budget is not None:
        print("\n" + format_best(sweep, best, metric, args.budget, arm))
    print(f"\n{len(sweep.designs)} designs x {sweep.scenario.simulation.replications} replications; "
          f"{sweep.twins} no-program twins shared between them; {sweep.record.where}, {sweep.record.seconds:.1f} s")  # fmt: skip
    print("\n" + prov.text().replace(prov.rerun(), _rerun(args)))
    if written:
        print(f"\nwrote {', '.join(written)} to {args.out}")
    return 0


def _rerun(args) -> str:
    return "lojal " + " ".join(sys.argv[1:]) if sys.argv[1:2] == [args.command] else f"lojal {args.command} ..."


def _clean(value: float) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def _json(data) -> str:
    """JSON with NaN as null and numpy numbers as plain ones."""
    import numpy as np

    def plain(obj):
        if isinstance(obj, dict):
            return {str(k): plain(v) for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):
            return [plain(v) for v in obj]
        if isinstance(obj, (np.bool_, bool)):
            return bool(obj)
        if isinstance(obj, (float, np.floating, np.integer)):
            return None if np.isnan(obj) else obj.item() if hasattr(obj, "item") else obj
        return obj

    return json.dumps(plain(data), indent=2, allow_nan=False)


def _sweep_json(sweep, metric, arm, on, best, args, prov) -> dict:
    cost = sweep.stat(*frontier.COST)
    designs = [
        {"design": i, "levers": sweep.designs[i], "cost": _clean(cost[i]),
         "outcome": {s: _clean(sweep.stat(metric, arm, s)[i]) for s in ("mean", "p05", "p95")},
         "on_frontier": bool(on[i])}
        for i in range(len(sweep.designs))
    ]  # fmt: skip
    return {
        "objective": {"metric": metric, "arm": arm}, "budget": args.budget, "designs": designs,
        "best": best.as_dict() if best else None, "run": sweep.record.as_dict(), "provenance": prov.as_dict(),
    }  # fmt: skip


MAX_ROWS = 30  # designs printed in full; beyond this, the frontier only


def _cost(value: float, currency: str) -> str:
    """A program cost or a budget, as the tables show the cost a design is ranked by."""
    return metrics.shown(frontier.COST[0], value, frontier.COST[1], currency)


def format_sweep(sweep, metric: str, arm: str, on, budget: float | None) -> str:
    from .cli import plain

    currency = sweep.scenario.economics.currency

    cost = sweep.stat(*frontier.COST)
    mean, low, high = (sweep.stat(metric, arm, s) for s in ("mean", "p05", "p95"))
    rows = range(len(sweep.designs)) if len(sweep.designs) <= MAX_ROWS else [int(i) for i in (on.nonzero()[0])]
    rows = sorted(rows, key=lambda i: cost[i])
    names = [lever.path for lever in sweep.levers]
    width = [max(len(n), 10) for n in names]
    head = "".join(f"{n:>{w + 2}}" for n, w in zip(names, width, strict=True))
    title = f"{metric} ({arm})"
    lines = []
    if len(rows) < len(sweep.designs):
        lines.append(f"{len(sweep.designs)} designs; the {len(rows)} on the frontier (all in sweep.csv with --out):")
    lines.append(f"{'design':>6}{head}{'program cost':>16}{title:>28}   {'5-95 % interval':<30} frontier")
    for i in rows:
        levers = "".join(f"{plain(sweep.designs[i][n]):>{w + 2}}" for n, w in zip(names, width, strict=True))
        mark = "*" if on[i] else ""
        over = "  over budget" if budget is not None and cost[i] > budget else ""
        interval = metrics.shown_interval(metric, low[i], high[i], arm, currency)
        lines.append(f"{i:>6}{levers}{_cost(cost[i], currency):>16}"
                     f"{metrics.shown(metric, mean[i], arm, currency):>28}   {interval:<30} {mark:>4}{over}")  # fmt: skip
    return "\n".join(lines)


def format_best(sweep, best, metric: str, budget: float, arm: str = "incremental") -> str:
    from .cli import plain

    currency = sweep.scenario.economics.currency
    money = lambda v: _cost(v, currency)  # noqa: E731
    value = lambda v: metrics.shown(metric, v, arm, currency)  # noqa: E731
    if best is None:
        return f"No design costs at most {money(budget)}: raise the budget or widen the levers' ranges."
    levers = ", ".join(f"{k}={plain(v)}" for k, v in best.values.items())
    text = (f"Best within a budget of {money(budget)} ({best.within_budget} designs fit): design {best.design}"
            f" ({levers}), {metric} {value(best.mean)} ({metrics.shown_interval(metric, best.p05, best.p95, arm, currency)}),"
            f" program cost {money(best.cost)}.")  # fmt: skip
    if best.runner_up is not None:
        text += (f"\nIt beats the runner-up (design {best.runner_up}, {value(best.runner_up_mean)}) in"
                 f" {best.p_beats_runner_up:.0%} of the paired replications.")  # fmt: skip
    return text


def cmd_optimize(args: argparse.Namespace) -> int:
    from .cli import plain, progress_bar
    from .optimize import optimize

    scenario, raw = _load(args)
    if args.trials < 1:
        raise ScenarioError([f"--trials: must be >= 1 (got {args.trials})"])
    levers = [design_space.parse_tune(text, scenario) for text in args.tune]
    with Runner(args.scheduler) as runner, progress_bar("searching") as progress:
        _note_estimate(runner, scenario, args.replications, args.trials)
        found = optimize(scenario, levers, args.objective, args.budget, args.trials, args.replications, args.seed,
                         runner, progress)  # fmt: skip
    prov = _record(args, raw, _Ran(found.scenario, args))
    table, best = found.table(), found.best_scenario()
    written = []
    if args.out:
        table.to_csv(args.out / "trials.csv", index=False)
        written.append("trials.csv")
        if best is not None:
            (args.out / "best.yaml").write_text(dumps(best), encoding="utf-8")
            written.append("best.yaml")
    if args.format == "json":
        out = {"objective": dict(zip(("metric", "arm"), found.objective, strict=True)), "budget": args.budget,
               "trials": found.trials, "best": found.trials[found.best] if found.best is not None else None,
               "provenance": prov.as_dict()}  # fmt: skip
        print(_json(out))
        return 0
    metric, arm = found.objective
    currency = found.scenario.economics.currency
    print(table.to_string(index=False, float_format=plain))
    if found.best is None:
        print(f"\nNo trial stayed within the budget of {_cost(args.budget, currency)}.")
    else:
        t = found.trials[found.best]
        levers_text = ", ".join(f"{k}={plain(v)}" for k, v in t["values"].items())
        print(f"\nBest (trial {t['number']}): {levers_text}; {metric} ({arm}) {metrics.shown(metric, t['mean'], arm, currency)} "
              f"({metrics.shown_interval(metric, t['p05'], t['p95'], arm, currency)}), "
              f"program cost {_cost(t['cost'], currency)}.")  # fmt: skip
    print(
        f"\n{len(found.trials)} trials x {found.scenario.simulation.replications} replications, {found.seconds:.1f} s"
    )
    print("\n" + prov.text().replace(prov.rerun(), _rerun(args)))
    if written:
        print(f"\nwrote {', '.join(written)} to {args.out}")
    return 0


class _Ran:
    """What `_record` needs of a run: the scenario with the replications and seed used."""

    def __init__(self, scenario, args):
        from .results import as_run

        sim = scenario.simulation
        self.scenario = as_run(scenario, args.replications or sim.replications,
                               sim.seed if args.seed is None else args.seed)  # fmt: skip


def cmd_sensitivity(args: argparse.Namespace) -> int:
    from . import sensitivity
    from .cli import plain, progress_bar

    scenario, raw = _load(args)
    if args.samples < 2:
        raise ScenarioError([f"--samples: must be >= 2 (got {args.samples})"])
    draws = sensitivity.inputs(scenario, args.params)
    if not draws:
        raise ScenarioError([f"{args.scenario}: no assumption with a range to move (name some with --params)"])
    with Runner(args.scheduler) as runner, progress_bar(args.method) as progress:
        if args.method == "tornado":
            result = sensitivity.tornado(
                scenario, args.metric, args.params, args.replications, args.seed, runner, progress
            )
            table, head = (
                result.table,
                f"{result.metric[0]} ({result.metric[1]}) at the scenario's values: "
                f"{metrics.shown(result.metric[0], result.base, result.metric[1], scenario.economics.currency)}",
            )
        else:
            table = sensitivity.global_indices(scenario, args.metric, args.params, args.method, args.samples,
                                               args.replications, args.seed, runner, progress)  # fmt: skip
            head = f"{args.method} indices of {args.metric} over {len(draws)} assumptions"
    prov = _record(args, raw, _Ran(scenario, args))
    if args.out:
        table.to_csv(args.out / "sensitivity.csv", index=False)
    if args.format == "json":
        print(_json({"method": args.method, "metric": args.metric, "rows": table.to_dict("records"),
                     "provenance": prov.as_dict()}))  # fmt: skip
        return 0
    shown = table.drop(columns=["source"], errors="ignore")
    if args.method == "tornado":  # the metric's values in its own style (the inputs' stay as written)
        (name, arm), currency = result.metric[:2], scenario.economics.currency
        kind = metrics.metric(name).kind
        for column in ("at_low", "at_high"):
            shown[column] = [metrics.shown(name, v, arm, currency) for v in shown[column]]
        shown["swing"] = [metrics.fmt(v, kind, currency, signed=kind != "months") for v in shown["swing"]]
    print(head + "\n")
    print(shown.to_string(index=False, float_format=plain))
    print("\n" + prov.text().replace(prov.rerun(), _rerun(args)))
    if args.out:
        print(f"\nwrote sensitivity.csv to {args.out}")
    return 0


COMMANDS = {"sweep": cmd_sweep, "optimize": cmd_optimize, "sensitivity": cmd_sensitivity}
