"""The 40 competency questions: each shipped query returns exactly the expected answer rows.

The expected rows (``tests/cq_expected/cqNN.yaml``) were worked out by reading the three source
documents, not from what the queries return. Matching rules:

* Result terms are normalised by ``scripts/cq_docs.py``: thing IRIs as ``kind/slug``, ontology
  terms by local name, literals by lexical form (numbers canonical), blank nodes ``[unknown]``.
* Quote columns (``quote`` and any column ending in ``Quote``) hold the words that back the answer.
  A returned quote matches when one of the two contains the other, or when they share a run of at
  least 25 characters (the evidence span and the expected words overlap in the text).
* An expected cell that is a list accepts any one of its values (curator judgement calls, e.g.
  ``SelfClaim`` or ``ReportedSpeech`` for an emir's claim about his own unit); ``"*"`` accepts any
  value (a curator's paraphrase, whose backing words are then checked through the quote).
* The answer is exact: every returned row must match an expected row on all columns but the quote
  columns, and every expected row must be matched, quotes included, by a returned row. Several
  evidence spans for one answer are fine. Rows marked ``optional: true`` are defensible readings of
  the text that may be present but are not required.
* ``order: list`` compares the keys as an ordered list instead of a set.
"""

from __future__ import annotations

import difflib
import importlib.util
import os
import shutil
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
EXPECTED_DIR = Path(__file__).resolve().parent / "cq_expected"

_spec = importlib.util.spec_from_file_location("cq_docs", ROOT / "scripts" / "cq_docs.py")
cq_docs = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("cq_docs", cq_docs)
_spec.loader.exec_module(cq_docs)

QUESTIONS = cq_docs.load_queries()
NUMBERS = [q.number for q in QUESTIONS]


def _build_release(tmp: Path) -> Path | None:
    """Build the release from data/ into ``tmp`` with the project's pipeline (``server.release``).

    Validation is left to the build's own tests: here only the answers are checked, so the
    release is built with ``validate=False`` (a shape violation elsewhere does not hide them)."""
    try:
        from server import config, release  # noqa: PLC0415
    except ImportError:  # the build tier is not there
        return None
    built = release.build(config.load({}), release_dir=tmp, validate=False)
    return Path(built.path)


@pytest.fixture(scope="session")
def release_dir(tmp_path_factory) -> Path:
    if os.environ.get("MKG_CQ_RELEASE"):  # run against a given release folder
        return Path(os.environ["MKG_CQ_RELEASE"])
    tmp = tmp_path_factory.mktemp("release")
    built = _build_release(tmp)
    if built is not None:
        return built
    current = ROOT / "release" / "current"
    if (current / "data.nt").exists():
        copy = tmp / "copy"
        shutil.copytree(current, copy)
        return copy
    pytest.skip("no release: the build is not available and release/current is missing")


@pytest.fixture(scope="session")
def store(release_dir):
    return cq_docs.open_store(release_dir)


@pytest.fixture(scope="session")
def base(release_dir):
    return cq_docs.release_base(release_dir)


def _matches(expected: object, actual: str) -> bool:
    if isinstance(expected, list):
        return any(_matches(e, actual) for e in expected)
    if expected == "*":
        return True
    return str(expected if expected is not None else "") == actual


def _overlap(a: str, b: str) -> int:
    match = difflib.SequenceMatcher(None, a, b, autojunk=False).find_longest_match(0, len(a), 0, len(b))
    return match.size


def _quote_matches(expected: object, actual: str) -> bool:
    if isinstance(expected, list):
        return any(_quote_matches(e, actual) for e in expected)
    expected = str(expected if expected is not None else "")
    if expected in ("", "*") or not actual:
        return expected == actual or expected == "*"
    return expected in actual or actual in expected or _overlap(expected, actual) >= 25


def _is_quote_column(name: str) -> bool:
    return name == "quote" or name.endswith("Quote")


def _load_expected(number: int) -> dict:
    return yaml.safe_load((EXPECTED_DIR / f"cq{number:02d}.yaml").read_text(encoding="utf-8"))


def test_forty_questions():
    assert NUMBERS == list(range(1, 41))
    for q in QUESTIONS:
        assert q.title.startswith(f"CQ-{q.number:02d}. "), q.path
        assert (EXPECTED_DIR / f"cq{q.number:02d}.yaml").exists(), q.path
        assert "ORDER BY" in q.text.upper(), f"{q.path}: results must be ordered"


@pytest.mark.parametrize("number", NUMBERS, ids=[f"CQ-{n:02d}" for n in NUMBERS])
def test_competency_question(number, store, base):
    question = QUESTIONS[NUMBERS.index(number)]
    expected = _load_expected(number)
    columns, rows = cq_docs.run_query(store, question, base)
    assert columns == expected["columns"], f"{question.path.name}: columns"
    quote_cols = [i for i, c in enumerate(columns) if _is_quote_column(c)]
    key_cols = [i for i in range(len(columns)) if i not in quote_cols]
    exp_rows = [[row.get(c) for c in columns] for row in expected["rows"]]
    required = [not row.get("optional", False) for row in expected["rows"]]

    def key_match(exp, row):
        return all(_matches(exp[i], row[i]) for i in key_cols)

    def full_match(exp, row):
        return key_match(exp, row) and all(_quote_matches(exp[i], row[i]) for i in quote_cols)

    table = "\n".join(" | ".join(r) for r in rows) or "(no rows)"
    unexpected = [r for r in rows if not any(key_match(e, r) for e in exp_rows)]
    missing = [e for e, req in zip(exp_rows, required) if req and not any(full_match(e, r) for r in rows)]
    assert not missing and not unexpected, (
        f"{question.title}\nmissing (expected, not returned with a matching quote):\n"
        + "\n".join(f"  {m}" for m in missing)
        + "\nunexpected (returned, not expected):\n" + "\n".join(f"  {u}" for u in unexpected)
        + f"\nreturned:\n{table}"
    )
    if expected.get("order") == "list":
        order = []
        for r in rows:
            idx = next(i for i, e in enumerate(exp_rows) if key_match(e, r))
            if not order or order[-1] != idx:
                order.append(idx)
        assert order == sorted(order), f"{question.title}: rows out of the expected order\n{table}"


def test_every_answer_row_has_document_and_quote(store, base):
    """Every row names the document it comes from and (except questions about documents) a quote."""
    for q in QUESTIONS:
        expected = _load_expected(q.number)
        columns, rows = cq_docs.run_query(store, q, base)
        if "docid" in columns:
            i = columns.index("docid")
            assert all(r[i] for r in rows), f"{q.path.name}: a row without document id"
        if expected.get("document_question"):
            continue
        assert "docid" in columns and "quote" in columns, q.path.name


def test_documentation_is_current():
    """docs/competency-questions.md lists every question, answer and query as they are now."""
    page = cq_docs.DOC_PATH.read_text(encoding="utf-8")
    for q in QUESTIONS:
        assert f"## {q.title}" in page, f"{q.title} missing from {cq_docs.DOC_PATH.name}"
        assert f"**Answer.** {q.answer}" in page, f"{q.title}: answer text changed; regenerate"
        assert cq_docs._query_body(q.text) in page, f"{q.title}: query changed; regenerate"


def _docid_for(columns: list[str], row: dict, quote_col: str) -> str | None:
    if quote_col == "quote":
        return row.get("docid")
    prefix = quote_col[: -len("Quote")]
    return row.get(prefix + "Docid", row.get("docid"))


def test_expected_quotes_are_verbatim_in_the_documents():
    """Every expected backing quote is the exact text of the document it names."""
    documents = {p.stem: p.read_text(encoding="utf-8") for p in (ROOT / "data" / "documents").glob("*.txt")}
    for number in NUMBERS:
        expected = _load_expected(number)
        for col in (c for c in expected["columns"] if _is_quote_column(c)):
            for row in expected["rows"]:
                docid = _docid_for(expected["columns"], row, col)
                values = row[col] if isinstance(row[col], list) else [row[col]]
                for value in values:
                    if value in ("", "*", None):
                        continue
                    assert docid in documents, f"cq{number:02d}: unknown document {docid!r}"
                    assert value in documents[docid], f"cq{number:02d}: {value!r} is not in {docid}"
