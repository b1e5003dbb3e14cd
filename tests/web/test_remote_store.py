"""The publisher with a remote engine behind ``store.py``: the ``oxigraph`` server from PyPI,
loaded with the fixture release, queried over SPARQL 1.1 Protocol."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time

import pytest
import requests

from .conftest import BASE, Server
from server.app import create_app
from server.store import RELEASE_FILES, RemoteStore

OXIGRAPH = shutil.which("oxigraph") or str(__import__("sys").prefix + "/bin/oxigraph")

pytestmark = pytest.mark.skipif(not shutil.which(OXIGRAPH), reason="oxigraph server not installed")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def engine(release_dir, tmp_path_factory):
    location = tmp_path_factory.mktemp("oxigraph")
    for name, graph in RELEASE_FILES.items():
        subprocess.run([OXIGRAPH, "load", "--location", str(location), "--file",
                        str(release_dir / "current" / name), "--graph", f"{BASE}graph/{graph}"],
                       check=True, capture_output=True, timeout=120)
    port = _free_port()
    process = subprocess.Popen([OXIGRAPH, "serve-read-only", "--location", str(location),
                                "--bind", f"127.0.0.1:{port}"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/query"
    try:
        for _ in range(200):
            try:
                requests.get(url, params={"query": "ASK {}"}, timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def remote(release_dir, engine):
    app = create_app({"RELEASE_DIR": str(release_dir), "STORE_URL": engine, "RATE_LIMIT_PER_MINUTE": 0,
                      "INCOMING_LINKS_LIMIT": 3})
    assert isinstance(app.extensions["mkg.store"], RemoteStore)
    with Server(app) as running:
        yield running


def test_remote_select_and_formats(remote, http):
    query = ("SELECT ?s WHERE { ?s a <" + BASE + "ontology#ArmedGroup> } ORDER BY ?s")
    r = http.get(remote.url("/sparql"), params={"query": query})
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/sparql-results+json"
    assert [b["s"]["value"] for b in r.json()["results"]["bindings"]] == [
        BASE + "id/org/criminal-gang", BASE + "id/org/jund-al-khilafah"]
    c = http.get(remote.url("/sparql"), params={"query": query}, headers={"Accept": "text/csv"})
    assert c.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert c.text.splitlines()[0] == "s"
    bad = http.get(remote.url("/sparql"), params={"query": "SELEKT"})
    assert bad.status_code == 400


def test_remote_dereferencing_and_pages(remote, http):
    r = http.get(remote.url("/id/org/jund-al-khilafah"), headers={"Accept": "text/turtle"},
                 allow_redirects=False)
    assert r.status_code == 303
    d = http.get(remote.url("/data/org/jund-al-khilafah.nt"))
    assert d.status_code == 200
    assert (f"<{BASE}id/org/jund-al-khilafah> <http://www.w3.org/2004/02/skos/core#prefLabel> "
            '"Jund al-Khilafah"@en .') in d.text.splitlines()
    page = http.get(remote.url("/page/doc/d1"))
    assert page.status_code == 200
    assert "3 evidence spans highlighted" in page.text
    health = http.get(remote.url("/health")).json()
    assert health["status"] == "ok"
    assert health["checks"]["release"]["detail"]["triples"] > 100
