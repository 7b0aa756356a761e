#!/usr/bin/env bash
# tests/run.sh BUILD_DIR - runs every suite of calsync against real services.
#
# Starts PostgreSQL, Redis, Kafka and Radicale once (tests/harness/svc.py) in
# a private run directory, runs the C unit tests and the pytest integration
# suites with the programs of BUILD_DIR, always stops the services, and ends
# with one line "N passed, N failed". Exits non-zero when anything failed,
# was skipped or did not run. CALSYNC_TEST_FILTER (optional) is passed to
# pytest as -k.
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
py=/usr/bin/python3
run_dir=$(mktemp -d /tmp/calsync-test.XXXXXX)
chmod 755 "$run_dir"
passed=0 failed=0 skipped=0

cleanup() {
	$py tests/harness/svc.py stop --dir "$run_dir" >/dev/null 2>&1
	rm -rf "$run_dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

count_unit() {
	local out line
	out=$("$build/test-unit" 2>&1)
	printf '%s\n' "$out" | grep -v '^ok ' || true
	line=$(printf '%s\n' "$out" | tail -n 1)
	if [[ $line =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
		passed=$((passed + BASH_REMATCH[1])); failed=$((failed + BASH_REMATCH[2]))
	else
		echo "unit tests did not finish"; failed=$((failed + 1))
	fi
}

count_pytest() {
	local xml="$run_dir/pytest.xml" counts
	CALSYNC_BIN_DIR="$PWD/$build" $py -m pytest -q -p no:cacheprovider \
		--junitxml="$xml" ${CALSYNC_TEST_FILTER:+-k "$CALSYNC_TEST_FILTER"} tests/integration
	if [ ! -s "$xml" ]; then
		echo "pytest did not finish"; failed=$((failed + 1)); return
	fi
	counts=$($py - "$xml" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else list(root)
t = sum(int(s.get("tests", 0)) for s in suites)
f = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
s_ = sum(int(s.get("skipped", 0)) for s in suites)
print(t - f - s_, f, s_)
PY
)
	read -r p f s <<<"$counts"
	passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
}

echo "== services"
if ! $py tests/harness/svc.py start --dir "$run_dir"; then
	echo "0 passed, 1 failed"
	exit 1
fi
set -a; . "$run_dir/env.sh"; set +a
export CALSYNC_TEST_RUN_DIR="$run_dir"

echo "== lint"
if tests/lint.sh; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
echo "== unit tests ($build)"
count_unit
echo "== integration tests ($build)"
count_pytest

if [ "$skipped" -gt 0 ]; then
	echo "$skipped tests were skipped: counted as not run"
fi
echo "$passed passed, $((failed + skipped)) failed"
[ "$failed" -eq 0 ] && [ "$skipped" -eq 0 ] && [ "$passed" -gt 0 ]
