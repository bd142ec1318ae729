"""While env.py runs under revisor, revisor decides where its connections go.

env.py files build their connection from whatever the project uses: sqlalchemy.url, a
settings object, an environment variable revisor does not know, an engine the app created
at import, a Flask-SQLAlchemy engine. Rewriting env.py's inputs cannot cover all of that, so
revisor works one level lower, on SQLAlchemy's own events, for every engine in the process
while env.py runs:

- redirect: `do_connect` builds each new DBAPI connection for revisor's target instead of
  the URL the engine was made with, keeping the engine's driver (an asyncpg engine gets an
  asyncpg connection to the target) and its own connect arguments (search_path, timeouts);
- guard: each new connection, each connection checked out of a pool, and each statement on
  a connection opened before revisor started, is first asked which database it is on
  (`identity.identify`). A connection on another database is never used: a pooled one is
  discarded (the pool reconnects, through the redirect), a new one stops the run with
  `WrongDatabase` before its first statement (an engine with its own `creator=` function
  connects without SQLAlchemy's connect arguments, so it cannot be redirected);
- capture: with no target, the first connection attempt is stopped and its URL recorded:
  that is the database env.py would migrate (`revisor status`, the project's database).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.engine import URL, Dialect, Engine
from sqlalchemy.pool import Pool

from revisor.db.url import DatabaseUrl, register_secret
from revisor.envrun.identity import DatabaseIdentity, identify, url_of_connection
from revisor.errors import WrongDatabase

# Keys of a DBAPI connect() call that say where to connect and as whom (libpq, psycopg 2/3,
# asyncpg and pg8000 names), plus TLS settings that belong to the original server: a
# redirected connection takes these from revisor's target and keeps all other arguments.
_TARGET_KEYS = frozenset(
    {
        "host",
        "hostaddr",
        "port",
        "user",
        "username",
        "password",
        "passfile",
        "dbname",
        "database",
        "dsn",
        "service",
        "unix_sock",
        "ssl",
        "sslmode",
        "sslcert",
        "sslkey",
        "sslrootcert",
        "sslcrl",
        "sslcrldir",
        "sslpassword",
        "sslsni",
        "target_session_attrs",
    }
)

_VERIFIED = "revisor.verified"  # connection-record info key: the redirect that checked it


class _CaptureStop(BaseException):
    """Raised at env.py's first connection attempt in capture mode. A BaseException, so
    that env.py's own `except Exception` cannot turn it into a fallback connection."""


@dataclass
class Redirect:
    """One env.py run's redirect. `target` None means capture: connect nowhere, record the
    URL env.py tries (`attempted`)."""

    target: DatabaseUrl | None
    identity: DatabaseIdentity | None = None
    read_only: bool = False
    attempted: list[URL] = field(default_factory=list)
    custom_creator: bool = False  # a connection attempt that bypassed SQLAlchemy's connect
    violation: WrongDatabase | None = None
    _records: list[weakref.ref[Any]] = field(default_factory=list)

    @property
    def capturing(self) -> bool:
        return self.target is None

    # --- the listeners -------------------------------------------------------------------

    def _do_connect(
        self, dialect: Dialect, record: Any, cargs: list[Any], cparams: dict[str, Any]
    ) -> Any:
        original = url_from_connect_args(dialect, cargs, cparams)
        self.attempted.append(original)
        if self.target is None:
            raise _CaptureStop
        url = self.target.url.set(drivername=f"{dialect.name}+{dialect.driver}")
        new_args, new_params = dialect.create_connect_args(url)
        kept = {k: v for k, v in cparams.items() if k not in _TARGET_KEYS}
        # The engine's own cargs/cparams are left as they were: after the run the engine
        # connects where it always did.
        return dialect.connect(*new_args, **{**kept, **new_params})

    def _on_connect(self, dbapi_connection: Any, record: Any) -> None:
        """A new DBAPI connection (redirected, or made by the engine's own creator)."""
        if self.target is None:
            # Only an engine with its own creator= gets here in capture mode (do_connect
            # stopped the others): it has connected, so read where from the driver.
            self.custom_creator = True
            live = url_of_connection(dbapi_connection)
            if live is not None:
                self.attempted.append(live)
            raise _CaptureStop
        self._records.append(weakref.ref(record))
        self._verify(dbapi_connection, new=True)
        if self.read_only:
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            finally:
                cursor.close()
        dbapi_connection.commit()  # end the transaction the driver opened for the checks
        record.info[_VERIFIED] = self

    def _on_checkout(self, dbapi_connection: Any, record: Any, proxy: Any) -> None:
        """A pooled connection, possibly opened before revisor started."""
        if record.info.get(_VERIFIED) is self:
            return
        if self.target is None:
            raise exc.DisconnectionError("revisor: reconnect to capture the URL")
        if not self._matches(dbapi_connection):
            # Made before the run, for the app's own database: the pool drops it and
            # connects again, through the redirect.
            raise exc.DisconnectionError("revisor: pooled connection to another database")
        dbapi_connection.rollback()
        record.info[_VERIFIED] = self

    def _before_execute(self, conn: Any, *args: Any) -> None:
        """A statement on a connection checked out before the run (e.g. one the app opened
        at import and env.py passes to context.configure)."""
        if self.violation is not None:
            raise self.violation
        info = conn.info
        if info.get(_VERIFIED) is self:
            return
        if self.target is None:
            raise _CaptureStop
        self._verify(conn.connection.dbapi_connection, new=False)
        info[_VERIFIED] = self

    # --- checks --------------------------------------------------------------------------

    def _matches(self, dbapi_connection: Any) -> bool:
        assert self.identity is not None
        return identify(dbapi_connection).same_database(self.identity)

    def _verify(self, dbapi_connection: Any, *, new: bool) -> None:
        assert self.identity is not None and self.target is not None
        actual = identify(dbapi_connection)
        if actual.same_database(self.identity):
            return
        self.violation = WrongDatabase(
            actual.describe(),
            self.target.masked,
            custom_creator=new,
        )
        raise self.violation

    # --- installing ----------------------------------------------------------------------

    @contextmanager
    def installed(self) -> Iterator[Redirect]:
        """Listen on every engine and pool of the process while inside."""
        listeners = [
            (Engine, "do_connect", self._do_connect),
            (Pool, "connect", self._on_connect),
            (Pool, "checkout", self._on_checkout),
            (Engine, "before_cursor_execute", self._before_execute),
        ]
        flags = {cls: cls.__dict__.get("_has_events") for cls in (Engine, Dialect)}
        with _one_at_a_time:
            for target, name, fn in listeners:
                event.listen(target, name, fn)
            try:
                yield self
            finally:
                for target, name, fn in listeners:
                    event.remove(target, name, fn)
                for cls, flag in flags.items():
                    if flag is False:  # listening set it class-wide; no other listener now
                        cls._has_events = False  # type: ignore[attr-defined]
                self._release_connections()

    def _release_connections(self) -> None:
        """Connections made for revisor's target that an engine's pool kept (an app's
        module-level engine, Flask-SQLAlchemy's) must not serve the app after the run."""
        for ref in self._records:
            record = ref()
            if record is not None and getattr(record, "dbapi_connection", None) is not None:
                with suppress(Exception):
                    record.invalidate()


# Listeners are process-wide: two env.py runs at once (threads) would each see the other's
# connections as foreign. revisor runs env.py from one thread at a time; make it certain.
_one_at_a_time = threading.RLock()


def url_from_connect_args(dialect: Dialect, cargs: list[Any], cparams: dict[str, Any]) -> URL:
    """The URL a DBAPI connect() call was about to use, rebuilt from its arguments (the
    engine's own URL is not passed to `do_connect`). Its password is registered for
    redaction."""
    params = dict(cparams)
    if cargs and isinstance(cargs[0], str) and "=" in cargs[0]:  # a libpq DSN string
        from psycopg.conninfo import conninfo_to_dict

        params = {**conninfo_to_dict(cargs[0]), **params}
    host = params.get("host") or params.get("unix_sock")
    query: dict[str, str] = {}
    if isinstance(host, str) and host.startswith("/"):
        query["host"], host = host, None
    password = params.get("password")
    if isinstance(password, str):
        register_secret(password)
    port = params.get("port")
    return URL.create(
        f"{dialect.name}+{dialect.driver}",
        username=params.get("user") or params.get("username"),
        password=password if isinstance(password, str) else None,
        host=host if isinstance(host, str) else None,
        port=int(port) if port not in (None, "") else None,
        database=params.get("dbname") or params.get("database"),
        query=query,
    )
