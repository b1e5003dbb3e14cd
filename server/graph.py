"""Build tier: the pure core. Curated records become an ``rdflib.Graph``.

No file, network or clock access: the corpus, the ontology's term table and the IRI scheme are
passed in. Output is deterministic (IRIs minted from ids, no blank nodes). Meaning problems (an
unknown entity, an undefined predicate, a value of the wrong kind) are collected with the file
and line of the record and raised once as :class:`~server.sources.SourceErrors`.

May import: rdflib, ``vocab``, ``sources`` dataclasses.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from rdflib import OWL, RDF, RDFS, SKOS, XSD, Graph, Literal, Namespace, URIRef

from .sources import AssertionRecord, Annotation, Corpus, Entity, Problem, SourceErrors, Span
from .vocab import PREFIXES, Iris

__all__ = ["Terms", "build_graph", "terms_of"]

DCTERMS = Namespace(PREFIXES["dcterms"])
OA = Namespace(PREFIXES["oa"])
PROV = Namespace(PREFIXES["prov"])
SKOSXL = Namespace(PREFIXES["skosxl"])
ORG = Namespace(PREFIXES["org"])

_CONTEXT_CHARS = 32
# Predicates from reused vocabularies that curators may use without the ontology redeclaring them.
_EXTERNAL_OBJECT_PREDICATES = {
    "owl:differentFrom", "org:holds", "org:postIn", "org:role", "org:heldBy", "skos:exactMatch",
    "skos:closeMatch", "skos:broader", "skos:related",
}
_LINK_TARGETS = {"wikidata": "http://www.wikidata.org/entity/", "geonames": "https://sws.geonames.org/"}


@dataclass(frozen=True)
class Terms:
    """What the ontology declares, as the build needs it."""

    classes: frozenset[str]
    object_properties: frozenset[str]
    datatype_properties: frozenset[str]
    individuals: frozenset[str]
    ranges: dict[str, str]


def terms_of(ontology: Graph) -> Terms:
    """Read the term table of an ontology graph."""

    def typed(*types: URIRef) -> frozenset[str]:
        return frozenset(str(s) for t in types for s in ontology.subjects(RDF.type, t) if isinstance(s, URIRef))

    classes = typed(OWL.Class, RDFS.Class)
    individuals = typed(SKOS.Concept, OWL.NamedIndividual, SKOS.ConceptScheme, ORG.Role)
    ranges = {str(p): str(r) for p, r in ontology.subject_objects(RDFS.range) if isinstance(r, URIRef)}
    return Terms(classes, typed(OWL.ObjectProperty), typed(OWL.DatatypeProperty), individuals, ranges)


class _Builder:
    def __init__(self, corpus: Corpus, terms: Terms, iris: Iris):
        self.corpus, self.terms, self.iris = corpus, terms, iris
        self.mkg = Namespace(iris.mkg)
        self.g = Graph()
        for prefix, ns in PREFIXES.items():
            self.g.bind(prefix, ns)
        self.g.bind("mkg", iris.mkg)
        self.problems: list[Problem] = []
        self.entities: dict[str, Entity] = {e.id: e for e in corpus.entities}
        self.curation = URIRef(iris.mint("curation", "mkg-curators"))

    # -- helpers ---------------------------------------------------------------------------

    def fail(self, path: str, line: int | None, message: str) -> None:
        self.problems.append(Problem(path, line, message))

    def add(self, s, p, o) -> None:
        self.g.add((s, p, o))

    def term(self, name: str, path: str, line: int, what: str, known: frozenset[str] | None = None) -> URIRef | None:
        """Expand ``Name`` (mkg:) or ``prefix:Name`` and check the ontology declares it."""
        if ":" in name:
            prefix, _, local = name.partition(":")
            if prefix == "mkg":
                iri = self.iris.mkg + local
            elif prefix in PREFIXES:
                iri = PREFIXES[prefix] + local
                if name in _EXTERNAL_OBJECT_PREDICATES and known is not self.terms.individuals:
                    return URIRef(iri)
            else:
                self.fail(path, line, f"unknown prefix in {what} {name!r}; use an mkg term or one of {', '.join(sorted(PREFIXES))}")
                return None
        else:
            iri = self.iris.mkg + name
        pool = known if known is not None else (
            self.terms.classes | self.terms.object_properties | self.terms.datatype_properties | self.terms.individuals
        )
        if iri not in pool:
            self.fail(path, line, f"{what} {name!r} is not defined in the ontology; use a defined term or add it to ontology/mkg.ttl")
            return None
        return URIRef(iri)

    def entity(self, entity_id: str | None, path: str, line: int, what: str) -> URIRef | None:
        if entity_id is None:
            return None
        if entity_id not in self.entities:
            self.fail(path, line, f"unknown entity {entity_id!r} as {what}; define it in data/entities/*.yaml or fix the id")
            return None
        return URIRef(self.iris.entity(entity_id))

    def concept(self, name: str, path: str, line: int, what: str) -> URIRef | None:
        return self.term(name, path, line, what, self.terms.individuals)

    # -- entities --------------------------------------------------------------------------

    def build_entities(self) -> None:
        for e in sorted(self.entities.values(), key=lambda e: e.id):
            kind = e.id.split("/", 1)[0]
            if kind not in {"person", "org", "event", "place", "actor", "post", "role"}:
                self.fail(e.where.path, e.where.line, f"entity kind {kind!r} is not one of person, org, event, place, actor, post, role")
                continue
            iri = URIRef(self.iris.entity(e.id))
            cls = self.term(e.type, e.where.path, e.where.line, "entity type", self.terms.classes)
            if cls is not None:
                self.add(iri, RDF.type, cls)
            self.add(iri, SKOS.prefLabel, Literal(e.label, lang="en"))
            self.add(iri, RDFS.label, Literal(e.label, lang="en"))
            if e.definition:
                self.add(iri, SKOS.definition, Literal(e.definition, lang="en"))
            for predicate, value, line in e.facts:
                self.entity_fact(e, iri, predicate, value, line)
            for target, ident, verified_in, line in e.links:
                self.link(e, iri, target, ident, verified_in, line)

    def entity_fact(self, e: Entity, iri: URIRef, predicate: str, value: str, line: int) -> None:
        p = self.term(predicate, e.where.path, line, "predicate", self.terms.object_properties)
        if p is None:
            return
        if value in self.entities:
            o = URIRef(self.iris.entity(value))
        else:
            o = self.concept(value, e.where.path, line, f"value of {predicate}")
        if o is not None:
            self.add(iri, p, o)

    def link(self, e: Entity, iri: URIRef, target: str, ident: str, verified_in: str, line: int) -> None:
        if target not in _LINK_TARGETS:
            self.fail(e.where.path, line, f"unknown link target {target!r}; use wikidata or geonames")
            return
        external = URIRef(_LINK_TARGETS[target] + ident + ("/" if target == "geonames" else ""))
        self.add(iri, SKOS.exactMatch, external)
        record = URIRef(self.iris.mint("curation", f"link-{e.id.replace('/', '-')}-{target}-{ident}"))
        self.add(record, RDF.type, PROV.Entity)
        self.add(record, RDFS.label, Literal(f"Verification of the link from {e.label} to {target} {ident}", lang="en"))
        self.add(record, DCTERMS.subject, iri)
        self.add(record, DCTERMS.references, external)
        self.add(record, RDFS.comment, Literal(f"Verified in: {verified_in}", lang="en"))
        self.add(record, PROV.wasAttributedTo, self.curation)

    # -- documents -------------------------------------------------------------------------

    def doc_iri(self, docid: str) -> URIRef:
        return URIRef(self.iris.mint("doc", docid))

    def build_documents(self) -> None:
        for d in self.corpus.documents:
            doc = self.doc_iri(d.id)
            self.add(doc, RDF.type, self.mkg.SourceDocument)
            self.add(doc, DCTERMS.identifier, Literal(d.id))
            self.add(doc, self.mkg.text, Literal(d.text))
            self.add(doc, self.mkg.sha256, Literal(d.sha256))
            self.add(doc, self.mkg.charCount, Literal(len(d.text), datatype=XSD.nonNegativeInteger))
            self.add(doc, RDFS.label, Literal(f"Document {d.id}", lang="en"))

    def build_annotation(self, a: Annotation) -> None:
        docid, path = a.document.id, a.path
        doc = self.doc_iri(docid)
        meta = a.meta
        if meta.title is not None:
            self.g.remove((doc, RDFS.label, None))
            self.add(doc, DCTERMS.title, Literal(meta.title.exact, lang="en"))
            self.add(doc, RDFS.label, Literal(meta.title.exact, lang="en"))
        if meta.issued is not None:
            ts = URIRef(self.iris.mint("time", f"{docid}-issued"))
            if self.timespec(ts, meta.issued, path, meta.where.line):
                self.add(doc, self.mkg.issuedTimeSpec, ts)
                earliest, latest = meta.issued.get("earliest"), meta.issued.get("latest")
                if earliest is not None and earliest == latest:
                    self.add(doc, DCTERMS.issued, Literal(earliest, datatype=XSD.date))
        if meta.date_reasoning:
            self.add(doc, self.mkg.dateReasoning, Literal(meta.date_reasoning, lang="en"))
        for predicate, value in ((DCTERMS.publisher, meta.publisher), (DCTERMS.creator, meta.creator)):
            o = self.entity(value, path, meta.where.line, "document publisher/creator")
            if o is not None:
                self.add(doc, predicate, o)
        if meta.part_of:
            self.add(doc, DCTERMS.bibliographicCitation, Literal(meta.part_of))
        self.add(doc, DCTERMS.language, Literal(meta.language))
        segments = self.build_segments(a, doc)
        cites = self.build_citations(a, doc, segments)
        self.build_names(a, doc, segments)
        local_ids = {r.id for r in a.assertions}
        for record in a.assertions:
            self.build_assertion(a, record, doc, segments, cites, local_ids)

    def build_segments(self, a: Annotation, doc: URIRef) -> list[tuple[Span, URIRef, str]]:
        out = []
        for s in a.segments:
            iri = URIRef(self.iris.mint("segment", f"{a.document.id}-{s.id}"))
            self.add(iri, RDF.type, self.mkg.DocumentSegment)
            self.add(iri, RDFS.label, Literal(f"{s.kind} of {a.document.id} ({s.id})", lang="en"))
            self.add(iri, DCTERMS.isPartOf, doc)
            kind = self.concept(s.kind, a.path, s.where.line, "segment kind")
            if kind is not None:
                self.add(iri, self.mkg.segmentKind, kind)
            self.add(iri, OA.start, Literal(s.span.start, datatype=XSD.nonNegativeInteger))
            self.add(iri, OA.end, Literal(s.span.end, datatype=XSD.nonNegativeInteger))
            author = self.entity(s.author, a.path, s.where.line, "segment author")
            if author is not None:
                self.add(iri, DCTERMS.creator, author)
            out.append((s.span, iri, s.kind))
        return out

    def build_citations(self, a: Annotation, doc: URIRef, segments) -> dict[str, URIRef]:
        out = {}
        for c in a.citations:
            iri = URIRef(self.iris.mint("source", f"{a.document.id}-{c.id}"))
            self.add(iri, RDF.type, self.mkg.CitedSource)
            self.add(iri, RDFS.label, Literal(c.span.exact, lang="en"))
            self.add(iri, DCTERMS.bibliographicCitation, Literal(c.span.exact))
            self.add(iri, DCTERMS.isReferencedBy, doc)
            self.add(iri, self.mkg.hasEvidence, self.evidence(a, c.span, segments))
            publisher = self.entity(c.publisher, a.path, c.where.line, "citation publisher")
            if publisher is not None:
                self.add(iri, DCTERMS.publisher, publisher)
            if c.date is not None:
                self.add(iri, DCTERMS.date, Literal(c.date, datatype=XSD.date))
            out[c.id] = iri
        return out

    def build_names(self, a: Annotation, doc: URIRef, segments) -> None:
        for n, name in enumerate(a.names, start=1):
            entity = self.entity(name.entity, a.path, name.where.line, "named entity")
            kind = self.concept(name.kind, a.path, name.where.line, "name kind")
            if entity is None or kind is None:
                continue
            iri = URIRef(self.iris.mint("name", f"{a.document.id}-{n}"))
            self.add(iri, RDF.type, self.mkg.NameAttestation)
            self.add(iri, RDFS.label, Literal(f"{name.form} (in {a.document.id})", lang="en"))
            self.add(iri, SKOSXL.literalForm, Literal(name.form, lang="en"))
            self.add(iri, self.mkg.attestedIn, doc)
            self.add(iri, self.mkg.nameKind, kind)
            self.add(iri, self.mkg.hasEvidence, self.evidence(a, name.span, segments))
            self.add(entity, SKOSXL.altLabel, iri)
            if name.form != self.entities[name.entity].label:
                self.add(entity, SKOS.altLabel, Literal(name.form, lang="en"))

    def evidence(self, a: Annotation, span: Span, segments) -> URIRef:
        text = a.document.text
        iri = URIRef(self.iris.mint("evidence", f"{a.document.id}-{span.start}-{span.end}"))
        quote, position = URIRef(f"{iri}#quote"), URIRef(f"{iri}#position")
        self.add(iri, RDF.type, self.mkg.EvidenceSpan)
        self.add(iri, RDF.type, OA.SpecificResource)
        self.add(iri, RDFS.label, Literal(_shorten(span.exact), lang="en"))
        self.add(iri, OA.hasSource, self.doc_iri(a.document.id))
        self.add(iri, OA.hasSelector, quote)
        self.add(iri, OA.hasSelector, position)
        self.add(quote, RDF.type, OA.TextQuoteSelector)
        self.add(quote, OA.exact, Literal(span.exact))
        self.add(quote, OA.prefix, Literal(text[max(0, span.start - _CONTEXT_CHARS) : span.start]))
        self.add(quote, OA.suffix, Literal(text[span.end : span.end + _CONTEXT_CHARS]))
        self.add(position, RDF.type, OA.TextPositionSelector)
        self.add(position, OA.start, Literal(span.start, datatype=XSD.nonNegativeInteger))
        self.add(position, OA.end, Literal(span.end, datatype=XSD.nonNegativeInteger))
        for seg_span, seg_iri, _ in segments:
            if seg_span.start <= span.start and span.end <= seg_span.end:
                self.add(iri, self.mkg.inSegment, seg_iri)
        return iri

    # -- assertions ------------------------------------------------------------------------

    def ref(self, a: Annotation, ref: str, local_ids: set[str], line: int) -> URIRef | None:
        """An assertion reference: ``aid`` in this file or ``docid/aid``."""
        docid, sep, aid = ref.rpartition("/")
        if not sep:
            docid, aid = a.document.id, ref
            if aid not in local_ids:
                self.fail(a.path, line, f"no assertion {ref!r} in this file")
                return None
        elif docid not in self.assertion_ids:
            self.fail(a.path, line, f"no annotation file for document {docid!r} in reference {ref!r}")
            return None
        elif aid not in self.assertion_ids[docid]:
            self.fail(a.path, line, f"no assertion {aid!r} in document {docid!r} (reference {ref!r})")
            return None
        return URIRef(self.iris.mint("assertion", f"{docid}-{aid}"))

    def build_assertion(self, a: Annotation, r: AssertionRecord, doc: URIRef, segments, cites, local_ids) -> None:
        path, line, docid = a.path, r.where.line, a.document.id
        iri = URIRef(self.iris.mint("assertion", f"{docid}-{r.id}"))
        subject = self.entity(r.subject, path, line, "subject")
        predicate = self.term(r.predicate, path, line, "predicate",
                              self.terms.object_properties | self.terms.datatype_properties)
        status = self.concept(r.status, path, line, "epistemic status")
        polarity = self.concept(r.polarity, path, line, "polarity")
        obj = self.assertion_object(a, r, predicate)
        if None in (subject, predicate, status, polarity) or obj is None:
            return
        self.add(iri, RDF.type, self.mkg.Assertion)
        self.add(iri, RDFS.label, Literal(f"{docid} {r.id}: {r.subject} {r.predicate}", lang="en"))
        self.add(iri, self.mkg.assertedSubject, subject)
        self.add(iri, self.mkg.assertedPredicate, predicate)
        self.add(iri, self.mkg.assertedObject if isinstance(obj, URIRef) else self.mkg.assertedValue, obj)
        self.add(iri, self.mkg.statedIn, doc)
        self.add(iri, self.mkg.epistemicStatus, status)
        self.add(iri, self.mkg.polarity, polarity)
        self.add(iri, PROV.wasAttributedTo, self.curation)
        claimant = self.entity(r.claimant, path, line, "claimant")
        if claimant is not None:
            self.add(iri, self.mkg.claimant, claimant)
        for span in r.evidence:
            self.add(iri, self.mkg.hasEvidence, self.evidence(a, span, segments))
        for cite in r.cites:
            if cite not in cites:
                self.fail(path, line, f"unknown citation {cite!r}; list it under 'citations' in this file")
            else:
                self.add(iri, self.mkg.citesSource, cites[cite])
        if r.valid_as_of is not None:
            self.add(iri, self.mkg.validAsOf, Literal(r.valid_as_of, datatype=XSD.date))
        if r.confidence is not None:
            self.add(iri, self.mkg.confidence, Literal(Decimal(str(r.confidence)), datatype=XSD.decimal))
        if r.note:
            self.add(iri, RDFS.comment, Literal(r.note, lang="en"))
        for refs, prop, symmetric in ((r.corroborates, self.mkg.corroborates, True),
                                      (r.contradicts, self.mkg.contradicts, True),
                                      (r.derived_from, self.mkg.derivedFromAssertion, False)):
            for ref in refs:
                other = self.ref(a, ref, local_ids, line)
                if other is not None:
                    self.add(iri, prop, other)
                    if symmetric:
                        self.add(other, prop, iri)
        # the derived ("truthy") layer: what the document affirms, minus reader comments
        if r.polarity == "Affirmed" and r.status != "UserGenerated" and isinstance(obj, URIRef):
            self.add(subject, predicate, obj)

    def assertion_object(self, a: Annotation, r: AssertionRecord, predicate: URIRef | None):
        path, line, docid = a.path, r.where.line, a.document.id
        is_datatype = predicate is not None and str(predicate) in self.terms.datatype_properties
        if r.value is not None:
            if predicate is not None and not is_datatype:
                self.fail(path, line, f"{r.predicate!r} relates things; give 'object' (an entity id), not 'value'")
                return None
            return _literal(r.value)
        if predicate is not None and is_datatype and r.object is not None:
            self.fail(path, line, f"{r.predicate!r} takes a literal; give 'value', not 'object'")
            return None
        if r.object is not None:
            if r.object in self.entities:
                return URIRef(self.iris.entity(r.object))
            if ":" not in r.object and "/" not in r.object:
                return self.concept(r.object, path, line, "object")
            return self.entity(r.object, path, line, "object")
        if r.time is not None:
            iri = URIRef(self.iris.mint("time", f"{docid}-{r.id}"))
            return iri if self.timespec(iri, r.time, path, line) else None
        spec, is_money = (r.money, True) if r.money is not None else (r.quantity, False)
        iri = URIRef(self.iris.mint("quantity", f"{docid}-{r.id}"))
        return iri if self.quantity(iri, spec, is_money, a, path, line) else None

    def timespec(self, iri: URIRef, spec: dict, path: str, line: int) -> bool:
        allowed = {"earliest", "latest", "latest_start", "earliest_end", "precision", "expressed", "edtf", "year_source", "reasoning"}
        unknown = set(spec) - allowed
        if unknown:
            self.fail(path, line, f"unknown time keys {sorted(unknown)}; allowed: {', '.join(sorted(allowed))}")
            return False
        if "expressed" not in spec or "precision" not in spec:
            self.fail(path, line, "a time needs 'expressed' (the words of the text) and 'precision'")
            return False
        self.add(iri, RDF.type, self.mkg.TimeSpec)
        self.add(iri, RDFS.label, Literal(str(spec["expressed"]), lang="en"))
        for key, prop in (("earliest", "earliestStart"), ("latest_start", "latestStart"),
                          ("earliest_end", "earliestEnd"), ("latest", "latestEnd")):
            if isinstance(spec.get(key), dt.date):
                self.add(iri, self.mkg[prop], Literal(spec[key], datatype=XSD.date))
        self.add(iri, self.mkg.asExpressed, Literal(str(spec["expressed"])))
        if spec.get("edtf"):
            self.add(iri, self.mkg.edtf, Literal(str(spec["edtf"])))
        if spec.get("reasoning"):
            self.add(iri, self.mkg.dateReasoning, Literal(str(spec["reasoning"]), lang="en"))
        for key, prop, what in (("precision", "precision", "date precision"), ("year_source", "yearSource", "year source")):
            if key in spec:
                concept = self.concept(str(spec[key]), path, line, what)
                if concept is None:
                    return False
                self.add(iri, self.mkg[prop], concept)
        return True

    def quantity(self, iri: URIRef, spec: dict, is_money: bool, a: Annotation, path: str, line: int) -> bool:
        allowed = {"min", "max", "min_exclusive", "max_exclusive", "point", "approximate", "unit",
                   "currency", "vague", "expressed", "equivalent_of"}
        unknown = set(spec) - allowed
        if unknown:
            self.fail(path, line, f"unknown quantity keys {sorted(unknown)}; allowed: {', '.join(sorted(allowed))}")
            return False
        if "expressed" not in spec:
            self.fail(path, line, "a quantity needs 'expressed' (the words of the text)")
            return False
        self.add(iri, RDF.type, self.mkg.MonetaryAmount if is_money else self.mkg.QuantitySpec)
        self.add(iri, RDFS.label, Literal(str(spec["expressed"]), lang="en"))
        self.add(iri, self.mkg.asExpressed, Literal(str(spec["expressed"])))
        for key, prop in (("min", "minInclusive"), ("max", "maxInclusive"), ("min_exclusive", "minExclusive"),
                          ("max_exclusive", "maxExclusive"), ("point", "pointValue")):
            if key in spec:
                value = spec[key]
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    self.fail(path, line, f"quantity '{key}' must be a number, got {value!r}")
                    return False
                self.add(iri, self.mkg[prop], Literal(Decimal(str(value)), datatype=XSD.decimal))
        if "approximate" in spec:
            self.add(iri, self.mkg.approximate, Literal(bool(spec["approximate"])))
        unit = spec.get("currency") if is_money else spec.get("unit")
        if unit:
            self.add(iri, self.mkg.unitCode, Literal(str(unit)))
        if spec.get("vague"):
            self.add(iri, self.mkg.vagueQuantifier, Literal(str(spec["vague"])))
        if spec.get("equivalent_of"):
            ref = str(spec["equivalent_of"])
            if ref not in {r.id for r in a.assertions}:
                self.fail(path, line, f"equivalent_of {ref!r} is not an assertion of this file")
                return False
            self.add(iri, self.mkg.statedEquivalentOf, URIRef(self.iris.mint("quantity", f"{a.document.id}-{ref}")))
        return True

    def build_retired(self) -> None:
        for r in self.corpus.retired:
            iri = URIRef(self.iris.entity(r.id))
            if r.id in self.entities:
                self.fail(r.where.path, r.where.line, f"{r.id!r} is retired but still defined as an entity; remove one of them")
                continue
            self.add(iri, OWL.deprecated, Literal(True))
            self.add(iri, RDFS.comment, Literal(r.reason, lang="en"))
            if r.replaced_by:
                target = self.entity(r.replaced_by, r.where.path, r.where.line, "replacement")
                if target is not None:
                    self.add(iri, DCTERMS.isReplacedBy, target)

    def build(self) -> Graph:
        self.assertion_ids = {a.document.id: {r.id for r in a.assertions} for a in self.corpus.annotations}
        self.add(self.curation, RDF.type, PROV.Agent)
        self.add(self.curation, RDFS.label, Literal("mkg curators", lang="en"))
        self.build_entities()
        self.build_documents()
        for a in self.corpus.annotations:
            self.build_annotation(a)
        self.build_retired()
        if self.problems:
            raise SourceErrors(self.problems)
        return self.g


def _shorten(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _literal(value) -> Literal:
    if isinstance(value, bool):
        return Literal(value)
    if isinstance(value, int):
        return Literal(value, datatype=XSD.integer)
    if isinstance(value, float):
        return Literal(Decimal(str(value)), datatype=XSD.decimal)
    if isinstance(value, dt.date):
        return Literal(value, datatype=XSD.date)
    return Literal(str(value))


def build_graph(corpus: Corpus, terms: Terms, iris: Iris) -> Graph:
    """Turn the corpus into the release's data graph.

    :raises SourceErrors: every meaning problem of the corpus, each with file and line.
    """
    return _Builder(corpus, terms, iris).build()
