"""Each rule documents itself: the headings exist, its Example fires it, its "Use instead"
does not, and docs/rules/ is generated from the docstrings and current."""

from __future__ import annotations

from pathlib import Path

import pytest

from revisor.review.docs import expected_docs, missing_sections
from revisor.review.rule import Rule, all_rules
from tests.review.support import models_from_code, run_rule, write_example

ROOT = Path(__file__).resolve().parents[2]
RULES = list(all_rules())


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_docstring_sections(rule: type[Rule]) -> None:
    assert not missing_sections(rule), f"{rule.code} lacks {missing_sections(rule)}"
    if rule.code.startswith("RV3"):
        assert "Lock" in rule.sections(), f"lock rule {rule.code} must explain its lock"
    assert rule.code_blocks("Example") and rule.code_blocks("Use instead")


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_example_fires_and_use_instead_does_not(rule: type[Rule], tmp_path: Path) -> None:
    paths, models = write_example(tmp_path / "example", rule.code_blocks("Example"))
    fired = run_rule(rule.code, paths, models_from_code(models))
    assert fired, f"{rule.code}'s Example does not fire it"
    paths, models = write_example(tmp_path / "instead", rule.code_blocks("Use instead"))
    quiet = run_rule(rule.code, paths, models_from_code(models))
    assert not quiet, f"{rule.code}'s 'Use instead' fires it: {quiet}"


def test_codes_and_names_are_unique_and_registration_refuses_duplicates() -> None:
    from revisor.findings import Severity
    from revisor.review.rule import DuplicateRule

    assert len({r.name for r in RULES}) == len(RULES)
    with pytest.raises(DuplicateRule):

        class Again(Rule):  # the code of an existing rule
            """x"""

            code = "RV101"
            name = "another-name"
            severity = Severity.ERROR

    with pytest.raises(DuplicateRule):

        class SameName(Rule):
            """x"""

            code = "RV999"
            name = "unnamed-constraint"
            severity = Severity.ERROR

    Rule.registry.pop("RV999", None)


def test_docs_rules_folder_is_current() -> None:
    folder = ROOT / "docs" / "rules"
    expected = expected_docs()
    actual = {p.name: p.read_text(encoding="utf-8") for p in folder.glob("*.md")}
    assert actual == expected, "run `revisor rules --write-docs docs/rules` and commit"
