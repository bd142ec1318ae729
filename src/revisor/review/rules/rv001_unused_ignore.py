"""RV001 unused-ignore."""

from revisor.findings import Severity
from revisor.review.rule import Rule


class UnusedIgnore(Rule):
    """An ignore comment that silences nothing.

    ## What it does
    Flags `# revisor: ignore` and `# revisor: ignore[CODE]` comments whose line (or
    function) has no finding of that code. The engine checks this after every other rule,
    so the rule has no `check` of its own.

    ## Why is this bad?
    A stale ignore hides the next real problem on that line: someone fixed the finding,
    the comment stayed, and a new hazard added there later goes unreported.

    ## Example
    ```python
    def upgrade():
        op.add_column("vendors", sa.Column("note", sa.Text(), nullable=True))  # revisor: ignore
    ```

    ## Use instead
    ```python
    def upgrade():
        op.add_column("vendors", sa.Column("note", sa.Text(), nullable=True))
    ```

    ## Fix safety
    Safe: the fix deletes the comment (with its `-- reason`) when none of its codes is used.
    """

    code = "RV001"
    name = "unused-ignore"
    severity = Severity.WARNING
