"""What a PostgreSQL error is, told by its SQLSTATE — never by its message.

The server writes its messages in its `lc_messages` language ("Datenbank »x« existiert
nicht"); the five-character SQLSTATE is the same everywhere, so every decision revisor
takes on a server error (which hint to give, whether a lock timed out, which extension
is missing) reads the code. The message is only shown.
"""

from __future__ import annotations

from collections.abc import Iterator

INVALID_PASSWORD = "28P01"  # password authentication failed
UNDEFINED_DATABASE = "3D000"  # database "x" does not exist
INVALID_PARAMETER_VALUE = "22023"  # SET / options=-c with a value the parameter refuses
UNDEFINED_OBJECT = "42704"  # e.g. an unknown configuration parameter, an unknown type
UNDEFINED_FUNCTION = "42883"
FEATURE_NOT_SUPPORTED = "0A000"  # CREATE EXTENSION of one the server lacks (PG 15+)
UNDEFINED_FILE = "58P01"  # the same before PostgreSQL 15 (no control file)
LOCK_NOT_AVAILABLE = "55P03"  # canceling statement due to lock timeout


def sqlstate(error: BaseException) -> str | None:
    """The SQLSTATE of a driver error (SQLAlchemy's wrapper or psycopg's), else None."""
    orig = getattr(error, "orig", None) or error
    state = getattr(orig, "sqlstate", None)
    return state if isinstance(state, str) else None


def causes(error: BaseException) -> Iterator[BaseException]:
    """`error`, then what caused it (`raise ... from`, or raised while handling), once each."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__
