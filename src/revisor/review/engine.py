"""`review`: migration files → findings (and, with fix=True, files repaired in place).

Never prints, never exits; the CLI renders the `ReviewResult`.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from revisor import git
from revisor.codes.selection import Selection
from revisor.errors import ConfigError
from revisor.findings import Applicability, Edit, Finding, Fix, sort_findings
from revisor.review.context import ReviewContext
from revisor.review.fix import apply_fixes
from revisor.review.parse import Migration, parse_migration
from revisor.review.rule import Rule, all_rules

if TYPE_CHECKING:
    from sqlalchemy import MetaData

    from revisor.base_models import BaseModels
    from revisor.git import ChangedFiles
    from revisor.project import Project

UNUSED_IGNORE = "RV001"
MAX_FIX_PASSES = 5


@dataclass
class ReviewResult:
    """What a review run found (after fixes, if any were applied)."""

    findings: list[Finding]
    files: list[Path]
    fixed: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def fixable(self) -> int:
        return sum(
            1
            for f in self.findings
            if f.fix is not None and f.fix.applicability is Applicability.SAFE
        )

    @property
    def unsafe_fixable(self) -> int:
        """Findings only `--fix --unsafe-fixes` repairs."""
        return sum(
            1
            for f in self.findings
            if f.fix is not None and f.fix.edits and f.fix.applicability is Applicability.UNSAFE
        )


def discover_files(project: Project) -> list[Path]:
    """Every revision file in the project's version locations, sorted."""
    files: list[Path] = []
    recursive = (project.config.get_main_option("recursive_version_locations") or "").lower()
    for location in project.version_locations:
        location = location.resolve()  # once: the files below it are then resolved too
        if recursive in ("true", "1", "yes"):
            files.extend(
                p for p in location.glob("**/*.py") if p.is_file() and not p.name.startswith("__")
            )
            continue
        # scandir knows each entry's type from the directory listing: no stat per file.
        try:
            entries = list(os.scandir(location))
        except OSError:
            continue
        files.extend(
            location / entry.name
            for entry in entries
            if entry.name.endswith(".py") and not entry.name.startswith("__") and entry.is_file()
        )
    # Path's own ordering compares part by part in Python; the parts tuples sort the same.
    return sorted(set(files), key=lambda path: path.parts)


def changed_migrations(project: Project, ref: str | None = None) -> ChangedFiles | None:
    """The .py files in the version folders added or changed since git `ref` (committed,
    staged, modified or untracked); without `ref`, since the merge-base with the default
    branch. None outside a git work tree (or, without `ref`, when no default branch is
    found). Raises ConfigError for a `ref` git cannot resolve, GitError when git is
    missing or fails. Runs read-only git commands."""
    changed = git.changed_since(project.root, ref, project.version_locations)
    if changed is None:
        return None
    return replace(changed, paths=tuple(p for p in changed.paths if p.suffix == ".py"))


def review(
    project: Project,
    paths: Sequence[Path] = (),
    *,
    since: str | None = None,
    fix: bool = False,
    unsafe_fixes: bool = False,
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    migrations_only: bool = False,
) -> ReviewResult:
    """Review the project's revision files (or `paths`, or the files changed since `since`).

    With migrations_only=True, the `paths` that are not revision files of the history are
    skipped (a pre-commit hook passes every changed .py file). With fix=True, safe fixes
    (and unsafe ones with unsafe_fixes=True) are written to the files, and the result lists
    what remains. Raises ConfigError for bad settings.
    """
    selection = Selection.from_settings(project.settings, select=select, ignore=ignore)
    history = discover_files(project)
    targets: list[Path] = []
    for given in paths:
        target = given.resolve()
        if target.is_dir():
            targets.extend(sorted(p for p in target.glob("*.py") if not p.name.startswith("__")))
        elif target.is_file():
            targets.append(target)
        else:
            raise ConfigError(f"No such file or folder: {given}")
    if not paths:
        targets = list(history)
    elif migrations_only:
        revision_files = set(history)
        targets = [p for p in targets if p in revision_files]
    if since is not None:
        changed = changed_migrations(project, since)  # with a ref: never None
        wanted = set(changed.paths) if changed else set()
        targets = [p for p in targets if p.resolve() in wanted]
    whole = not paths and since is None
    fixed: list[Finding] = []
    passes = MAX_FIX_PASSES if fix else 1
    with _gc_paused():
        for _ in range(passes):
            ctx = _context(project, targets, history, whole)
            ctx.since = since
            findings = run_rules(ctx, selection)
            if not fix:
                break
            applied = apply_fixes(findings, unsafe=unsafe_fixes)
            if not applied:
                break
            fixed.extend(applied)
    return ReviewResult(findings=findings, files=targets, fixed=fixed, notes=ctx.notes)


def _parse(path: Path) -> Migration:
    """Parse a file and collect its actions (while the garbage collector waits)."""
    migration = parse_migration(path)
    migration.functions  # noqa: B018 — cached: every rule reads it
    migration.module_values  # noqa: B018
    return migration


def _context(
    project: Project, targets: list[Path], history: list[Path], whole: bool
) -> ReviewContext:
    # Paths are already resolved (discover_files, review): no per-file resolve() here,
    # it costs more than parsing on large histories.
    parsed = {p: _parse(p) for p in history}
    for target in targets:
        if target not in parsed:
            parsed[target] = _parse(target)
    return ReviewContext(
        migrations=[parsed[t] for t in targets],
        all_migrations=[parsed[p] for p in history],
        project=project,
        whole_history=whole,
    )


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Parsing thousands of files allocates millions of acyclic AST nodes; the cyclic
    garbage collector would rescan them all repeatedly (quadratic time), so it waits
    until the review is done (the run creates next to no reference cycles)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        # Everything allocated meanwhile sits in the youngest generation, and the first
        # young collection would scan all of it: move it to the oldest one instead (freeze
        # then unfreeze), where only the rare full collections look.
        gc.freeze()
        gc.unfreeze()
        if enabled:
            gc.enable()


def review_files(
    paths: Sequence[Path],
    *,
    codes: Iterable[str] | None = None,
    metadata: tuple[MetaData, ...] | None = None,
    project: Project | None = None,
    base_models: BaseModels | None = None,
) -> list[Finding]:
    """Review standalone files (tests, docs examples): `paths` are the whole history;
    `base_models` stand for the running release's models (no git involved)."""
    with _gc_paused():
        migrations = [parse_migration(p) for p in paths]
    ctx = ReviewContext(
        migrations=migrations,
        all_migrations=migrations,
        project=project,
        metadata_override=metadata,
        base_models_override=base_models,
    )
    chosen = (
        frozenset(codes)
        if codes is not None
        else frozenset(r.code for r in all_rules() if r.default_enabled)
    )
    return run_rules(ctx, Selection(codes=chosen, severity={}, per_file_ignores={}))


def run_rules(ctx: ReviewContext, selection: Selection) -> list[Finding]:
    """Run the selected rules over `ctx`; apply ignores, severities and report unused
    ignore comments. Returns the findings sorted."""
    rules: list[Rule] = [cls() for cls in all_rules() if cls.code in selection.codes]
    # Rules about the whole history only (graph, models) have no per-file check to call.
    per_file = [rule for rule in rules if type(rule).check is not Rule.check]
    raw: list[Finding] = []
    for migration in ctx.migrations:
        if migration.tree is None:
            continue
        kinds = migration.action_kinds
        for rule in per_file:
            if rule.triggers is not None and rule.triggers.isdisjoint(kinds):
                continue  # nothing in this file the rule looks at
            # _guarded's work inline: this loop runs rules x files times.
            try:
                raw.extend(list(rule.check(migration, ctx)))
            except Exception as exc:
                _rule_failed(rule, ctx, migration, exc)
    for rule in rules:
        raw.extend(_guarded(rule, ctx, None))
    by_path = {m.path: m for m in ctx.migrations}
    kept: list[Finding] = []
    for finding in raw:
        if finding.path is not None and _silenced(finding, by_path, ctx, selection):
            continue
        level = selection.severity.get(finding.code)
        kept.append(replace(finding, severity=level) if level else finding)
    if UNUSED_IGNORE in selection.codes:
        # When the models could not be loaded, the model rules did not run: their ignore
        # comments are not known to be unused.
        skipped = {r.code for r in all_rules() if r.needs_metadata} if ctx.metadata_error else set()
        kept.extend(_unused_ignores(ctx.migrations, selection, skipped))
    return sort_findings(kept)


def _guarded(rule: Rule, ctx: ReviewContext, migration: Migration | None) -> list[Finding]:
    """Run one rule; a bug in it becomes a note (the other rules still report), unless
    REVISOR_DEBUG is set (--debug, the test suite), where it raises."""
    try:
        if migration is None:
            return list(rule.check_project(ctx))
        return list(rule.check(migration, ctx))
    except Exception as exc:
        _rule_failed(rule, ctx, migration, exc)
        return []


def _rule_failed(
    rule: Rule, ctx: ReviewContext, migration: Migration | None, exc: Exception
) -> None:
    """Note a rule's failure (re-raise it with REVISOR_DEBUG)."""
    if os.environ.get("REVISOR_DEBUG"):
        raise exc
    where = f" on {migration.path.name}" if migration is not None else ""
    ctx.notes.append(
        f"rule {rule.code} failed{where} ({type(exc).__name__}: {exc}); this is a bug "
        "in revisor, rerun with --debug and report it"
    )


def _silenced(
    finding: Finding,
    by_path: dict[Path, Migration],
    ctx: ReviewContext,
    selection: Selection,
) -> bool:
    assert finding.path is not None
    if selection.ignored_in_file(finding, ctx.root):
        return True
    migration = by_path.get(finding.path)
    if migration is None or finding.line is None or not migration.ignores:
        return False
    end = finding.extra.get("end_line") or finding.line
    lines = list(range(finding.line, int(end) + 1))  # type: ignore[call-overload]
    function = migration.function_at(finding.line)
    if function is not None:
        lines.append(function.line)
    for line in lines:
        comment = migration.ignores.get(line)
        if comment is None:
            continue
        if not comment.codes or finding.code in comment.codes:
            comment.used.add(finding.code if comment.codes else "*")
            return True
    return False


def _unused_ignores(
    migrations: list[Migration], selection: Selection, skipped: set[str]
) -> list[Finding]:
    """RV001 findings for ignore comments that silenced nothing (codes of rules that are
    switched off are left alone: another configuration may enable them)."""
    from revisor.review.rules.rv001_unused_ignore import UnusedIgnore

    rule = UnusedIgnore()
    known = {r.code for r in all_rules()}
    found: list[Finding] = []
    for migration in migrations:
        for comment in migration.ignores.values():
            if not comment.codes:
                if not comment.used:
                    found.append(_unused(rule, migration, comment.line, [], whole=True))
                continue
            unused = [
                c
                for c in comment.codes
                if c not in comment.used
                and c not in skipped
                and (c in selection.codes or c not in known)
            ]
            if unused:
                whole = len(unused) == len(comment.codes)
                found.append(_unused(rule, migration, comment.line, unused, whole=whole))
    return found


def _unused(
    rule: Rule, migration: Migration, line: int, codes: list[str], *, whole: bool
) -> Finding:
    comment = migration.ignores[line]
    text = migration.lines[line - 1]
    start = comment.column
    while start > 0 and text[start - 1] == " ":
        start -= 1
    what = f"[{', '.join(codes)}]" if codes else ""
    # The comment runs to the end of the line (its `-- reason` goes with it).
    edit = Edit(migration.path, line, start, line, len(text), "")
    fix = Fix("remove the unused ignore comment", (edit,)) if whole else None
    message = f"Unused `revisor: ignore{what}` comment: it silences nothing here."
    finding = rule.finding(migration, line, message, fix=fix)
    return replace(finding, column=comment.column + 1)
