"""The findings `revisor test` (and `pytest --revisor`) report: one code (RT) each, with
its documentation.

Each is registered with every other command's codes (revisor.codes): `revisor rule RT103`
shows it, `[tool.revisor]` selects, ignores and re-levels it, and docs/rules/ is generated
from it. RT1xx: a step fails or does not undo itself; RT2xx: data; RT3xx: locks.
"""

from __future__ import annotations

from revisor.codes import FindingCode
from revisor.findings import Severity

_NO_FIX = "No automatic fix: `revisor test` runs on scratch databases and changes no file."

UPGRADE_FAILS = FindingCode(
    "RT101",
    "upgrade-fails",
    Severity.ERROR,
    f"""The upgrade raises (the revisions that build on it are skipped).

    ## What it does
    Upgrades each revision on a scratch database that holds the schema (and sample rows)
    of the revisions before it, and reports the error of an upgrade that raises, at the
    line of the revision file that raised. The revisions that build on it are skipped; the
    run goes on with the others.

    ## Why is this bad?
    The same upgrade fails in CI, on a new machine and on the deploy; on a database with
    rows it may fail where an empty one passes (revisor inserts rows first for that reason).

    ## Example
    `op.add_column("accounts", sa.Column("plan", sa.String(), nullable=False))` on a table
    that has rows: `NotNullViolation: column "plan" of relation "accounts" contains null
    values`.

    ## Use instead
    Add the column with a `server_default`, or nullable, backfill it, then set NOT NULL. The
    finding's help line names the cause revisor recognised (an empty base revision, an
    unnamed constraint, a NOT NULL column on rows).

    ## Fix safety
    {_NO_FIX}
    """,
)
DOWNGRADE_FAILS = FindingCode(
    "RT102",
    "downgrade-fails",
    Severity.ERROR,
    f"""The downgrade raises (e.g. `drop_constraint(None, …)`).

    ## What it does
    After each upgrade, runs the revision's downgrade and reports the error it raises, at
    the line that raised (also during the final downgrade to base).

    ## Why is this bad?
    A rollback is what you run when a deploy went wrong: a downgrade that fails turns a bad
    deploy into an outage.

    ## Example
    The upgrade created a foreign key with `op.create_foreign_key(None, ...)`; the downgrade's
    `op.drop_constraint(None, "transactions", type_="foreignkey")` cannot name it.

    ## Use instead
    Name every constraint in the upgrade (`revisor review --fix` names them in upgrade and
    downgrade) and make the downgrade drop what the upgrade created, in reverse order.

    ## Fix safety
    {_NO_FIX} `revisor review --fix` repairs the unnamed-constraint case (RV101).
    """,
)
DOWNGRADE_NOT_INVERSE = FindingCode(
    "RT103",
    "downgrade-does-not-undo-upgrade",
    Severity.ERROR,
    f"""After the downgrade the schema differs from before the upgrade: each leftover,
    missing or changed object is named.

    ## What it does
    Fingerprints the whole catalog before the upgrade and after the downgrade; when they
    differ, reads both snapshots and names every object left behind, missing or changed
    (tables, columns, indexes, constraints, enum types, sequences, views, functions,
    triggers, extensions, comments).

    ## Why is this bad?
    A downgrade that leaves an object behind makes the next upgrade fail with `already
    exists`, and a rollback leaves the database in a state no revision describes.

    ## Example
    The upgrade creates a table with an `sa.Enum(..., name="billing_cycle")` column; the
    downgrade drops the table but not the type: `downgrade of c3 left enum billing_cycle`.

    ## Use instead
    Make the downgrade drop what the upgrade created (here,
    `sa.Enum(name="billing_cycle").drop(op.get_bind())`) and restore what it dropped.

    ## Fix safety
    {_NO_FIX}
    """,
)
REUPGRADE_FAILS = FindingCode(
    "RT104",
    "upgrade-fails-after-downgrade",
    Severity.ERROR,
    f"""The second upgrade raises.

    ## What it does
    After upgrade and downgrade, upgrades the revision again and reports the error of that
    second upgrade.

    ## Why is this bad?
    Rolling back and deploying again is the usual way out of a bad deploy; here the second
    deploy fails, typically on an object the downgrade left behind.

    ## Example
    The downgrade drops the table but not its sequence or enum type, and the second upgrade
    fails with `DuplicateObject: type "billing_cycle" already exists`.

    ## Use instead
    Drop in the downgrade everything the upgrade creates.

    ## Fix safety
    {_NO_FIX}
    """,
)
REUPGRADE_DIFFERS = FindingCode(
    "RT105",
    "upgrade-not-repeatable",
    Severity.ERROR,
    f"""The second upgrade gives a different schema than the first.

    ## What it does
    Compares the schema after the second upgrade with the schema after the first and names
    every object that differs.

    ## Why is this bad?
    The downgrade leaves state the upgrade depends on, so a database that was rolled back
    and upgraded again is not the database everyone else has.

    ## Example
    The upgrade decides what to build from the rows it finds (one partial index per
    distinct `kind` in the table), and the rows changed between the two upgrades: the
    second one builds other indexes.

    ## Use instead
    Make the downgrade restore exactly the schema before the upgrade, so the upgrade runs on
    the same state twice.

    ## Fix safety
    {_NO_FIX}
    """,
)
BASE_NOT_EMPTY = FindingCode(
    "RT106",
    "downgrade-base-leaves-objects",
    Severity.ERROR,
    f"""After `downgrade base` objects remain that no earlier finding explained.

    ## What it does
    When the whole history is tested, downgrades every revision to base at the end and
    compares the schema with the one the run started from; objects left that no RT103
    finding already named are reported.

    ## Why is this bad?
    Some revision creates an object its downgrade never drops: a rollback past it leaves
    the object behind, and upgrading again fails on it.

    ## Example
    A revision runs `op.execute("CREATE EXTENSION citext")` and its downgrade does not drop
    it.

    ## Use instead
    Drop each leftover in the downgrade of the revision that created it.

    ## Fix safety
    {_NO_FIX}
    """,
)
REBUILD_FAILS = FindingCode(
    "RT107",
    "fails-again-on-a-fresh-database",
    Severity.ERROR,
    f"""A step failed the same way twice, or a revision that passed fails when revisor
    rebuilds a fresh database up to it: the run stops there instead of rebuilding forever.

    ## What it does
    After a failure revisor continues on a fresh scratch database rebuilt to the right
    revision; when that rebuild fails, or the same step fails the same way again, the run
    stops with this finding.

    ## Why is this bad?
    The migration depends on something outside the history (rows, another database, state
    left by an earlier run), or env.py migrates a database other than the one it was given:
    it will behave differently on every machine.

    ## Example
    A revision's upgrade reads a table that an earlier, already-tested revision filled by
    hand in a previous run, and fails on the rebuilt database.

    ## Use instead
    Make each revision depend only on what the revisions before it create; have env.py use
    the URL (or connection) revisor gives it.

    ## Fix safety
    {_NO_FIX}
    """,
)
DATA_LOST = FindingCode(
    "RT201",
    "downgrade-drops-data",
    Severity.WARNING,
    f"""The downgrade destroys rows of a table or column that existed before the upgrade.

    ## What it does
    With sample rows (the default), checks after each downgrade that the tables and
    columns that existed before the upgrade still hold their rows. Dropping what the
    upgrade itself created is what a downgrade is for, and is not reported.

    ## Why is this bad?
    Rolling back loses those rows for good: a rollback meant to save a bad deploy deletes
    data that was there before it.

    ## Example
    The upgrade merges `first_name` and `last_name` into `name` and drops both; the
    downgrade re-adds them empty.

    ## Use instead
    Make the downgrade restore the data (or keep the old column until the next release), or
    declare the revision irreversible (`irreversible = True` and a downgrade that raises).

    ## Fix safety
    {_NO_FIX}
    """,
)
SAMPLE_DATA_FAILS = FindingCode(
    "RT202",
    "fails-on-sample-rows",
    Severity.WARNING,
    f"""A step fails with a data error (foreign key, CHECK, unique, cast) on revisor's own
    sample rows; the revision is then round-tripped again on empty tables.

    ## What it does
    Reports a step that fails with a data error (foreign key, CHECK, unique, exclusion,
    cast, out of range) only while revisor's sample rows are in the tables, then tests the
    revision again without rows.

    ## Why is this bad?
    Production rows may fail the same way: the migration assumes something about the data
    it does not check.

    ## Example
    `op.create_unique_constraint("uq_vendors_name", "vendors", ["name"])` fails on two
    sample vendors named alike: real data may have duplicates too.

    ## Use instead
    Check or clean the existing data in the migration before the constraint or cast, or
    make sure production data satisfies it.

    ## Fix safety
    {_NO_FIX}
    """,
)
STRONG_LOCK = FindingCode(
    "RT301",
    "lock-on-existing-table",
    Severity.WARNING,
    f"""`--locks` only: a statement reads or rewrites the rows of an existing table while
    holding a lock that blocks its writes.

    ## What it does
    With `revisor test --locks`, after every statement of each upgrade and downgrade,
    reads the locks revisor's own connection holds, the table scans its transaction made
    (`pg_stat_xact_user_tables`) and each table's `relfilenode`. A statement is reported
    when, on a table that existed before the step, it scanned or rewrote the rows while a
    lock that blocks writes was held (taken by it or by an earlier statement of the same
    transaction), with the direction, the statement, its line, the lock mode and how long
    it took on the seeded rows (`--rows`). Catalog-only changes under a brief lock (a
    nullable column, a constant default, `NOT VALID`, `SET NOT NULL` once a valid
    `CHECK (col IS NOT NULL)` exists, `ADD CONSTRAINT … USING INDEX`, a rename) are not
    reported; nor are tables the step itself creates.

    ## Why is this bad?
    The lock is held for as long as the table takes to read (and, in a transaction, until
    it commits); other sessions' writes, or with ACCESS EXCLUSIVE their reads too, queue
    behind it and time out, while the previous release still serves traffic.

    ## Lock
    `ACCESS EXCLUSIVE` (most `ALTER TABLE` forms) conflicts with every lock, `SELECT`
    included; `SHARE` (plain `CREATE INDEX`), `SHARE ROW EXCLUSIVE` (a new foreign key,
    on both tables) and `EXCLUSIVE` conflict with `ROW EXCLUSIVE`, taken by INSERT,
    UPDATE and DELETE.

    ## Example
    `op.create_index("ix_orders_placed_on", "orders", ["placed_on"])` on the existing
    `orders` table reads every row under SHARE: every write to `orders` waits for the build.

    ## Use instead
    `CREATE INDEX CONCURRENTLY` in an autocommit block; constraints `NOT VALID`, then
    `VALIDATE CONSTRAINT` in its own transaction; `SET NOT NULL` after a validated
    `CHECK (col IS NOT NULL)`; and `lock_timeout` around what must lock (review's RV3 rules
    and `revisor review --fix` write these). docs/lock-safety.md lists each case.

    ## Fix safety
    {_NO_FIX}
    """,
)
TABLE_REWRITE = FindingCode(
    "RT302",
    "table-rewrite",
    Severity.WARNING,
    f"""`--locks` only: a statement rewrote an existing table (its `relfilenode` changed).

    ## What it does
    With `revisor test --locks`, compares each existing table's `relfilenode` before and
    after every statement of each upgrade and downgrade, autocommit blocks included, and
    reports the statement that gave the table a new file, with its line and how long it
    took on the seeded rows (`--rows`). Such a statement is also reported as RT301.

    ## Why is this bad?
    A rewrite copies every row (and rebuilds every index) under ACCESS EXCLUSIVE: no read
    or write reaches the table until it ends, it needs the table's size again in free disk,
    and its duration grows with the table.

    ## Lock
    `ACCESS EXCLUSIVE` for the whole copy: conflicts with every lock, `SELECT` included.

    ## Example
    `op.alter_column("orders", "total", type_=sa.Numeric(12, 2))` on an integer column,
    or `op.add_column("orders", sa.Column("token", sa.Text,
    server_default=sa.text("gen_random_uuid()::text")))`: a volatile default.

    ## Use instead
    Add a new column beside the old one, backfill it in batches, switch the code, then drop
    the old one; for a volatile default, add the column without it, backfill, then set the
    default. A constant default and a varchar widening do not rewrite.

    ## Fix safety
    {_NO_FIX}
    """,
)
