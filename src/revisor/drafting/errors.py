"""What `revisor draft` refuses to write, as errors with their facts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from revisor.errors import RevisorError
from revisor.exit_codes import ExitCode

if TYPE_CHECKING:
    from revisor.fix_commands import CommandLine


class DraftBlocked(RevisorError):
    """`revisor draft` found a change it cannot turn into a migration that would apply."""

    exit_code = ExitCode.FINDINGS


class DatabaseNotAtHead(RevisorError):
    """Autogenerate compares the models with a database at head; this one is not."""

    exit_code = ExitCode.PENDING

    def __init__(self, current: Sequence[str], heads: Sequence[str], upgrade: CommandLine) -> None:
        self.current = list(current)
        self.heads = list(heads)
        at = ", ".join(self.current) or "no revision"
        super().__init__(
            f"The database is at {at}, not at head ({', '.join(self.heads)}): a draft "
            "would repeat the pending migrations.",
            hint=f"Apply them first ({upgrade.quoted}), then draft again.",
        )


class DraftNeedsChoice(RevisorError):
    """A change with more than one reading (a rename or a drop plus an add; how to fill a
    new NOT NULL column): revisor will not guess, the user picks with a flag."""

    exit_code = ExitCode.USAGE
