"""Web tier: the query policy, checked on the SPARQL text before any engine sees it.

Owns a SPARQL lexer (:func:`tokenize`: comments, string literals, IRIs, prefixed names,
variables and language tags become tokens, so that a keyword inside any of them is never taken
for a keyword) and :func:`inspect_query`, which refuses:

- a query longer than ``MAX_QUERY_LENGTH`` characters (400);
- brackets ``{`` ``(`` ``[`` nested deeper than ``MAX_NESTING`` (400), measured without
  recursion, so a query nested 1,000 levels deep never reaches the engine's recursive parser;
- any SPARQL Update keyword (``INSERT DELETE LOAD CLEAR DROP CREATE ADD MOVE COPY WITH``): 403;
- ``SERVICE`` unless its endpoint is in ``SERVICE_ALLOW_LIST`` (403; ``SERVICE ?var`` always);
- ``file:`` IRIs in ``FROM``, ``FROM NAMED`` and ``SERVICE`` (403).

It also tells the caller the query form (SELECT, ASK, CONSTRUCT, DESCRIBE) so that the response
format is negotiated before the query is sent to a worker. :func:`verify_release` checks a
release folder against its ``manifest.json`` (sizes and SHA-256 of every listed file).

May import: limits, stdlib.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

from .limits import Refused

__all__ = [
    "QueryInfo",
    "ReleaseMismatch",
    "Token",
    "UPDATE_KEYWORDS",
    "check_graph_iri",
    "inspect_query",
    "tokenize",
    "verify_release",
]

UPDATE_KEYWORDS = frozenset(
    {"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH"})
_FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
_OPEN = "{(["
_CLOSE = "})]"

# IRIREF of the SPARQL grammar: no <>"{}|^`\ and nothing at or below U+0020.
_IRI = re.compile(r'<([^<>"{}|^`\\\x00-\x20]*)>')
_VAR = re.compile(r"[?$][A-Za-z0-9_\u00B7\u00C0-\U000EFFFF]+")
_LANG = re.compile(r"@[A-Za-z]+(?:-[A-Za-z0-9]+)*")
# A bare word or a prefixed name (prefix may be empty, local part may hold : . - %xx \-escapes).
_NAME = re.compile(
    r"(?:[A-Za-z_\u00C0-\U000EFFFF][\w\-.\u00B7\u00C0-\U000EFFFF]*)?"
    r"(?::(?:[\w\-.:\u00B7\u00C0-\U000EFFFF]|%[0-9A-Fa-f]{2}|\\.)*)?")
_NUMBER = re.compile(r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_PUNCT2 = ("^^", "&&", "||", "!=", "<=", ">=", "<<", ">>")


@dataclass(frozen=True)
class Token:
    """One lexical token: ``kind`` is iri, string, var, lang, name, pname, number or punct."""

    kind: str
    text: str
    pos: int


@dataclass(frozen=True)
class QueryInfo:
    """What the policy learned about a query that passed it."""

    form: str  # SELECT, ASK, CONSTRUCT or DESCRIBE
    depth: int
    services: tuple[str, ...]
    dataset: tuple[str, ...]


class ReleaseMismatch(Exception):
    """The release folder does not match its ``manifest.json``: it is never served."""


# --- lexer ---------------------------------------------------------------------------------

def _string_end(text: str, start: int) -> int:
    """The index just past the string literal opening at ``start`` (end of text if open)."""
    quote = text[start]
    if text.startswith(quote * 3, start):
        end = start + 3
        while end < len(text):
            if text[end] == "\\":
                end += 2
            elif text.startswith(quote * 3, end):
                return end + 3
            else:
                end += 1
        return len(text)
    end = start + 1
    while end < len(text):
        char = text[end]
        if char == "\\":
            end += 2
        elif char == quote:
            return end + 1
        else:
            end += 1
    return len(text)


def _skip_comment(text: str, start: int) -> int:
    end = start
    while end < len(text) and text[end] not in "\r\n":
        end += 1
    return end


def _lex_one(text: str, pos: int) -> tuple[Token | None, int]:
    """The token at ``pos`` (None for whitespace and comments) and the position after it."""
    char = text[pos]
    if char.isspace():
        return None, pos + 1
    if char == "#":
        return None, _skip_comment(text, pos)
    if char in "'\"":
        end = _string_end(text, pos)
        return Token("string", text[pos:end], pos), end
    if char == "<":
        match = _IRI.match(text, pos)
        if match:
            return Token("iri", match.group(1), pos), match.end()
    if char in "?$":
        match = _VAR.match(text, pos)
        if match:
            return Token("var", match.group(), pos), match.end()
    if char == "@":
        match = _LANG.match(text, pos)
        if match:
            return Token("lang", match.group(), pos), match.end()
    match = _NUMBER.match(text, pos) if char in "0123456789." else None
    if match:
        return Token("number", match.group(), pos), match.end()
    match = _NAME.match(text, pos)
    if match and match.end() > pos:
        word = match.group().rstrip(".")
        kind = "pname" if ":" in word else "name"
        return Token(kind, word, pos), pos + len(word)
    two = text[pos:pos + 2]
    if two in _PUNCT2:
        return Token("punct", two, pos), pos + 2
    return Token("punct", char, pos), pos + 1


def tokenize(text: str) -> list[Token]:
    """The tokens of SPARQL ``text``; comments and whitespace dropped. Never recursive."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        token, pos = _lex_one(text, pos)
        if token is not None:
            tokens.append(token)
    return tokens


# --- policy ----------------------------------------------------------------------------------

def _depth(tokens: list[Token]) -> int:
    depth = deepest = 0
    for token in tokens:
        if token.kind != "punct":
            continue
        if token.text in _OPEN:
            depth += 1
            deepest = max(deepest, depth)
        elif token.text in _CLOSE:
            depth = max(0, depth - 1)
    return deepest


def _prologue(tokens: list[Token]) -> tuple[dict[str, str], str | None]:
    """The PREFIX declarations and the BASE IRI of the query (anywhere they occur)."""
    prefixes: dict[str, str] = {}
    base = None
    for i, token in enumerate(tokens[:-1]):
        word = token.text.upper() if token.kind == "name" else ""
        if word == "BASE" and tokens[i + 1].kind == "iri":
            base = tokens[i + 1].text
        elif (word == "PREFIX" and i + 2 < len(tokens) and tokens[i + 1].kind == "pname"
              and tokens[i + 2].kind == "iri"):
            prefixes[tokens[i + 1].text.split(":", 1)[0]] = tokens[i + 2].text
    return prefixes, base


def _resolve(token: Token, prefixes: dict[str, str], base: str | None) -> str | None:
    """The absolute IRI a token names (None for a variable or an unknown prefix)."""
    if token.kind == "iri":
        return urljoin(base, token.text) if base else token.text
    if token.kind == "pname":
        prefix, local = token.text.split(":", 1)
        if prefix in prefixes:
            return _resolve(Token("iri", prefixes[prefix] + local, token.pos), {}, base)
    return None


def _refuse_update(tokens: list[Token]) -> None:
    for token in tokens:
        if token.kind == "name" and token.text.upper() in UPDATE_KEYWORDS:
            raise Refused(
                f"This endpoint is read-only: {token.text.upper()} (at character "
                f"{token.pos + 1}) belongs to SPARQL Update, which is not accepted.",
                status=403, reason="update")


def _file_iri(iri: str) -> bool:
    return iri.strip().lower().startswith("file:")


def _services(tokens, prefixes, base, allow_list) -> tuple[str, ...]:
    found = []
    for i, token in enumerate(tokens):
        if token.kind != "name" or token.text.upper() != "SERVICE":
            continue
        target = tokens[i + 1] if i + 1 < len(tokens) else None
        if target is not None and target.kind == "name" and target.text.upper() == "SILENT":
            target = tokens[i + 2] if i + 2 < len(tokens) else None
        iri = _resolve(target, prefixes, base) if target is not None else None
        if iri is None:
            raise Refused("SERVICE needs an endpoint IRI from the allow-list; a variable or an "
                          "undeclared prefix is not accepted.", status=403, reason="service")
        if _file_iri(iri) or iri not in allow_list:
            allowed = ", ".join(sorted(allow_list)) or "none: federated queries are disabled"
            raise Refused(f"SERVICE <{iri}> is not allowed. Allowed endpoints: {allowed}.",
                          status=403, reason="service")
        found.append(iri)
    return tuple(found)


def _dataset(tokens, prefixes, base) -> tuple[str, ...]:
    found = []
    for i, token in enumerate(tokens):
        if token.kind != "name" or token.text.upper() != "FROM":
            continue
        j = i + 1
        if j < len(tokens) and tokens[j].kind == "name" and tokens[j].text.upper() == "NAMED":
            j += 1
        iri = _resolve(tokens[j], prefixes, base) if j < len(tokens) else None
        if iri is not None:
            check_graph_iri(iri)
            found.append(iri)
    return tuple(found)


def _form(tokens: list[Token]) -> str:
    for token in tokens:
        if token.kind == "name" and token.text.upper() in _FORMS:
            return token.text.upper()
    raise Refused("This is not a SPARQL query: expected SELECT, ASK, CONSTRUCT or DESCRIBE.",
                  reason="not_a_query")


def check_graph_iri(iri: str) -> None:
    """Refuse a dataset graph IRI that names a local file.

    :raises Refused: (403) for ``file:`` IRIs.
    """
    if _file_iri(iri):
        raise Refused(f"The graph <{iri}> names a local file; datasets are only the graphs "
                      "of the release, nothing is ever read from files or the network.",
                      status=403, reason="file_iri")


def inspect_query(text: str, *, max_length: int, max_nesting: int,
                  service_allow_list=()) -> QueryInfo:
    """Check ``text`` against the policy and return what it is.

    :raises Refused: with a message that says why (400 for limits, 403 for forbidden features).
    """
    if len(text) > max_length:
        raise Refused(f"The query is {len(text)} characters long; the limit is {max_length}. "
                      "Shorten the query.", reason="query_too_long")
    tokens = tokenize(text)
    depth = _depth(tokens)
    if depth > max_nesting:
        raise Refused(f"The query nests brackets {depth} levels deep; the limit is "
                      f"{max_nesting}.", reason="too_deep")
    _refuse_update(tokens)
    prefixes, base = _prologue(tokens)
    services = _services(tokens, prefixes, base, frozenset(service_allow_list))
    dataset = _dataset(tokens, prefixes, base)
    return QueryInfo(form=_form(tokens), depth=depth, services=services, dataset=dataset)


# --- release integrity -----------------------------------------------------------------------

def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _check_entry(folder: Path, name: str, entry: object) -> None:
    if not isinstance(entry, dict) or "/" in name or "\\" in name or name in ("", ".", ".."):
        raise ReleaseMismatch(f"{folder}: manifest.json has an unusable entry for {name!r}")
    target = folder / name
    if not target.is_file():
        raise ReleaseMismatch(f"{folder}: {name} is listed in manifest.json but missing")
    size = target.stat().st_size
    if "bytes" in entry and size != entry["bytes"]:
        raise ReleaseMismatch(f"{folder}: {name} is {size} bytes but manifest.json says "
                              f"{entry['bytes']}")
    actual = _sha256(target)
    if actual != entry.get("sha256"):
        raise ReleaseMismatch(f"{folder}: {name} has SHA-256 {actual} but manifest.json says "
                              f"{entry.get('sha256')}")


def verify_release(path: str | Path, required: tuple[str, ...] = ("data.nt",)) -> dict:
    """Check every file listed in ``path/manifest.json`` (size and SHA-256); return the manifest.

    ``path`` may be the ``current`` symlink; it is resolved once, so the check and the load
    see the same version.

    :raises ReleaseMismatch: no readable manifest, a required file unlisted, a file missing or
        different from what the manifest says.
    """
    folder = Path(path).resolve()
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ReleaseMismatch(f"{folder}: no readable manifest.json ({exc})") from exc
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict):
        raise ReleaseMismatch(f"{folder}: manifest.json has no 'files' table")
    for name in required:
        if name not in files:
            raise ReleaseMismatch(f"{folder}: manifest.json does not list {name}")
    for name, entry in files.items():
        _check_entry(folder, name, entry)
    return manifest
