"""test_hostile_entries.py - job entries no producer should write, through
the real worker and Redis: bytes that are not UTF-8 in a job's type or data,
texts cut inside a character, dedup keys that are not calsync's. The poison
entry is dead-lettered with a readable reason, the good jobs of its batch
finish, and the thread goes on."""

import pytest

from calsync_helpers import wait_for
from pool_helpers import BACKGROUND, DEAD, World, wait_result


@pytest.fixture
def world(services, bin_dir):
    w = World(services, bin_dir, redis_db=5)
    yield w
    w.stop()


def dead_letters(world):
    return [d for t, d in world.results(DEAD)]


def test_entries_not_utf8_are_dead_lettered_and_the_batch_ends(world):
    cal = world.calendar()
    first = world.enqueue(BACKGROUND, "sync", calendar_id=cal)
    world.r.xadd(BACKGROUND, {"type": b"sync\xff\xfe", "data": "{}"})
    world.r.xadd(BACKGROUND, {"type": "sync", "data": b'{"job_id":"\xff"}'})
    world.r.xadd(BACKGROUND, {"type": "x" * 62 + "\u65e5\u672c", "data": "{}"})  # cut by %.64s
    world.r.xadd(BACKGROUND, {"type": "sync", "data": '{"job_id":"a\\ud800"}'})
    second = world.enqueue(BACKGROUND, "sync", calendar_id=world.calendar("other-cal"))
    world.worker("a")  # one thread reads all six in one batch
    wait_result(world, first, status="success")
    wait_result(world, second, status="success")
    wait_for(lambda: len(dead_letters(world)) == 4, what="four dead letters")
    reasons = [d["reason"] for d in dead_letters(world)]
    assert any("'type' field is not valid UTF-8" in r for r in reasons), reasons
    assert sum("not JSON" in r for r in reasons) == 2, reasons
    assert any(r.startswith("unknown job type 'xxx") for r in reasons), reasons
    wait_for(lambda: world.pending(BACKGROUND) == 0, what="the batch acknowledged")
    later = world.enqueue(BACKGROUND, "sync", calendar_id=cal)
    wait_result(world, later, status="success")


def test_a_job_deletes_only_calsyncs_own_dedup_key(world):
    cal = world.calendar()
    own = f"calsync:queued:sync:{cal}"
    world.r.set("calsync:scheduler:leader", "someone")
    world.r.set(own, "1")
    world.r.xadd("calsync:results", {"type": "marker", "data": "{}"})
    foreign = [world.enqueue(BACKGROUND, "sync", calendar_id=cal, dedup=key)
               for key in ("calsync:scheduler:leader", "calsync:results")]
    mine = world.enqueue(BACKGROUND, "sync", calendar_id=cal, dedup=own)
    world.worker("a")
    for job in foreign + [mine]:
        wait_result(world, job, status="success")
    assert world.r.get("calsync:scheduler:leader") == "someone"
    assert world.r.type("calsync:results") == "stream"
    assert world.r.exists(own) == 0
    assert not dead_letters(world)
