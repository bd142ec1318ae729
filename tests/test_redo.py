"""`revisor redo` through the real CLI, on a copy of the reference app and a real database."""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import py_compile
import re
import shlex
import subprocess
from pathlib import Path

from typer.testing import CliRunner

from revisor import migrate
from revisor.cli import app
from revisor.db.connect import raw_connect
from revisor.db.url import DatabaseUrl
from revisor.project import Project
from revisor.redo import DOWNGRADE, SKIP, plan_redo, redo

HEAD = "f72272eba32a"
PARENT = "2cffc65fb01a"
HEAD_FILE = "f72272eba32a_add_category_to_transactions.py"
CATEGORY_50 = "category: Mapped[str | None] = mapped_column(sa.String(50))"
CATEGORY_80 = "category: Mapped[str | None] = mapped_column(sa.String(80))"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
}


def _url(url: DatabaseUrl) -> str:
    return url.url.render_as_string(hide_password=False)


def _redo(cli: CliRunner, project: Path, url: DatabaseUrl, *args: str):
    return cli.invoke(app, ["redo", "-c", str(project / "alembic.ini"), "--url", _url(url), *args])


def _run_printed(cli: CliRunner, output: str, prefix: str):
    """Run the one `revisor ...` command in backticks in `output` starting with `prefix`,
    exactly as printed (its -c and --url are absolute: they work from any folder)."""
    (command,) = [c for c in re.findall(r"`([^`]+)`", output) if c.startswith(prefix)]
    result = cli.invoke(app, shlex.split(command)[1:])
    assert "Traceback" not in result.output, result.output
    return result


def _upgrade(project: Path, url: DatabaseUrl, target: str = "heads") -> None:
    migrate.upgrade(Project.load(project / "alembic.ini"), url, target)


def _versions(project: Path) -> Path:
    return project / "migrations" / "versions"


def _columns(url: DatabaseUrl, table: str) -> dict[str, int | None]:
    with raw_connect(url) as conn:
        rows = conn.execute(
            "SELECT column_name, character_maximum_length FROM information_schema.columns "
            "WHERE table_name = %s",
            (table,),
        ).fetchall()
    return dict(rows)


def _trashed(project: Path) -> list[Path]:
    return sorted((project / ".revisor" / "trash").rglob("*.py"))


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env={**os.environ, **GIT_ENV},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def _git_repo(project: Path, *, push: bool) -> Path:
    """Make the project a git repository on `main` with one commit; with push=True also
    push it to a bare repository as origin (the branch then tracks origin/main)."""
    _git(project, "init", "-q", "-b", "main")
    _git(project, "add", "-A")
    _git(project, "commit", "-q", "-m", "app")
    if push:
        origin = project.parent / "origin.git"
        _git(project.parent, "init", "-q", "--bare", str(origin))
        _git(project, "remote", "add", "origin", str(origin))
        _git(project, "push", "-q", "-u", "origin", "main")
    return project


def _other_head(project: Path) -> None:
    """A second head next to the example's: b0b0b0b0b0b0 on top of the parent."""
    (_versions(project) / "b0b0b0b0b0b0_other.py").write_text(
        f'"""other"""\nrevision = "b0b0b0b0b0b0"\ndown_revision = "{PARENT}"\n'
        "branch_labels = None\ndepends_on = None\n\n\n"
        "def upgrade():\n    pass\n\n\ndef downgrade():\n    pass\n"
    )


def test_redo_at_head_downgrades_trashes_and_drafts_the_fixed_model(
    cli: CliRunner, example_project: Path, database_url: DatabaseUrl
):
    _upgrade(example_project, database_url)
    assert _columns(database_url, "transactions")["category"] == 50
    models = example_project / "app" / "models.py"
    models.write_text(models.read_text().replace(CATEGORY_50, CATEGORY_80))

    result = _redo(cli, example_project, database_url)

    assert result.exit_code == 0, result.output
    assert f"downgraded {HEAD} -> {PARENT}" in result.output
    assert "not in a git repository" in result.output
    assert migrate.current_heads(database_url) == (PARENT,)
    assert "category" not in _columns(database_url, "transactions")
    assert not (_versions(example_project) / HEAD_FILE).exists()
    [trashed] = _trashed(example_project)
    assert trashed.name == HEAD_FILE
    assert "moved: " in result.output and str(trashed.relative_to(example_project)) in (
        result.output.replace("\n", "")
    )
    [new] = _versions(example_project).glob("*_add_category_to_transactions.py")
    text = new.read_text()
    assert text.startswith('"""add category to transactions')
    assert "sa.String(length=80)" in text
    assert f"down_revision: str | Sequence[str] | None = '{PARENT}'" in text
    assert "Wrote" in result.output and new.name in result.output
    assert "review: no findings" in result.output
    # the new draft applies: the fixed model is now in the database
    _upgrade(example_project, database_url)
    assert _columns(database_url, "transactions")["category"] == 80


def test_redo_of_a_revision_never_applied_skips_the_downgrade(
    cli: CliRunner, example_project: Path, database_url_18: DatabaseUrl
):
    _upgrade(example_project, database_url_18, PARENT)
    head = _versions(example_project) / HEAD_FILE
    py_compile.compile(str(head), cfile=importlib.util.cache_from_source(str(head)))

    result = _redo(cli, example_project, database_url_18, "-m", "category on transactions")

    assert result.exit_code == 0, result.output
    assert f"{HEAD} was never applied: not downgraded" in result.output
    assert migrate.current_heads(database_url_18) == (PARENT,)
    trash = example_project / ".revisor" / "trash"
    assert [p.name for p in _trashed(example_project)] == [HEAD_FILE]
    assert list(trash.rglob(f"__pycache__/{Path(HEAD_FILE).stem}.*.pyc"))
    assert not list((_versions(example_project) / "__pycache__").glob(f"{HEAD}_*"))
    [new] = _versions(example_project).glob("*_category_on_transactions.py")
    assert "sa.String(length=50)" in new.read_text()


def test_empty_draft_when_the_model_matches_the_parent(
    cli: CliRunner, example_project: Path, database_url_18: DatabaseUrl
):
    _upgrade(example_project, database_url_18)
    models = example_project / "app" / "models.py"
    models.write_text(models.read_text().replace(f"    {CATEGORY_50}\n", ""))
    before = sorted(p.name for p in _versions(example_project).glob("*.py"))

    result = _redo(cli, example_project, database_url_18)

    assert result.exit_code == 0, result.output
    assert "No changes detected" in result.output
    assert "no new revision needed" in result.output
    after = sorted(p.name for p in _versions(example_project).glob("*.py"))
    assert after == [name for name in before if name != HEAD_FILE]
    assert migrate.current_heads(database_url_18) == (PARENT,)


def test_dry_run_changes_nothing(
    cli: CliRunner, example_project: Path, database_url_18: DatabaseUrl
):
    _upgrade(example_project, database_url_18)
    result = _redo(cli, example_project, database_url_18, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "dry run" in result.output
    assert f"downgrade postgresql+psycopg://postgres@/{database_url_18.database}" in result.output
    assert f": {HEAD} to {PARENT} (its downgrade(), through env.py)" in result.output
    assert 'draft "add category to transactions" (from the docstring)' in result.output
    assert migrate.current_heads(database_url_18) == (HEAD,)
    assert (_versions(example_project) / HEAD_FILE).exists()
    assert not (example_project / ".revisor").exists()


def test_no_draft_only_removes(cli: CliRunner, example_project: Path, database_url_18: DatabaseUrl):
    _upgrade(example_project, database_url_18)
    result = _redo(cli, example_project, database_url_18, "--no-draft")
    assert result.exit_code == 0, result.output
    assert migrate.current_heads(database_url_18) == (PARENT,)
    assert Project.load(example_project / "alembic.ini").heads == (PARENT,)
    assert "Wrote" not in result.output


def test_pushed_revision_is_refused_unless_forced(
    cli: CliRunner, example_project: Path, database_url_18: DatabaseUrl
):
    (example_project / ".gitignore").unlink()  # .revisor/ not ignored: redo says so
    _git_repo(example_project, push=True)
    _upgrade(example_project, database_url_18)

    refused = _redo(cli, example_project, database_url_18)
    assert refused.exit_code == 2, refused.output
    assert "already pushed/merged (origin/main): write a new migration instead" in (
        refused.output.replace("\n", " ")
    )
    assert (_versions(example_project) / HEAD_FILE).exists()
    assert migrate.current_heads(database_url_18) == (HEAD,)

    forced = _redo(cli, example_project, database_url_18, "--force", "--no-draft")
    assert forced.exit_code == 0, forced.output
    assert "redone anyway (--force)" in forced.output
    assert "add .revisor/ to your .gitignore" in forced.output
    assert not (_versions(example_project) / HEAD_FILE).exists()
    assert migrate.current_heads(database_url_18) == (PARENT,)


def test_revision_committed_but_not_pushed_is_allowed(
    cli: CliRunner, example_project: Path, database_url_18: DatabaseUrl
):
    # origin has the history up to the parent; the head is only in a local commit
    (example_project / ".gitignore").write_text(".revisor/\n__pycache__/\n")
    head = _versions(example_project) / HEAD_FILE
    kept = head.read_text()
    head.unlink()
    _git_repo(example_project, push=True)
    head.write_text(kept)
    _git(example_project, "add", str(head))
    _git(example_project, "commit", "-q", "-m", "category")
    _upgrade(example_project, database_url_18)

    result = _redo(cli, example_project, database_url_18, "--no-draft")

    assert result.exit_code == 0, result.output
    assert "git repository" not in result.output and ".gitignore" not in result.output
    assert not head.exists()
    assert _git(example_project, "status", "--porcelain") == f" D migrations/versions/{HEAD_FILE}\n"


def test_several_heads_are_refused(
    cli: CliRunner, example_project: Path, database_url_18: DatabaseUrl
):
    _other_head(example_project)
    result = _redo(cli, example_project, database_url_18)
    assert result.exit_code == 2, result.output
    assert "2 heads" in result.output and "--revision" in result.output

    not_head = _redo(cli, example_project, database_url_18, "--revision", PARENT)
    assert not_head.exit_code == 2, not_head.output
    assert "only a head can be redone" in not_head.output.replace("\n", " ")
    assert len(list(_versions(example_project).glob("*.py"))) == 7


def test_unknown_database_revision_is_refused(
    cli: CliRunner, example_project: Path, database_url_18: DatabaseUrl
):
    _upgrade(example_project, database_url_18)
    with raw_connect(database_url_18) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'deadbeef0000'")
    result = _redo(cli, example_project, database_url_18)
    assert result.exit_code == 6, result.output
    assert "deadbeef0000" in result.output
    assert (_versions(example_project) / HEAD_FILE).exists()


def test_database_on_another_branch_is_refused(
    cli: CliRunner, example_project: Path, database_url_18: DatabaseUrl
):
    _other_head(example_project)
    _upgrade(example_project, database_url_18, "b0b0b0b0b0b0")
    result = _redo(cli, example_project, database_url_18, "--revision", HEAD)
    assert result.exit_code == 2, result.output
    assert (
        f"The database is at b0b0b0b0b0b0, neither at {HEAD} nor at its parent {PARENT}"
        in result.output.replace("\n", " ")
    )
    assert (_versions(example_project) / HEAD_FILE).exists()
    assert migrate.current_heads(database_url_18) == ("b0b0b0b0b0b0",)


def test_database_behind_the_parent_is_left_alone_without_a_draft(
    cli: CliRunner, example_project: Path, database_url_18: DatabaseUrl
):
    _upgrade(example_project, database_url_18, "e6995e90df34")
    result = _redo(cli, example_project, database_url_18, "--no-draft")
    # e6995e90df34 is below the parent: the head was never applied, nothing to undo
    assert result.exit_code == 0, result.output
    assert migrate.current_heads(database_url_18) == ("e6995e90df34",)
    assert not (_versions(example_project) / HEAD_FILE).exists()


def test_database_behind_the_parent_is_refused_for_a_draft(
    cli: CliRunner, example_project: Path, database_url_18: DatabaseUrl
):
    _upgrade(example_project, database_url_18, "e6995e90df34")
    result = _redo(cli, example_project, database_url_18)
    assert result.exit_code == 5, result.output
    assert "behind 2cffc65fb01a" in result.output
    assert (_versions(example_project) / HEAD_FILE).exists()


def test_failing_downgrade_moves_nothing(
    cli: CliRunner, example_project: Path, database_url_18: DatabaseUrl
):
    head = _versions(example_project) / HEAD_FILE
    head.write_text(
        head.read_text().replace(
            'op.drop_column("transactions", "category")',
            'op.drop_column("transactions", "category")\n    op.drop_table("no_such_table")',
        )
    )
    _upgrade(example_project, database_url_18)

    result = _redo(cli, example_project, database_url_18)

    assert result.exit_code == 4, result.output
    assert "downgrade of revision f72272eba32a failed" in result.output
    assert f"Nothing was moved: {head} is still in place" in result.output.replace("\n", "")
    assert f"it is at {HEAD}" in result.output
    assert head.exists()
    assert not (example_project / ".revisor").exists()
    assert migrate.current_heads(database_url_18) == (HEAD,)
    assert _columns(database_url_18, "transactions")["category"] == 50


def test_failed_draft_leaves_the_old_file_in_the_trash_and_says_where(
    cli: CliRunner, example_project: Path, database_url_18: DatabaseUrl
):
    # Dropping the WEEKLY label means replacing the enum type, which a view depends on:
    # the draft engine refuses (DraftBlocked) after the revision was undone and moved.
    _upgrade(example_project, database_url_18)
    with raw_connect(database_url_18) as conn:
        conn.execute("CREATE VIEW cycles AS SELECT billing_cycle FROM subscriptions")
    enums = example_project / "app" / "enums.py"
    enums.write_text(enums.read_text().replace('    WEEKLY = "weekly"\n', ""))

    result = _redo(cli, example_project, database_url_18)

    assert result.exit_code == 1, result.output
    [trashed] = _trashed(example_project)
    output = result.output.replace("\n", "")
    assert f"The old revision was moved to {trashed}, but the new draft failed" in output
    assert f"mv {trashed} {_versions(example_project) / HEAD_FILE}" in output
    assert migrate.current_heads(database_url_18) == (PARENT,)
    assert not list(_versions(example_project).glob("*_add_category_to_transactions.py"))
    subprocess.run(shlex.split(output.split("restore the old file: ")[1]), check=True)
    assert Project.load(example_project / "alembic.ini").heads == (HEAD,)


def test_engine_brings_the_embedded_dev_database_to_the_parent_before_drafting(
    example_project: Path, database_url_18: DatabaseUrl
):
    """revisor's own dev database behind the parent is upgraded to it (as `draft` does),
    where a user's database is refused; the engine returns plain data for the demo."""
    project = Project.load(example_project / "alembic.ini")
    migrate.upgrade(project, database_url_18, "e6995e90df34")
    embedded = dataclasses.replace(database_url_18, source="embedded")

    plan = plan_redo(project, embedded)
    assert (plan.revision, plan.parents, plan.heads_after) == (HEAD, (PARENT,), (PARENT,))
    assert (plan.database_action, plan.upgrade_first) == (SKIP, PARENT)
    assert (plan.message, plan.message_source) == ("add category to transactions", "docstring")
    assert migrate.current_heads(database_url_18) == ("e6995e90df34",)  # planning changes nothing
    result = redo(project, embedded)

    assert result.database_heads == (PARENT,)
    assert result.trashed_file.parent.parent == example_project / ".revisor" / "trash"
    assert result.draft is not None and result.draft.path is not None
    assert result.draft.operations == [
        "op.add_column('transactions', sa.Column('category', sa.String(length=50), nullable=True))"
    ]
    assert result.review is not None and result.review.findings == []


def test_message_from_the_file_name_when_the_revision_has_no_docstring(
    cli: CliRunner, example_project: Path, database_url_18: DatabaseUrl
):
    head = _versions(example_project) / HEAD_FILE
    text = head.read_text()
    head.write_text(text[text.index('"""', 3) + 3 :])
    _upgrade(example_project, database_url_18, PARENT)
    result = _redo(cli, example_project, database_url_18, "--dry-run")
    assert result.exit_code == 0, result.output
    assert 'draft "add category to transactions" (from the file name)' in result.output


def test_other_branch_not_applied_yet_is_refused_for_a_draft(
    cli: CliRunner, example_project: Path, database_url_18: DatabaseUrl
):
    """Redoing one of two heads whose sibling the database lacks: undone, the database
    would be behind the history's only head, so a draft is refused (exit 5) before the
    downgrade; --no-draft is fine."""
    _other_head(example_project)
    _upgrade(example_project, database_url_18, HEAD)

    refused = _redo(cli, example_project, database_url_18, "--revision", HEAD)
    assert refused.exit_code == 5, refused.output
    assert f"Without {HEAD} the database is behind b0b0b0b0b0b0" in refused.output
    assert migrate.current_heads(database_url_18) == (HEAD,)
    assert (_versions(example_project) / HEAD_FILE).exists()

    upgraded = _run_printed(cli, refused.output, "revisor db upgrade b0b0b0b0b0b0")
    assert upgraded.exit_code == 0, upgraded.output
    assert set(migrate.current_heads(database_url_18)) == {HEAD, "b0b0b0b0b0b0"}
    done = _redo(cli, example_project, database_url_18, "--revision", HEAD)
    assert done.exit_code == 0, done.output
    # alembic's downgrade step removed only the redone revision's row
    assert migrate.current_heads(database_url_18) == ("b0b0b0b0b0b0",)
    [new] = _versions(example_project).glob("*_add_category_to_transactions.py")
    assert "down_revision: str | Sequence[str] | None = 'b0b0b0b0b0b0'" in new.read_text()


def test_engine_upgrades_the_embedded_dev_database_to_the_other_head_before_the_downgrade(
    example_project: Path, database_url_18: DatabaseUrl
):
    _other_head(example_project)
    project = Project.load(example_project / "alembic.ini")
    migrate.upgrade(project, database_url_18, HEAD)
    embedded = dataclasses.replace(database_url_18, source="embedded")

    plan = plan_redo(project, embedded, revision=HEAD, draft=True)
    assert (plan.upgrade_first, plan.database_action) == ("b0b0b0b0b0b0", DOWNGRADE)
    result = redo(project, embedded, revision=HEAD, review=False)

    assert result.database_heads == ("b0b0b0b0b0b0",)
    assert result.draft is not None and result.draft.path is not None
    assert result.review is None


def test_ctrl_c_while_drafting_says_where_the_old_file_is(
    example_project: Path, database_url_18: DatabaseUrl
):
    """SIGINT once the revision is undone and moved, while the draft imports the models:
    exit 130, and the output names the trashed file and how to restore it (the bare
    'interrupted' left the user with a deleted migration and no pointer)."""
    import signal
    import sys
    import time

    _upgrade(example_project, database_url_18)
    head_file = _versions(example_project) / HEAD_FILE
    marker = example_project / "drafting.marker"
    models = example_project / "app" / "models.py"
    models.write_text(
        models.read_text()
        + "\n\nimport pathlib as _p, time as _t\n"
        + f"if not _p.Path({str(head_file)!r}).exists():  # the draft's import, after the move\n"
        + f"    _p.Path({str(marker)!r}).touch()\n"
        + "    _t.sleep(60)\n"
    )
    argv = [sys.executable, "-m", "revisor", "redo", "-c", str(example_project / "alembic.ini")]
    argv += ["--url", _url(database_url_18)]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists(), proc.communicate()[0]
        proc.send_signal(signal.SIGINT)
        output = proc.communicate(timeout=30)[0]
    finally:
        proc.kill()

    assert proc.returncode == 130, output
    assert "Traceback" not in output, output
    [trashed] = _trashed(example_project)
    flat = output.replace("\n", "")
    assert f"The old revision was moved to {trashed}, but the new draft failed: interrupted" in flat
    assert f"mv {trashed} {head_file}" in flat
    assert migrate.current_heads(database_url_18) == (PARENT,)


def test_a_downgrade_that_does_not_undo_the_upgrade_is_refused(
    cli: CliRunner, example_project: Path, database_url_18: DatabaseUrl
):
    # Undoing f72272eba32a through a `pass` downgrade would leave the category column in
    # the database, and the new draft, made against that database, would never add it.
    path = _versions(example_project) / HEAD_FILE
    source = path.read_text()
    body = source[source.index("def downgrade") :]
    path.write_text(source.replace(body, "def downgrade() -> None:\n    pass\n"))
    _upgrade(example_project, database_url_18)
    models = example_project / "app" / "models.py"
    models.write_text(models.read_text().replace(CATEGORY_50, CATEGORY_80))

    result = _redo(cli, example_project, database_url_18)
    assert result.exit_code == 2, result.output
    assert f"The downgrade of {HEAD} does not undo its upgrade (RV120" in result.output
    assert "--force" in result.output
    assert path.exists() and not _trashed(example_project)  # nothing changed
    assert migrate.current_heads(database_url_18) == (HEAD,)
    checks = _run_printed(cli, result.output, "revisor test --last 1")  # as the hint says
    assert checks.exit_code == 1 and "RT1" in checks.output, checks.output

    forced = _redo(cli, example_project, database_url_18, "--force", "--no-draft")
    assert forced.exit_code == 0, forced.output
    assert not path.exists()
