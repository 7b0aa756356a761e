"""Validation, normalisation and rendering of Google Calendar event resources.

build_fields() turns a client body into the stored, writable part of an event
the way Google does: start/end checked and re-rendered in the event's (or the
calendar's) time zone, recurrence lines checked, extendedProperties keys longer
than 44 characters dropped and values cut to 1024 characters, and so on.
System fields (id, etag, updated, sequence, ...) are set by model.py."""

import datetime as dt
import re
from functools import lru_cache

from .util import UTC, ApiError, parse_rfc3339

try:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
except ImportError:  # pragma: no cover - Python < 3.9
    ZoneInfo = None
    ZoneInfoNotFoundError = Exception

# Output order of an event resource, as Google serialises it.
FIELD_ORDER = (
    "kind", "etag", "id", "status", "htmlLink", "created", "updated", "summary",
    "description", "location", "colorId", "creator", "organizer", "start", "end",
    "endTimeUnspecified", "recurrence", "recurringEventId", "originalStartTime",
    "transparency", "visibility", "iCalUID", "sequence", "attendees",
    "extendedProperties", "guestsCanInviteOthers", "guestsCanModify",
    "guestsCanSeeOtherGuests", "anyoneCanAddSelf", "reminders", "source", "eventType",
)
STRING_FIELDS = ("summary", "description", "location", "colorId")
BOOL_FIELDS = ("guestsCanInviteOthers", "guestsCanModify", "guestsCanSeeOtherGuests",
               "anyoneCanAddSelf")
ENUMS = {
    "status": ("confirmed", "tentative", "cancelled"),
    "transparency": ("opaque", "transparent"),
    "visibility": ("default", "public", "private", "confidential"),
}
ATTENDEE_KEYS = ("email", "displayName", "organizer", "self", "resource", "optional",
                 "responseStatus", "comment", "additionalGuests")
RECURRENCE_RE = re.compile(r"^(RRULE|EXRULE|RDATE|EXDATE)[:;]", re.I)
RRULE_FREQ_RE = re.compile(r"(^|[:;])FREQ=(SECONDLY|MINUTELY|HOURLY|DAILY|WEEKLY|MONTHLY|YEARLY)(;|$)", re.I)
DATE_RE = re.compile(r"^\d{4}-\d\d-\d\d$")
UTC_ZONES = ("UTC", "Etc/UTC", "GMT", "Etc/GMT", "Z")
EXT_KEY_MAX, EXT_VALUE_MAX, EXT_MAX_PROPS = 44, 1024, 300


def invalid(message, reason="invalid"):
    return ApiError(400, reason, message)


@lru_cache(maxsize=512)
def zone(name):
    """ZoneInfo for an IANA name, or None when unknown."""
    if name in UTC_ZONES:
        return UTC
    if ZoneInfo is None:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, KeyError):
        return None


def render_datetime(instant, zone_name):
    """An aware datetime rendered in zone_name, whole seconds, 'Z' for UTC."""
    local = instant.astimezone(zone(zone_name) or UTC).replace(microsecond=0)
    if zone_name in UTC_ZONES:
        return local.strftime("%Y-%m-%dT%H:%M:%SZ")
    return local.isoformat()


def normalize_time(value, name, cal_tz):
    """Check one start/end/originalStartTime object.

    Returns (normalised dict, comparable key); key is a date or an aware datetime."""
    label = {"originalStartTime": "original start"}.get(name, name)
    if not isinstance(value, dict):
        raise invalid("Invalid %s time." % label)
    has_date, has_dt = value.get("date") is not None, value.get("dateTime") is not None
    if not has_date and not has_dt:
        raise invalid("Missing %s time." % label, "required")
    if has_date and has_dt:
        raise invalid("Invalid %s time." % label)
    tz_name = value.get("timeZone")
    if tz_name is not None and (not isinstance(tz_name, str) or zone(tz_name) is None):
        raise invalid("Invalid time zone definition for %s time." % label)
    if has_date:
        return _normalize_date(value["date"], label, tz_name)
    return _normalize_datetime(value["dateTime"], label, tz_name, cal_tz)


def _normalize_date(text, label, tz_name):
    if not isinstance(text, str) or not DATE_RE.match(text):
        raise invalid("Invalid %s time." % label)
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise invalid("Invalid %s time." % label)
    out = {"date": text}
    if tz_name:
        out["timeZone"] = tz_name
    return out, day


def _normalize_datetime(text, label, tz_name, cal_tz):
    instant = parse_rfc3339(text)
    if instant is None:
        local = _parse_local(text)
        if local is None:
            raise invalid("Invalid %s time." % label)
        if not tz_name:
            raise invalid("Missing time zone definition for %s time." % label, "required")
        instant = local.replace(tzinfo=zone(tz_name))
    out = {"dateTime": render_datetime(instant, tz_name or cal_tz)}
    if tz_name:
        out["timeZone"] = tz_name
    return out, instant.astimezone(UTC)


def _parse_local(text):
    if not isinstance(text, str) or not re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?$", text):
        return None
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        return None


def instant_key(time_obj):
    """Comparable key of an already normalised start/end/originalStartTime."""
    if "date" in time_obj:
        return dt.date.fromisoformat(time_obj["date"])
    return parse_rfc3339(time_obj["dateTime"]).astimezone(UTC)


def instance_stamp(original_start):
    """The suffix Google puts after '<seriesId>_' in an instance id."""
    if "date" in original_start:
        return original_start["date"].replace("-", "")
    return instant_key(original_start).strftime("%Y%m%dT%H%M%SZ")


def original_start_from_stamp(stamp, master):
    """Inverse of instance_stamp for a series `master`; None if malformed."""
    tz_name = master.get("start", {}).get("timeZone")
    all_day = "date" in master.get("start", {})
    if all_day and re.match(r"^\d{8}$", stamp):
        try:
            day = dt.datetime.strptime(stamp, "%Y%m%d").date()
        except ValueError:
            return None
        return {"date": day.isoformat()}
    if not all_day and re.match(r"^\d{8}T\d{6}Z$", stamp):
        try:
            instant = dt.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        except ValueError:
            return None
        out = {"dateTime": render_datetime(instant, tz_name or "UTC")}
        if tz_name:
            out["timeZone"] = tz_name
        return out
    return None


def normalize_recurrence(lines):
    if not isinstance(lines, list) or not all(isinstance(x, str) for x in lines):
        raise invalid("Invalid recurrence rule.")
    for line in lines:
        if not RECURRENCE_RE.match(line):
            raise invalid("Invalid recurrence rule.")
        kind = line.split(":", 1)[0].split(";", 1)[0].upper()
        if kind in ("RRULE", "EXRULE") and not RRULE_FREQ_RE.search(line):
            raise invalid("Invalid recurrence rule.")
    return list(lines)


def normalize_attendees(items):
    if not isinstance(items, list):
        raise invalid("Invalid attendees.")
    out = []
    for item in items:
        if not isinstance(item, dict):
            raise invalid("Invalid attendees.")
        email = item.get("email")
        if not email:
            raise invalid("Missing attendee email.", "required")
        if not isinstance(email, str) or "@" not in email:
            raise invalid("Invalid attendee email.")
        att = {k: item[k] for k in ATTENDEE_KEYS if item.get(k) is not None}
        att.setdefault("responseStatus", "needsAction")
        out.append(att)
    return out


def normalize_extended(value):
    """Drop keys over 44 chars, cut values to 1024 chars (Google does it silently)."""
    if not isinstance(value, dict):
        raise invalid("Invalid extendedProperties.")
    out, count = {}, 0
    for scope in ("private", "shared"):
        props = value.get(scope)
        if props is None:
            continue
        if not isinstance(props, dict):
            raise invalid("Invalid extendedProperties.%s." % scope)
        kept = {}
        for key, val in props.items():
            if val is None:
                continue
            if not isinstance(val, str):
                raise invalid("Invalid value for extended property %r." % key)
            if len(key) > EXT_KEY_MAX:
                continue
            kept[key] = val[:EXT_VALUE_MAX]
        count += len(kept)
        if kept:
            out[scope] = kept
    if count > EXT_MAX_PROPS:
        raise invalid("Too many extended properties.")
    return out


def build_fields(body, cal_tz, is_exception):
    """Validate a complete client body; return the writable fields to store."""
    if not isinstance(body, dict):
        raise ApiError(400, "parseError", "Parse Error")
    out = {}
    for key in STRING_FIELDS:
        if body.get(key) is not None:
            if not isinstance(body[key], str):
                raise invalid("Invalid value for: %s" % key)
            out[key] = body[key]
    for key in BOOL_FIELDS:
        if body.get(key) is not None:
            out[key] = bool(body[key])
    for key, allowed in ENUMS.items():
        if body.get(key) is not None:
            if body[key] not in allowed:
                raise invalid("Invalid value for: %s" % key)
            out[key] = body[key]
    _build_times(body, cal_tz, is_exception, out)
    if body.get("attendees") is not None:
        out["attendees"] = normalize_attendees(body["attendees"])
    if body.get("extendedProperties") is not None:
        ext = normalize_extended(body["extendedProperties"])
        if ext:
            out["extendedProperties"] = ext
    for key in ("reminders", "source"):
        if isinstance(body.get(key), dict):
            out[key] = body[key]
    return out


def _build_times(body, cal_tz, is_exception, out):
    if body.get("start") is None:
        raise invalid("Missing start time.", "required")
    if body.get("end") is None:
        raise invalid("Missing end time.", "required")
    out["start"], start_key = normalize_time(body["start"], "start", cal_tz)
    out["end"], end_key = normalize_time(body["end"], "end", cal_tz)
    if type(start_key) is not type(end_key):
        raise invalid("Start and end times must either both be date or both be dateTime.")
    if end_key < start_key:
        raise invalid("The specified time range is empty.", "timeRangeEmpty")
    recurrence = body.get("recurrence")
    if recurrence:
        if is_exception:
            raise invalid("Invalid recurrence rule.")
        out["recurrence"] = normalize_recurrence(recurrence)
        if "dateTime" in out["start"]:
            for name in ("start", "end"):
                if not out[name].get("timeZone"):
                    raise invalid("Missing time zone definition for %s time." % name, "required")


SIGNIFICANT_FIELDS = ("start", "end", "recurrence", "status")


def significant_change(old, new):
    """Google bumps `sequence` when the time, recurrence or status changes."""
    return any(old.get(k) != new.get(k) for k in SIGNIFICANT_FIELDS)


def merge_patch(target, patch):
    """Patch semantics: objects merge, arrays replace, null removes.

    start/end/originalStartTime switch kind cleanly: a patch with `date`
    drops the stored `dateTime` and vice versa."""
    out = dict(target)
    for key, val in patch.items():
        if val is None:
            out.pop(key, None)
        elif isinstance(val, dict) and isinstance(out.get(key), dict):
            base = dict(out[key])
            if key in ("start", "end", "originalStartTime"):
                if "date" in val:
                    base.pop("dateTime", None)
                if "dateTime" in val:
                    base.pop("date", None)
            out[key] = merge_patch(base, val)
        else:
            out[key] = val
    return out


def ordered(res):
    """The resource with keys in Google's order (unknown keys last)."""
    out = {k: res[k] for k in FIELD_ORDER if k in res}
    for k, v in res.items():
        if k not in out:
            out[k] = v
    return out
