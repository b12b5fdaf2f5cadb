"""The `lojal` command line: run, report, abtest, diff, validate, show, schema, plan, calibrate, retention, app."""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import signal
import subprocess
import sys
import time
import webbrowser
from collections.abc import Sequence
from pathlib import Path

from . import analysis, breakeven, cli_explore, diff, export, pilot, provenance, scenario_io, uncertainty
from .results import Results, run
from .scenario_io import ScenarioError
from .schema import Scenario, json_schema

EXIT_INVALID = 2
EXIT_DIFFERENT = 1  # `lojal diff`, like diff(1): 0 the same, 1 different, 2 trouble


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lojal", description="Loyalty-program design simulator.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p_run = sub.add_parser("run", help="simulate a scenario (program arm and its no-program baseline)")
    p_run.add_argument("scenario", help="scenario YAML file")
    _add_set(p_run)
    p_run.add_argument("--replications", type=int, help="override simulation.replications")
    p_run.add_argument("--seed", type=int, help="override simulation.seed")
    p_run.add_argument(
        "--out",
        type=Path,
        help="write summary.csv, monthly.csv and cohorts.csv (and parameters.csv, sensitivity.csv when parameters are sampled) to this folder",
    )
    p_run.add_argument("--format", choices=("table", "json"), default="table", help="what to print (default: table)")

    p_rep = sub.add_parser("report", help="one self-contained HTML report (opens offline) of one or more scenarios")
    p_rep.add_argument("scenarios", nargs="+", metavar="SCENARIO.yaml", help="scenario files (several: compared)")
    p_rep.add_argument("--out", type=Path, required=True, help="the HTML file to write")
    p_rep.add_argument("--xlsx", type=Path, help="also write the results as an Excel workbook")
    _add_set(p_rep)
    p_rep.add_argument("--replications", type=int, help="override simulation.replications (every scenario)")
    p_rep.add_argument("--seed", type=int, help="override simulation.seed (every scenario)")

    p_ab = sub.add_parser(
        "abtest", help="an A/B test of two designs on split customers: what the client would measure, and the truth"
    )
    p_ab.add_argument("a", metavar="A.yaml", help="design A")
    p_ab.add_argument("b", metavar="B.yaml", help="design B (the same customers; A's horizon, seed and replications)")
    p_ab.add_argument("--share", type=float, default=0.5, help="share of the base in each group (default 0.5)")
    p_ab.add_argument("--months", type=int, help="months the test runs before both open to everyone (default: the horizon)")
    _add_set(p_ab)
    p_ab.add_argument("--replications", type=int, help="override simulation.replications")
    p_ab.add_argument("--seed", type=int, help="override simulation.seed")
    p_ab.add_argument("--format", choices=("table", "json"), default="table", help="what to print (default: table)")

    p_diff = sub.add_parser(
        "diff", help="the fields two scenarios differ in (exit status 0 the same, 1 different, 2 bad input)"
    )
    p_diff.add_argument("a", metavar="A.yaml", help="first scenario file")
    p_diff.add_argument("b", metavar="B.yaml", help="second scenario file")
    p_diff.add_argument("--format", choices=("table", "json"), default="table", help="what to print (default: table)")

    p_val = sub.add_parser("validate", help="check scenario files without running them")
    p_val.add_argument("scenarios", nargs="+", help="scenario YAML files")
    _add_set(p_val)

    p_show = sub.add_parser("show", help="print a scenario with every default filled in")
    p_show.add_argument("scenario", help="scenario YAML file")
    _add_set(p_show)

    sub.add_parser("schema", help="print the JSON Schema of scenario files")
    sub.add_parser("plan", help="print the order within a month (the steps and the instruments' hooks)")

    p_cal = sub.add_parser(
        "calibrate", help="fit the customer base to a transaction log (and check the forecast on a holdout period)"
    )
    p_cal.add_argument("transactions", metavar="TRANSACTIONS.csv", help="one row per purchase: customer, date, amount")
    p_cal.add_argument("--customer-col", required=True, help="the column of customer ids")
    p_cal.add_argument("--date-col", required=True, help="the column of purchase dates")
    p_cal.add_argument("--amount-col", required=True, help="the column of amounts")
    p_cal.add_argument("--calibration-end", help="last day of the calibration period (default: the last date)")
    p_cal.add_argument("--holdout-end", help="last day of the holdout period: forecast it and compare")
    p_cal.add_argument("--nps", type=Path, help="NPS answer counts per segment (columns segment, 0..10; share)")
    p_cal.add_argument("--out", type=Path, default=Path("."), help="folder for calibrated.yaml (default: here)")
    p_cal.add_argument("--replications", type=int, default=4, help="engine runs of the holdout forecast (default 4)")
    p_cal.add_argument("--seed", type=int, default=1, help="seed of the holdout forecast (default 1)")
    p_cal.add_argument("--format", choices=("table", "json"), default="table", help="what to print (default: table)")

    p_ret = sub.add_parser("retention", help="fit yearly renewal cohorts and project their survivors")
    p_ret.add_argument("cohorts", metavar="COHORTS.csv", help="one row per customer: recency, T, cohort")
    p_ret.add_argument("--years", type=int, help="years to project, 0..N-1 (default: the years observed)")
    p_ret.add_argument("--model", choices=("agent", "sbg"), default="agent", help="the projection in the JSON")
    p_ret.add_argument("--out", type=Path, help="write retention.yaml (one segment per cohort) to this folder")
    p_ret.add_argument("--format", choices=("table", "json"), default="table", help="what to print (default: table)")
    p_hold = sub.add_parser(
        "hold", help="set the ladder (and paid acquisition) so that NPS (and customers) hold without the program"
    )
    p_hold.add_argument("scenario", help="scenario YAML file")
    p_hold.add_argument("--customers", action="store_true",
                        help="hold the number of customers as well, by paid acquisition")  # fmt: skip
    _add_set(p_hold)
    p_hold.add_argument("--replications", type=int,
                        help="replications of the course reported (default: the scenario's; the search runs at most 4)")  # fmt: skip
    p_hold.add_argument("--write", type=Path, metavar="OUT.yaml",
                        help="write the scenario (with any --set) and the values found; comments and layout kept")  # fmt: skip
    cli_explore.add_parsers(sub, _add_set)

    p_app = sub.add_parser("app", help="open the workshop app in the browser")
    p_app.add_argument("streamlit_args", nargs=argparse.REMAINDER, help="passed on to `streamlit run`")
    return parser


def _add_set(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="override a field, e.g. --set program.points.earn_rate=2 (repeatable)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["app"] and not {"-h", "--help"} & set(argv):
        # Streamlit's own options (--server.port 8502) pass straight through, in their order
        args = argparse.Namespace(command="app", streamlit_args=argv[1:])
    else:
        args = _parser().parse_args(argv)
    from .instruments import PROBLEMS

    if PROBLEMS:  # a plug-in named by LOJAL_INSTRUMENTS that cannot be loaded
        for problem in PROBLEMS:
            print(f"error: {problem}", file=sys.stderr)
        return EXIT_INVALID
    try:
        return COMMANDS[args.command](args)
    except ScenarioError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _load(path: str, overrides: Sequence[str]) -> tuple[Scenario, bytes]:
    """A scenario file, validated, and its bytes (for the provenance's hash)."""
    text = scenario_io.read_text(path)
    return scenario_io.loads(text, path, overrides), text.encode("utf-8")


def _check_run_options(args: argparse.Namespace) -> None:
    if args.replications is not None and args.replications < 1:
        raise ScenarioError([f"--replications: must be >= 1 (got {args.replications})"])
    if args.seed is not None and args.seed < 0:
        raise ScenarioError([f"--seed: must be >= 0 (got {args.seed})"])


def _simulate(path: str, loaded: tuple[Scenario, bytes], args: argparse.Namespace):
    """Run a loaded file with the command's --seed/--replications; results and provenance."""
    scenario, raw = loaded
    results = _run_with_progress(scenario, args.replications, args.seed)
    return results, provenance.of_run(results, path, raw, args.overrides)


def cmd_run(args: argparse.Namespace) -> int:
    loaded = _load(args.scenario, args.overrides)
    _check_run_options(args)
    if args.out:  # before the run: a folder that cannot be made should not cost a simulation
        args.out.mkdir(parents=True, exist_ok=True)
    results, prov = _simulate(args.scenario, loaded, args)
    sampled = results.parameters is not None and not results.parameters.empty
    files = export.csv_files(results, prov) if args.out else {}
    for name, data in files.items():
        (args.out / name).write_bytes(data)
    if args.format == "json":
        extra = {"pilot": pilot.records(results.pilot)} if results.pilot is not None else {}
        print(json.dumps({**results.summary_dict(), **extra, "provenance": prov.as_dict()}, indent=2))
        return 0
    print(format_table(results))
    print("\n" + breakeven.break_even(results).text(results.scenario.economics.currency))
    again = "".join(f" --set {o}" for o in args.overrides)
    print(analysis.baseline_course(results, f"`lojal hold {args.scenario}{again}`"))
    if results.pilot is not None:
        print("\n" + pilot.text(results))
    print("\n" + (format_drivers(results) if sampled else uncertainty.NOISE_ONLY))
    print("\n" + prov.text())
    if files:
        print(f"\nwrote {', '.join(files)} to {args.out}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from . import report

    loaded = [_load(path, args.overrides) for path in args.scenarios]  # every file checked before any run
    _check_run_options(args)
    for target in (args.out, args.xlsx):
        if target is not None and not target.parent.is_dir():
            raise ScenarioError([f"{target}: the folder {target.parent} does not exist"])
    runs = [_simulate(path, one, args) for path, one in zip(args.scenarios, loaded, strict=True)]
    args.out.write_text(report.html(runs), encoding="utf-8")
    written = [str(args.out)]
    if args.xlsx:
        many = len(runs) > 1
        args.xlsx.write_bytes(export.excel_comparison_bytes(runs) if many else export.excel_bytes(*runs[0]))
        written.append(str(args.xlsx))
    for _, prov in runs:
        print(
            f"{prov.scenario_file}: seed {prov.seed}, {prov.replications} replications, sha256 {prov.scenario_sha256[:12]}…"
        )
    print(f"wrote {' and '.join(written)}")
    return 0


def cmd_abtest(args: argparse.Namespace) -> int:
    (a, _), (b, _) = _load(args.a, args.overrides), _load(args.b, args.overrides)
    _check_run_options(args)
    try:
        designs = pilot.ab_scenarios(a, b, args.share, args.months or a.simulation.horizon_months)
    except ValueError as exc:
        raise ScenarioError([f"{args.a} / {args.b}: {exc}"]) from None
    runs = [_run_with_progress(sc, args.replications, args.seed) for sc in designs]
    a, b = designs[:2]
    frame = pilot.ab_table(*(r.rep_pilot for r in runs), a.pilot.alpha, a.pilot.power)
    if args.format == "json":
        print(json.dumps({"a": args.a, "b": args.b, "share": args.share, "test": pilot.records(frame)}, indent=2))
        return 0
    months = a.pilot.rollout_month or a.simulation.horizon_months
    print(
        f"A/B test: {a.meta.name} (A) on {args.share:.0%} of the customers against {b.meta.name} (B) on another "
        f"{args.share:.0%}, over months 1-{months}; {runs[0].done} replications, seed {runs[0].scenario.simulation.seed}.\n"
    )
    shown = pilot.display(frame, a.economics.currency).rename(columns=pilot.AB_COLUMNS)
    print(shown.set_index("Measure").T.to_string())
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    a, _ = _load(args.a, ())
    b, _ = _load(args.b, ())
    found = diff.diff(a, b)
    print(diff.as_json(found, args.a, args.b) if args.format == "json" else diff.table(found, args.a, args.b))
    return EXIT_DIFFERENT if found else 0


@contextlib.contextmanager
def progress_bar(desc: str = "simulating"):
    """A progress callable (0..1) drawing a bar on stderr while the block runs."""
    from tqdm import tqdm

    # no monitor thread: a run forks its worker processes only from a single-threaded process
    tqdm.monitor_interval = 0
    # the bar appears only for runs that last over a second
    quiet = not sys.stderr.isatty()
    with tqdm(total=100, delay=1.0, unit="%", desc=desc, file=sys.stderr, leave=False, disable=quiet) as bar:

        def progress(fraction: float) -> None:
            if round(100 * fraction) != bar.n:
                bar.n = round(100 * fraction)
                bar.refresh()

        yield progress


def _run_with_progress(scenario, replications, seed) -> Results:
    with progress_bar() as progress:
        _warn_if_long(scenario, replications, seed)
        return run(scenario, replications=replications, seed=seed, progress=progress)


def _warn_if_long(scenario: Scenario, replications: int | None, seed: int | None) -> None:
    """A line on stderr before a run that will take long (simulation/runner.py estimates it)."""
    from .runner import Runner, tasks_of

    warning = Runner().estimate(tasks_of(scenario, replications, seed)).warning()
    if warning:
        print(f"note: {warning}", file=sys.stderr)


def format_table(results: Results) -> str:
    """Every summary metric, in the product's one number style (`metrics.fmt`: money to three
    significant figures with its unit, shares in %, signed changes), headline first as in the
    app; the metric ids are kept, as `--objective` and the JSON name them."""
    from . import metrics
    from .analysis import ARMS

    sc = results.scenario
    currency = sc.economics.currency
    wide = results.summary.pivot(index="metric", columns="arm", values=["mean", "p05", "p95"])
    order = sorted(dict.fromkeys(results.summary.metric), key=metrics.sort_key)
    n_reps = results.replications.replication.nunique()
    lines = [
        f"{sc.meta.name}: {sc.customers.size:,} customers, {sc.simulation.horizon_months} months, "
        f"{n_reps} replications, seed {sc.simulation.seed} ({results.seconds:.2f} s)",
        "",
        f"{'metric':<28}{'program':>16}{'baseline':>16}{'incremental':>24}   5-95 % interval of incremental",
    ]

    def cell(metric: str, stat: str, arm: str) -> float:
        return wide.loc[metric].get((stat, arm), math.nan)

    share = cell("payback_share", "mean", "incremental") if "payback_share" in wide.index else math.nan
    for name in order:
        cells = [metrics.shown(name, cell(name, "mean", arm), arm, currency) for arm in ARMS]
        if name == "payback_month" and math.isnan(cell(name, "mean", "incremental")):
            cells[2] = "–" if math.isnan(share) else "not within the horizon"
        if name == "payback_share" and not math.isnan(share):
            cells[2] = f"{round(share * n_reps)} of {n_reps} runs"
        lo, hi = cell(name, "p05", "incremental"), cell(name, "p95", "incremental")
        interval = "" if math.isnan(lo) else metrics.shown_interval(name, lo, hi, "incremental", currency)
        # (24 wide: "not within the horizon")
        lines.append(f"{name:<28}{cells[0]:>16}{cells[1]:>16}{cells[2]:>24}   {interval}")
    return "\n".join(lines)


def format_drivers(results: Results, top: int = 8) -> str:
    """What drives the spread: per sampled parameter (the `top` largest), the share of the
    spread of each key incremental metric it explains."""
    from .uncertainty import RESIDUAL

    table = results.sensitivity.pivot(index="parameter", columns="metric", values="share")
    metrics = [m for m in ("net_profit", "roi", "retention_12m", "clv_mean", "nps_end") if m in table.columns]
    if not metrics:
        return "What drives the spread: too few replications with a defined result to tell."
    table = table[metrics]
    drivers = table.drop(index=RESIDUAL, errors="ignore").sort_values(metrics[0], ascending=False)
    shown = drivers.head(top)
    rest = drivers.iloc[top:].sum() if len(drivers) > top else None
    n = results.replications.replication.nunique()
    method = results.sensitivity["method"].iloc[0]
    lines = [
        f"What drives the spread (share of each incremental result's spread over {n} replications, by {method}"
        f"{'; rough below 50 replications' if n < 50 else ''}):",
        "",
        f"{'parameter':<52}" + "".join(f"{m:>15}" for m in metrics),
    ]
    for name, row in shown.iterrows():
        lines.append(f"{name:<52}" + "".join(f"{row[m]:>14.0%} " for m in metrics))
    if rest is not None:
        lines.append(f"{f'{len(drivers) - top} more parameters':<52}" + "".join(f"{rest[m]:>14.0%} " for m in metrics))
    if RESIDUAL in table.index:
        lines.append(f"{RESIDUAL:<52}" + "".join(f"{table.loc[RESIDUAL, m]:>14.0%} " for m in metrics))
    return "\n".join(lines)


def plain(value: float) -> str:
    """A lever's value or a number without a kind (sweep and trial tables): as written."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def cmd_validate(args: argparse.Namespace) -> int:
    failed = 0
    for path in args.scenarios:
        try:
            scenario_io.load(path, args.overrides)
            print(f"ok: {path}")
        except ScenarioError as exc:
            failed += 1
            for problem in exc.problems:
                print(f"error: {problem}", file=sys.stderr)
    return EXIT_INVALID if failed else 0


def cmd_show(args: argparse.Namespace) -> int:
    scenario = scenario_io.load(args.scenario, args.overrides)
    print(scenario_io.dumps(scenario, full=True), end="")
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    print(json.dumps(json_schema(), indent=2))
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    from .calibrate import commands
    from .calibrate.transactions import Columns

    _check_run_options(args)
    _check_folder(args.out)
    columns = Columns(args.customer_col, args.date_col, args.amount_col)
    out = commands.calibrate_file(args.transactions, columns, args.calibration_end, args.holdout_end, args.nps,
                                  args.replications, args.seed)  # fmt: skip
    target = args.out / "calibrated.yaml"
    target.write_text(scenario_io.dumps(out["scenario"]), encoding="utf-8")
    if args.format == "json":
        print(json.dumps(commands.calibration_json(out, str(target)), indent=2))
    else:
        print(commands.calibration_text(out, str(target)))
    return 0


def cmd_hold(args: argparse.Namespace) -> int:
    """Exit status 0 when the values found hold (written with --write), 1 when none do."""
    from . import roundtrip, steady

    scenario, raw = _load(args.scenario, args.overrides)
    if args.replications is not None and args.replications < 1:
        raise ScenarioError([f"--replications: must be >= 1 (got {args.replications})"])
    if args.write is not None:
        _check_folder(args.write.parent, "--write")

    def step(i: int, field: str, value: float, course: steady.Course) -> None:
        print(f"  {i:>2}: {field} {value:.4g} -> NPS {course.nps_end:+.1f}, {course.customers_end:,.0f} customers "
              f"in month {scenario.simulation.horizon_months}", file=sys.stderr)  # fmt: skip

    held = steady.hold(scenario, args.customers, args.replications, on_step=step)
    print(held.text())
    if not held.reached:
        return 1
    values = held.values()
    print("To use it: " + " ".join(f"--set {field}={value:g}" for field, value in values.items()))
    if args.write is not None:
        changed = scenario_io.override(scenario, values)
        text = roundtrip.update_text(raw.decode("utf-8"), changed) or scenario_io.dumps(changed)
        # (a comment already on a value's line spoke of the old value: it goes with "was")
        text = roundtrip.with_comments(text, {f: f"lojal hold: {why}" for f, why in held.why(roundtrip.BEFORE).items()})
        args.write.write_text(text, encoding="utf-8")
        print(f"wrote {args.write}")
    return 0


def cmd_retention(args: argparse.Namespace) -> int:
    from .calibrate import commands, retention

    if args.out is not None:
        _check_folder(args.out)
    fits = commands.retention_fit(args.cohorts, args.years)
    if args.out is not None:
        scenario = retention.scenario_with(fits, Scenario())
        (args.out / "retention.yaml").write_text(scenario_io.dumps(scenario), encoding="utf-8")
    if args.format == "json":
        print(json.dumps(commands.retention_json(fits, args.model), indent=2))
    else:
        print(commands.retention_text(fits, args.model))
        if args.out is not None:
            print(f"wrote {args.out / 'retention.yaml'}")
    return 0


def _check_folder(folder: Path, option: str = "--out") -> None:
    if not folder.is_dir():
        raise ScenarioError([f"{option} {folder}: no such folder"])


def cmd_plan(args: argparse.Namespace) -> int:
    from .instruments import REGISTRY, plan_table

    print(plan_table())
    print(f"\nInstruments, in the order their hooks run: {', '.join(REGISTRY)}")
    return 0


def cmd_app(args: argparse.Namespace) -> int:
    app = Path(__file__).resolve().parent.parent / "app" / "main.py"
    if not app.exists():
        print(f"error: the app is not installed here ({app} is missing)", file=sys.stderr)
        return 1
    extra = [a for a in args.streamlit_args if a != "--"]
    port_text = _streamlit_option(extra, "server.port") or "8501"
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ScenarioError([f"--server.port: a port number from 1 to 65535 (got {port_text!r})"])
    port = int(port_text)
    address = _streamlit_option(extra, "server.address") or ""
    busy = _port_in_use(address, port)
    if busy:
        print(
            f"error: port {port} is already in use ({busy}); stop what is serving there, or choose another "
            f"port: lojal app --server.port={port + 1}",
            file=sys.stderr,
        )
        return EXIT_INVALID
    extra = _without_option(extra, "server.port")
    # headless: no first-run e-mail prompt from Streamlit; we open the browser ourselves. A minimal
    # toolbar: no "Deploy" button and developer menu in front of a client
    cmd = [sys.executable, "-m", "streamlit", "run", str(app), "--server.headless=true",
           "--browser.gatherUsageStats=false", "--client.toolbarMode=minimal", f"--server.port={port}",
           *extra]  # fmt: skip
    # its own process group, so that stopping lojal stops Streamlit and its worker processes too
    proc = subprocess.Popen(cmd, start_new_session=True)
    group = _ProcessGroup(proc)
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, group.stop)
    url = f"http://{address or 'localhost'}:{port}"
    try:
        if _wait_healthy(url, proc):
            print(f"lojal app: {url}  (Ctrl+C to stop)", flush=True)
            webbrowser.open(url)
        elif proc.poll() is not None and not group.signal:
            print(f"error: the app did not start (Streamlit exited with status {proc.returncode})", file=sys.stderr)
        return group.wait()
    finally:
        group.stop()
        group.wait()


def _streamlit_option(args: list[str], name: str) -> str | None:
    """The value of `--name=value` or `--name value` among Streamlit's arguments."""
    for i, arg in enumerate(args):
        if arg.startswith(f"--{name}="):
            return arg.split("=", 1)[1]
        if arg == f"--{name}" and i + 1 < len(args):
            return args[i + 1]
    return None


def _without_option(args: list[str], name: str) -> list[str]:
    """Streamlit's arguments without `--name=value` / `--name value`."""
    out, skip = [], False
    for arg in args:
        if skip:
            skip = False
        elif arg == f"--{name}":
            skip = True
        elif not arg.startswith(f"--{name}="):
            out.append(arg)
    return out


def _port_in_use(address: str, port: int) -> str | None:
    """Why `port` cannot be served on `address` (Streamlit would fail after we printed its address), or None."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as Tornado does: TIME_WAIT is not busy
        try:
            sock.bind((address, port))
        except OSError as exc:
            return exc.strerror or str(exc)
    return None


class _ProcessGroup:
    """Streamlit's process group (the server and its worker processes): stopped as one, on a signal or on exit.

    The signal handler only sends SIGTERM; the waiting happens in `wait` (waiting inside the
    handler would deadlock on the Popen lock that the interrupted wait holds)."""

    GRACE_S = 10.0

    def __init__(self, proc: subprocess.Popen):
        self.proc, self.signal, self.stopped_at = proc, 0, None

    def stop(self, signum: int = 0, _frame=None) -> None:
        self.signal = self.signal or signum
        if self.stopped_at is None and self.proc.poll() is None:
            self.stopped_at = time.monotonic()
            self._kill(signal.SIGTERM)

    def wait(self) -> int:
        """Streamlit's exit status, or 128 + the signal that stopped lojal (SIGKILL after a grace period)."""
        while True:
            try:
                code = self.proc.wait(0.2)
                break
            except subprocess.TimeoutExpired:
                if self.stopped_at is not None and time.monotonic() - self.stopped_at > self.GRACE_S:
                    self._kill(signal.SIGKILL)
        return 128 + self.signal if self.signal else code

    def _kill(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signum)


def _wait_healthy(url: str, proc: subprocess.Popen, seconds: float = 60.0) -> bool:
    import urllib.request

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=1) as resp:
                if resp.read() == b"ok":
                    return True
        except OSError:
            time.sleep(0.2)
    return False


COMMANDS = {
    "run": cmd_run,
    "report": cmd_report,
    "diff": cmd_diff,
    "abtest": cmd_abtest,
    "validate": cmd_validate,
    "show": cmd_show,
    "schema": cmd_schema,
    "calibrate": cmd_calibrate,
    "retention": cmd_retention,
    "hold": cmd_hold,
    "plan": cmd_plan,
    "app": cmd_app,
    **cli_explore.COMMANDS,
}

if __name__ == "__main__":
    sys.exit(main())
