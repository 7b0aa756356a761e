"""tests/integration/google_helpers.py - the Google Calendar emulator as a
test fixture: start it on a free port, drive its control API, and connect a
pool_helpers.World to it with a sealed refresh token."""

import json
import os
import subprocess
import urllib.parse
import urllib.request
import uuid

import pytest

from calsync_helpers import query, run_tool, terminate, wait_line

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EMULATOR = os.path.join(ROOT, "tests", "emulators", "google_emu.py")
CLIENT_ID = "calsync-tests"
CLIENT_SECRET = "tests-secret"


def start_emulator(*extra, deadline_s=15.0, program=EMULATOR):
    """Start the emulator (program) on port 0 (extra: more arguments); return (process, base URL)."""
    proc = subprocess.Popen(["/usr/bin/python3", program, "--port", "0", *extra],
                            stdout=subprocess.PIPE, text=True)
    line = wait_line(proc, proc.stdout, "LISTENING ", deadline_s, os.path.basename(program))
    return proc, "http://127.0.0.1:%d" % int(line.split()[1])


def stop_emulator(proc):
    """SIGTERM (the emulator saves its state file), SIGKILL if it lingers."""
    terminate(proc)
    proc.stdout.close()


@pytest.fixture(scope="module")
def base_url(request):
    """A module's own emulator; its base URL."""
    proc, url = start_emulator()
    request.addfinalizer(lambda: stop_emulator(proc))
    return url


class Emulator:
    def __init__(self):
        self.proc, self.url = start_emulator()

    def stop(self):
        stop_emulator(self.proc)

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            raw = resp.read()
            return json.loads(raw) if raw else None

    def settings(self):
        return {
            "CALSYNC_GOOGLE_API_URL": self.url + "/calendar/v3",
            "CALSYNC_GOOGLE_TOKEN_URL": self.url + "/token",
            "CALSYNC_GOOGLE_REVOKE_URL": self.url + "/revoke",
            "CALSYNC_GOOGLE_CLIENT_ID": CLIENT_ID,
            "CALSYNC_GOOGLE_CLIENT_SECRET": CLIENT_SECRET,
        }

    def account(self, calendar_id, refresh_token, access_role="owner"):
        self.call("POST", "/_emu/accounts", {
            "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
            "refresh_token": refresh_token,
            "calendars": [{"id": calendar_id, "summary": "Family", "primary": True,
                           "accessRole": access_role, "timeZone": "Europe/London"}]})

    def _events_path(self, cal):
        return "/_emu/calendars/%s/events" % urllib.parse.quote(cal, safe="")

    def add(self, cal, *events):
        return self.call("POST", self._events_path(cal), {"events": list(events)})["items"]

    def patch(self, cal, event_id, **fields):
        return self.call("PATCH", self._events_path(cal) + "/" + urllib.parse.quote(event_id), fields)

    def delete(self, cal, event_id):
        return self.call("DELETE", self._events_path(cal) + "/" + urllib.parse.quote(event_id))

    def events(self, cal, live_only=True):
        items = self.call("GET", self._events_path(cal))["items"]
        return [e for e in items if not live_only or e.get("status") != "cancelled"]

    def stats(self):
        return self.call("GET", "/_emu/stats")

    def writes(self):
        kinds = self.stats()["by_kind"]
        return sum(n for k, n in kinds.items() if k.split()[1] in ("insert", "update", "patch", "delete"))

    def faults(self, *rules):
        self.call("POST", "/_emu/faults", {"rules": list(rules)})

    def clear_faults(self):
        self.call("DELETE", "/_emu/faults")


@pytest.fixture(scope="module")
def emu():
    """A module's own Emulator, stopped when the module is done."""
    e = Emulator()
    yield e
    e.stop()


def connect_google(world, emu, remote_id=None, access_role="owner"):
    """A google calendar for world's tenant, with its refresh token sealed."""
    remote_id = remote_id or "family-%s@group.calendar.google.com" % uuid.uuid4().hex[:8]
    refresh = "1//refresh-" + uuid.uuid4().hex
    emu.account(remote_id, refresh, access_role)
    sealed = run_tool(world.bin_dir, "secret", "seal", "--tenant", world.tenant,
                      env=world.env, input=refresh, check=True).stdout.strip()
    cal = str(uuid.uuid4())
    query(world.db_url, "INSERT INTO external_calendars(id, tenant_id, user_id, provider,"
                        " provider_calendar_id, calendar_name, calendar_color, is_primary,"
                        " refresh_token_encrypted)"
                        " VALUES (%s, %s, %s, 'google', %s, 'Family', '#4285f4', TRUE, %s)",
          (cal, world.tenant, world.user, remote_id, sealed))
    world.env.update(emu.settings())
    world.worker_program = "calsync-worker"
    return cal, remote_id
