"""``mkg synth``: same size and seed give the same bytes; the data builds, and its ``nt`` form is
exactly what the build writes for its ``yaml`` form."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from server import config, synth
from server.cli import main
from server.release import build
from server.sources import read_corpus

TWO_SHARDS = 2 * synth.TRIPLES_PER_SHARD


def digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def settings(**overrides) -> dict:
    return {**config.load({}), **overrides}


def test_same_seed_same_files(tmp_path):
    synth.write_yaml(TWO_SHARDS, 7, tmp_path / "a")
    synth.write_yaml(TWO_SHARDS, 7, tmp_path / "b")
    assert digest(tmp_path / "a") == digest(tmp_path / "b")


def test_other_seed_other_data(tmp_path):
    synth.write_yaml(TWO_SHARDS, 7, tmp_path / "a")
    synth.write_yaml(TWO_SHARDS, 8, tmp_path / "b")
    a, b = digest(tmp_path / "a"), digest(tmp_path / "b")
    assert a.keys() == b.keys()
    assert a["entities/global.yaml"] == b["entities/global.yaml"]
    assert a["documents/s00000-d0.txt"] != b["documents/s00000-d0.txt"]


def test_folder_has_the_curation_layout(tmp_path):
    docs = synth.write_yaml(TWO_SHARDS, 1, tmp_path / "data")
    assert docs == 8
    names = sorted(digest(tmp_path / "data"))
    assert names[:3] == ["annotations/s00000-d0.yaml", "annotations/s00000-d1.yaml",
                         "annotations/s00000-d2.yaml"]
    assert "entities/global.yaml" in names and "entities/s00001.yaml" in names
    assert "documents/s00001-d3.txt" in names


def test_every_quote_is_found_and_the_shape_is_real(tmp_path):
    synth.write_yaml(TWO_SHARDS, 1, tmp_path / "data")
    corpus = read_corpus(tmp_path / "data")
    assertions = [r for a in corpus.annotations for r in a.assertions]
    assert len(corpus.documents) == 8
    assert {r.predicate for r in assertions} == {
        "operatesIn", "subUnitOf", "org:holds", "memberOf", "perpetrator", "occurredAt",
        "hasTimeSpec", "fatalities", "describedAs"}
    assert {r.status for r in assertions} >= {"AuthorialAssertion", "SelfClaim", "ReportedSpeech"}
    assert sum(1 for r in assertions if r.contradicts) > 0
    assert sum(1 for r in assertions if r.corroborates) > 0
    for annotation in corpus.annotations:
        text = next(d.text for d in corpus.documents if d.id == annotation.document.id)
        for record in annotation.assertions:
            for span in record.evidence:
                assert text[span.start:span.end] == span.exact


def test_nt_is_exactly_what_the_build_writes(tmp_path):
    synth.write_yaml(TWO_SHARDS, 3, tmp_path / "data")
    built = build(settings(), data_dir=tmp_path / "data", release_dir=tmp_path / "release", validate=False)
    total = synth.write_nt(TWO_SHARDS, 3, tmp_path / "nt" / "data.nt", settings())
    assert (tmp_path / "nt" / "data.nt").read_bytes() == (built.path / "data.nt").read_bytes()
    assert total == built.triples


def test_size_is_close_to_the_request(tmp_path):
    total = synth.write_nt(10 * synth.TRIPLES_PER_SHARD, 1, tmp_path / "data.nt", settings())
    assert abs(total - 10 * synth.TRIPLES_PER_SHARD) / (10 * synth.TRIPLES_PER_SHARD) < 0.05


def test_release_format_is_servable(tmp_path):
    from server.store import LocalStore, open_release

    synth.write_release(TWO_SHARDS, 1, tmp_path / "release", settings())
    store = LocalStore(open_release(tmp_path / "release", "http://127.0.0.1:8080/"))
    assert store.release.version == f"synth-{TWO_SHARDS}-1"
    rows = store.select("PREFIX mkg: <http://127.0.0.1:8080/ontology#> "
                        "SELECT (COUNT(*) AS ?n) WHERE { ?a a mkg:Assertion }")
    # per shard: 4 documents x (14 organization and person facts) + 18 reported events x 4
    assert int(rows[0]["n"].value) == 2 * (4 * 14 + 18 * 4)


def test_cli_refuses_a_folder_that_is_not_empty(tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    result = CliRunner().invoke(main, ["synth", "--triples", "100", "--out", str(tmp_path / "full")])
    assert result.exit_code == 2
    assert "is not empty" in result.output


def test_cli_writes_a_folder_that_builds(tmp_path):
    result = CliRunner().invoke(main, ["synth", "--triples", "100", "--seed", "2", "--out", str(tmp_path / "d")])
    assert result.exit_code == 0, result.output
    assert result.output == f"mkg: wrote 4 documents in the curation format to {tmp_path / 'd'}\n"


@pytest.mark.parametrize("triples", [0, -5])
def test_size_must_be_positive(triples):
    with pytest.raises(synth.SynthError, match="must be positive"):
        synth.shard_count(triples)


def test_one_shard_passes_mkg_validate(tmp_path):
    """The generated curation files conform to the shapes and the ontology (HermiT per document)."""
    synth.write_yaml(synth.TRIPLES_PER_SHARD, 1, tmp_path / "data")
    result = CliRunner().invoke(main, ["validate", "--data-dir", str(tmp_path / "data")])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Validation conforms: 0 violation(s)")
