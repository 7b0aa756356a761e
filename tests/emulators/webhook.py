"""Web-hook deliveries shared by the emulators (google/channels.py,
graph/subscriptions.py): POSTs sent in order by one thread of their own, off
the emulator's lock, each answer (its HTTP status, or "error" when there was
none) handed to a callback; how many are queued and not yet answered."""

import queue
import threading
import urllib.error
import urllib.request


class Poster:
    def __init__(self, timeout_s=10):
        self.timeout_s = timeout_s
        self.queue = queue.Queue()
        self.idle = threading.Condition()
        self.busy = 0
        threading.Thread(target=self._run, daemon=True).start()

    def post(self, url, data, headers, answered):
        """Queue a POST of data to url; answered(status) runs on the delivery thread."""
        with self.idle:
            self.busy += 1
        self.queue.put((url, data, headers, answered))

    def _run(self):
        while True:
            url, data, headers, answered = self.queue.get()
            req = urllib.request.Request(url, data=data, method="POST", headers=headers)
            try:
                with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
                    status = resp.status
            except urllib.error.HTTPError as err:
                status = err.code
            except (OSError, ValueError):
                status = "error"
            answered(status)
            with self.idle:
                self.busy -= 1
                self.idle.notify_all()

    def wait_idle(self, timeout):
        with self.idle:
            return self.idle.wait_for(lambda: self.busy == 0, timeout)
