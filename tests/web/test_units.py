"""Unit tests of the pure parts of the web tier: negotiation and evidence highlighting."""

from __future__ import annotations

import pytest

from server import formats
from server.pages import Span, highlight


@pytest.mark.parametrize("accept,offered,expected", [
    (None, formats.RESULTS, "json"),
    ("*/*", formats.GRAPH, "ttl"),
    ("text/csv;q=0.4, application/sparql-results+xml;q=0.8", formats.RESULTS, "xml"),
    ("application/*", formats.GRAPH, "nt"),
    ("text/*", formats.RESULTS, "csv"),
])
def test_negotiate(accept, offered, expected):
    assert formats.negotiate(offered, accept).key == expected


def test_negotiate_errors():
    with pytest.raises(formats.NoAcceptableFormat) as err:
        formats.negotiate(formats.RESULTS, "image/png")
    assert err.value.code == 406
    with pytest.raises(formats.BadFormat):
        formats.negotiate(formats.RESULTS, None, "png")
    with pytest.raises(formats.NoAcceptableFormat):
        formats.negotiate(formats.RESULTS, None, "ttl")
    assert formats.negotiate(formats.GRAPH, "text/csv", "text/turtle").key == "ttl"


def test_highlight_nested_and_overlapping():
    text = "abcdefghij"
    html = str(highlight(text, [Span("outer", 0, 8, "/a"), Span("inner", 2, 4, "/b"),
                                Span("over", 6, 10, "/c")]))
    assert html == (
        '<mark class="ev d1" data-ev="outer" id="outer"><a href="/a" title="">ab</a></mark>'
        '<mark class="ev d1" data-ev="outer"><mark class="ev d2" data-ev="inner" id="inner">'
        '<a href="/b" title="">cd</a></mark></mark>'
        '<mark class="ev d1" data-ev="outer"><a href="/a" title="">ef</a></mark>'
        '<mark class="ev d1" data-ev="outer"><mark class="ev d2" data-ev="over" id="over">'
        '<a href="/c" title="">gh</a></mark></mark>'
        '<mark class="ev d1" data-ev="over"><a href="/c" title="">ij</a></mark>')


def test_highlight_escapes_and_skips_bad_spans():
    html = str(highlight("<b>&", [Span("x", 0, 3), Span("bad", 2, 99), Span("e", 4, 4)]))
    assert html == ('<mark class="ev d1" data-ev="x" id="x">&lt;b&gt;</mark>&amp;'
                    '<mark class="ev empty" id="e"></mark>')
