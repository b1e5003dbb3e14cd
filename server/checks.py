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

import os
import re
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import OWL, RDF, RDFS, XSD, BNode, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

from .vocab import PREFIXES

__all__ = [
    "CheckError",
    "Finding",
    "Report",
    "SEVERITIES",
    "SHACL_ENGINES",
    "document_view",
    "evidence",
    "merge",
    "owl",
    "reasoner_ontology_view",
    "shacl",
]

SEVERITIES = ("Violation", "Warning", "Info")
# SHACL engines behind :func:`shacl`; the first is the default and the reference.
SHACL_ENGINES = ("pyshacl", "pyrudof")

SH = Namespace(PREFIXES["sh"])
OA = Namespace(PREFIXES["oa"])
DCTERMS = Namespace(PREFIXES["dcterms"])

# Datatypes outside the OWL 2 datatype map: HermiT rejects them as ranges and as literals.
_NON_OWL2_DATATYPES = frozenset(
    {XSD.date, XSD.duration, XSD.gYear, XSD.gYearMonth, XSD.gMonth, XSD.gMonthDay, XSD.gDay, XSD.time}
)


# Documents' views are reasoned over in batches of about this many triples (one HermiT run each).
OWL_BATCH_TRIPLES = 200_000
# A document's part (what it affirms and the background it touches) is renamed apart in a batch
# only up to this many triples; a larger one goes in as it is (exact too, see _Batches).
OWL_RENAME_LIMIT = 2_000
# Renamed copies of the individuals of each document's view in a batch live under this namespace.
_VIEW_NAMESPACE = "http://view.mkg.invalid/"


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


def shacl(data: Graph, ontology: Graph, shapes: Graph, *, engine: str = "pyshacl") -> Report:
    """Validate ``data`` (with ``ontology`` merged in) against ``shapes``.

    ``engine`` is ``pyshacl`` (the reference) or ``pyrudof`` (rudof, in Rust: several times faster,
    the same results on every fixture of ``tests/shapes/``; see ``docs/validation.md``).
    """
    if engine == "pyshacl":
        return _shacl_pyshacl(data, ontology, shapes)
    if engine == "pyrudof":
        return _shacl_pyrudof(data, ontology, shapes)
    raise CheckError(f"unknown SHACL engine {engine!r}; use one of {', '.join(SHACL_ENGINES)}")


def _shacl_pyshacl(data: Graph, ontology: Graph, shapes: Graph) -> Report:
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


def _shacl_pyrudof(data: Graph, ontology: Graph, shapes: Graph) -> Report:
    """rudof's native SHACL engine (SHACL Core and SHACL-SPARQL constraints), fed N-Triples."""
    try:
        import pyrudof
    except ImportError as error:
        raise CheckError("SHACL engine pyrudof is not installed; pip install -e '.[build]'") from error

    rudof = pyrudof.Rudof(pyrudof.RudofConfig())
    text = "".join(graph.serialize(format="nt", encoding="utf-8").decode("utf-8") for graph in (data, ontology))
    rudof.read_data(text, format=pyrudof.RDFFormat.NTriples, reader_mode=pyrudof.ReaderMode.Strict)
    rudof.read_shacl(shapes.serialize(format="nt", encoding="utf-8").decode("utf-8"),
                     format=pyrudof.ShaclFormat.NTriples, reader_mode=pyrudof.ReaderMode.Strict)
    report = rudof.validate_shacl(mode=pyrudof.ShaclValidationMode.Native)
    findings = tuple(sorted((_rudof_finding(shapes, entry) for entry in report), key=_severity_order))
    results = Graph().parse(
        data=rudof.serialize_shacl_validation_results(pyrudof.ResultShaclValidationFormat.Turtle), format="turtle")
    # rudof also writes the results of nested shapes (sh:or, sh:not, sh:node) that no sh:result
    # lists; the report keeps the listed ones, which are the findings
    listed = set(results.objects(None, SH.result))
    for stray in set(results.subjects(SH.resultSeverity, None)) - listed:
        results.remove((stray, None, None))
    results.bind("sh", SH)
    return Report(findings, results, _shape_names(shapes))


def _rudof_finding(shapes: Graph, entry) -> Finding:
    """A rudof result as a Finding, named as pySHACL names it: the path as rendered from the
    shapes graph, the named SPARQL constraint as component, the shape's ``sh:message``."""
    shape = _rudof_node(entry.source_shape)
    component = str(entry.constraint_component)
    messages = list(shapes.objects(shape, SH.message)) if shape is not None else []
    if component == str(SH.SPARQLConstraintComponent) and shape is not None:
        constraints = list(shapes.objects(shape, SH.sparql))
        given = _rudof_literals(entry.message)
        named = [c for c in constraints if {str(m) for m in shapes.objects(c, SH.message)} & given]
        if len(named) == 1 or len(constraints) == 1:
            constraint = (named or constraints)[0]
            component = _node_name(constraint) or component
            messages = list(shapes.objects(constraint, SH.message))
    path = None
    if entry.path is not None:
        declared = shapes.value(shape, SH.path) if shape is not None else None
        path = _render_path(shapes, declared) if declared is not None else str(entry.path)
    message = str(messages[0]) if messages else "; ".join(sorted(_rudof_literals(entry.message)))
    value = entry.value
    return Finding(
        severity=str(entry.severity).rsplit("#", 1)[-1],
        focus=str(entry.focus_node),
        path=path,
        shape=_node_name(shape) if shape is not None else None,
        component=component,
        message=message,
        value=None if value is None else _rudof_lexical(str(value)),
    )


def _rudof_node(text) -> Node | None:
    if text is None:
        return None
    text = str(text)
    return BNode(text[2:]) if text.startswith("_:") else URIRef(text)


def _rudof_literals(text) -> set[str]:
    """The lexical forms of the comma-separated literals of a rudof message."""
    if text is None:
        return set()
    return {_unescape(m) for m in re.findall(r'"((?:[^"\\]|\\.)*)"', str(text))}


def _rudof_lexical(text: str) -> str:
    """A value as pySHACL's str() gives it: the lexical form of a literal, the IRI of an IRI."""
    match = re.fullmatch(r'"((?:[^"\\]|\\.)*)"(?:@[A-Za-z0-9-]+|\^\^\S+)?', text, flags=re.DOTALL)
    if match is None:
        return text[1:-1] if text.startswith("<") and text.endswith(">") else text
    return _unescape(match[1])


_ESCAPES = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'", "\\": "\\"}


def _unescape(text: str) -> str:
    """N-Triples string escapes (ECHAR and UCHAR) undone."""
    def one(match: re.Match) -> str:
        code = match[1]
        return chr(int(code[1:], 16)) if code[0] in "uU" else _ESCAPES.get(code, code)

    return re.sub(r"\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)", one, text)


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


def owl(ontology: Graph, data: Graph, *, check_ontology: bool = True,
        batch_triples: int = OWL_BATCH_TRIPLES) -> Report:
    """HermiT on the ontology alone (unless ``check_ontology`` is false), then on the view of every
    source document of ``data`` (:func:`document_view`), with exactly the per-document verdicts of
    one HermiT run per view.

    The views are not reasoned over one by one (a JVM start each, about 2 s): they are checked
    together in batches of about ``batch_triples`` triples, one HermiT run per batch, in which every
    document has its own renamed copy of the individuals it involves (:func:`_batch_lines`), so two
    documents that disagree never make a batch inconsistent. A consistent batch proves every view in
    it consistent; an inconsistent batch is bisected, and a document is reported only when its own
    view, checked alone, is inconsistent.

    :raises CheckError: when no Java runtime is available, or HermiT fails.
    """
    java = _java_executable()
    mkg = Namespace(_ontology_namespace(ontology))
    tbox = reasoner_ontology_view(ontology)
    views = _Views(data, ontology, tbox)
    docs = sorted(data.subjects(RDF.type, mkg.SourceDocument), key=str)
    with ThreadPoolExecutor(max_workers=_reasoner_workers()) as pool:
        ontology_check = pool.submit(_check_ontology, tbox, java) if check_ontology else None
        failing = _Batches(views, tbox, java, pool, batch_triples).inconsistent(docs)
        findings = ontology_check.result() if ontology_check is not None else []
    for doc in failing:
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
    return _Views(data, ontology).full(doc)


class _Views:
    """The parts of every document's view, computed in one pass over the data.

    A view is ``affirmed[doc] ∪ background ∪ types``. For batching, the individuals that the
    reasoner's ontology does not name (``renameable``) are split into the connected components of
    the background; a document's *part* is what it affirms plus the background components that its
    affirmed triples touch. Since components share no renameable individual, the view of ``doc``
    is, up to renaming those individuals, the background plus a renamed copy of its part.
    """

    def __init__(self, data: Graph, ontology: Graph, tbox: Graph | None = None):
        mkg = Namespace(_ontology_namespace(ontology))
        self.data = data
        object_properties = set(ontology.subjects(RDF.type, OWL.ObjectProperty)) | {OWL.differentFrom, OWL.sameAs}
        stated: set[tuple[Node, Node, Node]] = set()
        self.affirmed: dict[Node, set[tuple[Node, Node, Node]]] = {}
        for a in data.subjects(RDF.type, mkg.Assertion):
            triple = (data.value(a, mkg.assertedSubject), data.value(a, mkg.assertedPredicate),
                      data.value(a, mkg.assertedObject))
            if not all(isinstance(t, URIRef) for t in triple):
                continue
            stated.add(triple)
            if (triple[1] in object_properties and (a, mkg.polarity, mkg.Affirmed) in data
                    and (a, mkg.epistemicStatus, mkg.UserGenerated) not in data):
                for doc in data.objects(a, mkg.statedIn):
                    self.affirmed.setdefault(doc, set()).add(triple)
        layer_types = {mkg.Assertion, mkg.EvidenceSpan, mkg.NameAttestation, mkg.SourceDocument,
                       mkg.DocumentSegment, mkg.CitedSource}
        layer = {s for t in layer_types for s in data.subjects(RDF.type, t)}
        self.background = sorted(
            (s, p, o) for p in object_properties for s, o in data.subject_objects(p)
            if isinstance(s, URIRef) and isinstance(o, URIRef) and s not in layer and o not in layer
            and (s, p, o) not in stated
        )
        self._types: dict[Node, tuple[Node, ...]] = {}
        self.tbox_names = set() if tbox is None else _names(tbox)
        self._components: dict[Node, list[tuple[Node, Node, Node]]] | None = None
        self._root: dict[Node, Node] = {}

    def types(self, node: Node) -> tuple[Node, ...]:
        known = self._types.get(node)
        if known is None:
            known = self._types[node] = tuple(self.data.objects(node, RDF.type))
        return known

    def full(self, doc: Node) -> Graph:
        """The view of ``doc`` as :func:`document_view` defines it."""
        view = Graph()
        for triple in self.affirmed.get(doc, ()):
            view.add(triple)
        for triple in self.background:
            view.add(triple)
        for node in {n for s, _, o in view for n in (s, o) if isinstance(n, URIRef)}:
            for cls in self.types(node):
                view.add((node, RDF.type, cls))
        return view

    def renameable(self, node: Node) -> bool:
        return isinstance(node, URIRef) and node not in self.tbox_names

    def _find(self, node: Node) -> Node:
        root = node
        while self._root.get(root, root) != root:
            root = self._root[root]
        while node != root:  # path compression
            node, self._root[node] = self._root[node], root
        return root

    def components(self) -> dict[Node, list[tuple[Node, Node, Node]]]:
        """Background triples by the component of their renameable individuals (union-find)."""
        if self._components is None:
            for s, _, o in self.background:
                if self.renameable(s) and self.renameable(o):
                    a, b = self._find(s), self._find(o)
                    if a != b:
                        self._root[a] = b
            self._components = {}
            for s, p, o in self.background:
                node = s if self.renameable(s) else o if self.renameable(o) else None
                if node is not None:
                    self._components.setdefault(self._find(node), []).append((s, p, o))
        return self._components

    def part(self, doc: Node) -> list[tuple[Node, Node, Node]]:
        """What ``doc`` affirms plus the background components its affirmed triples touch."""
        affirmed = self.affirmed.get(doc, set())
        components = self.components()
        roots = {self._find(n) for s, _, o in affirmed for n in (s, o) if self.renameable(n)}
        triples = set(affirmed)
        for root in roots:
            triples.update(components.get(root, ()))
        return sorted(triples)


def _names(graph: Graph) -> set[Node]:
    return {n for triple in graph for n in triple if isinstance(n, URIRef)}


def _nt(node: Node) -> str:
    return node.n3() if isinstance(node, (URIRef, BNode, Literal)) else f"<{node}>"


class _Batches:
    """HermiT runs over batches of document views, bisected on inconsistency (see :func:`owl`).

    A batch is the reasoner's ontology, the background with its types, and for each document
    either a renamed copy of its part (:meth:`_Views.part`) or, when that part is large, its
    affirmed triples as they are. Either way the batch contains every view of its documents up to
    a renaming of individuals, so a consistent batch proves them all consistent. Documents that go
    in as they are can still disagree with each other: that costs more runs (bisection), never a
    wrong verdict, because a document is reported only when its own view is inconsistent.
    """

    def __init__(self, views: _Views, tbox: Graph, java: str, pool: ThreadPoolExecutor, batch_triples: int):
        self.views, self.java, self.pool, self.batch_triples = views, java, pool, batch_triples
        self.tbox_nt = tbox.serialize(format="nt", encoding="utf-8").decode("utf-8")
        background = Graph()
        for triple in views.background:
            background.add(triple)
        for node in {n for s, _, o in views.background for n in (s, o)}:
            for cls in views.types(node):
                background.add((node, RDF.type, cls))
        self.background_nt = background.serialize(format="nt", encoding="utf-8").decode("utf-8")
        self._parts: dict[Node, list[tuple[Node, Node, Node]]] = {}
        self._renamed: dict[Node, bool] = {}

    def part(self, doc: Node) -> list[tuple[Node, Node, Node]]:
        """What the batch holds for ``doc``: its part renamed apart when that part is small enough
        (:data:`OWL_RENAME_LIMIT`), else what it affirms, as it is."""
        if doc not in self._parts:
            part = self.views.part(doc)
            self._renamed[doc] = len(part) <= OWL_RENAME_LIMIT
            self._parts[doc] = part if self._renamed[doc] else sorted(self.views.affirmed.get(doc, ()))
        return self._parts[doc]

    def inconsistent(self, docs: list[Node]) -> list[Node]:
        """The documents whose own view is inconsistent, in the order of ``docs``."""
        # a document that affirms nothing has the background alone as its view: checked with
        # every batch, and on its own when a batch fails
        everyone = docs
        docs = [d for d in docs if self.part(d)]
        batches, batch, size = [], [], 0
        for doc in docs:
            if batch and size + len(self.part(doc)) > self.batch_triples:
                batches.append(batch)
                batch, size = [], 0
            batch.append(doc)
            size += len(self.part(doc))
        if batch:
            batches.append(batch)
        verdicts = list(self.pool.map(self._consistent_batch, batches))
        if all(verdicts):
            return []
        if not _hermit_consistent(self.tbox_nt + self.background_nt, self.java):
            return everyone  # every view holds the whole background: all are inconsistent
        return [d for batch, ok in zip(batches, verdicts) if not ok for d in self._bisect(batch)]

    def _bisect(self, batch: list[Node]) -> list[Node]:
        """``batch`` is inconsistent: the documents of it whose view alone is inconsistent."""
        if len(batch) == 1:
            view = self.views.full(batch[0]).serialize(format="nt", encoding="utf-8").decode("utf-8")
            return [] if _hermit_consistent(self.tbox_nt + view, self.java) else batch
        half = len(batch) // 2
        left, right = batch[:half], batch[half:]
        verdicts = list(self.pool.map(self._consistent_batch, (left, right)))
        return [d for sub, ok in zip((left, right), verdicts) if not ok for d in self._bisect(sub)]

    def _consistent_batch(self, batch: list[Node]) -> bool:
        return _hermit_consistent(self.tbox_nt + self.background_nt + "".join(self._batch_lines(batch)), self.java)

    def _batch_lines(self, batch: list[Node]):
        """Each document's part with its renameable individuals renamed apart, and their types."""
        for n, doc in enumerate(batch):
            names: dict[Node, str] = {}

            part = self.part(doc)
            renamed = self._renamed[doc]

            def name(node: Node) -> str:
                if not renamed or not self.views.renameable(node):
                    return _nt(node)
                if node not in names:
                    names[node] = f"<{_VIEW_NAMESPACE}{n}/{len(names)}>"
                return names[node]

            involved = set()
            for s, p, o in part:
                involved.update((s, o))
                yield f"{name(s)} {_nt(p)} {name(o)} .\n"
            for node in involved:
                for cls in self.views.types(node):
                    yield f"{name(node)} {_nt(RDF.type)} {_nt(cls)} .\n"


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


def _hermit_consistent(ntriples: str, java: str) -> bool:
    """Whether the N-Triples text is consistent: one HermiT run (``-k``: is owl:Thing satisfiable),
    without owlready2's classification and realization of every individual."""
    import owlready2

    hermit = Path(owlready2.__file__).parent / "hermit"
    memory = getattr(owlready2.reasoning, "JAVA_MEMORY", 2000)
    with tempfile.TemporaryDirectory(prefix="mkg-owl-") as tmp:
        path = Path(tmp) / "batch.nt"
        path.write_text(ntriples, encoding="utf-8")
        command = [java, f"-Xmx{memory}M", "-cp", f"{hermit}{os.pathsep}{hermit / 'HermiT.jar'}",
                   "org.semanticweb.HermiT.cli.CommandLine", "-k", path.as_uri()]
        try:
            done = subprocess.run(command, capture_output=True, text=True, check=False)
        except FileNotFoundError as error:
            raise CheckError(f"HermiT could not start Java ({error}); install a Java runtime (JRE 11 or newer).") from error
    output = done.stdout + done.stderr
    if "InconsistentOntologyException" in output:
        return False
    if done.returncode == 0 and "is satisfiable" in done.stdout:
        return True
    raise CheckError(f"HermiT failed (exit code {done.returncode}): {_shorten(output, 400)}")


def _reasoner_workers() -> int:
    """HermiT runs at once: one per core, at most four (each JVM may take 2 GB)."""
    return max(1, min(4, os.cpu_count() or 1))


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
