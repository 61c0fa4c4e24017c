#!/usr/bin/env bash
# report.html in a real browser: runs palaute on the sample data, opens the report in headless
# Debian Chromium with the network closed, checks the rendered page (heatmap cells, quotes,
# popovers, no console errors, no requests) and saves a screenshot.
#
#   tests/browser.sh [OUT_DIR]          (default: a new temporary folder)
#
# With PALAUTE_TEST_MODEL_DIR set, the run classifies with that model and the heatmap and
# quotes must be there. Without it the run is ingest-only: the heatmap is empty, the script
# says so, and checks that the page renders and explains why.
# Needs: Debian chromium (installed with apt-get when /usr/bin/chromium is missing) and
# node + npm (playwright-core from tests/browser/package-lock.json).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$(pwd)"

out="${1:-$(mktemp -d "${TMPDIR:-/tmp}/palaute-browser-XXXXXX")}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"

echo "== cargo build"
cargo build --quiet
bin="${CARGO_TARGET_DIR:-$root/target}/debug/palaute"

echo "== palaute run data --out $out"
if [[ -n "${PALAUTE_TEST_MODEL_DIR:-}" ]]; then
  expect=full
  "$bin" run data --out "$out" --model-dir "$PALAUTE_TEST_MODEL_DIR"
else
  expect=empty
  echo "NOTE: PALAUTE_TEST_MODEL_DIR is not set: running WITHOUT a model (ingest only)."
  echo "NOTE: the report's heatmap will be EMPTY; only rendering, console errors and run facts are checked."
  "$bin" run data --out "$out" --no-classify
fi
if [[ ! -s "$out/report.html" ]]; then
  echo "FAIL: $out/report.html was not written" >&2
  exit 1
fi

if [[ ! -x /usr/bin/chromium ]]; then
  echo "== installing Debian chromium"
  sudo=()
  if [[ "$(id -u)" -ne 0 ]]; then sudo=(sudo); fi
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

echo "== playwright-core (tests/browser)"
if [[ ! -d tests/browser/node_modules/playwright-core ]]; then
  (cd tests/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
fi

echo "== headless chromium: $out/report.html (heatmap expected: $expect)"
exec node tests/browser/check.mjs "$out/report.html" "$expect" "$out/report.png"
