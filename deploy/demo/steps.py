#!/usr/bin/python3
"""deploy/demo/steps.py - the small actions of the walk-through in deploy/demo.sh.

    steps.py kafka-topic                  create CALSYNC_KAFKA_TOPIC (if missing)
    steps.py wait-result JOB_ID SECONDS   wait for the final sync_result of a job
    steps.py google-events                the Google calendar as the emulator holds it
    steps.py phone-edit                   move the dentist appointment "from a phone"
    steps.py wait-hub-copy SECONDS        wait until Family Hub has that change
    steps.py allow-http-channels          let the emulators' channels and subscriptions post to http
                                          (the demo's hooks)
    steps.py wait-channel SECONDS         wait until the calendar has a live push channel
    steps.py hub-event SECONDS            create a Family Hub event, publish its Kafka
                                          message, wait until Google has it
    steps.py outlook-events               James's Outlook calendar as the Graph emulator holds it
    steps.py outlook-edit SECONDS         move "Team dinner" in Outlook, wait until Family Hub has it
    calsync watch | steps.py pretty       one readable line per result or conflict

Settings from the environment: CALSYNC_DATABASE_URL, CALSYNC_REDIS_URL,
CALSYNC_KAFKA_BROKERS, CALSYNC_KAFKA_TOPIC, DEMO_EMU_URL (the emulator's base
URL), DEMO_GOOGLE_CALENDAR, DEMO_TENANT, DEMO_CALENDAR and DEMO_USER_SARAH. Every wait polls
with a deadline; a missed deadline exits 1 with one line saying what was
missing. Run with Debian's /usr/bin/python3 (psycopg2, redis, confluent_kafka).
"""

import datetime as dt
import json
import os
import signal
import sys
import time
import urllib.parse
import urllib.request
import uuid
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Europe/London")
DENTIST = "demodentist01"          # event id in deploy/demo/google-seed.json
DENTIST_NEW_TIME = ("10:30", "11:00")
HUB_TITLE = "Parents' evening"
FINAL = ("success", "partial", "failed", "dead")


def env(name):
    value = os.environ.get(name)
    if not value:
        sys.exit(f"steps.py: {name} is not set")
    return value


def fail(message):
    print(f"  !! {message}", flush=True)
    sys.exit(1)


def poll(check, seconds, interval=0.2):
    """check() until it returns something truthy or the deadline passes (-> None)."""
    deadline = time.monotonic() + float(seconds)
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() >= deadline:
            return None
        time.sleep(interval)


def db_query(sql, params=()):
    import psycopg2
    conn = psycopg2.connect(env("CALSYNC_DATABASE_URL"))
    try:
        with conn, conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall() if cur.description else None
    finally:
        conn.close()


def emu(method, path, body=None, base="DEMO_EMU_URL"):
    """A request to an emulator's control API (/_emu/...; base: the variable with its URL)."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(env(base) + "/_emu/" + path, data=data,
                                 method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read() or b"{}")


def events_path(event_id=None):
    path = "calendars/%s/events" % urllib.parse.quote(env("DEMO_GOOGLE_CALENDAR"), safe="")
    return path + ("/" + event_id if event_id else "")


def london(value):
    """'Thu 26 Nov 17:30' for a dateTime, 'Sun 29 Nov (all day)' for a date."""
    if "date" in value:
        return dt.date.fromisoformat(value["date"]).strftime("%a %d %b") + " (all day)"
    return dt.datetime.fromisoformat(value["dateTime"]).astimezone(TZ).strftime("%a %d %b %H:%M")


# ----------------------------------------------------------------- commands

def kafka_topic():
    from confluent_kafka.admin import AdminClient, NewTopic
    topic = env("CALSYNC_KAFKA_TOPIC")
    admin = AdminClient({"bootstrap.servers": env("CALSYNC_KAFKA_BROKERS")})
    if topic in admin.list_topics(timeout=30).topics:
        return
    future = admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)])[topic]
    try:
        future.result(timeout=30)
    except Exception as e:  # noqa: BLE001 - created meanwhile is fine
        if "TOPIC_ALREADY_EXISTS" not in str(e):
            raise


def wait_result(job_id, seconds):
    import redis
    r = redis.Redis.from_url(env("CALSYNC_REDIS_URL"), decode_responses=True)

    def final():
        for _id, fields in r.xrange("calsync:results"):
            if fields.get("type") != "sync_result":
                continue
            data = json.loads(fields.get("data", "{}"))
            if data.get("job_id") == job_id and data.get("status") in FINAL:
                return data
        return None

    res = poll(final, seconds)
    if res is None:
        fail(f"no result for job {job_id} after {seconds} s (see the worker logs)")
    print(f"  sync {res['status']}: {res['created']} created, {res['updated']} updated, "
          f"{res['deleted']} deleted in Family Hub; {res['pushed']} pushed to Google; "
          f"{res['conflicts']} conflicts; {res['duration_ms']} ms on worker {res['worker']}")
    if res["status"] not in ("success", "partial"):
        fail(f"the sync ended '{res['status']}': {res.get('error')}")


def google_events():
    items = emu("GET", events_path())["items"]
    print(f"  {'when (London)':<26} {'status':<10} {'written by':<12} title")
    for ev in items:
        private = ev.get("extendedProperties", {}).get("private", {})
        origin = "Family Hub" if "familyhub_event_id" in private else "Google"
        title = ev.get("summary", "")
        if ev.get("recurrence"):
            title += "  (" + "; ".join(ev["recurrence"]) + ")"
        elif ev.get("recurringEventId"):
            title += "  (one occurrence of the series)"
        print(f"  {london(ev['start']):<26} {ev.get('status', ''):<10} {origin:<12} {title}")


def dentist_day():
    ev = emu("GET", events_path(DENTIST))
    return dt.datetime.fromisoformat(ev["start"]["dateTime"]).astimezone(TZ).date()


def new_dentist_times():
    day = dentist_day().isoformat()
    return [f"{day}T{hhmm}:00" for hhmm in DENTIST_NEW_TIME]


def phone_edit():
    start, end = new_dentist_times()
    before = emu("GET", events_path(DENTIST))
    after = emu("PATCH", events_path(DENTIST), {
        "start": {"dateTime": start, "timeZone": "Europe/London"},
        "end": {"dateTime": end, "timeZone": "Europe/London"},
        "description": "Check-up with Dr Patel (moved by the practice)"})
    print(f"  Google now has: {after['summary']}: {london(before['start'])} -> "
          f"{london(after['start'])}")


def wait_hub_copy(seconds):
    start = dt.datetime.fromisoformat(new_dentist_times()[0]).replace(tzinfo=TZ)
    began = time.monotonic()

    def arrived():
        rows = db_query("SELECT e.title, e.start_time FROM events e"
                        " JOIN calendar_event_mappings m ON m.event_id = e.id"
                        " WHERE m.external_event_id = %s AND e.tenant_id = %s",
                        (DENTIST, env("DEMO_TENANT")))
        return rows if rows and rows[0][1] == start else None

    rows = poll(arrived, seconds, interval=0.05)
    if rows is None:
        fail(f"Family Hub's copy of the dentist appointment did not change within {seconds} s")
    print(f"  Family Hub now has: {rows[0][0]}: {rows[0][1].astimezone(TZ):%a %d %b %H:%M} "
          f"(after {time.monotonic() - began:.1f} s)")


def allow_http_channels():
    emu("POST", "config", {"channel_allow_http": 1})
    outlook("POST", "subscriptions/config", {"allow_http": True})


def wait_channel(seconds):
    def live():
        return db_query("SELECT extract(epoch FROM expires_at - now())::int FROM"
                        " calendar_watch_channels WHERE external_calendar_id = %s"
                        " AND state = 'live'", (env("DEMO_CALENDAR"),))
    rows = poll(live, seconds)
    if rows is None:
        fail(f"the calendar had no live push channel within {seconds} s")
    print(f"  The calendar has a Google push channel to calsync-hooks (it expires in"
          f" {round(rows[0][0] / 86400)} days; the scheduler renews it a day before)")


def last_result_id(r):
    last = r.xrevrange("calsync:results", count=1)
    return last[0][0] if last else "0-0"


def push_result_after(r, after):
    """The first final sync_result of a push job added after stream id `after`."""
    for _id, fields in r.xrange("calsync:results", min="(" + after):
        data = json.loads(fields.get("data", "{}"))
        if (fields.get("type") == "sync_result" and data.get("job_type") == "push"
                and data.get("status") in FINAL):
            return data
    return None


def publish(event_id, tenant, op):
    """What the backend does after writing an events row: the event-changed message."""
    from confluent_kafka import Producer
    message = {"event_id": event_id, "tenant_id": tenant, "op": op,
               "occurred_at": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
    delivered = []
    producer = Producer({"bootstrap.servers": env("CALSYNC_KAFKA_BROKERS")})
    producer.produce(env("CALSYNC_KAFKA_TOPIC"), key=tenant, value=json.dumps(message),
                     on_delivery=lambda err, msg: delivered.append(err))
    if producer.flush(30) != 0 or delivered != [None]:
        fail(f"the Kafka message was not delivered: {delivered}")
    return message


def conflict(seconds):
    """Both sides change the dentist appointment at once: a conflict waits for a person."""
    tenant = env("DEMO_TENANT")
    # the Hub row first, the Google change at once after it: whichever of the push
    # channel's pull and the backend's push comes first finds both sides changed
    rows = db_query("UPDATE events e SET location = 'Smile Dental (James drives)',"
                    " updated_at = NOW() FROM calendar_event_mappings m"
                    " WHERE m.event_id = e.id AND m.external_event_id = %s AND e.tenant_id = %s"
                    " RETURNING e.id::text", (DENTIST, tenant))
    if not rows:
        fail("Family Hub has no copy of the dentist appointment")
    emu("PATCH", events_path(DENTIST), {"location": "Smile Dental, Room 2"})
    publish(rows[0][0], tenant, "updated")
    print("  Family Hub: James notes that he drives (the backend publishes the change)")
    print("  Google: at the same moment the practice sets the room: Smile Dental, Room 2")
    found = poll(lambda: db_query("SELECT id::text, conflict_type FROM calendar_conflicts"
                                  " WHERE event_id = %s AND status = 'pending'", (rows[0][0],)),
                 seconds, interval=0.5)
    if not found:
        fail(f"no conflict was raised within {seconds} s")
    print(f"  A conflict waits for a person: {found[0][1]} {found[0][0]}; neither side was"
          " overwritten")


def hub_event(seconds):
    import redis
    r = redis.Redis.from_url(env("CALSYNC_REDIS_URL"), decode_responses=True)
    after = last_result_id(r)
    tenant, user = env("DEMO_TENANT"), env("DEMO_USER_SARAH")
    day = dt.datetime.now(TZ).date() + dt.timedelta(days=9)
    start = dt.datetime.combine(day, dt.time(18, 0), tzinfo=TZ)
    event_id = str(uuid.uuid4())
    # What the backend does when someone adds an event in the web UI:
    # write the events row first, then publish the event-changed message.
    db_query("INSERT INTO events (id, tenant_id, created_by, title, location, start_time,"
             " end_time, timezone) VALUES (%s, %s, %s, %s, %s, %s, %s, 'Europe/London')",
             (event_id, tenant, user, HUB_TITLE, "St Mary's Primary School", start,
              start + dt.timedelta(minutes=90)))
    message = publish(event_id, tenant, "created")
    print(f"  Family Hub event: {HUB_TITLE}, {start:%a %d %b %H:%M}")
    print(f"  Kafka {env('CALSYNC_KAFKA_TOPIC')}: {json.dumps(message)}")
    print("  The scheduler turns the message into a push job; a worker writes it to Google...",
          flush=True)

    def arrived():
        return [ev for ev in emu("GET", events_path())["items"]
                if ev.get("summary") == HUB_TITLE and ev.get("status") != "cancelled"]

    found = poll(arrived, seconds)
    if not found:
        fail(f"'{HUB_TITLE}' did not reach the Google calendar within {seconds} s")
    print(f"  Google now has: {HUB_TITLE}, {london(found[0]['start'])} "
          f"(event id {found[0]['id']})")
    res = poll(lambda: push_result_after(r, after), 15)  # published right after the write
    if res:
        print(f"  push job {res['status']} on worker {res['worker']} in {res['duration_ms']} ms")


def pretty_line(line):
    """`calsync watch` prints "<stream> <type> <json>"; say it in words."""
    try:
        stream, kind, text = line.split(" ", 2)
        data = json.loads(text)
    except ValueError:
        return line
    when = data.get("finished_at") or data.get("detected_at") or ""
    when = when[11:19] if len(when) >= 19 else when
    if kind == "sync_result":
        what = (f"{data.get('job_type', '?')} {data.get('status', '?')}: "
                f"{data.get('created', 0)} created, {data.get('updated', 0)} updated, "
                f"{data.get('deleted', 0)} deleted, {data.get('pushed', 0)} pushed, "
                f"{data.get('conflicts', 0)} conflicts ({data.get('duration_ms', 0)} ms, "
                f"{data.get('worker', '?')})")
        if data.get("error"):
            what += f" - {data['error']}"
    elif kind == "conflict":
        what = (f"conflict {data.get('conflict_type', '?')} on event {data.get('event_id')}"
                f" (see: calsync conflicts)")
    elif kind == "sync_progress":
        what = f"syncing: {data.get('events_done', 0)} events ({data.get('phase', '?')})"
    else:
        what = f"{kind} {text}"
    return f"{when:<8} {what}"


def outlook(method, path, body=None):
    """A request to the Graph emulator's control API."""
    return emu(method, path, body, base="DEMO_OUTLOOK_URL")


def outlook_path(event_id=None):
    path = "calendars/%s/events" % urllib.parse.quote(env("DEMO_OUTLOOK_REMOTE"), safe="")
    return path + ("/" + urllib.parse.quote(event_id, safe="") if event_id else "")


def outlook_events():
    print(f"  {'when (as written)':<26} {'zone':<24} {'written by':<12} title")
    for ev in sorted(outlook("GET", outlook_path())["value"], key=lambda e: e["start"]["dateTime"]):
        origin = "Family Hub" if (ev.get("transactionId") or "").startswith("fh") else "Outlook"
        title = ev.get("subject", "")
        if ev.get("recurrence"):
            title += "  (%s, %s)" % (ev["recurrence"]["pattern"]["type"],
                                    ev["recurrence"]["range"]["type"])
        when = ev["start"]["dateTime"][:16].replace("T", " ")
        print(f"  {when:<26} {ev['start']['timeZone']:<24} {origin:<12} {title}")


def outlook_edit(seconds):
    (dinner,) = [e for e in outlook("GET", outlook_path())["value"] if e["subject"] == "Team dinner"]
    day = dinner["start"]["dateTime"][:10]
    outlook("PATCH", outlook_path(dinner["id"]), {
        "start": {"dateTime": day + "T20:00:00", "timeZone": "GMT Standard Time"},
        "end": {"dateTime": day + "T22:00:00", "timeZone": "GMT Standard Time"}})
    print(f"  Outlook now has: Team dinner, {day} 20:00 (GMT Standard Time)")
    start = dt.datetime.fromisoformat(day + "T20:00:00").replace(tzinfo=TZ)

    def arrived():
        rows = db_query("SELECT title, start_time FROM events WHERE tenant_id = %s AND title = %s",
                        (env("DEMO_TENANT"), "Team dinner"))
        return rows if rows and rows[0][1] == start else None

    rows = poll(arrived, seconds, interval=0.5)
    if rows is None:
        fail(f"Family Hub's copy of the team dinner did not move within {seconds} s")
    print(f"  Family Hub now has: {rows[0][0]}: {rows[0][1].astimezone(TZ):%a %d %b %H:%M}")


def pretty():
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C ends `calsync watch`; we drain
    for line in sys.stdin:
        print("  " + pretty_line(line.rstrip("\n")), flush=True)


COMMANDS = {
    "kafka-topic": (kafka_topic, 0),
    "wait-result": (wait_result, 2),
    "google-events": (google_events, 0),
    "phone-edit": (phone_edit, 0),
    "wait-hub-copy": (wait_hub_copy, 1),
    "allow-http-channels": (allow_http_channels, 0),
    "wait-channel": (wait_channel, 1),
    "hub-event": (hub_event, 1),
    "conflict": (conflict, 1),
    "outlook-events": (outlook_events, 0),
    "outlook-edit": (outlook_edit, 1),
    "pretty": (pretty, 0),
}


def main(argv):
    if not argv or argv[0] not in COMMANDS or len(argv) - 1 != COMMANDS[argv[0]][1]:
        sys.exit(__doc__.split("\n\n")[1])
    try:
        COMMANDS[argv[0]][0](*argv[1:])
    except KeyboardInterrupt:  # Ctrl-C: deploy/demo.sh cleans up
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
