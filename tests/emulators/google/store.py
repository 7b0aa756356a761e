"""All emulator state behind one lock: OAuth clients and accounts, refresh and
access tokens, calendars with their events, the global change counter that
sync tokens refer to, and JSON persistence (--state-file / --seed)."""

import json
import os
import secrets
import tempfile
import threading
import urllib.parse

from .channels import DEFAULT_CHANNEL_CONFIG, Channels
from .model import Calendar
from .util import ApiError, Clock, OAuthError, random_token, rfc3339_ms

SCOPE = "https://www.googleapis.com/auth/calendar"
ACCESS_ROLES = ("freeBusyReader", "reader", "writer", "owner")
DEFAULT_CONFIG = dict({"access_token_lifetime_s": 3600, "user_rate_limit_per_min": None},
                      **DEFAULT_CHANNEL_CONFIG)


class Account:
    """A Google user as seen through one OAuth grant (one refresh token)."""

    def __init__(self, body):
        for key in ("client_id", "client_secret", "refresh_token"):
            if not isinstance(body.get(key), str) or not body[key]:
                raise ApiError(400, "required", "Missing or empty field: %s" % key)
        self.client_id = body["client_id"]
        self.client_secret = body["client_secret"]
        self.refresh_token = body["refresh_token"]
        self.revoked = bool(body.get("revoked", False))
        self.entries = [self._entry(c) for c in body.get("calendars") or []]
        primary = [e["id"] for e in self.entries if e.get("primary")]
        self.email = body.get("email") or (primary[0] if primary else "user@example.com")

    @staticmethod
    def _entry(cal):
        if not isinstance(cal, dict) or not isinstance(cal.get("id"), str) or not cal["id"]:
            raise ApiError(400, "required", "Every calendar needs an id")
        role = cal.get("accessRole", "owner")
        if role not in ACCESS_ROLES:
            raise ApiError(400, "invalid", "Invalid accessRole %r" % role)
        return {"id": cal["id"], "accessRole": role, "primary": bool(cal.get("primary"))}

    def primary_id(self):
        for entry in self.entries:
            if entry["primary"]:
                return entry["id"]
        return None

    def entry(self, cal_id):
        for entry in self.entries:
            if entry["id"] == cal_id:
                return entry
        return None

    def to_json(self):
        return {"client_id": self.client_id, "client_secret": self.client_secret,
                "refresh_token": self.refresh_token, "revoked": self.revoked,
                "email": self.email, "calendars": self.entries}


class Store:
    """The emulator's state. Callers hold `lock` around every operation."""

    def __init__(self):
        self.lock = threading.RLock()
        self.clock = Clock()
        self.config = dict(DEFAULT_CONFIG)
        self.channels = Channels(self)
        self.reset()

    def reset(self):
        self.accounts = {}       # refresh token -> Account
        self.access_tokens = {}  # access token -> (refresh token, expires_at)
        self.calendars = {}      # calendar id -> Calendar
        self.seq = 0             # global change counter (sync tokens point into it)
        self.last_etag = 0
        self.sync_epoch = secrets.token_hex(4)
        self.rate_windows = {}   # refresh token -> [request times]
        self.version = 0         # bumped on every change, for autosave
        self.channels.reset()

    def touch(self):
        self.version += 1

    # -- versions -----------------------------------------------------------

    def next_version(self):
        """(change seq, etag, updated) for one write."""
        now = self.clock.now()
        self.seq += 1
        self.last_etag = max(self.last_etag + 1, int(now * 1e6))
        self.touch()
        return self.seq, '"%d"' % self.last_etag, rfc3339_ms(now)

    def calendar_changed(self, cal_id):
        """A write to cal_id: its push channels notify (channels.py)."""
        self.channels.changed(cal_id)

    def expire_sync_tokens(self):
        self.sync_epoch = secrets.token_hex(4)
        self.touch()

    # -- accounts and calendars -------------------------------------------

    def add_account(self, body):
        if not isinstance(body, dict):
            raise ApiError(400, "parseError", "Parse Error")
        account = Account(body)
        for cal in body.get("calendars") or []:
            meta = {k: cal.get(k) for k in ("summary", "description", "backgroundColor",
                                              "foregroundColor", "timeZone")}
            existing = self.calendars.get(cal["id"])
            if existing is None:
                self.calendars[cal["id"]] = Calendar(cal["id"], meta)
            else:
                existing.meta.update({k: v for k, v in meta.items() if v is not None})
        self.accounts[account.refresh_token] = account
        self.touch()
        return account

    def calendar(self, cal_id):
        cal = self.calendars.get(cal_id)
        if cal is None:
            raise ApiError(404, "notFound", "Not Found")
        return cal

    def resolve_calendar(self, account, cal_id, write=False):
        """Calendar `cal_id` ('primary' allowed) as the account may see it."""
        if cal_id == "primary":
            cal_id = account.primary_id() or ""
        entry = account.entry(cal_id)
        if entry is None or cal_id not in self.calendars:
            raise ApiError(404, "notFound", "Not Found")
        if write and entry["accessRole"] not in ("writer", "owner"):
            raise ApiError(403, "requiredAccessLevel",
                           "You need to have writer access to this calendar.")
        return self.calendars[cal_id], entry

    # -- OAuth ------------------------------------------------------------

    def _client_ok(self, client_id, client_secret):
        secrets_of_client = {a.client_secret for a in self.accounts.values()
                             if a.client_id == client_id}
        return client_secret in secrets_of_client

    def grant(self, form):
        """POST /token with grant_type=refresh_token."""
        grant_type = form.get("grant_type")
        if not grant_type:
            raise OAuthError(400, "invalid_request", "Missing required parameter: grant_type")
        if grant_type != "refresh_token":
            raise OAuthError(400, "unsupported_grant_type", "Invalid grant_type: %s" % grant_type)
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        if not client_id or not self._client_ok(client_id, client_secret):
            raise OAuthError(401, "invalid_client", "Unauthorized")
        token = form.get("refresh_token")
        if not token:
            raise OAuthError(400, "invalid_request", "Missing required parameter: refresh_token")
        account = self.accounts.get(token)
        if account is None or account.revoked:
            raise OAuthError(400, "invalid_grant", "Token has been expired or revoked.")
        if account.client_id != client_id:
            raise OAuthError(401, "unauthorized_client", "Unauthorized")
        lifetime = int(self.config["access_token_lifetime_s"])
        access = random_token("ya29.emu-")
        self.access_tokens[access] = (token, self.clock.now() + lifetime)
        self.touch()
        return {"access_token": access, "expires_in": lifetime, "scope": SCOPE,
                "token_type": "Bearer"}

    def revoke(self, token):
        """POST /revoke: an access token also takes its refresh token with it."""
        if token in self.access_tokens:
            refresh = self.access_tokens[token][0]
        elif token in self.accounts and not self.accounts[token].revoked:
            refresh = token
        else:
            raise OAuthError(400, "invalid_token", "Token expired or revoked")
        self.revoke_refresh(refresh)

    def revoke_refresh(self, refresh):
        account = self.accounts.get(refresh)
        if account is None:
            raise ApiError(404, "notFound", "Unknown refresh token")
        account.revoked = True
        self.access_tokens = {k: v for k, v in self.access_tokens.items() if v[0] != refresh}
        self.touch()

    def expire_access_tokens(self):
        self.access_tokens.clear()
        self.touch()

    def authenticate(self, header):
        """The Account behind 'Authorization: Bearer <token>', else 401."""
        token = None
        if header and header[:7].lower() == "bearer ":
            token = header[7:].strip()
        entry = self.access_tokens.get(token) if token else None
        if entry is not None and entry[1] <= self.clock.now():
            entry = None
        account = self.accounts.get(entry[0]) if entry else None
        if account is None or account.revoked:
            raise ApiError(
                401, "authError", "Invalid Credentials",
                headers={"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/", error="invalid_token"'},
                location="Authorization", locationType="header")
        self._rate_limit(account)
        return account

    def _rate_limit(self, account):
        limit = self.config.get("user_rate_limit_per_min")
        if not limit:
            return
        now = self.clock.now()
        window = [t for t in self.rate_windows.get(account.refresh_token, []) if t > now - 60]
        if len(window) >= int(limit):
            self.rate_windows[account.refresh_token] = window
            raise ApiError(403, "userRateLimitExceeded", "User Rate Limit Exceeded")
        window.append(now)
        self.rate_windows[account.refresh_token] = window

    # -- persistence ------------------------------------------------------

    def to_json(self):
        return {
            "format": "calsync-google-emu/1", "seq": self.seq, "last_etag": self.last_etag,
            "sync_epoch": self.sync_epoch, "config": dict(self.config),
            "clock_offset_s": self.clock.offset_s,
            "accounts": [a.to_json() for a in self.accounts.values()],
            "access_tokens": {k: list(v) for k, v in self.access_tokens.items()},
            "calendars": [{"id": c.id, "meta": dict(c.meta),
                           "events": [[e.seq, e.res] for e in (c.events[i] for i in c.order)]}
                          for c in self.calendars.values()],
        }

    def load_state(self, data):
        """Restore what to_json() wrote."""
        self.reset()
        self.seq, self.last_etag = data["seq"], data["last_etag"]
        self.sync_epoch = data["sync_epoch"]
        self.config.update(data.get("config", {}))
        self.clock.offset_s = data.get("clock_offset_s", 0)
        for acc in data["accounts"]:
            account = Account(acc)
            self.accounts[account.refresh_token] = account
        self.access_tokens = {k: tuple(v) for k, v in data.get("access_tokens", {}).items()}
        for cal in data["calendars"]:
            calendar = Calendar(cal["id"], cal["meta"])
            for seq, res in cal["events"]:
                calendar.restore(res, seq)
            calendar.rebuild_log()
            self.calendars[calendar.id] = calendar

    def load_seed(self, data):
        """--seed: {"config":{...}, "accounts":[{..., "calendars":[{..., "events":[...]}]}],
        "events": {"<calendar id>": [...]}} - events created as another client would."""
        self.config.update(data.get("config", {}))
        pending = []
        for acc in data.get("accounts", []):
            self.add_account(acc)
            pending += [(c["id"], c.get("events") or []) for c in acc.get("calendars") or []]
        pending += list((data.get("events") or {}).items())
        for cal_id, items in pending:
            cal = self.calendar(cal_id)
            for body in items:
                cal.insert(body, self, "seed@example.com")

    def save(self, path):
        """Write the state file (caller holds the lock)."""
        write_atomic(path, json.dumps(self.to_json()))


def write_atomic(path, text):
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".google-emu-", dir=folder)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    os.replace(tmp, path)


def parse_form(body, content_type):
    """Form (or JSON) body of the OAuth endpoints as a flat dict."""
    text = body.decode("utf-8", "replace")
    if content_type and "json" in content_type:
        try:
            data = json.loads(text or "{}")
        except ValueError:
            raise OAuthError(400, "invalid_request", "Invalid JSON body")
        return {k: str(v) for k, v in data.items()} if isinstance(data, dict) else {}
    return {k: v[0] for k, v in urllib.parse.parse_qs(text, keep_blank_values=True).items()}
