"""revisor's rewrite of autogenerate's directives: renames, guarded drops, names, NOT NULL
columns that apply on rows, enums, schemas.

`revise` has the signature of Alembic's `process_revision_directives` plus options; the
`draft` command and the plain env.py hook (`revisor.alembic`) both call it, after the
user's own hook has run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alembic.operations import ops
from sqlalchemy import MetaData

from revisor.drafting.database_names import keep_database_names
from revisor.drafting.drops import LeftOutDrop, leave_out_drops
from revisor.drafting.enums import (
    cast_enum_alters,
    manage_types,
    plan_enums,
    render_managed_types,
)
from revisor.drafting.naming import name_constraints
from revisor.drafting.not_null import fill_not_null_columns, parse_backfills
from revisor.drafting.renames import Confirm, Renames, apply_renames, parse_name_renames
from revisor.drafting.schemas import create_schemas
from revisor.enums.detect import StorageMismatch, parse_renames
from revisor.errors import ConfigError
from revisor.naming import convention_of

_DONE = "_revisor_revised"


@dataclass(frozen=True)
class DraftOptions:
    """What the user asked for beyond autogenerate's defaults."""

    rename_labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    allow_drops: frozenset[str] = frozenset()
    source_roots: tuple[Path, ...] = ()  # where to look for model files (drop causes)
    guess_renames: bool = True  # one-to-one same-position replacements are renames
    renames: Renames = field(default_factory=Renames)  # columns and tables
    backfills: Mapping[str, str] = field(default_factory=dict)  # "table.column" -> SQL

    @classmethod
    def build(
        cls,
        rename_specs: Iterable[str] = (),
        allow_drops: Iterable[str] = (),
        settings: Mapping[str, Any] | None = None,
        source_roots: Iterable[Path] = (),
        guess_renames: bool | None = None,
        *,
        rename_columns: Iterable[str] = (),
        rename_tables: Iterable[str] = (),
        not_renamed: Iterable[str] = (),
        backfills: Iterable[str] = (),
        confirm: Confirm | None = None,
    ) -> DraftOptions:
        """Merge CLI flags with `[tool.revisor]` rename-labels / allow-drop (flags win).
        `confirm` asks the user about a likely rename (None: never ask). Raises
        ConfigError on a malformed TYPE:OLD=NEW, TABLE.OLD=NEW, OLD=NEW or backfill."""
        settings = settings or {}
        configured = settings.get("rename-labels", [])
        configured_drops = settings.get("allow-drop", [])
        if not isinstance(configured, list) or not isinstance(configured_drops, list):
            raise ConfigError(
                "[tool.revisor] rename-labels and allow-drop must be lists of strings"
            )
        try:
            renames = parse_renames([*map(str, configured), *rename_specs])
        except ValueError as exc:
            raise ConfigError(
                f"Bad label rename: {exc}",
                hint="Write --rename-label billing_cycle:MONTHLY=monthly",
            ) from None
        try:
            declared = parse_name_renames(rename_columns, rename_tables, not_renamed)
            filled = parse_backfills(backfills)
        except ValueError as exc:
            raise ConfigError(
                f"Bad --rename-column, --rename-table or --backfill: {exc}",
                hint="Write --rename-column TABLE.OLD=NEW, --rename-table OLD=NEW, "
                '--backfill "TABLE.COLUMN=SQL".',
            ) from None
        return cls(
            renames=Renames(declared.columns, declared.tables, confirm, declared.not_renamed),
            backfills=filled,
            rename_labels=renames,
            allow_drops=frozenset([*map(str, configured_drops), *allow_drops]),
            source_roots=tuple(source_roots),
            guess_renames=bool(settings.get("guess-renames", True))
            if guess_renames is None
            else guess_renames,
        )


@dataclass
class DraftReport:
    """What revisor changed in the draft and what the user should know."""

    rewrites: list[str] = field(default_factory=list)
    left_out: list[LeftOutDrop] = field(default_factory=list)
    mismatches: list[StorageMismatch] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def revise(
    context: Any, directives: list[ops.MigrationScript], options: DraftOptions
) -> DraftReport:
    """Rewrite autogenerate's MigrationScripts in place and return what changed.

    Reads the catalog through the migration context's connection (no writes). A script
    already revised (the env.py hook ran before `revisor draft`'s) is left alone. When
    anything changed, the downgrade is rebuilt as the exact reverse of the upgrade.
    """
    report = DraftReport()
    # the file is rendered after this hook, from these options (alembic's AutogenContext
    # shares the migration context's dict): enum types the draft manages keep create_type
    render_item = context.opts.get("render_item")
    if not getattr(render_item, "revisor_managed_types", False):
        context.opts["render_item"] = render_managed_types(render_item)
    conn = getattr(context, "connection", None)
    metadata = _metadata(context.opts.get("target_metadata"))
    for script in directives:
        earlier: DraftReport | None = getattr(script, _DONE, None)
        if earlier is not None:  # env.py's hook revised it already: report that
            merge_into(report, earlier)
            continue
        setattr(script, _DONE, report)
        for upgrade, downgrade in zip(
            script.upgrade_ops_list, script.downgrade_ops_list, strict=True
        ):
            before = len(report.rewrites)
            report.rewrites.extend(
                apply_renames(upgrade, options.renames, options.allow_drops, conn)
            )
            left_out = leave_out_drops(upgrade, options.allow_drops, conn, options.source_roots)
            report.left_out.extend(left_out)
            report.rewrites.extend(keep_database_names(upgrade))
            report.rewrites.extend(name_constraints(upgrade, metadata, conn))
            report.rewrites.extend(
                fill_not_null_columns(upgrade, options.backfills, convention_of(metadata))
            )
            if conn is not None and metadata:
                plan = plan_enums(
                    upgrade,
                    metadata,
                    conn,
                    options.rename_labels,
                    context.opts.get("include_object"),
                    options.guess_renames,
                )
                report.rewrites.extend(plan.changes)
                report.mismatches.extend(plan.mismatches)
                report.notes.extend(plan.notes)
            report.rewrites.extend(create_schemas(upgrade, conn))
            if left_out or len(report.rewrites) > before or report.notes:
                downgrade.ops[:] = reverse_ops(upgrade.ops, report.notes)
                manage_types(downgrade)  # create_table of a dropped table: type exists
                cast_enum_alters(downgrade)
    return report


def reverse_ops(
    upgrade: list[ops.MigrateOperation], notes: list[str]
) -> list[ops.MigrateOperation]:
    """The downgrade for `upgrade`: each op's reverse, last first. An op without a reverse
    (e.g. an `execute` added by the user's own hook) is left out and noted."""
    out: list[ops.MigrateOperation] = []
    for op in reversed(upgrade):
        if isinstance(op, ops.ModifyTableOps):
            inner = reverse_ops(op.ops, notes)
            if inner:
                out.append(ops.ModifyTableOps(op.table_name, inner, schema=op.schema))
            continue
        try:
            out.append(op.reverse())
        except NotImplementedError:
            notes.append(
                f"the downgrade has no reverse for {type(op).__name__} (added by your own "
                "process_revision_directives?): write that part by hand"
            )
    return out


def merge_into(report: DraftReport, other: DraftReport) -> None:
    """Append `other`'s lines to `report`."""
    report.rewrites.extend(other.rewrites)
    report.left_out.extend(other.left_out)
    report.mismatches.extend(other.mismatches)
    report.notes.extend(other.notes)


def _metadata(target: Any) -> tuple[MetaData, ...]:
    if target is None:
        return ()
    if isinstance(target, MetaData):
        return (target,)
    return tuple(target)
