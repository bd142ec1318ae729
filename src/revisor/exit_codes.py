"""Process exit codes. Each code means one thing, for every command.

docs/exit-codes.md is generated from `EXIT_CODES` and, for which findings fail which
command, from the registry of finding codes (revisor.codes); a test keeps it in step.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FINDINGS = 1
    USAGE = 2
    DATABASE = 3
    MIGRATION_FAILED = 4
    PENDING = 5
    UNKNOWN_REVISION = 6
    LOCKED = 7
    WRONG_DATABASE = 8
    INTERRUPTED = 130
    INTERNAL = 70


EXIT_CODES: dict[ExitCode, str] = {
    ExitCode.OK: "Success: nothing to report, or the requested change was applied.",
    ExitCode.FINDINGS: (
        "The command ran and found problems: findings at the level that fails the command "
        "(review, check, test, doctor: see below); draft and redo when review finds errors "
        "in the file they wrote (except the expand/contract "
        "RV4xx, which review and deploy enforce), or draft meets a change it cannot write (with "
        "--exit-code-on-empty, also when there is nothing to draft); deploy when review "
        "finds errors in the pending files (nothing is applied); review --diff when it has "
        "fixes to show; demo when a step does not go as shown."
    ),
    ExitCode.USAGE: (
        "Usage or configuration error: bad flags, no alembic.ini / [tool.alembic] found, "
        "env.py or a revision file that fails to import, a malformed or non-PostgreSQL URL "
        "(also a port or connection option libpq refuses), several heads where one is "
        "needed (draft; deploy without --to); draft meeting a change it will not guess "
        "without a terminal to ask (a likely rename, a NOT NULL column without a default on "
        "an existing table): the message names the flag that decides it."
    ),
    ExitCode.DATABASE: (
        "The database could not be used: unreachable server, wrong password, missing "
        "privilege (e.g. CREATEDB for scratch databases), a PostgreSQL extension the "
        "server does not have, or revisor's embedded server not running (db url)."
    ),
    ExitCode.MIGRATION_FAILED: (
        "A migration raised while revisor applied it for you (demo, deploy, redo, db "
        "upgrade/downgrade/stamp); the "
        "failed revision's transaction was rolled back (deploy also says which revision the "
        "database is now at, and when work done in an autocommit block stayed); deploy "
        "--dry-run --sql when a migration cannot be rendered as SQL offline (nothing is "
        "applied)."
    ),
    ExitCode.PENDING: (
        "The database is behind head: revisions are pending (check --url; draft and redo, "
        "which need the database at head). doctor reports it as the finding DR103 and "
        "exits 1."
    ),
    ExitCode.UNKNOWN_REVISION: (
        "The database is stamped with a revision that is not in the migration history "
        "(check --url, deploy, redo, db current, graph --url). doctor reports it as the "
        "finding DR102 and exits 1."
    ),
    ExitCode.LOCKED: (
        "Another deploy holds the migration lock and it was not released in time, or a "
        "migration's lock_timeout expired on a busy table on every retry (deploy)."
    ),
    ExitCode.WRONG_DATABASE: (
        "env.py connected to a database revisor did not choose (its engine has its own "
        "`creator=`, or it reuses a connection opened before revisor ran); revisor stopped "
        "before running any statement there."
    ),
    ExitCode.INTERNAL: "An unexpected error inside revisor (a bug): rerun with --debug, report it.",
    ExitCode.INTERRUPTED: (
        "Interrupted: Ctrl-C, or the reader of the output went away (`revisor review | head`)."
    ),
}


def render_markdown() -> str:
    """Return docs/exit-codes.md: one table row per exit code."""
    lines = [
        "# Exit codes",
        "",
        "Every revisor command exits with one of these codes; each means one thing.",
        "",
        "| code | name | meaning |",
        "| --- | --- | --- |",
    ]
    for code in sorted(EXIT_CODES, key=int):
        lines.append(f"| {int(code)} | `{code.name}` | {EXIT_CODES[code]} |")
    lines += ["", *_findings_markdown()]
    lines += [
        "",
        "An error is one message on stderr (`error: ...` and a `hint: ...`), never a "
        "traceback and never a password. `--debug` prints the traceback too, passwords "
        "masked, and exits with the same code.",
        "",
        "Commands with `--format json` (check, deploy, doctor, review, status, test) also "
        "print every error exit, command-line errors included, as one JSON object on stdout:",
        "",
        "```json",
        '{"status": "error", "exit_code": 2, "error": "the message", "hint": "the hint or null"}',
        "```",
    ]
    return "\n".join(lines) + "\n"


def _findings_markdown() -> list[str]:
    """Which findings make each command that reports codes exit 1, from the registry."""
    from revisor.codes import Command

    lines = [
        "## Findings and exit 1",
        "",
        "A finding fails the command that reports it by its level: `severity` in "
        "`[tool.revisor]` moves a code across that line, and `ignore` drops it "
        "([review.md](review.md#silencing-and-configuration)). Every code is listed in "
        "[rules/README.md](rules/README.md).",
        "",
        "| command | codes | exit 1 on |",
        "| --- | --- | --- |",
    ]
    for command in Command:
        codes = ", ".join(p + "x" * (5 - len(p)) for p in command.prefixes)
        anchor = f"rules/README.md#revisor-{command}"
        lines.append(f"| `revisor {command}` | [{codes}]({anchor}) | {command.fails_on} |")
    lines += [
        "",
        "`revisor check` also prints review's history findings and its review of the changed "
        "migrations; review's codes fail it as they fail `revisor review`.",
    ]
    return lines
