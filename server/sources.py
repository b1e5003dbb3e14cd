"""Build tier: the curation formats under ``data/`` (docs/annotation-format.md).

Reads source documents, entity files and annotation files into frozen dataclasses, keeping the
file and line of every record so that later steps can point curators at the exact place. Every
problem of a run is collected and raised once as :class:`SourceErrors`.

May import: stdlib, PyYAML. Never imports Flask or the web tier.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "Annotation", "AssertionRecord", "Citation", "Corpus", "Document", "DocumentMeta", "Entity",
    "Located", "NameRecord", "Problem", "Retirement", "Segment", "SourceErrors", "Span",
    "find_quote", "read_corpus",
]

_MARK_OPEN, _MARK_CLOSE = "[[", "]]"


@dataclass(frozen=True)
class Problem:
    """One thing wrong in the input, with where it is and what to do."""

    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"


class SourceErrors(Exception):
    """The input cannot be built; ``problems`` lists every problem found in the run."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=lambda p: (p.path, p.line or 0, p.message))
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class Located:
    """Where a record was written."""

    path: str
    line: int


@dataclass(frozen=True)
class Span:
    """A resolved quote: 0-based, end-exclusive code-point offsets into the document text."""

    start: int
    end: int
    exact: str


@dataclass(frozen=True)
class Document:
    id: str
    path: str
    text: str
    sha256: str


@dataclass(frozen=True)
class Entity:
    id: str
    type: str
    label: str
    where: Located
    definition: str | None = None
    facts: tuple[tuple[str, str, int], ...] = ()  # (predicate, value, line): background knowledge
    links: tuple[tuple[str, str, str, int], ...] = ()  # (target, id, verified_in, line)


@dataclass(frozen=True)
class Segment:
    id: str
    kind: str
    span: Span
    where: Located
    author: str | None = None


@dataclass(frozen=True)
class Citation:
    id: str
    span: Span
    where: Located
    publisher: str | None = None
    date: dt.date | None = None


@dataclass(frozen=True)
class NameRecord:
    entity: str
    form: str
    kind: str
    span: Span
    where: Located


@dataclass(frozen=True)
class AssertionRecord:
    id: str
    subject: str
    predicate: str
    where: Located
    evidence: tuple[Span, ...]
    status: str
    polarity: str = "Affirmed"
    object: str | None = None
    value: Any = None
    time: dict | None = None
    quantity: dict | None = None
    money: dict | None = None
    claimant: str | None = None
    cites: tuple[str, ...] = ()
    valid_as_of: dt.date | None = None
    corroborates: tuple[str, ...] = ()
    contradicts: tuple[str, ...] = ()
    derived_from: tuple[str, ...] = ()
    confidence: float | None = None
    note: str | None = None


@dataclass(frozen=True)
class DocumentMeta:
    title: Span | None
    where: Located
    issued: dict | None = None
    date_reasoning: str | None = None
    publisher: str | None = None
    creator: str | None = None
    part_of: str | None = None
    language: str = "en"


@dataclass(frozen=True)
class Annotation:
    document: Document
    path: str
    meta: DocumentMeta
    segments: tuple[Segment, ...] = ()
    citations: tuple[Citation, ...] = ()
    names: tuple[NameRecord, ...] = ()
    assertions: tuple[AssertionRecord, ...] = ()


@dataclass(frozen=True)
class Retirement:
    id: str
    reason: str
    where: Located
    replaced_by: str | None = None


@dataclass(frozen=True)
class Corpus:
    """Everything under ``data/``, read and checked for form (not yet for meaning)."""

    documents: tuple[Document, ...]
    entities: tuple[Entity, ...]
    annotations: tuple[Annotation, ...]
    retired: tuple[Retirement, ...] = ()
    inputs_sha256: str = ""
    files: tuple[str, ...] = field(default=())


# --- YAML with line numbers -------------------------------------------------------------------


class _Map(dict):
    """A mapping read from YAML that remembers its line and the line of each key."""

    line: int = 0
    key_lines: dict

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class _Seq(list):
    line: int = 0


def _construct(node: yaml.Node, constructor: yaml.constructor.SafeConstructor) -> Any:
    if isinstance(node, yaml.MappingNode):
        result = _Map()
        result.line = node.start_mark.line + 1
        result.key_lines = {}
        for key_node, value_node in node.value:
            key = constructor.construct_object(key_node, deep=True)
            result[key] = _construct(value_node, constructor)
            result.key_lines[key] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        seq = _Seq(_construct(item, constructor) for item in node.value)
        seq.line = node.start_mark.line + 1
        return seq
    return constructor.construct_object(node, deep=True)


def _load_yaml(path: Path, problems: list[Problem]) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        problems.append(Problem(str(path), None, f"cannot read the file ({err}). Check that it exists and is UTF-8."))
        return None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark else None
        problems.append(Problem(str(path), line, f"malformed YAML: {err.problem or err}. Fix the syntax on this line."))
        return None
    if node is None:
        return _Map()
    try:
        return _construct(node, yaml.constructor.SafeConstructor())
    except yaml.constructor.ConstructorError as err:
        line = err.problem_mark.line + 1 if err.problem_mark else None
        problems.append(Problem(str(path), line, f"malformed YAML value: {err.problem}."))
        return None


# --- quotes -----------------------------------------------------------------------------------


def _occurrences(text: str, needle: str) -> list[int]:
    found, start = [], text.find(needle)
    while start != -1:
        found.append(start)
        start = text.find(needle, start + 1)
    return found


def find_quote(text: str, quote: str) -> Span:
    """Resolve a curator's quote to offsets; ``[[ ]]`` marks the evidence inside a longer context.

    :raises ValueError: the quote is empty, malformed, absent or occurs more than once.
    """
    if not isinstance(quote, str) or not quote:
        raise ValueError("the quote is empty; write the exact words of the document")
    inner_from, inner_to = 0, None
    context = quote
    if _MARK_OPEN in quote or _MARK_CLOSE in quote:
        i, j = quote.find(_MARK_OPEN), quote.find(_MARK_CLOSE)
        # allow a marked span that itself ends with "]" (e.g. a footnote "[[[1]]]")
        while j != -1 and quote[j + 2 : j + 3] == "]":
            j += 1
        if i == -1 or j == -1 or j < i + 2:
            raise ValueError(f"unbalanced [[ ]] marker in {quote!r}; mark the evidence as [[words]] once")
        context = quote[:i] + quote[i + 2 : j] + quote[j + 2 :]
        inner_from, inner_to = i, j - 2
    hits = _occurrences(text, context)
    if not hits:
        raise ValueError(f"quote not found in the document: {context!r}; copy it exactly from the text")
    if len(hits) > 1:
        raise ValueError(
            f"quote occurs {len(hits)} times in the document: {context!r}; make it unique by quoting "
            "more words around it and marking the evidence with [[ ]]"
        )
    start = hits[0] + inner_from
    end = hits[0] + (inner_to if inner_to is not None else len(context))
    if end <= start:
        raise ValueError(f"the [[ ]] marker in {quote!r} is empty")
    return Span(start, end, text[start:end])


# --- readers ----------------------------------------------------------------------------------

_ID = re.compile(r"^[a-z]+/[A-Za-z0-9][A-Za-z0-9._~-]*$")
_LOCAL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._~-]*$")
_ENTITY_KEYS = {
    "type", "label", "definition", "different_from", "possibly_same_as", "links", "located_in",
    "overlaps", "place_type", "post_in", "role", "event_type", "unit_kind", "facts",
}
# Entity keys that are shorthands for one ontology predicate each.
ENTITY_FACT_KEYS = {
    "different_from": "owl:differentFrom",
    "possibly_same_as": "possiblySameAs",
    "located_in": "locatedIn",
    "overlaps": "overlaps",
    "place_type": "placeType",
    "post_in": "org:postIn",
    "role": "org:role",
    "event_type": "eventType",
    "unit_kind": "unitKind",
}
_ASSERTION_KEYS = {
    "id", "subject", "predicate", "object", "value", "time", "quantity", "money", "status",
    "claimant", "polarity", "evidence", "cites", "valid_as_of", "corroborates", "contradicts",
    "derived_from", "confidence", "note",
}


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _read_documents(folder: Path, problems: list[Problem]) -> dict[str, Document]:
    documents = {}
    if not folder.is_dir():
        problems.append(Problem(str(folder), None, "the documents folder is missing; put each source document here as <id>.txt"))
        return documents
    for path in sorted(folder.glob("*.txt")):
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            problems.append(Problem(str(path), None, f"not valid UTF-8 ({err}); save the document as UTF-8"))
            continue
        if not _LOCAL_ID.match(path.stem):
            problems.append(Problem(str(path), None, "the file name must be a plain id (letters, digits, '-', '_', '.')"))
            continue
        documents[path.stem] = Document(path.stem, str(path), text, hashlib.sha256(raw).hexdigest())
    return documents


def _read_entities(folder: Path, problems: list[Problem]) -> list[Entity]:
    entities: dict[str, Entity] = {}
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        data = _load_yaml(path, problems)
        if data is None:
            continue
        if not isinstance(data, dict):
            problems.append(Problem(str(path), getattr(data, "line", 1), "an entity file is a mapping from entity id to its description"))
            continue
        for entity_id, spec in data.items():
            line = data.line_of(entity_id)
            entity = _read_entity(str(path), line, entity_id, spec, problems)
            if entity is None:
                continue
            if entity_id in entities:
                first = entities[entity_id].where
                problems.append(Problem(str(path), line, f"entity {entity_id!r} is already defined at {first.path}:{first.line}; define each entity once"))
                continue
            entities[entity_id] = entity
    return list(entities.values())


def _read_entity(path: str, line: int, entity_id: Any, spec: Any, problems: list[Problem]) -> Entity | None:
    if not isinstance(entity_id, str) or not _ID.match(entity_id):
        problems.append(Problem(path, line, f"bad entity id {entity_id!r}; write kind/slug, e.g. org/jund-al-khilafah"))
        return None
    if not isinstance(spec, dict):
        problems.append(Problem(path, line, f"entity {entity_id!r} needs a mapping with at least 'type' and 'label'"))
        return None
    for key in spec:
        if key not in _ENTITY_KEYS:
            problems.append(Problem(path, spec.line_of(key), f"unknown key {key!r} in entity {entity_id!r}; allowed: {', '.join(sorted(_ENTITY_KEYS))}"))
    for key in ("type", "label"):
        if not isinstance(spec.get(key), str) or not spec.get(key):
            problems.append(Problem(path, line, f"entity {entity_id!r} needs a '{key}'"))
            return None
    facts = []
    for key, predicate in ENTITY_FACT_KEYS.items():
        for value in _as_list(spec.get(key)):
            facts.append((predicate, str(value), spec.line_of(key)))
    extra = spec.get("facts") or {}
    if not isinstance(extra, dict):
        problems.append(Problem(path, spec.line_of("facts"), "'facts' is a mapping from predicate to entity id(s)"))
        extra = {}
    for predicate, values in extra.items():
        for value in _as_list(values):
            facts.append((str(predicate), str(value), extra.line_of(predicate)))
    links = []
    for link in _as_list(spec.get("links")):
        if not isinstance(link, dict) or not {"target", "id", "verified_in"} <= set(link):
            problems.append(Problem(path, getattr(link, "line", spec.line_of("links")), "a link needs target (wikidata|geonames), id and verified_in"))
            continue
        links.append((str(link["target"]), str(link["id"]), str(link["verified_in"]), link.line))
    return Entity(
        id=entity_id, type=spec["type"], label=spec["label"], where=Located(path, line),
        definition=spec.get("definition"), facts=tuple(facts), links=tuple(links),
    )


class _Reader:
    """Reads one annotation file against its document, collecting problems."""

    def __init__(self, path: Path, document: Document, problems: list[Problem]):
        self.path, self.document, self.problems = str(path), document, problems

    def fail(self, line: int | None, message: str) -> None:
        self.problems.append(Problem(self.path, line, message))

    def span(self, quote: Any, line: int) -> Span | None:
        try:
            return find_quote(self.document.text, quote)
        except ValueError as err:
            self.fail(line, str(err))
            return None

    def range(self, spec: dict, line: int) -> Span | None:
        """A segment given by ``quote`` or by ``from`` … ``to``."""
        if "quote" in spec:
            return self.span(spec["quote"], line)
        first, last = self.span(spec.get("from"), line), self.span(spec.get("to"), line)
        if first is None or last is None:
            return None
        if last.end <= first.start:
            self.fail(line, "'to' must come after 'from' in the document")
            return None
        return Span(first.start, last.end, self.document.text[first.start : last.end])

    def date(self, value: Any, line: int, what: str) -> dt.date | None:
        if value is None or isinstance(value, dt.date):
            return value
        self.fail(line, f"{what} must be a date written as YYYY-MM-DD, got {value!r}")
        return None

    def meta(self, spec: Any, line: int) -> DocumentMeta:
        if not isinstance(spec, dict):
            self.fail(line, "the file needs a 'document' mapping with at least a 'title' quote")
            return DocumentMeta(None, Located(self.path, line))
        title = self.span(spec.get("title"), spec.line_of("title")) if "title" in spec else None
        issued = spec.get("issued")
        if issued is not None and not isinstance(issued, dict):
            self.fail(spec.line_of("issued"), "'issued' is a time mapping: {earliest, latest, precision, expressed}")
            issued = None
        if issued is not None:
            self._check_time(issued, spec.line_of("issued"))
        return DocumentMeta(
            title=title, where=Located(self.path, spec.line), issued=issued,
            date_reasoning=spec.get("date_reasoning"), publisher=spec.get("publisher"),
            creator=spec.get("creator"), part_of=spec.get("part_of"), language=spec.get("language", "en"),
        )

    def _check_time(self, time: dict, line: int) -> None:
        for key in ("earliest", "latest", "latest_start", "earliest_end"):
            if key in time:
                self.date(time[key], line, f"time '{key}'")

    def segments(self, items: Any) -> list[Segment]:
        out = []
        for spec in self._items(items, "segments", ("id", "kind")):
            span = self.range(spec, spec.line)
            if span is not None:
                out.append(Segment(str(spec["id"]), str(spec["kind"]), span, Located(self.path, spec.line), spec.get("author")))
        return out

    def citations(self, items: Any) -> list[Citation]:
        out = []
        for spec in self._items(items, "citations", ("id", "quote")):
            span = self.span(spec["quote"], spec.line)
            date = self.date(spec.get("date"), spec.line, "a citation's date")
            if span is not None:
                out.append(Citation(str(spec["id"]), span, Located(self.path, spec.line), spec.get("publisher"), date))
        return out

    def names(self, items: Any) -> list[NameRecord]:
        out = []
        for spec in self._items(items, "names", ("entity", "form", "kind")):
            span = self.span(spec.get("quote", spec["form"]), spec.line)
            if span is not None and span.exact != spec["form"]:
                self.fail(spec.line, f"the quoted name {span.exact!r} differs from form {spec['form']!r}; mark the name itself with [[ ]]")
                continue
            if span is not None:
                out.append(NameRecord(str(spec["entity"]), str(spec["form"]), str(spec["kind"]), span, Located(self.path, spec.line)))
        return out

    def assertions(self, items: Any) -> list[AssertionRecord]:
        out, seen = [], {}
        for spec in self._items(items, "assertions", ("id", "subject", "predicate", "status", "evidence")):
            record = self._assertion(spec)
            if record is None:
                continue
            if record.id in seen:
                self.fail(spec.line, f"assertion id {record.id!r} is already used on line {seen[record.id]}; ids are unique per file")
                continue
            seen[record.id] = spec.line
            out.append(record)
        return out

    def _assertion(self, spec: dict) -> AssertionRecord | None:
        line = spec.line
        for key in spec:
            if key not in _ASSERTION_KEYS:
                self.fail(spec.line_of(key), f"unknown key {key!r} in assertion; allowed: {', '.join(sorted(_ASSERTION_KEYS))}")
        given = [k for k in ("object", "value", "time", "quantity", "money") if k in spec]
        if len(given) != 1:
            self.fail(line, f"assertion {spec['id']!r} needs exactly one of object, value, time, quantity, money (got {given or 'none'})")
            return None
        for key in ("time", "quantity", "money"):
            if key in spec and not isinstance(spec[key], dict):
                self.fail(spec.line_of(key), f"'{key}' must be a mapping")
                return None
        if "time" in spec:
            self._check_time(spec["time"], spec.line_of("time"))
        quotes = _as_list(spec["evidence"])
        if not quotes:
            self.fail(spec.line_of("evidence"), "an assertion needs at least one evidence quote")
        spans = [self.span(q, spec.line_of("evidence")) for q in quotes]
        if any(s is None for s in spans) or not spans:
            return None
        confidence = spec.get("confidence")
        if confidence is not None and not (isinstance(confidence, (int, float)) and 0 <= confidence <= 1):
            self.fail(spec.line_of("confidence"), "confidence must be a number between 0 and 1")
            confidence = None
        return AssertionRecord(
            id=str(spec["id"]), subject=str(spec["subject"]), predicate=str(spec["predicate"]),
            where=Located(self.path, line), evidence=tuple(spans), status=str(spec["status"]),
            polarity=str(spec.get("polarity", "Affirmed")),
            object=str(spec["object"]) if "object" in spec else None,
            value=spec.get("value"), time=spec.get("time"), quantity=spec.get("quantity"), money=spec.get("money"),
            claimant=spec.get("claimant"), cites=tuple(str(c) for c in _as_list(spec.get("cites"))),
            valid_as_of=self.date(spec.get("valid_as_of"), spec.line_of("valid_as_of"), "valid_as_of"),
            corroborates=tuple(str(c) for c in _as_list(spec.get("corroborates"))),
            contradicts=tuple(str(c) for c in _as_list(spec.get("contradicts"))),
            derived_from=tuple(str(c) for c in _as_list(spec.get("derived_from"))),
            confidence=confidence, note=spec.get("note"),
        )

    def _items(self, items: Any, section: str, required: tuple[str, ...]):
        if items is None:
            return
        if not isinstance(items, list):
            self.fail(getattr(items, "line", None), f"'{section}' must be a list")
            return
        for spec in items:
            if not isinstance(spec, dict):
                self.fail(getattr(items, "line", None), f"each entry of '{section}' must be a mapping")
                continue
            missing = [k for k in required if k not in spec]
            if missing:
                self.fail(spec.line, f"this entry of '{section}' lacks {', '.join(missing)}")
                continue
            yield spec


def _read_annotation(path: Path, documents: dict[str, Document], problems: list[Problem]) -> Annotation | None:
    document = documents.get(path.stem)
    if document is None:
        problems.append(Problem(str(path), None, f"no document data/documents/{path.stem}.txt for this annotation file; add the document or rename the file"))
        return None
    data = _load_yaml(path, problems)
    if data is None:
        return None
    if not isinstance(data, dict):
        problems.append(Problem(str(path), 1, "an annotation file is a mapping with document, segments, citations, names, assertions"))
        return None
    allowed = {"document", "segments", "citations", "names", "assertions"}
    for key in data:
        if key not in allowed:
            problems.append(Problem(str(path), data.line_of(key), f"unknown section {key!r}; allowed: {', '.join(sorted(allowed))}"))
    reader = _Reader(path, document, problems)
    return Annotation(
        document=document, path=str(path),
        meta=reader.meta(data.get("document"), data.line_of("document")),
        segments=tuple(reader.segments(data.get("segments"))),
        citations=tuple(reader.citations(data.get("citations"))),
        names=tuple(reader.names(data.get("names"))),
        assertions=tuple(reader.assertions(data.get("assertions"))),
    )


def _read_retired(path: Path, problems: list[Problem]) -> list[Retirement]:
    if not path.exists():
        return []
    data = _load_yaml(path, problems)
    out = []
    for entity_id, spec in (data or {}).items():
        line = data.line_of(entity_id)
        if not isinstance(spec, dict) or not spec.get("reason"):
            problems.append(Problem(str(path), line, f"retired id {entity_id!r} needs a 'reason' (and optionally 'replaced_by')"))
            continue
        out.append(Retirement(str(entity_id), str(spec["reason"]), Located(str(path), line), spec.get("replaced_by")))
    return out


def read_corpus(data_dir: Path) -> Corpus:
    """Read everything under ``data_dir``.

    :raises SourceErrors: with every problem found, when any input is unusable.
    """
    data_dir = Path(data_dir)
    problems: list[Problem] = []
    if not data_dir.is_dir():
        raise SourceErrors([Problem(str(data_dir), None, "the data folder does not exist; pass --data-dir or create it")])
    documents = _read_documents(data_dir / "documents", problems)
    entities = _read_entities(data_dir / "entities", problems)
    annotation_dir = data_dir / "annotations"
    annotations = [
        a for a in (_read_annotation(p, documents, problems) for p in sorted(annotation_dir.glob("*.yaml"))) if a
    ] if annotation_dir.is_dir() else []
    retired = _read_retired(data_dir / "retired.yaml", problems)
    if problems:
        raise SourceErrors(problems)
    files = sorted(str(p.relative_to(data_dir)) for p in data_dir.rglob("*") if p.is_file())
    digest = hashlib.sha256()
    for name in files:
        digest.update(name.encode() + b"\0" + (data_dir / name).read_bytes() + b"\0")
    return Corpus(tuple(documents.values()), tuple(entities), tuple(annotations), tuple(retired), digest.hexdigest(), tuple(files))
