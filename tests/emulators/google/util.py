"""Small shared helpers: the emulator clock, id generation, opaque tokens and
the ApiError exception that every layer raises to produce a Google-style error."""

import base64
import datetime as dt
import json
import re
import secrets
import time
import uuid

UTC = dt.timezone.utc

# Google's default reasons/messages per HTTP status, used when a fault rule or
# an error does not name its own.
DEFAULT_REASONS = {
    400: ("badRequest", "Bad Request"),
    401: ("authError", "Invalid Credentials"),
    403: ("rateLimitExceeded", "Rate Limit Exceeded"),
    404: ("notFound", "Not Found"),
    409: ("duplicate", "The requested identifier already exists."),
    410: ("deleted", "Resource has been deleted"),
    412: ("conditionNotMet", "Precondition Failed"),
    429: ("rateLimitExceeded", "Rate Limit Exceeded"),
    500: ("backendError", "Backend Error"),
    503: ("backendError", "The service is currently unavailable."),
}

STATUS_NAMES = {
    400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
    404: "NOT_FOUND", 409: "ALREADY_EXISTS", 410: "FAILED_PRECONDITION",
    412: "FAILED_PRECONDITION", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL",
    503: "UNAVAILABLE",
}


class ApiError(Exception):
    """An error answered as {"error":{"code","message","errors":[...]}}."""

    def __init__(self, code, reason=None, message=None, headers=None, **extra):
        default_reason, default_message = DEFAULT_REASONS.get(code, ("unknown", "Error"))
        self.code = code
        self.reason = reason or default_reason
        self.message = message or default_message
        self.headers = headers or {}
        self.extra = extra  # e.g. location/locationType for auth errors
        super().__init__("%d %s: %s" % (code, self.reason, self.message))

    def body(self):
        item = {"domain": "global", "reason": self.reason, "message": self.message}
        item.update(self.extra)
        err = {"code": self.code, "message": self.message, "errors": [item]}
        if self.code in STATUS_NAMES:
            err["status"] = STATUS_NAMES[self.code]
        return {"error": err}


class OAuthError(Exception):
    """An error of the token/revoke endpoints: {"error","error_description"}."""

    def __init__(self, code, error, description=None):
        self.code = code
        self.error = error
        self.description = description
        super().__init__("%d %s" % (code, error))

    def body(self):
        out = {"error": self.error}
        if self.description:
            out["error_description"] = self.description
        return out


class Clock:
    """Wall clock plus a settable offset (POST /_emu/clock) to age tokens."""

    def __init__(self):
        self.offset_s = 0.0

    def now(self):
        return time.time() + self.offset_s


def rfc3339_ms(ts):
    """Epoch seconds -> '2024-01-15T10:00:00.123Z' (Google's `updated` format)."""
    d = dt.datetime.fromtimestamp(ts, UTC)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (d.microsecond // 1000)


def parse_rfc3339(text):
    """Parse an RFC 3339 timestamp that must carry an offset; None if invalid."""
    if not isinstance(text, str) or not re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d", text):
        return None
    try:
        d = dt.datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        return None
    return d if d.tzinfo is not None else None


EVENT_ID_RE = re.compile(r"^[a-v0-9]{5,1024}$")


def new_event_id():
    """A 26-character base32hex id (from a UUID), like the ids Google generates."""
    return base64.b32hexencode(uuid.uuid4().bytes).decode().lower().rstrip("=")


def random_token(prefix, nbytes=24):
    return prefix + secrets.token_urlsafe(nbytes)


def encode_token(prefix, obj):
    """Opaque page/sync token: prefix + base64url(compact JSON)."""
    raw = json.dumps(obj, separators=(",", ":"), sort_keys=True).encode()
    return prefix + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(prefix, token):
    """Inverse of encode_token; None when the token is not ours or malformed."""
    if not isinstance(token, str) or not token.startswith(prefix):
        return None
    body = token[len(prefix):]
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        obj = json.loads(raw)
    except (ValueError, TypeError):
        return None
    return obj if isinstance(obj, dict) else None


def dumps(obj):
    return json.dumps(obj, separators=(",", ":"))


JSON_TYPE = "application/json; charset=UTF-8"


class Response:
    """One HTTP answer: status, body (str or bytes), extra headers."""

    def __init__(self, status, body=b"", headers=None, ctype=JSON_TYPE):
        self.status = status
        self.body = body.encode() if isinstance(body, str) else body
        self.headers = headers or {}
        self.ctype = ctype


def json_response(obj, status=200):
    return Response(status, dumps(obj))


def error_response(err):
    return Response(err.code, dumps(err.body()), err.headers)
