"""server.checks: the evidence re-check, the per-document HermiT views and the Report type."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import RDF, Graph, URIRef

from server import checks

ROOT = Path(__file__).resolve().parent.parent
ID = "http://127.0.0.1:8080/id/"
HEAD = """
@prefix mkg: <http://127.0.0.1:8080/ontology#> .
@prefix oa: <http://www.w3.org/ns/oa#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix doc: <http://127.0.0.1:8080/id/doc/> .
@prefix org: <http://127.0.0.1:8080/id/org/> .
@prefix person: <http://127.0.0.1:8080/id/person/> .
@prefix asr: <http://127.0.0.1:8080/id/assertion/> .
@prefix ev: <http://127.0.0.1:8080/id/evidence/> .
doc:d1 a mkg:SourceDocument ; mkg:text "The ZBB of JaK claimed the attack." .
doc:d2 a mkg:SourceDocument ; mkg:text "JaK is a unit of ZBB." .
org:zbb a mkg:OrganizationalUnit .
org:jak a mkg:ArmedGroup .
person:kusaynov a mkg:Person .
"""


def _span(name: str, doc: str, exact: str, start: int, end: int) -> str:
    return f"""
ev:{name} a mkg:EvidenceSpan ; oa:hasSource doc:{doc} ; oa:hasSelector <{ID}evidence/{name}#q> , <{ID}evidence/{name}#p> .
<{ID}evidence/{name}#q> a oa:TextQuoteSelector ; oa:exact "{exact}" .
<{ID}evidence/{name}#p> a oa:TextPositionSelector ; oa:start "{start}"^^xsd:nonNegativeInteger ; oa:end "{end}"^^xsd:nonNegativeInteger .
"""


def _assertion(name: str, doc: str, s: str, p: str, o: str, evidence: str, status: str = "AuthorialAssertion") -> str:
    return f"""
asr:{name} a mkg:Assertion ; mkg:assertedSubject {s} ; mkg:assertedPredicate mkg:{p} ; mkg:assertedObject {o} ;
    mkg:statedIn doc:{doc} ; mkg:hasEvidence ev:{evidence} ; mkg:epistemicStatus mkg:{status} ; mkg:polarity mkg:Affirmed .
"""


def _graph(*parts: str) -> Graph:
    return Graph().parse(data=HEAD + "".join(parts), format="turtle")


# ----------------------------------------------------------------------------------- evidence


def test_evidence_accepts_a_matching_span():
    data = _graph(_span("e1", "d1", "The ZBB of JaK", 0, 14), _assertion("a1", "d1", "org:zbb", "subUnitOf", "org:jak", "e1"))
    assert checks.evidence(data).findings == ()


def test_evidence_reports_an_offset_one_character_off():
    data = _graph(_span("e1", "d1", "The ZBB of JaK", 1, 15))
    assert [(f.focus, f.shape, f.value) for f in checks.evidence(data).findings] == [
        (f"{ID}evidence/e1", "evidence-quote", "The ZBB of JaK")
    ]


def test_evidence_reports_offsets_beyond_the_text():
    data = _graph(_span("e1", "d1", "x", 30, 99))
    assert [(f.focus, f.path) for f in checks.evidence(data).findings] == [
        (f"{ID}evidence/e1", "http://www.w3.org/ns/oa#start")
    ]


def test_evidence_reports_evidence_from_another_document():
    data = _graph(_span("e2", "d2", "JaK", 0, 3), _assertion("a1", "d1", "org:zbb", "subUnitOf", "org:jak", "e2"))
    assert [(f.focus, f.shape, f.value) for f in checks.evidence(data).findings] == [
        (f"{ID}assertion/a1", "evidence-document", f"{ID}evidence/e2")
    ]


# ---------------------------------------------------------------------------------------- OWL


def test_owl_two_documents_disagreeing_is_not_a_violation(ontology):
    data = _graph(
        _span("e1", "d1", "The ZBB of JaK", 0, 14), _span("e2", "d2", "JaK is a unit of ZBB", 0, 20),
        _assertion("a1", "d1", "org:zbb", "subUnitOf", "org:jak", "e1"),
        _assertion("a2", "d2", "org:jak", "subUnitOf", "org:zbb", "e2"),
        "org:zbb mkg:subUnitOf org:jak . org:jak mkg:subUnitOf org:zbb . org:jak a mkg:OrganizationalUnit .",
    )
    assert checks.owl(ontology, data, check_ontology=False).findings == ()


def test_owl_a_document_contradicting_itself_is_a_violation(ontology):
    data = _graph(
        _span("e1", "d1", "The ZBB of JaK", 0, 14),
        _assertion("a1", "d1", "org:zbb", "subUnitOf", "org:jak", "e1"),
        _assertion("a2", "d1", "org:jak", "subUnitOf", "org:zbb", "e1"),
        "org:zbb mkg:subUnitOf org:jak . org:jak mkg:subUnitOf org:zbb . org:jak a mkg:OrganizationalUnit .",
    )
    assert [(f.severity, f.focus, f.shape) for f in checks.owl(ontology, data, check_ontology=False).findings] == [
        ("Violation", f"{ID}doc/d1", "owl-consistency")
    ]


def test_owl_a_document_mistyping_an_entity_is_a_violation(ontology):
    data = _graph(
        _span("e1", "d1", "The ZBB of JaK", 0, 14),
        _assertion("a1", "d1", "org:zbb", "subUnitOf", "person:kusaynov", "e1"),
        "org:zbb mkg:subUnitOf person:kusaynov .",
    )
    assert [(f.focus, f.shape) for f in checks.owl(ontology, data, check_ontology=False).findings] == [(f"{ID}doc/d1", "owl-consistency")]


def test_document_view_leaves_out_the_assertion_layer_and_literals(ontology):
    data = _graph(_span("e1", "d1", "The ZBB of JaK", 0, 14), _assertion("a1", "d1", "org:zbb", "subUnitOf", "org:jak", "e1"),
                  "org:zbb mkg:subUnitOf org:jak .")
    view = checks.document_view(data, ontology, URIRef(f"{ID}doc/d1"))
    assert sorted((str(s), str(p), str(o)) for s, p, o in view) == sorted([
        (f"{ID}org/zbb", "http://127.0.0.1:8080/ontology#subUnitOf", f"{ID}org/jak"),
        (f"{ID}org/zbb", "http://www.w3.org/1999/02/22-rdf-syntax-ns#type", "http://127.0.0.1:8080/ontology#OrganizationalUnit"),
        (f"{ID}org/jak", "http://www.w3.org/1999/02/22-rdf-syntax-ns#type", "http://127.0.0.1:8080/ontology#ArmedGroup"),
    ])


def _reference_owl(ontology: Graph, data: Graph) -> list[str]:
    """The documents flagged by one owlready2 + HermiT run per document view (the reference)."""
    java = checks._java_executable()
    tbox = checks.reasoner_ontology_view(ontology)
    docs = sorted(data.subjects(RDF.type, URIRef("http://127.0.0.1:8080/ontology#SourceDocument")), key=str)
    return [str(d) for d in docs if not checks._consistent(tbox + checks.document_view(data, ontology, d), java)]


def _docs(n: int) -> str:
    return "".join(f'doc:n{i} a mkg:SourceDocument ; mkg:text "ZBB of JaK." .\n' for i in range(n))


def test_owl_batches_bisect_to_the_documents_at_fault(ontology, monkeypatch):
    """Eight documents over several batches; two contradict themselves, two others disagree."""
    parts = [_docs(8), "org:jak a mkg:OrganizationalUnit . org:kbb a mkg:OrganizationalUnit .\n"]
    for i in range(8):
        parts.append(_span(f"s{i}", f"n{i}", "ZBB", 0, 3))
        parts.append(_assertion(f"a{i}", f"n{i}", "org:zbb", "subUnitOf", "org:kbb", f"s{i}"))
    parts.append(_assertion("x3", "n3", "org:kbb", "subUnitOf", "org:zbb", "s3"))  # n3 contradicts itself
    parts.append(_assertion("x7", "n7", "org:zbb", "subUnitOf", "person:kusaynov", "s7"))  # n7 mistypes
    parts.append(_assertion("x5", "n5", "org:kbb", "subUnitOf", "org:jak", "s5"))
    parts.append(_assertion("x6", "n6", "org:jak", "subUnitOf", "org:kbb", "s6"))  # disagrees with n5
    data = _graph(*parts)
    expected = [f"{ID}doc/n3", f"{ID}doc/n7"]
    assert _reference_owl(ontology, data) == expected
    # parts renamed apart, in several batches or one; then no part renamed (documents as they are)
    for rename_limit, batch_triples in ((checks.OWL_RENAME_LIMIT, 30), (checks.OWL_RENAME_LIMIT, 10**6), (0, 10**6)):
        monkeypatch.setattr(checks, "OWL_RENAME_LIMIT", rename_limit)
        found = checks.owl(ontology, data, check_ontology=False, batch_triples=batch_triples).findings
        assert [(f.focus, f.shape) for f in found] == [(d, "owl-consistency") for d in expected]


def test_owl_inconsistent_background_fails_every_document(ontology):
    """A background fact (stated by no assertion) is in every view: every document is at fault."""
    data = _graph(_span("e1", "d1", "The ZBB of JaK", 0, 14), _assertion("a1", "d1", "org:zbb", "subUnitOf", "org:jak", "e1"),
                  "org:zbb mkg:subUnitOf org:jak . org:jak mkg:subUnitOf person:kusaynov .")
    expected = [f"{ID}doc/d1", f"{ID}doc/d2"]
    assert _reference_owl(ontology, data) == expected
    assert [f.focus for f in checks.owl(ontology, data, check_ontology=False).findings] == expected


def test_owl_documents_meeting_at_an_ontology_individual_are_judged_alone():
    """Two documents each consistent alone, inconsistent together through an individual that the
    ontology names (it is not renamed apart): bisection clears both."""
    ontology = Graph().parse(data="""
@prefix mkg: <http://127.0.0.1:8080/ontology#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<http://127.0.0.1:8080/ontology> a owl:Ontology .
mkg:A a owl:Class . mkg:B a owl:Class ; owl:disjointWith mkg:A .
mkg:p a owl:ObjectProperty ; rdfs:range mkg:A .
mkg:q a owl:ObjectProperty ; rdfs:range mkg:B .
mkg:C a owl:NamedIndividual .
""", format="turtle")
    data = _graph(_span("e1", "d1", "The ZBB of JaK", 0, 14), _span("e2", "d2", "JaK", 0, 3),
                  _assertion("a1", "d1", "org:zbb", "p", "mkg:C", "e1"), _assertion("a2", "d2", "org:jak", "q", "mkg:C", "e2"),
                  "org:zbb mkg:p mkg:C . org:jak mkg:q mkg:C .")
    assert _reference_owl(ontology, data) == []
    batches = checks._Batches(checks._Views(data, ontology, checks.reasoner_ontology_view(ontology)),
                              checks.reasoner_ontology_view(ontology), checks._java_executable(), None, 10**6)
    assert checks._hermit_consistent(batches.tbox_nt + batches.background_nt + "".join(
        batches._batch_lines([URIRef(f"{ID}doc/d1"), URIRef(f"{ID}doc/d2")])), batches.java) is False
    assert checks.owl(ontology, data, check_ontology=False).findings == ()


def test_document_view_parts_hold_the_background_components_they_touch(ontology):
    data = _graph(_span("e1", "d1", "The ZBB of JaK", 0, 14), _assertion("a1", "d1", "org:zbb", "subUnitOf", "org:jak", "e1"),
                  "org:zbb mkg:subUnitOf org:jak . org:jak mkg:basedIn <http://127.0.0.1:8080/id/place/x> .",
                  "person:kusaynov mkg:bornIn <http://127.0.0.1:8080/id/place/y> .")
    views = checks._Views(data, ontology, checks.reasoner_ontology_view(ontology))
    assert [(str(s), str(o)) for s, _, o in views.part(URIRef(f"{ID}doc/d1"))] == [
        (f"{ID}org/jak", f"{ID}place/x"), (f"{ID}org/zbb", f"{ID}org/jak")]
    assert views.part(URIRef(f"{ID}doc/d2")) == []


def test_owl_without_java_raises_check_error(ontology, monkeypatch):
    monkeypatch.setattr(checks.shutil, "which", lambda name: None)
    with pytest.raises(checks.CheckError, match="install a JRE"):
        checks.owl(ontology, Graph())


# ------------------------------------------------------------------------------------- Report


def test_report_summary_and_junit():
    finding = checks.Finding("Violation", "http://x/a", None, "http://x/S", "sh:X", "Broken.", None)
    warning = checks.Finding("Warning", "http://x/b", "http://x/p", "http://x/T", "sh:Y", "Odd.", "v")
    report = checks.Report((warning, finding), None, ("http://x/S", "http://x/T", "http://x/U"))
    assert report.conforms is False
    assert report.violations == (finding,)
    assert report.warnings == (warning,)
    assert report.summary().splitlines() == [
        "Validation does NOT conform: 1 violation(s), 1 warning(s), 0 info(s); 3 shape(s) and check(s) run.",
        "Violation: http://x/a: Broken. [http://x/S]",
        "Warning: http://x/b http://x/p: Odd. (value: v) [http://x/T]",
    ]
    junit = report.to_junit()
    assert 'tests="3" failures="1" errors="0"' in junit
    assert junit.count("<testcase ") == 3
    assert junit.count("<failure ") == 1
