"""The findings `revisor doctor` reports: one code (DR1xx) each, with its documentation.

Each is registered with every other command's codes (revisor.codes): `revisor rule DR105`
shows it, `[tool.revisor]` selects, ignores and re-levels it, and docs/rules/ is generated
from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from revisor.codes import FindingCode
from revisor.findings import Finding, Severity

if TYPE_CHECKING:
    from revisor.fix_commands import CommandLine


@dataclass(frozen=True)
class DoctorCode(FindingCode):
    """A doctor code. Its findings name no file (what is wrong is in a database) and
    always say the fix; any other keyword is a fact for the JSON `details`."""

    def finding(  # type: ignore[override]
        self,
        message: str,
        help: str,
        *,
        revision: str | None = None,
        commands: Sequence[CommandLine] = (),
        severity: Severity | None = None,
        **extra: object,
    ) -> Finding:
        """A Finding of this code; `help` says the command that fixes it. `commands`: the
        command lines `help` names on its way to the fix, in the order to run them (a step
        it can only give in words, such as "make the schema equal", comes before them);
        they are the finding's `commands` detail."""
        if commands:
            extra["commands"] = [str(command) for command in commands]
        return self.make(message, help=help, revision=revision, severity=severity, extra=extra)


EMPTY = DoctorCode(
    "DR100",
    "empty-database",
    Severity.INFO,
    """No version table and no schema: nothing has been migrated yet.

    ## What it does
    Reports a database with no version table and no tables (a schema of its own or an
    extension an init script created are allowed). Advice only: doctor exits 0.

    ## Why is this bad?
    It is not: the database is simply new. The finding says how many revisions the upgrade
    will apply and which command builds it.

    ## Example
    A database just created by `createdb app_dev`, or by the compose file's PostgreSQL
    service, before the first deploy.

    ## Use instead
    Build it with the upgrade the `fix:` line names (`revisor deploy` on your database,
    `revisor db upgrade` on the embedded dev database).

    ## Fix safety
    No automatic fix: `doctor --fix` never migrates a database.
    """,
)
UNSTAMPED = DoctorCode(
    "DR101",
    "unstamped-schema",
    Severity.ERROR,
    """Tables exist but no revision is recorded (create_all or hand-made schema).

    ## What it does
    Reports a database that has tables but no version table (or an empty one), and replays
    the history on a scratch database to find the revision whose schema it equals exactly;
    otherwise it names the closest revision and what differs from it.

    ## Why is this bad?
    The first upgrade would run every migration from the base on a schema that already has
    their tables: `relation "accounts" already exists`, or worse, half of them apply.

    ## Example
    The app called `Base.metadata.create_all()` on startup, so the tables exist and
    `alembic_version` does not.

    ## Use instead
    Record the matching revision with `revisor db stamp X` (or `revisor doctor --fix`), then
    upgrade; when no revision matches, make the schema equal to the closest one first.

    ## Fix safety
    Safe, and the only fix doctor applies: with `--fix`, an unstamped schema that equals a
    revision's schema exactly is stamped with it, through your env.py as `revisor db stamp`
    does. Only the version table is written.
    """,
)
UNKNOWN_REVISION = DoctorCode(
    "DR102",
    "unknown-revision",
    Severity.ERROR,
    """The recorded revision is not in the migration history (deleted file, other branch).

    ## What it does
    Reports each revision in the version table that no file of the version folders defines,
    and searches git for it: a branch whose version folder has the file, or the commit that
    deleted it. It also names the revision whose schema the database equals, if any.

    ## Why is this bad?
    alembic cannot upgrade or downgrade from a revision it does not know (`Can't locate
    revision identified by ...`): every deploy and every later migration fails.

    ## Example
    A migration was applied from a feature branch, then the branch was abandoned; or the
    file was deleted after `alembic upgrade` ran it, before its downgrade.

    ## Use instead
    Take the revision out with its own downgrade, from the branch or commit that has it
    (`git switch B`, `revisor db downgrade A`, back, then upgrade), or stamp the revision
    the schema really matches (`revisor db stamp --purge X`).

    ## Fix safety
    No automatic fix: `doctor --fix` leaves it alone; the `fix:` line gives the commands,
    each runnable as printed.
    """,
)
PENDING = DoctorCode(
    "DR103",
    "pending-revisions",
    Severity.WARNING,
    """The database is behind head: revisions are waiting to be applied.

    ## What it does
    Reports the revisions between the recorded revision and the heads, when the schema is
    what the history builds at the recorded revision.

    ## Why is this bad?
    The code expects the schema at head: queries of tables and columns the pending revisions
    create fail until they are applied.

    ## Example
    A teammate merged two migrations; your dev database is still at the revision before.

    ## Use instead
    Apply them with the upgrade the `fix:` line names (`revisor db upgrade`, or `revisor
    deploy` on a deployed database).

    ## Fix safety
    No automatic fix: `doctor --fix` leaves it alone; the `fix:` line gives the commands,
    each runnable as printed.
    """,
)
VERSION_ROWS = DoctorCode(
    "DR104",
    "inconsistent-version-rows",
    Severity.ERROR,
    """The version table holds duplicate rows, or rows on the same branch of the history.

    ## What it does
    Reports a version table that holds the same revision twice, or a revision together with
    one of its ancestors (one branch recorded twice).

    ## Why is this bad?
    alembic refuses to upgrade (`overlaps with other requested revisions`) or computes the
    pending revisions wrongly.

    ## Example
    Someone ran `INSERT INTO alembic_version` by hand, or two stamps ran without `--purge`.

    ## Use instead
    `revisor db stamp --purge HEADS` leaves one row per branch head; doctor then checks that
    the schema matches it.

    ## Fix safety
    No automatic fix: `doctor --fix` leaves it alone; the `fix:` line gives the commands,
    each runnable as printed.
    """,
)
SCHEMA_DRIFT = DoctorCode(
    "DR105",
    "schema-drift",
    Severity.ERROR,
    """An object differs from what the history builds at the recorded revision.

    ## What it does
    Replays the history on a scratch database up to the recorded revision and compares the
    two catalogs: one finding per object that exists only in the database, is missing from
    it, or has another definition, with the statement that removes a leftover.

    ## Why is this bad?
    A leftover index, constraint or type makes the later migration that creates the same
    name fail with `already exists` (the constraint-name collision); a missing object makes
    the migration that alters or drops it fail.

    ## Example
    `ix_orders_placed_on` was left by a migration that was deleted after it ran: the
    database has it, the history at its recorded revision does not.

    ## Use instead
    Drop the leftover with the statement on the `fix:` line (`revisor db shell -- -c 'DROP
    INDEX ...'`), recreate what is missing as its revision does, or rebuild the embedded dev
    database (`revisor db reset --yes`, then `revisor db upgrade`).

    ## Fix safety
    No automatic fix: `doctor --fix` leaves it alone; the `fix:` line gives the commands,
    each runnable as printed.
    """,
)
OTHER_REVISION = DoctorCode(
    "DR106",
    "schema-of-other-revision",
    Severity.ERROR,
    """The schema is exactly what another revision builds: the stamp is wrong.

    ## What it does
    Reports a database whose schema differs from what the history builds at the recorded
    revision but equals exactly what it builds at another one.

    ## Why is this bad?
    The next upgrade starts from the wrong place: it fails on objects that already exist, or
    skips migrations whose changes the database never got.

    ## Example
    `alembic stamp head` was run on a database that was really two revisions behind.

    ## Use instead
    `revisor db stamp --purge X` records the revision the schema really has; then upgrade.

    ## Fix safety
    No automatic fix: `doctor --fix` leaves it alone; the `fix:` line gives the commands,
    each runnable as printed.
    """,
)
HISTORY_FAILS = DoctorCode(
    "DR107",
    "history-does-not-build",
    Severity.WARNING,
    """Upgrading an empty scratch database fails, so later revisions could not be compared.

    ## What it does
    Reports the revision at which the replay of the history on the scratch database fails,
    with the error; what comes after it could not be compared with the database.

    ## Why is this bad?
    The history does not build on an empty database, so doctor's diagnosis is partial, and
    every new environment (CI, a new machine) fails the same way.

    ## Example
    The base revision is empty (the schema came from `create_all()` and a stamp), so the
    second revision's `op.add_column("accounts", ...)` fails on the scratch database.

    ## Use instead
    Run `revisor test`: it names the failing step and its cause. Fix the revision, then run
    doctor again.

    ## Fix safety
    No automatic fix: `doctor --fix` leaves it alone; the `fix:` line gives the commands,
    each runnable as printed.
    """,
)
