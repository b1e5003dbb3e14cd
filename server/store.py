"""Web tier: the store, the only importer of pyoxigraph on the request path.

Owns loading a release folder (``manifest.json`` checked file by file, then the graphs loaded
into the named graphs of docs/architecture.md) and answering queries. The :class:`Store`
interface is what the blueprints see; :class:`LocalStore` implements it on an embedded
pyoxigraph store, and another engine (a remote SPARQL endpoint) can implement it later.

Query execution for the SPARQL endpoint goes through ONE method, :meth:`Store.execute`, which
takes plain strings and returns serialized bytes, so that it can run in a worker process.

Errors: :class:`QueryError` (the client's query is wrong: 400), :class:`ReleaseError` (the
release is missing or corrupt: 503). Anything else propagates.

May import: config, vocab, formats, pyoxigraph, stdlib. Never flask, never the build modules.
"""

from __future__ import annotations

import hashlib
import json
import re
import urllib.error
import urllib.request
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote, urlencode

import pyoxigraph as ox

from . import formats
from .formats import Format
from .vocab import KINDS, PREFIXES, Iris

__all__ = [
    "Answer",
    "LocalStore",
    "RemoteStore",
    "QueryError",
    "Release",
    "ReleaseError",
    "Store",
    "StoreError",
    "Term",
    "decode",
    "describe_query",
    "open_release",
    "prefixes",
    "sparql_iri",
    "EXTENSION",
]

#: The key of the store in ``app.extensions``.
EXTENSION = "mkg.store"

RELEASE_FILES = {
    "data.nt": "data",
    "ontology.ttl": "ontology",
    "shapes.ttl": "shapes",
    "void.ttl": "void",
}

_RESULT_FORMATS = {
    "json": ox.QueryResultsFormat.JSON,
    "xml": ox.QueryResultsFormat.XML,
    "csv": ox.QueryResultsFormat.CSV,
    "tsv": ox.QueryResultsFormat.TSV,
}
_RDF_FORMATS = {
    "ttl": ox.RdfFormat.TURTLE,
    "nt": ox.RdfFormat.N_TRIPLES,
    "rdf": ox.RdfFormat.RDF_XML,
    "jsonld": ox.RdfFormat.JSON_LD,
    "nq": ox.RdfFormat.N_QUADS,
    "trig": ox.RdfFormat.TRIG,
}

_LABEL_PREDICATES = (
    "skos:prefLabel", "rdfs:label", "dcterms:title", "skosxl:literalForm", "sh:name",
)


class StoreError(Exception):
    """Base of the store's errors."""


class QueryError(StoreError):
    """The query is malformed or cannot be answered as asked (HTTP 400)."""


class ReleaseError(StoreError):
    """The release folder is missing, incomplete or does not match its manifest (HTTP 503)."""


@dataclass(frozen=True)
class Term:
    """An RDF term, engine-neutral: ``kind`` is ``uri``, ``literal``, ``bnode`` or ``triple``."""

    kind: str
    value: str
    lang: str | None = None
    datatype: str | None = None

    @property
    def is_iri(self) -> bool:
        return self.kind == "uri"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Answer:
    """A serialized query result: ``form`` is ``select``, ``ask`` or ``graph``."""

    body: bytes
    format: Format
    form: str


@dataclass(frozen=True)
class Release:
    """One release folder, as described by its manifest."""

    path: Path
    version: str
    base_iri: str
    built: datetime
    manifest: dict = field(repr=False)

    @property
    def iris(self) -> Iris:
        return Iris(self.base_iri)

    def file(self, name: str) -> Path:
        """The path of a file listed in the manifest (or of the manifest itself).

        :raises KeyError: the manifest lists no such file.
        """
        if name not in self.files and name != "manifest.json":
            raise KeyError(name)
        return self.path / name

    @property
    def files(self) -> dict[str, dict]:
        return dict(self.manifest.get("files", {}))

    def media_type(self, name: str) -> str:
        declared = self.files.get(name, {}).get("media_type") if name in self.files else None
        return declared or _MEDIA_BY_SUFFIX.get(Path(name).suffix, "application/octet-stream")


_MEDIA_BY_SUFFIX = {
    ".nt": "application/n-triples",
    ".ttl": "text/turtle",
    ".json": "application/json",
    ".txt": "text/plain",
    ".xml": "application/xml",
    ".nq": "application/n-quads",
    ".trig": "application/trig",
}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _built_time(manifest: dict, manifest_path: Path) -> datetime:
    for key in ("built_at", "build_time", "created", "generated"):
        value = manifest.get(key) or manifest.get("built_from", {}).get(key)
        if isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    return datetime.fromtimestamp(int(manifest_path.stat().st_mtime), tz=timezone.utc)


def open_release(release_dir: str | Path, default_base: str) -> Release:
    """Read and check the release at ``release_dir`` (its ``current`` version if present).

    :raises ReleaseError: no manifest, a listed file missing, or a checksum mismatch.
    """
    root = Path(release_dir)
    path = root / "current" if (root / "current").exists() else root
    manifest_path = path / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ReleaseError(f"no usable release at {path}: {exc}") from exc
    for name, entry in manifest.get("files", {}).items():
        target = path / name
        if not target.is_file():
            raise ReleaseError(f"release file {name} is listed in the manifest but missing")
        expected = entry.get("sha256") if isinstance(entry, dict) else None
        if expected and _sha256(target) != expected:
            raise ReleaseError(f"release file {name} does not match its manifest checksum")
    base = str(manifest.get("base_iri") or default_base)
    return Release(
        path=path.resolve(),
        version=str(manifest.get("version", "unversioned")),
        base_iri=base if base.endswith("/") else base + "/",
        built=_built_time(manifest, manifest_path),
        manifest=manifest,
    )


def _term(value: object) -> Term:
    if isinstance(value, ox.NamedNode):
        return Term("uri", value.value)
    if isinstance(value, ox.Literal):
        datatype = value.datatype.value if value.datatype else None
        return Term("literal", value.value, value.language, datatype)
    if isinstance(value, ox.BlankNode):
        return Term("bnode", value.value)
    return Term("triple", str(value))


_IRIREF_ILLEGAL = frozenset('<>"{}|^`\\') | frozenset(chr(c) for c in range(0x21))


def sparql_iri(iri: str) -> str:
    """``<iri>`` for SPARQL text; characters illegal in an IRIREF are percent-encoded."""
    return "<" + "".join(quote(c) if c in _IRIREF_ILLEGAL else c for c in iri) + ">"


class Store(ABC):
    """What the web tier needs from an RDF engine."""

    release: Release

    @property
    def iris(self) -> Iris:
        return self.release.iris

    @abstractmethod
    def execute(
        self,
        query: str,
        *,
        default_graphs: tuple[str, ...] = (),
        named_graphs: tuple[str, ...] = (),
        accept: str | None = None,
        format: str | None = None,
    ) -> Answer:
        """Run a SPARQL query and serialize its result in the negotiated format.

        :raises QueryError: the query is malformed.
        :raises formats.NoAcceptableFormat: the result cannot be given in an acceptable format.
        :raises formats.BadFormat: ``format`` names no known format.
        """

    @abstractmethod
    def select(self, query: str) -> list[dict[str, Term]]:
        """Rows of a SELECT over the union of all graphs (for pages)."""

    @abstractmethod
    def construct(self, queries: list[str], fmt: Format, extra: list[tuple] = ()) -> bytes:
        """The union of the CONSTRUCT ``queries`` plus ``extra`` (s, p, o) triples, serialized."""

    @abstractmethod
    def graph(self, name: str, fmt: Format) -> bytes:
        """One named graph of the release (``data``, ``ontology``, ``shapes``, ``void``)."""

    @abstractmethod
    def counts(self) -> dict[str, object]:
        """``{"triples": int, "graphs": {name: int}, "classes": {class IRI: instances}}``."""

    def ask(self, query: str) -> bool:
        """The answer of an ASK query over the union of all graphs (``select`` gives one
        empty row for true, none for false)."""
        rows = self.select(query)
        return bool(rows)

    def exists(self, iri: str) -> bool:
        """Whether ``iri`` is the subject or the object of some triple."""
        node = sparql_iri(iri)
        return self.ask(f"ASK {{ {{ {node} ?p ?o }} UNION {{ ?s ?p {node} }} }}")

    def resolve(self, kind: str, slug: str) -> str | None:
        """The IRI of the thing ``{kind}/{slug}`` if the release says something about it.

        The slug is tried as given (an IRI) and percent-encoded (a URI).
        """
        if kind not in KINDS or not slug:
            return None
        for candidate in dict.fromkeys((slug, quote(slug, safe="!$&'()*+,;=:@~-._"))):
            iri = f"{self.iris.base}id/{kind}/{candidate}"
            if self.exists(iri):
                return iri
        return None

    def incoming_count(self, iri: str) -> int:
        """How many triples have ``iri`` as their object."""
        rows = self.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s ?p {sparql_iri(iri)} }}")
        return int(rows[0]["n"].value) if rows and "n" in rows[0] else 0

    def describe(self, iri: str, fmt: Format, *, incoming_limit: int,
                 extra: list[tuple] = ()) -> bytes:
        """The description document of ``iri``, serialized in ``fmt``.

        Holds the outgoing triples, the sub-resources ``{iri}#…`` and blank nodes it points to,
        the labels of what it links to, at most ``incoming_limit`` incoming triples (with the
        labels of their subjects), the assertions about it with their evidence, and ``extra``.
        """
        return self.construct([describe_query(self.iris, iri, incoming_limit)], fmt, extra)

    def labels(self, iris: list[str]) -> dict[str, str]:
        """The best label of each IRI that has one (English or untagged preferred)."""
        wanted = sorted({i for i in iris if i})
        found: dict[str, tuple[int, str]] = {}
        for start in range(0, len(wanted), 200):
            values = " ".join(sparql_iri(i) for i in wanted[start:start + 200])
            query = (
                _prologue(self.iris)
                + "SELECT ?s ?p ?l WHERE { VALUES ?s { " + values + " } "
                + "VALUES ?p { " + " ".join(_LABEL_PREDICATES) + " } ?s ?p ?l }"
            )
            for row in self.select(query):
                rank = _LABEL_PREDICATES.index(_curie(row["p"].value)) * 3
                rank += 0 if row["l"].lang in (None, "", "en") else 1
                current = found.get(row["s"].value)
                if current is None or (rank, row["l"].value) < current:
                    found[row["s"].value] = (rank, row["l"].value)
        return {iri: label for iri, (_, label) in found.items()}


def _describe_patterns(iri: str, incoming_limit: int) -> list[tuple[str, str]]:
    """The (template, pattern) pairs whose CONSTRUCTs together describe ``iri``."""
    node = sparql_iri(iri)
    # FILTER, not VALUES: Oxigraph joins a leading VALUES ?lp with every label triple first
    labels = "FILTER(?lp IN (" + ", ".join(_LABEL_PREDICATES[:3]) + "))"
    about = f"?a mkg:assertedSubject|mkg:assertedObject {node} ."
    return [
        (f"{node} ?p ?o", f"{node} ?p ?o"),
        ("?o ?p2 ?o2", f"{node} ?p ?o . ?o ?p2 ?o2 . "
                       f"FILTER(isBlank(?o) || STRSTARTS(STR(?o), CONCAT(STR({node}), \"#\")))"),
        ("?o ?lp ?l", f"{node} ?p ?o . FILTER(isIRI(?o)) {labels} ?o ?lp ?l"),
        (f"?s ?p {node} . ?s ?lp ?l",
         f"{{ SELECT ?s ?p WHERE {{ ?s ?p {node} }} ORDER BY ?p ?s LIMIT {int(incoming_limit)} }} "
         f"OPTIONAL {{ {labels} ?s ?lp ?l }}"),
        ("?a ?ap ?av", f"{about} ?a ?ap ?av"),
        ("?av ?lp ?l", f"{about} ?a ?ap ?av . FILTER(isIRI(?av)) {labels} ?av ?lp ?l"),
        ("?ev ?ep ?eo", f"{about} ?a mkg:hasEvidence ?ev . ?ev ?ep ?eo"),
        ("?sel ?sp ?so", f"{about} ?a mkg:hasEvidence ?ev . ?ev oa:hasSelector ?sel . ?sel ?sp ?so"),
    ]


def describe_query(iris: Iris, iri: str, incoming_limit: int) -> str:
    """The CONSTRUCT whose result is the description of ``iri``: one query over a UNION (one
    parse here, one round trip to a remote engine).

    Each branch binds only its own variables, so a template triple is instantiated only from the
    branches that describe it.
    """
    patterns = _describe_patterns(iri, incoming_limit)
    template = " . ".join(t for t, _ in patterns)
    where = " UNION ".join(f"{{ {p} }}" for _, p in patterns)
    return _prologue(iris) + f"CONSTRUCT {{ {template} }} WHERE {{ {where} }}"


def _curie(iri: str) -> str:
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns):
            return f"{prefix}:{iri[len(ns):]}"
    return iri


def _prologue(iris: Iris) -> str:
    lines = [f"PREFIX {p}: <{ns}>" for p, ns in PREFIXES.items()]
    lines.append(f"PREFIX mkg: <{iris.mkg}>")
    return "\n".join(lines) + "\n"


def prefixes(iris: Iris) -> dict[str, str]:
    """The prefixes used in serializations and the query editor."""
    return {"mkg": iris.mkg, **PREFIXES}


class LocalStore(Store):
    """An in-memory pyoxigraph store holding one release."""

    def __init__(self, release: Release):
        self.release = release
        self._store = ox.Store()
        for name, graph in RELEASE_FILES.items():
            path = release.path / name
            if path.is_file():
                self._load(path, graph)
        self._counts = self._count()

    def _load(self, path: Path, graph: str) -> None:
        fmt = ox.RdfFormat.from_extension(path.suffix.lstrip("."))
        try:
            self._store.bulk_load(
                path=str(path), format=fmt, base_iri=self.release.base_iri,
                to_graph=ox.NamedNode(self.iris.graph(graph)),
            )
        except (SyntaxError, OSError) as exc:
            raise ReleaseError(f"cannot load {path.name}: {exc}") from exc

    def _query(self, query: str, **options):
        try:
            return self._store.query(
                query, base_iri=self.release.base_iri, **options,
            )
        except SyntaxError as exc:
            raise QueryError(str(exc)) from exc

    def execute(self, query, *, default_graphs=(), named_graphs=(), accept=None, format=None):
        options: dict[str, object] = {"use_default_graph_as_union": True}
        if default_graphs or named_graphs:
            options = {
                "default_graph": [ox.NamedNode(g) for g in default_graphs] or ox.DefaultGraph(),
                "named_graphs": [ox.NamedNode(g) for g in named_graphs],
            }
        result = self._query(query, **options)
        if isinstance(result, ox.QueryTriples):
            fmt = formats.negotiate(formats.GRAPH, accept, format)
            body = result.serialize(format=_RDF_FORMATS[fmt.key])
            return Answer(body or b"", fmt, "graph")
        fmt = formats.negotiate(formats.RESULTS, accept, format)
        body = result.serialize(format=_RESULT_FORMATS[fmt.key])
        form = "ask" if isinstance(result, ox.QueryBoolean) else "select"
        return Answer(body or b"", fmt, form)

    def select(self, query):
        result = self._query(query, use_default_graph_as_union=True)
        if isinstance(result, ox.QueryBoolean):
            return [{}] if bool(result) else []
        if not isinstance(result, ox.QuerySolutions):
            raise QueryError("expected a SELECT or ASK query")
        names = [v.value for v in result.variables]
        rows = []
        for solution in result:
            row = {}
            for name in names:
                value = solution[name]
                if value is not None:
                    row[name] = _term(value)
            rows.append(row)
        return rows

    def construct(self, queries, fmt, extra=()):
        results = (self._query(query, use_default_graph_as_union=True) for query in queries)
        return _serialize(_distinct_triples(results, extra), fmt, self.iris)

    def graph(self, name, fmt):
        quads = self._store.quads_for_pattern(None, None, None, ox.NamedNode(self.iris.graph(name)))
        return _serialize([q.triple for q in quads], fmt, self.iris)

    def counts(self):
        return self._counts

    def _count(self) -> dict[str, object]:
        graphs = {}
        for name in RELEASE_FILES.values():
            graph = ox.NamedNode(self.iris.graph(name))
            graphs[name] = sum(1 for _ in self._store.quads_for_pattern(None, None, None, graph))
        return {"triples": len(self._store), "graphs": graphs,
                "classes": _classes(self, self.iris)}


class RemoteStore(Store):
    """A store that forwards every query to a SPARQL 1.1 endpoint (Oxigraph, Fuseki, Virtuoso…).

    The release folder is still read locally (manifest, dumps). Queries with no dataset of their
    own get the release's four graphs as ``default-graph-uri`` and ``named-graph-uri``, so the
    engine's default-graph policy (and, on Virtuoso, its system graphs) does not matter.
    """

    def __init__(self, release: Release, endpoint: str, timeout: float = 30.0):
        self.release = release
        self.endpoint = endpoint
        self.timeout = timeout
        self._graphs = tuple(self.iris.graph(name) for name in RELEASE_FILES.values())
        self._counts = self._count()

    def _request(self, query: str, accept: str, default_graphs=(), named_graphs=()):
        """POST the query; return ``(media type, body)``.

        :raises QueryError: the endpoint refuses the query (4xx other than 406).
        :raises formats.NoAcceptableFormat: the endpoint answers 406.
        :raises ReleaseError: the endpoint cannot be reached or fails (5xx).
        """
        if not default_graphs and not named_graphs and not _FROM.search(query):
            default_graphs = named_graphs = self._graphs
        params = urlencode([("default-graph-uri", g) for g in default_graphs]
                           + [("named-graph-uri", g) for g in named_graphs])
        request = urllib.request.Request(
            self.endpoint + ("?" + params if params else ""), data=query.encode("utf-8"),
            method="POST", headers={"Content-Type": "application/sparql-query", "Accept": accept})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                media = response.headers.get_content_type()
                return media, response.read()
        except urllib.error.HTTPError as exc:
            message = exc.read().decode("utf-8", "replace")
            if exc.code == 406:
                raise formats.NoAcceptableFormat(formats.RESULTS + formats.GRAPH) from exc
            if 400 <= exc.code < 500:
                raise QueryError(message.strip() or exc.reason) from exc
            raise ReleaseError(f"SPARQL endpoint failed ({exc.code}): {message[:200]}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise ReleaseError(f"SPARQL endpoint unreachable: {exc}") from exc

    def execute(self, query, *, default_graphs=(), named_graphs=(), accept=None, format=None):
        offered = formats.RESULTS + formats.GRAPH
        if format:
            fmt = formats.by_key(format, offered)
            if fmt is None:
                raise formats.BadFormat(f"Unknown format {format!r}.")
            wanted = fmt.media_type
        else:
            wanted = _weighted_accept(offered, accept)
        media, body = self._request(query, wanted, default_graphs, named_graphs)
        fmt = next((f for f in offered if f.media_type == media), None)
        if fmt is None:
            raise ReleaseError(f"SPARQL endpoint answered with {media}, which is not offered")
        if format and fmt.key != format and format not in fmt.aliases:
            raise formats.NoAcceptableFormat(offered)
        return Answer(body, fmt, "graph" if fmt in formats.GRAPH else "select")

    def select(self, query):
        _, body = self._request(query, "application/sparql-results+json")
        data = json.loads(body)
        if "boolean" in data:  # ASK: one empty row for true, none for false (as LocalStore)
            return [{}] if data["boolean"] else []
        _, rows = decode(Answer(body, formats.RESULTS[0], "select"))
        return rows

    def construct(self, queries, fmt, extra=()):
        results = (ox.parse(self._request(query, "application/n-triples")[1], format=ox.RdfFormat.N_TRIPLES)
                   for query in queries)
        return _serialize(_distinct_triples(results, extra), fmt, self.iris)

    def graph(self, name, fmt):
        graph = sparql_iri(self.iris.graph(name))
        query = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH {graph} {{ ?s ?p ?o }} }}"
        return self.construct([query], fmt)

    def counts(self):
        return self._counts

    def _count(self) -> dict[str, object]:
        graphs = {}
        for name in RELEASE_FILES.values():
            rows = self.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH "
                               f"{sparql_iri(self.iris.graph(name))} {{ ?s ?p ?o }} }}")
            graphs[name] = int(rows[0]["n"].value) if rows and "n" in rows[0] else 0
        return {"triples": sum(graphs.values()), "graphs": graphs,
                "classes": _classes(self, self.iris)}


_FROM = re.compile(r"^\s*FROM\s", re.IGNORECASE | re.MULTILINE)


def _weighted_accept(offered: tuple[Format, ...], accept: str | None) -> str:
    """An ``Accept`` header over ``offered`` that keeps the client's q-values and our order.

    :raises formats.NoAcceptableFormat: the client accepts none of them.
    """
    client = formats.parse_accept(accept)
    parts = []
    for rank, fmt in enumerate(offered):
        quality = client.quality(fmt.media_type) * (1 - rank / 1000)
        if quality > 0:
            parts.append(f"{fmt.media_type};q={quality:.3f}")
    if not parts:
        raise formats.NoAcceptableFormat(offered)
    return ", ".join(parts)


def _classes(store: Store, iris: Iris) -> dict[str, int]:
    rows = store.select(
        "SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE { GRAPH "
        + sparql_iri(iris.graph("data"))
        + " { ?s a ?c } } GROUP BY ?c ORDER BY DESC(?n) ?c"
    )
    return {row["c"].value: int(row["n"].value) for row in rows if "c" in row}


def _distinct_triples(results, extra=()) -> list:
    """The triples of several CONSTRUCT results plus ``extra`` (s, p, o) strings, first-seen order."""
    triples: list[ox.Triple] = []
    seen: set = set()
    extra_triples = (ox.Triple(_node(s), ox.NamedNode(p), _node(o)) for s, p, o in extra)
    for triple in (t for batch in (*results, extra_triples) for t in batch):
        if triple not in seen:
            seen.add(triple)
            triples.append(triple)
    return triples


def _serialize(triples, fmt: Format, iris: Iris) -> bytes:
    rdf_format = _RDF_FORMATS[fmt.key]
    options = {}
    if rdf_format in (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG, ox.RdfFormat.RDF_XML):
        options["prefixes"] = prefixes(iris)
    return ox.serialize(triples, format=rdf_format, **options) or b""


def decode(answer: Answer) -> tuple[list[str], list[dict[str, Term]]]:
    """Variables and rows of an answer serialized as SPARQL JSON or N-Triples (for HTML views).

    A graph becomes rows of ``subject``, ``predicate``, ``object``; a boolean one row ``result``.
    """
    if answer.form == "graph":
        triples = ox.parse(answer.body, format=_RDF_FORMATS[answer.format.key])
        rows = [{"subject": _term(t.subject), "predicate": _term(t.predicate),
                 "object": _term(t.object)} for t in triples]
        return ["subject", "predicate", "object"], rows
    data = json.loads(answer.body)
    if "boolean" in data:
        return ["result"], [{"result": Term("literal", str(data["boolean"]).lower(),
                                            datatype=_XSD_BOOLEAN)}]
    names = list(data["head"].get("vars", []))
    rows = []
    for binding in data["results"]["bindings"]:
        rows.append({name: Term(
            {"typed-literal": "literal"}.get(v["type"], v["type"]), v["value"],
            v.get("xml:lang"), v.get("datatype"),
        ) for name, v in binding.items()})
    return names, rows


_XSD_BOOLEAN = "http://www.w3.org/2001/XMLSchema#boolean"


def _node(value):
    if isinstance(value, Term):
        if value.kind == "uri":
            return ox.NamedNode(value.value)
        if value.kind == "bnode":
            return ox.BlankNode(value.value)
        return ox.Literal(value.value, language=value.lang or None,
                          datatype=None if value.lang or not value.datatype
                          else ox.NamedNode(value.datatype))
    if isinstance(value, str):
        return ox.NamedNode(value)
    raise TypeError(f"cannot make an RDF term of {value!r}")
