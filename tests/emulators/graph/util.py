"""Time zones (Windows names from CLDR's windowsZones.xml, as Graph uses them),
Graph's dateTimeTimeZone values, ids, etags and error answers."""

import datetime as dt
import itertools
import json
import os
import uuid
import xml.etree.ElementTree as ET
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WINDOWS_ZONES = os.environ.get("CALSYNC_WINDOWS_ZONES_FILE") or \
    "/usr/share/unicode/cldr/common/supplemental/windowsZones.xml"
UTC = dt.timezone.utc
_counter = itertools.count(1)


class GraphError(Exception):
    """An answer {"error": {"code", "message"}} with an HTTP status."""

    def __init__(self, status, code, message, headers=None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}

    def body(self):
        return {"error": {"code": self.code, "message": self.message,
                          "innerError": {"request-id": str(uuid.uuid4())}}}


def _load_zones():
    golden, any_to_windows = {}, {}
    for mz in ET.parse(WINDOWS_ZONES).getroot().iter("mapZone"):
        win, terr, types = mz.get("other"), mz.get("territory"), mz.get("type", "").split()
        if terr == "001" and types:
            golden[win] = types[0]
        for t in types:
            any_to_windows.setdefault(t, win)
    return golden, any_to_windows


WIN_TO_IANA, IANA_TO_WIN = _load_zones()


def zone(name):
    """A tzinfo for a Graph timeZone value (Windows or IANA name, "UTC")."""
    if not name or name in ("UTC", "tzone://Microsoft/Utc"):
        return UTC
    iana = WIN_TO_IANA.get(name, name)
    try:
        return ZoneInfo(iana)
    except (ZoneInfoNotFoundError, ValueError):
        raise GraphError(400, "TimeZoneNotSupportedException",
                         "A valid TimeZone value must be specified. The following TimeZone "
                         "value is not supported: '%s'." % name)


def parse_local(value, tzname):
    """A dateTimeTimeZone {dateTime, timeZone} -> aware datetime (UTC)."""
    if not isinstance(value, dict) or not isinstance(value.get("dateTime"), str):
        raise GraphError(400, "ErrorInvalidRequest", "dateTime is missing")
    text = value["dateTime"].rstrip("Z")
    if "." in text:
        text = text.split(".")[0]
    try:
        naive = dt.datetime.fromisoformat(text)
    except ValueError:
        raise GraphError(400, "ErrorInvalidRequest", "dateTime '%s' is not valid" % value["dateTime"])
    tz = zone(value.get("timeZone") or tzname)
    return naive.replace(tzinfo=tz).astimezone(UTC)


def render_time(instant, tzname):
    """UTC instant -> {dateTime (7 fraction digits, no offset), timeZone} in tzname."""
    local = instant.astimezone(zone(tzname))
    return {"dateTime": local.strftime("%Y-%m-%dT%H:%M:%S") + ".0000000", "timeZone": tzname}


def utc_text(instant):
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def now():
    return dt.datetime.now(UTC).replace(microsecond=0)


def new_id(prefix="AAMkAD"):
    return "%s%s=" % (prefix, uuid.uuid4().hex)


def new_etag():
    return 'W/"DwAAABYAAA%06d"' % next(_counter)


def dumps(obj):
    return json.dumps(obj, separators=(",", ":")).encode()
