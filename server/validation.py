"""Build tier: validation as ``mkg validate`` and ``mkg build`` run it.

Combines the three checks of :mod:`checks` (SHACL, OWL consistency per source document, the
evidence re-check) into one report, for the curated corpus or for any RDF file a contributor
wants to check against our ontology and shapes.

May import: ``config``, ``vocab``, ``release`` (for compiling inputs), ``checks``, rdflib.
"""

from __future__ import annotations

import json
from pathlib import Path

from rdflib import Graph

from .release import RDF_PARSE_ERRORS, compile_data, load_rdf_folder
from .vocab import Iris

__all__ = ["RDF_FORMATS", "ValidationInputError", "run_checks", "validate_corpus", "validate_file"]

# File extension → rdflib parser name: formats are named by extension, never sniffed.
RDF_FORMATS = {".ttl": "turtle", ".nt": "nt", ".rdf": "xml", ".owl": "xml", ".xml": "xml", ".jsonld": "json-ld", ".json": "json-ld"}


class ValidationInputError(Exception):
    """The RDF file given to ``mkg validate --data`` cannot be read or parsed."""


def run_checks(data: Graph, ontology: Graph, shapes: Graph, settings: dict):
    """SHACL + evidence re-check + OWL consistency per source document, as one report.

    The SHACL engine is the ``SHACL_ENGINE`` setting (``MKG_SHACL_ENGINE``; default ``pyshacl``).
    """
    from . import checks

    engine = str(settings.get("SHACL_ENGINE", "pyshacl"))
    return checks.merge(checks.shacl(data, ontology, shapes, engine=engine), checks.evidence(data),
                        checks.owl(ontology, data))


def validate_corpus(settings: dict, data_dir: Path | None = None):
    """Validate the curated corpus without publishing anything.

    :raises SourceErrors: unusable input.
    """
    iris = Iris(str(settings["BASE_IRI"]))
    _, data, ontology, shapes = compile_data(Path(data_dir or settings["DATA_DIR"]), Path(settings["ONTOLOGY_DIR"]), Path(settings["SHAPES_DIR"]), iris)
    return run_checks(data, ontology, shapes, settings)


def parse_rdf_file(path: Path) -> Graph:
    """Parse an RDF file whose format is given by its extension.

    :raises ValidationInputError: unknown extension, unreadable or malformed file.
    """
    fmt = RDF_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValidationInputError(f"{path}: unknown RDF file extension {path.suffix!r}; use one of {', '.join(sorted(RDF_FORMATS))}")
    if not path.is_file():
        raise ValidationInputError(f"{path}: no such file")
    if fmt == "json-ld":
        _refuse_remote_contexts(path)
    graph = Graph()
    try:
        # no remote contexts or external entities: the parsers get the bytes, never a URL to fetch
        graph.parse(data=path.read_bytes(), format=fmt, publicID=path.resolve().as_uri())
    except RDF_PARSE_ERRORS as err:
        raise ValidationInputError(f"{path}: malformed {fmt} ({err}); fix the file and try again") from err
    return graph


def _refuse_remote_contexts(path: Path) -> None:
    """JSON-LD may name a remote ``@context``; we never fetch one, so such a file is refused."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise ValidationInputError(f"{path}: malformed JSON ({err}); fix the file and try again") from err

    def walk(node) -> None:
        if isinstance(node, dict):
            ctx = node.get("@context")
            for item in ctx if isinstance(ctx, list) else [ctx]:
                if isinstance(item, str):
                    raise ValidationInputError(
                        f"{path}: remote JSON-LD @context {item!r} is not fetched; inline the context in the file")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)


def validate_file(settings: dict, path: Path):
    """Validate any RDF file against the ontology and shapes (``mkg validate --data``)."""
    iris = Iris(str(settings["BASE_IRI"]))
    data = parse_rdf_file(path)
    ontology = load_rdf_folder(Path(settings["ONTOLOGY_DIR"]), iris)
    shapes = load_rdf_folder(Path(settings["SHAPES_DIR"]), iris)
    return run_checks(data, ontology, shapes, settings)
