"""The lines every benchmark prints first: the machine and the versions that produced its
numbers (a table without them cannot be compared with the next one)."""

from __future__ import annotations

import os
import platform
import sys
from importlib.metadata import PackageNotFoundError, version


def describe(server_url: object | None = None) -> list[str]:
    """Machine, Python, key package versions and, given a DatabaseUrl, the server's version."""
    packages = []
    for name in ("revisor", "alembic", "SQLAlchemy", "psycopg", "pglast"):
        try:
            packages.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            packages.append(f"{name} -")
    lines = [
        f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.system()} "
        f"{platform.release()}; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
        f"python: {sys.version.split()[0]}; " + ", ".join(packages),
    ]
    if server_url is not None:
        import psycopg

        with psycopg.connect(**server_url.libpq_kwargs()) as conn:  # type: ignore[attr-defined]
            row = conn.execute("SHOW server_version").fetchone()
        lines.append(f"postgresql: {row[0] if row else '?'}")
    return lines


def print_machine(server_url: object | None = None) -> None:
    for line in describe(server_url):
        print(line)
