"""`revisor status --format json`: the documented object (docs/status.md), checked with a
JSON Schema that allows no other key, offline and on a real database at each state."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from revisor.cli import app
from revisor.exit_codes import ExitCode

STRINGS = {"type": "array", "items": {"type": "string"}}
SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "version",
        "config",
        "script_location",
        "version_locations",
        "revision_count",
        "heads",
        "models",
        "database",
    ],
    "properties": {
        "version": {"const": 1},
        "config": {"type": "string"},
        "script_location": {"type": "string"},
        "version_locations": STRINGS,
        "revision_count": {"type": "integer", "minimum": 0},
        "heads": STRINGS,
        "models": {
            "type": "object",
            "additionalProperties": False,
            "required": ["tables", "error"],
            "properties": {
                "tables": {"oneOf": [STRINGS, {"type": "null"}]},
                "error": {"type": ["string", "null"]},
            },
        },
        "database": {
            "oneOf": [
                {"type": "null"},
                {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["url", "source", "notes", "heads", "state", "pending"],
                    "properties": {
                        "url": {"type": "string"},
                        "source": {"type": "string"},
                        "notes": STRINGS,
                        "heads": STRINGS,
                        "state": {"enum": ["at-head", "pending", "unknown-revision"]},
                        "pending": {"oneOf": [STRINGS, {"type": "null"}]},
                    },
                },
            ]
        },
    },
}


def status_json(cli: CliRunner, project: Path, *args: str) -> dict:
    result = cli.invoke(
        app, ["status", "-c", str(project / "alembic.ini"), "--format", "json", *args]
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    jsonschema.validate(document, SCHEMA)
    return document


def test_offline(cli: CliRunner, example_project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(example_project)
    document = status_json(cli, example_project, "--offline")
    assert document["revision_count"] == 6
    assert document["heads"] == ["f72272eba32a"]
    assert document["models"] == {
        "tables": ["subscriptions", "transactions", "vendors"],
        "error": None,
    }
    assert document["database"] is None
    assert document["config"] == str(example_project / "alembic.ini")


def test_database_states(cli: CliRunner, example_project: Path, database_url_18, monkeypatch):
    from revisor import migrate
    from revisor.project import Project

    monkeypatch.chdir(example_project)
    url = database_url_18.url.render_as_string(hide_password=False)
    project = Project.load(example_project / "alembic.ini")
    migrate.upgrade(project, database_url_18, "42bbf4a64104")
    database = status_json(cli, example_project, "--url", url)["database"]
    assert database["state"] == "pending"
    assert database["heads"] == ["42bbf4a64104"]
    assert len(database["pending"]) == 4 and database["pending"][-1] == "f72272eba32a"
    assert database["source"] == "--url"
    assert database["url"] == database_url_18.masked

    migrate.upgrade(project, database_url_18, "heads")
    database = status_json(cli, example_project, "--url", url)["database"]
    assert (database["state"], database["pending"]) == ("at-head", [])

    import psycopg

    # a revision another branch added and this checkout does not have
    with psycopg.connect(**database_url_18.libpq_kwargs(), autocommit=True) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'feedfacecafe'")
    database = status_json(cli, example_project, "--url", url)["database"]
    assert database["state"] == "unknown-revision" and database["pending"] is None
    assert database["heads"] == ["feedfacecafe"]


def test_bad_format_is_a_usage_error(cli: CliRunner, example_project: Path) -> None:
    result = cli.invoke(
        app, ["status", "-c", str(example_project / "alembic.ini"), "--offline", "-f", "xml"]
    )
    assert result.exit_code == ExitCode.USAGE
    assert "Unknown --format 'xml'" in result.output


def test_error_is_json_too(cli: CliRunner, tmp_path: Path) -> None:
    result = cli.invoke(app, ["status", "-c", str(tmp_path / "nope.ini"), "-f", "json"])
    assert result.exit_code == ExitCode.USAGE
    assert json.loads(result.stdout)["status"] == "error"
