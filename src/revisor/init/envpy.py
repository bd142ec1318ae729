"""revisor's draft rewrite as env.py's `process_revision_directives`, so plain `alembic
revision --autogenerate` writes what `revisor draft` writes.

The hook is `revisor.alembic.process_revision_directives` (draft's own rewrite,
`revisor.drafting.revise`). Every `context.configure(...)` call in env.py gets it:

- a call without the option: `process_revision_directives=process_revision_directives`;
- a call passing a hook of the user's: `chain(their_hook)`, which runs theirs first and
  revisor's after it, as `revisor draft` does;
- a call taking `**options`: when env.py sets `options["process_revision_directives"]`
  (Flask-Migrate's `conf_args`), that value is chained; when env.py never names the
  option, the keyword is added (nothing puts it in the dict); otherwise init says so
  rather than risk passing the keyword twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst

from revisor.init.cst import (
    add_import,
    append_keyword,
    dotted,
    imported_names,
    keyword,
    last_before_unpacking,
    parse,
    top_level_names,
)
from revisor.init.plan import FileChange

HOOK_MODULE = "revisor.alembic"
OPTION = "process_revision_directives"
REASON = "revisor's draft rewrite as env.py's process_revision_directives"


@dataclass
class _HookEdit(cst.CSTTransformer):
    """Adds or chains the hook in every context.configure(...) call."""

    hook: str  # the local name of revisor.alembic.process_revision_directives
    chain: str  # the local name of revisor.alembic.chain
    ours: set[str]  # local names bound to revisor.alembic
    step: str
    lines: list[str]  # the source's lines, for each call's indentation
    positions: dict[cst.Call, int] = field(default_factory=dict)
    keyed: bool = False  # env.py sets options["process_revision_directives"]
    mentioned: bool = False  # env.py names the option anywhere
    needs: set[str] = field(default_factory=set)  # "hook", "chain"
    unsure: int = 0  # context.configure(**options) calls left alone
    calls: int = 0

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        if dotted(updated.func) != "context.configure":
            return updated
        self.calls += 1
        given = keyword(updated, OPTION)
        if given is not None:
            if self._is_ours(given.value):
                return updated
            self.needs.add("chain")
            wrapped = cst.Call(func=cst.Name(self.chain), args=[cst.Arg(given.value)])
            return updated.deep_replace(given, given.with_changes(value=wrapped))
        if any(arg.star == "**" for arg in updated.args):
            if self.keyed:
                return updated  # the options dict gets the hook (leave_Assign)
            if self.mentioned:
                # env.py may put the option in the dict some other way: adding the
                # keyword could pass it twice (TypeError)
                self.unsure += 1
                return updated
        self.needs.add("hook")
        line = self.positions.get(original, 0)
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        indent = text[: len(text) - len(text.lstrip())]
        added = append_keyword(updated, OPTION, lambda _: self.hook, indent, self.step)
        return last_before_unpacking(added)

    def leave_Assign(self, original: cst.Assign, updated: cst.Assign) -> cst.Assign:
        """`options["process_revision_directives"] = their_hook` → `chain(their_hook)`."""
        if len(updated.targets) != 1 or not _is_option_key(updated.targets[0].target):
            return updated
        if self._is_ours(updated.value):
            return updated
        self.needs.add("chain")
        return updated.with_changes(
            value=cst.Call(func=cst.Name(self.chain), args=[cst.Arg(updated.value)])
        )

    def _is_ours(self, value: cst.BaseExpression) -> bool:
        if isinstance(value, cst.Call):
            return dotted(value.func) in self.ours
        return dotted(value) in self.ours


def _is_option_key(target: cst.BaseExpression) -> bool:
    if not isinstance(target, cst.Subscript) or len(target.slice) != 1:
        return False
    index = target.slice[0].slice
    return (
        isinstance(index, cst.Index)
        and isinstance(index.value, cst.SimpleString)
        and index.value.evaluated_value == OPTION
    )


def add_hook(env_py: Path, source: str) -> tuple[FileChange | None, list[str]]:
    """The change that puts revisor's hook into env.py's context.configure() calls (None
    when every call has it), and notes on what init could not do there."""
    module = parse(source, env_py)
    ours = imported_names(module, HOOK_MODULE)
    taken = top_level_names(module) - set(ours)
    local = {original: name for name, original in ours.items()}
    hook = local.get(OPTION) or (OPTION if OPTION not in taken else "revisor_directives")
    chain = local.get("chain") or ("chain" if "chain" not in taken else "revisor_chain")
    wrapper = cst.MetadataWrapper(module, unsafe_skip_copy=True)
    positions = {
        node: position.start.line
        for node, position in wrapper.resolve(cst.metadata.PositionProvider).items()
        if isinstance(node, cst.Call)
    }
    edit = _HookEdit(
        hook=hook,
        chain=chain,
        ours=set(ours),
        step=module.default_indent,
        lines=source.splitlines(),
        positions=positions,
        keyed=_sets_option_key(module),
        mentioned=OPTION in source,
    )
    edited = wrapper.module.visit(edit)
    notes: list[str] = []
    if edit.calls == 0:
        notes.append(
            f"{env_py} calls no context.configure(...): add {OPTION}="
            f"{HOOK_MODULE}.{OPTION} to the call that configures autogenerate."
        )
    if edit.unsure:
        notes.append(
            f"{env_py} passes **options to context.configure(...) and sets no "
            f'options["{OPTION}"]: add `{OPTION}={OPTION}` (from {HOOK_MODULE}) '
            "to those options yourself."
        )
    missing = [
        (OPTION, hook) if need == "hook" else ("chain", chain)
        for need in sorted(edit.needs)
        if (hook if need == "hook" else chain) not in ours
    ]
    if missing:
        edited = add_import(edited, optional_import(missing, module.default_indent))
    if edited.code == source:
        return None, notes
    return FileChange(env_py, source, edited.code, REASON), notes


def optional_import(names: list[tuple[str, str]], step: str) -> str:
    """`from revisor.alembic import ...` for (name, local name) pairs, in a `try:` whose
    `except ImportError` keeps env.py working where revisor is not installed (a deploy
    image that runs `alembic upgrade head`): no hook there, and `chain` returns the
    user's own hook."""
    spelled = ", ".join(n if n == local else f"{n} as {local}" for n, local in names)
    fallback = []
    for name, local in names:
        if name == OPTION:
            fallback.append(f"{step}{local} = None")
        else:
            fallback.append(f"{step}def {local}(hook):\n{step}{step}return hook")
    return (
        f"try:\n{step}from {HOOK_MODULE} import {spelled}\n"
        "except ImportError:  # revisor is not installed where this runs (a deploy image)\n"
        + "\n".join(fallback)
        + "\n"
    )


def _sets_option_key(module: cst.Module) -> bool:
    found = []

    class Look(cst.CSTVisitor):
        def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
            if _is_option_key(node.target):
                found.append(node)

    module.visit(Look())
    return bool(found)
