"""Web tier: the W3C Reconciliation Service API 0.2 at ``/reconcile`` (docs/linking.md).

Owns the blueprint: the service manifest (``GET /reconcile``), reconciliation query batches
(``queries=`` by GET or form POST) with type and property constraints, scores, matching
features and a ``match`` flag set only when the answer is certain, the preview service,
suggest services for entities, types and properties, and data extension (``extend=``) with
property proposals. CORS is open on every endpoint (the spec's MUST); JSONP, optional in 0.2,
is not offered.

Matching policy: a candidate is a ``match`` only when the query equals one of its published
names (case, accents, punctuation and transliteration variants aside), no other candidate
does, and no property constraint contradicts it. Fuzzy look-alikes are candidates, never matches.
"""

from __future__ import annotations

import html
import json

from flask import Blueprint, Response, jsonify, request
from werkzeug.exceptions import BadRequest, NotFound, RequestEntityTooLarge

from server.index import RELATIONS, Entity, NameIndex, NameMatch
from server.linking import normalise, parse_external, translit_key
from server.lookup import names

__all__ = ["BATCH_SIZE", "PROPERTIES", "bp", "reconcile_query"]

bp = Blueprint("reconcile", __name__, url_prefix="/reconcile")

BATCH_SIZE = 50
_DEFAULT_LIMIT = 5
_MAX_LIMIT = 50
_DEFAULT_TYPES = ("Organization", "Person", "Place", "Event")

#: Properties for constraints, suggest and data extension: id → (name, kinds it applies to).
PROPERTIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "type": ("type", ()),
    "label": ("preferred label", ()),
    "aliases": ("aliases (alternative and attested names)", ()),
    "description": ("definition", ()),
    "exactMatch": ("exact match (Wikidata / GeoNames IRI)", ()),
    **{rel: (RELATIONS[rel][2], kinds) for rel, kinds in (
        ("basedIn", ("org",)), ("operatesIn", ("org",)), ("subUnitOf", ("org",)),
        ("hasSubUnit", ("org",)), ("leader", ("org",)), ("memberOf", ("person", "org")),
        ("leaderOf", ("person",)), ("locatedIn", ("place",)), ("occurredAt", ("event",)),
        ("perpetrator", ("event",)),
    )},
}


class ReconcileInputError(BadRequest):
    """A reconciliation or extension request that cannot be read (HTTP 400)."""


@bp.after_request
def _cors(response: Response) -> Response:
    response.headers.setdefault("Access-Control-Allow-Origin", "*")
    return response


# --------------------------------------------------------------------------- manifest


def _root() -> str:
    return request.url_root.rstrip("/") + "/reconcile"


def _type_json(index: NameIndex, type_id: str) -> dict:
    return {"id": type_id, "name": index.type_name(type_id)}


def manifest(index: NameIndex) -> dict:
    """The service manifest."""
    root = _root()
    known = {t for e in index.entities.values() for t in e.all_types}
    return {
        "versions": ["0.2"],
        "name": f"mkg (release {index.version})",
        "identifierSpace": f"{index.iris.base}id/",
        "schemaSpace": index.iris.mkg,
        "view": {"url": f"{index.iris.base}id/{{{{id}}}}"},
        "preview": {"url": f"{root}/preview?id={{{{id}}}}", "width": 420, "height": 160},
        "defaultTypes": [_type_json(index, t) for t in _DEFAULT_TYPES if t in known],
        "suggest": {
            "entity": {"service_url": root, "service_path": "/suggest/entity"},
            "type": {"service_url": root, "service_path": "/suggest/type"},
            "property": {"service_url": root, "service_path": "/suggest/property"},
        },
        "extend": {
            "propose_properties": {"service_url": root, "service_path": "/properties"},
            "property_settings": [{"name": "limit", "label": "Limit", "type": "number", "default": 0,
                                   "help_text": "Maximum number of values per entity (0: all)"}],
        },
        "batchSize": BATCH_SIZE,
    }


# --------------------------------------------------------------------------- property values


def _values(index: NameIndex, entity: Entity, pid: str) -> list[dict]:
    """The values of one property of an entity, as data-extension cells."""
    if pid == "type":
        return [_type_json(index, t) for t in sorted(entity.types)]
    if pid == "label":
        return [{"str": entity.label}]
    if pid == "aliases":
        return [{"str": n} for n in sorted(entity.names - {entity.label})]
    if pid == "description":
        return [{"str": entity.description}] if entity.description else []
    if pid == "exactMatch":
        return [{"str": link} for link in sorted(entity.links)]
    cells = []
    for iri in sorted(entity.relations.get(pid, ())):
        other = index.get(iri)
        cells.append({"id": other.id, "name": other.label} if other else {"str": iri})
    return cells


def _value_matches(index: NameIndex, entity: Entity, pid: str, wanted: object) -> bool:
    if isinstance(wanted, dict):
        wanted = wanted.get("id") or wanted.get("name") or ""
    text = str(wanted).strip()
    if pid == "type":
        return index.has_type(entity, [text])
    if pid == "exactMatch":
        parsed = parse_external(text)
        return parsed is not None and any(parse_external(link) == parsed for link in entity.links)
    if pid in ("label", "aliases", "description"):
        names = {entity.description} if pid == "description" else entity.names
        return translit_key(text) in {translit_key(n) for n in names}
    target = index.get(text)
    related = entity.relations.get(pid, set())
    if target is not None:
        return target.iri in related
    key = translit_key(text)
    return any(other is not None and key in {translit_key(n) for n in other.names}
               for other in (index.get(iri) for iri in related))


def _has_values(entity: Entity, pid: str) -> bool:
    if pid in ("type", "label"):
        return True
    if pid == "aliases":
        return len(entity.names) > 1
    if pid == "description":
        return bool(entity.description)
    if pid == "exactMatch":
        return bool(entity.links)
    return bool(entity.relations.get(pid))


def _constraint(index: NameIndex, entity: Entity, prop: dict) -> bool | None:
    """True: a supplied value matches; False: the entity has values, none match; None: unknown."""
    pid = prop["pid"]
    supplied = prop["v"] if isinstance(prop["v"], list) else [prop["v"]]
    if any(_value_matches(index, entity, pid, v) for v in supplied):
        return True
    return False if _has_values(entity, pid) else None


# --------------------------------------------------------------------------- queries


def _types_of(query: dict) -> list[str]:
    raw = query.get("type")
    if raw is None:
        return []
    return [raw] if isinstance(raw, str) else [str(t) for t in raw]


def _check_query(key: str, query: object) -> dict:
    if not isinstance(query, dict):
        raise ReconcileInputError(f"query {key!r} must be a JSON object")
    text = query.get("query")
    props = query.get("properties") or []
    if text is not None and (not isinstance(text, str) or not text.strip()):
        raise ReconcileInputError(f"query {key!r}: 'query' must be a non-empty string")
    if text is None and not props:
        raise ReconcileInputError(f"query {key!r}: give 'query' or 'properties'")
    if not isinstance(props, list) or any(not isinstance(p, dict) or "pid" not in p or "v" not in p
                                          for p in props):
        raise ReconcileInputError(f"query {key!r}: 'properties' must be a list of {{pid, v}} objects")
    unknown = sorted({p["pid"] for p in props} - set(PROPERTIES))
    if unknown:
        raise ReconcileInputError(f"query {key!r}: unknown properties {unknown}; known: {sorted(PROPERTIES)}")
    limit = query.get("limit", _DEFAULT_LIMIT)
    if not isinstance(limit, (int, float)) or limit < 1:
        raise ReconcileInputError(f"query {key!r}: 'limit' must be a positive number")
    return query


def _candidates(index: NameIndex, query: dict) -> list[NameMatch]:
    types = _types_of(query)
    if query.get("query"):
        return index.score(query["query"], types)
    return [NameMatch(e, 0.0, False, False, "") for e in sorted(index.entities.values(), key=lambda e: e.id)
            if not types or index.has_type(e, types)]


def _candidate_json(index: NameIndex, match: NameMatch, checks: list[bool | None], types: list[str],
                    is_match: bool) -> dict:
    entity = match.entity
    score = match.similarity * 100 + 5 * checks.count(True) - 30 * checks.count(False)
    features = [
        {"id": "name_similarity", "value": match.similarity},
        {"id": "name_exact", "value": match.exact},
        {"id": "name_variant", "value": match.variant},
    ]
    if types:
        features.append({"id": "type_match", "value": index.has_type(entity, types)})
    if checks:
        features.append({"id": "property_match", "value": round(checks.count(True) / len(checks), 4)})
    result = {
        "id": entity.id, "name": entity.label,
        "type": [_type_json(index, t) for t in sorted(entity.types)],
        "score": round(max(0.0, min(100.0, score)), 2), "match": is_match, "features": features,
    }
    if entity.description:
        result["description"] = entity.description
    return result


def reconcile_query(index: NameIndex, query: dict) -> list[dict]:
    """The reconciliation result (candidates, best first) of one checked query."""
    props = query.get("properties") or []
    scored = []
    for match in _candidates(index, query):
        checks = [_constraint(index, match.entity, p) for p in props]
        if not query.get("query") and True not in checks:
            continue
        scored.append((match, checks))
    contenders = [m for m, checks in scored if m.variant and False not in checks]
    types = _types_of(query)
    results = [_candidate_json(index, m, checks, types, len(contenders) == 1 and m is contenders[0])
               for m, checks in scored]
    results.sort(key=lambda r: (-r["score"], r["id"]))
    return results[: int(query.get("limit", _DEFAULT_LIMIT))]


def _json_param(name: str) -> object | None:
    raw = request.values.get(name)
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ReconcileInputError(f"{name} is not valid JSON: {exc}") from None


def _reconcile_batch(index: NameIndex, batch: object) -> Response:
    if not isinstance(batch, dict):
        raise ReconcileInputError("queries must be a JSON object mapping keys to queries")
    if len(batch) > BATCH_SIZE:
        raise RequestEntityTooLarge(f"at most {BATCH_SIZE} queries per batch (see batchSize)")
    checked = {key: _check_query(key, q) for key, q in batch.items()}
    return jsonify({key: {"result": reconcile_query(index, q)} for key, q in checked.items()})


def _check_extend(raw: object) -> tuple[list[str], list[dict]]:
    if not isinstance(raw, dict) or not isinstance(raw.get("ids"), list) \
            or not isinstance(raw.get("properties"), list):
        raise ReconcileInputError("extend must be {\"ids\": [...], \"properties\": [{\"id\": ...}]}")
    props = [p for p in raw["properties"] if isinstance(p, dict) and "id" in p]
    unknown = sorted({str(p["id"]) for p in props} - set(PROPERTIES))
    if unknown or len(props) != len(raw["properties"]):
        raise ReconcileInputError(f"unknown extension properties {unknown}; known: {sorted(PROPERTIES)}")
    return [str(i) for i in raw["ids"]], props


def _limit_setting(prop: dict) -> int:
    try:
        return max(0, int((prop.get("settings") or {}).get("limit", 0)))
    except (TypeError, ValueError):
        raise ReconcileInputError(f"property {prop['id']}: setting 'limit' must be a number") from None


def extend(index: NameIndex, raw: object) -> dict:
    """The data extension response for one extension query."""
    ids, props = _check_extend(raw)
    meta = [{"id": p["id"], "name": PROPERTIES[p["id"]][0]} for p in props]
    rows = {}
    for ident in ids:
        entity = index.get(ident)
        row = {}
        for prop in props:
            cells = _values(index, entity, prop["id"]) if entity else []
            limit = _limit_setting(prop)
            row[prop["id"]] = cells[:limit] if limit else cells
        rows[ident] = row
    return {"meta": meta, "rows": rows}


@bp.route("", methods=["GET", "POST"])
def service():
    """Manifest (no parameters), reconciliation (``queries``) or data extension (``extend``)."""
    index = names()
    batch = _json_param("queries")
    if batch is not None:
        return _reconcile_batch(index, batch)
    extension = _json_param("extend")
    if extension is not None:
        return jsonify(extend(index, extension))
    if request.method == "POST":
        raise ReconcileInputError(
            "A POST needs a form field 'queries' (a reconciliation batch) or 'extend' "
            "(application/x-www-form-urlencoded); GET /reconcile gives the manifest.")
    return jsonify(manifest(index))


# --------------------------------------------------------------------------- preview, suggest


@bp.get("/preview")
def preview():
    """An HTML snippet describing one entity, for an iframe."""
    index = names()
    entity = index.get(request.args.get("id", ""))
    if entity is None:
        raise NotFound(f"No entity {request.args.get('id', '')!r} in release {index.version}.")
    kind, slug = entity.id.split("/", 1)
    esc = html.escape
    aliases = ", ".join(esc(n) for n in sorted(entity.names - {entity.label}))
    types = ", ".join(esc(index.type_name(t)) for t in sorted(entity.types))
    body = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>'
        f"{esc(entity.label)}</title></head><body style=\"font:14px sans-serif;margin:6px\">"
        f'<p><a href="{esc(index.iris.page(kind, slug))}" target="_blank"><strong>{esc(entity.label)}</strong></a>'
        f" <small>({types or esc(kind)}) {esc(entity.id)}</small></p>"
        + (f"<p>{esc(entity.description)}</p>" if entity.description else "")
        + (f"<p><small>Also: {aliases}</small></p>" if aliases else "")
        + "</body></html>"
    )
    return Response(body, mimetype="text/html")


def _cursor() -> int:
    try:
        return max(0, int(request.args.get("cursor", 0)))
    except ValueError:
        raise ReconcileInputError("cursor must be an integer") from None


@bp.get("/suggest/entity")
def suggest_entity():
    index = names()
    prefix = request.args.get("prefix", "")
    types = [t for t in request.args.getlist("type") if t]
    hits = index.search(prefix, types)[_cursor():][:_DEFAULT_LIMIT * 2]
    result = []
    for match in hits:
        item = {"id": match.entity.id, "name": match.entity.label,
                "notable": [_type_json(index, t) for t in sorted(match.entity.types)]}
        if match.entity.description:
            item["description"] = match.entity.description
        result.append(item)
    return jsonify({"result": result})


def _prefix_hit(prefix: str, *texts: str) -> bool:
    wanted = normalise(prefix)
    return not wanted or any(normalise(t).startswith(wanted) or f" {wanted}" in f" {normalise(t)}"
                             for t in texts)


@bp.get("/suggest/type")
def suggest_type():
    index = names()
    prefix = request.args.get("prefix", "")
    used = sorted({t for e in index.entities.values() for t in e.all_types})
    result = [_type_json(index, t) for t in used if _prefix_hit(prefix, t, index.type_name(t))]
    return jsonify({"result": result[_cursor():]})


@bp.get("/suggest/property")
def suggest_property():
    prefix = request.args.get("prefix", "")
    result = [{"id": pid, "name": name} for pid, (name, _) in PROPERTIES.items()
              if _prefix_hit(prefix, pid, name)]
    return jsonify({"result": result[_cursor():]})


@bp.get("/properties")
def propose_properties():
    """Data extension property proposals for a type (``type``, optional ``limit``)."""
    index = names()
    type_id = request.args.get("type", "")
    kinds = {e.kind for e in index.entities.values() if type_id and index.has_type(e, [type_id])}
    props = [{"id": pid, "name": name} for pid, (name, applies) in PROPERTIES.items()
             if not applies or kinds & set(applies)]
    body: dict = {"type": type_id, "properties": props}
    if request.args.get("limit"):
        try:
            body["limit"] = int(request.args["limit"])
        except ValueError:
            raise ReconcileInputError("limit must be an integer") from None
        body["properties"] = props[: body["limit"]]
    return jsonify(body)
