#!/usr/bin/env bash
# palaute encoder vs sentence-transformers on the same model, corpus and machine, in one run.
#   usage: benches/compare.sh [MODEL_DIR] [CORPUS]
#   MODEL_DIR defaults to $PALAUTE_TEST_MODEL_DIR, CORPUS to ../shared/bench/corpus-2000.txt.
# The reference needs ../shared/bench/anchor.sh (its first run creates a ~6 GB torch venv).
# Both sides use 2 threads and the "passage: " prefix; the ratio compares palaute computing
# every distinct line with sentence-transformers computing every line (the corpus has few
# duplicates; palaute's dedup gain is printed separately, not counted in the ratio).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
model="${1:-${PALAUTE_TEST_MODEL_DIR:?give MODEL_DIR or set PALAUTE_TEST_MODEL_DIR}}"
corpus="${2:-$root/../shared/bench/corpus-2000.txt}"
anchor="$root/../shared/bench/anchor.sh"
threads="${BENCH_THREADS:-2}"

cd "$root"
cargo build --release --quiet --example embed_bench
target="${CARGO_TARGET_DIR:-$root/target}"

echo "== palaute (candle) =="
pal_out="$("$target/release/examples/embed_bench" "$model" "$corpus" --threads "$threads")"
echo "$pal_out"
pal="$(sed -n 's/^RESULT sent_per_s=//p' <<<"$pal_out")"

echo "== reference (sentence-transformers) =="
ref_out="$(bash "$anchor" "$model" "$corpus" --threads "$threads")"
echo "$ref_out"
ref="$(sed -n 's/^sentence-transformers: \([0-9.]*\) sent\/s.*/\1/p' <<<"$ref_out")"

awk -v p="$pal" -v r="$ref" 'BEGIN { printf "ratio palaute/reference: %.2fx (%.1f vs %.1f sent/s)\n", p / r, p, r }'
