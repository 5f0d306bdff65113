#!/usr/bin/env bash
# bench/instructions.sh: user-space instructions per hello request, counted by
# valgrind's callgrind (a count, not a time: the same on a busy or an idle machine),
# for the reference server and its Rust peers. Each server runs twice under
# callgrind, serving SMALL and then LARGE keep-alive requests from
# `bench-report requests`; the difference divided by LARGE - SMALL is the cost of
# one request, with start-up and shutdown cancelled out. Writes bench/INSTRUCTIONS.md.
#
#   bench/instructions.sh
#   INSTR_SERVERS="reference hyper" INSTR_SMALL=2000 INSTR_LARGE=12000 bench/instructions.sh
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT_DIR=$(dirname "$BENCH_DIR")
SERVERS=${INSTR_SERVERS:-"reference hyper actix"}
SMALL=${INSTR_SMALL:-2000}
LARGE=${INSTR_LARGE:-12000}
CONNECTIONS=${INSTR_CONNECTIONS:-16}
TARGET="${CARGO_TARGET_DIR:-$BENCH_DIR/target}/release"
LOG_DIR="$BENCH_DIR/logs/instructions"
OUT="$BENCH_DIR/INSTRUCTIONS.md"

log() { printf '[instructions] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

for v in SMALL LARGE CONNECTIONS; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "INSTR_$v must be a whole number >= 1, not '${!v}'"
done
[ "$LARGE" -gt "$SMALL" ] || die "INSTR_LARGE ($LARGE) must be above INSTR_SMALL ($SMALL)"
[ "$SMALL" -ge "$CONNECTIONS" ] || die "INSTR_SMALL must be at least INSTR_CONNECTIONS"
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

count() { # server requests -> total instructions of one run
    local port out
    port=$("$REPORT" free-port)
    out="$LOG_DIR/$1-$2.callgrind"
    rm -f "$out"
    valgrind --tool=callgrind --callgrind-out-file="$out" \
        "$(binary "$1")" --bind "127.0.0.1:$port" >"$LOG_DIR/$1-$2.log" 2>&1 &
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
    [ "$up" = 1 ] || die "$1 did not start under valgrind (see $LOG_DIR/$1-$2.log)"
    timeout 600 "$REPORT" requests "127.0.0.1:$port" "$2" "$CONNECTIONS" ||
        die "$1: the fixed load failed"
    stop_server
    awk '/^totals:/ { print $2; found = 1 } END { if (!found) exit 1 }' "$out" ||
        die "$1: no totals in $out"
}

mkdir -p "$LOG_DIR"
rows=""
declare -A PER
for server in $SERVERS; do
    binary "$server" >/dev/null
    small=$(count "$server" "$SMALL")
    large=$(count "$server" "$LARGE")
    per=$(((large - small) / (LARGE - SMALL)))
    PER[$server]=$per
    log "$server: $small instructions for $SMALL requests, $large for $LARGE: $per per request"
    rows+="$server $small $large $per"$'\n'
done
hyper_per=${PER[hyper]:-}

{
    echo "<!-- Written by bench/instructions.sh; do not edit by hand. -->"
    echo
    echo "# Instructions per request"
    echo
    echo "User-space instructions per keep-alive \`GET /\` (13-byte hello), counted by"
    echo "valgrind's callgrind: each server served $SMALL and then $LARGE requests over"
    echo "$CONNECTIONS connections (\`bench-report requests\`) in two runs, and the difference"
    echo "divided by $((LARGE - SMALL)) is one request, start-up and shutdown cancelled out."
    echo "Kernel work (syscalls, the network stack) is not counted; a count does not"
    echo "depend on how busy the machine is, so two commits can be compared on a noisy one."
    echo
    echo "| server | instructions, $SMALL requests | instructions, $LARGE requests | per request | ratio to hyper |"
    echo "|---|---:|---:|---:|---:|"
    while read -r server small large per; do
        [ -n "$server" ] || continue
        ratio="-"
        if [ -n "$hyper_per" ] && [ "$hyper_per" -gt 0 ]; then
            ratio=$(awk -v a="$per" -v b="$hyper_per" 'BEGIN { printf "%.2f", a / b }')
        fi
        printf '| %s | %s | %s | %s | %s |\n' "$server" "$small" "$large" "$per" "$ratio"
    done <<<"$rows"
    echo
    echo "Run: $(date -u +%FT%TZ), commit $(git -C "$ROOT_DIR" rev-parse --short HEAD 2>/dev/null || echo unknown)$([ -z "$(git -C "$ROOT_DIR" status --porcelain 2>/dev/null)" ] || echo ' (plus uncommitted changes)'), $(valgrind --version), $(rustc --version)."
} >"$OUT"
log "wrote bench/INSTRUCTIONS.md"
