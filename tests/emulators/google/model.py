"""Events and calendars, with the write operations of the Events API.

A Calendar keeps its events in three structures so that every list request
is O(page): `events` (id -> Event), `order` (ids in creation order, for full
listings; deleted events stay as status "cancelled") and a change log
(`log_seq`/`log_ids`, appended on every write, for incremental listings).
Every Event caches its JSON text, so a page is mostly a string join."""

import base64
import bisect

from . import events as ev_rules
from . import fields
from .util import EVENT_ID_RE, ApiError, dumps, new_event_id

# Fields the client cannot set through update/patch.
SYSTEM_KEYS = ("kind", "etag", "id", "htmlLink", "created", "updated", "creator",
               "organizer", "iCalUID", "sequence", "recurringEventId",
               "originalStartTime", "eventType")


class Event:
    """One stored event resource plus its cached JSON renderings."""

    __slots__ = ("res", "seq", "_full", "_min", "_picked")

    def __init__(self, res, seq=0):
        self.res = res
        self.seq = seq          # change sequence number of the last write
        self._full = None
        self._min = None
        self._picked = None     # (fields spec, rendering) of the last partial list

    @property
    def id(self):
        return self.res["id"]

    @property
    def cancelled(self):
        return self.res.get("status") == "cancelled"

    @property
    def master_id(self):
        return self.res.get("recurringEventId")

    def full_json(self):
        if self._full is None:
            self._full = dumps(self.res)
        return self._full

    def minimal(self):
        """What lists show for a cancelled item: only the guaranteed fields."""
        out = {k: self.res[k] for k in ("kind", "etag", "id", "status") if k in self.res}
        if self.master_id:
            out["recurringEventId"] = self.master_id
            out["originalStartTime"] = self.res["originalStartTime"]
        return out

    def list_json(self):
        if not self.cancelled:
            return self.full_json()
        if self._min is None:
            self._min = dumps(self.minimal())
        return self._min

    def picked_json(self, spec, tree):
        """list_json() narrowed to a `fields` selection of the items."""
        if self._picked is None or self._picked[0] != spec:
            shown = self.minimal() if self.cancelled else self.res
            self._picked = (spec, dumps(fields.select(tree, shown)))
        return self._picked[1]

    def local_json(self):
        """The local_times rendering: each dateTime that has a timeZone without
        its offset, as wall time in that zone (the Event resource allows it:
        "an offset is required unless a time zone is explicitly specified")."""
        res = dict(self.res)
        for key in ("start", "end", "originalStartTime"):
            t = res.get(key)
            if isinstance(t, dict) and t.get("dateTime") and t.get("timeZone"):
                res[key] = dict(t, dateTime=t["dateTime"][:19])
        return dumps(res)

    def garbage_json(self):
        """A malformed rendering for the garbage_item fault: start is no object."""
        res = dict(self.res)
        res["start"] = "not-an-object"
        res.pop("end", None)
        return dumps(res)


def check_if_match(event, if_match):
    """412 conditionNotMet unless If-Match is absent, '*', or the current etag."""
    if if_match is None:
        return
    current = event.res.get("etag", "").strip('"')
    for tag in if_match.split(","):
        tag = tag.strip()
        if tag == "*" or tag.replace("W/", "", 1).strip('"') == current:
            return
    raise ApiError(412, "conditionNotMet", "Precondition Failed")


def _html_link(eid, cal_id):
    raw = ("%s %s" % (eid, cal_id)).encode()
    return "https://www.google.com/calendar/event?eid=" + base64.b64encode(raw).decode().rstrip("=")


def _sequence_arg(body, current):
    """The client's `sequence`, checked; None when absent."""
    seq = body.get("sequence")
    if seq is None:
        return None
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0:
        raise ApiError(400, "invalid", "Invalid value for: sequence")
    if current is not None and seq < current:
        raise ApiError(400, "invalid", "Invalid sequence value. The specified sequence "
                       "number is below the current sequence number of the resource.")
    return seq


class Calendar:
    """A calendar's metadata, its events and its change log."""

    def __init__(self, cid, meta=None):
        self.id = cid
        self.meta = {"summary": cid, "timeZone": "UTC", "backgroundColor": "#9fc6e7",
                     "foregroundColor": "#000000"}
        self.meta.update({k: v for k, v in (meta or {}).items() if v is not None})
        self.events = {}
        self.order = []
        self.log_seq = []
        self.log_ids = []
        self.last_seq = 0
        self.exceptions = {}   # series id -> {instance stamp -> exception id}
        self.icaluids = {}     # iCalUID -> id, for stand-alone events and series

    @property
    def tz(self):
        return self.meta.get("timeZone") or "UTC"

    # -- bookkeeping ------------------------------------------------------

    def _commit(self, event, stamper, created=False):
        seq, etag, updated = stamper.next_version()
        res = event.res
        res["etag"], res["updated"] = etag, updated
        if created:
            res["created"] = updated
        event.res = ev_rules.ordered(res)
        event.seq, event._full, event._min, event._picked = seq, None, None, None
        self.log_seq.append(seq)
        self.log_ids.append(event.id)
        self.last_seq = seq
        stamper.calendar_changed(self.id)
        return event

    def _add(self, event, stamper):
        self.events[event.id] = event
        self.order.append(event.id)
        master = event.master_id
        if master:
            stamp = ev_rules.instance_stamp(event.res["originalStartTime"])
            self.exceptions.setdefault(master, {})[stamp] = event.id
        else:
            self.icaluids.setdefault(event.res["iCalUID"], event.id)
        return self._commit(event, stamper, created=True)

    def restore(self, res, seq):
        """Re-add an event loaded from a state file (no new version)."""
        event = Event(res, seq)
        self.events[event.id] = event
        self.order.append(event.id)
        if event.master_id:
            stamp = ev_rules.instance_stamp(res["originalStartTime"])
            self.exceptions.setdefault(event.master_id, {})[stamp] = event.id
        else:
            self.icaluids.setdefault(res.get("iCalUID"), event.id)

    def rebuild_log(self):
        """After restore(): one log entry per event, ordered by seq."""
        pairs = sorted((e.seq, e.id) for e in self.events.values())
        self.log_seq = [s for s, _ in pairs]
        self.log_ids = [i for _, i in pairs]
        self.last_seq = self.log_seq[-1] if pairs else 0

    def changes_after(self, seq):
        """Index of the first log entry with a sequence number above seq."""
        return bisect.bisect_right(self.log_seq, seq)

    # -- lookups ----------------------------------------------------------

    def find(self, eid):
        """(event, virtual): a stored event, or an unmodified instance of a
        series addressed as '<seriesId>_<stamp>' (virtual=True). 404 otherwise."""
        event = self.events.get(eid)
        if event is not None:
            return event, False
        virtual = self._virtual_instance(eid)
        if virtual is None:
            raise ApiError(404, "notFound", "Not Found")
        return virtual, True

    def _virtual_instance(self, eid):
        master_id, _, stamp = eid.rpartition("_")
        master = self.events.get(master_id)
        if not master_id or master is None or master.cancelled or "recurrence" not in master.res:
            return None
        original = ev_rules.original_start_from_stamp(stamp, master.res)
        if original is None:
            return None
        res = {k: v for k, v in master.res.items() if k != "recurrence"}
        res["id"], res["recurringEventId"] = eid, master_id
        res["originalStartTime"] = original
        res["start"], res["end"] = self._shift(master.res, original)
        return Event(ev_rules.ordered(res), master.seq)

    @staticmethod
    def _shift(master, original):
        """start/end of an instance: the series' duration from its original start."""
        start = dict(original)
        if "date" in original:
            length = ev_rules.instant_key(master["end"]) - ev_rules.instant_key(master["start"])
            end_day = ev_rules.instant_key(original) + length
            return start, {"date": end_day.isoformat()}
        length = ev_rules.instant_key(master["end"]) - ev_rules.instant_key(master["start"])
        end_instant = ev_rules.instant_key(original) + length
        tz_name = master["end"].get("timeZone")
        end = {"dateTime": ev_rules.render_datetime(end_instant, tz_name or "UTC")}
        if tz_name:
            end["timeZone"] = tz_name
        return start, end

    # -- writes -----------------------------------------------------------

    def insert(self, body, stamper, actor):
        """events.insert; also creates an exception when recurringEventId is set."""
        if not isinstance(body, dict):
            raise ApiError(400, "parseError", "Parse Error")
        master = None
        eid = body.get("id")
        if body.get("recurringEventId") is not None:
            master, original, stamp = self._exception_target(body)
            eid = eid or "%s_%s" % (master.id, stamp)
        if eid is None:
            eid = new_event_id()
        elif not isinstance(eid, str) or not (EVENT_ID_RE.match(eid) or (master and eid == "%s_%s" % (master.id, stamp))):
            raise ApiError(400, "invalid", "Invalid resource id value.")
        if eid in self.events:
            raise ApiError(409, "duplicate", "The requested identifier already exists.")
        fields = ev_rules.build_fields(body, self.tz, master is not None)
        ical = body.get("iCalUID") if master is None else master.res["iCalUID"]
        if master is None and ical is not None and ical in self.icaluids:
            raise ApiError(409, "duplicate", "The requested identifier already exists.")
        res = {"kind": "calendar#event", "id": eid, "status": "confirmed",
               "htmlLink": _html_link(eid, self.id),
               "creator": {"email": actor}, "organizer": {"email": self.id, "self": True},
               "iCalUID": ical or eid + "@google.com",
               "sequence": _sequence_arg(body, None) or 0,
               "reminders": {"useDefault": True}, "eventType": "default"}
        res.update(fields)
        if master is not None:
            res["recurringEventId"], res["originalStartTime"] = master.id, original
        return self._add(Event(res), stamper)

    def _exception_target(self, body):
        master = self.events.get(body["recurringEventId"])
        if master is None or master.cancelled:
            raise ApiError(404, "notFound", "Not Found")
        if "recurrence" not in master.res:
            raise ApiError(400, "invalid", "Invalid value for: recurringEventId")
        if body.get("originalStartTime") is None:
            raise ApiError(400, "required", "Missing original start time.")
        original, _ = ev_rules.normalize_time(body["originalStartTime"], "originalStartTime", self.tz)
        stamp = ev_rules.instance_stamp(original)
        if stamp in self.exceptions.get(master.id, {}):
            raise ApiError(409, "duplicate", "The requested identifier already exists.")
        return master, original, stamp

    def update(self, eid, body, stamper, if_match=None, patch=False, force_bump=False):
        """events.update (PUT) or events.patch; force_bump for /_emu changes."""
        event, virtual = self.find(eid)
        check_if_match(event, if_match)
        if not isinstance(body, dict):
            raise ApiError(400, "parseError", "Parse Error")
        old = event.res
        writable = {k: v for k, v in old.items() if k not in SYSTEM_KEYS}
        merged = ev_rules.merge_patch(writable, body) if patch else body
        fields = ev_rules.build_fields(merged, self.tz, event.master_id is not None)
        fields.setdefault("status", old.get("status", "confirmed"))
        current = old.get("sequence", 0)
        seq = _sequence_arg(body, current)
        if seq is None or seq == current:
            seq = current + (1 if force_bump or ev_rules.significant_change(old, fields) else 0)
        res = {k: old[k] for k in SYSTEM_KEYS if k in old}
        res.update(fields)
        res["sequence"] = seq
        if virtual:
            return self._add(Event(res), stamper)
        event.res = res
        return self._commit(event, stamper)

    def delete(self, eid, stamper, if_match=None):
        """events.delete: the event stays, as status "cancelled"."""
        event, virtual = self.find(eid)
        if event.cancelled and not virtual:
            raise ApiError(410, "deleted", "Resource has been deleted")
        check_if_match(event, if_match)
        self._cancel(event, stamper, virtual)
        for exc_id in list(self.exceptions.get(event.id, {}).values()):
            exc = self.events[exc_id]
            if not exc.cancelled:
                self._cancel(exc, stamper, False)
        return event

    def _cancel(self, event, stamper, virtual):
        res = dict(event.res)
        res["status"] = "cancelled"
        res["sequence"] = res.get("sequence", 0) + 1
        if virtual:
            return self._add(Event(res), stamper)
        event.res = res
        return self._commit(event, stamper)
