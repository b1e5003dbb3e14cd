"""The release pipeline: deterministic output, atomic publication, nothing on failure."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from server import config
from server.release import BuildFailed, build
from server.sources import SourceErrors

ROOT = Path(__file__).resolve().parents[2]
TINY_CORPUS = ROOT / "tests" / "data" / "corpus"
DATA_FILES = ("data.nt", "data.ttl", "ontology.ttl", "shapes.ttl", "void.ttl")


def settings(tmp_path: Path, corpus: Path = TINY_CORPUS) -> dict:
    s = config.load({})
    s.update(RELEASE_DIR=str(tmp_path / "release"), DATA_DIR=str(corpus))
    return s


def test_release_folder_has_every_file_with_its_hash(tiny_release):
    folder = tiny_release.path
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["version"] == tiny_release.version == folder.name
    assert manifest["base_iri"] == "http://127.0.0.1:8080/"
    assert sorted(manifest["files"]) == sorted([*DATA_FILES, "report.ttl", "report.txt", "report.xml"])
    import hashlib

    for name, entry in manifest["files"].items():
        assert entry["sha256"] == hashlib.sha256((folder / name).read_bytes()).hexdigest(), name
    assert manifest["counts"] == {"assertions": 6, "documents": 1, "entities": 6, "triples": tiny_release.triples}
    assert (folder.parent.parent / "current").resolve() == folder.resolve()


def test_ontology_version_iri_is_stamped_by_the_build(tiny_release):
    text = (tiny_release.path / "ontology.ttl").read_text()
    assert f"owl:versionIRI <http://127.0.0.1:8080/releases/{tiny_release.version}/ontology.ttl>" in text
    hand_edited = (ROOT / "ontology" / "mkg.ttl").read_text()
    assert [line for line in hand_edited.splitlines() if "owl:versionIRI" in line and not line.lstrip().startswith("#")] == []


def test_same_input_gives_byte_identical_data_files(tmp_path, tiny_release):
    again = build(settings(tmp_path))
    assert again.version == tiny_release.version
    for name in DATA_FILES:
        assert (again.path / name).read_bytes() == (tiny_release.path / name).read_bytes(), name


def test_void_describes_counts_and_dumps(tiny_release):
    from rdflib import Graph, Literal, URIRef, XSD

    void = Graph().parse(tiny_release.path / "void.ttl")
    ds = URIRef("http://127.0.0.1:8080/id/dataset/mkg")
    VOID = "http://rdfs.org/ns/void#"
    assert void.value(ds, URIRef(VOID + "triples")) == Literal(tiny_release.triples, datatype=XSD.integer)
    dumps = set(void.objects(ds, URIRef(VOID + "dataDump")))
    base = f"http://127.0.0.1:8080/releases/{tiny_release.version}/"
    assert dumps == {URIRef(base + "data.nt"), URIRef(base + "data.ttl")}


def test_bad_input_stops_the_build_and_keeps_the_served_release(tmp_path):
    first = build(settings(tmp_path))
    corpus = tmp_path / "corpus"
    shutil.copytree(TINY_CORPUS, corpus)
    path = corpus / "annotations" / "d1.yaml"
    path.write_text(path.read_text().replace('evidence: ["On May 1"]', 'evidence: ["On May 2"]'))
    with pytest.raises(SourceErrors):
        build(settings(tmp_path, corpus))
    current = tmp_path / "release" / "current"
    assert current.resolve() == first.path.resolve()
    assert sorted(p.name for p in (tmp_path / "release" / "versions").iterdir()) == [first.version]


def test_a_violation_publishes_nothing(tmp_path):
    first = build(settings(tmp_path))
    corpus = tmp_path / "corpus"
    shutil.copytree(TINY_CORPUS, corpus)
    entities = corpus / "entities" / "tiny.yaml"
    entities.write_text(entities.read_text() + "person/somebody:\n  type: Person\n  label: Somebody\n")
    path = corpus / "annotations" / "d1.yaml"
    path.write_text(path.read_text().replace("object: org/big-front", "object: person/somebody"))
    with pytest.raises(BuildFailed) as err:
        build(settings(tmp_path, corpus))
    assert not err.value.report.conforms
    assert (tmp_path / "release" / "current").resolve() == first.path.resolve()
    assert (tmp_path / "release" / "failed" / "report.txt").read_text() == err.value.report.summary()
