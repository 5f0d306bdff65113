#!/bin/sh
# Writes the seed corpora from fixtures/requests: corpus/request_head/ (every case's raw bytes)
# and corpus/chunked/ (the bodies of chunked cases). Usage: reference-server/fuzz/seed.sh [corpus-dir]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
exec cargo run --quiet --manifest-path "$here/Cargo.toml" --example seed -- "${1:-$here/corpus}"
