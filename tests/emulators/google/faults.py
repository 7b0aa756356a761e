"""Injected faults (POST /_emu/faults) and request statistics (GET /_emu/stats).

Rules are checked in order for every API/OAuth request (never for /_emu).
A matching rule with `times` left fires and counts down; `times` omitted means
forever. `delay`, `short_pages`, `garbage_item`, `repeat_item` and
`local_times` shape the request and let later rules fire too; `error`, `garbage`, `drop` and
`apply_then_fail` end the search. Error-type faults answer before anything is applied."""

import re
import threading

from .util import ApiError

ACTIONS = ("error", "garbage", "delay", "drop", "garbage_item", "repeat_item", "local_times",
           "short_pages", "apply_then_fail")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "*")
SHAPING = ("delay", "short_pages", "garbage_item", "repeat_item", "local_times")


class Plan:
    """What the matching rules ask of one request."""

    def __init__(self):
        self.delay_ms = 0
        self.page_size = None
        self.garbage_ids = set()
        self.repeat_ids = []
        self.local_ids = set()
        self.terminal = None     # error / garbage / drop rule: answer instead
        self.after = None        # apply_then_fail rule: answer after applying

    def list_mods(self):
        return {"page_size": self.page_size, "garbage_ids": self.garbage_ids,
                "repeat_ids": self.repeat_ids, "local_ids": self.local_ids}


def _rule(raw, index):
    if not isinstance(raw, dict):
        raise ApiError(400, "invalid", "rule %d: not an object" % index)
    action = raw.get("action") or ("error" if "status" in raw else None)
    if action not in ACTIONS:
        raise ApiError(400, "invalid", "rule %d: action must be one of %s" % (index, ", ".join(ACTIONS)))
    method = str(raw.get("method", "*")).upper()
    if method not in METHODS:
        raise ApiError(400, "invalid", "rule %d: bad method %r" % (index, method))
    try:
        path_re = re.compile(raw.get("path_regex") or "")
        query_re = re.compile(raw["query_regex"]) if raw.get("query_regex") else None
    except re.error as exc:
        raise ApiError(400, "invalid", "rule %d: bad regex: %s" % (index, exc))
    times = raw.get("times")
    if times is not None and (not isinstance(times, int) or times < 0):
        raise ApiError(400, "invalid", "rule %d: times must be a non-negative integer" % index)
    if action == "error" and not isinstance(raw.get("status"), int):
        raise ApiError(400, "invalid", "rule %d: error needs an integer status" % index)
    if action in ("garbage_item", "repeat_item", "local_times") and not raw.get("event_id"):
        raise ApiError(400, "invalid", "rule %d: %s needs event_id" % (index, action))
    if action == "short_pages" and not isinstance(raw.get("page_size"), int):
        raise ApiError(400, "invalid", "rule %d: short_pages needs an integer page_size" % index)
    rule = dict(raw, action=action, method=method, fired=0)
    rule["_path"], rule["_query"] = path_re, query_re
    return rule


class Faults:
    def __init__(self):
        self.lock = threading.Lock()
        self.rules = []

    def set(self, raw_rules, append=False):
        if not isinstance(raw_rules, list):
            raise ApiError(400, "invalid", "rules must be a list")
        rules = [_rule(r, i) for i, r in enumerate(raw_rules)]
        with self.lock:
            self.rules = (self.rules + rules) if append else rules

    def clear(self):
        with self.lock:
            self.rules = []

    def describe(self):
        with self.lock:
            return [{k: v for k, v in r.items() if not k.startswith("_")} for r in self.rules]

    def plan(self, method, path, query):
        """Fire the rules matching this request; return the resulting Plan."""
        plan = Plan()
        with self.lock:
            for rule in self.rules:
                if not self._matches(rule, method, path, query):
                    continue
                self._fire(rule)
                action = rule["action"]
                if action == "delay":
                    plan.delay_ms += int(rule.get("delay_ms", 0))
                elif action == "short_pages":
                    plan.page_size = max(0, rule["page_size"])
                elif action == "garbage_item":
                    plan.garbage_ids.add(rule["event_id"])
                elif action == "repeat_item":
                    plan.repeat_ids.append(rule["event_id"])
                elif action == "local_times":
                    plan.local_ids.add(rule["event_id"])
                elif action == "apply_then_fail":
                    plan.after = rule
                    break
                else:
                    plan.terminal = rule
                    break
        return plan

    @staticmethod
    def _matches(rule, method, path, query):
        if rule.get("times") == 0:
            return False
        if rule["method"] not in ("*", method):
            return False
        if not rule["_path"].search(path):
            return False
        return rule["_query"] is None or bool(rule["_query"].search(query))

    @staticmethod
    def _fire(rule):
        rule["fired"] += 1
        if rule.get("times") is not None:
            rule["times"] -= 1


def error_for(rule):
    """The ApiError an error/apply_then_fail rule answers with."""
    status = int(rule.get("status", 500))
    headers = {}
    if rule.get("retry_after") is not None:
        headers["Retry-After"] = str(rule["retry_after"])
    return ApiError(status, rule.get("reason"), rule.get("message"), headers=headers)


class Stats:
    """Counts of API/OAuth requests by method, (method, kind) and status, and of
    the client connections that carried them (keep-alive reuse shows there)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with self.lock:
            self.total = 0
            self.by_method, self.by_kind, self.by_status = {}, {}, {}
            self.faults = 0
            self.connections = 0

    def connection(self):
        with self.lock:
            self.connections += 1

    def record(self, method, kind, status, faulted=False):
        with self.lock:
            self.total += 1
            self.by_method[method] = self.by_method.get(method, 0) + 1
            key = "%s %s" % (method, kind)
            self.by_kind[key] = self.by_kind.get(key, 0) + 1
            self.by_status[str(status)] = self.by_status.get(str(status), 0) + 1
            self.faults += 1 if faulted else 0

    def snapshot(self):
        with self.lock:
            return {"total": self.total, "by_method": dict(self.by_method),
                    "by_kind": dict(self.by_kind), "by_status": dict(self.by_status),
                    "faults_injected": self.faults, "connections": self.connections}
