"""Fixtures for the web tier: a small release folder built from inline Turtle, the real app
under a real HTTP server (Werkzeug, in a thread, on 127.0.0.1 and a free port)."""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests
from werkzeug.serving import make_server

from server.app import create_app

BASE = "http://127.0.0.1:8080/"
VERSION = "2026.11.23-test"
BUILT = "2026-11-23T12:00:00+00:00"

DOC1_TEXT = (
    "Jund al Khilafah Targets Kazakhstan\n"
    "Jund al Khilafah (JaK) claimed the October 31 attack in Atyrau. "
    "Officials in Astana denied that JaK was involved in the Atyrau blast."
)
DOC2_TEXT = "Police said the Atyrau attack was carried out by a criminal gang, not by militants."


def span(text: str, quote: str, after: int = 0) -> tuple[int, int]:
    start = text.index(quote, after)
    return start, start + len(quote)


# Evidence spans of document d1: a claim, a nested name inside it, an overlapping denial.
CLAIM = span(DOC1_TEXT, "Jund al Khilafah (JaK) claimed the October 31 attack in Atyrau")
NAME = span(DOC1_TEXT, "JaK")
DENIAL = span(DOC1_TEXT, "in Atyrau. Officials in Astana denied that JaK was involved")
GANG = span(DOC2_TEXT, "the Atyrau attack was carried out by a criminal gang")


def _lit(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _evidence(doc: str, text: str, start: int, end: int) -> str:
    ev = f"<{BASE}id/evidence/{doc}-{start}-{end}>"
    return f"""
{ev} a mkg:EvidenceSpan ; oa:hasSource <{BASE}id/doc/{doc}> ;
    oa:hasSelector <{BASE}id/evidence/{doc}-{start}-{end}#quote>, <{BASE}id/evidence/{doc}-{start}-{end}#position> .
<{BASE}id/evidence/{doc}-{start}-{end}#quote> a oa:TextQuoteSelector ; oa:exact {_lit(text[start:end])} ;
    oa:prefix {_lit(text[max(0, start - 20):start])} ; oa:suffix {_lit(text[end:end + 20])} .
<{BASE}id/evidence/{doc}-{start}-{end}#position> a oa:TextPositionSelector ; oa:start {start} ; oa:end {end} .
"""


def data_turtle() -> str:
    return f"""
@prefix mkg: <{BASE}ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix skosxl: <http://www.w3.org/2008/05/skos-xl#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix oa: <http://www.w3.org/ns/oa#> .
@prefix wd: <http://www.wikidata.org/entity/> .
@prefix id: <{BASE}id/> .

<{BASE}id/doc/d1> a mkg:SourceDocument ; dcterms:identifier "d1" ;
    dcterms:title "Jund al Khilafah Targets Kazakhstan" ; mkg:text {_lit(DOC1_TEXT)} .
<{BASE}id/doc/d2> a mkg:SourceDocument ; dcterms:identifier "d2" ;
    dcterms:title "Police report on Atyrau" ; mkg:text {_lit(DOC2_TEXT)} .

<{BASE}id/org/jund-al-khilafah> a mkg:ArmedGroup ; skos:prefLabel "Jund al-Khilafah"@en ;
    skos:altLabel "JaK" ; skosxl:altLabel <{BASE}id/name/d1-1>, <{BASE}id/name/d1-2> ;
    skos:exactMatch wd:Q232 .
<{BASE}id/name/d1-1> a skosxl:Label ; skosxl:literalForm "JaK" ; mkg:attestedIn <{BASE}id/doc/d1> .
<{BASE}id/name/d1-2> a skosxl:Label ; skosxl:literalForm "Jund al Khilafah" ; mkg:attestedIn <{BASE}id/doc/d1> .
<{BASE}id/org/criminal-gang> a mkg:ArmedGroup ; skos:prefLabel "unnamed criminal gang"@en .
<{BASE}id/event/atyrau-attack> a mkg:Attack ; rdfs:label "Atyrau attack, 31 October 2011"@en ;
    mkg:perpetrator <{BASE}id/org/jund-al-khilafah> ; mkg:place <{BASE}id/place/atyrau-Атырау> .
<{BASE}id/place/atyrau-Атырау> a mkg:Place ; skos:prefLabel "Atyrau"@en, "Атырау"@kk .
<{BASE}id/place/a+b> a mkg:Place ; skos:prefLabel "Plus place"@en .

<{BASE}id/assertion/d1-a01> a mkg:Assertion ; mkg:assertedSubject <{BASE}id/event/atyrau-attack> ;
    mkg:assertedPredicate mkg:perpetrator ; mkg:assertedObject <{BASE}id/org/jund-al-khilafah> ;
    mkg:statedIn <{BASE}id/doc/d1> ; mkg:claimant <{BASE}id/org/jund-al-khilafah> ;
    mkg:epistemicStatus mkg:SelfClaim ; mkg:polarity mkg:Affirmed ;
    mkg:hasEvidence <{BASE}id/evidence/d1-{CLAIM[0]}-{CLAIM[1]}>, <{BASE}id/evidence/d1-{NAME[0]}-{NAME[1]}> .
<{BASE}id/assertion/d1-a02> a mkg:Assertion ; mkg:assertedSubject <{BASE}id/event/atyrau-attack> ;
    mkg:assertedPredicate mkg:perpetrator ; mkg:assertedObject <{BASE}id/org/jund-al-khilafah> ;
    mkg:statedIn <{BASE}id/doc/d1> ; mkg:claimant <{BASE}id/org/kazakh-officials> ;
    mkg:epistemicStatus mkg:ReportedSpeech ; mkg:polarity mkg:Negated ;
    mkg:hasEvidence <{BASE}id/evidence/d1-{DENIAL[0]}-{DENIAL[1]}> .
<{BASE}id/assertion/d2-a01> a mkg:Assertion ; mkg:assertedSubject <{BASE}id/event/atyrau-attack> ;
    mkg:assertedPredicate mkg:perpetrator ; mkg:assertedObject <{BASE}id/org/criminal-gang> ;
    mkg:statedIn <{BASE}id/doc/d2> ; mkg:epistemicStatus mkg:ReportedSpeech ; mkg:polarity mkg:Affirmed ;
    mkg:hasEvidence <{BASE}id/evidence/d2-{GANG[0]}-{GANG[1]}> ;
    mkg:contradicts <{BASE}id/assertion/d1-a01> .
{_evidence("d1", DOC1_TEXT, *CLAIM)}
{_evidence("d1", DOC1_TEXT, *NAME)}
{_evidence("d1", DOC1_TEXT, *DENIAL)}
{_evidence("d2", DOC2_TEXT, *GANG)}
"""


ONTOLOGY = f"""
@prefix mkg: <{BASE}ontology#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
<{BASE}ontology> a owl:Ontology ; rdfs:label "mkg ontology"@en ; owl:versionInfo "{VERSION}" .
mkg:ArmedGroup a owl:Class ; rdfs:label "armed group"@en ;
    skos:definition "An organization that uses armed violence."@en ; rdfs:isDefinedBy <{BASE}ontology> .
mkg:Attack a owl:Class ; rdfs:label "attack"@en ; skos:definition "A violent event."@en .
mkg:perpetrator a owl:ObjectProperty ; rdfs:label "perpetrator"@en ;
    skos:definition "Who carried out the event."@en ; rdfs:domain mkg:Attack ; rdfs:range mkg:ArmedGroup .
mkg:SelfClaim a skos:Concept ; skos:prefLabel "self-claim"@en ; skos:definition "The actor claims it."@en .
mkg:ReportedSpeech a skos:Concept ; skos:prefLabel "reported speech"@en .
mkg:Negated a skos:Concept ; skos:prefLabel "negated"@en .
mkg:Affirmed a skos:Concept ; skos:prefLabel "affirmed"@en .
"""

SHAPES = f"""
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix mkgsh: <{BASE}shapes#> .
@prefix mkg: <{BASE}ontology#> .
mkgsh:ArmedGroupShape a sh:NodeShape ; sh:targetClass mkg:ArmedGroup ;
    sh:property mkgsh:ArmedGroup-prefLabel .
mkgsh:ArmedGroup-prefLabel sh:path skos:prefLabel ; sh:minCount 1 ;
    sh:message "An armed group needs a preferred label." .
"""

VOID = f"""
@prefix void: <http://rdfs.org/ns/void#> .
@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
<{BASE}id/dataset/mkg> a void:Dataset, dcat:Dataset ; dcterms:title "mkg test dataset" ;
    dcterms:description "A tiny fixture release." ;
    dcterms:license <https://creativecommons.org/licenses/by/4.0/> ;
    void:sparqlEndpoint <{BASE}sparql> ; void:dataDump <{BASE}releases/{VERSION}/data.nt> .
"""

MEDIA = {"data.nt": "application/n-triples", "data.ttl": "text/turtle",
         "ontology.ttl": "text/turtle", "shapes.ttl": "text/turtle", "void.ttl": "text/turtle",
         "report.ttl": "text/turtle", "manifest.json": "application/json"}


def write_release(root: Path) -> Path:
    """Write a release folder with ``current`` → ``versions/{VERSION}``; return ``root``."""
    folder = root / "versions" / VERSION
    folder.mkdir(parents=True)
    triples = list(ox.parse(data_turtle(), format=ox.RdfFormat.TURTLE))
    nt = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES).decode("utf-8")
    (folder / "data.nt").write_text("".join(sorted(nt.splitlines(keepends=True))), encoding="utf-8")
    (folder / "data.ttl").write_text(data_turtle(), encoding="utf-8")
    (folder / "ontology.ttl").write_text(ONTOLOGY, encoding="utf-8")
    (folder / "shapes.ttl").write_text(SHAPES, encoding="utf-8")
    (folder / "void.ttl").write_text(VOID, encoding="utf-8")
    (folder / "report.ttl").write_text(
        "@prefix sh: <http://www.w3.org/ns/shacl#> .\n[] a sh:ValidationReport ; sh:conforms true .\n",
        encoding="utf-8")
    files = {}
    for path in sorted(folder.iterdir()):
        data = path.read_bytes()
        files[path.name] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data),
                            "media_type": MEDIA[path.name]}
    manifest = {"version": VERSION, "base_iri": BASE, "built_at": BUILT,
                "built_from": {}, "files": files, "counts": {"triples": len(triples)}}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    (root / "current").symlink_to(Path("versions") / VERSION)
    return root


@pytest.fixture(scope="session")
def release_dir(tmp_path_factory) -> Path:
    return write_release(tmp_path_factory.mktemp("release"))


def started(app):
    """``app`` with its query workers (if it has a pool) running; stops them afterwards."""
    pool = getattr(app.extensions["mkg.store"], "pool", None)
    if pool is not None:
        pool.start(wait=True)
    try:
        yield app
    finally:
        if pool is not None:
            pool.close()


@pytest.fixture(scope="session")
def app(release_dir):
    yield from started(create_app({
        "RELEASE_DIR": str(release_dir), "TESTING": True, "RATE_LIMIT_PER_MINUTE": 0,
        "INCOMING_LINKS_LIMIT": 3, "QUERIES_DIR": str(release_dir / "no-queries")}))


class Server:
    """The app under Werkzeug's threaded server; ``url(path)`` gives absolute URLs."""

    def __init__(self, app):
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.base = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return self.base + path

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._thread.join()


@pytest.fixture(scope="session")
def server(app):
    with Server(app) as running:
        yield running


@pytest.fixture()
def http():
    with requests.Session() as session:
        yield session
