"""Errors `revisor init` raises: a file it has to change cannot be read or parsed."""

from __future__ import annotations

from revisor.errors import ConfigError


class InitError(ConfigError):
    """A file `revisor init` must edit cannot be edited safely; nothing was written
    (exit 2, as every configuration problem)."""
