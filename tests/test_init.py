"""`revisor init` on stock Alembic projects (`alembic init` of the installed alembic), through
the real CLI; autogenerate runs as users run it, `alembic` in a subprocess, on a real
PostgreSQL."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from revisor.cli import app
from revisor.db.url import DatabaseUrl
from tests.support.env_shapes import alembic_init

MODELS = """\
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Vendor(Base):
    __tablename__ = "vendors"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    note: Mapped[str | None] = mapped_column(sa.Text)
"""

# Autogenerate's own output for the models above, without a naming convention: the
# unique constraint has no name (RV101, and RV102 on the models).
REVISION = '''\
"""vendors"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade():
    op.create_table(
        "vendors",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(20), nullable=False),
        sa.Column("note", sa.Text, nullable=True),
    )
    op.create_unique_constraint(None, "vendors", ["code"])


def downgrade():
    op.drop_constraint(None, "vendors", type_="unique")
    op.drop_table("vendors")
'''

# The model change autogenerate drafts after init: a table with a foreign key and a
# unique constraint (named by the convention), and a dropped column (left out by the hook).
CHANGED_MODELS = MODELS.replace("    note: Mapped[str | None] = mapped_column(sa.Text)\n", "") + (
    """

class Transaction(Base):
    __tablename__ = "transactions"
    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(sa.ForeignKey("vendors.id"))
    reference: Mapped[str] = mapped_column(sa.String(40), unique=True)
"""
)


def stock_project(
    root: Path, url: str | None, template: str = "generic", models: str = MODELS
) -> Path:
    """`alembic init -t TEMPLATE migrations`, then what every user does next: the
    database URL (None: the template's placeholder stays), env.py's target_metadata, the
    models and a first revision."""
    env_py = alembic_init(root, template)
    ini = root / "alembic.ini"
    text = ini.read_text()
    stock_url = next(line for line in text.splitlines() if line.startswith("sqlalchemy.url"))
    if url is not None:
        ini.write_text(text.replace(stock_url, "sqlalchemy.url = " + url.replace("%", "%%")))
    env = env_py.read_text()
    assert "target_metadata = None\n" in env
    env_py.write_text(
        env.replace(
            "target_metadata = None\n",
            "from app.models import Base\n\ntarget_metadata = Base.metadata\n",
        )
    )
    (root / "app").mkdir()
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "models.py").write_text(models)
    (root / "migrations" / "versions" / "0001_vendors.py").write_text(REVISION)
    return root


def files_of(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def revisor(cli: CliRunner, root: Path, *args: str):
    return cli.invoke(app, [*args, "-c", str(root / "alembic.ini")])


def alembic(
    root: Path, *args: str, without_revisor: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """The user's `alembic ...` in the project folder (this interpreter's alembic); with
    `without_revisor` (a scratch folder) as where revisor is not installed."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    if without_revisor is not None:
        blocker = without_revisor / "revisor"
        blocker.mkdir(parents=True, exist_ok=True)
        (blocker / "__init__.py").write_text("raise ImportError('no revisor here')\n")
        env["PYTHONPATH"] = str(without_revisor)
    return subprocess.run(
        [sys.executable, "-m", "alembic", *args],
        cwd=root,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.fixture
def project(tmp_path: Path, database_url_18: DatabaseUrl) -> Path:
    return stock_project(tmp_path / "shop", database_url_18.sqlalchemy_url)


def test_dry_run_prints_each_change_as_a_diff_and_writes_nothing(cli: CliRunner, project: Path):
    before = files_of(project)
    result = revisor(cli, project, "init")
    assert result.exit_code == 0, result.output
    assert files_of(project) == before
    out = result.output
    assert "--- a/app/models.py\n+++ b/app/models.py\n" in out
    assert "-    pass\n+    metadata = sa.MetaData(\n+        naming_convention={\n" in out
    assert '+            "fk": "fk_%(table_name)s_%(column_0_N_name)s",\n' in out
    assert (
        "+try:\n+    from revisor.alembic import process_revision_directives\n"
        "+except ImportError:  # revisor is not installed where this runs (a deploy image)\n"
        "+    process_revision_directives = None\n"
    ) in out
    assert out.count("+        process_revision_directives=process_revision_directives,") == 1
    assert out.count("+            process_revision_directives=process_revision_directives,") == 1
    assert "--- /dev/null\n+++ b/pyproject.toml\n" in out
    assert '+metadata = "app.models:Base.metadata"\n' in out
    assert "+.revisor/\n" in out
    assert "+++ b/.github/workflows/revisor.yml" in out
    assert "+      - run: revisor test --last 5 --format github\n" in out
    assert "+      - id: revisor-review\n" in out
    assert "6 file(s) to change: run `revisor init --write" in out

    # the command it prints works as printed
    (command,) = re.findall(r"run `(revisor init [^`]*)`", out)
    argv = shlex.split(command)
    assert argv[:3] == ["revisor", "init", "--write"]
    written = cli.invoke(app, argv[1:])
    assert written.exit_code == 0, written.output
    assert "metadata = sa.MetaData(" in (project / "app" / "models.py").read_text()


def test_write_adds_the_convention_and_hook_and_a_second_run_changes_nothing(
    cli: CliRunner, project: Path
):
    reviewed = revisor(cli, project, "review")
    assert "RV102" in reviewed.output

    written = revisor(cli, project, "init", "--write")
    assert written.exit_code == 0, written.output
    assert "changed app/models.py" in written.output
    assert "changed migrations/env.py" in written.output
    # the history's unnamed constraint: named by review --fix in files, not in databases
    assert "0001 (0001_vendors.py)" in written.output
    assert "`revisor doctor --url URL -c " in written.output

    reviewed = revisor(cli, project, "review")
    assert "RV102" not in reviewed.output
    assert "RV101" in reviewed.output  # the history's own unnamed constraint stays reported

    after = files_of(project)
    again = revisor(cli, project, "init", "--write")
    assert again.exit_code == 0, again.output
    assert "Nothing to change." in again.output
    assert files_of(project) == after
    dry = revisor(cli, project, "init")
    assert "Nothing to change." in dry.output and "---" not in dry.output


def test_plain_alembic_autogenerate_runs_the_hook_after_init(cli: CliRunner, project: Path):
    assert revisor(cli, project, "init", "--write").exit_code == 0
    # the history's file as review --fix names it, so the database matches the convention
    fixed = revisor(cli, project, "review", "--fix")
    assert "uq_vendors_code" in (project / "migrations/versions/0001_vendors.py").read_text()
    assert fixed.exit_code == 0, fixed.output
    upgraded = alembic(project, "upgrade", "head")
    assert upgraded.returncode == 0, upgraded.stderr

    (project / "app" / "models.py").write_text(CHANGED_MODELS)
    drafted = alembic(project, "revision", "--autogenerate", "-m", "transactions")
    assert drafted.returncode == 0, drafted.stderr
    (path,) = (project / "migrations" / "versions").glob("*_transactions.py")
    text = path.read_text()
    assert "name='fk_transactions_vendor_id'" in text
    assert "name='uq_transactions_reference'" in text
    assert "sa.UniqueConstraint('reference')," not in text
    # revisor's rewrite ran: the unrequested drop is left out, and alembic's output says so
    assert "drop_column" not in text
    assert "revisor: left out drop of column vendors.note" in drafted.stdout + drafted.stderr

    applied = alembic(project, "upgrade", "head")
    assert applied.returncode == 0, applied.stderr
    rolled_back = alembic(project, "downgrade", "-1")
    assert rolled_back.returncode == 0, rolled_back.stderr


@pytest.mark.parametrize("template", ["async", "pyproject", "pyproject_async"])
def test_other_stock_templates(
    cli: CliRunner, tmp_path: Path, database_url_18: DatabaseUrl, template: str
):
    import alembic

    if not (Path(alembic.__file__).parent / "templates" / template).is_dir():
        pytest.skip(f"alembic {alembic.__version__} has no {template} template")  # 1.16.1
    url = database_url_18.sqlalchemy_url
    if "async" in template:
        url = url.replace("psycopg", "asyncpg")
    root = stock_project(tmp_path / "shop", url, template)
    result = revisor(cli, root, "init", "--write")
    assert result.exit_code == 0, result.output
    env = (root / "migrations" / "env.py").read_text()
    assert env.count("process_revision_directives=process_revision_directives") == 2
    assert "RV102" not in revisor(cli, root, "review").output
    if template.startswith("pyproject"):  # [tool.alembic] stays, [tool.revisor] follows it
        pyproject = (root / "pyproject.toml").read_text()
        assert pyproject.index("[tool.alembic]") < pyproject.index("[tool.revisor]")
    after = files_of(root)
    assert "Nothing to change." in revisor(cli, root, "init", "--write").output
    assert files_of(root) == after


def test_the_templates_placeholder_url_needs_no_database(cli: CliRunner, tmp_path: Path):
    root = stock_project(tmp_path / "fresh", None)
    assert "sqlalchemy.url = driver://user:pass@localhost/dbname" in (
        (root / "alembic.ini").read_text()
    )
    result = revisor(cli, root, "init", "--write")
    assert result.exit_code == 0, result.output
    assert "changed app/models.py" in result.output
    assert "RV102" not in revisor(cli, root, "review").output


def test_docs_show_the_convention_init_writes():
    from revisor.naming import SEED_CONVENTION

    docs = (Path(__file__).resolve().parents[1] / "docs" / "init.md").read_text()
    for key, template in SEED_CONVENTION.items():
        assert f'"{key}": "{template}",' in docs


def test_env_py_still_runs_where_revisor_is_not_installed(
    cli: CliRunner, project: Path, tmp_path: Path
):
    assert revisor(cli, project, "init", "--write").exit_code == 0
    assert revisor(cli, project, "review", "--fix").exit_code == 0
    blocked = tmp_path / "no_revisor"
    upgraded = alembic(project, "upgrade", "head", without_revisor=blocked)
    assert upgraded.returncode == 0, upgraded.stderr
    (project / "app" / "models.py").write_text(CHANGED_MODELS)
    drafted = alembic(project, "revision", "--autogenerate", "-m", "plain", without_revisor=blocked)
    assert drafted.returncode == 0, drafted.stderr
    (path,) = (project / "migrations" / "versions").glob("*_plain.py")
    assert "op.drop_column('vendors', 'note')" in path.read_text()  # alembic alone
    # the blocker does hide revisor from that interpreter
    probe = subprocess.run(
        [sys.executable, "-c", "import revisor"],
        env={**os.environ, "PYTHONPATH": str(blocked)},
        capture_output=True,
        text=True,
    )
    assert "no revisor here" in probe.stderr


def test_a_hook_of_the_users_is_chained(cli: CliRunner, project: Path):
    env_py = project / "migrations" / "env.py"
    own = (
        "\n\ndef tag_message(context, revision, directives):\n"
        "    directives[0].message = 'tagged ' + (directives[0].message or '')\n"
    )
    text = env_py.read_text().replace(
        "\ndef run_migrations_offline", own + "\ndef run_migrations_offline"
    )
    text = text.replace(
        "connection=connection, target_metadata=target_metadata\n",
        "connection=connection, target_metadata=target_metadata,\n"
        "            process_revision_directives=tag_message,\n",
    )
    env_py.write_text(text)
    assert revisor(cli, project, "init", "--write").exit_code == 0
    written = env_py.read_text()
    assert "process_revision_directives=chain(tag_message)," in written
    assert "    from revisor.alembic import chain, process_revision_directives\n" in written
    assert "    def chain(hook):\n        return hook\n" in written
    assert alembic(project, "upgrade", "head").returncode == 0
    drafted = alembic(project, "revision", "--autogenerate", "-m", "x")
    assert drafted.returncode == 0, drafted.stderr
    (path,) = (project / "migrations" / "versions").glob("*_tagged_x.py")
    assert "drop_column" not in path.read_text()  # revisor's rewrite ran after the user's


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        pytest.param(
            "from sqlalchemy.orm import declarative_base\n\nBase = declarative_base()\n",
            "Base = declarative_base(\n    metadata=sa.MetaData(\n        naming_convention={\n",
            id="declarative_base",
        ),
        pytest.param(
            "from sqlalchemy.orm import declarative_base\n\n"
            "metadata = sa.MetaData(schema=None)\nBase = declarative_base(metadata=metadata)\n",
            "metadata = sa.MetaData(\n    schema=None,\n    naming_convention={\n",
            id="module-metadata",
        ),
        pytest.param(
            "from flask_sqlalchemy import SQLAlchemy\n\ndb = SQLAlchemy()\nBase = db.Model\n",
            "db = SQLAlchemy(\n    metadata=sa.MetaData(\n        naming_convention={\n",
            id="flask-sqlalchemy",
        ),
        pytest.param(
            'class Base(DeclarativeBase):\n    """The models\' base."""\n\n'
            "    type_annotation_map = {}\n",
            '    """The models\' base."""\n\n    metadata = sa.MetaData(\n',
            id="class-with-docstring",
        ),
    ],
)
def test_model_base_shapes(
    cli: CliRunner, tmp_path: Path, database_url_18: DatabaseUrl, base: str, expected: str
):
    header, _, models = MODELS.partition("class Base(DeclarativeBase):\n    pass\n")
    source = header + base + models
    root = stock_project(tmp_path / "shapes", database_url_18.sqlalchemy_url, models=source)
    assert "RV102" in revisor(cli, root, "review").output
    result = revisor(cli, root, "init", "--write")
    assert result.exit_code == 0, result.output
    written = (root / "app" / "models.py").read_text()
    assert expected in written, written
    assert "RV102" not in revisor(cli, root, "review").output
    after = files_of(root)
    assert "Nothing to change." in revisor(cli, root, "init", "--write").output
    assert files_of(root) == after


def test_gitlab_and_an_existing_pre_commit_config(cli: CliRunner, project: Path):
    import yaml

    (project / ".pre-commit-config.yaml").write_text(
        "repos:\n- repo: https://github.com/astral-sh/ruff-pre-commit\n  rev: v0.6.0\n"
        "  hooks:\n  - id: ruff\n"
    )
    (project / "pyproject.toml").write_text(
        '[project]\nname = "shop"\n\n[tool.ruff]\nline-length = 100\n'
    )
    result = revisor(cli, project, "init", "--write", "--ci", "gitlab")
    assert result.exit_code == 0, result.output
    job = yaml.safe_load((project / ".gitlab-ci.yml").read_text())["revisor"]
    assert job["script"][-2:] == ["revisor check", "revisor test --last 5"]
    assert not (project / ".github").exists()
    hooks = yaml.safe_load((project / ".pre-commit-config.yaml").read_text())["repos"]
    assert [h["id"] for h in hooks[1]["hooks"]] == ["revisor-review", "revisor-check"]
    pyproject = (project / "pyproject.toml").read_text()
    assert pyproject.startswith('[project]\nname = "shop"\n\n[tool.ruff]\nline-length = 100\n')
    assert "[tool.revisor]\n" in pyproject
    assert "Nothing to change." in revisor(cli, project, "init", "--ci", "gitlab").output


def test_no_alembic_project_is_one_message(cli: CliRunner, tmp_path: Path):
    result = cli.invoke(app, ["init", "-c", str(tmp_path / "alembic.ini")])
    assert result.exit_code == 2
    assert "Alembic config file not found" in result.output
    assert "Traceback" not in result.output


def test_unparsable_env_py_changes_nothing(cli: CliRunner, project: Path):
    env_py = project / "migrations" / "env.py"
    env_py.write_text(env_py.read_text() + "\ndef broken(:\n")
    before = files_of(project)
    result = revisor(cli, project, "init", "--write")
    assert result.exit_code == 2, result.output
    assert "env.py cannot be parsed (line" in result.output
    assert "Traceback" not in result.output
    assert files_of(project) == before


def test_unknown_ci_is_a_usage_error(cli: CliRunner, project: Path):
    result = revisor(cli, project, "init", "--ci", "jenkins")
    assert result.exit_code == 2
    assert "Unknown --ci 'jenkins'" in result.output


FLASK_APP = """\
import sqlalchemy as sa
from flask import Flask
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()
migrate = Migrate()


class Vendor(db.Model):
    __tablename__ = "vendors"
    id = db.Column(db.Integer, primary_key=True)
    code = db.Column(db.String(20), nullable=False, unique=True)
    note = db.Column(db.Text, nullable=True)


def create_app():
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = {url!r}
    db.init_app(app)
    migrate.init_app(app, db)
    return app
"""


def test_flask_migrate(
    cli: CliRunner, tmp_path: Path, database_url_18: DatabaseUrl, monkeypatch: pytest.MonkeyPatch
):
    from tests.support.env_shapes import flask_migrate_init

    root = tmp_path / "blog"
    root.mkdir()
    env_py = flask_migrate_init(root)
    (root / "app.py").write_text(FLASK_APP.format(url=database_url_18.sqlalchemy_url))
    (root / "migrations" / "versions" / "0001_vendors.py").write_text(REVISION)
    monkeypatch.chdir(root)
    assert "RV102" in cli.invoke(app, ["review"]).output

    result = cli.invoke(app, ["init", "--write"])
    assert result.exit_code == 0, result.output
    assert "db = SQLAlchemy(\n    metadata=sa.MetaData(\n" in (root / "app.py").read_text()
    env = env_py.read_text()
    assert 'conf_args["process_revision_directives"] = chain(process_revision_directives)' in env
    assert "process_revision_directives=process_revision_directives," in env  # offline
    assert "RV102" not in cli.invoke(app, ["review"]).output
    after = files_of(root)
    assert "Nothing to change." in cli.invoke(app, ["init", "--write"]).output
    assert files_of(root) == after

    def flask(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "flask", "--app", "app", "db", *args],
            cwd=root,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
            timeout=120,
        )

    assert cli.invoke(app, ["review", "--fix"]).exit_code == 0
    upgraded = flask("upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    (root / "app.py").write_text(
        (root / "app.py").read_text().replace("    note = ", "    # note = ")
    )
    drafted = flask("migrate", "-m", "drop note")
    assert drafted.returncode == 0, drafted.stderr
    assert "revisor: left out drop of column vendors.note" in drafted.stdout + drafted.stderr


def test_a_project_below_the_top_of_a_git_work_tree(
    cli: CliRunner, tmp_path: Path, database_url_18: DatabaseUrl, monkeypatch: pytest.MonkeyPatch
):
    import yaml

    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "master", str(repo)], check=True)
    (repo / ".gitignore").write_text("__pycache__/\n.revisor/\n")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "-C", str(repo), "add", "."], check=True)
    subprocess.run([*git, "-C", str(repo), "commit", "-qm", "start"], check=True)
    root = stock_project(repo / "backend", database_url_18.sqlalchemy_url)
    dry = revisor(cli, root, "init")
    # files above the project's folder: relative to it, never a/ glued to an absolute path
    assert "--- /dev/null\n+++ b/../.github/workflows/revisor.yml\n" in dry.output, dry.output
    assert "+++ b/../.pre-commit-config.yaml\n" in dry.output, dry.output
    assert "b//" not in dry.output
    result = revisor(cli, root, "init", "--write")
    assert result.exit_code == 0, result.output
    assert not (root / ".gitignore").exists()  # the work tree's .gitignore covers it
    workflow = yaml.safe_load((repo / ".github" / "workflows" / "revisor.yml").read_text())
    assert workflow[True]["push"]["branches"] == ["master"]  # YAML 1.1 reads `on` as True
    job = workflow["jobs"]["migrations"]
    assert job["defaults"]["run"]["working-directory"] == "backend"
    assert [s["run"] for s in job["steps"] if "run" in s][1:] == [
        "revisor check --format github",
        "revisor test --last 5 --format github",
    ]
    (entry,) = yaml.safe_load((repo / ".pre-commit-config.yaml").read_text())["repos"]
    assert entry["repo"] == "https://github.com/revisor-dev/revisor"
    assert [(h["id"], h["args"]) for h in entry["hooks"]] == [
        ("revisor-review", ["-c", "backend/alembic.ini"]),
        ("revisor-check", ["-c", "backend/alembic.ini"]),
    ]
    # what the hooks will run, from the top of the work tree, finds the project
    monkeypatch.chdir(repo)
    reviewed = cli.invoke(app, ["review", "-c", "backend/alembic.ini"])
    assert "0001_vendors.py" in reviewed.output and "RV102" not in reviewed.output
    after = files_of(repo)
    assert "Nothing to change." in revisor(cli, root, "init", "--write").output
    assert files_of(repo) == after


def comments_of(source: str) -> list[str]:
    import io
    import tokenize

    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    return [t.string for t in tokens if t.type == tokenize.COMMENT]


def test_every_comment_stays(cli: CliRunner, project: Path):
    env_py = project / "migrations" / "env.py"
    text = env_py.read_text().replace(
        "connection=connection, target_metadata=target_metadata\n",
        "connection=connection, target_metadata=target_metadata  # the models\n",
    )
    env_py.write_text(text)
    models = project / "app" / "models.py"
    models.write_text(models.read_text().replace("    pass\n", "    pass  # filled in later\n"))
    before = {path: comments_of(path.read_text()) for path in (env_py, models)}
    assert "# the models" in before[env_py]
    assert revisor(cli, project, "init", "--write").exit_code == 0
    for path, comments in before.items():
        after = comments_of(path.read_text())
        assert [c for c in after if c in comments] == comments, path


def test_revisor_draft_after_init_rewrites_once(
    cli: CliRunner, project: Path, database_url_18: DatabaseUrl
):
    assert revisor(cli, project, "init", "--write").exit_code == 0
    assert revisor(cli, project, "review", "--fix").exit_code == 0
    assert alembic(project, "upgrade", "head").returncode == 0
    (project / "app" / "models.py").write_text(CHANGED_MODELS)
    url = database_url_18.sqlalchemy_url
    drafted = revisor(cli, project, "draft", "-m", "transactions", "--url", url)
    assert drafted.exit_code == 0, drafted.output
    (path,) = (project / "migrations" / "versions").glob("*_transactions.py")
    text = path.read_text()
    assert "name='fk_transactions_vendor_id'" in text
    assert "drop_column" not in text
    assert drafted.output.count("drop of column vendors.note") == 1


def test_a_models_module_that_does_not_import_is_one_message(cli: CliRunner, project: Path):
    (project / "app" / "models.py").write_text(MODELS + "\nclass Broken(:\n")
    before = files_of(project)
    result = revisor(cli, project, "init", "--write")
    assert result.exit_code == 2, result.output
    assert "env.py failed to load: SyntaxError" in result.output
    assert "Traceback" not in result.output
    assert files_of(project) == before


def test_the_example_app(cli: CliRunner, example_project: Path):
    """Better Call Buffet: its Base has a docstring and no convention, its sqlalchemy
    import gains MetaData, and its env.py passes **kwargs through a wrapper."""
    assert "RV102" in revisor(cli, example_project, "review").output
    result = revisor(cli, example_project, "init", "--write")
    assert result.exit_code == 0, result.output
    db = (example_project / "app" / "db.py").read_text()
    assert "from sqlalchemy import Engine, MetaData, create_engine\n" in db
    assert '    """\n\n    metadata = MetaData(\n        naming_convention={\n' in db
    env = (example_project / "migrations" / "env.py").read_text()
    assert (
        "        compare_type=True,\n"
        "        process_revision_directives=process_revision_directives,\n"
        "        **kwargs,\n"
    ) in env
    assert "RV102" not in revisor(cli, example_project, "review").output
    after = files_of(example_project)
    assert "Nothing to change." in revisor(cli, example_project, "init", "--write").output
    assert files_of(example_project) == after


def test_ci_none_and_a_pre_commit_config_it_cannot_append_to(cli: CliRunner, project: Path):
    config = project / ".pre-commit-config.yaml"
    config.write_text("repos:\n  - repo: local\n    hooks: []\nci:\n  autofix_prs: false\n")
    before = config.read_bytes()
    result = revisor(cli, project, "init", "--write", "--ci", "none")
    assert result.exit_code == 0, result.output
    assert config.read_bytes() == before
    assert "`repos:` is not its last key" in result.output
    assert "- repo: https://github.com/revisor-dev/revisor\n" in result.output
    assert "      - id: revisor-check\n" in result.output
    assert not (project / ".github").exists() and not (project / ".gitlab-ci.yml").exists()


def test_a_models_module_without_a_sqlalchemy_import(
    cli: CliRunner, tmp_path: Path, database_url_18: DatabaseUrl
):
    models = (
        "from flask_sqlalchemy import SQLAlchemy\n\n"
        "db = SQLAlchemy()\n\n\n"
        "class Vendor(db.Model):\n"
        '    __tablename__ = "vendors"\n'
        "    id = db.Column(db.Integer, primary_key=True)\n"
        "    code = db.Column(db.String(20), nullable=False, unique=True)\n"
        "    note = db.Column(db.Text)\n\n\n"
        "Base = db.Model\n"
    )
    root = stock_project(tmp_path / "flaskish", database_url_18.sqlalchemy_url, models=models)
    result = revisor(cli, root, "init", "--write")
    assert result.exit_code == 0, result.output
    written = (root / "app" / "models.py").read_text()
    assert written.startswith(
        "from flask_sqlalchemy import SQLAlchemy\nfrom sqlalchemy import MetaData\n\n"
        "db = SQLAlchemy(\n    metadata=MetaData(\n        naming_convention={\n"
    ), written
    assert "RV102" not in revisor(cli, root, "review").output
    after = files_of(root)
    assert "Nothing to change." in revisor(cli, root, "init", "--write").output
    assert files_of(root) == after


def test_no_metadata_setting_when_its_module_does_not_bring_the_models(
    cli: CliRunner, tmp_path: Path
):
    """fastapi-boilerplate's shape: Base lives in app/db.py, one model per module under
    app/models/, and env.py imports them all with pkgutil. `app.db:Base.metadata` alone
    has no table, nor has any one model module all of them, so [tool.revisor] must not
    name one: review reads env.py instead."""
    root = stock_project(tmp_path / "proj", None)
    app_dir = root / "app"
    (app_dir / "models.py").unlink()
    (app_dir / "db.py").write_text(
        "from sqlalchemy.orm import DeclarativeBase\n\n\nclass Base(DeclarativeBase):\n    pass\n"
    )
    (app_dir / "models").mkdir()
    (app_dir / "models" / "__init__.py").write_text("")
    (app_dir / "models" / "vendor.py").write_text(
        MODELS.replace(
            "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column\n\n\n"
            "class Base(DeclarativeBase):\n    pass\n",
            "from sqlalchemy.orm import Mapped, mapped_column\n\nfrom app.db import Base\n",
        )
    )
    (app_dir / "models" / "region.py").write_text(
        "import sqlalchemy as sa\nfrom sqlalchemy.orm import Mapped, mapped_column\n\n"
        "from app.db import Base\n\n\nclass Region(Base):\n"
        '    __tablename__ = "regions"\n    id: Mapped[int] = mapped_column(primary_key=True)\n'
    )
    env_py = root / "migrations" / "env.py"
    env_py.write_text(
        env_py.read_text().replace(
            "from app.models import Base\n",
            "import importlib\nimport pkgutil\n\nimport app.models\nfrom app.db import Base\n\n"
            "for _, name, _ in pkgutil.walk_packages(app.models.__path__, 'app.models.'):\n"
            "    importlib.import_module(name)\n",
        )
    )
    result = revisor(cli, root, "init", "--write")
    assert result.exit_code == 0, result.output
    assert "no [tool.revisor] metadata written: importing app.db alone" in result.output
    settings = (root / "pyproject.toml").read_text()
    assert "[tool.revisor]" in settings and "\nmetadata = " not in settings, settings
    status = revisor(cli, root, "status", "--format", "json")
    assert json.loads(status.stdout)["models"]["tables"] == ["regions", "vendors"], status.output
