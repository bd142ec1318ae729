"""`revisor review`: the mandatory review checklist as a rules engine (see engine.py)."""

from revisor.review.engine import ReviewResult, review, review_files

__all__ = ["ReviewResult", "review", "review_files"]
