"""The CI job and the pre-commit entry `revisor init` proposes.

The CI job runs `revisor check` (models vs migrations, and review of what the branch
changed) and `revisor test --last 5` (the newest revisions up, down and up again) on
scratch databases: GitHub Actions on revisor's embedded PostgreSQL, GitLab CI on a
`postgres` service (its jobs run as root, and PostgreSQL refuses to start as root).
The pre-commit entry uses the hook ids of revisor's `.pre-commit-hooks.yaml`.
Files are created, or appended to when that keeps them valid; never rewritten.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

from revisor import git
from revisor.errors import RevisorError
from revisor.init.plan import FileChange, InitPlan

CI_CHOICES = ("github", "gitlab", "none")
CHECK = "revisor check"
TEST = "revisor test --last 5"
HOOK_IDS = ("revisor-review", "revisor-check")
# Where revisor's .pre-commit-hooks.yaml lives, when the installed metadata does not say.
DEFAULT_REPOSITORY = "https://github.com/revisor-dev/revisor"


def repository_root(root: Path) -> Path:
    """The git work tree holding `root` (CI and pre-commit files live at its top), else
    `root` itself."""
    try:
        top = git.toplevel(root)
    except RevisorError:  # no git on this machine
        return root
    return top.resolve() if top is not None else root


def ci_job(plan: InitPlan, ci: str, top: Path) -> FileChange | None:
    """The CI file for `ci` (github, gitlab), None when it already runs revisor."""
    if ci == "none":
        return None
    working = plan.root.relative_to(top).as_posix() if plan.root != top else "."
    install = _install_line(plan.root)
    if ci == "github":
        path = top / ".github" / "workflows" / "revisor.yml"
        before = plan.text_of(path)
        if before is not None:
            return None  # the user's own version of it
        workflow = _github(working, install, _default_branch(top))
        return FileChange(path, None, workflow, "CI: GitHub Actions workflow")
    path = top / ".gitlab-ci.yml"
    before = plan.text_of(path)
    if before is not None and re.search(r"^revisor:", before, re.MULTILINE):
        return None
    job = _gitlab(working, install)
    after = job if not before else before.rstrip("\n") + "\n\n" + job
    return FileChange(path, before, after, "CI: GitLab CI job")


def pre_commit(plan: InitPlan, top: Path, config: Path) -> FileChange | None:
    """The revisor entry in .pre-commit-config.yaml (created, or appended when `repos:` is
    its last top-level key), None when it is there; a note when it cannot be appended.
    pre-commit runs hooks at the top of the work tree: a project below it gets its
    `config` (alembic.ini) passed with -c."""
    path = top / ".pre-commit-config.yaml"
    before = plan.text_of(path)
    url = repository_url()
    if before is not None and any(hook in before for hook in HOOK_IDS):
        return None
    args = () if config.parent == top else ("-c", config.relative_to(top).as_posix())
    entry = _pre_commit_entry(url, "  ", args)
    if before is None:
        return FileChange(path, None, "repos:\n" + entry, "pre-commit hooks")
    keys = re.findall(r"^([A-Za-z_][\w-]*)\s*:", before, re.MULTILINE)
    if not keys or keys[-1] != "repos":
        plan.notes.append(
            f"{path}: `repos:` is not its last key, so init does not append to it; add:\n" + entry
        )
        return None
    items = re.findall(r"^( *)- repo:", before, re.MULTILINE)
    indent = items[-1] if items else "  "
    after = before.rstrip("\n") + "\n" + _pre_commit_entry(url, indent, args)
    return FileChange(path, before, after, "pre-commit hooks")


def repository_url() -> str:
    """revisor's repository, as its installed metadata names it."""
    from importlib.metadata import PackageNotFoundError, metadata

    try:
        urls = metadata("revisor").get_all("Project-URL") or []
    except PackageNotFoundError:
        urls = []
    for entry in urls:
        label, _, url = entry.partition(",")
        if label.strip().lower() in ("repository", "source"):
            return url.strip()
    return DEFAULT_REPOSITORY


def _revision_tag() -> str:
    from revisor import __version__

    return f"v{__version__}"


def _pip_spec() -> str:
    from revisor import __version__

    # a development build is not on the package index under its own version
    return "revisor" if "dev" in __version__ or "+" in __version__ else f"revisor=={__version__}"


def _pre_commit_entry(url: str, indent: str, args: tuple[str, ...]) -> str:
    listed = f"{indent}      args: [{', '.join(json.dumps(a) for a in args)}]\n" if args else ""
    hooks = "".join(f"{indent}    - id: {hook}\n{listed}" for hook in HOOK_IDS)
    return f"{indent}- repo: {url}\n{indent}  rev: {_revision_tag()}\n{indent}  hooks:\n{hooks}"


def _install_line(root: Path) -> str:
    """pip's arguments for revisor and the app (env.py imports the app's models)."""
    spec = _pip_spec()
    if (root / "requirements.txt").is_file():
        return f'pip install "{spec}" -r requirements.txt'
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        try:
            if "project" in tomllib.loads(pyproject.read_text(encoding="utf-8")):
                return f'pip install "{spec}" .'
        except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError):
            pass
    return f'pip install "{spec}"  # and your app\'s dependencies: env.py imports the models'


def _default_branch(top: Path) -> str:
    """The repository's default branch as git knows it (origin's HEAD, main, master),
    `main` when it knows none."""
    try:
        found = git.default_branches(top) if git.toplevel(top) is not None else []
    except RevisorError:  # no git on this machine
        found = []
    return found[0].removeprefix("origin/") if found else "main"


def _github(working: str, install: str, branch: str) -> str:
    defaults = ""
    if working != ".":
        defaults = f"    defaults:\n      run:\n        working-directory: {working}\n"
    return (
        "# Written by `revisor init`: the migrations are checked against the models and\n"
        "# tested (up, down, up) on scratch databases of revisor's embedded PostgreSQL.\n"
        "name: revisor\n"
        "on:\n"
        "  push:\n"
        f"    branches: [{branch}]\n"
        "  pull_request:\n"
        "jobs:\n"
        "  migrations:\n"
        "    runs-on: ubuntu-latest\n"
        f"{defaults}"
        "    steps:\n"
        "      - uses: actions/checkout@v4\n"
        "        with:\n"
        "          fetch-depth: 0  # revisor check reviews what the branch changed\n"
        "      - uses: actions/setup-python@v5\n"
        "        with:\n"
        '          python-version: "3.12"\n'
        f"      - run: {install}\n"
        f"      - run: {CHECK} --format github\n"
        f"      - run: {TEST} --format github\n"
    )


def _gitlab(working: str, install: str) -> str:
    cd = "" if working == "." else f"    - cd {working}\n"
    return (
        "# Written by `revisor init`: the migrations are checked against the models and\n"
        "# tested (up, down, up) on scratch databases of the postgres service.\n"
        "revisor:\n"
        "  image: python:3.12\n"
        "  services:\n"
        "    - postgres:17\n"
        "  variables:\n"
        "    GIT_DEPTH: 0  # revisor check reviews what the branch changed\n"
        "    POSTGRES_PASSWORD: revisor\n"
        "    DATABASE_URL: postgresql://postgres:revisor@postgres:5432/postgres\n"
        "  script:\n"
        f"{cd}"
        f"    - {install}\n"
        f"    - {CHECK}\n"
        f"    - {TEST}\n"
    )
