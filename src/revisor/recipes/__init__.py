"""The migration recipes an expert writes for operations that lock or fail on a busy table.

Each recipe renders the Python source of alembic operations (lines without indentation;
the caller indents them) so that `draft` and `review --fix` write the same text: one
recipe, one place. A module per family of operations.
"""
