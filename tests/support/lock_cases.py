"""Migration bodies for `revisor test --locks` on the mini_history tables (accounts, and
orders referencing it), shared by the tests and benchmarks/locks_bench.py.

BLOCKING: (upgrade, downgrade, the findings of the upgrade as (code, table, mode), the
start of the blocking statement); the last op of the upgrade is the blocking one.
NOT_BLOCKING: (upgrade, downgrade) of the safe recipes and catalog-only changes.
"""

from __future__ import annotations

BLOCKING = {
    "plain-create-index": (
        'op.create_index("ix_orders_placed_on", "orders", ["placed_on"])',
        'op.drop_index("ix_orders_placed_on", table_name="orders")',
        [("RT301", "orders", "ShareLock")],
        "CREATE INDEX ix_orders_placed_on ON orders",
    ),
    "set-not-null-without-check": (
        'op.add_column("orders", sa.Column("note", sa.Text, server_default=""))\n'
        'op.alter_column("orders", "note", nullable=False)',
        'op.drop_column("orders", "note")',
        [("RT301", "orders", "AccessExclusiveLock")],
        "ALTER TABLE orders ALTER COLUMN note SET NOT NULL",
    ),
    "backfill-under-the-add-column-lock": (
        'op.add_column("orders", sa.Column("note", sa.Text))\n'
        "op.execute(\"UPDATE orders SET note = '' WHERE note IS NULL\")",
        'op.drop_column("orders", "note")',
        # the ACCESS EXCLUSIVE of the add_column lasts until commit: the backfill runs under it
        [("RT301", "orders", "AccessExclusiveLock")],
        "UPDATE orders SET note",
    ),
    "volatile-default": (
        'op.add_column("orders", sa.Column("token", sa.Text,'
        ' server_default=sa.text("md5(random()::text)")))',
        'op.drop_column("orders", "token")',
        [("RT301", "orders", "AccessExclusiveLock"), ("RT302", "orders", "AccessExclusiveLock")],
        "ALTER TABLE orders ADD COLUMN token TEXT DEFAULT md5(random()::text)",
    ),
    "foreign-key-validated-at-once": (
        # a second key on orders.account_id: the seeded rows hold valid account ids
        'op.create_foreign_key("fk_orders_account", "orders", "accounts", ["account_id"], ["id"])',
        'op.drop_constraint("fk_orders_account", "orders", type_="foreignkey")',
        # the new key is checked by joining both tables, each under SHARE ROW EXCLUSIVE
        [
            ("RT301", "accounts", "ShareRowExclusiveLock"),
            ("RT301", "orders", "ShareRowExclusiveLock"),
        ],
        "ALTER TABLE orders ADD CONSTRAINT fk_orders_account FOREIGN KEY",
    ),
    "check-constraint-validated-at-once": (
        'op.create_check_constraint("ck_orders_id_positive", "orders", "id > 0")',
        'op.drop_constraint("ck_orders_id_positive", "orders", type_="check")',
        [("RT301", "orders", "AccessExclusiveLock")],
        "ALTER TABLE orders ADD CONSTRAINT ck_orders_id_positive CHECK",
    ),
    "unique-constraint-at-once": (
        'op.create_unique_constraint("uq_orders_id_placed_on", "orders", ["id", "placed_on"])',
        'op.drop_constraint("uq_orders_id_placed_on", "orders", type_="unique")',
        [("RT301", "orders", "AccessExclusiveLock")],
        "ALTER TABLE orders ADD CONSTRAINT uq_orders_id_placed_on UNIQUE",
    ),
    "type-change-that-rewrites": (
        'op.alter_column("orders", "placed_on", type_=sa.DateTime)',
        'op.alter_column("orders", "placed_on", type_=sa.Date)',
        [("RT301", "orders", "AccessExclusiveLock"), ("RT302", "orders", "AccessExclusiveLock")],
        "ALTER TABLE orders ALTER COLUMN placed_on TYPE TIMESTAMP",
    ),
}


NOT_BLOCKING = {
    "nullable-column": (
        'op.add_column("orders", sa.Column("note", sa.Text))',
        'op.drop_column("orders", "note")',
    ),
    "constant-default": (
        'op.add_column("orders", sa.Column("status", sa.Text, nullable=False,'
        ' server_default="new"))',
        'op.drop_column("orders", "status")',
    ),
    "rename-column": (
        'op.alter_column("orders", "placed_on", new_column_name="ordered_on")',
        'op.alter_column("orders", "ordered_on", new_column_name="placed_on")',
    ),
    "constraints-not-valid": (
        'op.add_column("orders", sa.Column("buyer_id", sa.Integer))\n'
        'op.create_foreign_key("fk_orders_buyer_id_accounts", "orders", "accounts",'
        ' ["buyer_id"], ["id"], postgresql_not_valid=True)\n'
        'op.create_check_constraint("ck_orders_id_positive", "orders", "id > 0",'
        " postgresql_not_valid=True)",
        'op.drop_constraint("ck_orders_id_positive", "orders", type_="check")\n'
        'op.drop_constraint("fk_orders_buyer_id_accounts", "orders", type_="foreignkey")\n'
        'op.drop_column("orders", "buyer_id")',
    ),
    "validate-in-autocommit-block": (
        'op.create_check_constraint("ck_orders_id_positive", "orders", "id > 0",'
        " postgresql_not_valid=True)\n"
        "with op.get_context().autocommit_block():\n"
        '    op.execute("ALTER TABLE orders VALIDATE CONSTRAINT ck_orders_id_positive")',
        'op.drop_constraint("ck_orders_id_positive", "orders", type_="check")',
    ),
    "set-not-null-after-validated-check": (
        'op.add_column("orders", sa.Column("note", sa.Text, server_default=""))\n'
        'op.create_check_constraint("ck_orders_note_not_null", "orders",'
        ' "note IS NOT NULL", postgresql_not_valid=True)\n'
        "with op.get_context().autocommit_block():\n"
        '    op.execute("ALTER TABLE orders VALIDATE CONSTRAINT ck_orders_note_not_null")\n'
        'op.alter_column("orders", "note", nullable=False)\n'
        'op.drop_constraint("ck_orders_note_not_null", "orders", type_="check")',
        'op.drop_column("orders", "note")',
    ),
    "create-index-concurrently": (
        "with op.get_context().autocommit_block():\n"
        '    op.create_index("ix_orders_placed_on", "orders", ["placed_on"],'
        " postgresql_concurrently=True)",
        "with op.get_context().autocommit_block():\n"
        '    op.drop_index("ix_orders_placed_on", table_name="orders",'
        " postgresql_concurrently=True)",
    ),
    "unique-index-then-constraint-using-it": (
        "with op.get_context().autocommit_block():\n"
        '    op.create_index("uq_orders_id_placed_on", "orders", ["id", "placed_on"],'
        " unique=True, postgresql_concurrently=True)\n"
        'op.execute("ALTER TABLE orders ADD CONSTRAINT uq_orders_id_placed_on'
        ' UNIQUE USING INDEX uq_orders_id_placed_on")',
        'op.drop_constraint("uq_orders_id_placed_on", "orders", type_="unique")',
    ),
    "volatile-default-recipe": (
        'op.add_column("orders", sa.Column("token", sa.Text))\n'
        "with op.get_context().autocommit_block():\n"
        "    while op.get_bind().execute(sa.text(\n"
        '        "UPDATE orders SET token = md5(random()::text) WHERE id IN "\n'
        '        "(SELECT id FROM orders WHERE token IS NULL LIMIT 1000)"\n'
        "    )).rowcount:\n"
        "        pass\n"
        'op.alter_column("orders", "token", server_default=sa.text("md5(random()::text)"))',
        'op.drop_column("orders", "token")',
    ),
}
