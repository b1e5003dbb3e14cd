"""HTML pages for people, over real HTTP: home, entity, document, ontology and shapes pages."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from .conftest import BASE, CLAIM, DENIAL, DOC1_TEXT, GANG, NAME, VERSION

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []
        self.ids: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("a", "link") and attrs.get("href"):
            self.hrefs.append(attrs["href"])
        if tag == "script" and attrs.get("src"):
            self.hrefs.append(attrs["src"])
        if attrs.get("id"):
            self.ids.append(attrs["id"])


def _parse(html: str) -> _Links:
    parser = _Links()
    parser.feed(html)
    return parser


def _text_of(html: str) -> str:
    from html import unescape

    return unescape(re.sub(r"<[^>]+>", "", html))


def test_home(server, http):
    r = http.get(server.url("/"))
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    html = r.text
    assert "A tiny fixture release." in html
    assert VERSION in html
    assert "https://creativecommons.org/licenses/by/4.0/" in html
    assert re.search(r"\d+ triples", html)
    assert ">armed group</a>" in html  # entities by class, labelled from the ontology
    assert f'href="/releases/{VERSION}/data.nt"' in html
    assert "curl -H 'Accept: text/csv'" in html
    assert server.base + "/sparql" in html  # curl examples use the host the page was reached on
    assert "Conflicting reports" in html


def test_entity_page_evidence(server, http):
    r = http.get(server.url("/page/event/atyrau-attack"))
    assert r.status_code == 200
    html = r.text
    assert "<h1>Atyrau attack, 31 October 2011</h1>" in html
    # grouped by document, each with claimant, status, polarity
    assert html.index(">Jund al Khilafah Targets Kazakhstan</a></h3>") < html.index(
        ">Police report on Atyrau</a></h3>")
    assert "claimed by" in html and ">self-claim</a>" in html and ">negated</a>" in html
    # the quote in its context, linked to the highlighted span in the document page
    quote = DOC1_TEXT[CLAIM[0]:CLAIM[1]]
    assert f"<mark>{quote}</mark>" in html
    before = DOC1_TEXT[max(0, CLAIM[0] - 80):CLAIM[0]]
    assert f'<span class="ctx">…{before}</span>' in html
    assert f'href="/page/doc/d1#d1-{CLAIM[0]}-{CLAIM[1]}"' in html
    assert f'href="/page/doc/d2#d2-{GANG[0]}-{GANG[1]}"' in html
    # the conflict side by side
    section = html[html.index('<section class="conflicts">'):]
    section = section[:section.index("</section>")]
    assert 'class="pair"' in section and "contradicts" in section
    assert "d1-a01" in section and "d2-a01" in section


def test_entity_page_names_and_links(server, http):
    html = http.get(server.url("/page/org/jund-al-khilafah")).text
    names = html[html.index("<h2>Names</h2>"):]
    names = names[:names.index("</section>")]
    assert "<th>JaK</th>" in names
    assert "<th>Jund al Khilafah</th>" in names
    assert names.count('href="/id/doc/d1"') == 2
    assert '<a href="http://www.wikidata.org/entity/Q232">wd:Q232</a>' in html
    assert '<link rel="alternate" type="text/turtle" href="/data/org/jund-al-khilafah.ttl">' in html


def test_entity_page_incoming_links_bounded(server, http):
    html = http.get(server.url("/page/org/jund-al-khilafah")).text
    section = html[html.index("<h2>Links here"):]
    section = section[:section.index("</section>")]
    assert section.count("<tr>") == 3  # INCOMING_LINKS_LIMIT
    assert "incoming links (SPARQL)" in section
    assert "OFFSET+3" in section


def test_document_page_highlights_every_span(server, http):
    r = http.get(server.url("/page/doc/d1"))
    assert r.status_code == 200
    html = r.text
    text = html[html.index('<div class="text">') + len('<div class="text">'):]
    text = text[:text.index("</div>")]
    assert _text_of(text) == DOC1_TEXT
    ids = _parse(text).ids
    for start, end in (CLAIM, NAME, DENIAL):
        assert ids.count(f"d1-{start}-{end}") == 1
    # NAME (JaK) is nested inside CLAIM; DENIAL overlaps CLAIM ("in Atyrau")
    assert f'<mark class="ev d1" data-ev="d1-{CLAIM[0]}-{CLAIM[1]}" id="d1-{CLAIM[0]}-{CLAIM[1]}">' in text
    assert (f'<mark class="ev d1" data-ev="d1-{CLAIM[0]}-{CLAIM[1]}"><mark class="ev d2" '
            f'data-ev="d1-{NAME[0]}-{NAME[1]}" id="d1-{NAME[0]}-{NAME[1]}"><a href="/page/assertion/d1-a01"') in text
    assert (f'<mark class="ev d1" data-ev="d1-{CLAIM[0]}-{CLAIM[1]}"><mark class="ev d2" '
            f'data-ev="d1-{DENIAL[0]}-{DENIAL[1]}" id="d1-{DENIAL[0]}-{DENIAL[1]}"><a href="/page/assertion/d1-a02"') in text
    assert "3 evidence spans highlighted" in html
    assert "What this document says" in html


def test_pages_have_validators(server, http):
    r = http.get(server.url("/page/doc/d1"))
    assert r.headers["ETag"].startswith(f'W/"{VERSION}-')
    assert http.get(server.url("/page/doc/d1"),
                    headers={"If-None-Match": r.headers["ETag"]}).status_code == 304


@pytest.mark.parametrize("path", ["/", "/page/event/atyrau-attack", "/page/org/jund-al-khilafah",
                                  "/page/doc/d1", "/page/assertion/d1-a01", "/ontology",
                                  "/shapes", "/sparql", "/page/dataset/mkg"])
def test_every_local_link_leads_somewhere(server, http, path):
    html = http.get(server.url(path), headers={"Accept": BROWSER}).text
    hrefs = {h.split("#")[0] for h in _parse(html).hrefs if h.startswith("/")}
    assert hrefs
    for href in sorted(hrefs):
        if not href:
            continue
        r = http.get(server.url(href), headers={"Accept": BROWSER})
        assert r.status_code == 200, href
    assert BASE not in {h for h in _parse(html).hrefs}


def test_ontology_html(server, http):
    r = http.get(server.url("/ontology"), headers={"Accept": BROWSER})
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    assert r.headers["Content-Location"] == "/ontology.html"
    assert "Accept" in r.headers["Vary"]
    html = r.text
    ids = _parse(html).ids
    for term in ("ArmedGroup", "Attack", "perpetrator", "SelfClaim"):
        assert term in ids
    term = html[html.index('id="perpetrator"'):]
    term = term[:term.index("</article>")]
    assert "Who carried out the event." in term
    assert "rdfs:domain" in term and ">attack</a>" in term
    assert "rdfs:range" in term and ">armed group</a>" in term
    group = html[html.index('id="ArmedGroup"'):]
    group = group[:group.index("</article>")]
    assert "An armed group needs a preferred label." in group
    assert ">2</a>" in group  # instances


@pytest.mark.parametrize("accept,ctype,location", [
    ("text/turtle", "text/turtle; charset=utf-8", "/ontology.ttl"),
    ("application/rdf+xml", "application/rdf+xml", "/ontology.rdf"),
    ("application/ld+json", "application/ld+json", "/ontology.jsonld"),
    ("*/*", "text/turtle; charset=utf-8", "/ontology.ttl"),
])
def test_ontology_rdf(server, http, accept, ctype, location):
    r = http.get(server.url("/ontology"), headers={"Accept": accept})
    assert r.status_code == 200
    assert r.headers["Content-Type"] == ctype
    assert r.headers["Content-Location"] == location
    assert "Accept" in r.headers["Vary"]
    assert b"ArmedGroup" in r.content
    fixed = http.get(server.url(location))
    assert fixed.status_code == 200
    assert fixed.headers["Content-Type"] == ctype


def test_ontology_406_and_unknown_extension(server, http):
    assert http.get(server.url("/ontology"), headers={"Accept": "image/png"}).status_code == 406
    assert http.get(server.url("/ontology.xyz")).status_code == 404


def test_shapes(server, http):
    r = http.get(server.url("/shapes"), headers={"Accept": "text/html"})
    assert r.status_code == 200
    assert 'id="ArmedGroupShape"' in r.text
    assert "An armed group needs a preferred label." in r.text
    t = http.get(server.url("/shapes"), headers={"Accept": "application/n-triples"})
    assert t.headers["Content-Type"] == "application/n-triples"
    assert f"<{BASE}shapes#ArmedGroupShape>".encode() in t.content


def test_query_page_lists_competency_questions(release_dir, tmp_path):
    from server.app import create_app

    folder = tmp_path / "cq"
    folder.mkdir()
    (folder / "cq01.rq").write_text("# title: CQ-01. Who claimed it?\nPREFIX mkg: <x:>\n"
                                    "SELECT * WHERE { ?s ?p ?o } LIMIT 1\n", encoding="utf-8")
    app = create_app({"RELEASE_DIR": str(release_dir), "QUERIES_DIR": str(folder)})
    client = app.test_client()
    html = client.get("/sparql", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert '<option value="0">CQ-01. Who claimed it?</option>' in html
    assert '<option value="1">Entities by class</option>' in html
    home = client.get("/").get_data(as_text=True)
    assert ">CQ-01. Who claimed it?</a>" in home
