"""Every rule's fixture cases: `fires_*` must report the rule, `clean_*` must not, and the
full rendered output (source excerpt, help, fix diff) must match the snapshot.

A case's models sit beside it as `<case>.models.py`; the models of the release still
running during the deploy (the RV4xx rules) as `<case>.base.py`, each defining `metadata`.

Rewrite the snapshots on purpose with REVISOR_UPDATE_SNAPSHOTS=1.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from revisor.review.rule import all_rules
from tests.review.support import base_models_of, load_models, render_with_fixes, run_rule

HERE = Path(__file__).parent
FIXTURES = HERE / "fixtures"
SNAPSHOTS = HERE / "snapshots"
UPDATE = os.environ.get("REVISOR_UPDATE_SNAPSHOTS") == "1"


def _cases() -> list[tuple[str, str, list[Path], Path | None]]:
    found = []
    for folder in sorted(p for p in FIXTURES.iterdir() if p.is_dir()):
        code = folder.name
        for entry in sorted(folder.iterdir()):
            if entry.is_dir():
                paths = sorted(entry.glob("*.py"))
                found.append((code, entry.name, paths, None))
            elif entry.suffix == ".py" and not entry.name.endswith((".models.py", ".base.py")):
                models = entry.with_name(entry.stem + ".models.py")
                found.append((code, entry.stem, [entry], models if models.exists() else None))
    return found


CASES = _cases()


@pytest.mark.parametrize(
    ("code", "case", "paths", "models"), CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES]
)
def test_rule_case(code: str, case: str, paths: list[Path], models: Path | None) -> None:
    base = load_models(paths[0].with_name(f"{case}.base.py"))
    findings = run_rule(code, paths, load_models(models), base_models_of(base) if base else None)
    if case.startswith("fires"):
        assert findings, f"{code} did not fire on {case}"
    else:
        assert case.startswith("clean"), f"case names start with fires_ or clean_: {case}"
        assert not findings, f"{code} fired on clean case {case}: {findings}"
    rendered = render_with_fixes(findings, FIXTURES)
    snapshot = SNAPSHOTS / code / f"{case}.txt"
    if UPDATE or not snapshot.exists():
        snapshot.parent.mkdir(parents=True, exist_ok=True)
        snapshot.write_text(rendered, encoding="utf-8")
        if not UPDATE:
            pytest.fail(f"wrote new snapshot {snapshot.relative_to(HERE)}; review and commit it")
    assert rendered == snapshot.read_text(encoding="utf-8")


def test_every_rule_has_a_firing_and_a_clean_case() -> None:
    by_code: dict[str, set[str]] = {}
    for code, case, _, _ in CASES:
        by_code.setdefault(code, set()).add(case.split("_")[0])
    for rule in all_rules():
        assert by_code.get(rule.code, set()) >= {"fires", "clean"}, rule.code
