"""A second thread for one big replication, so that it uses two CPUs.

numpy lets go of the GIL while it draws random numbers and while it passes over large
arrays, so a helper thread can draw next decisions' uniforms, invert the baseline arm's
purchase counts or move half the arrays of a compaction while the main thread works on
the program arm. Every task computes exactly what the main thread would have: the thread
changes when the work is done, never the numbers.

Off (tasks run inline, nothing drawn ahead) for small runs, where a task is too short to be
worth handing over, and in worker processes, which already keep every CPU busy.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import Future, ThreadPoolExecutor

HELPER_MIN_CUSTOMERS = 100_000


def _done(value) -> Future:
    future: Future = Future()
    future.set_result(value)
    return future


class Helper:
    def __init__(self, customers: int):
        self.on = customers >= HELPER_MIN_CUSTOMERS and multiprocessing.parent_process() is None
        self._pool: ThreadPoolExecutor | None = None

    def submit(self, fn, *args) -> Future:
        """Run fn(*args) in the helper thread (inline when off); `.result()` waits for it."""
        if not self.on:
            return _done(fn(*args))
        if self._pool is None:  # (started on first use, stopped by `close`: no idle thread outlives a run)
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="lojal-helper")
        return self._pool.submit(fn, *args)

    def close(self) -> None:
        """Stop the thread (a process forks workers only while it has no other threads)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
