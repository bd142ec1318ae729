"""Column types as PostgreSQL spells them, and which type changes rewrite the table.

`sa.String(length=50)` and `VARCHAR(50)` both become `varchar(50)`, so a rule can compare an
alembic `existing_type` with a new type, or a SQL `ALTER COLUMN ... TYPE`.
"""

from __future__ import annotations

import ast
import re

# SQLAlchemy / PostgreSQL / pg_catalog spellings → one canonical name.
_CANONICAL = {
    "string": "varchar",
    "varchar": "varchar",
    "unicode": "varchar",
    "nvarchar": "varchar",
    "character varying": "varchar",
    "text": "text",
    "unicodetext": "text",
    "citext": "citext",
    "char": "char",
    "nchar": "char",
    "bpchar": "char",
    "character": "char",
    "integer": "integer",
    "int": "integer",
    "int4": "integer",
    "biginteger": "bigint",
    "bigint": "bigint",
    "int8": "bigint",
    "smallinteger": "smallint",
    "smallint": "smallint",
    "int2": "smallint",
    "numeric": "numeric",
    "decimal": "numeric",
    "float": "double precision",
    "double": "double precision",
    "double_precision": "double precision",
    "float8": "double precision",
    "real": "real",
    "float4": "real",
    "boolean": "boolean",
    "bool": "boolean",
    "date": "date",
    "time": "time",
    "interval": "interval",
    "uuid": "uuid",
    "json": "json",
    "jsonb": "jsonb",
    "inet": "inet",
    "cidr": "cidr",
    "bytea": "bytea",
    "largebinary": "bytea",
    "varbit": "varbit",
    "bit": "bit",
    "timestamptz": "timestamptz",
    "timetz": "timetz",
}


def _canonical(name: str) -> str:
    return _CANONICAL.get(name.lower(), name.lower())


def type_text(node: ast.AST) -> str | None:
    """`varchar(50)` for `sa.String(length=50)`; None when the node is not a type we know."""
    call = node if isinstance(node, ast.Call) else None
    target = call.func if call else node
    if isinstance(target, ast.Attribute):
        raw = target.attr
    elif isinstance(target, ast.Name):
        raw = target.id
    else:
        return None
    lowered = raw.lower()
    if lowered in ("datetime", "timestamp"):
        timezone = _kw_literal(call, "timezone") if call else None
        return "timestamptz" if timezone is True else "timestamp"
    if lowered in ("enum",):
        return "enum"
    args = _literal_args(call, ("length", "precision", "scale")) if call else []
    name = _canonical(lowered)
    return f"{name}({','.join(str(a) for a in args)})" if args else name


def _kw_literal(call: ast.Call | None, key: str) -> object:
    if call is None:
        return None
    for keyword in call.keywords:
        if keyword.arg == key and isinstance(keyword.value, ast.Constant):
            return keyword.value.value
    return None


def _literal_args(call: ast.Call, keys: tuple[str, ...]) -> list[int]:
    values = [
        a.value for a in call.args if isinstance(a, ast.Constant) and isinstance(a.value, int)
    ]
    for key in keys:
        value = _kw_literal(call, key)
        if isinstance(value, int) and not isinstance(value, bool):
            values.append(value)
    return values


def sql_type_text(names: list[str], modifiers: list[int]) -> str:
    """Canonical text for a pglast TypeName (`pg_catalog.varchar` + (20) → varchar(20))."""
    name = _canonical(names[-1])
    return f"{name}({','.join(str(m) for m in modifiers)})" if modifiers else name


_SHAPE = re.compile(r"^(?P<name>[a-z ]+?)(?:\((?P<mods>[0-9, ]*)\))?$")


def _split(text: str) -> tuple[str, tuple[int, ...]]:
    match = _SHAPE.match(text.strip().lower())
    if not match:
        return text.lower(), ()
    mods = tuple(int(m) for m in (match.group("mods") or "").split(",") if m.strip())
    return match.group("name"), mods


def rewrites_table(old: str | None, new: str | None) -> bool | None:
    """Whether `ALTER COLUMN ... TYPE new` rewrites a table whose column is `old`.

    PostgreSQL skips the rewrite only when the old type is binary coercible to the new one
    and the new type modifier accepts every old value: varchar(n) → varchar(m ≥ n), varchar
    or text, text → varchar, numeric(p, s) → numeric(p' ≥ p, s) or numeric, cidr → inet,
    varbit(n) → varbit(m ≥ n). Returns None when either type is unknown.
    """
    if not old or not new:
        return None
    old_name, old_mods = _split(old)
    new_name, new_mods = _split(new)
    if (old_name, old_mods) == (new_name, new_mods):
        return False
    text_like = {"varchar", "text"}
    if old_name in text_like and new_name in text_like:
        if new_name == "text" or not new_mods:
            return False
        return not (old_name == "varchar" and old_mods and new_mods[0] >= old_mods[0])
    if old_name == "numeric" and new_name == "numeric":
        if not new_mods:
            return False
        if len(old_mods) >= 1 and len(new_mods) >= 1:
            old_scale = old_mods[1] if len(old_mods) > 1 else 0
            new_scale = new_mods[1] if len(new_mods) > 1 else 0
            return not (new_mods[0] >= old_mods[0] and new_scale == old_scale)
        return True
    if old_name == "varbit" and new_name == "varbit":
        return bool(new_mods and (not old_mods or new_mods[0] < old_mods[0]))
    return (old_name, new_name) != ("cidr", "inet")


def possibly_free(new: str | None) -> bool:
    """True when some old type could become `new` without a rewrite (unknown old type)."""
    if not new:
        return True
    name, _ = _split(new)
    return name in ("varchar", "text", "numeric", "inet", "varbit")


_COMPILED = re.compile(
    r"^(?P<name>[A-Za-z_][A-Za-z_0-9 ]*?)\s*(?:\((?P<mods>[0-9, ]*)\))?"
    r"(?P<zone>\s+WITH(?:OUT)?\s+TIME\s+ZONE)?$",
    re.IGNORECASE,
)


def compiled_type_text(sql: str) -> str:
    """Canonical text for a type as SQLAlchemy compiles it for PostgreSQL (`VARCHAR(255)`
    → varchar(255), `TIMESTAMP WITH TIME ZONE` → timestamptz); other spellings (arrays,
    domains) lowered as they are."""
    match = _COMPILED.match(sql.strip())
    if not match:
        return sql.strip().lower()
    name = _canonical(" ".join(match.group("name").split()))
    zone = " ".join((match.group("zone") or "").split()).upper()
    if name in ("timestamp", "time") and zone == "WITH TIME ZONE":
        name += "tz"
    mods = [m.strip() for m in (match.group("mods") or "").split(",") if m.strip()]
    return f"{name}({','.join(mods)})" if mods else name


# Changes after which every value of the old type is a value of the new one and reads back
# as the same Python value (int stays int, str stays str).
_WIDER = {
    ("smallint", "integer"),
    ("smallint", "bigint"),
    ("integer", "bigint"),
    ("real", "double precision"),
    ("json", "jsonb"),
    ("enum", "varchar"),  # an enum column read as text: SQLAlchemy's Enum takes the string
    ("enum", "text"),
}


def keeps_values(old: str | None, new: str | None) -> bool | None:
    """Whether code written for a column of type `old` still writes and reads it the same
    once it is `new`: the same type, a longer varchar, text, a wider number. None when
    either type is unknown (an array, a domain, a custom type)."""
    if not old or not new:
        return None
    known = {*_CANONICAL.values(), "enum", "timestamp"}
    if _split(old)[0] not in known or _split(new)[0] not in known:
        return None
    if rewrites_table(old, new) is False:  # binary coercible, the modifier takes every value
        return True
    return (_split(old)[0], _split(new)[0]) in _WIDER
