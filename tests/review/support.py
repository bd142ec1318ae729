"""Helpers for review tests: run one rule on fixture files, render findings with fix diffs."""

from __future__ import annotations

import difflib
import runpy
import textwrap
from collections.abc import Iterable, Sequence
from pathlib import Path

from sqlalchemy import MetaData

from revisor.base_models import BaseModels
from revisor.base_models.describe import describe
from revisor.findings import Finding
from revisor.report.excerpt import render_excerpts
from revisor.review import review_files
from revisor.review.fix import apply_edits
from revisor.review.rule import all_rules

HEADER = "from alembic import op\nimport sqlalchemy as sa\n"


def load_models(path: Path | None) -> tuple[MetaData, ...] | None:
    """The `metadata` a models file defines (executed in isolation), or None."""
    if path is None or not path.is_file():
        return None
    namespace = runpy.run_path(str(path))
    return (namespace["metadata"],)


def models_from_code(code: str | None) -> tuple[MetaData, ...] | None:
    if code is None:
        return None
    namespace: dict[str, object] = {}
    exec(compile(code, "<models>", "exec"), namespace)
    return (namespace["metadata"],)  # type: ignore[return-value]


def base_models_of(metadata: tuple[MetaData, ...]) -> BaseModels:
    """What revisor.base_models would load for a release mapping `metadata` (no git)."""
    return BaseModels.from_json({"commit": "0" * 40, "tables": describe(metadata)})


def run_rule(
    code: str,
    paths: Sequence[Path],
    metadata: tuple[MetaData, ...] | None = None,
    base: BaseModels | None = None,
) -> list[Finding]:
    """Findings of rule `code` alone (RV001 runs with every default rule, which it needs)."""
    codes: Iterable[str] = {code}
    if code == "RV001":
        codes = {r.code for r in all_rules() if r.default_enabled}
    findings = review_files(paths, codes=codes, metadata=metadata, base_models=base)
    return [f for f in findings if f.code == code]


def render_with_fixes(findings: Sequence[Finding], root: Path) -> str:
    """The text report plus, for each fix, the unified diff it would make."""
    text = render_excerpts(findings, root=root)
    shown: list[object] = []
    for finding in findings:
        if finding.fix is None or not finding.fix.edits or finding.fix in shown:
            continue
        shown.append(finding.fix)
        by_file: dict[Path, list] = {}
        for edit in finding.fix.edits:
            by_file.setdefault(edit.path, []).append(edit)
        for path, edits in by_file.items():
            before = path.read_text(encoding="utf-8")
            after = apply_edits(before, edits)
            name = path.relative_to(root).as_posix()
            diff = difflib.unified_diff(
                before.splitlines(keepends=True),
                after.splitlines(keepends=True),
                f"a/{name}",
                f"b/{name}",
            )
            text += f"\n{finding.code} fix ({finding.fix.applicability}): {finding.fix.message}\n"
            text += "".join(diff)
    return text


def write_example(folder: Path, blocks: list[tuple[str, str]]) -> tuple[list[Path], str | None]:
    """Write a docstring example's migration blocks as files; return them and the models."""
    folder.mkdir(parents=True, exist_ok=True)
    models = None
    paths = []
    previous = None
    for index, (info, code) in enumerate(blocks):
        code = textwrap.dedent(code)
        if info.endswith("models"):
            models = code
            continue
        if "revision =" not in code:
            down = repr(previous)
            code = f'revision = "r{index}"\ndown_revision = {down}\n\n' + code
            previous = f"r{index}"
        path = folder / f"m{index}.py"
        path.write_text(HEADER + code, encoding="utf-8")
        paths.append(path)
    return paths, models
