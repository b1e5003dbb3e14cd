"""Run the competency-question queries on a release and write docs/competency-questions.md.

Usage::

    python scripts/cq_docs.py                      # release/current -> docs/competency-questions.md
    python scripts/cq_docs.py --release DIR --out FILE
    python scripts/cq_docs.py --check              # exit 1 when the file on disk is out of date

Each ``queries/cq/cqNN.rq`` starts with two comment lines, ``# title: CQ-NN. <question>`` and
``# answer: <the answer in words>``, followed by a SPARQL 1.1 SELECT query written for the default
base IRI ``http://127.0.0.1:8080/``. When a release is built for another base IRI (its
``manifest.json`` says which), the default base is replaced by that base before the query runs.

The helpers here (``load_queries``, ``open_store``, ``run_query``, ``normalise``) are also used by
``tests/test_competency.py``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pyoxigraph as ox

ROOT = Path(__file__).resolve().parent.parent
QUERY_DIR = ROOT / "queries" / "cq"
DOC_PATH = ROOT / "docs" / "competency-questions.md"
DEFAULT_BASE = "http://127.0.0.1:8080/"

_XSD = "http://www.w3.org/2001/XMLSchema#"
_NUMERIC = {
    _XSD + t
    for t in (
        "integer", "decimal", "double", "float", "int", "long", "short", "byte",
        "nonNegativeInteger", "positiveInteger", "nonPositiveInteger", "negativeInteger",
        "unsignedInt", "unsignedLong", "unsignedShort", "unsignedByte",
    )
}


@dataclass(frozen=True)
class Question:
    number: int
    path: Path
    title: str  # "CQ-01. Which unit ...?"
    answer: str  # the answer in words
    text: str  # the whole query file

    @property
    def key(self) -> str:
        return f"cq{self.number:02d}"


def load_queries(folder: Path = QUERY_DIR) -> list[Question]:
    """Every ``cqNN.rq`` in ``folder``, in number order, with its title and answer comments."""
    questions = []
    for path in sorted(folder.glob("cq[0-9][0-9].rq")):
        text = path.read_text(encoding="utf-8")
        title = re.search(r"^# title:\s*(.+)$", text, re.M)
        answer = re.search(r"^# answer:\s*(.+)$", text, re.M)
        if not title or not answer:
            raise ValueError(f"{path}: the first lines must be '# title: ...' and '# answer: ...'")
        questions.append(
            Question(int(path.stem[2:]), path, title.group(1).strip(), answer.group(1).strip(), text)
        )
    return questions


def release_base(release_dir: Path) -> str:
    """The base IRI a release was built with (``manifest.json``), else the default."""
    manifest = release_dir / "manifest.json"
    if manifest.exists():
        base = json.loads(manifest.read_text(encoding="utf-8")).get("base_iri")
        if base:
            return base if base.endswith("/") else base + "/"
    return DEFAULT_BASE


def open_store(release_dir: Path) -> ox.Store:
    """An in-memory store with the release's data and ontology in the default graph."""
    store = ox.Store()
    for name, fmt in (("data.nt", ox.RdfFormat.N_TRIPLES), ("ontology.ttl", ox.RdfFormat.TURTLE)):
        path = release_dir / name
        if path.exists():
            store.bulk_load(path=str(path), format=fmt, to_graph=ox.DefaultGraph())
    return store


def normalise(term: object, base: str) -> str:
    """A result term as a plain string: thing IRIs as ``kind/slug``, ontology terms as their local
    name, other IRIs in full, literals by lexical form (numbers canonical), blank nodes as
    ``[unknown]``, unbound as the empty string."""
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        iri = term.value
        if iri.startswith(base + "id/"):
            return iri[len(base) + 3:]
        if iri.startswith(base + "ontology#"):
            return iri[len(base) + 9:]
        return iri
    if isinstance(term, ox.BlankNode):
        return "[unknown]"
    if isinstance(term, ox.Literal):
        if term.datatype.value in _NUMERIC:
            try:
                number = Decimal(term.value)
            except InvalidOperation:
                return term.value
            text = format(number.normalize(), "f")
            return "0" if text in ("-0", "") else text
        return term.value
    return str(term)


def run_query(store: ox.Store, question: Question, base: str) -> tuple[list[str], list[tuple[str, ...]]]:
    """Run one question's query; return its column names and its normalised rows, in order."""
    text = question.text.replace(DEFAULT_BASE, base) if base != DEFAULT_BASE else question.text
    solutions = store.query(text)
    columns = [v.value for v in solutions.variables]
    rows = [tuple(normalise(solution[c], base) for c in columns) for solution in solutions]
    return columns, rows


def _cell(value: str) -> str:
    return value.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").strip() or " "


def _query_body(text: str) -> str:
    """The query without its title and answer comment lines."""
    lines = [ln for ln in text.splitlines() if not re.match(r"^# (title|answer):", ln)]
    return "\n".join(lines).strip()


def static_part(questions: list[Question]) -> str:
    """Questions, answers and queries (what the documentation must always match)."""
    return "\n".join(f"{q.title}\n{q.answer}\n{_query_body(q.text)}\n" for q in questions)


def render(questions: list[Question], results: dict[str, tuple[list[str], list[tuple[str, ...]]]],
           release_label: str) -> str:
    """The Markdown page: every question, its answer in words, its query and its answer table."""
    out = [
        "# Competency questions",
        "",
        "The 40 questions the published graph must answer (design: `ontology-research.md` §4), each",
        "with the answer in words, the SPARQL query shipped in `queries/cq/`, and the rows the query",
        "returns on the release. Every row carries the document id and the exact quote behind it.",
        "IRIs of things are shown as `kind/slug` (`{base}id/kind/slug`), ontology terms by local name,",
        "`[unknown]` marks an unknown-but-existing value.",
        "",
        "Generated by `python scripts/cq_docs.py` from " + release_label + "; do not edit by hand.",
        "The test `tests/test_competency.py` checks the expected rows and that this page is current.",
        "",
        "## Contents",
        "",
    ]
    for q in questions:
        anchor = re.sub(r"[^a-z0-9 -]", "", q.title.lower()).replace(" ", "-")
        out.append(f"- [{q.title}](#{anchor})")
    out.append("")
    for q in questions:
        columns, rows = results[q.key]
        out += [f"## {q.title}", "", f"**Answer.** {q.answer}", "",
                f"Query: `queries/cq/{q.path.name}`", "", "```sparql", _query_body(q.text), "```", ""]
        if rows:
            out.append("| " + " | ".join(columns) + " |")
            out.append("|" + "---|" * len(columns))
            out += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
            out.append("")
            out.append(f"{len(rows)} row{'s' if len(rows) != 1 else ''}.")
        else:
            out.append("_No rows on this release._")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def generate(release_dir: Path, folder: Path = QUERY_DIR) -> str:
    questions = load_queries(folder)
    base = release_base(release_dir)
    store = open_store(release_dir)
    results = {q.key: run_query(store, q, base) for q in questions}
    return render(questions, results, "the release in `release/current`")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--release", type=Path, default=ROOT / "release" / "current")
    parser.add_argument("--out", type=Path, default=DOC_PATH)
    parser.add_argument("--check", action="store_true", help="exit 1 when --out is out of date")
    args = parser.parse_args(argv)
    if not (args.release / "data.nt").exists():
        print(f"{args.release}: no data.nt; run `mkg build` first", file=sys.stderr)
        return 2
    page = generate(args.release)
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        if current != page:
            print(f"{args.out} is out of date; run python scripts/cq_docs.py", file=sys.stderr)
            return 1
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(page, encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
