"""The /_emu control API used by tests and the demo (JSON in/out, no auth).
See tests/emulators/README.md for the reference of every endpoint."""

import json
import urllib.parse

from .util import ApiError, Response, json_response, rfc3339_ms

OTHER_CLIENT = "someone-else@example.com"   # creator of events made "behind calsync's back"
CONFIG_KEYS = {"access_token_lifetime_s": int, "user_rate_limit_per_min": int,
               "channel_max_lifetime_s": int, "channel_allow_http": int}


def _body(raw):
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        raise ApiError(400, "parseError", "Parse Error")
    if not isinstance(data, dict):
        raise ApiError(400, "parseError", "The body must be a JSON object")
    return data


def handle_control(handler, sub, query, raw):
    """Dispatch /_emu/<sub>; called with the store lock held."""
    method, body = handler.command, _body(raw)
    seg = [urllib.parse.unquote(s) for s in sub.split("/")]
    if seg[0] == "calendars" and len(seg) in (3, 4) and seg[2] == "events":
        return _events(handler, method, seg[1], seg[3] if len(seg) == 4 else None, body)
    key = (method, sub)
    if key not in ROUTES:
        raise ApiError(404, "notFound", "No control endpoint %s /_emu/%s" % (method, sub))
    return ROUTES[key](handler, body)


# -- global state ---------------------------------------------------------------

def _reset(handler, body):
    server = handler.server
    server.store.reset()
    server.store.config = dict(server.base_config)
    server.store.clock.offset_s = 0
    server.faults.clear()
    server.stats.reset()
    return json_response({"ok": True})


def _add_account(handler, body):
    account = handler.server.store.add_account(body)
    return json_response(account.to_json())


def _list_accounts(handler, body):
    return json_response({"accounts": [a.to_json() for a in handler.server.store.accounts.values()]})


def _revoke_refresh(handler, body):
    handler.server.store.revoke_refresh(body.get("refresh_token"))
    return json_response({"ok": True})


def _expire_access(handler, body):
    handler.server.store.expire_access_tokens()
    return json_response({"ok": True})


def _expire_sync(handler, body):
    handler.server.store.expire_sync_tokens()
    return json_response({"ok": True})


def _get_config(handler, body):
    return json_response(handler.server.store.config)


def _set_config(handler, body):
    store = handler.server.store
    for key, value in body.items():
        if key not in CONFIG_KEYS:
            raise ApiError(400, "invalid", "Unknown config key %r" % key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ApiError(400, "invalid", "%s must be a positive integer or null" % key)
        if value is None and key == "access_token_lifetime_s":
            raise ApiError(400, "invalid", "access_token_lifetime_s cannot be null")
    store.config.update(body)
    store.touch()
    return json_response(store.config)


def _clock_state(store):
    now = store.clock.now()
    return {"offset_s": store.clock.offset_s, "now": rfc3339_ms(now), "epoch_s": now}


def _get_clock(handler, body):
    return json_response(_clock_state(handler.server.store))


def _set_clock(handler, body):
    store = handler.server.store
    for key in ("offset_s", "advance_s"):
        if key in body and (isinstance(body[key], bool) or not isinstance(body[key], (int, float))):
            raise ApiError(400, "invalid", "%s must be a number" % key)
    if "offset_s" in body:
        store.clock.offset_s = float(body["offset_s"])
    store.clock.offset_s += float(body.get("advance_s", 0))
    store.touch()
    return json_response(_clock_state(store))


def _get_faults(handler, body):
    return json_response({"rules": handler.server.faults.describe()})


def _set_faults(handler, body):
    handler.server.faults.set(body.get("rules"), append=bool(body.get("append")))
    return json_response({"rules": handler.server.faults.describe()})


def _clear_faults(handler, body):
    handler.server.faults.clear()
    return json_response({"rules": []})


def _stats(handler, body):
    return json_response(handler.server.stats.snapshot())


def _reset_stats(handler, body):
    handler.server.stats.reset()
    return json_response({"ok": True})


def _save(handler, body):
    path = handler.server.state_file
    if not path:
        raise ApiError(400, "invalid", "No --state-file was given")
    handler.server.store.save(path)
    return json_response({"ok": True, "state_file": path})


def _channels(handler, body):
    store = handler.server.store
    return json_response({"channels": [c.to_json() for c in store.channels.by_id.values()]})


def _count(body):
    count = body.get("count", 1)
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 100000:
        raise ApiError(400, "invalid", "count must be 1..100000")
    return count


def _channels_lose(handler, body):
    handler.server.store.channels.lose(body.get("channel"), _count(body))
    return json_response({"ok": True})


def _channels_burst(handler, body):
    number = body.get("number")
    if number is not None and (isinstance(number, bool) or not isinstance(number, int)):
        raise ApiError(400, "invalid", "number must be a whole number")
    handler.server.store.channels.burst(body.get("channel"), _count(body),
                                        token=body.get("token"), number=number)
    return json_response({"ok": True})


def _health(handler, body):
    store = handler.server.store
    return json_response({"ok": True, "calendars": len(store.calendars), "seq": store.seq})


ROUTES = {
    ("POST", "reset"): _reset,
    ("POST", "accounts"): _add_account,
    ("GET", "accounts"): _list_accounts,
    ("POST", "revoke_refresh"): _revoke_refresh,
    ("POST", "expire_access_tokens"): _expire_access,
    ("POST", "expire_sync_tokens"): _expire_sync,
    ("GET", "config"): _get_config,
    ("POST", "config"): _set_config,
    ("GET", "clock"): _get_clock,
    ("POST", "clock"): _set_clock,
    ("GET", "faults"): _get_faults,
    ("POST", "faults"): _set_faults,
    ("DELETE", "faults"): _clear_faults,
    ("GET", "stats"): _stats,
    ("POST", "stats/reset"): _reset_stats,
    ("POST", "save"): _save,
    ("GET", "health"): _health,
    ("GET", "channels"): _channels,
    ("POST", "channels/lose"): _channels_lose,
    ("POST", "channels/burst"): _channels_burst,
}


# -- events behind calsync's back ----------------------------------------------------

def _events(handler, method, cid, eid, body):
    store = handler.server.store
    cal = store.calendar(cid)
    if eid is None and method == "GET":
        return Response(200, '{"items":[' + ",".join(cal.events[i].full_json() for i in cal.order) + "]}")
    if eid is None and method == "POST":
        items = body.get("events")
        if not isinstance(items, list):
            raise ApiError(400, "invalid", 'Body must be {"events": [...]}')
        created = []
        for index, item in enumerate(items):
            try:
                created.append(cal.insert(item, store, OTHER_CLIENT).full_json())
            except ApiError as err:
                err.message = "events[%d]: %s (%d created before it)" % (index, err.message, index)
                raise
        return Response(200, '{"items":[' + ",".join(created) + "]}")
    if eid is not None and method == "GET":
        return Response(200, cal.find(eid)[0].full_json())
    if eid is not None and method == "PATCH":
        return Response(200, cal.update(eid, body, store, patch=True, force_bump=True).full_json())
    if eid is not None and method == "DELETE":
        cal.delete(eid, store)
        return Response(200, cal.events[eid].full_json())
    raise ApiError(404, "notFound", "No control endpoint %s for events" % method)
