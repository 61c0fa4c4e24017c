#!/usr/bin/env bash
# Scale benchmark for `palaute run`: wall time, throughput and peak memory against input size.
#
#   usage: benches/scale.sh [ROWS ...]        (default sizes: 10000 100000 1000000)
#
# For every size, a synthetic NPS export (respondent_id,submitted,nps,comment,channel; fi/sv/en
# comments drawn from the hand-written pools in benches/scale/*.tsv by benches/scale/gen.awk,
# deterministic for a given size and SEED) is generated once and cached in the work folder, then
#
#   palaute -q run nps-ROWS.csv --out DIR --no-classify $PALAUTE_ARGS
#
# is run and measured. Columns of the table (and of results.tsv):
#   mode            no-classify, or classify (encoder on; see CLASSIFY_ROWS below)
#   rows            data rows in the CSV
#   wall_s          elapsed seconds around the whole command (date +%s.%N): process start-up,
#                   reading, segmenting, language detection, [classification,] writing every
#                   table, run.json and report.html
#   rows_per_s      rows / wall_s
#   segments        "segments" in the "counts" object of DIR/run.json
#   segments_per_s  segments / wall_s
#   peak_rss_mb     peak resident set size in MiB: GNU time's "Maximum resident set size" if
#                   /usr/bin/time exists, else VmHWM sampled from /proc/PID/status every 10 ms
#                   (growth in the last interval before exit can be missed)
# A warning is printed when run.json reports rejects or a row count other than ROWS.
#
# Environment:
#   PALAUTE_BIN        binary to measure; unset: `cargo build --release --bin palaute` in the
#                      repository root, then ${CARGO_TARGET_DIR:-target}/release/palaute
#   PALAUTE_ARGS       extra `palaute run` arguments, split on whitespace (e.g. "-c palaute.toml")
#   PALAUTE_MODEL_DIR  encoder folder (PALAUTE_TEST_MODEL_DIR is used if this is unset); with
#                      one, the sizes in CLASSIFY_ROWS are also run with classification on
#                      (--model-dir DIR, HF_HUB_OFFLINE=1)
#   CLASSIFY_ROWS      sizes for classified runs (default "10000 50000"; "" skips them)
#   SCALE_DIR          work folder: cached CSVs, output folders, results.tsv. Unset: a mktemp
#                      folder, deleted at the end unless KEEP=1 (results.tsv goes with it)
#   KEEP=1             keep the output folder of every run (otherwise deleted once measured)
#   SEED               generator seed (default 42)
#   SCALE_RSS=proc     use the /proc sampler even when GNU time is installed
#
# Needs only bash, awk, coreutils and optionally GNU time; jq is used for run.json if present.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
gen_dir="$here/scale"
seed="${SEED:-42}"
keep="${KEEP:-0}"
classify_rows="${CLASSIFY_ROWS-10000 50000}"
model_dir="${PALAUTE_MODEL_DIR:-${PALAUTE_TEST_MODEL_DIR:-}}"
read -ra extra_args <<<"${PALAUTE_ARGS:-}"

if (($# > 0)); then sizes=("$@"); else sizes=(10000 100000 1000000); fi
read -ra classify_sizes <<<"$classify_rows"
for n in "${sizes[@]}" "${classify_sizes[@]}"; do
    [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "scale.sh: not a row count: $n" >&2; exit 2; }
done
[[ $seed =~ ^[0-9]+$ ]] || { echo "scale.sh: SEED must be a non-negative integer" >&2; exit 2; }

log() { printf 'scale.sh: %s\n' "$*" >&2; }
now() { date +%s.%N; }
# fsub FMT A B -> A - B;  fdiv FMT A B -> A / B (0 when B is 0)
fsub() { awk -v f="$1" -v a="$2" -v b="$3" 'BEGIN { printf f, a - b }'; }
fdiv() { awk -v f="$1" -v a="$2" -v b="$3" 'BEGIN { printf f, (b > 0 ? a / b : 0) }'; }

# --- binary -------------------------------------------------------------------------------
if [[ -n ${PALAUTE_BIN:-} ]]; then
    bin="$PALAUTE_BIN"
else
    log "building: cargo build --release --bin palaute"
    (cd "$root" && cargo build --release --bin palaute)
    target_dir="${CARGO_TARGET_DIR:-target}"
    [[ $target_dir == /* ]] || target_dir="$root/$target_dir"
    bin="$target_dir/release/palaute"
fi
[[ -x $bin ]] || { echo "scale.sh: not an executable: $bin" >&2; exit 2; }

# --- work folder --------------------------------------------------------------------------
if [[ -n ${SCALE_DIR:-} ]]; then
    work="$SCALE_DIR"
    mkdir -p "$work"
    temp_work=0
else
    work="$(mktemp -d "${TMPDIR:-/tmp}/palaute-scale.XXXXXX")"
    temp_work=1
fi
cleanup() {
    rm -f "$work/.tick" "$work/.time" "$work/.pid" "$work/.end" "$work/.rc"
    if ((temp_work)) && [[ $keep != 1 ]]; then
        rm -rf "$work"
    elif ((temp_work)); then
        log "kept work folder $work"
    fi
}
trap cleanup EXIT

# --- peak RSS method ----------------------------------------------------------------------
time_probe=""
if [[ ${SCALE_RSS:-} != proc ]] && [[ -x /usr/bin/time ]]; then
    time_probe="$(/usr/bin/time -v true 2>&1 || true)"
fi
if [[ $time_probe == *"Maximum resident set size"* ]]; then
    rss_method="GNU time"
else
    rss_method="/proc VmHWM sampling"
    [[ -r /proc/self/status ]] || { echo "scale.sh: neither GNU time nor /proc available" >&2; exit 2; }
    rm -f "$work/.tick"
    mkfifo "$work/.tick"
    exec {tick_fd}<>"$work/.tick" # read -t on it is a sleep without forking
fi

# measure ERRFILE CMD... — runs CMD with stderr to ERRFILE; sets m_wall (s), m_rss_kb, m_rc
measure() {
    local errf=$1 t0 t1 pid key val hwm=0
    shift
    m_rc=0
    if [[ $rss_method == "GNU time" ]]; then
        t0=$(now)
        /usr/bin/time -v -o "$work/.time" "$@" 2>"$errf" || m_rc=$?
        t1=$(now)
        m_rss_kb=$(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes):[[:space:]]*\([0-9]*\).*/\1/p' "$work/.time")
    else
        rm -f "$work/.pid" "$work/.end" "$work/.rc"
        t0=$(now)
        # The subshell notes the end time itself, so sampling latency does not count as wall time.
        (
            "$@" 2>"$errf" &
            echo "$!" >"$work/.pid"
            rc=0
            wait "$!" || rc=$?
            now >"$work/.end"
            echo "$rc" >"$work/.rc"
        ) &
        local sub=$!
        until [[ -s $work/.pid ]]; do read -rt 0.005 -u "$tick_fd" || true; done
        pid=$(<"$work/.pid")
        while [[ -r /proc/$pid/status ]]; do
            while read -r key val _; do
                if [[ $key == VmHWM: ]]; then
                    ((val > hwm)) && hwm=$val
                    break
                fi
            done 2>/dev/null <"/proc/$pid/status" || true
            read -rt 0.01 -u "$tick_fd" || true
        done
        wait "$sub" || true
        t1=$(<"$work/.end")
        m_rc=$(<"$work/.rc")
        m_rss_kb=$hwm
    fi
    m_wall=$(fsub %.3f "$t1" "$t0")
    [[ -n $m_rss_kb ]] || m_rss_kb=0
}

# json_get FILE OBJECT KEY — scalar KEY directly inside top-level OBJECT of a JSON file
json_get() {
    if command -v jq >/dev/null 2>&1; then
        jq -r --arg o "$2" --arg k "$3" '.[$o][$k] // empty | tostring' "$1"
    else
        # Depth-aware scan (works for pretty-printed and one-line JSON; no nested-string escapes
        # containing braces are expected among these keys).
        awk -v obj="\"$2\"" -v key="\"$3\"" '
            { buf = buf $0 "\n" }
            END {
                i = index(buf, obj ":"); if (!i) { i = index(buf, obj " :"); if (!i) exit }
                s = substr(buf, i + length(obj)); s = substr(s, index(s, "{") + 1)
                depth = 1; flat = ""
                for (j = 1; j <= length(s) && depth > 0; j++) {
                    c = substr(s, j, 1)
                    if (c == "{" || c == "[") depth++
                    else if (c == "}" || c == "]") depth--
                    else if (depth == 1) flat = flat c
                }
                n = split(flat, parts, ",")
                for (p = 1; p <= n; p++) {
                    kv = parts[p]; gsub(/^[ \t\n]+|[ \t\n]+$/, "", kv)
                    if (index(kv, key) == 1) {
                        v = substr(kv, length(key) + 1); sub(/^[ \t\n]*:[ \t\n]*/, "", v)
                        gsub(/^"|"$/, "", v); print v; exit
                    }
                }
            }' "$1"
    fi
}

# --- input generation ---------------------------------------------------------------------
# The cache name carries a checksum of the generator and pools, so editing them regenerates.
gen_key="$(cat "$gen_dir/gen.awk" "$gen_dir/pool.tsv" "$gen_dir/short.tsv" | cksum | cut -d' ' -f1)"
csv_for() { echo "$work/nps-$1-s$seed-$gen_key.csv"; }
generate() {
    local rows=$1 csv t0 t1
    csv="$(csv_for "$rows")"
    [[ -s $csv ]] && return 0
    t0=$(now)
    LC_ALL=C awk -v rows="$rows" -v seed="$seed" -v pool="$gen_dir/pool.tsv" \
        -v short="$gen_dir/short.tsv" -f "$gen_dir/gen.awk" >"$csv.part"
    mv "$csv.part" "$csv"
    t1=$(now)
    log "generated $rows rows in $(fsub %.2f "$t1" "$t0") s ($(fdiv %.1f "$(wc -c <"$csv")" 1048576) MiB): $csv"
}

# --- runs ---------------------------------------------------------------------------------
results="$work/results.tsv"
printf 'mode\trows\twall_s\trows_per_s\tsegments\tsegments_per_s\tpeak_rss_mb\n' >"$results"

# bench MODE ROWS
bench() {
    local mode=$1 rows=$2 csv out errf attempt segments rejects seen status
    local -a cmd
    csv="$(csv_for "$rows")"
    out="$work/out-$mode-$rows"
    errf="$work/stderr-$mode-$rows.txt"
    if [[ $mode == no-classify ]]; then
        cmd=("$bin" -q run "$csv" --out "$out" --no-classify)
    else
        cmd=(env HF_HUB_OFFLINE=1 "$bin" -q run "$csv" --out "$out" --model-dir "$model_dir")
    fi
    cmd+=("${extra_args[@]}")
    log "$mode $rows rows: ${cmd[*]}"
    for attempt in 1 2 3; do
        rm -rf "$out"
        measure "$errf" "${cmd[@]}"
        ((m_rc == 0)) && break
        # The binary may be mid-rebuild ("Text file busy", exit 126): wait and retry.
        if ((attempt < 3)) && { ((m_rc == 126)) || grep -qi 'text file busy' "$errf"; }; then
            log "binary busy (exit $m_rc), retrying in 5 s"
            sleep 5
            continue
        fi
        log "palaute failed (exit $m_rc); last lines of stderr:"
        tail -n 20 "$errf" >&2
        exit 1
    done
    [[ -s $out/run.json ]] || { log "no $out/run.json"; exit 1; }
    segments="$(json_get "$out/run.json" counts segments)"
    rejects="$(json_get "$out/run.json" counts rejects)"
    seen="$(json_get "$out/run.json" counts rows)"
    [[ -n $segments ]] || { log "no counts.segments in $out/run.json"; exit 1; }
    [[ ${rejects:-0} == 0 ]] || log "WARNING: $mode $rows: run.json reports $rejects rejects (see $out/rejects.parquet)"
    [[ -z $seen || $seen == "$rows" ]] || log "WARNING: $mode $rows: run.json counts $seen rows, expected $rows"
    if [[ $mode == classify ]]; then
        status="$(json_get "$out/run.json" classification status)"
        [[ $status == "done" ]] || log "WARNING: classification status '$status': $(json_get "$out/run.json" classification reason)"
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$mode" "$rows" "$m_wall" \
        "$(fdiv %.0f "$rows" "$m_wall")" "$segments" \
        "$(fdiv %.0f "$segments" "$m_wall")" \
        "$(fdiv %.1f "$m_rss_kb" 1024)" >>"$results"
    if [[ $keep != 1 ]]; then rm -rf "$out"; fi
    rm -f "$errf"
}

for rows in "${sizes[@]}"; do
    generate "$rows"
    bench no-classify "$rows"
done

if ((${#classify_sizes[@]} > 0)); then
    if [[ -n $model_dir ]]; then
        [[ -d $model_dir ]] || { echo "scale.sh: model folder not found: $model_dir" >&2; exit 2; }
        for rows in "${classify_sizes[@]}"; do
            generate "$rows"
            bench classify "$rows"
        done
    else
        log "classified runs skipped: set PALAUTE_MODEL_DIR or PALAUTE_TEST_MODEL_DIR"
    fi
fi

# --- report -------------------------------------------------------------------------------
cpu="$(awk -F': *' '/^(model name|Hardware|Processor|cpu model)[[:space:]]*:/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)"
version="$("$bin" --version 2>/dev/null || true)"
echo
echo "binary: $bin${version:+ ($version)}  nproc: $(nproc)  cpu: ${cpu:-unknown}  peak RSS: $rss_method  seed: $seed"
awk -F'\t' '
    { for (i = 1; i <= NF; i++) { cell[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) } }
    END {
        for (r = 1; r <= NR; r++) {
            line = sprintf("%-" w[1] "s", cell[r, 1])
            for (i = 2; i <= 7; i++) line = line sprintf("  %" w[i] "s", cell[r, i])
            print line
        }
    }' "$results"
if ((temp_work)) && [[ $keep != 1 ]]; then
    echo "(results.tsv is deleted with the temporary work folder; set SCALE_DIR or KEEP=1 to keep it)"
else
    echo "results: $results"
fi
