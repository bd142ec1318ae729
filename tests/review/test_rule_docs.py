"""Each rule documents itself: the headings exist, its Example fires it, its "Use instead"
does not (docs/rules/ is generated from them: tests/test_codes.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from revisor.codes import missing_sections
from revisor.review.rule import Rule, all_rules
from tests.review.support import base_models_of, models_from_code, run_rule, write_example

RULES = list(all_rules())


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_docstring_sections(rule: type[Rule]) -> None:
    missing = missing_sections(rule.registered)
    assert not missing, f"{rule.code} lacks {missing}"
    if rule.code.startswith("RV3"):
        assert "Lock" in rule.sections(), f"lock rule {rule.code} must explain its lock"
    assert rule.code_blocks("Example") and rule.code_blocks("Use instead")


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_example_fires_and_use_instead_does_not(rule: type[Rule], tmp_path: Path) -> None:
    paths, models = write_example(tmp_path / "example", rule.code_blocks("Example"))
    fired = run_rule(rule.code, paths, *_models(rule, models))
    assert fired, f"{rule.code}'s Example does not fire it"
    paths, models = write_example(tmp_path / "instead", rule.code_blocks("Use instead"))
    quiet = run_rule(rule.code, paths, *_models(rule, models))
    assert not quiet, f"{rule.code}'s 'Use instead' fires it: {quiet}"


def _models(rule: type[Rule], code: str | None) -> tuple:
    """(models, running release's models): the expand/contract rules (RV4xx) read the
    example's `python base models` block as the release that runs during the deploy."""
    metadata = models_from_code(code)
    if rule.code.startswith("RV4") and metadata is not None:
        return None, base_models_of(metadata)
    return metadata, None


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

            code = "RV399"
            name = "unnamed-constraint"
            severity = Severity.ERROR

    with pytest.raises(DuplicateRule):

        class NameOfAnotherCommand(Rule):  # doctor's DR105
            """x"""

            code = "RV398"
            name = "schema-drift"
            severity = Severity.ERROR

    assert "RV399" not in Rule.registry and "RV398" not in Rule.registry
