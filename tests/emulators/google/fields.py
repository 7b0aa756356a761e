"""The `fields` system parameter (partial response, Google's performance
guide): a selection such as `nextPageToken,items(id,etag,start/dateTime)`
keeps only the named parts of a successful JSON answer. `a/b` selects b
inside a, `a(b,c)` selects b and c inside a (inside each element of a list),
`*` everything at that level. A malformed selection, or a name the Event
resource or its collection does not have, is a 400 naming it, as Google
answers; errors themselves are never filtered."""

import json
import urllib.parse

from .util import ApiError, Response, dumps

# The stats kinds of the events methods; "list" answers a collection.
EVENT_KINDS = ("list", "get", "insert", "update", "patch")

# The names a selection may use: the Event resource and the list wrappers.
EVENT_FIELDS = {
    "kind", "etag", "id", "status", "htmlLink", "created", "updated", "summary",
    "description", "location", "colorId", "creator", "organizer", "start", "end",
    "endTimeUnspecified", "recurrence", "recurringEventId", "originalStartTime",
    "transparency", "visibility", "iCalUID", "sequence", "attendees",
    "attendeesOmitted", "extendedProperties", "hangoutLink", "conferenceData",
    "gadget", "anyoneCanAddSelf", "guestsCanInviteOthers", "guestsCanModify",
    "guestsCanSeeOtherGuests", "privateCopy", "locked", "reminders", "source",
    "workingLocationProperties", "outOfOfficeProperties", "focusTimeProperties",
    "attachments", "birthdayProperties", "eventType",
}
LIST_FIELDS = {
    "kind", "etag", "summary", "description", "updated", "timeZone", "accessRole",
    "defaultReminders", "nextPageToken", "nextSyncToken", "items",
}


def _invalid(what):
    return ApiError(400, "invalidParameter", "Invalid field selection " + what,
                    location="fields", locationType="parameter")


def parse(spec):
    """The selection as a tree {name: subtree or None (all of it)}."""
    pos = 0

    def item():
        """One name with what follows it: /name... or (list)."""
        nonlocal pos
        start = pos
        while pos < len(spec) and spec[pos] not in ",()/":
            pos += 1
        name = spec[start:pos].strip()
        if not name:
            raise _invalid(spec)
        sub = None
        if spec[pos:pos + 1] == "/":
            pos += 1
            sub = dict([item()])
        elif spec[pos:pos + 1] == "(":
            pos += 1
            sub = items(")")
            pos += 1
        return name, sub

    def items(end):
        """Names separated by commas, up to end (")" or the end of spec)."""
        nonlocal pos
        tree = {}
        while True:
            name, sub = item()
            tree[name] = merge(tree[name], sub) if name in tree else sub
            if spec[pos:pos + 1] != ",":
                break
            pos += 1
        if spec[pos:pos + 1] != end:
            raise _invalid(spec)
        return tree

    return items("")


def merge(a, b):
    """Two selections of the same part: None (everything) wins."""
    if a is None or b is None:
        return None
    out = dict(a)
    for k, v in b.items():
        out[k] = merge(out[k], v) if k in out else v
    return out


def check(tree, collection):
    """400 for a name the answer's resource does not have."""
    top = LIST_FIELDS if collection else EVENT_FIELDS
    for name, sub in tree.items():
        if name != "*" and name not in top:
            raise _invalid(name)
        if collection and name == "items" and sub:
            for inner in sub:
                if inner != "*" and inner not in EVENT_FIELDS:
                    raise _invalid("items/" + inner)


def select(tree, value):
    """The parts of value that tree names (lists: each element)."""
    if tree is None or "*" in tree:
        return value
    if isinstance(value, list):
        return [select(tree, v) for v in value]
    if not isinstance(value, dict):
        return value
    return {k: select(sub, value[k]) for k, sub in tree.items() if k in value}


class Selection:
    """A request's parsed `fields`: spec (the text, a cache key) and tree."""

    def __init__(self, spec, tree):
        self.spec = spec
        self.tree = tree

    def items(self):
        """The selection inside each list item: None (all), or False (no items)."""
        if self.tree is None or "*" in self.tree:
            return None
        return self.tree["items"] if "items" in self.tree else False


def selection(kind, query):
    """The `fields` of a request of this stats kind, or None."""
    values = urllib.parse.parse_qs(query, keep_blank_values=True).get("fields")
    if not values or not values[-1] or kind in ("token", "revoke"):
        return None
    tree = parse(values[-1])
    if kind in EVENT_KINDS:
        check(tree, kind == "list")
    return Selection(values[-1], tree)


def narrow(sel, kind, resp):
    """resp with only the selected parts, when it is a successful JSON answer
    (events.list narrows its items as it renders them, from the cache)."""
    if sel is None or kind == "list" or not 200 <= resp.status < 300 or not resp.body:
        return resp
    return Response(resp.status, dumps(select(sel.tree, json.loads(resp.body))), resp.headers)
