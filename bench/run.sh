#!/usr/bin/env bash
# bench/run.sh: the one benchmark command. Builds the bench workspace in release
# mode, then measures the reference server and its peers (hyper, actix-web, tiny_http, and
# gunicorn and waitress when Python is available; nginx for the file endpoints)
# one at a time on 127.0.0.1 with wrk, alternating the servers and repeating the
# sweep, and writes bench/results.json and bench/RESULTS.md. See bench/README.md
# for every setting.
#
#   bench/run.sh                  # full sweep: 6 endpoints x 5 loads x 3 repeats
#   BENCH_QUICK=1 bench/run.sh    # smoke run: 1 s per point, 1 repeat
#   BENCH_ENDPOINTS="file4k file100m" BENCH_SERVERS="reference nginx" bench/run.sh
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT_DIR=$(dirname "$BENCH_DIR")
QUICK=${BENCH_QUICK:-0}
if [ "$QUICK" = 1 ]; then
    DURATION=${BENCH_DURATION:-1}
    WARMUP=${BENCH_WARMUP:-1}
    REPEATS=${BENCH_REPEATS:-1}
else
    DURATION=${BENCH_DURATION:-5}
    WARMUP=${BENCH_WARMUP:-2}
    REPEATS=${BENCH_REPEATS:-3}
fi
ENDPOINTS=${BENCH_ENDPOINTS:-"hello echo4k echo1m stream file4k file100m"}
LOADS=${BENCH_LOADS:-"ka1 ka16 ka256 close16 pipe16"}
SERVERS=${BENCH_SERVERS:-"reference hyper actix tiny_http gunicorn waitress nginx"}
PYTHON=${BENCH_PYTHON:-python3}
WRK_TIMEOUT=${BENCH_WRK_TIMEOUT:-10s}

# CARGO_TARGET_DIR moves the build, as it does for cargo.
TARGET="${CARGO_TARGET_DIR:-$BENCH_DIR/target}/release"
VENV="$BENCH_DIR/.venv"
LOG_DIR="$BENCH_DIR/logs"
SAMPLES="$BENCH_DIR/samples.tsv"
META="$LOG_DIR/meta.tsv"
LUA="$BENCH_DIR/wrk/bench.lua"
REPORT="$TARGET/bench-report"

log() { printf '[bench] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

for v in DURATION WARMUP REPEATS; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "BENCH_$v must be a whole number >= 1, not '${!v}'"
done

# ---- every server we start is stopped by pid, whatever happens ----
SERVER_PID=""
stop_server() {
    local pid=$1 children
    [ -n "$pid" ] || return 0
    children=$(pgrep -P "$pid" 2>/dev/null || true)
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null || true
    fi
    for child in $children; do
        kill -KILL "$child" 2>/dev/null || true
    done
    wait "$pid" 2>/dev/null || true
}
cleanup() {
    stop_server "$SERVER_PID"
    SERVER_PID=""
    # Only what this run made: the files it wrote, nginx's prefix.
    if [ -n "${MADE_FILES_DIR:-}" ]; then rm -rf "$MADE_FILES_DIR"; fi
    if [ -n "${NGINX_PREFIX:-}" ]; then rm -rf "$NGINX_PREFIX"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- tools: wrk, curl, the release binaries, the Python peers ----
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
if ! command -v wrk >/dev/null; then
    log "wrk is missing: installing it with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get install -y wrk >/dev/null 2>&1 ||
        { as_root apt-get update >/dev/null && as_root apt-get install -y wrk >/dev/null; } ||
        die "cannot install wrk (apt-get install -y wrk)"
fi
command -v curl >/dev/null || die "curl is needed for the pre-flight checks"
wanted() { # server -> whether BENCH_SERVERS names it
    printf '%s\n' $SERVERS | grep -qx "$1"
}
NGINX=${BENCH_NGINX:-nginx}
if wanted nginx && ! command -v "$NGINX" >/dev/null; then
    # Debian's policy-rc.d (or the lack of an init system) keeps the package's own
    # service from starting; the bench runs an instance of its own.
    log "nginx is missing: installing it with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get install -y nginx >/dev/null 2>&1 ||
        { as_root apt-get update >/dev/null && as_root apt-get install -y nginx >/dev/null; } ||
        die "cannot install nginx (apt-get install -y nginx)"
    NGINX=$(command -v nginx || echo /usr/sbin/nginx)
fi

log "building the bench workspace (release)"
cargo build --release --quiet --manifest-path "$BENCH_DIR/Cargo.toml" \
    -p peers -p gateway-bench-app -p bench-report

PY_NOTE="not requested"
wanted_python=0
for s in $SERVERS; do
    case $s in gunicorn | waitress) wanted_python=1 ;; esac
done
if [ "$wanted_python" = 1 ]; then
    if ! command -v "$PYTHON" >/dev/null; then
        PY_NOTE="skipped: $PYTHON not found"
    elif [ -x "$VENV/bin/gunicorn" ] && [ -x "$VENV/bin/waitress-serve" ] ||
        { log "installing gunicorn and waitress into bench/.venv" &&
            "$PYTHON" -m venv "$VENV" &&
            "$VENV/bin/pip" install --quiet --disable-pip-version-check gunicorn waitress; }; then
        PY_NOTE="$("$VENV/bin/python" --version 2>&1), $("$VENV/bin/pip" list --disable-pip-version-check 2>/dev/null |
            awk '$1=="gunicorn"||$1=="waitress"{printf "%s %s ", $1, $2}')"
    else
        PY_NOTE="skipped: could not install gunicorn and waitress"
    fi
    if [[ $PY_NOTE == skipped* ]]; then
        log "Python peers $PY_NOTE"
        SERVERS=$(printf '%s\n' $SERVERS | { grep -vx -e gunicorn -e waitress || true; } | xargs)
    fi
fi

# ---- the files of the file endpoints, the same for every server ----
FILES_DIR=${BENCH_FILES_DIR:-}
MADE_FILES_DIR=""
if [ -z "$FILES_DIR" ]; then
    FILES_DIR=$(mktemp -d "${TMPDIR:-/tmp}/gateway-bench-files.XXXXXX")
    MADE_FILES_DIR=$FILES_DIR
    # Random bytes, so that no server can serve them from a pattern; a 4 KiB file
    # and a 100 MiB one (larger than every socket buffer: the response waits).
    head -c 4096 /dev/urandom >"$FILES_DIR/4k"
    head -c $((100 * 1024 * 1024)) /dev/urandom >"$FILES_DIR/100m"
    # nginx's workers drop root for nobody: they must be able to read them.
    chmod 755 "$FILES_DIR" && chmod 644 "$FILES_DIR/4k" "$FILES_DIR/100m"
fi
export BENCH_FILES_DIR=$FILES_DIR

# nginx as a static file server: its own prefix, no access log, sendfile on, a
# loopback port chosen per start like every server's; it answers GET / too, so
# that the start-up check works as for the others.
NGINX_PREFIX=""
if wanted nginx; then
    NGINX_PREFIX=$(mktemp -d "${TMPDIR:-/tmp}/gateway-bench-nginx.XXXXXX")
    chmod 755 "$NGINX_PREFIX"
fi
nginx_conf() { # port -> $NGINX_PREFIX/nginx.conf
    cat >"$NGINX_PREFIX/nginx.conf" <<NGINXCONF
daemon off;
master_process on;
worker_processes auto;
pid $NGINX_PREFIX/nginx.pid;
error_log $NGINX_PREFIX/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    keepalive_requests 1000000;
    keepalive_timeout 75s;
    client_body_temp_path $NGINX_PREFIX/client_body;
    proxy_temp_path $NGINX_PREFIX/proxy;
    fastcgi_temp_path $NGINX_PREFIX/fastcgi;
    uwsgi_temp_path $NGINX_PREFIX/uwsgi;
    scgi_temp_path $NGINX_PREFIX/scgi;
    types { }
    default_type application/octet-stream;
    server {
        listen 127.0.0.1:$1;
        location = / { default_type text/plain; return 200 "Hello, World!"; }
        location /file/ { alias $FILES_DIR/; }
    }
}
NGINXCONF
}

# ---- servers, endpoints and loads ----
server_cmd() { # name port -> the command line, one word per line
    local addr="127.0.0.1:$2"
    case $1 in
    reference) printf '%s\n' "$TARGET/gateway-bench-app" --bind "$addr" ;;
    # The same app built from an earlier commit, for a before/after in one sweep.
    reference-before) [ -n "${BENCH_BEFORE_BIN:-}" ] ||
        die "reference-before needs BENCH_BEFORE_BIN, a gateway-bench-app built from the earlier commit"
        printf '%s\n' "$BENCH_BEFORE_BIN" --bind "$addr" ;;
    hyper) printf '%s\n' "$TARGET/hyper-hello" --bind "$addr" ;;
    actix) printf '%s\n' "$TARGET/actix-hello" --bind "$addr" ;;
    tiny_http) printf '%s\n' "$TARGET/tiny-hello" --bind "$addr" ;;
    gunicorn) printf '%s\n' "$VENV/bin/gunicorn" -k gthread -w 2 --threads 4 \
        --bind "$addr" --chdir "$BENCH_DIR/python" --graceful-timeout 2 \
        --log-level warning bench_app:application ;;
    waitress) printf '%s\n' "$VENV/bin/waitress-serve" --listen="$addr" --threads=4 \
        --connection-limit=1000 bench_app:application ;;
    nginx) printf '%s\n' "$NGINX" -p "$NGINX_PREFIX/" -c "$NGINX_PREFIX/nginx.conf" \
        -e "$NGINX_PREFIX/error.log" ;;
    *) die "unknown server '$1' (known: reference reference-before hyper actix tiny_http gunicorn waitress nginx)" ;;
    esac
}
server_argv() { # name port -> ARGV
    mapfile -t ARGV < <(server_cmd "$1" "$2")
}
describe_server() {
    server_argv "$1" PORT
    local text="${ARGV[*]}"
    text=${text//$BENCH_DIR/bench}
    if [ -n "$NGINX_PREFIX" ]; then text=${text//$NGINX_PREFIX/NGINX_PREFIX}; fi
    # waitress-serve imports bench_app from PYTHONPATH.
    if [ "$1" = waitress ]; then text="PYTHONPATH=bench/python $text"; fi
    printf '%s' "$text"
}

endpoint_params() { # name -> METHOD PATH BODY_BYTES
    case $1 in
    hello) echo "GET / 0" ;;
    echo4k) echo "POST /echo 4096" ;;
    echo1m) echo "POST /echo 1048576" ;;
    stream) echo "GET /stream 0" ;;
    file4k) echo "GET /file/4k 0" ;;
    file100m) echo "GET /file/100m 0" ;;
    *) die "unknown endpoint '$1' (known: hello echo4k echo1m stream file4k file100m)" ;;
    esac
}
serves() { # server endpoint -> whether the server has that route
    case $1/$2 in
    nginx/echo4k | nginx/echo1m | nginx/stream) return 1 ;; # a static file server
    # The Rust and Python peers have no file route; nginx is the file peer.
    hyper/file* | actix/file* | tiny_http/file* | gunicorn/file* | waitress/file*) return 1 ;;
    *) return 0 ;;
    esac
}
load_params() { # name -> CONNECTIONS THREADS CLOSE PIPELINE
    case $1 in
    ka1) echo "1 1 0 1" ;;
    ka16) echo "16 2 0 1" ;;
    ka256) echo "256 2 0 1" ;;
    close16) echo "16 2 1 1" ;;
    # TechEmpower's plaintext style: 16 requests in each write, keep-alive.
    pipe16) echo "16 2 0 16" ;;
    *) die "unknown load '$1' (known: ka1 ka16 ka256 close16 pipe16)" ;;
    esac
}
carries() { # endpoint load -> whether the point is measured (pipelining: GET only)
    case $2 in
    pipe16) [ "$1" = hello ] ;;
    *) return 0 ;;
    esac
}
for e in $ENDPOINTS; do endpoint_params "$e" >/dev/null; done
for l in $LOADS; do load_params "$l" >/dev/null; done
for s in $SERVERS; do server_cmd "$s" 0 >/dev/null; done

start_server() { # name -> sets SERVER_PID and PORT, waits until GET / answers
    PORT=$("$REPORT" free-port)
    server_argv "$1" "$PORT"
    if [ "$1" = nginx ]; then nginx_conf "$PORT"; fi
    local out="$LOG_DIR/$1.log"
    echo "== $(date -u +%FT%TZ) ${ARGV[*]}" >>"$out"
    if [ "$1" = waitress ]; then
        PYTHONPATH="$BENCH_DIR/python" "${ARGV[@]}" >>"$out" 2>&1 &
    else
        "${ARGV[@]}" >>"$out" 2>&1 &
    fi
    SERVER_PID=$!
    for _ in $(seq 150); do
        if [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$PORT/")" = 200 ]; then
            return 0
        fi
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    log "$1 did not start (see bench/logs/$1.log)"
    stop_server "$SERVER_PID"
    SERVER_PID=""
    return 1
}

preflight() { # name: every route of the sweep answers what it should, on a fresh server
    local base="http://127.0.0.1:$PORT" body got headers endpoint name
    got=$(curl -s --max-time 5 "$base/")
    [ "$got" = "Hello, World!" ] || { log "$1: GET / answered '$got'"; return 1; }
    for endpoint in $ENDPOINTS; do
        serves "$1" "$endpoint" || continue
        case $endpoint in
        echo4k | echo1m)
            body="$LOG_DIR/body-4k.bin"
            head -c 4096 /dev/zero | tr '\0' x >"$body"
            got=$(curl -s --max-time 5 -H 'Expect:' --data-binary "@$body" -o "$LOG_DIR/echo.out" -w '%{http_code} %{size_download}' "$base/echo")
            [ "$got" = "200 4096" ] && cmp -s "$body" "$LOG_DIR/echo.out" ||
                { log "$1: POST /echo (4 KiB) answered '$got'"; return 1; }
            ;;
        stream)
            headers=$(curl -s --max-time 10 -D - -o "$LOG_DIR/stream.out" "$base/stream" | tr -d '\r' | tr 'A-Z' 'a-z')
            got=$(stat -c %s "$LOG_DIR/stream.out")
            [ "$got" = 1048576 ] && grep -q '^transfer-encoding: chunked' <<<"$headers" ||
                { log "$1: GET /stream sent $got bytes with head: $headers"; return 1; }
            ;;
        file4k | file100m)
            name=${endpoint#file}
            got=$(curl -s --max-time 30 -o "$LOG_DIR/file.out" -w '%{http_code}' "$base/file/$name")
            [ "$got" = 200 ] && cmp -s "$FILES_DIR/$name" "$LOG_DIR/file.out" ||
                { log "$1: GET /file/$name answered $got, not the file's bytes"; return 1; }
            rm -f "$LOG_DIR/file.out"
            ;;
        esac
    done
}

# ---- the sweep ----
mkdir -p "$LOG_DIR"
rm -f "$LOG_DIR"/*.log
printf 'repeat\tserver\tendpoint\tload\trps\tp50_us\tp99_us\trequests\tsocket_errors\tstatus_errors\tpeak_rss_kib\n' >"$SAMPLES"

read -ra SERVER_LIST <<<"$SERVERS"
read -ra ENDPOINT_LIST <<<"$ENDPOINTS"
read -ra LOAD_LIST <<<"$LOADS"
[ ${#SERVER_LIST[@]} -gt 0 ] || die "no server to measure"

log "pre-flight checks of every route"
OK_SERVERS=()
for s in "${SERVER_LIST[@]}"; do
    if start_server "$s" && preflight "$s"; then
        OK_SERVERS+=("$s")
    else
        log "$s fails the pre-flight checks: left out of the sweep"
    fi
    stop_server "$SERVER_PID"
    SERVER_PID=""
done
SERVER_LIST=("${OK_SERVERS[@]}")
[ ${#SERVER_LIST[@]} -gt 0 ] || die "no server passed the pre-flight checks"
n_servers=${#SERVER_LIST[@]}
points=$((${#ENDPOINT_LIST[@]} * ${#LOAD_LIST[@]}))
estimate=$((REPEATS * points * n_servers * (DURATION + WARMUP + 1)))
log "sweep: ${n_servers} servers x ${points} points x ${REPEATS} repeats, ~$((estimate / 60 + 1)) min"

STARTED=$(date -u +%FT%TZ)
point_index=0
for repeat in $(seq "$REPEATS"); do
    for endpoint in "${ENDPOINT_LIST[@]}"; do
        read -r method path body_bytes <<<"$(endpoint_params "$endpoint")"
        for load in "${LOAD_LIST[@]}"; do
            carries "$endpoint" "$load" || continue
            read -r conns threads close pipeline <<<"$(load_params "$load")"
            # Alternate: each point starts with a different server.
            shift_by=$(((repeat + point_index) % n_servers))
            point_index=$((point_index + 1))
            order=("${SERVER_LIST[@]:shift_by}" "${SERVER_LIST[@]:0:shift_by}")
            for server in "${order[@]}"; do
                serves "$server" "$endpoint" || continue
                if ! start_server "$server"; then
                    continue
                fi
                wrk_args=(-t "$threads" -c "$conns" --timeout "$WRK_TIMEOUT" -s "$LUA" "http://127.0.0.1:$PORT$path")
                export BENCH_METHOD=$method BENCH_BODY_BYTES=$body_bytes BENCH_CLOSE=$close BENCH_PIPELINE=$pipeline
                timeout $((WARMUP + 30)) wrk -d "${WARMUP}s" "${wrk_args[@]}" >/dev/null 2>&1 || true
                result=$(timeout $((DURATION + 30)) wrk -d "${DURATION}s" "${wrk_args[@]}" 2>&1 | grep '^WRK_RESULT' || true)
                rss=$("$REPORT" rss "$SERVER_PID")
                stop_server "$SERVER_PID"
                SERVER_PID=""
                if [ -z "$result" ]; then
                    log "$server $endpoint $load: wrk gave no result"
                    continue
                fi
                IFS=$'\t' read -r _ requests duration_us p50 p99 sock_err status_err <<<"$result"
                rps=$(awk -v r="$requests" -v d="$duration_us" 'BEGIN { printf "%.1f", (d > 0 ? r * 1e6 / d : 0) }')
                printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$repeat" "$server" "$endpoint" "$load" \
                    "$rps" "$p50" "$p99" "$requests" "$sock_err" "$status_err" "$rss" >>"$SAMPLES"
                log "r$repeat $endpoint $load $server: $rps req/s, p50 ${p50}us, p99 ${p99}us, rss ${rss} KiB, errors $sock_err/$status_err"
            done
        done
    done
done
FINISHED=$(date -u +%FT%TZ)

# ---- the report ----
{
    printf 'started\t%s\n' "$STARTED"
    printf 'finished\t%s\n' "$FINISHED"
    printf 'command\tBENCH_QUICK=%s BENCH_DURATION=%s BENCH_WARMUP=%s BENCH_REPEATS=%s BENCH_ENDPOINTS="%s" BENCH_LOADS="%s" BENCH_SERVERS="%s" bench/run.sh\n' \
        "$QUICK" "$DURATION" "$WARMUP" "$REPEATS" "$ENDPOINTS" "$LOADS" "$SERVERS"
    printf 'quick\t%s\n' "$QUICK"
    printf 'duration_s\t%s\n' "$DURATION"
    printf 'warmup_s\t%s\n' "$WARMUP"
    printf 'repeats\t%s\n' "$REPEATS"
    printf 'servers\t%s\n' "${SERVER_LIST[*]}"
    printf 'endpoints\t%s\n' "$ENDPOINTS"
    printf 'loads\t%s\n' "$LOADS"
    printf 'endpoint_meaning\thello = GET / (13 bytes); echo4k, echo1m = POST /echo with a 4 KiB or 1 MiB body, echoed; stream = GET /stream, 1 MiB in 64 KiB chunks of unknown length (chunked); file4k, file100m = GET /file/4k, /file/100m, a file of random bytes sent whole (Body::file on the reference server, sendfile on nginx)\n'
    printf 'load_meaning\tka1, ka16, ka256 = keep-alive with 1, 16, 256 connections (wrk -t1, -t2, -t2); close16 = Connection: close with 16 connections (-t2); pipe16 = 16 keep-alive connections (-t2) each sending 16 requests per write (hello only), every peer as its docs advise for it (hyper: pipeline_flush; actix: its defaults)\n'
    printf 'method\teach point: a fresh server process, a %s s wrk warm-up, then a %s s measured wrk run; peak RSS read before stopping it; servers alternated (each point starts with a different one), the whole sweep repeated %s times\n' \
        "$WARMUP" "$DURATION" "$REPEATS"
    printf 'load_generator\t%s, on the same machine: wrk -t T -c C -d D --timeout %s -s bench/wrk/bench.lua\n' "$(wrk -v 2>&1 | head -1)" "$WRK_TIMEOUT"
    for s in "${SERVER_LIST[@]}"; do
        printf 'server_%s\t%s\n' "$s" "$(describe_server "$s")"
    done
    printf 'python_peers\t%s\n' "$PY_NOTE"
    printf 'machine\t%s cores (nproc), %s, %s\n' "$(nproc)" \
        "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)" \
        "$(awk '/^MemTotal/ { printf "%.1f GiB RAM", $2 / 1048576 }' /proc/meminfo)"
    printf 'kernel\t%s\n' "$(uname -sr)"
    printf 'rustc\t%s\n' "$(rustc --version)"
    printf 'commit\t%s\n' "$(git -C "$ROOT_DIR" rev-parse --short HEAD 2>/dev/null || echo unknown)$([ -z "$(git -C "$ROOT_DIR" status --porcelain 2>/dev/null)" ] || echo ' (plus uncommitted changes)')"
} >"$META"
"$REPORT" summarize "$SAMPLES" "$META" "$BENCH_DIR/results.json" "$BENCH_DIR/RESULTS.md"
log "wrote bench/RESULTS.md and bench/results.json"
