"""Web tier: the application factory and the one place where errors become HTTP responses.

``create_app(test_config=None)`` overlays the settings (``config.load()``, then ``test_config``),
opens the release once into a :class:`store.LocalStore` (a :class:`store.RemoteStore` when
``STORE_URL`` names a SPARQL endpoint; or takes a ready ``STORE`` from the config),
registers the blueprints, maps the error types to HTTP, and adds the cross-cutting response
headers (CORS for any origin without credentials, gzip with ``Vary: Accept-Encoding``).

Production: ``gunicorn -c python:server.gunicorn_conf 'server.app:create_app()'`` (server/gunicorn_conf.py).

May import: flask, werkzeug, config, vocab, formats, store and the blueprints (sparql,
resources, pages). Never the build modules, pyshacl or owlready2.
"""

from __future__ import annotations

import gzip
import logging
import re
from urllib.parse import unquote_to_bytes

from flask import Flask, Response, render_template, request
from werkzeug.exceptions import BadRequest, HTTPException, NotAcceptable, NotFound
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.urls import iri_to_uri

from . import config, formats, guard, limits, observability
from .executor import PooledStore, QueryPool, Settings
from .vocab import PREFIXES
from .store import (EXTENSION, LocalStore, QueryError, ReleaseError, RemoteStore, Store,
                    open_release)

__all__ = ["create_app"]

log = logging.getLogger(__name__)

_EXPOSED = "Link, ETag, Location, Content-Location, Last-Modified, Vary, Retry-After"
_METHODS = "GET, HEAD, POST, OPTIONS"
_COMPRESSIBLE = ("text/", "application/sparql-results", "application/n-triples",
                 "application/n-quads", "application/trig", "application/rdf+xml",
                 "application/ld+json", "application/json", "application/javascript")
_GZIP_MIN_BYTES = 512


class _UnavailableStore(Store):
    """Stands in when the release cannot be opened: every use raises :class:`ReleaseError`."""

    def __init__(self, reason: str):
        self.reason = reason

    @property
    def release(self):  # type: ignore[override]
        raise ReleaseError(self.reason)

    def _fail(self, *args, **kwargs):
        raise ReleaseError(self.reason)

    execute = select = construct = graph = counts = _fail


def _open_store(app: Flask) -> Store:
    if app.config.get("STORE") is not None:
        return app.config["STORE"]
    try:
        release = open_release(app.config["RELEASE_DIR"], app.config["BASE_IRI"])
        guard.verify_release(release.path)
        if app.config.get("STORE_URL"):
            return RemoteStore(release, str(app.config["STORE_URL"]))
        local = LocalStore(release)
    except (ReleaseError, guard.ReleaseMismatch) as exc:
        log.error("release unavailable: %s", exc)
        return _UnavailableStore(str(exc))
    if int(app.config["QUERY_WORKERS"]) <= 0:
        return local
    pool = QueryPool(release.path, release.base_iri, Settings.from_config(app.config))
    pool.start()  # warm up now, without blocking: a query that comes first waits within its budget
    return PooledStore(local, pool, app.config)


def _register_health(app: Flask) -> None:
    store = app.extensions[EXTENSION]

    def release() -> dict:
        try:
            return {"version": store.release.version, "triples": store.counts()["triples"]}
        except ReleaseError as exc:
            raise RuntimeError(str(exc)) from exc

    observability.add_health_check(app, "release", release)
    if isinstance(store, PooledStore):
        pool = store.pool
        observability.add_health_check(
            app, "query_workers", lambda: pool.status() if pool.healthy() else False)
        observability.add_metric_source(app, lambda: _pool_gauges(pool))


def _pool_gauges(pool: QueryPool) -> list[tuple]:
    status = pool.status()
    states: dict[tuple[str, str], int] = {}
    for worker in status["workers"]:
        key = (worker["lane"], worker["state"])
        states[key] = states.get(key, 0) + 1
    gauges = [("mkg_query_workers", "Query worker processes by lane and state.",
               {"lane": lane, "state": state}, count) for (lane, state), count in states.items()]
    gauges.append(("mkg_query_worker_restarts", "Query workers replaced since start.", {},
                   status["restarts"]))
    return gauges


def create_app(test_config: dict | None = None) -> Flask:
    """Build the publisher application."""
    app = Flask(__name__)
    app.config.from_mapping(config.load())
    if test_config:
        app.config.from_mapping(test_config)
    app.config.setdefault("MAX_CONTENT_LENGTH", int(app.config["MAX_BODY_BYTES"]))
    app.json.sort_keys = False
    app.extensions[EXTENSION] = _open_store(app)
    observability.init_app(app)
    limits.init_app(app)
    _register_health(app)

    from . import lookup, pages, reconcile, resources, sparql

    app.register_blueprint(sparql.bp)
    app.register_blueprint(resources.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(lookup.bp)
    app.register_blueprint(reconcile.bp)
    _register_template_helpers(app)
    _register_errors(app)
    app.before_request(_utf8_query_string)
    app.before_request(_preflight)
    app.after_request(_cors)
    app.after_request(_compress)
    return app


# --- templates -------------------------------------------------------------------------------

def _register_template_helpers(app: Flask) -> None:
    from .sparql import examples

    def base() -> str:
        store = app.extensions[EXTENSION]
        try:
            return store.iris.base
        except ReleaseError:
            return str(app.config["BASE_IRI"])

    def href(iri: str) -> str:
        """A link that works on this server for our IRIs; other IRIs unchanged."""
        root = base()
        if iri.startswith(root):
            return iri_to_uri("/" + iri[len(root):])
        return iri

    def curie(iri: str) -> str:
        names = {"mkg": base() + "ontology#", "shapes": base() + "shapes#", **PREFIXES}
        for prefix, ns in names.items():
            if iri.startswith(ns) and len(iri) > len(ns):
                return f"{prefix}:{iri[len(ns):]}"
        root = base()
        if iri.startswith(root + "id/"):
            return iri[len(root) + 3:]
        return iri

    def prefix_block(prefixes: dict[str, str]) -> str:
        return "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in prefixes.items()) + "\n"

    def has_prologue(text: str) -> bool:
        return re.search(r"^\s*PREFIX\s", text, re.IGNORECASE | re.MULTILINE) is not None

    def example_url(text: str) -> str:
        if not has_prologue(text):
            text = prefix_block({"mkg": base() + "ontology#", **PREFIXES}) + text
        return formats.query_url(text, "html")

    app.jinja_env.filters.update(href=href, curie=curie)
    app.jinja_env.globals.update(prefix_block=prefix_block, examples=examples, has_prologue=has_prologue,
                                 query_url=formats.query_url, example_url=example_url)


# --- errors: the one mapping to HTTP -------------------------------------------------------

def _wants_html() -> bool:
    best = formats.parse_accept(request.headers.get("Accept")).best_match(
        ["text/plain", "text/html"])
    return best == "text/html" and "text/html" in request.headers.get("Accept", "")


def _error(status: int, title: str, message: str, headers: dict | None = None) -> Response:
    if _wants_html():
        body = render_template("error.html", status=status, title=title, message=message)
        response = Response(body, status, content_type="text/html; charset=utf-8")
    else:
        response = Response(f"{status} {title}\n\n{message}\n", status,
                            content_type="text/plain; charset=utf-8")
    response.headers.add("Vary", "Accept")
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _register_errors(app: Flask) -> None:
    @app.errorhandler(QueryError)
    def query_error(exc: QueryError):
        return _error(400, "Bad Request", f"The query could not be run: {exc}")

    @app.errorhandler(ReleaseError)
    def release_error(exc: ReleaseError):
        return _error(503, "Service Unavailable", f"The data release is not available: {exc}",
                      {"Retry-After": "60"})

    @app.errorhandler(limits.ServiceError)
    def service_error(exc: limits.ServiceError):
        observability.note_error(exc)
        return _error(exc.status, HTTP_STATUS_CODES.get(exc.status, "Error"), exc.message,
                      exc.headers)

    @app.errorhandler(NotAcceptable)
    def not_acceptable(exc: NotAcceptable):
        offered = getattr(exc, "offered", ())
        message = exc.description or ""
        response = _error(406, "Not Acceptable", message)
        if offered:
            response.headers["Link"] = ", ".join(
                f'<{request.path}?format={f.key}>; rel="alternate"; type="{f.media_type}"'
                for f in offered)
        return response

    @app.errorhandler(NotFound)
    def not_found(exc: NotFound):
        message = exc.description if exc.description != NotFound.description else (
            f"Nothing is published at {request.path}.")
        return _error(404, "Not Found", message)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        headers = {k: v for k, v in exc.get_headers() if k.lower() in ("allow", "retry-after")}
        return _error(exc.code or 500, exc.name, exc.description or "", headers)


# --- cross-cutting headers -----------------------------------------------------------------

def _utf8_query_string():
    """400 for a query string whose percent-escapes are not UTF-8 (RFC 3986 §2.5, SPARQL 1.1
    Protocol 2.1.1): Werkzeug would keep ``%E9`` as the three characters and answer for them."""
    try:
        unquote_to_bytes(request.query_string).decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("The query string is not UTF-8: percent-encode the UTF-8 bytes of "
                         "each character (é is %C3%A9).") from None


def _preflight():
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        response = Response(status=204)
        response.headers["Access-Control-Allow-Methods"] = _METHODS
        requested = request.headers.get("Access-Control-Request-Headers")
        response.headers["Access-Control-Allow-Headers"] = (
            requested or "Accept, Content-Type, If-None-Match, If-Modified-Since")
        response.headers["Access-Control-Max-Age"] = "86400"
        return response
    return None


def _cors(response: Response) -> Response:
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = _EXPOSED
    return response


def _compress(response: Response) -> Response:
    mimetype = response.mimetype or ""
    if not mimetype.startswith(_COMPRESSIBLE) or response.direct_passthrough:
        return response
    response.vary.add("Accept-Encoding")
    if (response.status_code != 200 or "Content-Encoding" in response.headers
            or request.accept_encodings["gzip"] <= 0):
        return response
    data = response.get_data()
    if len(data) < _GZIP_MIN_BYTES:
        return response
    response.set_data(gzip.compress(data, mtime=0))
    response.headers["Content-Encoding"] = "gzip"
    return response
