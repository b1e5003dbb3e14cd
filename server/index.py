"""Web tier: the in-memory name index of one release, for lookup, search and reconciliation.

Owns reading, once per release version, every named thing of the data (preferred, alternative
and hidden labels, the literal forms of ``mkg:NameAttestation`` labels, types with their
superclasses, definitions, a few relations, external links) and every retired IRI
(``owl:deprecated`` / ``dcterms:isReplacedBy`` / ``rdfs:comment``) through ``Store.select``,
and answering name queries against it: :meth:`NameIndex.score` (reconciliation) and
:meth:`NameIndex.search` (prefix and fuzzy autocomplete).

The index never talks to pyoxigraph directly; :func:`build_index` takes anything with a
``select(query) -> rows`` method and ``iris``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from server.linking import normalise, parse_external, similarity, translit_key
from server.vocab import PREFIXES, Iris

__all__ = ["ENTITY_KINDS", "RELATIONS", "Entity", "NameIndex", "NameMatch", "Retired", "build_index"]

#: Kinds of things that are indexed by name.
ENTITY_KINDS = ("person", "org", "place", "event", "actor", "post", "role")

#: Relations kept for reconciliation constraints and data extension: id → (predicate, inverse?).
RELATIONS: dict[str, tuple[str, bool, str]] = {
    "basedIn": ("mkg:basedIn", False, "based in"),
    "operatesIn": ("mkg:operatesIn", False, "operates in"),
    "subUnitOf": ("mkg:subUnitOf", False, "sub-unit of"),
    "hasSubUnit": ("mkg:subUnitOf", True, "has sub-unit"),
    "leader": ("mkg:leaderOf", True, "leader"),
    "leaderOf": ("mkg:leaderOf", False, "leader of"),
    "memberOf": ("mkg:memberOf", False, "member of"),
    "locatedIn": ("mkg:locatedIn", False, "located in"),
    "occurredAt": ("mkg:occurredAt", False, "occurred at"),
    "perpetrator": ("mkg:perpetrator", False, "perpetrator"),
}

_LABELS = "skos:prefLabel skos:altLabel skos:hiddenLabel"
_FUZZY_FLOOR = 0.5


@dataclass
class Entity:
    """One named thing of the release."""

    iri: str
    id: str
    kind: str
    label: str = ""
    names: set[str] = field(default_factory=set)
    types: set[str] = field(default_factory=set)
    all_types: set[str] = field(default_factory=set)
    description: str = ""
    relations: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    links: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Retired:
    """A retired IRI: ``replaced_by`` is the IRI that replaces it, or None if it was removed."""

    iri: str
    replaced_by: str | None
    reason: str


@dataclass(frozen=True)
class NameMatch:
    """How well a query names an entity."""

    entity: Entity
    similarity: float
    exact: bool
    variant: bool
    matched: str


@dataclass
class NameIndex:
    """Names, types and relations of one release version."""

    version: str
    iris: Iris
    entities: dict[str, Entity]
    type_labels: dict[str, str]
    retired: dict[str, Retired]
    by_external: dict[str, str]

    def get(self, ident: str) -> Entity | None:
        """An entity by ``kind/slug`` id or full IRI."""
        if ident in self.entities:
            return self.entities[ident]
        parts = self.iris.split(ident)
        return self.entities.get(f"{parts[0]}/{parts[1]}") if parts else None

    def by_external_iri(self, iri: str) -> Entity | None:
        """The entity linked (skos:exactMatch / owl:sameAs) to an external IRI in any spelling."""
        parsed = parse_external(iri)
        key = _external_key(*parsed) if parsed else iri
        found = self.by_external.get(key)
        return self.entities.get(found) if found else None

    def type_name(self, type_id: str) -> str:
        return self.type_labels.get(type_id, type_id)

    def has_type(self, entity: Entity, wanted: Iterable[str]) -> bool:
        wanted = {_local(t, self.iris) for t in wanted}
        return bool(wanted & (entity.all_types | {entity.kind}))

    def match_name(self, query: str, entity: Entity) -> NameMatch:
        """The best match of ``query`` among the names of ``entity``."""
        qn, qk = normalise(query), translit_key(query)
        best = NameMatch(entity, 0.0, False, False, "")
        for name in sorted(entity.names, key=lambda n: (n != entity.label, n)):
            nn = normalise(name)
            if nn == qn:
                return NameMatch(entity, 1.0, True, True, name)
            if translit_key(name) == qk:
                candidate = NameMatch(entity, 0.98, False, True, name)
            else:
                candidate = NameMatch(entity, similarity(qn, nn), False, False, name)
            if candidate.similarity > best.similarity:
                best = candidate
        return best

    def score(self, query: str, types: Iterable[str] = (), floor: float = _FUZZY_FLOOR) -> list[NameMatch]:
        """Candidates for a reconciliation query, best first (ties by id)."""
        types = list(types)
        direct = self.get(query.strip())
        if direct is not None and (not types or self.has_type(direct, types)):
            return [NameMatch(direct, 1.0, True, True, direct.id)]
        found = []
        for entity in self.entities.values():
            if types and not self.has_type(entity, types):
                continue
            match = self.match_name(query, entity)
            if match.similarity >= floor:
                found.append(match)
        found.sort(key=lambda m: (-m.similarity, m.entity.id))
        return found

    def search(self, query: str, types: Iterable[str] = ()) -> list[NameMatch]:
        """Autocomplete: names that start with the query (or one of whose words does), then
        transliteration variants and close fuzzy matches; best first."""
        qn = normalise(query)
        if not qn:
            return []
        types = list(types)
        found = []
        for entity in self.entities.values():
            if types and not self.has_type(entity, types):
                continue
            match = self._prefix_match(qn, translit_key(query), entity) or self.match_name(query, entity)
            if match.similarity >= 0.75:
                found.append(match)
        found.sort(key=lambda m: (-m.similarity, len(m.matched), m.entity.id))
        return found

    def _prefix_match(self, qn: str, qk: str, entity: Entity) -> NameMatch | None:
        best: NameMatch | None = None
        for name in sorted(entity.names, key=lambda n: (n != entity.label, n)):
            nn = normalise(name)
            if nn == qn:
                return NameMatch(entity, 1.0, True, True, name)
            if nn.startswith(qn):
                sim = 0.99 - 0.04 * (1 - len(qn) / len(nn))
            elif any(word.startswith(qn) for word in nn.split()):
                sim = 0.9 - 0.04 * (1 - len(qn) / len(nn))
            elif translit_key(name).startswith(qk):
                sim = 0.85 - 0.04 * (1 - len(qn) / len(nn))
            else:
                continue
            if best is None or sim > best.similarity:
                best = NameMatch(entity, round(sim, 4), False, False, name)
        return best


# --------------------------------------------------------------------------- building


def _prologue(iris: Iris) -> str:
    lines = [f"PREFIX {p}: <{ns}>" for p, ns in PREFIXES.items()]
    return "\n".join(lines) + f"\nPREFIX mkg: <{iris.mkg}>\n"


def _local(type_iri: str, iris: Iris) -> str:
    return type_iri[len(iris.mkg):] if type_iri.startswith(iris.mkg) else type_iri


def _kind_filter(iris: Iris, var: str = "?s") -> str:
    return " || ".join(f'STRSTARTS(STR({var}), "{iris.base}id/{kind}/")' for kind in ENTITY_KINDS)


def _external_key(target: str, ident: str) -> str:
    return f"{target}:{ident}"


def _value(row: dict, name: str) -> str | None:
    term = row.get(name)
    return None if term is None else str(getattr(term, "value", term))


def _entities(store, iris: Iris) -> dict[str, Entity]:
    query = _prologue(iris) + f"""SELECT ?s ?l ?pref WHERE {{
      {{ VALUES ?p {{ {_LABELS} }} ?s ?p ?l BIND(?p = skos:prefLabel AS ?pref) }}
      UNION {{ ?s skosxl:prefLabel|skosxl:altLabel ?n . ?n skosxl:literalForm ?l BIND(false AS ?pref) }}
      FILTER(isIRI(?s) && ({_kind_filter(iris)}))
    }}"""
    entities: dict[str, Entity] = {}
    for row in store.select(query):
        iri, label = _value(row, "s"), _value(row, "l")
        parts = iris.split(iri or "")
        if not parts or parts[0] not in ENTITY_KINDS or not label:
            continue
        ident = f"{parts[0]}/{parts[1]}"
        entity = entities.setdefault(ident, Entity(iri, ident, parts[0]))
        entity.names.add(label)
        if _value(row, "pref") == "true" and (not entity.label or label < entity.label):
            entity.label = label
    for entity in entities.values():
        entity.label = entity.label or min(entity.names)
    return entities


def _superclasses(store, iris: Iris) -> dict[str, set[str]]:
    query = _prologue(iris) + "SELECT ?c ?super WHERE { ?c rdfs:subClassOf+ ?super FILTER(isIRI(?super)) }"
    closure: dict[str, set[str]] = defaultdict(set)
    for row in store.select(query):
        closure[_local(_value(row, "c"), iris)].add(_local(_value(row, "super"), iris))
    return closure


def _add_types(store, iris: Iris, entities: dict[str, Entity]) -> dict[str, str]:
    by_iri = {e.iri: e for e in entities.values()}
    closure = _superclasses(store, iris)
    query = _prologue(iris) + ("SELECT DISTINCT ?s ?t WHERE { ?s a ?t FILTER(" + _kind_filter(iris)
                               + ") }")
    labels: dict[str, str] = {}
    for row in store.select(query):
        entity = by_iri.get(_value(row, "s"))
        if entity is None:
            continue
        type_id = _local(_value(row, "t"), iris)
        entity.types.add(type_id)
        entity.all_types |= {type_id} | closure.get(type_id, set())
        labels.setdefault(type_id, type_id)
    for parent in {t for e in entities.values() for t in e.all_types} - set(labels):
        labels[parent] = parent
    labels.update(_type_labels(store, iris, set(labels)))
    return labels


def _type_labels(store, iris: Iris, wanted: set[str]) -> dict[str, str]:
    query = _prologue(iris) + "SELECT ?t ?tl WHERE { ?t a owl:Class ; rdfs:label ?tl FILTER(LANG(?tl) IN ('', 'en')) }"
    found = {}
    for row in store.select(query):
        type_id = _local(_value(row, "t"), iris)
        if type_id in wanted:
            found[type_id] = _value(row, "tl")
    return found


def _add_facts(store, iris: Iris, entities: dict[str, Entity]) -> dict[str, str]:
    by_iri = {e.iri: e for e in entities.values()}
    preds = {RELATIONS[r][0] for r in RELATIONS}
    query = _prologue(iris) + f"""SELECT ?s ?p ?o WHERE {{
      VALUES ?p {{ skos:definition skos:exactMatch owl:sameAs {' '.join(sorted(preds))} }} ?s ?p ?o }}"""
    by_external: dict[str, str] = {}
    mkg = iris.mkg
    for row in store.select(query):
        s, p, o = _value(row, "s"), _value(row, "p"), _value(row, "o")
        subject = by_iri.get(s)
        if p == PREFIXES["skos"] + "definition" and subject:
            subject.description = subject.description or o
        elif p in (PREFIXES["skos"] + "exactMatch", PREFIXES["owl"] + "sameAs") and subject:
            parsed = parse_external(o)
            if parsed:
                subject.links.add(o)
                by_external[_external_key(*parsed)] = subject.id
        for rel, (pred, inverse, _) in RELATIONS.items():
            if p != mkg + pred.split(":", 1)[1]:
                continue
            holder, value = (by_iri.get(o), s) if inverse else (subject, o)
            if holder is not None:
                holder.relations[rel].add(value)
    return by_external


def _retired(store, iris: Iris) -> dict[str, Retired]:
    query = _prologue(iris) + """SELECT ?s ?new ?why WHERE {
      { ?s owl:deprecated true } UNION { ?s dcterms:isReplacedBy ?any }
      OPTIONAL { ?s dcterms:isReplacedBy ?new } OPTIONAL { ?s rdfs:comment ?why } }"""
    found: dict[str, Retired] = {}
    for row in store.select(query):
        iri = _value(row, "s")
        previous = found.get(iri)
        found[iri] = Retired(iri, _value(row, "new") or (previous.replaced_by if previous else None),
                             _value(row, "why") or (previous.reason if previous else "") or "")
    return found


def build_index(store, version: str, iris: Iris) -> NameIndex:
    """Read the names, types, facts and retired IRIs of the release behind ``store``."""
    entities = _entities(store, iris)
    retired = _retired(store, iris)
    for item in retired.values():
        parts = iris.split(item.iri)
        if parts:
            entities.pop(f"{parts[0]}/{parts[1]}", None)
    type_labels = _add_types(store, iris, entities)
    by_external = _add_facts(store, iris, entities)
    return NameIndex(version, iris, entities, type_labels, retired, by_external)
