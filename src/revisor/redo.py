"""`revisor redo`: undo the newest local migration and draft it again.

The seed's "I messed up the history locally" recipe — `alembic downgrade -1`, delete the
revision file, fix the model, `alembic revision --autogenerate` — as one command that
refuses what would lose work or fork the history:

1. `plan_redo` checks everything and changes nothing: the revision is a head, its file is
   not in a branch others can see (git), the dev database is at the revision (downgrade
   it) or at its parent (never applied: skip).
2. `execute_redo` changes things in an order where a failure at any step leaves a state
   that is consistent and stated: downgrade the database first (a failure rolls back and
   moves nothing), then move the file to `.revisor/trash/<UTC time>/` next to the config
   (never deleted), then draft with revisor's draft engine and review the new file (a
   failure names the trash path so the old file can be restored).
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from revisor import git, migrate
from revisor.db.url import DatabaseUrl
from revisor.errors import ExtensionMissing, MigrationFailed, RevisorError
from revisor.fix_commands import FixCommands
from revisor.git import GitNotFound
from revisor.project import Project
from revisor.redo_errors import (
    AlreadyPublished,
    DatabaseBehindForRedo,
    DatabaseElsewhere,
    DatabaseUnknownForRedo,
    RedoDowngradeFailed,
    RedoDraftFailed,
    RedoRefused,
    TrashFailed,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from alembic.runtime.migration import MigrationContext, RevisionStep
    from alembic.script import Script

    from revisor.draft import DraftResult
    from revisor.drafting import DraftOptions
    from revisor.review.engine import ReviewResult

TRASH = Path(".revisor") / "trash"

# What redo does with the database, decided by where the database is.
DOWNGRADE = "downgrade"  # the revision is applied: downgrade it one step
SKIP = "skip"  # at the parent or below it: the revision was never applied here


@dataclass(frozen=True)
class GitPublication:
    """Whether others can already have the revision file.

    state: "no-git" (not in a git work tree, or git missing: `reason` says which),
    "untracked", "local" (committed, but in no branch below), or "published" (in `refs`:
    the upstream of the current branch or the default branch).
    """

    state: str
    refs: tuple[str, ...] = ()
    ignored_trash: bool = True  # .revisor/ is git-ignored (or there is no git)
    reason: str = ""  # for "no-git": why git could not tell


@dataclass
class RedoPlan:
    """What `execute_redo` will do; computed without changing anything."""

    revision: str
    path: Path
    parents: tuple[str, ...]  # the revision's down_revision(s)
    heads_after: tuple[str, ...]  # the history's heads without it: the new draft's parent
    message: str  # for the new draft
    message_source: str  # "-m", "docstring" or "file name"
    database: DatabaseUrl
    database_heads: tuple[str, ...]
    database_action: str  # DOWNGRADE or SKIP
    # revisor's embedded dev database only: upgrade it to this revision first (the head the
    # history has without the redone revision), so the draft compares with that head
    upgrade_first: str | None
    git: GitPublication
    forced: bool  # published, redone anyway with --force
    draft: bool
    trash_root: Path  # <config folder>/.revisor/trash
    pycache: list[Path] = field(default_factory=list)  # compiled copies moved along
    notes: list[str] = field(default_factory=list)


@dataclass
class RedoResult:
    """What `execute_redo` did."""

    plan: RedoPlan
    database_heads: tuple[str, ...]  # after the database step
    trash_dir: Path
    moved: list[tuple[Path, Path]] = field(default_factory=list)  # (from, to)
    draft: DraftResult | None = None  # None with --no-draft
    review: ReviewResult | None = None  # None when not reviewed or the draft was empty
    review_error: RevisorError | None = None  # the new file is written; its review failed

    @property
    def trashed_file(self) -> Path:
        return self.moved[0][1]

    @property
    def restore_command(self) -> str:
        return restore_command(self.moved)


def plan_redo(
    project: Project,
    url: DatabaseUrl,
    *,
    revision: str | None = None,
    message: str | None = None,
    draft: bool = True,
    force: bool = False,
) -> RedoPlan:
    """Decide what redoing `revision` (default: the single head) means; change nothing.

    Reads the revision graph, git (read-only commands) and the database's version table.
    Raises RedoRefused / AlreadyPublished / DatabaseElsewhere / DowngradeIncomplete (exit 2),
    DatabaseUnknownForRedo (exit 6), DatabaseBehindForRedo (exit 5), and, with a draft,
    MetadataNotFound / EnvImportError before anything changes.
    """
    script = _target(project, revision)
    path = Path(script.path).resolve()
    parents = project.graph.nodes[script.revision].down_revisions
    text = _message(script, message)
    if draft and not text:
        raise RedoRefused(
            f"{path.name} has no message to draft again with.",
            hint='Pass -m "what the migration does", or --no-draft.',
        )
    publication = git_publication(path, project.root)
    if publication.state == "published" and not force:
        raise AlreadyPublished(path, publication.refs)
    remaining = _heads_without(project, script.revision)
    if draft:
        if len(remaining) > 1:
            raise RedoRefused(
                f"Without {script.revision} the history has {len(remaining)} heads "
                f"({', '.join(remaining)}): a new draft needs one parent.",
                hint="Pass --no-draft to only remove the revision, or merge the heads first.",
            )
        _ = project.metadata  # no models, no draft: say so before anything changes
    heads = migrate.database_heads(project, url)
    commands = FixCommands.for_project(project, url)
    action = _database_action(project, script, heads, commands)
    if action == DOWNGRADE and not force:
        _check_downgrade(project, script.revision, path, commands)
    upgrade_first = None
    if draft:
        upgrade_first = _catch_up(project, url, script, heads, remaining, action, commands)
    plan = RedoPlan(
        revision=script.revision,
        path=path,
        parents=parents,
        heads_after=tuple(remaining),
        message=text,
        message_source="-m" if message else ("docstring" if script.doc.strip() else "file name"),
        database=url,
        database_heads=heads,
        database_action=action,
        upgrade_first=upgrade_first,
        git=publication,
        forced=publication.state == "published",
        draft=draft,
        trash_root=project.root / TRASH,
        pycache=_compiled_copies(path),
    )
    if publication.state == "no-git":
        plan.notes.append(
            f"{publication.reason}: redo cannot tell whether {path.name} was shared; it is "
            "moved to the trash, not deleted."
        )
    elif not publication.ignored_trash:
        plan.notes.append("add .revisor/ to your .gitignore so the trash is never committed")
    return plan


def execute_redo(
    project: Project,
    plan: RedoPlan,
    *,
    options: DraftOptions | None = None,
    review: bool = True,
) -> RedoResult:
    """Carry out `plan`: database step, then move the file to the trash, then draft and
    review. Side effects: DDL of the revision's downgrade() (and, on revisor's embedded dev
    database, of the upgrades to the history's head without the revision); the file moves;
    a new revision file is written. `project` still lists the old revision afterwards:
    load it again (`reload`) to go on.

    Raises RedoDowngradeFailed (exit 4, nothing moved), TrashFailed, RedoDraftFailed
    (the old file is in the trash; the error names it).
    """
    url = plan.database
    if plan.upgrade_first:
        # Alembic upgrades the other branch and keeps the redone revision stamped; a
        # failure here moved nothing (MigrationFailed names the revision).
        migrate.upgrade(project, url, plan.upgrade_first)
    if plan.database_action == DOWNGRADE:
        _downgrade_one(project, plan)
    changed = plan.upgrade_first or plan.database_action == DOWNGRADE
    heads = migrate.database_heads(project, url) if changed else plan.database_heads
    trash_dir, moved = _move_to_trash(plan, heads)
    result = RedoResult(plan=plan, database_heads=heads, trash_dir=trash_dir, moved=moved)
    if not plan.draft:
        return result
    try:
        from revisor.draft import draft

        fresh = reload(project)  # the history without the old revision, models re-imported
        result.draft = draft(fresh, url, plan.message, options)
    except (Exception, KeyboardInterrupt) as exc:  # Ctrl-C too: say where the old file is
        raise RedoDraftFailed(exc, moved[0][1], restore_command(moved)) from exc
    if review and result.draft.path is not None:
        from revisor.review import review as run_review

        try:
            result.review = run_review(reload(project), [result.draft.path])
        except RevisorError as exc:  # e.g. bad [tool.revisor] rules: the draft stands
            result.review_error = exc
    return result


def redo(
    project: Project,
    url: DatabaseUrl,
    *,
    revision: str | None = None,
    message: str | None = None,
    draft: bool = True,
    force: bool = False,
    options: DraftOptions | None = None,
    review: bool = True,
) -> RedoResult:
    """`plan_redo` then `execute_redo`: the whole command as one call (for `revisor demo`
    and scripts). Side effects and errors: those of both."""
    plan = plan_redo(project, url, revision=revision, message=message, draft=draft, force=force)
    return execute_redo(project, plan, options=options, review=review)


def reload(project: Project) -> Project:
    """The same project loaded afresh (its history changed on disk), with the same -x and
    --app."""
    fresh = Project.load(
        project.config_path,
        name=project.config.config_ini_section,
        x_args=project.x_options,
        app=project.app_option,
    )
    fresh.config_option = project.config_option  # as the user named it, for printed commands
    return fresh


def restore_command(moved: list[tuple[Path, Path]]) -> str:
    """The shell command that puts the trashed revision file back (paths as typed from
    the current directory)."""
    source, target = moved[0]
    return str(FixCommands().move(target, source))


# --- the target ------------------------------------------------------------------------


def _target(project: Project, revision: str | None) -> Script:
    if revision is None:
        heads = project.heads
        if not heads:
            raise RedoRefused("The history has no revisions: nothing to redo.")
        if len(heads) > 1:
            raise RedoRefused(
                f"The history has {len(heads)} heads ({', '.join(heads)}): which one to redo?",
                hint="Pass --revision REV (one of the heads).",
            )
        return project.revision(heads[0])
    script = project.revision(revision)
    children = sorted(project.graph.dependents.get(script.revision, ()))  # with depends_on
    if children:
        raise RedoRefused(
            f"Revision {script.revision} has children ({', '.join(children)}): only a head "
            "can be redone.",
            hint="Redo the newest revisions first, or write a new migration on top.",
        )
    return script


def _heads_without(project: Project, revision: str) -> list[str]:
    """The heads the history would have once `revision` is gone (in walk order)."""
    children = project.graph.children
    return [
        r
        for r in project.graph.nodes
        if r != revision and all(c == revision for c in children.get(r, ()))
    ]


def _message(script: Script, given: str | None) -> str:
    """-m, else the revision's docstring (alembic puts the message there), else the slug
    of its file name."""
    if given:
        return given.strip()
    doc = " ".join(script.doc.split())
    if doc:
        return doc
    stem = Path(script.path).stem
    slug = stem.removeprefix(script.revision).strip("_- ")
    return re.sub(r"[_-]+", " ", slug).strip()


# --- the database ----------------------------------------------------------------------


def _check_downgrade(project: Project, revision: str, path: Path, commands: FixCommands) -> None:
    """Raise DowngradeIncomplete when review finds the downgrade empty or incomplete
    (RV120, RV121): undoing the revision through it would not take its changes out."""
    from revisor.redo_errors import DowngradeIncomplete
    from revisor.review.engine import review

    found = review(project, [path], select=["RV120", "RV121"]).findings
    problems = [f"{f.code} {f.message}" for f in found if f.code in ("RV120", "RV121")]
    if problems:
        raise DowngradeIncomplete(revision, problems, commands.test("--last", "1"))


def _database_action(
    project: Project, script: Script, heads: tuple[str, ...], commands: FixCommands
) -> str:
    """DOWNGRADE when the database has the revision applied, SKIP when it is at the parent
    or below; raises when it is stamped with anything else."""
    revision = script.revision
    known = {s.revision for s in project.revisions}
    unknown = [h for h in heads if h not in known]
    if unknown:
        raise DatabaseUnknownForRedo(unknown, revision, commands.doctor())
    if revision in heads:
        return DOWNGRADE
    below = _below(project, revision)
    if not all(h in below for h in heads):
        raise DatabaseElsewhere(
            heads,
            revision,
            project.graph.nodes[revision].down_revisions,
            commands.upgrade_to(revision),
        )
    return SKIP


def _catch_up(
    project: Project,
    url: DatabaseUrl,
    script: Script,
    heads: tuple[str, ...],
    remaining: list[str],
    action: str,
    commands: FixCommands,
) -> str | None:
    """The draft compares the models with a database at the history's head once the
    revision is gone. None when the database will be there after the downgrade (or skip);
    the head to upgrade to first for revisor's embedded dev database; raises
    DatabaseBehindForRedo for the user's own database."""
    after = set(heads) - {script.revision}
    if action == DOWNGRADE:
        after |= set(project.graph.nodes[script.revision].down_revisions)
    after = {rev for rev in after if not any(rev in _below(project, o) for o in after)}
    if after == set(remaining):
        return None
    pending = project.ancestors(remaining) - project.ancestors(after)
    if url.source == "embedded":
        return remaining[0]  # revisor's own dev database: the history is the truth
    order = {s.revision: i for i, s in enumerate(project.revisions)}
    raise DatabaseBehindForRedo(
        heads,
        sorted(pending, key=order.__getitem__),
        script.revision,
        remaining,
        commands.upgrade_to(remaining[0]),
    )


def _below(project: Project, revision: str) -> set[str]:
    """The revisions strictly below `revision` (down_revisions and depends_on)."""
    return project.ancestors(project.graph.requires.get(revision, ()))


def _downgrade_one(project: Project, plan: RedoPlan) -> None:
    """Run the revision's downgrade() alone, through env.py. With other heads stamped too,
    alembic's step removes only this revision's row (or swaps it for the parent)."""
    step = migrate.revision_step(project, plan.revision, upgrade=False)

    def steps(context: MigrationContext) -> Iterator[RevisionStep]:
        yield step

    try:
        error = migrate.run_env(project, plan.database, steps).error
        if error is not None:
            missing = migrate.missing_extension(error)
            if missing:
                raise ExtensionMissing(missing, plan.revision, plan.database.source == "embedded")
            raise MigrationFailed(plan.revision, "downgrade", error) from error
    except MigrationFailed as exc:
        try:
            heads: tuple[str, ...] | None = migrate.database_heads(project, plan.database)
        except RevisorError:
            heads = None
        raise RedoDowngradeFailed(exc, plan.path, heads) from exc.cause


# --- the files -------------------------------------------------------------------------


def _compiled_copies(path: Path) -> list[Path]:
    cache = path.parent / "__pycache__"
    return sorted(cache.glob(f"{path.stem}.*.pyc")) if cache.is_dir() else []


def _new_trash_dir(root: Path) -> Path:
    """A fresh `<root>/<UTC timestamp>` folder (suffixed when redo ran twice that second)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    for n in range(1, 1000):
        candidate = root / (stamp if n == 1 else f"{stamp}-{n}")
        try:
            candidate.mkdir(parents=True)
        except FileExistsError:
            continue
        return candidate
    raise FileExistsError(root / stamp)


def _move_to_trash(plan: RedoPlan, heads: tuple[str, ...]) -> tuple[Path, list[tuple[Path, Path]]]:
    moved: list[tuple[Path, Path]] = []
    trash = plan.trash_root
    try:
        trash = _new_trash_dir(plan.trash_root)
        target = trash / plan.path.name
        shutil.move(plan.path, target)
        moved.append((plan.path, target))
    except OSError as exc:
        at = ", ".join(heads) or "no revision"
        raise TrashFailed(
            plan.path, trash, exc, f"The database is at {at}; {plan.path} is still in place."
        ) from exc
    for compiled in plan.pycache:
        # Only a cache: a failure here leaves nothing inconsistent.
        try:
            (trash / "__pycache__").mkdir(exist_ok=True)
            shutil.move(compiled, trash / "__pycache__" / compiled.name)
            moved.append((compiled, trash / "__pycache__" / compiled.name))
        except OSError:
            continue
    return trash, moved


# --- git -------------------------------------------------------------------------------


def git_publication(path: Path, root: Path) -> GitPublication:
    """Where git says others can have `path`: tracked and present (same path) in the
    upstream of the current branch or in the default branch (origin/HEAD, origin/main,
    origin/master, main, master — local main/master only when not checked out, since
    its commits are then the local ones). Runs read-only git commands; raises GitError
    when git is there but fails (a missing git is the "no-git" state)."""
    folder = path.parent
    try:
        top = git.toplevel(folder)
    except GitNotFound:
        return GitPublication("no-git", reason="git is not installed")
    if top is None:
        return GitPublication("no-git", reason=f"{root} is not in a git repository")
    ignored = git.ask(root, "check-ignore", "-q", "--", str(root / TRASH)) is not None
    if git.ask(folder, "ls-files", "--error-unmatch", "--", f":(literal){path.name}") is None:
        return GitPublication("untracked", ignored_trash=ignored)
    relative = git.relative(path, top)
    found = tuple(
        ref
        for ref in _public_refs(folder)
        if git.ask(folder, "cat-file", "-e", f"{ref}:{relative}") is not None
    )
    return GitPublication("published" if found else "local", found, ignored)


def _public_refs(cwd: Path) -> list[str]:
    """The upstream of the current branch, then the default branch's candidates except
    the checked-out one (its commits are the local ones)."""
    current = git.current_branch(cwd)
    refs = [git.upstream(cwd)] + [b for b in git.default_branches(cwd) if b != current]
    return list(dict.fromkeys(r for r in refs if r))
