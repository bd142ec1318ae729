"""Write tiny runnable Alembic projects for tests: one call, a list of revisions.

Each revision is (id, down_revision, upgrade body, downgrade body); bodies are Python
source using `op` and `sa`. env.py is the Alembic cookbook's: an injected connection if
the caller gives one, else sqlalchemy.url.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path

ENV_PY = """
from alembic import context
from sqlalchemy import engine_from_config, pool

config = context.config
target_metadata = None


def run(connection):
    context.configure(connection=connection, target_metadata=target_metadata{options})
    with context.begin_transaction():
        context.run_migrations()


connectable = config.attributes.get("connection")
if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()
elif connectable is None:
    engine = engine_from_config(
        config.get_section(config.config_ini_section, {{}}), prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with engine.connect() as connection:
        run(connection)
else:
    run(connectable)
"""

Revision = tuple[str, str | tuple[str, ...] | None, str, str]


def write_history(
    root: Path, revisions: Sequence[Revision], *, per_migration: bool = False
) -> Path:
    """Write alembic.ini, migrations/env.py and one file per revision; return alembic.ini."""
    versions = root / "migrations" / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    (root / "alembic.ini").write_text(
        "[alembic]\nscript_location = %(here)s/migrations\npath_separator = os\n"
    )
    options = ", transaction_per_migration=True" if per_migration else ""
    (root / "migrations" / "env.py").write_text(ENV_PY.format(options=options))
    (root / "migrations" / "script.py.mako").write_text("")
    for rev, down, up_body, down_body in revisions:
        (versions / f"{rev}_rev.py").write_text(
            "from alembic import op\nimport sqlalchemy as sa\n\n"
            f"revision = {rev!r}\ndown_revision = {down!r}\n"
            "branch_labels = None\ndepends_on = None\n\n\n"
            f"def upgrade():\n{textwrap.indent(textwrap.dedent(up_body).strip(), '    ')}\n\n\n"
            f"def downgrade():\n{textwrap.indent(textwrap.dedent(down_body).strip(), '    ')}\n"
        )
    return root / "alembic.ini"


ACCOUNTS = (
    "a1",
    None,
    """
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(120), nullable=False, unique=True),
    )
    """,
    'op.drop_table("accounts")',
)

ORDERS = (
    "b2",
    "a1",
    """
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("placed_on", sa.Date, nullable=False),
    )
    """,
    'op.drop_table("orders")',
)
