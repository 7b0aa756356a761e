#!/usr/bin/env bash
# tests/fuzz/coverage.sh BUILD_DIR - line coverage of each fuzz target of
# BUILD_DIR (make fuzz-coverage: built with clang's source-based coverage):
# runs every input of FUZZ_CORPUS/<name> (default: the seed corpus
# tests/fuzz/corpus/<name>; point it at the corpus a long `make fuzz` run left
# in FUZZ_CORPUS_OUT) once, and prints the line coverage of the files that
# target is about (FILES below), and of all of calsync's code it reached.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build-fuzzcov}
corpus=${FUZZ_CORPUS:-tests/fuzz/corpus}
declare -A FILES=(
	[config]="common/config.c common/redisconn.c"
	[google]="providers/google.c providers/google_api.c providers/google_json.c common/http_text.c"
	[job]="worker/job.c worker/batch_scripts.c worker/dispatch.c worker/run.c common/utf8.c"
	[kafkamsg]="common/kafkamsg.c"
	[secret]="common/secret.c"
	[time]="common/timefmt.c common/recur.c"
)
for bin in "$build"/fuzz_*; do
	name=${bin##*/fuzz_}
	prof="$build/$name.profraw"
	LLVM_PROFILE_FILE="$prof" "$bin" -runs=0 "$corpus/$name" "tests/fuzz/corpus/$name" \
		>/dev/null 2>&1
	llvm-profdata merge -sparse "$prof" -o "$build/$name.profdata"
	echo "== fuzz_$name (inputs: $(ls "$corpus/$name" | wc -l))"
	# shellcheck disable=SC2086
	llvm-cov report "$bin" -instr-profile="$build/$name.profdata" ${FILES[$name]} |
		awk 'NF >= 13 && $1 != "Filename" { printf "  %-28s lines %s\n", $1, $(NF-3) }'
done
