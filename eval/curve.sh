#!/usr/bin/env bash
# Learning curve of the shipped method over its feedback rows (README, "Evaluation": the
# shipped method's learning curve). For each share it keeps every Nth row of each
# assets/training/feedback_{fi,sv,en}.csv (N = 4, 2, 1; "none" keeps the header only) in a
# scratch worktree of HEAD, builds palaute there, lets it adapt the encoder and train the heads
# on that subset exactly as a run does (default settings), and scores the held-out and
# confirmation sets. Every Nth row keeps each round of rows and each register in proportion.
#
# Usage: eval/curve.sh [MODEL_DIR]   (default: $PALAUTE_MODEL_DIR, else the palaute model cache)
#   CURVE_SHARES="none 4 2 1"   the shares to measure (every Nth row; 1 = all, as shipped)
#   PALAUTE_EVAL_SEEDS="1001"   adapt under these seeds too (besides the default), as eval/run.sh
# Each share adapts the encoder once per seed (7-10 minutes on two cores) unless PALAUTE_CACHE already
# holds it; PALAUTE_CACHE defaults to target/curve-cache so the cache a run uses is left alone.
# The scratch tree shares this tree's target folder (only palaute itself is rebuilt), so the
# next `cargo build` here relinks target/debug/palaute.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
[[ $# -ge 1 ]] && export PALAUTE_MODEL_DIR=$1
export PALAUTE_CACHE=${PALAUTE_CACHE:-$root/target/curve-cache}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
tree=$(mktemp -d)
git worktree add --quiet --detach "$tree" HEAD
trap 'git worktree remove --force "$tree"; rm -f "$root"/target/curve-palaute' EXIT
bin=$root/target/curve-palaute
seeds=(default ${PALAUTE_EVAL_SEEDS:-})
for share in ${CURVE_SHARES:-none 4 2 1}; do
  for lang in fi sv en; do
    src=$root/assets/training/feedback_$lang.csv
    # One row per line in these files (no quoted newlines), so a line is a row.
    if [[ $share == none ]]; then
      head -n 1 "$src"
    else
      awk -v n="$share" 'NR == 1 || (NR - 2) % n == 0' "$src"
    fi >"$tree/assets/training/feedback_$lang.csv"
  done
  rows=$(($(cat "$tree"/assets/training/feedback_*.csv | wc -l) - 3))
  (cd "$tree" && cargo build --quiet)
  cp "$CARGO_TARGET_DIR/debug/palaute" "$bin"
  case $share in none) which="none" ;; 1) which="all" ;; 2) which="every 2nd" ;; *) which="every ${share}th" ;; esac
  for seed in "${seeds[@]}"; do
    cfg=$tree/curve-seed.toml
    if [[ $seed == default ]]; then : >"$cfg"; else printf '[classify.adapt]\nseed = %d\n' "$seed" >"$cfg"; fi
    echo "=== feedback rows: $which ($rows in fi, sv and en together), seed $seed"
    for set in heldout confirm; do
      for task in sentiment themes stages; do
        "$bin" eval -q -c "$cfg" --task $task eval/$set/fi.csv eval/$set/sv.csv eval/$set/en.csv |
          grep -E 'rows$|^accuracy|^  (fi|sv|en) |parity'
      done
    done
  done
done
