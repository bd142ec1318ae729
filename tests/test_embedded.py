"""The embedded server outlives no run: not even one that was killed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

START = "from revisor.db.embedded import embedded_server_url; embedded_server_url()"


def test_server_orphaned_by_a_killed_run_is_stopped_by_the_next_run():
    # Not under pytest's tmp_path: that is 0700, and the server runs as its own user.
    cache = Path(tempfile.mkdtemp(prefix="revisor-embedded-"))
    env = {**os.environ, "REVISOR_CACHE_DIR": str(cache)}
    pid_file = cache / "postgres-18" / "postmaster.pid"
    try:
        killed = subprocess.run(
            [sys.executable, "-c", START + "; import os, signal; os.kill(os.getpid(), 9)"],
            env=env,
        )
        assert killed.returncode == -9
        assert pid_file.exists()  # the killed run could not stop its server
        subprocess.run([sys.executable, "-c", START], env=env, check=True, timeout=60)
        assert not pid_file.exists()  # the next run joined it and stopped it at exit
    finally:
        if pid_file.exists():
            subprocess.run(["kill", "-INT", pid_file.read_text().split()[0]])
        shutil.rmtree(cache, ignore_errors=True)
