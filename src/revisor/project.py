"""The user's Alembic project, found the way alembic finds it and loaded once.

Engines get a `Project`; they never re-read alembic.ini or re-scan the versions folders.
"""

from __future__ import annotations

import argparse
import configparser
import os
import sys
import traceback
import warnings
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import cached_property
from importlib import import_module
from pathlib import Path
from typing import Any

from alembic.config import Config
from alembic.script import Script, ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError
from sqlalchemy import MetaData

from revisor import alembic_api
from revisor.alembic_api import quiet_alembic_logging  # noqa: F401 -- re-exported
from revisor.config import RevisorSettings, find_pyproject, load_settings, read_toml
from revisor.db.url import DatabaseUrl, mask
from revisor.errors import (
    ConfigError,
    ConfigNotFound,
    EnvImportError,
    HistoryError,
    MetadataNotFound,
    RevisionImportError,
    RevisorError,
)
from revisor.flask_app import uses_flask
from revisor.graph import Node, RevisionGraph, build_graph

# env.py files read their URL from the config or the environment; while revisor only wants
# target_metadata (offline mode, nothing connects) it hands them this placeholder.
PLACEHOLDER_URL = "postgresql+psycopg://revisor@localhost/revisor_offline"
# What `alembic init` writes as sqlalchemy.url: SQLAlchemy has no dialect "driver", so
# env.py's offline branch fails on it; reading the options, revisor treats it as unset.
ALEMBIC_TEMPLATE_URL = "driver://user:pass@localhost/dbname"


@dataclass
class Project:
    """An Alembic project: its Config, ScriptDirectory and revisor settings."""

    config: Config
    script: ScriptDirectory
    config_path: Path
    settings: RevisorSettings
    url_env: str = "DATABASE_URL"
    root_dir: Path | None = None
    flask_app: Any = field(default=None, repr=False)  # a Flask-Migrate project's app
    # How the command line named the project (-c, -x, --app), for the commands revisor
    # prints to name it the same way (revisor.fix_commands).
    config_option: Path | None = None
    x_options: tuple[str, ...] = ()
    app_option: str | None = None
    _metadata: tuple[MetaData, ...] | None = field(default=None, repr=False)
    _env_options: dict[str, Any] | None = field(default=None, repr=False)
    _online_options: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)
    _search_path_schemas: dict[str, str | None] = field(default_factory=dict, repr=False)
    _env_py_url: Any = field(default=None, repr=False)

    # --- discovery ---------------------------------------------------------------------

    @classmethod
    def load(
        cls,
        config_path: Path | str | None = None,
        *,
        name: str = "alembic",
        cwd: Path | None = None,
        x_args: Sequence[str] = (),
        app: str | None = None,
    ) -> Project:
        """Find and load the project. `x_args` are alembic's `-x KEY=VALUE` arguments, for
        env.py's context.get_x_argument(); `app` a Flask-Migrate project's app (as `flask
        --app` takes it). Raises ConfigNotFound / ConfigError / HistoryError."""
        here = (cwd or Path.cwd()).resolve()
        project = cls._load(config_path, name=name, cwd=here, x_args=x_args, app=app)
        project.config_option = here / config_path if config_path else None
        project.x_options = tuple(x_args)
        project.app_option = app
        return project

    @classmethod
    def _load(
        cls,
        config_path: Path | str | None,
        *,
        name: str,
        cwd: Path,
        x_args: Sequence[str],
        app: str | None,
    ) -> Project:
        explicit = Path(config_path) if config_path else None
        try:
            ini, toml = _locate(explicit, cwd)
        except ConfigNotFound:
            flask_dir = cwd / "migrations"
            settings = load_settings(find_pyproject(cwd))
            wanted = app or os.environ.get("FLASK_APP") or settings.get("flask-app")
            flaskenv = (cwd / ".flaskenv").is_file()
            if explicit is None and (wanted or flaskenv or uses_flask(flask_dir / "env.py")):
                return cls._load_flask(cwd, None, name, x_args, app)
            raise
        if (
            ini is not None
            and _lacks_script_location(ini, name)
            and uses_flask(ini.parent / "env.py")
        ):
            # `-c migrations/alembic.ini` of a `flask db init` project
            return cls._load_flask(cwd, ini.parent, name, x_args, app)
        try:
            config = Config(
                file_=str(ini) if ini else None,
                toml_file=str(toml) if toml else None,
                ini_section=name,
            )
            config_file = ini or toml
            assert config_file is not None
            if ini and not config.file_config.has_section(name):
                raise ConfigError(
                    f"{ini} has no [{name}] section.",
                    hint="Pass --name SECTION if your Alembic section is named differently.",
                )
            _check_url_option(config, ini)
            _forget_project_modules(config_file.parent)
            _anchor_script_location(config, config_file.parent)
        except CommandError as exc:
            raise ConfigError(f"Alembic configuration problem: {exc}") from None
        except configparser.Error as exc:
            first = str(exc).splitlines()[0]
            raise ConfigError(
                f"{ini} is not an Alembic ini file: {first}",
                hint="Pass the alembic.ini (or pyproject.toml with [tool.alembic]) with -c.",
            ) from None
        config.cmd_opts = argparse.Namespace(x=list(x_args))
        project = cls._assemble(config, config_file, config_file.parent)
        if uses_flask(Path(project.script.dir) / "env.py"):  # an alembic.ini env.py on Flask
            from revisor.flask_app import (
                app_import_path,
                dotenv_kept_to_loading,
                load_flask_project,
            )

            with dotenv_kept_to_loading():
                path = app_import_path(cwd, app, project.settings)
                project.flask_app = load_flask_project(cwd, import_path=path).app
        return project

    def reloaded(self) -> Project:
        """The same project with its history read again (a command wrote a revision),
        keeping the models and env.py options already imported. Loading the project anew
        would import the app's models a second time in this process, which fails where
        their MetaData outlives the import (SQLModel's one `SQLModel.metadata`: "Table
        'user' is already defined")."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            script = ScriptDirectory.from_config(self.config)
        return replace(self, script=script)

    @classmethod
    def _assemble(cls, config: Config, config_file: Path, root: Path) -> Project:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                script = ScriptDirectory.from_config(config)
            _extend_sys_path(config, config_file.parent)
        except CommandError as exc:
            raise ConfigError(f"Alembic configuration problem: {exc}") from None
        settings = load_settings(find_pyproject(root))
        return cls(
            config=config,
            script=script,
            config_path=config_file,
            settings=settings,
            url_env=str(settings.get("url-env", "DATABASE_URL")),
            root_dir=root,
        )

    @classmethod
    def _load_flask(
        cls,
        cwd: Path,
        directory: Path | None,
        name: str,
        x_args: Sequence[str],
        app: str | None,
    ) -> Project:
        """A `flask db init` project: the app's Flask-Migrate extension makes the Config."""
        from revisor.flask_app import app_import_path, dotenv_kept_to_loading, load_flask_project

        _forget_project_modules(cwd)
        with dotenv_kept_to_loading():
            path = app_import_path(cwd, app, load_settings(find_pyproject(cwd)))
            flask = load_flask_project(cwd, import_path=path, directory=directory, x_args=x_args)
        config = flask.config
        if name != "alembic":
            config.config_ini_section = name
        project = cls._assemble(config, flask.directory / "alembic.ini", cwd)
        project.flask_app = flask.app
        return project

    @property
    def root(self) -> Path:
        """The project's folder: the one holding alembic.ini (or pyproject.toml), or a
        Flask-Migrate app's folder."""
        return self.root_dir or self.config_path.parent

    @property
    def name(self) -> str:
        return self.root.name

    @property
    def version_locations(self) -> list[Path]:
        return [Path(p) for p in alembic_api.version_locations(self.script)]

    # --- the revision graph ------------------------------------------------------------

    @cached_property
    def revisions(self) -> list[Script]:
        """All revisions, base first (topological order). Raises on unimportable files."""
        with self._history_errors():
            return list(reversed(list(self.script.walk_revisions("base", "heads"))))

    @cached_property
    def heads(self) -> tuple[str, ...]:
        with self._history_errors():
            return tuple(self.script.get_heads())

    @cached_property
    def graph(self) -> RevisionGraph:
        """The revision graph (down_revision and depends_on), built once from alembic's
        scripts in their walk order, which breaks ties in `graph.order()`. Raises as
        `revisions` does for a history alembic cannot load."""
        nodes = []
        for script in self.revisions:
            parents = alembic_api.down_revisions(script)
            nodes.append(
                Node(
                    script.revision,
                    parents,
                    branch_labels=tuple(sorted(script.branch_labels)),
                    # alembic has resolved a branch label named in depends_on to its revision
                    depends_on=tuple(
                        r
                        for r in alembic_api.down_revisions_and_depends_on(script)
                        if r not in parents
                    ),
                )
            )
        return build_graph(nodes)

    def ancestors(self, revisions: Iterable[str]) -> set[str]:
        """`revisions` and everything below them (down_revisions and depends_on,
        transitively). Ids not in the history are left out."""
        return self.graph.ancestors(revisions)

    def revision(self, rev_id: str) -> Script:
        """The Script for `rev_id` (full id, unique prefix, or symbolic name)."""
        from revisor.fix_commands import FixCommands

        self.revisions  # noqa: B018 -- a broken graph is reported as such, first
        history = FixCommands.for_project(self).history()
        unknown = HistoryError(
            f"Unknown revision {rev_id!r}.",
            hint=f"{history.quoted} lists every revision, newest first.",
        )
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                script = self.script.get_revision(rev_id)
        except (RevisionError, CommandError) as exc:
            if "ultiple" in str(exc):  # an ambiguous prefix
                raise HistoryError(f"Revision {rev_id!r} is ambiguous: {exc}") from exc
            raise unknown from exc
        if script is None:
            raise unknown
        return script

    @contextmanager
    def _history_errors(self) -> Iterator[None]:
        """Translate alembic's errors while walking the graph into revisor's, adding the
        warnings alembic emitted first (they name the duplicate or dangling revision)."""
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                yield
            except (SyntaxError, ImportError, NameError, AttributeError) as exc:
                path = _failing_file(exc, self.version_locations)
                raise RevisionImportError(path, exc) from exc
            except (RevisionError, CommandError, KeyError) as exc:
                notes = [
                    str(w.message)
                    for w in caught
                    if "more than once" in str(w.message) or "is not present" in str(w.message)
                ]
                detail = "; ".join(dict.fromkeys(notes)) or str(exc).strip("'\"")
                if isinstance(exc, KeyError) and not notes:
                    detail = f"unknown revision {detail}"
                raise HistoryError(
                    f"The migration history is broken: {detail}",
                    hint="Fix the revision ids / down_revision values named above; "
                    "`revisor review` lists every graph problem.",
                ) from exc

    # --- target metadata ---------------------------------------------------------------

    @property
    def metadata(self) -> tuple[MetaData, ...]:
        """The models' MetaData (from [tool.revisor] metadata, else env.py's target_metadata).

        Loading env.py runs it in Alembic's offline mode: nothing connects to a database.
        Raises MetadataNotFound or EnvImportError.
        """
        if self._metadata is None:
            spec = self.settings.metadata
            self._metadata = _import_metadata(spec) if spec else self._metadata_from_env()
        return self._metadata

    def offline_env_options(self) -> dict[str, Any]:
        """The options env.py passes to context.configure(), read by running it in Alembic's
        offline mode (nothing connects): target_metadata, include_object, compare_type...
        Raises EnvImportError when env.py fails."""
        if self._env_options is None:
            from revisor.envrun import run_env_py
            from revisor.envrun.redirect import _CaptureStop

            def no_steps(rev: Any, context: Any) -> list[Any]:
                return []

            env_path = Path(self.script.dir) / "env.py"
            url = self.config.get_main_option("sqlalchemy.url") or PLACEHOLDER_URL
            if url == ALEMBIC_TEMPLATE_URL:
                url = PLACEHOLDER_URL
            try:
                session = run_env_py(
                    self, no_steps, url_for_env_py=url, override_env=False, as_sql=True
                )
            except _CaptureStop:
                raise EnvImportError(
                    env_path,
                    RuntimeError(
                        "env.py connects to a database in offline mode (alembic --sql); "
                        "revisor reads its options offline and lets it connect nowhere"
                    ),
                ) from None
            except RevisorError:
                raise
            except Exception as exc:
                raise EnvImportError(env_path, exc) from exc
            options = session.options
            if options.get("target_metadata") is None:
                # env.py files from older templates (Flask-Migrate's among them) give
                # configure() no target_metadata offline; their module-level one is it
                module_metadata = session.module_globals.get("target_metadata")
                if module_metadata is not None:
                    options["target_metadata"] = module_metadata
            self._env_options = options
        return self._env_options

    def env_options(self, url: DatabaseUrl | None = None) -> dict[str, Any]:
        """env.py's context.configure() options for the database at `url`, as its online
        branch gives them (version_table_schema is often set there only): env.py runs
        against `url` in a read-only session up to run_migrations(), which does nothing,
        and its own statements other than reads are skipped (CREATE SCHEMA IF NOT EXISTS).
        A search_path env.py sets (schema per tenant) becomes version_table_schema, where
        alembic keeps the version table then. Without `url`, or when the online run
        fails, the offline options."""
        if url is None:
            return self.offline_env_options()
        key = url.sqlalchemy_url
        if key not in self._online_options:
            from revisor.db.connect import connect
            from revisor.envrun import run_env_py

            def no_steps(rev: Any, context: Any) -> list[Any]:
                return []

            try:
                with connect(url) as conn:
                    session = run_env_py(
                        self,
                        no_steps,
                        target=url,
                        connection=conn,
                        read_only=True,
                        inert=True,
                        probe=True,
                    )
                    conn.rollback()
                options = session.options
                self._search_path_schemas[key] = session.search_path_schema
                if session.search_path_schema and not options.get("version_table_schema"):
                    # env.py points its session at a schema (one per tenant): alembic
                    # creates and reads the version table there
                    options["version_table_schema"] = session.search_path_schema
            except RevisorError:
                raise
            except Exception:  # env.py's own problem online: the offline options serve
                options = {}
            self._online_options[key] = options or self.offline_env_options()
        return self._online_options[key]

    def tenant_schema(self, url: DatabaseUrl) -> str | None:
        """The one schema env.py migrates on that database, when its online branch sets the
        session's search_path to it (schema per tenant, chosen with -x): the rest of the
        database belongs to other tenants. None for an env.py that migrates the database."""
        self.env_options(url)
        return self._search_path_schemas.get(url.sqlalchemy_url)

    def env_py_url(self) -> Any:
        """The database env.py would connect to (`envrun.CapturedUrl`), found by running
        env.py online and stopping it at its first connection attempt: nothing connects."""
        if self._env_py_url is None:
            from revisor.envrun import capture_url

            self._env_py_url = capture_url(self)
        return self._env_py_url

    def _metadata_from_env(self) -> tuple[MetaData, ...]:
        env_path = Path(self.script.dir) / "env.py"
        captured = {"target": self.offline_env_options().get("target_metadata")}
        target = captured.get("target")
        if target is None:
            raise MetadataNotFound(f"{env_path} sets no target_metadata", absent=True)
        items = tuple(target) if isinstance(target, Sequence) else (target,)
        if not all(isinstance(m, MetaData) for m in items):
            raise MetadataNotFound(f"target_metadata in {env_path} is not a MetaData")
        return items

    @contextmanager
    def app_context(self) -> Iterator[None]:
        """While inside, env.py runs as under `flask db`: in the Flask app's context."""
        if self.flask_app is None:
            yield
            return
        with self.flask_app.app_context():
            yield

    # --- pointing env.py at a database -------------------------------------------------

    @contextmanager
    def pointed_at(
        self, url: str | DatabaseUrl, *, connection: Any = None, override: bool = True
    ) -> Iterator[None]:
        """While inside, env.py sees `url` as sqlalchemy.url and in the URL environment
        variable, and (cookbook style) `connection` in config.attributes.

        A DatabaseUrl is handed over in its ConfigParser-safe form (`for_env_py`). With
        override=False an existing environment variable is left alone.
        """
        if isinstance(url, DatabaseUrl):
            url = url.for_env_py
        main = self.config.get_main_option("sqlalchemy.url")
        env_before = os.environ.get(self.url_env)
        had_connection = "connection" in self.config.attributes
        old_connection = self.config.attributes.get("connection")
        # configparser interpolates %, so a URL-encoded password must be escaped.
        self.config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
        if override or env_before is None:
            os.environ[self.url_env] = url
        if connection is not None:
            self.config.attributes["connection"] = connection
        try:
            yield
        finally:
            if main is None:
                self.config.remove_main_option("sqlalchemy.url")
            else:
                self.config.set_main_option("sqlalchemy.url", main.replace("%", "%%"))
            if env_before is None:
                os.environ.pop(self.url_env, None)
            else:
                os.environ[self.url_env] = env_before
            if had_connection:
                self.config.attributes["connection"] = old_connection
            else:
                self.config.attributes.pop("connection", None)


def _locate(explicit: Path | None, cwd: Path) -> tuple[Path | None, Path | None]:
    """(ini, pyproject) to hand to alembic's Config: the explicit file, else the first
    folder from the cwd up that has alembic.ini or a pyproject.toml with [tool.alembic]."""
    if explicit is not None:
        path = explicit if explicit.is_absolute() else cwd / explicit
        if path.is_dir():
            path = path / "alembic.ini"
        if not path.is_file():
            raise ConfigNotFound(cwd, explicit=path)
        if path.suffix == ".toml":
            return None, path
        toml = path.parent / "pyproject.toml"
        return path, toml if _has_tool_alembic(toml) else None
    for folder in _folders_up_to_repository_root(cwd):
        ini = folder / "alembic.ini"
        toml = folder / "pyproject.toml"
        toml_found = toml if _has_tool_alembic(toml) else None
        if ini.is_file():
            return ini, toml_found
        if toml_found:
            return None, toml_found
    raise ConfigNotFound(cwd, up_to=folder)


def _folders_up_to_repository_root(cwd: Path) -> list[Path]:
    """`cwd`, then its parents up to the git repository's root (the folder with `.git`),
    or up to the filesystem root outside a repository: where a user who runs a command in
    a subfolder (app/, migrations/) expects the project's alembic.ini to be found."""
    folders = []
    for folder in (cwd, *cwd.parents):
        folders.append(folder)
        if (folder / ".git").exists():
            break
    return folders


def _check_url_option(config: Config, ini: Path | None) -> None:
    """ConfigParser reads sqlalchemy.url with %-interpolation, so a percent-encoded password
    (p%40ss) or an undefined %(name)s fails every command, alembic's too, with an error
    that quotes the URL. Say so once, with the password masked."""
    try:
        config.get_main_option("sqlalchemy.url")
    except configparser.InterpolationError as exc:
        raw = config.file_config.get(config.config_ini_section, "sqlalchemy.url", raw=True)
        why = (
            f"%({exc.reference})s is not defined"
            if isinstance(exc, configparser.InterpolationMissingOptionError)
            else "a % is neither %% nor %(name)s"
        )
        raise ConfigError(
            f"sqlalchemy.url in {ini} cannot be read ({mask(raw)}): {why}.",
            hint="ConfigParser (alembic too) reads % in alembic.ini as interpolation: write a "
            "percent-encoded password p%40ss as p%%40ss.",
        ) from None


def _lacks_script_location(ini: Path, name: str) -> bool:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(ini, encoding="utf-8")
    except configparser.Error:
        return False
    return not parser.has_option(name, "script_location")


def _has_tool_alembic(path: Path) -> bool:
    if not path.is_file():
        return False
    return "alembic" in read_toml(path).get("tool", {})


def _forget_project_modules(root: Path) -> None:
    """Drop cached imports of the project's own top-level modules (app, models, ...), so a
    second project loaded in the same process (tests, demo after draft) imports its own."""
    names = {p.stem for p in root.glob("*.py")} | {
        p.name for p in root.iterdir() if p.is_dir() and (p / "__init__.py").is_file()
    }
    # Installed packages (alembic, sqlalchemy, pytest, ...) are never forgotten, even when
    # the project has a folder of the same name (a script_location called `alembic/`).
    installed = tuple({sys.prefix, sys.base_prefix, sys.exec_prefix})
    for module in list(sys.modules):
        if module.partition(".")[0] not in names:
            continue
        origin = getattr(sys.modules[module], "__file__", None)
        if origin is None or origin.startswith(installed):
            continue
        del sys.modules[module]


def _anchor_script_location(config: Config, base: Path) -> None:
    """Alembic reads a relative script_location against the cwd; revisor reads it against
    the config's folder when it exists there, so `-c path/to/alembic.ini` means that
    project's migrations even when the cwd has a `migrations/` folder of its own."""
    location = config.get_alembic_option("script_location")
    if not location or ":" in location or Path(location).is_absolute():
        return  # absent (alembic will say so), a package resource, or already absolute
    if (base / location).is_dir():
        config.set_main_option("script_location", str((base / location).resolve()))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        versions = config.get_version_locations_list() or []
    anchored = [
        str((base / v).resolve()) if not Path(v).is_absolute() and (base / v).is_dir() else v
        for v in versions
    ]
    if anchored != versions:
        config.set_main_option("path_separator", "os")
        config.set_main_option("version_locations", os.pathsep.join(anchored))


def _extend_sys_path(config: Config, base: Path) -> None:
    """Alembic resolves prepend_sys_path against the cwd; resolve it against the config's
    folder instead, so `revisor -c elsewhere/alembic.ini` and a command run in a subfolder
    import the app's modules. Alembic's cwd-relative entry is taken out when the cwd is
    another folder: from app/, `.` would put app/'s modules ahead of the libraries."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # alembic's path_separator deprecation notice
        entries = config.get_prepend_sys_paths_list() or []
    for entry in reversed(entries):
        candidate = str((base / entry).resolve())
        if candidate in sys.path:
            sys.path.remove(candidate)
        sys.path.insert(0, candidate)
        if (
            entry in sys.path
            and not Path(entry).is_absolute()
            and str(Path(entry).resolve()) != candidate
        ):
            sys.path.remove(entry)


def _failing_file(exc: BaseException, locations: list[Path]) -> Path | None:
    """The revision file that raised: SyntaxError knows it, otherwise walk the traceback."""
    if isinstance(exc, SyntaxError) and exc.filename:
        return Path(exc.filename)
    roots = [str(p.resolve()) for p in locations]
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        resolved = str(Path(frame.filename).resolve())
        if any(resolved.startswith(root) for root in roots):
            return Path(frame.filename)
    return None


def _import_metadata(spec: str) -> tuple[MetaData, ...]:
    """Import "package.module:attr.path" and return the MetaData it names."""
    module_name, _, attr_path = spec.partition(":")
    if not module_name or not attr_path:
        raise MetadataNotFound(f'{spec!r} is not of the form "package.module:Base.metadata"')
    try:
        obj: Any = import_module(module_name)
    except Exception as exc:
        raise MetadataNotFound(
            f"importing {module_name} raised {type(exc).__name__}: {exc}"
        ) from exc
    for part in attr_path.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise MetadataNotFound(f"{module_name} has no attribute {attr_path}") from None
    items = tuple(obj) if isinstance(obj, Sequence) else (obj,)
    if not all(isinstance(m, MetaData) for m in items):
        raise MetadataNotFound(f"{spec} is not a MetaData")
    return items
