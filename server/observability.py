"""Web tier: the access log, ``/metrics`` and ``/health``.

Owns :class:`Metrics` (counters and a latency histogram, written in the Prometheus text format
0.0.4), one structured access-log line per request (JSON on the ``mkg.access`` logger: method,
path, status, duration_ms, outcome, client, and the refusal reason when there is one), and the
two operational routes:

- ``GET /metrics``: requests by route, method and status; a duration histogram by route;
  timeouts, refusals (by reason), rate-limited requests; query-worker states and restarts.
- ``GET /health``: 200 with a JSON summary, or 503 when a registered check fails (the store
  cannot answer, or no query worker is alive).

Metrics are per process: under gunicorn each worker process counts its own requests.
Error handlers call :func:`note_error` so that the outcome of a refused request is logged.

May import: flask, limits, stdlib.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from bisect import bisect_left
from collections import defaultdict

from flask import Flask, Response, current_app, g, request

from .limits import ServiceError

__all__ = ["BUCKETS", "EXTENSION", "Metrics", "add_health_check", "add_metric_source", "init_app",
           "note_error"]

#: The key of the metrics in ``app.extensions``.
EXTENSION = "mkg.metrics"
_CHECKS = "mkg.health_checks"
#: Upper bounds (seconds) of the request duration histogram.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

access_log = logging.getLogger("mkg.access")


def _labels(pairs: tuple[tuple[str, str], ...]) -> str:
    if not pairs:
        return ""
    escaped = (f'{k}="{str(v).replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
               for k, v in pairs)
    return "{" + ",".join(escaped) + "}"


class Metrics:
    """Thread-safe counters and histograms, rendered as Prometheus text."""

    def __init__(self):
        self._lock = threading.Lock()
        self._counters: dict[str, dict[tuple, float]] = defaultdict(lambda: defaultdict(float))
        self._histograms: dict[tuple, list] = {}
        self._help: dict[str, str] = {}

    def inc(self, name: str, help_text: str, amount: float = 1.0, **labels) -> None:
        """Add ``amount`` to the counter ``name`` with ``labels``."""
        key = tuple(sorted(labels.items()))
        with self._lock:
            self._help[name] = help_text
            self._counters[name][key] += amount

    def observe(self, name: str, help_text: str, value: float, **labels) -> None:
        """Record ``value`` (seconds) in the histogram ``name``."""
        key = (name, tuple(sorted(labels.items())))
        with self._lock:
            self._help[name] = help_text
            entry = self._histograms.setdefault(key, [[0] * len(BUCKETS), 0, 0.0])
            index = bisect_left(BUCKETS, value)
            if index < len(BUCKETS):
                entry[0][index] += 1
            entry[1] += 1
            entry[2] += value

    def value(self, name: str, **labels) -> float:
        """The current value of a counter (0 when never incremented)."""
        with self._lock:
            return self._counters.get(name, {}).get(tuple(sorted(labels.items())), 0.0)

    def render(self, gauges: list[tuple[str, str, dict, float]] = ()) -> str:
        """The Prometheus text exposition of every metric, plus ``gauges``."""
        lines: list[str] = []
        with self._lock:
            for name in sorted(self._counters):
                lines += [f"# HELP {name} {self._help[name]}", f"# TYPE {name} counter"]
                for key, amount in sorted(self._counters[name].items()):
                    lines.append(f"{name}{_labels(key)} {amount:g}")
            for name in sorted({n for n, _ in self._histograms}):
                lines += [f"# HELP {name} {self._help[name]}", f"# TYPE {name} histogram"]
                for (hname, key), (counts, total, summed) in sorted(self._histograms.items()):
                    if hname != name:
                        continue
                    running = 0
                    for bound, count in zip(BUCKETS, counts):
                        running += count
                        lines.append(f"{name}_bucket{_labels(key + (('le', f'{bound:g}'),))} {running}")
                    lines.append(f"{name}_bucket{_labels(key + (('le', '+Inf'),))} {total}")
                    lines.append(f"{name}_sum{_labels(key)} {summed:.6f}")
                    lines.append(f"{name}_count{_labels(key)} {total}")
        seen = set()
        for name, help_text, labels, amount in gauges:
            if name not in seen:
                lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
                seen.add(name)
            lines.append(f"{name}{_labels(tuple(sorted(labels.items())))} {amount:g}")
        return "\n".join(lines) + "\n"


# --- per request -----------------------------------------------------------------------------

def note_error(exc: ServiceError) -> None:
    """Remember the outcome and reason of ``exc`` for this request's log line and metrics."""
    g.mkg_outcome = exc.outcome
    g.mkg_reason = exc.reason


def _outcome(status: int) -> str:
    explicit = g.get("mkg_outcome")
    if explicit:
        return explicit
    if status < 400:
        return "ok"
    if status == 429:
        return "rate_limited"
    if status >= 500:
        return "error"
    return "client_error"


def _route() -> str:
    rule = request.url_rule
    return rule.rule if rule is not None else "(unmatched)"


def _start() -> None:
    g.mkg_started = time.perf_counter()


def _finish(response: Response) -> Response:
    started = g.get("mkg_started")
    duration = time.perf_counter() - started if started is not None else 0.0
    outcome = _outcome(response.status_code)
    reason = g.get("mkg_reason")
    metrics: Metrics = current_app.extensions[EXTENSION]
    route = _route()
    metrics.inc("mkg_http_requests_total", "HTTP requests by route, method and status.",
                route=route, method=request.method, status=str(response.status_code))
    metrics.observe("mkg_http_request_duration_seconds", "Time to produce a response.",
                    duration, route=route)
    if outcome == "timeout":
        metrics.inc("mkg_query_timeouts_total", "Queries stopped at their time limit.")
    elif outcome == "refused":
        metrics.inc("mkg_refusals_total", "Requests refused by a policy or a limit, by reason.",
                    reason=reason or "refused")
    elif outcome == "rate_limited":
        metrics.inc("mkg_rate_limited_total", "Requests refused by the rate limiter.")
    record = {"method": request.method, "path": request.path, "status": response.status_code,
              "duration_ms": round(duration * 1000, 3), "outcome": outcome,
              "client": request.remote_addr}
    if reason and outcome != "ok":
        record["reason"] = reason
    access_log.info(json.dumps(record, ensure_ascii=False))
    return response


# --- routes ----------------------------------------------------------------------------------

def add_health_check(app: Flask, name: str, check) -> None:
    """Register ``check()`` (returns a JSON-able detail, raises or returns False when failing)."""
    app.extensions.setdefault(_CHECKS, []).append((name, check))


def _health() -> Response:
    results, healthy = {}, True
    for name, check in current_app.extensions.get(_CHECKS, []):
        try:
            detail = check()
        except (ServiceError, OSError, RuntimeError, LookupError) as exc:
            detail, ok = str(exc), False
        else:
            ok = detail is not False
        results[name] = {"ok": ok, "detail": detail}
        healthy = healthy and ok
    body = json.dumps({"status": "ok" if healthy else "failing", "checks": results})
    return Response(body + "\n", 200 if healthy else 503, content_type="application/json",
                    headers={} if healthy else {"Retry-After": "30"})


def _metrics() -> Response:
    gauges = []
    for source in current_app.extensions.get("mkg.metric_sources", []):
        gauges.extend(source())
    body = current_app.extensions[EXTENSION].render(gauges)
    return Response(body, content_type="text/plain; version=0.0.4; charset=utf-8")


def add_metric_source(app: Flask, source) -> None:
    """Register ``source()`` returning ``(name, help, labels, value)`` gauges for /metrics."""
    app.extensions.setdefault("mkg.metric_sources", []).append(source)


def _configure_logger(app: Flask) -> None:
    target = app.config.get("ACCESS_LOG", "-")
    if not target or access_log.handlers:
        return
    handler = logging.StreamHandler() if target == "-" else logging.FileHandler(target)
    handler.setFormatter(logging.Formatter("%(message)s"))
    access_log.addHandler(handler)
    access_log.setLevel(logging.INFO)
    access_log.propagate = True


def init_app(app: Flask) -> None:
    """Install timing, the access log and metrics on every request; add /health and /metrics."""
    app.extensions[EXTENSION] = Metrics()
    _configure_logger(app)
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    app.after_request(_finish)
    app.add_url_rule("/health", "health", _health, methods=["GET"])
    app.add_url_rule("/metrics", "metrics", _metrics, methods=["GET"])

