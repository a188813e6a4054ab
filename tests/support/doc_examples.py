"""Examples in the docs are run by tests, so a documented call is one that works.

An example is a fenced code block right after a marker line naming it:

    <!-- example: webhook-verify-python -->
    ```python
    ...
    ```

``doc_example(path, name)`` returns it (its language and code); the test runs it however its language needs
(``example_run`` runs python, javascript (node) and bash blocks as separate processes with the environment the
test gives; against the in-process server take ``asgi_server`` with ``committed_world``, which lets the
server's thread reach the database). tests/docs/test_doc_examples_covered.py fails when an example of a doc
is named by no test.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
_EXAMPLE = re.compile(
    r"^<!-- example: (?P<name>[a-z0-9][a-z0-9-]*) -->\n```(?P<lang>[a-z]+)\n(?P<code>.*?)^```$", re.M | re.S
)
RUNNERS = {"python": [sys.executable, "-c"], "javascript": ["node", "-e"], "bash": ["bash", "-c"]}


@dataclass(frozen=True)
class Example:
    name: str
    lang: str
    code: str


def doc_examples(path: str | Path) -> dict[str, Example]:
    """Every named example of a doc (path relative to the repository), by name; a name used twice is an
    error."""
    text = (REPO / path).read_text()
    found: dict[str, Example] = {}
    for match in _EXAMPLE.finditer(text):
        name = match["name"]
        if name in found:
            raise ValueError(f"{path}: example {name!r} appears twice")
        found[name] = Example(name=name, lang=match["lang"], code=match["code"])
    return found


def doc_example(path: str | Path, name: str) -> Example:
    examples = doc_examples(path)
    if name not in examples:
        raise KeyError(f"{path} has no example {name!r} (it has {sorted(examples)})")
    return examples[name]


def example_run(
    example: Example, *, env: dict[str, str] | None = None, stdin: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run the example as its own process (python with this interpreter, so the project's packages are
    importable; javascript with node; bash), with ``env`` added to the environment; the finished process."""
    if example.lang not in RUNNERS:
        raise ValueError(f"no runner for {example.lang} (example {example.name})")
    return subprocess.run(
        [*RUNNERS[example.lang], example.code],
        env={**os.environ, **(env or {})},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
