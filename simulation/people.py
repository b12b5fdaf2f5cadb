"""Customers as a struct of arrays.

Every customer occupies a permanent slot id. Per-slot *template* attributes (segment,
base purchase rate, basket, starting level, ...) are drawn once and shared by both arms,
so slot j is the same person with and without the program. Per-arm *state* arrays have
shape (2, capacity): row 0 is the no-program baseline, row 1 the program arm. New
customers append; ids are never reused.

Customers who have left in both arms stay in the results but not in the monthly work:
`compact` moves their slots out of the arrays (to an archive) once enough have left, so
every vectorised step runs over the customers still there. The arrays are then indexed by
*position*; `ids[pos]` is the permanent slot id (what per-slot random numbers are keyed
by), and `restore` puts every slot back in id order at the end of a run.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from . import portable, rng
from .helper import Helper
from .rng import Streams
from .schema_base import LEVELS

if TYPE_CHECKING:
    from .schema import Scenario

BASELINE, PROGRAM = 0, 1
ARMS = ("baseline", "program")

SOURCES = ("initial", "paid", "word_of_mouth", "referral")
INITIAL, PAID, WORD_OF_MOUTH, REFERRAL = range(4)


@dataclass
class _StateSpec:
    dtype: np.dtype
    fill: object
    leading: tuple[int, ...] = ()
    program_only: bool = False
    final: bool = True  # kept for customers who left (False: working state, meaningless then)

    def shape(self, width: int) -> tuple[int, ...]:
        return (*self.leading, width) if self.program_only else (*self.leading, 2, width)


def lookup(table: np.ndarray, index: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """table[index], for an intp index known to be in range (levels, purchase counts, tier codes):
    take() in "clip" mode skips the bounds checks (and, with `out`, the copy that "raise"
    mode makes to protect `out`): ~1.3x faster, ~3x with `out`. Same values."""
    return table.take(index, out=out, mode="clip")


def _filled(shape: tuple[int, ...], fill, dtype: np.dtype) -> np.ndarray:
    """np.full, but zero fills come from np.zeros: its pages are mapped lazily, so the
    spare capacity beyond the slots in use costs neither time nor memory."""
    if fill == 0:
        return np.zeros(shape, dtype)
    return np.full(shape, fill, dtype=dtype)


class People:
    TEMPLATE_BLOCK = 4096

    def __init__(self, scenario: Scenario, streams: Streams, capacity: int):
        self.scenario = scenario
        self._streams = streams
        self.helper = Helper(0)  # (the simulation's: moves half the arrays of a compaction)
        self.capacity = max(int(capacity), 16)
        self.n_used = np.zeros(2, dtype=np.int64)  # slots filled per arm
        # slots in use in either arm: the width every vectorised step works on (a plain
        # int, kept up to date on arrival: it is read hundreds of times a month)
        self.n = 0
        self.n_template = 0  # slot ids with template attributes drawn
        self.n_initial = 0
        # compaction (see `compact`): ids moved out, the starting base's positions still in
        # use, the id of each position, and the archive of what was moved out
        self.removed = 0
        self.n_initial_kept = 0
        self.ids = np.arange(self.capacity)
        self._archive: list[tuple[np.ndarray, dict[str, np.ndarray]]] = []
        self._specs: dict[str, _StateSpec] = {}
        self._template_names = ("segment", "base_rate", "basket", "start_level", "u_join", "is_digital")
        self.segment = np.zeros(self.capacity, np.int8)
        self.base_rate = np.zeros(self.capacity, np.float64)
        self.basket = np.zeros(self.capacity, np.float64)
        self.start_level = np.zeros(self.capacity, np.int8)
        self.u_join = np.ones(self.capacity, np.float64)
        self.is_digital = np.zeros(self.capacity, bool)
        self.add_state("is_alive", bool, False)
        self.add_state("is_member", bool, False)
        self.add_state("level", np.int8, 0)
        self.add_state("source", np.int8, INITIAL)
        self.add_state("ti_arrived", np.int32, 0)
        self.add_state("ti_churned", np.int32, -1)
        self.add_state("value", np.float64, 0.0)  # discounted customer value so far (CLV)
        self.add_state("n_purchases", np.int32, 0)
        # repurchase within 12 months of the first purchase in the run (the `repurchase_rate` metric)
        self.add_state("ti_first_purchase", np.int32, -1)  # month index of the first purchase, -1 none yet
        self.add_state("repurchased", bool, False)  # bought again in that month or the 11 after it

    # -- state management -------------------------------------------------
    def add_state(
        self, name: str, dtype, fill, leading: tuple[int, ...] = (), program_only: bool = False, final: bool = True
    ) -> np.ndarray:
        """Register a state array of shape (*leading, 2, capacity), or (*leading, capacity)
        for state that only the program arm has (an instrument's points, tiers, ...).
        `final=False` for working state that means nothing once a customer has left (points
        lots, a qualification window): `compact` does not keep it for them (they get `fill`)."""
        spec = _StateSpec(np.dtype(dtype), fill, tuple(leading), program_only, final)
        self._specs[name] = spec
        arr = _filled(spec.shape(self.capacity), fill, spec.dtype)
        setattr(self, name, arr)
        return arr

    def _grow(self, needed: int) -> None:
        new_cap = max(needed, int(self.capacity * 1.5) + 1024)
        extra = new_cap - self.capacity
        for name in self._template_names:
            old = getattr(self, name)
            setattr(self, name, np.concatenate([old, np.full(extra, self._spec(name)[0], old.dtype)]))
        for name, spec in self._specs.items():
            old = getattr(self, name)
            pad = _filled(spec.shape(extra), spec.fill, spec.dtype)
            setattr(self, name, np.concatenate([old, pad], axis=-1))
        self.ids = np.concatenate([self.ids, np.arange(self.capacity, new_cap) + self.removed])
        self.capacity = new_cap

    # -- templates ------------------------------------------------------------
    def _ensure_templates(self, upto: int, initial: bool) -> None:
        """Draw template attributes for slots up to `upto`.

        The starting base is one block; arrivals come in fixed blocks of TEMPLATE_BLOCK
        slots, each from its own generator, so slot j's attributes never depend on how
        many customers arrived when (the same person in any design with the same seed).
        """
        if initial:
            self._ensure_capacity(upto)
            self._set_templates(0, upto, True, ("customer_template_initial",))
            self.n_template = self.n_initial = upto
            return
        while self.n_template < upto:
            block = (self.n_template - self.n_initial) // self.TEMPLATE_BLOCK
            lo = self.n_initial + block * self.TEMPLATE_BLOCK
            hi = lo + self.TEMPLATE_BLOCK
            self._ensure_capacity(hi - self.removed)
            self._set_templates(lo, hi, False, ("customer_template", block))
            self.n_template = hi

    def _set_templates(self, lo: int, hi: int, initial: bool, stream: tuple) -> None:
        """Template attributes of slot ids lo..hi-1 (at positions lo..hi-1 less those moved
        out), drawn from `stream`, or as the sweep's task before drew them (`rng.KEPT`)."""

        def draw() -> tuple[np.ndarray, ...]:
            return self._draw_templates(hi - lo, initial, self._streams.fresh(*stream))

        values = rng.KEPT.block(self._streams, (*stream, lo, hi, self._customers_key), draw) if rng.KEPT.on else draw()
        lo -= self.removed
        hi -= self.removed
        for name, value in zip(self._template_names, values, strict=True):
            getattr(self, name)[lo:hi] = value

    @cached_property
    def _customers_key(self) -> str:
        """What the templates are drawn from: the customers' settings (a sweep may vary them)."""
        return hashlib.sha256(self.scenario.customers.model_dump_json().encode()).hexdigest()

    def _ensure_capacity(self, needed: int) -> None:
        if needed > self.capacity:
            self._grow(needed)

    def _draw_templates(self, n: int, initial: bool, g: np.random.Generator) -> tuple[np.ndarray, ...]:
        """Template attributes of n customers, in the order of `_template_names`."""
        segs = self.scenario.customers.segments
        if initial:  # the starting base is split exactly by share (largest remainder)
            raw = np.array([s.share for s in segs]) * n
            counts = np.floor(raw).astype(int)
            counts[np.argsort(-(raw - counts))[: n - counts.sum()]] += 1
            seg = np.repeat(np.arange(len(segs)), counts)
        else:
            cum = np.cumsum([s.share for s in segs])
            seg = np.minimum(np.searchsorted(cum, g.random(n), side="right"), len(segs) - 1)
        shape = np.array([s.purchase_rate_shape for s in segs])[seg]
        mean_rate = np.array([s.purchases_per_month for s in segs])[seg]
        rate = g.gamma(shape, mean_rate / shape)
        cv = np.array([s.basket_cv for s in segs])[seg]
        sigma2 = portable.log1p(cv**2)
        mean_basket = np.array([s.basket_value for s in segs])[seg]
        basket = mean_basket * portable.exp(np.sqrt(sigma2) * g.standard_normal(n) - sigma2 / 2)
        if initial:
            ladders = np.array([s.ladder_shares() for s in segs])
        else:
            ladders = np.tile(self.scenario.customers.acquisition.initial_ladder.as_tuple(), (len(segs), 1))
        cum_ladder = np.cumsum(ladders, axis=1)[seg]
        u = g.random(n)
        level = np.minimum((u[:, None] >= cum_ladder).sum(axis=1), len(LEVELS) - 1)
        digital = g.random(n) < np.array([s.digital_share for s in segs])[seg]
        return seg, rate, basket, level, g.random(n), digital

    # -- arrivals -----------------------------------------------------------
    def add_initial(self, n: int) -> None:
        self._ensure_templates(n, initial=True)
        self.is_alive[:, :n] = True
        self.level[:, :n] = self.start_level[:n]
        self.n_used[:] = n
        self.n = self.n_initial_kept = n

    def arrive(self, arm: int, count: int, source: int, month: int) -> slice:
        """Fill the next `count` slot ids of one arm with new customers; returns their positions."""
        hi_id = int(self.n_used[arm]) + int(count)
        self._ensure_templates(hi_id, initial=False)
        lo, hi = int(self.n_used[arm]) - self.removed, hi_id - self.removed  # (ids moved out are all lower)
        self.is_alive[arm, lo:hi] = True
        self.level[arm, lo:hi] = self.start_level[lo:hi]
        self.source[arm, lo:hi] = source
        self.ti_arrived[arm, lo:hi] = month
        self.n_used[arm] = hi_id
        self.n = max(self.n, hi)
        return slice(lo, hi)

    # -- compaction -----------------------------------------------------------
    COMPACT_SHARE = 8  # compact once 1/8 of the positions in use hold customers gone from both arms

    def _arrays(self):
        """(name, array) of every per-slot array: templates, then state (`_spec`: fill and final)."""
        for name in (*self._template_names, *self._specs):
            yield name, getattr(self, name)

    def compact(self) -> bool:
        """Move the slots of customers gone from both arms out of the arrays, once there are
        enough of them to pay for the moves; True if it did. Only slots that have been
        filled in both arms can go (the next arrivals of each arm take the ids after them),
        and only between months: a customer's record is final by the end of the month they
        leave in (later months would only let their tier window and points lots run out,
        which no figure reads)."""
        below = int(self.n_used.min()) - self.removed  # positions filled in both arms
        gone = ~(self.is_alive[0, :below] | self.is_alive[1, :below])
        n_gone = int(np.count_nonzero(gone))
        if self.COMPACT_SHARE * n_gone < self.n or not n_gone:
            return False
        width = self.n_template - self.removed  # positions with templates drawn (>= n)
        keep = np.concatenate([np.flatnonzero(~gone), np.arange(below, width)])
        out = np.flatnonzero(gone)
        moved = self._halves(self._close_up, keep, out, width)
        self._archive.append((self.ids[out], moved))
        self.ids[: keep.size] = self.ids[keep]
        self.removed += n_gone
        self.ids[keep.size :] = np.arange(keep.size, self.capacity) + self.removed
        self.n -= n_gone
        self.n_initial_kept = int(np.searchsorted(self.ids[: self.n], self.n_initial))
        return True

    def _halves(self, fn, *args) -> dict[str, np.ndarray]:
        """fn(names, *args) over every per-slot array, the helper thread taking about half
        the bytes (each array is worked on by one thread only); the merged dicts it returns.
        (Names, not arrays, are handed over: `restore` frees each old array as it goes.)"""
        halves, load = ([], []), [0, 0]
        for nbytes, name in sorted(((-a.nbytes, name) for name, a in self._arrays())):
            lighter = int(load[1] < load[0])  # (largest first, each to the lighter half)
            halves[lighter].append(name)
            load[lighter] -= nbytes
        other = self.helper.submit(fn, halves[1], *args)
        result = fn(halves[0], *args)
        result.update(other.result())
        return result

    def _spec(self, name: str) -> tuple[object, bool]:
        """(fill, final) of a per-slot array."""
        if name in self._specs:
            return self._specs[name].fill, self._specs[name].final
        return (1.0 if name == "u_join" else 0), True

    def _close_up(self, names, keep: np.ndarray, out: np.ndarray, width: int) -> dict[str, np.ndarray]:
        """`compact`'s moves for some arrays: the rows of `out` archived (final state only),
        the rows of `keep` closed up in place; returns the archived rows by name."""
        moved = {}
        for name in names:
            fill, final = self._spec(name)
            arr = getattr(self, name)
            rows = arr.reshape(-1, arr.shape[-1])
            if final:
                moved[name] = rows[:, out]
            for row in rows:  # (a row at a time: the gather's temporary stays one row)
                row[: keep.size] = row.take(keep)
                row[keep.size : width] = fill
        return moved

    def restore(self) -> None:
        """Every slot back at its id (positions = ids again), for the results."""
        if not self.removed:
            return
        width = self.n_template - self.removed
        ids = np.concatenate([*(i for i, _ in self._archive), self.ids[:width]])
        order = np.empty(ids.size, np.intp)  # where each id is: a gather per array, not a scatter
        order[ids] = np.arange(ids.size)
        self._halves(self._in_id_order, order, width)
        self.capacity = self.n_template
        self.n += self.removed
        self.n_initial_kept = self.n_initial
        self.removed = 0
        self.ids = np.arange(self.capacity)
        self._archive = []

    def _in_id_order(self, names, order: np.ndarray, width: int) -> dict:
        """`restore` for some arrays: each array's archived and current slots, in id order."""
        for name in names:
            fill, final = self._spec(name)
            arr = getattr(self, name)
            lead = arr.shape[:-1]
            if final:
                parts = [m.pop(name).reshape(*lead, -1) for _, m in self._archive]
            else:  # working state: `fill` for the customers who left
                parts = [_filled((*lead, self.removed), fill, arr.dtype)]
            rows = np.concatenate([*parts, arr[..., :width]], axis=-1).reshape(-1, order.size)
            del arr, parts
            full = np.empty((rows.shape[0], order.size), rows.dtype)
            for row, out in zip(rows, full, strict=True):  # (a row at a time: no 2-D fancy index)
                row.take(order, out=out, mode="clip")
            setattr(self, name, full.reshape(*lead, order.size))
        return {}
