"""Kill rates and surviving mutants of a mutmut run, written into docs/mutation.md.

Run by bench/mutation.sh after `mutmut run` (reads mutants/<module>.py.meta). Each module
gets its own section between markers, so a run on other modules keeps it. A survivor's
reason comes from bench/mutation_notes.toml, matched by function and by the original and
mutated line (not by mutmut's mutant number, which shifts when the code changes); a
survivor without a note is listed as "not yet killed: TODO".
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import tomllib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "mutation.md"
NOTES = ROOT / "bench" / "mutation_notes.toml"

# mutmut's exit codes (mutmut/stats.py): 1 and 3 are kills; SIGXCPU and friends are timeouts
KILLED, SURVIVED, NO_TESTS = {1, 3}, {0}, {5, 33}
TIMEOUT = {36, -24, 24, 152, 255}

HEAD = """# Mutation testing

Tool: [mutmut](https://github.com/boxed/mutmut) 3 (configuration: `[tool.mutmut]` in
`pyproject.toml`). One command runs it and rewrites the sections below for the modules it ran:

    bash bench/mutation.sh                      # results, instruments, membership, people, rng
    bash bench/mutation.sh results instruments/points   # other modules (paths under simulation/)

mutmut copies the project into `mutants/` (git-ignored), makes one mutant per small change
(an operator, a constant, a string, an argument dropped, ...) and runs, for each mutant, the
fast tests that call the mutated function (the engine-level tests; no browser, no app, no CLI),
stopping at the first failure. **Kill rate** = (killed + timed out) / all mutants of the module.
A survivor is either harmless (an equivalent mutant: the program computes the same thing) --
the reason is in `bench/mutation_notes.toml` and shown here -- or not yet killed (TODO).
Presentation is not mutated: `describe.py`, `figures.py` and the other files `do_not_mutate` names,
and within the instruments their `describe` and `charts` (plain words and figures, marked
`# pragma: no mutate block`; the app, CLI and docs tests cover them).

"""


def module_path(name: str) -> str:
    name = name.removesuffix(".py").replace(".", "/")
    name = name.removeprefix("simulation/")
    return f"simulation/{name}.py"


def changed_lines(diff: str) -> tuple[str, str]:
    minus = [ln[1:].strip() for ln in diff.splitlines() if ln.startswith("-") and not ln.startswith("---")]
    plus = [ln[1:].strip() for ln in diff.splitlines() if ln.startswith("+") and not ln.startswith("+++")]
    return " / ".join(minus), " / ".join(plus)


def function_of(mutant: str) -> str:
    """simulation.people.xǁPeopleǁ_grow__mutmut_6 -> People._grow"""
    name = mutant.rpartition(".")[2]
    name = re.sub(r"__mutmut_\d+$", "", name)
    if name.startswith("xǁ"):
        _, cls, meth = name.split("ǁ")
        return f"{cls}.{meth}"
    return name.removeprefix("x_")


def load_notes() -> list[dict]:
    if not NOTES.exists():
        return []
    return tomllib.loads(NOTES.read_text("utf-8")).get("survivor", [])


def why(notes: list[dict], module: str, function: str, before: str, after: str) -> str:
    for n in notes:
        if n["module"] == module and n["function"] == function and n["from"] == before and n["to"] == after:
            return n["why"]
    return "not yet killed: TODO"


def section(module: str, seconds: float | None, version: str, notes: list[dict]) -> str:
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    meta = json.loads((ROOT / "mutants" / f"{module}.meta").read_text("utf-8"))
    codes = meta["exit_code_by_key"]
    count = Counter()
    for code in codes.values():
        kind = (
            "killed"
            if code in KILLED
            else "survived"
            if code in SURVIVED
            else "timeout"
            if code in TIMEOUT
            else "no tests"
            if code in NO_TESTS
            else "not run"
            if code is None
            else "other"
        )
        count[kind] += 1
    total = len(codes)
    rate = (count["killed"] + count["timeout"]) / total if total else 0.0
    ran = total - count["not run"]
    rate_ran = (count["killed"] + count["timeout"]) / ran if ran else 0.0
    took = f"{seconds / 60:.1f} min for the whole run" if seconds is not None else "run time not recorded"
    lines = [
        f"<!-- mutation:{module}:begin -->",
        f"## `{module}`",
        "",
        f"{dt.date.today().isoformat()}, mutmut {version}, {took}.",
        "",
        "| mutants | killed | survived | timeout | no tests | other | not run (run stopped) | kill rate | of those run |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {total} | {count['killed']} | {count['survived']} | {count['timeout']} | {count['no tests']} | "
        f"{count['other']} | {count['not run']} | **{rate:.1%}** | {rate_ran:.1%} |",
        "",
    ]
    left = sorted(
        (k for k, c in codes.items() if c is not None and c not in KILLED and c not in TIMEOUT),
        key=lambda k: (function_of(k), int(k.rpartition("_")[2])),
    )
    if left:
        lines += ["Surviving mutants (`mutmut show <name>` prints the diff):", ""]
        lines += ["| mutant | function | original -> mutated | why it is harmless |", "|---|---|---|---|"]
        for key in left:
            before, after = changed_lines(get_diff_for_mutant(key, path=module))
            fn = function_of(key)
            status = (
                ""
                if codes[key] in SURVIVED
                else f" ({'no tests' if codes[key] in NO_TESTS else 'not run' if codes[key] is None else 'exit ' + str(codes[key])})"
            )
            cell = f"`{before}` -> `{after}`".replace("|", "\\|")
            lines.append(
                f"| `{key.rpartition('.')[2]}`{status} | `{fn}` | {cell} | {why(notes, module, fn, before, after)} |"
            )
        lines.append("")
    lines.append(f"<!-- mutation:{module}:end -->")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("modules", nargs="+", help="paths under simulation/, e.g. people rng instruments/points")
    ap.add_argument("--seconds", type=float, default=None, help="wall time of the run")
    args = ap.parse_args()
    import mutmut

    notes = load_notes()
    text = DOC.read_text("utf-8") if DOC.exists() else HEAD
    for name in args.modules:
        module = module_path(name)
        new = section(module, args.seconds, mutmut.__version__, notes)
        pattern = re.compile(
            rf"<!-- mutation:{re.escape(module)}:begin -->.*?<!-- mutation:{re.escape(module)}:end -->", re.S
        )
        text = (
            pattern.sub(lambda _m, new=new: new, text)
            if pattern.search(text)
            else text.rstrip("\n") + "\n\n" + new + "\n"
        )
        summary = re.search(r"\| \*\*(.*?)\*\* \|", new)
        print(f"{module}: kill rate {summary.group(1) if summary else '?'}")
    DOC.write_text(text, "utf-8")
    print(f"wrote {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
