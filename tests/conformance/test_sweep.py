"""Route-wide guards from the conformance audit (these held; they keep holding): HEAD is GET
without a body, every negotiated answer (303s and errors included) carries ``Vary: Accept``,
preflights work on every route, methods outside ``Allow`` get 405."""

from __future__ import annotations

from urllib.parse import quote

import pytest

ROUTES = [
    "/", "/sparql", "/sparql?query=" + quote("ASK {}"), "/id/org/jund-al-khilafah",
    "/id/place/" + quote("atyrau-Атырау"), "/id/place/a+b", "/page/org/jund-al-khilafah",
    "/data/org/jund-al-khilafah", "/data/place/a%2Bb.jsonld", "/ontology", "/ontology.rdf",
    "/shapes", "/.well-known/void", "/releases/latest/data.nt", "/releases/latest/manifest.json",
    "/health", "/sitemap.xml", "/robots.txt", "/lookup?uri=wd:Q232", "/api/search?q=jak",
    "/reconcile", "/reconcile/preview?id=org/jund-al-khilafah", "/id/org/nope", "/id/place/a%2Fb",
]
NEGOTIATED = ["/sparql", "/sparql?query=" + quote("ASK {}"), "/id/org/jund-al-khilafah",
              "/data/org/jund-al-khilafah", "/ontology", "/shapes", "/.well-known/void",
              "/id/org/nope"]
VOLATILE = {"date", "expires"}


@pytest.mark.parametrize("path", ROUTES)
@pytest.mark.parametrize("accept", [None, "text/html"])
def test_head_is_get_without_a_body(conformance_server, client, path, accept):
    headers = {"Accept": accept} if accept else {}
    get = client.get(conformance_server.url(path), headers=headers, allow_redirects=False)
    head = client.head(conformance_server.url(path), headers=headers, allow_redirects=False)
    assert head.status_code == get.status_code
    assert head.content == b""
    strip = lambda r: {k.lower(): v for k, v in r.headers.items() if k.lower() not in VOLATILE}
    assert strip(head) == strip(get)


@pytest.mark.parametrize("path", NEGOTIATED)
@pytest.mark.parametrize("accept", [None, "text/html", "image/png"])
def test_negotiated_answers_vary_on_accept(conformance_server, client, path, accept):
    headers = {"Accept": accept} if accept else {}
    r = client.get(conformance_server.url(path), headers=headers, allow_redirects=False)
    assert "Accept" in [v.strip() for v in r.headers.get("Vary", "").split(",")], r.status_code


@pytest.mark.parametrize("path", ["/sparql", "/reconcile", "/api/search?q=jak", "/id/org/jund-al-khilafah",
                                  "/data/org/jund-al-khilafah.ttl", "/releases/latest/data.nt"])
def test_preflight_everywhere_without_credentials(conformance_server, client, path):
    r = client.options(conformance_server.url(path), headers={
        "Origin": "https://example.org", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert r.status_code == 204
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in r.headers["Access-Control-Allow-Methods"]
    assert r.headers["Access-Control-Allow-Headers"] == "content-type"
    assert "Access-Control-Allow-Credentials" not in r.headers
    actual = client.get(conformance_server.url(path), headers={"Origin": "https://example.org"},
                        allow_redirects=False)
    assert actual.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in actual.headers
    for name in ("Link", "ETag", "Location", "Content-Location"):
        assert name in actual.headers["Access-Control-Expose-Headers"]


@pytest.mark.parametrize("method, path, allow", [
    ("PUT", "/sparql", "GET, HEAD, POST, OPTIONS"),
    ("DELETE", "/id/org/jund-al-khilafah", "GET, HEAD, OPTIONS"),
    ("POST", "/data/org/jund-al-khilafah.ttl", "GET, HEAD, OPTIONS"),
    ("PATCH", "/reconcile", "GET, HEAD, POST, OPTIONS"),
])
def test_other_methods_are_405_with_allow(conformance_server, client, method, path, allow):
    r = client.request(method, conformance_server.url(path))
    assert r.status_code == 405
    assert sorted(r.headers["Allow"].split(", ")) == sorted(allow.split(", "))
