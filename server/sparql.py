"""Web tier: the ``/sparql`` blueprint, the SPARQL 1.1 Protocol (query operation, read-only).

Owns request parsing (GET, POST form-encoded, POST ``application/sparql-query``), the dataset
parameters, the refusal of updates, the Service Description, and the query page for people.
Execution and serialization are one call to :meth:`store.Store.execute`.

Defaults: SELECT/ASK without ``Accept`` or with ``*/*`` → SPARQL JSON; CONSTRUCT/DESCRIBE →
Turtle; a browser (``text/html`` preferred) gets the query page with the result as a table.

May import: flask, werkzeug, config, vocab, formats, store.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
from pathlib import Path
from urllib.parse import parse_qsl

from flask import Blueprint, Response, current_app, render_template, request
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest, Forbidden, NotAcceptable, UnsupportedMediaType
from werkzeug.http import is_resource_modified

from . import formats
from .formats import query_url
from .store import EXTENSION, Store, Term, decode, prefixes

__all__ = ["bp", "examples"]

bp = Blueprint("sparql", __name__)

_FORM = "application/x-www-form-urlencoded"
_QUERY = "application/sparql-query"
_UPDATE = "application/sparql-update"
_PROTOCOL_PARAMS = ("query", "default-graph-uri", "named-graph-uri")
_HTML_ACCEPT = "application/sparql-results+json, application/n-triples;q=0.9"
_SD = "http://www.w3.org/ns/sparql-service-description#"
_FORMATS_NS = "http://www.w3.org/ns/formats/"
_SD_RESULT_FORMATS = ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV",
                      "SPARQL_Results_TSV", "Turtle", "N-Triples", "RDF_XML", "JSON-LD",
                      "N-Quads", "TriG")
_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_VOID = "http://rdfs.org/ns/void#"

_BUILTIN_EXAMPLES = (
    ("Entities by class", """SELECT ?class (COUNT(?entity) AS ?entities)
WHERE { ?entity a ?class }
GROUP BY ?class
ORDER BY DESC(?entities)"""),
    ("What each document claims, with its evidence", """SELECT ?doc ?subject ?predicate ?status ?quote
WHERE {
  ?a a mkg:Assertion ;
     mkg:statedIn ?doc ;
     mkg:assertedSubject ?subject ;
     mkg:assertedPredicate ?predicate ;
     mkg:epistemicStatus ?status ;
     mkg:hasEvidence/oa:hasSelector/oa:exact ?quote .
}
ORDER BY ?doc ?subject
LIMIT 100"""),
    ("Conflicting reports", """SELECT ?a ?docA ?b ?docB
WHERE {
  ?a mkg:contradicts ?b .
  ?a mkg:statedIn ?docA .
  ?b mkg:statedIn ?docB .
}"""),
    ("Names and the documents that use them", """SELECT ?entity ?name ?doc
WHERE {
  ?entity skosxl:altLabel ?n .
  ?n skosxl:literalForm ?name .
  OPTIONAL { ?n mkg:attestedIn ?doc }
}
ORDER BY ?entity ?name"""),
)


def _store() -> Store:
    return current_app.extensions[EXTENSION]


def examples() -> list[tuple[str, str]]:
    """Example queries: ``queries/cq/*.rq`` (title from a ``# title:`` line) then built-ins."""
    found: list[tuple[str, str]] = []
    folder = Path(current_app.config.get("QUERIES_DIR") or
                  Path(current_app.root_path).parent / "queries" / "cq")
    if folder.is_dir():
        for path in sorted(folder.glob("*.rq")):
            text = path.read_text(encoding="utf-8")
            first = text.splitlines()[0] if text else ""
            title = first.split(":", 1)[1].strip() if first.lower().startswith("# title:") \
                else path.stem
            found.append((title, text))
    return found + list(_BUILTIN_EXAMPLES)


# --- request parsing ------------------------------------------------------------------------

def _params() -> tuple[MultiDict, str | None]:
    """The protocol parameters and the query text of this request.

    :raises BadRequest / Forbidden / UnsupportedMediaType: per the protocol.
    """
    if request.method in ("GET", "HEAD"):
        if "update" in request.args:
            raise BadRequest("Updates are not accepted: this is a read-only query service "
                             "(and the update operation requires POST).")
        return request.args, _one_query(request.args)
    mimetype = request.mimetype
    if mimetype == _UPDATE:
        raise Forbidden("Updates are refused: this is a read-only SPARQL query service.")
    if mimetype == _FORM:
        params = MultiDict(request.args)
        for key, values in _form().lists():
            params.setlist(key, params.getlist(key) + values)
        if "update" in params:
            if "query" in params:
                raise BadRequest("A request carries either 'query' or 'update', not both.")
            raise Forbidden("Updates are refused: this is a read-only SPARQL query service.")
        query = _one_query(params)
        if query is None:
            raise BadRequest("The 'query' parameter is missing.")
        return params, query
    if mimetype == _QUERY:
        if "query" in request.args:
            raise BadRequest("With application/sparql-query the query is the request body; "
                             "do not also pass a 'query' parameter.")
        charset = request.mimetype_params.get("charset", "utf-8").lower()
        if charset not in ("utf-8", "utf8"):
            raise UnsupportedMediaType("application/sparql-query bodies must be UTF-8.")
        try:
            text = request.get_data().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadRequest("The query body is not valid UTF-8.") from exc
        if not text.strip():
            raise BadRequest("The request body holds no query.")
        return request.args, text
    raise UnsupportedMediaType(
        f"Cannot take a request body of type {mimetype or '(none)'!r}. Send the query as "
        f"{_FORM} (query=...) or as {_QUERY}.")


def _form() -> MultiDict:
    """The form body, decoded with the ``charset`` of its Content-Type (UTF-8 by default);
    Werkzeug decodes every form as UTF-8 and drops or keeps undecodable parts silently."""
    charset = request.mimetype_params.get("charset", "utf-8")
    try:
        codecs.lookup(charset)
    except LookupError:
        raise UnsupportedMediaType(f"Unknown charset {charset!r}; send the form in UTF-8.") \
            from None
    try:
        text = request.get_data().decode(charset)
        return MultiDict(parse_qsl(text, keep_blank_values=True, encoding=charset,
                                   errors="strict"))
    except (UnicodeDecodeError, ValueError):
        raise BadRequest(f"The form body is not valid {charset}.") from None


def _one_query(params: MultiDict) -> str | None:
    queries = params.getlist("query")
    if len(queries) > 1:
        raise BadRequest("Exactly one 'query' parameter is allowed; this request has "
                         f"{len(queries)}.")
    if not queries:
        if any(key in params for key in _PROTOCOL_PARAMS):
            raise BadRequest("The 'query' parameter is missing.")
        return None
    if not queries[0].strip():
        raise BadRequest("The 'query' parameter is empty.")
    return queries[0]


def _graphs(params: MultiDict, name: str) -> tuple[str, ...]:
    graphs = tuple(params.getlist(name))
    for graph in graphs:
        if not graph or any(c in graph for c in " <>\"{}|\\^`") or ":" not in graph:
            raise BadRequest(f"{name} must be an absolute IRI; got {graph!r}.")
    return graphs


# --- the endpoint ---------------------------------------------------------------------------

@bp.route("/sparql", methods=["GET", "POST"])
def endpoint():
    params, query = _params()
    if query is None:
        return _service_description()
    fmt_key = params.get("format")
    if fmt_key is not None and not fmt_key:
        raise BadRequest("The 'format' parameter is empty.")
    wants_html = _prefers_html(fmt_key)
    etag = _etag(params, query) if request.method in ("GET", "HEAD") else None
    built = _store().release.built
    if etag and not is_resource_modified(request.environ, etag=etag, last_modified=built):
        return _negotiated(Response(status=304), etag)
    accept = _HTML_ACCEPT if wants_html else request.headers.get("Accept")
    run = dict(default_graphs=_graphs(params, "default-graph-uri"),
               named_graphs=_graphs(params, "named-graph-uri"))
    answer = None
    if not wants_html and _wants_csv(accept, fmt_key):
        try:  # pyoxigraph's CSV leaves IRIs with commas unquoted: write CSV from JSON here
            answer = _store().execute(query, accept=None, format="json", **run)
        except NotAcceptable:  # a graph query: negotiate as asked
            pass
    if answer is None:
        answer = _store().execute(query, accept=accept, format=None if wants_html else fmt_key,
                                  **run)
    if wants_html:
        names, rows = decode(answer)
        response = Response(_page(query, answer.form, names, rows),
                            content_type="text/html; charset=utf-8")
    elif answer.format.key == "json" and _wants_csv(accept, fmt_key):
        response = Response(_csv(answer.body), content_type="text/csv; charset=utf-8")
    else:
        response = Response(answer.body, content_type=formats.content_type(answer.format))
    if etag:
        response.last_modified = built
        response.cache_control.public = True
        response.cache_control.max_age = 3600
    return _negotiated(response, etag)


def _wants_csv(accept: str | None, fmt_key: str | None) -> bool:
    try:
        return formats.negotiate(formats.RESULTS, accept, fmt_key).key == "csv"
    except NotAcceptable:
        return False
    except BadRequest:
        return False


def _csv(json_body: bytes) -> bytes:
    """SPARQL 1.1 Query Results CSV from SPARQL JSON: RFC 4180 quoting, CRLF, IRIs bare,
    literals as their lexical form, blank nodes ``_:label``, unbound empty."""
    data = json.loads(json_body)
    if "boolean" in data:
        return b"true" if data["boolean"] else b"false"
    names = data["head"].get("vars", [])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(names)
    for binding in data["results"]["bindings"]:
        writer.writerow([("_:" if binding[n]["type"] == "bnode" else "") + binding[n]["value"]
                         if n in binding else "" for n in names])
    return out.getvalue().encode("utf-8")


def _prefers_html(fmt_key: str | None) -> bool:
    if fmt_key is not None:
        return formats.by_key(fmt_key, (formats.HTML,)) is not None
    offered = [formats.HTML.media_type] + [f.media_type for f in formats.RESULTS + formats.GRAPH]
    accept = formats.parse_accept(request.headers.get("Accept"))
    return accept.best_match(offered[1:] + offered[:1]) == formats.HTML.media_type


def _etag(params: MultiDict, query: str) -> str:
    key = "\x00".join([
        query, repr(sorted(params.getlist("default-graph-uri"))),
        repr(sorted(params.getlist("named-graph-uri"))), params.get("format") or "",
        request.headers.get("Accept", ""),
    ])
    version = _store().release.version
    return f'{version}-{hashlib.sha256(key.encode("utf-8")).hexdigest()[:20]}'


def _negotiated(response: Response, etag: str | None = None) -> Response:
    response.vary.add("Accept")
    if etag:
        response.set_etag(etag, weak=True)
    return response


def _page(query: str, form: str | None, names: list[str], rows: list[dict[str, Term]]) -> str:
    store = _store()
    iris = [t.value for row in rows for t in row.values() if t.is_iri]
    offered = formats.GRAPH if form == "graph" else formats.RESULTS
    return render_template(
        "query.html",
        query=query,
        prefixes=prefixes(store.iris),
        examples=examples(),
        form=form,
        names=names,
        rows=rows,
        labels=store.labels(iris) if len(iris) <= 2000 else {},
        downloads=[(f, query_url(query, f.key)) for f in offered],
    )


# --- service description --------------------------------------------------------------------

def _service_description() -> Response:
    offered = formats.GRAPH + (formats.HTML,)
    fmt = formats.negotiate(offered, request.headers.get("Accept"), request.args.get("format"))
    store = _store()
    if fmt is formats.HTML:
        body = _page(_default_query(store), None, [], [])
    else:
        body = store.construct([], fmt, _sd_triples(store))
    return formats.document(body, fmt, request, etag=formats.etag(
        store.release.version, "service-description", fmt.key), last_modified=store.release.built)


def _default_query(store: Store) -> str:
    return ("SELECT ?s ?p ?o\nWHERE {\n  ?s ?p ?o\n}\nLIMIT 25")


def _sd_triples(store: Store) -> list[tuple]:
    iris = store.iris
    service = iris.base + "sparql"
    dataset = service + "#dataset"
    counts = store.counts()
    triples: list[tuple] = [
        (service, _RDF_TYPE, _SD + "Service"),
        (service, _SD + "endpoint", service),
        (service, _SD + "supportedLanguage", _SD + "SPARQL11Query"),
        (service, _SD + "feature", _SD + "UnionDefaultGraph"),
        (service, _SD + "defaultEntailmentRegime", "http://www.w3.org/ns/entailment/Simple"),
        (service, _SD + "defaultDataset", dataset),
        (dataset, _RDF_TYPE, _SD + "Dataset"),
        (dataset, "http://purl.org/dc/terms/source", iris.dataset),
        (dataset, _SD + "defaultGraph", dataset + "-default"),
        (dataset + "-default", _RDF_TYPE, _SD + "Graph"),
        (dataset + "-default", _VOID + "triples", _int(counts["triples"])),
    ]
    triples += [(service, _SD + "resultFormat", _FORMATS_NS + name) for name in _SD_RESULT_FORMATS]
    for name, size in counts["graphs"].items():
        graph = iris.graph(name)
        node = f"{dataset}-{name}"
        triples += [
            (dataset, _SD + "namedGraph", node),
            (node, _RDF_TYPE, _SD + "NamedGraph"),
            (node, _SD + "name", graph),
            (node, _SD + "graph", node + "-graph"),
            (node + "-graph", _RDF_TYPE, _SD + "Graph"),
            (node + "-graph", _VOID + "triples", _int(size)),
        ]
    return triples


def _int(value: object) -> Term:
    return Term("literal", str(value), datatype="http://www.w3.org/2001/XMLSchema#integer")
