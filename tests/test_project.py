"""Project discovery the way alembic does it, and which database a command uses."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from revisor.db.resolve import resolve_database
from revisor.project import Project

REVISIONS = 6
HEAD = "f72272eba32a"


def test_alembic_ini_in_cwd(example_project: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(example_project)
    project = Project.load()
    assert project.heads == (HEAD,)
    assert len(project.revisions) == REVISIONS
    assert project.revisions[0].revision == "d7b6898133d9"  # base first


def test_explicit_config_from_another_folder(
    example_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    project = Project.load(example_project / "alembic.ini")
    assert project.heads == (HEAD,)
    # env.py imports the app's own package, found relative to the ini's folder
    assert sorted(project.metadata[0].tables) == ["subscriptions", "transactions", "vendors"]


def test_tool_alembic_in_pyproject(example_project: Path, monkeypatch: pytest.MonkeyPatch):
    (example_project / "alembic.ini").unlink()
    (example_project / "pyproject.toml").write_text(
        '[tool.alembic]\nscript_location = "%(here)s/migrations"\nprepend_sys_path = ["."]\n'
    )
    monkeypatch.chdir(example_project)
    project = Project.load()
    assert project.config_path.name == "pyproject.toml"
    assert project.heads == (HEAD,)


def test_alembic_ini_in_a_parent_folder(example_project: Path, monkeypatch: pytest.MonkeyPatch):
    """Users run commands from app/ or migrations/versions/: the project is found above."""
    monkeypatch.chdir(example_project / "app")
    before = list(sys.path)
    project = Project.load()
    assert project.config_path == (example_project / "alembic.ini").resolve()
    assert project.heads == (HEAD,)
    assert sorted(project.metadata[0].tables) == ["subscriptions", "transactions", "vendors"]
    # prepend_sys_path = . means the config's folder, not app/ (whose models.py would be
    # importable as `models`, ahead of every installed package)
    added = [p for p in sys.path if p not in before]
    assert str(example_project.resolve()) in added
    assert all(Path(p).resolve() != (example_project / "app").resolve() for p in added)


def test_tool_alembic_in_a_parent_folder(example_project: Path, monkeypatch: pytest.MonkeyPatch):
    (example_project / "alembic.ini").unlink()
    (example_project / "pyproject.toml").write_text(
        '[tool.alembic]\nscript_location = "%(here)s/migrations"\nprepend_sys_path = ["."]\n'
    )
    (example_project / "app" / "pyproject.toml").write_text('[project]\nname = "app"\n')
    monkeypatch.chdir(example_project / "app")  # its own pyproject.toml has no [tool.alembic]
    project = Project.load()
    assert project.config_path == (example_project / "pyproject.toml").resolve()
    assert project.heads == (HEAD,)


def test_the_search_stops_at_the_repository_root(
    example_project: Path, monkeypatch: pytest.MonkeyPatch
):
    """An alembic.ini above the repository belongs to another project."""
    from revisor.errors import ConfigNotFound

    repository = example_project / "repository"
    (repository / ".git").mkdir(parents=True)
    (repository / "src").mkdir()
    monkeypatch.chdir(repository / "src")
    with pytest.raises(ConfigNotFound, match=r"or its parent folders up to .*/repository$"):
        Project.load()


def test_named_ini_section(example_project: Path):
    ini = example_project / "alembic.ini"
    ini.write_text(ini.read_text().replace("[alembic]", "[buffet]", 1))
    project = Project.load(ini, name="buffet")
    assert project.heads == (HEAD,)
    from revisor.errors import ConfigError

    with pytest.raises(ConfigError, match=r"has no \[alembic\] section"):
        Project.load(ini)


def test_metadata_from_tool_revisor(example_project: Path):
    (example_project / "pyproject.toml").write_text(
        '[tool.revisor]\nmetadata = "app.models:Base.metadata"\n'
    )
    project = Project.load(example_project / "alembic.ini")
    assert project.settings.metadata == "app.models:Base.metadata"
    assert "vendors" in project.metadata[0].tables


def test_url_precedence(example_project: Path, monkeypatch: pytest.MonkeyPatch):
    """--url, then DATABASE_URL, then what env.py computes, then sqlalchemy.url."""
    project = Project.load(example_project / "alembic.ini")
    monkeypatch.setenv("DATABASE_URL", "postgresql://env@envhost/envdb")
    assert resolve_database(project, "postgresql://cli@clihost/clidb").source == "--url"
    assert resolve_database(project, None).url.database == "envdb"
    assert resolve_database(project, None).source == "DATABASE_URL"
    monkeypatch.delenv("DATABASE_URL")
    # the example's env.py reads sqlalchemy.url before DATABASE_URL: the ini's URL is what
    # `alembic upgrade` would use, found through env.py
    ini = example_project / "alembic.ini"
    ini.write_text(
        ini.read_text().replace(
            "[alembic]", "[alembic]\nsqlalchemy.url = postgresql://ini@inihost/inidb", 1
        )
    )
    resolved = resolve_database(Project.load(ini), None)
    assert (resolved.source, resolved.url.database) == ("sqlalchemy.url", "inidb")


def test_env_py_url_wins_over_sqlalchemy_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """An env.py that builds its own URL (here from another variable) is what alembic
    would migrate, whatever alembic.ini's sqlalchemy.url says; nothing connects to it."""
    project_dir = tmp_path / "p"
    shutil.copytree(Path(__file__).parent / "fixtures" / "histories" / "linear", project_dir)
    env_py = project_dir / "migrations" / "env.py"
    env_py.write_text(
        env_py.read_text().replace(
            "def run_migrations_online() -> None:",
            "def run_migrations_online() -> None:\n"
            "    import os, sqlalchemy\n"
            "    sqlalchemy.create_engine(os.environ['APP_DSN']).connect()\n\n"
            "def _unused():",
            1,
        )
    )
    monkeypatch.delenv("DATABASE_URL", raising=False)
    # a port nobody listens on: a connection attempt would fail loudly, capture does not try
    # (the driver named: SQLAlchemy 2.0 reads a bare postgresql:// as psycopg2)
    monkeypatch.setenv("APP_DSN", "postgresql+psycopg://app:pw-9x@127.0.0.1:1/appdb")
    resolved = resolve_database(Project.load(project_dir / "alembic.ini"), None)
    assert (resolved.source, resolved.url.database, resolved.url.url.port) == ("env.py", "appdb", 1)
    assert "pw-9x" not in resolved.url.masked


def test_embedded_server_is_the_default(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    url = resolve_database(None, None).url
    assert url.source == "embedded"
    import psycopg

    with psycopg.connect(**url.libpq_kwargs()) as conn:
        assert conn.info.server_version >= 180000


def test_python_dash_m_and_version():
    out = subprocess.run(
        [sys.executable, "-m", "revisor", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.startswith("revisor ")


def test_debug_traceback_never_shows_the_password(example_project: Path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    secret = "Tr4ceback-S3cret"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "revisor",
            "status",
            "--debug",
            "-c",
            str(example_project / "alembic.ini"),
            "--url",
            f"postgresql://app:{secret}@127.0.0.1:1/app",
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 3  # --debug keeps the exit code (a database error)
    assert "Traceback" in result.stderr  # --debug shows it ...
    assert secret not in result.stderr + result.stdout  # ... without the password


def test_help_lists_every_command():
    result = subprocess.run(
        [sys.executable, "-m", "revisor", "--help"], capture_output=True, text=True, check=True
    )
    for command in ("demo", "status", "review", "draft", "test", "check", "rules"):
        assert f" {command} " in result.stdout


def test_command_needing_models_fails_cleanly_when_env_py_breaks(
    example_project: Path, cli, database_url_18
):
    from revisor.cli import app

    env = example_project / "migrations" / "env.py"
    env.write_text("import app.no_such_module\n" + env.read_text())
    result = cli.invoke(
        app,
        ["check", "-c", str(example_project / "alembic.ini"), "--no-review"],
        env={"DATABASE_URL": database_url_18.sqlalchemy_url},
    )
    assert result.exit_code == 2, result.output
    assert "env.py failed to load" in result.output and "Traceback" not in result.output
    shutil.rmtree(example_project)


def test_project_folder_named_like_an_installed_package_is_harmless(example_project: Path):
    """A project with its own `alembic/` (or `sqlalchemy/`) package must not make revisor
    forget the installed library it is running on."""
    import alembic

    (example_project / "alembic").mkdir()
    (example_project / "alembic" / "__init__.py").write_text("")
    Project.load(example_project / "alembic.ini")
    assert sys.modules["alembic"] is alembic


def test_explicit_config_wins_over_a_cwd_with_its_own_project(
    example_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """From inside another checkout (its own migrations/ and app/), `-c` must still mean
    the named project's migrations and models, not the cwd's namesakes."""
    other = tmp_path / "other"
    shutil.copytree(example_project, other)
    for path in (other / "migrations" / "versions").glob("f72272eba32a_*.py"):
        path.unlink()  # the other checkout is one revision behind
    (other / "app" / "models.py").write_text("raise ImportError('wrong app imported')\n")
    monkeypatch.chdir(other)
    project = Project.load(example_project / "alembic.ini")
    assert project.heads == (HEAD,)
    assert "vendors" in project.metadata[0].tables


def test_status_says_how_far_the_database_is_from_head(example_project: Path, database_url_18, cli):
    from revisor import migrate
    from revisor.cli import app

    project = Project.load(example_project / "alembic.ini")
    migrate.upgrade(project, database_url_18, "c611d8776a6b")
    args = [
        "status",
        "-c",
        str(example_project / "alembic.ini"),
        "--url",
        database_url_18.sqlalchemy_url,
    ]
    assert "c611d8776a6b (2 revision(s) pending)" in cli.invoke(app, args).output
    migrate.upgrade(project, database_url_18, "heads")
    assert f"{HEAD} (at head)" in cli.invoke(app, args).output


def test_target_metadata_from_env_py_module_when_offline_branch_omits_it(tmp_path: Path):
    """Older templates (Flask-Migrate's before 3.0, microblog's) call configure(url=url)
    offline: the module-level target_metadata is the models' MetaData."""
    project_dir = tmp_path / "p"
    shutil.copytree(Path(__file__).parent / "fixtures" / "histories" / "linear", project_dir)
    env_py = project_dir / "migrations" / "env.py"
    text = env_py.read_text()
    start = text.index("    context.configure(\n        url=url,")
    end = text.index("    with context.begin_transaction():", start)
    env_py.write_text(text[:start] + "    context.configure(url=url)\n\n" + text[end:])
    project = Project.load(project_dir / "alembic.ini")
    assert "target_metadata" not in env_py.read_text().split("def run_migrations_offline")[1][:300]
    assert sorted(project.metadata[0].tables)[:1] != []
