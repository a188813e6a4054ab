"""Aurum's own modules, for tests that read the code itself (its layout, its imports)."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support.paths import REPO

PACKAGES = ("aurum", "apps", "tenants")


def modules() -> list[Path]:
    """Every module of Aurum's packages but the migrations."""
    return sorted(
        path
        for package in PACKAGES
        for path in (REPO / package).rglob("*.py")
        if "migrations" not in path.parts
    )


def parse(path: Path) -> ast.Module:
    """CPython 3.11's parser keeps one recursion counter for every thread (gh-106905): a parse in another
    thread of the test process at the same moment raises this SystemError once; the second parse is exact."""
    try:
        return ast.parse(path.read_text())
    except SystemError:
        return ast.parse(path.read_text())
