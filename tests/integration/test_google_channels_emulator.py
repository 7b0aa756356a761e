"""test_google_channels_emulator.py - the Google emulator's push channels are
faithful to Google's documented behaviour: events.watch answers an api#channel
with the expiration it grants, a `sync` message comes first, then `exists`
with increasing X-Goog-Message-Number after each change, each with the
channel's id, token, resource id and expiration; channels.stop and expiry end
the notifications; https is required unless the test setting allows http;
faults: lost, burst, replayed and forged messages."""

import json
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from calsync_helpers import wait_for
from google_helpers import CLIENT_ID, CLIENT_SECRET, Emulator
from hooks_helpers import Receiver

CAL = "family@group.calendar.google.com"
REFRESH = "1//refresh-channels"


@pytest.fixture(scope="module")
def emu():
    e = Emulator()
    yield e
    e.stop()


@pytest.fixture
def setup(emu):
    emu.call("POST", "/_emu/reset")
    emu.call("POST", "/_emu/config", {"channel_allow_http": 1})
    emu.account(CAL, REFRESH)
    rx = Receiver()
    yield emu, rx
    rx.stop()


def api(emu, method, path, body=None):
    form = urllib.parse.urlencode({"grant_type": "refresh_token", "refresh_token": REFRESH,
                                   "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}).encode()
    with urllib.request.urlopen(urllib.request.Request(emu.url + "/token", data=form)) as r:
        access = json.loads(r.read())["access_token"]
    req = urllib.request.Request(emu.url + "/calendar/v3" + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Authorization": "Bearer " + access,
                                          "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            raw = r.read()
            return r.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


def watch(emu, address, cid="calsync-chan-1", token="secret-token-1", **extra):
    body = dict(id=cid, type="web_hook", address=address, token=token, **extra)
    return api(emu, "POST", "/calendars/%s/events/watch" % urllib.parse.quote(CAL), body)


def event(summary):
    return dict(summary=summary, start={"dateTime": "2026-12-02T09:00:00Z"},
                end={"dateTime": "2026-12-02T10:00:00Z"})


def test_watch_sends_sync_then_exists_with_increasing_numbers(setup):
    emu, rx = setup
    status, ch = watch(emu, rx.url)
    assert status == 200 and ch["kind"] == "api#channel" and ch["id"] == "calsync-chan-1"
    assert ch["resourceId"] and isinstance(ch["expiration"], str)
    assert int(ch["expiration"]) / 1000 > time.time() + 86400
    wait_for(lambda: len(rx.received) == 1, what="the sync message")
    emu.add(CAL, event("Swim"))
    emu.add(CAL, event("Piano"))
    wait_for(lambda: len(rx.received) == 3, what="two exists messages")
    states = [h["X-Goog-Resource-State"] for _, h, _ in rx.received]
    numbers = [int(h["X-Goog-Message-Number"]) for _, h, _ in rx.received]
    assert states == ["sync", "exists", "exists"] and numbers == sorted(numbers)
    assert len(set(numbers)) == 3
    for _, h, body in rx.received:
        assert h["X-Goog-Channel-ID"] == "calsync-chan-1"
        assert h["X-Goog-Channel-Token"] == "secret-token-1"
        assert h["X-Goog-Resource-ID"] == ch["resourceId"]
        assert h["X-Goog-Channel-Expiration"].endswith(" GMT") and body == b""


def test_channel_rules_https_ids_and_stop(setup):
    emu, rx = setup
    assert watch(emu, rx.url, cid="x" * 65)[0] == 400
    emu.call("POST", "/_emu/config", {"channel_allow_http": None})
    status, err = watch(emu, rx.url)
    assert status == 400 and "HTTPS" in err["error"]["message"]
    emu.call("POST", "/_emu/config", {"channel_allow_http": 1})
    status, ch = watch(emu, rx.url)
    assert status == 200
    assert watch(emu, rx.url)[0] == 400      # a channel id is used once
    wait_for(lambda: len(rx.received) == 1, what="the sync message")
    assert api(emu, "POST", "/channels/stop", {"id": ch["id"], "resourceId": "other"})[0] == 404
    assert api(emu, "POST", "/channels/stop", {"id": ch["id"], "resourceId": ch["resourceId"]})[0] == 204
    assert api(emu, "POST", "/channels/stop", {"id": ch["id"], "resourceId": ch["resourceId"]})[0] == 404
    emu.add(CAL, event("after stop"))
    listed = emu.call("GET", "/_emu/channels")["channels"][0]
    assert listed["stopped"] is True and listed["last_number"] == 1


def test_params_ttl_sets_the_expiration_within_the_maximum(setup):
    emu, rx = setup
    status, ch = watch(emu, rx.url, cid="ttl-1", params={"ttl": "120"})
    assert status == 200 and int(ch["expiration"]) <= (time.time() + 121) * 1000
    status, ch = watch(emu, rx.url, cid="ttl-2", params={"ttl": str(10 ** 9)})
    assert status == 200 and int(ch["expiration"]) <= (time.time() + 604801) * 1000
    assert watch(emu, rx.url, cid="ttl-3", params={"ttl": "soon"})[0] == 400


def test_expired_channel_sends_nothing(setup):
    emu, rx = setup
    status, ch = watch(emu, rx.url, expiration=int((time.time() + 60) * 1000))
    assert status == 200 and int(ch["expiration"]) <= (time.time() + 61) * 1000
    wait_for(lambda: len(rx.received) == 1, what="the sync message")
    emu.call("POST", "/_emu/clock", {"advance_s": 120})
    emu.add(CAL, event("after expiry"))
    assert emu.call("GET", "/_emu/channels")["channels"][0]["last_number"] == 1


def test_faults_lost_burst_replayed_forged(setup):
    emu, rx = setup
    status, ch = watch(emu, rx.url)
    wait_for(lambda: len(rx.received) == 1, what="the sync message")
    emu.call("POST", "/_emu/channels/lose", {"channel": ch["id"], "count": 1})
    emu.add(CAL, event("lost"))
    emu.add(CAL, event("seen"))
    wait_for(lambda: len(rx.received) == 2, what="the message after the lost one")
    assert rx.received[1][1]["X-Goog-Message-Number"] == "3"   # number 2 was lost
    emu.call("POST", "/_emu/channels/burst", {"channel": ch["id"], "count": 1000})
    wait_for(lambda: len(rx.received) == 1002, timeout=60, what="a burst of 1,000")
    emu.call("POST", "/_emu/channels/burst", {"channel": ch["id"], "number": 3})
    emu.call("POST", "/_emu/channels/burst", {"channel": ch["id"], "token": "forged"})
    wait_for(lambda: len(rx.received) == 1004, what="the replayed and the forged message")
    assert rx.received[1002][1]["X-Goog-Message-Number"] == "3"
    assert rx.received[1003][1]["X-Goog-Channel-Token"] == "forged"
