"""The env.py shapes of real projects (issue #11), built at test time.

Each shape starts from a stock template of the INSTALLED packages — `alembic init -t
generic|async|multidb|pyproject|pyproject_async` (`alembic.command.init`) or Flask-Migrate's
`flask db init` (`flask_migrate.init` in an app context) — and is then varied the way real
projects vary it, by small string replacements in the generated files (`edit`), each of
which fails loudly when the installed template no longer has the text it replaces. Nothing
of alembic's or Flask-Migrate's templates is copied into this repository.

Every shape gets the same models and three revisions (tests/support/shape_history.py).
Wherever the project names a database it names the sentinel: the generated files hold the
tokens below, which `bind` replaces in a copy, and environment variables (`Shape.environment`)
are set per test.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from tests.support.shape_history import models_source, write_history

TOKEN_URL = "{{SENTINEL_URL}}"
TOKEN_ASYNC_URL = "{{SENTINEL_ASYNC_URL}}"
TOKEN_URL2 = "{{SENTINEL2_URL}}"

# --- the database env.py names ------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    """A database on a test server reached through its unix socket, as one role."""

    socket_dir: str
    user: str
    password: str
    database: str

    def url(self, driver: str = "psycopg") -> str:
        """A SQLAlchemy URL (the socket directory as libpq's `host=` query parameter)."""
        return (
            f"postgresql+{driver}://{self.user}:{self.password}@/{self.database}"
            f"?host={self.socket_dir}"
        )

    @property
    def libpq(self) -> str:
        """A libpq connection URI (what `psycopg.connect` takes)."""
        return f"postgresql://{self.user}:{self.password}@/{self.database}?host={self.socket_dir}"


@dataclass(frozen=True)
class Targets:
    """The sentinel, and a second one for shapes that name two databases (multidb)."""

    sentinel: Endpoint
    second: Endpoint | None = None


class Support(Enum):
    """What revisor is expected to do with a shape."""

    SUPPORTED = "supported"
    # env.py migrates several databases (alembic's multidb template): exit 2, nothing run.
    SEVERAL_DATABASES = "several databases"
    # env.py connects through a `creator=` revisor cannot redirect: the guard stops it
    # before any statement, exit 8 ("wrong database").
    WRONG_DATABASE = "wrong database"


def _no_environment(targets: Targets) -> dict[str, str]:
    return {}


def _no_x_args(targets: Targets) -> list[str]:
    return []


@dataclass(frozen=True)
class Shape:
    """One env.py shape: how to build it and how a user runs revisor on it."""

    name: str
    build: Callable[[Path], None]
    # environment variables the project reads (set per test, they name the sentinel)
    environment: Callable[[Targets], dict[str, str]] = _no_environment
    # `-x KEY=VALUE` arguments env.py reads with context.get_x_argument()
    x_args: Callable[[Targets], list[str]] = _no_x_args
    # schema-per-tenant: each tenant is migrated with `-x tenant=NAME` into `tenant_NAME`
    tenants: tuple[str, ...] = ()
    # extra options every revisor command gets (`--app` for Flask), and the plugin's
    cli_args: tuple[str, ...] = ()
    plugin_args: tuple[str, ...] = ()
    version_schema: str = "public"  # where alembic_version is after a deploy
    support: Support = Support.SUPPORTED
    models: str = "app/models.py"
    flavour: str = "declarative"
    versions: str = "migrations/versions"
    databases: int = 1  # how many sentinels the project names
    template: str | None = None  # the alembic template it starts from, when one

    def missing(self) -> str | None:
        """Why the installed packages cannot build this shape (an older alembic has no
        pyproject_async template), or None."""
        if self.template is None or template_exists(self.template):
            return None
        import alembic

        return f"alembic {alembic.__version__} has no {self.template!r} template"

    def command_args(self, targets: Targets, tenant: str | None = None) -> list[str]:
        """The options a user adds to every revisor command for this project."""
        args = list(self.cli_args)
        for value in self.x_args(targets):
            args += ["-x", value]
        tenant = tenant or (self.tenants[0] if self.tenants else None)
        if tenant:
            args += ["-x", f"tenant={tenant}"]
        return args

    def plugin_options(self, targets: Targets) -> list[str]:
        """The options `pytest --revisor` needs for this project (assumed names: see the
        test module's docstring)."""
        args = list(self.plugin_args)
        values = self.x_args(targets) + [f"tenant={t}" for t in self.tenants[:1]]
        for value in values:
            args += ["--revisor-x", value]
        return args

    def version_schemas(self) -> dict[str | None, str]:
        """{tenant or None: the schema holding that tenant's alembic_version}."""
        if self.tenants:
            return {tenant: f"tenant_{tenant}" for tenant in self.tenants}
        return {None: self.version_schema}


# --- editing the generated files ----------------------------------------------------------


class TemplateChanged(AssertionError):
    """The installed template no longer has the text a shape edits."""


def edit(path: Path, *replacements: tuple[str, str]) -> None:
    """Replace each `old` (which must occur exactly once) with `new` in `path`."""
    text = path.read_text()
    for old, new in replacements:
        count = text.count(old)
        if count != 1:
            raise TemplateChanged(
                f"{path}: expected {old!r} exactly once, found it {count} times; the "
                "installed template changed: update tests/support/env_shapes.py"
            )
        text = text.replace(old, new)
    path.write_text(text)


def bind(root: Path, targets: Targets) -> None:
    """Replace the database tokens in every text file of the project at `root`."""
    values = {TOKEN_URL: targets.sentinel.url(), TOKEN_ASYNC_URL: targets.sentinel.url("asyncpg")}
    if targets.second is not None:
        values[TOKEN_URL2] = targets.second.url()
    for path in root.rglob("*"):
        if not path.is_file() or "__pycache__" in path.parts:
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        new = text
        for token, value in values.items():
            new = new.replace(token, value)
        if "{{SENTINEL" in new:
            raise AssertionError(f"{path}: a database token is left: {new!r}")
        if new != text:
            path.write_text(new)


# The stock templates' text that the shapes replace (alembic's generic/pyproject env.py,
# alembic.ini). Kept here, once, so a template change breaks one obvious place.
INI_URL = "sqlalchemy.url = driver://user:pass@localhost/dbname\n"
INI_URL2 = "sqlalchemy.url = driver://user:pass@localhost/dbname2\n"
METADATA = "target_metadata = None\n"
CONFIG = "config = context.config\n"
OFFLINE_URL = '    url = config.get_main_option("sqlalchemy.url")\n'
OFFLINE_OPTIONS = "        literal_binds=True,\n"
ENGINE = """\
    connectable = engine_from_config(
        config.get_section(config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
"""
ONLINE_CONFIGURE = """\
        context.configure(
            connection=connection, target_metadata=target_metadata
        )
"""
IMPORT_POOL = "from sqlalchemy import pool\n"
MODELS_METADATA = "from app.models import Base\n\ntarget_metadata = Base.metadata\n"


# --- the stock templates ------------------------------------------------------------------


def template_exists(template: str) -> bool:
    """Whether the installed alembic ships this `alembic init -t` template."""
    import alembic

    return (Path(alembic.__file__).parent / "templates" / template).is_dir()


def alembic_init(root: Path, template: str) -> Path:
    """`alembic init -t TEMPLATE migrations` in `root` (paths relative to the ini, so a
    copy of the folder still works); return env.py's path."""
    from alembic import command
    from alembic.config import Config

    root.mkdir(parents=True, exist_ok=True)
    toml = "pyproject.toml" if template.startswith("pyproject") else None
    with contextlib.chdir(root), contextlib.redirect_stdout(io.StringIO()):
        command.init(Config("alembic.ini", toml_file=toml), "migrations", template=template)
    return root / "migrations" / "env.py"


def flask_migrate_init(root: Path) -> Path:
    """`flask db init` (Flask-Migrate's `flask` template) in `root`; return env.py's path."""
    import flask_migrate
    from flask import Flask
    from flask_sqlalchemy import SQLAlchemy

    app = Flask("shape_generator")
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
    db = SQLAlchemy()
    db.init_app(app)
    flask_migrate.Migrate(app, db)
    with (
        contextlib.chdir(root),
        contextlib.redirect_stdout(io.StringIO()),
        app.app_context(),
    ):
        flask_migrate.init(directory="migrations")
    return root / "migrations" / "env.py"


def _app_package(root: Path, *, schema: str | None = None, models_imports: str = "") -> None:
    package = root / "app"
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text("")
    (package / "models.py").write_text(models_source(schema=schema, imports=models_imports))


def _stock(root: Path, template: str, url_token: str = TOKEN_URL) -> Path:
    """A stock template with the models, the history and the ini's URL on the sentinel."""
    env = alembic_init(root, template)
    _app_package(root)
    edit(env, (METADATA, MODELS_METADATA))
    edit(root / "alembic.ini", (INI_URL, f"sqlalchemy.url = {url_token}\n"))
    write_history(root / "migrations" / "versions")
    return env


# --- the shapes ---------------------------------------------------------------------------


def build_generic(root: Path) -> None:
    """`alembic init -t generic`; sqlalchemy.url in alembic.ini."""
    _stock(root, "generic")


def build_async(root: Path) -> None:
    """`alembic init -t async`: async_engine_from_config + asyncpg URL in alembic.ini."""
    _stock(root, "async", TOKEN_ASYNC_URL)


def build_pyproject(root: Path) -> None:
    """`alembic init -t pyproject`: [tool.alembic] in pyproject.toml, URL in alembic.ini."""
    _stock(root, "pyproject")


def build_pyproject_async(root: Path) -> None:
    """`alembic init -t pyproject_async`."""
    _stock(root, "pyproject_async", TOKEN_ASYNC_URL)


def build_multidb(root: Path) -> None:
    """`alembic init -t multidb`: engine1 and engine2, each its own database."""
    env = alembic_init(root, "multidb")
    _app_package(root)
    edit(
        env,
        (
            "target_metadata = {}\n",
            "import sqlalchemy as sa\n\nfrom app.models import Base\n\n"
            'target_metadata = {"engine1": Base.metadata, "engine2": sa.MetaData()}\n',
        ),
    )
    edit(
        root / "alembic.ini",
        (INI_URL, f"sqlalchemy.url = {TOKEN_URL}\n"),
        (INI_URL2, f"sqlalchemy.url = {TOKEN_URL2}\n"),
    )
    write_history(root / "migrations" / "versions", multidb=True)


SETTINGS_PY = '''\
"""The app's settings (the FastAPI full-stack template's shape)."""

from pydantic import computed_field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_ignore_empty=True, extra="ignore")

    POSTGRES_SERVER: str
    POSTGRES_PORT: int = 5432
    POSTGRES_USER: str
    POSTGRES_PASSWORD: str = ""
    POSTGRES_DB: str = ""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def SQLALCHEMY_DATABASE_URI(self) -> str:
        # The test servers listen on a unix socket: its directory is libpq's host=.
        return (
            f"postgresql+psycopg://{self.POSTGRES_USER}:{self.POSTGRES_PASSWORD}"
            f"@/{self.POSTGRES_DB}?host={self.POSTGRES_SERVER}&port={self.POSTGRES_PORT}"
        )


settings = Settings()
'''


def build_settings(root: Path) -> None:
    """The URL from a pydantic-settings object, assigned to the config section env.py hands
    to engine_from_config (fastapi/full-stack-fastapi-template's env.py)."""
    env = alembic_init(root, "generic")
    _app_package(root)
    (root / "app" / "config.py").write_text(SETTINGS_PY)
    edit(
        env,
        (METADATA, "from app.config import settings\n" + MODELS_METADATA),
        (OFFLINE_URL, "    url = settings.SQLALCHEMY_DATABASE_URI\n"),
        (
            ENGINE,
            "    configuration = config.get_section(config.config_ini_section, {})\n"
            '    configuration["sqlalchemy.url"] = settings.SQLALCHEMY_DATABASE_URI\n'
            "    connectable = engine_from_config(\n"
            "        configuration,\n"
            '        prefix="sqlalchemy.",\n'
            "        poolclass=pool.NullPool,\n"
            "    )\n",
        ),
    )
    write_history(root / "migrations" / "versions")


def settings_environment(targets: Targets) -> dict[str, str]:
    s = targets.sentinel
    return {
        "POSTGRES_SERVER": s.socket_dir,
        "POSTGRES_PORT": "5432",
        "POSTGRES_USER": s.user,
        "POSTGRES_PASSWORD": s.password,
        "POSTGRES_DB": s.database,
    }


def app_dsn_environment(targets: Targets) -> dict[str, str]:
    return {"APP_DB_DSN": targets.sentinel.url()}


def build_env_var(root: Path) -> None:
    """`create_engine(os.environ["APP_DB_DSN"])` called directly in the online branch."""
    env = alembic_init(root, "generic")
    _app_package(root)
    edit(
        env,
        (IMPORT_POOL, "import os\n\nfrom sqlalchemy import create_engine, pool\n"),
        (METADATA, MODELS_METADATA),
        (OFFLINE_URL, '    url = os.environ["APP_DB_DSN"]\n'),
        (
            ENGINE,
            '    connectable = create_engine(os.environ["APP_DB_DSN"], poolclass=pool.NullPool)\n',
        ),
    )
    write_history(root / "migrations" / "versions")


def build_set_main_option(root: Path) -> None:
    """`config.set_main_option("sqlalchemy.url", os.environ["APP_DB_DSN"])` at module level."""
    env = alembic_init(root, "generic")
    _app_package(root)
    edit(
        env,
        (IMPORT_POOL, "import os\n\nfrom sqlalchemy import pool\n"),
        (CONFIG, CONFIG + 'config.set_main_option("sqlalchemy.url", os.environ["APP_DB_DSN"])\n'),
        (METADATA, MODELS_METADATA),
    )
    write_history(root / "migrations" / "versions")


APP_SETTINGS_PY = '''\
"""The app's settings: APP_DB_DSN."""

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="APP_")

    db_dsn: str


settings = Settings()
'''

APP_DB_PY = '''\
"""The app's engine, created when the module is imported."""

from sqlalchemy import create_engine

from app.config import settings

engine = create_engine(settings.db_dsn, pool_pre_ping=True)
'''

APP_DB_CONNECTED_PY = '''\
"""The app's engine; the app checks its database as soon as it is imported, so the pool
already holds a connection to it."""

from sqlalchemy import create_engine, text

from app.config import settings

engine = create_engine(settings.db_dsn)  # QueuePool: the connection stays in the pool

with engine.connect() as connection:
    connection.execute(text("SELECT 1"))
'''


def _app_engine(root: Path, db_module: str, *, models_imports: str = "") -> None:
    env = alembic_init(root, "generic")
    _app_package(root, models_imports=models_imports)
    (root / "app" / "config.py").write_text(APP_SETTINGS_PY)
    (root / "app" / "db.py").write_text(db_module)
    edit(
        env,
        (METADATA, "from app.db import engine\n" + MODELS_METADATA),
        (OFFLINE_URL, "    url = engine.url.render_as_string(hide_password=False)\n"),
        (ENGINE, "    connectable = engine\n"),
    )
    write_history(root / "migrations" / "versions")


def build_app_engine(root: Path) -> None:
    """A module-level engine in the app (`app/db.py`) that env.py imports and connects with."""
    _app_engine(root, APP_DB_PY)


def build_connect_at_import(root: Path) -> None:
    """The app's engine connects when imported, and revisor imports the models (which import
    the engine module) before env.py runs: `[tool.revisor] metadata`, and the project's
    conftest.py for the pytest plugin. env.py then uses that engine, whose QueuePool already
    holds a connection to the sentinel."""
    _app_engine(
        root, APP_DB_CONNECTED_PY, models_imports="from app.db import engine  # noqa: F401\n"
    )
    (root / "pyproject.toml").write_text('[tool.revisor]\nmetadata = "app.models:Base.metadata"\n')
    (root / "conftest.py").write_text(
        '"""The app under test is imported first (it connects to its database)."""\n\n'
        "import app.db  # noqa: F401\n"
    )


def build_creator(root: Path) -> None:
    """`create_engine("postgresql+psycopg://", creator=...)`: the connection comes from a
    function (as cloud SQL connectors do), so its database is not in the URL."""
    env = alembic_init(root, "generic")
    _app_package(root)
    edit(
        env,
        (IMPORT_POOL, "import os\n\nimport psycopg\nfrom sqlalchemy import create_engine, pool\n"),
        (METADATA, MODELS_METADATA),
        (OFFLINE_URL, '    url = "postgresql+psycopg://"\n'),
        (
            ENGINE,
            "    connectable = create_engine(\n"
            '        "postgresql+psycopg://",\n'
            '        creator=lambda: psycopg.connect(os.environ["APP_DB_DSN"]),\n'
            "        poolclass=pool.NullPool,\n"
            "    )\n",
        ),
    )
    write_history(root / "migrations" / "versions")


def creator_environment(targets: Targets) -> dict[str, str]:
    return {"APP_DB_DSN": targets.sentinel.libpq}


def build_x_argument(root: Path) -> None:
    """alembic's documented `-x dbname=URL` (context.get_x_argument(as_dictionary=True)),
    with alembic.ini's placeholder URL left as it is."""
    env = alembic_init(root, "generic")
    _app_package(root)
    edit(
        env,
        (IMPORT_POOL, "from sqlalchemy import create_engine, pool\n"),
        (METADATA, MODELS_METADATA),
        (
            OFFLINE_URL,
            '    url = context.get_x_argument(as_dictionary=True).get("dbname") or '
            'config.get_main_option("sqlalchemy.url")\n',
        ),
        (
            ENGINE,
            '    cmd_line_url = context.get_x_argument(as_dictionary=True).get("dbname")\n'
            "    if cmd_line_url:\n"
            "        connectable = create_engine(cmd_line_url, poolclass=pool.NullPool)\n"
            "    else:\n"
            "        connectable = engine_from_config(\n"
            "            config.get_section(config.config_ini_section, {}),\n"
            '            prefix="sqlalchemy.",\n'
            "            poolclass=pool.NullPool,\n"
            "        )\n",
        ),
    )
    write_history(root / "migrations" / "versions")


def x_dbname(targets: Targets) -> list[str]:
    return [f"dbname={targets.sentinel.url()}"]


def _version_table_schema(root: Path, *, offline_too: bool) -> None:
    env = _stock(root, "generic")
    edit(
        env,
        (IMPORT_POOL, "from sqlalchemy import pool, text\n"),
        (
            ONLINE_CONFIGURE,
            '        connection.execute(text("CREATE SCHEMA IF NOT EXISTS meta"))\n'
            "        connection.commit()\n"
            "        context.configure(\n"
            "            connection=connection,\n"
            "            target_metadata=target_metadata,\n"
            '            version_table_schema="meta",\n'
            "            include_schemas=True,\n"
            "        )\n",
        ),
    )
    if offline_too:
        edit(
            env,
            (
                OFFLINE_OPTIONS,
                '        version_table_schema="meta",\n'
                "        include_schemas=True,\n" + OFFLINE_OPTIONS,
            ),
        )


def build_version_schema_online(root: Path) -> None:
    """version_table_schema="meta" (and include_schemas) in the online branch only."""
    _version_table_schema(root, offline_too=False)


def build_version_schema_both(root: Path) -> None:
    """version_table_schema="meta" in both branches."""
    _version_table_schema(root, offline_too=True)


def build_billing_schema(root: Path) -> None:
    """Models in a non-public schema (`__table_args__ = {"schema": "billing"}`),
    include_schemas=True in both branches."""
    env = alembic_init(root, "generic")
    _app_package(root, schema="billing")
    edit(
        env,
        (METADATA, MODELS_METADATA),
        (OFFLINE_OPTIONS, "        include_schemas=True,\n" + OFFLINE_OPTIONS),
        (
            ONLINE_CONFIGURE,
            "        context.configure(\n"
            "            connection=connection,\n"
            "            target_metadata=target_metadata,\n"
            "            include_schemas=True,\n"
            "        )\n",
        ),
    )
    edit(root / "alembic.ini", (INI_URL, f"sqlalchemy.url = {TOKEN_URL}\n"))
    write_history(root / "migrations" / "versions", schema="billing")


TENANT = """\
# Schema per tenant: `alembic -x tenant=NAME upgrade head` migrates that tenant's schema
# (alembic's cookbook, "Rudimental Schema-Level Multi Tenancy for PostgreSQL Databases").
tenant = context.get_x_argument(as_dictionary=True).get("tenant")
if not tenant:
    raise RuntimeError("pass the tenant: -x tenant=NAME")
tenant_schema = f"tenant_{tenant}"
"""


def build_tenant_search_path(root: Path) -> None:
    """Schema per tenant through `SET search_path` (the cookbook's recipe)."""
    env = _stock(root, "generic")
    edit(
        env,
        (IMPORT_POOL, "from sqlalchemy import pool, text\n"),
        (CONFIG, CONFIG + "\n" + TENANT),
        (
            ONLINE_CONFIGURE,
            "        connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS \"{tenant_schema}\"'))\n"
            "        connection.execute(text(f'SET search_path TO \"{tenant_schema}\"'))\n"
            "        # in SQLAlchemy 2 the search path change needs to be committed\n"
            "        connection.commit()\n"
            "        # reflect (autogenerate) in terms of the tenant's schema\n"
            "        connection.dialect.default_schema_name = tenant_schema\n"
            "        context.configure(\n"
            "            connection=connection, target_metadata=target_metadata\n"
            "        )\n",
        ),
    )


def build_tenant_translate_map(root: Path) -> None:
    """Schema per tenant through `schema_translate_map` on the migration connection (and
    search_path for the ALTERs alembic does not translate)."""
    env = _stock(root, "generic")
    edit(
        env,
        (IMPORT_POOL, "from sqlalchemy import pool, text\n"),
        (CONFIG, CONFIG + "\n" + TENANT),
        (
            ONLINE_CONFIGURE,
            "        connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS \"{tenant_schema}\"'))\n"
            "        # alembic's add_column/drop_column ignore schema_translate_map\n"
            "        # (sqlalchemy/alembic#555): those reach the tenant through search_path\n"
            "        connection.execute(text(f'SET search_path TO \"{tenant_schema}\"'))\n"
            "        connection.commit()\n"
            "        connection = connection.execution_options(\n"
            "            schema_translate_map={None: tenant_schema}\n"
            "        )\n"
            "        # reflect (autogenerate) in terms of the tenant's schema\n"
            "        connection.dialect.default_schema_name = tenant_schema\n"
            "        context.configure(\n"
            "            connection=connection,\n"
            "            target_metadata=target_metadata,\n"
            "        )\n",
        ),
    )


FLASK_APP_PY = '''\
"""A Flask app (application factory) with Flask-SQLAlchemy and Flask-Migrate."""

from flask import Flask
from flask_migrate import Migrate

from blog.models import db

migrate = Migrate()


def create_app() -> Flask:
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = "{{SENTINEL_URL}}"
    db.init_app(app)
    migrate.init_app(app, db)
    return app
'''


def _flask(root: Path) -> None:
    """`flask db init` for an app factory in the package `blog`."""
    package = root / "blog"
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text(FLASK_APP_PY)
    (package / "models.py").write_text(models_source(flavour="flask"))
    flask_migrate_init(root)
    write_history(root / "migrations" / "versions")


def build_flask_app_option(root: Path) -> None:
    """Flask-Migrate; the app named on the command line (`--app blog:create_app()`)."""
    _flask(root)


def build_flask_env(root: Path) -> None:
    """Flask-Migrate; the app named by FLASK_APP."""
    _flask(root)


def build_flask_dotenv(root: Path) -> None:
    """Flask-Migrate; the app named in .flaskenv (read by flask through python-dotenv)."""
    _flask(root)
    (root / ".flaskenv").write_text("FLASK_APP=blog:create_app\n")


def build_flask_pyproject(root: Path) -> None:
    """Flask-Migrate; the app named in `[tool.revisor] flask-app`."""
    _flask(root)
    (root / "pyproject.toml").write_text('[tool.revisor]\nflask-app = "blog:create_app"\n')


def flask_app_environment(targets: Targets) -> dict[str, str]:
    return {"FLASK_APP": "blog"}


FLASK: dict[str, Any] = {"models": "blog/models.py", "flavour": "flask"}

SHAPES: tuple[Shape, ...] = (
    Shape("generic", build_generic),
    Shape("async", build_async),
    Shape("pyproject", build_pyproject, template="pyproject"),
    Shape("pyproject_async", build_pyproject_async, template="pyproject_async"),
    Shape("multidb", build_multidb, support=Support.SEVERAL_DATABASES, databases=2),
    Shape("settings", build_settings, environment=settings_environment),
    Shape("env_var", build_env_var, environment=app_dsn_environment),
    Shape("set_main_option", build_set_main_option, environment=app_dsn_environment),
    Shape("app_engine", build_app_engine, environment=app_dsn_environment),
    Shape("connect_at_import", build_connect_at_import, environment=app_dsn_environment),
    Shape(
        "creator",
        build_creator,
        environment=creator_environment,
        support=Support.WRONG_DATABASE,
    ),
    Shape("x_argument", build_x_argument, x_args=x_dbname),
    Shape("version_schema_online", build_version_schema_online, version_schema="meta"),
    Shape("version_schema_both", build_version_schema_both, version_schema="meta"),
    Shape("billing_schema", build_billing_schema),
    Shape("tenant_search_path", build_tenant_search_path, tenants=("acme", "globex")),
    Shape("tenant_translate_map", build_tenant_translate_map, tenants=("acme", "globex")),
    Shape(
        "flask_app_option",
        build_flask_app_option,
        cli_args=("--app", "blog:create_app()"),
        plugin_args=("--revisor-app", "blog:create_app()"),
        **FLASK,
    ),
    Shape("flask_env", build_flask_env, environment=flask_app_environment, **FLASK),
    Shape("flask_dotenv", build_flask_dotenv, **FLASK),
    Shape("flask_pyproject", build_flask_pyproject, **FLASK),
)

SHAPES_BY_NAME = {shape.name: shape for shape in SHAPES}
