"""Change-notification subscriptions of the Graph emulator, the way Graph
keeps and delivers them:

  POST   /v1.0/subscriptions        {changeType, notificationUrl, lifecycleNotificationUrl,
                                     resource: "me/calendars/{id}/events", expirationDateTime,
                                     clientState} - before answering 201, the validation request
                                     (POST <url>?validationToken=<token>) goes to each URL; an
                                     answer other than 200 text/plain with the token, within
                                     10 s, fails the subscribe with 400 ValidationError
  GET    /v1.0/subscriptions/{id}
  PATCH  /v1.0/subscriptions/{id}   {expirationDateTime} - renew
  DELETE /v1.0/subscriptions/{id}

The expiration must lie in the future and at most 10,080 minutes ahead (Outlook
events). A subscription ends at its expiration, by DELETE, or when Graph
removes it (the subscriptionRemoved lifecycle event); then PATCH, GET and
DELETE answer 404. Every change of a watched calendar (from any client, the
control API included) is posted to notificationUrl as
{"value": [{subscriptionId, subscriptionExpirationDateTime, changeType,
resource, resourceData, clientState, tenantId}]}. Deliveries run in order on a
thread of their own, outside the server lock (webhook.py); each answer is recorded.

Control API (tests, demo):
  GET  /_emu/subscriptions                     every subscription (no clientState), and
                                               the deliveries queued and not yet answered
  POST /_emu/subscriptions/config              {allow_http, validation_timeout_s}
  POST /_emu/subscriptions/lose                {subscription, count}: the next count
                                               change notifications are not sent
  POST /_emu/subscriptions/burst               {subscription, count, client_state}: count
                                               change notifications at once (client_state:
                                               a forged one)
  POST /_emu/subscriptions/duplicate           {subscription}: the last one sent, again
  POST /_emu/subscriptions/lifecycle           {subscription, event}: reauthorizationRequired,
                                               subscriptionRemoved (the subscription ends) or
                                               missed, to lifecycleNotificationUrl
  POST /_emu/subscriptions/expire              {subscription}: it expires now"""

import datetime as dt
import json
import threading
import time
import urllib.parse
import urllib.request
import uuid

from webhook import Poster

from .util import UTC, GraphError

MAX_MINUTES = 10080
CHANGE_TYPES = {"created", "updated", "deleted"}
TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad"   # Microsoft accounts' tenant


def graph_time(ts):
    return dt.datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000Z")


def parse_time(text):
    try:
        t = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        raise GraphError(400, "InvalidRequest", "expirationDateTime is not a valid date-time")
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return t.timestamp()


def not_found(sub_id):
    return GraphError(404, "ResourceNotFound", "The object was not found: subscription %s" % sub_id)


class Subscription:
    def __init__(self, box, cal_id, body, expiration):
        self.id, self.mailbox, self.cal_id = str(uuid.uuid4()), box, cal_id
        self.resource, self.change_types = body["resource"], body["changeType"]
        self.url, self.lifecycle_url = body["notificationUrl"], body.get("lifecycleNotificationUrl")
        self.client_state, self.expiration = body.get("clientState"), expiration
        self.ended = None          # "deleted", "removed" by Graph
        self.lose = 0
        self.last = None           # the last change notification sent (its body)
        self.sent, self.answers, self.lifecycle_answers = 0, {}, {}

    def to_json(self, with_state=False):
        out = {"id": self.id, "resource": self.resource, "changeType": self.change_types,
               "notificationUrl": self.url, "lifecycleNotificationUrl": self.lifecycle_url,
               "expirationDateTime": graph_time(self.expiration),
               "applicationId": "calsync-tests", "creatorId": self.mailbox,
               "latestSupportedTlsVersion": "v1_2"}
        if with_state:
            out["clientState"] = self.client_state
        return out

    def control_json(self):
        out = self.to_json()
        out.update(calendar=self.cal_id, mailbox=self.mailbox, ended=self.ended,
                   expired=self.expiration <= time.time(), sent=self.sent,
                   has_client_state=self.client_state is not None,
                   answers={str(k): v for k, v in self.answers.items()},
                   lifecycle_answers={str(k): v for k, v in self.lifecycle_answers.items()})
        return out


class Subscriptions:
    """All subscriptions; callers of changed() hold the server lock."""

    def __init__(self, server):
        self.server = server
        self.by_id = {}
        self.config = {"allow_http": False, "validation_timeout_s": 10}
        self.poster = Poster()

    def live(self, sub):
        return sub.ended is None and sub.expiration > time.time()

    # -- the API --------------------------------------------------------------

    def api(self, handler, path):
        """/subscriptions[/{id}] for handler (server.Handler): the answer is sent here."""
        srv = self.server
        with srv.lock:
            box = handler.mailbox()
            key = "%s /subscriptions%s" % (handler.command, "/{}" if path.count("/") > 1 else "")
            srv.counts[key] = srv.counts.get(key, 0) + 1
            fault = srv.control.fault_for(handler.command, path)
        if fault and "delay" in fault:
            threading.Event().wait(fault["delay"])   # an injected delay, not a test sleep
        elif fault:
            return handler.reply(*fault["answer"])
        body = handler.body_json() if handler.command in ("POST", "PATCH") else None
        parts = path.strip("/").split("/")
        if len(parts) == 1 and handler.command == "POST":
            return handler.reply(201, self.create(box, body))
        if len(parts) != 2:
            raise GraphError(400, "BadRequest", "Unsupported request %s %s" % (handler.command, path))
        with srv.lock:
            sub = self.by_id.get(parts[1])
            if sub is None or sub.mailbox != box or not self.live(sub):
                raise not_found(parts[1])
            if handler.command == "GET":
                return handler.reply(200, sub.to_json())
            if handler.command == "PATCH":
                sub.expiration = self.expiration(body)
                return handler.reply(200, sub.to_json())
            if handler.command == "DELETE":
                sub.ended = "deleted"
                return handler.reply(204)
        raise GraphError(405, "MethodNotAllowed", "Unsupported method %s" % handler.command)

    def expiration(self, body):
        wanted = parse_time((body or {}).get("expirationDateTime"))
        now = time.time()
        if wanted <= now:
            raise GraphError(400, "InvalidRequest", "Subscription expiration must be in the future.")
        if wanted > now + MAX_MINUTES * 60:
            raise GraphError(400, "InvalidRequest", "Subscription expiration can only be %d "
                             "minutes in the future." % MAX_MINUTES)
        return wanted

    def _check_url(self, name, url, required):
        if url is None and not required:
            return
        ok = isinstance(url, str) and (url.startswith("https://") or
                                       (self.config["allow_http"] and url.startswith("http://")))
        if not ok:
            raise GraphError(400, "InvalidRequest", "%s must be an https URL" % name)

    def create(self, box, body):
        body = body or {}
        types = body.get("changeType")
        if not isinstance(types, str) or not types or \
                not set(types.split(",")) <= CHANGE_TYPES:
            raise GraphError(400, "InvalidRequest", "changeType must be created, updated and/or deleted")
        self._check_url("notificationUrl", body.get("notificationUrl"), True)
        self._check_url("lifecycleNotificationUrl", body.get("lifecycleNotificationUrl"), False)
        state = body.get("clientState")
        if state is not None and (not isinstance(state, str) or len(state) > 128):
            raise GraphError(400, "InvalidRequest", "clientState may have at most 128 characters")
        resource = body.get("resource")
        parts = resource.strip("/").split("/") if isinstance(resource, str) else []
        if len(parts) != 4 or parts[0] != "me" or parts[1] != "calendars" or parts[3] != "events":
            raise GraphError(400, "InvalidRequest", "Unsupported resource %r" % resource)
        cal_id = urllib.parse.unquote(parts[2])
        with self.server.lock:
            cal = self.server.calendars.get(cal_id)
            if cal is None or cal.mailbox != box:
                raise GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.")
            sub = Subscription(box, cal_id, body, self.expiration(body))
        for url in (sub.url, sub.lifecycle_url):
            if url is not None:
                self._validate(url)
        with self.server.lock:
            self.by_id[sub.id] = sub
        return sub.to_json(with_state=True)

    def _validate(self, url):
        """Graph's validation request; a ValidationError unless url echoes the token in time."""
        token = "Validation: Testing client application reachability for subscription " \
                "Request-Id: %s" % uuid.uuid4()
        sep = "&" if "?" in url else "?"
        req = urllib.request.Request(url + sep + "validationToken=" + urllib.parse.quote(token),
                                     data=b"", method="POST",
                                     headers={"Content-Type": "text/plain; charset=utf-8"})
        try:
            with urllib.request.urlopen(req, timeout=self.config["validation_timeout_s"]) as resp:
                ok = resp.status == 200 and \
                    (resp.headers.get("Content-Type") or "").startswith("text/plain") and \
                    resp.read().decode() == token
        except (OSError, ValueError):
            ok = False
        if not ok:
            raise GraphError(400, "ValidationError", "Subscription validation request failed. "
                             "Notification endpoint must respond with 200 OK to validation request.")

    # -- changes ----------------------------------------------------------------

    def changed(self, cal, kind, event_id):
        """A change of an event of cal (model.Calendar.on_change): its subscriptions notify."""
        for sub in list(self.by_id.values()):
            if sub.cal_id == cal.id and self.live(sub) and kind in sub.change_types.split(","):
                self._change(sub, kind, event_id)

    def _change(self, sub, kind, event_id, client_state=None):
        resource = "Users/%s/Events/%s" % (sub.mailbox, event_id)
        note = {"subscriptionId": sub.id,
                "subscriptionExpirationDateTime": graph_time(sub.expiration),
                "changeType": kind, "resource": resource, "tenantId": TENANT,
                "resourceData": {"@odata.type": "#Microsoft.Graph.Event", "@odata.id": resource,
                                 "@odata.etag": 'W/"%s"' % uuid.uuid4().hex, "id": event_id}}
        state = client_state if client_state is not None else sub.client_state
        if state is not None:
            note["clientState"] = state
        body = {"value": [note]}
        if client_state is None:
            if sub.lose > 0:
                sub.lose -= 1
                return
            sub.last = body
        self._send(sub, sub.url, body, sub.answers)

    def _send(self, sub, url, body, answers):
        def answered(status):
            with self.server.lock:
                sub.sent += 1
                answers[status] = answers.get(status, 0) + 1
        self.poster.post(url, json.dumps(body).encode(), {"Content-Type": "application/json"},
                         answered)

    # -- the control API ----------------------------------------------------------

    def control(self, method, path, body):
        """/subscriptions... of the control API (callers hold the server lock)."""
        if path == "/subscriptions" and method == "GET":
            return 200, {"subscriptions": [s.control_json() for s in self.by_id.values()],
                         "deliveries_pending": self.poster.busy}
        if path == "/subscriptions/config" and method == "POST":
            self.config.update({k: v for k, v in body.items() if k in self.config})
            return 200, dict(self.config)
        if method != "POST":
            raise GraphError(400, "BadRequest", "unsupported control request")
        sub = self.by_id.get(body.get("subscription"))
        if sub is None:
            raise not_found(body.get("subscription"))
        what = path[len("/subscriptions/"):]
        if what == "lose":
            sub.lose += int(body.get("count", 1))
        elif what == "burst":
            for _ in range(int(body.get("count", 1))):
                self._change(sub, "updated", "AAMkburst", client_state=body.get("client_state"))
        elif what == "duplicate" and sub.last is not None:
            self._send(sub, sub.url, sub.last, sub.answers)
        elif what == "lifecycle":
            self.lifecycle(sub, body.get("event"))
        elif what == "expire":
            sub.expiration = time.time() - 1
        else:
            raise GraphError(400, "BadRequest", "unsupported control request %s" % path)
        return 200, {}

    def lifecycle(self, sub, event):
        if event not in ("reauthorizationRequired", "subscriptionRemoved", "missed"):
            raise GraphError(400, "BadRequest", "unknown lifecycle event %r" % event)
        if not sub.lifecycle_url:
            raise GraphError(400, "BadRequest", "the subscription has no lifecycleNotificationUrl")
        note = {"subscriptionId": sub.id, "lifecycleEvent": event, "organizationId": TENANT,
                "subscriptionExpirationDateTime": graph_time(sub.expiration)}
        if sub.client_state is not None:
            note["clientState"] = sub.client_state
        if event == "subscriptionRemoved":
            sub.ended = "removed"
        self._send(sub, sub.lifecycle_url, {"value": [note]}, sub.lifecycle_answers)

