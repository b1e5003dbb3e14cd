"""The query policy on SPARQL text: the lexer, the refusals, the release check."""

from __future__ import annotations

import hashlib
import json

import pytest

from server.guard import (ReleaseMismatch, check_graph_iri, inspect_query, tokenize,
                          verify_release)
from server.limits import Refused


def inspect(text, allow=()):
    return inspect_query(text, max_length=20_000, max_nesting=64, service_allow_list=allow)


def refusal(text, allow=()) -> Refused:
    with pytest.raises(Refused) as info:
        inspect(text, allow)
    return info.value


@pytest.mark.parametrize("text", [
    'SELECT * WHERE { ?s ?p "SERVICE <http://evil/> { ?a ?b ?c }" }',
    "SELECT * WHERE { ?s ?p 'INSERT DATA { <a> <b> <c> }' }",
    'SELECT * WHERE { ?s ?p """multi\nline DELETE WHERE { ?s ?p ?o }\nLOAD <http://x/>""" }',
    "SELECT * WHERE { ?s ?p '''drop all''' }",
    "SELECT * WHERE { ?s ?p ?o } # SERVICE <http://evil/> { } and DROP ALL",
    "SELECT * WHERE { ?s <http://example.org/SERVICE/insert#load> ?o }",
    "PREFIX service: <http://example.org/> SELECT * WHERE { service:x ?p service:drop }",
    "PREFIX ex: <http://example.org/> SELECT ?service ?insert WHERE { ?service ex:with ?insert }",
    'SELECT * WHERE { ?s ?p "x"@delete }',
    'SELECT * WHERE { ?s ?p "a \\" SERVICE <http://evil/> { } \\" b" }',
    "SELECT * WHERE { ?s ?p ?o . _:copy ?p ?o }",
    "SELECT * WHERE { ?s ?p ?o FILTER(?o < 3 && ?s != <http://x/CLEAR>) }",
])
def test_keywords_inside_strings_iris_comments_and_names_are_not_refused(text):
    assert inspect(text).form == "SELECT"


@pytest.mark.parametrize("text,keyword", [
    ("INSERT DATA { <http://a> <http://b> <http://c> }", "INSERT"),
    ("delete where { ?s ?p ?o }", "DELETE"),
    ("LOAD <http://example.org/data.ttl>", "LOAD"),
    ("CLEAR ALL", "CLEAR"),
    ("DROP GRAPH <http://g>", "DROP"),
    ("CREATE GRAPH <http://g>", "CREATE"),
    ("ADD DEFAULT TO <http://g>", "ADD"),
    ("MOVE DEFAULT TO <http://g>", "MOVE"),
    ("COPY DEFAULT TO <http://g>", "COPY"),
    ("WITH <http://g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }", "WITH"),
    ('SELECT * WHERE { ?s ?p "x" } ; INSERT DATA { <a> <b> <c> }', "INSERT"),
])
def test_updates_are_refused_with_403_and_the_keyword(text, keyword):
    exc = refusal(text)
    assert exc.status == 403
    assert exc.message.startswith(f"This endpoint is read-only: {keyword} (at character ")


@pytest.mark.parametrize("text", [
    "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
    "SELECT * WHERE { service <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
    "SELECT * WHERE { SeRvIcE SILENT <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
    "SELECT * WHERE { ?s ?p ?o }SERVICE<http://127.0.0.1:9/sparql>{}",
    "PREFIX e: <http://127.0.0.1:9/> SELECT * WHERE { SERVICE e:sparql { ?s ?p ?o } }",
    "BASE <http://127.0.0.1:9/> SELECT * WHERE { SERVICE <sparql> { ?s ?p ?o } }",
    "SELECT * WHERE { # comment\nSERVICE <file:///etc/passwd> { ?s ?p ?o } }",
])
def test_service_is_refused_unless_allow_listed(text):
    exc = refusal(text)
    assert exc.status == 403
    assert "is not allowed. Allowed endpoints: none: federated queries are disabled." in exc.message


def test_service_with_a_variable_is_refused():
    exc = refusal("SELECT * WHERE { SERVICE ?endpoint { ?s ?p ?o } }")
    assert exc.status == 403
    assert exc.message.startswith("SERVICE needs an endpoint IRI from the allow-list")


def test_allow_listed_service_passes_and_others_still_fail():
    allowed = "http://127.0.0.1:9/sparql"
    info = inspect(f"SELECT * WHERE {{ SERVICE <{allowed}> {{ ?s ?p ?o }} }}", (allowed,))
    assert info.services == (allowed,)
    exc = refusal("SELECT * WHERE { SERVICE <http://127.0.0.1:9/other> { ?s ?p ?o } }",
                  (allowed,))
    assert exc.message == ("SERVICE <http://127.0.0.1:9/other> is not allowed. Allowed "
                           f"endpoints: {allowed}.")


def test_file_iris_in_from_and_protocol_graphs_are_refused():
    exc = refusal("SELECT * FROM <file:///etc/passwd> WHERE { ?s ?p ?o }")
    assert exc.status == 403
    assert exc.message.startswith("The graph <file:///etc/passwd> names a local file")
    with pytest.raises(Refused):
        inspect("SELECT * FROM NAMED <FILE:/etc/shadow> WHERE { ?s ?p ?o }")
    with pytest.raises(Refused):
        check_graph_iri("file:///tmp/x")
    assert inspect("SELECT * FROM <http://g/1> FROM NAMED <http://g/2> WHERE { ?s ?p ?o }"
                   ).dataset == ("http://g/1", "http://g/2")


def test_nesting_is_measured_without_recursion():
    deep = "SELECT * WHERE " + "{" * 1000 + " ?s ?p ?o " + "}" * 1000
    exc = refusal(deep)
    assert (exc.status, exc.message) == (400, "The query nests brackets 1000 levels deep; "
                                              "the limit is 64.")
    deeper = "ASK { FILTER(" + "(" * 100_000 + "1" + ")" * 100_000 + ") }"
    with pytest.raises(Refused):
        inspect_query(deeper, max_length=1_000_000, max_nesting=64)
    brackets_in_strings = 'SELECT * WHERE { ?s ?p "' + "{" * 500 + '" }'
    assert inspect(brackets_in_strings).depth == 1


def test_length_limit():
    exc = refusal("SELECT * WHERE { ?s ?p ?o }" + " " * 20_000)
    assert (exc.status, exc.message) == (400, "The query is 20027 characters long; the limit "
                                              "is 20000. Shorten the query.")


@pytest.mark.parametrize("text,form", [
    ("PREFIX select: <http://x/> ASK { select:a ?p ?o }", "ASK"),
    ("# SELECT\nCONSTRUCT WHERE { ?s ?p ?o }", "CONSTRUCT"),
    ("BASE <http://x/> describe <a>", "DESCRIBE"),
])
def test_form(text, form):
    assert inspect(text).form == form


def test_not_a_query():
    exc = refusal("PREFIX ex: <http://x/>")
    assert (exc.status, exc.message) == (400, "This is not a SPARQL query: expected SELECT, ASK, "
                                              "CONSTRUCT or DESCRIBE.")


def test_tokens():
    kinds = [(t.kind, t.text) for t in tokenize('SELECT ?x { <a> ex:b "c"@en . } # SERVICE')]
    assert kinds == [("name", "SELECT"), ("var", "?x"), ("punct", "{"), ("iri", "a"),
                     ("pname", "ex:b"), ("string", '"c"'), ("lang", "@en"), ("punct", "."),
                     ("punct", "}")]


# --- release integrity ------------------------------------------------------------------------

def _release(tmp_path):
    body = b"<http://a> <http://b> <http://c> .\n"
    (tmp_path / "data.nt").write_bytes(body)
    manifest = {"version": "t", "files": {"data.nt": {
        "sha256": hashlib.sha256(body).hexdigest(), "bytes": len(body)}}}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    return tmp_path


def test_verify_release_accepts_a_matching_release(tmp_path):
    assert verify_release(_release(tmp_path))["version"] == "t"


def test_verify_release_refuses_a_changed_file(tmp_path):
    folder = _release(tmp_path)
    (folder / "data.nt").write_bytes(b"<http://a> <http://b> <http://X> .\n")
    with pytest.raises(ReleaseMismatch) as info:
        verify_release(folder)
    assert f"{folder.resolve()}: data.nt has SHA-256 " in str(info.value)


def test_verify_release_refuses_a_missing_file_or_manifest(tmp_path):
    folder = _release(tmp_path)
    (folder / "data.nt").unlink()
    with pytest.raises(ReleaseMismatch, match="data.nt is listed in manifest.json but missing"):
        verify_release(folder)
    (folder / "manifest.json").unlink()
    with pytest.raises(ReleaseMismatch, match="no readable manifest.json"):
        verify_release(folder)


def test_unicode_digits_are_not_numbers_issue_fuzz():
    assert [t.kind for t in tokenize("² ١ 1.5")] == ["punct", "name", "number"]
