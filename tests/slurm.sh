#!/usr/bin/env bash
# A sharded run under a real scheduler: starts the one-node Slurm of ../shared/slurm, submits
# deploy/slurm/submit.sh's array (4 shards over data/ with the real model, blocks of 20
# documents so every file is split) and its afterok merge, then compares every table byte
# for byte with one `palaute run` over the same inputs. Then the failure path: one shard's
# folder is removed, the merge job must fail naming it, and rerunning that one task
# (sbatch --array=3) mends the folder.
# Skipped visibly (exit 0, "SKIPPED") without the real model, without root, or when Slurm
# cannot start. Called by .ci/run after the Rust tests.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
bin=${PALAUTE_BIN:-${CARGO_TARGET_DIR:-$repo/target}/debug/palaute}
[[ $bin == /* ]] || bin=$repo/$bin
starter=${PALAUTE_SLURM_STARTER:-$repo/../shared/slurm/start-local-cluster.sh}
skip() { echo "SKIPPED tests/slurm.sh: $*"; exit 0; }
[[ -x $bin ]] || { echo "tests/slurm.sh: no binary at $bin (cargo build first)" >&2; exit 1; }
[[ -n ${PALAUTE_TEST_MODEL_DIR:-} && -d ${PALAUTE_TEST_MODEL_DIR:-} ]] \
  || skip "PALAUTE_TEST_MODEL_DIR is not set (the real model)"
[[ -f $starter ]] || skip "no $starter"
[[ $(id -u) == 0 ]] || skip "starting Slurm needs root"
partition=$(bash "$starter" 2>/tmp/palaute-slurm-start.log | tail -1) \
  || skip "Slurm did not start (see /tmp/palaute-slurm-start.log)"

# One node: local disk is the shared storage.
work=$(mktemp -d /tmp/palaute-slurm.XXXXXX)
trap '[[ -n ${PALAUTE_KEEP:-} ]] || rm -rf "$work"' EXIT
cd "$work"
printf '[run]\nchunk_documents = 20\n' > palaute.toml
export PALAUTE_BIN=$bin PALAUTE_INPUTS=$repo/data PALAUTE_OUT=$work/sharded \
  PALAUTE_CONFIG=$work/palaute.toml PALAUTE_MODEL_DIR=$PALAUTE_TEST_MODEL_DIR HF_HUB_OFFLINE=1
opts=(--partition="$partition" --cpus-per-task=1 --mem=1500M --chdir="$work")

# Waits for job $1 to leave the queue; prints its final state.
wait_job() {
  local state
  for _ in $(seq 600); do
    state=$(scontrol show job "$1" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | head -1 | cut -d= -f2)
    case $state in
      PENDING|RUNNING|CONFIGURING|COMPLETING|"") sleep 1 ;;
      *) echo "$state"; return 0 ;;
    esac
  done
  echo TIMEOUT
}
# The state of every task of array job $1.
array_states() { scontrol show job "$1" | grep -o 'JobState=[A-Z_]*' | sort | uniq -c; }

started=$SECONDS
ids=$("$repo/deploy/slurm/submit.sh" 4 "${opts[@]}" --kill-on-invalid-dep=yes)
echo "$ids"
array=$(awk '{print $2}' <<<"$ids")
merge=$(awk '{print $NF}' <<<"$ids")
state=$(wait_job "$merge")
for t in 1 2 3 4; do wait_job "${array}_$t" >/dev/null; done
if [[ $state != COMPLETED ]]; then
  echo "merge job $merge ended $state; tasks:"; array_states "$array"
  cat "$work"/palaute-*.log; exit 1
fi
echo "array of 4 + merge under Slurm: $((SECONDS - started)) s"

"$bin" run --quiet "$repo/data" --out "$work/single"
status=0
for f in "$work"/single/*.parquet; do
  name=$(basename "$f")
  if cmp -s "$f" "$work/sharded/$name"; then echo "identical: $name"
  else echo "DIFFERS: $name"; status=1; fi
done
grep -q '"count": 4' "$work/sharded/run.json" || { echo "run.json has no 4 shards"; status=1; }
[[ $status == 0 ]] || exit 1

# A lost shard: the merge job fails naming it; rerunning that task alone mends the folder.
rm -rf "$work/sharded/parts/shard=3"
failed=$(sbatch --parsable "${opts[@]}" "$repo/deploy/slurm/palaute-merge.sbatch")
[[ $(wait_job "$failed") == FAILED ]] || { echo "merge without shard 3 did not fail"; exit 1; }
grep -q "missing shards 3 of 4" "$work/palaute-merge-$failed.log" \
  || { echo "merge log does not name shard 3:"; cat "$work/palaute-merge-$failed.log"; exit 1; }
rerun=$(PALAUTE_SHARDS=4 sbatch --parsable --array=3 "${opts[@]}" \
  "$repo/deploy/slurm/palaute-array.sbatch")
rerun=${rerun%%;*}
mended=$(sbatch --parsable --dependency="afterok:$rerun" --kill-on-invalid-dep=yes "${opts[@]}" \
  "$repo/deploy/slurm/palaute-merge.sbatch")
[[ $(wait_job "$mended") == COMPLETED ]] || { echo "merge after the rerun failed"; exit 1; }
for f in "$work"/single/*.parquet; do
  cmp -s "$f" "$work/sharded/$(basename "$f")" || { echo "DIFFERS after rerun: $f"; exit 1; }
done
echo "tests/slurm.sh: sharded under Slurm == single run; lost shard named, rerun mended it"
