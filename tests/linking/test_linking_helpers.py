"""The pure linking helpers: allow-list, link checks, VoID linksets, retired ids, name matching."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from rdflib import Graph, URIRef
from rdflib.namespace import RDF, SKOS

from server import linking
from server.vocab import Iris

ROOT = Path(__file__).resolve().parents[2]
VERIFIED = ROOT / "data" / "verified-links.yaml"
IRIS = Iris("http://mkg.test/")
VOID = "http://rdfs.org/ns/void#"


@pytest.fixture(scope="module")
def verified():
    return linking.load_verified(VERIFIED)


def test_allow_list_holds_exactly_the_verified_rows(verified):
    assert len(verified) == 57
    assert sum(1 for t, _ in verified.rows if t == "wikidata") == 22
    assert sum(1 for t, _ in verified.rows if t == "geonames") == 35
    assert verified.get("wikidata", "Q232").label == "Kazakhstan"
    assert verified.get("geonames", "610611").label == "Aqtobe / Aktobe (city)"
    assert verified.get("wikidata", "Q34490").identity_certain is False
    assert verified.get("wikidata", "Q232").identity_certain is True
    # unverified in ontology-research.md §5: never on the list
    assert verified.get("geonames", "1516905") is not None      # Taraz GeoNames: verified
    for unverified in ("Q1530", "Q35493x"):
        assert verified.get("wikidata", unverified) is None


def test_shipped_entities_link_only_to_verified_identifiers(verified):
    entities = {}
    for path in sorted((ROOT / "data" / "entities").glob("*.yaml")):
        entities.update(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    assert linking.check_links(entities, verified) == []
    linked = [(e, link["target"], str(link["id"])) for e, d in entities.items() for link in d.get("links") or []]
    assert ("place/kazakhstan", "wikidata", "Q232") in linked
    assert all((t, i) in verified for _, t, i in linked)


def test_check_links_fails_an_identifier_outside_the_list(verified):
    entities = {
        "org/jund-al-khilafah": {"links": [{"target": "wikidata", "id": "Q12345", "verified_in": "a blog"}]},
        "place/kazakhstan": {"links": [{"target": "wikidata", "id": "Q232", "verified_in": "§5.1"},
                                       {"target": "wikidata", "id": "Q232", "verified_in": "§5.1"}]},
        "place/almaty": {"links": [{"target": "geonames", "id": "1526384"}]},
        "place/atyrau": {"links": [{"target": "dbpedia", "id": "Atyrau", "verified_in": "x"}]},
        "place/kz": {"links": [{"target": "geonames", "id": "1522867", "verified_in": "§5.1"}]},
        "place/kz2": {"links": [{"target": "geonames", "id": "1522867", "verified_in": "§5.1"}]},
    }
    problems = [str(p) for p in linking.check_links(entities, verified)]
    assert problems == [
        "org/jund-al-khilafah: wikidata Q12345 is not in data/verified-links.yaml. Link only to identifiers "
        "verified in stored material: add the row there with its source, or remove the link.",
        "place/kazakhstan: wikidata Q232 is linked twice. Keep one.",
        "place/almaty: link to geonames 1526384 has no verified_in. Say where it was verified.",
        "place/atyrau: link target 'dbpedia' is not one of ['geonames', 'wikidata']. Use wikidata or geonames.",
        "place/kz2: geonames 1522867 is already linked from place/kz. One external identifier names one "
        "thing: keep the link on the right entity.",
    ]


def test_linksets_count_links_per_target():
    graph = Graph()
    for slug, iri in [("kazakhstan", "http://www.wikidata.org/entity/Q232"),
                      ("kazakhstan", "https://sws.geonames.org/1522867/"),
                      ("atyrau", "https://sws.geonames.org/610529/"),
                      ("aqtobe", "https://sws.geonames.org/610611/")]:
        graph.add((URIRef(f"http://mkg.test/id/place/{slug}"), SKOS.exactMatch, URIRef(iri)))
    void = Graph()
    for triple in linking.linksets(graph, IRIS):
        void.add(triple)
    counts = {str(ls): int(n) for ls, n in void.subject_objects(URIRef(VOID + "triples"))}
    assert counts == {"http://mkg.test/id/dataset/mkg-wikidata": 1, "http://mkg.test/id/dataset/mkg-geonames": 3}
    geonames = URIRef("http://mkg.test/id/dataset/mkg-geonames")
    assert (geonames, RDF.type, URIRef(VOID + "Linkset")) in void
    assert (geonames, URIRef(VOID + "linkPredicate"), SKOS.exactMatch) in void
    assert set(void.objects(geonames, URIRef(VOID + "target"))) == {
        URIRef("http://mkg.test/id/dataset/mkg"), URIRef("https://www.geonames.org/")}
    assert (URIRef("http://mkg.test/id/dataset/mkg"), URIRef(VOID + "subset"), geonames) in void


@pytest.mark.parametrize("text, expected", [
    ("Jund al-Khilafa", "jund al khilafa"),
    ("JUND AL KHILAFAH", "jund al khilafah"),
    ("Khōst", "khost"),
    ("Hizb-ut-Tahrir", "hizb ut tahrir"),
    ("reader \u201cEddie D.\u201d", "reader eddie d"),
    ("Pakistan's tribal areas", "pakistans tribal areas"),
])
def test_normalise(text, expected):
    assert linking.normalise(text) == expected


def test_transliteration_key_equates_variants_but_not_look_alikes():
    key = linking.translit_key
    assert key("Zahir Baybars Battalion") == key("Zahir Baibars Battalion") == "zahir baibars batalion"
    assert key("Aktobe") == key("Aqtobe") == "aktobe"
    assert key("Jund al-Khilafah") == key("jund al khilafa") == "jund al khilafa"
    assert key("Aidos Kusainov") != key("Aidos Kusanov")
    assert key("Jund al-Khilafah (Tunisia)") != key("Jund al-Khilafah")


def test_similarity():
    assert linking.similarity("aidos kusainov", "aidos kusanov") == 0.963
    assert linking.similarity("kusaynov rawil", "rawil kusaynov") == 1.0
    assert linking.similarity("", "x") == 0.0


@pytest.mark.parametrize("text, expected", [
    ("http://www.wikidata.org/entity/Q232", ("wikidata", "Q232")),
    ("https://www.wikidata.org/wiki/Q232", ("wikidata", "Q232")),
    ("https://www.wikidata.org/wiki/Special:EntityData/Q232.json", ("wikidata", "Q232")),
    ("wd:Q34490", ("wikidata", "Q34490")),
    ("https://sws.geonames.org/1522867/", ("geonames", "1522867")),
    ("http://sws.geonames.org/1522867", ("geonames", "1522867")),
    ("https://www.geonames.org/610529/atyrau.html", ("geonames", "610529")),
    ("https://example.org/Q232", None),
])
def test_parse_external(text, expected):
    assert linking.parse_external(text) == expected


def test_dataset_jsonld():
    manifest = {"version": "2026.1", "files": {
        "data.nt": {"media_type": "application/n-triples"}, "data.ttl": {"media_type": "text/turtle"},
        "report.txt": {"media_type": "text/plain"}}}
    doc = linking.dataset_jsonld(manifest, IRIS, title="mkg", description="What documents say.",
                                 license_iri="https://creativecommons.org/licenses/by/4.0/")
    assert doc == {
        "@context": "https://schema.org/", "@type": "Dataset", "@id": "http://mkg.test/id/dataset/mkg",
        "name": "mkg", "description": "What documents say.", "url": "http://mkg.test/", "version": "2026.1",
        "distribution": [
            {"@type": "DataDownload", "encodingFormat": "application/n-triples",
             "contentUrl": "http://mkg.test/releases/2026.1/data.nt"},
            {"@type": "DataDownload", "encodingFormat": "text/turtle",
             "contentUrl": "http://mkg.test/releases/2026.1/data.ttl"}],
        "isAccessibleForFree": True, "license": "https://creativecommons.org/licenses/by/4.0/",
    }
