#!/usr/bin/env bash
# Fuzz every reader for a time budget on the stable toolchain (tests/it/fuzz.rs): rounds of
# PROPTEST_CASES mutants per target, each round with a new PALAUTE_FUZZ_SEED, until the budget
# is spent. Prints the mutants read and the rounds that failed; a failing round's output (the
# shrunk mutant and the panic) is kept in target/fuzz/seed-N.log, and the last mutant read in
# target/fuzz/last-mutant (a mutant that aborts the process cannot be reported otherwise).
#
#   scripts/fuzz.sh [SECONDS] [CASES]     (defaults: 600 s, 2000 mutants per target per round)
set -euo pipefail
cd "$(dirname "$0")/.."
budget=${1:-600}
cases=${2:-2000}
mkdir -p target/fuzz
# Built once, then the test binary is run directly: editing sources meanwhile changes nothing.
bin=$(cargo test --test it --no-run --message-format=json 2>/dev/null |
    grep '"kind":\["test"\]' | sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -1)
cp "$bin" target/fuzz/it
start=$(date +%s)
seed=${FUZZ_FIRST_SEED:-1}
first=$seed
mutants=0
failed=()
while (( $(date +%s) - start < budget )); do
    log=target/fuzz/seed-$seed.log
    if PROPTEST_CASES=$cases PALAUTE_FUZZ_SEED=$seed PALAUTE_FUZZ_KEEP=target/fuzz/last-mutant \
        target/fuzz/it fuzz --nocapture >"$log" 2>&1; then
        n=$(sed -n 's/^fuzz: seed [0-9]*, \([0-9]*\) mutants read$/\1/p' "$log")
        mutants=$((mutants + ${n:-0}))
        rm -f "$log"
    else
        failed+=("$seed")
        echo "round $seed failed: see $log" >&2
        grep -q "mutated_exports" "$log" || { cat "$log" >&2; exit 2; }  # not a fuzz failure
    fi
    seed=$((seed + 1))
done
echo "fuzz: $((seed - first)) rounds (seeds $first–$((seed - 1))), $mutants mutants read without a failure in $(( $(date +%s) - start )) s;" \
    "failed rounds: ${#failed[@]} ${failed[*]:-}"
(( ${#failed[@]} == 0 ))
