"""revisor: safe-by-default Alembic migrations on PostgreSQL."""

from __future__ import annotations

__all__ = ["__version__"]


def __getattr__(name: str) -> str:
    """`revisor.__version__`, read from the installed metadata on first use only:
    importlib.metadata costs ~20 ms that every CLI start would otherwise pay."""
    if name != "__version__":
        raise AttributeError(f"module 'revisor' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("revisor")
    except PackageNotFoundError:  # running from a source tree without an install
        found = "0.0.0+source"
    globals()["__version__"] = found
    return found
