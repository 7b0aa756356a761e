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

    demo_seed.py icloud FRONT_URL ENV_OUT
        James's iCloud-like calendar: a "Family" calendar collection in the demo's
        Radicale (CALSYNC_TEST_RADICALE_URL/_USER/_PASSWORD) with two events as
        an iPhone writes them (a weekly football practice with an alarm, an
        all-day swimming gala), and the external_calendars row (provider
        icloud, James's primary) that reaches it through the iCloud-like entry
        point at FRONT_URL (tests/emulators/icloud_front.py: its partition
        host) - user name in caldav_username, the app password sealed for the
        tenant. Needs DEMO_TENANT and DEMO_USER_JAMES. ENV_OUT gets
        DEMO_ICLOUD_CALENDAR and DEMO_ICLOUD_EVENT (the football practice's URL
        in Radicale).

    demo_seed.py icloud-edit EVENT_URL
        James moves the football practice on his iPhone: the resource at
        EVENT_URL rewritten to start an hour later ("Football practice (moved)").

Settings from the environment: CALSYNC_DATABASE_URL, CALSYNC_SECRET_KEYS and
CALSYNC_BIN_DIR (where `calsync` is; default build). Run with Debian's
/usr/bin/python3 (psycopg2 comes from python3-psycopg2).
"""

import base64
import datetime as dt
import http.client
import json
import os
import re
import shlex
import subprocess
import sys
import urllib.parse
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


def radicale(method, path, body=None, headers=None):
    """One request to the demo's Radicale (Basic auth); (status, text)."""
    base = urllib.parse.urlsplit(os.environ["CALSYNC_TEST_RADICALE_URL"])
    auth = base64.b64encode(("%s:%s" % (os.environ["CALSYNC_TEST_RADICALE_USER"],
                                        os.environ["CALSYNC_TEST_RADICALE_PASSWORD"])).encode())
    conn = http.client.HTTPConnection(base.hostname, base.port, timeout=30)
    try:
        conn.request(method, path, body=body.encode() if body else None,
                     headers={"Authorization": "Basic " + auth.decode(), **(headers or {})})
        resp = conn.getresponse()
        return resp.status, resp.read().decode()
    finally:
        conn.close()


LONDON_VTIMEZONE = (
    "BEGIN:VTIMEZONE\r\nTZID:Europe/London\r\nBEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0000\r\n"
    "TZOFFSETTO:+0100\r\nTZNAME:BST\r\nDTSTART:19810329T010000\r\n"
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\nBEGIN:STANDARD\r\n"
    "TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0000\r\nTZNAME:GMT\r\nDTSTART:19961027T020000\r\n"
    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n")


def iphone_event(uid, summary, start, end, extra=""):
    """A resource as an iPhone writes it: VTIMEZONE, alarm, Apple's own properties."""
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Apple Inc.//iPhone OS 18.1//EN\r\n"
            + LONDON_VTIMEZONE + "BEGIN:VEVENT\r\nUID:%s\r\nDTSTAMP:20261201T080000Z\r\n"
            "%s\r\n%s\r\nSUMMARY:%s\r\n%sX-APPLE-TRAVEL-ADVISORY-BEHAVIOR:AUTOMATIC\r\n"
            "BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Reminder\r\nTRIGGER:-PT30M\r\n"
            "END:VALARM\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n") % (uid, start, end, summary, extra)


def football(hours_later=0):
    start = local(3, "17:00") + dt.timedelta(hours=hours_later)
    end = start + dt.timedelta(hours=1, minutes=30)
    title = "Football practice" + (" (moved)" if hours_later else "")
    return iphone_event("demo-football-practice", title,
                        start.strftime("DTSTART;TZID=Europe/London:%Y%m%dT%H%M%S"),
                        end.strftime("DTEND;TZID=Europe/London:%Y%m%dT%H%M%S"),
                        "RRULE:FREQ=WEEKLY;COUNT=6\r\n")


def cmd_icloud(front_url, env_out):
    user = os.environ["CALSYNC_TEST_RADICALE_USER"]
    tenant, james, cal = os.environ["DEMO_TENANT"], os.environ["DEMO_USER_JAMES"], str(uuid.uuid4())
    radicale("MKCOL", f"/{user}/")
    status, text = radicale("MKCALENDAR", f"/{user}/james-family/", (
        '<?xml version="1.0"?><C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"'
        ' xmlns:A="http://apple.com/ns/ical/"><D:set><D:prop><D:displayname>Family</D:displayname>'
        '<A:calendar-color>#FF9500FF</A:calendar-color></D:prop></D:set></C:mkcalendar>'),
        {"Content-Type": "application/xml"})
    if status != 201:
        sys.exit(f"demo_seed: Radicale refused the calendar ({status}): {text[:200]}")
    gala = iphone_event("demo-swimming-gala", "Tommy's swimming gala",
                        day(5).strftime("DTSTART;VALUE=DATE:%Y%m%d"),
                        day(6).strftime("DTEND;VALUE=DATE:%Y%m%d"))
    for name, body in (("football.ics", football()), ("gala.ics", gala)):
        status, text = radicale("PUT", f"/{user}/james-family/{name}", body,
                                {"Content-Type": "text/calendar"})
        if status not in (201, 204):
            sys.exit(f"demo_seed: Radicale refused {name} ({status}): {text[:200]}")
    calendar_url = front_url.rstrip("/") + "/123456789/calendars/james-family/"
    sealed = seal(tenant, os.environ["CALSYNC_TEST_RADICALE_PASSWORD"])
    conn = psycopg2.connect(os.environ["CALSYNC_DATABASE_URL"])
    with conn, conn.cursor() as cur:
        cur.execute("INSERT INTO external_calendars (id, tenant_id, user_id, provider,"
                    " provider_calendar_id, calendar_name, calendar_color, caldav_url,"
                    " caldav_username, icloud_app_password_encrypted, sync_direction, is_primary)"
                    " VALUES (%s, %s, %s, 'icloud', %s, 'Family', '#ff9500', '', %s, %s,"
                    " 'bidirectional', TRUE)", (cal, tenant, james, calendar_url, user, sealed))
    conn.close()
    write_env(env_out, {"DEMO_ICLOUD_CALENDAR": cal,
                        "DEMO_ICLOUD_EVENT": f"/{user}/james-family/football.ics"})


def cmd_icloud_edit(path):
    status, text = radicale("PUT", path, football(hours_later=1), {"Content-Type": "text/calendar"})
    if status not in (201, 204):
        sys.exit(f"demo_seed: Radicale refused the edit ({status}): {text[:200]}")


def main(argv):
    if len(argv) == 4 and argv[0] == "google":
        cmd_google(*argv[1:])
    elif len(argv) == 4 and argv[0] == "outlook":
        cmd_outlook(*argv[1:])
    elif len(argv) == 3 and argv[0] == "outlook-family":
        cmd_outlook_family(*argv[1:])
    elif len(argv) == 3 and argv[0] == "family":
        cmd_family(*argv[1:])
    elif len(argv) == 3 and argv[0] == "icloud":
        cmd_icloud(*argv[1:])
    elif len(argv) == 2 and argv[0] == "icloud-edit":
        cmd_icloud_edit(*argv[1:])
    else:
        sys.exit(__doc__.split("\n\n")[1])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
