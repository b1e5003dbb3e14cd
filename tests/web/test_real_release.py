"""The publisher on the release of the shipped data (built once per session, validated)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .conftest import Server, started
from server.app import create_app
from server.config import PROJECT_ROOT

QUERIES = sorted((PROJECT_ROOT / "queries" / "cq").glob("*.rq"))
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"



@pytest.fixture(scope="module")
def release_dir(shipped_release) -> Path:
    return shipped_release.path.parent.parent


@pytest.fixture(scope="module")
def real(release_dir):
    for app in started(create_app({"RELEASE_DIR": str(release_dir), "RATE_LIMIT_PER_MINUTE": 0,
                                   "QUERIES_DIR": str(PROJECT_ROOT / "queries" / "cq")})):
        with Server(app) as running:
            yield running


def _sparql(http, real, query: str) -> list[dict]:
    r = http.get(real.url("/sparql"), params={"query": query})
    assert r.status_code == 200
    return r.json()["results"]["bindings"]


def _base(http, real) -> str:
    return _sparql(http, real, "SELECT ?b WHERE { BIND(STR(<ontology>) AS ?o) "
                   "BIND(SUBSTR(?o, 1, STRLEN(?o) - 8) AS ?b) }")[0]["b"]["value"]


def test_health_matches_manifest(real, http, release_dir):
    import json

    manifest = json.loads((release_dir / "current" / "manifest.json").read_text(encoding="utf-8"))
    body = http.get(real.url("/health")).json()
    assert body["checks"]["release"]["detail"]["version"] == manifest["version"]


def test_every_document_page_marks_every_span(real, http):
    docs = _sparql(http, real, "SELECT ?d WHERE { ?d a <%sontology#SourceDocument> }"
                   % _base(http, real))
    assert docs
    for row in docs:
        iri = row["d"]["value"]
        spans = _sparql(http, real, f"""SELECT (COUNT(DISTINCT ?ev) AS ?n) WHERE {{
            ?ev <http://www.w3.org/ns/oa#hasSource> <{iri}> ;
                <http://www.w3.org/ns/oa#hasSelector>/<http://www.w3.org/ns/oa#start> ?s }}""")
        expected = int(spans[0]["n"]["value"])
        page = http.get(real.url("/page/doc/" + iri.rsplit("/", 1)[-1]))
        assert page.status_code == 200
        ids = set(re.findall(r'<mark class="ev[^"]*" data-ev="[^"]+" id="([^"]+)"', page.text))
        ids |= set(re.findall(r'<mark class="ev empty" id="([^"]+)"', page.text))
        assert len(ids) == expected


def test_entity_pages_and_documents(real, http):
    base = _base(http, real)
    rows = _sparql(http, real, f"""SELECT DISTINCT ?e WHERE {{
        ?a <{base}ontology#assertedSubject> ?e }} ORDER BY ?e LIMIT 25""")
    assert rows
    for row in rows:
        path = row["e"]["value"][len(base) - 1:]
        see_other = http.get(real.url(path), headers={"Accept": BROWSER}, allow_redirects=False)
        assert see_other.status_code == 303
        page = http.get(real.url(see_other.headers["Location"]))
        assert page.status_code == 200
        data = http.get(real.url(path), headers={"Accept": "application/n-triples"})
        assert data.status_code == 200
        assert data.headers["Content-Type"] == "application/n-triples"
        assert f"<{row['e']['value']}>" in data.text


def test_home_ontology_and_query_page_links(real, http):
    for path in ("/", "/ontology", "/sparql"):
        r = http.get(real.url(path), headers={"Accept": BROWSER})
        assert r.status_code == 200
        hrefs = sorted({h.split("#")[0] for h in re.findall(r'href="(/[^"]*)"', r.text)})
        for href in hrefs[:60]:
            from html import unescape

            target = http.get(real.url(unescape(href)), headers={"Accept": BROWSER})
            assert target.status_code == 200, href


@pytest.mark.parametrize("path", QUERIES, ids=[p.stem for p in QUERIES])
def test_competency_queries_run_on_the_endpoint(real, http, path: Path):
    r = http.post(real.url("/sparql"), data=path.read_text(encoding="utf-8").encode("utf-8"),
                  headers={"Content-Type": "application/sparql-query", "Accept": "text/csv"})
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "text/csv; charset=utf-8"
