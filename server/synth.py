"""Synthetic data in the mkg ontology, at any size, for benchmarks and scale tests.

Owns ``mkg synth``: a deterministic generator (same ``--triples`` and ``--seed``, same bytes) of
data with the real shape of the corpus: armed groups with sub-unit trees and acronyms, persons
holding posts, events in a place hierarchy (country > region > city) with uncertain dates,
documents with text, and assertions with claimants, statuses, evidence quotes that occur in the
text, corroborations and conflicts between documents.

The data is generated in *shards*: a shard is one group with its units, people, places, events
and the few documents that report on them. Shards only reference their own entities and the
shared ``entities/global.yaml``, so they are written (and compiled) one at a time: memory stays
bounded whatever the size.

Three output formats:

- ``yaml``: a data folder in the curation format (``documents/*.txt``, ``entities/*.yaml``,
  ``annotations/*.yaml``) for ``mkg build --data-dir`` and ``mkg validate --data-dir``;
- ``nt``: ``data.nt`` exactly as ``mkg build`` would write it for that folder (each shard goes
  through the build's own reader and graph builder; the lines are sorted and de-duplicated with
  ``sort -u`` under ``LC_ALL=C``, which is the build's code-point order);
- ``release``: a release folder (``current`` → ``versions/<v>/``) with that ``data.nt``, the
  ontology, the shapes, a VoID description and a manifest, servable by ``mkg serve``. It is not
  validated: validate the ``yaml`` form for that.

May import: stdlib, PyYAML-free string writing; the build modules (sources, graph, release)
for the ``nt`` and ``release`` formats only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import random
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

__all__ = [
    "FORMATS",
    "Shard",
    "SynthError",
    "TRIPLES_PER_SHARD",
    "generate",
    "shards",
    "write_nt",
    "write_release",
    "write_yaml",
]

FORMATS = ("yaml", "nt", "release")

#: Measured mean triples a shard adds to ``data.nt`` (used to pick the number of shards).
TRIPLES_PER_SHARD = 3430

_SYLLABLES = ("al", "ba", "dar", "far", "gul", "han", "ir", "jab", "kar", "lum", "mar", "nur",
              "or", "qal", "ras", "sar", "tal", "um", "vak", "zar", "bek", "dos", "ker", "tash")
_GROUP_WORDS = ("Front", "Movement", "Brigade", "Jamaat", "Battalion", "Army", "Legion")
_UNIT_WORDS = ("Battalion", "Company", "Cell", "Detachment", "Wing")
_EVENT_TYPES = ("Attack", "Bombing", "ArmedAssault", "SuicideBombing")
_EVENT_WORDS = {"Attack": "attack", "Bombing": "bombing", "ArmedAssault": "armed assault",
                "SuicideBombing": "suicide bombing"}
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")
_COUNTRIES = 8
_REGIONS_PER_COUNTRY = 6
_DOCS_PER_SHARD = 4
_EVENTS_PER_SHARD = 6
_UNITS_PER_SHARD = 4
_PERSONS_PER_SHARD = 4


class SynthError(Exception):
    """The generator was asked for something it cannot produce."""


# --- the model -------------------------------------------------------------------------------

@dataclass
class Doc:
    """One generated document: its text, and its annotation file as YAML lines."""

    id: str
    text: str
    annotation: str


@dataclass
class Shard:
    """One group's world: its entity file and its documents."""

    index: int
    entities: str
    docs: list[Doc] = field(default_factory=list)


def _word(rng: random.Random, parts: int) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(parts)).capitalize()


def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML; the text is ASCII)."""
    return json.dumps(text, ensure_ascii=True)


def _day(date: dt.date) -> str:
    return f"{date.day} {_MONTHS[date.month - 1]} {date.year}"


def global_entities() -> str:
    """``entities/global.yaml``: countries, regions, roles and the publishers of the documents."""
    rng = random.Random("mkg-synth-global")
    lines = []
    for c in range(_COUNTRIES):
        name = _word(rng, 2) + "stan"
        lines += [f"place/country-{c}:", "  type: Country", f"  label: {_q(name)}"]
        for r in range(_REGIONS_PER_COUNTRY):
            lines += [f"place/region-{c}-{r}:", "  type: Place", f"  label: {_q(_word(rng, 2) + ' Region')}",
                      "  place_type: AdministrativeRegion", f"  located_in: place/country-{c}"]
    lines += ["role/emir:", "  type: Role", "  label: emir",
              "role/commander:", "  type: Role", "  label: commander",
              "org/synthetic-monitor:", "  type: MediaOrganization", "  label: Synthetic Monitor",
              "org/wire-service:", "  type: MediaOrganization", "  label: Wire Service"]
    return "\n".join(lines) + "\n"


class _ShardBuilder:
    """Builds one shard from its own random stream (so shards are independent of each other)."""

    def __init__(self, seed: int, index: int):
        self.rng = random.Random(f"{seed}:{index}")
        self.k = index
        self.s = f"s{index:05d}"
        rng = self.rng
        self.country = rng.randrange(_COUNTRIES)
        self.group = (f"org/{self.s}-group", f"{_word(rng, 2)} {rng.choice(_GROUP_WORDS)}")
        self.acronym = "".join(w[0] for w in self.group[1].split()) + chr(65 + index % 26)
        self.units = [(f"org/{self.s}-unit-{u}", f"{_word(rng, 2)} {rng.choice(_UNIT_WORDS)}")
                      for u in range(_UNITS_PER_SHARD)]
        # a tree: units 0 and 1 under the group, 2 under 0, 3 under 2
        self.parent = {0: self.group, 1: self.group, 2: self.units[0], 3: self.units[2]}
        self.persons = [(f"person/{self.s}-{p}", f"{_word(rng, 1)} {_word(rng, 2)}ov")
                        for p in range(_PERSONS_PER_SHARD)]
        self.cities = []
        for c in range(2):
            region = f"place/region-{self.country}-{rng.randrange(_REGIONS_PER_COUNTRY)}"
            self.cities.append((f"place/{self.s}-city-{c}", _word(rng, 2), region))
        year = 2005 + index % 15
        self.events = []
        for e in range(_EVENTS_PER_SHARD):
            kind = rng.choice(_EVENT_TYPES)
            city = self.cities[e % 2]
            date = dt.date(year, 1, 1) + dt.timedelta(days=rng.randrange(330))
            label = f"{city[1]} {_EVENT_WORDS[kind]} of {_day(date)}"
            self.events.append((f"event/{self.s}-e{e}", label, kind, city, date, self.units[e % 4]))
        self.first: dict[tuple[str, str], str] = {}

    def entities(self) -> str:
        lines = [f"{self.group[0]}:", "  type: ArmedGroup", f"  label: {_q(self.group[1])}",
                 f"  definition: {_q('Synthetic armed group of shard ' + self.s + '.')}"]
        for uid, label in self.units:
            lines += [f"{uid}:", "  type: OrganizationalUnit", f"  label: {_q(label)}"]
        for u, (uid, label) in enumerate(self.units):
            role = "emir" if u % 2 == 0 else "commander"
            lines += [f"post/{self.s}-{role}-{u}:", "  type: Post", f"  label: {_q(role.capitalize() + ' of the ' + label)}",
                      f"  post_in: {uid}", f"  role: role/{role}"]
        for pid, name in self.persons:
            lines += [f"{pid}:", "  type: Person", f"  label: {_q(name)}"]
        lines += [f"actor/{self.s}-officials:", "  type: UnidentifiedActor",
                  f"  label: {_q('Officials quoted in shard ' + self.s)}"]
        for cid, name, region in self.cities:
            lines += [f"{cid}:", "  type: Place", f"  label: {_q(name)}", "  place_type: City",
                      f"  located_in: {region}"]
        for eid, label, kind, *_ in self.events:
            lines += [f"{eid}:", f"  type: {kind}", f"  label: {_q(label)}"]
        return "\n".join(lines) + "\n"

    def document(self, m: int) -> Doc:
        return _DocWriter(self, m).write()


class _DocWriter:
    """Writes one document's text and its annotation file together, sentence by sentence."""

    def __init__(self, shard: _ShardBuilder, m: int):
        self.sh = shard
        self.m = m
        self.rng = random.Random(f"{shard.rng.random()}:{m}")
        self.docid = f"{shard.s}-d{m}"
        last = max(e[4] for e in shard.events)
        self.issued = last + dt.timedelta(days=3 + m * 5)
        self.sentences: list[str] = []
        self.assertions: list[str] = []
        self.names: list[str] = []
        self.n = 0

    def sentence(self, text: str) -> str:
        self.n += 1
        line = f"{text}.[{self.n}]"
        self.sentences.append(line)
        return line

    def assertion(self, subject: str, predicate: str, target: str, status: str, evidence: str,
                  *extra: str) -> str:
        aid = f"a{len(self.assertions) + 1:03d}"
        block = [f"  - id: {aid}", f"    subject: {subject}", f"    predicate: {predicate}",
                 f"    {target}", f"    status: {status}", f"    evidence: [{_q(evidence)}]"]
        block += [f"    {line}" for line in extra]
        self.assertions.append("\n".join(block))
        return aid

    def write(self) -> Doc:
        sh, rng = self.sh, self.rng
        group, acr = sh.group[1], sh.acronym
        first = self.sentence(f"The {group} ({acr}) is active in {sh.cities[0][1]} and {sh.cities[1][1]}")
        self.names += [
            f"  - {{entity: {sh.group[0]}, form: {_q(group)}, kind: FullName, quote: {_q('The [[' + group + ']] (' + acr + ')' + first[len('The ' + group + ' (' + acr + ')'):])}}}",
            f"  - {{entity: {sh.group[0]}, form: {_q(acr)}, kind: Acronym, quote: {_q('The ' + group + ' ([[' + acr + ']])' + first[len('The ' + group + ' (' + acr + ')'):])}}}",
        ]
        self.assertion(sh.group[0], "operatesIn", f"object: {sh.cities[0][0]}", "AuthorialAssertion", first)
        self.org_facts()
        for e, event in enumerate(sh.events):
            if (e + self.m) % 4 != 3:  # each document reports most, not all, of the events
                self.event(event)
        cite = f"(Wire Service, {_day(self.issued - dt.timedelta(days=1))})"
        closing = self.sentence(f"Details were first reported by a wire service {cite}")
        self.citation = f"  - {{id: c1, quote: {_q(cite)}, publisher: org/wire-service, date: {self.issued - dt.timedelta(days=1)}}}"
        self.assertion(sh.group[0], "describedAs", f"value: {_q('a militant group')}", "AuthorialAssertion", closing,
                       "cites: [c1]")
        return Doc(self.docid, self.text(), self.annotation())

    def org_facts(self) -> None:
        sh = self.sh
        for u, (uid, label) in enumerate(sh.units):
            parent = sh.parent[u][1]
            text = self.sentence(f"The {label} is a unit of the {parent}")
            status = "SelfClaim" if u == 0 else "AuthorialAssertion"
            extra = [f"claimant: {sh.group[0]}"] if status == "SelfClaim" else []
            aid = self.assertion(uid, "subUnitOf", f"object: {sh.parent[u][0]}", status, text, *extra)
            self.link("corroborates", ("subUnitOf", uid), aid)
        for p, (pid, name) in enumerate(sh.persons):
            role = "emir" if p % 2 == 0 else "commander"
            uid, ulabel = sh.units[p]
            text = self.sentence(f"{name} is the {role} of the {ulabel}")
            hedged = self.rng.random() < 0.2
            status = "Hedged" if hedged else "AuthorialAssertion"
            self.assertion(pid, "org:holds", f"object: post/{sh.s}-{role}-{p}", status, text,
                           f"valid_as_of: {self.issued}")
            self.assertion(pid, "memberOf", f"object: {uid}", status, text)

    def link(self, relation: str, key: tuple[str, str], aid: str) -> None:
        """Remember document 0's assertion ``key``; link later documents' ones to it."""
        if self.m == 0:
            self.sh.first[key] = aid
        elif key in self.sh.first:
            self.assertions[-1] += f"\n    {relation}: [{self.sh.s}-d0/{self.sh.first[key]}]"

    def event(self, event) -> None:
        sh, rng = self.sh, self.rng
        eid, label, kind, city, date, unit = event
        perp = self.sentence(f"The {unit[1]} carried out the {_EVENT_WORDS[kind]} in {city[1]} on {_day(date)}")
        self_claim = self.m == 0
        extra = [f"claimant: {sh.group[0]}"] if self_claim else []
        aid = self.assertion(eid, "perpetrator", f"object: {unit[0]}",
                             "SelfClaim" if self_claim else "AuthorialAssertion", perp, *extra)
        self.link("corroborates", ("perpetrator", eid), aid)
        self.assertion(eid, "occurredAt", f"object: {city[0]}", "AuthorialAssertion", perp)
        precision = rng.choice(("Day", "Day", "Month", "Year"))
        if precision == "Day":
            earliest = latest = date
            expressed = _day(date)
        elif precision == "Month":
            earliest = date.replace(day=1)
            latest = (earliest + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
            expressed = f"in {_MONTHS[date.month - 1]} {date.year}"
        else:
            earliest, latest = date.replace(month=1, day=1), date.replace(month=12, day=31)
            expressed = f"in {date.year}"
        when = self.sentence(f"The {_EVENT_WORDS[kind]} in {city[1]} happened {expressed}")
        self.assertion(eid, "hasTimeSpec",
                       f"time: {{earliest: {earliest}, latest: {latest}, precision: {precision}, expressed: {_q(expressed)}}}",
                       "AuthorialAssertion", when)
        killed = 1 + (sum(map(ord, eid)) % 9) + (self.m % 2)  # documents disagree on odd/even
        said = self.sentence(f"Officials said {killed} people were killed in the {_EVENT_WORDS[kind]} in {city[1]}")
        aid = self.assertion(eid, "fatalities",
                             f"quantity: {{point: {killed}, unit: person, expressed: {_q(str(killed) + ' people')}}}",
                             "ReportedSpeech", said, f"claimant: actor/{sh.s}-officials")
        self.link("contradicts" if self.m % 2 else "corroborates", ("fatalities", eid), aid)

    def text(self) -> str:
        return (f"{self.dateline()}\n{self.title()}\n" + " ".join(self.sentences) + "\n")

    def dateline(self) -> str:
        return f"Synthetic Monitor, {_day(self.issued)}"

    def title(self) -> str:
        return f"{self.sh.group[1]} activity report {self.docid}"

    def annotation(self) -> str:
        lines = [
            "document:",
            f"  title: {_q(self.title())}",
            f"  issued: {{earliest: {self.issued}, latest: {self.issued}, precision: Day, expressed: {_q(_day(self.issued))}}}",
            "  publisher: org/synthetic-monitor",
            "  language: en",
            "segments:",
            f"  - {{id: dateline, kind: Dateline, quote: {_q(self.dateline())}}}",
            f"  - {{id: title, kind: Title, quote: {_q(self.title())}}}",
            f"  - {{id: body, kind: Body, from: {_q(self.sentences[0])}, to: {_q(self.sentences[-1])}}}",
            "citations:",
            self.citation,
            "names:",
            *self.names,
            "assertions:",
            *self.assertions,
        ]
        return "\n".join(lines) + "\n"


# --- generation ------------------------------------------------------------------------------

def shard_count(triples: int) -> int:
    """How many shards make about ``triples`` triples (at least one)."""
    if triples <= 0:
        raise SynthError(f"--triples must be positive, got {triples}")
    return max(1, round(triples / TRIPLES_PER_SHARD))


def shards(triples: int, seed: int) -> Iterator[Shard]:
    """The shards, one at a time, in order (each depends only on ``seed`` and its index)."""
    for index in range(shard_count(triples)):
        builder = _ShardBuilder(seed, index)
        shard = Shard(index, builder.entities())
        shard.docs = [builder.document(m) for m in range(_DOCS_PER_SHARD)]
        yield shard


def _write_shard(shard: Shard, out: Path) -> None:
    (out / "entities" / f"{shard.docs[0].id.split('-')[0]}.yaml").write_text(shard.entities, encoding="utf-8")
    for doc in shard.docs:
        (out / "documents" / f"{doc.id}.txt").write_text(doc.text, encoding="utf-8")
        (out / "annotations" / f"{doc.id}.yaml").write_text(doc.annotation, encoding="utf-8")


def _prepare(out: Path) -> None:
    if out.exists() and any(out.iterdir()):
        raise SynthError(f"{out} exists and is not empty; choose a new --out folder")
    for sub in ("documents", "entities", "annotations"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    (out / "entities" / "global.yaml").write_text(global_entities(), encoding="utf-8")


def write_yaml(triples: int, seed: int, out: Path) -> int:
    """Write a curation-format data folder; return the number of documents."""
    out = Path(out)
    _prepare(out)
    count = 0
    for shard in shards(triples, seed):
        _write_shard(shard, out)
        count += len(shard.docs)
    return count


def _shard_ntriples(shard: Shard, terms, iris, scratch: Path) -> bytes:
    """The N-Triples the build makes of one shard (plus the global entities)."""
    from .graph import build_graph
    from .sources import read_corpus

    folder = scratch / f"shard-{shard.index}"
    _prepare(folder)
    _write_shard(shard, folder)
    data = build_graph(read_corpus(folder), terms, iris)
    shutil.rmtree(folder)
    return data.serialize(format="nt", encoding="utf-8")


def write_nt(triples: int, seed: int, out_file: Path, settings: dict) -> int:
    """Write ``data.nt`` as the build would for the ``yaml`` folder; return its triple count."""
    from .graph import terms_of
    from .release import load_rdf_folder
    from .vocab import Iris

    iris = Iris(str(settings["BASE_IRI"]))
    terms = terms_of(load_rdf_folder(Path(settings["ONTOLOGY_DIR"]), iris))
    out_file = Path(out_file)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mkg-synth-", dir=out_file.parent) as tmp:
        scratch = Path(tmp)
        unsorted = scratch / "unsorted.nt"
        with unsorted.open("wb") as sink:
            for shard in shards(triples, seed):
                sink.write(_shard_ntriples(shard, terms, iris, scratch))
        _sort_unique(unsorted, out_file, scratch)
    with out_file.open("rb") as handle:
        return sum(1 for _ in handle)


def _sort_unique(source: Path, target: Path, scratch: Path) -> None:
    """``sort -u`` in code-point order with bounded memory (GNU sort spills to ``scratch``)."""
    env = dict(os.environ, LC_ALL="C")
    with target.open("wb") as sink:
        subprocess.run(["sort", "-u", "-S", "512M", "-T", str(scratch), str(source)],
                       stdout=sink, env=env, check=True)
    # the build drops blank lines; rdflib ends its output with one
    if target.stat().st_size and target.read_bytes()[:1] == b"\n":
        content = target.read_bytes().lstrip(b"\n")
        target.write_bytes(content)


# --- a servable release ----------------------------------------------------------------------

_RDF_TYPE = b"<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"


def _class_counts(nt: Path) -> tuple[int, dict[str, int]]:
    total, classes = 0, {}
    with nt.open("rb") as handle:
        for line in handle:
            total += 1
            parts = line.split(b" ", 2)
            if len(parts) == 3 and parts[1] == _RDF_TYPE:
                cls = parts[2].rstrip(b" .\n").strip(b"<>").decode()
                classes[cls] = classes.get(cls, 0) + 1
    return total, classes


def _void(iris, version: str, settings: dict, total: int, classes: dict[str, int]) -> str:
    ds = f"<{iris.dataset}>"
    lines = [
        "@prefix void: <http://rdfs.org/ns/void#> .",
        "@prefix dcterms: <http://purl.org/dc/terms/> .",
        "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .",
        f"{ds} a void:Dataset ;",
        f"  dcterms:title {_q(str(settings['DATASET_TITLE']) + ' (synthetic)')}@en ;",
        f"  dcterms:license <{settings['LICENSE']}> ;",
        f"  dcterms:hasVersion {_q(version)} ;",
        f"  void:sparqlEndpoint <{iris.base}sparql> ;",
        f"  void:dataDump <{iris.base}releases/{version}/data.nt> ;",
        f"  void:triples {total} .",
    ]
    for cls, count in sorted(classes.items()):
        part = f"<{iris.dataset}#class-{cls.rsplit('#', 1)[-1].rsplit('/', 1)[-1]}>"
        lines += [f"{ds} void:classPartition {part} .",
                  f"{part} void:class <{cls}> ; void:entities {count} ."]
    return "\n".join(lines) + "\n"


def write_release(triples: int, seed: int, release_dir: Path, settings: dict) -> Path:
    """Write a servable (unvalidated) release of synthetic data; return its version folder."""
    from .release import load_rdf_folder, stamp_version
    from .vocab import Iris

    iris = Iris(str(settings["BASE_IRI"]))
    release_dir = Path(release_dir)
    version = f"synth-{triples}-{seed}"
    folder = release_dir / "versions" / version
    if folder.exists():
        raise SynthError(f"{folder} exists; choose a new --out folder")
    folder.mkdir(parents=True)
    total = write_nt(triples, seed, folder / "data.nt", settings)
    _, classes = _class_counts(folder / "data.nt")
    ontology = stamp_version(load_rdf_folder(Path(settings["ONTOLOGY_DIR"]), iris), iris, version)
    (folder / "ontology.ttl").write_bytes(ontology.serialize(format="turtle").encode("utf-8"))
    shapes = load_rdf_folder(Path(settings["SHAPES_DIR"]), iris)
    (folder / "shapes.ttl").write_bytes(shapes.serialize(format="turtle").encode("utf-8"))
    (folder / "void.ttl").write_text(_void(iris, version, settings, total, classes), encoding="utf-8")
    _write_manifest(folder, version, iris.base, total)
    (release_dir / "current").symlink_to(Path("versions") / version)
    return folder


_MEDIA = {"data.nt": "application/n-triples", "ontology.ttl": "text/turtle",
          "shapes.ttl": "text/turtle", "void.ttl": "text/turtle"}


def _write_manifest(folder: Path, version: str, base: str, total: int) -> None:
    files = {}
    for name, media in _MEDIA.items():
        digest = hashlib.sha256()
        with (folder / name).open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        files[name] = {"sha256": digest.hexdigest(), "bytes": (folder / name).stat().st_size,
                       "media_type": media}
    manifest = {"version": version, "base_iri": base, "built_at": "2026-01-01T00:00:00+00:00",
                "synthetic": True, "counts": {"triples": total}, "files": files}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n",
                                          encoding="utf-8")


def generate(triples: int, seed: int, out: Path, fmt: str, settings: dict) -> str:
    """Run one of the :data:`FORMATS`; return a one-line summary."""
    if fmt == "yaml":
        docs = write_yaml(triples, seed, out)
        return f"wrote {docs} documents in the curation format to {out}"
    if fmt == "nt":
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        total = write_nt(triples, seed, out / "data.nt", settings)
        return f"wrote {total} triples to {out / 'data.nt'}"
    if fmt == "release":
        folder = write_release(triples, seed, Path(out), settings)
        return f"wrote a release to {folder}"
    raise SynthError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
