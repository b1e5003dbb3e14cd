"""SHACL shapes against small fixtures, W3C data-shapes test-suite style.

Each ``tests/shapes/<Shape>--ok[-what].ttl`` must produce no result; each
``tests/shapes/<Shape>--bad[-what].ttl`` lists its exact expected results in comment lines::

    # expect: <severity> <focus> <path or -> <source shape> <component or SPARQL constraint>

written with the prefixes ``ex:`` (the fixture's own namespace, ``http://example.org/<stem>/``),
``mkg:``, ``mkgsh:`` and the well-known prefixes of ``server.vocab.PREFIXES`` (``sh:``, ``oa:``,
``skos:``, ``skosxl:``, ``org:``, ``rdfs:``, ``dcterms:``...); an inverse path is written ``^skosxl:altLabel``.
All fixtures are validated together in one pySHACL run (their IRIs never overlap), with the ontology
merged in as the build does.

Coverage gate: every node shape of ``shapes/*.ttl`` that has a target has at least one ok and one
bad fixture; an ok fixture holds at least one focus node of its shape (it is not vacuous), and a bad
fixture expects at least one result of its shape or of one of its property shapes. Node shapes
without a target (``mkgsh:Is<Class>``) are helpers, checked through the shapes that use them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rdflib import RDF, RDFS, Graph, Namespace, URIRef

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
SH = Namespace(PREFIXES["sh"])
MKGSH = CURIES["mkgsh"]
TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)


def _fixture_namespace(path: Path) -> str:
    return f"http://example.org/{path.stem}/"


def _shape_name(path: Path) -> str:
    return path.stem.split("--")[0]


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
def results(shape_fixtures, ontology, shapes) -> dict[str, set[tuple]]:
    """Every fixture validated in one run; results grouped by the fixture that owns the focus node."""
    report = checks.shacl(shape_fixtures, ontology, shapes)
    grouped: dict[str, set[tuple]] = {}
    for f in report.findings:
        stem = f.focus.removeprefix("http://example.org/").split("/", 1)[0]
        grouped.setdefault(stem, set()).add((f.severity, f.focus, f.path, f.shape, f.component))
    return grouped


def _targeted_node_shapes(shapes: Graph) -> dict[str, URIRef]:
    """Node shapes with at least one target, by local name (helpers without a target are left out)."""
    return {
        str(s).removeprefix(MKGSH): s
        for s in shapes.subjects(RDF.type, SH.NodeShape)
        if isinstance(s, URIRef) and any((s, t, None) in shapes for t in TARGETS)
    }


def _focus_nodes(shape: URIRef, shapes: Graph, data: Graph, ontology: Graph) -> set:
    """The focus nodes of ``shape`` in ``data``; sh:targetClass follows rdfs:subClassOf of the ontology."""
    nodes = set(shapes.objects(shape, SH.targetNode))
    for cls in shapes.objects(shape, SH.targetClass):
        for sub in ontology.transitive_subjects(RDFS.subClassOf, cls):
            nodes |= set(data.subjects(RDF.type, sub))
    for predicate in shapes.objects(shape, SH.targetSubjectsOf):
        nodes |= set(data.subjects(predicate, None))
    for predicate in shapes.objects(shape, SH.targetObjectsOf):
        nodes |= set(data.objects(None, predicate))
    return nodes


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
    unknown = sorted(p.name for p in FIXTURES.glob("*.ttl") if _shape_name(p) not in names)
    assert unknown == []


def test_no_focus_node_outside_the_fixture_namespaces(results):
    assert sorted(stem for stem in results if not (FIXTURES / f"{stem}.ttl").exists()) == []


def test_every_node_shape_has_an_ok_and_a_bad_fixture(shapes):
    """The coverage gate: a new node shape of shapes/*.ttl needs its fixtures."""
    have = {kind: {_shape_name(p) for p in _fixtures(kind)} for kind in ("ok", "bad")}
    missing = sorted(
        f"{name} (no {kind} fixture: add tests/shapes/{name}--{kind}.ttl)"
        for name in _targeted_node_shapes(shapes)
        for kind in ("ok", "bad")
        if name not in have[kind]
    )
    assert missing == []


def test_every_conforming_fixture_holds_a_focus_node_of_its_shape(shape_fixtures, ontology, shapes):
    """An ok fixture that the shape never looks at proves nothing."""
    targeted = _targeted_node_shapes(shapes)
    vacuous = []
    for path in _fixtures("ok"):
        name = _shape_name(path)
        if name not in targeted:
            continue  # a helper: reported by test_every_fixture_names_a_shape_that_exists if unknown
        namespace = _fixture_namespace(path)
        if not any(str(n).startswith(namespace) for n in _focus_nodes(targeted[name], shapes, shape_fixtures, ontology)):
            vacuous.append(path.name)
    assert vacuous == []


def test_every_non_conforming_fixture_expects_a_result_of_its_shape(shapes):
    """A bad fixture fails at least one constraint of the shape it is named after."""
    targeted = _targeted_node_shapes(shapes)
    off_target = []
    for path in _fixtures("bad"):
        shape = targeted.get(_shape_name(path))
        if shape is None:
            continue
        own = {str(shape)} | {str(p) for p in shapes.objects(shape, SH.property)}
        if not any(result[3] in own for result in _expected(path)):
            off_target.append(path.name)
    assert off_target == []
