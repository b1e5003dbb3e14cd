"""Web tier: finding our resources from outside (docs/linking.md).

Owns the blueprint with

- ``GET /lookup?uri=<external or own IRI>``: 303 to our thing IRI linked to a Wikidata or
  GeoNames identifier (any common spelling of its IRI), 404 when we link none;
- ``GET /api/search?q=&type=&limit=&offset=``: JSON label search over preferred and alternative
  labels and name attestations, case- and accent-insensitive, prefix then fuzzy, with type filters;
- ``GET /sitemap.xml`` and ``GET /robots.txt`` for crawlers and aggregators;

and the per-release name index shared with :mod:`server.reconcile` (:func:`names`), plus the
hook the resources blueprint calls before it answers for an IRI: :func:`check_retired` (308 to
the replacement of a merged IRI, 410 Gone with the reason for a removed one).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from pathlib import Path
from xml.sax.saxutils import escape

from flask import Blueprint, Response, abort, current_app, jsonify, redirect, request
from werkzeug.exceptions import BadRequest, Gone, NotFound

from server.index import NameIndex, Retired, build_index
from server.store import EXTENSION

__all__ = ["INDEX_EXTENSION", "archived_file", "bp", "check_retired", "names", "resolve_thing", "retired"]

bp = Blueprint("lookup", __name__)

#: Key of the cached ``(version, NameIndex)`` in ``app.extensions``.
INDEX_EXTENSION = "mkg.names"
_LOCK = threading.Lock()
_MAX_LIMIT = 100
_SITEMAP_MAX = 50_000
_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def names() -> NameIndex:
    """The name index of the release the app serves, built on first use per release version."""
    store = current_app.extensions[EXTENSION]
    version = store.release.version
    cached = current_app.extensions.get(INDEX_EXTENSION)
    if cached is not None and cached.version == version:
        return cached
    with _LOCK:
        cached = current_app.extensions.get(INDEX_EXTENSION)
        if cached is None or cached.version != version:
            cached = build_index(store, version, store.release.iris)
            current_app.extensions[INDEX_EXTENSION] = cached
    return cached


def retired(iri: str) -> Retired | None:
    """The retirement of one of our IRIs (``owl:deprecated`` in the release), else None."""
    return names().retired.get(iri)


def _moved_path(path: str, old: str, new: str) -> str:
    index = names()
    old_parts, new_parts = index.iris.split(old), index.iris.split(new)
    if not old_parts or not new_parts:
        return new
    return path.replace("/".join(old_parts), "/".join(new_parts), 1)


def resolve_thing(kind: str, slug: str) -> str:
    """The IRI of the thing ``{kind}/{slug}``, for the blueprints that answer for it.

    :raises NotFound: unknown kind, or nothing is said about that IRI.
    :raises Gone: (or a 308 redirect) the IRI was retired; see :func:`check_retired`.
    """
    iri = current_app.extensions[EXTENSION].resolve(kind, slug)
    if iri is None:
        raise NotFound(f"Nothing is published about {kind}/{slug}.")
    check_retired(iri)
    return iri


def check_retired(iri: str) -> None:
    """For the blueprints that answer for one of our IRIs (``/id/``, ``/page/``, ``/data/``).

    Raises :class:`werkzeug.exceptions.Gone` with the reason when ``iri`` was removed, and
    aborts with a 308 Permanent Redirect to the same kind of URL of the replacement when it
    was merged (``dcterms:isReplacedBy``). Returns normally for an IRI that is not retired.
    """
    item = retired(iri)
    if item is None:
        return
    if item.replaced_by is None:
        raise Gone(f"{iri} was withdrawn from this dataset and will not come back. "
                   f"Reason: {item.reason or 'not recorded'} Earlier releases stay available "
                   "under /releases/.")
    location = request.root_url.rstrip("/") + _moved_path(request.path, iri, item.replaced_by)
    if request.query_string:
        location += "?" + request.query_string.decode("latin-1")
    response = redirect(location, 308)
    response.set_data(f"{iri} was merged into {item.replaced_by}. Reason: {item.reason}\n")
    response.mimetype = "text/plain"
    response.headers["Link"] = f'<{item.replaced_by}>; rel="successor-version"'
    abort(response)


def archived_file(release, version: str, name: str) -> tuple[Path, str] | None:
    """``(path, media type)`` of a file of an earlier release kept beside the current one
    (``versions/<version>/``), when its manifest lists it and its checksum matches; else None."""
    if not _VERSION.fullmatch(version):
        return None
    folder = Path(release.path).parent / version
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    entry = (manifest.get("files") or {}).get(name) if name != "manifest.json" else {}
    path = folder / name
    if entry is None or not path.is_file():
        return None
    if entry.get("sha256") and hashlib.sha256(path.read_bytes()).hexdigest() != entry["sha256"]:
        return None
    return path, entry.get("media_type") or "application/json"


@bp.get("/lookup")
def lookup():
    """303 to the thing we link to an external IRI (or to the replacement of a retired IRI)."""
    uri = (request.args.get("uri") or "").strip()
    if not uri:
        raise BadRequest("Give the IRI to look up: /lookup?uri=http://www.wikidata.org/entity/Q232")
    index = names()
    entity = index.by_external_iri(uri) or index.get(uri)
    if entity is not None:
        return _see_other(entity.iri)
    item = index.retired.get(uri)
    if item is not None and item.replaced_by:
        return _see_other(item.replaced_by)
    raise NotFound(f"No resource of this dataset is linked to {uri}. Only verified Wikidata and "
                   "GeoNames identifiers are linked; try /api/search?q=<name>.")


def _see_other(location: str) -> Response:
    response = redirect(location, 303)
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"{name} must be an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise BadRequest(f"{name} must be between {low} and {high}, got {value}")
    return value


def _type_args() -> list[str]:
    return [t.strip() for raw in request.args.getlist("type") for t in raw.split(",") if t.strip()]


def search_result(index: NameIndex, match) -> dict:
    """One search hit as JSON."""
    entity = match.entity
    kind, slug = entity.id.split("/", 1)
    hit = {
        "id": entity.id,
        "iri": entity.iri,
        "page": index.iris.page(kind, slug),
        "label": entity.label,
        "match": match.matched,
        "score": round(match.similarity * 100, 1),
        "kind": kind,
        "types": [{"id": t, "name": index.type_name(t)} for t in sorted(entity.types)],
    }
    if entity.description:
        hit["description"] = entity.description
    return hit


@bp.get("/api/search")
def search():
    """Label search for autocomplete: ``q`` (required), ``type`` (class or kind; repeatable or
    comma-separated), ``limit`` (1–100, default 10), ``offset``."""
    query = (request.args.get("q") or "").strip()
    if not query:
        raise BadRequest("Give a name to search for: /api/search?q=Jund")
    limit = _int_arg("limit", 10, 1, _MAX_LIMIT)
    offset = _int_arg("offset", 0, 0, 10_000)
    types = _type_args()
    index = names()
    hits = index.search(query, types)
    response = jsonify({
        "query": query, "types": types, "limit": limit, "offset": offset, "total": len(hits),
        "version": index.version,
        "results": [search_result(index, m) for m in hits[offset:offset + limit]],
    })
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


def _page_urls(index: NameIndex) -> list[str]:
    store = current_app.extensions[EXTENSION]
    graph = index.iris.graph("data")
    rows = store.select(
        f'SELECT DISTINCT ?s WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} '
        f'FILTER(isIRI(?s) && STRSTARTS(STR(?s), "{index.iris.base}id/")) }}')
    urls = set()
    for row in rows:
        iri = str(row["s"].value)
        parts = index.iris.split(iri)
        if parts and iri not in index.retired and parts[0] != "dataset":
            urls.add(index.iris.page(*parts))
    return sorted(urls)


@bp.get("/sitemap.xml")
def sitemap():
    """Every page URL of the current release (sitemaps.org protocol)."""
    index = names()
    urls = [index.iris.base, index.iris.ontology] + _page_urls(index)
    lastmod = current_app.extensions[EXTENSION].release.built.date().isoformat()
    body = ['<?xml version="1.0" encoding="UTF-8"?>',
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    body += [f"  <url><loc>{escape(u)}</loc><lastmod>{lastmod}</lastmod></url>"
             for u in urls[:_SITEMAP_MAX]]
    body.append("</urlset>\n")
    return _validated(Response("\n".join(body), mimetype="application/xml"))


@bp.get("/robots.txt")
def robots():
    """Allow every crawler everywhere and point to the sitemap."""
    base = current_app.extensions[EXTENSION].release.iris.base
    return _validated(Response(f"User-agent: *\nAllow: /\n\nSitemap: {base}sitemap.xml\n",
                               mimetype="text/plain"))


def _validated(response: Response) -> Response:
    """A crawler file of the current release with a weak ``ETag`` (release version and path),
    ``Last-Modified`` (the build time), and 304 for ``If-None-Match``/``If-Modified-Since``."""
    release = current_app.extensions[EXTENSION].release
    response.set_etag(f"{release.version}-{request.path.strip('/')}", weak=True)
    response.last_modified = release.built
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response.make_conditional(request)
