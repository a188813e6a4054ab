"""How the code is laid out (style.md, issue 9): no module over 500 lines, and no private name (`_x`) of one
module imported by another. import-linter (`make lint`) checks the layers and cycles."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support.code import PACKAGES, modules, parse
from tests.support.paths import REPO

MAX_LINES = 500


def test_no_module_is_over_500_lines():
    long = {
        str(path.relative_to(REPO)): n
        for path in modules()
        if (n := len(path.read_text().splitlines())) > MAX_LINES
    }

    assert long == {}


def _private_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(parse(path)):
        if (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.split(".")[0] in (*PACKAGES, "tests")
        ):
            found += [f"{node.module}.{alias.name}" for alias in node.names if alias.name.startswith("_")]
    return found


def test_no_private_name_is_imported_acrossmodules():
    tests = sorted((REPO / "tests").rglob("*.py"))
    offending = {
        str(path.relative_to(REPO)): names
        for path in [*modules(), *tests]
        if (names := _private_imports(path))
    }

    assert offending == {}
