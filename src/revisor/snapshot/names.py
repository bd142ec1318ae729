"""Schema object names as PostgreSQL reads them, for messages and for printed SQL.

A catalog object's schema and name are kept apart (`CatalogObject.schema`, `.name`), and
joined only here, each part quoted where PostgreSQL needs it: `billing.invoices` is the
table invoices in schema billing, `"billing.invoices"` a table of that name in public,
`"IxByHand"` an index whose name has capitals (unquoted, PostgreSQL folds it to
ixbyhand). Messages leave out `public.`; SQL always names the schema, so a statement
means the same object whatever the session's search_path, and a type whose name is also
a keyword (`time`) is never read as the built-in one.
"""

from __future__ import annotations

from functools import cache

# PostgreSQL keywords that cannot be a column, constraint or role name unquoted
# (type_func_name_keyword in src/include/parser/kwlist.h) and that SQLAlchemy's
# RESERVED_WORDS leaves out; its own list has the others.
_ALSO_RESERVED = frozenset({"collation", "concurrently", "tablesample"})


@cache
def _preparer():  # type: ignore[no-untyped-def]
    from sqlalchemy.dialects import postgresql

    return postgresql.dialect().identifier_preparer


def quote(name: str) -> str:
    """`name` as an SQL identifier: bare when PostgreSQL reads it back unchanged (lower
    case, no keyword), else in double quotes with inner quotes doubled."""
    if name in _ALSO_RESERVED:
        return _preparer().quote_identifier(name)
    return str(_preparer().quote(name))


def shown(schema: str | None, name: str) -> str:
    """The name for messages: `invoices` in public, `billing.invoices` elsewhere."""
    if schema is None or schema == "public":
        return quote(name)
    return f"{quote(schema)}.{quote(name)}"


def sql_name(schema: str | None, name: str) -> str:
    """The name for SQL, schema-qualified: `public.invoices`, `"Bill ing"."Invoices"`."""
    return quote(name) if schema is None else f"{quote(schema)}.{quote(name)}"
