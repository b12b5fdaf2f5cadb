"""Common random numbers: one named stream per decision, per replication.

Each stream is seeded from (seed, replication, stable hash of the decision's name), so
- a replication is a pure function of (scenario, seed, replication index), whatever the
  number of replications or where it runs;
- an instrument that draws from its own streams never shifts the draws of another;
- the program arm and its no-program twin share every draw (one uniform per slot is used
  for both arms), so their difference is the program's effect, not noise;
- per-slot draws are keyed by (decision, month) and customer attributes by blocks of
  slots, so slot j draws the same numbers in any design run with the same seed.
"""

from __future__ import annotations

import hashlib
import math
from statistics import NormalDist

import numpy as np

from . import portable


def stable_hash(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "little")


def generator(*key: int) -> np.random.Generator:
    """A generator seeded from a key of integers (seed, stable hashes of names, indices)."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(list(key))))


# uniforms kept between the tasks of a sweep in one process: at most this much memory (a
# replication of 20,000 customers x 36 months draws ~60 MB of them)
KEEP_BYTES = 200e6


class _Kept:
    """The per-slot uniforms of one (seed, replication) drawn in this process, kept for the
    next task of the same replication: the designs of a sweep draw the very same numbers (common
    random numbers), ~15 % of a program arm's time. Only while `keep` is on (a sweep's tasks,
    run_task); another replication, or a task that does not keep draws, empties it. The draws
    are keyed by their whole stream, (seed, replication, decision, month): tasks that run in
    threads of one process (a Dask worker's) may empty it or fill it for their own replication
    at any time, and a task gets the numbers of its own streams or draws them afresh."""

    def __init__(self) -> None:
        self.on, self.owner, self.draws, self.bytes = False, None, {}, 0

    def keep(self, on: bool, seed: int, replication: int) -> None:
        self.on = on
        if not on or self.owner != (seed, replication):
            self.owner, self.draws, self.bytes = (seed, replication), {}, 0

    def _holds(self, streams: Streams) -> bool:
        return self.on and self.owner == (streams.seed, streams.replication)

    def _put(self, key: tuple, arrays: tuple[np.ndarray, ...]) -> None:
        """Keep these arrays (read-only) under `key`, in place of what it held, within KEEP_BYTES."""
        for a in arrays:
            a.flags.writeable = False
        before = self.draws.pop(key, None)
        self.bytes -= 0 if before is None else sum(a.nbytes for a in before)
        size = sum(a.nbytes for a in arrays)
        if self.bytes + size <= KEEP_BYTES:
            self.draws[key] = arrays
            self.bytes += size

    def get(self, streams: Streams, name: str, month: int, n: int) -> np.ndarray | None:
        """The first n uniforms of the (decision, month) stream, read-only; None unless kept."""
        if not self._holds(streams):
            return None
        key = (streams.seed, streams.replication, name, month)
        kept = self.draws.get(key)
        if kept is not None and kept[0].size >= n:
            return kept[0][:n]
        every = streams.fresh(name, month).random(n + n // 4)  # (room for designs that bring more customers)
        self._put(key, (every,))
        return every[:n]

    def block(self, streams: Streams, key: tuple, draw) -> tuple[np.ndarray, ...]:
        """`draw()`, a block of customer templates (people.py), kept like the uniforms: the
        designs of a sweep start from the same customers. `key` names the block and what it is
        drawn from (the customers' settings); read-only when kept."""
        if not self._holds(streams):
            return draw()
        full = (streams.seed, streams.replication, *key)
        values = self.draws.get(full)
        if values is None:
            values = draw()
            self._put(full, values)
        return values


KEPT = _Kept()


class Streams:
    def __init__(self, seed: int, replication: int):
        self.seed, self.replication = int(seed), int(replication)
        self._generators: dict[str, np.random.Generator] = {}

    def kept(self, name: str, month: int, n: int) -> np.ndarray | None:
        """`uniform(name, n, month)` from the uniforms kept for a sweep (read-only), or None."""
        return KEPT.get(self, name, month, n)

    def generator(self, name: str) -> np.random.Generator:
        """The running generator of one decision (for draws whose count never varies)."""
        gen = self._generators.get(name)
        if gen is None:
            gen = self._generators[name] = self.fresh(name)
        return gen

    def fresh(self, name: str, *key: int) -> np.random.Generator:
        """A new generator for one decision and key (a month, a block of slots)."""
        return generator(self.seed, self.replication, stable_hash(name), *key)

    def uniform(self, name: str, n: int, month: int) -> np.ndarray:
        """n uniforms in [0, 1), one per customer slot, shared by both arms.

        A fresh generator per (decision, month): slot j gets the j-th number whatever n is,
        so a design that brings in more customers does not shift anyone else's draws and
        two designs run with the same seed share their random numbers too.
        """
        kept = self.kept(name, month, n)
        return kept.copy() if kept is not None else self.fresh(name, month).random(n)


LARGE_RATE = 80.0  # above this, the normal approximation (inverting term by term needs too many terms)


def poisson_from_uniform(lam: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Poisson counts by inverting the CDF at `u` (`u` broadcasts against `lam`).

    Inversion (rather than `Generator.poisson`) keeps common random numbers exact: the
    same uniform gives the same count when the rate is the same, and a nearby count when
    the program changes the rate. Each customer's count is the number of terms of the
    CDF, P(0) + P(1) + ..., that stay below their uniform; the terms are summed in the
    same order and with the same roundings whichever of the three passes below does it.
    Rates above LARGE_RATE (purchases per month; rare) use the normal approximation,
    also by inversion.
    """
    shape = lam.shape
    rate = np.ascontiguousarray(lam, dtype=np.float64)
    large = rate > LARGE_RATE
    any_large = bool(large.any())
    if any_large:
        rate = np.where(large, 0.0, rate)
    k = _invert_blocks(rate, u)
    if any_large:
        big = np.flatnonzero(large)
        lam_big = np.ascontiguousarray(lam, dtype=np.float64).reshape(-1)[big]
        k[big] = [poisson_scalar(x, v) for x, v in zip(lam_big, _flat_take(u, shape, big), strict=True)]
    return k.reshape(shape)


# The count of a customer whose uniform lies beyond the CDF even after many terms (a
# uniform within rounding of 1) stops TAIL_TERMS terms after the pass at which at most
# 1/16 of the customers were left. (That cap is from the first version of this function,
# kept so that counts never change.)
TAIL_TERMS = int(LARGE_RATE + 12 * np.sqrt(LARGE_RATE) + 30)
FEW_LEFT = 256  # customers left: from here on, terms a block at a time (see _term_blocks)
FIRST_BLOCK = 8


class _Left:
    """Customers still below their uniform: flat positions, their terms so far, counts."""

    __slots__ = ("at", "rate", "u", "p", "cdf", "k")

    def __init__(self, at, rate, u, p, cdf, k):
        self.at, self.rate, self.u, self.p, self.cdf, self.k = at, rate, u, p, cdf, k

    def take(self, rows: np.ndarray) -> _Left:
        return _Left(*(getattr(self, name)[rows] for name in self.__slots__))


def _flat_take(u: np.ndarray, shape: tuple[int, ...], flat: np.ndarray) -> np.ndarray:
    """`u` broadcast to `shape`, at flat positions, without materialising the broadcast."""
    if u.shape == shape:
        return u.reshape(-1)[flat]
    if u.shape == shape[len(shape) - u.ndim :]:  # shared by the leading axes (both arms)
        return u.reshape(-1)[flat % u.size]
    return np.broadcast_to(u, shape).reshape(-1)[flat]


class _Pass:
    """The number of the next term, and the cap on terms: TAIL_TERMS after the first pass
    at which at most 1/16 of the customers were left."""

    def __init__(self, size: int):
        self.j, self.limit, self.few = 0, None, size // 16

    def done(self, active: int) -> None:
        """A pass is over with `active` customers still below their uniform."""
        if self.limit is None and (self.few >= active or self.j >= TAIL_TERMS):  # (the second: never loop forever)
            self.limit = self.j + TAIL_TERMS

    def next(self) -> float:
        self.j += 1
        return 1.0 / self.j

    def capped(self) -> bool:
        return self.limit is not None and self.j >= self.limit


# slots a per-customer pass works on at once: its arrays then stay in the cache (at a million
# customers a pass over whole arrays streams them from memory). Measured at 1M customers: the
# inversion of 2 x 1M rates 149 ms whole, 72 ms in blocks; the engine's ladder step 0.89-0.99 s
# instead of 1.23-1.43 s over 12 months (bench_speed_notes.md). One block below this size.
BLOCK = 65_536


def blocks(n: int) -> list[slice]:
    """Slots 0 .. n - 1 in blocks of at most BLOCK."""
    return [slice(start, min(start + BLOCK, n)) for start in range(0, max(n, 1), BLOCK)]


def _invert_blocks(rate: np.ndarray, u: np.ndarray) -> np.ndarray:
    """`_invert` (flat counts), a block of slots of a row at a time when the rates are many.
    The same counts: each customer's terms do not depend on the others' (only the cap on
    terms of a uniform within rounding of 1 does, and it is past any count up to LARGE_RATE)."""
    if rate.size <= BLOCK:
        return _invert(rate, u).reshape(-1)
    width = rate.shape[-1] if rate.ndim else 1
    rows, every_u = rate.reshape(-1, width), np.broadcast_to(u, rate.shape).reshape(-1, width)
    k = np.empty(rows.shape, np.int32)
    for row, row_u, row_k in zip(rows, every_u, k, strict=True):
        for part in blocks(width):
            row_k[part] = _invert(row[part], row_u[part])
    return k.reshape(-1)


def _invert(rate: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Counts for rates <= LARGE_RATE. Whole-array passes while more than a sixth of the
    customers need more terms (measured: gathering earlier costs more than it saves);
    then only those left, compacted each time half of them are done (integer gathers: a
    boolean mask on a random pattern is ~8x slower); then the last few."""
    # P(0) in float64 by the C library's exp (portable.py: numpy's SIMD exp rounds the last bit
    # differently on CPUs with AVX-512); in float32 one bit moved ~1 count in 20,000 (measured)
    p = _p0(rate)
    cdf = p.copy()
    more = u > cdf
    k = more.astype(np.int32)
    active = int(np.count_nonzero(more))
    passes = _Pass(rate.size)
    passes.done(active)
    while 6 * active > rate.size and not passes.capped():
        p *= rate
        p *= passes.next()
        cdf += p
        np.greater(u, cdf, out=more)
        k += more
        active = int(np.count_nonzero(more))
        passes.done(active)
    k = k.reshape(-1)
    if active:
        at = np.flatnonzero(more)
        flat = (rate.reshape(-1)[at], _flat_take(u, rate.shape, at), p.reshape(-1)[at], cdf.reshape(-1)[at], k[at])
        left = _compacted_passes(_Left(at, *flat), passes, k)
        _term_blocks(left, passes, k)
    return k


def _p0(rate: np.ndarray) -> np.ndarray:
    """P(0) = exp(-rate), by portable.exp (the same bits on every CPU, ~10 ns a value): for both
    arms, once where their rates are equal (everyone the program does not touch)."""
    p = np.negative(rate)
    if rate.ndim != 2 or rate.shape[0] != 2:
        return portable.exp(p, out=p)
    portable.exp(p[0], out=p[0])
    differ = np.flatnonzero(rate[1] != rate[0])
    own = portable.exp(p[1, differ])
    p[1] = p[0]
    p[1, differ] = own
    return p


def _compacted_passes(left: _Left, passes: _Pass, k: np.ndarray) -> _Left:
    """Passes over the customers left, until few are; writes the counts of those done."""
    still = np.ones(left.at.size, bool)
    while not passes.capped() and (left.at.size > FEW_LEFT or passes.limit is None):
        left.p *= left.rate
        left.p *= passes.next()
        left.cdf += left.p
        np.greater(left.u, left.cdf, out=still)
        left.k += still
        active = int(np.count_nonzero(still))
        passes.done(active)
        if 2 * active < left.at.size:
            k[left.at] = left.k
            left = left.take(np.flatnonzero(still))
            still = np.ones(active, bool)
    k[left.at] = left.k
    return left.take(np.flatnonzero(still))


def _term_blocks(left: _Left, passes: _Pass, k: np.ndarray) -> None:
    """The last few customers (the highest rates) need the most terms: one numpy call per
    term would cost ~1 us each, for a handful of values. `multiply.accumulate` along a row
    [p, rate, 1/(j+1), rate, 1/(j+2), ...] forms the same products in the same order (and
    `add.accumulate` the same running sums), for a whole block of terms in a few calls."""
    block, j = FIRST_BLOCK, passes.j
    while left.at.size and j < passes.limit:
        b = min(block, passes.limit - j)
        f = np.empty((left.at.size, 2 * b + 1))
        f[:, 0] = left.p
        f[:, 1::2] = left.rate[:, None]
        f[:, 2::2] = 1.0 / np.arange(j + 1, j + b + 1)
        np.multiply.accumulate(f, axis=1, out=f)
        cdf = f[:, ::2].copy()  # the terms P(j), ..., P(j + b)
        cdf[:, 0] = left.cdf
        np.add.accumulate(cdf, axis=1, out=cdf)
        below = np.count_nonzero(left.u[:, None] > cdf[:, 1:], axis=1)  # the CDF only grows
        left.k += below.astype(np.int32)
        k[left.at] = left.k
        go_on = np.flatnonzero(below == b)
        left = _Left(left.at[go_on], left.rate[go_on], left.u[go_on], f[go_on, -1], cdf[go_on, -1], left.k[go_on])
        j += b
        block *= 2


_NORMAL = NormalDist()


def poisson_scalar(lam: float, u: float) -> int:
    """One Poisson count from one uniform (exact up to a mean of LARGE_RATE, normal beyond)."""
    if lam <= 0:
        return 0
    if lam > LARGE_RATE:
        z = _NORMAL.inv_cdf(min(max(u, 1e-12), 1 - 1e-12))
        return max(0, int(round(lam + np.sqrt(lam) * z)))
    k, p = 0, math.exp(-lam)
    cdf = p
    while u > cdf and k < 1000:
        k += 1
        p *= lam / k
        cdf += p
    return k
