#!/usr/bin/env bash
# WSGI benchmarks: the endpoints wsgi-hello (a bare callable) and flask-hello, on
# gateway-serve --wsgi, gunicorn (gthread), waitress and granian, one server at a
# time on 127.0.0.1, wrk with keep-alive at 1, 16 and 256 connections. Writes
# bench/WSGI-RESULTS.md. Outside `cargo test`; every wait is bounded, every server
# is stopped by its pid.
#
# Usage: bench/wsgi.sh   (BENCH_DURATION=5 BENCH_WARMUP=2 BENCH_CONNS="1 16 256")
# BENCH_GATEWAY=path/to/gateway-serve skips the build and runs that binary (to
# compare two builds); BENCH_OUT=file writes the table elsewhere. The build honours
# CARGO_TARGET_DIR.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
VENV="$HERE/.venv-wsgi"
DURATION=${BENCH_DURATION:-5}
WARMUP=${BENCH_WARMUP:-2}
CONNS=${BENCH_CONNS:-"1 16 256"}
PY_THREADS=${BENCH_PY_THREADS:-1}   # Python threads per process, gateway and granian alike
SERVERS=${BENCH_SERVERS:-"gateway gunicorn waitress granian"}
OUT=${BENCH_OUT:-"$HERE/WSGI-RESULTS.md"}
LOGS="$HERE/logs"
mkdir -p "$LOGS"
PID=""

log() { printf '[wsgi-bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
stop() {
    [ -n "$PID" ] || return 0
    kill -TERM "$PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
    PID=""
}
trap stop EXIT

if [ ! -x "$VENV/bin/granian" ]; then
    log "creating $VENV (gunicorn, waitress, granian; Flask from the system)"
    python3 -m venv --system-site-packages "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check gunicorn waitress "granian==2.8.9"
fi
GATEWAY=${BENCH_GATEWAY:-}
if [ -z "$GATEWAY" ]; then
    (cd "$ROOT" && cargo build --release -p gateway-serve >/dev/null 2>&1)
    GATEWAY="${CARGO_TARGET_DIR:-$ROOT/target}/release/gateway-serve"
fi

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start() { # server attr port
    local server=$1 attr=$2 port=$3
    case $server in
        gateway) cmd=("$GATEWAY" --bind "127.0.0.1:$port" --log-level warn --processes 2
                      --threads "$PY_THREADS" --pythonpath "$HERE/python" --wsgi "wsgi_apps:$attr") ;;
        gunicorn) cmd=("$VENV/bin/gunicorn" -k gthread -w 2 --threads 4 --chdir "$HERE/python"
                       -b "127.0.0.1:$port" --log-level warning "wsgi_apps:$attr") ;;
        waitress) cmd=(env "PYTHONPATH=$HERE/python" "$VENV/bin/waitress-serve" --threads 4
                       --listen "127.0.0.1:$port" "wsgi_apps:$attr") ;;
        granian) cmd=("$VENV/bin/granian" --interface wsgi --workers 2 --blocking-threads "$PY_THREADS"
                      --working-dir "$HERE/python" --host 127.0.0.1 --port "$port"
                      --log-level warning "wsgi_apps:$attr") ;;
    esac
    setsid "${cmd[@]}" >"$LOGS/wsgi-$server.log" 2>&1 </dev/null &
    PID=$!
    for _ in $(seq 100); do
        if [ "$(curl -s -m 2 "http://127.0.0.1:$port/" || true)" = "Hello, World!" ]; then return 0; fi
        sleep 0.2
    done
    log "$server did not answer Hello, World! within 20 s"; return 1
}

declare -A RPS
for endpoint in wsgi-hello flask-hello; do
    attr=hello; [ "$endpoint" = flask-hello ] && attr=flask_app
    for c in $CONNS; do
        for server in $SERVERS; do
            p=$(port)
            if ! start "$server" "$attr" "$p"; then stop; RPS[$endpoint,$c,$server]="n/a"; continue; fi
            threads=2; [ "$c" -lt 2 ] && threads=1
            wrk -t"$threads" -c"$c" -d"${WARMUP}s" "http://127.0.0.1:$p/" >/dev/null 2>&1 || true
            rps=$(wrk -t"$threads" -c"$c" -d"${DURATION}s" "http://127.0.0.1:$p/" 2>/dev/null \
                | awk '/Requests\/sec/ {printf "%d", $2}')
            RPS[$endpoint,$c,$server]="${rps:-0}"
            log "$endpoint c$c $server: ${rps:-0} req/s"
            stop
        done
    done
done

{
    echo "# WSGI benchmarks (bench/wsgi.sh)"
    echo
    echo "Requests per second, wrk keep-alive, ${DURATION} s after ${WARMUP} s of warm-up, 13-byte"
    echo "hello at \`/\`, on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs))."
    echo "gateway: \`gateway-serve --processes 2 --threads $PY_THREADS --wsgi\`; gunicorn: \`-k gthread -w 2 --threads 4\`;"
    echo "waitress: \`--threads 4\` (one process); granian 2.8.9: \`--workers 2 --blocking-threads $PY_THREADS\`."
    echo "Commit $(cd "$ROOT" && git rev-parse --short HEAD), $(date -u +%Y-%m-%dT%H:%MZ)."
    echo
    echo "| endpoint | connections | $(echo $SERVERS | sed 's/ / | /g') | gateway / granian | gateway / gunicorn |"
    echo "|---|---:|$(for _ in $SERVERS; do printf -- '---:|'; done)---:|---:|"
    for endpoint in wsgi-hello flask-hello; do
        for c in $CONNS; do
            row="| $endpoint | $c |"
            for server in $SERVERS; do row="$row ${RPS[$endpoint,$c,$server]} |"; done
            g=${RPS[$endpoint,$c,gateway]:-0}; gr=${RPS[$endpoint,$c,granian]:-0}; gu=${RPS[$endpoint,$c,gunicorn]:-0}
            ratio() { python3 -c "import sys; a,b=float(sys.argv[1] or 0),float(sys.argv[2] or 0); print('%.2f×' % (a/b) if b else 'n/a')" "$1" "$2" 2>/dev/null || echo n/a; }
            row="$row $(ratio "$g" "$gr") | $(ratio "$g" "$gu") |"
            echo "$row"
        done
    done
} >"$OUT"
log "wrote ${OUT#"$ROOT"/}"
