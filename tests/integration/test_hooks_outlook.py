"""test_hooks_outlook.py - push notifications from Microsoft Graph end to end:
the worker subscribes (POST /subscriptions on the emulator, which validates
both URLs against calsync-hooks before it answers); the emulator notifies as
Graph does; calsync-hooks authenticates the clientState and queues one sync;
the worker pulls the change into the Hub - with no poll. Forged and duplicated
notifications change nothing, a burst of 1,000 makes one or two syncs, a
subscription nearing expiry is renewed in place (PATCH), reauthorizationRequired
renews it, subscriptionRemoved and expiry make a new one, missed runs a full
sync, and disconnect deletes it. No clientState is ever logged or stored in
clear."""

import json
import time
import uuid

import pytest

from calsync_helpers import query, wait_for
from graph_helpers import connect_outlook, graph, timed  # noqa: F401 (a fixture)
from hooks_helpers import (hook_up, hub_titles, scheduler, stop_hooks, sync_results,
                           sync_then_watch, watch_fails)
from pool_helpers import INTERACTIVE, World


@pytest.fixture
def world(services, bin_dir, graph, tmp_path):
    graph.call("POST", "/_emu/subscriptions/config", {"allow_http": True})
    w = World(services, bin_dir, redis_db=9)
    (w.cal,), (w.remote,) = connect_outlook(w, graph)
    hook_up(w, bin_dir, tmp_path)
    yield w
    stop_hooks(w.hooks)
    w.stop()
    graph.clear_faults()


def event(subject):
    return timed(subject, "2026-12-03T09:00:00", "2026-12-03T10:00:00")


def row(world):
    rows = query(world.db_url, "SELECT channel_id, token_hash, state, last_error,"
                               " extract(epoch FROM expires_at)::bigint"
                               " FROM calendar_watch_channels WHERE external_calendar_id = %s",
                 (world.cal,))
    return rows[0] if rows else None


def subs(graph, world):
    return [s for s in graph.call("GET", "/_emu/subscriptions")["subscriptions"]
            if s["calendar"] == world.remote]


def sub(graph, sub_id):
    return [s for s in graph.call("GET", "/_emu/subscriptions")["subscriptions"]
            if s["id"] == sub_id][0]


def control(graph, what, sub_id, **body):
    graph.call("POST", "/_emu/subscriptions/" + what, dict(body, subscription=sub_id))


def watched(world, graph):
    """The first sync, then a subscription made by a watch job; its emulator record."""
    sync_then_watch(world)
    r = wait_for(lambda: row(world), what="the subscription row")
    assert r[2] == "live"
    return sub(graph, r[0])


def test_an_outlook_change_reaches_the_hub_without_a_poll(world, graph):
    s = watched(world, graph)
    r = row(world)
    assert s["resource"] == "me/calendars/%s/events" % world.remote
    assert s["changeType"] == "created,updated,deleted" and s["has_client_state"]
    assert s["notificationUrl"] == world.hooks_url + "/hooks/graph"
    assert s["lifecycleNotificationUrl"] == world.hooks_url + "/hooks/graph/lifecycle"
    assert len(r[1]) == 64                                        # a hash, not the clientState
    assert 6.9 * 86400 < r[4] - time.time() <= 7 * 86400          # the longest Graph allows
    before = len(sync_results(world))
    t0 = time.time()
    graph.add(world.remote, event("Swim lesson"))
    wait_for(lambda: "Swim lesson" in hub_titles(world), timeout=30, what="the change in the Hub")
    assert time.time() - t0 < 5
    wait_for(lambda: len(sync_results(world)) > before, what="the sync's result")
    assert len(sync_results(world)) == before + 1                 # one sync, queued by the hook
    assert sub(graph, s["id"])["answers"] == {"202": 1}
    log = world.hooks_log.read_text() + world.log(0)
    assert r[1] not in log and "clientState" not in log


def test_forged_and_duplicated_notifications_change_nothing(world, graph):
    s = watched(world, graph)
    length = world.r.xlen(INTERACTIVE)
    control(graph, "burst", s["id"], count=3, client_state="forged-" + uuid.uuid4().hex)
    wait_for(lambda: sub(graph, s["id"])["answers"].get("403", 0) == 3, what="the forged refused")
    assert world.r.xlen(INTERACTIVE) == length and not world.r.zcard("calsync:delayed")
    before = len(sync_results(world))
    graph.add(world.remote, event("Once"))
    wait_for(lambda: len(sync_results(world)) == before + 1, timeout=30, what="the hook's sync")
    assert "Once" in hub_titles(world) and sync_results(world)[-1]["created"] == 1
    before += 1
    control(graph, "duplicate", s["id"])
    wait_for(lambda: len(sync_results(world)) == before + 1, what="the duplicate's sync")
    last = sync_results(world)[-1]
    assert (last["created"], last["updated"], last["deleted"], last["pushed"]) == (0, 0, 0, 0)
    assert len([t for t in hub_titles(world) if t == "Once"]) == 1


def test_a_burst_of_1000_makes_one_or_two_syncs(world, graph):
    s = watched(world, graph)
    before = len(sync_results(world))
    graph.add(world.remote, event("Burst"))
    control(graph, "burst", s["id"], count=1000)
    wait_for(lambda: sub(graph, s["id"])["answers"].get("202", 0) >= 1001, timeout=120,
             what="1,001 notifications delivered")
    wait_for(lambda: "Burst" in hub_titles(world), what="the change in the Hub")
    wait_for(lambda: world.pending(INTERACTIVE) == 0 and not world.r.keys("calsync:queued:hook:*"),
             what="the queue to drain")
    assert 1 <= len(sync_results(world)) - before <= 2


def test_a_subscription_nearing_expiry_is_renewed_in_place(world, graph):
    s = watched(world, graph)
    query(world.db_url, "UPDATE calendar_watch_channels SET expires_at = now() + interval '10 minutes'"
                        " WHERE external_calendar_id = %s", (world.cal,))
    graph.call("POST", "/_emu/stats/reset", {})
    scheduler(world, CALSYNC_WATCH_RENEW_BEFORE=3600)
    wait_for(lambda: row(world)[4] - time.time() > 86400, timeout=60, what="the renewal")
    assert row(world)[0] == s["id"] and graph.stats()["counts"].get("PATCH /subscriptions/{}") == 1
    assert "POST /subscriptions" not in graph.stats()["counts"]
    assert sub(graph, s["id"])["expirationDateTime"] >= s["expirationDateTime"]
    graph.add(world.remote, event("After renewal"))
    wait_for(lambda: "After renewal" in hub_titles(world), what="a change through it")


def test_reauthorization_required_renews(world, graph):
    s = watched(world, graph)
    graph.call("POST", "/_emu/stats/reset", {})
    control(graph, "lifecycle", s["id"], event="reauthorizationRequired")
    wait_for(lambda: graph.stats()["counts"].get("PATCH /subscriptions/{}") == 1, timeout=30,
             what="the renewing PATCH")
    assert sub(graph, s["id"])["lifecycle_answers"] == {"202": 1}
    wait_for(lambda: row(world)[0] == s["id"] and row(world)[2] == "live", what="the row")


def test_a_removed_or_expired_subscription_is_made_again(world, graph):
    s = watched(world, graph)
    control(graph, "lifecycle", s["id"], event="subscriptionRemoved")
    wait_for(lambda: row(world)[0] != s["id"] and row(world)[2] == "live", timeout=30,
             what="a new subscription")
    new = sub(graph, row(world)[0])
    assert new["ended"] is None and sub(graph, s["id"])["ended"] == "removed"
    graph.add(world.remote, event("After removal"))
    wait_for(lambda: "After removal" in hub_titles(world), what="a change through the new one")
    # one Graph let expire (and forgot): the renewal's PATCH gets 404, a new one is made
    control(graph, "expire", new["id"])
    job = world.enqueue(INTERACTIVE, "watch", calendar_id=world.cal, reason="renew")
    assert wait_for(lambda: world.results_of(job), timeout=60, what="the watch job")[0]["status"] \
        == "success"
    assert row(world)[0] not in (s["id"], new["id"]) and len(subs(graph, world)) == 3


def test_missed_runs_a_full_sync(world, graph):
    s = watched(world, graph)
    control(graph, "lose", s["id"], count=1)
    graph.add(world.remote, event("Missed"))
    assert sub(graph, s["id"])["sent"] == 0 and "Missed" not in hub_titles(world)
    control(graph, "lifecycle", s["id"], event="missed")
    wait_for(lambda: "Missed" in hub_titles(world), timeout=30, what="the full sync")
    assert full_syncs(world) == 1


def full_syncs(world):
    """Full sync jobs of world's calendar that went through the interactive stream."""
    return len([1 for _, f in world.r.xrange(INTERACTIVE) if f["type"] == "sync"
                and json.loads(f["data"]).get("mode") == "full"
                and json.loads(f["data"])["calendar_id"] == world.cal])


def test_disconnect_deletes_the_subscription(world, graph):
    s = watched(world, graph)
    job = world.enqueue(INTERACTIVE, "disconnect", calendar_id=world.cal, remove_events=False)
    wait_for(lambda: world.results_of(job), timeout=60, what="the disconnect")
    assert sub(graph, s["id"])["ended"] == "deleted"
    assert not query(world.db_url, "SELECT 1 FROM calendar_watch_channels")


def test_a_subscription_that_cannot_be_made_leaves_polling_and_says_so(world, graph):
    graph.call("POST", "/_emu/subscriptions/config", {"allow_http": False})   # Graph wants https
    assert "https" in watch_fails(world)
    assert row(world)[2] == "failed" and not subs(graph, world)
