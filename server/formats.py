"""Web tier: media types and content negotiation.

Owns the table of the formats the publisher produces (SPARQL results, RDF, HTML), the
``format=`` parameter and file-extension names for them, and negotiation on the ``Accept``
header with Werkzeug's :class:`~werkzeug.datastructures.MIMEAccept`. Engine-neutral: formats are
named by short keys (``"json"``, ``"ttl"``…); ``store.py`` maps keys to the engine's serializers.

May import: werkzeug. Nothing from the project, no RDF engine.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from urllib.parse import urlencode

from werkzeug.datastructures import MIMEAccept
from werkzeug.exceptions import BadRequest, NotAcceptable
from werkzeug.http import parse_accept_header

__all__ = [
    "Format",
    "FORMATS",
    "RESULTS",
    "GRAPH",
    "DATASET",
    "HTML",
    "RDF_DOCUMENT",
    "BadFormat",
    "NoAcceptableFormat",
    "by_extension",
    "document",
    "document_links",
    "etag",
    "by_key",
    "content_type",
    "negotiate",
    "parse_accept",
    "query_url",
]


@dataclass(frozen=True)
class Format:
    """One representation we can produce."""

    key: str  # short name: format= value and file extension
    media_type: str
    label: str
    aliases: tuple[str, ...] = ()


_JSON = Format("json", "application/sparql-results+json", "SPARQL JSON", ("srj",))
_XML = Format("xml", "application/sparql-results+xml", "SPARQL XML", ("srx",))
_CSV = Format("csv", "text/csv", "CSV")
_TSV = Format("tsv", "text/tab-separated-values", "TSV")
_TTL = Format("ttl", "text/turtle", "Turtle", ("turtle",))
_NT = Format("nt", "application/n-triples", "N-Triples", ("ntriples", "n-triples"))
_RDF = Format("rdf", "application/rdf+xml", "RDF/XML", ("rdfxml", "owl"))
_JSONLD = Format("jsonld", "application/ld+json", "JSON-LD", ("json-ld",))
_NQ = Format("nq", "application/n-quads", "N-Quads", ("nquads", "n-quads"))
_TRIG = Format("trig", "application/trig", "TriG")
_HTML = Format("html", "text/html", "HTML", ("htm",))

#: SELECT / ASK results, in server preference order (JSON first: the default for ``*/*``).
RESULTS: tuple[Format, ...] = (_JSON, _XML, _CSV, _TSV)
#: CONSTRUCT / DESCRIBE results and RDF documents (Turtle first: the default for ``*/*``).
GRAPH: tuple[Format, ...] = (_TTL, _NT, _RDF, _JSONLD, _NQ, _TRIG)
#: The four formats of a data document (``/data/{kind}/{slug}.{ext}``).
RDF_DOCUMENT: tuple[Format, ...] = (_TTL, _NT, _RDF, _JSONLD)
DATASET: tuple[Format, ...] = (_NQ, _TRIG)
HTML = _HTML
FORMATS: tuple[Format, ...] = RESULTS + GRAPH + (_HTML,)


class BadFormat(BadRequest):
    """A ``format=`` value that names no format we know (400)."""


class NoAcceptableFormat(NotAcceptable):
    """Nothing acceptable can be produced (406); lists the available media types."""

    def __init__(self, offered: tuple[Format, ...]):
        self.offered = offered
        types = ", ".join(f.media_type for f in offered)
        super().__init__(f"None of the requested media types can be produced. Available: {types}.")


def by_key(key: str, offered: tuple[Format, ...]) -> Format | None:
    """The offered format named ``key`` (short name, alias or media type), else None."""
    key = key.strip().lower()
    for fmt in offered:
        if key in (fmt.key, fmt.media_type) or key in fmt.aliases:
            return fmt
    return None


def by_extension(ext: str, offered: tuple[Format, ...] = RDF_DOCUMENT) -> Format | None:
    """The offered format whose file extension is ``ext`` (no aliases), else None."""
    for fmt in offered:
        if fmt.key == ext:
            return fmt
    return None


def _known(key: str) -> bool:
    return by_key(key, FORMATS) is not None


def parse_accept(header: str | None) -> MIMEAccept:
    """The ``Accept`` header as a MIMEAccept; a missing or empty header accepts anything.

    A ``charset=utf-8`` parameter is dropped from each media range (what we produce is UTF-8);
    Werkzeug would otherwise match ``text/csv; charset=utf-8`` to nothing.
    """
    accept = parse_accept_header(header or "*/*", MIMEAccept)
    if not any(";" in value for value, _ in accept):
        return accept
    return MIMEAccept([(_without_utf8_charset(value), q) for value, q in accept])


def _without_utf8_charset(value: str) -> str:
    media, *params = value.split(";")
    kept = [p for p in params if p.replace(" ", "").lower().replace('"', "")
            not in ("charset=utf-8", "charset=utf8")]
    return ";".join([media] + kept)


def negotiate(
    offered: tuple[Format, ...], accept: str | None, format_key: str | None = None
) -> Format:
    """Pick the format to produce.

    ``format_key`` (the ``format=`` parameter) wins over ``Accept``. Otherwise the client's best
    match among ``offered``; ties go to the earlier offered format.

    :raises BadFormat: ``format_key`` names no known format.
    :raises NoAcceptableFormat: nothing offered is acceptable.
    """
    if format_key:
        fmt = by_key(format_key, offered)
        if fmt is not None:
            return fmt
        if _known(format_key):
            raise NoAcceptableFormat(offered)
        raise BadFormat(f"Unknown format {format_key!r}. Use one of: "
                        + ", ".join(f.key for f in offered) + ".")
    mime = parse_accept(accept)
    best = mime.best_match([f.media_type for f in offered])
    if best is None:
        raise NoAcceptableFormat(offered)
    return next(f for f in offered if f.media_type == best)


def content_type(fmt: Format) -> str:
    """The exact ``Content-Type`` header for ``fmt``: text types carry ``charset=utf-8``."""
    if fmt.media_type.startswith("text/"):
        return f"{fmt.media_type}; charset=utf-8"
    return fmt.media_type


def document(
    body: bytes | str,
    fmt: Format,
    request,
    *,
    etag: str,
    last_modified,
    links: list[tuple[str, str, str | None]] = (),
    content_location: str | None = None,
    negotiated: bool = True,
    max_age: int = 3600,
):
    """A cacheable 200 (or 304) response for one representation of a document.

    ``links`` are ``(target, rel, media type or None)``; ``etag`` is made weak, since the
    representation may be gzipped on the way out. Conditional requests are answered here.
    """
    from werkzeug.wrappers import Response

    response = Response(body, content_type=content_type(fmt))
    if negotiated:
        response.vary.add("Accept")
    if content_location:
        response.headers["Content-Location"] = content_location
    if links:
        response.headers["Link"] = ", ".join(
            f'<{target}>; rel="{rel}"' + (f'; type="{media}"' if media else "")
            for target, rel, media in links)
    response.set_etag(etag, weak=True)
    response.last_modified = last_modified
    response.cache_control.public = True
    response.cache_control.max_age = max_age
    return response.make_conditional(request)


def query_url(query: str, fmt: str | None = None) -> str:
    """The path that runs ``query`` on ``/sparql`` (optionally in format ``fmt``)."""
    params = {"query": query}
    if fmt:
        params["format"] = fmt
    return "/sparql?" + urlencode(params)


def etag(version: str, *parts: str) -> str:
    """A validator derived from the release version and what the representation is of."""
    digest = hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()[:16]
    return f"{version}-{digest}"


def document_links(path: str, license_iri: str) -> list[tuple[str, str, str | None]]:
    """``Link`` entries for the documents about the thing at ``{kind}/{slug}`` = ``path``."""
    links = [(f"/data/{path}.{f.key}", "alternate", f.media_type) for f in RDF_DOCUMENT]
    links.append((f"/page/{path}", "alternate", "text/html"))
    links.append((f"/id/{path}", "about", None))
    links.append((license_iri, "license", None))
    links.append(("/.well-known/void", "describedby", "text/turtle"))
    return links
