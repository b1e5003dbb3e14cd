"""Fixtures for the reliability tests: a synthetic release big enough for slow queries (30,000
triples, so a three-way cross product runs for hours), the real app under a real HTTP server on
127.0.0.1, and a canary HTTP server that records any request the app makes to the outside."""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from server.app import create_app
from server.store import EXTENSION

BASE = "http://127.0.0.1:8080/"
TRIPLES = 30_000
HEAVY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"

#: Settings for the reliability suite: short budgets so the tests stay short.
TEST_CONFIG = {
    "TESTING": True,
    "QUERY_TIMEOUT": 2.0,
    "FAST_LANE_TIMEOUT": 1.0,
    "QUERY_WORKERS": 2,
    "FAST_LANE_WORKERS": 1,
    "RATE_LIMIT_PER_MINUTE": 0,
    "ACCESS_LOG": "",
    "MAX_ROWS": 10_000,
}


def write_release(root: Path, version: str, triples: int = TRIPLES) -> Path:
    """Write ``root/versions/<version>/`` (data.nt + manifest.json); return the folder."""
    folder = root / "versions" / version
    folder.mkdir(parents=True)
    lines = sorted(
        f'<{BASE}id/org/o{i}> <{BASE}ontology#p{i % 7}> "thing {i} of {version}" .'
        for i in range(triples))
    lines.append(f'<{BASE}id/dataset/mkg> <{BASE}ontology#version> "{version}" .')
    (folder / "data.nt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    body = (folder / "data.nt").read_bytes()
    manifest = {"version": version, "base_iri": BASE, "built_from": {}, "counts": {},
                "files": {"data.nt": {"sha256": hashlib.sha256(body).hexdigest(),
                                      "bytes": len(body),
                                      "media_type": "application/n-triples"}}}
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return folder


def point_current(root: Path, version: str) -> None:
    """Swap ``root/current`` to ``versions/<version>`` atomically (symlink + rename)."""
    tmp = root / f".current-{version}"
    tmp.symlink_to(Path("versions") / version)
    tmp.replace(root / "current")


@pytest.fixture(scope="session")
def release_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("release")
    write_release(root, "v1")
    point_current(root, "v1")
    return root


@contextmanager
def running(app):
    """Serve ``app`` on 127.0.0.1 (free port) in a thread; stop it and its workers after."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)
        pool = getattr(app.extensions[EXTENSION], "pool", None)
        if pool is not None:
            pool.close()


def make_app(release_root: Path, **overrides):
    app = create_app({**TEST_CONFIG, "RELEASE_DIR": str(release_root), **overrides})
    pool = getattr(app.extensions[EXTENSION], "pool", None)
    if pool is not None:
        pool.start(wait=True)
    return app


@pytest.fixture(scope="module")
def app(release_root):
    return make_app(release_root)


@pytest.fixture(scope="module")
def base_url(app):
    with running(app) as url:
        yield url


class _Canary(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's naming)
        self.server.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "application/sparql-results+json")
        self.end_headers()
        self.wfile.write(b'{"head":{"vars":[]},"results":{"bindings":[{}]}}')

    do_POST = do_GET

    def log_message(self, *args):
        pass


@pytest.fixture()
def canary():
    """An HTTP server on 127.0.0.1 that records every request; yields (url, hits)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Canary)
    server.hits = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/", server.hits
    server.shutdown()
    server.server_close()
