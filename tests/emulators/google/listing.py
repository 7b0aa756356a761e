"""events.list and calendarList.list: paging, sync tokens and filters.

Full listing walks a calendar's `order` (creation order) from the position in
the page token; the last page carries a sync token for the change counter as
it was on the first page. Incremental listing walks the change log from the
sync token's counter, skipping log entries superseded by later writes; its
last page carries the calendar's newest counter. Both scan at most a bounded
number of entries per page, so a page can be short (even empty) while more
exist - as Google documents, only nextPageToken means "more"."""

import datetime as dt
import hashlib

from . import events as ev_rules
from . import fields
from .util import ApiError, decode_token, dumps, encode_token, parse_rfc3339, rfc3339_ms

PAGE_PREFIX, SYNC_PREFIX = "EmuP", "EmuS"
FILTER_PARAMS = ("timeMin", "timeMax", "updatedMin", "orderBy", "q", "iCalUID",
                 "privateExtendedProperty", "sharedExtendedProperty")
MIN_SCAN = 1000


class Params:
    """Typed access to a parsed query string ({name: [values]})."""

    def __init__(self, params):
        self.params = params
        self.page_token = self.one("pageToken")

    def one(self, name):
        values = self.params.get(name)
        return values[-1] if values else None

    def int(self, name, default, low, high):
        raw = self.one(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ApiError(400, "invalid", "Invalid value '%s' for %s." % (raw, name))
        if value < low:
            raise ApiError(400, "invalid", "Invalid value '%s'. Values must be within the "
                           "range: [%d, %d]" % (raw, low, high))
        return min(value, high)   # Google caps silently

    def bool(self, name):
        raw = self.one(name)
        if raw is None:
            return None
        if raw.lower() not in ("true", "false"):
            raise ApiError(400, "invalid", "Invalid boolean value '%s' for %s." % (raw, name))
        return raw.lower() == "true"


class Query(Params):
    """The parameters of one events.list request, checked."""

    def __init__(self, params):
        super().__init__(params)
        self.max_results = self.int("maxResults", 250, 1, 2500)
        self.sync_token = self.one("syncToken")
        self.show_deleted = self.bool("showDeleted")
        self.single_events = self.bool("singleEvents") or False
        self.order_by = self.one("orderBy")
        self.time_min = self._time("timeMin")
        self.time_max = self._time("timeMax")
        self.updated_min = self._time("updatedMin")
        self.q = (self.one("q") or "").lower() or None
        self.ical_uid = self.one("iCalUID")
        self.private = self._props("privateExtendedProperty")
        self.shared = self._props("sharedExtendedProperty")
        self._check_combinations()

    def _time(self, name):
        raw = self.one(name)
        if raw is None:
            return None
        value = parse_rfc3339(raw)
        if value is None:
            raise ApiError(400, "badRequest", "Bad Request")
        return value

    def _props(self, name):
        out = []
        for item in self.params.get(name, []):
            key, sep, value = item.partition("=")
            if not sep:
                raise ApiError(400, "invalid", "Invalid value for: %s" % name)
            out.append((key, value))
        return out

    def _check_combinations(self):
        if self.single_events:
            raise ApiError(400, "invalid", "singleEvents=true is not supported by this "
                           "emulator (calsync lists series masters and exceptions)")
        if self.order_by not in (None, "updated", "startTime"):
            raise ApiError(400, "invalid", "Invalid value for: orderBy")
        if self.order_by == "startTime":
            raise ApiError(400, "invalid", "The requested ordering is not available for "
                           "the particular query.")
        if self.sync_token is not None:
            restricted = [p for p in FILTER_PARAMS if p in self.params]
            if restricted or self.show_deleted is False:
                raise ApiError(400, "invalid", "Sync token cannot be used with other "
                               "request restrictions.")

    def fingerprint(self):
        """What a page token is bound to: every parameter except paging ones."""
        skip = ("pageToken", "maxResults", "fields")
        text = dumps(sorted((k, v) for k, v in self.params.items() if k not in skip))
        return hashlib.sha1(text.encode()).hexdigest()[:12]


# -- visibility and filters ------------------------------------------------

def visible_in_full_list(cal, event, query):
    if not event.cancelled or query.show_deleted:
        return True
    if query.updated_min is not None:
        return True   # "deleted since updatedMin are always included"
    master = cal.events.get(event.master_id) if event.master_id else None
    return master is not None and not master.cancelled


def _as_instant(time_obj, cal):
    key = ev_rules.instant_key(time_obj)
    if "date" in time_obj:
        tzinfo = ev_rules.zone(cal.tz) or dt.timezone.utc
        return dt.datetime.combine(key, dt.time(), tzinfo)
    return key


def matches_filters(cal, event, query):
    res = event.res
    if query.ical_uid is not None and res.get("iCalUID") != query.ical_uid:
        return False
    if query.updated_min is not None and parse_rfc3339(res["updated"]) < query.updated_min:
        return False
    if query.time_max is not None and "start" in res:
        if _as_instant(res["start"], cal) >= query.time_max:
            return False
    if query.time_min is not None and "end" in res and "recurrence" not in res:
        if _as_instant(res["end"], cal) <= query.time_min:
            return False
    if query.q is not None:
        text = " ".join(str(res.get(k, "")) for k in ("summary", "description", "location"))
        if query.q not in text.lower():
            return False
    ext = res.get("extendedProperties", {})
    for scope, wanted in (("private", query.private), ("shared", query.shared)):
        props = ext.get(scope, {})
        if any(props.get(k) != v for k, v in wanted):
            return False
    return True


# -- tokens ------------------------------------------------------------------

def sync_token(store, cal, seq):
    return encode_token(SYNC_PREFIX, {"c": cal.id, "s": seq, "e": store.sync_epoch})


def read_sync_token(store, cal, token):
    data = decode_token(SYNC_PREFIX, token)
    if (data is None or data.get("c") != cal.id or data.get("e") != store.sync_epoch
            or not isinstance(data.get("s"), int) or data["s"] > store.seq):
        raise ApiError(410, "fullSyncRequired", "Sync token is no longer valid, a full "
                       "sync is required.")
    return data["s"]


def read_page_token(cal, query, mode):
    data = decode_token(PAGE_PREFIX, query.page_token)
    if (data is None or data.get("c") != cal.id or data.get("m") != mode
            or data.get("f") != query.fingerprint()):
        raise ApiError(400, "invalid", "Invalid page token: it does not belong to this query.")
    return data


def page_token(cal, query, mode, pos, snap):
    return encode_token(PAGE_PREFIX, {"c": cal.id, "m": mode, "p": pos, "s": snap,
                                      "f": query.fingerprint()})


# -- events.list ---------------------------------------------------------------

def list_events(store, cal, entry, params, mods, selection=None):
    """The events.list response body (str). `mods` holds list faults:
    page_size (short pages), garbage_ids (items served malformed),
    local_ids (items whose dateTimes are served without offset) and
    repeat_ids (events served again at the end of every page);
    `selection` the request's `fields` (fields.Selection), if any."""
    query = Query(params)
    limit = query.max_results
    if mods.get("page_size") is not None:
        limit = min(limit, mods["page_size"])
    garbage = mods.get("garbage_ids") or ()
    local = mods.get("local_ids") or ()
    picked = selection.items() if selection else None

    def render(event):
        if picked is False:
            return ""           # the selection has no items
        if event.id in garbage:
            return event.garbage_json()
        if event.id in local and not event.cancelled:
            return event.local_json()
        return event.list_json() if picked is None else event.picked_json(selection.spec, picked)

    if query.sync_token is not None:
        items, more, pos, snap = _incremental(store, cal, query, limit, render)
        mode = "sync"
    elif query.order_by == "updated":
        items, more, pos, snap = _by_updated(cal, query, limit, render)
        mode = "updated"
    else:
        items, more, pos, snap = _full(cal, query, limit, render)
        mode = "full"
    items += [render(cal.events[i]) for i in mods.get("repeat_ids") or () if i in cal.events]
    head = {"kind": "calendar#events", "etag": '"p%d"' % cal.last_seq,
            "summary": cal.meta.get("summary", cal.id), "updated": rfc3339_ms(store.clock.now()),
            "timeZone": cal.tz, "accessRole": entry["accessRole"], "defaultReminders": []}
    if cal.meta.get("description"):
        head["description"] = cal.meta["description"]
    if more:
        head["nextPageToken"] = page_token(cal, query, mode, pos, snap)
    else:
        head["nextSyncToken"] = sync_token(store, cal, snap)
    if selection:
        head = fields.select(selection.tree, head)
        if picked is False:
            return dumps(head)
    return dumps(head)[:-1] + ',"items":[' + ",".join(items) + "]}"


def _full(cal, query, limit, render):
    if query.page_token:
        token = read_page_token(cal, query, "full")
        pos, snap = token["p"], token["s"]
    else:
        pos, snap = 0, cal.last_seq
    order, events, items = cal.order, cal.events, []
    end = min(len(order), pos + max(limit * 4, MIN_SCAN if limit else 0))
    while pos < end and len(items) < limit:
        event = events[order[pos]]
        pos += 1
        if visible_in_full_list(cal, event, query) and matches_filters(cal, event, query):
            items.append(render(event))
    return items, pos < len(order), pos, snap


def _by_updated(cal, query, limit, render):
    if query.page_token:
        token = read_page_token(cal, query, "updated")
        pos, snap = token["p"], token["s"]
    else:
        pos, snap = 0, cal.last_seq
    chosen = [e for e in cal.events.values()
              if visible_in_full_list(cal, e, query) and matches_filters(cal, e, query)]
    chosen.sort(key=lambda e: (e.res["updated"], e.id))
    page = chosen[pos:pos + limit]
    pos += len(page)
    return [render(e) for e in page], pos < len(chosen), pos, snap


def _incremental(store, cal, query, limit, render):
    since = read_sync_token(store, cal, query.sync_token)
    if query.page_token:
        pos = read_page_token(cal, query, "sync")["p"]
    else:
        pos = cal.changes_after(since)
    log_seq, log_ids, events, items = cal.log_seq, cal.log_ids, cal.events, []
    end = min(len(log_ids), pos + max(limit * 4, MIN_SCAN if limit else 0))
    while pos < end and len(items) < limit:
        event = events[log_ids[pos]]
        if event.seq == log_seq[pos]:       # else a later write supersedes this entry
            items.append(render(event))
        pos += 1
    more = pos < len(log_ids)
    return items, more, pos, (None if more else cal.last_seq)


# -- calendarList ----------------------------------------------------------------

def calendar_entry(store, entry):
    cal = store.calendars[entry["id"]]
    out = {"kind": "calendar#calendarListEntry", "etag": '"c%d"' % cal.last_seq,
           "id": cal.id, "summary": cal.meta.get("summary", cal.id)}
    if cal.meta.get("description"):
        out["description"] = cal.meta["description"]
    out.update({"timeZone": cal.tz, "backgroundColor": cal.meta["backgroundColor"],
                "foregroundColor": cal.meta["foregroundColor"], "selected": True,
                "accessRole": entry["accessRole"], "defaultReminders": []})
    if entry["primary"]:
        out["primary"] = True
    return out


ROLE_RANK = {"freeBusyReader": 0, "reader": 1, "writer": 2, "owner": 3}


def list_calendars(store, account, params):
    query = Params(params)
    limit = query.int("maxResults", 100, 1, 250)
    min_role = query.one("minAccessRole")
    if min_role is not None and min_role not in ROLE_RANK:
        raise ApiError(400, "invalid", "Invalid value for: minAccessRole")
    entries = [e for e in account.entries if e["id"] in store.calendars and
               (min_role is None or ROLE_RANK[e["accessRole"]] >= ROLE_RANK[min_role])]
    pos = 0
    if query.page_token:
        data = decode_token(PAGE_PREFIX, query.page_token)
        if data is None or data.get("m") != "calendarList":
            raise ApiError(400, "invalid", "Invalid page token.")
        pos = data["p"]
    page = entries[pos:pos + limit]
    out = {"kind": "calendar#calendarList", "etag": '"l%d"' % store.seq}
    if pos + len(page) < len(entries):
        out["nextPageToken"] = encode_token(PAGE_PREFIX, {"m": "calendarList", "p": pos + len(page)})
    out["items"] = [calendar_entry(store, e) for e in page]
    return dumps(out)
