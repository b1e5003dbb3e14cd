"""Every SHACL engine of ``server.checks.shacl`` against pySHACL, the reference, on every fixture.

The fixtures are those of ``tests/test_shapes.py`` (``tests/shapes/*.ttl``), validated together in
one run per engine with the ontology merged in, as the build does; results are grouped by the
fixture that owns the focus node. For each fixture, an engine must report exactly pySHACL's results
as (severity, focus, path, source shape, component), where the component of a SHACL-SPARQL result is
the named constraint. Messages and values are compared too, on the whole run.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph, Namespace

from server import checks
from server.vocab import PREFIXES

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = sorted((ROOT / "tests" / "shapes").glob("*.ttl"))
OTHER_ENGINES = [e for e in checks.SHACL_ENGINES if e != "pyshacl"]
SH = Namespace(PREFIXES["sh"])


@pytest.fixture(scope="module")
def reports(shape_fixtures, ontology, shapes) -> dict[str, checks.Report]:
    return {engine: checks.shacl(shape_fixtures, ontology, shapes, engine=engine) for engine in checks.SHACL_ENGINES}


def _by_fixture(report: checks.Report) -> dict[str, set[tuple]]:
    grouped: dict[str, set[tuple]] = {}
    for f in report.findings:
        stem = f.focus.removeprefix("http://example.org/").split("/", 1)[0]
        grouped.setdefault(stem, set()).add((f.severity, f.focus, f.path, f.shape, f.component))
    return grouped


def test_the_fixtures_are_those_of_the_shape_tests():
    from tests import test_shapes

    assert FIXTURES == sorted(test_shapes._fixtures("ok") + test_shapes._fixtures("bad"))


@pytest.mark.parametrize("engine", OTHER_ENGINES)
@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_engine_reports_what_pyshacl_reports(path, engine, reports):
    reference = _by_fixture(reports["pyshacl"]).get(path.stem, set())
    assert _by_fixture(reports[engine]).get(path.stem, set()) == reference


@pytest.mark.parametrize("engine", OTHER_ENGINES)
def test_engine_matches_pyshacl_on_the_whole_run(engine, reports):
    """Same number of results (no duplicates either side), the same messages and values."""
    def rows(report):
        return sorted((f.severity, f.focus, f.path or "", f.shape or "", f.component or "", f.message, f.value or "")
                      for f in report.findings)

    assert rows(reports[engine]) == rows(reports["pyshacl"])
    assert reports[engine].checked == reports["pyshacl"].checked


@pytest.mark.parametrize("engine", OTHER_ENGINES)
def test_engine_report_graph_is_a_shacl_report(engine, reports):
    graph = reports[engine].graph
    assert graph is not None
    assert len(set(graph.subjects(SH.resultSeverity, None))) == len(reports[engine].findings)
    assert (None, SH.conforms, None) in graph


def test_unknown_engine_is_refused(ontology, shapes):
    with pytest.raises(checks.CheckError, match="unknown SHACL engine 'fast'"):
        checks.shacl(Graph(), ontology, shapes, engine="fast")


@pytest.mark.parametrize("engine", checks.SHACL_ENGINES)
def test_engine_finds_nothing_in_conforming_data(engine, ontology, shapes):
    data = Graph().parse(ROOT / "tests" / "shapes" / "ArmedGroupShape--ok.ttl")
    assert checks.shacl(data, ontology, shapes, engine=engine).findings == ()
