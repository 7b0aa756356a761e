#!/usr/bin/env bash
# tests/lint.sh - checks the compiler does not make. Prints each problem and
# exits non-zero when there is one.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
fail() { echo "lint: $*"; status=1; }

# Only the migration runner may send a whole SQL text (simple-query protocol).
for f in $(git ls-files '*.c' | grep -v '^common/migrate.c$'); do
	grep -n '\bPQexec(' "$f" | sed "s|^|$f:|" | grep . && fail "PQexec outside common/migrate.c (use PQexecParams)"
done
# Every C file includes banned.h, after its other headers.
for f in $(git ls-files 'common/*.c' 'worker/*.c' 'scheduler/*.c' 'providers/*.c' 'engine/*.c' 'cli/*.c' 'hooks/*.c'); do
	last=$(grep -n '^#include' "$f" | tail -n 1)
	case "$last" in *'"banned.h"'*) ;; *) fail "$f: banned.h must be its last include";; esac
done
# Every file starts with a comment saying what it is for.
for f in $(git ls-files '*.c' '*.h'); do
	head -n 1 "$f" | grep -q '^/\*' || fail "$f: no top-of-file comment"
done
# Files stay small enough to read in one sitting.
git ls-files '*.c' '*.h' | xargs wc -l | awk '$2 != "total" && $1 > 800 {print "lint: " $2 " has " $1 " lines"; bad=1} END {exit bad}' || status=1
# Dependencies between the program's C files go one way (no circles).
circles=$(python3 tests/tools/dependency_cycles.py $(git ls-files 'common/*.c' 'engine/*.c' 'worker/*.c' \
	'scheduler/*.c' 'providers/*.c' 'cli/*.c' 'hooks/*.c')) || fail "$circles"
# The engine knows no job, stream or Redis: engine/ includes no header of worker/, queue.h
# or redisconn.h.
for h in $(git ls-files 'worker/*.h' | xargs -n 1 basename) queue.h redisconn.h; do
	git ls-files 'engine/*.c' 'engine/*.h' | xargs grep -n "^#include \"$h\"" \
		&& fail "engine/ includes $h (the engine knows no job, stream or Redis)"
done
# Tests poll with a deadline instead of sleeping a fixed time.
git ls-files 'tests/*.py' | xargs grep -nE 'time\.sleep\(' | grep -viE 'poll|deadline|latency|delay|inject' \
	&& fail "fixed sleeps in tests"
exit $status
