"""test_hooks_google.py - push notifications from Google end to end: the
worker makes a channel (events.watch on the emulator) whose address is
calsync-hooks; the emulator notifies as Google does; calsync-hooks
authenticates and queues one sync; the worker pulls the change into the Hub -
with no poll. Forged, replayed and oversized notifications change nothing, a
burst makes one or two syncs, a lost one is caught by the safety-net poll, a
channel nearing expiry is renewed (the old one stopped), a removed one is
made again, disconnect stops it, and a channel that cannot be made leaves the
calendar polling and `calsync status` says why. No token is ever logged or
stored in clear."""

import json

import pytest

from calsync_helpers import query, run_tool, wait_for
from google_helpers import connect_google, emu  # noqa: F401 (a fixture)
from hooks_helpers import (google_headers, hook_up, hub_titles, post, post_declared, scheduler,
                           stop_hooks, sync_results, sync_then_watch, watch_fails)
from pool_helpers import INTERACTIVE, World


@pytest.fixture
def world(services, bin_dir, emu, tmp_path):
    emu.call("POST", "/_emu/config", {"channel_allow_http": 1, "channel_max_lifetime_s": 604800})
    w = World(services, bin_dir, redis_db=7)
    w.cal, w.remote = connect_google(w, emu)
    hook_up(w, bin_dir, tmp_path)
    yield w
    stop_hooks(w.hooks)
    w.stop()
    emu.clear_faults()


def event(summary):
    return dict(summary=summary, start={"dateTime": "2026-12-03T09:00:00Z", "timeZone": "UTC"},
                end={"dateTime": "2026-12-03T10:00:00Z", "timeZone": "UTC"})


def channel_row(world):
    rows = query(world.db_url, "SELECT channel_id, resource_id, token_hash, state, last_error,"
                               " expires_at FROM calendar_watch_channels"
                               " WHERE external_calendar_id = %s", (world.cal,))
    return rows[0] if rows else None


def emu_channels(emu, world):
    return [c for c in emu.call("GET", "/_emu/channels")["channels"] if c["calendar"] == world.remote]


def watched(world, emu):
    """The first sync, then a channel made by a watch job; the channel's emulator record."""
    sync_then_watch(world)
    row = wait_for(lambda: channel_row(world), what="the channel row")
    assert row[3] == "live"
    chans = [c for c in emu_channels(emu, world) if c["id"] == row[0]]
    assert len(chans) == 1
    wait_for(lambda: emu_channels(emu, world)[-1]["answers"].get("403", 0) +
             emu_channels(emu, world)[-1]["answers"].get("200", 0) >= 1, what="the sync message")
    return chans[0]


def test_a_google_change_reaches_the_hub_without_a_poll(world, emu):
    ch = watched(world, emu)
    row = channel_row(world)
    assert row[1] == ch["resourceId"] and len(row[0]) <= 64
    assert row[2] and len(row[2]) == 64                         # a hash, not the token
    before = len(sync_results(world))
    emu.add(world.remote, event("Swim lesson"))
    wait_for(lambda: "Swim lesson" in hub_titles(world), timeout=30, what="the change in the Hub")
    wait_for(lambda: len(sync_results(world)) > before, what="the sync's result")   # after its commit
    assert len(sync_results(world)) == before + 1                # one sync, queued by the hook
    token_hash = row[2]
    log = world.hooks_log.read_text() + world.log(0)
    assert token_hash not in log
    assert "X-Goog-Channel-Token" not in log


def test_forged_replayed_and_oversized_notifications_change_nothing(world, emu):
    ch = watched(world, emu)
    url = world.hooks_url + "/hooks/google"
    length = world.r.xlen(INTERACTIVE)
    forged = google_headers(ch["id"], "not-the-token", ch["resourceId"])
    assert post(url, headers=forged)[0:2] == (403, "refused\n")
    assert post(url, headers=google_headers("calsync-unknown", "x", ch["resourceId"]))[0] == 403
    assert post(url, headers=google_headers(ch["id"], "x", "other-resource"))[0] == 403
    assert post(url, headers=google_headers(ch["id"], None, ch["resourceId"]))[0] == 400
    assert post(url, body=b"x" * 10000, headers=forged)[0] == 413
    assert post_declared(url, 1 << 30) == 413
    emu.call("POST", "/_emu/channels/burst", {"channel": ch["id"], "token": "forged-by-emu"})
    wait_for(lambda: emu_channels(emu, world)[-1]["answers"].get("403", 0) >= 1,
             what="the forged message refused")
    assert world.r.xlen(INTERACTIVE) == length                   # no job queued
    before = len(sync_results(world))
    emu.call("POST", "/_emu/channels/burst", {"channel": ch["id"], "number": 1})   # a replay
    wait_for(lambda: len(sync_results(world)) == before + 1, what="the replay's sync")
    last = sync_results(world)[-1]
    assert (last["created"], last["updated"], last["deleted"], last["pushed"]) == (0, 0, 0, 0)
    assert "Swim" not in hub_titles(world)


def test_a_burst_of_1000_makes_one_or_two_syncs(world, emu):
    ch = watched(world, emu)
    before = len(sync_results(world))
    emu.add(world.remote, event("Burst"))
    emu.call("POST", "/_emu/channels/burst", {"channel": ch["id"], "count": 1000})
    wait_for(lambda: emu_channels(emu, world)[-1]["answers"].get("200", 0) >= 1001,
             timeout=120, what="1,001 notifications delivered")
    wait_for(lambda: "Burst" in hub_titles(world), what="the change in the Hub")
    wait_for(lambda: world.pending(INTERACTIVE) == 0 and not world.r.keys("calsync:queued:hook:*"),
             what="the queue to drain")
    assert 1 <= len(sync_results(world)) - before <= 2


def test_a_lost_notification_is_caught_by_the_safety_net_poll(world, emu):
    ch = watched(world, emu)
    answered = emu_channels(emu, world)[-1]["answers"].get("200", 0)
    emu.call("POST", "/_emu/channels/lose", {"channel": ch["id"], "count": 1})
    emu.add(world.remote, event("Lost in the post"))
    # the short interval would be 1 s; a calendar with a live channel waits the safety-net one
    scheduler(world, CALSYNC_SYNC_INTERVAL=86400, CALSYNC_WATCH_POLL_INTERVAL=3)
    wait_for(lambda: "Lost in the post" in hub_titles(world), timeout=60,
             what="the safety-net poll")
    assert emu_channels(emu, world)[-1]["answers"].get("200", 0) == answered


def test_a_channel_nearing_expiry_is_renewed_and_the_old_one_stopped(world, emu):
    emu.call("POST", "/_emu/config", {"channel_max_lifetime_s": 7200})
    ch = watched(world, emu)
    scheduler(world, CALSYNC_WATCH_RENEW_BEFORE=3600)   # nothing to renew yet
    emu.call("POST", "/_emu/config", {"channel_max_lifetime_s": 604800})
    query(world.db_url, "UPDATE calendar_watch_channels SET expires_at = now() + interval '10 minutes'"
                        " WHERE external_calendar_id = %s", (world.cal,))
    wait_for(lambda: channel_row(world)[0] != ch["id"], timeout=60, what="a new channel")
    old = [c for c in emu_channels(emu, world) if c["id"] == ch["id"]][0]
    assert wait_for(lambda: [c for c in emu_channels(emu, world) if c["id"] == ch["id"]][0]["stopped"],
                    what="the old channel stopped") and not old["answers"].get("error")
    emu.add(world.remote, event("After renewal"))
    wait_for(lambda: "After renewal" in hub_titles(world), what="a change through the new channel")


def test_a_removed_channel_is_made_again(world, emu):
    ch = watched(world, emu)
    query(world.db_url, "UPDATE calendar_watch_channels SET state = 'removed'"
                        " WHERE external_calendar_id = %s", (world.cal,))
    scheduler(world)
    wait_for(lambda: channel_row(world)[3] == "live" and channel_row(world)[0] != ch["id"],
             timeout=60, what="a new channel")


def test_disconnect_stops_the_channel(world, emu):
    ch = watched(world, emu)
    job = world.enqueue(INTERACTIVE, "disconnect", calendar_id=world.cal, remove_events=False)
    wait_for(lambda: world.results_of(job), timeout=60, what="the disconnect")
    assert [c for c in emu_channels(emu, world) if c["id"] == ch["id"]][0]["stopped"]
    assert not query(world.db_url, "SELECT 1 FROM calendar_watch_channels")


def test_a_channel_that_cannot_be_made_leaves_polling_and_says_so(world, emu):
    emu.call("POST", "/_emu/config", {"channel_allow_http": None})   # Google wants https
    assert "HTTPS" in watch_fails(world)
    assert channel_row(world)[3] == "failed"
    scheduler(world, CALSYNC_SYNC_INTERVAL=2, CALSYNC_WATCH_POLL_INTERVAL=86400)
    emu.add(world.remote, event("Polled"))
    wait_for(lambda: "Polled" in hub_titles(world), timeout=60, what="the short poll")


def test_without_a_public_url_there_are_no_channels(world, emu):
    del world.env["CALSYNC_HOOKS_PUBLIC_URL"]
    world.worker("w1")
    job = world.enqueue(INTERACTIVE, "watch", calendar_id=world.cal, reason="renew")
    res = wait_for(lambda: world.results_of(job), timeout=60, what="the watch job")[0]
    assert res["status"] == "success" and "polling only" in res["error"]
    assert channel_row(world) is None and not emu_channels(emu, world)
    bad = run_tool(world.bin_dir, "status", env=dict(world.env, CALSYNC_HOOKS_PUBLIC_URL="http://x",
                                                            CALSYNC_HOOKS_ALLOW_HTTP="0"))
    assert bad.returncode != 0 and "CALSYNC_HOOKS_PUBLIC_URL" in bad.stderr


def test_a_failed_renewal_keeps_the_live_channel_until_it_expires(world, emu):
    ch = watched(world, emu)
    query(world.db_url, "UPDATE calendar_watch_channels SET expires_at = now() + interval '10 minutes'"
                        " WHERE external_calendar_id = %s", (world.cal,))
    emu.faults({"method": "POST", "path_regex": "/events/watch$", "status": 400, "reason": "invalid"})
    scheduler(world, CALSYNC_WATCH_RENEW_BEFORE=3600)
    wait_for(lambda: channel_row(world)[4], timeout=60, what="the renewal's failure recorded")
    row = channel_row(world)
    assert row[0] == ch["id"] and row[3] == "live" and "400" in row[4]
    out = run_tool(world.bin_dir, "status", world.cal, env=world.env, check=True).stdout
    assert "push until" in out
    emu.add(world.remote, event("Still pushed"))
    wait_for(lambda: "Still pushed" in hub_titles(world), what="a change through the old channel")
