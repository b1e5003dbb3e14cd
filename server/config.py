"""Shared: settings with their defaults, overridden by ``MKG_*`` environment variables.

This is the only module that reads ``os.environ``. Values of environment variables are parsed as
JSON when they parse (``MKG_QUERY_TIMEOUT=5``), else taken as strings.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

__all__ = ["DEFAULTS", "PROJECT_ROOT", "load"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent

DEFAULTS: dict[str, object] = {
    # Identity
    "BASE_IRI": "http://127.0.0.1:8080/",
    "LICENSE": "https://creativecommons.org/licenses/by/4.0/",
    "DATASET_TITLE": "mkg: what documents say about militant organizations",
    # Paths
    "DATA_DIR": str(PROJECT_ROOT / "data"),
    "ONTOLOGY_DIR": str(PROJECT_ROOT / "ontology"),
    "SHAPES_DIR": str(PROJECT_ROOT / "shapes"),
    "RELEASE_DIR": str(PROJECT_ROOT / "release"),
    # Serving limits (documented in docs/limits.md)
    "QUERY_TIMEOUT": 5.0,
    "MAX_ROWS": 100_000,
    "MAX_QUERY_LENGTH": 20_000,
    "MAX_BODY_BYTES": 1_000_000,
    "MAX_NESTING": 64,
    "QUERY_WORKERS": 2,
    "RATE_LIMIT_PER_MINUTE": 600,
    "RATE_LIMIT_BURST": 120,
    "SERVICE_ALLOW_LIST": [],
    "FAST_LANE_WORKERS": 1,
    "FAST_LANE_TIMEOUT": 1.0,
    "SPARE_WORKERS": 1,
    "FAST_LANE_PREEMPT_AFTER": 0.25,
    "WORKER_MAX_PRIVATE_MB": 0,
    "WORKER_CHECK_AFTER": 0.1,
    "WORKER_STACK_MB": 256,
    "WORKER_START_TIMEOUT": 120.0,
    "MAX_HEADER_BYTES": 16_384,
    "RATE_LIMIT_EXEMPT": ["/health", "/metrics"],
    "ACCESS_LOG": "-",
    "INCOMING_LINKS_LIMIT": 50,
    # Build tier: the SHACL engine of mkg build/validate, "pyshacl" (the reference) or "pyrudof"
    "SHACL_ENGINE": "pyshacl",
    # Web tier: answer from this SPARQL 1.1 endpoint instead of the embedded store ("" = embedded)
    "STORE_URL": "",
}


def _parse(value: str) -> object:
    try:
        return json.loads(value)
    except ValueError:
        return value


def load(environ: dict[str, str] | None = None, prefix: str = "MKG_") -> dict[str, object]:
    """Return the settings: the defaults overlaid with ``MKG_*`` variables from ``environ``."""
    environ = os.environ if environ is None else environ
    settings = dict(DEFAULTS)
    for key, value in environ.items():
        if key.startswith(prefix) and key[len(prefix):] in DEFAULTS:
            settings[key[len(prefix):]] = _parse(value)
    base = str(settings["BASE_IRI"])
    settings["BASE_IRI"] = base if base.endswith("/") else base + "/"
    return settings
