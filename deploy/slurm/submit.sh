#!/bin/bash
# Submits a sharded palaute run: an array of N shard tasks, then the merge as a job that
# starts only when every task succeeded (afterok). Prints both job ids.
#
#   PALAUTE_INPUTS="/scratch/cx/exports /scratch/cx/interviews" PALAUTE_OUT=/scratch/cx/out \
#     deploy/slurm/submit.sh 8 [extra sbatch options, e.g. --partition=cpu --account=proj]
#
# Environment passed to the jobs (sbatch exports the caller's): PALAUTE_INPUTS, PALAUTE_OUT,
# and optionally PALAUTE_BIN (path of the binary), PALAUTE_CONFIG (palaute.toml),
# PALAUTE_MODEL_DIR / HF_HOME / PALAUTE_CACHE (model and head caches on shared storage).
set -euo pipefail
n=${1:?usage: submit.sh N [sbatch options]}
shift
# N travels with the jobs, so a rerun of one task (sbatch --array=K) knows it too.
export PALAUTE_SHARDS=$n
here=$(cd "$(dirname "$0")" && pwd)
array=$(sbatch --parsable --array="1-$n" "$@" "$here/palaute-array.sbatch")
array=${array%%;*}
merge=$(sbatch --parsable --dependency="afterok:$array" "$@" "$here/palaute-merge.sbatch")
echo "array $array (shards 1-$n), merge $merge"
