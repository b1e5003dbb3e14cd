"""Shared: links with the rest of the Web of Data (docs/linking.md).

Owns, as pure functions usable by both tiers:

- the allow-list of verified external identifiers (``data/verified-links.yaml``) and the check
  that every ``links:`` entry of the curated entities is on it (:func:`check_links`);
- the VoID linksets the build writes (:func:`linksets`);
- external IRI forms (:func:`external_iri`, :func:`parse_external`);
- name normalisation and fuzzy scoring for lookup and reconciliation (:func:`normalise`,
  :func:`translit_key`, :func:`similarity`);
- the schema.org ``Dataset`` description of the home page (:func:`dataset_jsonld`).

No I/O except the two loaders, which read the file they are given.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from rdflib import Literal, URIRef
from rdflib.namespace import RDF, SKOS, XSD, DCTERMS

from server.vocab import Iris

__all__ = [
    "TARGETS",
    "LinkError",
    "LinkProblem",
    "VerifiedLink",
    "VerifiedLinks",
    "check_links",
    "dataset_jsonld",
    "external_iri",
    "linksets",
    "load_verified",
    "normalise",
    "parse_external",
    "similarity",
    "translit_key",
]

VOID = "http://rdfs.org/ns/void#"
PROV = "http://www.w3.org/ns/prov#"


@dataclass(frozen=True)
class Target:
    """An external dataset we link to."""

    name: str
    title: str
    homepage: str
    uri_space: str
    id_pattern: str

    def iri(self, ident: str) -> str:
        suffix = "/" if self.name == "geonames" else ""
        return f"{self.uri_space}{ident}{suffix}"


TARGETS: dict[str, Target] = {
    "wikidata": Target("wikidata", "Wikidata", "https://www.wikidata.org/",
                       "http://www.wikidata.org/entity/", r"Q[1-9][0-9]*"),
    "geonames": Target("geonames", "GeoNames", "https://www.geonames.org/",
                       "https://sws.geonames.org/", r"[1-9][0-9]*"),
}

_EXTERNAL_FORMS = [
    ("wikidata", re.compile(r"^(?:https?://)?(?:www\.|m\.)?wikidata\.org/(?:entity|wiki)/(?:Special:EntityData/)?(Q[1-9][0-9]*)(?:\.[a-z]+)?/?$")),
    ("wikidata", re.compile(r"^wd:(Q[1-9][0-9]*)$")),
    ("geonames", re.compile(r"^(?:https?://)?(?:sws\.|www\.)?geonames\.org/([1-9][0-9]*)(?:/.*)?$")),
    ("geonames", re.compile(r"^gn:([1-9][0-9]*)/?$")),
]


class LinkError(ValueError):
    """An allow-list or retired-ids file that cannot be used."""


@dataclass(frozen=True)
class VerifiedLink:
    target: str
    id: str
    label: str
    verified_in: str
    identity_certain: bool = False

    @property
    def iri(self) -> str:
        return external_iri(self.target, self.id)


@dataclass(frozen=True)
class VerifiedLinks:
    """The allow-list, keyed by ``(target, id)``."""

    rows: Mapping[tuple[str, str], VerifiedLink]

    def get(self, target: str, ident: str) -> VerifiedLink | None:
        return self.rows.get((str(target), str(ident)))

    def __contains__(self, key: object) -> bool:
        return key in self.rows

    def __len__(self) -> int:
        return len(self.rows)


@dataclass(frozen=True)
class LinkProblem:
    """One problem with the curated links or retired ids, phrased for a curator."""

    entity: str
    message: str

    def __str__(self) -> str:
        return f"{self.entity}: {self.message}"


def external_iri(target: str, ident: str) -> str:
    """The IRI of an external identifier: ``http://www.wikidata.org/entity/Q232``,
    ``https://sws.geonames.org/1522867/``."""
    try:
        return TARGETS[target].iri(ident)
    except KeyError:
        raise LinkError(f"unknown link target {target!r}; expected one of {sorted(TARGETS)}") from None


def parse_external(text: str) -> tuple[str, str] | None:
    """``(target, id)`` for any common spelling of a Wikidata or GeoNames IRI, else None.

    Accepts entity and wiki page IRIs, http and https, with or without ``www.``, GeoNames
    page URLs (``https://www.geonames.org/1522867/kazakhstan.html``) and ``wd:``/``gn:`` CURIEs.
    """
    text = text.strip()
    for target, pattern in _EXTERNAL_FORMS:
        found = pattern.match(text)
        if found:
            return target, found.group(1)
    return None


# --------------------------------------------------------------------------- allow-list


def _row(raw: object, n: int) -> VerifiedLink:
    if not isinstance(raw, Mapping):
        raise LinkError(f"row {n}: expected a mapping, got {type(raw).__name__}")
    missing = [k for k in ("target", "id", "label", "verified_in") if not raw.get(k)]
    if missing:
        raise LinkError(f"row {n}: missing {', '.join(missing)}")
    target, ident = str(raw["target"]), str(raw["id"])
    if target not in TARGETS:
        raise LinkError(f"row {n}: unknown target {target!r}; expected one of {sorted(TARGETS)}")
    if not re.fullmatch(TARGETS[target].id_pattern, ident):
        raise LinkError(f"row {n}: {ident!r} is not a {TARGETS[target].title} identifier")
    identity = raw.get("identity")
    if identity not in (None, "certain"):
        raise LinkError(f"row {n}: identity must be 'certain' or absent, got {identity!r}")
    return VerifiedLink(target, ident, str(raw["label"]), str(raw["verified_in"]), identity == "certain")


def load_verified(path: str | Path) -> VerifiedLinks:
    """Read ``data/verified-links.yaml`` (a list of rows); raise :class:`LinkError` if unusable."""
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or []
    if not isinstance(raw, list):
        raise LinkError(f"{path}: expected a list of rows")
    rows: dict[tuple[str, str], VerifiedLink] = {}
    for n, item in enumerate(raw, start=1):
        link = _row(item, n)
        if (link.target, link.id) in rows:
            raise LinkError(f"{path}: row {n}: {link.target} {link.id} is listed twice")
        rows[(link.target, link.id)] = link
    return VerifiedLinks(rows)


def _field(obj: object, name: str, default: Any = None) -> Any:
    """Read ``name`` from a mapping or an object (the build's dataclasses or raw YAML)."""
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _entity_items(entities: object) -> Iterable[tuple[str, object]]:
    if isinstance(entities, Mapping):
        return entities.items()
    return ((str(_field(e, "id")), e) for e in entities)  # type: ignore[union-attr]


def _check_one(entity_id: str, link: object, verified: VerifiedLinks) -> list[str]:
    target, ident = _field(link, "target"), _field(link, "id")
    if target not in TARGETS:
        return [f"link target {target!r} is not one of {sorted(TARGETS)}. Use wikidata or geonames."]
    if ident is None or not re.fullmatch(TARGETS[target].id_pattern, str(ident)):
        return [f"{ident!r} is not a {TARGETS[target].title} identifier. Write e.g. "
                f"{'Q232' if target == 'wikidata' else '1522867'}."]
    problems = []
    if verified.get(target, str(ident)) is None:
        problems.append(f"{target} {ident} is not in data/verified-links.yaml. Link only to identifiers "
                        "verified in stored material: add the row there with its source, or remove the link.")
    if not _field(link, "verified_in"):
        problems.append(f"link to {target} {ident} has no verified_in. Say where it was verified.")
    return problems


def check_links(entities: object, verified: VerifiedLinks) -> list[LinkProblem]:
    """Every problem with the ``links:`` of the curated entities (empty list: all good).

    ``entities`` is a mapping entity id → description (raw YAML mapping or an object with a
    ``links`` attribute), or an iterable of objects with ``id`` and ``links``. Each link has
    ``target``, ``id`` and ``verified_in``. An identifier outside the allow-list, a link written
    twice, and one external identifier claimed by two entities are problems.
    """
    problems: list[LinkProblem] = []
    claimed: dict[tuple[str, str], str] = {}
    for entity_id, entity in _entity_items(entities):
        seen: set[tuple[str, str]] = set()
        for link in _field(entity, "links") or ():
            key = (str(_field(link, "target")), str(_field(link, "id")))
            problems += [LinkProblem(entity_id, m) for m in _check_one(entity_id, link, verified)]
            if key in seen:
                problems.append(LinkProblem(entity_id, f"{key[0]} {key[1]} is linked twice. Keep one."))
            elif key in claimed and claimed[key] != entity_id:
                problems.append(LinkProblem(entity_id, f"{key[0]} {key[1]} is already linked from "
                                            f"{claimed[key]}. One external identifier names one thing: "
                                            "keep the link on the right entity."))
            seen.add(key)
            claimed.setdefault(key, entity_id)
    return problems


# --------------------------------------------------------------------------- triples for the build


def linkset_iri(iris: Iris, target: str) -> str:
    return iris.mint("dataset", f"mkg-{target}")


def linksets(graph: Any, iris: Iris) -> list[tuple]:
    """VoID: one ``void:Linkset`` per target that has links, with its link count.

    ``graph`` is an rdflib graph holding the data (only its ``skos:exactMatch`` triples are read).
    """
    dataset = URIRef(iris.dataset)
    counts = {name: 0 for name in TARGETS}
    for _, _, obj in graph.triples((None, SKOS.exactMatch, None)):
        for name, target in TARGETS.items():
            if str(obj).startswith(target.uri_space):
                counts[name] += 1
    triples: list[tuple] = []
    for name, count in counts.items():
        if not count:
            continue
        target, ls, other = TARGETS[name], URIRef(linkset_iri(iris, name)), URIRef(TARGETS[name].homepage)
        triples += [
            (dataset, URIRef(VOID + "subset"), ls),
            (ls, RDF.type, URIRef(VOID + "Linkset")),
            (ls, DCTERMS.title, Literal(f"mkg links to {target.title}")),
            (ls, URIRef(VOID + "linkPredicate"), SKOS.exactMatch),
            (ls, URIRef(VOID + "subjectsTarget"), dataset),
            (ls, URIRef(VOID + "objectsTarget"), other),
            (ls, URIRef(VOID + "target"), dataset),
            (ls, URIRef(VOID + "target"), other),
            (ls, URIRef(VOID + "triples"), Literal(count, datatype=XSD.integer)),
            (other, RDF.type, URIRef(VOID + "Dataset")),
            (other, DCTERMS.title, Literal(target.title)),
            (other, URIRef(VOID + "uriSpace"), Literal(target.uri_space)),
        ]
    return triples


# --------------------------------------------------------------------------- names

_PUNCT = re.compile(r"[^\w\s]|_")
_SPACE = re.compile(r"\s+")
_TRANSLIT = [
    (re.compile(r"q"), "k"), (re.compile(r"ck"), "k"), (re.compile(r"w"), "v"),
    (re.compile(r"y"), "i"), (re.compile(r"ee"), "i"), (re.compile(r"oo"), "u"),
    (re.compile(r"([a-z])\1+"), r"\1"), (re.compile(r"(?<=[aeiou])h\b"), ""),
]


def normalise(text: str) -> str:
    """Matching form of a name: case-folded, accents stripped, punctuation and hyphens to spaces.

    >>> normalise("Jund al-Khilafa")
    'jund al khilafa'
    >>> normalise("  Khōst  Province ")
    'khost province'
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    stripped = stripped.replace("'", "").replace("\u2019", "").replace("\u02bf", "").replace("\u02be", "")
    return _SPACE.sub(" ", _PUNCT.sub(" ", stripped)).strip()


def translit_key(text: str) -> str:
    """A coarser key that equates common transliteration variants of one spelling.

    ``q``/``k``, ``y``/``i``, ``w``/``v``, doubled letters and a word-final ``h`` after a vowel:
    "Zahir Baybars Battalion" and "Zahir Baibars Battalion", "Aktobe" and "Aqtobe",
    "Jund al-Khilafah" and "Jund al Khilafa" share a key; "Kusainov" and "Kusanov" do not.
    """
    key = normalise(text)
    for pattern, repl in _TRANSLIT:
        key = pattern.sub(repl, key)
    return key


def similarity(a: str, b: str) -> float:
    """Fuzzy similarity in [0, 1] of two normalised names (also word-order insensitive)."""
    if not a or not b:
        return 0.0
    direct = difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()
    sorted_a, sorted_b = " ".join(sorted(a.split())), " ".join(sorted(b.split()))
    reordered = difflib.SequenceMatcher(None, sorted_a, sorted_b, autojunk=False).ratio()
    return round(max(direct, reordered), 4)


# --------------------------------------------------------------------------- aggregators


def dataset_jsonld(manifest: Mapping[str, Any], iris: Iris, *, title: str = "mkg",
                   description: str = "", license_iri: str | None = None) -> dict[str, Any]:
    """schema.org ``Dataset`` JSON-LD for the home page, from a release manifest."""
    version = str(manifest.get("version", ""))
    files = manifest.get("files", {}) or {}
    dumps = [
        {"@type": "DataDownload", "encodingFormat": info.get("media_type", ""),
         "contentUrl": f"{iris.base}releases/{version}/{name}"}
        for name, info in sorted(files.items()) if name.startswith("data.")
    ]
    doc: dict[str, Any] = {
        "@context": "https://schema.org/",
        "@type": "Dataset",
        "@id": iris.dataset,
        "name": title,
        "description": description or title,
        "url": iris.base,
        "version": version,
        "distribution": dumps,
        "isAccessibleForFree": True,
    }
    if license_iri:
        doc["license"] = license_iri
    return doc
