"""Database URLs: parse, normalise to a sync psycopg driver, mask passwords.

Every password revisor sees is registered with `revisor.db.redaction` so that the CLI can
scrub it from any text it prints, tracebacks included.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from revisor.db.redaction import (
    mask_malformed_url,
    mask_url_passwords,
    redact,
    register_secret,
)
from revisor.errors import InvalidDatabaseUrl, UnsupportedDatabase

__all__ = ["DatabaseUrl", "mask", "parse_url", "redact", "register_secret"]


@dataclass(frozen=True)
class DatabaseUrl:
    """A PostgreSQL URL, normalised for revisor's own sync connections."""

    url: URL
    source: str  # "--url", "DATABASE_URL", "sqlalchemy.url", "embedded"
    original_driver: str | None = None

    @property
    def sqlalchemy_url(self) -> str:
        """The URL with its password, for SQLAlchemy engines (never print this)."""
        return self.url.render_as_string(hide_password=False)

    @property
    def masked(self) -> str:
        """The URL for messages: the password hidden, also when given as `?password=`."""
        # libpq reads `?password=` too, which SQLAlchemy's hide_password leaves visible.
        return mask_url_passwords(self.url.render_as_string(hide_password=True))

    @property
    def server_masked(self) -> str:
        """The server alone, for "a scratch database on ...": no database name, no
        password (a socket directory stays in the query)."""
        return DatabaseUrl(self.url._replace(database=None), self.source).masked

    @property
    def database(self) -> str | None:
        return self.url.database

    @property
    def user(self) -> str | None:
        return self.url.username

    @property
    def for_env_py(self) -> str:
        """The URL as handed to a user's env.py. A socket directory in the query is written
        unencoded (`host=/tmp/pg`, which SQLAlchemy and libpq accept), because env.py files
        often pass the URL through ConfigParser (set_main_option), where `%2F` is
        interpolation syntax."""
        return _plain_socket_dir(self.sqlalchemy_url)

    def shown(self, *, driver: str | None, show_password: bool = False) -> str:
        """The URL for people and other tools: `postgresql+DRIVER://`, or libpq's plain
        `postgresql://` (what psql reads) when `driver` is None; the password masked unless
        `show_password`; a socket directory unencoded."""
        url = self.url.set(drivername=f"postgresql+{driver}" if driver else "postgresql")
        text = url.render_as_string(hide_password=not show_password)
        if not show_password and "password" in url.query:
            text = re.sub(r"([?&]password=)[^&]*", r"\1***", text)
        return _plain_socket_dir(text)

    def libpq_kwargs(self) -> dict[str, object]:
        """Keyword arguments for `psycopg.connect`."""
        kwargs: dict[str, object] = {}
        if self.url.host:
            kwargs["host"] = self.url.host
        if self.url.port:
            kwargs["port"] = self.url.port
        if self.url.username:
            kwargs["user"] = self.url.username
        if self.url.password:
            kwargs["password"] = self.url.password
        if self.url.database:
            kwargs["dbname"] = self.url.database
        for key, value in self.url.query.items():
            kwargs[key] = value if isinstance(value, str) else value[-1]
        return kwargs

    def with_database(self, name: str) -> DatabaseUrl:
        """The same server and credentials, another database."""
        return DatabaseUrl(self.url.set(database=name), self.source, self.original_driver)


def _plain_socket_dir(text: str) -> str:
    """`text` with a socket directory in its query written unencoded (`host=/tmp/pg`)."""
    head, sep, query = text.partition("?")

    def plain(match: re.Match[str]) -> str:
        value = unquote(match.group(2))
        if re.fullmatch(r"[\w/.\-]+", value):
            return match.group(1) + value
        return match.group(0)

    return head + sep + re.sub(r"((?:^|&)host=)([^&]*)", plain, query)


def parse_url(raw: str, *, source: str) -> DatabaseUrl:
    """Parse a user-given URL; accept postgres://, async drivers; reject other databases.

    Raises `InvalidDatabaseUrl` (malformed, a port that is not one, a query option libpq
    does not know) or `UnsupportedDatabase`; never includes the password.
    """
    text = raw.strip()
    if text.startswith("postgres://"):
        # Heroku/Railway style; SQLAlchemy only knows the "postgresql" name.
        text = "postgresql://" + text[len("postgres://") :]
    try:
        url = make_url(text)
    except ArgumentError:
        raise InvalidDatabaseUrl(
            mask_malformed_url(text), _why_unparsable(text), source=source
        ) from None
    except ValueError:  # SQLAlchemy's int() of the port
        raise InvalidDatabaseUrl(
            mask_malformed_url(text),
            f"the port {_port_text(text)!r} is not a number",
            source=source,
        ) from None
    register_secret(url.password if isinstance(url.password, str) else None)
    query_password = url.query.get("password")  # ?password=... is libpq's too
    for secret in (query_password,) if isinstance(query_password, str) else query_password or ():
        register_secret(secret)
    backend, _, driver = url.drivername.partition("+")
    if backend != "postgresql":
        raise UnsupportedDatabase(backend)
    # asyncpg/psycopg2/pg8000 URLs are used through psycopg 3's sync driver by revisor itself.
    url = url.set(drivername="postgresql+psycopg")
    if url.password == "":
        url = url._replace(password=None)  # `user:@host` is no password: not `user:***@`
    parsed = DatabaseUrl(url=url, source=source, original_driver=driver or None)
    _check_port_and_options(parsed)
    return parsed


def _why_unparsable(text: str) -> str:
    if "://" not in text:
        return "it does not start with postgresql:// (check the '://' after the scheme)"
    return "it is not of the form postgresql://USER:PASSWORD@HOST:PORT/DBNAME"


def _port_text(text: str) -> str:
    """The port as written in a URL whose port SQLAlchemy could not read."""
    authority = re.split(r"[/?]", text.partition("://")[2], maxsplit=1)[0]
    host_port = authority.rpartition("@")[2]
    if host_port.startswith("["):  # [IPv6]:port
        host_port = host_port.partition("]")[2]
    return host_port.partition(":")[2]


# The hint for a query option (or value) libpq refuses.
LIBPQ_OPTIONS_HINT = (
    "Query options are libpq's connection parameters (sslmode, connect_timeout, "
    "application_name, ...): https://www.postgresql.org/docs/current/libpq-connect.html"
)
# Options of asyncpg URLs that libpq knows under another name.
_LIBPQ_NAMES = {"ssl": "sslmode"}


def _check_port_and_options(url: DatabaseUrl) -> None:
    """Refuse what libpq would refuse at connect time, before anything runs: a port
    outside 1-65535 and a query option that is not a libpq connection parameter (revisor
    connects with psycopg, which passes every option to libpq)."""
    port = url.url.port
    if port is not None and not 0 < port < 65536:
        raise InvalidDatabaseUrl(
            url.masked, f"port {port} is out of range (1-65535)", source=url.source
        )
    if not url.url.query:
        return
    from psycopg import pq

    known = {option.keyword.decode() for option in pq.Conninfo.get_defaults()}
    unknown = [key for key in url.url.query if key not in known]
    if not unknown:
        return
    key = unknown[0]
    hint = (
        f"revisor connects with psycopg (libpq): write {_LIBPQ_NAMES[key]}= instead of {key}=."
        if key in _LIBPQ_NAMES
        else LIBPQ_OPTIONS_HINT
    )
    raise InvalidDatabaseUrl(
        url.masked, f"{key!r} is not a PostgreSQL connection option", source=url.source, hint=hint
    )


def mask(raw: str) -> str:
    """Mask the password of a URL given as text, even one that does not parse."""
    return redact(mask_malformed_url(raw))
