"""revisor's own settings: `[tool.revisor]` in the pyproject.toml beside (or above) the config.

Engines read typed fields; a command that grows new keys reads them from `raw` until they
earn a field here.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from revisor.errors import ConfigError


@dataclass(frozen=True)
class RevisorSettings:
    """Parsed `[tool.revisor]`; every field has a default so an absent table is fine."""

    path: Path | None = None
    metadata: str | None = None
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    severity: dict[str, str] = field(default_factory=dict)
    per_file_ignores: dict[str, tuple[str, ...]] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)

    def get(self, key: str, default: Any = None) -> Any:
        return self.raw.get(key, default)


def find_pyproject(start: Path) -> Path | None:
    """The nearest pyproject.toml at or above `start`, stopping at a git root."""
    for folder in [start, *start.parents]:
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
        if (folder / ".git").exists():
            return None
    return None


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"Cannot read {path}: {exc.strerror}") from None


def load_settings(pyproject: Path | None) -> RevisorSettings:
    """Read `[tool.revisor]` from `pyproject` (None: defaults). Raises ConfigError on bad types."""
    if pyproject is None:
        return RevisorSettings()
    table = read_toml(pyproject).get("tool", {}).get("revisor", {})
    if not isinstance(table, dict):
        raise ConfigError(f"[tool.revisor] in {pyproject} must be a table")

    def strings(key: str) -> tuple[str, ...]:
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"[tool.revisor] {key} in {pyproject} must be a list of strings")
        return tuple(value)

    metadata = table.get("metadata")
    if metadata is not None and not isinstance(metadata, str):
        raise ConfigError(
            f"[tool.revisor] metadata in {pyproject} must be a string like "
            '"app.models:Base.metadata"'
        )
    per_file = table.get("per-file-ignores", {})
    if not isinstance(per_file, dict):
        raise ConfigError(f"[tool.revisor] per-file-ignores in {pyproject} must be a table")
    if not isinstance(table.get("deploy-stops-traffic", False), bool):
        raise ConfigError(
            f"[tool.revisor] deploy-stops-traffic in {pyproject} must be true or false"
        )
    severity = table.get("severity", {})
    if not isinstance(severity, dict):
        raise ConfigError(f"[tool.revisor] severity in {pyproject} must be a table")
    return RevisorSettings(
        path=pyproject,
        metadata=metadata,
        select=strings("select"),
        ignore=strings("ignore"),
        severity={str(k): str(v) for k, v in severity.items()},
        per_file_ignores={str(k): tuple(v) for k, v in per_file.items()},
        raw=table,
    )
