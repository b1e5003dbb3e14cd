"""Conformance findings: one test per defect found by probing the running publisher against the
SPARQL 1.1 Protocol, SPARQL 1.1 Query Results CSV/TSV, Service Description, RFC 9110 and the
Reconciliation API (docs/publisher.md, "Conformance"). Each failed before its fix."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from urllib.parse import quote

import pytest

from .conftest import ARCHIVED, VERSION

FUTURE = "Tue, 01 Dec 2099 00:00:00 GMT"
PAST = "Mon, 01 Jan 2001 00:00:00 GMT"
ASK = "/sparql?query=" + quote("ASK {}")


# --- SPARQL 1.1 Protocol: request parsing --------------------------------------------------

def test_form_post_without_query_is_400_not_the_service_description(conformance_server, client):
    """A POST is a query operation: exactly one 'query' is required (Protocol 2.1, 2.1.7)."""
    for body in ("", "foo=bar"):
        r = client.post(conformance_server.url("/sparql"), data=body,
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert r.status_code == 400, body
        assert r.headers["Content-Type"] == "text/plain; charset=utf-8"
        assert "'query' parameter is missing" in r.text


def test_percent_escapes_that_are_not_utf8_are_400(conformance_server, client):
    """``%E9`` is not UTF-8: the query was changed to the literal text "%E9" and run (200)."""
    query = quote('SELECT ?x { BIND("', safe="") + "%E9" + quote('" AS ?x) }', safe="")
    r = client.get(conformance_server.url("/sparql?query=" + query))
    assert r.status_code == 400
    assert "UTF-8" in r.text
    r = client.get(conformance_server.url("/api/search?q=%E9"))
    assert r.status_code == 400
    # well-formed UTF-8, percent-encoded or raw, is fine
    r = client.get(conformance_server.url("/sparql?query=" + quote('SELECT ?x { BIND("é" AS ?x) }')))
    assert r.status_code == 200
    assert r.json()["results"]["bindings"][0]["x"]["value"] == "é"


@pytest.mark.parametrize("body", [
    b"query=SELECT%20%3Fx%20%7B%20BIND(%22%E9%22%20AS%20%3Fx)%20%7D",  # percent-encoded Latin-1
    b'query=SELECT ?x { BIND("\xe9" AS ?x) }',                      # raw Latin-1 bytes
])
def test_form_post_in_latin1_is_decoded_with_its_charset(conformance_server, client, body):
    """docs/publisher.md: form POSTs take any charset parameter. A Latin-1 body lost its query
    (raw bytes: the Service Description came back) or kept "%E9" (percent-encoded)."""
    r = client.post(conformance_server.url("/sparql"), data=body, headers={
        "Content-Type": "application/x-www-form-urlencoded; charset=ISO-8859-1"})
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/sparql-results+json"
    assert r.json()["results"]["bindings"][0]["x"]["value"] == "é"


def test_form_post_in_an_unknown_charset_is_415(conformance_server, client):
    r = client.post(conformance_server.url("/sparql"), data=b"query=ASK%7B%7D", headers={
        "Content-Type": "application/x-www-form-urlencoded; charset=x-no-such-charset"})
    assert r.status_code == 415


def test_service_description_takes_the_format_parameter(conformance_server, client):
    """``format=`` wins over Accept everywhere (docs rule 1); on the Service Description it gave
    400 "the 'query' parameter is missing"."""
    r = client.get(conformance_server.url("/sparql?format=nt"))
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/n-triples"
    assert "<http://www.w3.org/ns/sparql-service-description#Service>" in r.text
    assert client.get(conformance_server.url("/sparql?format=csv")).status_code == 406
    assert client.get(conformance_server.url("/sparql?format=nope")).status_code == 400


# --- negotiation ---------------------------------------------------------------------------

@pytest.mark.parametrize("path, accept, expected", [
    (ASK, "application/sparql-results+json; charset=utf-8", "application/sparql-results+json"),
    ("/sparql?query=" + quote("SELECT * {}"), "text/csv;charset=UTF-8", "text/csv; charset=utf-8"),
    ("/sparql", "text/turtle; charset=utf-8", "text/turtle; charset=utf-8"),
    ("/data/org/jund-al-khilafah", "text/turtle;charset=utf-8", "text/turtle; charset=utf-8"),
    ("/ontology", "text/html; charset=utf-8", "text/html; charset=utf-8"),
])
def test_accept_with_a_utf8_charset_parameter_matches(conformance_server, client, path, accept,
                                                      expected):
    """RFC 9110 §12.5.1: ``text/csv; charset=utf-8`` is what we produce; it was 406."""
    r = client.get(conformance_server.url(path), headers={"Accept": accept})
    assert r.status_code == 200
    assert r.headers["Content-Type"] == expected


def test_accept_with_a_utf8_charset_parameter_on_a_thing_iri(conformance_server, client):
    r = client.get(conformance_server.url("/id/org/jund-al-khilafah"),
                   headers={"Accept": "application/n-triples; charset=UTF-8"},
                   allow_redirects=False)
    assert r.status_code == 303
    assert r.headers["Location"] == "/data/org/jund-al-khilafah.nt"


# --- SPARQL 1.1 Query Results CSV ----------------------------------------------------------

def test_csv_quotes_iris_with_commas(conformance_server, client):
    """SPARQL 1.1 CSV §"Serializing": fields with a comma, quote or newline are quoted (RFC
    4180). IRIs were written bare, so <http://ex/a,b> split into two columns."""
    query = ('SELECT ?iri ?text ?lang ?n ?b ?none WHERE { BIND(<http://example.org/a,b> AS ?iri) '
             'BIND("say \\"hi\\",\\nthen go" AS ?text) BIND("chat"@fr AS ?lang) BIND(42 AS ?n) '
             'BIND(BNODE() AS ?b) OPTIONAL { ?none <http://example.org/no> ?x } }')
    r = client.get(conformance_server.url("/sparql?query=" + quote(query)),
                   headers={"Accept": "text/csv"})
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert r.content.startswith(b"iri,text,lang,n,b,none\r\n")
    assert b'\r\n"http://example.org/a,b","say ""hi"",\nthen go",chat,42,_:' in r.content
    assert r.content.endswith(b",\r\n")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8"), newline="")))
    assert rows[0] == ["iri", "text", "lang", "n", "b", "none"]
    assert rows[1][:4] == ["http://example.org/a,b", 'say "hi",\nthen go', "chat", "42"]
    assert rows[1][4].startswith("_:") and rows[1][5] == ""
    # ASK in CSV stays as it was; CONSTRUCT with a CSV preference still negotiates a graph
    assert client.get(conformance_server.url(ASK + "&format=csv")).content == b"true"
    r = client.get(conformance_server.url("/sparql?query=" + quote("CONSTRUCT WHERE { ?s a ?o } LIMIT 1")),
                   headers={"Accept": "text/csv, text/turtle;q=0.5"})
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/turtle; charset=utf-8"


# --- RFC 9110 conditional requests -----------------------------------------------------------

def _conditional(client, url, headers=None):
    headers = headers or {}
    first = client.get(url, headers=headers)
    assert first.status_code == 200
    assert first.headers["ETag"].startswith('W/"')
    assert first.headers["Last-Modified"] == "Mon, 23 Nov 2026 12:00:00 GMT"
    again = client.get(url, headers={**headers, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["ETag"] == first.headers["ETag"]
    since = client.get(url, headers={**headers, "If-Modified-Since": FUTURE})
    assert since.status_code == 304 and since.content == b""
    older = client.get(url, headers={**headers, "If-Modified-Since": PAST})
    assert older.status_code == 200 and older.content == first.content
    return first


def test_service_description_is_conditional(conformance_server, client):
    first = _conditional(client, conformance_server.url("/sparql"))
    assert "Accept" in first.headers["Vary"]
    html = _conditional(client, conformance_server.url("/sparql"), {"Accept": "text/html"})
    assert html.headers["ETag"] != first.headers["ETag"]


def test_query_results_honour_if_modified_since(conformance_server, client):
    first = _conditional(client, conformance_server.url(ASK))
    assert "Accept" in first.headers["Vary"]


def test_home_page_is_conditional(conformance_server, client):
    _conditional(client, conformance_server.url("/"))


def test_archived_release_files_carry_their_sha256_as_etag(conformance_server, client,
                                                           conformance_release):
    """docs/publisher.md: release files have a strong ETag, their SHA-256. Files of an earlier
    release got Werkzeug's mtime-size ETag and the file's mtime instead."""
    data = (conformance_release / "versions" / ARCHIVED / "data.nt").read_bytes()
    url = conformance_server.url(f"/releases/{ARCHIVED}/data.nt")
    r = client.get(url)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/n-triples"
    assert r.headers["ETag"] == f'"{hashlib.sha256(data).hexdigest()}"'
    assert r.headers["Last-Modified"] == "Mon, 23 Nov 2026 12:00:00 GMT"
    assert r.content == data
    assert client.get(url, headers={"If-None-Match": r.headers["ETag"]}).status_code == 304
    current = client.get(conformance_server.url(f"/releases/{VERSION}/data.nt"))
    assert current.headers["ETag"] == r.headers["ETag"]  # same bytes, same validator
    manifest = client.get(conformance_server.url(f"/releases/{ARCHIVED}/manifest.json"))
    assert manifest.status_code == 200
    assert json.loads(manifest.content)["version"] == ARCHIVED
    assert manifest.headers["ETag"] == f'"{hashlib.sha256(manifest.content).hexdigest()}"'


# --- Reconciliation API ----------------------------------------------------------------------

def test_reconcile_post_without_queries_or_extend_is_400(conformance_server, client):
    """A POST with neither ``queries`` nor ``extend`` (e.g. a JSON body) got the manifest with
    200, so the client took its batch for answered."""
    r = client.post(conformance_server.url("/reconcile"), data=json.dumps({"q0": {"query": "JaK"}}),
                    headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert "queries" in r.text
    assert client.get(conformance_server.url("/reconcile")).json()["versions"] == ["0.2"]


# --- as deployed: gunicorn ------------------------------------------------------------------

def test_gunicorn_lets_the_documented_limits_through(shipped_release, tmp_path):
    """docs/limits.md: queries up to MAX_QUERY_LENGTH (20,000 characters) in a GET URL, headers up
    to MAX_HEADER_BYTES. gunicorn's defaults answered their own bare 414/431 from about 4 KB."""
    import socket
    import subprocess
    import sys
    import time
    from pathlib import Path

    import requests

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    mkg = Path(sys.executable).with_name("mkg")
    release_dir = shipped_release.path.parent.parent
    process = subprocess.Popen([str(mkg), "serve", "--port", str(port), "--release-dir", str(release_dir)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if requests.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        long_query = "ASK { FILTER(\"" + "x" * 15_000 + "\" != \"y\") }"
        answer = requests.get(f"{url}/sparql", params={"query": long_query}, timeout=30)
        assert (answer.status_code, answer.json()) == (200, {"head": {}, "boolean": True})
        big_header = requests.get(f"{url}/health", headers={"X-Padding": "p" * 12_000}, timeout=30)
        assert big_header.status_code == 200
        too_long = requests.get(f"{url}/sparql", params={"query": "ASK {} #" + "x" * 25_000}, timeout=30)
        assert too_long.status_code == 414
        assert "20000" in too_long.text.replace(",", "")
    finally:
        process.terminate()
        process.wait(20)


def test_sitemap_and_robots_are_conditional(conformance_server, client):
    """Crawlers revalidate these on every visit; they had no validator, so every visit was a
    full 200."""
    sitemap = _conditional(client, conformance_server.url("/sitemap.xml"))
    assert sitemap.headers["Content-Type"] == "application/xml; charset=utf-8"
    robots = _conditional(client, conformance_server.url("/robots.txt"))
    assert robots.headers["Content-Type"] == "text/plain; charset=utf-8"
