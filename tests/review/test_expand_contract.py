"""The expand/contract rules (RV401-RV404) through the real CLI, in real git repositories:
the reference app committed, then a model change and a migration on top. The models of
the running release come from the commit (git archive + a subprocess), never from the
work tree."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from revisor.cli import app
from revisor.review import review_files
from tests.review.support import base_models_of

MODELS = "app/models.py"
DESCRIPTION = "    description: Mapped[str | None] = mapped_column(sa.String(255))\n"
HEAD_REVISION = "f72272eba32a"
NEW = "migrations/versions/aa11bb22cc33_change_transactions.py"


def _git(project: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        cwd=project,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout


def _commit(project: Path, message: str) -> None:
    _git(project, "add", "-A")
    _git(project, "commit", "-qm", message)


@pytest.fixture
def repository(example_project: Path) -> Path:
    """The reference app as the only commit of branch main."""
    _git(example_project, "init", "-q", "-b", "main")
    _commit(example_project, "release 1")
    return example_project


def _migration(project: Path, body: str, downgrade: str = "    pass\n") -> Path:
    """A revision on top of the history whose upgrade is `body` (lines of 4-space code)."""
    path = project / NEW
    path.write_text(
        '"""change transactions"""\nfrom alembic import op\nimport sqlalchemy as sa\n\n'
        f'revision = "aa11bb22cc33"\ndown_revision = "{HEAD_REVISION}"\n\n\n'
        f"def upgrade():\n{body}\n\ndef downgrade():\n{downgrade}"
    )
    return path


def _edit_models(project: Path, old: str, new: str) -> None:
    models = project / MODELS
    text = models.read_text()
    assert old in text
    models.write_text(text.replace(old, new))


def _review(cli: CliRunner, project: Path, *args: str) -> tuple[int, list[tuple[str, int]], str]:
    """(exit code, [(code, line)] of the new file's findings, stderr)."""
    result = cli.invoke(
        app, ["review", "-c", str(project / "alembic.ini"), str(project / NEW), "-f", "json", *args]
    )
    found = json.loads(result.stdout)["findings"]
    return result.exit_code, [(f["code"], f["line"]) for f in found], result.stderr


DROP = '    op.drop_column("transactions", "description")\n'
ADD_BACK = '    op.add_column("transactions", sa.Column("description", sa.String(255)))\n'


def test_dropping_a_column_the_running_release_maps_is_flagged_at_the_drop_line(
    cli: CliRunner, repository: Path
) -> None:
    _edit_models(repository, DESCRIPTION, "")
    _migration(repository, DROP, ADD_BACK)
    code, found, _ = _review(cli, repository)
    assert (code, found) == (1, [("RV401", 10)])
    # committing the change with the model edit does not make it safe: the release
    # before that commit still maps the column
    _commit(repository, "drop description")
    code, found, _ = _review(cli, repository)
    assert (code, found) == (1, [("RV401", 10)])


def test_after_a_release_that_stops_mapping_the_column_the_drop_is_clean(
    cli: CliRunner, repository: Path
) -> None:
    _edit_models(repository, DESCRIPTION, "")
    _commit(repository, "release 2: stop mapping transactions.description")
    _migration(repository, DROP, ADD_BACK)
    code, found, _ = _review(cli, repository)
    assert (code, found) == (0, [])
    _commit(repository, "drop description")
    assert _review(cli, repository)[:2] == (0, [])


def test_a_feature_branch_is_compared_with_its_merge_base(cli: CliRunner, repository: Path) -> None:
    """Two commits on a branch deploy together once merged: the release that runs is the
    default branch's, which still maps the column."""
    _git(repository, "checkout", "-qb", "feature")
    _edit_models(repository, DESCRIPTION, "")
    _commit(repository, "stop mapping description")
    _migration(repository, DROP, ADD_BACK)
    _commit(repository, "drop description")
    assert _review(cli, repository)[:2] == (1, [("RV401", 10)])
    # --since names the base explicitly: the branch's first commit is then deployed
    assert _review(cli, repository, "--since", "HEAD~1")[:2] == (0, [])


def test_batch_drop_and_drop_table(cli: CliRunner, repository: Path) -> None:
    _edit_models(repository, DESCRIPTION, "")
    _migration(
        repository,
        '    with op.batch_alter_table("transactions") as batch_op:\n'
        '        batch_op.drop_column("description")\n'
        '    op.drop_table("subscriptions")\n',
    )
    assert _review(cli, repository, "--select", "RV4")[:2] == (1, [("RV401", 11), ("RV401", 12)])


def test_ignore_comment_and_setting_for_teams_that_stop_traffic(
    cli: CliRunner, repository: Path
) -> None:
    _edit_models(repository, DESCRIPTION, "")
    path = _migration(repository, DROP, ADD_BACK)
    assert _review(cli, repository)[:2] == (1, [("RV401", 10)])
    text = path.read_text()
    path.write_text(
        text.replace(DROP, DROP.rstrip("\n") + "  # revisor: ignore[RV401] -- maintenance\n")
    )
    assert _review(cli, repository)[:2] == (0, [])  # and no RV001: the comment is used
    path.write_text(text)
    pyproject = repository / "pyproject.toml"
    pyproject.write_text("[tool.revisor]\ndeploy-stops-traffic = true\n")
    assert _review(cli, repository)[:2] == (0, [])
    pyproject.write_text('[tool.revisor]\ndeploy-stops-traffic = "yes"\n')
    result = cli.invoke(app, ["review", "-c", str(repository / "alembic.ini")])
    assert result.exit_code == 2
    assert "deploy-stops-traffic" in result.stderr and "Traceback" not in result.output


def test_rename_of_a_mapped_column_and_table(cli: CliRunner, repository: Path) -> None:
    _edit_models(repository, DESCRIPTION, DESCRIPTION.replace("description", "memo"))
    _migration(
        repository,
        '    op.alter_column("transactions", "description", new_column_name="memo")\n'
        '    op.rename_table("vendors", "suppliers")\n',
    )
    code, found, _ = _review(cli, repository, "--select", "RV4")
    assert (code, found) == (1, [("RV402", 10), ("RV402", 11)])


def test_not_null_column_the_running_release_does_not_know(
    cli: CliRunner, repository: Path
) -> None:
    _migration(
        repository,
        '    op.add_column("transactions", sa.Column("currency", sa.String(3), nullable=False))\n'
        '    op.add_column("transactions", sa.Column("country", sa.String(2), nullable=True))\n'
        '    op.alter_column("transactions", "country", nullable=False)\n'
        '    op.add_column("transactions", sa.Column("note", sa.Text(), nullable=True))\n'
        '    op.alter_column("transactions", "note", nullable=False, server_default="")\n'
        '    op.add_column("transactions", sa.Column("cents", sa.Integer(), nullable=False,'
        ' server_default="0"))\n'
        # a column the running release already maps: its code writes it (expand/contract)
        '    op.alter_column("transactions", "description", nullable=False)\n',
    )
    code, found, _ = _review(cli, repository, "--select", "RV4")
    assert (code, found) == (1, [("RV403", 10), ("RV403", 12)])


def test_type_change_the_running_release_cannot_write(cli: CliRunner, repository: Path) -> None:
    _migration(
        repository,
        '    op.alter_column("transactions", "description", type_=sa.String(50),'
        " existing_type=sa.String(255))\n"
        '    op.alter_column("transactions", "category", type_=sa.Text(),'
        " existing_type=sa.String(50))\n"
        '    op.alter_column("vendors", "id", type_=sa.BigInteger(), existing_type=sa.Integer())\n'
        '    op.execute("ALTER TABLE transactions ALTER COLUMN amount TYPE text")\n',
    )
    code, found, _ = _review(cli, repository, "--select", "RV4")
    assert (code, found) == (1, [("RV404", 10), ("RV404", 13)])


def test_outside_git_the_rules_are_silent_with_one_note(
    cli: CliRunner, example_project: Path
) -> None:
    _edit_models(example_project, DESCRIPTION, "")
    _migration(example_project, DROP + DROP.replace("description", "category"))
    code, found, stderr = _review(cli, example_project, "--select", "RV4")
    assert (code, found) == (0, [])
    assert stderr.count("expand/contract checks (RV4xx) skipped") == 1, stderr


def test_models_that_fail_to_import_at_the_base_leave_one_note(
    cli: CliRunner, repository: Path
) -> None:
    models = repository / MODELS
    good = models.read_text()
    models.write_text(good + '\nraise RuntimeError("half-finished refactoring")\n')
    _commit(repository, "broken release")
    models.write_text(good.replace(DESCRIPTION, ""))
    _migration(repository, DROP, ADD_BACK)
    code, found, stderr = _review(cli, repository)
    assert (code, found) == (0, [])
    assert stderr.count("note:") == 1
    assert "importing the models at" in stderr and "half-finished refactoring" in stderr


def test_the_work_tree_and_index_are_left_alone(cli: CliRunner, repository: Path) -> None:
    _edit_models(repository, DESCRIPTION, "")
    _git(repository, "add", MODELS)  # staged, not committed
    _migration(repository, DROP, ADD_BACK)
    before = _git(repository, "status", "--porcelain", "--untracked-files=all")
    stash = _git(repository, "stash", "list")
    assert _review(cli, repository)[:2] == (1, [("RV401", 10)])
    assert _git(repository, "status", "--porcelain", "--untracked-files=all") == before
    assert _git(repository, "stash", "list") == stash
    assert not (repository / ".revisor").exists()


def test_models_that_connect_at_import_are_refused_and_no_password_is_printed(
    cli: CliRunner, repository: Path
) -> None:
    models = repository / MODELS
    good = models.read_text()
    models.write_text(
        good + '\nsa.create_engine("postgresql+psycopg://app:s3cret@127.0.0.1:1/x").connect()\n'
    )
    _commit(repository, "a release that connects while importing")
    models.write_text(good.replace(DESCRIPTION, ""))
    _migration(repository, DROP, ADD_BACK)
    code, found, stderr = _review(cli, repository)
    assert (code, found) == (0, [])
    assert "tried to connect to a database" in stderr and "s3cret" not in stderr


def test_the_description_is_cached_by_commit(cli: CliRunner, repository: Path) -> None:
    import os

    head = _git(repository, "rev-parse", "HEAD").strip()
    cached = Path(os.environ["REVISOR_CACHE_DIR"]) / "base-models"
    _edit_models(repository, DESCRIPTION, "")
    _migration(repository, DROP, ADD_BACK)
    assert _review(cli, repository)[:2] == (1, [("RV401", 10)])
    (entry,) = cached.glob(f"{head}-*.json")
    # the next review reads the cache: a description without the column says "clean"
    data = json.loads(entry.read_text())
    for table in data["tables"]:
        table["columns"] = [c for c in table["columns"] if c["name"] != "description"]
    entry.write_text(json.dumps(data))
    assert _review(cli, repository)[:2] == (0, [])


SQL_MIGRATION = """from alembic import op
import sqlalchemy as sa

revision = "r1"
down_revision = None


def upgrade():
    op.execute("ALTER TABLE vendors DROP COLUMN description")
    op.execute("ALTER TABLE vendors RENAME COLUMN code TO ref")
    op.execute("ALTER TABLE vendors ADD COLUMN country text NOT NULL")
    op.execute("ALTER TABLE vendors ADD COLUMN region text")
    op.execute("ALTER TABLE vendors ALTER COLUMN region SET NOT NULL")
    op.execute("ALTER TABLE vendors ALTER COLUMN code TYPE varchar(10)")
    op.execute("ALTER TABLE vendors RENAME TO suppliers")
    op.execute("DROP TABLE old_things")
    op.execute("ALTER TABLE vendors ADD COLUMN ok text NOT NULL DEFAULT 'x'")
    op.execute("ALTER TABLE vendors ALTER COLUMN code TYPE text")
    op.drop_column("vendors", "description", schema="billing")


def downgrade():
    pass
"""


def test_the_same_statements_in_sql_and_other_schemas(tmp_path: Path) -> None:
    """Raw SQL is held to the same rules (no git here: the running release's models are
    given); a table of the same name in another schema is another table."""
    import sqlalchemy as sa

    metadata = sa.MetaData()
    sa.Table(
        "vendors",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("description", sa.Text),
        sa.Column("code", sa.String(100)),
        schema="public",
    )
    sa.Table("old_things", metadata, sa.Column("id", sa.Integer, primary_key=True))
    path = tmp_path / "r1.py"
    path.write_text(SQL_MIGRATION)
    codes = {"RV401", "RV402", "RV403", "RV404"}
    found = review_files([path], codes=codes, base_models=base_models_of((metadata,)))
    assert [(f.code, f.line) for f in found] == [
        ("RV401", 9),
        ("RV402", 10),
        ("RV403", 11),
        ("RV403", 13),
        ("RV404", 14),
        ("RV402", 15),
        ("RV401", 16),
    ]


def test_ci_clones_compare_with_the_parent_of_head_when_they_hold_it(
    cli: CliRunner, repository: Path, tmp_path: Path
) -> None:
    """CI on the default branch after a push: HEAD added the migration, so HEAD's parent is
    the running release; a clone too shallow to hold it says so and stays silent."""
    _edit_models(repository, DESCRIPTION, "")
    _migration(repository, DROP, ADD_BACK)
    _commit(repository, "drop description")
    for depth, expected in ((2, (1, [("RV401", 10)])), (1, (0, []))):
        clone = tmp_path / f"depth{depth}"
        _git(tmp_path, "clone", "-q", "--depth", str(depth), repository.as_uri(), str(clone))
        code, found, stderr = _review(cli, clone, "--select", "RV4")
        assert (code, found) == expected, stderr
        assert ("shallow clone" in stderr) == (depth == 1), stderr


@pytest.mark.parametrize(
    ("model_type", "new", "keeps"),
    [
        ("sa.String(100)", "varchar(200)", True),
        ("sa.String(100)", "text", True),
        ("sa.String(100)", "varchar(20)", False),
        ("sa.Text()", "varchar(20)", False),
        ("sa.Integer()", "bigint", True),
        ("sa.Integer()", "text", False),
        ("sa.BigInteger()", "integer", False),
        ("sa.Numeric(12, 2)", "numeric(14,2)", True),
        ("sa.Numeric(12, 2)", "numeric(12,4)", False),
        ("sa.DateTime()", "timestamptz", False),
        ("sa.DateTime(timezone=True)", "timestamptz", True),
        ("sa.Double()", "double precision", True),
        ("sa.Enum('a', 'b', name='ab')", "text", True),
        ("sa.ARRAY(sa.Text())", "text", None),  # unknown: no finding rather than a guess
    ],
)
def test_types_as_the_running_release_compiles_them(model_type: str, new: str, keeps) -> None:
    """The release's column types are compiled by SQLAlchemy for PostgreSQL in the
    subprocess; review/types.py reads them in the spelling of a migration's types."""
    import sqlalchemy as sa

    from revisor.base_models.describe import describe
    from revisor.review.types import keeps_values

    metadata = sa.MetaData()
    sa.Table("t", metadata, sa.Column("c", eval(model_type, {"sa": sa})))
    (table,) = describe((metadata,))
    assert keeps_values(table["columns"][0]["type"], new) is keeps


def test_settings_read_from_an_untracked_dotenv_reach_the_running_release(
    cli: CliRunner, repository: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """fastapi-boilerplate's shape: the models import settings that fail without the
    git-ignored .env of the folder the commands run in. The commit's tree lacks it."""
    (repository / ".gitignore").write_text(".env\n")
    (repository / ".env").write_text("APP_SECRET=not-in-git\n")
    reads_settings = (
        "from pathlib import Path as _Path\n"
        "if 'APP_SECRET=' not in (_Path('.env').read_text() if _Path('.env').is_file() else ''):\n"
        "    raise KeyError(\"Config 'APP_SECRET' is missing, and has no default.\")\n"
    )
    models = repository / MODELS
    models.write_text(reads_settings + models.read_text())
    _commit(repository, "release 2: settings from .env")
    assert ".env" not in _git(repository, "ls-files").split()
    monkeypatch.chdir(repository)
    _edit_models(repository, DESCRIPTION, "")
    _migration(repository, DROP, ADD_BACK)
    code, found, stderr = _review(cli, repository)
    assert "APP_SECRET" not in stderr, stderr
    assert (code, found) == (1, [("RV401", 10)])
