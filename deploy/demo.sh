#!/usr/bin/env bash
# deploy/demo.sh - watch Family Hub calendars sync, on one machine (`make demo`).
#
# Starts PostgreSQL, Redis and Kafka on private ports (tests/harness/svc.py) and
# a stand-in for Google Calendar (tests/emulators/google_emu.py) with Sarah's
# "Family" calendar (deploy/demo/google-seed.json), migrates, seeds "The Demo
# Family" (deploy/demo_seed.py), runs calsync-hooks, calsync-scheduler and two calsync-worker
# processes, and walks through a first sync and a change in each direction (the
# Google one arriving through a push channel in about a second)
# (deploy/demo/steps.py). Then it follows the live results with `calsync watch`
# until Ctrl-C - or, with DEMO_EXIT=1 or when stdin is not a terminal, it ends
# after the walk-through. On exit it stops everything it started.
#
#   DEMO_RUN_DIR     run directory: data, logs, demo.env (default: run/demo);
#                    wiped at start when it holds an earlier demo
#   CALSYNC_BIN_DIR  where the calsync programs are (default: build)
#   DEMO_EXIT=1      end after the walk-through
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PY=/usr/bin/python3
BIN=$(realpath -m -- "${CALSYNC_BIN_DIR:-$ROOT/build}")
RUN=$(realpath -m -- "${DEMO_RUN_DIR:-$ROOT/run/demo}")
STEPS=("$PY" "$ROOT/deploy/demo/steps.py")
cd "$ROOT"

# The demo makes all of its own settings: drop CALSYNC_* left in this shell
# (e.g. from sourcing a test run's env.sh), except where things are installed.
while read -r var; do
	case $var in
	CALSYNC_BIN_DIR | CALSYNC_CACHE | CALSYNC_PG_BINDIR | CALSYNC_LOG_LEVEL) ;;
	*) unset "$var" ;;
	esac
done < <(compgen -e | grep '^CALSYNC_' || true)

PIDS=()    # processes started here, in start order (services: svc.py stop)
NAMES=()
SERVICES_STARTED=0

# ------------------------------------------------------------------ helpers

bold() { if [ -t 1 ]; then printf '\033[1m%s\033[0m\n' "$*"; else printf '%s\n' "$*"; fi; }
say() { printf '%s\n' "$@"; }
step() { printf '\n'; bold "== $*"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }
indent() { sed 's/^/  /'; }

# wait_until SECONDS WHAT COMMAND... - poll COMMAND until it succeeds or the deadline.
wait_until() {
	local seconds=$1 what=$2
	local deadline=$((SECONDS + seconds))
	shift 2
	until "$@"; do
		((SECONDS < deadline)) || die "gave up after $seconds s waiting for $what"
		sleep 0.2
	done
}

alive() { [ -e "/proc/$1" ] && ! grep -q '^[0-9]* (.*) Z' "/proc/$1/stat" 2>/dev/null; }

# start_bg NAME LOG COMMAND... - run COMMAND in the background (stdout and stderr
# to LOG, CALSYNC_WORKER_NAME=demo-NAME), remembered for cleanup.
start_bg() {
	local name=$1 log=$2
	shift 2
	CALSYNC_WORKER_NAME="demo-$name" "$@" >"$log" 2>&1 </dev/null &
	PIDS+=("$!")
	NAMES+=("$name")
	printf '%s %s %s\n' "$!" "$name" "$1" >>"$RUN/demo.pids"
}

# stop_pids SECONDS PID... - SIGTERM, wait up to SECONDS, then SIGKILL; reap.
stop_pids() {
	local deadline=$((SECONDS + $1)) pid
	shift
	for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "$@"; do
		while alive "$pid" && ((SECONDS < deadline)); do sleep 0.2; done
		if alive "$pid"; then
			say "demo: pid $pid did not stop in time: killing it" >&2
			kill -KILL "$pid" 2>/dev/null || true
		fi
		wait "$pid" 2>/dev/null || true
	done
}

show_logs() {
	local f
	for f in "$RUN"/scheduler.log "$RUN"/worker-*.log "$RUN"/hooks.log "$RUN"/google-emu.log "$RUN"/icloud-front.log; do
		[ -s "$f" ] || continue
		say "--- last lines of $f"
		tail -n 15 "$f"
	done
}

cleanup() {
	local rc=$? i calsync=() emulator=()
	trap '' INT TERM
	trap - EXIT
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 130 ] && [ "$rc" -ne 143 ]; then
		show_logs >&2
		for i in "${!PIDS[@]}"; do
			alive "${PIDS[i]}" || say "demo: ${NAMES[i]} (pid ${PIDS[i]}) had exited" >&2
		done
	fi
	if [ "${#PIDS[@]}" -gt 0 ] || [ "$SERVICES_STARTED" -eq 1 ]; then
		step "Stopping the demo"
	fi
	for i in "${!PIDS[@]}"; do
		if [ "${NAMES[i]}" = google-emulator ] || [ "${NAMES[i]}" = outlook-emulator ]; then emulator+=("${PIDS[i]}"); else calsync+=("${PIDS[i]}"); fi
	done
	# workers finish the jobs in hand (they may still talk to the emulator)
	[ "${#calsync[@]}" -eq 0 ] || stop_pids 30 "${calsync[@]}"
	[ "${#emulator[@]}" -eq 0 ] || stop_pids 10 "${emulator[@]}"
	if [ "$SERVICES_STARTED" -eq 1 ]; then
		"$PY" tests/harness/svc.py stop --dir "$RUN" >/dev/null 2>&1 ||
			say "demo: svc.py stop failed; see $RUN/*.log" >&2
		say "Everything is stopped. Data and logs stay in $RUN until the next run."
	fi
	rm -f "$RUN/demo.pids"
	exit "$rc"
}

# A run directory of an earlier demo: refuse while that demo runs; otherwise stop
# whatever it left running (it was killed) and wipe the directory.
prepare_run_dir() {
	local pid name prog leftovers=()
	if [ -d "$RUN" ] && [ -n "$(ls -A "$RUN")" ]; then
		[ -e "$RUN/.calsync-demo" ] ||
			die "$RUN is not empty and was not made by the demo; choose another DEMO_RUN_DIR"
		if [ -f "$RUN/demo.pids" ]; then
			while read -r pid name prog; do
				alive "$pid" && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$prog" || continue
				[ "$name" != demo ] || die "a demo is still running in $RUN (pid $pid); stop it first"
				leftovers+=("$pid")
			done <"$RUN/demo.pids"
		fi
		if [ "${#leftovers[@]}" -gt 0 ]; then
			say "demo: stopping what an earlier demo left running in $RUN"
			stop_pids 30 "${leftovers[@]}"
		fi
		"$PY" tests/harness/svc.py stop --dir "$RUN" >/dev/null
		rm -rf -- "$RUN"
	fi
	mkdir -p "$RUN"
	chmod 755 "$RUN"
	touch "$RUN/.calsync-demo"
	printf '%s demo demo.sh\n' "$$" >"$RUN/demo.pids"
}

new_secret_key() {
	"$PY" -c 'import base64, secrets; print(base64.b64encode(secrets.token_bytes(32)).decode())'
}

agenda() {
	"$BIN/calsync" agenda --tenant "$DEMO_TENANT" --days 14 |
		awk -F'\t' '{ sub(/ +$/, "", $2); printf "  %-21s %-7s %-11s %s\n", $1, $2, $3, $4 }'
}

# ------------------------------------------------------------------ the walk-through

for prog in calsync calsync-worker calsync-scheduler calsync-hooks; do
	[ -x "$BIN/$prog" ] || die "$BIN/$prog is missing: run make first (or set CALSYNC_BIN_DIR)"
done
prepare_run_dir
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
started_at=$SECONDS

bold "Family Hub calendar sync - demo"
say "calsync keeps Family Hub's own calendar and a family's Google, iCloud and Outlook" \
	"calendars in two-way sync. Everything here runs on this machine: real PostgreSQL," \
	"Redis and Kafka on private ports, and a stand-in for Google Calendar."

step "1. Starting PostgreSQL, Redis and Kafka (in $RUN)"
SERVICES_STARTED=1
"$PY" tests/harness/svc.py start --dir "$RUN" --only pg,redis,kafka,radicale | indent
set -a
# shellcheck disable=SC1091
. "$RUN/env.sh"
set +a

step "2. Starting the Google Calendar stand-in with Sarah's \"Family\" calendar"
"$PY" deploy/demo_seed.py google deploy/demo/google-seed.json "$RUN/google-seed.json" "$RUN/google.env"
# shellcheck disable=SC1091
. "$RUN/google.env"
start_bg google-emulator "$RUN/google-emu.log" \
	"$PY" tests/emulators/google_emu.py --port 0 --seed "$RUN/google-seed.json"
listening() {  # the emulator's first line on stdout is "LISTENING <port>"
	grep -q '^LISTENING [0-9]' "$RUN/google-emu.log" && return 0
	alive "${PIDS[-1]}" || die "the emulator exited: $(tail -n 5 "$RUN/google-emu.log")"
	return 1
}
wait_until 20 "the emulator's LISTENING line" listening
EMU_PORT=$(awk '/^LISTENING [0-9]/ { print $2; exit }' "$RUN/google-emu.log")
export DEMO_EMU_URL="http://127.0.0.1:$EMU_PORT"
export CALSYNC_GOOGLE_API_URL="$DEMO_EMU_URL/calendar/v3"
export CALSYNC_GOOGLE_TOKEN_URL="$DEMO_EMU_URL/token"
export CALSYNC_GOOGLE_REVOKE_URL="$DEMO_EMU_URL/revoke"
export CALSYNC_GOOGLE_CLIENT_ID="$DEMO_GOOGLE_CLIENT_ID"
export CALSYNC_GOOGLE_CLIENT_SECRET="$DEMO_GOOGLE_CLIENT_SECRET"
export DEMO_GOOGLE_CALENDAR
export CALSYNC_SECRET_KEYS="demo:$(new_secret_key)"
export CALSYNC_SYNC_INTERVAL=30
export CALSYNC_KAFKA_TOPIC=familyhub.events
export CALSYNC_HTTP_ADDR="${CALSYNC_HTTP_ADDR:-127.0.0.1:0}"  # each program on a free port (logged)
export CALSYNC_MIGRATIONS_DIR="$ROOT/migrations"
export CALSYNC_LOG_LEVEL=${CALSYNC_LOG_LEVEL:-info}
say "  Google (stand-in) listens on $DEMO_EMU_URL; Sarah's calendar as Google has it:"
"${STEPS[@]}" google-events

step "2b. Starting the Outlook (Microsoft Graph) stand-in with James's calendar"
"$PY" deploy/demo_seed.py outlook deploy/demo/outlook-seed.json "$RUN/outlook-seed.json" "$RUN/outlook.env"
# shellcheck disable=SC1091
. "$RUN/outlook.env"
start_bg outlook-emulator "$RUN/outlook-emu.log" \
	"$PY" tests/emulators/graph_emu.py --port 0 --seed "$RUN/outlook-seed.json"
outlook_listening() {
	grep -q '^LISTENING [0-9]' "$RUN/outlook-emu.log" && return 0
	alive "${PIDS[-1]}" || die "the Outlook emulator exited: $(tail -n 5 "$RUN/outlook-emu.log")"
	return 1
}
wait_until 20 "the Outlook emulator's LISTENING line" outlook_listening
export DEMO_OUTLOOK_URL="http://127.0.0.1:$(awk '/^LISTENING [0-9]/ { print $2; exit }' "$RUN/outlook-emu.log")"
export CALSYNC_GRAPH_API_URL="$DEMO_OUTLOOK_URL/v1.0"
export CALSYNC_MS_TOKEN_URL="$DEMO_OUTLOOK_URL/token"
export CALSYNC_MS_CLIENT_ID="$DEMO_MS_CLIENT_ID"
export DEMO_OUTLOOK_REMOTE
say "  Outlook (stand-in) listens on $DEMO_OUTLOOK_URL; James's calendar as Outlook has it:"
"${STEPS[@]}" outlook-events

step "3. Creating the tables and \"The Demo Family\""
"$BIN/calsync" migrate 2>"$RUN/migrate.log" | indent
"$PY" deploy/demo_seed.py family "$RUN/google-seed.json" "$RUN/family.env"
# shellcheck disable=SC1091
. "$RUN/family.env"
export DEMO_TENANT DEMO_CALENDAR DEMO_USER_SARAH DEMO_USER_JAMES
"$PY" deploy/demo_seed.py outlook-family "$RUN/outlook-seed.json" "$RUN/outlook-family.env"
# shellcheck disable=SC1091
. "$RUN/outlook-family.env"
export DEMO_OUTLOOK_CALENDAR
"${STEPS[@]}" kafka-topic
# calsync-hooks receives Google's change notifications (in production behind a TLS
# ingress at an https CALSYNC_HOOKS_PUBLIC_URL; the stand-in accepts http)
start_bg hooks "$RUN/hooks.log" env CALSYNC_HTTP_ADDR=127.0.0.1:0 "$BIN/calsync-hooks"
hooks_listening() { grep -q 'listening on port [0-9]' "$RUN/hooks.log"; }
wait_until 20 "calsync-hooks' port" hooks_listening
HOOKS_PORT=$(sed -n 's/.*listening on port \([0-9]*\).*/\1/p' "$RUN/hooks.log" | head -n 1)
export CALSYNC_HOOKS_PUBLIC_URL="http://127.0.0.1:$HOOKS_PORT" CALSYNC_HOOKS_ALLOW_HTTP=1
"${STEPS[@]}" allow-http-channels

step "3b. James's iPhone calendar: iCloud-like (Radicale behind an iCloud-like entry point)"
start_bg icloud-front "$RUN/icloud-front.log" "$PY" tests/emulators/icloud_front.py \
	--radicale "$CALSYNC_TEST_RADICALE_URL" --user "$CALSYNC_TEST_RADICALE_USER"
front_listening() {  # "LISTENING <entry port> <partition port>"
	grep -q '^LISTENING [0-9]' "$RUN/icloud-front.log" && return 0
	alive "${PIDS[-1]}" || die "the iCloud-like front exited: $(tail -n 5 "$RUN/icloud-front.log")"
	return 1
}
wait_until 20 "the iCloud-like front's LISTENING line" front_listening
read -r FRONT_ENTRY FRONT_PARTITION < <(awk '/^LISTENING [0-9]/ { print $2, $3; exit }' "$RUN/icloud-front.log")
export CALSYNC_ICLOUD_URL="http://127.0.0.1:$FRONT_ENTRY/"
export CALSYNC_CALDAV_ALLOW_HTTP=1 CALSYNC_CALDAV_ALLOW_PRIVATE=1  # the demo's hosts are local, plain http
"$PY" deploy/demo_seed.py icloud "http://127.0.0.1:$FRONT_PARTITION/" "$RUN/icloud.env"
# shellcheck disable=SC1091
. "$RUN/icloud.env"
export DEMO_ICLOUD_CALENDAR DEMO_ICLOUD_EVENT
say "  Entry point $CALSYNC_ICLOUD_URL redirects to the partition host :$FRONT_PARTITION, as" \
	"  caldav.icloud.com does; James connected his iPhone's \"Family\" calendar (external" \
	"  calendar $DEMO_ICLOUD_CALENDAR) with an app password, stored sealed."
export -p | grep -E '^declare -x (CALSYNC|DEMO)_' >"$RUN/demo.env"  # for another terminal
chmod 600 "$RUN/demo.env"
say "  Tenant \"The Demo Family\" ($DEMO_TENANT), Europe/London: Sarah and James." \
	"  Family Hub already has two events of its own: \"Pick up Tommy\" and \"Dinner at Mum's\"." \
	"  Sarah connected her Google calendar (external calendar $DEMO_CALENDAR);" \
	"  its refresh token is stored sealed with 'calsync secret seal'."

step "4. Queueing the first sync and starting the scheduler and two workers"
JOB=$("$BIN/calsync" enqueue sync "$DEMO_CALENDAR")
OUTLOOK_JOB=$("$BIN/calsync" enqueue sync "$DEMO_OUTLOOK_CALENDAR")
say "  calsync enqueue sync $DEMO_CALENDAR -> job $JOB (what the web app's \"Sync now\" does)"
ICLOUD_JOB=$("$BIN/calsync" enqueue sync "$DEMO_ICLOUD_CALENDAR")
say "  calsync enqueue sync $DEMO_ICLOUD_CALENDAR -> job $ICLOUD_JOB (James's iCloud calendar)"
start_bg worker-1 "$RUN/worker-1.log" "$BIN/calsync-worker"
start_bg worker-2 "$RUN/worker-2.log" "$BIN/calsync-worker"
start_bg scheduler "$RUN/scheduler.log" "$BIN/calsync-scheduler"
say "  Two workers (8 jobs in flight each) and the scheduler, which queues a sync of every" \
	"  calendar every ${CALSYNC_SYNC_INTERVAL} s (15 minutes in production) and turns Kafka" \
	"  event-changed messages into immediate pushes. Logs: $RUN/*.log"

step "5. The first sync: refresh the Google token, pull Google's events, push Family Hub's"
"${STEPS[@]}" wait-result "$JOB" 60
say "  James's Outlook calendar:"
"${STEPS[@]}" wait-result "$OUTLOOK_JOB" 60
say "  James's iCloud calendar:"
"${STEPS[@]}" wait-result "$ICLOUD_JOB" 60
say "" "  calsync status:"
"$BIN/calsync" status | indent
say "" "  The family's agenda for the next 14 days (calsync agenda; times in the family's zone):"
agenda

step "6. Google -> Family Hub: the dental practice moves Emma's check-up on Sarah's phone"
"${STEPS[@]}" wait-channel 60
"${STEPS[@]}" phone-edit
say "  Google notifies calsync-hooks at once; it queues one sync, and a worker pulls the change..."
"${STEPS[@]}" wait-hub-copy 120

step "6b. iCloud -> Family Hub: James moves football practice an hour later on his iPhone"
"$PY" deploy/demo_seed.py icloud-edit "$DEMO_ICLOUD_EVENT"
icloud_arrived() {
	[ "$(psql "$CALSYNC_DATABASE_URL" -Atc "SELECT count(*) FROM events WHERE title = 'Football practice (moved)'")" = 1 ]
}
wait_until 120 "the moved football practice in Family Hub" icloud_arrived
say "  Family Hub now has: Football practice (moved) - pulled from iCloud by the next periodic sync."

step "7. Family Hub -> Google: Sarah adds \"Parents' evening\" in the Family Hub app"
say "  The backend writes the event, then publishes an event-changed message on Kafka:"
"${STEPS[@]}" hub-event 60
say "" "  Sarah's Google calendar now (events Family Hub wrote say so):"
"${STEPS[@]}" google-events
icloud_pushed() {  # Hub events reach James's primary calendar, the iCloud one, too
	curl -s -u "$CALSYNC_TEST_RADICALE_USER:$CALSYNC_TEST_RADICALE_PASSWORD" -X PROPFIND -H 'Depth: 1' \
		"${CALSYNC_TEST_RADICALE_URL%/}/$CALSYNC_TEST_RADICALE_USER/james-family/" |
		grep -o 'familyhub-[0-9a-f-]*\.ics' | sort -u | wc -l | grep -q '^[3-9]$'
}
wait_until 120 "the Family Hub events on James's iCloud calendar" icloud_pushed
say "" "  James's iCloud calendar now also holds the Family Hub events (familyhub-<event id>.ics)."
say "" "  And the family's agenda again:"
agenda

step "8. Outlook, both ways: James moves the team dinner in Outlook"
"${STEPS[@]}" outlook-edit 120
say "" "  James's Outlook calendar now (Family Hub's events were pushed there too):"
"${STEPS[@]}" outlook-events

step "9. A conflict: the practice and James change the appointment at the same time"
"${STEPS[@]}" conflict 90
say "" "  calsync conflicts (resolve with: calsync resolve <id> local|external|merge|ignore):"
"$BIN/calsync" conflicts --tenant "$DEMO_TENANT" | indent
say "" "  What happened to the calendar (calsync history, newest first):"
"$BIN/calsync" history "$DEMO_CALENDAR" --limit 8 | cut -f1-8 | indent

say "" "Walk-through done in $((SECONDS - started_at)) s."
if [ "${DEMO_EXIT:-0}" = 1 ] || [ ! -t 0 ]; then
	step "What the workers reported (calsync watch --from-start)"
	n=$(($(redis-cli -u "$CALSYNC_REDIS_URL" XLEN calsync:results) + \
		$(redis-cli -u "$CALSYNC_REDIS_URL" XLEN calsync:conflicts)))
	"$BIN/calsync" watch --from-start --count "$n" | "${STEPS[@]}" pretty
	exit 0
fi

step "Live: results, progress and conflicts as they happen (calsync watch). Press Ctrl-C to stop the demo."
say "  In another terminal:  . $RUN/demo.env && $BIN/calsync status" \
	"  or change events in Google:  curl $DEMO_EMU_URL/_emu/calendars/$DEMO_GOOGLE_CALENDAR/events"
trap 'exit 0' INT  # Ctrl-C now is the normal end
"$BIN/calsync" watch | "${STEPS[@]}" pretty || true
