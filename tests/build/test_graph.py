"""The pure core: records to triples, and meaning errors with file and line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from rdflib import Literal, URIRef, XSD
from rdflib.namespace import RDF, SKOS

from server.graph import build_graph, terms_of
from server.release import load_rdf_folder
from server.sources import SourceErrors, read_corpus
from server.vocab import Iris

ROOT = Path(__file__).resolve().parents[2]
TINY_CORPUS = ROOT / "tests" / "data" / "corpus"
BASE = "http://example.org/kg/"
IRIS = Iris(BASE)
MKG = BASE + "ontology#"
OA = "http://www.w3.org/ns/oa#"


@pytest.fixture(scope="module")
def terms():
    return terms_of(load_rdf_folder(ROOT / "ontology", IRIS))


@pytest.fixture(scope="module")
def graph(terms):
    return build_graph(read_corpus(TINY_CORPUS), terms, IRIS)


def iri(path: str) -> URIRef:
    return URIRef(BASE + path)


def mkg(name: str) -> URIRef:
    return URIRef(MKG + name)


def test_assertion_node_carries_subject_predicate_object_document_and_status(graph):
    a1 = iri("id/assertion/d1-a1")
    assert set(graph.predicate_objects(a1)) >= {
        (RDF.type, mkg("Assertion")),
        (mkg("assertedSubject"), iri("id/event/springfield-attack")),
        (mkg("assertedPredicate"), mkg("perpetrator")),
        (mkg("assertedObject"), iri("id/org/acme-brigade")),
        (mkg("statedIn"), iri("id/doc/d1")),
        (mkg("epistemicStatus"), mkg("AuthorialAssertion")),
        (mkg("polarity"), mkg("Affirmed")),
        (mkg("hasEvidence"), iri("id/evidence/d1-73-132")),
    }


def test_evidence_span_has_both_selectors_with_code_point_offsets(graph):
    text = (TINY_CORPUS / "documents" / "d1.txt").read_text(encoding="utf-8")
    ev = iri("id/evidence/d1-121-132")
    position = URIRef(f"{ev}#position")
    quote = URIRef(f"{ev}#quote")
    assert (ev, URIRef(OA + "hasSource"), iri("id/doc/d1")) in graph
    assert (position, URIRef(OA + "start"), Literal(121, datatype=XSD.nonNegativeInteger)) in graph
    assert (position, URIRef(OA + "end"), Literal(132, datatype=XSD.nonNegativeInteger)) in graph
    assert (quote, URIRef(OA + "exact"), Literal("Springfield")) in graph
    assert text[121:132] == "Springfield"
    assert (quote, URIRef(OA + "prefix"), Literal(text[89:121])) in graph
    assert (ev, mkg("inSegment"), iri("id/segment/d1-body")) in graph


def test_truthy_layer_has_affirmed_object_statements_only(graph):
    attack = iri("id/event/springfield-attack")
    assert (attack, mkg("perpetrator"), iri("id/org/acme-brigade")) in graph
    assert (iri("id/org/acme-brigade"), mkg("subUnitOf"), iri("id/org/big-front")) in graph
    assert (attack, mkg("hasTimeSpec"), iri("id/time/d1-a3")) in graph
    # values stay on the assertion layer only; the negated count is never a direct triple
    assert list(graph.objects(attack, mkg("numberOfIncidents"))) == []
    a5 = iri("id/assertion/d1-a5")
    assert (a5, mkg("polarity"), mkg("Negated")) in graph
    assert (a5, mkg("assertedValue"), Literal(2, datatype=XSD.integer)) in graph


def test_contradiction_is_linked_both_ways(graph):
    a5, a6 = iri("id/assertion/d1-a5"), iri("id/assertion/d1-a6")
    assert (a6, mkg("contradicts"), a5) in graph
    assert (a5, mkg("contradicts"), a6) in graph


def test_time_spec_keeps_bounds_precision_and_wording(graph):
    ts = iri("id/time/d1-a3")
    assert set(graph.predicate_objects(ts)) >= {
        (RDF.type, mkg("TimeSpec")),
        (mkg("earliestStart"), Literal("2012-05-01", datatype=XSD.date)),
        (mkg("latestEnd"), Literal("2012-05-01", datatype=XSD.date)),
        (mkg("precision"), mkg("Day")),
        (mkg("yearSource"), mkg("DocumentDate")),
        (mkg("asExpressed"), Literal("May 1")),
    }


def test_names_are_attested_per_document_and_alt_labels_exclude_the_pref_label(graph):
    brigade = iri("id/org/acme-brigade")
    assert set(graph.objects(brigade, SKOS.prefLabel)) == {Literal("Acme Brigade", lang="en")}
    assert set(graph.objects(brigade, SKOS.altLabel)) == {Literal("AB", lang="en")}
    name = iri("id/name/d1-2")
    assert (name, mkg("attestedIn"), iri("id/doc/d1")) in graph
    assert (name, mkg("nameKind"), mkg("Acronym")) in graph


def test_background_geography_comes_from_the_entity_files(graph):
    assert (iri("id/place/springfield"), mkg("locatedIn"), iri("id/place/freedonia")) in graph
    assert (iri("id/place/springfield"), mkg("placeType"), mkg("City")) in graph


def test_output_has_no_blank_nodes(graph):
    from rdflib import BNode

    assert [t for t in graph if any(isinstance(x, BNode) for x in t)] == []


def test_meaning_errors_name_file_and_line(tmp_path, terms):
    corpus = tmp_path / "corpus"
    shutil.copytree(TINY_CORPUS, corpus)
    path = corpus / "annotations" / "d1.yaml"
    text = path.read_text()
    text = text.replace("predicate: perpetrator\n    object: org/acme-brigade", "predicate: perpetrator\n    object: org/acme-brigrade")
    text = text.replace("predicate: occurredAt", "predicate: happenedAt")
    text = text.replace("predicate: numberOfIncidents\n    value: 1", "predicate: numberOfIncidents\n    object: org/big-front")
    path.write_text(text)
    with pytest.raises(SourceErrors) as err:
        build_graph(read_corpus(corpus), terms, IRIS)
    assert [str(p) for p in err.value.problems] == [
        f"{path}:12: unknown entity 'org/acme-brigrade' as object; define it in data/entities/*.yaml or fix the id",
        f"{path}:18: predicate 'happenedAt' is not defined in the ontology; use a defined term or add it to ontology/mkg.ttl",
        f"{path}:44: 'numberOfIncidents' takes a literal; give 'value', not 'object'",
    ]
