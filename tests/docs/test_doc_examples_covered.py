"""Every example in the integrator docs is run by some test (tests/support/doc_examples.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.doc_examples import REPO, doc_examples

DOCS = ["docs/integrations.md", "docs/audit.md"]


@pytest.mark.parametrize("doc", DOCS)
def test_every_example_of_the_doc_is_named_by_a_test(doc: str) -> None:
    tests_text = "\n".join(
        path.read_text() for path in (REPO / "tests").rglob("test_*.py") if path.name != Path(__file__).name
    )
    named = set(re.findall(r"""doc_example\(\s*[A-Z_a-z"./]+,\s*["']([a-z0-9-]+)["']""", tests_text))
    examples = set(doc_examples(doc))
    assert examples, f"{doc} has no examples"
    assert sorted(examples - named) == [], f"examples of {doc} that no test runs"
