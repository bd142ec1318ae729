"""`revisor doctor`: diagnose a database that is out of step with the migration history.

`diagnose(project, url)` returns a `Diagnosis` (plain data: state, findings, the stamp
`--fix` would record); `apply_stamp(project, url, revisions)` is that fix.
"""

from __future__ import annotations

from revisor.doctor.engine import Diagnosis, apply_stamp, diagnose

__all__ = ["Diagnosis", "apply_stamp", "diagnose"]
