"""test_hooks_graph.py - calsync-hooks receiving Microsoft Graph exactly as
Graph posts: the validation request (a POST with ?validationToken=..., answered
200 in plain text with the token), change notifications with subscriptionId
and clientState for a subscription row the test inserts (the Graph provider's
own subscribe is tested in test_hooks_outlook.py), and lifecycle notifications
(reauthorizationRequired -> a renewing watch job, subscriptionRemoved -> the
row removed and a recreating watch job, missed -> a full sync). A wrong
clientState, an unknown subscription, a body that is not Graph's or too large
change nothing; secrets never reach the log."""

import hashlib
import json
import urllib.parse
import urllib.request
import uuid

import pytest

from calsync_helpers import query
from hooks_helpers import post, post_declared, start_hooks, stop_hooks
from pool_helpers import BACKGROUND, INTERACTIVE, World

CLIENT_STATE = "graph-client-state-" + uuid.uuid4().hex
FORGED = "forged-" + uuid.uuid4().hex


@pytest.fixture
def world(services, bin_dir, tmp_path):
    w = World(services, bin_dir, redis_db=8)
    w.cal = str(uuid.uuid4())
    query(w.db_url, "INSERT INTO external_calendars(id, tenant_id, user_id, provider,"
                    " provider_calendar_id, calendar_name, is_primary)"
                    " VALUES (%s, %s, %s, 'outlook', 'AAMkAD-cal', 'Work', TRUE)",
          (w.cal, w.tenant, w.user))
    w.sub = str(uuid.uuid4())
    digest = hash_of(CLIENT_STATE)
    query(w.db_url, "INSERT INTO calendar_watch_channels(external_calendar_id, provider,"
                    " channel_id, token_hash, address, expires_at, state)"
                    " VALUES (%s, 'outlook', %s, %s, 'https://hooks.example/hooks/graph',"
                    " now() + interval '3 days', 'live')", (w.cal, w.sub, digest))
    w.log_path = tmp_path / "hooks.log"
    w.hooks, w.url = start_hooks(bin_dir, w.env, str(w.log_path))
    yield w
    stop_hooks(w.hooks)
    w.stop()


def hash_of(secret):
    """BLAKE2b-256 in hex, as calsync stores a channel's secret (libsodium generichash)."""
    return hashlib.blake2b(secret.encode(), digest_size=32).hexdigest()


def change(world, client_state=CLIENT_STATE, sub=None):
    return {"value": [{"subscriptionId": sub or world.sub, "clientState": client_state,
                       "changeType": "updated", "tenantId": str(uuid.uuid4()),
                       "subscriptionExpirationDateTime": "2026-12-05T10:00:00.0000000+00:00",
                       "resource": "Users/u/Events/AAMkAD-ev",
                       "resourceData": {"@odata.type": "#Microsoft.Graph.Event",
                                        "@odata.id": "Users/u/Events/AAMkAD-ev",
                                        "id": "AAMkAD-ev"}}]}


def lifecycle(world, event, client_state=CLIENT_STATE):
    return {"value": [{"subscriptionId": world.sub, "clientState": client_state,
                       "lifecycleEvent": event, "organizationId": str(uuid.uuid4()),
                       "subscriptionExpirationDateTime": "2026-12-05T10:00:00.0000000+00:00"}]}


def jobs(world, stream):
    """(type, data) of every job waiting in stream or in the delayed set for it."""
    out = [(f["type"], json.loads(f["data"])) for _, f in world.r.xrange(stream)]
    for member in world.r.zrange("calsync:delayed", 0, -1):
        j = json.loads(member)
        if j["s"] == stream:
            out.append((j["t"], json.loads(j["d"])))
    return out


def test_validation_is_answered_in_plain_text(world):
    token = "Validation: Testing client application reachability for subscription Request-Id: " \
            + str(uuid.uuid4())
    for path in ("/hooks/graph", "/hooks/graph/lifecycle"):
        status, text, ctype = post(world.url + path + "?validationToken=" +
                                   urllib.parse.quote(token), content_type="text/plain")
        assert (status, text) == (200, token) and ctype.startswith("text/plain")
    assert post(world.url + "/hooks/graph?validationToken=" + "x" * 2000)[0] == 400


def test_a_genuine_change_queues_one_incremental_sync(world):
    for _ in range(5):
        status, text, _ = post(world.url + "/hooks/graph", change(world))
        assert status == 202
    queued = jobs(world, INTERACTIVE)
    assert len(queued) == 1
    jtype, data = queued[0]
    assert jtype == "sync" and data["calendar_id"] == world.cal and data["mode"] == "incremental"
    assert data["hook_dedup"] == "calsync:queued:hook:" + world.cal
    assert CLIENT_STATE not in world.log_path.read_text()


def test_forged_unknown_and_malformed_notifications_change_nothing(world):
    assert post(world.url + "/hooks/graph", change(world, FORGED))[0:2] == (403, "refused\n")
    assert post(world.url + "/hooks/graph", change(world, sub=str(uuid.uuid4())))[0] == 403
    no_state = change(world)
    del no_state["value"][0]["clientState"]
    assert post(world.url + "/hooks/graph", no_state)[0] == 403
    assert post(world.url + "/hooks/graph", b"not json")[0] == 400
    assert post(world.url + "/hooks/graph", {"value": []})[0] == 400
    assert post(world.url + "/hooks/graph", {"value": [{"clientState": CLIENT_STATE}]})[0] == 400
    assert post_declared(world.url + "/hooks/graph", 2 << 20) == 413
    assert post(world.url + "/hooks/graph/lifecycle",
                lifecycle(world, "subscriptionRemoved", FORGED))[0] == 403
    assert jobs(world, INTERACTIVE) == [] and jobs(world, BACKGROUND) == []
    assert query(world.db_url, "SELECT state FROM calendar_watch_channels")[0][0] == "live"
    assert FORGED not in world.log_path.read_text()


def test_lifecycle_events_renew_recreate_or_resync(world):
    assert post(world.url + "/hooks/graph/lifecycle", lifecycle(world, "reauthorizationRequired"))[0] == 202
    assert [(t, d["reason"]) for t, d in jobs(world, INTERACTIVE)] == [("watch", "renew")]
    world.r.flushdb()
    assert post(world.url + "/hooks/graph/lifecycle", lifecycle(world, "missed"))[0] == 202
    assert [(t, d["mode"]) for t, d in jobs(world, INTERACTIVE)] == [("sync", "full")]
    world.r.flushdb()
    assert post(world.url + "/hooks/graph/lifecycle", lifecycle(world, "subscriptionRemoved"))[0] == 202
    assert [(t, d["reason"]) for t, d in jobs(world, INTERACTIVE)] == [("watch", "recreate")]
    assert query(world.db_url, "SELECT state FROM calendar_watch_channels")[0][0] == "removed"
    # a change notification on the lifecycle path, or a lifecycle event on the change path, does nothing
    world.r.flushdb()
    assert post(world.url + "/hooks/graph", lifecycle(world, "missed"))[0] == 202
    assert jobs(world, INTERACTIVE) == []


def test_health_and_readiness(world):
    with urllib.request.urlopen(world.url + "/healthz", timeout=5) as r:
        assert r.status == 200
    with urllib.request.urlopen(world.url + "/readyz", timeout=5) as r:
        assert r.status == 200 and r.read() == b"ready\n"
    assert post(world.url + "/healthz")[0] == 405
    assert post(world.url + "/hooks/nothing")[0] == 404
