"""Web tier: putting a release into an external SPARQL 1.1 engine, and checking that it is there.

Owns ``mkg load-remote``. The release folder is immutable, so loading is a one-off per release:
each of its graphs (``data.nt``, ``ontology.ttl``, ``shapes.ttl``, ``void.ttl``) is sent with the
SPARQL 1.1 Graph Store HTTP Protocol (``PUT <store>?graph=<{base}graph/{name}>``: replaces the
graph, so a re-run is harmless), then the engine is asked, through its query endpoint, how many
triples each graph holds and which release version its VoID graph names. The serving side is
:class:`server.store.RemoteStore`, selected by ``mkg serve --store URL`` (``STORE_URL``).

Engines whose bulk loaders are faster than HTTP (Virtuoso, QLever, Fuseki's tdb2.tdbloader,
``oxigraph load``) load the same files into the same graph names: see docs/scaling.md.

Errors: :class:`LoadError` (the engine refused or could not be reached, or holds other data).

May import: stdlib, ``store`` (the release reader), ``vocab``. Never flask, never the build modules.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from .store import RELEASE_FILES, Release

__all__ = ["Loaded", "LoadError", "MEDIA_TYPES", "count_graphs", "load_release", "release_version"]

#: Content types the Graph Store Protocol request announces, by file suffix.
MEDIA_TYPES = {".nt": "application/n-triples", ".ttl": "text/turtle"}
_DCTERMS_VERSION = "http://purl.org/dc/terms/hasVersion"


class LoadError(Exception):
    """The external engine refused the release, could not be reached, or holds other data."""


@dataclass(frozen=True)
class Loaded:
    """What the engine holds after a load: triples per graph name, and the release version."""

    graphs: dict[str, int]
    version: str | None


def _send(request: urllib.request.Request, timeout: float) -> bytes:
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read()[:300].decode("utf-8", "replace")
        raise LoadError(f"{request.get_method()} {request.full_url} answered {exc.code}: {detail}") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise LoadError(f"cannot reach {request.full_url}: {exc}") from exc


def _put_graph(store_url: str, graph: str, path: Path, timeout: float) -> None:
    separator = "&" if "?" in store_url else "?"
    url = f"{store_url}{separator}{urlencode({'graph': graph})}"
    with path.open("rb") as body:
        request = urllib.request.Request(url, data=body, method="PUT", headers={
            "Content-Type": MEDIA_TYPES[path.suffix], "Content-Length": str(path.stat().st_size)})
        _send(request, timeout)


def load_release(release: Release, store_url: str, timeout: float = 3600.0) -> list[str]:
    """PUT every graph of ``release`` to the Graph Store endpoint ``store_url``; return their IRIs.

    :raises LoadError: a graph was refused or the endpoint could not be reached.
    """
    loaded = []
    for name, graph in RELEASE_FILES.items():
        path = release.path / name
        if path.is_file():
            iri = release.iris.graph(graph)
            _put_graph(store_url, iri, path, timeout)
            loaded.append(iri)
    return loaded


def _select(query_url: str, query: str, timeout: float) -> list[dict]:
    request = urllib.request.Request(
        query_url, data=urlencode({"query": query}).encode("ascii"), method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded",
                 "Accept": "application/sparql-results+json"})
    try:
        return json.loads(_send(request, timeout))["results"]["bindings"]
    except (ValueError, KeyError) as exc:
        raise LoadError(f"{query_url} did not answer with SPARQL JSON results: {exc}") from exc


def count_graphs(release: Release, query_url: str, timeout: float = 600.0) -> dict[str, int]:
    """Triples per release graph (by short name) as the engine at ``query_url`` sees them."""
    counts = {}
    for graph in RELEASE_FILES.values():
        rows = _select(query_url, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{release.iris.graph(graph)}> "
                                  "{ ?s ?p ?o } }", timeout)
        counts[graph] = int(rows[0]["n"]["value"]) if rows else 0
    return counts


def release_version(release: Release, query_url: str, timeout: float = 60.0) -> str | None:
    """The release version named by the engine's VoID graph (None when there is none)."""
    rows = _select(query_url, f"SELECT ?v WHERE {{ GRAPH <{release.iris.graph('void')}> "
                              f"{{ <{release.iris.dataset}> <{_DCTERMS_VERSION}> ?v }} }}", timeout)
    return rows[0]["v"]["value"] if rows else None


def verify(release: Release, query_url: str, expected_triples: int | None = None) -> Loaded:
    """What the engine holds; :class:`LoadError` if it is not this release.

    ``expected_triples`` is the data graph's size (the manifest's ``counts.triples``).
    """
    loaded = Loaded(count_graphs(release, query_url), release_version(release, query_url))
    if loaded.version is not None and loaded.version != release.version:
        raise LoadError(f"the engine holds release {loaded.version}, not {release.version}; run mkg load-remote")
    if expected_triples is not None and loaded.graphs.get("data") != expected_triples:
        raise LoadError(f"the engine's data graph has {loaded.graphs.get('data')} triples, "
                        f"the release {expected_triples}; run mkg load-remote again")
    return loaded
