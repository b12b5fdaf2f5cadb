"""The Calibrate page's helpers: the files it works on and its settings, kept in the session so
that a visit to another page loses nothing; the fit with its progress; its tables written the
way the app writes numbers. The calibration itself is the engine's (simulation/calibrate)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

from simulation.calibrate import commands
from simulation.calibrate.transactions import DataError
from simulation.metrics import fmt
from simulation.schema import LEVEL_LABELS

LOG, SURVEY = "calibrate.log_file", "calibrate.survey_file"  # the files (Source) the page works on
FITTED = "calibrate.fitted"  # the last fit (Fitted)
FITTING = "calibrate.fitting"  # set while a fit runs: still set on the next run if it was stopped
KEPT = "calibrate.kept"  # the page's settings, for when it is shown again
MEMO = "calibrate.memo"  # the files read, once each
PROGRESS_SECONDS = 0.25  # the fit's progress line is redrawn at most this often
log = logging.getLogger("lojal.app")


@dataclass(frozen=True)
class Source:
    name: str
    data: bytes
    key: str  # the upload's file id, or "sample"


def source(slot: str, upload, chosen: Source | None = None) -> Source | None:
    """The file kept in `slot`: replaced by `chosen` (the bundled sample asked for) or by a new
    upload. The uploader is empty again after a visit to another page; the file is not lost."""
    handled = f"{slot}.upload"
    if chosen is None and upload is not None and st.session_state.get(handled) != upload.file_id:
        chosen = Source(upload.name, upload.getvalue(), upload.file_id)
        st.session_state[handled] = upload.file_id
    if chosen is not None:
        st.session_state[slot] = chosen
    return st.session_state.get(slot)


def forget(slot: str) -> None:
    st.session_state.pop(slot, None)


def once(slot: str, key: Any, compute: Callable[[], Any]) -> Any:
    """`compute()` once for each `key` (the last one's result kept); a DataError it raised is
    raised again, without computing again."""
    memo = st.session_state.setdefault(MEMO, {})
    if slot not in memo or memo[slot][0] != key:
        try:
            memo[slot] = (key, compute(), None)
        except DataError as exc:
            memo[slot] = (key, None, exc)
    _, value, error = memo[slot]
    if error is not None:
        raise error
    return value


def widget(make: Callable, key: str, default: Any, mark: str, *args, **kwargs) -> Any:
    """`make(*args, key=key, **kwargs)` (a Streamlit widget) showing what it held when the page
    was last shown, or `default` when `mark` (the file and columns it is about) changed.

    (Streamlit forgets a widget's value when a page without it runs; it is kept here.)"""
    kept = st.session_state.setdefault(KEPT, {})
    if kept.get(key, (None,))[0] != mark:
        st.session_state[key] = default
    elif key not in st.session_state:
        st.session_state[key] = kept[key][1]
    value = make(*args, key=key, **kwargs)
    kept[key] = (mark, value)
    return value


@dataclass
class Fitted:
    """A fit and what it was asked."""

    out: dict
    cumulative: pd.DataFrame | None  # commands.cumulative_table, with a holdout
    name: str
    settings: tuple
    seconds: float


def fit(log_: pd.DataFrame, name: str, settings: tuple, calibration_end, holdout_end, survey, replications: int,
        seed: int) -> Fitted | None:  # fmt: skip
    """The calibration, with what it is doing in a status box (and Cancel: a click stops this
    script run at the next progress line). None, with the reason on the page, if it failed."""
    started = time.monotonic()
    st.session_state[FITTING] = True
    with st.status("Fitting", expanded=True) as status:
        st.button("Cancel", key="calibrate.cancel", help="Stop the fit (the last fit, if any, stays)")
        report = _reporter(status, started)
        # (no `finally`: a Cancel stops the script run with Streamlit's own exception, and the
        # flag is to stay set then, so that the next run of the page says the fit was stopped)
        try:
            out = commands.calibrate_log(log_, name, calibration_end, holdout_end, survey, replications, seed, report)
            cumulative = commands.cumulative_table(out, log_) if "holdout" in out else None
        except DataError as exc:
            st.session_state.pop(FITTING, None)
            status.update(label="The fit could not be made", state="error")
            st.error("\n".join(f"- {p}" for p in exc.problems))
            return None
        except Exception as exc:  # noqa: BLE001 - a fit that breaks on odd data: say so, keep the page
            st.session_state.pop(FITTING, None)
            log.exception("calibration of %s failed", name)
            status.update(label="The fit failed", state="error")
            st.error(f"The fit failed on this log ({type(exc).__name__}: {exc}). Check the columns and the dates.")
            return None
        st.session_state.pop(FITTING, None)
        seconds = time.monotonic() - started
        status.update(label=f"Fitted in {seconds:.1f} s", state="complete", expanded=False)
    return Fitted(out, cumulative, name, settings, seconds)


def _reporter(status, started: float) -> Callable[[str], None]:
    """The progress callback: each stage a line in the status box, the latest step its label."""
    shown = {"at": 0.0, "stage": None}

    def report(text: str) -> None:
        stage = text.split(":")[0]
        now = time.monotonic()
        if stage != shown["stage"]:
            st.write(stage)
        elif now - shown["at"] < PROGRESS_SECONDS:
            return
        shown.update(at=now, stage=stage)
        status.update(label=f"{text} · {now - started:.0f} s")

    return report


# --------------------------------------------------------------------------- tables as the app writes numbers
def _signed_share(value: float) -> str:
    return ("+" if value > 0 else "") + fmt(value, "share")


def holdout_rows(holdout: dict) -> pd.DataFrame:
    """Repeat transactions in the holdout: the actual, then each model and its error."""
    table = commands.holdout_table(holdout)
    table = pd.concat([table[table.model == "actual"], table[table.model != "actual"]])
    errors = ["" if m == "actual" else _signed_share(e) for m, e in zip(table.model, table.error, strict=True)]
    return pd.DataFrame({"Model": [m[0].upper() + m[1:] for m in table.model],
                         "Repeat transactions": [fmt(v, "count") for v in table["repeat transactions"]],
                         "Error against the actual": errors})  # fmt: skip


def classical_rows(out: dict) -> pd.DataFrame:
    table = commands.classical_table(out)
    return pd.DataFrame({"Model": table.model, "Parameter": table.parameter,
                         "Value": [fmt(v, "number") for v in table.value], "What it is": table.meaning})  # fmt: skip


def segment_rows(out: dict) -> pd.DataFrame:
    """The calibrated segments side by side (a column each; shares as percentages)."""
    table = commands.segment_table(out["scenario"])
    shares = {table.columns[0], *LEVEL_LABELS}
    shown = {c: [fmt(v, "share" if c in shares else "number") for v in table[c]] for c in table.columns}
    return pd.DataFrame(shown, index=table.index).T


def by_count_rows(holdout: dict) -> pd.DataFrame:
    """Customers by calibration-period repeat transactions, and their mean in the holdout (numbers:
    the page gives the means two decimals, so that a column lines up)."""
    table = commands.by_count_table(holdout).rename(columns=lambda c: c[0].upper() + c[1:])
    table.index.name = "Repeat transactions in the calibration period"
    return table.astype({"Customers": int})
