"""Build tier: the pipeline from ``data/`` to a validated, immutable release folder.

documents + annotations + entities → :mod:`sources` → :mod:`graph` → :mod:`checks` → ``release/``.
Nothing is published on any violation, and the release being served (``release/current``) is
replaced only by an atomic rename once the new one is complete. Earlier releases are kept under
``release/versions/`` for rollback and for version-pinned links.

May import: ``config``, ``vocab``, ``sources``, ``graph``, ``checks``, ``linking``, rdflib.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from xml.sax import SAXException

from rdflib import OWL, RDF, Graph, Literal, Namespace, URIRef, XSD
from rdflib.exceptions import ParserError

from . import linking
from .graph import build_graph, terms_of
from .sources import Corpus, Problem, SourceErrors, read_corpus
from .vocab import PREFIXES, Iris

__all__ = ["AUTHORING_BASE", "RDF_PARSE_ERRORS", "BuildFailed", "Built", "build", "compile_data", "load_rdf_folder", "stamp_version"]

# The base IRI written in the hand-edited Turtle files; the build rewrites it to the configured one.
AUTHORING_BASE = "http://127.0.0.1:8080/"
# What rdflib's parsers raise on malformed input (Turtle/N3, N-Triples, RDF/XML, JSON-LD).
RDF_PARSE_ERRORS = (SyntaxError, ParserError, SAXException, ValueError)
VOID = Namespace(PREFIXES["void"])
DCAT = Namespace(PREFIXES["dcat"])
DCTERMS = Namespace(PREFIXES["dcterms"])
KEEP_VERSIONS = 5

MEDIA_TYPES = {
    "data.nt": "application/n-triples",
    "data.ttl": "text/turtle",
    "ontology.ttl": "text/turtle",
    "shapes.ttl": "text/turtle",
    "void.ttl": "text/turtle",
    "report.ttl": "text/turtle",
    "report.txt": "text/plain",
    "report.xml": "application/xml",
}


class BuildFailed(Exception):
    """Validation found violations; ``report`` holds them. Nothing was published."""

    def __init__(self, report, report_dir: Path | None):
        self.report, self.report_dir = report, report_dir
        super().__init__(report.summary())


@dataclass(frozen=True)
class Built:
    version: str
    path: Path
    triples: int
    report: object


def load_rdf_folder(folder: Path, iris: Iris) -> Graph:
    """Parse every ``*.ttl`` of ``folder`` into one graph, rebased onto ``iris.base``.

    :raises SourceErrors: a file that does not parse, with its line.
    """
    graph = Graph()
    problems = []
    for path in sorted(Path(folder).glob("*.ttl")):
        text = path.read_text(encoding="utf-8").replace(AUTHORING_BASE, iris.base)
        try:
            graph.parse(data=text, format="turtle", publicID=iris.base)
        except RDF_PARSE_ERRORS as err:
            problems.append(Problem(str(path), _parse_error_line(err), f"malformed Turtle: {err}"))
    if problems:
        raise SourceErrors(problems)
    return graph


def _parse_error_line(err: Exception) -> int | None:
    line = getattr(err, "lines", None) or getattr(err, "line", None)
    return int(line) if isinstance(line, int) else None


def stamp_version(ontology: Graph, iris: Iris, version: str) -> Graph:
    """The ontology with ``owl:versionIRI`` pointing at this release's copy."""
    stamped = Graph()
    for prefix, ns in ontology.namespaces():
        stamped.bind(prefix, ns)
    stamped += ontology
    onto = URIRef(iris.ontology)
    stamped.remove((onto, OWL.versionIRI, None))
    stamped.add((onto, OWL.versionIRI, URIRef(f"{iris.base}releases/{version}/ontology.ttl")))
    return stamped


def _verified_links(data_dir: Path):
    path = data_dir / "verified-links.yaml"
    return linking.load_verified(path) if path.exists() else None


def compile_data(data_dir: Path, ontology_dir: Path, shapes_dir: Path, iris: Iris) -> tuple[Corpus, Graph, Graph, Graph]:
    """Read and compile everything; return (corpus, data, ontology, shapes).

    :raises SourceErrors: every input problem of the run.
    """
    problems: list[Problem] = []
    corpus = ontology = shapes = None
    for step in ("corpus", "ontology", "shapes"):
        try:
            if step == "corpus":
                corpus = read_corpus(data_dir)
            elif step == "ontology":
                ontology = load_rdf_folder(ontology_dir, iris)
            else:
                shapes = load_rdf_folder(shapes_dir, iris)
        except SourceErrors as err:
            problems += err.problems
    if problems:
        raise SourceErrors(problems)
    verified = _verified_links(data_dir)
    if verified is not None:
        by_id = {e.id: e for e in corpus.entities}
        link_problems = linking.check_links(
            {e.id: {"links": [{"target": t, "id": i, "verified_in": v} for t, i, v, _ in e.links]} for e in corpus.entities},
            verified,
        )
        problems += [Problem(by_id[p.entity].where.path, by_id[p.entity].where.line, p.message) for p in link_problems]
    try:
        data = build_graph(corpus, terms_of(ontology), iris)
    except SourceErrors as err:
        problems += err.problems
    if problems:
        raise SourceErrors(problems)
    if verified is not None:
        for entity in corpus.entities:
            for target, ident, _, _ in entity.links:
                row = verified.get(target, ident)
                if row is not None and row.identity_certain:
                    data.add((URIRef(iris.entity(entity.id)), OWL.sameAs, URIRef(row.iri)))
    return corpus, data, ontology, shapes


def _version_of(corpus: Corpus, ontology_dir: Path, shapes_dir: Path, iris: Iris) -> str:
    digest = hashlib.sha256(corpus.inputs_sha256.encode() + iris.base.encode())
    for folder in (ontology_dir, shapes_dir):
        for path in sorted(Path(folder).glob("*.ttl")):
            digest.update(path.name.encode() + path.read_bytes())
    return "r" + digest.hexdigest()[:12]


def _ntriples(graph: Graph) -> str:
    lines = {line for line in graph.serialize(format="nt", encoding="utf-8").decode("utf-8").splitlines() if line.strip()}
    return "\n".join(sorted(lines)) + "\n"


def void_graph(data: Graph, iris: Iris, version: str, settings: dict) -> Graph:
    """VoID + DCAT description of this release, its dumps and linksets."""
    g = Graph()
    for prefix, ns in PREFIXES.items():
        g.bind(prefix, ns)
    g.bind("mkg", iris.mkg)
    ds = URIRef(iris.dataset)
    release_base = f"{iris.base}releases/{version}/"
    g.add((ds, RDF.type, VOID.Dataset))
    g.add((ds, RDF.type, DCAT.Dataset))
    g.add((ds, DCTERMS.title, Literal(str(settings["DATASET_TITLE"]), lang="en")))
    g.add((ds, DCTERMS.description, Literal(
        "Statements that news and analysis documents make about militant organizations, their members, "
        "attacks and claims; every statement with its source document, claimant, epistemic status and "
        "the exact quote with character offsets.", lang="en")))
    g.add((ds, DCTERMS.license, URIRef(str(settings["LICENSE"]))))
    g.add((ds, DCTERMS.hasVersion, Literal(version)))
    g.add((ds, VOID.sparqlEndpoint, URIRef(iris.base + "sparql")))
    g.add((ds, VOID.uriSpace, Literal(iris.base + "id/")))
    g.add((ds, VOID.rootResource, URIRef(iris.base)))
    g.add((ds, VOID.triples, Literal(len(data), datatype=XSD.integer)))
    subjects = {s for s in data.subjects() if isinstance(s, URIRef) and str(s).startswith(iris.base + "id/")}
    g.add((ds, VOID.entities, Literal(len(subjects), datatype=XSD.integer)))
    for vocab_ns in sorted({iris.mkg, PREFIXES["oa"], PREFIXES["skos"], PREFIXES["skosxl"], PREFIXES["dcterms"],
                            PREFIXES["prov"], PREFIXES["org"], PREFIXES["owl"], PREFIXES["rdfs"]}):
        g.add((ds, VOID.vocabulary, URIRef(vocab_ns)))
    class_counts: dict[URIRef, int] = {}
    for _, cls in data.subject_objects(RDF.type):
        class_counts[cls] = class_counts.get(cls, 0) + 1
    for cls, count in sorted(class_counts.items()):
        part = URIRef(f"{iris.dataset}#class-{_fragment(cls)}")
        g.add((ds, VOID.classPartition, part))
        g.add((part, VOID["class"], cls))
        g.add((part, VOID.entities, Literal(count, datatype=XSD.integer)))
    for name, media in (("data.nt", "application/n-triples"), ("data.ttl", "text/turtle")):
        dump = URIRef(release_base + name)
        g.add((ds, VOID.dataDump, dump))
        g.add((ds, DCAT.distribution, dump))
        g.add((dump, RDF.type, DCAT.Distribution))
        g.add((dump, DCAT.downloadURL, dump))
        g.add((dump, DCAT.mediaType, URIRef(f"https://www.iana.org/assignments/media-types/{media}")))
        g.add((dump, DCTERMS["format"], Literal(media)))
    for s, p, o in linking.linksets(data, iris):
        g.add((s, p, o))
    return g


def _fragment(iri) -> str:
    text = str(iri)
    return text.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def _write_release(folder: Path, files: dict[str, bytes], manifest: dict) -> None:
    folder.mkdir(parents=True)
    entries = {}
    for name, content in sorted(files.items()):
        (folder / name).write_bytes(content)
        entries[name] = {"sha256": hashlib.sha256(content).hexdigest(), "bytes": len(content),
                         "media_type": MEDIA_TYPES.get(name, "application/octet-stream")}
    manifest = dict(manifest, files=entries)
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _publish(release_dir: Path, version: str, files: dict[str, bytes], manifest: dict) -> Path:
    versions = release_dir / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    staging = versions / f".staging-{version}-{os.getpid()}"
    if staging.exists():
        shutil.rmtree(staging)
    _write_release(staging, files, manifest)
    final = versions / version
    if final.exists():
        shutil.rmtree(final)
    os.replace(staging, final)
    link_tmp = release_dir / f".current-{os.getpid()}"
    if link_tmp.is_symlink() or link_tmp.exists():
        link_tmp.unlink()
    os.symlink(Path("versions") / version, link_tmp)
    os.replace(link_tmp, release_dir / "current")
    _prune(versions, keep=version)
    return final


def _prune(versions: Path, keep: str) -> None:
    kept = sorted((p for p in versions.iterdir() if p.is_dir() and not p.name.startswith(".")),
                  key=lambda p: p.stat().st_mtime, reverse=True)
    for old in kept[KEEP_VERSIONS:]:
        if old.name != keep:
            shutil.rmtree(old)


def build(settings: dict, *, data_dir: Path | None = None, release_dir: Path | None = None,
          version: str | None = None, validate: bool = True) -> Built:
    """Build, validate and publish a release; return what was published.

    :raises SourceErrors: unusable input (nothing written).
    :raises BuildFailed: the data violates the shapes or the ontology (nothing published).
    """
    from .validation import run_checks  # build-only dependency (pyshacl, owlready2)

    iris = Iris(str(settings["BASE_IRI"]))
    data_dir = Path(data_dir or settings["DATA_DIR"])
    release_dir = Path(release_dir or settings["RELEASE_DIR"])
    ontology_dir, shapes_dir = Path(settings["ONTOLOGY_DIR"]), Path(settings["SHAPES_DIR"])
    corpus, data, ontology, shapes = compile_data(data_dir, ontology_dir, shapes_dir, iris)
    version = version or _version_of(corpus, ontology_dir, shapes_dir, iris)
    ontology = stamp_version(ontology, iris, version)
    report = run_checks(data, ontology, shapes, settings) if validate else None
    report_files = {}
    if report is not None:
        report_files = {
            "report.ttl": report.graph.serialize(format="turtle").encode("utf-8") if report.graph is not None else b"",
            "report.txt": report.summary().encode("utf-8"),
            "report.xml": report.to_junit().encode("utf-8"),
        }
        if not report.conforms:
            failed = release_dir / "failed"
            if failed.exists():
                shutil.rmtree(failed)
            failed.mkdir(parents=True)
            for name, content in report_files.items():
                (failed / name).write_bytes(content)
            raise BuildFailed(report, failed)
    files = {
        "data.nt": _ntriples(data).encode("utf-8"),
        "data.ttl": data.serialize(format="turtle").encode("utf-8"),
        "ontology.ttl": ontology.serialize(format="turtle").encode("utf-8"),
        "shapes.ttl": shapes.serialize(format="turtle").encode("utf-8"),
        "void.ttl": void_graph(data, iris, version, settings).serialize(format="turtle").encode("utf-8"),
        **report_files,
    }
    manifest = {
        "version": version,
        "base_iri": iris.base,
        "built_at": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        "inputs_sha256": corpus.inputs_sha256,
        "counts": {
            "triples": len(data),
            "documents": len(corpus.documents),
            "entities": len(corpus.entities),
            "assertions": sum(len(a.assertions) for a in corpus.annotations),
        },
    }
    path = _publish(release_dir, version, files, manifest)
    return Built(version, path, len(data), report)
