"""Reading the curation formats: quotes, offsets and errors that name file and line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from server.sources import Span, SourceErrors, find_quote, read_corpus

TINY_CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus"

TEXT = "The emir of the ZBB said the ZBB is a unit of JaK.[1] “Quoted”."


def test_quote_offsets_are_code_point_indices():
    assert find_quote(TEXT, "“Quoted”") == Span(54, 62, "“Quoted”")
    assert len("“Quoted”".encode()) == 12  # bytes differ from code points


def test_marker_picks_a_short_phrase_inside_a_unique_context():
    assert find_quote(TEXT, "emir of the [[ZBB]] said") == Span(16, 19, "ZBB")
    assert find_quote(TEXT, "JaK.[[[1]]]") == Span(50, 53, "[1]")


@pytest.mark.parametrize(
    ("quote", "message"),
    [
        ("ZBB", "quote occurs 2 times in the document: 'ZBB'; make it unique by quoting more words around it and marking the evidence with [[ ]]"),
        ("the IMU", "quote not found in the document: 'the IMU'; copy it exactly from the text"),
        ("", "the quote is empty; write the exact words of the document"),
        ("the [[emir", "unbalanced [[ ]] marker in 'the [[emir'; mark the evidence as [[words]] once"),
    ],
)
def test_bad_quotes_say_what_to_do(quote, message):
    with pytest.raises(ValueError) as err:
        find_quote(TEXT, quote)
    assert str(err.value) == message


def _copy_corpus(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    shutil.copytree(TINY_CORPUS, corpus)
    return corpus


def test_tiny_corpus_reads(tmp_path):
    corpus = read_corpus(TINY_CORPUS)
    assert [d.id for d in corpus.documents] == ["d1"]
    assert len(corpus.entities) == 6
    (annotation,) = corpus.annotations
    assert [a.id for a in annotation.assertions] == ["a1", "a2", "a3", "a4", "a5", "a6"]
    assert annotation.assertions[1].evidence == (Span(121, 132, "Springfield"),)


def test_malformed_yaml_names_the_line(tmp_path):
    corpus = _copy_corpus(tmp_path)
    path = corpus / "annotations" / "d1.yaml"
    lines = path.read_text().splitlines()
    lines[12] = "  - {id: x, kind: Body, quote: [unclosed"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(SourceErrors) as err:
        read_corpus(corpus)
    (problem,) = err.value.problems
    assert problem.path == str(path)
    assert problem.line == 14
    assert problem.message.startswith("malformed YAML: ")
    assert problem.message.endswith("Fix the syntax on this line.")


def test_all_problems_of_a_run_are_reported_together(tmp_path):
    corpus = _copy_corpus(tmp_path)
    path = corpus / "annotations" / "d1.yaml"
    text = path.read_text()
    text = text.replace('evidence: ["On May 1"]', 'evidence: ["On June 1"]')
    text = text.replace("    status: ReportedSpeech\n    evidence: [\"AB is", "    status: ReportedSpeech\n    colour: red\n    evidence: [\"AB is")
    path.write_text(text)
    (corpus / "documents" / "orphan.txt").unlink(missing_ok=True)
    (corpus / "annotations" / "missing-doc.yaml").write_text("document: {}\n")
    with pytest.raises(SourceErrors) as err:
        read_corpus(corpus)
    assert [str(p) for p in err.value.problems] == [
        f"{corpus}/annotations/d1.yaml:29: quote not found in the document: 'On June 1'; copy it exactly from the text",
        f"{corpus}/annotations/d1.yaml:35: unknown key 'colour' in assertion; allowed: cites, claimant, confidence, contradicts, corroborates, derived_from, evidence, id, money, note, object, polarity, predicate, quantity, status, subject, time, valid_as_of, value",
        f"{corpus}/annotations/missing-doc.yaml: no document data/documents/missing-doc.txt for this annotation file; add the document or rename the file",
    ]


def test_an_entity_defined_twice_is_an_error(tmp_path):
    corpus = _copy_corpus(tmp_path)
    (corpus / "entities" / "more.yaml").write_text("org/big-front:\n  type: ArmedGroup\n  label: Big Front again\n")
    with pytest.raises(SourceErrors) as err:
        read_corpus(corpus)
    assert [str(p) for p in err.value.problems] == [
        f"{corpus}/entities/tiny.yaml:4: entity 'org/big-front' is already defined at {corpus}/entities/more.yaml:1; define each entity once"
    ]
