"""The models of the release that still runs while a migration deploys (expand/contract).

A pre-deploy step (`alembic upgrade head` on Railway, Heroku's release phase, a Kubernetes
job) migrates the database while the previous release serves traffic. That release maps
the models of an earlier commit: `commit.py` finds which one, `load.py` reads its tree
from git and describes its tables in a subprocess (`describe.py`), cached by commit. The
RV4xx review rules compare a migration with that description.
"""

from __future__ import annotations

from revisor.base_models.model import BaseModels, ModelColumn, ModelTable

__all__ = ["BaseModels", "ModelColumn", "ModelTable"]
