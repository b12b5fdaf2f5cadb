"""Measure the rows of docs/model.md section 12.1 for some instruments: what each lever moves.

    python bench/lever_rows.py staff_training partner_benefits --also purchases members_end nps_end

Each row is pulled from the response-suite base exactly as tests/test_responses.py does (same
base, same seed, paired replications) and every metric it names, plus `--also`, is printed
as the mean change in percent of the base figure with its z (mean / standard error of the
paired differences). Figures, not assertions: use them to set a row's band from what the
mechanism's equations give, not to tune a band until it is green.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from test_responses import base_for, lever_rows, pulled, values  # noqa: E402


def change(base, changed, metric: str) -> str:
    before = base[(metric, "program")]
    after = changed[(metric, "program")] if (metric, "program") in changed.columns else 0.0 * before
    d = after - before
    se = d.std(ddof=1) / len(d) ** 0.5
    share = 100 * d.mean() / abs(before.mean()) if before.mean() else float("nan")
    z = d.mean() / se if se else float("inf") if d.mean() else 0.0
    return f"{metric} {share:+.3g} % (z {z:.1f})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("instruments", nargs="+", help="instrument keys (membership for its levers)")
    ap.add_argument("--also", nargs="*", default=[], help="more metrics to print for every row")
    args = ap.parse_args()
    for path, how, moves in lever_rows():
        if path.split(".")[1] not in args.instruments:
            continue
        base, changed = values(base_for(path)), values(pulled(path, how))
        named = [e.strip().split(" ")[0] for e in moves.split(",")]
        cells = [change(base, changed, metric) for metric in dict.fromkeys(named + args.also)]
        print(f"{path} {how}  [{moves}]\n    " + "; ".join(cells), flush=True)


if __name__ == "__main__":
    main()
