#!/usr/bin/python3
"""Google Calendar API v3 + Google OAuth emulator for calsync's tests and demo.

    /usr/bin/python3 tests/emulators/google_emu.py --port N [--host 127.0.0.1]
        [--state-file F] [--seed F] [--token-lifetime S] [--verbose]

Serves the Calendar API under /calendar/v3 (point CALSYNC_GOOGLE_API_URL at
http://HOST:PORT/calendar/v3), the OAuth token endpoint at /token
(CALSYNC_GOOGLE_TOKEN_URL) and /revoke, and a control API for tests under
/_emu/. With --port 0 a free port is chosen; the first stdout line is always
`LISTENING <port>`. Stdlib only. The implementation lives in google/ and the
control API is documented in README.md next to this file."""

import argparse
import json
import os
import signal
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from google.server import EmulatorServer  # noqa: E402
from google.store import write_atomic  # noqa: E402


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True, help="TCP port; 0 picks a free one")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--state-file", help="load state from F if it exists; save it there "
                        "after changes (within a second) and at exit")
    parser.add_argument("--seed", help="JSON file with accounts, calendars and events to "
                        "create at start (ignored when --state-file already holds state)")
    parser.add_argument("--token-lifetime", type=int, default=3600,
                        help="access token lifetime in seconds (default 3600)")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    return parser.parse_args(argv)


def load_initial_state(server, args):
    store = server.store
    if args.state_file and os.path.exists(args.state_file):
        with open(args.state_file) as fh:
            store.load_state(json.load(fh))
    elif args.seed:
        with open(args.seed) as fh:
            store.load_seed(json.load(fh))


def autosave(server, stop):
    """Write the state file at most once a second while things change."""
    saved = None
    while not stop.wait(1.0):
        with server.store.lock:
            version = server.store.version
            if version == saved:
                continue
            state = server.store.to_json()   # shallow: stored resources are never mutated
        write_atomic(server.state_file, json.dumps(state))
        saved = version


def main(argv=None):
    args = parse_args(argv)
    server = EmulatorServer((args.host, args.port), verbose=args.verbose,
                            base_config={"access_token_lifetime_s": args.token_lifetime},
                            state_file=args.state_file)
    load_initial_state(server, args)
    print("LISTENING %d" % server.server_address[1], flush=True)
    stop = threading.Event()
    if args.state_file:
        threading.Thread(target=autosave, args=(server, stop), daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        server.server_close()
        if args.state_file:
            with server.store.lock:
                state = server.store.to_json()
            write_atomic(args.state_file, json.dumps(state))
    return 0


if __name__ == "__main__":
    sys.exit(main())
