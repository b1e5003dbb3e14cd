"""A 30 s load test with 50 concurrent clients, and property-based fuzzing of the protocol."""

from __future__ import annotations

import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import HEAVY

LOAD_SECONDS = 30
CLIENTS = 50
ROOT = Path(__file__).resolve().parents[2]


def _cheap_request(url: str, rng: random.Random) -> tuple[str, dict]:
    """One request of the normal users' mix: queries and dereferences."""
    n = rng.randrange(30_000)
    choice = rng.random()
    if choice < 0.3:
        return f"{url}/sparql", {"query": "SELECT ?p ?o WHERE { <http://127.0.0.1:8080/id/org/o"
                                          f"{n}> ?p ?o }}"}
    if choice < 0.45:
        return f"{url}/sparql", {"query": "SELECT ?s WHERE { ?s ?p ?o } LIMIT 20"}
    if choice < 0.55:
        return f"{url}/sparql", {"query": "ASK {}"}
    if choice < 0.75:
        return f"{url}/data/org/o{n}.ttl", {}
    return f"{url}/id/org/o{n}", {}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def deployed_url(release_root):
    """The app as deployed: gunicorn (2 workers x 4 threads) in its own processes on 127.0.0.1."""
    port = _free_port()
    env = {**os.environ, "MKG_RELEASE_DIR": str(release_root), "MKG_QUERY_TIMEOUT": "2",
           "MKG_FAST_LANE_TIMEOUT": "1", "MKG_QUERY_WORKERS": "2", "MKG_RATE_LIMIT_PER_MINUTE": "0",
           "MKG_ACCESS_LOG": '""', "MKG_MAX_ROWS": "10000"}
    gunicorn = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen(
        [str(gunicorn), "--workers", "2", "--threads", "4", "--bind", f"127.0.0.1:{port}",
         "--log-level", "warning", "server.app:create_app()"], env=env, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except requests.RequestException:  # not up yet, or still starting its workers
                pass
            time.sleep(0.2)
        else:
            pytest.fail("gunicorn did not become healthy within 60 s")
        yield url
    finally:
        process.terminate()
        process.wait(20)


def test_fifty_clients_for_thirty_seconds(deployed_url, capsys):
    """49 users with a mix of queries and dereferences, and one abuser sending only queries that
    run over their budget: nobody but the abuser gets a 5xx."""
    latencies: list[float] = []
    failures: list[tuple[int, str]] = []
    heavy_statuses: list[int] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + LOAD_SECONDS

    def user(seed: int):
        rng = random.Random(seed)
        session = requests.Session()
        while time.monotonic() < stop_at:
            url, params = _cheap_request(deployed_url, rng)
            started = time.monotonic()
            response = session.get(url, params=params, timeout=30, allow_redirects=False)
            elapsed = time.monotonic() - started
            with lock:
                latencies.append(elapsed)
                if response.status_code >= 500:
                    failures.append((response.status_code, url, params.get("query", ""), response.text[:200]))

    def abuser():
        session = requests.Session()
        while time.monotonic() < stop_at:
            response = session.get(f"{deployed_url}/sparql", params={"query": HEAVY}, timeout=30)
            with lock:
                heavy_statuses.append(response.status_code)

    threads = [threading.Thread(target=user, args=(i,)) for i in range(CLIENTS - 1)]
    threads.append(threading.Thread(target=abuser))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(LOAD_SECONDS + 60)
    latencies.sort()
    p50 = statistics.median(latencies)
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    with capsys.disabled():
        print(f"\nload: {len(latencies)} requests by {CLIENTS - 1} users in {LOAD_SECONDS} s "
              f"({len(latencies) / LOAD_SECONDS:.0f}/s), p50 {p50 * 1000:.1f} ms, "
              f"p99 {p99 * 1000:.1f} ms; {len(heavy_statuses)} over-budget queries")
    assert failures == []
    assert set(heavy_statuses) == {503}
    assert len(latencies) > 20 * CLIENTS


# --- fuzzing ------------------------------------------------------------------------------------

_WORDS = ["SELECT", "ASK", "CONSTRUCT", "DESCRIBE", "WHERE", "{", "}", "(", ")", "?s", "?p", "?o",
          "<http://127.0.0.1:8080/id/org/o1>", "SERVICE", "service", "FROM", "NAMED", "LIMIT",
          "1", '"x"', "'y'", "#", "\n", ".", ";", "FILTER", "BIND", "AS", "*", "OPTIONAL",
          "UNION", "GRAPH", "INSERT", "PREFIX", "ex:", "<file:///etc/passwd>", "\\u0053", "@en",
          "^^", "\"\"\"", "<<", ">>", "VALUES", "COUNT", "GROUP BY", "ORDER BY", "ex:a"]
_queries = st.one_of(
    st.lists(st.sampled_from(_WORDS), max_size=30).map(" ".join),
    st.text(max_size=200),
)
_accept = st.one_of(
    st.none(),
    st.sampled_from(["*/*", "text/html", "application/sparql-results+json;q=0.1, text/csv",
                     "image/png", "text/turtle;q=0", "application/ld+json", ";;;", "*/*;q=abc"]),
    st.text(max_size=60),
)
_format = st.one_of(st.none(), st.sampled_from(["json", "xml", "csv", "tsv", "ttl", "nt",
                                                "jsonld", "rdf", "html", "bogus", ""]))
_graph = st.one_of(st.none(), st.sampled_from(["http://127.0.0.1:8080/graph/data",
                                               "file:///etc/passwd", "not an iri", "", "urn:x"]))


def _ascii_header(value):
    return value if value is None or value.isascii() and "\n" not in value and "\r" not in value \
        else value.encode("ascii", "ignore").decode().replace("\n", "").replace("\r", "")


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(query=_queries, accept=_accept, fmt=_format, graph=_graph, post=st.booleans())
def test_protocol_parameters_never_cause_a_500(app, query, accept, fmt, graph, post):
    client = app.test_client()
    params = {"query": query}
    if fmt is not None:
        params["format"] = fmt
    if graph is not None:
        params["default-graph-uri"] = graph
    headers = {"Accept": _ascii_header(accept)} if accept is not None else {}
    if post:
        response = client.post("/sparql", data=params, headers=headers)
    else:
        response = client.get("/sparql", query_string=params, headers=headers)
    assert response.status_code < 500 or response.status_code == 503, response.get_data()


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(["id", "data", "page"]), path=st.text(max_size=40),
       accept=_accept)
def test_dereferencing_arbitrary_iris_never_causes_a_500(app, kind, path, accept):
    headers = {"Accept": _ascii_header(accept)} if accept is not None else {}
    response = app.test_client().get(f"/{kind}/org/{path}", headers=headers)
    assert response.status_code < 500
