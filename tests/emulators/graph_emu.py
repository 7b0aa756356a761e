#!/usr/bin/python3
"""Microsoft Graph (calendars) + Microsoft identity token endpoint emulator for
calsync's tests, demo and benchmarks.

    /usr/bin/python3 tests/emulators/graph_emu.py --port N [--host 127.0.0.1]
        [--token-lifetime S] [--seed F] [--verbose]

Serves Graph v1.0 under /v1.0 (CALSYNC_GRAPH_API_URL=http://HOST:PORT/v1.0), the
token endpoint at /token (CALSYNC_MS_TOKEN_URL) and the control API under
/_emu/ (graph/control.py). --seed F: {"mailboxes": [{mailbox, client_id,
refresh_token, calendars: [...], events: {calendar id: [event, ...]}}]} (the
bodies of POST /_emu/mailboxes and of Graph creates). With --port 0 a free port is chosen; the first
stdout line is always `LISTENING <port>`."""

import argparse
import json
import os
import signal
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from graph.server import EmulatorServer  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True, help="TCP port; 0 picks a free one")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--token-lifetime", type=int, default=3600,
                        help="access token lifetime in seconds (default 3600)")
    parser.add_argument("--seed", help="JSON file with mailboxes, calendars and events")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)
    server = EmulatorServer((args.host, args.port), verbose=args.verbose,
                            token_lifetime=args.token_lifetime)
    if args.seed:
        with open(args.seed) as fh:
            server.control.load_seed(json.load(fh))
    print("LISTENING %d" % server.server_address[1], flush=True)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
