"""Quality gates of the ontology: header, documentation of every term, OWL 2 DL shape, HermiT."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import OWL, RDF, Graph, URIRef

from server import checks

ROOT = Path(__file__).resolve().parent.parent
MKG = "http://127.0.0.1:8080/ontology#"
PREFIXES = """
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX vann: <http://purl.org/vocab/vann/>
"""


def _terms(ontology: Graph) -> list[URIRef]:
    typed = {s for t in (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty,
                         URIRef("http://www.w3.org/2004/02/skos/core#Concept"),
                         URIRef("http://www.w3.org/2004/02/skos/core#ConceptScheme"))
             for s in ontology.subjects(RDF.type, t)}
    return sorted(s for s in typed if str(s).startswith(MKG))


def test_header_is_complete(ontology):
    rows = ontology.query(PREFIXES + """
        SELECT ?o WHERE {
          ?o a owl:Ontology ; dcterms:title ?t ; dcterms:description ?d ; dcterms:creator ?c ;
             dcterms:license <https://creativecommons.org/licenses/by/4.0/> ; owl:versionInfo ?v ;
             vann:preferredNamespacePrefix "mkg" ;
             vann:preferredNamespaceUri "http://127.0.0.1:8080/ontology#" .
        }""")
    assert [str(r.o) for r in rows] == ["http://127.0.0.1:8080/ontology"]


def test_no_version_iri_in_the_source(ontology):
    assert list(ontology.triples((None, OWL.versionIRI, None))) == []


@pytest.mark.parametrize("predicate", ["rdfs:label", "skos:definition", "rdfs:isDefinedBy"])
def test_every_term_is_documented(ontology, predicate):
    rows = ontology.query(PREFIXES + f"""
        SELECT ?term WHERE {{
          VALUES ?type {{ owl:Class owl:ObjectProperty owl:DatatypeProperty owl:AnnotationProperty
                         skos:Concept skos:ConceptScheme rdfs:Datatype }}
          ?term a ?type .
          FILTER (STRSTARTS(STR(?term), "{MKG}"))
          FILTER NOT EXISTS {{ ?term {predicate} ?value }}
        }}""")
    offenders = sorted(str(r.term) for r in rows)
    print(offenders)
    assert offenders == []


def test_every_term_is_defined_by_the_ontology(ontology):
    wrong = [str(t) for t in _terms(ontology)
             if (t, URIRef("http://www.w3.org/2000/01/rdf-schema#isDefinedBy"),
                 URIRef("http://127.0.0.1:8080/ontology")) not in ontology]
    assert wrong == []


def test_labels_and_definitions_are_english(ontology):
    rows = ontology.query(PREFIXES + f"""
        SELECT ?term WHERE {{
          ?term rdfs:label|skos:definition|skos:prefLabel ?text .
          FILTER (STRSTARTS(STR(?term), "{MKG}") && LANG(?text) != "en")
        }}""")
    assert sorted(str(r.term) for r in rows) == []


def test_owl_dl_friendly(ontology):
    rdf_statement = URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#Statement")
    assert list(ontology.triples((None, None, rdf_statement))) == []
    assert (URIRef(MKG + "assertedPredicate"), RDF.type, OWL.AnnotationProperty) in ontology
    assert list(ontology.triples((None, OWL.imports, None))) == []


def test_required_terms_exist(ontology):
    required = ["Ban", "Detention", "Sentencing", "ArmedGroup", "OrganizationalUnit", "Assertion", "EvidenceSpan",
                "shareOfMembers", "killedIn", "subUnitOf", "locatedIn", "occurredIn", "UserGenerated", "ReaderComment"]
    missing = [t for t in required if not any(ontology.triples((URIRef(MKG + t), RDF.type, None)))]
    assert missing == []


def test_hermit_finds_the_ontology_consistent_and_every_class_satisfiable(ontology):
    report = checks.owl(ontology, Graph())
    assert report.findings == ()
