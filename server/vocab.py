"""Shared: namespaces and the IRI scheme (docs/architecture.md).

Every IRI the project mints comes from :class:`Iris`, built from the one base-IRI setting.
Pure functions only: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["KINDS", "PREFIXES", "Iris"]

KINDS = frozenset(
    {
        "doc", "segment", "source", "person", "org", "event", "place", "actor", "post", "role",
        "assertion", "evidence", "name", "time", "quantity", "dataset", "curation",
    }
)

# Well-known prefixes, shared by the build (Turtle output) and the web tier (query editor).
PREFIXES: dict[str, str] = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "skosxl": "http://www.w3.org/2008/05/skos-xl#",
    "dcterms": "http://purl.org/dc/terms/",
    "prov": "http://www.w3.org/ns/prov#",
    "org": "http://www.w3.org/ns/org#",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "oa": "http://www.w3.org/ns/oa#",
    "time": "http://www.w3.org/2006/time#",
    "sh": "http://www.w3.org/ns/shacl#",
    "void": "http://rdfs.org/ns/void#",
    "dcat": "http://www.w3.org/ns/dcat#",
    "vann": "http://purl.org/vocab/vann/",
    "schema": "https://schema.org/",
    "sd": "http://www.w3.org/ns/sparql-service-description#",
    "wd": "http://www.wikidata.org/entity/",
    "gn": "https://sws.geonames.org/",
}


@dataclass(frozen=True)
class Iris:
    """The IRI scheme for one base IRI (which must end with ``/``)."""

    base: str

    def __post_init__(self) -> None:
        if not self.base.endswith("/"):
            raise ValueError(f"base IRI must end with '/': {self.base!r}")

    @property
    def ontology(self) -> str:
        """The ontology IRI; terms are ``{ontology}#{Term}``."""
        return self.base + "ontology"

    @property
    def mkg(self) -> str:
        """The ontology namespace (``mkg:``)."""
        return self.base + "ontology#"

    @property
    def shapes(self) -> str:
        return self.base + "shapes"

    @property
    def shapes_ns(self) -> str:
        return self.base + "shapes#"

    @property
    def dataset(self) -> str:
        return self.base + "id/dataset/mkg"

    def graph(self, name: str) -> str:
        """Named graph of one release component: data, ontology, shapes or void."""
        return f"{self.base}graph/{name}"

    def mint(self, kind: str, local_id: str) -> str:
        """The thing IRI ``{base}id/{kind}/{local_id}``."""
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}; expected one of {sorted(KINDS)}")
        if not local_id or "/" in local_id or any(c.isspace() for c in local_id):
            raise ValueError(f"bad local id {local_id!r}: no '/', no spaces, not empty")
        return f"{self.base}id/{kind}/{local_id}"

    def entity(self, entity_id: str) -> str:
        """The IRI of an entity id written as ``kind/slug`` in the data files."""
        kind, _, slug = entity_id.partition("/")
        return self.mint(kind, slug)

    def split(self, iri: str) -> tuple[str, str] | None:
        """``(kind, local_id)`` for a thing IRI of this base, else None."""
        prefix = self.base + "id/"
        if not iri.startswith(prefix):
            return None
        kind, sep, local_id = iri[len(prefix):].partition("/")
        if not sep or kind not in KINDS or not local_id or "/" in local_id:
            return None
        return kind, local_id

    def page(self, kind: str, local_id: str) -> str:
        return f"{self.base}page/{kind}/{local_id}"

    def data(self, kind: str, local_id: str, ext: str) -> str:
        return f"{self.base}data/{kind}/{local_id}.{ext}"
