"""SQL read by PostgreSQL's own parser (pglast), as plain parse-tree data.

Everything revisor decides about SQL text — which functions a default calls, which columns
a CHECK tests for NULL, which labels an UPDATE writes — is read from the parse tree, never
matched with a regex: a function name inside a string literal (`'now()'`) is a literal, and
a quoted identifier (`"Col"`) keeps its case while an unquoted one is folded (`Col` is
`col`), exactly as the server reads them.

The tree is pglast's JSON form (`parse_sql_json`): a node is `{"NodeType": {fields}}`.
It is about eight times faster to build than pglast's Python node objects, which matters
when review reads thousands of `op.execute(...)` strings. libpg_query leaves out fields at
their default value (false, 0, empty): read them with `.get()`.

pglast is imported on first use, so a history without SQL strings never loads it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

Tree = dict[str, Any]


class SqlSyntaxError(ValueError):
    """The text is not SQL PostgreSQL can parse; `str()` is the parser's message."""


def parse(sql: str) -> list[Tree]:
    """The raw statements of `sql` (`{"stmt": node, "stmt_location": int, "stmt_len": int}`
    each; the last statement has no stmt_len). Raises SqlSyntaxError. The trees are
    shared between calls with the same text (histories repeat `SET lock_timeout ...`):
    read them, never change them."""
    statements = _parse(sql)
    if isinstance(statements, str):
        raise SqlSyntaxError(statements)
    return list(statements)


@lru_cache(maxsize=4096)
def _parse(sql: str) -> tuple[Tree, ...] | str:
    """The statements, or the parser's message."""
    from pglast.parser import ParseError, parse_sql_json

    try:
        return tuple(json.loads(parse_sql_json(sql)).get("stmts", ()))
    except ParseError as exc:
        return str(exc)


@lru_cache(maxsize=1024)
def _expression_json(text: str) -> str | None:
    from pglast.parser import ParseError, parse_sql_json

    try:
        return parse_sql_json(f"SELECT {text}")
    except ParseError:
        return None


def expression(text: str | None) -> Tree | None:
    """The parse tree of one SQL expression (a default, a CHECK condition, a USING clause),
    or None when `text` is empty or not a single expression."""
    if not text or not text.strip():
        return None
    raw = _expression_json(text)
    if raw is None:
        return None
    statements = json.loads(raw).get("stmts", ())
    if len(statements) != 1:
        return None  # "1; DROP TABLE x" is not an expression
    targets = statements[0]["stmt"].get("SelectStmt", {}).get("targetList", ())
    if len(targets) != 1 or "ResTarget" not in targets[0]:
        return None
    value = targets[0]["ResTarget"].get("val")
    return value if isinstance(value, dict) else None


def node_type(node: Tree) -> str | None:
    """`"FuncCall"` for `{"FuncCall": {...}}`; None for anything else."""
    if len(node) == 1:
        key = next(iter(node))
        if key[:1].isupper():
            return key
    return None


def walk(tree: Any) -> Iterator[tuple[str, Tree]]:
    """Every node under `tree` (itself included) as (type, fields), depth first."""
    stack = [tree]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(reversed(item))
        elif isinstance(item, dict):
            kind = node_type(item)
            fields = item[kind] if kind else item
            if kind:
                yield kind, fields
            if isinstance(fields, dict):
                stack.extend(reversed(list(fields.values())))


def strings(nodes: Any) -> list[str]:
    """The values of a list of `String` nodes (names: `["pg_catalog", "int4"]`)."""
    return [n["String"].get("sval", "") for n in nodes or () if "String" in n]


def function_names(tree: Any) -> list[str]:
    """The functions `tree` calls, unqualified, in order (`public.f(x)` → `f`)."""
    return [
        names[-1]
        for kind, fields in walk(tree)
        if kind == "FuncCall"
        if (names := strings(fields.get("funcname")))
    ]


def column_names(tree: Any) -> list[str]:
    """The columns `tree` references, unqualified, in order of first mention."""
    found: list[str] = []
    for kind, fields in walk(tree):
        if kind == "ColumnRef":
            names = strings(fields.get("fields"))
            if names and names[-1] not in found:
                found.append(names[-1])
    return found


def string_constants(tree: Any) -> set[str]:
    """The string literals in `tree` (`'monthly'` → monthly)."""
    return {
        fields["sval"].get("sval", "")
        for kind, fields in walk(tree)
        if kind == "A_Const" and isinstance(fields.get("sval"), dict)
    }


def guard_constants(do_sql: str) -> set[str]:
    """The string literals a `DO` block's queries and conditions test, when the block can
    RAISE an error: a guard that stops the migration while rows match (`IF EXISTS (SELECT
    ... WHERE plan = 'LEGACY') THEN RAISE EXCEPTION ...`). Empty for a block that never
    raises or that PL/pgSQL's parser refuses. The texts of the RAISE itself (its message
    and parameters) are not tests and are left out."""
    from pglast.parser import ParseError, parse_plpgsql_json

    try:
        functions = json.loads(parse_plpgsql_json(do_sql))
    except (ParseError, ValueError):
        return set()
    found: set[str] = set()
    raises = False
    stack: list[Any] = [functions]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
            continue
        if not isinstance(item, dict):
            continue
        raise_stmt = item.get("PLpgSQL_stmt_raise")
        if raise_stmt is not None:
            # elog level 21 is ERROR (RAISE EXCEPTION, and RAISE without a level)
            raises = raises or raise_stmt.get("elog_level", 0) >= 21
            continue
        query = item.get("PLpgSQL_expr", {}).get("query")
        if isinstance(query, str):
            found |= _constants_of(query)
        stack.extend(item.values())
    return found if raises else set()


def _constants_of(query: str) -> set[str]:
    """String literals of a PL/pgSQL query: a statement (`SELECT count(*) ...`) or an
    expression (`EXISTS (...)`, `n > 0`); an assignment or anything unparsable: none."""
    try:
        return string_constants(parse(query))
    except SqlSyntaxError:
        return string_constants(expression(query))


def not_null_columns(tree: Any) -> set[str]:
    """Columns `tree` tests with `col IS NOT NULL` (anywhere in it)."""
    found: set[str] = set()
    for kind, fields in walk(tree):
        if kind == "NullTest" and fields.get("nulltesttype") == "IS_NOT_NULL":
            names = strings(fields.get("arg", {}).get("ColumnRef", {}).get("fields"))
            if names:
                found.add(names[-1])
    return found


def is_plain_cast(tree: Any) -> bool:
    """True when an expression only casts a column (`col::text::t`): it maps no value."""
    node = tree
    while isinstance(node, dict) and node_type(node) == "TypeCast":
        node = node["TypeCast"].get("arg")
    return isinstance(node, dict) and node_type(node) == "ColumnRef"


def quote_ident(name: str) -> str:
    """`name` as PostgreSQL's quote_ident() spells it: bare when it is lower case and not
    a keyword that needs quoting, else in double quotes (`TaxId` → `"TaxId"`)."""
    from pglast.keywords import UNRESERVED_KEYWORDS

    plain = name[:1].isalpha() or name[:1] == "_"
    plain = plain and name.isascii() and all(c.islower() or c.isdigit() or c == "_" for c in name)
    if plain and (name not in _keywords() or name in UNRESERVED_KEYWORDS):
        return name
    return '"' + name.replace('"', '""') + '"'


@lru_cache(maxsize=1)
def _keywords() -> frozenset[str]:
    from pglast import keywords

    return frozenset(
        keywords.RESERVED_KEYWORDS
        | keywords.COL_NAME_KEYWORDS
        | keywords.TYPE_FUNC_NAME_KEYWORDS
        | keywords.UNRESERVED_KEYWORDS
    )
