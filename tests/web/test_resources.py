"""Dereferenceable IRIs, data documents, VoID, dumps and health over real HTTP (§4b L1–L18)."""

from __future__ import annotations

import gzip
import hashlib
import json

import pyoxigraph as ox
import pytest

from .conftest import BASE, VERSION

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
ORG = "/id/org/jund-al-khilafah"
DATA = "/data/org/jund-al-khilafah"
LICENSE = "https://creativecommons.org/licenses/by/4.0/"


@pytest.mark.parametrize("accept,location", [
    (BROWSER, "/page/org/jund-al-khilafah"),
    ("text/html", "/page/org/jund-al-khilafah"),
    ("text/turtle", DATA + ".ttl"),
    ("application/n-triples", DATA + ".nt"),
    ("application/rdf+xml", DATA + ".rdf"),
    ("application/ld+json", DATA + ".jsonld"),
    ("*/*", DATA + ".ttl"),
    (None, DATA + ".ttl"),
    ("application/ld+json;q=0.9, text/turtle;q=0.5", DATA + ".jsonld"),
])
def test_thing_iri_303(server, http, accept, location):
    headers = {"Accept": accept} if accept else {}
    r = http.get(server.url(ORG), headers=headers, allow_redirects=False)
    assert r.status_code == 303
    assert r.headers["Location"] == location
    assert "Accept" in r.headers["Vary"]
    assert r.headers["Access-Control-Allow-Origin"] == "*"


def test_thing_iri_head_and_format_param(server, http):
    h = http.head(server.url(ORG), headers={"Accept": "text/turtle"}, allow_redirects=False)
    assert h.status_code == 303
    assert h.headers["Location"] == DATA + ".ttl"
    f = http.get(server.url(ORG), params={"format": "nt"}, allow_redirects=False)
    assert f.headers["Location"] == DATA + ".nt"


def test_thing_iri_406_lists_types(server, http):
    r = http.get(server.url(ORG), headers={"Accept": "image/png"}, allow_redirects=False)
    assert r.status_code == 406
    for media in ("text/turtle", "application/n-triples", "application/rdf+xml",
                  "application/ld+json", "text/html"):
        assert media in r.text


@pytest.mark.parametrize("path", ["/id/org/nobody", "/id/nokind/jund-al-khilafah",
                                  "/data/org/nobody.ttl", "/page/org/nobody",
                                  "/data/org/jund-al-khilafah.xyz", "/id/org/a%2Fb",
                                  "/id/org/", "/page/org/%E2%98%83"])
def test_unknown_is_404(server, http, path):
    r = http.get(server.url(path), allow_redirects=False)
    assert r.status_code == 404
    assert r.headers["Content-Type"] == "text/plain; charset=utf-8"


def test_404_page_for_browsers(server, http):
    r = http.get(server.url("/id/org/nobody"), headers={"Accept": BROWSER})
    assert r.status_code == 404
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "<h1>404 Not Found</h1>" in r.text
    assert "Nothing is published about org/nobody." in r.text


def test_non_ascii_and_plus_round_trip(server, http):
    r = http.get(server.url("/id/place/atyrau-%D0%90%D1%82%D1%8B%D1%80%D0%B0%D1%83"),
                 headers={"Accept": "text/turtle"}, allow_redirects=False)
    assert r.status_code == 303
    assert r.headers["Location"] == "/data/place/atyrau-%D0%90%D1%82%D1%8B%D1%80%D0%B0%D1%83.ttl"
    d = http.get(server.url(r.headers["Location"]))
    assert d.status_code == 200
    assert "Атырау" in d.content.decode("utf-8")
    p = http.get(server.url("/page/place/atyrau-%D0%90%D1%82%D1%8B%D1%80%D0%B0%D1%83"))
    assert p.status_code == 200
    plus = http.get(server.url("/id/place/a+b"), headers={"Accept": "text/html"},
                    allow_redirects=False)
    assert plus.status_code == 303
    assert plus.headers["Location"] == "/page/place/a%2Bb"
    assert http.get(server.url(plus.headers["Location"])).status_code == 200
    assert http.get(server.url("/data/place/a+b.nt")).status_code == 200


def test_data_document_headers(server, http):
    r = http.get(server.url(DATA + ".ttl"))
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/turtle; charset=utf-8"
    assert r.headers["Content-Location"] == DATA + ".ttl"
    assert r.headers["ETag"].startswith(f'W/"{VERSION}-')
    assert r.headers["Last-Modified"] == "Mon, 23 Nov 2026 12:00:00 GMT"
    links = r.headers["Link"]
    for ext, media in (("ttl", "text/turtle"), ("nt", "application/n-triples"),
                       ("rdf", "application/rdf+xml"), ("jsonld", "application/ld+json")):
        assert f'<{DATA}.{ext}>; rel="alternate"; type="{media}"' in links
    assert f'<{LICENSE}>; rel="license"' in links
    assert '</.well-known/void>; rel="describedby"' in links
    assert '</page/org/jund-al-khilafah>; rel="alternate"; type="text/html"' in links
    assert "Accept" not in [v.strip() for v in r.headers.get("Vary", "").split(",")]


def test_generic_data_document_negotiates(server, http):
    r = http.get(server.url(DATA), headers={"Accept": "application/ld+json"})
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/ld+json"
    assert r.headers["Content-Location"] == DATA + ".jsonld"
    assert "Accept" in r.headers["Vary"]
    assert http.get(server.url(DATA), headers={"Accept": "image/png"}).status_code == 406
    assert http.get(server.url(DATA), params={"format": "bogus"}).status_code == 400


@pytest.mark.parametrize("ext,fmt", [("ttl", ox.RdfFormat.TURTLE), ("nt", ox.RdfFormat.N_TRIPLES),
                                      ("rdf", ox.RdfFormat.RDF_XML), ("jsonld", ox.RdfFormat.JSON_LD)])
def test_data_document_content(server, http, ext, fmt):
    r = http.get(server.url(f"{DATA}.{ext}"))
    triples = {(str(t.subject), str(t.predicate), str(t.object))
               for t in ox.parse(r.content, format=fmt)}
    org = f"<{BASE}id/org/jund-al-khilafah>"
    doc = f"<{BASE}data/org/jund-al-khilafah>"
    # outgoing
    assert (org, "<http://www.w3.org/2004/02/skos/core#prefLabel>", '"Jund al-Khilafah"@en') in triples
    assert (org, "<http://www.w3.org/2004/02/skos/core#exactMatch>",
            "<http://www.wikidata.org/entity/Q232>") in triples
    # labels of what it links to
    assert (f"<{BASE}ontology#ArmedGroup>", "<http://www.w3.org/2000/01/rdf-schema#label>",
            '"armed group"@en') in triples
    # assertions about it, with evidence and selectors
    a01 = f"<{BASE}id/assertion/d1-a01>"
    assert (a01, f"<{BASE}ontology#epistemicStatus>", f"<{BASE}ontology#SelfClaim>") in triples
    evidence = [o for s, p, o in triples if s == a01 and p == f"<{BASE}ontology#hasEvidence>"]
    assert len(evidence) == 2
    assert any(p == "<http://www.w3.org/ns/oa#exact>" and o == '"JaK"' for s, p, o in triples)
    # document metadata
    assert (doc, "<http://rdfs.org/ns/void#inDataset>", f"<{BASE}id/dataset/mkg>") in triples
    assert (doc, "<http://purl.org/dc/terms/license>", f"<{LICENSE}>") in triples
    assert (doc, "<http://purl.org/dc/terms/hasVersion>", f'"{VERSION}"') in triples
    assert (doc, "<http://www.w3.org/ns/prov#wasDerivedFrom>",
            f"<{BASE}releases/{VERSION}/data.nt>") in triples
    assert (doc, "<http://xmlns.com/foaf/0.1/primaryTopic>", org) in triples


def test_incoming_links_are_bounded_with_a_link_to_the_rest(server, http):
    # INCOMING_LINKS_LIMIT is 3 in the test app; the event has 3 incoming, the org more.
    r = http.get(server.url(DATA + ".nt"))
    rows = r.content.decode("utf-8").splitlines()
    incoming = [line for line in rows if line.split(" ")[2] == f"<{BASE}id/org/jund-al-khilafah>"
                and f"{BASE}id/assertion/" in line.split(" ")[0]
                and "assertedObject" not in line and "claimant" not in line]
    assert incoming == []
    see_also = [line for line in rows if "rdf-schema#seeAlso" in line]
    assert len(see_also) == 1
    assert f"<{BASE}sparql?query=SELECT" in see_also[0]
    assert "OFFSET+3" in see_also[0]


def test_conditional_requests(server, http):
    r = http.get(server.url(DATA + ".ttl"))
    etag = r.headers["ETag"]
    assert http.get(server.url(DATA + ".ttl"), headers={"If-None-Match": etag}).status_code == 304
    n = http.get(server.url(DATA + ".ttl"), headers={"If-Modified-Since": r.headers["Last-Modified"]})
    assert n.status_code == 304
    assert n.content == b""
    assert n.headers["ETag"] == etag
    old = http.get(server.url(DATA + ".ttl"), headers={"If-Modified-Since": "Mon, 01 Jan 2024 00:00:00 GMT"})
    assert old.status_code == 200
    other = http.get(server.url(DATA + ".ttl"), headers={"If-None-Match": 'W/"other"'})
    assert other.status_code == 200
    nt = http.get(server.url(DATA + ".nt"))
    assert nt.headers["ETag"] != etag


def test_gzip(server, http):
    r = http.get(server.url(DATA + ".nt"), headers={"Accept-Encoding": "gzip"}, stream=True)
    assert r.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in r.headers["Vary"]
    raw = r.raw.read(decode_content=False)
    assert gzip.decompress(raw).decode("utf-8").endswith(" .\n")
    plain = http.get(server.url(DATA + ".nt"), headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers
    assert "Accept-Encoding" in plain.headers["Vary"]
    assert gzip.decompress(raw) == plain.content


def test_head_on_documents(server, http):
    for path in (DATA + ".ttl", "/page/org/jund-al-khilafah", DATA):
        g = http.get(server.url(path))
        h = http.head(server.url(path))
        assert h.status_code == g.status_code == 200
        assert h.content == b""
        assert h.headers["ETag"] == g.headers["ETag"]
        assert h.headers["Content-Type"] == g.headers["Content-Type"]


def test_dataset_iri_and_void(server, http):
    r = http.get(server.url("/id/dataset/mkg"), headers={"Accept": "text/turtle"},
                 allow_redirects=False)
    assert r.status_code == 303
    assert r.headers["Location"] == "/data/dataset/mkg.ttl"
    v = http.get(server.url("/.well-known/void"), headers={"Accept": "application/n-triples"})
    assert v.status_code == 200
    assert v.headers["Content-Type"] == "application/n-triples"
    assert "Accept" in v.headers["Vary"]
    assert (f"<{BASE}id/dataset/mkg> <http://rdfs.org/ns/void#sparqlEndpoint> <{BASE}sparql> ."
            in v.content.decode().splitlines())
    t = http.get(server.url("/.well-known/void"))
    assert t.headers["Content-Type"] == "text/turtle; charset=utf-8"


@pytest.mark.parametrize("name,media", [
    ("data.nt", "application/n-triples"), ("data.ttl", "text/turtle; charset=utf-8"),
    ("ontology.ttl", "text/turtle; charset=utf-8"), ("shapes.ttl", "text/turtle; charset=utf-8"),
    ("void.ttl", "text/turtle; charset=utf-8"), ("report.ttl", "text/turtle; charset=utf-8"),
])
def test_release_files(server, http, release_dir, name, media):
    expected = (release_dir / "current" / name).read_bytes()
    for version in (VERSION, "latest"):
        r = http.get(server.url(f"/releases/{version}/{name}"))
        assert r.status_code == 200
        assert r.headers["Content-Type"] == media
        assert r.content == expected
        assert r.headers["ETag"] == '"' + hashlib.sha256(expected).hexdigest() + '"'
        assert r.headers["Content-Location"] == f"/releases/{VERSION}/{name}"


def test_release_manifest_and_unknowns(server, http):
    r = http.get(server.url("/releases/latest/manifest.json"))
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    assert r.json()["version"] == VERSION
    assert http.get(server.url("/releases/latest/secret.txt")).status_code == 404
    assert http.get(server.url("/releases/1999.01.01/data.nt")).status_code == 404
    assert http.get(server.url("/releases/latest/..%2Fmanifest.json")).status_code == 404


def test_health(server, http):
    r = http.get(server.url("/health"))
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    body = r.json()
    assert body["status"] == "ok"
    assert body["checks"]["release"]["detail"]["version"] == VERSION
    assert body["checks"]["release"]["detail"]["triples"] > 100


def test_health_503_without_release(tmp_path):
    from server.app import create_app

    app = create_app({"RELEASE_DIR": str(tmp_path / "missing"), "QUERY_WORKERS": 0})
    client = app.test_client()
    r = client.get("/health")
    assert r.status_code == 503
    assert json.loads(r.data)["status"] == "failing"
    q = client.get("/sparql?query=ASK{}")
    assert q.status_code == 503
    assert q.headers["Retry-After"] == "60"
    p = client.get("/page/org/jund-al-khilafah")
    assert p.status_code == 503


def test_corrupt_release_is_refused(tmp_path):
    from .conftest import write_release
    from server.app import create_app

    root = write_release(tmp_path)
    (root / "current" / "data.nt").write_text("tampered\n", encoding="utf-8")
    app = create_app({"RELEASE_DIR": str(root), "QUERY_WORKERS": 0})
    r = app.test_client().get("/health")
    assert r.status_code == 503
    assert "data.nt" in r.get_data(as_text=True)
