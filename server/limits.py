"""Web tier: request limits and the errors a limit or a policy raises.

Owns the exception types of the reliability layer (each carries its HTTP status, an ``outcome``
name for the access log and metrics, and an optional ``Retry-After``), the per-client token
bucket (:class:`RateLimiter`), and :func:`init_app`, which checks every request before it
reaches a blueprint: header size (431), body size (413), length of a query in the URL (414),
then the client's rate (429). ``app.py`` maps :class:`ServiceError` to HTTP in its one handler.

Settings (``server/config.py``, documented in ``docs/limits.md``): ``MAX_BODY_BYTES``,
``MAX_HEADER_BYTES``, ``MAX_QUERY_LENGTH``, ``RATE_LIMIT_PER_MINUTE`` (0 disables),
``RATE_LIMIT_BURST``, ``RATE_LIMIT_EXEMPT``.

May import: flask, stdlib.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

from flask import Flask, current_app, request

__all__ = [
    "EXTENSION",
    "QueryTimeout",
    "RateLimited",
    "RateLimiter",
    "Refused",
    "ServiceError",
    "Unavailable",
    "init_app",
]

#: The key of the rate limiter in ``app.extensions``.
EXTENSION = "mkg.ratelimiter"

_DEFAULT_EXEMPT = ("/health", "/metrics")
_MAX_CLIENTS = 10_000


class ServiceError(Exception):
    """Base of the reliability errors: ``status``, ``outcome`` and an optional ``retry_after``."""

    status = 500
    outcome = "error"

    def __init__(self, message: str, *, status: int | None = None,
                 retry_after: float | None = None, reason: str | None = None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.retry_after = retry_after
        self.reason = reason or self.outcome

    @property
    def headers(self) -> dict[str, str]:
        """Extra response headers (``Retry-After`` in whole seconds, at least 1)."""
        if self.retry_after is None:
            return {}
        return {"Retry-After": str(max(1, math.ceil(self.retry_after)))}

    def __reduce__(self):
        return (_rebuild, (type(self), self.message, self.status, self.retry_after, self.reason))


def _rebuild(cls, message, status, retry_after, reason):
    return cls(message, status=status, retry_after=retry_after, reason=reason)


class Refused(ServiceError):
    """The request or query is refused by a policy or a limit (400, 403, 413, 414, 422, 431)."""

    status = 400
    outcome = "refused"


class RateLimited(ServiceError):
    """The client sent more requests than its token bucket allows (429 + ``Retry-After``)."""

    status = 429
    outcome = "rate_limited"


class QueryTimeout(ServiceError):
    """The query ran past its time budget and was stopped (503 + ``Retry-After``)."""

    status = 503
    outcome = "timeout"


class Unavailable(ServiceError):
    """No query worker could take the query, or one died under it (503 + ``Retry-After``)."""

    status = 503
    outcome = "unavailable"


# --- token bucket ----------------------------------------------------------------------------

@dataclass
class _Bucket:
    tokens: float
    stamp: float


class RateLimiter:
    """Token buckets per client: ``per_minute`` tokens a minute, at most ``burst`` saved up.

    Thread-safe; per process (under gunicorn each worker process has its own buckets).
    """

    def __init__(self, per_minute: float, burst: int, *, clock=time.monotonic):
        if per_minute <= 0 or burst < 1:
            raise ValueError("per_minute must be > 0 and burst >= 1")
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, client: str) -> None:
        """Spend one token of ``client``.

        :raises RateLimited: the bucket is empty; ``retry_after`` says when a token is back.
        """
        now = self._clock()
        with self._lock:
            bucket = self._refilled(client, now)
            if bucket.tokens < 1.0:
                wait = (1.0 - bucket.tokens) / self.rate
                raise RateLimited(
                    f"Too many requests from {client}: the limit is "
                    f"{self.rate * 60:g} requests a minute with bursts of {self.burst:g}. "
                    f"Retry in {max(1, math.ceil(wait))} s.",
                    retry_after=wait)
            bucket.tokens -= 1.0

    def _refilled(self, client: str, now: float) -> _Bucket:
        bucket = self._buckets.get(client)
        if bucket is None:
            if len(self._buckets) >= _MAX_CLIENTS:
                self._forget_full(now)
            bucket = self._buckets[client] = _Bucket(self.burst, now)
            return bucket
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.stamp) * self.rate)
        bucket.stamp = now
        return bucket

    def _forget_full(self, now: float) -> None:
        """Drop the buckets that have refilled completely (they hold no information)."""
        full_after = self.burst / self.rate
        for client in [c for c, b in self._buckets.items() if now - b.stamp >= full_after]:
            del self._buckets[client]
        if len(self._buckets) >= _MAX_CLIENTS:
            self._buckets.clear()


# --- the per-request checks --------------------------------------------------------------------

def _header_bytes() -> int:
    return sum(len(k) + len(v) + 4 for k, v in request.headers.items())


def _check_request() -> None:
    """Refuse oversized requests, then spend a rate-limit token; runs before every view."""
    config = current_app.config
    limit = int(config.get("MAX_HEADER_BYTES", 16_384))
    size = _header_bytes()
    if size > limit:
        raise Refused(f"The request headers are {size} bytes; the limit is {limit} bytes.",
                      status=431, reason="headers_too_large")
    body_limit = int(config["MAX_BODY_BYTES"])
    if request.content_length is not None and request.content_length > body_limit:
        raise Refused(f"The request body is {request.content_length} bytes; the limit is "
                      f"{body_limit} bytes.", status=413, reason="body_too_large")
    query_limit = int(config["MAX_QUERY_LENGTH"])
    for text in request.args.getlist("query"):
        if len(text) > query_limit:
            raise Refused(f"The query is {len(text)} characters long; the limit is "
                          f"{query_limit}. Shorten the query.", status=414,
                          reason="query_too_long")
    limiter = current_app.extensions.get(EXTENSION)
    if limiter is not None and request.path not in config.get("RATE_LIMIT_EXEMPT",
                                                              _DEFAULT_EXEMPT):
        limiter.take(request.remote_addr or "unknown")


def init_app(app: Flask) -> None:
    """Install the request checks and, unless ``RATE_LIMIT_PER_MINUTE`` is 0, the limiter."""
    app.config["MAX_CONTENT_LENGTH"] = int(app.config["MAX_BODY_BYTES"])
    per_minute = float(app.config.get("RATE_LIMIT_PER_MINUTE") or 0)
    if per_minute > 0:
        app.extensions[EXTENSION] = RateLimiter(per_minute,
                                                int(app.config["RATE_LIMIT_BURST"]))
    app.before_request(_check_request)
