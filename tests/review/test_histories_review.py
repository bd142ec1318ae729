"""`revisor review` on the shared messy fixture histories and on generated histories with
planted faults: every planted hazard is found, nothing else is (no false positives on the
ordinary revisions around them). No database needed: review reads files."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import pytest

from revisor.project import Project
from revisor.review import review
from tests.support.history_factory import Fault, revision_id, write_history

HISTORIES = Path(__file__).resolve().parents[1] / "fixtures" / "histories"

# What review reports per case (code, file). Lock warnings (RV3xx) are real: each is an
# index, constraint, NOT NULL or rename on a table an earlier revision created.
EXPECTED: dict[str, set[tuple[str, str]]] = {
    "async_env": set(),
    "autocommit_block": set(),
    "batch_alter_table": {
        ("RV301", "8d2b3c4d5e6f_profiles_bio_and_username_rules.py"),
        ("RV301", "9e3c4d5e6f70_rename_email_to_contact_email.py"),
        ("RV305", "8d2b3c4d5e6f_profiles_bio_and_username_rules.py"),
        ("RV307", "8d2b3c4d5e6f_profiles_bio_and_username_rules.py"),
        ("RV308", "9e3c4d5e6f70_rename_email_to_contact_email.py"),
    },
    "broken_import": {("RV205", "22bb33cc44dd_report_materialized_view.py")},
    "broken_syntax": {("RV205", "55ee66ff7700_invoice_due_date.py")},
    "cycle": {("RV203", "0055aa66bb77_label_description.py")},
    "duplicate_revision_id": {
        ("RV204", "2a3b4c5d6e7f_ticket_priority.py"),
        ("RV301", "3b4c5d6e7f80_index_ticket_assignee.py"),
    },
    "empty_base_create_all": {("RV301", "1b2c3d4e5f60_add_last_login.py")},
    "imports_app_modules": set(),
    "linear": {("RV305", "c58f1a3b2e34_display_name_and_total_check.py")},
    "lock_timeout_first": {
        ("RV301", "5a6b7c8d9e0a_events_kind_index.py"),
        # VALIDATE in the NOT VALID add's transaction: test --locks measures the scan (RT301).
        ("RV310", "4f5a6b7c8d9e_events_tenant_fk.py"),
    },
    "merge_three_parents": {
        ("RV301", "6e9f3a4b5c6d_index_accounts_created_at.py"),
        ("RV301", "aa11bb22cc33_add_invoices_paid_at.py"),
    },
    "multiple_heads": {("RV201", "dd22ee33ff44_project_color.py")},
    "needs_extension": set(),
    "pass_downgrade": {("RV120", "8e9f0a1b2c3d_drop_legacy_phone.py")},
    "raw_sql": set(),
    "two_version_folders": set(),  # two heads, but on purpose: a labelled branch
    "unknown_down_revision": {("RV202", "99aabb00cc11_team_owner.py")},
    "unordered_filenames": {("RV301", "2023_02_20_aa_last.py")},
}


@pytest.fixture
def clean_imports(monkeypatch: pytest.MonkeyPatch) -> None:
    """Forget modules and sys.path entries other tests' projects left behind (a test
    project's `reporting.py` would make broken_import's missing module findable)."""
    temp = tempfile.gettempdir()
    # The checkout and its virtualenv may themselves live under the temp dir (CI clones):
    # only what other tests' projects left there goes.
    keep = (sys.prefix, sys.base_prefix, str(Path(__file__).resolve().parents[2]))

    def left_behind(path: str) -> bool:
        return path.startswith(temp) and not path.startswith(keep)

    monkeypatch.setattr(sys, "path", [p for p in sys.path if not left_behind(p)])
    for name in list(sys.modules):
        module_file = getattr(sys.modules[name], "__file__", None) or ""
        if left_behind(module_file):
            monkeypatch.delitem(sys.modules, name)


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_fixture_history(case: str, clean_imports: None) -> None:
    project = Project.load(HISTORIES / case / "alembic.ini")
    found = {(f.code, f.path.name) for f in review(project).findings if f.path}
    assert found == EXPECTED[case]


def test_every_fixture_history_is_covered() -> None:
    cases = {p.name for p in HISTORIES.iterdir() if (p / "alembic.ini").is_file()}
    assert cases == set(EXPECTED)


PLANTED = {
    Fault.INDEX_LEFT_BEHIND: "RV121",
    Fault.ENUM_LEFT_BEHIND: "RV121",
    Fault.PASS_DOWNGRADE: "RV120",
    Fault.NOT_NULL_WITHOUT_DEFAULT: "RV304",
}


@pytest.mark.parametrize("fault", list(Fault))
def test_planted_fault_is_found_and_nothing_else_is_an_error(fault: Fault, tmp_path: Path):
    write_history(tmp_path, 30, seed=7, faults={fault: 12})
    findings = review(Project.load(tmp_path / "alembic.ini")).findings
    errors = [f for f in findings if f.severity.value == "error"]
    assert [f.code for f in errors] == [PLANTED[fault]]
    assert errors[0].revision == revision_id(12, 7)  # the planted revision
    clean_tmp = tmp_path / "clean"
    write_history(clean_tmp, 30, seed=7)
    assert not [
        f
        for f in review(Project.load(clean_tmp / "alembic.ini")).findings
        if f.severity.value == "error"
    ]
