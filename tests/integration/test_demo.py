"""test_demo.py - `make demo`'s script, deploy/demo.sh, run end to end.

Runs `DEMO_EXIT=1 deploy/demo.sh` with the programs of CALSYNC_BIN_DIR (or
build/) in a run directory of its own: the demo starts its own PostgreSQL,
Redis, Kafka and Google emulator there (whatever services the rest of the
suite uses are not touched), walks through a first sync and one change in
each direction, and exits. Checks: exit 0; the agenda shows the Google
events with the google badge and the Hub events with the hub badge; the
dentist appointment moved on "Google" arrived in Family Hub; the event
created in Family Hub reached the emulator; no secret shows up in the
output or in calsync's logs; and no process the demo started is still
running afterwards (found by the DEMO_RUN_DIR in their environment, which
every one of them inherits).

Run alone: /usr/bin/python3 -m pytest -q tests/integration/test_demo.py
"""

import json
import os
import pathlib
import re
import shutil
import subprocess
import tempfile
import time

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
DEMO_TIMEOUT_S = 420   # services ~10 s, periodic sync <= 30 s; generous for slow machines
SEED = json.loads((REPO / "deploy" / "demo" / "google-seed.json").read_text())
ACCOUNT = SEED["accounts"][0]
AGENDA_LINE = r"(?m)^\s+\d{4}-\d\d-\d\d (\d\d:\d\d|all day)\s+%s\s+%s\s+%s\s*$"


def processes_with_env(marker):
    """Pids whose environment holds marker (bytes), other than this process."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                env = f.read()
            with open(f"/proc/{entry}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker in env.split(b"\0") and state != "Z":
            found.append(int(entry))
    return found


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return "?"


@pytest.fixture(scope="module")
def demo(bin_dir):
    """Run the demo once; (completed process, run dir, marker) for the tests."""
    top = tempfile.mkdtemp(prefix="calsync-demo-test-")
    os.chmod(top, 0o755)  # PostgreSQL runs as user postgres when we are root
    run_dir = os.path.join(top, "run")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALSYNC_")}
    for keep in ("CALSYNC_CACHE", "CALSYNC_PG_BINDIR"):
        if keep in os.environ:
            env[keep] = os.environ[keep]
    env.update(CALSYNC_BIN_DIR=str(bin_dir), DEMO_RUN_DIR=run_dir, DEMO_EXIT="1")
    marker = f"DEMO_RUN_DIR={run_dir}".encode()
    began = time.monotonic()
    try:
        proc = subprocess.run([str(REPO / "deploy" / "demo.sh")], cwd=REPO, env=env,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=DEMO_TIMEOUT_S)
    except subprocess.TimeoutExpired as e:
        leftovers = processes_with_env(marker)
        for pid in leftovers:  # only what the demo started (marker in its environment)
            try:
                os.kill(pid, 9)
            except OSError:
                pass
        subprocess.run(["/usr/bin/python3", str(REPO / "tests" / "harness" / "svc.py"), "stop",
                        "--dir", run_dir], capture_output=True)
        pytest.fail(f"deploy/demo.sh did not finish in {DEMO_TIMEOUT_S} s; output so far:\n"
                    f"{e.stdout}\n{e.stderr}", pytrace=False)
    print(f"\ndemo took {time.monotonic() - began:.1f} s")
    yield proc, run_dir, marker
    if not processes_with_env(marker):
        shutil.rmtree(top, ignore_errors=True)


def output(proc):
    return f"--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"


def test_demo_exits_zero(demo):
    proc, _, _ = demo
    assert proc.returncode == 0, output(proc)
    assert "Walk-through done" in proc.stdout, output(proc)


def test_agenda_shows_google_events_with_google_badge(demo):
    proc, _, _ = demo
    for title in ("Swimming lessons", "Dentist - Emma", "School holiday",
                  "Grandma's birthday lunch"):
        assert re.search(AGENDA_LINE % ("google", "Family", re.escape(title)), proc.stdout), \
            f"no google agenda line for {title!r}\n" + output(proc)
    for title in ("Pick up Tommy", "Dinner at Mum's", "Parents' evening"):
        assert re.search(AGENDA_LINE % ("hub", "Family Hub", re.escape(title)), proc.stdout), \
            f"no hub agenda line for {title!r}\n" + output(proc)


def test_google_change_reached_family_hub(demo):
    proc, _, _ = demo
    assert "Family Hub now has: Dentist - Emma" in proc.stdout, output(proc)
    # the last agenda shows the appointment at its new local time (the family's zone)
    moved = r"(?m)^\s+\d{4}-\d\d-\d\d 10:30\s+google\s+Family\s+Dentist - Emma\s*$"
    assert re.search(moved, proc.stdout.split("agenda again")[-1]), output(proc)


def test_hub_event_reached_the_emulator(demo):
    proc, _, _ = demo
    # the listing of the emulator's calendar (GET /_emu/calendars/<cid>/events) after step 7
    listing = proc.stdout.split("Sarah's Google calendar now")[-1]
    for title in ("Parents' evening", "Pick up Tommy", "Dinner at Mum's"):
        assert re.search(r"(?m)^\s+.+\s+confirmed\s+Family Hub\s+%s\s*$" % re.escape(title),
                         listing), f"{title!r} not in the emulator\n" + output(proc)


def test_no_secret_in_output_or_logs(demo):
    proc, run_dir, _ = demo
    secrets = [ACCOUNT["refresh_token"], ACCOUNT["client_secret"]]
    texts = {"stdout": proc.stdout, "stderr": proc.stderr}
    for name in ("scheduler.log", "worker-1.log", "worker-2.log"):
        path = os.path.join(run_dir, name)
        assert os.path.exists(path), f"{path} missing\n" + output(proc)
        texts[name] = pathlib.Path(path).read_text(errors="replace")
    for where, text in texts.items():
        for secret in secrets:
            assert secret not in text, f"a secret shows up in {where}"


def test_nothing_left_running(demo):
    proc, run_dir, marker = demo
    left = processes_with_env(marker)
    assert not left, "still running after the demo: " + "; ".join(
        f"{pid} {cmdline(pid)}" for pid in left)
    state = pathlib.Path(run_dir, "state.json")
    assert state.exists(), output(proc)
    for name in json.loads(state.read_text()):
        assert not pathlib.Path(run_dir, f"{name}.pid").exists(), f"{name} not stopped"
    assert not pathlib.Path(run_dir, "demo.pids").exists()


def test_a_conflict_waits_and_the_history_tells_what_happened(demo):
    proc, _, _ = demo
    assert "A conflict waits for a person: update_conflict" in proc.stdout, output(proc)
    conflicts = proc.stdout.split("calsync conflicts (resolve with")[-1]
    assert re.search(r"(?m)^\s+[0-9a-f-]{36}\s+update_conflict\s", conflicts), output(proc)
    history = proc.stdout.split("calsync history, newest first):")[-1]
    assert re.search(r"(?m)^\s+\S+ \S+\s+(change|job)\s", history), output(proc)


def test_icloud_calendar_syncs_both_ways(demo):
    proc, _, _ = demo
    assert "Family Hub now has: Football practice (moved)" in proc.stdout, output(proc)
    last = proc.stdout.split("agenda again")[-1]
    for title in ("Football practice (moved)", "Tommy's swimming gala"):
        assert re.search(AGENDA_LINE % ("icloud", "Family", re.escape(title)), last), \
            f"no icloud agenda line for {title!r}\n" + output(proc)
    assert "James's iCloud calendar now also holds the Family Hub events" in proc.stdout, output(proc)
