"""Reading a client's transaction log, and the per-customer summary the models are fitted on.

A log is a CSV (comma, semicolon, tab or whitespace separated) with one row per purchase:
a customer id, a date and an amount. Several purchases of one customer on one day are one
transaction (their amounts add up). Bad input raises `DataError` naming the file, the row
(the file's line number, the header being line 1) and the column, never a traceback.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..scenario_io import ScenarioError

MAX_BYTES = 500_000_000  # a log bigger than this is refused before reading (the app's upload limit is lower)
MAX_PROBLEMS = 5  # problems listed per bad column; the rest are counted
WEEK_DAYS = 7.0
MONTH_DAYS = 365.25 / 12  # the agent model's month, in days
DATE_FORMATS = ("ISO8601", "%Y%m%d", "%d.%m.%Y", "%d/%m/%Y", "%m/%d/%Y")
# words in a header that name each column of a log, the most telling first (the app's guesses)
COLUMN_WORDS = {
    "customer": ("customer", "cust", "client", "member", "user", "account", "id"),
    "date": ("date", "day", "time", "when"),
    "amount": ("amount", "value", "spend", "revenue", "sales", "total", "price", "sum", "net"),
}
CALIBRATION_SHARE = 2 / 3  # the default calibration period: the first two thirds of the log's days


class DataError(ScenarioError):
    """A transaction or cohort file that cannot be used; `problems` holds one line each."""


@dataclass(frozen=True)
class Columns:
    customer: str
    date: str
    amount: str


def _mb(size: float) -> str:
    return f"{size / 1e6:,.1f} MB"


def _source_bytes(source, name: str, max_bytes: int) -> bytes:
    """The raw bytes of a path, bytes or file-like object, refused when too big."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise DataError([f"{name}: no such file"])
        size = path.stat().st_size
        if size > max_bytes:
            raise DataError(
                [
                    f"{name}: the file is {_mb(size)}; the limit is {_mb(max_bytes)} (split it or aggregate it by customer and day)"
                ]
            )
        return path.read_bytes()
    raw = source if isinstance(source, bytes) else source.read()
    if len(raw) > max_bytes:
        raise DataError([f"{name}: the file is {_mb(len(raw))}; the limit is {_mb(max_bytes)}"])
    return raw


def _text(raw: bytes, name: str) -> str:
    if raw[:2] == b"\x1f\x8b":  # gzip
        import gzip

        raw = gzip.decompress(raw)
    for encoding in ("utf-8-sig", "latin-1"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise DataError([f"{name}: not a text file"])  # (latin-1 decodes anything: never reached)


def _separator(first_line: str) -> str:
    for sep in (",", ";", "\t"):
        if sep in first_line:
            return sep
    return r"\s+"


def read_table(source, name: str = "file", max_bytes: int = MAX_BYTES, nrows: int | None = None) -> pd.DataFrame:
    """Any CSV-like table as strings (the header row gives the column names)."""
    text = _text(_source_bytes(source, name, max_bytes), name)
    lines = [line for line in text.splitlines()[:2] if line.strip()]
    if not lines:
        raise DataError([f"{name}: the file is empty"])
    sep = _separator(lines[0])
    try:
        table = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, nrows=nrows, skipinitialspace=True,
                            keep_default_na=False, engine="c" if len(sep) == 1 else "python")  # fmt: skip
    except (pd.errors.ParserError, ValueError) as exc:
        raise DataError([f"{name}: not a readable table ({str(exc).strip()})"]) from None
    table.columns = [str(c).strip() for c in table.columns]
    if table.empty:
        raise DataError([f"{name}: the file has a header but no rows"])
    return table


def _bad_rows(table: pd.DataFrame, bad: np.ndarray, column: str, name: str, what: str) -> list[str]:
    rows = np.flatnonzero(bad)
    out = [
        f"{name}: row {r + 2}, column '{column}': {what} (got {table[column].iloc[r]!r})" for r in rows[:MAX_PROBLEMS]
    ]
    if rows.size > MAX_PROBLEMS:
        out.append(f"{name}: column '{column}': {rows.size - MAX_PROBLEMS:,} more rows like these")
    return out


def parse_dates(values: pd.Series) -> pd.Series:
    """Dates in the first format that reads every value (NaT where none does)."""
    best = None
    for fmt in DATE_FORMATS:
        parsed = pd.to_datetime(values, format=fmt, errors="coerce")
        if best is None or parsed.notna().sum() > best.notna().sum():
            best = parsed
        if parsed.notna().all():
            return parsed.dt.normalize()
    return best.dt.normalize()


def guess_columns(names: list[str]) -> Columns:
    """The likeliest customer, date and amount columns of a header (each column once): the first
    whose name holds one of COLUMN_WORDS, else the first column left."""
    left, picked = list(names), {}
    for role, words in COLUMN_WORDS.items():
        match = next((n for word in words for n in left if word in n.lower()), left[0] if left else "")
        picked[role] = match
        if match in left:
            left.remove(match)
    return Columns(**picked)


def read_transactions(source, columns: Columns, name: str = "transactions", max_bytes: int = MAX_BYTES) -> pd.DataFrame:
    """The log as one row per customer and day: `customer`, `date`, `amount`, sorted."""
    return transactions_of(read_table(source, name, max_bytes), columns, name)


def transactions_of(table: pd.DataFrame, columns: Columns, name: str = "transactions") -> pd.DataFrame:
    """`read_transactions` of a table already read (`read_table`)."""
    chosen = (columns.customer, columns.date, columns.amount)
    if len(table.columns) < len(chosen):
        raise DataError([f"{name}: a log needs three columns (customer, date, amount); the header has "
                         f"{len(table.columns)}: {', '.join(table.columns)}"])  # fmt: skip
    if len(set(chosen)) < len(chosen):
        got = ", ".join(map(repr, chosen))
        raise DataError([f"{name}: the customer, date and amount must be three different columns (got {got})"])
    missing = [c for c in chosen if c not in table.columns]
    if missing:
        raise DataError(
            [f"{name}: no column {', '.join(repr(c) for c in missing)} (the columns are: {', '.join(table.columns)})"]
        )
    customer = table[columns.customer].str.strip()
    dates = parse_dates(table[columns.date].str.strip())
    amount = pd.to_numeric(table[columns.amount].str.strip(), errors="coerce")
    problems = _bad_rows(table, (customer == "").to_numpy(), columns.customer, name, "a customer id is missing")
    problems += _bad_rows(table, dates.isna().to_numpy(), columns.date, name, "not a date (use YYYY-MM-DD)")
    problems += _bad_rows(table, ~np.isfinite(amount.to_numpy()), columns.amount, name, "not a number")
    problems += _bad_rows(
        table,
        (amount < 0).to_numpy(),
        columns.amount,
        name,
        "a negative amount (net returns out of the purchases first)",
    )
    if problems:
        raise DataError(problems)
    log = pd.DataFrame({"customer": customer.to_numpy(), "date": dates.to_numpy(), "amount": amount.to_numpy()})
    return log.groupby(["customer", "date"], as_index=False, sort=True)["amount"].sum()


def check_period(log: pd.DataFrame, calibration_end: pd.Timestamp, holdout_end: pd.Timestamp | None, name: str,
                 labels: tuple[str, str] = ("--calibration-end", "--holdout-end")) -> None:  # fmt: skip
    """The period's ends against the log (`labels`: what the user calls them, the CLI's options)."""
    first = log.date.min()
    cal, hold = labels
    problems = []
    if calibration_end < first:
        problems.append(f"{cal} {calibration_end.date()}: before the first transaction in {name} ({first.date()})")
    if holdout_end is not None and holdout_end <= calibration_end:
        problems.append(f"{hold} {holdout_end.date()}: must be after {cal} ({calibration_end.date()})")
    if problems:
        raise DataError(problems)


def default_period(log: pd.DataFrame) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Calibration end and holdout end when none is given: the first CALIBRATION_SHARE of the
    log's days calibrate, the rest is the holdout."""
    first, last = log.date.min(), log.date.max()
    return first + pd.Timedelta(days=round((last - first).days * CALIBRATION_SHARE)), last


@dataclass
class Summary:
    """Per customer (a row each, customers who first bought by the calibration end):
    `x` repeat transactions in the calibration period, `t_x` weeks from the first to the
    last of them, `T` weeks from the first to the calibration end, `monetary` mean amount of
    the repeat transactions (0 without any), `first` the first date, `x_holdout`
    transactions in the holdout period. `weeks_holdout` is the holdout's length."""

    customers: pd.DataFrame
    calibration_end: pd.Timestamp
    holdout_end: pd.Timestamp | None
    weeks_holdout: float
    start: pd.Timestamp


def summarize(log: pd.DataFrame, calibration_end, holdout_end=None) -> Summary:
    cal_end = pd.Timestamp(calibration_end)
    hold_end = None if holdout_end is None else pd.Timestamp(holdout_end)
    calib = log[log.date <= cal_end]
    grouped = calib.groupby("customer", sort=True)
    first = grouped.date.min()
    last = grouped.date.max()
    n = grouped.size()
    first_amount = calib.drop_duplicates("customer").set_index("customer").amount  # (sorted by date within customer)
    repeat_spend = grouped.amount.sum() - first_amount.reindex(n.index)
    x = (n - 1).to_numpy()
    out = pd.DataFrame(index=n.index)
    out["x"] = x
    out["t_x"] = (last - first).dt.days.to_numpy() / WEEK_DAYS
    out["T"] = (cal_end - first).dt.days.to_numpy() / WEEK_DAYS
    out["monetary"] = np.where(x > 0, repeat_spend.to_numpy() / np.maximum(x, 1), 0.0)
    out["first"] = first.to_numpy()
    weeks_holdout = 0.0
    if hold_end is not None:
        hold = log[(log.date > cal_end) & (log.date <= hold_end)]
        out["x_holdout"] = hold.groupby("customer").size().reindex(out.index, fill_value=0).to_numpy()
        weeks_holdout = (hold_end - cal_end).days / WEEK_DAYS
    return Summary(out, cal_end, hold_end, weeks_holdout, first.min())


def weekly_repeat_curve(log: pd.DataFrame, summary: Summary) -> pd.Series:
    """Cumulative repeat transactions by week since the first customer's first purchase,
    of the customers in the summary, through the holdout (or calibration) end."""
    # (a customer not in the summary has no first date, NaT, and no date is after NaT; not
    # `isin`, which took 0.5 s on the CDNOW master file's string column)
    first = summary.customers["first"].reindex(log.customer).to_numpy()
    end = summary.holdout_end or summary.calibration_end
    dates = log.date.to_numpy()
    days = (log.date[(dates > first) & (dates <= end)] - summary.start).dt.days.to_numpy()
    n_weeks = int(np.ceil(((end - summary.start).days + 1) / WEEK_DAYS))
    counts = np.bincount((days // 7).astype(int), minlength=n_weeks)[:n_weeks]
    return pd.Series(np.cumsum(counts), index=np.arange(1, n_weeks + 1), name="actual")


def holdout_curve(log: pd.DataFrame, summary: Summary) -> np.ndarray:
    """Cumulative holdout transactions of the customers in the summary by week since the
    calibration end (days 1-7 after it are week 1; the last week ends at the holdout end)."""
    known = summary.customers["first"].reindex(log.customer).notna().to_numpy()
    days = (log.date - summary.calibration_end).dt.days.to_numpy()
    in_holdout = known & (days > 0) & (days <= (summary.holdout_end - summary.calibration_end).days)
    n_weeks = int(np.ceil(summary.weeks_holdout))
    return np.cumsum(np.bincount((days[in_holdout] - 1) // 7, minlength=n_weeks)[:n_weeks])
