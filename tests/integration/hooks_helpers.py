"""tests/integration/hooks_helpers.py - calsync-hooks as a test fixture (start
it on a free port, post to it the way the providers do), a plain receiver
that records what the Google emulator sends to a channel's address, and what
the push tests of every provider share: a scheduler of the test's world, the
Hub's titles, the calendar's sync results."""

import json
import os
import subprocess
import threading
import uuid
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from calsync_helpers import query, run_tool, terminate, wait_for, wait_line
from pool_helpers import INTERACTIVE


def start_hooks(bin_dir, env, log_path, deadline_s=15.0):
    """Start build/calsync-hooks on 127.0.0.1:0; return (process, base URL). Its log goes to log_path."""
    full = dict(os.environ)
    full.update(env)
    full["CALSYNC_HTTP_ADDR"] = "127.0.0.1:0"
    log = open(log_path, "w")
    proc = subprocess.Popen([os.path.join(str(bin_dir), "calsync-hooks")], env=full,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    line = wait_line(proc, proc.stderr, "listening on port ", deadline_s, "calsync-hooks", log)
    threading.Thread(target=_copy, args=(proc.stderr, log), daemon=True).start()
    return proc, "http://127.0.0.1:%d" % int(line.rsplit(" ", 1)[1])


def _copy(src, dst):
    for line in src:
        dst.write(line)
        dst.flush()
    dst.close()


def stop_hooks(proc):
    terminate(proc)


def post(url, body=b"", headers=None, content_type="application/json"):
    """POST; (status, text of the answer, content type)."""
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
    h = {"Content-Type": content_type}
    h.update(headers or {})
    req = urllib.request.Request(url, data=body, method="POST", headers=h)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read().decode(), resp.headers.get("Content-Type")
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode(), err.headers.get("Content-Type")


def google_headers(channel_id, token, resource_id, state="exists", number=2):
    h = {"X-Goog-Channel-ID": channel_id, "X-Goog-Resource-ID": resource_id,
         "X-Goog-Resource-State": state, "X-Goog-Message-Number": str(number),
         "X-Goog-Channel-Expiration": "Tue, 08 Dec 2026 10:00:00 GMT"}
    if token is not None:
        h["X-Goog-Channel-Token"] = token
    return h


class Receiver:
    """An HTTP server that records every POST (headers, body) and answers 200."""

    def __init__(self):
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                received.append((self.path, self.headers, body))  # case-insensitive
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/hooks/google" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def post_declared(url, length):
    """POST that declares a Content-Length of length and sends no body yet: the
    status the server answers before reading it (a body cap refuses at once)."""
    import http.client
    parts = urllib.request.urlparse(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.putrequest("POST", parts.path)
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Content-Length", str(length))
        conn.endheaders()
        return conn.getresponse().status
    finally:
        conn.close()


def scheduler(world, **settings):
    """Start calsync-scheduler with world's settings and these; its log in world.tmp."""
    env = dict(os.environ)
    env.update(world.env)
    env.update({"CALSYNC_KAFKA_TOPIC": "hooks-" + uuid.uuid4().hex[:8],
                "CALSYNC_KAFKA_GROUP": "hooks-" + uuid.uuid4().hex[:8]})
    env.update({k: str(v) for k, v in settings.items()})
    log = open(world.tmp / "scheduler.log", "w")
    proc = subprocess.Popen([os.path.join(world.bin_dir, "calsync-scheduler")], env=env,
                            stdout=subprocess.DEVNULL, stderr=log)
    log.close()
    world.procs.append(proc)
    return proc


def hub_titles(world):
    return {r[0] for r in query(world.db_url, "SELECT title FROM events WHERE tenant_id = %s"
                                              " AND deleted_at IS NULL", (world.tenant,))}


def sync_results(world):
    """The sync_result records of world.cal's sync jobs."""
    return [d for t, d in world.results() if t == "sync_result" and d["job_type"] == "sync"
            and d["calendar_id"] == world.cal]


def hook_up(world, bin_dir, tmp_path):
    """calsync-hooks for world (its log in world.hooks_log), whose public URL the
    workers and schedulers of world get; long polling intervals, so that only a
    notification brings a change in."""
    world.hooks_log = tmp_path / "hooks.log"
    world.hooks, world.hooks_url = start_hooks(bin_dir, world.env, str(world.hooks_log))
    world.env.update({"CALSYNC_HOOKS_PUBLIC_URL": world.hooks_url, "CALSYNC_HOOKS_ALLOW_HTTP": "1",
                      "CALSYNC_SYNC_INTERVAL": "86400", "CALSYNC_WATCH_POLL_INTERVAL": "86400"})
    world.tmp = tmp_path


def sync_then_watch(world):
    """A worker, the calendar's first sync, then a watch job that must succeed."""
    world.worker("w1")
    job = world.enqueue(INTERACTIVE, "sync", calendar_id=world.cal)
    wait_for(lambda: world.results_of(job), timeout=60, what="the first sync")
    job = world.enqueue(INTERACTIVE, "watch", calendar_id=world.cal, reason="renew")
    res = wait_for(lambda: world.results_of(job), timeout=60, what="the watch job")[0]
    assert res["status"] == "success", res


def watch_fails(world):
    """A watch job that cannot make the channel fails saying the calendar polls; what
    `calsync status` then says of the calendar."""
    world.worker("w1")
    job = world.enqueue(INTERACTIVE, "watch", calendar_id=world.cal, reason="renew")
    res = wait_for(lambda: world.results_of(job), timeout=60, what="the watch job")[0]
    assert res["status"] in ("failed", "dead") and "polling" in res["error"]
    out = run_tool(world.bin_dir, "status", world.cal, env=world.env, check=True).stdout
    assert "polling (no push channel: " in out
    return out
