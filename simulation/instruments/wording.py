"""Phrasing shared by the plain-language summaries (`describe.py` and every instrument's
`describe`): numbers the way a person says them, money with its currency, lists with "and"."""

from __future__ import annotations

_NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def num(x: float, digits: int = 2) -> str:
    """A number without trailing zeros and with thousands separators: 1,500 / 0.5 / 12."""
    if abs(x - round(x)) < 1e-9:
        return f"{round(x):,}"
    return f"{x:,.{digits}f}".rstrip("0").rstrip(".")


def count(n: int, word: str, plural: str | None = None) -> str:
    """`one tier`, `three months`, `12 segments`."""
    name = word if n == 1 else (plural or word + "s")
    return f"{_NUMBER_WORDS[n] if 0 <= n < len(_NUMBER_WORDS) else num(n)} {name}"


def pct(x: float) -> str:
    """A share as a percentage: 0.05 -> `5 %`, 0.0025 -> `0.25 %`."""
    return f"{num(100 * x, 1 if abs(x) >= 0.01 else 2)} %"


def money(x: float, currency: str) -> str:
    """`kr 10`, `$10`, `€2.50`: symbols stick to the number, codes and words get a space."""
    digits = 0 if abs(x - round(x)) < 1e-9 else 2
    return with_currency(f"{x:,.{digits}f}", currency)


def with_currency(amount: str, currency: str) -> str:
    sep = "" if len(currency) == 1 and not currency.isalpha() else " "
    return f"{currency}{sep}{amount}"


def months(n: int) -> str:
    return count(n, "month")


def join(parts: list[str]) -> str:
    """`a`, `a and b`, `a, b and c` (empty parts left out)."""
    parts = [p for p in parts if p]
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def cap(text: str) -> str:
    return text[:1].upper() + text[1:]
