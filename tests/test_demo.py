"""`revisor demo` runs the seed's workflow end to end on the embedded PostgreSQL."""

from __future__ import annotations

from typer.testing import CliRunner

from revisor.cli import app


def test_demo_runs_twice_on_embedded_server(cli: CliRunner):
    for _ in range(2):
        result = cli.invoke(app, ["demo"])
        assert result.exit_code == 0, result.output
        assert "Apply every migration" in result.output
        assert "Roll back the last migration" in result.output
        assert "Re-apply it" in result.output
        assert "RV101 error e6995e90df34:24 unnamed-constraint" in result.output
        assert "RV103 warning c611d8776a6b:30 enum-stored-by-name" in result.output
        assert "downgrade of e6995e90df34 failed" in result.output
        assert "fixed 2 finding(s) in e6995e90df34" in result.output
        assert "Roll back past e6995e90df34: the downgrade works now" in result.output
        assert "Models match migrations" in result.output and "no drift" in result.output
        assert "demo finished" in result.output
        assert "f72272eba32a" in result.output
        assert "Round-trip every revision" in result.output
        assert "RT102" in result.output and "e6995e90df34" in result.output
        assert "DR105 index ix_transactions_by_hand on transactions" in result.output
        assert "healthy, at head" in result.output
        assert "7 revisions, one transaction each, under the deploy lock" in result.output
        assert "the second replica: nothing to deploy" in result.output
        assert "step(s) failed" not in result.output
