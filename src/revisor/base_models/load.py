"""Load the models of one commit without touching the user's work tree or index.

`git archive` writes the commit's tree into a temporary folder; a subprocess
(describe.py) imports the models there the way revisor finds them today (env.py's
target_metadata, or [tool.revisor] metadata, as that commit's files say) and writes a
JSON description, which is cached under the revisor cache folder by commit and project.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from revisor import git
from revisor.base_models.model import BaseModels
from revisor.errors import RevisorError

if TYPE_CHECKING:
    from revisor.project import Project

TIMEOUT = 120.0  # seconds for importing the models of one commit
CACHE_FORMAT = 1


class BaseModelsUnavailable(RevisorError):
    """The models at a commit could not be read (the import failed, the config is not
    there yet, git failed); the expand/contract rules stay silent."""


def load_base_models(project: Project, commit: str) -> BaseModels:
    """The models at `commit` of the repository holding the project. Runs read-only git
    commands and one Python subprocess (cached afterwards); connects to no database.
    Raises BaseModelsUnavailable."""
    top = git.toplevel(project.root)
    if top is None:
        raise BaseModelsUnavailable(f"{project.root} is not in a git work tree")
    request = _request(project, top)
    cache = _cache_file(commit, request)
    if cache.is_file():
        try:
            return BaseModels.from_json(json.loads(cache.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError):
            pass  # a damaged cache entry is read again from git
    with tempfile.TemporaryDirectory(prefix="revisor-base-") as folder:
        tree = Path(folder) / "tree"
        _extract(top, commit, Path(folder) / "tree.tar", tree)
        _copy_untracked_dotenv(project.root, top, tree)
        found = _describe(request, tree, Path(folder) / "models.json")
    if "error" in found:
        from revisor.db.redaction import redact

        # the app's own message may quote a database URL
        why = redact(str(found["error"]))
        raise BaseModelsUnavailable(f"importing the models at {commit[:12]} failed: {why}")
    models = BaseModels.from_json({"commit": commit, "tables": found["tables"]})
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        partial = cache.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps(models.to_json()), encoding="utf-8")
        partial.replace(cache)  # whole or absent, when two reviews run at once
    except OSError:
        pass  # no cache: the next review imports again
    return models


def _request(project: Project, top: Path) -> dict[str, object]:
    """Where the project lies inside the repository, and how the command line named it."""
    root = git.relative(project.root, top)
    config = None if project.flask_app is not None else git.relative(project.config_path, top)
    if root is None or (project.flask_app is None and config is None):
        raise BaseModelsUnavailable(f"{project.config_path} lies outside the git work tree {top}")
    return {
        "config": config,
        "root": root,
        "name": project.config.config_ini_section,
        "x": list(project.x_options),
        "app": project.app_option,
    }


def _cache_file(commit: str, request: dict[str, object]) -> Path:
    from revisor.db.embedded import cache_dir

    key = hashlib.sha256(json.dumps([CACHE_FORMAT, request], sort_keys=True).encode()).hexdigest()
    return cache_dir() / "base-models" / f"{commit}-{key[:16]}.json"


def _extract(top: Path, commit: str, archive: Path, tree: Path) -> None:
    try:
        git.archive(top, commit, archive)
    except git.GitError as exc:
        raise BaseModelsUnavailable(exc.message) from None
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(tree, filter=_inside)
    except (OSError, tarfile.TarError) as exc:
        raise BaseModelsUnavailable(f"cannot unpack {commit[:12]}: {exc}") from None
    archive.unlink()


def _copy_untracked_dotenv(root: Path, top: Path, tree: Path) -> None:
    """Copy the work tree's `.env` files (the project's folder and each one above it up
    to the repository's top) into the extracted commit where it has none. Settings
    modules read them relative to the folder commands run in, and git ignores them (they
    hold secrets): without them the release's models fail to import ("SECRET_KEY is
    missing"). The copy lives in the temporary folder, removed when the import is done."""
    for folder in (root, *root.parents):
        source = folder / ".env"
        relative = git.relative(folder, top)
        if relative is None:
            break
        target = tree / relative / ".env"
        if source.is_file() and not target.exists() and target.parent.is_dir():
            shutil.copyfile(source, target)
        if folder == top:
            break


def _inside(member: tarfile.TarInfo, folder: str) -> tarfile.TarInfo | None:
    """tarfile's "data" filter (no absolute paths, links out of the folder or device
    files), skipping what it refuses: a symbolic link to /etc in the repository is no
    reason to give up on its models."""
    try:
        return tarfile.data_filter(member, folder)
    except tarfile.FilterError:
        return None


def _describe(request: dict[str, object], tree: Path, output: Path) -> dict[str, object]:
    root = tree / str(request["root"])
    config = tree / str(request["config"]) if request["config"] else None
    if config is not None and not config.is_file():
        raise BaseModelsUnavailable(f"{request['config']} does not exist at that commit")
    if not root.is_dir():
        raise BaseModelsUnavailable(f"{request['root']} does not exist at that commit")
    payload = {
        "config": str(config) if config else None,
        "cwd": str(root),
        "name": request["name"],
        "x": request["x"],
        "app": request["app"],
        "paths": [str(config.parent if config else root), str(tree)],
    }
    module = "revisor.base_models.describe"
    # -P: the release's folder is not put first before revisor itself is imported (a
    # module of the app named like a library must not shadow it); describe.py adds it
    command = [sys.executable, "-P", "-m", module, json.dumps(payload), str(output)]
    try:
        done = subprocess.run(
            command,
            cwd=root,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        raise BaseModelsUnavailable(f"importing the models took over {TIMEOUT:g} s") from None
    try:
        return json.loads(output.read_text(encoding="utf-8"))  # type: ignore[no-any-return]
    except (OSError, ValueError):
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()
        detail = said[-1] if said else f"exit {done.returncode}"
        return {"error": detail}
