"""Lookup, label search, retired IRIs, crawler files: against the real app over HTTP."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest


@pytest.mark.parametrize("external, ours", [
    ("http://www.wikidata.org/entity/Q232", "place/kazakhstan"),
    ("https://www.wikidata.org/wiki/Q232", "place/kazakhstan"),
    ("https://sws.geonames.org/1522867/", "place/kazakhstan"),
    ("http://sws.geonames.org/610529", "place/atyrau"),
    ("https://www.geonames.org/610611/aktobe.html", "place/aqtobe"),
    ("wd:Q34490", "org/al-qaeda"),
])
def test_lookup_redirects_external_iris_to_our_thing(server, http, external, ours):
    base, _ = server
    response = http.get(base + "lookup", params={"uri": external}, allow_redirects=False)
    assert response.status_code == 303
    assert response.headers["Location"] == f"{base}id/{ours}"


def test_lookup_follows_to_the_page(server, http):
    base, _ = server
    response = http.get(base + "lookup", params={"uri": "https://sws.geonames.org/610529/"},
                        headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.url == f"{base}page/place/atyrau"


def test_lookup_unknown_and_missing(server, http):
    base, _ = server
    unknown = http.get(base + "lookup", params={"uri": "http://www.wikidata.org/entity/Q889"},
                       allow_redirects=False)
    assert unknown.status_code == 404
    assert "No resource of this dataset is linked to http://www.wikidata.org/entity/Q889" in unknown.text
    assert http.get(base + "lookup", allow_redirects=False).status_code == 400


def test_search_is_case_and_accent_insensitive_with_prefix_and_fuzzy(server, http):
    base, _ = server
    hits = http.get(base + "api/search", params={"q": "KHŌST"}).json()["results"]
    assert [(h["id"], h["score"]) for h in hits] == [("place/khost", 100.0), ("place/khost-province", 96.4)]
    prefix = http.get(base + "api/search", params={"q": "kusay"}).json()
    assert [(h["id"], h["match"]) for h in prefix["results"]] == [("person/rawil-kusaynov", "Rawil Kusaynov")]
    attested = http.get(base + "api/search", params={"q": "jund al khilafa"}).json()["results"][0]
    assert (attested["id"], attested["match"], attested["score"]) == (
        "org/jund-al-khilafah", "Jund al-Khilafa", 100.0)
    assert attested["iri"] == f"{base}id/org/jund-al-khilafah"
    assert attested["page"] == f"{base}page/org/jund-al-khilafah"
    assert attested["types"] == [{"id": "ArmedGroup", "name": "armed group"}]
    fuzzy = http.get(base + "api/search", params={"q": "Zahir Baybars"}).json()["results"]
    assert [h["id"] for h in fuzzy] == ["org/zahir-baibars-battalion"]


def test_search_type_filter_limit_offset(server, http):
    base, _ = server
    body = http.get(base + "api/search", params={"q": "jund", "type": "ArmedGroup", "limit": 2}).json()
    assert body["total"] == 4 and len(body["results"]) == 2
    assert [h["id"] for h in body["results"]] == ["org/jund-al-khilafah", "org/jund-al-khilafa-algeria"]
    page2 = http.get(base + "api/search", params={"q": "jund", "limit": 2, "offset": 2}).json()
    assert [h["id"] for h in page2["results"]] == ["org/jund-al-khilafah-tunisia", "org/jundul-khilafah-philippines"]
    assert http.get(base + "api/search", params={"q": "Atyrau", "type": "Person"}).json()["results"] == []
    places = http.get(base + "api/search", params={"q": "Atyrau", "type": "Place,Event"}).json()["results"]
    assert [h["id"] for h in places] == ["place/atyrau", "place/atyrau-region", "event/2011-10-31-atyrau-attack"]
    assert http.get(base + "api/search", params={"q": "x", "limit": "0"}).status_code == 400
    assert http.get(base + "api/search").status_code == 400


def test_merged_iri_redirects_permanently_to_its_replacement(server, http):
    base, _ = server
    for path, target in [("id/org/zbb", "id/org/zahir-baibars-battalion"),
                         ("page/org/zbb", "page/org/zahir-baibars-battalion"),
                         ("data/org/zbb.ttl", "data/org/zahir-baibars-battalion.ttl")]:
        response = http.get(base + path, allow_redirects=False)
        assert response.status_code == 308, path
        assert response.headers["Location"] == base + target
    lookup = http.get(base + "lookup", params={"uri": f"{base}id/org/zbb"}, allow_redirects=False)
    assert lookup.headers["Location"] == f"{base}id/org/zahir-baibars-battalion"


def test_removed_iri_is_gone_with_its_reason(server, http):
    base, _ = server
    text = http.get(base + "id/person/unnamed-emir", headers={"Accept": "text/plain"})
    assert text.status_code == 410
    assert "Withdrawn: the documents do not support a separate person." in text.text
    page = http.get(base + "page/person/unnamed-emir", headers={"Accept": "text/html"})
    assert page.status_code == 410 and page.headers["Content-Type"].startswith("text/html")
    assert "Withdrawn: the documents do not support a separate person." in page.text
    assert http.get(base + "id/person/never-existed", allow_redirects=False).status_code == 404


def test_thing_redirect_links_its_data(server, http):
    base, _ = server
    response = http.get(base + "id/place/atyrau", headers={"Accept": "text/turtle"}, allow_redirects=False)
    assert response.status_code == 303
    assert '</data/place/atyrau.ttl>; rel="describedby"' in response.headers["Link"]


def test_data_documents_say_which_release_they_come_from(server, http):
    base, _ = server
    body = http.get(base + "data/place/atyrau.nt").text
    assert f'<{base}data/place/atyrau> <http://purl.org/dc/terms/hasVersion> "2026.1-test"' in body
    assert f"<{base}releases/2026.1-test/data.nt>" in body
    assert http.get(base + "releases/2026.1-test/data.nt").status_code == 200


def test_earlier_releases_stay_reachable_by_version(server, http):
    base, release_dir = server
    old = http.get(base + "releases/2025.1-test/data.nt")
    assert old.status_code == 200
    assert old.headers["Content-Type"].startswith("application/n-triples")
    assert old.content == (release_dir / "versions" / "2025.1-test" / "data.nt").read_bytes()
    manifest = http.get(base + "releases/2025.1-test/manifest.json").json()
    assert manifest["version"] == "2025.1-test"
    assert http.get(base + "releases/1999.1/data.nt").status_code == 404
    assert http.get(base + "releases/2025.1-test/secret.txt").status_code == 404
    assert http.get(base + "releases/..%2F..%2Fversions/data.nt").status_code == 404


def test_sitemap_lists_every_page(server, http):
    base, _ = server
    response = http.get(base + "sitemap.xml")
    assert response.headers["Content-Type"].startswith("application/xml")
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    urls = [loc.text for loc in ET.fromstring(response.content).findall("s:url/s:loc", ns)]
    assert urls[:2] == [base, base + "ontology"]
    assert f"{base}page/place/atyrau" in urls and f"{base}page/person/rawil-kusaynov" in urls
    assert f"{base}page/org/zbb" not in urls and f"{base}page/person/unnamed-emir" not in urls
    assert len(urls) == 2 + 20 + 3  # home, ontology, 20 entities, 3 name attestations


def test_robots_allows_all_and_points_to_the_sitemap(server, http):
    base, _ = server
    response = http.get(base + "robots.txt")
    assert response.text == f"User-agent: *\nAllow: /\n\nSitemap: {base}sitemap.xml\n"


def test_home_page_describes_the_dataset_for_aggregators(server, http):
    import json
    import re

    base, _ = server
    html = http.get(base, headers={"Accept": "text/html"}).text
    found = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    doc = json.loads(found.group(1))
    assert (doc["@type"], doc["@id"], doc["version"]) == ("Dataset", f"{base}id/dataset/mkg", "2026.1-test")
    assert doc["distribution"] == [{"@type": "DataDownload", "encodingFormat": "application/n-triples",
                                    "contentUrl": f"{base}releases/2026.1-test/data.nt"}]
    assert doc["license"] == "https://creativecommons.org/licenses/by/4.0/"
