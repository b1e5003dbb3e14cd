"""Shared fixtures: a clean environment, and releases built once per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from rdflib import Graph

from server import config

ROOT = Path(__file__).resolve().parent.parent
TINY_CORPUS = ROOT / "tests" / "data" / "corpus"


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch):
    """Tests never depend on MKG_* variables of the machine they run on."""
    for key in list(os.environ):
        if key.startswith("MKG_"):
            monkeypatch.delenv(key)


def _settings(**overrides) -> dict:
    settings = config.load({})
    settings.update(overrides)
    return settings


@pytest.fixture(scope="session")
def shipped_release(tmp_path_factory):
    """The release of the shipped data/ (validated), built once per session into a temp folder."""
    from server.release import build

    release_dir = tmp_path_factory.mktemp("shipped-release")
    return build(_settings(RELEASE_DIR=str(release_dir)))


@pytest.fixture(scope="session")
def tiny_release(tmp_path_factory):
    """The release of the tiny test corpus, built once per session."""
    from server.release import build

    release_dir = tmp_path_factory.mktemp("tiny-release")
    return build(_settings(RELEASE_DIR=str(release_dir), DATA_DIR=str(TINY_CORPUS)))


@pytest.fixture(scope="session")
def ontology() -> Graph:
    """The hand-edited ontology: the TBox and the SKOS concept schemes."""
    return Graph().parse(ROOT / "ontology" / "mkg.ttl").parse(ROOT / "ontology" / "mkg-concepts.ttl")


@pytest.fixture(scope="session")
def shapes() -> Graph:
    """Every shapes file, violations and warnings."""
    graph = Graph()
    for path in sorted((ROOT / "shapes").glob("*.ttl")):
        graph.parse(path)
    return graph


@pytest.fixture(scope="session")
def shape_fixtures() -> Graph:
    """Every conforming and non-conforming shape fixture of ``tests/shapes/`` in one graph."""
    graph = Graph()
    for path in sorted((ROOT / "tests" / "shapes").glob("*--*.ttl")):
        graph.parse(path)
    return graph
