"""One registry of every finding code (revisor.codes): each code any command prints is
registered once, under its command's prefix, documented, and has a generated page that is
current; `revisor rules` / `revisor rule CODE` show them all; `[tool.revisor]` takes them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from revisor.cli import app
from revisor.codes import (
    REQUIRED_SECTIONS,
    Command,
    DuplicateCode,
    FindingCode,
    all_codes,
    get_code,
    missing_sections,
)
from revisor.codes.docs import expected_docs, write_docs
from revisor.codes.selection import Selection
from revisor.config import RevisorSettings
from revisor.errors import ConfigError
from revisor.exit_codes import ExitCode
from revisor.findings import Finding, Severity

ROOT = Path(__file__).resolve().parents[1]
CODES = all_codes()
CODE_LITERAL = re.compile(r"\b(?:RV|RT|DR)\d{3}\b")
# docs/review.md shows this one as the example of an unknown code (a configuration error).
UNKNOWN_ON_PURPOSE = {"RV699"}


def test_every_command_has_codes_under_its_own_prefixes() -> None:
    for command in Command:
        assert all_codes(command), command
    prefixes = [(p, c) for c in Command for p in c.prefixes]
    for prefix, command in prefixes:
        clashes = [
            (p, c)
            for p, c in prefixes
            if c is not command and (p.startswith(prefix) or prefix.startswith(p))
        ]
        assert not clashes, f"{command}'s {prefix} clashes with {clashes}"
    for entry in CODES:
        assert Command.of(entry.code) is entry.command
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", entry.name), entry.name
    assert len({e.name for e in CODES}) == len(CODES)


def test_every_code_in_the_source_and_docs_is_registered() -> None:
    """A code literal anywhere in revisor's source or hand-written docs names a registered
    code: a command cannot print (or the docs promise) a code `revisor rule` cannot show."""
    registered = {e.code for e in CODES}
    files = [*sorted((ROOT / "src").rglob("*.py")), ROOT / "README.md"]
    files += sorted((ROOT / "docs").glob("*.md")) + sorted((ROOT / "examples").rglob("*.md"))
    found: dict[str, set[str]] = {}
    for path in files:
        for code in CODE_LITERAL.findall(path.read_text(encoding="utf-8")):
            found.setdefault(code, set()).add(path.relative_to(ROOT).as_posix())
    unknown = {code: where for code, where in found.items() if code not in registered}
    assert set(unknown) == UNKNOWN_ON_PURPOSE, unknown
    assert found["RV699"] == {"docs/review.md"}
    # each command's codes are mentioned outside their own declaration too
    assert {"RV621", "RT103", "DR105", "RV101"} <= set(found)


@pytest.mark.parametrize("entry", CODES, ids=[e.code for e in CODES])
def test_every_code_is_documented(entry: FindingCode) -> None:
    assert not missing_sections(entry), f"{entry.code} lacks {missing_sections(entry)}"
    assert entry.summary and not entry.summary.endswith(":")
    for section in REQUIRED_SECTIONS:
        assert entry.sections()[section].strip(), f"{entry.code}: empty {section}"


def test_registration_refuses_a_second_code_or_name_and_foreign_prefixes() -> None:
    doc = "x\n\n## What it does\nx"
    with pytest.raises(DuplicateCode, match="RT103"):
        FindingCode("RT103", "another-name", Severity.ERROR, doc)
    with pytest.raises(DuplicateCode, match="schema-drift"):
        FindingCode("DR199", "schema-drift", Severity.ERROR, doc)
    with pytest.raises(DuplicateCode, match="unnamed-constraint"):
        FindingCode("RV699", "unnamed-constraint", Severity.ERROR, doc)
    for foreign in ("RV501", "XY101", "RT1001"):
        with pytest.raises(DuplicateCode, match="fits no command"):
            FindingCode(foreign, "a-new-name", Severity.ERROR, doc)
    assert {get_code(c) for c in ("RT199", "DR199", "RV699", "RV501")} == {None}


def test_docs_rules_folder_is_current() -> None:
    folder = ROOT / "docs" / "rules"
    actual = {p.name: p.read_text(encoding="utf-8") for p in folder.glob("*.md")}
    assert actual == expected_docs(), "run `revisor rules --write-docs docs/rules` and commit"


def test_write_docs_replaces_stale_pages_and_removes_gone_codes(tmp_path: Path) -> None:
    (tmp_path / "RT103.md").write_text("stale\n")
    (tmp_path / "RV698.md").write_text("a code that no longer exists\n")
    (tmp_path / "notes.md").write_text("not a code page\n")
    write_docs(tmp_path)
    assert (tmp_path / "RT103.md").read_text() == expected_docs()["RT103.md"]
    assert not (tmp_path / "RV698.md").exists() and (tmp_path / "notes.md").exists()
    assert {"DR105.md", "RV621.md", "RV101.md", "README.md"} <= {p.name for p in tmp_path.iterdir()}


def test_exit_code_docs_say_what_fails_each_command() -> None:
    text = (ROOT / "docs" / "exit-codes.md").read_text()
    pending = next(line for line in text.splitlines() if line.startswith("| 5 |"))
    assert "doctor" not in pending.split(".")[0]  # doctor reports DR103 and exits 1
    assert (
        "| `revisor doctor` | [DRxxx](rules/README.md#revisor-doctor) | warnings and errors |"
        in text
    )


# --- the CLI -------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["RT103", "DR105", "RV621", "RV652", "RV101", "rt201"])
def test_rule_documents_every_commands_codes(cli: CliRunner, code: str) -> None:
    result = cli.invoke(app, ["rule", code])
    assert result.exit_code == 0, result.output
    entry = get_code(code)
    assert entry is not None
    assert result.stdout.startswith(f"# {entry.code} `{entry.name}`")
    assert f"`revisor {entry.command}`" in result.stdout and "## Why is this bad?" in result.stdout
    assert result.stdout == expected_docs()[f"{entry.code}.md"]


def test_rule_by_name_and_unknown(cli: CliRunner) -> None:
    by_name = cli.invoke(app, ["rule", "unknown-revision"])
    assert by_name.exit_code == 0 and by_name.stdout.startswith("# DR102 ")
    unknown = cli.invoke(app, ["rule", "RT999"])
    assert unknown.exit_code == ExitCode.USAGE and "Unknown code 'RT999'" in unknown.output


def test_rules_lists_every_code_by_command(cli: CliRunner) -> None:
    result = cli.invoke(app, ["rules"], terminal_width=200)
    assert result.exit_code == 0, result.output
    out = result.stdout
    headers = [out.index(f"revisor {command}:") for command in Command]
    assert headers == sorted(headers)
    for entry in CODES:
        at = out.index(f"{entry.code}  ")
        section = max(h for h in headers if h < at)
        assert out[section:].startswith(f"revisor {entry.command}:"), entry.code


# --- [tool.revisor] ------------------------------------------------------------------


def selection(command: Command, **settings: object) -> Selection:
    return Selection.from_settings(RevisorSettings(**settings), command=command)  # type: ignore[arg-type]


def test_every_command_takes_every_commands_codes() -> None:
    settings = {
        "select": ("RV1", "RT1"),
        "ignore": ("RV601", "RT103", "DR103"),
        "severity": {"RV616": "error", "RT201": "error", "DR103": "info", "RV301": "info"},
        "per_file_ignores": {"legacy/*.py": ("RV6", "RT")},
    }
    review = selection(Command.REVIEW, **settings)
    assert review.codes == {e.code for e in all_codes(Command.REVIEW) if e.code.startswith("RV1")}
    check = selection(Command.CHECK, **settings)  # no select entry for check: all on
    assert check.codes == {e.code for e in all_codes(Command.CHECK)} - {"RV601"}
    assert check.severity == {"RV616": Severity.ERROR}
    test = selection(Command.TEST, **settings)
    assert test.codes == {"RT101", "RT102", "RT104", "RT105", "RT106", "RT107"}
    doctor = selection(Command.DOCTOR, **settings)
    assert doctor.codes == {e.code for e in all_codes(Command.DOCTOR)} - {"DR103"}
    assert selection(Command.DOCTOR, select=("ALL",)).codes == {
        e.code for e in all_codes(Command.DOCTOR)
    }


def test_selection_applies_to_its_own_commands_findings_only() -> None:
    check = selection(
        Command.CHECK,
        ignore=("RV623",),
        severity={"RV616": "error"},
        per_file_ignores={"legacy/*.py": ("RV6",)},
    )
    root = Path("/project")
    findings = [
        Finding("RV623", Severity.WARNING, "comment"),
        Finding("RV616", Severity.WARNING, "check constraint"),
        Finding("RV603", Severity.ERROR, "column", path=root / "legacy" / "models.py"),
        Finding("RV603", Severity.ERROR, "column", path=root / "app" / "models.py"),
        Finding("RV201", Severity.ERROR, "heads"),  # review's: selected by review
    ]
    kept = check.apply(findings, root)
    assert [(f.code, f.severity) for f in kept] == [
        ("RV616", Severity.ERROR),
        ("RV603", Severity.ERROR),
        ("RV201", Severity.ERROR),
    ]
    assert kept[1].path == root / "app" / "models.py"
    assert Command.CHECK.fails(kept) and not Command.DOCTOR.fails([])
    assert Command.DOCTOR.fails([Finding("DR103", Severity.WARNING, "pending")])
    assert not Command.TEST.fails([Finding("RT201", Severity.WARNING, "rows")])


def test_unknown_codes_are_configuration_errors() -> None:
    with pytest.raises(ConfigError, match="Unknown code 'RV9' in ignore"):
        selection(Command.TEST, ignore=("RV9",))  # no command has RV9
    with pytest.raises(ConfigError, match="Unknown code 'RT999' in severity"):
        selection(Command.TEST, severity={"RT999": "info"})
    with pytest.raises(ConfigError, match="Unknown code 'DR2' in per-file-ignores"):
        selection(Command.DOCTOR, per_file_ignores={"*.py": ("DR2",)})
    with pytest.raises(ConfigError, match="must be error, warning or info"):
        selection(Command.CHECK, severity={"RV601": "loud"})
    # another command's unknown code is that command's to report
    assert selection(Command.REVIEW, ignore=("RV699",)).codes
    with pytest.raises(ConfigError, match="Unknown code 'RV699'"):
        selection(Command.CHECK, ignore=("RV699",))
    # review's command line takes review's codes only
    with pytest.raises(ConfigError, match="not a code of revisor review"):
        Selection.from_settings(None, select=["RV6"])


def test_review_accepts_other_commands_codes_in_pyproject(cli: CliRunner, tmp_path: Path) -> None:
    """`ignore = ["RV601"]` was rejected by every command ("Unknown rule")."""
    from tests.support.mini_history import ACCOUNTS, write_history

    ini = write_history(tmp_path, [ACCOUNTS])
    (tmp_path / "pyproject.toml").write_text(
        '[tool.revisor]\nignore = ["RV601", "RT103", "DR103"]\n'
        'severity = { RV616 = "error", RT201 = "error" }\n'
        '[tool.revisor.per-file-ignores]\n"migrations/versions/*" = ["RT2", "RV6"]\n'
    )
    result = cli.invoke(app, ["review", "-c", str(ini), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["findings"] == []
    (tmp_path / "pyproject.toml").write_text('[tool.revisor]\nignore = ["RV9"]\n')
    result = cli.invoke(app, ["review", "-c", str(ini)])
    assert result.exit_code == ExitCode.USAGE and "Unknown code 'RV9' in ignore" in result.output
