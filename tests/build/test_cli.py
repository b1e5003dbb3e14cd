"""The mkg command: exit codes and messages that name the problem."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from server.cli import main

ROOT = Path(__file__).resolve().parents[2]
TINY_CORPUS = ROOT / "tests" / "data" / "corpus"
EVIDENCE = "<http://127.0.0.1:8080/id/evidence/d1-121-132#position> <http://www.w3.org/ns/oa#start>"


@pytest.fixture
def corpus(tmp_path) -> Path:
    copy = tmp_path / "corpus"
    shutil.copytree(TINY_CORPUS, copy)
    return copy


def run(*args: str, env: dict | None = None):
    return CliRunner().invoke(main, list(args), env=env or {}, catch_exceptions=False)


def test_build_publishes_and_prints_the_version(tmp_path, tiny_release):
    result = run("build", "--data-dir", str(TINY_CORPUS), "--release-dir", str(tmp_path / "r"))
    assert result.exit_code == 0, result.output
    assert f"mkg: published release {tiny_release.version} ({tiny_release.triples} triples) at {tmp_path / 'r' / 'versions' / tiny_release.version}" in result.output


def test_quote_not_in_document_exits_2_naming_file_and_line(tmp_path, corpus):
    path = corpus / "annotations" / "d1.yaml"
    path.write_text(path.read_text().replace('"On May 1"', '"On 1 May"'))
    result = run("build", "--data-dir", str(corpus), "--release-dir", str(tmp_path / "r"))
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        "mkg: the input cannot be built (1 problem(s)):",
        f"  {path}:29: quote not found in the document: 'On 1 May'; copy it exactly from the text",
    ]
    assert not (tmp_path / "r" / "current").exists()


def test_malformed_annotation_file_exits_2_naming_the_line(tmp_path, corpus):
    path = corpus / "annotations" / "d1.yaml"
    lines = path.read_text().splitlines()
    lines[20] = "    predicate: [perpetrator"
    path.write_text("\n".join(lines) + "\n")
    result = run("validate", "--data-dir", str(corpus))
    assert result.exit_code == 2
    assert f"  {path}:22: malformed YAML: " in result.output


def test_person_as_organization_of_a_sub_unit_exits_1(tmp_path, corpus):
    entities = corpus / "entities" / "tiny.yaml"
    entities.write_text(entities.read_text() + "person/somebody:\n  type: Person\n  label: Somebody\n")
    path = corpus / "annotations" / "d1.yaml"
    path.write_text(path.read_text().replace("object: org/big-front", "object: person/somebody"))
    result = run("build", "--data-dir", str(corpus), "--release-dir", str(tmp_path / "r"))
    assert result.exit_code == 1
    assert "Violation: http://127.0.0.1:8080/id/doc/d1: The statements that document d1 affirms are inconsistent with the ontology" in result.output
    assert "mkg: validation failed; nothing was published." in result.output


def _release_data(tiny_release) -> str:
    return (tiny_release.path / "data.nt").read_text(encoding="utf-8")


def test_offset_one_character_off_in_an_rdf_file_exits_1(tmp_path, tiny_release):
    data = _release_data(tiny_release)
    assert f'{EVIDENCE} "121"' in data
    path = tmp_path / "contribution.nt"
    path.write_text(data.replace(f'{EVIDENCE} "121"', f'{EVIDENCE} "122"'), encoding="utf-8")
    report, junit = tmp_path / "report.ttl", tmp_path / "junit.xml"
    result = run("validate", "--data", str(path), "--report", str(report), "--junit", str(junit))
    assert result.exit_code == 1
    assert ("Violation: http://127.0.0.1:8080/id/evidence/d1-121-132 http://www.w3.org/ns/oa#exact: "
            "The quote differs from the document text at [122, 132), which reads 'pringfield'.") in result.output
    assert '<failure message="The quote differs from the document text at [122, 132)' in junit.read_text()


def test_two_english_preferred_labels_exit_1(tmp_path, tiny_release):
    path = tmp_path / "two-labels.nt"
    extra = '<http://127.0.0.1:8080/id/org/acme-brigade> <http://www.w3.org/2004/02/skos/core#prefLabel> "The Acme Brigade"@en .\n'
    path.write_text(_release_data(tiny_release) + extra, encoding="utf-8")
    result = run("validate", "--data", str(path))
    assert result.exit_code == 1
    assert "http://127.0.0.1:8080/id/org/acme-brigade http://www.w3.org/2004/02/skos/core#prefLabel" in result.output


def test_unusable_rdf_file_exits_2(tmp_path):
    path = tmp_path / "broken.ttl"
    path.write_text("garbage <\n")
    result = run("validate", "--data", str(path))
    assert result.exit_code == 2
    assert result.output.startswith(f"mkg: {path}: malformed turtle (")


def test_remote_jsonld_context_is_refused_without_fetching(tmp_path):
    path = tmp_path / "remote.jsonld"
    path.write_text('{"@context": "http://127.0.0.1:9/context.jsonld", "@id": "http://example.org/x"}')
    result = run("validate", "--data", str(path))
    assert result.exit_code == 2
    assert result.output == (f"mkg: {path}: remote JSON-LD @context 'http://127.0.0.1:9/context.jsonld' "
                             "is not fetched; inline the context in the file\n")


def test_shipped_data_validates(shipped_release):
    assert shipped_release.report.conforms
