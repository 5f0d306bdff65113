#!/usr/bin/env bash
# bench/instructions.sh: user-space instructions per hello request, counted by
# valgrind's callgrind (a count, not a time: the same on a busy or an idle machine),
# for the reference server and its Rust peers. Each server runs once per load under
# callgrind: WARM keep-alive requests from `bench-report requests`, then the
# counters are zeroed, MEASURED requests are served and the counters written out;
# that window divided by MEASURED is the cost of one request, start-up and the
# stop left out. The loads are DEPTHS: requests per write (1: one at a time; 16:
# pipelined, as bench/run.sh's pipe16). Writes bench/INSTRUCTIONS.md.
#
#   bench/instructions.sh
#   INSTR_SERVERS="reference hyper" INSTR_DEPTHS=16 INSTR_MEASURED=10000 bench/instructions.sh
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT_DIR=$(dirname "$BENCH_DIR")
SERVERS=${INSTR_SERVERS:-"reference hyper actix"}
WARM=${INSTR_WARM:-2000}
MEASURED=${INSTR_MEASURED:-10000}
CONNECTIONS=${INSTR_CONNECTIONS:-16}
RUNS=${INSTR_RUNS:-3}
DEPTHS=${INSTR_DEPTHS:-"1 16"}
TARGET="${CARGO_TARGET_DIR:-$BENCH_DIR/target}/release"
LOG_DIR="$BENCH_DIR/logs/instructions"
OUT="$BENCH_DIR/INSTRUCTIONS.md"

log() { printf '[instructions] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

for v in WARM MEASURED CONNECTIONS RUNS; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "INSTR_$v must be a whole number >= 1, not '${!v}'"
done
[ "$WARM" -ge "$CONNECTIONS" ] || die "INSTR_WARM must be at least INSTR_CONNECTIONS"
[ "$MEASURED" -ge "$CONNECTIONS" ] || die "INSTR_MEASURED must be at least INSTR_CONNECTIONS"
for depth in $DEPTHS; do
    [[ $depth =~ ^[1-9][0-9]*$ ]] || die "INSTR_DEPTHS must list whole numbers >= 1, not '$depth'"
done
command -v valgrind >/dev/null || die "valgrind is needed (apt-get install -y valgrind)"
command -v curl >/dev/null || die "curl is needed to see a server is up"

SERVER_PID=""
stop_server() {
    [ -n "$SERVER_PID" ] || return 0
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    # valgrind writes its counts as the program ends: wait for it, bounded.
    for _ in $(seq 300); do
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}
trap stop_server EXIT
trap 'exit 130' INT TERM

log "building the bench workspace (release)"
cargo build --release --quiet --manifest-path "$BENCH_DIR/Cargo.toml" \
    -p peers -p gateway-bench-app -p bench-report
REPORT="$TARGET/bench-report"

binary() { # server -> its binary
    case $1 in
    reference) echo "$TARGET/gateway-bench-app" ;;
    hyper) echo "$TARGET/hyper-hello" ;;
    actix) echo "$TARGET/actix-hello" ;;
    tiny_http) echo "$TARGET/tiny-hello" ;;
    *) die "unknown server '$1' (known: reference hyper actix tiny_http)" ;;
    esac
}

count() { # server depth -> instructions of the measured window of one run
    local port out
    port=$("$REPORT" free-port)
    out="$LOG_DIR/$1.callgrind"
    rm -f "$out" "$out".*
    valgrind --tool=callgrind --callgrind-out-file="$out" \
        "$(binary "$1")" --bind "127.0.0.1:$port" >"$LOG_DIR/$1.log" 2>&1 &
    SERVER_PID=$!
    local up=0
    for _ in $(seq 300); do
        if curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$port/"; then
            up=1
            break
        fi
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.2
    done
    [ "$up" = 1 ] || die "$1 did not start under valgrind (see $LOG_DIR/$1.log)"
    timeout 600 "$REPORT" requests "127.0.0.1:$port" "$WARM" "$CONNECTIONS" "$2" ||
        die "$1: the warm-up load failed"
    # Only the measured requests are counted: the counters start from zero after
    # the warm-up and are written out as the load ends, so neither start-up nor
    # the stop (nor threads that wake on timers meanwhile) weighs on the figure.
    callgrind_control --zero "$SERVER_PID" >/dev/null 2>&1 || die "$1: callgrind_control --zero failed"
    timeout 600 "$REPORT" requests "127.0.0.1:$port" "$MEASURED" "$CONNECTIONS" "$2" ||
        die "$1: the measured load failed"
    callgrind_control --dump "$SERVER_PID" >/dev/null 2>&1 || die "$1: callgrind_control --dump failed"
    stop_server
    local dump
    dump=$(ls "$out".* 2>/dev/null | head -1)
    [ -n "$dump" ] || die "$1: no dump next to $out"
    awk '/^(summary|totals):/ { print $2; found = 1; exit } END { if (!found) exit 1 }' "$dump" ||
        die "$1: no totals in $dump"
}

mkdir -p "$LOG_DIR"
rows=""
declare -A PER
for depth in $DEPTHS; do
    for server in $SERVERS; do
        binary "$server" >/dev/null
        # Threads race for events, so the work per request moves a little from run
        # to run (how many events one wake-up finds): the median of RUNS runs is kept.
        totals=()
        for _ in $(seq "$RUNS"); do
            totals+=("$(count "$server" "$depth")")
        done
        total=$(printf '%s\n' "${totals[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
        per=$((total / MEASURED))
        PER[$server.$depth]=$per
        log "$server, $depth per write: ${totals[*]} instructions for $MEASURED requests (median $total): $per per request"
        rows+="$server $depth $total $per ${totals[*]}"$'\n'
    done
done
# Read before the output file is opened, which would count as a change.
COMMIT="$(git -C "$ROOT_DIR" rev-parse --short HEAD 2>/dev/null || echo unknown)$([ -z "$(git -C "$ROOT_DIR" status --porcelain -- . ":!bench/INSTRUCTIONS.md" 2>/dev/null)" ] || echo ' (plus uncommitted changes)')"

{
    echo "<!-- Written by bench/instructions.sh; do not edit by hand. -->"
    echo
    echo "# Instructions per request"
    echo
    echo "User-space instructions per keep-alive \`GET /\` (13-byte hello), counted by"
    echo "valgrind's callgrind: each server served $WARM requests to warm up, then its"
    echo "counters were zeroed (\`callgrind_control --zero\`), it served $MEASURED requests over"
    echo "$CONNECTIONS connections (\`bench-report requests\`), and the counters were written out"
    echo "(\`--dump\`): all of its threads' instructions in that window, divided by $MEASURED."
    echo "Requests per write: 1 (each sent once the previous answer is in) or more"
    echo "(pipelined: that many in one write, their answers read before the next write)."
    echo "Start-up and the stop are outside the window. Threads race for events, so a"
    echo "run's figure moves by a few percent; the median of $RUNS runs is shown."
    echo "Kernel work (syscalls, the network stack) is not counted; a count does not"
    echo "depend on how busy the machine is, so two commits can be compared on a noisy one."
    echo
    echo "| server | requests per write | instructions, $MEASURED requests (median of $RUNS runs) | per request | ratio to hyper | every run |"
    echo "|---|---:|---:|---:|---:|---|"
    while read -r server depth total per runs; do
        [ -n "$server" ] || continue
        ratio="-"
        hyper_per=${PER[hyper.$depth]:-}
        if [ -n "$hyper_per" ] && [ "$hyper_per" -gt 0 ]; then
            ratio=$(awk -v a="$per" -v b="$hyper_per" 'BEGIN { printf "%.2f", a / b }')
        fi
        printf '| %s | %s | %s | %s | %s | %s |\n' "$server" "$depth" "$total" "$per" "$ratio" "$runs"
    done <<<"$rows"
    echo
    echo "Run: $(date -u +%FT%TZ), commit $COMMIT, $(valgrind --version), $(rustc --version)."
} >"$OUT"
log "wrote bench/INSTRUCTIONS.md"
