"""Where the Better Call Buffet reference app lives, installed or in a source checkout."""

from __future__ import annotations

from pathlib import Path

from revisor.errors import ConfigError

EXAMPLE_NAME = "better_call_buffet"


def example_dir(name: str = EXAMPLE_NAME) -> Path:
    """The example's folder: bundled in the package, else the repository's examples/."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_examples" / name, here.parents[1] / "examples" / name):
        if (candidate / "alembic.ini").is_file():
            return candidate
    raise ConfigError(
        f"The {name} example is not installed with this copy of revisor.",
        hint="Install revisor from its repository (pip install -e .) to get the examples.",
    )
