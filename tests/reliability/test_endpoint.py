"""The public endpoint over real HTTP: refusals, limits, timeouts, row limit, worker faults."""

from __future__ import annotations

import os
import threading
import time

import pyoxigraph as ox
import pytest
import requests

from .conftest import HEAVY, TEST_CONFIG
from server.store import EXTENSION

BUDGET = TEST_CONFIG["QUERY_TIMEOUT"]


def get(base_url, query, **kwargs):
    return requests.get(f"{base_url}/sparql", params={"query": query}, timeout=30, **kwargs)


def post(base_url, query, **kwargs):
    return requests.post(f"{base_url}/sparql", data=query.encode("utf-8"), timeout=30,
                         headers={"Content-Type": "application/sparql-query"}, **kwargs)


def body(response) -> str:
    return response.text.split("\n\n", 1)[1].strip()


def pool(app):
    return app.extensions[EXTENSION].pool


# --- closed to the outside --------------------------------------------------------------------

@pytest.mark.parametrize("keyword", ["SERVICE", "service", "Service SILENT"])
def test_service_never_reaches_the_network(base_url, canary, keyword):
    url, hits = canary
    response = get(base_url, f"SELECT * WHERE {{ {keyword} <{url}sparql> {{ ?s ?p ?o }} }}")
    assert response.status_code == 403
    assert body(response) == (f"SERVICE <{url}sparql> is not allowed. Allowed endpoints: "
                              "none: federated queries are disabled.")
    assert hits == []


def test_from_never_fetches(base_url, canary):
    url, hits = canary
    response = get(base_url, f"SELECT * FROM <{url}from> FROM NAMED <{url}named> "
                             "WHERE { ?s ?p ?o }")
    assert response.status_code == 200
    assert response.json()["results"]["bindings"] == []
    assert hits == []


def test_file_graphs_are_refused(base_url):
    response = get(base_url, "SELECT * FROM <file:///etc/passwd> WHERE { ?s ?p ?o }")
    assert response.status_code == 403
    response = requests.get(f"{base_url}/sparql", timeout=30, params={
        "query": "SELECT * WHERE { ?s ?p ?o }", "default-graph-uri": "file:///etc/passwd"})
    assert response.status_code == 403
    assert body(response).startswith("The graph <file:///etc/passwd> names a local file")


def test_update_in_a_query_is_refused(base_url):
    response = post(base_url, "INSERT DATA { <http://a> <http://b> <http://c> }")
    assert response.status_code == 403
    assert body(response) == ("This endpoint is read-only: INSERT (at character 1) belongs to "
                              "SPARQL Update, which is not accepted.")


def test_keywords_in_strings_still_run(base_url):
    response = get(base_url, 'SELECT ?x WHERE { BIND("SERVICE <http://x/> { } DROP ALL" AS ?x) }')
    assert response.status_code == 200
    assert response.json()["results"]["bindings"][0]["x"]["value"].startswith("SERVICE")


def test_jsonld_parser_never_fetches_a_remote_context(canary):
    url, hits = canary
    document = ('{"@context": "' + url + 'context.jsonld", "@id": "http://a", '
                '"http://b": "c"}').encode()
    with pytest.raises((SyntaxError, ValueError, OSError)):
        list(ox.parse(document, format=ox.RdfFormat.JSON_LD))
    assert hits == []


def test_rdfxml_parser_never_expands_external_entities(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    document = (f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file://{secret}">]>'
                '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
                'xmlns:e="http://e/"><rdf:Description rdf:about="http://a"><e:p>&x;</e:p>'
                '</rdf:Description></rdf:RDF>').encode()
    try:
        triples = list(ox.parse(document, format=ox.RdfFormat.RDF_XML))
    except SyntaxError:
        triples = []
    assert all("TOPSECRET" not in str(t) for t in triples)


# --- limits with clear errors -------------------------------------------------------------------

def test_deep_nesting_is_refused_and_the_server_survives(app, base_url):
    pids = [w["pid"] for w in pool(app).status()["workers"]]
    deep = "SELECT * WHERE " + "{" * 1000 + " ?s ?p ?o " + "}" * 1000
    response = post(base_url, deep)
    assert response.status_code == 400
    assert body(response) == "The query nests brackets 1000 levels deep; the limit is 64."
    assert get(base_url, "ASK {}").json() == {"head": {}, "boolean": True}
    assert [w["pid"] for w in pool(app).status()["workers"]] == pids


def test_query_too_long_in_the_url_is_414(base_url):
    query = "SELECT * WHERE { ?s ?p ?o }" + " " * 20_000
    response = get(base_url, query)
    assert response.status_code == 414
    assert body(response) == ("The query is 20027 characters long; the limit is 20000. "
                              "Shorten the query.")
    assert post(base_url, query).status_code == 400


def test_body_too_large_is_413(base_url):
    response = post(base_url, "#" * 1_000_001)
    assert response.status_code == 413
    assert body(response) == ("The request body is 1000001 bytes; the limit is 1000000 bytes.")


def test_headers_too_large_is_431(base_url):
    response = requests.get(f"{base_url}/sparql", timeout=30,
                            params={"query": "ASK {}"}, headers={"X-Big": "x" * 20_000})
    assert response.status_code == 431
    assert body(response).startswith("The request headers are ")


def test_too_many_rows_is_422_never_cut(base_url):
    response = get(base_url, "SELECT * WHERE { ?s ?p ?o }")
    assert response.status_code == 422
    assert body(response) == (
        "The result has more than 10000 rows, the most this endpoint returns. Nothing was cut: "
        "add a LIMIT (and OFFSET to page through it) or make the query more selective.")
    response = get(base_url, "CONSTRUCT WHERE { ?s ?p ?o }")
    assert response.status_code == 422
    limited = get(base_url, "SELECT * WHERE { ?s ?p ?o } LIMIT 10000")
    assert limited.status_code == 200
    assert len(limited.json()["results"]["bindings"]) == 10_000


@pytest.mark.parametrize("accept,expected", [
    ("text/csv", "text/csv; charset=utf-8"),
    ("text/tab-separated-values", "text/tab-separated-values; charset=utf-8"),
    ("application/sparql-results+xml", "application/sparql-results+xml"),
])
def test_results_formats_from_the_workers(base_url, accept, expected):
    response = get(base_url, 'SELECT ?x ?l WHERE { VALUES (?x ?l) { (<http://a> "t\\tab"@en) } }',
                   headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == expected
    assert "http://a" in response.text


# --- timeouts ------------------------------------------------------------------------------------

def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(")")[-1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False


def test_a_query_over_its_budget_gets_503_and_its_worker_stops(app, base_url):
    before = {w["pid"] for w in pool(app).status()["workers"]}
    started = time.monotonic()
    response = get(base_url, HEAVY)
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "2"
    assert body(response) == ("The query ran longer than the 2 s limit and was stopped; no "
                              "partial result is sent. Make the query more selective or add a "
                              "LIMIT.")
    assert elapsed < BUDGET + 1
    killed = before - {w["pid"] for w in pool(app).status()["workers"]}
    assert len(killed) == 1
    assert not _alive(killed.pop())


def test_cheap_queries_answer_while_heavy_ones_run(app, base_url):
    pool(app).start(wait=True)  # the spare replaced by the previous test is ready again
    results: list[int] = []

    def heavy():
        results.append(get(base_url, HEAVY).status_code)

    threads = [threading.Thread(target=heavy) for _ in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)
    started = time.monotonic()
    response = get(base_url, "ASK {}")
    assert time.monotonic() - started < 1.0
    assert response.json() == {"head": {}, "boolean": True}
    for thread in threads:
        thread.join(BUDGET + 5)
    assert sorted(results) == [503, 503, 503, 503]
    assert pool(app).status()["timeouts"] >= 2
    pool(app).start(wait=True)


def test_a_worker_that_dies_is_replaced(app, base_url):
    pool(app).start(wait=True)
    victim = {}

    def kill_soon():
        time.sleep(0.5)
        for worker in pool(app).status()["workers"]:
            if worker["state"] == "busy":
                victim.update(worker)
                os.kill(worker["pid"], 9)

    killer = threading.Thread(target=kill_soon)
    killer.start()
    response = get(base_url, HEAVY)
    killer.join()
    assert response.status_code == 503
    assert body(response).startswith("The query worker stopped while running the query")
    assert get(base_url, "ASK {}").status_code == 200
    pool(app).start(wait=True)
    assert pool(app).healthy()
    assert victim["pid"] not in {w["pid"] for w in pool(app).status()["workers"]}
