"""A 30 s load test with 50 concurrent clients, and property-based fuzzing of the protocol."""

from __future__ import annotations

import random
import statistics
import threading
import time

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import HEAVY

LOAD_SECONDS = 30
CLIENTS = 50


def _requests(url: str, rng: random.Random) -> tuple[str, dict, bool]:
    """One request of the mix: (url, params, is_deliberately_heavy)."""
    n = rng.randrange(30_000)
    choice = rng.random()
    if choice < 0.3:
        return f"{url}/sparql", {"query": "SELECT ?p ?o WHERE { <http://127.0.0.1:8080/id/org/o"
                                          f"{n}> ?p ?o }}"}, False
    if choice < 0.45:
        return f"{url}/sparql", {"query": "SELECT ?s WHERE { ?s ?p ?o } LIMIT 20"}, False
    if choice < 0.55:
        return f"{url}/sparql", {"query": "ASK {}"}, False
    if choice < 0.75:
        return f"{url}/data/org/o{n}.ttl", {}, False
    if choice < 0.995:
        return f"{url}/id/org/o{n}", {}, False
    return f"{url}/sparql", {"query": HEAVY}, True


@pytest.mark.xfail(strict=False, reason=(
    "open: with the 50 clients and the server in one process on 2 cores, some cheap queries "
    "still wait their whole 2 s budget for a worker and get 503 (see docs/limits.md)"))
def test_fifty_clients_for_thirty_seconds(base_url, capsys):
    latencies: list[float] = []
    failures: list[tuple[int, str]] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + LOAD_SECONDS

    def client(seed: int):
        rng = random.Random(seed)
        session = requests.Session()
        while time.monotonic() < stop_at:
            url, params, heavy = _requests(base_url, rng)
            started = time.monotonic()
            response = session.get(url, params=params, timeout=30, allow_redirects=False)
            elapsed = time.monotonic() - started
            with lock:
                if response.status_code >= 500 and not (heavy and response.status_code == 503):
                    failures.append((response.status_code, url))
                elif not heavy:
                    latencies.append(elapsed)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(LOAD_SECONDS + 60)
    latencies.sort()
    p50 = statistics.median(latencies)
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    with capsys.disabled():
        print(f"\nload: {len(latencies)} requests by {CLIENTS} clients in {LOAD_SECONDS} s, "
              f"p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, failures {len(failures)}")
    assert failures == []
    assert len(latencies) > CLIENTS


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
