#!/bin/bash
# Runs the shards, waits for every index to complete, then the merge. Kubernetes has no
# dependency between Jobs, so the wait is here:
#   kubectl apply -f deploy/k8s/pvc.yaml   # once; put inputs in /data/in, models in /data/cache
#   deploy/k8s/run.sh [kubectl options, e.g. -n cx]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
kubectl "$@" delete job palaute-shards palaute-merge --ignore-not-found
kubectl "$@" apply -f "$here/palaute-shards.yaml"
if ! kubectl "$@" wait --for=condition=complete job/palaute-shards --timeout=24h; then
  echo "palaute-shards did not complete; failed indexes:" >&2
  kubectl "$@" get job palaute-shards -o jsonpath='{.status.failedIndexes}{"\n"}' >&2
  exit 1
fi
kubectl "$@" apply -f "$here/palaute-merge.yaml"
kubectl "$@" wait --for=condition=complete job/palaute-merge --timeout=6h
kubectl "$@" logs job/palaute-merge
