"""The documentation site (mkdocs.yml) and the pages that must not drift from the code:
every `[tool.revisor]` key the code reads is in docs/configuration.md and every key there is
read; every page of docs/ is in the site's navigation. `mkdocs build --strict` itself runs
in .ci/run (it needs the `docs` extra)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO / "src" / "revisor"
DOCS = REPO / "docs"


def _reads(tree: ast.AST) -> set[str]:
    """The `[tool.revisor]` keys a module reads: `settings.get("key")` (any expression
    ending in `settings`), and in config.py `table.get("key")` / `strings("key")`."""
    keys: set[str] = set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and node.args):
            continue
        first = node.args[0]
        if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "get":
            owner = ast.unparse(func.value)
            if owner.split(".")[-1] in {"settings", "table"}:
                keys.add(first.value)
        elif isinstance(func, ast.Name) and func.id == "strings":
            keys.add(first.value)
    return keys


def read_keys() -> set[str]:
    keys: set[str] = set()
    for module in SOURCE.rglob("*.py"):
        keys |= _reads(ast.parse(module.read_text(), filename=str(module)))
    return keys


def documented_keys() -> set[str]:
    """The keys in the first column of docs/configuration.md's tables."""
    text = (DOCS / "configuration.md").read_text()
    return set(re.findall(r"^\| `([a-z-]+)` \|", text, flags=re.MULTILINE))


def test_every_configuration_key_is_documented_and_every_documented_key_is_read() -> None:
    read = read_keys()
    # the scan must see the keys it is meant to see, or an empty set would pass
    assert {"metadata", "url-env", "rename-labels", "extend-select", "severity"} <= read
    documented = documented_keys()
    assert read - documented == set(), "read by the code, missing in docs/configuration.md"
    assert documented - read == set(), "in docs/configuration.md, read by no code"


def _nav_pages(entries: list) -> list[str]:
    pages: list[str] = []
    for entry in entries:
        values = entry.values() if isinstance(entry, dict) else [entry]
        for value in values:
            pages.extend(_nav_pages(value) if isinstance(value, list) else [value])
    return pages


def test_every_page_is_in_the_navigation() -> None:
    config = yaml.safe_load((REPO / "mkdocs.yml").read_text())
    assert config["strict"] is True
    nav = _nav_pages(config["nav"])
    pages = {p.relative_to(DOCS).as_posix() for p in DOCS.glob("*.md")}
    assert pages - set(nav) == set(), "docs pages missing from mkdocs.yml's nav"
    assert "rules/README.md" in nav
    # init, graph, status and merge pages are written by their commands' authors
    assert {"index.md", "existing-projects.md", "init.md", "graph.md", "status.md"} <= set(nav)
    assert "merge.md" in nav
