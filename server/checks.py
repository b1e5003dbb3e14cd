"""Build tier: validation of a release's graphs. The only importer of pyshacl and owlready2.

Three checks, each returning a :class:`Report`:

- :func:`shacl` validates the data against the SHACL shapes. The ontology is merged into a copy of
  the data graph before validation (not passed as ``ont_graph``), so that ``sh:targetClass`` follows
  ``rdfs:subClassOf`` and the SPARQL constraint on assertion objects can read ``rdfs:range``.
  No RDFS/OWL inference is run: the shapes check what is stated.
- :func:`owl` runs HermiT (owlready2) on one view per source document: the direct triples that the
  document affirms (reader comments excluded), the typing of the entities involved and the
  background facts (triples between entities that no assertion states), without the assertion
  layer and without any literal. A second document that disagrees is a different view, so
  conflicting reports are never an error; a document that contradicts itself or mistypes an
  entity is. The ontology alone is also checked for consistency and unsatisfiable classes.
- :func:`evidence` re-checks every evidence span in plain Python: the quote equals the document
  text at its offsets, and the evidence of an assertion or a name attestation comes from the
  document it is stated or attested in.

Findings of the Python checks use plain check names (``evidence-quote``, ``evidence-document``,
``owl-consistency``, ``owl-satisfiability``) where SHACL findings use shape IRIs.
"""

from __future__ import annotations

import shutil
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import OWL, RDF, RDFS, XSD, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

from .vocab import PREFIXES

__all__ = [
    "CheckError",
    "Finding",
    "Report",
    "SEVERITIES",
    "document_view",
    "evidence",
    "merge",
    "owl",
    "reasoner_ontology_view",
    "shacl",
]

SEVERITIES = ("Violation", "Warning", "Info")

SH = Namespace(PREFIXES["sh"])
OA = Namespace(PREFIXES["oa"])
DCTERMS = Namespace(PREFIXES["dcterms"])

# Datatypes outside the OWL 2 datatype map: HermiT rejects them as ranges and as literals.
_NON_OWL2_DATATYPES = frozenset(
    {XSD.date, XSD.duration, XSD.gYear, XSD.gYearMonth, XSD.gMonth, XSD.gMonthDay, XSD.gDay, XSD.time}
)


class CheckError(Exception):
    """A check could not run at all (for example: no Java runtime for HermiT)."""


@dataclass(frozen=True, order=True)
class Finding:
    """One result of a check, in the vocabulary of a SHACL validation result.

    ``component`` is the named SPARQL constraint for SHACL-SPARQL results (more telling than
    ``sh:SPARQLConstraintComponent``), else the constraint component.
    """

    severity: str
    focus: str
    path: str | None
    shape: str | None
    component: str | None
    message: str
    value: str | None = None

    def line(self) -> str:
        """The finding as one line of the human summary."""
        where = self.focus if self.path is None else f"{self.focus} {self.path}"
        value = "" if self.value is None else f" (value: {_shorten(self.value)})"
        source = "" if self.shape is None else f" [{self.shape}]"
        return f"{self.severity}: {where}: {self.message}{value}{source}"


@dataclass(frozen=True)
class Report:
    """The findings of one or more checks; ``graph`` is the SHACL results graph when there is one.

    ``checked`` names every shape or check that ran, so that passing ones appear in JUnit output.
    """

    findings: tuple[Finding, ...]
    graph: Graph | None = None
    checked: tuple[str, ...] = field(default=())

    @property
    def conforms(self) -> bool:
        return not self.violations

    @property
    def violations(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "Violation")

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "Warning")

    def summary(self) -> str:
        """A human summary: the verdict, the counts, then one line per finding (violations first)."""
        infos = len(self.findings) - len(self.violations) - len(self.warnings)
        verdict = "conforms" if self.conforms else "does NOT conform"
        lines = [
            f"Validation {verdict}: {len(self.violations)} violation(s), {len(self.warnings)} warning(s), "
            f"{infos} info(s); {len(self.checked)} shape(s) and check(s) run."
        ]
        lines += [f.line() for f in sorted(self.findings, key=_severity_order)]
        return "\n".join(lines) + "\n"

    def to_junit(self) -> str:
        """JUnit XML: one test case per shape or check; violations are failures, the rest system-out."""
        by_shape: dict[str, list[Finding]] = {name: [] for name in self.checked}
        for f in self.findings:
            by_shape.setdefault(f.shape or f.component or "unnamed", []).append(f)
        suite = ET.Element("testsuite", name="mkg-validation", tests=str(len(by_shape)))
        failures = 0
        for name in sorted(by_shape):
            case = ET.SubElement(suite, "testcase", classname="mkg.validation", name=name)
            found = sorted(by_shape[name], key=_severity_order)
            violations = [f for f in found if f.severity == "Violation"]
            if violations:
                failures += 1
                failure = ET.SubElement(case, "failure", message=violations[0].message, type="Violation")
                failure.text = "\n".join(f.line() for f in violations)
            others = [f for f in found if f.severity != "Violation"]
            if others:
                ET.SubElement(case, "system-out").text = "\n".join(f.line() for f in others)
        suite.set("failures", str(failures))
        suite.set("errors", "0")
        return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"


def merge(*reports: Report) -> Report:
    """One report with the findings and checks of all; the first SHACL results graph is kept."""
    findings = tuple(sorted({f for r in reports for f in r.findings}, key=_severity_order))
    checked = tuple(dict.fromkeys(name for r in reports for name in r.checked))
    graph = next((r.graph for r in reports if r.graph is not None), None)
    return Report(findings, graph, checked)


# -------------------------------------------------------------------------------------- SHACL


def shacl(data: Graph, ontology: Graph, shapes: Graph) -> Report:
    """Validate ``data`` (with ``ontology`` merged in) against ``shapes`` with pySHACL."""
    import pyshacl  # lazy: slow to import, and it must stay out of the web tier

    data_graph = Graph()
    for graph in (data, ontology):
        for triple in graph:
            data_graph.add(triple)
    _conforms, results, _text = pyshacl.validate(
        data_graph,
        shacl_graph=shapes,
        inference="none",
        abort_on_first=False,
        allow_infos=True,
        allow_warnings=True,
        meta_shacl=False,
        advanced=False,
        debug=False,
    )
    findings = tuple(sorted((_finding(results, r) for r in results.subjects(RDF.type, SH.ValidationResult)),
                            key=_severity_order))
    return Report(findings, results, _shape_names(shapes))


def _shape_names(shapes: Graph) -> tuple[str, ...]:
    names = {str(s) for t in (SH.NodeShape, SH.PropertyShape) for s in shapes.subjects(RDF.type, t)
             if isinstance(s, URIRef)}
    return tuple(sorted(names))


def _finding(results: Graph, result: Node) -> Finding:
    def one(predicate: URIRef) -> Node | None:
        return results.value(result, predicate)

    severity = one(SH.resultSeverity)
    message = one(SH.resultMessage)
    value = one(SH.value)
    return Finding(
        severity=str(severity).rsplit("#", 1)[-1] if severity is not None else "Violation",
        focus=str(one(SH.focusNode)),
        path=_render_path(results, one(SH.resultPath)),
        shape=_node_name(one(SH.sourceShape)),
        component=_node_name(one(SH.sourceConstraint) or one(SH.sourceConstraintComponent)),
        message=str(message) if message is not None else "",
        value=str(value) if value is not None else None,
    )


def _node_name(node: Node | None) -> str | None:
    if node is None:
        return None
    return str(node) if isinstance(node, URIRef) else "_:blank"


def _render_path(graph: Graph, path: Node | None) -> str | None:
    """A SHACL path as SPARQL property-path text (IRIs in angle brackets for complex paths)."""
    if path is None:
        return None
    if isinstance(path, URIRef):
        return str(path)
    inverse = graph.value(path, SH.inversePath)
    if inverse is not None:
        return f"^{_render_path(graph, inverse)}"
    for predicate, suffix in ((SH.zeroOrMorePath, "*"), (SH.oneOrMorePath, "+"), (SH.zeroOrOnePath, "?")):
        inner = graph.value(path, predicate)
        if inner is not None:
            return f"({_render_path(graph, inner)}){suffix}"
    alternatives = graph.value(path, SH.alternativePath)
    if alternatives is not None:
        return "(" + "|".join(_render_path(graph, p) or "" for p in Collection(graph, alternatives)) + ")"
    if (path, RDF.first, None) in graph:
        return "/".join(_render_path(graph, p) or "" for p in Collection(graph, path))
    return "_:path"


# ---------------------------------------------------------------------------------------- OWL


def owl(ontology: Graph, data: Graph, *, check_ontology: bool = True) -> Report:
    """HermiT on the ontology alone (unless ``check_ontology`` is false), then on one view per
    source document of ``data``. Each HermiT run starts a JVM (about 2 s).

    :raises CheckError: when no Java runtime is available.
    """
    java = _java_executable()
    mkg = Namespace(_ontology_namespace(ontology))
    tbox = reasoner_ontology_view(ontology)
    findings = _check_ontology(tbox, java) if check_ontology else []
    docs = sorted(data.subjects(RDF.type, mkg.SourceDocument), key=str)
    for doc in docs:
        view = document_view(data, ontology, doc)
        if not _consistent(tbox + view, java):
            findings.append(Finding(
                "Violation", str(doc), None, "owl-consistency", "owl-consistency",
                f"The statements that document {_doc_label(data, doc)} affirms are inconsistent with the "
                "ontology (a disjointness, domain, range or asymmetry axiom is broken): check the types of "
                "the entities this document's assertions link.",
            ))
    checked = ("owl-satisfiability", "owl-consistency")
    return Report(tuple(sorted(findings, key=_severity_order)), None, checked)


def reasoner_ontology_view(ontology: Graph) -> Graph:
    """The ontology without the axioms and literals that HermiT cannot read (xsd:date and kin)."""
    view = Graph()
    for s, p, o in ontology:
        if o in _NON_OWL2_DATATYPES and p == RDFS.range:
            continue
        if isinstance(o, Literal) and o.datatype in _NON_OWL2_DATATYPES:
            continue
        view.add((s, p, o))
    return view


def document_view(data: Graph, ontology: Graph, doc: URIRef) -> Graph:
    """What one document affirms, as direct triples between individuals, plus typing and background.

    Included: ``s p o`` for each assertion stated in ``doc`` that is affirmed, not user-generated,
    and has an IRI object, where ``p`` is an object property of the ontology; ``s p o`` triples of
    the data between individuals that no assertion of any document states (background facts such as
    ``locatedIn``, ``owl:differentFrom``); and the ``rdf:type`` triples of every individual involved.
    Excluded: the assertion and evidence layers and every literal.
    """
    mkg = Namespace(_ontology_namespace(ontology))
    object_properties = set(ontology.subjects(RDF.type, OWL.ObjectProperty)) | {OWL.differentFrom, OWL.sameAs}
    stated: set[tuple[Node, Node, Node]] = set()
    affirmed_here: set[tuple[Node, Node, Node]] = set()
    for a in data.subjects(RDF.type, mkg.Assertion):
        triple = (data.value(a, mkg.assertedSubject), data.value(a, mkg.assertedPredicate),
                  data.value(a, mkg.assertedObject))
        if not all(isinstance(t, URIRef) for t in triple):
            continue
        stated.add(triple)
        if ((a, mkg.statedIn, doc) in data and (a, mkg.polarity, mkg.Affirmed) in data
                and (a, mkg.epistemicStatus, mkg.UserGenerated) not in data):
            affirmed_here.add(triple)
    layer_types = {mkg.Assertion, mkg.EvidenceSpan, mkg.NameAttestation, mkg.SourceDocument,
                   mkg.DocumentSegment, mkg.CitedSource}
    layer = {s for t in layer_types for s in data.subjects(RDF.type, t)}
    view = Graph()
    for triple in affirmed_here:
        if triple[1] in object_properties:
            view.add(triple)
    for s, p, o in data:
        if (p in object_properties and isinstance(s, URIRef) and isinstance(o, URIRef)
                and s not in layer and o not in layer and (s, p, o) not in stated):
            view.add((s, p, o))
    individuals = set(view.subjects()) | {o for o in view.objects() if isinstance(o, URIRef)}
    for node in individuals:
        for cls in data.objects(node, RDF.type):
            view.add((node, RDF.type, cls))
    return view


def _check_ontology(tbox: Graph, java: str) -> list[Finding]:
    """Consistency of the ontology alone, then its unsatisfiable named classes (one HermiT run)."""
    import owlready2

    world = _load_world(tbox)
    try:
        try:
            _run_hermit(world, java)
        except owlready2.OwlReadyInconsistentOntologyError:
            return [Finding("Violation", _ontology_iri(tbox), None, "owl-consistency", "owl-consistency",
                            "The ontology itself is inconsistent.")]
        unsatisfiable = sorted(c.iri for c in world.inconsistent_classes() if c is not owlready2.Nothing)
    finally:
        world.close()
    return [
        Finding("Violation", iri, None, "owl-satisfiability", "owl-satisfiability",
                f"The class {iri} is unsatisfiable: no individual can belong to it.")
        for iri in unsatisfiable
    ]


def _consistent(graph: Graph, java: str) -> bool:
    import owlready2

    world = _load_world(graph)
    try:
        _run_hermit(world, java)
    except owlready2.OwlReadyInconsistentOntologyError:
        return False
    finally:
        world.close()
    return True


def _load_world(graph: Graph):
    """A fresh owlready2 World holding ``graph``, fed as N-Triples from a temporary file."""
    import owlready2

    with tempfile.TemporaryDirectory(prefix="mkg-owl-") as tmp:
        path = Path(tmp) / "view.nt"
        graph.serialize(destination=str(path), format="nt", encoding="utf-8")
        world = owlready2.World()
        world.get_ontology(path.as_uri()).load(format="ntriples")
    return world


def _run_hermit(world, java: str) -> None:
    import owlready2

    owlready2.JAVA_EXE = java
    try:
        owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
    except FileNotFoundError as error:
        raise CheckError(f"HermiT could not start Java ({error}); install a Java runtime (JRE 11 or newer).") from error


def _java_executable() -> str:
    import owlready2

    java = shutil.which(owlready2.JAVA_EXE) or shutil.which("java")
    if java is None:
        raise CheckError(
            "HermiT needs a Java runtime and none was found on PATH; install a JRE "
            "(for example: apt-get install default-jre-headless)."
        )
    return java


# ----------------------------------------------------------------------------------- evidence


def evidence(data: Graph) -> Report:
    """Re-check every evidence span against its document's text, and its document against its use."""
    mkg = Namespace(_data_namespace(data))
    texts = {doc: str(text) for doc, text in data.subject_objects(mkg.text)}
    findings = [f for span in sorted(data.subjects(RDF.type, mkg.EvidenceSpan), key=str)
                for f in _check_span(data, span, texts)]
    findings += _check_sources(data, mkg)
    return Report(tuple(sorted(findings, key=_severity_order)), None, ("evidence-quote", "evidence-document"))


def _check_span(data: Graph, span: Node, texts: dict[Node, str]) -> list[Finding]:
    def problem(message: str, value: str | None = None, path: str | None = None) -> Finding:
        return Finding("Violation", str(span), path, "evidence-quote", "evidence-quote", message, value)

    sources = list(data.objects(span, OA.hasSource))
    if len(sources) != 1 or sources[0] not in texts:
        return [problem("The evidence span must have exactly one oa:hasSource, a document with mkg:text.",
                        path=str(OA.hasSource))]
    text = texts[sources[0]]
    exacts = [str(o) for sel in data.objects(span, OA.hasSelector) for o in data.objects(sel, OA.exact)]
    starts = [o for sel in data.objects(span, OA.hasSelector) for o in data.objects(sel, OA.start)]
    ends = [o for sel in data.objects(span, OA.hasSelector) for o in data.objects(sel, OA.end)]
    if len(exacts) != 1 or len(starts) != 1 or len(ends) != 1:
        return [problem("The evidence span must have one quote selector (oa:exact) and one position "
                        "selector (oa:start, oa:end).", path=str(OA.hasSelector))]
    start, end = _integer(starts[0]), _integer(ends[0])
    if start is None or end is None or not 0 <= start <= end <= len(text):
        return [problem(f"The offsets [{starts[0]}, {ends[0]}) are not a span of the document text "
                        f"({len(text)} characters).", path=str(OA.start))]
    if text[start:end] != exacts[0]:
        return [problem(f"The quote differs from the document text at [{start}, {end}), which reads "
                        f"{_shorten(text[start:end])!r}.", value=exacts[0], path=str(OA.exact))]
    return []


def _check_sources(data: Graph, mkg: Namespace) -> list[Finding]:
    findings = []
    for holder, link in ((mkg.Assertion, mkg.statedIn), (mkg.NameAttestation, mkg.attestedIn),
                         (mkg.CitedSource, DCTERMS.isReferencedBy)):
        for node in sorted(data.subjects(RDF.type, holder), key=str):
            docs = set(data.objects(node, link))
            for span in sorted(data.objects(node, mkg.hasEvidence), key=str):
                for source in data.objects(span, OA.hasSource):
                    if source not in docs:
                        findings.append(Finding(
                            "Violation", str(node), str(mkg.hasEvidence), "evidence-document", "evidence-document",
                            f"The evidence {span} comes from {source}, not from the document this is "
                            f"{'stated in' if holder == mkg.Assertion else 'attested or cited in'}.",
                            str(span),
                        ))
    return findings


# ------------------------------------------------------------------------------------ helpers


def _ontology_namespace(ontology: Graph) -> str:
    for iri in ontology.subjects(RDF.type, OWL.Ontology):
        if isinstance(iri, URIRef):
            return str(iri) + "#"
    raise CheckError("the ontology graph has no owl:Ontology header; pass ontology/mkg.ttl")


def _ontology_iri(ontology: Graph) -> str:
    return _ontology_namespace(ontology)[:-1]


def _data_namespace(data: Graph) -> str:
    """The mkg namespace of a data graph: its ``mkg`` prefix, else the namespace of ``…ontology#text``."""
    for prefix, ns in data.namespaces():
        if prefix == "mkg":
            return str(ns)
    for predicate in set(data.predicates()):
        if str(predicate).endswith("ontology#text"):
            return str(predicate)[: -len("text")]
    return ""


def _doc_label(data: Graph, doc: Node) -> str:
    identifier = data.value(doc, DCTERMS.identifier)
    return str(identifier) if identifier is not None else str(doc)


def _integer(literal: Node) -> int | None:
    try:
        return int(str(literal))
    except ValueError:
        return None


def _shorten(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _severity_order(finding: Finding) -> tuple:
    rank = SEVERITIES.index(finding.severity) if finding.severity in SEVERITIES else len(SEVERITIES)
    return (rank, finding.focus, finding.path or "", finding.shape or "", finding.message)
