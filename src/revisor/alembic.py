"""revisor's draft rewrite for plain `alembic revision --autogenerate`, opt-in from env.py.

    from revisor.alembic import process_revision_directives

    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        process_revision_directives=process_revision_directives,
    )

With a hook of your own, chain it so that yours runs first:
`process_revision_directives=chain(your_hook)`; an Alembic `Rewriter` chains the same way:
`your_writer.chain(process_revision_directives)`.

Options come from `[tool.revisor]` (`rename-labels`, `allow-drop`) in the pyproject.toml
beside alembic.ini. What the rewrite changed is printed through Alembic's own messages.
`revisor draft` recognises the hook and does not rewrite twice.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic.util import CommandError, msg

from revisor.config import find_pyproject, load_settings
from revisor.drafting import DraftOptions, DraftReport, revise
from revisor.errors import RevisorError

Hook = Callable[[Any, Any, list[Any]], None]

# `revisor draft` sets this config attribute: it prints its own summary.
QUIET_ATTRIBUTE = "revisor.quiet"
# ... and this one to its DraftOptions: the command line's flags hold in env.py's hook too.
OPTIONS_ATTRIBUTE = "revisor.options"


def process_revision_directives(context: Any, revision: Any, directives: list[Any]) -> None:
    """Alembic's hook signature. Names constraints, reconciles enum types with pg_enum and
    leaves out unrequested drops; reads the catalog through the context's connection.
    Under plain alembic, a change revisor will not draft (an enum change it cannot make
    safe, a likely rename, a NOT NULL column without a default) raises alembic's
    CommandError with revisor's message and hint; under `revisor draft`, the RevisorError
    itself."""
    config = getattr(context, "config", None)
    under_revisor = config is not None and bool(config.attributes.get(QUIET_ATTRIBUTE))
    try:
        report = revise(context, directives, _options(config))
    except RevisorError as exc:
        if under_revisor:
            raise  # `revisor draft` reports it with its exit code
        # alembic's command line prints a CommandError as one "FAILED:" line, no traceback
        raise CommandError(f"{exc.message} {exc.hint or ''}".strip()) from exc
    if under_revisor:
        return
    for line in describe(report):
        msg(line)


def chain(*hooks: Hook) -> Hook:
    """A hook that runs `hooks` in order, then revisor's rewrite."""

    def chained(context: Any, revision: Any, directives: list[Any]) -> None:
        for hook in hooks:
            hook(context, revision, directives)
        process_revision_directives(context, revision, directives)

    return chained


def describe(report: DraftReport) -> list[str]:
    """The report as plain lines, for Alembic's console output."""
    lines = [f"  revisor: {line}" for line in report.rewrites]
    lines += [f"  revisor: left out drop of {d.kind} {d.name}: {d.cause}" for d in report.left_out]
    lines += [
        f"  revisor: enum {m.name}: the database stores the values, the model the names; "
        f"use {m.fix}"
        for m in report.mismatches
    ]
    lines += [f"  revisor: note: {note}" for note in report.notes]
    return lines


def _options(config: Any) -> DraftOptions:
    given = config.attributes.get(OPTIONS_ATTRIBUTE) if config is not None else None
    if isinstance(given, DraftOptions):
        return given
    path = getattr(config, "config_file_name", None) if config is not None else None
    if not path:
        return DraftOptions.build()
    root = Path(path).resolve().parent
    settings = load_settings(find_pyproject(root))
    return DraftOptions.build(settings=settings.raw, source_roots=[root])
