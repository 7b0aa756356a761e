#!/usr/bin/python3
"""deploy/demo_seed.py - the data of `make demo` (deploy/demo.sh).

    demo_seed.py google TEMPLATE SEED_OUT ENV_OUT
        Render the Google account template (deploy/demo/google-seed.json) into a
        --seed file for tests/emulators/google_emu.py: every "{day+N}" becomes the
        date N days from today in Europe/London, keys starting with "_" are
        dropped. ENV_OUT gets DEMO_GOOGLE_CLIENT_ID, DEMO_GOOGLE_CLIENT_SECRET and
        DEMO_GOOGLE_CALENDAR (the primary calendar's id), shell-quoted.

    demo_seed.py family SEED ENV_OUT
        Insert "The Demo Family" into CALSYNC_DATABASE_URL (already migrated):
        the tenant (Europe/London), two users, two events created in Family Hub
        itself, and the external_calendars row that connects Sarah's Google
        calendar of SEED - its refresh token sealed for the tenant by
        `calsync secret seal` (stdin), no access token and no expiry, so the
        worker's first move is a token refresh. ENV_OUT gets DEMO_TENANT,
        DEMO_CALENDAR, DEMO_USER_SARAH and DEMO_USER_JAMES.

    demo_seed.py outlook TEMPLATE SEED_OUT ENV_OUT
        Render the Outlook mailbox template (deploy/demo/outlook-seed.json) into a
        --seed file for tests/emulators/graph_emu.py (as `google` does; a series'
        "_weekday" becomes its start's weekday). ENV_OUT gets DEMO_MS_CLIENT_ID and
        DEMO_OUTLOOK_REMOTE (the calendar's id).

    demo_seed.py outlook-family SEED ENV_OUT
        Connect James's Outlook calendar of SEED to "The Demo Family" (DEMO_TENANT,
        DEMO_USER_JAMES from the environment): its external_calendars row, the
        refresh token sealed as for Google. ENV_OUT gets DEMO_OUTLOOK_CALENDAR.

Settings from the environment: CALSYNC_DATABASE_URL, CALSYNC_SECRET_KEYS and
CALSYNC_BIN_DIR (where `calsync` is; default build). Run with Debian's
/usr/bin/python3 (psycopg2 comes from python3-psycopg2).
"""

import datetime as dt
import json
import os
import re
import shlex
import subprocess
import sys
import uuid
from zoneinfo import ZoneInfo

import psycopg2

TZ = "Europe/London"
DAY_RE = re.compile(r"\{day([+-]\d+)\}")


def today():
    return dt.datetime.now(ZoneInfo(TZ)).date()


def day(n):
    return today() + dt.timedelta(days=n)


def local(n, hhmm):
    """An aware datetime: hh:mm in Europe/London, n days from today."""
    hour, minute = map(int, hhmm.split(":"))
    return dt.datetime.combine(day(n), dt.time(hour, minute), tzinfo=ZoneInfo(TZ))


def render(value):
    """The template with {day+N} filled in and "_comment" keys dropped."""
    if isinstance(value, dict):
        return {k: render(v) for k, v in value.items() if not k.startswith("_")}
    if isinstance(value, list):
        return [render(v) for v in value]
    if isinstance(value, str):
        return DAY_RE.sub(lambda m: day(int(m.group(1))).isoformat(), value)
    return value


def write_env(path, values):
    with open(path, "w") as f:
        for key, value in values.items():
            f.write(f"{key}={shlex.quote(value)}\n")


def primary_calendar(seed):
    account = seed["accounts"][0]
    calendar = next(c for c in account["calendars"] if c.get("primary"))
    return account, calendar


def cmd_google(template, seed_out, env_out):
    with open(template) as f:
        seed = render(json.load(f))
    with open(seed_out, "w") as f:
        json.dump(seed, f, indent=1)
    account, calendar = primary_calendar(seed)
    write_env(env_out, {"DEMO_GOOGLE_CLIENT_ID": account["client_id"],
                        "DEMO_GOOGLE_CLIENT_SECRET": account["client_secret"],
                        "DEMO_GOOGLE_CALENDAR": calendar["id"]})


def seal(tenant, secret):
    """The secret sealed for the tenant by `calsync secret seal` (value on stdin)."""
    tool = os.path.join(os.environ.get("CALSYNC_BIN_DIR") or "build", "calsync")
    done = subprocess.run([tool, "secret", "seal", "--tenant", tenant], input=secret,
                          capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        sys.exit(f"demo_seed: calsync secret seal failed: {done.stderr.strip()}")
    return done.stdout.strip()


def cmd_family(seed_path, env_out):
    with open(seed_path) as f:
        account, calendar = primary_calendar(json.load(f))
    tenant, sarah, james, cal = (str(uuid.uuid4()) for _ in range(4))
    sealed = seal(tenant, account["refresh_token"])
    hub_events = [  # (creator, title, location, start, end)
        (james, "Pick up Tommy", "St Mary's Primary School", local(2, "15:15"), local(2, "15:45")),
        (sarah, "Dinner at Mum's", "Mum's house", local(6, "18:30"), local(6, "21:00")),
    ]
    conn = psycopg2.connect(os.environ["CALSYNC_DATABASE_URL"])
    with conn, conn.cursor() as cur:  # one transaction
        cur.execute("INSERT INTO tenants (id, name, timezone) VALUES (%s, %s, %s)",
                    (tenant, "The Demo Family", TZ))
        cur.executemany("INSERT INTO users (id, tenant_id, email, display_name)"
                        " VALUES (%s, %s, %s, %s)",
                        [(sarah, tenant, account["email"], "Sarah"),
                         (james, tenant, "james.demo@example.com", "James")])
        for creator, title, where, start, end in hub_events:
            cur.execute("INSERT INTO events (tenant_id, created_by, title, location,"
                        " start_time, end_time, timezone) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                        (tenant, creator, title, where, start, end, TZ))
        cur.execute("INSERT INTO external_calendars (id, tenant_id, user_id, provider,"
                    " provider_calendar_id, calendar_name, calendar_color,"
                    " refresh_token_encrypted, token_expires_at, sync_direction, is_primary)"
                    " VALUES (%s, %s, %s, 'google', %s, %s, %s, %s, NULL, 'bidirectional', TRUE)",
                    (cal, tenant, sarah, calendar["id"], calendar.get("summary"),
                     calendar.get("backgroundColor"), sealed))
    conn.close()
    write_env(env_out, {"DEMO_TENANT": tenant, "DEMO_CALENDAR": cal,
                        "DEMO_USER_SARAH": sarah, "DEMO_USER_JAMES": james})


def cmd_outlook(template, seed_out, env_out):
    with open(template) as f:
        seed = json.loads(json.dumps(render(json.load(f))).replace(
            "_weekday", day(1).strftime("%A").lower()))
    with open(seed_out, "w") as f:
        json.dump(seed, f, indent=1)
    box = seed["mailboxes"][0]
    write_env(env_out, {"DEMO_MS_CLIENT_ID": box["client_id"],
                        "DEMO_OUTLOOK_REMOTE": box["calendars"][0]["id"]})


def cmd_outlook_family(seed_path, env_out):
    with open(seed_path) as f:
        box = json.load(f)["mailboxes"][0]
    tenant, james, cal = os.environ["DEMO_TENANT"], os.environ["DEMO_USER_JAMES"], str(uuid.uuid4())
    calendar = box["calendars"][0]
    conn = psycopg2.connect(os.environ["CALSYNC_DATABASE_URL"])
    with conn, conn.cursor() as cur:
        cur.execute("INSERT INTO external_calendars (id, tenant_id, user_id, provider,"
                    " provider_calendar_id, calendar_name, calendar_color,"
                    " refresh_token_encrypted, token_expires_at, sync_direction, is_primary)"
                    " VALUES (%s, %s, %s, 'outlook', %s, %s, %s, %s, NULL, 'bidirectional', TRUE)",
                    (cal, tenant, james, calendar["id"], calendar["name"], calendar["hexColor"],
                     seal(tenant, box["refresh_token"])))
    conn.close()
    write_env(env_out, {"DEMO_OUTLOOK_CALENDAR": cal})


def main(argv):
    if len(argv) == 4 and argv[0] == "google":
        cmd_google(*argv[1:])
    elif len(argv) == 4 and argv[0] == "outlook":
        cmd_outlook(*argv[1:])
    elif len(argv) == 3 and argv[0] == "outlook-family":
        cmd_outlook_family(*argv[1:])
    elif len(argv) == 3 and argv[0] == "family":
        cmd_family(*argv[1:])
    else:
        sys.exit(__doc__.split("\n\n")[1])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
