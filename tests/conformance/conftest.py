"""Fixtures for the conformance audit: the real app under a real HTTP server on 127.0.0.1.

The release is the inline one of ``tests/web/conftest.py`` (non-ASCII and ``+`` slugs, evidence
spans, conflicting reports), plus a copy of it kept as an earlier version beside the current
one, so that ``/releases/{version}/`` of an archived release can be checked too.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import requests

from server.app import create_app

from ..web.conftest import BASE, BUILT, VERSION, Server, started, write_release

__all__ = ["BASE", "BUILT", "VERSION", "ARCHIVED"]

#: An earlier release kept beside the current one.
ARCHIVED = "2026.10.01-test"


@pytest.fixture(scope="session")
def conformance_release(tmp_path_factory) -> Path:
    root = write_release(tmp_path_factory.mktemp("conformance-release"))
    old = root / "versions" / ARCHIVED
    shutil.copytree(root / "versions" / VERSION, old)
    manifest = json.loads((old / "manifest.json").read_text(encoding="utf-8"))
    manifest["version"] = ARCHIVED
    (old / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return root


@pytest.fixture(scope="session")
def conformance_server(conformance_release):
    app = create_app({
        "RELEASE_DIR": str(conformance_release), "TESTING": True, "RATE_LIMIT_PER_MINUTE": 0,
        "INCOMING_LINKS_LIMIT": 3, "QUERIES_DIR": str(conformance_release / "no-queries")})
    for ready in started(app):
        with Server(ready) as running:
            yield running


@pytest.fixture()
def client():
    """A plain HTTP client that never follows redirects on its own."""
    with requests.Session() as session:
        yield session
