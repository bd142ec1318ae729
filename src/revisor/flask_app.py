"""Flask-Migrate projects: the Flask app found as `flask` finds it, and alembic's Config
built as `flask db` builds it.

A `flask db init` project has no alembic.ini beside the app: `migrations/alembic.ini`
holds only logging, Flask-Migrate supplies script_location, and env.py reads the engine
and the models from `current_app.extensions["migrate"]`, so it only runs inside the app's
context. revisor loads the app once per project and runs env.py in its context.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from revisor.config import RevisorSettings
from revisor.errors import ConfigError

FLASK_MARKERS = ("current_app", "flask")


@dataclass
class FlaskProject:
    """A loaded Flask app and the Alembic Config its Flask-Migrate extension makes."""

    app: Any
    config: Any  # alembic.config.Config
    directory: Path


def uses_flask(env_py: Path) -> bool:
    """Whether env.py reads the Flask app (`current_app`): `flask db init`'s template and
    the env.py files derived from it."""
    try:
        text = env_py.read_text(encoding="utf-8")
    except OSError:
        return False
    return all(marker in text for marker in FLASK_MARKERS)


def app_import_path(cwd: Path, explicit: str | None, settings: RevisorSettings) -> str | None:
    """What `flask` would load: --app, then $FLASK_APP (after .flaskenv/.env are read, as
    `flask` reads them), then [tool.revisor] flask-app; None: flask's own default
    (wsgi.py or app.py in the current folder)."""
    if explicit:
        return explicit
    _load_dotenv(cwd)
    from_env = os.environ.get("FLASK_APP")
    if from_env:
        return from_env
    configured = settings.get("flask-app")
    if configured is not None and not isinstance(configured, str):
        raise ConfigError('[tool.revisor] flask-app must be a string like "app:create_app()"')
    return configured


def load_flask_project(
    cwd: Path,
    *,
    import_path: str | None,
    directory: Path | None = None,
    x_args: Sequence[str] = (),
) -> FlaskProject:
    """Import the Flask app (as `flask --app import_path`, from `cwd`) and build the Alembic
    Config of its Flask-Migrate extension (`directory`: the migrations folder, default
    the extension's). Raises ConfigError when there is no app or no Flask-Migrate."""
    try:
        from flask.cli import NoAppException, ScriptInfo
    except ImportError:
        raise ConfigError(
            "This is a Flask-Migrate project (env.py reads current_app), but Flask is not "
            "installed where revisor runs.",
            hint="Install revisor in the app's environment (pip install revisor there).",
        ) from None
    previous = Path.cwd()
    os.chdir(cwd)  # flask resolves --app and wsgi.py/app.py against the current folder
    try:
        app = ScriptInfo(app_import_path=import_path, set_debug_flag=False).load_app()
    except NoAppException as exc:
        raise ConfigError(
            f"Could not load the Flask app: {exc}",
            hint="Name it with --app module:app (or module:create_app()), FLASK_APP, "
            'a .flaskenv file, or [tool.revisor] flask-app = "module:app".',
        ) from None
    except Exception as exc:
        first = str(exc).strip().splitlines()[:1]
        raise ConfigError(
            f"The Flask app ({import_path or 'wsgi.py or app.py'}) failed to load: "
            f"{type(exc).__name__}{': ' + first[0] if first else ''}",
            hint="revisor loads it as `flask --app` does, in the same environment: set "
            "what the app needs to start (rerun with --debug for the traceback).",
        ) from exc
    finally:
        os.chdir(previous)
    extension = getattr(app, "extensions", {}).get("migrate")
    if extension is None:
        raise ConfigError(
            f"The Flask app {app.name!r} has no Flask-Migrate extension.",
            hint="revisor reads the migrations folder from Migrate(app, db); or pass the "
            "Alembic config with -c.",
        )
    folder = directory if directory is not None else cwd / extension.directory
    with app.app_context():
        config = extension.migrate.get_config(str(folder), x_arg=list(x_args))
    return FlaskProject(app=app, config=config, directory=folder)


def _load_dotenv(cwd: Path) -> None:
    """`flask` reads .env and .flaskenv (values already in the environment win)."""
    try:
        from flask.cli import load_dotenv
    except ImportError:
        return
    previous = Path.cwd()
    os.chdir(cwd)
    try:
        load_dotenv()
    finally:
        os.chdir(previous)
