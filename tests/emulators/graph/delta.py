"""Delta rounds of the Graph emulator (events/delta and calendarView/delta).

A round starts with the first request (query options: the window of a
calendarView) or with a @odata.deltaLink; its pages are served through
@odata.nextLink ($skiptoken) and the last one carries a @odata.deltaLink
($deltatoken) that remembers what the round showed (id -> etag). The next
round answers the difference: changed and new items in full, the ones no
longer there as {"id", "@removed": {"reason": "deleted"}} - which for a
calendarView includes items that left the window, as Graph does. Faults
from the control API: empty pages first, items replayed within a round,
garbage items (a start that is no time),
and expired delta state (410 SyncStateNotFound or resyncRequired)."""

import datetime as dt
import itertools
import urllib.parse

from .model import Calendar
from .util import UTC, GraphError

_ids = itertools.count(1)


class Deltas:
    def __init__(self, server):
        self.server = server
        self.tokens = {}   # deltatoken -> {"cal", "window", "seen", "expired"}
        self.rounds = {}   # skiptoken -> {"cal", "pages": [...], "token"}

    @staticmethod
    def window(query):
        try:
            frm = dt.datetime.fromisoformat(query["startDateTime"].replace("Z", "+00:00"))
            to = dt.datetime.fromisoformat(query["endDateTime"].replace("Z", "+00:00"))
        except (KeyError, ValueError):
            raise GraphError(400, "ErrorInvalidParameter", "This request requires a time window "
                             "specified by the query string parameters StartDateTime and EndDateTime.")
        return frm.astimezone(UTC), to.astimezone(UTC)

    def expire(self, cal_id, code):
        for tok in list(self.tokens.values()) + list(self.rounds.values()):
            if tok["cal"] == cal_id:
                tok["expired"] = code

    def _gone(self, code):
        if code == "resyncRequired":
            return GraphError(410, "resyncRequired", "Resync required. Replace any local "
                              "cached data with the data returned by a new delta round.")
        return GraphError(410, "SyncStateNotFound", "The sync state generation is not found "
                          "or has expired.")

    def page(self, cal, view, query, size, zone, base):
        if "$skiptoken" in query:
            skip, _, index = query["$skiptoken"].partition(".")
            rnd = self.rounds.get(skip)
            if not rnd or rnd["cal"] != cal.id or not index.isdigit() or \
                    int(index) >= len(rnd["pages"]):
                raise GraphError(400, "BadRequest", "The $skiptoken is not valid.")
            if rnd.get("expired"):
                raise self._gone(rnd["expired"])
            return self._serve(skip, rnd, int(index), base)
        if "$deltatoken" in query:
            tok = self.tokens.get(query["$deltatoken"])
            if not tok or tok["cal"] != cal.id:
                raise self._gone("SyncStateNotFound")
            if tok.get("expired"):
                raise self._gone(tok["expired"])
            window, seen = tok["window"], tok["seen"]
        else:
            window, seen = (self.window(query) if view else None), {}
        return self._start(cal, window, seen, size, zone, base)

    def _start(self, cal, window, seen, size, zone, base):
        mods = self.server.control.delta_mods(cal.id)
        current = {ev["id"]: ev for ev in cal.visible(window)}
        items = [Calendar.render(ev, zone) for i, ev in current.items()
                 if seen.get(i) != ev["@odata.etag"]]
        for item in items:
            if item["id"] in mods.get("garbage_ids", ()):
                item["start"] = {"dateTime": "garbage", "timeZone": "Nowhere Standard Time"}
        items += [{"id": i, "@removed": {"reason": "deleted"}} for i in seen if i not in current]
        if mods.get("replay"):
            items = [x for item in items for x in (item, item)]
        pages = [[] for _ in range(mods.get("empty_pages", 0))]
        pages += [items[i:i + size] for i in range(0, len(items), size)] or [[]]
        token = "d%d" % next(_ids)
        self.tokens[token] = {"cal": cal.id, "window": window,
                              "seen": {i: ev["@odata.etag"] for i, ev in current.items()}}
        skip = "s%d" % next(_ids)
        self.rounds[skip] = {"cal": cal.id, "pages": pages, "token": token}
        return self._serve(skip, self.rounds[skip], 0, base)

    def _serve(self, skip, rnd, index, base):
        """Page index of a round; the same link always gives the same page (a retry)."""
        out = {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Collection(event)",
               "value": rnd["pages"][index]}
        if index + 1 < len(rnd["pages"]):
            out["@odata.nextLink"] = base + "?" + urllib.parse.urlencode(
                {"$skiptoken": "%s.%d" % (skip, index + 1)})
        else:
            out["@odata.deltaLink"] = base + "?" + urllib.parse.urlencode({"$deltatoken": rnd["token"]})
        return out
