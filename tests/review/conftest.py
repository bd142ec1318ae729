"""Review tests run with REVISOR_DEBUG: a rule that raises fails the test instead of
becoming a note (which would make a clean case look clean)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _rules_raise(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REVISOR_DEBUG", "1")
