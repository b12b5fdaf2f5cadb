"""The same scenario file and seed give the same numbers on every x86-64 machine: numpy's
exp/log/power and the BLAS kernels differ in the last bit between CPUs with and without
AVX-512, so the engine, the drivers of the spread and the pilot's adjustment use
simulation/portable.py (docs/model.md, reproducibility). Checked by running the same runs in
a subprocess with numpy's dispatched SIMD code switched off (as on an older CPU) and, on
x86-64, OpenBLAS's oldest kernel."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# three runs that cover every instrument family, a pilot's CUPED adjustment and, with sampled
# judgement parameters and enough replications for the rank regression, the drivers table
SCRIPT = """
import hashlib, json, sys
sys.path.insert(0, {root!r})
import simulation
runs = [
    ("coffee-points-card.yaml", ["uncertainty.sample=judgement", "simulation.replications=30"]),
    ("grocery-card-pilot.yaml", ["simulation.replications=4"]),
    ("fashion-tiers-club.yaml", ["simulation.replications=4"]),
    ("webshop-referral.yaml", ["simulation.replications=4"]),
]
out = {{}}
for name, sets in runs:
    sc = simulation.load({root!r} + "/scenarios/" + name, ["customers.size=800", "simulation.horizon_months=14", *sets])
    r = simulation.run(sc)
    for table in ("summary", "monthly", "sensitivity", "clv"):
        out[name + ":" + table] = hashlib.sha256(getattr(r, table).to_csv().encode()).hexdigest()
print(json.dumps(out))
"""


def _hashes(env: dict) -> dict:
    proc = subprocess.run([sys.executable, "-c", SCRIPT.format(root=str(ROOT))], capture_output=True, text=True,
                          env={**env, "LOJAL_WORKERS": "1"}, cwd=ROOT)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def without_vectorised_maths() -> dict:
    try:
        from numpy._core._multiarray_umath import __cpu_dispatch__
    except ImportError:  # numpy < 2
        from numpy.core._multiarray_umath import __cpu_dispatch__
    env = {**os.environ, "NPY_DISABLE_CPU_FEATURES": " ".join(__cpu_dispatch__)}
    if platform.machine() in ("x86_64", "AMD64"):
        env["OPENBLAS_CORETYPE"] = "Nehalem"
    return env


def test_the_same_numbers_without_the_cpus_vectorised_maths():
    here = _hashes(dict(os.environ))
    assert len(here) == 16
    plain = _hashes(without_vectorised_maths())
    assert {k for k in here if here[k] != plain[k]} == set()
