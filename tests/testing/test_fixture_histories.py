"""`revisor test` on every fixture history: the outcome case.toml records, on PG 18.

Adding a case under tests/fixtures/histories/ adds a test here."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from revisor.errors import ExtensionMissing, RevisorError
from revisor.exit_codes import ExitCode
from revisor.project import Project
from revisor.testing.plan import make_plan
from revisor.testing.roundtrip import RoundTripOptions, round_trip

HISTORIES = Path(__file__).resolve().parents[1] / "fixtures" / "histories"
CASES = sorted(p.parent for p in HISTORIES.glob("*/case.toml"))

_CODES = {"upgrade": "RT101", "downgrade": "RT102", "re-upgrade": "RT104"}


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_fixture_history_round_trip(case: Path, pg18):
    expected = tomllib.loads((case / "case.toml").read_text())
    outcome = expected["roundtrip"]
    if outcome == "load-error":
        with pytest.raises(RevisorError) as caught:
            project = Project.load(case / "alembic.ini")
            make_plan(project)
        assert caught.value.exit_code == ExitCode.USAGE
        return
    project = Project.load(case / "alembic.ini")
    try:
        result = round_trip(project, make_plan(project), pg18.url, RoundTripOptions())
    except ExtensionMissing as exc:
        assert exc.extension in expected["needs_extension"]
        return
    errors = [f for f in result.findings if f.severity.value == "error"]
    if outcome == "clean":
        assert errors == []
        assert len(result.tested) == expected["revision_count"]
    else:
        first = errors[0]
        assert first.revision == outcome
        assert first.code == _CODES[expected["roundtrip_step"]]
        assert expected["roundtrip_error"] in first.message
