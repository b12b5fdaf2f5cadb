"""Common random numbers: one named stream per decision, per replication.

Each stream is seeded from (seed, replication, stable hash of the decision's name), so
- a replication is a pure function of (scenario, seed, replication index), whatever the
  number of replications or where it runs;
- an instrument that draws from its own streams never shifts the draws of another;
- the program arm and its no-program twin share every draw (one uniform per slot is used
  for both arms), so their difference is the program's effect, not noise.
"""

from __future__ import annotations

import hashlib
from statistics import NormalDist

import numpy as np


def stable_hash(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "little")


class Streams:
    def __init__(self, seed: int, replication: int):
        self.seed, self.replication = int(seed), int(replication)
        self._generators: dict[str, np.random.Generator] = {}

    def generator(self, name: str) -> np.random.Generator:
        gen = self._generators.get(name)
        if gen is None:
            seq = np.random.SeedSequence([self.seed, self.replication, stable_hash(name)])
            gen = self._generators[name] = np.random.Generator(np.random.PCG64(seq))
        return gen

    def uniform(self, name: str, n: int) -> np.ndarray:
        """n uniforms in [0, 1), one per customer slot, shared by both arms."""
        return self.generator(name).random(n)


def poisson_from_uniform(lam: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Poisson counts by inverting the CDF at `u`.

    Inversion (rather than `Generator.poisson`) keeps common random numbers exact: the
    same uniform gives the same count when the rate is the same, and a nearby count when
    the program changes the rate. Only customers still below their uniform are iterated.
    """
    lam = np.asarray(lam, dtype=np.float64)
    u = np.broadcast_to(u, lam.shape)
    k = np.zeros(lam.shape, dtype=np.int32)
    p = np.exp(-lam)
    cdf = p.copy()
    idx = np.flatnonzero(u > cdf)
    if idx.size == 0:
        return k
    flat_k = k.reshape(-1)
    lam_i, u_i = lam.reshape(-1)[idx], u.reshape(-1)[idx]
    p_i, cdf_i = p.reshape(-1)[idx], cdf.reshape(-1)[idx]
    j = 0
    limit = int(lam_i.max() + 12 * np.sqrt(lam_i.max()) + 30)
    while idx.size and j < limit:
        j += 1
        flat_k[idx] += 1
        p_i = p_i * lam_i / j
        cdf_i = cdf_i + p_i
        more = u_i > cdf_i
        if not more.all():
            idx, lam_i, u_i, p_i, cdf_i = idx[more], lam_i[more], u_i[more], p_i[more], cdf_i[more]
    return k


_NORMAL = NormalDist()


def poisson_scalar(lam: float, u: float) -> int:
    """One Poisson count from one uniform (exact up to a mean of 50, normal beyond)."""
    if lam <= 0:
        return 0
    if lam > 50:
        z = _NORMAL.inv_cdf(min(max(u, 1e-12), 1 - 1e-12))
        return max(0, int(round(lam + np.sqrt(lam) * z)))
    k, p = 0, float(np.exp(-lam))
    cdf = p
    while u > cdf and k < 1000:
        k += 1
        p *= lam / k
        cdf += p
    return k
