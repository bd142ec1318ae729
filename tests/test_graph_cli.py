"""`revisor graph` through the real CLI: the Mermaid and DOT it prints, parsed back, hold
exactly alembic's own down_revision edges, one node per revision, with merges, branch
points and heads marked; --url and --since highlight what they name."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from typer.testing import CliRunner

from revisor.cli import app
from revisor.exit_codes import ExitCode
from revisor.graph_diagram import mermaid_id, mermaid_text
from tests.conftest import EXAMPLE, HISTORIES
from tests.support.mini_history import write_history

MIGRATIONS = EXAMPLE / "migrations"


def _step(rev: str, down: str | tuple[str, ...] | None) -> tuple:
    return (rev, down, "pass", "pass")


# a -> b, a -> c (branch point a); b -> d, b -> e (branch point b); c -> x (a second head);
# m merges c, d and e (three parents); m -> h (head).
BRANCHY = [
    _step("a", None),
    _step("b", "a"),
    _step("c", "a"),
    _step("d", "b"),
    _step("e", "b"),
    _step("m", ("c", "d", "e")),
    _step("h", "m"),
    _step("x", "c"),
]
MESSAGES = {"a": 'create "accounts" #1', "m": "merge <c, d & e>", "x": "end"}


DEPENDS: dict[str, set[tuple[str, str]]] = {}


def alembic_edges(ini: Path) -> tuple[set[str], set[tuple[str, str]]]:
    """alembic's own view: every revision, and (down_revision, revision) for each parent."""
    script = ScriptDirectory.from_config(Config(str(ini)))
    revisions, edges = set(), set()
    for rev in script.walk_revisions():
        revisions.add(rev.revision)
        down = rev.down_revision
        for parent in (down,) if isinstance(down, str) else down or ():
            edges.add((parent, rev.revision))
    return revisions, edges


def parse_mermaid(text: str, revisions: set[str]) -> tuple[dict[str, str], set[tuple[str, str]]]:
    """(revision -> its label, parent -> child edges) read back from the Mermaid text;
    depends_on edges (dotted) are in DEPENDS[text]."""
    by_id = {mermaid_id(r): r for r in revisions}
    assert len(by_id) == len(revisions)  # node ids never collide
    lines = text.splitlines()
    assert lines[0] == "flowchart TD"
    labels, edges = {}, set()
    for line in lines[1:]:
        node = re.fullmatch(r'    (\w+)(?:\[|\{\{)"([^"]*)"(?:\]|\}\})', line)
        edge = re.fullmatch(r"    (\w+) --> (\w+)", line)
        depends = re.fullmatch(r"    (\w+) -\.-> (\w+)", line)
        if depends:
            DEPENDS.setdefault(text, set()).add((by_id[depends.group(1)], by_id[depends.group(2)]))
        elif node:
            assert node.group(1) not in labels
            labels[by_id[node.group(1)]] = node.group(2)
        elif edge:
            edges.add((by_id[edge.group(1)], by_id[edge.group(2)]))
        else:
            assert re.fullmatch(r"    (classDef \w+ \S+( \S+)?|class [\w,]+ \w+)", line), line
    return labels, edges


def parse_dot(text: str) -> tuple[dict[str, str], set[tuple[str, str]]]:
    """(revision -> its label, parent -> child edges) read back from the DOT text;
    depends_on edges (dotted) are in DEPENDS[text]."""
    lines = text.splitlines()
    assert lines[0] == "digraph revisions {" and lines[-1] == "}"
    quoted = r'"((?:[^"\\]|\\.)*)"'
    labels, edges = {}, set()
    for line in lines[2:-1]:
        node = re.fullmatch(rf"    {quoted} \[label={quoted}(, [^\]]*)?\];", line)
        edge = re.fullmatch(rf"    {quoted} -> {quoted};", line)
        depends = re.fullmatch(
            rf'    {quoted} -> {quoted} \[style=dotted, label="depends_on"\];', line
        )
        if depends:
            DEPENDS.setdefault(text, set()).add((depends.group(1), depends.group(2)))
        elif node:
            assert node.group(1) not in labels
            labels[node.group(1)] = node.group(2)
        elif edge:
            edges.add((edge.group(1), edge.group(2)))
        else:
            raise AssertionError(f"not a node nor an edge: {line!r}")
    return labels, edges


def _members(mermaid: str, css_class: str) -> set[str]:
    """The node ids of `class ... css_class` in the Mermaid text."""
    found = re.search(rf"^    class ([\w,]+) {css_class}$", mermaid, re.MULTILINE)
    return set(found.group(1).split(",")) if found else set()


def branchy_project(root: Path) -> Path:
    ini = write_history(root, BRANCHY)
    for path in (root / "migrations" / "versions").glob("*_rev.py"):
        rev = path.name.removesuffix("_rev.py")
        if rev in MESSAGES:
            docstring = MESSAGES[rev].replace("\\", "\\\\").replace('"', '\\"')
            path.write_text(f'"""{docstring}"""\n' + path.read_text())
    return ini


def graph(cli: CliRunner, ini: Path, *args: str):
    return cli.invoke(app, ["graph", "-c", str(ini), *args])


def test_branchy_history_mermaid_and_dot(cli: CliRunner, tmp_path: Path) -> None:
    ini = branchy_project(tmp_path)
    revisions, edges = alembic_edges(ini)
    assert len(edges) == 9  # the three-parent merge counts three

    mermaid = graph(cli, ini)
    assert mermaid.exit_code == 0, mermaid.output
    labels, found = parse_mermaid(mermaid.output, revisions)
    assert found == edges
    assert set(labels) == revisions
    assert labels["a"] == "a<br/>create #34;accounts#34; #35;1<br/>(branch point)"
    assert labels["b"] == "b<br/>(branch point)"
    assert labels["m"] == "m<br/>merge #60;c, d #38; e#62;<br/>(merge)"
    assert labels["h"] == "h<br/>(head)" and labels["x"] == "x<br/>end<br/>(head)"
    assert f'{mermaid_id("m")}{{{{"' in mermaid.output  # a merge is a hexagon
    assert _members(mermaid.output, "head") == {"r_h", "r_x"}
    assert _members(mermaid.output, "branch_point") == {"r_a", "r_b", "r_c"}

    dot = graph(cli, ini, "--format", "dot")
    assert dot.exit_code == 0, dot.output
    labels, found = parse_dot(dot.output)
    assert found == edges
    assert set(labels) == revisions
    assert labels["a"] == 'a\\ncreate \\"accounts\\" #1\\n(branch point)'
    assert '"m" [label="m\\nmerge <c, d & e>\\n(merge)", shape=hexagon];' in dot.output
    assert '"b" [label="b\\n(branch point)", shape=diamond];' in dot.output
    assert '"x" [label="x\\nend\\n(head)", penwidth=3];' in dot.output


def _loadable_cases() -> list[Path]:
    cases = [p for p in HISTORIES.iterdir() if (p / "case.toml").is_file()]
    return sorted(
        p
        for p in cases
        if tomllib.loads((p / "case.toml").read_text())["roundtrip"] != "load-error"
    )


@pytest.mark.parametrize("case", _loadable_cases(), ids=lambda p: p.name)
@pytest.mark.parametrize("output_format", ["mermaid", "dot"])
def test_fixture_histories_print_exactly_their_edges(
    case: Path, output_format: str, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The histories users' projects look like (a three-parent merge, two heads, two
    version folders, unordered file names): exactly alembic's edges."""
    monkeypatch.chdir(case)
    ini = case / "alembic.ini"
    result = graph(cli, ini, "--format", output_format)
    assert result.exit_code == 0, result.output
    config = Config(str(ini))
    script = ScriptDirectory.from_config(config)
    revisions = {s.revision for s in script.walk_revisions()}
    edges = {
        (parent, s.revision)
        for s in script.walk_revisions()
        for parent in (
            (s.down_revision,) if isinstance(s.down_revision, str) else s.down_revision or ()
        )
    }
    if output_format == "dot":
        labels, found = parse_dot(result.output)
    else:
        labels, found = parse_mermaid(result.output, revisions)
    assert set(labels) == revisions
    assert found == edges
    depends = {(d, s.revision) for s in script.walk_revisions() for d in s._resolved_dependencies}
    assert DEPENDS.get(result.output, set()) == depends
    heads = set(script.get_heads())
    assert {r for r, label in labels.items() if "head" in label.rsplit("(", 1)[-1]} == heads


def test_example_app_history(cli: CliRunner, example_project: Path, monkeypatch) -> None:
    monkeypatch.chdir(example_project)
    ini = example_project / "alembic.ini"
    result = graph(cli, ini)
    assert result.exit_code == 0, result.output
    revisions, edges = alembic_edges(ini)
    labels, found = parse_mermaid(result.output, revisions)
    assert found == edges and len(edges) == len(revisions) - 1  # linear
    assert "create vendors" in "".join(labels.values()).lower()


def test_mermaid_ids_and_text_are_safe() -> None:
    ids = ["end", "a-b", "a_2d_b", "a_x2d_b", "0001", "a.b", "a b", "ünï"]
    made = [mermaid_id(r) for r in ids]
    assert len(set(made)) == len(ids)
    assert all(re.fullmatch(r"r_[A-Za-z0-9_]+", m) for m in made)
    assert mermaid_text('say "hi" | {x} [y]') == "say #34;hi#34; #124; #123;x#125; #91;y#93;"


def test_unknown_format(cli: CliRunner, tmp_path: Path) -> None:
    result = graph(cli, branchy_project(tmp_path), "--format", "svg")
    assert result.exit_code == ExitCode.USAGE
    assert "Unknown --format 'svg'" in result.output and "Traceback" not in result.output


def test_url_highlights_where_the_database_is(cli: CliRunner, tmp_path: Path, database_url_18):
    from revisor import migrate
    from revisor.project import Project

    ini = branchy_project(tmp_path)
    url = database_url_18.url.render_as_string(hide_password=False)
    migrate.upgrade(Project.load(ini), database_url_18, "d")
    result = graph(cli, ini, "--url", url)
    assert result.exit_code == 0, result.output
    assert _members(result.output, "database") == {mermaid_id("d")}
    dot = graph(cli, ini, "--url", url, "-f", "dot")
    assert '"d" [label="d\\n(database)", style="rounded,filled"' in dot.output
    assert dot.output.count("filled") == 1


def git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


def test_since_highlights_what_a_branch_adds(cli: CliRunner, tmp_path: Path) -> None:
    ini = branchy_project(tmp_path)
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "base")
    versions = tmp_path / "migrations" / "versions"
    text = (versions / "h_rev.py").read_text()
    (versions / "y_rev.py").write_text(text.replace("'h'", "'y'").replace("'m'", "'h'"))
    result = graph(cli, ini, "--since", "main")
    assert result.exit_code == 0, result.output
    assert _members(result.output, "on_this_branch") == {mermaid_id("y")}
    assert '"y<br/>(head, on this branch)"' in result.output
    unknown = graph(cli, ini, "--since", "no-such-ref")
    assert unknown.exit_code == ExitCode.USAGE
    assert "git does not know this ref" in unknown.output


def test_url_at_an_unknown_revision_exits_6(cli: CliRunner, tmp_path: Path, database_url_18):
    import psycopg

    ini = branchy_project(tmp_path)
    with psycopg.connect(**database_url_18.libpq_kwargs(), autocommit=True) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY)")
        conn.execute("INSERT INTO alembic_version VALUES ('feedfacecafe')")
    url = database_url_18.url.render_as_string(hide_password=False)
    result = graph(cli, ini, "--url", url)
    assert result.exit_code == ExitCode.UNKNOWN_REVISION, result.output
    assert "stamped with feedfacecafe" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(
    "case",
    [
        p
        for p in sorted(HISTORIES.iterdir())
        if (p / "case.toml").is_file()
        and tomllib.loads((p / "case.toml").read_text())["roundtrip"] == "load-error"
    ],
    ids=lambda p: p.name,
)
def test_broken_histories_are_one_message(
    case: Path, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(case)
    result = graph(cli, case / "alembic.ini")
    assert result.exit_code == ExitCode.USAGE, result.output
    assert result.output.startswith("error: ") and "Traceback" not in result.output


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_graphviz_reads_the_dot_back(cli: CliRunner, tmp_path: Path) -> None:
    """Graphviz itself parses the DOT (ids and messages with quotes, backslashes and
    `#`) and finds exactly alembic's edges."""
    MESSAGES["b"] = 'back\\slash "quoted" {braces} <tag> & more'
    try:
        ini = branchy_project(tmp_path)
    finally:
        del MESSAGES["b"]
    revisions, edges = alembic_edges(ini)
    result = graph(cli, ini, "--format", "dot")
    assert result.exit_code == 0, result.output
    laid_out = subprocess.run(
        ["dot", "-Tjson0"], input=result.stdout, capture_output=True, text=True, check=True
    )
    document = json.loads(laid_out.stdout)
    names = [o["name"] for o in document["objects"]]
    assert set(names) == revisions
    assert {(names[e["tail"]], names[e["head"]]) for e in document["edges"]} == edges
    label = next(o["label"] for o in document["objects"] if o["name"] == "b")
    assert label == 'b\\nback\\\\slash "quoted" {braces} <tag> & more\\n(branch point)'


def test_notes_when_nothing_is_highlighted(cli: CliRunner, tmp_path: Path, database_url_18):
    ini = branchy_project(tmp_path)
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "base")
    url = database_url_18.url.render_as_string(hide_password=False)
    result = graph(cli, ini, "--url", url, "--since", "main")
    assert result.exit_code == 0, result.output
    assert "the database has no revision applied" in result.stderr
    assert "no revision file was added or changed since main" in result.stderr
    assert result.stdout.startswith("flowchart TD\n") and "class " in result.stdout
    assert "database" not in result.stdout and "on_this_branch" not in result.stdout
