#!/usr/bin/env bash
# Runs the conformance suite against Python WSGI servers hosting the Python twin of
# the fixture app (fixtures/wsgi/fixture_app.py), and against the reference server,
# then writes conformance/peers/RESULTS.md from the JSON reports.
#
# Everything listens on 127.0.0.1 only, on ephemeral ports. Every wait is bounded
# and every process this script starts is stopped by its id, also on failure.
#
# Usage: conformance/peers/run.sh [SERVER...]
#   SERVER is any of: reference bridge gunicorn-sync gunicorn-gthread waitress
#   wsgiref granian (bridge: gateway-serve --wsgi, the gateway-wsgi crate)
#   (default: all of them). Needs python3 (with venv), cargo, curl, timeout, and
#   network access to PyPI for the first run only.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VENV="$HERE/.venv"
RESULTS="$HERE/results"
LOGS="$HERE/logs"
WSGI_DIR="$ROOT/fixtures/wsgi"

# The versions RESULTS.md was measured with.
GUNICORN_VERSION="27.0.1"
WAITRESS_VERSION="3.0.2"
GRANIAN_VERSION="2.8.9"

# Bounds.
RUN_TIMEOUT=600        # seconds for one `conformance run`
START_TRIES=100        # readiness probes, 0.2 s apart (20 s)
STOP_GRACE_TENTHS=50   # tenths of a second between TERM and KILL (5 s)

ALL_SERVERS=(reference bridge gunicorn-sync gunicorn-gthread waitress wsgiref granian)
if [ "$#" -gt 0 ]; then SERVERS=("$@"); else SERVERS=("${ALL_SERVERS[@]}"); fi

SERVER_PID=""

log() { printf '[peers %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

# Stops the server started last: TERM to its process group (the server was started
# as a group leader, so the group id is its pid and takes its workers along), then
# KILL after a grace period.
stop_server() {
    local pid="$SERVER_PID"
    [ -n "$pid" ] || return 0
    SERVER_PID=""
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
        local i=0
        while kill -0 "$pid" 2>/dev/null && [ "$i" -lt "$STOP_GRACE_TENTHS" ]; do
            sleep 0.1
            i=$((i + 1))
        done
        if kill -0 "$pid" 2>/dev/null; then
            log "server $pid ignored TERM; sending KILL"
            kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    # Also KILL any worker left in the group (a gunicorn worker outliving its master).
    kill -KILL -- "-$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
trap stop_server EXIT
trap 'exit 130' INT TERM

free_port() {
    "$VENV/bin/python" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# Waits until the server at $1 answers an HTTP request, or fails (bounded).
wait_ready() {
    local url="$1" i=0
    while [ "$i" -lt "$START_TRIES" ]; do
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            log "the server exited before answering"
            return 1
        fi
        if curl -s -o /dev/null -m 2 "$url/peers/ready"; then
            return 0
        fi
        sleep 0.2
        i=$((i + 1))
    done
    log "the server did not answer within $((START_TRIES / 5)) s"
    return 1
}

# Starts server $1 on port $2 in its own session; sets SERVER_PID.
start_server() {
    local name="$1" port="$2" logfile="$LOGS/$1.log"
    local -a cmd
    case "$name" in
        reference)
            cmd=("$CONFORMANCE" serve --bind "127.0.0.1:$port")
            ;;
        gunicorn-sync)
            # One worker: the fixture's counters (seen, closed, pulled) live in one
            # process.
            cmd=("$VENV/bin/gunicorn" --chdir "$WSGI_DIR" --bind "127.0.0.1:$port"
                 --workers 1 --worker-class sync --graceful-timeout 2
                 --log-level warning fixture_app:application)
            ;;
        gunicorn-gthread)
            cmd=("$VENV/bin/gunicorn" --chdir "$WSGI_DIR" --bind "127.0.0.1:$port"
                 --workers 1 --worker-class gthread --threads 4 --graceful-timeout 2
                 --log-level warning fixture_app:application)
            ;;
        waitress)
            cmd=(env "PYTHONPATH=$WSGI_DIR" "$VENV/bin/waitress-serve"
                 --listen "127.0.0.1:$port" --threads 4 fixture_app:application)
            ;;
        wsgiref)
            cmd=("$VENV/bin/python" "$WSGI_DIR/fixture_app.py" "$port" 127.0.0.1)
            ;;
        bridge)
            # One process: the fixture's counters live in the process that served.
            cmd=("$GATEWAY_SERVE" --bind "127.0.0.1:$port" --log-level warn --forwarded-allow-ips ""
                 --processes 1 --wsgi "$WSGI_DIR/fixture_app.py:application")
            ;;
        granian)
            cmd=("$VENV/bin/granian" --interface wsgi --host 127.0.0.1 --port "$port"
                 --workers 1 --blocking-threads 4 --working-dir "$WSGI_DIR"
                 --log-level warning fixture_app:application)
            ;;
        *)
            log "unknown server $name (known: ${ALL_SERVERS[*]})"
            return 1
            ;;
    esac
    setsid "${cmd[@]}" >"$logfile" 2>&1 </dev/null &
    SERVER_PID=$!
    log "$name: pid $SERVER_PID on 127.0.0.1:$port (log: ${logfile#"$ROOT"/})"
}

# --- setup -----------------------------------------------------------------------

mkdir -p "$RESULTS" "$LOGS"
if [ ! -x "$VENV/bin/python" ]; then
    log "creating $VENV"
    python3 -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c "import gunicorn, waitress, sys
from importlib.metadata import version
import granian
sys.exit(version('gunicorn') != '$GUNICORN_VERSION' or version('waitress') != '$WAITRESS_VERSION' or version('granian') != '$GRANIAN_VERSION')" 2>/dev/null; then
    log "installing gunicorn $GUNICORN_VERSION, waitress $WAITRESS_VERSION and granian $GRANIAN_VERSION"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
        "gunicorn==$GUNICORN_VERSION" "waitress==$WAITRESS_VERSION" "granian==$GRANIAN_VERSION"
fi

log "building the conformance kit and gateway-serve (release)"
(cd "$ROOT" && cargo build --release -p conformance -p gateway-serve)
TARGET_DIR="$(cd "$ROOT" && cargo metadata --format-version 1 --no-deps \
    | "$VENV/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
CONFORMANCE="$TARGET_DIR/release/conformance"
[ -x "$CONFORMANCE" ] || { log "no binary at $CONFORMANCE"; exit 1; }
GATEWAY_SERVE="$TARGET_DIR/release/gateway-serve"

# --- runs ------------------------------------------------------------------------

started=$(date +%s)
for name in "${SERVERS[@]}"; do
    port="$(free_port)"
    url="http://127.0.0.1:$port"
    json="$RESULTS/$name.json"
    rm -f "$json" "$RESULTS/$name.txt"
    start_server "$name" "$port"
    if ! wait_ready "$url"; then
        stop_server
        log "$name: skipped (did not start; see ${LOGS#"$ROOT"/}/$name.log)"
        continue
    fi
    log "$name: running the suite against $url"
    t0=$(date +%s)
    rc=0
    timeout --kill-after=10 "$RUN_TIMEOUT" \
        "$CONFORMANCE" run --target "$url" --json "$json" \
        >"$RESULTS/$name.txt" 2>"$LOGS/$name.checks.log" || rc=$?
    t1=$(date +%s)
    stop_server
    case "$rc" in
        0) verdict="conforms" ;;
        1) verdict="does not conform" ;;
        124|137) verdict="timed out after ${RUN_TIMEOUT}s" ;;
        *) verdict="exit $rc" ;;
    esac
    log "$name: $verdict ($((t1 - t0)) s); $(tail -n 1 "$RESULTS/$name.txt" 2>/dev/null || true)"
    printf '{"server": "%s", "exit": %d, "seconds": %d}\n' "$name" "$rc" "$((t1 - t0))" \
        >"$RESULTS/$name.run.json"
done
log "all runs took $(($(date +%s) - started)) s"

"$VENV/bin/python" "$HERE/summarise.py" --results "$RESULTS" --out "$HERE/RESULTS.md" \
    --versions "gunicorn=$GUNICORN_VERSION" "waitress=$WAITRESS_VERSION" "granian=$GRANIAN_VERSION" \
    "python=$("$VENV/bin/python" -c 'import platform; print(platform.python_version())')"
log "wrote ${HERE#"$ROOT"/}/RESULTS.md"
