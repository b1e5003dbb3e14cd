"""SHACL shapes against small fixtures, W3C data-shapes test-suite style.

Each ``tests/shapes/<Shape>--ok[-what].ttl`` must produce no result; each
``tests/shapes/<Shape>--bad[-what].ttl`` lists its exact expected results in comment lines::

    # expect: <severity> <focus> <path or -> <source shape> <component or SPARQL constraint>

written with the prefixes ``ex:`` (the fixture's own namespace, ``http://example.org/<stem>/``),
``mkg:``, ``mkgsh:``, ``sh:``, ``oa:``, ``skos:``. All fixtures are validated together in one pySHACL
run (their IRIs never overlap), with the ontology merged in as the build does.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rdflib import Graph

from server import checks
from server.vocab import PREFIXES

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "shapes"
EXPECT = re.compile(r"^# expect: (\S+) (\S+) (\S+) (\S+) (\S+)\s*$")
CURIES = {
    **PREFIXES,
    "mkg": "http://127.0.0.1:8080/ontology#",
    "mkgsh": "http://127.0.0.1:8080/shapes#",
}


def _fixture_namespace(path: Path) -> str:
    return f"http://example.org/{path.stem}/"


def _expand(curie: str, path: Path) -> str | None:
    if curie == "-":
        return None
    if curie.startswith("^"):  # an inverse path, rendered as SPARQL property-path text
        return "^" + _expand(curie[1:], path)
    prefix, _, local = curie.partition(":")
    if prefix == "ex":
        return _fixture_namespace(path) + local
    return CURIES[prefix] + local


def _expected(path: Path) -> set[tuple]:
    lines = [EXPECT.match(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return {
        (m[1],) + tuple(_expand(c, path) for c in (m[2], m[3], m[4], m[5]))
        for m in lines if m is not None
    }


def _fixtures(kind: str) -> list[Path]:
    return sorted(FIXTURES.glob(f"*--{kind}*.ttl"))


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return Graph().parse(ROOT / "ontology" / "mkg.ttl").parse(ROOT / "ontology" / "mkg-concepts.ttl")


@pytest.fixture(scope="module")
def shapes() -> Graph:
    return Graph().parse(ROOT / "shapes" / "core.ttl").parse(ROOT / "shapes" / "recommended.ttl")


@pytest.fixture(scope="module")
def results(ontology, shapes) -> dict[str, set[tuple]]:
    """Every fixture validated in one run; results grouped by the fixture that owns the focus node."""
    data = Graph()
    for path in _fixtures("ok") + _fixtures("bad"):
        data.parse(path)
    report = checks.shacl(data, ontology, shapes)
    grouped: dict[str, set[tuple]] = {}
    for f in report.findings:
        stem = f.focus.removeprefix("http://example.org/").split("/", 1)[0]
        grouped.setdefault(stem, set()).add((f.severity, f.focus, f.path, f.shape, f.component))
    return grouped


@pytest.mark.parametrize("path", _fixtures("ok"), ids=lambda p: p.stem)
def test_conforming_fixture_has_no_result(path, results):
    assert results.get(path.stem, set()) == set()


@pytest.mark.parametrize("path", _fixtures("bad"), ids=lambda p: p.stem)
def test_non_conforming_fixture_has_exactly_the_expected_results(path, results):
    expected = _expected(path)
    assert expected, f"{path.name} lists no '# expect:' line"
    assert results.get(path.stem, set()) == expected


def test_every_fixture_names_a_shape_that_exists(shapes):
    names = {str(s).rsplit("#", 1)[-1] for s in shapes.subjects()}
    unknown = sorted(p.name for p in FIXTURES.glob("*.ttl") if p.stem.split("--")[0] not in names)
    assert unknown == []


def test_no_focus_node_outside_the_fixture_namespaces(results):
    assert sorted(stem for stem in results if not (FIXTURES / f"{stem}.ttl").exists()) == []
