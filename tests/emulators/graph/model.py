"""Events of one calendar as Graph keeps them: single instances, series
masters with their occurrences (expanded from {pattern, range}), exceptions
and cancelled occurrences; writes with If-Match; rendering with
Prefer: outlook.timezone."""

import copy
import datetime as dt

from dateutil import rrule

from .util import UTC, GraphError, new_etag, new_id, now, parse_local, render_time, utc_text, zone

OWNED = ("subject", "body", "location", "start", "end", "isAllDay", "recurrence", "attendees",
         "showAs", "categories", "importance", "sensitivity", "isReminderOn",
         "reminderMinutesBeforeStart")
DAYS = {"sunday": rrule.SU, "monday": rrule.MO, "tuesday": rrule.TU, "wednesday": rrule.WE,
        "thursday": rrule.TH, "friday": rrule.FR, "saturday": rrule.SA}
INDEX = {"first": 1, "second": 2, "third": 3, "fourth": 4, "last": -1}
HORIZON_DAYS = 3 * 366


def _starts(ev):
    """The occurrence starts (UTC) of a series master, at most three years on."""
    rec, tzname = ev["recurrence"], ev["start"].get("timeZone")
    tz = zone(tzname)
    first = parse_local(ev["start"], tzname).astimezone(tz).replace(tzinfo=None)
    pat, rng = rec.get("pattern") or {}, rec.get("range") or {}
    kind, interval = pat.get("type"), int(pat.get("interval") or 1)
    kw = {"dtstart": first, "interval": interval}
    days = [DAYS[d] for d in pat.get("daysOfWeek") or []]
    if kind == "daily":
        freq = rrule.DAILY
    elif kind == "weekly":
        freq = rrule.WEEKLY
        kw["byweekday"] = days
        kw["wkst"] = DAYS[pat.get("firstDayOfWeek") or "sunday"]
    elif kind in ("absoluteMonthly", "relativeMonthly", "absoluteYearly", "relativeYearly"):
        freq = rrule.MONTHLY if kind.endswith("Monthly") else rrule.YEARLY
        if kind.endswith("Yearly"):
            kw["bymonth"] = int(pat["month"])
        if kind.startswith("absolute"):
            kw["bymonthday"] = int(pat["dayOfMonth"])
        else:
            kw["byweekday"] = days
            kw["bysetpos"] = INDEX[pat.get("index") or "first"]
    else:
        raise GraphError(400, "ErrorInvalidRequest", "recurrence pattern type is not valid")
    if rng.get("type") == "numbered":
        kw["count"] = int(rng["numberOfOccurrences"])
    elif rng.get("type") == "endDate":
        kw["until"] = dt.datetime.fromisoformat(rng["endDate"]).replace(hour=23, minute=59, second=59)
    limit = first + dt.timedelta(days=HORIZON_DAYS)
    out = []
    for local in rrule.rrule(freq, **kw):
        if local > limit:
            break
        out.append(local.replace(tzinfo=tz).astimezone(UTC))
    return out


class Calendar:
    def __init__(self, cal_id, mailbox, name="Calendar", color="#0078d4", default=False,
                 can_edit=True):
        self.id, self.mailbox = cal_id, mailbox
        self.name, self.color, self.default, self.can_edit = name, color, default, can_edit
        self.events = {}          # id -> stored event (singleInstance, seriesMaster, exception)
        self.transactions = {}    # transactionId -> event id
        self.on_change = None     # (calendar, changeType, event id): subscriptions.py

    def _changed(self, kind, event_id):
        if self.on_change:
            self.on_change(self, kind, event_id)

    def info(self):
        return {"id": self.id, "name": self.name, "hexColor": self.color, "color": "auto",
                "isDefaultCalendar": self.default, "canEdit": self.can_edit,
                "owner": {"address": self.mailbox}}

    # -- reading ------------------------------------------------------------

    def occurrence_id(self, master, start):
        local = start.astimezone(zone(master["start"].get("timeZone")))
        return "OID.%s.%s" % (master["id"], local.strftime("%Y-%m-%d"))

    def exceptions_of(self, master_id):
        return [e for e in self.events.values() if e.get("seriesMasterId") == master_id]

    def instances(self, master, frm=None, to=None):
        """Occurrences and exceptions of master starting in [frm, to) (None: all)."""
        taken = {e["originalStart"]: e for e in self.exceptions_of(master["id"])}
        length = parse_local(master["end"], master["end"].get("timeZone")) - \
            parse_local(master["start"], master["start"].get("timeZone"))
        out = []
        for start in _starts(master):
            oid = self.occurrence_id(master, start)
            if oid in master.get("cancelledOccurrences", []):
                continue
            exc = taken.get(utc_text(start))
            when = parse_local(exc["start"], exc["start"].get("timeZone")) if exc else start
            if (frm and when < frm) or (to and when >= to):
                continue
            if exc:
                out.append(exc)
                continue
            occ = {k: copy.deepcopy(v) for k, v in master.items()
                   if k not in ("recurrence", "cancelledOccurrences", "transactionId")}
            tzname = master["start"].get("timeZone")
            occ.update(id=oid, type="occurrence", seriesMasterId=master["id"],
                       originalStart=utc_text(start), start=render_time(start, tzname),
                       end=render_time(start + length, tzname))
            out.append(occ)
        return out

    def find(self, event_id):
        """A stored event, or the occurrence an occurrence id names (None: unknown)."""
        if event_id in self.events:
            return self.events[event_id]
        if not event_id.startswith("OID."):
            return None
        master_id, _, day = event_id[4:].rpartition(".")
        master = self.events.get(master_id)
        if not master or master.get("type") != "seriesMaster":
            return None
        for occ in self.instances(master):
            start = occ["originalStart"]
            if self.occurrence_id(master, parse_local({"dateTime": start}, "UTC")) == event_id:
                return occ
        return None

    # -- writing ------------------------------------------------------------

    def _check(self, ev):
        start = parse_local(ev.get("start"), None)
        end = parse_local(ev.get("end"), None)
        if end < start:
            raise GraphError(400, "ErrorInvalidRequest", "The end of the event is before its start.")
        if ev.get("isAllDay"):
            for key in ("start", "end"):
                if "T00:00:00" not in ev[key]["dateTime"]:
                    raise GraphError(400, "ErrorInvalidRequest",
                                     "Start and End for an all-day event must be at midnight.")
        if ev.get("recurrence"):
            _starts(ev)

    def _stamp(self, ev):
        ev["@odata.etag"] = new_etag()
        ev["changeKey"] = ev["@odata.etag"][3:-1]
        ev["lastModifiedDateTime"] = utc_text(now())

    def create(self, body, extra=None):
        txn = body.get("transactionId")
        if txn and txn in self.transactions and self.transactions[txn] in self.events:
            return self.events[self.transactions[txn]], False
        ev = {k: copy.deepcopy(body[k]) for k in OWNED if k in body}
        ev.setdefault("subject", "")
        ev.setdefault("isAllDay", False)
        ev.setdefault("showAs", "busy")
        ev.update(id=new_id(), iCalUId="040000008200E00074C5B7101A82E008%s" % new_id("")[:-1],
                  createdDateTime=utc_text(now()),
                  type="seriesMaster" if body.get("recurrence") else "singleInstance",
                  originalStartTimeZone=(body.get("start") or {}).get("timeZone"),
                  originalEndTimeZone=(body.get("end") or {}).get("timeZone"))
        if ev["type"] == "seriesMaster":
            ev["cancelledOccurrences"] = []
        if txn:
            ev["transactionId"] = txn
        ev["singleValueExtendedProperties"] = copy.deepcopy(body.get("singleValueExtendedProperties") or [])
        ev.update(extra or {})
        self._check(ev)
        self._stamp(ev)
        self.events[ev["id"]] = ev
        if txn:
            self.transactions[txn] = ev["id"]
        self._changed("created", ev["id"])
        return ev, True

    def _merge_props(self, ev, props):
        have = {p["id"].lower(): p for p in ev.setdefault("singleValueExtendedProperties", [])}
        for p in props or []:
            if p.get("id", "").lower() in have:
                have[p["id"].lower()]["value"] = p.get("value")
            else:
                ev["singleValueExtendedProperties"].append(dict(p))

    def current(self, event_id, if_match=None):
        """The event (or occurrence) event_id, if If-Match allows writing it."""
        ev = self.find(event_id)
        if ev is None:
            raise GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.")
        if if_match and if_match != "*" and if_match != ev["@odata.etag"]:
            raise GraphError(412, "ErrorIrresolvableConflict",
                             "The change key passed in the request does not match the current "
                             "change key of the item.")
        return ev

    def update(self, event_id, body, if_match=None):
        ev = self.current(event_id, if_match)
        if ev["type"] == "occurrence":   # becomes an exception; the master stays as it is
            ev = dict(ev, id=new_id(), type="exception")
            ev.pop("singleValueExtendedProperties", None)
            ev["singleValueExtendedProperties"] = []
            self.events[ev["id"]] = ev
        new = copy.deepcopy(ev)
        for k in OWNED:
            if k in body:
                if k == "recurrence" and ev["type"] in ("exception", "occurrence"):
                    continue
                new[k] = copy.deepcopy(body[k])
        if "recurrence" in body and new["type"] in ("singleInstance", "seriesMaster"):
            new["type"] = "seriesMaster" if body["recurrence"] else "singleInstance"
            new.setdefault("cancelledOccurrences", [])
            if not body["recurrence"]:
                new.pop("cancelledOccurrences", None)
        if "start" in body:
            new["originalStartTimeZone"] = body["start"].get("timeZone")
        self._merge_props(new, body.get("singleValueExtendedProperties"))
        self._check(new)
        self._stamp(new)
        self.events[new["id"]] = new
        self._changed("updated", new["id"])
        return new

    def delete(self, event_id, if_match=None):
        ev = self.current(event_id, if_match)
        self._changed("deleted", event_id)
        if ev["type"] in ("occurrence", "exception"):
            master = self.events[ev["seriesMasterId"]]
            oid = self.occurrence_id(master, parse_local({"dateTime": ev["originalStart"]}, "UTC"))
            master["cancelledOccurrences"] = master.get("cancelledOccurrences", []) + [oid]
            self._stamp(master)
            self.events.pop(ev["id"], None)
            return
        for exc in self.exceptions_of(ev["id"]):
            self.events.pop(exc["id"], None)
        self.events.pop(ev["id"], None)

    # -- answers ------------------------------------------------------------

    @staticmethod
    def render(ev, tzname="UTC", expand_ids=None):
        """ev as Graph answers it: times in the Prefer zone, extended properties only when expanded."""
        out = {k: copy.deepcopy(v) for k, v in ev.items() if k != "singleValueExtendedProperties"}
        if not ev.get("isAllDay"):
            for key in ("start", "end"):
                out[key] = render_time(parse_local(ev[key], None), tzname)
        if expand_ids is not None:
            out["singleValueExtendedProperties"] = [
                p for p in ev.get("singleValueExtendedProperties", [])
                if not expand_ids or p["id"].lower() in expand_ids]
        out["isCancelled"] = False
        return out

    def visible(self, window=None):
        """What a delta round lists: events/delta (window None): single instances,
        masters and exceptions; calendarView/delta: single instances, occurrences and
        exceptions in [start, end)."""
        if window is None:
            return list(self.events.values())
        frm, to = window
        out = []
        for ev in self.events.values():
            if ev["type"] == "singleInstance":
                start = parse_local(ev["start"], None)
                end = parse_local(ev["end"], None)
                if start < to and end > frm:
                    out.append(ev)
            elif ev["type"] == "seriesMaster":
                out.extend(self.instances(ev, frm, to))
        return out
