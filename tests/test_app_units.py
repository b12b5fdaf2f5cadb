"""Unit tests of the app's pure modules, on results of the real engine (small runs)."""

from __future__ import annotations

import io
import math

import pandas as pd
import pytest
from test_app_support import BUNDLED, small

import simulation
from app import drafts, fields, library, runs
from simulation import analysis, describe, export, figures, metrics
from simulation.schema import LEVELS, Scenario


@pytest.fixture(scope="module")
def coffee() -> simulation.Results:
    return simulation.run(small(BUNDLED[0]))


@pytest.fixture(scope="module")
def pair() -> dict[str, simulation.Results]:
    """Two designs with the same seed and replications: paired by replication."""
    base = small(BUNDLED[0])
    richer = simulation.override(base, {"program.points.reward_value": 90})
    return {"base": simulation.run(base), "richer": simulation.run(richer)}


# --------------------------------------------------------------------------- fields
def test_paths_parse_join_get_set():
    assert fields.parse("customers.segments[2].share") == ["customers", "segments", 2, "share"]
    assert fields.join("customers", "segments", 2, "share") == "customers.segments[2].share"
    data = Scenario().model_dump(mode="json")
    fields.set_in(data, "customers.segments[0].share", 0.7)
    assert fields.get_in(data, "customers.segments[0].share") == 0.7
    assert fields.get_in(data, "customers.segments[5].share", "missing") == "missing"
    fields.set_in(data, "program.points.earn_rate", 3.0)  # creates the missing block
    assert data["program"]["points"] == {"earn_rate": 3.0}
    assert fields.is_field_key("program.points.earn_rate") and not fields.is_field_key("run")


def test_check_routes_block_messages_to_the_field():
    data = Scenario().model_dump(mode="json")
    data["customers"]["segments"][0]["share"] = 0.5
    scenario, problems = fields.check(data)
    assert scenario is None
    assert problems == {"customers.segments": ["shares must sum to 1 (got 0.5)"]}
    data["customers"]["segments"][0]["share"] = 1.0
    data["customers"]["ladder"]["churn_per_month"]["loyal"] = 2
    _, problems = fields.check(data)
    assert list(problems) == ["customers.ladder.churn_per_month.loyal"]
    assert fields.check(Scenario().model_dump(mode="json")) == (Scenario(), {})


def test_kind_of_covers_every_schema_field():
    """Every field of every block has a widget kind (a new field type would fail here first)."""
    seen, todo = set(), [Scenario]
    while todo:
        model = todo.pop()
        for info in model.model_fields.values():
            kind = fields.kind_of(info.annotation)
            seen.add(kind.name)
            if kind.name in ("model", "table") and kind.inner not in todo:
                todo.append(kind.inner)
    assert seen >= {"bool", "choice", "int", "float", "str", "levels", "model", "table", "vector"}


# --------------------------------------------------------------------------- library and drafts
def test_save_never_overwrites_silently(tmp_path):
    path = library.save_new(tmp_path, "a.yaml", "meta: {name: A}\n")
    with pytest.raises(FileExistsError):
        library.save_new(tmp_path, "a.yaml", "meta: {name: B}\n")
    assert "A" in path.read_text()
    library.save_new(tmp_path, "a.yaml", "meta: {name: B}\n", overwrite=True)
    assert "B" in path.read_text()
    entries = library.list_scenarios(tmp_path)
    assert library.target_file(entries, "B") == "a.yaml"  # the name lives in a.yaml
    assert library.target_file(entries, "New one") == "new-one.yaml"
    assert library.free_name(tmp_path, entries, "B") == "B 2"
    with pytest.raises(ValueError):
        library.save_new(tmp_path, "../evil.yaml", "x: 1\n")
    assert library.slugify("  Coffee card v2! ") == "coffee-card-v2"


def test_library_lists_names_and_flags_broken_files(tmp_path):
    (tmp_path / "good.yaml").write_text(simulation.dumps(small(BUNDLED[0])))
    (tmp_path / "bad.yaml").write_text("customers:\n  size: -5\n")
    entries = {e.path.name: e for e in library.list_scenarios(tmp_path)}
    assert entries["good.yaml"].ok and entries["good.yaml"].name == small(BUNDLED[0]).meta.name
    assert not entries["bad.yaml"].ok
    assert "bad.yaml:2 customers.size" in entries["bad.yaml"].problems[0]


def test_library_groups_and_filters_by_industry_and_instrument(tmp_path):
    write = lambda name, text: (tmp_path / name).write_text(text)  # noqa: E731
    write("cafe.yaml", "meta: {name: Cafe, industry: food_service}\nprogram: {points: {}}\n")
    write("club.yaml", "meta: {name: Club, industry: fashion}\nprogram: {points: {}, subscription: {}}\n")
    write("off.yaml", "meta: {name: Off, industry: fashion}\nprogram: {points: {enabled: false}}\n")
    write("plain.yaml", "meta: {name: Plain}\n")
    write("test.yaml", "meta: {name: Test, industry: grocery}\nprogram: {points: {}}\npilot: {share: 0.2}\n")
    write("bad.yaml", "customers:\n  size: -5\n")
    entries = library.list_scenarios(tmp_path)
    names = lambda group: [e.name for e in group]  # noqa: E731
    by_industry = library.grouped(entries, "industry")
    # the schema's order of industries, the catch-alls last; names sorted within a heading
    assert {h: names(g) for h, g in by_industry.items()} == {
        "Coffee, restaurants and food service": ["Cafe"],
        "Grocery": ["Test"],
        "Fashion and apparel": ["Club", "Off"],
        library.NO_INDUSTRY: ["Plain"],
        library.PROBLEMS: ["bad"],
    }
    # by instrument a file is under each instrument it switches on; a switched-off one is no instrument
    by_instrument = {h: names(g) for h, g in library.grouped(entries, "instrument").items()}
    assert by_instrument == {
        "Points": ["Cafe", "Club", "Test"],
        "Paid club": ["Club"],
        "Pilot": ["Test"],  # a rollout design is listed with the instruments
        library.NO_PROGRAM: ["Off", "Plain"],
        library.PROBLEMS: ["bad"],
    }
    assert library.choices(entries, "instrument") == [
        "Points",
        "Paid club",
        "Pilot",
        library.NO_PROGRAM,
        library.PROBLEMS,
    ]
    # filters: an empty one keeps everything; both must hold
    assert len(library.filtered(entries)) == 6
    assert names(library.filtered(entries, ["Fashion and apparel"])) == ["Club", "Off"]
    assert names(library.filtered(entries, ["Fashion and apparel"], ["Points"])) == ["Club"]
    assert names(library.filtered(entries, instruments=["Paid club", "Points"])) == ["Cafe", "Club", "Test"]
    assert library.filtered(entries, ["Beauty and health"]) == []


def test_the_bundled_library_covers_the_field():
    """Every bundled scenario has its industry; the library spans at least six industries,
    the first instruments, the member card and personalised offers, and a pilot."""
    entries = library.list_scenarios(BUNDLED[0].parent)
    assert len(entries) == len(BUNDLED) >= 8 and all(e.ok for e in entries)
    industries = library.choices(entries, "industry")
    assert library.NO_INDUSTRY not in industries and len(industries) >= 6
    assert set(library.choices(entries, "instrument")) >= {"Points", "Tiers", "Paid club", "Referral", "Member card", "Personalised offers", "Pilot"}


def test_drafts_round_trip_and_refuse_bad_ids(tmp_path):
    ws = drafts.Workspace(drafts.new_id(), Scenario().model_dump(mode="json"))
    ws.data["customers"]["size"] = -1  # invalid values are kept, not lost
    label = ws.keep_variant("mine", ws.data)
    assert ws.keep_variant("again", ws.data) == label  # same content kept once
    drafts.save(tmp_path, ws)
    back = drafts.load(tmp_path, ws.id)
    assert back == ws
    assert drafts.load(tmp_path, "../../etc/passwd") is None
    assert drafts.load(tmp_path, "0123456789abcdef") is None


# --------------------------------------------------------------------------- metrics and analysis
def test_abandoned_drafts_are_pruned_and_nothing_else(tmp_path):
    import os
    import time

    old, recent = drafts.Workspace(drafts.new_id(), {}), drafts.Workspace(drafts.new_id(), {})
    for ws in (old, recent):
        drafts.save(tmp_path, ws)
    stale = time.time() - (drafts.KEEP_DAYS + 1) * 86400
    os.utime(drafts.path_for(tmp_path, old.id), (stale, stale))
    other = tmp_path / "notes.json"
    other.write_text("{}")
    os.utime(other, (stale, stale))
    assert drafts.prune(tmp_path) == 1
    assert drafts.load(tmp_path, old.id) is None
    assert drafts.load(tmp_path, recent.id) is not None
    assert other.exists()


def test_formatting():
    assert metrics.fmt(0.123, "share") == "12.3 %"
    assert metrics.fmt(0.021, "share", signed=True) == "+2.1 pp"
    assert metrics.fmt(-1234.5, "money", "kr", signed=True) == "-kr 1,234"
    assert metrics.fmt(2.5, "money", "$") == "$2.50"
    # one style for money: three significant figures with a unit from 10,000 up, signs on changes
    assert metrics.fmt(5_865_080, "money", "kr", signed=True) == "+kr 5.87 M"
    assert metrics.fmt(174_931_812.1598, "money", "kr") == "kr 175 M"
    assert metrics.fmt(45_310, "money", "kr") == "kr 45.3 k"
    assert metrics.fmt(999_999, "money", "kr") == "kr 1 M"  # rounded first: not "kr 1e+03 k"
    assert metrics.fmt(-2.4e9, "money", "kr", signed=True) == "-kr 2.4 bn"
    assert metrics.fmt_interval(5_865_080, 6_602_698, "money", "kr") == "+kr 5.87 M to +kr 6.6 M"
    assert metrics.fmt(float("nan"), "count") == "–"
    assert metrics.metric("cost_rewards").better == -1
    assert metrics.metric("level_very_satisfied").label == "Very satisfied"


def test_profit_bridge_closes_to_the_engines_net_profit(coffee):
    bridge = analysis.profit_bridge(coffee.summary)
    total = bridge[bridge.measure == "total"].value.iloc[0]
    steps = bridge[bridge.measure == "relative"].value.sum()
    assert total == pytest.approx(analysis.value(coffee.summary, "net_profit", "incremental"))
    assert steps == pytest.approx(total, rel=1e-9, abs=1e-6)
    assert "Other" not in set(bridge.step), "the engine's net profit has a part the bridge does not name"


def test_beat_probability_is_paired_by_replication():
    a = pd.Series([1.0, 2.0, 3.0, 4.0])
    b = pd.Series([0.5, 2.5, 2.0, 4.0])
    assert analysis.beat_probability(a, b, 1, True) == pytest.approx((1 + 0 + 1 + 0.5) / 4)
    assert analysis.beat_probability(a, b, -1, True) == pytest.approx((0 + 1 + 0 + 0.5) / 4)
    assert analysis.beat_probability(a, b, 1, False) == pytest.approx(
        sum(0.5 if x == y else float(x > y) for x in a for y in b) / 16
    )


def test_compare_table_and_beat_matrix(pair):
    summaries = {k: r.summary for k, r in pair.items()}
    reps = {k: r.replications for k, r in pair.items()}
    assert analysis.paired(reps)
    table = analysis.compare_table(summaries, reps)
    assert set(table.scenario) == {"base", "richer"}
    assert set(pair["base"].summary.metric) == set(table.metric)  # every summary metric
    row = table[(table.metric == "net_profit") & (table.arm == "program") & (table.scenario == "richer")].iloc[0]
    direct = analysis.value(summaries["richer"], "net_profit", "program") - analysis.value(
        summaries["base"], "net_profit", "program"
    )
    assert row["diff"] == pytest.approx(direct)
    assert row.diff_p05 <= row["diff"] <= row.diff_p95
    matrix = analysis.beat_matrix(reps, "net_profit", "incremental")
    assert matrix.loc["base", "richer"] + matrix.loc["richer", "base"] == pytest.approx(1.0)


# --------------------------------------------------------------------------- figures
def test_figures_show_the_results(coffee):
    fig = figures.over_time(coffee.monthly, "retention")
    assert [t.name for t in fig.data if t.showlegend is not False] == ["No program", "With program"]
    program = analysis.series(coffee.monthly, "retention", "program")
    assert list(fig.data[-1].y) == pytest.approx(list(program["mean"]))

    ladder = figures.ladder_over_time(coffee.monthly)
    assert [t.stackgroup for t in ladder.data] == ["ladder"] * len(LEVELS)

    sankey = figures.ladder_flows(coffee.flows).data[0]
    flows = coffee.flows[(coffee.flows.arm == "program") & (coffee.flows.customers > 0)]
    assert sum(sankey.link.value) == pytest.approx(flows.customers.sum())
    assert sum(sankey.link.value) == pytest.approx(coffee.scenario.customers.size, rel=0.01)

    waterfall = figures.profit_waterfall(coffee.summary).data[0]
    assert waterfall.type == "waterfall" and waterfall.measure[-1] == "total"

    clv = figures.clv_by_group(coffee.clv, "segment")
    assert {t.name for t in clv.data} == {"No program", "With program"}
    assert list(clv.data[0].x) == [s.name for s in coffee.scenario.customers.segments]

    points = figures.points_over_time(coffee.monthly)
    assert {t.name for t in points.data} >= {"Points issued", "Points liability"}
    liability_axis = points.layout.yaxis2
    assert min(liability_axis.tickvals) == 0  # a liability is never negative: no ticks below zero
    assert all(t.startswith("kr ") for t in liability_axis.ticktext)
    assert figures.nice_ticks(148_000) == [0, 50_000, 100_000]

    cohorts = figures.cohort_retention(coffee.cohorts)
    names = list(dict.fromkeys(coffee.cohorts.cohort))
    assert [t.name for t in cohorts.data][:2] == ["Starting base", "Starting base (no program)"]
    assert len(cohorts.data) == 2 * len(names)
    base = coffee.cohorts[(coffee.cohorts.arm == "program") & (coffee.cohorts.cohort == "starting base")]
    assert list(cohorts.data[0].y) == pytest.approx(list(base["mean"]))


def test_compare_figures(pair):
    monthlies = {k: r.monthly for k, r in pair.items()}
    fig = figures.overlay(monthlies, "active_customers")
    assert [t.name for t in fig.data if t.showlegend is not False] == ["base", "richer"]
    matrix = analysis.beat_matrix({k: r.replications for k, r in pair.items()}, "nps_end", "program")
    heat = figures.beat_heatmap(matrix, "t").data[0]
    assert heat.type == "heatmap" and list(heat.x) == ["1", "2"] and list(heat.y) == ["1 base", "2 richer"]
    assert list(heat.customdata[0][1]) == ["base", "richer"]  # the hover names both in full
    long = "Fashion retailer tiers, club and a richer launch offer"
    assert max(len(line) for line in figures.wrap(long).split("<br>")) <= 16 and figures.wrap(long).count("<br>") == 3


def test_starting_ladder_matches_the_scenario():
    scenario = small(BUNDLED[0])
    frame = analysis.starting_ladder(scenario)
    assert frame.customers.sum() == pytest.approx(scenario.customers.size)
    assert len(figures.starting_ladder(frame).data) == len(scenario.customers.segments)


def test_starting_nps_is_the_survey_nps_and_launch_members_follow_enrolment():
    counts = [4, 3, 6, 8, 12, 20, 30, 60, 55, 30, 12]  # answers 0..10
    survey_nps = 100 * (sum(counts[9:]) - sum(counts[:7])) / sum(counts)
    segments = [
        {"name": "A", "share": 0.25, "initial_nps_counts": counts, "enrollment_propensity": 0.8},
        {"name": "B", "share": 0.75, "initial_nps_counts": counts, "enrollment_propensity": 0.4},
    ]
    scenario = Scenario.model_validate({"customers": {"size": 1000, "segments": segments}, "program": {"points": {}}})
    position = analysis.starting_position(scenario)
    assert position["customers"] == 1000
    assert position["nps"] == pytest.approx(survey_nps)
    assert position["willing_to_join"] == pytest.approx(0.25 * 0.8 + 0.75 * 0.4)
    without = Scenario.model_validate({"customers": {"segments": segments}})
    assert analysis.starting_position(without)["willing_to_join"] == 0.0


# --------------------------------------------------------------------------- describe and export
def test_plain_language_summary():
    base = Scenario().model_dump(mode="json")
    base["program"]["points"] = {"earn_rate": 0.1, "reward_value": 50, "redemption_threshold": 500, "expiry_months": 12}
    text = describe.summary(simulation.validate(base))
    assert "1 point per kr 10 spent" in text
    assert "a kr 50 reward at 500 points" in text
    assert "expires after 12 months without activity" in text
    base["program"]["points"]["enabled"] = False
    off = describe.summary(simulation.validate(base))
    assert "Switched off: Points." in off and "No program instrument" in off
    for path in BUNDLED:
        assert describe.describe(simulation.load(path))  # every example reads


def test_exports_are_readable(coffee):
    summary = pd.read_csv(io.BytesIO(export.summary_csv(coffee)))
    assert list(summary.columns) == ["metric", "arm", "mean", "p05", "p95", "note"]
    assert len(summary) == len(coffee.summary)
    monthly = pd.read_csv(io.BytesIO(export.monthly_csv(coffee)))
    assert list(monthly.columns) == ["month", "metric", "arm", "mean", "p05", "p95"]
    book = pd.read_excel(io.BytesIO(export.excel_bytes(coffee)), sheet_name=None)
    assert {
        "About",
        "Summary",
        "Monthly",
        "Replications",
        "Flows",
        "CLV",
        "Cohorts",
        "Monthly with program",
        "Monthly no program",
        "Monthly difference",
        "Scenario",
    } <= set(book)
    assert len(book["Summary"]) == len(coffee.summary)
    assert not math.isnan(book["Monthly with program"]["Active customers"].iloc[-1])
    again = simulation.loads(export.scenario_yaml(coffee).decode())
    assert again == coffee.scenario


def test_replications_spread_over_processes_give_the_engines_numbers():
    scenario = small(BUNDLED[0])
    seen = []
    spread = runs.simulate(scenario, progress=seen.append, parallel=True)
    alone = simulation.run(scenario)
    for name in ("summary", "monthly", "replications", "flows", "clv"):
        pd.testing.assert_frame_equal(getattr(spread, name), getattr(alone, name))
    assert seen[-1] == 1.0 and len(seen) == scenario.simulation.replications


def test_a_head_start_is_taken_over_by_run_and_replaced_by_a_newer_design(monkeypatch):
    monkeypatch.setenv("LOJAL_WORKERS", "2")
    monkeypatch.delenv("LOJAL_HEAD_START", raising=False)
    monkeypatch.setattr(runs, "PARALLEL_MIN_WORK", 0)  # the small scenario counts as big
    runs.clear()
    submitted = []
    real_submit = runs._submit
    monkeypatch.setattr(runs, "_submit", lambda s: submitted.append(s) or real_submit(s))
    scenario = small(BUNDLED[0])
    assert runs.head_start("tab-a", scenario)
    assert runs.head_start("tab-a", scenario)  # already under way: not started twice
    assert len(submitted) == 1
    spread = runs.simulate(scenario, owner="tab-a")
    assert len(submitted) == 1  # Run took the head start over
    alone = simulation.run(scenario)
    for name in ("summary", "monthly", "replications"):
        pd.testing.assert_frame_equal(getattr(spread, name), getattr(alone, name))

    # a newer design of the same tab replaces the older one's head start
    older = simulation.override(scenario, {"program.points.reward_value": 60})
    newer = simulation.override(scenario, {"program.points.reward_value": 70})
    runs.head_start("tab-a", older)
    runs.head_start("tab-a", newer)
    assert runs._claim_head_start("tab-a", older) is None
    futures = runs._claim_head_start("tab-a", newer)
    assert futures is not None and len(futures) == scenario.simulation.replications
    for f in futures:
        f.result()

    # too big to run unasked, or switched off: no head start
    monkeypatch.setattr(runs, "HEAD_START_MAX_WORK", runs.work(scenario) - 1)
    assert not runs.head_start("tab-b", scenario)
    monkeypatch.setattr(runs, "HEAD_START_MAX_WORK", runs.work(scenario))
    monkeypatch.setenv("LOJAL_HEAD_START", "0")
    assert not runs.head_start("tab-b", scenario)
    runs.clear()


def test_tier_chart_shows_the_tiers_only():
    fashion = next(p for p in BUNDLED if "tier" in p.name)
    results = simulation.run(small(fashion))
    order = [t.name for t in results.scenario.program.tiers.tiers]
    fig = figures.tiers_over_time(results.monthly, order)
    assert [t.name for t in fig.data] == order  # not the upgrade / downgrade counts
    assert "tier" in set(results.clv.group_by)
    assert {t.name for t in figures.clv_by_group(results.clv, "tier").data} == {"No program", "With program"}


def test_a_run_shorter_than_a_year_still_has_a_retention_card():
    short = simulation.run(small(BUNDLED[0], **{"simulation.horizon_months": 6}))
    assert not short.summary.metric.str.startswith("retention_").any()
    summary = analysis.headline_summary(short.summary, short.monthly)
    end = analysis.series(short.monthly, "retention", "program").iloc[-1]["mean"]
    assert analysis.value(summary, "retention_end", "program") == pytest.approx(end)
    assert metrics.metric("retention_end").kind == "share"


def test_compare_counts_never_paying_back_as_worst_and_shows_no_payback_difference():
    """A run that never pays back is beaten by any that does (ties when neither does), and
    the Compare table gives no difference of payback months (it would leave those runs out)."""
    import pandas as pd

    from simulation import analysis

    def reps(months):
        return pd.DataFrame(
            {"replication": range(len(months)), "metric": "payback_month", "arm": "incremental", "value": months}
        )

    a, b = reps([5.0, float("nan"), 7.0]), reps([float("nan")] * 3)
    matrix = analysis.beat_matrix({"A": a, "B": b}, "payback_month", "incremental")
    assert matrix.loc["A", "B"] == pytest.approx((1 + 0.5 + 1) / 3)
    assert matrix.loc["B", "A"] == pytest.approx(0.5 / 3)
    summary = pd.DataFrame(
        {"metric": ["payback_month"], "arm": ["incremental"], "mean": [6.0], "p05": [5.1], "p95": [6.9]}
    )
    table = analysis.compare_table({"A": summary, "B": summary}, {"A": a, "B": b}, arms=("incremental",))
    assert table["diff"].isna().all()


def test_the_export_pages_report_and_workbook_carry_the_provenance_of_its_yaml(coffee):
    import hashlib
    import re

    from openpyxl import load_workbook

    from simulation import provenance, report

    text = simulation.dumps(coffee.scenario)
    yaml_file = export.scenario_yaml(coffee, original=text)
    assert yaml_file == text.encode()  # the scenario as opened: the same bytes
    prov = provenance.of_run(coffee, "coffee.yaml", yaml_file)
    html = report.html([(coffee, prov)])
    assert not re.search(r"<script[^>]*\bsrc=", html)
    assert hashlib.sha256(yaml_file).hexdigest() in html and coffee.scenario.meta.name in html
    about = load_workbook(io.BytesIO(export.excel_bytes(coffee, prov)))["About"]
    rows = {r[0].value: r[1].value for r in about.iter_rows(min_row=2)}
    assert rows["Seed"] == coffee.scenario.simulation.seed and rows["To reproduce"] == prov.rerun()
    book = load_workbook(io.BytesIO(export.excel_bytes(coffee, prov)))
    ids = {  # labels, never ids such as word_of_mouth or retention_12m (the YAML sheet aside)
        (ws.title, cell.value)
        for ws in book.worksheets
        if ws.title != "Scenario"
        for row in ws.iter_rows()
        for cell in row
        if isinstance(cell.value, str) and re.search(r"\b[a-z]+_[a-z0-9_]+\b", cell.value)
    }
    assert not ids
    summary = book["Summary"]
    assert summary.freeze_panes == "A2" and summary["A1"].font.bold
    assert {summary.cell(r, 3).number_format for r in range(2, summary.max_row + 1)} >= {"0.0%", '"kr" #,##0'}


# --------------------------------------------------------------------------- runs that stream in
def _same(a: simulation.Results, b: simulation.Results) -> None:
    for name in ("summary", "monthly", "replications", "flows", "clv", "cohorts"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)


def test_a_streamed_run_shows_the_replications_done_then_the_numbers_of_run(monkeypatch):
    from concurrent.futures import Future

    from simulation.runner import SECONDS_PER_CUSTOMER_MONTH

    scenario = small(BUNDLED[0])
    reps = [simulation.run_replication(scenario, r) for r in range(3)]
    futures = [Future() for _ in reps]
    monkeypatch.setattr(runs, "workers", lambda: 2)
    # before the first replication: the runner's estimate from the scenario's size, less the time gone
    big = simulation.load(BUNDLED[0])  # (as shipped: 20,000 customers x 36 months x 10 replications)
    expected = runs.work(big) * SECONDS_PER_CUSTOMER_MONTH / 2
    assert 0 < expected - 1.0 < runs.Job(big, [Future() for _ in range(10)]).seconds_left() <= expected
    job = runs.Job(scenario, futures)
    assert job.results() is None and job.running
    monkeypatch.setattr(job, "_expected", 1e-9)  # slower than estimated: no figure rather than a wrong one
    assert job.seconds_left() is None
    futures[1].set_result(reps[1])  # replications finish in any order
    job.collect()
    first = job.results()
    assert (first.done, first.planned, first.provisional) == (1, 3, True)
    assert job.results() is first  # combined once per replication that comes in
    left = job.seconds_left()
    assert left is not None and left >= 0
    for future, rep in zip(futures, reps, strict=True):
        if not future.done():
            future.set_result(rep)
    job.collect()
    assert job.finished and not job.running and job.seconds_left() is None
    _same(job.results(), simulation.run(scenario))
    assert not job.results().provisional


def test_every_example_as_shipped_runs_in_the_pool_with_a_head_start(monkeypatch):
    """Each bundled example streams in from the worker pool and gets a head start: none is small
    enough to stay in the server (the 5,000-customer b2b example did, its first figures 2.6 s late)."""
    monkeypatch.setattr(runs, "workers", lambda: 2)
    for path in BUNDLED:
        sc = simulation.load(path)
        assert runs._parallel(sc) and runs.work(sc) <= runs.HEAD_START_MAX_WORK, path.name


def test_a_failed_replication_ends_the_run_with_the_error():
    from concurrent.futures import Future

    scenario = small(BUNDLED[0])
    futures = [Future() for _ in range(3)]
    job = runs.Job(scenario, futures)
    futures[0].set_exception(RuntimeError("out of cheese"))
    job.collect()
    assert isinstance(job.error, RuntimeError) and not job.running
    assert all(f.cancelled() for f in futures[1:])  # the rest is not run


def test_cancel_keeps_the_replications_done_and_run_finishes_them(monkeypatch):
    monkeypatch.setenv("LOJAL_WORKERS", "2")
    monkeypatch.setattr(runs, "PARALLEL_MIN_WORK", 0)
    runs.clear()
    scenario = small(BUNDLED[0], **{"simulation.replications": 6})
    assert runs.streams(scenario)
    job = runs.start("tab-a", scenario)
    job.wait_first(60)
    job.stop()
    kept = job.done
    assert kept >= 1 and job.stopped and not job.pending
    assert runs.poll("tab-a").done == kept  # replications that were running when stopped are dropped
    assert runs.finish("tab-a") is None  # stopped, not over: the partial results stay
    assert runs.start("tab-a", scenario) is job and job.running  # Run again: the rest only
    assert sorted(job.pending) == [r for r in range(6) if r not in job.reps]
    for future in list(job.pending.values()):
        future.result()
    assert runs.poll("tab-a").finished
    assert runs.finish("tab-a") is job and runs.job("tab-a") is None
    _same(runs.cached(scenario), simulation.run(scenario))
    assert not runs.streams(scenario)  # cached now: Run shows it at once

    # Run on another design replaces the tab's run
    other = simulation.override(scenario, {"program.points.reward_value": 70})
    first = runs.start("tab-a", other)
    newer = runs.start("tab-a", simulation.override(scenario, {"program.points.reward_value": 80}))
    assert newer is not first and first.stopped and runs.job("tab-a") is newer
    runs.clear()
    assert runs.job("tab-a") is None and newer.stopped


def test_provisional_results_are_drawn_again_when_doubled_and_not_too_often():
    import time

    from app.shell import REDRAW_SECONDS, _worth_drawing

    long_ago, now, later = time.monotonic() - REDRAW_SECONDS, time.monotonic(), 2 * REDRAW_SECONDS
    assert not _worth_drawing(0, 0, now, None) and _worth_drawing(1, 0, now, 0.1)  # the first figures at once
    assert not _worth_drawing(3, 2, long_ago, later) and _worth_drawing(4, 2, long_ago, later)
    assert not _worth_drawing(4, 2, now, later)  # not again within REDRAW_SECONDS
    assert not _worth_drawing(4, 2, long_ago, REDRAW_SECONDS / 2)  # nor just before the final figures


def test_a_run_that_waits_for_the_tabs_streamed_run_of_the_same_design_does_not_run_it_again(monkeypatch):
    monkeypatch.setenv("LOJAL_WORKERS", "2")
    monkeypatch.setattr(runs, "PARALLEL_MIN_WORK", 0)
    runs.clear()
    submitted = []
    real_submit = runs._submit
    monkeypatch.setattr(runs, "_submit", lambda s, r=None: submitted.append(r) or real_submit(s, r))
    scenario = small(BUNDLED[0])
    job = runs.start("tab-a", scenario)  # Run, then the Compare page wants the same design
    seen = []
    shared = runs.simulate(scenario, progress=seen.append, owner="tab-a")
    assert submitted == [None] and job.finished and shared is job.results()
    assert seen[-1] == 1.0 and len(seen) == scenario.simulation.replications
    _same(shared, simulation.run(scenario))
    runs.clear()


def test_a_required_number_gets_a_widget_spec():
    """A number field without a default (a table column of a plug-in's list) has no default to
    size its step from: the Design page must still draw it, not fail."""
    from pydantic_core import PydanticUndefined

    from app.schema_form import number_spec

    spec = number_spec({"default": PydanticUndefined, "gt": 0}, PydanticUndefined, False)
    assert spec["min_value"] == 0.0 and spec["step"] == 1.0 and spec["format"] == "%.0f"
    assert number_spec({"default": PydanticUndefined}, None, True)["step"] == 1


def test_figures_on_the_cards_are_kept_on_one_line():
    # a narrow card broke "+kr 6.6" from its "M" and "+0.8" from its "pp"
    from app.views import unbroken

    nb = '<span class="lojal-nb">{}</span>'.format
    assert unbroken("+kr 5.87 M to +kr 6.6 M") == f"{nb('+kr 5.87 M')} to {nb('+kr 6.6 M')}"
    assert unbroken("of the change: +0.8 pp to +1.0 pp") == f"of the change: {nb('+0.8 pp')} to {nb('+1.0 pp')}"
    assert unbroken("85.4 % to EUR 7 & month 12") == f"{nb('85.4 %')} to {nb('EUR 7')} &amp; {nb('month 12')}"
    assert unbroken("Mkr 5 Mar") == f"Mkr {nb('5')} Mar"  # (no unit glued out of a word)
