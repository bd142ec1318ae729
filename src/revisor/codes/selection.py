"""Which codes a command reports and how loud: `[tool.revisor]` select, extend-select,
ignore, severity and per-file-ignores (and review's --select/--ignore).

Every entry is a code or a prefix (`RV3`, `RT1`, `DR`, `ALL`) and may name the codes of
any command; each command takes the entries that concern its codes:
- `select` narrows a command only when it names some of that command's codes: with
  `select = ["RV1"]` review runs the RV1xx rules and check, test and doctor report all
  their codes; without an entry for a command, its codes on by default are selected.
- `extend-select` adds codes (opt-in rules); `ignore` removes them: an ignored code is not
  reported and does not change the exit code.
- `severity` changes a code's level, and with it the exit code: review, check and test
  fail on errors, doctor on anything above info.
- `per-file-ignores` drops findings located in matching files (path relative to the
  project, or the file name), for any command whose findings carry a file.
An entry that matches no code of any command is a configuration error (exit 2).
"""

from __future__ import annotations

import contextlib
import fnmatch
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from revisor.codes import Command, FindingCode, all_codes
from revisor.errors import ConfigError
from revisor.findings import Finding, Severity

if TYPE_CHECKING:
    from revisor.config import RevisorSettings


def matches(pattern: str, code: str) -> bool:
    """Whether a select/ignore entry (a code, a prefix or ALL) names `code`."""
    key = pattern.strip().upper()
    return key == "ALL" or code.startswith(key)


def concerns(pattern: str, command: Command) -> bool:
    """Whether `pattern` can name codes of `command` (compared with its prefixes only, so
    the codes of other commands need not be loaded)."""
    key = pattern.strip().upper()
    return key == "ALL" or any(p.startswith(key) or key.startswith(p) for p in command.prefixes)


@dataclass(frozen=True)
class Selection:
    """The codes of `command` that are reported (`codes`), level overrides and per-file
    ignores: from [tool.revisor] and the command line."""

    codes: frozenset[str]
    severity: dict[str, Severity]
    per_file_ignores: dict[str, tuple[str, ...]]
    command: Command = Command.REVIEW

    @classmethod
    def from_settings(
        cls,
        settings: RevisorSettings | None,
        *,
        select: Sequence[str] = (),
        ignore: Sequence[str] = (),
        command: Command = Command.REVIEW,
    ) -> Selection:
        """The selection of `command`. `select`/`ignore` come from its command line and
        must name its own codes (`select` replaces the configured one). Raises
        ConfigError for an unknown code or severity."""
        own = all_codes(command)
        known = {c.code for c in own}

        def expand(patterns: Iterable[str], what: str, *, strict: bool = False) -> set[str]:
            codes: set[str] = set()
            for pattern in patterns:
                if not concerns(pattern, command):
                    if not any(concerns(pattern, other) for other in Command):
                        raise _unknown(pattern, what)
                    if strict:
                        raise ConfigError(
                            f"{pattern!r} in {what} is not a code of revisor {command}.",
                            hint="`revisor rules` lists the codes of each command.",
                        )
                    # Another command's entry: that command checks it against its codes
                    # (loading them here would cost review the drift engine's imports).
                    continue
                matched = {c for c in known if matches(pattern, c)}
                if not matched:
                    _known_somewhere(pattern, what)
                codes |= matched
            return codes

        configured = settings.select if settings else ()
        chosen = [p for p in configured if concerns(p, command)]
        expand(configured, "select")  # every entry must name some code
        if select:
            codes = expand(select, "--select", strict=True)
        elif chosen:
            codes = expand(chosen, "select")
        else:
            codes = {c.code for c in own if c.default_enabled}
        codes |= expand(settings.get("extend-select", []) if settings else [], "extend-select")
        codes -= expand(ignore, "--ignore", strict=True)
        codes -= expand(settings.ignore if settings else (), "ignore")
        severity: dict[str, Severity] = {}
        for code, level in (settings.severity if settings else {}).items():
            try:
                parsed = Severity(level.lower())
            except ValueError:
                raise ConfigError(
                    f"[tool.revisor] severity for {code} must be error, warning or info, "
                    f"not {level!r}."
                ) from None
            for matched in expand([code], "severity"):
                severity[matched] = parsed
        per_file = dict(settings.per_file_ignores if settings else {})
        for pattern, listed in per_file.items():
            expand(listed, f"per-file-ignores {pattern!r}")
        return cls(
            codes=frozenset(codes),
            severity=severity,
            per_file_ignores=per_file,
            command=command,
        )

    def ignored_in_file(self, finding: Finding, root: Path | None) -> bool:
        """Whether a per-file-ignores entry silences `finding` (by the path relative to
        `root`, or the file name)."""
        if finding.path is None or not self.per_file_ignores:
            return False
        relative = finding.path.as_posix()
        if root is not None:
            with contextlib.suppress(ValueError):
                relative = finding.path.resolve().relative_to(root.resolve()).as_posix()
        return any(
            (fnmatch.fnmatch(relative, pattern) or fnmatch.fnmatch(finding.path.name, pattern))
            and any(matches(c, finding.code) for c in codes)
            for pattern, codes in self.per_file_ignores.items()
        )

    def keeps(self, finding: Finding, root: Path | None) -> bool:
        """Whether `finding` is reported: a code of another command always is (its own
        command's selection applied where it was made)."""
        if Command.of(finding.code) is not self.command:
            return True
        return finding.code in self.codes and not self.ignored_in_file(finding, root)

    def level(self, finding: Finding) -> Finding:
        """`finding` at the level configured for its code."""
        if Command.of(finding.code) is not self.command:
            return finding
        severity = self.severity.get(finding.code)
        return replace(finding, severity=severity) if severity else finding

    def apply(self, findings: Iterable[Finding], root: Path | None) -> list[Finding]:
        """The findings that are reported, at their configured level, in order."""
        return [self.level(f) for f in findings if self.keeps(f, root)]


def _known_somewhere(pattern: str, what: str) -> None:
    """Raise ConfigError unless `pattern` names a code of some command."""
    owners: list[FindingCode] = []
    for command in Command:
        if concerns(pattern, command):
            owners += all_codes(command)
    if not any(matches(pattern, c.code) for c in owners):
        raise _unknown(pattern, what)


def _unknown(pattern: str, what: str) -> ConfigError:
    return ConfigError(
        f"Unknown code {pattern!r} in {what}.", hint="`revisor rules` lists every code."
    )
