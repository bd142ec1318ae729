"""`revisor merge -m MSG` through the real CLI: one merge revision for every head (two and
three), alembic then sees one head and the review of the history is clean of RV2xx;
fewer than two heads or an empty message: exit 2 and no file."""

from __future__ import annotations

import shutil
from pathlib import Path

import alembic
import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from typer.testing import CliRunner

from revisor.cli import app
from revisor.exit_codes import ExitCode
from tests.conftest import HISTORIES
from tests.support.mini_history import write_history

MAKO = Path(alembic.__file__).parent / "templates" / "generic" / "script.py.mako"


def heads_of(ini: Path) -> list[str]:
    return sorted(ScriptDirectory.from_config(Config(str(ini))).get_heads())


def three_heads(root: Path) -> Path:
    """a -> b, a -> c, a -> d: three heads, with alembic's own revision template."""
    ini = write_history(
        root, [(r, d, "pass", "pass") for r, d in (("a", None), ("b", "a"), ("c", "a"), ("d", "a"))]
    )
    shutil.copy(MAKO, root / "migrations" / "script.py.mako")
    return ini


def review_graph(cli: CliRunner, ini: Path) -> int:
    return cli.invoke(app, ["review", "-c", str(ini), "--select", "RV2"]).exit_code


def test_merges_two_heads(cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    project = tmp_path / "multiple_heads"
    shutil.copytree(HISTORIES / "multiple_heads", project)
    monkeypatch.chdir(project)
    ini = project / "alembic.ini"
    before = heads_of(ini)
    assert len(before) == 2 and review_graph(cli, ini) == ExitCode.FINDINGS  # RV201
    result = cli.invoke(app, ["merge", "-c", str(ini), "-m", "join milestones and color"])
    assert result.exit_code == ExitCode.OK, result.output
    script = ScriptDirectory.from_config(Config(str(ini)))
    (head,) = script.get_heads()
    merged = script.get_revision(head)
    assert sorted(merged.down_revision) == before
    assert merged.doc == "join milestones and color"
    assert f"merged 2 heads ({', '.join(before)}) into {head}: migrations/versions/" in (
        result.stderr
    )
    assert result.stdout.strip() == "No findings."
    assert review_graph(cli, ini) == ExitCode.OK


def test_merges_three_heads(cli: CliRunner, tmp_path: Path) -> None:
    ini = three_heads(tmp_path)
    result = cli.invoke(app, ["merge", "-c", str(ini), "-m", "merge b, c and d"])
    assert result.exit_code == ExitCode.OK, result.output
    script = ScriptDirectory.from_config(Config(str(ini)))
    (head,) = script.get_heads()
    assert sorted(script.get_revision(head).down_revision) == ["b", "c", "d"]
    assert review_graph(cli, ini) == ExitCode.OK


def test_one_head_is_refused(cli: CliRunner, tmp_path: Path) -> None:
    ini = three_heads(tmp_path)
    assert cli.invoke(app, ["merge", "-c", str(ini), "-m", "first"]).exit_code == 0
    files = sorted((tmp_path / "migrations" / "versions").iterdir())
    result = cli.invoke(app, ["merge", "-c", str(ini), "-m", "second"])
    assert result.exit_code == ExitCode.USAGE
    assert "has one head" in result.output and "no file was written" in result.output
    assert f"`revisor graph -c {ini}` shows the history" in result.output
    assert sorted((tmp_path / "migrations" / "versions").iterdir()) == files
    graph = cli.invoke(app, ["graph", "-c", str(ini)])  # the hint's command works
    assert graph.exit_code == 0 and "(head, merge)" in graph.output


@pytest.mark.parametrize("message", ["", "   "])
def test_empty_message_is_refused(cli: CliRunner, tmp_path: Path, message: str) -> None:
    ini = three_heads(tmp_path)
    result = cli.invoke(app, ["merge", "-c", str(ini), "-m", message])
    assert result.exit_code == ExitCode.USAGE
    assert "-m/--message is empty" in result.output
    assert heads_of(ini) == ["b", "c", "d"]


def test_message_is_required(cli: CliRunner, tmp_path: Path) -> None:
    result = cli.invoke(app, ["merge", "-c", str(three_heads(tmp_path))])
    assert result.exit_code == ExitCode.USAGE
    assert "Missing option '--message'" in result.output


def test_failing_post_write_hook_is_one_message(cli: CliRunner, tmp_path: Path) -> None:
    ini = three_heads(tmp_path)
    ini.write_text(
        ini.read_text()
        + "\n[post_write_hooks]\nhooks = broken\nbroken.type = exec\n"
        + "broken.executable = /nonexistent/formatter\n"
    )
    result = cli.invoke(app, ["merge", "-c", str(ini), "-m", "merge"])
    assert result.exit_code == ExitCode.USAGE, result.output
    assert result.output.startswith("error: alembic could not write the merge revision")
    assert "no file was left" in result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    assert heads_of(ini) == ["b", "c", "d"]  # the written file was removed again
    assert len(list((tmp_path / "migrations" / "versions").glob("*.py"))) == 4
