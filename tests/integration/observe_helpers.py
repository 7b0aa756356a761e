"""tests/integration/observe_helpers.py - reaching a program's /healthz, /readyz
and /metrics: its port read from its log (every program under test serves on a
free port, CALSYNC_HTTP_ADDR=127.0.0.1:0, and logs it), plain GETs, and a strict
reader of the Prometheus text format 0.0.4 that fails on a line it does not
understand."""

import os
import re
import subprocess
import urllib.error
import urllib.request
import uuid

from confluent_kafka.admin import AdminClient, NewTopic

from calsync_helpers import wait_for

PORT_LINE = re.compile(r"serving /healthz, /readyz and /metrics on port (\d+)")
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (-?[0-9.eE+-]+|NaN|[+-]Inf)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')


def port_of(read_log, timeout=30):
    """The port a program logged (read_log: a function returning its log so far)."""
    def found():
        m = PORT_LINE.search(read_log())
        return int(m.group(1)) if m else None
    return wait_for(found, timeout=timeout, what="the program's HTTP port in its log")


def get(port, path):
    """(status, body text, content type) of GET path."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as resp:
            return resp.status, resp.read().decode(), resp.headers.get("Content-Type")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(), e.headers.get("Content-Type")


def parse(text):
    """{(name, ((label, value), ...)): value}; asserts every line is well-formed,
    every sample has a # TYPE of its family before it."""
    samples, typed = {}, set()
    for line in text.splitlines():
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            assert kind in ("counter", "gauge", "histogram"), line
            typed.add(name)
            continue
        m = SAMPLE.match(line)
        assert m, f"not an exposition line: {line!r}"
        name, labels = m.group(1), ()
        if m.group(3):
            pairs = LABEL.findall(m.group(3))
            assert ",".join(f'{k}="{v}"' for k, v, _ in pairs) == m.group(3), line
            labels = tuple(sorted((k, v) for k, v, _ in pairs))
        family = re.sub(r"_(bucket|sum|count)$", "", name)
        assert name in typed or family in typed, f"no # TYPE before {line!r}"
        samples[(name, labels)] = float(m.group(4))
    return samples


def metrics(port):
    status, body, ctype = get(port, "/metrics")
    assert status == 200 and ctype.startswith("text/plain; version=0.0.4"), (status, ctype)
    return parse(body)


def value(samples, name, **labels):
    """A sample's value, 0 when it is not there (yet)."""
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def new_topic(brokers, prefix):
    """A new Kafka topic of one partition; its name."""
    topic = prefix + uuid.uuid4().hex[:10]
    admin = AdminClient({"bootstrap.servers": brokers})
    for f in admin.create_topics([NewTopic(topic, 1, 1)]).values():
        f.result(30)
    return topic


class Scheduler:
    """calsync-scheduler on a pool_helpers.World (stopped with it), its own topic and group."""

    def __init__(self, world, topic):
        self.log_path = os.path.join(world.provider_dir, "scheduler.log")
        env = dict(os.environ)
        env.update(world.env)
        env.update(CALSYNC_KAFKA_TOPIC=topic, CALSYNC_KAFKA_GROUP=topic)
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen([os.path.join(world.bin_dir, "calsync-scheduler")],
                                         env=env, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT)
        world.procs.append(self.proc)

    def log(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()
