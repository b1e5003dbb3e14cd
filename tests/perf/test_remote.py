"""``mkg serve --store URL``: the same HTTP surface from an external SPARQL engine.

Starts a real ``oxigraph serve`` (the PyPI package's server) on 127.0.0.1 and a free port, loads
the tiny release into it with ``mkg load-remote`` (Graph Store Protocol), then runs the same
publisher checks against the app on the embedded store and on the remote one.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests
from click.testing import CliRunner
from werkzeug.serving import make_server

from server.app import create_app
from server.cli import main
from server.remote import LoadError, load_release, verify
from server.store import open_release

OXIGRAPH = Path(sys.executable).with_name("oxigraph")
BASE = "http://127.0.0.1:8080/"
MKG = f"PREFIX mkg: <{BASE}ontology#>\n"

pytestmark = pytest.mark.skipif(not OXIGRAPH.exists(), reason="the oxigraph server (PyPI: oxigraph) is not installed")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    """A running ``oxigraph serve`` with an empty store; its base URL. Stopped at the end."""
    port = free_port()
    location = tmp_path_factory.mktemp("oxigraph")
    proc = subprocess.Popen([str(OXIGRAPH), "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if requests.get(f"{url}/query", params={"query": "ASK {}"}, timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.05)
        else:
            pytest.fail("oxigraph serve did not start")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(location, ignore_errors=True)


@pytest.fixture(scope="module")
def loaded(engine, tiny_release):
    """The tiny release, loaded into the engine by the documented command."""
    release_root = tiny_release.path.parent.parent
    result = CliRunner().invoke(main, ["load-remote", "--gsp", f"{engine}/store", "--query", f"{engine}/query",
                                       "--release-dir", str(release_root)])
    assert result.exit_code == 0, result.output
    return release_root, result.output


class Served:
    """The app under a real HTTP server in a thread."""

    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.base = f"http://127.0.0.1:{self.server.server_port}"

    def get(self, path: str, **kwargs) -> requests.Response:
        return requests.get(self.base + path, allow_redirects=False, timeout=30, **kwargs)

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join()


@pytest.fixture(scope="module")
def servers(loaded, engine):
    release_root, _ = loaded
    local = Served(create_app({"RELEASE_DIR": str(release_root), "TESTING": True}))
    remote = Served(create_app({"RELEASE_DIR": str(release_root), "TESTING": True, "STORE_URL": f"{engine}/query"}))
    yield {"local": local, "remote": remote}
    local.stop()
    remote.stop()


def triples(body: bytes) -> set:
    return {str(t) for t in ox.parse(body, format=ox.RdfFormat.N_TRIPLES)}


def test_load_remote_reports_what_the_engine_holds(loaded, tiny_release):
    _, output = loaded
    assert f"mkg: loaded {BASE}graph/data\n" in output
    assert f"mkg: the engine holds release {tiny_release.version}: " in output
    assert f"'data': {tiny_release.triples}" in output


def test_the_remote_app_uses_the_remote_store(servers):
    from server.store import EXTENSION, RemoteStore

    remote_app = servers["remote"].server.app
    assert isinstance(remote_app.extensions[EXTENSION], RemoteStore)


def test_sparql_select(servers):
    response = servers["remote"].get("/sparql", params={"query": MKG + "SELECT (COUNT(*) AS ?n) WHERE { ?a a mkg:Assertion }"},
                                  headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/sparql-results+json")
    assert response.json()["results"]["bindings"][0]["n"]["value"] == "6"


def test_sparql_construct(servers):
    query = MKG + "CONSTRUCT { ?a mkg:assertedSubject ?s } WHERE { ?a mkg:assertedSubject ?s }"
    response = servers["remote"].get("/sparql", params={"query": query}, headers={"Accept": "application/n-triples"})
    assert response.status_code == 200
    assert len(triples(response.content)) == 6


def test_construct_is_the_same_as_the_embedded_store(servers, loaded):
    from server.store import LocalStore

    query = MKG + "CONSTRUCT { ?s ?p ?o } WHERE { ?s a mkg:EvidenceSpan ; ?p ?o }"
    remote = servers["remote"].get("/sparql", params={"query": query}, headers={"Accept": "application/n-triples"})
    local = LocalStore(open_release(loaded[0], BASE)).execute(query, accept="application/n-triples")
    assert triples(remote.content) == triples(local.body)
    assert len(triples(local.body)) == 8 * 7


@pytest.mark.parametrize("which", ["local", "remote"])
def test_dereference_303(servers, which):
    response = servers[which].get("/id/org/acme-brigade", headers={"Accept": "text/turtle"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/data/org/acme-brigade.ttl")


def test_data_document_is_the_same_from_both_stores(servers):
    bodies = [servers[w].get("/data/org/acme-brigade", headers={"Accept": "application/n-triples"})
              for w in ("local", "remote")]
    assert [b.status_code for b in bodies] == [200, 200]
    assert triples(bodies[0].content) == triples(bodies[1].content)
    assert f"<{BASE}id/org/acme-brigade> <{BASE}ontology#subUnitOf> <{BASE}id/org/big-front> ." \
        in {line.strip() for line in bodies[1].text.splitlines()}


@pytest.mark.parametrize("which", ["local", "remote"])
def test_entity_page(servers, which):
    response = servers[which].get("/page/org/acme-brigade", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "Acme Brigade" in response.text
    assert "Big Front" in response.text


def test_unknown_thing_is_404_from_both_stores(servers):
    assert [servers[w].get("/id/org/no-such-group").status_code for w in ("local", "remote")] == [404, 404]


def test_load_into_an_unreachable_engine_fails_clearly(tiny_release):
    release = open_release(tiny_release.path.parent.parent, BASE)
    port = free_port()
    with pytest.raises(LoadError, match=f"^cannot reach http://127.0.0.1:{port}/store"):
        load_release(release, f"http://127.0.0.1:{port}/store", timeout=5)


def test_verify_refuses_an_engine_with_other_data(loaded, engine, tiny_release):
    release = open_release(tiny_release.path.parent.parent, BASE)
    with pytest.raises(LoadError, match="the engine's data graph has 258 triples, the release 259"):
        verify(release, f"{engine}/query", expected_triples=259)
