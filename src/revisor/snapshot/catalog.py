"""Read a database's schema from pg_catalog: one query per object kind.

Every kind yields rows of (kind, schema, name, table, definition) text: the schema and the
names as PostgreSQL stores them (revisor.snapshot.names quotes them for messages and SQL),
definitions from PostgreSQL's own deparsers (pg_get_indexdef, pg_get_constraintdef, ...),
so two databases built by the same DDL give identical rows and OIDs never leak in. The
kinds are glued into one UNION so that a whole snapshot, or its md5 fingerprint computed
on the server, costs one round trip.

Scope: every schema except PostgreSQL's own (pg_catalog, information_schema, pg_toast,
temporary schemas); objects that belong to an extension are left out (the extension itself
is listed); the Alembic version table and its constraint are ignored. Besides the objects,
what decides who may do what: row-level security (enabled, forced) and its policies, the
privileges granted on relations, and relation owners other than the migrating role; and
how a table is partitioned (its key, a partition's parent and bounds).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from revisor.db.driver import driver_connection
from revisor.db.temp_function import TempQuery
from revisor.snapshot.names import quote, shown

# A schema is "migrated" unless PostgreSQL owns it.
_SCOPE = (
    "{n}.nspname NOT IN ('pg_catalog', 'information_schema') AND {n}.nspname NOT LIKE 'pg\\_%%'"
)


def _scope(alias: str = "n") -> str:
    return _SCOPE.format(n=alias)


def _qualified(name: str, ns: str = "n") -> str:
    # Plain words: "transactions", or "billing.invoices" outside public (for the seeding
    # and lock queries' messages; the snapshot keeps schema and name apart).
    return f"(CASE WHEN {ns}.nspname = 'public' THEN '' ELSE {ns}.nspname || '.' END || {name})"


def _not_extension_member(catalog: str, oid: str) -> str:
    # Objects created by CREATE EXTENSION depend on it with deptype 'e'.
    return (
        f"NOT EXISTS (SELECT 1 FROM pg_depend dep WHERE dep.classid = '{catalog}'::regclass "
        f"AND dep.objid = {oid} AND dep.deptype = 'e')"
    )


def _not_in_extension(catalog: str, oid: str) -> str:
    # The same test against the `ext` CTE of _SCOPE_CTES.
    return (
        f"NOT EXISTS (SELECT FROM ext WHERE ext.classid = '{catalog}'::regclass "
        f"AND ext.objid = {oid})"
    )


# Every object a user creates has an OID of at least 16384 (PostgreSQL's
# FirstNormalObjectId: the OID counter wraps around to it, never below). Saying so lets a
# catalog be read through its OID index instead of scanned whole: a new database already
# holds thousands of built-in functions, types, columns and comments, and scanning them was
# a fifth of the cost of a fingerprint, which `revisor test` takes three times per revision.
# (Not used on pg_class in `rel`: there it spoils the planner's row estimates.)
USER_OID = 16384

# Shared by every kind: the migrated schemas; the members of extensions, found from the
# extensions' side through pg_depend's index on the referenced object (one short read
# instead of a probe per object); the relations (tables, views, sequences, indexes) minus
# extension members and the version table. Materialised once per query, so pg_class is
# read once, not once per kind.
# `%(only)s` in the scoped variant: one schema (a tenant's, when env.py migrates one schema
# per run through its search_path); the rest of the database is someone else's.
#
# `owned` names a relation's owner only when it is not the migrating role: the version
# table's owner (the role that ran the first migration), else the session's role. Role
# names are the server's, so "owned by the role that migrates" is what stays the same
# between two runs of one history (a scratch database is created and migrated by the same
# role each time) and between the user's database and doctor's replay of its history, which
# may run as another role or on another server. It is worked out here, once, because every
# subquery in the plan costs its set-up at each call, whether it finds rows or not (at 10
# tables the fingerprint's fixed costs are most of it).
_ONLY = " AND n.nspname = %(only)s"
_SCOPE_CTES = f"""
WITH ns AS MATERIALIZED (
  SELECT n.oid, n.nspname FROM pg_namespace n WHERE {_scope()}{{only}}
), ext AS MATERIALIZED (
  SELECT dep.classid, dep.objid FROM pg_extension e
  JOIN pg_depend dep ON dep.refclassid = 'pg_extension'::regclass AND dep.refobjid = e.oid
  WHERE dep.deptype = 'e'
), rel AS MATERIALIZED (
  SELECT c.oid, c.relname, c.relkind, c.relpersistence, c.relrowsecurity,
         c.relforcerowsecurity, c.relispartition, c.relpartbound, c.relowner, c.relacl,
         c.relnamespace, n.nspname,
         CASE WHEN c.relowner = coalesce(
                (SELECT v.relowner FROM pg_class v WHERE v.relname = %(vt)s
                   AND v.relkind IN ('r', 'p') ORDER BY pg_table_is_visible(v.oid) DESC LIMIT 1),
                current_user::regrole::oid)
              THEN '' ELSE ' (owner ' || pg_get_userbyid(c.relowner) || ')' END AS owned
  FROM pg_class c JOIN ns n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm', 'S', 'i', 'I') AND c.relname <> %(vt)s
    AND {_not_in_extension("pg_class", "c.oid")}
)"""

# After a privilege a grantee may grant on.
GRANT_OPTION = " WITH GRANT OPTION"

# Rows are (kind, schema, name, table, definition): the schema and the names as stored,
# never joined into one string (`billing.invoices` the table in billing and a table named
# "billing.invoices" in public are two different rows); revisor.snapshot.names quotes them.
KIND_QUERIES: dict[str, str] = {
    "schema": """
SELECT 'schema', NULL, n.nspname, NULL, '' FROM ns n""",
    "table": """
SELECT 'table', c.nspname, c.relname, NULL,
       c.relkind::text || CASE c.relpersistence WHEN 'u' THEN ' unlogged' ELSE '' END
       || CASE WHEN c.relrowsecurity THEN ' row-level-security' ELSE '' END
       || CASE WHEN c.relforcerowsecurity THEN ' force-row-level-security' ELSE '' END
       || CASE WHEN c.relkind = 'p' THEN ' partition by ' || pg_get_partkeydef(c.oid)
               ELSE '' END
       || CASE WHEN c.relispartition THEN
               ' partition of '
               || (SELECT i.inhparent::regclass::text FROM pg_inherits i
                   WHERE i.inhrelid = c.oid)
               || ' ' || pg_get_expr(c.relpartbound, c.oid)
          ELSE '' END
       || c.owned
FROM rel c WHERE c.relkind IN ('r', 'p', 'f')""",
    "column": f"""
SELECT 'column', c.nspname, a.attname, c.relname,
       format_type(a.atttypid, a.atttypmod)
       || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
       || CASE WHEN a.attgenerated <> '' THEN
               ' GENERATED ALWAYS AS (' || pg_get_expr(ad.adbin, ad.adrelid) || ')'
               || CASE a.attgenerated WHEN 's' THEN ' STORED' ELSE ' VIRTUAL' END
          ELSE coalesce(' DEFAULT ' || pg_get_expr(ad.adbin, ad.adrelid), '') END
       || CASE a.attidentity WHEN 'a' THEN ' GENERATED ALWAYS AS IDENTITY'
                             WHEN 'd' THEN ' GENERATED BY DEFAULT AS IDENTITY' ELSE '' END
       || CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation
               THEN ' COLLATE ' || (SELECT collname FROM pg_collation WHERE oid = a.attcollation)
               ELSE '' END
FROM pg_attribute a
JOIN rel c ON c.oid = a.attrelid AND c.relkind IN ('r', 'p', 'f')
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
WHERE a.attrelid >= {USER_OID} AND a.attnum > 0 AND NOT a.attisdropped""",
    # A domain's constraints are a kind of their own: they are altered through the domain.
    "constraint": f"""
SELECT CASE WHEN co.contypid <> 0 THEN 'domain constraint' ELSE 'constraint' END,
       n.nspname, co.conname, coalesce(c.relname, ty.typname), pg_get_constraintdef(co.oid)
FROM pg_constraint co
JOIN ns n ON n.oid = co.connamespace
LEFT JOIN rel c ON c.oid = co.conrelid
LEFT JOIN pg_type ty ON ty.oid = co.contypid
WHERE co.oid >= {USER_OID} AND co.contype <> 'n' AND (co.conrelid = 0 OR c.oid IS NOT NULL)""",
    "index": f"""
SELECT 'index', ic.nspname, ic.relname, c.relname,
       pg_get_indexdef(i.indexrelid) || CASE WHEN i.indisvalid THEN '' ELSE ' INVALID' END
FROM pg_index i
JOIN rel ic ON ic.oid = i.indexrelid
JOIN rel c ON c.oid = i.indrelid
WHERE i.indexrelid >= {USER_OID}
  AND NOT EXISTS (SELECT 1 FROM pg_constraint co WHERE co.conindid = i.indexrelid
                  AND co.conrelid = i.indrelid AND co.contype IN ('p', 'u', 'x'))""",
    "enum": f"""
SELECT 'enum', n.nspname, t.typname, NULL,
       string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder)
FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
JOIN ns n ON n.oid = t.typnamespace
WHERE t.oid >= {USER_OID} AND {_not_in_extension("pg_type", "t.oid")}
GROUP BY n.nspname, t.typname""",
    "domain": f"""
SELECT 'domain', n.nspname, t.typname, NULL,
       format_type(t.typbasetype, t.typtypmod)
       || CASE WHEN t.typnotnull THEN ' NOT NULL' ELSE '' END
       || coalesce(' DEFAULT ' || t.typdefault, '')
FROM pg_type t JOIN ns n ON n.oid = t.typnamespace
WHERE t.oid >= {USER_OID} AND t.typtype = 'd' AND {_not_in_extension("pg_type", "t.oid")}""",
    "composite type": f"""
SELECT 'composite type', n.nspname, t.typname, NULL,
       (SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod), ', '
                          ORDER BY a.attnum)
        FROM pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0
          AND NOT a.attisdropped)
FROM pg_type t JOIN ns n ON n.oid = t.typnamespace
JOIN pg_class c ON c.oid = t.typrelid
WHERE t.oid >= {USER_OID} AND t.typtype = 'c' AND c.relkind = 'c'
  AND {_not_in_extension("pg_type", "t.oid")}""",
    "sequence": """
SELECT 'sequence', c.nspname, c.relname, NULL,
       format_type(s.seqtypid, NULL) || ' start ' || s.seqstart || ' increment '
       || s.seqincrement || ' min ' || s.seqmin || ' max ' || s.seqmax || ' cache '
       || s.seqcache || CASE WHEN s.seqcycle THEN ' cycle' ELSE '' END || c.owned
FROM pg_sequence s JOIN rel c ON c.oid = s.seqrelid""",
    "view": """
SELECT CASE c.relkind WHEN 'v' THEN 'view' ELSE 'materialized view' END, c.nspname,
       c.relname, NULL, pg_get_viewdef(c.oid) || c.owned
FROM rel c WHERE c.relkind IN ('v', 'm')""",
    # Overloads share a name, so a function's name is its signature, as SQL: the server
    # quotes the name and deparses the argument types.
    "function": f"""
SELECT CASE p.prokind WHEN 'p' THEN 'procedure' ELSE 'function' END, n.nspname,
       quote_ident(p.proname) || '(' || pg_get_function_identity_arguments(p.oid) || ')',
       NULL, pg_get_functiondef(p.oid)
FROM pg_proc p JOIN ns n ON n.oid = p.pronamespace
WHERE p.oid >= {USER_OID} AND p.prokind IN ('f', 'p')
  AND {_not_in_extension("pg_proc", "p.oid")}""",
    "trigger": f"""
SELECT 'trigger', c.nspname, t.tgname, c.relname, pg_get_triggerdef(t.oid)
FROM pg_trigger t JOIN rel c ON c.oid = t.tgrelid
WHERE t.oid >= {USER_OID} AND NOT t.tgisinternal""",
    "policy": f"""
SELECT 'policy', c.nspname, p.polname, c.relname,
       CASE WHEN p.polpermissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END || ' FOR '
       || CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'
                        WHEN 'd' THEN 'DELETE' ELSE 'ALL' END
       || ' TO ' || CASE WHEN p.polroles = '{{0}}' THEN 'PUBLIC'
                         ELSE array_to_string(p.polroles::regrole[], ', ') END
       || coalesce(' USING (' || pg_get_expr(p.polqual, p.polrelid) || ')', '')
       || coalesce(' WITH CHECK (' || pg_get_expr(p.polwithcheck, p.polrelid) || ')', '')
FROM pg_policy p JOIN rel c ON c.oid = p.polrelid
WHERE p.oid >= {USER_OID}""",
    # Privileges on relations (relacl) beyond the owner's own: one row per grantee, named
    # "public" for PUBLIC (no role can have that name). Left out: the owner's entries (the
    # server's defaults, which differ between versions: 17 added MAINTAIN) and what the
    # database's default privileges give (ALTER DEFAULT PRIVILEGES, usually set outside
    # migrations; for any creating role, as the owner may have changed since).
    "grant": f"""
SELECT 'grant', c.nspname,
       CASE g.grantee WHEN 0 THEN 'public' ELSE pg_get_userbyid(g.grantee)::text END,
       c.relname,
       string_agg(DISTINCT (g.privilege_type
                  || CASE WHEN g.is_grantable THEN '{GRANT_OPTION}' ELSE '' END) COLLATE "C",
                  ', ')
FROM rel c CROSS JOIN LATERAL aclexplode(c.relacl) AS g
WHERE c.relacl IS NOT NULL AND g.grantee <> c.relowner
  AND NOT EXISTS (
    SELECT FROM pg_default_acl d CROSS JOIN LATERAL aclexplode(d.defaclacl) AS x
    WHERE d.defaclnamespace IN (0, c.relnamespace)
      AND d.defaclobjtype = CASE c.relkind WHEN 'S' THEN 'S' ELSE 'r' END
      AND x.grantee = g.grantee AND x.privilege_type = g.privilege_type)
GROUP BY c.nspname, c.relname, g.grantee""",
    "extension": """
SELECT 'extension', NULL, e.extname, NULL, 'in schema ' || n.nspname
FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
WHERE e.extname <> 'plpgsql'""",
    # On a relation: name is the relation; on a column: name is the column, table the
    # relation. On a type: name is the type.
    "comment": f"""
SELECT 'comment', c.nspname, coalesce(a.attname, c.relname),
       CASE WHEN d.objsubid = 0 THEN NULL ELSE c.relname END, d.description
FROM pg_description d
JOIN rel c ON d.objoid >= {USER_OID} AND d.classoid = 'pg_class'::regclass AND d.objoid = c.oid
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.objsubid AND d.objsubid <> 0
UNION ALL
SELECT 'comment', n.nspname, t.typname, NULL, d.description
FROM pg_description d
JOIN pg_type t ON d.objoid >= {USER_OID} AND d.classoid = 'pg_type'::regclass
  AND d.objoid = t.oid
JOIN ns n ON n.oid = t.typnamespace""",
}


def kind_query(kind: str) -> str:
    """The query for one object kind, runnable on its own."""
    return _SCOPE_CTES.format(only="") + KIND_QUERIES[kind]


def _union() -> str:
    parts = [f"SELECT * FROM ({q}\n) AS kind_{i}" for i, q in enumerate(KIND_QUERIES.values())]
    return "\nUNION ALL\n".join(parts)


# One line of text per row, its fields separated by chr(31): the fingerprint is the md5 of
# the lines in "C" order, joined by chr(30). Sorting on the line itself (one comparison of
# two strings) rather than on four columns takes a twentieth off the whole fingerprint;
# since chr(31) sorts before every printable character, the order is the columns' order.
_COLUMNS = "objects (kind, nsp, name, tbl, def)"
_LINE = (
    "kind || chr(31) || coalesce(nsp, '') || chr(31) || coalesce(tbl, '') || chr(31) || name "
    "|| chr(31) || coalesce(def, '')"
)
_SNAPSHOT = (
    f"{{ctes}}\nSELECT kind, nsp, name, tbl, def FROM ({_union()}\n) AS {_COLUMNS} "
    f'ORDER BY ({_LINE}) COLLATE "C"'
)
_FINGERPRINT = (
    "{ctes}\n"
    "SELECT md5(coalesce(string_agg(line, chr(30) ORDER BY line COLLATE \"C\"), '')) "
    f"FROM (SELECT {_LINE} AS line FROM ({_union()}\n) AS {_COLUMNS}) AS lines"
)
SNAPSHOT_SQL = _SNAPSHOT.replace("{ctes}", _SCOPE_CTES.format(only=""))
FINGERPRINT_SQL = _FINGERPRINT.replace("{ctes}", _SCOPE_CTES.format(only=""))
SCHEMA_SNAPSHOT_SQL = _SNAPSHOT.replace("{ctes}", _SCOPE_CTES.format(only=_ONLY))
SCHEMA_FINGERPRINT_SQL = _FINGERPRINT.replace("{ctes}", _SCOPE_CTES.format(only=_ONLY))


# Kinds named in the same namespace as tables (pg_class): what other objects are "on".
RELATION_KINDS = frozenset({"table", "view", "materialized view", "sequence"})


@dataclass(frozen=True)
class CatalogObject:
    """One schema object: its kind ("index"), the schema it is in (None for schemas and
    extensions), its name and the table (or domain) it belongs to, both as stored, and
    its definition. A function's name is its SQL signature (`"Calc"(integer)`), a grant's
    the grantee's role ("public" for PUBLIC)."""

    kind: str
    schema: str | None
    name: str
    table: str | None
    definition: str

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.kind, self.schema or "", self.table or "", self.name)

    @property
    def owner(self) -> tuple[str | None, str] | None:
        """(schema, name) of the relation or domain this object belongs to, if any."""
        return (self.schema, self.table) if self.table is not None else None

    def subject(self) -> str:
        """The object in plain words, names quoted where PostgreSQL needs it: "index
        ix_transactions_date on transactions", "column billing.invoices.\"Extra Col\""."""
        kind, schema, name, table = self.kind, self.schema, self.name, self.table
        if kind in ("schema", "extension"):
            return f"{kind} {quote(name)}"
        if kind in ("function", "procedure"):
            prefix = "" if schema in (None, "public") else f"{quote(schema or '')}."
            return f"{kind} {prefix}{name}"
        if kind == "grant":
            return f"privileges of {self.grantee} on {shown(schema, table or '')}"
        if table is None:
            return f"{'comment on' if kind == 'comment' else kind} {shown(schema, name)}"
        on = shown(schema, table)
        if kind in ("column", "comment"):
            return f"{'column' if kind == 'column' else 'comment on'} {on}.{quote(name)}"
        if kind == "index":
            return f"index {shown(schema, name)} on {on}"
        return f"{kind} {quote(name)} on {on}"

    def describe(self) -> str:
        """`subject()`, with the privileges for a grant: "grant of SELECT on accounts to
        PUBLIC"."""
        if self.kind == "grant":
            on = shown(self.schema, self.table or "")
            return f"grant of {self.definition} on {on} to {self.grantee}"
        return self.subject()

    @property
    def privileges(self) -> list[str]:
        """A grant's privileges: "SELECT", "INSERT WITH GRANT OPTION", ..."""
        return self.definition.split(", ") if self.kind == "grant" else []

    def privileges_beyond(self, other: CatalogObject | None) -> list[str]:
        """This grant's privileges that `other` (the same grantee's, or None) does not
        give: "SELECT" is covered by "SELECT" or "SELECT WITH GRANT OPTION", the grant
        option only by the latter."""
        given = set(other.privileges) if other is not None else set()
        return [p for p in self.privileges if p not in given and p + GRANT_OPTION not in given]

    @property
    def grantee(self) -> str:
        """A grant's role as SQL names it: PUBLIC, or the role's name quoted."""
        return "PUBLIC" if self.name == "public" else quote(self.name)


@dataclass(frozen=True)
class Snapshot:
    """A database's schema as catalog rows, sorted; equal snapshots mean equal schemas."""

    objects: tuple[CatalogObject, ...]

    def by_key(self) -> dict[tuple[str, str, str, str], CatalogObject]:
        return {o.key: o for o in self.objects}

    @property
    def fingerprint(self) -> str:
        """md5 over the rows, computed locally (same value as `fingerprint()` on the server)."""
        text = "\x1e".join(
            "\x1f".join((o.kind, o.schema or "", o.table or "", o.name, o.definition))
            for o in self.objects
        )
        return hashlib.md5(text.encode()).hexdigest()

    def of_kind(self, kind: str) -> list[CatalogObject]:
        return [o for o in self.objects if o.kind == kind]


def _execute(
    connection: Any, statement: str, version_table: str, only: str | None = None
) -> list[tuple[Any, ...]]:
    """Run on a SQLAlchemy Connection (in its transaction, so uncommitted DDL is seen) or a
    psycopg connection. The statement is a server-side prepared statement: planning this
    union costs more than running it, and the round trip runs it thousands of times."""
    params = {"vt": version_table, "only": only}
    return [tuple(r) for r in execute_prepared(connection, statement, params)]


def execute_prepared(connection: Any, statement: str, params: dict[str, Any]) -> list[Any]:
    """Execute a read-only statement as a prepared statement on the driver connection under
    `connection` (SQLAlchemy or psycopg). On a SQLAlchemy connection outside a transaction
    psycopg opens one implicitly, which SQLAlchemy's next begin() adopts."""
    return driver_connection(connection).execute(statement, params, prepare=True).fetchall()


def snapshot(
    connection: Any, *, version_table: str = "alembic_version", only: str | None = None
) -> Snapshot:
    """Read the whole schema in one round trip (`only`: that one schema). Read-only."""
    statement = SNAPSHOT_SQL if only is None else SCHEMA_SNAPSHOT_SQL
    rows = _execute(connection, statement, version_table, only)
    return Snapshot(tuple(CatalogObject(k, s, n, t, d or "") for k, s, n, t, d in rows))


def fingerprint(connection: Any, *, version_table: str = "alembic_version") -> str:
    """md5 of the schema computed by the server in one round trip (no rows cross the wire).
    Equal to `Snapshot.fingerprint` of the same database. Read-only."""
    rows = _execute(connection, FINGERPRINT_SQL, version_table)
    return str(rows[0][0])


class Fingerprinter:
    """`fingerprint()` for many calls on one connection, about twice as fast.

    Why: psycopg deallocates every prepared statement of a connection after each DROP or
    ALTER it runs, so between migration steps the prepared fingerprint is planned again
    each time, which costs as much as running it. Here the query lives in a PL/pgSQL
    function in the session's temporary schema (`revisor.db.temp_function`, outside the
    snapshot's scope as all `pg_*` schemas are), whose plan lasts the session.

    Side effect on the database: one temporary function per session, gone at disconnect
    (or when the transaction that created it rolls back: use one Fingerprinter per
    connection and drop it after a rollback). Without the TEMPORARY privilege, or on a hot
    standby, it falls back to `fingerprint()`.
    """

    def __init__(self, version_table: str = "alembic_version", only: str | None = None) -> None:
        self.version_table = version_table
        constants = {"vt": version_table}
        if only is not None:
            constants["only"] = only
        self._query = TempQuery(
            "revisor_fingerprint",
            FINGERPRINT_SQL if only is None else SCHEMA_FINGERPRINT_SQL,
            scalar="text",
            constants=constants,
        )
        self.function = self._query.name

    def __call__(self, connection: Any) -> str:
        """md5 of the schema, equal to `fingerprint(connection)`. Read-only, apart from
        creating the temporary function on the first call on a connection."""
        return str(self._query(connection)[0][0])
