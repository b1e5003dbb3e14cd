"""The benchmark's query mix and dereference set, typical of mkg data.

Parameters (an organization, an event, a country, a document…) come from the synthetic
generator itself (shard 1 of the given seed), so every query has answers at every size.
"""

from __future__ import annotations

from dataclasses import dataclass

from server import synth

__all__ = ["Query", "deref_iris", "mix"]

BASE = "http://127.0.0.1:8080/"
PROLOGUE = (
    f"PREFIX mkg: <{BASE}ontology#>\n"
    "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"
    "PREFIX skosxl: <http://www.w3.org/2008/05/skos-xl#>\n"
    "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
    "PREFIX oa: <http://www.w3.org/ns/oa#>\n"
    "PREFIX org: <http://www.w3.org/ns/org#>\n"
    "PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>\n"
)


@dataclass(frozen=True)
class Query:
    name: str
    text: str
    graph: bool = False  # CONSTRUCT/DESCRIBE (RDF result) rather than SELECT/ASK
    in_mix: bool = True  # False: timed single-client only (a planner trap, not a typical load)

    @property
    def accept(self) -> str:
        return "application/n-triples" if self.graph else "application/sparql-results+json"


def _iri(local: str) -> str:
    return f"<{BASE}id/{local}>"


def _shard(seed: int):
    return synth._ShardBuilder(seed, 1)  # noqa: SLF001 (the generator's own parameters)


def mix(seed: int) -> list[Query]:
    """At least 12 queries an analyst or a page would send."""
    sh = _shard(seed)
    group, group_label = _iri(sh.group[0]), sh.group[1]
    event = _iri(sh.events[0][0])
    country = _iri(f"place/country-{sh.country}")
    doc = _iri(f"doc/{sh.s}-d0")
    year = sh.events[0][4].year
    word = group_label.split()[0].lower()[:5]
    q = [
        Query("describe", f"DESCRIBE {group}", graph=True),
        Query("label_lookup", f'SELECT ?s WHERE {{ ?s skos:prefLabel "{group_label}"@en }}'),
        Query("search_ci", f'SELECT ?s ?l WHERE {{ ?s skos:prefLabel ?l . '
                           f'FILTER(CONTAINS(LCASE(STR(?l)), "{word}")) }} ORDER BY ?s LIMIT 50'),
        Query("sources_on_event", f"""SELECT ?doc ?a ?p ?o ?status ?exact WHERE {{
  ?a mkg:assertedSubject {event} ; mkg:assertedPredicate ?p ; mkg:statedIn ?doc ;
     mkg:epistemicStatus ?status ; mkg:hasEvidence ?ev .
  ?ev oa:hasSelector ?sel . ?sel oa:exact ?exact
  OPTIONAL {{ ?a mkg:assertedObject ?o }} }} ORDER BY ?doc ?a"""),
        Query("events_in_place_window", f"""SELECT ?e ?place ?d WHERE {{
  ?place mkg:locatedIn+ {country} . ?e mkg:occurredAt ?place ; mkg:hasTimeSpec ?t .
  ?t mkg:earliestStart ?d .
  FILTER(?d >= "{year}-01-01"^^xsd:date && ?d < "{year + 1}-01-01"^^xsd:date) }} ORDER BY ?d ?e"""),
        Query("conflicts_about_group", f"""SELECT ?a ?b ?docA ?docB WHERE {{
  ?u mkg:subUnitOf* {group} . ?e mkg:perpetrator ?u .
  ?a mkg:assertedSubject ?e ; mkg:contradicts ?b ; mkg:statedIn ?docA . ?b mkg:statedIn ?docB }}
ORDER BY ?a ?b"""),
        Query("corroboration_counts", """SELECT ?a (COUNT(?b) AS ?n) WHERE { ?b mkg:corroborates ?a }
GROUP BY ?a ORDER BY DESC(?n) ?a LIMIT 20"""),
        Query("events_by_year_and_group", """SELECT ?g ?year (COUNT(DISTINCT ?e) AS ?n) WHERE {
  ?e mkg:perpetrator ?u ; mkg:hasTimeSpec ?t . ?t mkg:earliestStart ?d .
  ?u mkg:subUnitOf* ?g . ?g a mkg:ArmedGroup . BIND(YEAR(?d) AS ?year) }
GROUP BY ?g ?year ORDER BY ?g ?year LIMIT 100"""),
        Query("status_counts", """SELECT ?status (COUNT(?a) AS ?n) WHERE { ?a mkg:epistemicStatus ?status }
GROUP BY ?status ORDER BY ?status"""),
        Query("subunit_tree", f"""SELECT ?u ?parent ?label WHERE {{
  ?u mkg:subUnitOf+ {group} ; mkg:subUnitOf ?parent ; skos:prefLabel ?label }} ORDER BY ?u"""),
        Query("aliases", f"""SELECT ?form ?kind ?doc WHERE {{
  {group} skosxl:altLabel ?n . ?n skosxl:literalForm ?form ; mkg:nameKind ?kind ; mkg:attestedIn ?doc }}
ORDER BY ?doc ?form"""),
        Query("posts_in_group", f"""SELECT ?person ?post ?unit WHERE {{
  ?unit mkg:subUnitOf* {group} . ?post org:postIn ?unit . ?person org:holds ?post }} ORDER BY ?person"""),
        Query("evidence_in_document", f"""SELECT ?ev ?start ?end ?exact WHERE {{
  ?ev oa:hasSource {doc} ; oa:hasSelector ?p, ?q . ?p oa:start ?start ; oa:end ?end . ?q oa:exact ?exact }}
ORDER BY ?start ?end"""),
        Query("paging", """SELECT ?a ?l WHERE { ?a a mkg:Assertion ; rdfs:label ?l }
ORDER BY ?a LIMIT 50 OFFSET 1000"""),
        Query("ask_holds", f"ASK {{ ?p org:holds ?post . ?post org:postIn {_iri(sh.units[0][0])} }}"),
        Query("construct_event", f"""CONSTRUCT {{ ?a ?p ?o }} WHERE {{
  ?a mkg:assertedSubject {event} ; ?p ?o }}""", graph=True),
    ]
    # The same question with the OPTIONAL before the evidence join: Oxigraph's planner then
    # scans every selector (seconds at 1M triples). Timed alone, kept out of the load mix.
    q.append(Query("sources_on_event_optional_first", f"""SELECT ?doc ?a ?p ?o ?status ?exact WHERE {{
  ?a mkg:assertedSubject {event} ; mkg:assertedPredicate ?p ; mkg:statedIn ?doc ;
     mkg:epistemicStatus ?status ; mkg:hasEvidence ?ev .
  OPTIONAL {{ ?a mkg:assertedObject ?o }}
  ?ev oa:hasSelector ?sel . ?sel oa:exact ?exact }} ORDER BY ?doc ?a""", in_mix=False))
    return [Query(x.name, PROLOGUE + x.text, x.graph, x.in_mix) for x in q]


def deref_iris(seed: int) -> list[str]:
    """Twenty things people look up: groups, units, persons, events, places, assertions."""
    sh = _shard(seed)
    locals_ = [sh.group[0], *(u[0] for u in sh.units), *(p[0] for p in sh.persons),
               *(e[0] for e in sh.events), *(c[0] for c in sh.cities),
               f"assertion/{sh.s}-d0-a001", f"assertion/{sh.s}-d1-a010", f"assertion/{sh.s}-d2-a020",
               f"place/country-{sh.country}"]
    return locals_[:20]
