"""Pure helpers of the drift engine (no database): text fallback, index signatures,
pairing Alembic's remove+add into one change, pending revisions through a merge."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from revisor.drift.compare import merge_changes
from revisor.drift.probe import index_signature, normalise_text, strip_not_valid
from revisor.migrate import pending_revisions
from revisor.project import Project
from tests.support.drift_project import write_project


def test_normalise_text_fallback():
    assert normalise_text("CHECK ((price > (0)::numeric))") == normalise_text("price > 0")
    # A quoted identifier keeps its case; an unquoted one is folded, as the server does.
    assert normalise_text("CHECK ((\"Name\")::text <> ''::text)") == normalise_text(
        "\"Name\" <> ''"
    )
    assert normalise_text("CHECK ((\"Name\")::text <> ''::text)") != normalise_text("name <> ''")
    assert normalise_text("CHECK ((name)::text <> ''::text)") == normalise_text("Name <> ''")
    # A cast inside a string literal is text, not a cast.
    assert normalise_text("CHECK ((note <> 'a::b'::text))") != normalise_text("note <> 'a'")
    assert normalise_text("CHECK ((price > 0)) NOT VALID") == normalise_text("price > 0")
    assert normalise_text("CHECK ((price > 1))") != normalise_text("price > 0")


def test_strip_not_valid_and_index_signature():
    assert strip_not_valid("CHECK ((a > 0)) NOT VALID") == "CHECK ((a > 0))"
    assert (
        index_signature("CREATE UNIQUE INDEX ix ON public.t USING btree (a) WHERE (b > 0)")
        == "UNIQUE USING btree (a) WHERE (b > 0)"
    )
    assert index_signature("CREATE INDEX ix ON pg_temp_3.p USING gin (tags)") == (
        "USING gin (tags)"
    )


def test_merge_changes_pairs_same_name_only():
    md = sa.MetaData()
    table = sa.Table("t", md, sa.Column("a", sa.Integer), sa.Column("b", sa.Integer))
    new = sa.Index("ix_t_a", table.c.a, unique=True)
    old = sa.Index("ix_t_a", table.c.a)
    other = sa.Index("ix_t_b", table.c.b)
    merged = merge_changes([("add_index", new), ("remove_index", old), ("add_index", other)])
    assert merged == [("change_index", new, old), ("add_index", other)]


def test_pending_revisions_through_a_merge(tmp_path: Path):
    revisions = [
        ("r1", "a", None, "", ""),
        ("r2", "b", "r1", "", ""),
        ("r3", "c", "r1", "", ""),
        ("r4", "m", ("r2", "r3"), "", ""),
    ]
    project = Project.load(write_project(tmp_path, "", revisions))
    assert pending_revisions(project, ["r2"]) == ["r3", "r4"]
    assert pending_revisions(project, []) == [s.revision for s in project.revisions]
    assert pending_revisions(project, ["r4"]) == []
