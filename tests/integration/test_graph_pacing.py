"""test_graph_pacing.py - Outlook allows 4 concurrent requests per app and
mailbox: with six calendars of one mailbox syncing at once on a worker with
eight threads, the Graph emulator never sees more than 4 requests of that
mailbox in flight (the worker's per-account pacer, provider limits
max_in_flight = 4)."""

import uuid

from calsync_helpers import query, wait_for
from graph_helpers import connect_outlook, graph, timed  # noqa: F401 (a fixture)
from pool_helpers import INTERACTIVE, World


def test_one_mailbox_never_gets_more_than_four_requests_at_once(services, bin_dir, graph):
    w = World(services, bin_dir, redis_db=7)
    box = "busy-%s@outlook.example" % uuid.uuid4().hex[:6]
    try:
        cals, remotes = connect_outlook(w, graph, mailbox=box,
                                        names=["Calendar %d" % i for i in range(6)])
        for i, remote in enumerate(remotes):
            graph.add(remote, timed("Event %d" % i, "2026-12-01T09:00:00", "2026-12-01T10:00:00"))
        # every Graph request of the mailbox takes a while, so that requests overlap
        graph.faults({"method": "*", "path_regex": "^/me/", "delay_s": 0.3})
        graph.call("POST", "/_emu/stats/reset")
        # one job a thread: the six syncs run at once (and refresh the shared token at once)
        w.worker("pace", CALSYNC_WORKER_CONCURRENCY=8, CALSYNC_BATCH_SIZE=1,
                 CALSYNC_RETRY_BASE_MS=100, CALSYNC_RETRY_MAX_MS=300)
        jobs = [w.enqueue(INTERACTIVE, "sync", calendar_id=cal) for cal in cals]
        try:
            wait_for(lambda: all(any(r["status"] == "success" for r in w.results_of(j)) for j in jobs),
                     timeout=60, what="six syncs")
        except AssertionError:
            raise AssertionError("%s\n%s" % ([[(r["status"], r.get("error")) for r in w.results_of(j)]
                                               for j in jobs], w.log(0)[-3000:]))
        assert query(w.db_url, "SELECT DISTINCT last_sync_status FROM calendar_sync_states") == \
            [("success",)]
        seen = graph.stats()["max_in_flight"][box]
        assert seen >= 2, "the syncs did not overlap at all (%d): %s" % (seen, graph.stats())
        assert seen <= 4, "the emulator saw %d requests of one mailbox at once" % seen
    finally:
        graph.clear_faults()
        w.stop()
