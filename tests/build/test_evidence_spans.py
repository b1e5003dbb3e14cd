"""Every evidence span of the shipped release quotes its document exactly at its offsets.

Independent of the build's own checks: the text is read from ``data/documents/`` as published and
the offsets are 0-based, end-exclusive code points (Python ``str`` indices).
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

ROOT = Path(__file__).resolve().parents[2]

SPANS = """
PREFIX oa: <http://www.w3.org/ns/oa#>
PREFIX dcterms: <http://purl.org/dc/terms/>
SELECT ?span ?docid ?exact ?prefix ?suffix ?start ?end WHERE {
  ?span oa:hasSource ?doc ; oa:hasSelector ?q, ?p .
  ?doc dcterms:identifier ?docid .
  ?q a oa:TextQuoteSelector ; oa:exact ?exact ; oa:prefix ?prefix ; oa:suffix ?suffix .
  ?p a oa:TextPositionSelector ; oa:start ?start ; oa:end ?end .
}"""


def _rows(release):
    store = ox.Store()
    store.bulk_load(path=str(release.path / "data.nt"), format=ox.RdfFormat.N_TRIPLES)
    return [{v: row[v].value for v in ("span", "docid", "exact", "prefix", "suffix", "start", "end")}
            for row in store.query(SPANS)], store


def test_every_evidence_span_matches_the_document_text(shipped_release):
    rows, _ = _rows(shipped_release)
    texts = {p.stem: p.read_text(encoding="utf-8") for p in (ROOT / "data" / "documents").glob("*.txt")}
    assert {r["docid"] for r in rows} == set(texts)
    mismatches = []
    for r in rows:
        text, start, end = texts[r["docid"]], int(r["start"]), int(r["end"])
        if not (0 <= start < end <= len(text)) or text[start:end] != r["exact"]:
            mismatches.append((r["span"], start, end, r["exact"][:40]))
        elif not text[:start].endswith(r["prefix"]):
            mismatches.append((r["span"], "prefix"))
        elif not text[end:].startswith(r["suffix"]):
            mismatches.append((r["span"], "suffix"))
    assert mismatches == []


def test_every_assertion_has_evidence_in_the_document_it_is_stated_in(shipped_release):
    _, store = _rows(shipped_release)
    orphans = list(store.query("""
        PREFIX mkg: <http://127.0.0.1:8080/ontology#>
        PREFIX oa: <http://www.w3.org/ns/oa#>
        SELECT ?a WHERE { ?a a mkg:Assertion ; mkg:statedIn ?doc .
          FILTER NOT EXISTS { ?a mkg:hasEvidence/oa:hasSource ?doc } }"""))
    assert [row["a"].value for row in orphans] == []
    count = next(iter(store.query("PREFIX mkg: <http://127.0.0.1:8080/ontology#> "
                                  "SELECT (COUNT(?a) AS ?n) WHERE { ?a a mkg:Assertion }")))["n"].value
    assert int(count) == sum(1 for _ in _assertion_ids())


def _assertion_ids():
    import yaml

    for path in sorted((ROOT / "data" / "annotations").glob("*.yaml")):
        for record in yaml.safe_load(path.read_text(encoding="utf-8")).get("assertions") or []:
            yield path.stem, record["id"]
