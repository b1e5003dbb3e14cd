"""Fixtures for the linking tests: a small hand-made release and the real app serving it over HTTP.

The release mirrors a few entities of the shipped data (same ids) with their names, types,
relations, verified links and two retired ids; it is written in the release-folder layout of
docs/architecture.md so that the real ``create_app`` and ``LocalStore`` serve it.
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

import pytest
import requests
from werkzeug.serving import make_server

HERE = Path(__file__).resolve().parent
VERSION = "2026.1-test"
OLD_VERSION = "2025.1-test"

SKOS = "http://www.w3.org/2004/02/skos/core#"
SKOSXL = "http://www.w3.org/2008/05/skos-xl#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
DCT = "http://purl.org/dc/terms/"

# id: (class, preferred label, [alternative labels], definition)
ENTITIES = {
    "org/jund-al-khilafah": ("ArmedGroup", "Jund al-Khilafah",
                             ["Jund al Khilafah", "JaK", "Brigade of the Soldiers of the Caliphate"],
                             "Kazakhstan-focused jihadist group that surfaced in 2011."),
    "org/jund-al-khilafa-algeria": ("ArmedGroup", "Jund al-Khilafa (Algeria)", [], "Algerian namesake."),
    "org/jund-al-khilafah-tunisia": ("ArmedGroup", "Jund al-Khilafah (Tunisia)", [], "Tunisian namesake."),
    "org/jundul-khilafah-philippines": ("ArmedGroup", "Jundul Khilafah (Philippines)", [], ""),
    "org/zahir-baibars-battalion": ("OrganizationalUnit", "Zahir Baibars Battalion", ["ZBB"],
                                    "Mostly Kazakh battalion of Jund al-Khilafah."),
    "org/islamic-movement-of-uzbekistan": ("ArmedGroup", "Islamic Movement of Uzbekistan", ["IMU"], ""),
    "org/islamic-jihad-union": ("ArmedGroup", "Islamic Jihad Union", ["IJU"], ""),
    "org/al-qaeda": ("ArmedGroup", "al Qaeda", [], ""),
    "org/hizb-ut-tahrir": ("Organization", "Hizb ut Tahrir", [], ""),
    "person/rawil-kusaynov": ("Person", "Rawil Kusaynov", [], "Emir of the Zahir Baibars Battalion."),
    "person/aidos-kusanov": ("Person", "Aidos Kusanov", [], ""),
    "person/nursultan-nazarbayev": ("Person", "Nursultan Nazarbayev", [], "President of Kazakhstan."),
    "place/kazakhstan": ("Country", "Kazakhstan", [], ""),
    "place/afghanistan-pakistan-border-region": ("Place", "Afghanistan-Pakistan border region", [], ""),
    "place/atyrau-region": ("Place", "Atyrau Region", [], ""),
    "place/atyrau": ("Place", "Atyrau", [], ""),
    "place/aqtobe": ("Place", "Aqtobe", [], ""),
    "place/khost": ("Place", "Khost", [], ""),
    "place/khost-province": ("Place", "Khost Province", [], ""),
    "event/2011-10-31-atyrau-attack": ("Attack", "Atyrau bombing(s) of 31 October 2011", [], ""),
}

# attested spellings (mkg:NameAttestation): (entity, form, doc)
ATTESTED = [
    ("org/jund-al-khilafah", "Jund al-Khilafa", "002_ebb55c0b76439a3d"),
    ("org/zahir-baibars-battalion", "al Zahir Baibars Battalion", "000_3ccaa04b606ad6ff"),
    ("person/rawil-kusaynov", "Rawil Kusaynuv", "001_450922b1a86c1b6e"),
]

RELATIONS = [
    ("org/zahir-baibars-battalion", "subUnitOf", "org/jund-al-khilafah"),
    ("org/jund-al-khilafah", "basedIn", "place/afghanistan-pakistan-border-region"),
    ("person/rawil-kusaynov", "leaderOf", "org/zahir-baibars-battalion"),
    ("place/atyrau", "locatedIn", "place/atyrau-region"),
    ("place/atyrau-region", "locatedIn", "place/kazakhstan"),
    ("place/khost", "locatedIn", "place/khost-province"),
    ("event/2011-10-31-atyrau-attack", "occurredAt", "place/atyrau"),
    ("event/2011-10-31-atyrau-attack", "perpetrator", "org/zahir-baibars-battalion"),
]

LINKS = [
    ("place/kazakhstan", "http://www.wikidata.org/entity/Q232"),
    ("place/kazakhstan", "https://sws.geonames.org/1522867/"),
    ("place/atyrau", "https://sws.geonames.org/610529/"),
    ("place/aqtobe", "https://sws.geonames.org/610611/"),
    ("org/al-qaeda", "http://www.wikidata.org/entity/Q34490"),
]

# retired id: (replaced_by or None, reason)
RETIRED = {
    "org/zbb": ("org/zahir-baibars-battalion", "Duplicate of org/zahir-baibars-battalion, merged."),
    "person/unnamed-emir": (None, "Withdrawn: the documents do not support a separate person."),
}

CLASSES = {  # class: (label, superclass)
    "Actor": ("actor", None), "Organization": ("organization", "Actor"),
    "ArmedGroup": ("armed group", "Organization"), "OrganizationalUnit": ("organizational unit", "ArmedGroup"),
    "Person": ("person", "Actor"), "Place": ("place", None), "Country": ("country", "Place"),
    "Event": ("event", None), "Attack": ("attack", "Event"),
}


def _lit(text: str) -> str:
    return json.dumps(text) + "@en"


def data_lines(base: str) -> list[str]:
    """The fixture data as N-Triples lines."""
    mkg, ent = base + "ontology#", lambda i: f"<{base}id/{i}>"
    lines = []
    for ident, (cls, label, alts, definition) in ENTITIES.items():
        lines.append(f"{ent(ident)} <{RDF_TYPE}> <{mkg}{cls}> .")
        lines.append(f"{ent(ident)} <{SKOS}prefLabel> {_lit(label)} .")
        lines += [f"{ent(ident)} <{SKOS}altLabel> {_lit(a)} ." for a in alts]
        if definition:
            lines.append(f"{ent(ident)} <{SKOS}definition> {_lit(definition)} .")
    for n, (ident, form, doc) in enumerate(ATTESTED):
        name = f"<{base}id/name/{doc}-{n}>"
        lines += [f"{ent(ident)} <{SKOSXL}altLabel> {name} .", f"{name} <{RDF_TYPE}> <{mkg}NameAttestation> .",
                  f"{name} <{SKOSXL}literalForm> {_lit(form)} .",
                  f"{name} <{mkg}attestedIn> <{base}id/doc/{doc}> ."]
    lines += [f"{ent(s)} <{mkg}{p}> {ent(o)} ." for s, p, o in RELATIONS]
    lines += [f"{ent(s)} <{SKOS}exactMatch> <{o}> ." for s, o in LINKS]
    for old, (new, reason) in RETIRED.items():
        lines += [f'{ent(old)} <{OWL}deprecated> "true"^^<http://www.w3.org/2001/XMLSchema#boolean> .',
                  f"{ent(old)} <{RDFS}comment> {_lit(reason)} ."]
        if new:
            lines.append(f"{ent(old)} <{DCT}isReplacedBy> {ent(new)} .")
    return sorted(set(lines))


def ontology_text(base: str) -> str:
    mkg = base + "ontology#"
    lines = [f"<{base}ontology> <{RDF_TYPE}> <{OWL}Ontology> ."]
    for cls, (label, parent) in CLASSES.items():
        lines += [f"<{mkg}{cls}> <{RDF_TYPE}> <{OWL}Class> .", f"<{mkg}{cls}> <{RDFS}label> {_lit(label)} ."]
        if parent:
            lines.append(f"<{mkg}{cls}> <{RDFS}subClassOf> <{mkg}{parent}> .")
    return "\n".join(lines) + "\n"


def write_release(root: Path, base: str, version: str = VERSION, current: bool = True) -> Path:
    """Write ``root/versions/<version>/`` with manifest.json, data.nt, ontology.ttl; point current at it."""
    folder = root / "versions" / version
    folder.mkdir(parents=True)
    files = {"data.nt": "\n".join(data_lines(base)) + "\n", "ontology.ttl": ontology_text(base)}
    manifest = {"version": version, "base_iri": base, "built_from": {}, "files": {}, "counts": {}}
    for name, text in files.items():
        raw = text.encode("utf-8")
        (folder / name).write_bytes(raw)
        manifest["files"][name] = {"sha256": hashlib.sha256(raw).hexdigest(), "bytes": len(raw),
                                   "media_type": "application/n-triples" if name.endswith(".nt") else "text/turtle"}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    if current:
        (root / "current").symlink_to(Path("versions") / version)
    return folder


class _Holder:
    """A WSGI app whose target is set after the server has bound its port."""

    app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


def linking_app(release_dir: Path, base: str):
    """The real application factory, with the linking blueprints registered if it does not yet."""
    from server import lookup, reconcile
    from server.app import create_app

    app = create_app({"RELEASE_DIR": str(release_dir), "BASE_IRI": base, "TESTING": True})
    for blueprint in (lookup.bp, reconcile.bp):
        if blueprint.name not in app.blueprints:
            app.register_blueprint(blueprint)
    return app


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """``(base URL, release folder)``: the app serving the fixture release on 127.0.0.1:<free port>."""
    holder = _Holder()
    httpd = make_server("127.0.0.1", 0, holder, threaded=True)
    base = f"http://127.0.0.1:{httpd.server_port}/"
    release_dir = tmp_path_factory.mktemp("linking-release")
    write_release(release_dir, base, OLD_VERSION, current=False)
    write_release(release_dir, base)
    holder.app = linking_app(release_dir, base)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield base, release_dir
    httpd.shutdown()
    thread.join(5)


@pytest.fixture()
def http():
    with requests.Session() as session:
        yield session


@pytest.fixture(scope="session")
def schema():
    """``schema(name)`` → a validator for one of the Reconciliation API 0.2 schemas (tests/linking/schemas)."""
    from jsonschema import Draft7Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT7

    folder = HERE / "schemas"
    docs = {p.name: json.loads(p.read_text(encoding="utf-8")) for p in folder.glob("*.json")}
    registry = Registry().with_resources(
        (doc["$id"], Resource.from_contents(doc, default_specification=DRAFT7)) for doc in docs.values())

    def validator(name: str) -> Draft7Validator:
        return Draft7Validator(docs[name], registry=registry)

    return validator
