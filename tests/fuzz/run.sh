#!/usr/bin/env bash
# tests/fuzz/run.sh BUILD_DIR - runs each fuzz target of BUILD_DIR (make fuzz)
# from its seed corpus tests/fuzz/corpus/<name> with its dictionary
# tests/fuzz/<name>.dict, for FUZZ_RUNS inputs (default 20000), or for
# FUZZ_SECONDS seconds each when that is set. Inputs that find new paths go to
# FUZZ_CORPUS_OUT/<name> (default: a scratch folder removed at the end), never
# into the seed corpus. A crash, a leak, a sanitizer report or a broken
# invariant fails the target and leaves its input in FUZZ_ARTIFACTS (default
# build-fuzz/artifacts); an input that takes over 30 s counts as a stall.
# Prints each target's executions and coverage, and ends with
# "fuzz: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build-fuzz}
runs=${FUZZ_RUNS:-20000}
artifacts=${FUZZ_ARTIFACTS:-$build/artifacts}
scratch=$(mktemp -d /tmp/calsync-fuzz.XXXXXX)
out=${FUZZ_CORPUS_OUT:-$scratch}
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$artifacts"
passed=0 failed=0
limit=(-runs="$runs")
[ -n "${FUZZ_SECONDS:-}" ] && limit=(-max_total_time="$FUZZ_SECONDS")

for bin in "$build"/fuzz_*; do
	name=${bin##*/fuzz_}
	mkdir -p "$out/$name"
	log="$scratch/$name.log"
	if "$bin" "${limit[@]}" -timeout=30 -dict="tests/fuzz/$name.dict" -print_final_stats=1 \
		-artifact_prefix="$artifacts/$name-" "$out/$name" "tests/fuzz/corpus/$name" \
		>"$log" 2>&1; then
		passed=$((passed + 1)); verdict=ok
	else
		failed=$((failed + 1)); verdict=FAILED
		tail -n 40 "$log"
	fi
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -n 1)
	echo "fuzz_$name: $verdict, ${execs:-?} inputs, $cov"
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
