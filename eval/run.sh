#!/usr/bin/env bash
# Runs palaute's evaluation on the public development sets in ../shared/eval (not part of the
# repository) and prints the figures recorded in README.md's "Evaluation" section.
# Usage: eval/run.sh [MODEL_DIR]   (default: $PALAUTE_MODEL_DIR, else the palaute model cache)
set -euo pipefail
cd "$(dirname "$0")/.."
EVAL=${PALAUTE_EVAL_DIR:-../shared/eval}
if [[ ! -d $EVAL ]]; then
  echo "SKIP: no evaluation data at $EVAL (set PALAUTE_EVAL_DIR)" >&2
  exit 0
fi
[[ $# -ge 1 ]] && export PALAUTE_MODEL_DIR=$1
cargo build --quiet
P=${CARGO_TARGET_DIR:-target}/debug/palaute
for set in xed_fi xed_sv xlmt_umsab; do
  $P eval -q --task sentiment "$EVAL/$set/test.csv"
  echo
done
$P eval -q --task themes --codebook eval/sib200-topics.toml "$EVAL/sib200_fi_sv_en/test.csv"
echo
# Written for palaute (eval/stages_b2c.README.md), independently of the journey-map examples.
$P eval -q --task stages eval/stages_b2c.csv
