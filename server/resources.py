"""Web tier: dereferenceable IRIs and machine-readable documents.

Owns ``/id/{kind}/{slug}`` (303 See Other to the page or a data document, by ``Accept``),
``/data/{kind}/{slug}[.ext]`` (the description in Turtle, N-Triples, RDF/XML or JSON-LD, with
``Content-Location``, ``Link``, ``ETag`` and ``Last-Modified``), the dataset description
(``/.well-known/void``), the release dumps (``/releases/{version|latest}/{file}``); ``/health`` lives in ``observability``.

May import: flask, werkzeug, config, vocab, formats, store.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from flask import Blueprint, current_app, redirect, request, send_file
from werkzeug.exceptions import NotFound

from . import formats
from .formats import query_url
from .lookup import archived_file, resolve_thing
from .store import EXTENSION, Store, Term

__all__ = ["bp"]

bp = Blueprint("resources", __name__)

#: What a thing IRI can redirect to: Turtle first (``*/*``), HTML for browsers.
_THING = formats.RDF_DOCUMENT + (formats.HTML,)
_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_FOAF = "http://xmlns.com/foaf/0.1/"
_DCT = "http://purl.org/dc/terms/"
_XSD = "http://www.w3.org/2001/XMLSchema#"


def _store() -> Store:
    return current_app.extensions[EXTENSION]


def _path(kind: str, slug: str) -> str:
    return f"{kind}/{quote(slug, safe='')}"


def _links(kind: str, slug: str) -> list[tuple[str, str, str | None]]:
    return formats.document_links(_path(kind, slug), str(current_app.config["LICENSE"]))


def _etag(*parts: str) -> str:
    return formats.etag(_store().release.version, *parts)


# --- thing IRIs: 303 ----------------------------------------------------------------------------

@bp.route("/id/<kind>/<slug>")
def thing(kind: str, slug: str):
    resolve_thing(kind, slug)
    fmt = formats.negotiate(_THING, request.headers.get("Accept"), request.args.get("format"))
    path = _path(kind, slug)
    target = f"/page/{path}" if fmt is formats.HTML else f"/data/{path}.{fmt.key}"
    response = redirect(target, code=303)
    response.vary.add("Accept")
    response.headers["Link"] = f'</data/{path}.ttl>; rel="describedby"; type="text/turtle"'
    return response


# --- data documents ------------------------------------------------------------------------------

@bp.route("/data/<kind>/<slug>")
def data(kind: str, slug: str):
    store = _store()
    try:
        iri = resolve_thing(kind, slug)
        fmt = formats.negotiate(formats.RDF_DOCUMENT, request.headers.get("Accept"),
                                request.args.get("format"))
        negotiated = True
    except NotFound:
        stem, dot, ext = slug.rpartition(".")
        fmt = formats.by_extension(ext) if dot else None
        if fmt is None:
            raise
        iri = resolve_thing(kind, stem)
        slug, negotiated = stem, False
    path = _path(kind, slug)
    extra = _metadata(store, iri, f"{store.iris.base}data/{path}")
    body = store.describe(iri, fmt, incoming_limit=_incoming_limit(), extra=extra)
    return formats.document(
        body, fmt, request,
        etag=_etag("data", kind, slug, fmt.key),
        last_modified=store.release.built,
        links=_links(kind, slug),
        content_location=f"/data/{path}.{fmt.key}",
        negotiated=negotiated,
    )


def _incoming_limit() -> int:
    return int(current_app.config["INCOMING_LINKS_LIMIT"])


def _metadata(store: Store, iri: str, document: str) -> list[tuple]:
    release = store.release
    triples: list[tuple] = [
        (document, _RDF_TYPE, _FOAF + "Document"),
        (document, _FOAF + "primaryTopic", iri),
        (document, "http://rdfs.org/ns/void#inDataset", store.iris.dataset),
        (document, _DCT + "license", str(current_app.config["LICENSE"])),
        (document, _DCT + "hasVersion", Term("literal", release.version)),
        (document, "http://www.w3.org/ns/prov#wasDerivedFrom",
         f"{store.iris.base}releases/{release.version}/data.nt"),
        (document, _DCT + "modified",
         Term("literal", release.built.isoformat(), datatype=_XSD + "dateTime")),
    ]
    limit = _incoming_limit()
    if store.incoming_count(iri) > limit:
        rest = f"SELECT ?s ?p WHERE {{ ?s ?p <{iri}> }} ORDER BY ?p ?s OFFSET {limit}"
        triples.append((document, "http://www.w3.org/2000/01/rdf-schema#seeAlso",
                        store.iris.base + query_url(rest).lstrip("/")))
    return triples


# --- dataset description and dumps ---------------------------------------------------------------

@bp.route("/.well-known/void")
def void():
    store = _store()
    fmt = formats.negotiate(formats.RDF_DOCUMENT, request.headers.get("Accept"),
                            request.args.get("format"))
    return formats.document(
        store.graph("void", fmt), fmt, request,
        etag=_etag("void", fmt.key), last_modified=store.release.built,
        links=[(f"/.well-known/void?format={f.key}", "alternate", f.media_type)
               for f in formats.RDF_DOCUMENT]
        + [(str(current_app.config["LICENSE"]), "license", None)],
        content_location=f"/.well-known/void?format={fmt.key}",
    )


@bp.route("/releases/<version>/<name>")
def release_file(version: str, name: str):
    release = _store().release
    archived = archived_file(release, version, name) if version not in ("latest", release.version) else None
    if archived is not None:  # earlier releases stay reachable by version (server/lookup.py)
        path, media_type = archived
        manifest = json.loads((path.parent / "manifest.json").read_text(encoding="utf-8"))
        built = manifest.get("built_at")
        return _release_file(path, media_type, (manifest.get("files") or {}).get(name, {}),
                             datetime.fromisoformat(built) if built else None,
                             f"/releases/{version}/{name}", max_age=86400)
    if version not in ("latest", release.version):
        raise NotFound(f"Release {version} is not served here; the current release is "
                       f"{release.version} (also at /releases/latest/).")
    try:
        path = release.file(name)
    except KeyError:
        raise NotFound(f"Release {release.version} has no file {name}.") from None
    return _release_file(path, release.media_type(name), release.files.get(name, {}),
                         release.built, f"/releases/{release.version}/{name}", max_age=3600)


def _release_file(path, media_type: str, entry: dict, built, location: str, *, max_age: int):
    """A release file as it is, with a strong ``ETag`` = its SHA-256 (from the manifest, or of
    the bytes for ``manifest.json`` itself) and ``Last-Modified`` = the release's build time."""
    response = send_file(path, mimetype=media_type, conditional=False, etag=False,
                         last_modified=built, max_age=max_age)
    response.set_etag(entry.get("sha256") or hashlib.sha256(Path(path).read_bytes()).hexdigest())
    response.headers["Content-Location"] = location
    return response.make_conditional(request)
