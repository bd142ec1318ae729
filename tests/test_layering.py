"""The layers stay apart (STYLE.md's data way), and alembic's private API is reached from
one module only: checked on the source, so a change that crosses a line fails here."""

from __future__ import annotations

import ast
import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "revisor"


def imports_of(path: Path) -> set[str]:
    """Every module `path` imports, at any depth (lazy imports in functions included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def offenders(folder: str, forbidden: tuple[str, ...]) -> dict[str, list[str]]:
    bad: dict[str, list[str]] = {}
    for path in sorted((SRC / folder).rglob("*.py")) if folder else sorted(SRC.glob("*.py")):
        hits = sorted(
            name for name in imports_of(path) if name.startswith(forbidden) or name in forbidden
        )
        if hits:
            bad[str(path.relative_to(SRC))] = hits
    return bad


COMMANDS = (
    "revisor.redo",
    "revisor.redo_errors",
    "revisor.draft",
    "revisor.drafting",
    "revisor.deploy",
    "revisor.doctor",
    "revisor.review",
    "revisor.testing",
    "revisor.check",
    "revisor.cli",
    "revisor.report",
)


def test_db_imports_no_command():
    """db/ (connections, URLs, scratch databases) sits below every command."""
    assert offenders("db", COMMANDS) == {}


def test_report_takes_plain_data_not_database_urls():
    assert offenders("report", ("revisor.db",)) == {}


def test_doctor_does_not_reach_into_the_testing_engine():
    assert offenders("doctor", ("revisor.testing",)) == {}


def test_the_pytest_plugin_is_a_face_outside_the_testing_engine():
    assert not (SRC / "testing" / "pytest_plugin.py").exists()
    assert offenders("testing", ("revisor.pytest_plugin", "pytest")) == {}


# alembic's private attributes (and the context module's proxy table): reached through
# revisor/alembic_api.py only
PRIVATE = re.compile(
    r"\._(?:transaction|upgrade_revs|downgrade_revs|stamp_revs|all_down_revisions|"
    r"versioned_down_revisions|version_locations|last_autogen_context|setups)\b"
    r"|render\._|\.memo\s*=|fileConfig\s*="
)


def test_alembics_private_api_is_used_in_one_module():
    users = {
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if PRIVATE.search(path.read_text(encoding="utf-8"))
    }
    assert users == {"alembic_api.py"}


def test_the_errors_db_imports_are_not_every_commands():
    """db/ imports revisor.errors, so errors.py holds only what any layer can raise; a
    command's own refusals live with the command (redo_errors.py, drafting/errors.py,
    deploy/errors.py, git.py)."""
    tree = ast.parse((SRC / "errors.py").read_text(encoding="utf-8"))
    names = {node.name for node in tree.body if isinstance(node, ast.ClassDef)}
    own = {"RedoRefused", "AlreadyPublished", "TrashFailed", "DraftBlocked", "GitError"}
    own |= {"NoTargetDatabase", "AmbiguousHead", "DatabaseNotAtHead", "RedoDraftFailed"}
    assert names.isdisjoint(own), names & own
