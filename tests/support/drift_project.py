"""Small Alembic projects written to a tmp folder: a models module and a linear history.

`check` tests plant one drift at a time by writing a model that the migrations disagree
with, then run the real engine and CLI on a real PostgreSQL.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path

ALEMBIC_INI = """\
[alembic]
script_location = migrations
prepend_sys_path = .
path_separator = os
"""

ENV_PY = """\
from alembic import context
from sqlalchemy import create_engine, pool

from {module} import Base

config = context.config
target_metadata = Base.metadata
{extra}

def _configure(**kwargs):
    context.configure(target_metadata=target_metadata, {options}**kwargs)


if context.is_offline_mode():
    _configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
    else:
        engine = create_engine(config.get_main_option("sqlalchemy.url"), poolclass=pool.NullPool)
        with engine.connect() as connection:
            _configure(connection=connection)
            with context.begin_transaction():
                context.run_migrations()
"""

REVISION = '''\
"""{message}"""
import sqlalchemy as sa
from alembic import op

revision = {revision!r}
down_revision = {down!r}
branch_labels = None
depends_on = None


def upgrade():
{upgrade}


def downgrade():
{downgrade}
'''

MODELS_HEADER = """\
import enum

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass

"""


def _body(code: str) -> str:
    code = textwrap.dedent(code).strip("\n") or "pass"
    return textwrap.indent(code, "    ")


def write_project(
    root: Path,
    models: str,
    revisions: Sequence[tuple[str, str, str | tuple[str, ...] | None, str, str]],
    *,
    module: str = "models",
    env_options: str = "",
    env_extra: str = "",
) -> Path:
    """Write alembic.ini, migrations/env.py, `module`.py and one file per revision
    (id, message, down_revision, upgrade body, downgrade body); return alembic.ini's path."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "alembic.ini").write_text(ALEMBIC_INI)
    versions = root / "migrations" / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    (root / "migrations" / "env.py").write_text(
        ENV_PY.format(module=module, options=env_options, extra=env_extra)
    )
    (root / f"{module}.py").write_text(MODELS_HEADER + textwrap.dedent(models))
    for rev, message, down, upgrade, downgrade in revisions:
        (versions / f"{rev}_{message.replace(' ', '_')}.py").write_text(
            REVISION.format(
                message=message,
                revision=rev,
                down=down,
                upgrade=_body(upgrade),
                downgrade=_body(downgrade),
            )
        )
    return root / "alembic.ini"
