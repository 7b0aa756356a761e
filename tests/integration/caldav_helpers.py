"""tests/integration/caldav_helpers.py - CalDAV for the tests: a small CalDAV
client (the "other client", as a phone would be) for the harness's Radicale,
the iCloud-like front (tests/emulators/icloud_front.py) as a process, and
connecting a pool_helpers.World to a Radicale calendar with a sealed app
password."""

import base64
import http.client
import json
import os
import re
import subprocess
import urllib.parse
import uuid

from calsync_helpers import query, run_tool, terminate, wait_line

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FRONT = os.path.join(ROOT, "tests", "emulators", "icloud_front.py")
SAMPLES = os.path.join(ROOT, "tests", "integration", "caldav_samples")


class Dav:
    """Plain HTTP CalDAV requests with Basic auth to one server."""

    def __init__(self, base, user, password):
        self.base, self.user, self.password = base.rstrip("/") + "/", user, password
        self.auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    @classmethod
    def of(cls, services):
        env = services.env
        return cls(env["CALSYNC_TEST_RADICALE_URL"], env["CALSYNC_TEST_RADICALE_USER"],
                   env["CALSYNC_TEST_RADICALE_PASSWORD"])

    def request(self, method, url, body=None, headers=None):
        u = urllib.parse.urlsplit(urllib.parse.urljoin(self.base, url))
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
        h = {"Authorization": self.auth}
        h.update(headers or {})
        try:
            conn.request(method, u.path, body=body.encode() if isinstance(body, str) else body,
                         headers=h)
            resp = conn.getresponse()
            return resp.status, dict(resp.getheaders()), resp.read().decode()
        finally:
            conn.close()

    def new_calendar(self, name=None, components="VEVENT"):
        """A new calendar collection of the test user; its absolute URL."""
        self.request("MKCOL", f"/{self.user}/")   # the user's home, made once
        url = urllib.parse.urljoin(self.base, f"/{self.user}/{name or uuid.uuid4().hex[:10]}/")
        comps = "".join(f'<C:comp name="{c}"/>' for c in components.split(","))
        body = ('<?xml version="1.0"?><C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"'
                ' xmlns:A="http://apple.com/ns/ical/"><D:set><D:prop><D:displayname>Family</D:displayname>'
                '<A:calendar-color>#34aadcff</A:calendar-color>'
                f'<C:supported-calendar-component-set>{comps}</C:supported-calendar-component-set>'
                '</D:prop></D:set></C:mkcalendar>')
        status, _, text = self.request("MKCALENDAR", url, body, {"Content-Type": "application/xml"})
        assert status == 201, (status, text)
        return url

    def put(self, url, ics, etag=None, create=False):
        headers = {"Content-Type": "text/calendar; charset=utf-8"}
        if etag:
            headers["If-Match"] = etag
        if create:
            headers["If-None-Match"] = "*"
        status, h, text = self.request("PUT", url, ics, headers)
        assert status in (201, 204), (status, text)
        return h.get("ETag") or h.get("Etag")

    def get(self, url):
        status, h, text = self.request("GET", url)
        return (text, h.get("ETag") or h.get("Etag")) if status == 200 else (None, None)

    def delete(self, url):
        status, _, _ = self.request("DELETE", url)
        assert status in (200, 204), status

    def resources(self, cal):
        """{absolute url: iCalendar text} of every member of the calendar."""
        body = ('<?xml version="1.0"?><C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
                '<D:prop><C:calendar-data/></D:prop><C:filter><C:comp-filter name="VCALENDAR"/>'
                '</C:filter></C:calendar-query>')
        status, _, text = self.request("REPORT", cal, body,
                                       {"Depth": "1", "Content-Type": "application/xml"})
        assert status == 207, status
        out = {}
        for m in re.finditer(r"<(?:\w+:)?response>(.*?)</(?:\w+:)?response>", text, re.S):
            href = re.search(r"<(?:\w+:)?href>([^<]*)<", m.group(1)).group(1)
            data = re.search(r"<(?:\w+:)?calendar-data[^>]*>(.*?)</", m.group(1), re.S)
            if data:
                out[urllib.parse.urljoin(cal, href)] = (data.group(1).replace("&#13;", "\r")
                                                       .replace("&lt;", "<").replace("&gt;", ">")
                                                       .replace("&amp;", "&"))
        return out


ZONES = {
    "Europe/London": ("BEGIN:VTIMEZONE\r\nTZID:Europe/London\r\nBEGIN:DAYLIGHT\r\n"
                      "TZOFFSETFROM:+0000\r\nTZOFFSETTO:+0100\r\nTZNAME:BST\r\n"
                      "DTSTART:19810329T010000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n"
                      "END:DAYLIGHT\r\nBEGIN:STANDARD\r\nTZOFFSETFROM:+0100\r\n"
                      "TZOFFSETTO:+0000\r\nTZNAME:GMT\r\nDTSTART:19961027T020000\r\n"
                      "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\n"
                      "END:VTIMEZONE\r\n"),
    "America/New_York": ("BEGIN:VTIMEZONE\r\nTZID:America/New_York\r\nBEGIN:DAYLIGHT\r\n"
                         "TZOFFSETFROM:-0500\r\nTZOFFSETTO:-0400\r\nTZNAME:EDT\r\n"
                         "DTSTART:20070311T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU\r\n"
                         "END:DAYLIGHT\r\nBEGIN:STANDARD\r\nTZOFFSETFROM:-0400\r\n"
                         "TZOFFSETTO:-0500\r\nTZNAME:EST\r\nDTSTART:20071104T020000\r\n"
                         "RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU\r\nEND:STANDARD\r\n"
                         "END:VTIMEZONE\r\n"),
}


def calendar(body, tz=None):
    """A VCALENDAR around body, with the VTIMEZONE of tz as phones send it."""
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Tests//Phone//EN\r\n"
            + (ZONES[tz] if tz else "") + body + "END:VCALENDAR\r\n")


def vevent(uid, summary, start, end, extra="", tz=None):
    """A one-VEVENT resource; start/end 'YYYYMMDDTHHMMSS[Z]' or 'YYYYMMDD' (all-day)."""
    def when(name, v):
        if len(v) == 8:
            return f"{name};VALUE=DATE:{v}"
        return f"{name};TZID={tz}:{v}" if tz else f"{name}:{v}"
    return calendar("BEGIN:VEVENT\r\n"
                    f"UID:{uid}\r\nDTSTAMP:20261101T000000Z\r\n{when('DTSTART', start)}\r\n"
                    f"{when('DTEND', end)}\r\nSUMMARY:{summary}\r\n{extra}END:VEVENT\r\n", tz)


def start_front(radicale_url, user):
    """The iCloud-like front as a process; (process, entry URL, partition URL)."""
    proc = subprocess.Popen(["/usr/bin/python3", FRONT, "--radicale", radicale_url, "--user", user],
                            stdout=subprocess.PIPE, text=True)
    ports = wait_line(proc, proc.stdout, "LISTENING ", 15.0, "the iCloud-like front").split()[1:]
    return proc, "http://127.0.0.1:%s/" % ports[0], "http://127.0.0.1:%s/" % ports[1]


class Front:
    def __init__(self, services):
        env = services.env
        self.proc, self.entry, self.partition = start_front(env["CALSYNC_TEST_RADICALE_URL"],
                                                            env["CALSYNC_TEST_RADICALE_USER"])
        self.dav = Dav(self.partition, env["CALSYNC_TEST_RADICALE_USER"],
                       env["CALSYNC_TEST_RADICALE_PASSWORD"])

    def calendar_url(self, radicale_url):
        """The front's URL of a Radicale calendar."""
        name = radicale_url.rstrip("/").rsplit("/", 1)[1]
        return f"{self.partition}123456789/calendars/{name}/"

    def control(self, method, path, body=None):
        u = urllib.parse.urlsplit(self.entry)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
        try:
            conn.request(method, path, body=body)
            resp = conn.getresponse()
            data = resp.read()
            return json.loads(data) if data else None
        finally:
            conn.close()

    def sync_collection(self, on):
        self.control("POST", "/_front/sync-collection", b"on" if on else b"off")

    def stats(self):
        return self.control("GET", "/_front/stats")

    def stop(self):
        terminate(self.proc)
        self.proc.stdout.close()


def seal(world, secret):
    return run_tool(world.bin_dir, "secret", "seal", "--tenant", world.tenant, env=world.env,
                    input=secret, check=True).stdout.strip()


def connect_caldav(world, dav, cal_url, provider="caldav", entry=None, password=None):
    """A CalDAV calendar row for world's tenant (entry point: dav's base)."""
    cal = str(uuid.uuid4())
    sealed = seal(world, password or dav.password)
    query(world.db_url, "INSERT INTO external_calendars(id, tenant_id, user_id, provider,"
                        " provider_calendar_id, calendar_name, calendar_color, is_primary,"
                        " caldav_url, caldav_username, icloud_app_password_encrypted)"
                        " VALUES (%s, %s, %s, %s, %s, 'Family', '#34aadc', TRUE, %s, %s, %s)",
          (cal, world.tenant, world.user, provider, cal_url,
           "" if provider == "icloud" else (entry or dav.base), dav.user, sealed))
    world.env.update({"CALSYNC_CALDAV_ALLOW_HTTP": "1", "CALSYNC_CALDAV_ALLOW_PRIVATE": "1"})
    if entry and provider == "icloud":
        world.env["CALSYNC_ICLOUD_URL"] = entry
    world.worker_program = "calsync-worker"
    return cal
