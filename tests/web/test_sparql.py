"""The SPARQL 1.1 Protocol at /sparql, over real HTTP (publisher-anchors.md §4a P1–P28)."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET

import pytest
from SPARQLWrapper import JSON, SPARQLWrapper

from .conftest import BASE

SELECT = ("PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
          "SELECT ?label WHERE { <" + BASE + "id/org/jund-al-khilafah> skos:prefLabel ?label }")
SELECT_TWO = ("PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
              "SELECT ?s ?label WHERE { ?s a <" + BASE + "ontology#ArmedGroup> ; "
              "skos:prefLabel ?label } ORDER BY ?label")
ASK = "ASK { ?s a <" + BASE + "ontology#Assertion> }"
CONSTRUCT = ("CONSTRUCT { ?s a <" + BASE + "ontology#ArmedGroup> } WHERE { ?s a <"
             + BASE + "ontology#ArmedGroup> }")
DESCRIBE = "DESCRIBE <" + BASE + "id/org/criminal-gang>"
JSON_TYPE = "application/sparql-results+json"
FORM = "application/x-www-form-urlencoded"


def test_get_select_json_by_default(server, http):
    r = http.get(server.url("/sparql"), params={"query": SELECT_TWO})
    assert r.status_code == 200
    assert r.headers["Content-Type"] == JSON_TYPE
    assert "Accept" in r.headers["Vary"]
    body = r.json()
    assert body["head"]["vars"] == ["s", "label"]
    assert [b["label"]["value"] for b in body["results"]["bindings"]] == [
        "Jund al-Khilafah", "unnamed criminal gang"]
    assert body["results"]["bindings"][0]["label"]["xml:lang"] == "en"


@pytest.mark.parametrize("accept", ["*/*", "", None])
def test_default_select_format_is_json(server, http, accept):
    headers = {} if accept is None else {"Accept": accept}
    r = http.get(server.url("/sparql"), params={"query": SELECT}, headers=headers)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == JSON_TYPE


@pytest.mark.parametrize("content_type", [FORM, FORM + "; charset=UTF-8"])
def test_post_form(server, http, content_type):
    r = http.post(server.url("/sparql"), data=f"query={_enc(SELECT)}",
                  headers={"Content-Type": content_type, "Accept": JSON_TYPE})
    assert r.status_code == 200
    assert r.headers["Content-Type"] == JSON_TYPE
    assert [b["label"]["value"] for b in r.json()["results"]["bindings"]] == ["Jund al-Khilafah"]


def test_post_direct_utf8_with_default_graph(server, http):
    query = 'SELECT ?l WHERE { ?s <http://www.w3.org/2004/02/skos/core#prefLabel> ?l FILTER(lang(?l) = "kk") }'
    r = http.post(server.url("/sparql"), data=query.encode("utf-8"),
                  params={"default-graph-uri": BASE + "graph/data"},
                  headers={"Content-Type": "application/sparql-query", "Accept": JSON_TYPE})
    assert r.status_code == 200
    assert [b["l"]["value"] for b in r.json()["results"]["bindings"]] == ["Атырау"]


def test_default_graph_uri_restricts_dataset(server, http):
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?s a <http://www.w3.org/2002/07/owl#Class> }"
    union = http.get(server.url("/sparql"), params={"query": query}).json()
    only_data = http.get(server.url("/sparql"), params={
        "query": query, "default-graph-uri": BASE + "graph/data"}).json()
    only_onto = http.get(server.url("/sparql"), params={
        "query": query, "default-graph-uri": BASE + "graph/ontology"}).json()
    assert union["results"]["bindings"][0]["n"]["value"] == "2"
    assert only_data["results"]["bindings"][0]["n"]["value"] == "0"
    assert only_onto["results"]["bindings"][0]["n"]["value"] == "2"


def test_named_graph_uri(server, http):
    query = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
    r = http.get(server.url("/sparql"), params={
        "query": query, "named-graph-uri": BASE + "graph/shapes"})
    assert [b["g"]["value"] for b in r.json()["results"]["bindings"]] == [BASE + "graph/shapes"]


def test_select_xml(server, http):
    r = http.get(server.url("/sparql"), params={"query": SELECT},
                 headers={"Accept": "application/sparql-results+xml"})
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/sparql-results+xml"
    ns = {"r": "http://www.w3.org/2005/sparql-results#"}
    literals = ET.fromstring(r.content).findall(".//r:literal", ns)
    assert [lit.text for lit in literals] == ["Jund al-Khilafah"]


def test_select_csv(server, http):
    r = http.get(server.url("/sparql"), params={"query": SELECT_TWO}, headers={"Accept": "text/csv"})
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8"))))
    assert rows == [["s", "label"],
                    [BASE + "id/org/jund-al-khilafah", "Jund al-Khilafah"],
                    [BASE + "id/org/criminal-gang", "unnamed criminal gang"]]


def test_select_tsv(server, http):
    r = http.get(server.url("/sparql"), params={"query": SELECT},
                 headers={"Accept": "text/tab-separated-values"})
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/tab-separated-values; charset=utf-8"
    assert r.content.decode("utf-8").splitlines() == ["?label", '"Jund al-Khilafah"@en']


def test_q_values_pick_the_preferred_type(server, http):
    r = http.get(server.url("/sparql"), params={"query": SELECT}, headers={
        "Accept": "application/sparql-results+json;q=0.5, text/csv;q=0.9, image/png"})
    assert r.headers["Content-Type"] == "text/csv; charset=utf-8"


def test_format_parameter_overrides_accept(server, http):
    r = http.get(server.url("/sparql"), params={"query": SELECT, "format": "tsv"},
                 headers={"Accept": JSON_TYPE})
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/tab-separated-values; charset=utf-8"


def test_ask(server, http):
    r = http.get(server.url("/sparql"), params={"query": ASK})
    assert r.status_code == 200
    assert r.headers["Content-Type"] == JSON_TYPE
    assert r.json() == {"head": {}, "boolean": True}
    x = http.get(server.url("/sparql"), params={"query": ASK},
                 headers={"Accept": "application/sparql-results+xml"})
    assert x.headers["Content-Type"] == "application/sparql-results+xml"
    assert b"<boolean>true</boolean>" in x.content


@pytest.mark.parametrize("accept,content_type", [
    ("text/turtle", "text/turtle; charset=utf-8"),
    ("application/n-triples", "application/n-triples"),
    ("application/rdf+xml", "application/rdf+xml"),
    ("application/ld+json", "application/ld+json"),
    ("application/n-quads", "application/n-quads"),
    ("application/trig", "application/trig"),
])
def test_construct_formats(server, http, accept, content_type):
    r = http.get(server.url("/sparql"), params={"query": CONSTRUCT}, headers={"Accept": accept})
    assert r.status_code == 200
    assert r.headers["Content-Type"] == content_type
    assert "Accept" in r.headers["Vary"]
    assert b"jund-al-khilafah" in r.content and b"criminal-gang" in r.content


def test_construct_default_is_turtle(server, http):
    r = http.get(server.url("/sparql"), params={"query": CONSTRUCT}, headers={"Accept": "*/*"})
    assert r.headers["Content-Type"] == "text/turtle; charset=utf-8"


def test_construct_ntriples_rows(server, http):
    r = http.get(server.url("/sparql"), params={"query": CONSTRUCT, "format": "nt"})
    assert r.headers["Content-Type"] == "application/n-triples"
    assert sorted(r.content.decode().splitlines()) == sorted(
        f"<{BASE}id/org/{slug}> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "
        f"<{BASE}ontology#ArmedGroup> ." for slug in ("jund-al-khilafah", "criminal-gang"))


def test_describe_jsonld(server, http):
    r = http.get(server.url("/sparql"), params={"query": DESCRIBE},
                 headers={"Accept": "application/ld+json"})
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/ld+json"
    data = json.loads(r.content)
    assert "unnamed criminal gang" in json.dumps(data)


def test_select_in_graph_format_is_406(server, http):
    r = http.get(server.url("/sparql"), params={"query": SELECT},
                 headers={"Accept": "text/turtle"})
    assert r.status_code == 406
    assert r.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert "application/sparql-results+json" in r.text


@pytest.mark.parametrize("method", ["get", "post"])
def test_unacceptable_accept_is_406(server, http, method):
    if method == "get":
        r = http.get(server.url("/sparql"), params={"query": SELECT}, headers={"Accept": "image/png"})
    else:
        r = http.post(server.url("/sparql"), data={"query": SELECT}, headers={"Accept": "image/png"})
    assert r.status_code == 406
    assert "Accept" in r.headers["Vary"]
    assert "Available: application/sparql-results+json, application/sparql-results+xml, text/csv, text/tab-separated-values." in r.text


def test_unknown_format_parameter_is_400(server, http):
    r = http.get(server.url("/sparql"), params={"query": SELECT, "format": "png"})
    assert r.status_code == 400
    assert "Unknown format 'png'" in r.text


def test_format_for_other_query_form_is_406(server, http):
    r = http.get(server.url("/sparql"), params={"query": CONSTRUCT, "format": "csv"})
    assert r.status_code == 406


def test_syntax_error_is_400_with_message(server, http):
    r = http.get(server.url("/sparql"), params={"query": "SELECT * WHERE { ?s ?p }"})
    assert r.status_code == 400
    assert r.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert r.text.startswith("400 Bad Request\n\nThe query could not be run: ")


def test_missing_query_with_other_params_is_400(server, http):
    r = http.get(server.url("/sparql"), params={"default-graph-uri": BASE + "graph/data"})
    assert r.status_code == 400
    assert "The 'query' parameter is missing." in r.text


def test_duplicate_query_is_400(server, http):
    r = http.get(server.url("/sparql") + f"?query={_enc(SELECT)}&query={_enc(ASK)}")
    assert r.status_code == 400
    assert "Exactly one 'query' parameter is allowed" in r.text
    p = http.post(server.url("/sparql") + f"?query={_enc(ASK)}", data={"query": SELECT})
    assert p.status_code == 400


def test_empty_query_is_400(server, http):
    assert http.get(server.url("/sparql"), params={"query": " "}).status_code == 400
    r = http.post(server.url("/sparql"), data=b"",
                  headers={"Content-Type": "application/sparql-query"})
    assert r.status_code == 400


def test_bad_graph_parameter_is_400(server, http):
    r = http.get(server.url("/sparql"), params={"query": SELECT, "default-graph-uri": "not an iri"})
    assert r.status_code == 400
    assert "default-graph-uri must be an absolute IRI" in r.text


@pytest.mark.parametrize("content_type", ["text/plain", "application/json", None])
def test_unsupported_body_is_415(server, http, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    r = http.post(server.url("/sparql"), data=SELECT.encode(), headers=headers)
    if content_type is None:  # requests sends no Content-Type for bytes
        assert "Content-Type" not in r.request.headers
    assert r.status_code == 415
    assert "application/sparql-query" in r.text


def test_non_utf8_direct_body_is_rejected(server, http):
    r = http.post(server.url("/sparql"), data="SELECT * WHERE { ?s ?p 'é' }".encode("latin-1"),
                  headers={"Content-Type": "application/sparql-query"})
    assert r.status_code == 400
    r = http.post(server.url("/sparql"), data=b"ASK {}",
                  headers={"Content-Type": "application/sparql-query; charset=latin-1"})
    assert r.status_code == 415


def test_update_via_post_is_403_and_data_unchanged(server, http):
    update = f"INSERT DATA {{ <{BASE}id/org/x> a <{BASE}ontology#ArmedGroup> }}"
    r = http.post(server.url("/sparql"), data=update.encode(),
                  headers={"Content-Type": "application/sparql-update"})
    assert r.status_code == 403
    assert "read-only" in r.text
    f = http.post(server.url("/sparql"), data={"update": update})
    assert f.status_code == 403
    both = http.post(server.url("/sparql"), data={"update": update, "query": ASK})
    assert both.status_code == 400
    as_query = http.post(server.url("/sparql"), data={"query": update})
    assert as_query.status_code == 403
    check = http.get(server.url("/sparql"), params={"query": f"ASK {{ <{BASE}id/org/x> ?p ?o }}"})
    assert check.json()["boolean"] is False


def test_update_via_get_is_400(server, http):
    r = http.get(server.url("/sparql"), params={"update": "CLEAR ALL"})
    assert r.status_code == 400
    assert "read-only" in r.text


def test_other_methods_are_405_with_allow(server, http):
    for method in ("PUT", "DELETE", "PATCH"):
        r = http.request(method, server.url("/sparql"), data=b"x")
        assert r.status_code == 405
        assert set(r.headers["Allow"].replace(" ", "").split(",")) == {"GET", "HEAD", "POST", "OPTIONS"}


def test_head_matches_get(server, http):
    g = http.get(server.url("/sparql"), params={"query": SELECT})
    h = http.head(server.url("/sparql"), params={"query": SELECT})
    assert h.status_code == 200
    assert h.content == b""
    for header in ("Content-Type", "Content-Length", "Vary", "ETag"):
        assert h.headers[header] == g.headers[header]


def test_etag_and_304_on_get(server, http):
    r = http.get(server.url("/sparql"), params={"query": SELECT})
    assert r.headers["ETag"].startswith('W/"2026.11.23-test-')
    again = http.get(server.url("/sparql"), params={"query": SELECT},
                     headers={"If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304
    assert again.content == b""


def test_cors_on_results_and_preflight(server, http):
    r = http.get(server.url("/sparql"), params={"query": SELECT},
                 headers={"Origin": "https://example.org"})
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in r.headers
    exposed = {h.strip() for h in r.headers["Access-Control-Expose-Headers"].split(",")}
    assert {"Link", "ETag", "Content-Location", "Location"} <= exposed
    p = http.options(server.url("/sparql"), headers={
        "Origin": "https://example.org", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert p.status_code == 204
    assert p.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in p.headers["Access-Control-Allow-Methods"]
    assert "content-type" in p.headers["Access-Control-Allow-Headers"].lower()
    assert p.headers["Access-Control-Max-Age"] == "86400"
    assert "Access-Control-Allow-Credentials" not in p.headers


def test_plain_options_lists_methods(server, http):
    r = http.options(server.url("/sparql"))
    assert r.status_code == 200
    assert {"GET", "HEAD", "POST", "OPTIONS"} <= set(r.headers["Allow"].replace(" ", "").split(","))


def test_service_description_turtle(server, http):
    r = http.get(server.url("/sparql"), headers={"Accept": "text/turtle"})
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/turtle; charset=utf-8"
    assert "Accept" in r.headers["Vary"]
    rows = _nt(http, server, {"Accept": "application/n-triples"})
    sd = "http://www.w3.org/ns/sparql-service-description#"
    service = f"<{BASE}sparql>"
    assert f"{service} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{sd}Service> ." in rows
    assert f"{service} <{sd}endpoint> {service} ." in rows
    assert f"{service} <{sd}supportedLanguage> <{sd}SPARQL11Query> ." in rows
    assert f"{service} <{sd}feature> <{sd}UnionDefaultGraph> ." in rows
    assert f"{service} <{sd}resultFormat> <http://www.w3.org/ns/formats/SPARQL_Results_CSV> ." in rows


def test_service_description_default_is_turtle(server, http):
    r = http.get(server.url("/sparql"), headers={"Accept": "*/*"})
    assert r.headers["Content-Type"] == "text/turtle; charset=utf-8"


def test_browser_gets_query_page(server, http):
    r = http.get(server.url("/sparql"), headers={
        "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"})
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "Accept" in r.headers["Vary"]
    assert '<textarea id="query" name="query"' in r.text
    assert f"PREFIX mkg: &lt;{BASE}ontology#&gt;" in r.text
    assert "Conflicting reports" in r.text  # a built-in example
    assert '/static/query.js' in r.text


def test_browser_query_gets_html_table_with_local_links(server, http):
    r = http.get(server.url("/sparql"), params={"query": SELECT_TWO}, headers={
        "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"})
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    assert '<a href="/id/org/jund-al-khilafah"' in r.text
    assert "(2 rows)" in r.text
    for key in ("json", "xml", "csv", "tsv"):
        assert f"format={key}" in r.text


def test_format_html_for_construct(server, http):
    r = http.get(server.url("/sparql"), params={"query": CONSTRUCT, "format": "html"})
    assert r.status_code == 200
    assert "(2 triples)" in r.text
    assert "format=ttl" in r.text


def test_sparqlwrapper_client(server):
    client = SPARQLWrapper(server.url("/sparql"))
    client.setQuery(SELECT_TWO)
    client.setReturnFormat(JSON)
    rows = client.query().convert()["results"]["bindings"]
    assert [(r["s"]["value"], r["label"]["value"]) for r in rows] == [
        (BASE + "id/org/jund-al-khilafah", "Jund al-Khilafah"),
        (BASE + "id/org/criminal-gang", "unnamed criminal gang")]
    client.setMethod("POST")
    client.setQuery(ASK)
    assert client.query().convert()["boolean"] is True


def _enc(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")


def _nt(http, server, headers) -> set[str]:
    r = http.get(server.url("/sparql"), headers=headers)
    return set(r.content.decode("utf-8").splitlines())
