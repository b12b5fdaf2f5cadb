#!/usr/bin/env bash
# Mutation testing of simulation/ with mutmut; writes the kill rates and the surviving
# mutants into docs/mutation.md (see there).
#
#   bash bench/mutation.sh                    # results, the instruments, membership, people, rng
#   bash bench/mutation.sh results instruments/points   # only these
#
# Modules are paths under simulation/ without .py. Each run starts from a clean mutants/
# directory, so the figures never mix runs. PYTHON picks the interpreter (default: python);
# mutmut must be installed in it (`pip install -e .[dev]`). On 2 cores: about 20 min for
# results + instruments + membership, 10 for people, an hour or more for rng (its Poisson
# mutants often loop until mutmut's timeout).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
if [ $# -eq 0 ]; then
    set -- results instruments/points instruments/tiers instruments/subscription instruments/referral \
        membership people rng
fi

globs=()
for m in "$@"; do
    m=${m%.py}
    m=${m#simulation/}
    globs+=("simulation.${m//\//.}.*")
done

unset PYTHONPATH  # mutmut puts mutants/ first on the path; another copy of the package must not shadow it
rm -rf mutants
log=$(mktemp)
start=$(date +%s)
if ! "$PY" -m mutmut run "${globs[@]}" >"$log" 2>&1; then
    tr '\r' '\n' <"$log" | tail -40
    echo "mutmut run failed (full output: $log)" >&2
    exit 1
fi
elapsed=$(( $(date +%s) - start ))
tr '\r' '\n' <"$log" | grep -E 'done in|mutations/second' || true
mv "$log" mutants/run.log
echo "mutmut run took ${elapsed} s (output: mutants/run.log)"
"$PY" bench/mutation_report.py --seconds "$elapsed" "$@"
