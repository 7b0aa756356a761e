"""Push notification channels (events.watch / channels.stop) and their
delivery: the way Google sends them, a `sync` message when a channel is
made, then an `exists` message with the next X-Goog-Message-Number after
each change of the watched calendar, each a POST with an empty body and the
X-Goog-* headers to the channel's address. A channel ends at its expiration
(by the emulator's clock) or by channels.stop. Deliveries run on a thread of
their own, outside the store lock, in order (webhook.py); each answer is recorded.

Faults for tests (control API, /_emu/channels...): lose the next N
notifications of a channel, send a burst of N at once, replay an earlier
message number, or send with a forged token."""

import hashlib
import re

from webhook import Poster

from .util import ApiError, UTC

import datetime as dt

ID_RE = re.compile(r"^[A-Za-z0-9\-_+/=]{1,64}$")
DEFAULT_CHANNEL_CONFIG = {"channel_max_lifetime_s": 604800, "channel_allow_http": None}


def http_date(ts):
    """X-Goog-Channel-Expiration is a human-readable date, RFC 1123 in GMT."""
    return dt.datetime.fromtimestamp(ts, UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")


class Channel:
    def __init__(self, cid, cal_id, address, token, expiration_s, resource_id):
        self.id, self.cal_id, self.address, self.token = cid, cal_id, address, token
        self.expiration_s, self.resource_id = expiration_s, resource_id
        self.number = 0          # the last X-Goog-Message-Number given out
        self.stopped = False
        self.lose = 0            # faults: the next N notifications are not sent
        self.answers = {}        # delivery answers: status (or "error") -> count
        self.sent = 0

    def to_json(self):
        return {"id": self.id, "resourceId": self.resource_id, "calendar": self.cal_id,
                "address": self.address, "expiration_s": self.expiration_s,
                "stopped": self.stopped, "last_number": self.number, "sent": self.sent,
                "answers": {str(k): v for k, v in self.answers.items()}}


class Channels:
    """All channels; callers hold the store lock, deliveries happen off it."""

    def __init__(self, store):
        self.store = store
        self.poster = Poster()
        self.reset()

    def reset(self):
        self.by_id = {}

    @staticmethod
    def resource_id(cal_id):
        """Opaque and stable: the same events resource has the same id in every channel."""
        return hashlib.sha1(("events:" + cal_id).encode()).hexdigest()[:27]

    def live(self, ch):
        return not ch.stopped and ch.expiration_s > self.store.clock.now()

    # -- the API ------------------------------------------------------------

    def watch(self, cal_id, body):
        cid, kind, address = body.get("id"), body.get("type"), body.get("address")
        token, wanted = body.get("token"), body.get("expiration")
        params = body.get("params") or {}
        if not isinstance(cid, str) or not ID_RE.match(cid):
            raise ApiError(400, "invalid", "Invalid channel id: at most 64 characters of"
                           " [A-Za-z0-9-_+/=]")
        if cid in self.by_id:
            raise ApiError(400, "channelIdNotUnique", "Channel id %s not unique" % cid)
        if kind not in ("web_hook", "webhook"):
            raise ApiError(400, "invalid", "Invalid channel type: %r" % kind)
        allow_http = self.store.config.get("channel_allow_http")
        if not isinstance(address, str) or not (address.startswith("https://") or
                                                (allow_http and address.startswith("http://"))):
            raise ApiError(400, "push.webhookUrlNotHttps", "WebHook callback must be HTTPS: %s"
                           % address)
        if token is not None and (not isinstance(token, str) or len(token) > 256):
            raise ApiError(400, "invalid", "Invalid channel token: at most 256 characters")
        now = self.store.clock.now()
        longest = now + self.store.config.get("channel_max_lifetime_s", 604800)
        expiration = longest
        if not isinstance(params, dict):
            raise ApiError(400, "invalid", "Invalid params: an object is expected")
        if params.get("ttl") is not None:
            try:
                expiration = min(longest, now + int(params["ttl"]))
            except (TypeError, ValueError):
                raise ApiError(400, "invalid", "Invalid params.ttl: %r" % params["ttl"])
        if wanted is not None:
            try:
                expiration = min(longest, int(wanted) / 1000.0)
            except (TypeError, ValueError):
                raise ApiError(400, "invalid", "Invalid expiration: %r" % wanted)
        ch = Channel(cid, cal_id, address, token, expiration, self.resource_id(cal_id))
        self.by_id[cid] = ch
        self._send(ch, "sync")
        return {"kind": "api#channel", "id": cid, "resourceId": ch.resource_id,
                "resourceUri": "https://www.googleapis.com/calendar/v3/calendars/%s/events"
                % cal_id, "token": token, "expiration": str(int(expiration * 1000))}

    def stop(self, body):
        ch = self.by_id.get(body.get("id"))
        if ch is None or ch.stopped or body.get("resourceId") != ch.resource_id:
            raise ApiError(404, "notFound", "Channel '%s' not found for project" % body.get("id"))
        ch.stopped = True

    def changed(self, cal_id):
        for ch in list(self.by_id.values()):
            if ch.cal_id == cal_id and self.live(ch):
                self._send(ch, "exists")

    # -- faults (control API) ----------------------------------------------------

    def channel(self, cid):
        ch = self.by_id.get(cid)
        if ch is None:
            raise ApiError(404, "notFound", "No channel %r" % cid)
        return ch

    def lose(self, cid, count):
        self.channel(cid).lose += int(count)

    def burst(self, cid, count, token=None, number=None):
        ch = self.channel(cid)
        for _ in range(int(count)):
            self._send(ch, "exists", token=token, number=number)

    # -- delivery --------------------------------------------------------------

    def _send(self, ch, state, token=None, number=None):
        if number is None:
            ch.number += 1
            number = ch.number
        if ch.lose > 0 and token is None:
            ch.lose -= 1
            return
        headers = {"X-Goog-Channel-ID": ch.id, "X-Goog-Message-Number": str(number),
                   "X-Goog-Resource-ID": ch.resource_id, "X-Goog-Resource-State": state,
                   "X-Goog-Resource-URI": "https://www.googleapis.com/calendar/v3/calendars/%s"
                   "/events?alt=json" % ch.cal_id,
                   "X-Goog-Channel-Expiration": http_date(ch.expiration_s)}
        tok = token if token is not None else ch.token
        if tok is not None:
            headers["X-Goog-Channel-Token"] = tok
        self.poster.post(ch.address, b"", headers, lambda status: self._answered(ch, status))

    def _answered(self, ch, status):
        with self.store.lock:
            ch.sent += 1
            ch.answers[status] = ch.answers.get(status, 0) + 1

    def wait_idle(self, timeout):
        return self.poster.wait_idle(timeout)
