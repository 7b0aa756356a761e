#!/usr/bin/env bash
# tests/bench/run.sh BUILD_DIR - calsync's benchmarks (never timed assertions).
# Starts the real services on private ports, runs tests/bench/bench.py with
# the programs of BUILD_DIR, prints the table, and always stops the services.
set -uo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
shift || true
py=/usr/bin/python3
run_dir=$(mktemp -d /tmp/calsync-bench.XXXXXX)
chmod 755 "$run_dir"
trap '$py tests/harness/svc.py stop --dir "$run_dir" >/dev/null 2>&1; rm -rf "$run_dir"' EXIT
# the engine benchmarks need no Kafka: a broker warming up would only steal CPU
services=pg,redis,kafka
[ "${1:-all}" = engine ] && services=pg,redis
$py tests/harness/svc.py start --dir "$run_dir" --only "$services" || exit 1
set -a; . "$run_dir/env.sh"; set +a
CALSYNC_BIN_DIR="$PWD/$build" $py tests/bench/bench.py "$@"
case "${1:-all}" in all|caldav) CALSYNC_BIN_DIR="$PWD/$build" $py tests/bench/caldav_bench.py ;; esac
case "${1:-all}" in all|latency) CALSYNC_BENCH_RUN_DIR="$run_dir" CALSYNC_BIN_DIR="$PWD/$build" $py tests/bench/bench_latency.py ;; esac
case "${1:-all}" in all|hooks) CALSYNC_BIN_DIR="$PWD/$build" $py tests/bench/bench_hooks.py ;; esac
case "${1:-all}" in all|graph) CALSYNC_BIN_DIR="$PWD/$build" $py tests/bench/bench_graph.py ;; esac
