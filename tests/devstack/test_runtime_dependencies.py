"""What the code imports is installed where the code runs: the production image and `make demo` install the
runtime dependencies only (`uv sync --no-dev`), so a package imported by Aurum's own code (not its tests or
benchmarks) must be among them, directly or through another. A package only in the dev group would pass every
test and break the image (as httpx and brotli did)."""

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

from tests.support.code import PACKAGES, modules, parse
from tests.support.paths import REPO

OWN = set(PACKAGES)


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _runtime_closure() -> set[str]:
    """Every package `uv sync --no-dev` installs (with the project's extras, which the Makefile adds when the
    machine lacks Postgres or Redis), by uv.lock."""
    lock = tomllib.loads((REPO / "uv.lock").read_text())
    packages = {_norm(p["name"]): p for p in lock["package"]}
    project = packages["aurum"]
    todo = [(_norm(d["name"]), tuple(d.get("extra", ()))) for d in project.get("dependencies", [])]
    for extra in project.get("optional-dependencies", {}).values():
        todo += [(_norm(d["name"]), tuple(d.get("extra", ()))) for d in extra]
    seen: set[tuple[str, tuple[str, ...]]] = set()
    while todo:
        name, extras = todo.pop()
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        package = packages[name]
        deps = list(package.get("dependencies", []))
        for extra in extras:
            deps += package.get("optional-dependencies", {}).get(extra, [])
        todo += [(_norm(d["name"]), tuple(d.get("extra", ()))) for d in deps]
    return {name for name, _ in seen}


def _imports(path: Path) -> set[str]:
    """Top-level modules imported by ``path``, leaving out imports only a type checker sees."""
    tree = parse(path)
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped |= {id(n) for child in node.body for n in ast.walk(child)}
    names: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def test_every_package_aurum_imports_is_a_runtime_dependency():
    runtime = _runtime_closure()
    distributions = importlib.metadata.packages_distributions()
    sources = [REPO / "manage.py", *modules()]
    missing: dict[str, list[str]] = {}
    for source in sources:
        for module in _imports(source) - OWN - set(sys.stdlib_module_names):
            # A package not installed on this machine (an embedded server's extra) goes by its module's name.
            providers = {_norm(d) for d in distributions.get(module, [module])}
            if not providers & runtime:
                missing.setdefault(module, []).append(str(source.relative_to(REPO)))
    assert missing == {}, f"imported, but not installed by `uv sync --no-dev`: {missing}"


def test_the_closure_is_what_uv_installs_without_the_dev_group():
    """The check above is only as good as this closure: runtime packages are in it, dev-only ones are not."""
    runtime = _runtime_closure()
    assert {"django", "httpx", "brotli", "pyarrow", "sqlglot", "botocore", "anyio"} <= runtime
    assert not {"pytest", "moto", "selenium", "locust", "factory-boy", "faker", "mypy"} & runtime
