"""Shared by the expand/contract rules (RV4xx): the running release's models per action."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from revisor.review.rules._lock import upgrade_actions

if TYPE_CHECKING:
    from revisor.base_models import BaseModels
    from revisor.review.actions import Action
    from revisor.review.context import ReviewContext
    from revisor.review.parse import Migration

# Said at the end of every RV4xx help: the two ways out for a team that does not deploy
# while serving traffic.
STOPPED_TRAFFIC = (
    "If traffic stops while you migrate, add `# revisor: ignore[{code}] -- reason` on the "
    "line, or set deploy-stops-traffic = true in [tool.revisor]."
)


def about_deploy_order(code: str) -> bool:
    """Whether a finding code is one of these rules': what breaks is the release running
    during the deploy, not the migration itself (draft writes such a file as asked and
    leaves the decision to review and deploy)."""
    return code.startswith("RV4")


def release_actions(
    migration: Migration, ctx: ReviewContext, wanted: Callable[[Action], bool]
) -> Iterator[tuple[Action, BaseModels]]:
    """The upgrade's `wanted` actions, each with the running release's models; nothing
    when those are unknown. The models (git, a subprocess) are loaded only when the
    upgrade has such an action: most migrations never pay for them."""
    actions = [a for a in upgrade_actions(migration) if wanted(a)]
    if not actions:
        return
    base = ctx.base_models(migration)
    if base is None:
        return
    for action in actions:
        yield action, base


def column_name(action: Action) -> str | None:
    return action.column.name if action.column is not None else None
