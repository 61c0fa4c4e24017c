#!/usr/bin/env bash
# palaute f32, palaute int8 and sentence-transformers on the same model, corpus and machine, in
# one run. Interleaved — f32, int8, reference, f32, int8, reference, … — and the best of each
# kept, so load from other work on a shared machine hits all three alike.
#   usage: benches/compare.sh [MODEL_DIR] [CORPUS]
#   MODEL_DIR defaults to $PALAUTE_TEST_MODEL_DIR, CORPUS to ../shared/bench/corpus-2000.txt.
#   ROUNDS (default 3) rounds; BENCH_THREADS (default 2) threads on every side;
#   BENCH_PROFILE=dev measures the `cargo run` build instead of the release one.
#   BENCH_ISA=avx2 (or avxvnni) runs all three sides as on a CPU without AVX-512: palaute run
#   with PALAUTE_SIMD=$BENCH_ISA (f32 products on its own AVX2 kernel) and built without the
#   `avx512-gemm` feature (what `gemm` still does on AVX2+FMA kernels), PyTorch with ATEN_CPU_CAPABILITY=avx2, MKL_ENABLE_INSTRUCTIONS=AVX2
#   and ONEDNN_MAX_CPU_ISA=AVX2. A proxy: the cores' own 256-bit units are not an AVX2 CPU's.
# The reference needs ../shared/bench/anchor.sh (its first run creates a ~6 GB torch venv).
# Both sides use the "passage: " prefix; palaute computes every distinct line and
# sentence-transformers every line (the corpus has few duplicates).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
model="${1:-${PALAUTE_TEST_MODEL_DIR:?give MODEL_DIR or set PALAUTE_TEST_MODEL_DIR}}"
corpus="${2:-$root/../shared/bench/corpus-2000.txt}"
anchor="$root/../shared/bench/anchor.sh"
threads="${BENCH_THREADS:-2}"
rounds="${ROUNDS:-3}"
profile="${BENCH_PROFILE:-release}"
isa="${BENCH_ISA:-}"
features=()
case "$isa" in
  "") ;;
  avx2 | avxvnni)
    features=(--no-default-features)
    export PALAUTE_SIMD="$isa" ATEN_CPU_CAPABILITY=avx2 MKL_ENABLE_INSTRUCTIONS=AVX2 ONEDNN_MAX_CPU_ISA=AVX2
    ;;
  *) echo "BENCH_ISA: avx2 or avxvnni (got $isa)" >&2; exit 2 ;;
esac

cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
if [[ $profile == dev ]]; then
  cargo build --quiet --example embed_bench "${features[@]}"
  bin="$target/debug/examples/embed_bench"
else
  cargo build --release --quiet --example embed_bench "${features[@]}"
  bin="$target/release/examples/embed_bench"
fi

grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: /cpu: /' || true
echo "cpu features: $(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | tr ' ' '\n' |
  grep -xE 'avx2|fma|avx512f|avx512bw|avx512vl|avx512_vnni|avx_vnni' | tr '\n' ' ')"
echo "threads: $threads, rounds: $rounds, palaute build: $profile${isa:+, run as an $isa CPU (see BENCH_ISA)}"

best() { awk -v a="$1" -v b="$2" 'BEGIN { print (b > a ? b : a) }'; }
f32=0 int8=0 ref=0
for round in $(seq "$rounds"); do
  out="$("$bin" "$model" "$corpus" --threads "$threads" --reps 1 --precision f32)"
  [[ $round == 1 ]] && grep '^precision' <<<"$out"
  f32="$(best "$f32" "$(sed -n 's/^RESULT sent_per_s=//p' <<<"$out")")"
  out="$("$bin" "$model" "$corpus" --threads "$threads" --reps 1 --precision int8)"
  [[ $round == 1 ]] && grep '^precision' <<<"$out"
  int8="$(best "$int8" "$(sed -n 's/^RESULT sent_per_s=//p' <<<"$out")")"
  out="$(bash "$anchor" "$model" "$corpus" --threads "$threads" --reps 1 2>/dev/null)"
  ref="$(best "$ref" "$(sed -n 's/^sentence-transformers: \([0-9.]*\) sent\/s.*/\1/p' <<<"$out")")"
  echo "round $round: best so far f32 $f32, int8 $int8, sentence-transformers $ref sent/s"
done

awk -v f="$f32" -v i="$int8" -v r="$ref" 'BEGIN {
  printf "palaute f32:           %7.1f sent/s  %.2fx sentence-transformers\n", f, f / r
  printf "palaute int8:          %7.1f sent/s  %.2fx sentence-transformers, %.2fx palaute f32\n", i, i / r, i / f
  printf "sentence-transformers: %7.1f sent/s\n", r
}'
