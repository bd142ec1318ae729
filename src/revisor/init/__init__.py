"""`revisor init`: set up revisor on an existing Alembic project.

`plan_init` reads the project and returns every proposed change as whole-file text
(`InitPlan`), in this order:

1. the naming convention on the models' MetaData (`init.models`), the one `review --fix`
   and `draft` name with, so RV102 has nothing to report;
2. revisor's draft rewrite as env.py's `process_revision_directives` (`init.envpy`);
3. `[tool.revisor]` in pyproject.toml and `.revisor/` in .gitignore (`init.settings`);
4. a CI job and a pre-commit entry (`init.ci`).

A step whose change is already there proposes nothing, so a second run after `--write`
finds nothing to do. Nothing is written until `write(plan)`; no database is touched (env.py
runs in Alembic's offline mode to find the models, as every revisor command reads them).
"""

from __future__ import annotations

from pathlib import Path

from revisor.errors import MetadataNotFound
from revisor.init.ci import CI_CHOICES, ci_job, pre_commit, repository_root
from revisor.init.envpy import add_hook
from revisor.init.errors import InitError
from revisor.init.models import definers, metadata_specs, place_convention
from revisor.init.plan import FileChange, InitPlan, read, write
from revisor.init.settings import ignore_revisor_folder, tool_table
from revisor.init.spec import complete_spec
from revisor.naming import has_convention
from revisor.project import Project

__all__ = ["CI_CHOICES", "FileChange", "InitError", "InitPlan", "plan_init", "write"]


def plan_init(project: Project, *, ci: str = "github") -> InitPlan:
    """Every change `revisor init` proposes for `project` (nothing is written). Raises
    InitError for a file it must edit that cannot be parsed, EnvImportError when env.py
    fails to load, ConfigError for an unknown `ci`."""
    if ci not in CI_CHOICES:
        raise InitError(f"Unknown --ci {ci!r}.", hint=f"Use one of: {', '.join(CI_CHOICES)}.")
    plan = InitPlan(root=project.root.resolve())
    env_py = Path(project.script.dir) / "env.py"
    if not env_py.is_file():
        raise InitError(
            f"{env_py} does not exist: revisor init edits the env.py of an Alembic project.",
            hint="Create the project with `alembic init migrations` first.",
        )
    hook, hook_notes = add_hook(env_py, read(env_py))
    spec = _naming_convention(project, plan, exclude={env_py.resolve()})
    plan.add(hook)
    plan.notes.extend(hook_notes)
    plan.add(tool_table(plan, spec))
    plan.add(ignore_revisor_folder(plan))
    top = repository_root(plan.root)
    plan.add(ci_job(plan, ci, top))
    plan.add(pre_commit(plan, top, project.config_path.resolve()))
    return plan


def _naming_convention(project: Project, plan: InitPlan, exclude: set[Path]) -> str | None:
    """Plan the convention on each MetaData that lacks one; note constraints the history
    left to PostgreSQL to name. Returns `[tool.revisor] metadata` for the models (None
    when env.py names several MetaData or none)."""
    try:
        metadata = project.metadata
    except MetadataNotFound as exc:
        if not exc.absent:
            raise
        plan.notes.append(
            "env.py sets no target_metadata, so no naming convention was placed: set it to "
            "your models' MetaData (target_metadata = Base.metadata) and run revisor init "
            "again."
        )
        return None
    for meta in metadata:
        if has_convention([meta]):
            continue
        placed = place_convention(meta, plan.root, exclude)
        if isinstance(placed, FileChange):
            plan.add(placed)
        else:
            plan.notes.append(placed)
    _server_named_constraints(project, plan)
    if len(metadata) != 1:
        return None
    specs = metadata_specs(definers(metadata[0], plan.root, exclude))
    spec = complete_spec(specs, metadata[0].tables, project.root)
    if specs and spec is None:
        plan.notes.append(
            f"no [tool.revisor] metadata written: importing {specs[0].partition(':')[0]} "
            "alone does not bring every table (env.py imports the models itself), so "
            "revisor keeps reading the models through env.py."
        )
    return spec


def _server_named_constraints(project: Project, plan: InitPlan) -> None:
    """A note naming the revisions whose constraints PostgreSQL named (RV101, RV106)."""
    from revisor.fix_commands import FixCommands
    from revisor.review.engine import review

    findings = review(project, select=("RV101", "RV106")).findings
    revisions: dict[str, None] = {}
    for finding in findings:
        if finding.code in ("RV101", "RV106") and finding.path is not None:
            label = finding.path.name
            revisions[f"{finding.revision} ({label})" if finding.revision else label] = None
    if not revisions:
        return
    commands = FixCommands.for_project(project)
    fix = commands.revisor("review", "--fix", database=False)
    doctor = commands.revisor("doctor", "--url", "URL", database=False)
    plan.notes.append(
        "the history creates constraints without a name, so PostgreSQL named them "
        f"(RV101/RV106) in: {', '.join(revisions)}. The convention names new constraints "
        f"only; {fix.quoted} names these in the files, but a database where they already "
        "ran keeps PostgreSQL's names and review --fix does not rename them there: "
        f"{doctor.quoted} compares such a database with the history."
    )
