"""Rate limiting, the access log, /metrics, /health, a corrupt release, a release swap."""

from __future__ import annotations

import json
import logging
import threading
import time

import pytest
import requests

from .conftest import make_app, point_current, running, write_release
from server.limits import RateLimited, RateLimiter


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_token_bucket_refills_at_its_rate():
    clock = Clock()
    limiter = RateLimiter(60, 2, clock=clock)
    limiter.take("a")
    limiter.take("a")
    with pytest.raises(RateLimited) as info:
        limiter.take("a")
    assert info.value.headers == {"Retry-After": "1"}
    limiter.take("b")
    clock.now = 1.0
    limiter.take("a")


def test_rate_limited_clients_get_429_with_retry_after(release_root):
    app = make_app(release_root, RATE_LIMIT_PER_MINUTE=6, RATE_LIMIT_BURST=3, QUERY_WORKERS=0)
    with running(app) as url:
        statuses = [requests.get(f"{url}/sparql", params={"query": "ASK {}"}, timeout=30)
                    for _ in range(4)]
        assert [r.status_code for r in statuses] == [200, 200, 200, 429]
        assert statuses[3].headers["Retry-After"] == "10"
        assert "the limit is 6 requests a minute with bursts of 3" in statuses[3].text
        assert requests.get(f"{url}/health", timeout=30).status_code == 200
        metrics = requests.get(f"{url}/metrics", timeout=30).text
        assert "mkg_rate_limited_total 1" in metrics


def test_access_log_has_one_json_line_per_request(app, base_url, caplog):
    with caplog.at_level(logging.INFO, logger="mkg.access"):
        requests.get(f"{base_url}/sparql", params={"query": "ASK {}"}, timeout=30)
        requests.get(f"{base_url}/sparql", params={"query": "LOAD <http://x/>"}, timeout=30)
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "mkg.access"]
    assert [(l["method"], l["path"], l["status"], l["outcome"]) for l in lines] == [
        ("GET", "/sparql", 200, "ok"), ("GET", "/sparql", 403, "refused")]
    assert lines[1]["reason"] == "update"
    assert lines[0]["client"] == "127.0.0.1"
    assert isinstance(lines[0]["duration_ms"], float)


def test_metrics_in_prometheus_text(base_url):
    requests.get(f"{base_url}/sparql", params={"query": "ASK {}"}, timeout=30)
    requests.get(f"{base_url}/sparql", params={"query": "DROP ALL"}, timeout=30)
    response = requests.get(f"{base_url}/metrics", timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    text = response.text
    assert "# TYPE mkg_http_requests_total counter" in text
    assert 'mkg_http_requests_total{method="GET",route="/sparql",status="200"}' in text
    assert 'mkg_refusals_total{reason="update"}' in text
    assert 'mkg_http_request_duration_seconds_bucket{route="/sparql",le="+Inf"}' in text
    assert 'mkg_query_workers{lane="main",state="idle"} 2' in text


def test_health_is_ok_then_fails_when_the_workers_are_gone(release_root):
    app = make_app(release_root)
    with running(app) as url:
        response = requests.get(f"{url}/health", timeout=30)
        assert response.status_code == 200
        assert response.json()["status"] == "ok"
        assert response.json()["checks"]["release"]["detail"]["version"] == "v1"
        pool = app.extensions["mkg.store"].pool
        pool.close()
        response = requests.get(f"{url}/health", timeout=30)
        assert response.status_code == 503
        assert response.json()["checks"]["query_workers"]["ok"] is False


def test_a_release_that_does_not_match_its_manifest_is_refused(tmp_path):
    folder = write_release(tmp_path, "bad", triples=10)
    point_current(tmp_path, "bad")
    with (folder / "data.nt").open("a") as handle:
        handle.write('<http://x/a> <http://x/b> "tampered" .\n')
    app = make_app(tmp_path)
    with running(app) as url:
        health = requests.get(f"{url}/health", timeout=30)
        assert health.status_code == 503
        assert "data.nt has SHA-256 " in health.json()["checks"]["release"]["detail"] \
            or "does not match its manifest" in health.json()["checks"]["release"]["detail"]
        query = requests.get(f"{url}/sparql", params={"query": "ASK {}"}, timeout=30)
        assert query.status_code == 503


def test_requests_during_a_swap_see_one_release(tmp_path):
    write_release(tmp_path, "v1", triples=2000)
    write_release(tmp_path, "v2", triples=2000)
    point_current(tmp_path, "v1")
    app = make_app(tmp_path)
    query = ("SELECT ?v (COUNT(*) AS ?n) WHERE { ?s ?p ?o . FILTER(CONTAINS(?o, \" of \")) "
             "BIND(STRAFTER(?o, \" of \") AS ?v) } GROUP BY ?v")
    seen, errors = set(), []
    stop = threading.Event()

    def client(url):
        while not stop.is_set():
            response = requests.get(f"{url}/sparql", params={"query": query}, timeout=30)
            if response.status_code != 200:
                errors.append(response.status_code)
                continue
            rows = response.json()["results"]["bindings"]
            seen.add(tuple(sorted(r["v"]["value"] for r in rows)))

    with running(app) as url:
        threads = [threading.Thread(target=client, args=(url,)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for version in ("v2", "v1", "v2"):
            time.sleep(0.3)
            point_current(tmp_path, version)
        app.extensions["mkg.store"].pool.close()  # workers restart from the version served
        app.extensions["mkg.store"].pool.start(wait=True)
        stop.set()
        for thread in threads:
            thread.join(30)
    assert seen == {("v1",)}
    assert set(errors) <= {503}
    fresh = make_app(tmp_path)
    with running(fresh) as url:
        rows = requests.get(f"{url}/sparql", params={"query": query}, timeout=30).json()
    assert [r["v"]["value"] for r in rows["results"]["bindings"]] == ["v2"]


def test_closing_the_pool_under_a_running_query_answers_503_and_keeps_no_orphan(release_root):
    """A restart of the pool (as after a release swap) while a query runs: that request gets a
    clear 503, never a 500, and the old worker is not brought back beside the new ones."""
    from .conftest import HEAVY

    app = make_app(release_root, QUERY_TIMEOUT=20.0)
    pool = app.extensions["mkg.store"].pool
    lanes = len(pool.status()["workers"])
    with running(app) as url:
        answers = []
        thread = threading.Thread(target=lambda: answers.append(
            requests.get(f"{url}/sparql", params={"query": HEAVY}, timeout=60)))
        thread.start()
        deadline = time.monotonic() + 10
        while not any(w["state"] == "busy" for w in pool.status()["workers"]):
            assert time.monotonic() < deadline, "the heavy query never reached a worker"
            time.sleep(0.05)
        pool.close()
        pool.start(wait=True)
        thread.join(60)
        (answer,) = answers
        assert answer.status_code == 503
        assert "Retry-After" in answer.headers
        time.sleep(1.0)
        status = pool.status()
        assert len(status["workers"]) == lanes
        assert {w["state"] for w in status["workers"]} == {"idle"}
        assert sorted(_children(status["zygote"])) == sorted(w["pid"] for w in status["workers"])


def _children(pid: int) -> list[int]:
    """The live child processes of ``pid`` (from /proc)."""
    from pathlib import Path

    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            children.append(int(stat.parent.name))
    return children
