"""Web tier: HTML pages for people, where the evidence is the point.

Owns the home page, ``/page/{kind}/{slug}`` (an entity with what each source says about it,
conflicts side by side, aliases with the documents that use them, external links; a document
with its full text and every evidence span highlighted), and the ontology and shapes documents
(``/ontology``, ``/shapes``: HTML documentation or RDF by negotiation, hash IRIs ``#Term``).

May import: flask, werkzeug, markupsafe, config, vocab, formats, store.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from urllib.parse import quote

from flask import Blueprint, current_app, render_template, request
from markupsafe import Markup, escape
from werkzeug.exceptions import NotFound

from . import formats
from .formats import query_url
from .linking import dataset_jsonld
from .lookup import resolve_thing
from .store import EXTENSION, Store, Term, prefixes
from .store import sparql_iri as _sparql_iri
from .vocab import PREFIXES

__all__ = ["bp", "highlight", "Span"]

bp = Blueprint("pages", __name__)

_CONTEXT_CHARS = 80
_DOC_FORMATS = formats.RDF_DOCUMENT + (formats.HTML,)
_HTML_FIRST = (formats.HTML,) + formats.RDF_DOCUMENT
_SKIP_OUTGOING = ("mkg:text",)


def _store() -> Store:
    return current_app.extensions[EXTENSION]


def _q(store: Store, body: str) -> list[dict[str, Term]]:
    prologue = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in prefixes(store.iris).items())
    return store.select(prologue + body)


def _etag(*parts: str) -> str:
    return formats.etag(_store().release.version, *parts)


def _links(kind: str, slug: str) -> list[tuple[str, str, str | None]]:
    path = f"{kind}/{quote(slug, safe='')}"
    return formats.document_links(path, str(current_app.config["LICENSE"]))


# --- evidence highlighting ----------------------------------------------------------------

@dataclass(frozen=True)
class Span:
    """An evidence span to mark in a document text."""

    id: str
    start: int
    end: int
    href: str = ""
    title: str = ""


def highlight(text: str, spans: list[Span]) -> Markup:
    """``text`` as HTML with every span in ``<mark id=…>``; nested and overlapping spans work.

    The text is cut at every span boundary; each piece is wrapped in one ``<mark>`` per span
    covering it (outermost first), the first piece of a span carries its ``id``, and the
    innermost span's link wraps the text.
    """
    spans = sorted((s for s in spans if 0 <= s.start <= s.end <= len(text)),
                   key=lambda s: (s.start, -s.end, s.id))
    cuts = sorted({0, len(text)} | {s.start for s in spans} | {s.end for s in spans})
    started: set[str] = set()
    out: list[str] = []
    for left, right in zip(cuts, cuts[1:] + [None]):
        for span in spans:  # empty spans: an anchor at their position
            if span.start == span.end == left and span.id not in started:
                started.add(span.id)
                out.append(f'<mark class="ev empty" id="{escape(span.id)}"></mark>')
        if right is None:
            break
        covering = [s for s in spans if s.start <= left and s.end >= right and s.start != s.end]
        piece = str(escape(text[left:right]))
        if covering and covering[-1].href:
            inner = covering[-1]
            piece = f'<a href="{escape(inner.href)}" title="{escape(inner.title)}">{piece}</a>'
        for depth, span in reversed(list(enumerate(covering, start=1))):
            ident = ""
            if span.id not in started:
                started.add(span.id)
                ident = f' id="{escape(span.id)}"'
            piece = (f'<mark class="ev d{min(depth, 4)}" data-ev="{escape(span.id)}"{ident}>'
                     f"{piece}</mark>")
        out.append(piece)
    return Markup("".join(out))


# --- home -----------------------------------------------------------------------------------

@bp.route("/")
def home():
    store = _store()
    release = store.release
    counts = store.counts()
    classes = counts["classes"]
    labels = store.labels(list(classes))
    described = _q(store, f"SELECT ?d WHERE {{ {_sparql_iri(store.iris.dataset)} "
                          "dcterms:description ?d } LIMIT 1")
    body = render_template(
        "home.html",
        title=current_app.config["DATASET_TITLE"],
        description=described[0]["d"].value if described else "",
        release=release,
        counts=counts,
        classes=[(c, n, query_url(_INSTANCES.format(cls=c), "html")) for c, n in classes.items()],
        labels=labels,
        license=current_app.config["LICENSE"],
        files=sorted(release.files.items()),
        dataset_jsonld=dataset_jsonld(  # schema.org Dataset for aggregators (server/linking.py)
            release.manifest, store.iris, title=str(current_app.config["DATASET_TITLE"]),
            description=described[0]["d"].value if described else "",
            license_iri=str(current_app.config["LICENSE"])),
    )
    return formats.document(body, formats.HTML, request, etag=_etag("home"),
                            last_modified=release.built, negotiated=False)


_INSTANCES = (
    "SELECT ?entity ?label WHERE {{ ?entity a <{cls}> OPTIONAL {{ ?entity "
    "<http://www.w3.org/2004/02/skos/core#prefLabel>|<http://www.w3.org/2000/01/rdf-schema#label> "
    "?label }} }} ORDER BY ?label ?entity"
)


# --- resource pages ---------------------------------------------------------------------------

@bp.route("/page/<kind>/<slug>")
def page(kind: str, slug: str):
    store = _store()
    iri = resolve_thing(kind, slug)
    context = _describe(store, iri)
    if kind == "doc":
        context.update(_document(store, iri))
        template = "document.html"
    else:
        template = "resource.html"
    context.update(_claims(store, iri, kind))
    iris = _iris_in(context)
    context["labels"] = {**store.labels(iris), **context.get("labels", {})}
    body = render_template(template, iri=iri, kind=kind, slug=slug,
                           data_links=_links(kind, slug), **context)
    return formats.document(
        body, formats.HTML, request, etag=_etag("page", kind, slug),
        last_modified=store.release.built, links=_links(kind, slug),
        negotiated=False,
    )


def _iris_in(context: dict) -> list[str]:
    found: list[str] = []

    def walk(value):
        if isinstance(value, Term):
            if value.is_iri:
                found.append(value.value)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, (list, tuple)):
            for item in value:
                walk(item)
        elif isinstance(value, Claim):
            walk(vars(value))

    walk({k: v for k, v in context.items() if k != "labels"})
    return found


def _describe(store: Store, iri: str) -> dict:
    node = _sparql_iri(iri)
    rows = _q(store, f"SELECT ?p ?o WHERE {{ {node} ?p ?o }} ORDER BY ?p ?o")
    outgoing: dict[str, list[Term]] = defaultdict(list)
    for row in rows:
        if row["p"].value.endswith("ontology#text"):
            continue
        outgoing[row["p"].value].append(row["o"])
    limit = int(current_app.config["INCOMING_LINKS_LIMIT"])
    incoming = _q(store, f"SELECT ?s ?p WHERE {{ ?s ?p {node} }} ORDER BY ?p ?s LIMIT {limit}")
    total = store.incoming_count(iri)
    rest = None
    if total > limit:
        rest = query_url(f"SELECT ?s ?p WHERE {{ ?s ?p <{iri}> }} ORDER BY ?p ?s OFFSET {limit}",
                         "html")
    types = [t.value for t in outgoing.get(_RDF_TYPE, [])]
    match = outgoing.pop(_SKOS + "exactMatch", [])
    return {
        "title": store.labels([iri]).get(iri) or iri.rsplit("/", 1)[-1],
        "types": types,
        "outgoing": sorted(outgoing.items()),
        "incoming": incoming,
        "incoming_total": total,
        "incoming_rest": rest,
        "external": match,
    }


_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_SKOS = "http://www.w3.org/2004/02/skos/core#"


@dataclass
class Claim:
    """One assertion as shown on a page."""

    iri: str
    doc: Term | None = None
    subject: Term | None = None
    predicate: Term | None = None
    object: Term | None = None
    value: Term | None = None
    claimant: Term | None = None
    status: Term | None = None
    polarity: Term | None = None
    evidence: list[dict] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)


def _claims(store: Store, iri: str, kind: str) -> dict:
    node = _sparql_iri(iri)
    if kind == "assertion":
        which = f"VALUES ?a {{ {node} }}"
    elif kind == "doc":
        which = f"?a mkg:statedIn {node} ."
    else:
        which = f"?a mkg:assertedSubject|mkg:assertedObject {node} ."
    claims = _claim_rows(store, which)
    conflicts = []
    for row in _q(store, f"SELECT DISTINCT ?a ?b WHERE {{ {which} "
                         "{ ?a mkg:contradicts ?b } UNION { ?b mkg:contradicts ?a } } ORDER BY ?a ?b"):
        a, b = row["a"].value, row["b"].value
        if a in claims and (b, a) not in conflicts:
            conflicts.append((a, b))
    own = dict(claims)
    others = [b for _, b in conflicts if b not in claims]
    if others:
        values = " ".join(_sparql_iri(o) for o in others)
        claims.update(_claim_rows(store, f"VALUES ?a {{ {values} }}"))
    by_doc: dict[str, list[Claim]] = defaultdict(list)
    for claim in own.values():
        by_doc[claim.doc.value if claim.doc else ""].append(claim)
    names = _q(store, f"SELECT ?form ?doc WHERE {{ {node} skosxl:altLabel ?n . "
                      "?n skosxl:literalForm ?form . OPTIONAL { ?n mkg:attestedIn ?doc } } "
                      "ORDER BY ?form ?doc")
    aliases: dict[str, list[Term]] = defaultdict(list)
    for row in names:
        docs = aliases[row["form"].value]
        if "doc" in row and row["doc"] not in docs:
            docs.append(row["doc"])
    for row in _q(store, f"SELECT ?form WHERE {{ {node} skos:altLabel ?form }}"):
        aliases.setdefault(row["form"].value, [])
    return {
        "claims_by_doc": sorted(by_doc.items()),
        "claims": claims,
        "conflicts": conflicts,
        "aliases": sorted(aliases.items()),
    }


def _claim_rows(store: Store, which: str) -> dict[str, Claim]:
    rows = _q(store, f"""SELECT ?a ?doc ?subject ?predicate ?object ?value ?claimant ?status
        ?polarity WHERE {{ {which}
        ?a a mkg:Assertion .
        OPTIONAL {{ ?a mkg:statedIn ?doc }} OPTIONAL {{ ?a mkg:assertedSubject ?subject }}
        OPTIONAL {{ ?a mkg:assertedPredicate ?predicate }} OPTIONAL {{ ?a mkg:assertedObject ?object }}
        OPTIONAL {{ ?a mkg:assertedValue ?value }} OPTIONAL {{ ?a mkg:claimant ?claimant }}
        OPTIONAL {{ ?a mkg:epistemicStatus ?status }} OPTIONAL {{ ?a mkg:polarity ?polarity }}
        }} ORDER BY ?a""")
    claims: dict[str, Claim] = {}
    for row in rows:
        key = row["a"].value
        if key not in claims:
            claims[key] = Claim(key, **{k: v for k, v in row.items() if k != "a"})
    if not claims:
        return claims
    values = " ".join(_sparql_iri(c) for c in claims)
    evidence = _q(store, f"""SELECT ?a ?ev ?source ?exact ?prefix ?suffix ?start ?end WHERE {{
        VALUES ?a {{ {values} }} ?a mkg:hasEvidence ?ev .
        OPTIONAL {{ ?ev oa:hasSource ?source }}
        OPTIONAL {{ ?ev oa:hasSelector ?q . ?q oa:exact ?exact .
                   OPTIONAL {{ ?q oa:prefix ?prefix }} OPTIONAL {{ ?q oa:suffix ?suffix }} }}
        OPTIONAL {{ ?ev oa:hasSelector ?pos . ?pos oa:start ?start ; oa:end ?end }}
        }} ORDER BY ?a ?start ?ev""")
    texts = _texts(store, {r["source"].value for r in evidence if "source" in r})
    seen: set[tuple[str, str]] = set()
    for row in evidence:
        key = (row["a"].value, row["ev"].value)
        if key in seen:
            continue
        seen.add(key)
        claims[row["a"].value].evidence.append(_evidence(store, row, texts))
    return claims


def _texts(store: Store, docs: set[str]) -> dict[str, str]:
    if not docs:
        return {}
    values = " ".join(_sparql_iri(d) for d in sorted(docs))
    rows = _q(store, f"SELECT ?d ?t WHERE {{ VALUES ?d {{ {values} }} ?d mkg:text ?t }}")
    return {r["d"].value: r["t"].value for r in rows}


def _evidence(store: Store, row: dict[str, Term], texts: dict[str, str]) -> dict:
    ev = row["ev"].value
    local = (store.iris.split(ev) or ("", ev.rsplit("/", 1)[-1]))[1]
    source = row.get("source")
    exact = row["exact"].value if "exact" in row else ""
    before = row["prefix"].value if "prefix" in row else ""
    after = row["suffix"].value if "suffix" in row else ""
    text = texts.get(source.value) if source else None
    if text is not None and "start" in row and "end" in row:
        start, end = int(row["start"].value), int(row["end"].value)
        if 0 <= start <= end <= len(text):
            exact = text[start:end]
            before = text[max(0, start - _CONTEXT_CHARS):start]
            after = text[end:end + _CONTEXT_CHARS]
    doc_split = store.iris.split(source.value) if source else None
    href = f"/page/doc/{doc_split[1]}#{local}" if doc_split else ""
    return {"iri": ev, "id": local, "exact": exact, "before": before, "after": after,
            "href": href, "source": source}


def _document(store: Store, iri: str) -> dict:
    text = _texts(store, {iri}).get(iri, "")
    node = _sparql_iri(iri)
    rows = _q(store, f"""SELECT ?ev ?start ?end ?a WHERE {{
        ?ev oa:hasSource {node} ; oa:hasSelector ?pos . ?pos oa:start ?start ; oa:end ?end .
        OPTIONAL {{ ?a mkg:hasEvidence ?ev }} }} ORDER BY ?start ?end ?ev ?a""")
    spans: dict[str, Span] = {}
    for row in rows:
        ev = row["ev"].value
        if ev in spans:
            continue
        local = (store.iris.split(ev) or ("", ev.rsplit("/", 1)[-1]))[1]
        assertion = row.get("a")
        href = _local(store, assertion.value) if assertion else ""
        spans[ev] = Span(local, int(row["start"].value), int(row["end"].value), href,
                         f"Evidence for {assertion.value.rsplit('/', 1)[-1]}" if assertion else "")
    return {"text": text, "marked": highlight(text, list(spans.values())),
            "spans": list(spans.values())}


def _local(store: Store, iri: str) -> str:
    split = store.iris.split(iri)
    if split:
        return f"/page/{split[0]}/{split[1]}"
    return iri


# --- ontology and shapes ----------------------------------------------------------------------

@bp.route("/ontology", defaults={"ext": None})
@bp.route("/ontology.<ext>")
def ontology(ext: str | None):
    return _vocabulary("ontology", ext)


@bp.route("/shapes", defaults={"ext": None})
@bp.route("/shapes.<ext>")
def shapes(ext: str | None):
    return _vocabulary("shapes", ext)


def _vocabulary(name: str, ext: str | None):
    store = _store()
    if ext is None:
        fmt = formats.negotiate(_DOC_FORMATS, request.headers.get("Accept"),
                                request.args.get("format"))
    else:
        fmt = formats.by_extension(ext, _DOC_FORMATS)
        if fmt is None:
            raise NotFound(f"/{name}.{ext}: no such format; use one of "
                           + ", ".join(f.key for f in _DOC_FORMATS) + ".")
    if fmt is formats.HTML:
        body = render_template(f"{name}.html", **(_ontology_context(store) if name == "ontology"
                                                  else _shapes_context(store)))
    else:
        body = store.graph(name, fmt)
    links = [(f"/{name}.{f.key}", "alternate", f.media_type) for f in _DOC_FORMATS]
    links += [(str(current_app.config["LICENSE"]), "license", None),
              ("/.well-known/void", "describedby", "text/turtle")]
    return formats.document(
        body, fmt, request, etag=_etag(name, fmt.key), last_modified=store.release.built,
        links=links, content_location=f"/{name}.{fmt.key}", negotiated=ext is None,
    )


def _graph(store: Store, name: str) -> str:
    return _sparql_iri(store.iris.graph(name))


def _ontology_context(store: Store) -> dict:
    g = _graph(store, "ontology")
    header = _q(store, f"""SELECT ?p ?o WHERE {{ GRAPH {g} {{ ?ont a owl:Ontology ; ?p ?o }} }}
        ORDER BY ?p""")
    terms = _q(store, f"""SELECT ?t ?kind ?label ?def ?comment WHERE {{ GRAPH {g} {{
        VALUES ?kind {{ owl:Class owl:ObjectProperty owl:DatatypeProperty owl:AnnotationProperty
                       skos:Concept skos:ConceptScheme rdfs:Class rdf:Property }}
        ?t a ?kind . FILTER(isIRI(?t))
        OPTIONAL {{ ?t rdfs:label|skos:prefLabel ?label }}
        OPTIONAL {{ ?t skos:definition ?def }} OPTIONAL {{ ?t rdfs:comment ?comment }} }} }}
        ORDER BY ?kind ?t""")
    axioms = _q(store, f"""SELECT ?t ?p ?o WHERE {{ GRAPH {g} {{
        VALUES ?p {{ rdfs:domain rdfs:range rdfs:subClassOf rdfs:subPropertyOf skos:inScheme
                    skos:broader owl:inverseOf }}
        ?t ?p ?o . FILTER(isIRI(?o)) }} }} ORDER BY ?t ?p ?o""")
    shapes = _constraints(store)
    counts = store.counts()["classes"]
    sections: dict[str, dict[str, dict]] = defaultdict(dict)
    group = {"Class": "Classes", "ObjectProperty": "Object properties",
             "DatatypeProperty": "Datatype properties", "AnnotationProperty": "Annotation properties",
             "Concept": "Concepts", "ConceptScheme": "Concept schemes", "Property": "Properties"}
    ours = store.iris.mkg
    for row in terms:
        iri = row["t"].value
        kind = group.get(row["kind"].value.rsplit("#", 1)[-1], "Other terms")
        if not iri.startswith(ours):
            kind = "Reused terms"
        if any(iri in sec for sec in sections.values()):
            kind = next(name for name, sec in sections.items() if iri in sec)
        term = sections[kind].setdefault(iri, {
            "iri": iri, "anchor": _anchor(iri) if iri.startswith(ours) else _curie_anchor(iri),
            "curie": "mkg:" + iri[len(ours):] if iri.startswith(ours) else _curie(iri),
            "label": "", "definition": "",
            "axioms": defaultdict(list), "constraints": shapes.get(row["t"].value, []),
            "instances": counts.get(row["t"].value)})
        if "label" in row and not term["label"]:
            term["label"] = row["label"].value
        if "def" in row and not term["definition"]:
            term["definition"] = row["def"].value
        elif "comment" in row and not term["definition"]:
            term["definition"] = row["comment"].value
    by_term: dict[str, dict] = {iri: t for sec in sections.values() for iri, t in sec.items()}
    for row in axioms:
        if row["t"].value in by_term:
            by_term[row["t"].value]["axioms"][row["p"].value].append(row["o"].value)
    order = list(dict.fromkeys(group.values())) + ["Other terms", "Reused terms"]
    return {
        "header": header,
        "sections": [(name, sorted(sections[name].values(), key=lambda t: t["anchor"]))
                     for name in order if name in sections],
        "labels": store.labels([o for ts in by_term.values() for os in ts["axioms"].values()
                                for o in os]),
        "title": "Ontology",
        "base": store.iris.ontology,
    }


def _curie(iri: str) -> str:
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns):
            return f"{prefix}:{iri[len(ns):]}"
    return iri


def _curie_anchor(iri: str) -> str:
    return _curie(iri).replace(":", "-").replace("/", "-")


def _anchor(iri: str) -> str:
    return iri.rsplit("#", 1)[-1] if "#" in iri else iri.rstrip("/").rsplit("/", 1)[-1]


def _constraints(store: Store) -> dict[str, list[dict]]:
    g = _graph(store, "shapes")
    rows = _q(store, f"""SELECT ?target ?shape ?ps ?path ?min ?max ?datatype ?class ?severity
        ?message ?name ?in WHERE {{ GRAPH {g} {{
        {{ ?shape sh:targetClass ?target }} UNION {{ ?shape a sh:NodeShape , rdfs:Class .
           BIND(?shape AS ?target) }}
        ?shape sh:property ?ps . ?ps sh:path ?path .
        OPTIONAL {{ ?ps sh:minCount ?min }} OPTIONAL {{ ?ps sh:maxCount ?max }}
        OPTIONAL {{ ?ps sh:datatype ?datatype }} OPTIONAL {{ ?ps sh:class ?class }}
        OPTIONAL {{ ?ps sh:severity ?severity }} OPTIONAL {{ ?ps sh:message ?message }}
        OPTIONAL {{ ?ps sh:name ?name }} }} }} ORDER BY ?target ?shape ?path""")
    found: dict[str, list[dict]] = defaultdict(list)
    seen: set[tuple[str, str]] = set()
    for row in rows:
        key = (row["target"].value, row["ps"].value)
        if key in seen:
            continue
        seen.add(key)
        found[row["target"].value].append({k: v.value for k, v in row.items()})
    return found


def _shapes_context(store: Store) -> dict:
    g = _graph(store, "shapes")
    shapes = _q(store, f"""SELECT ?shape ?target ?severity ?message WHERE {{ GRAPH {g} {{
        ?shape a sh:NodeShape . FILTER(isIRI(?shape))
        OPTIONAL {{ ?shape sh:targetClass ?target }} OPTIONAL {{ ?shape sh:severity ?severity }}
        OPTIONAL {{ ?shape sh:message ?message }} }} }} ORDER BY ?shape""")
    constraints = _constraints(store)
    listed: dict[str, dict] = {}
    for row in shapes:
        shape = listed.setdefault(row["shape"].value, {
            "iri": row["shape"].value, "anchor": _anchor(row["shape"].value), "targets": [],
            "severity": row["severity"].value if "severity" in row else "",
            "message": row["message"].value if "message" in row else "", "properties": []})
        if "target" in row and row["target"].value not in shape["targets"]:
            shape["targets"].append(row["target"].value)
    for shape in listed.values():
        shape["properties"] = [c for t in shape["targets"] for c in constraints.get(t, [])
                               if c["shape"] == shape["iri"]]
    return {"shapes": list(listed.values()), "title": "Shapes",
            "labels": store.labels([t for s in listed.values() for t in s["targets"]]),
            "base": store.iris.shapes}
