"""pytest plugin: `pytest --revisor` adds tests for the project's migrations. A face, like
the CLI: it reports revisor's engines (testing/, check) to pytest and holds no engine code.

Collected tests: `revisor::single_head`, `revisor::roundtrip[<rev>]` (one per revision),
`revisor::models_match`. Fixtures for your own data-migration tests: `revisor_project` (the
loaded Project) and `revisor_database` (the URL of a fresh scratch database, dropped after
the test). Without `--revisor` the plugin adds no tests (it is loaded by every pytest run
once revisor is installed), and its fixtures only run when a test asks for them.

The scratch databases' server: `--revisor-url`, else the project's database's server
(`$DATABASE_URL`, what env.py computes, sqlalchemy.url) when its role may create databases,
else revisor's embedded PostgreSQL (docs/existing-projects.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("revisor", "revisor migration tests")
    group.addoption("--revisor", action="store_true", help="Collect revisor's migration tests.")
    group.addoption("--revisor-config", default=None, help="alembic.ini or pyproject.toml to test.")
    group.addoption("--revisor-url", default=None, help="PostgreSQL server for scratch DBs.")
    group.addoption(
        "--revisor-no-data", action="store_true", help="Round-trip without sample rows."
    )
    group.addoption(
        "--revisor-x",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="Passed to env.py's context.get_x_argument(), as alembic's -x (repeatable).",
    )
    group.addoption("--revisor-app", default=None, help="Flask-Migrate projects: the Flask app.")


class _Session:
    """Project, server and the (lazily run, shared) round trip of one pytest session."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self._project: Any = None
        self._result: Any = None
        self._server: Any = None

    @property
    def project(self) -> Any:
        if self._project is None:
            from revisor.project import Project

            self._project = Project.load(
                self.config.getoption("revisor_config"),
                x_args=self.config.getoption("revisor_x"),
                app=self.config.getoption("revisor_app"),
            )
        return self._project

    def server(self) -> Any:
        from revisor.db.resolve import scratch_server

        if self._server is None:
            self._server = scratch_server(self.project, self.config.getoption("revisor_url")).url
        return self._server

    def round_trip(self) -> Any:
        """Every revision round-tripped once; each roundtrip[rev] item reads its part."""
        if self._result is None:
            from revisor.testing.plan import make_plan
            from revisor.testing.roundtrip import RoundTripOptions, round_trip

            options = RoundTripOptions(data=not self.config.getoption("revisor_no_data"))
            self._result = round_trip(self.project, make_plan(self.project), self.server(), options)
        return self._result


_KEY = pytest.StashKey[_Session]()


def _session(config: pytest.Config) -> _Session:
    if _KEY not in config.stash:
        config.stash[_KEY] = _Session(config)
    return config.stash[_KEY]


class RevisorFailure(Exception):
    """A migration check failed; the message is the whole report."""


class RevisorItem(pytest.Item):
    def __init__(self, *, check: str, revision: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.check = check
        self.revision = revision

    def runtest(self) -> None:
        state = _session(self.config)
        if self.check == "single_head":
            heads = state.project.heads
            if len(heads) > 1:
                raise RevisorFailure(
                    f"{len(heads)} heads: {', '.join(heads)}; merge them with "
                    "`alembic merge heads`."
                )
        elif self.check == "roundtrip":
            result = state.round_trip()
            mine = [f for f in result.findings if f.revision == self.revision]
            errors = [f for f in mine if f.severity.value == "error"]
            if errors:
                raise RevisorFailure("\n".join(_line(f) for f in errors))
            if self.revision in result.skipped:
                pytest.skip("an earlier revision it builds on failed to upgrade")
        elif self.check == "models_match":
            from revisor.check import check_models
            from revisor.errors import MetadataNotFound

            try:
                findings = check_models(state.project, state.server())
            except MetadataNotFound as exc:
                if not exc.absent:  # models are configured but do not load: a failure
                    raise
                pytest.skip(f"no models to compare: {exc.message}")
            errors = [f for f in findings if f.severity.value == "error"]
            if errors:
                raise RevisorFailure("\n".join(_line(f) for f in errors))

    def repr_failure(self, excinfo: Any, style: Any = None) -> str:
        if isinstance(excinfo.value, RevisorFailure):
            return str(excinfo.value)
        from revisor.errors import RevisorError

        if isinstance(excinfo.value, RevisorError):
            return f"{excinfo.value.message}\n{excinfo.value.hint or ''}".strip()
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Any, int | None, str]:
        return self.path, None, self.nodeid


def _line(finding: Any) -> str:
    where = f"{finding.path}:{finding.line}: " if finding.path else ""
    text = f"{where}{finding.code} {finding.message}"
    return text + (f"\n  help: {finding.help}" if finding.help else "")


class RevisorCollector(pytest.Collector):
    def collect(self) -> list[pytest.Item]:
        state = _session(self.config)
        items: list[pytest.Item] = [
            RevisorItem.from_parent(self, name="single_head", check="single_head")
        ]
        for rev in state.project.graph.order():
            items.append(
                RevisorItem.from_parent(
                    self, name=f"roundtrip[{rev}]", check="roundtrip", revision=rev
                )
            )
        items.append(RevisorItem.from_parent(self, name="models_match", check="models_match"))
        return items


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    if not config.getoption("revisor", default=False):
        return
    collector = RevisorCollector.from_parent(session, name="revisor", nodeid="revisor")
    collector.path = session.path
    items.extend(collector.collect())


@pytest.fixture(scope="session")
def revisor_project(request: pytest.FixtureRequest) -> Any:
    """The project's revisor.project.Project (alembic Config + ScriptDirectory, loaded once)."""
    return _session(request.config).project


@pytest.fixture
def revisor_database(request: pytest.FixtureRequest) -> Iterator[str]:
    """The SQLAlchemy URL of a new empty database, dropped after the test. Migrate it with
    `revisor.migrate.upgrade(revisor_project, parse_url(url, source="test"), "abc123")`."""
    from revisor.db.scratch import scratch_database

    with scratch_database(_session(request.config).server(), label="pytest") as url:
        yield url.sqlalchemy_url
