"""What `revisor deploy` refuses before it migrates anything."""

from __future__ import annotations

from collections.abc import Sequence

from revisor.errors import RevisorError


class NoTargetDatabase(RevisorError):
    """A command that changes a real database was given none (it never uses the embedded
    development server)."""

    def __init__(self, command: str, env_var: str) -> None:
        self.env_var = env_var
        super().__init__(
            f"revisor {command} needs the database to migrate, and none was given.",
            hint=f"Pass --url postgresql://USER@HOST/DB, set {env_var}, or set "
            "sqlalchemy.url in the Alembic config.",
        )


class AmbiguousHead(RevisorError):
    """The history has several heads and the command needs to know which one to reach."""

    def __init__(self, heads: Sequence[str]) -> None:
        self.heads = list(heads)
        super().__init__(
            f"The migration history has {len(self.heads)} heads ({', '.join(self.heads)}): "
            "which one to deploy is ambiguous.",
            hint="Merge them (alembic merge heads), or choose with --to REVISION "
            "(--to heads applies every branch).",
        )
