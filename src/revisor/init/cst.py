"""libcst edits `revisor init` shares: a keyword argument appended to a call, an import
added after the module's imports. Everything else in the file keeps its bytes."""

from __future__ import annotations

from collections.abc import Callable

import libcst as cst

# black's and ruff's default line length: a call that would grow past it is written one
# argument per line instead.
LINE_LENGTH = 88


def parse(source: str, path: object) -> cst.Module:
    """The module's tree. Raises InitError naming the file when libcst cannot parse it."""
    from revisor.init.errors import InitError

    try:
        return cst.parse_module(source)
    except cst.ParserSyntaxError as exc:
        raise InitError(
            f"{path} cannot be parsed (line {exc.raw_line}, column {exc.raw_column}): "
            f"{exc.message}",
            hint="Fix the syntax error, then run revisor init again; nothing was changed.",
        ) from None


def dotted(node: cst.BaseExpression) -> str:
    """`a.b.c` for a Name/Attribute chain, "" for anything else."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = dotted(node.value)
        return f"{base}.{node.attr.value}" if base else ""
    return ""


def keyword(call: cst.Call, name: str) -> cst.Arg | None:
    return next((a for a in call.args if a.keyword and a.keyword.value == name), None)


def append_keyword(
    call: cst.Call, name: str, value: Callable[[str], str], indent: str, step: str
) -> cst.Call:
    """`call` with `name=value` added last. A call already written one argument per line
    (magic trailing comma) gets one more line; a call that stays under LINE_LENGTH on one
    line gets `, name=value`; otherwise (and in an empty call when the value spans lines)
    every argument goes on its own line. `indent` is the indentation of the line the call
    starts on (for the line length), `step` one level of indentation. `value(extra)` is
    the value's source text for an argument on a line indented `extra` deeper than the
    call's line (libcst indents continuation lines by the enclosing block's indentation)."""

    def argument(extra: str) -> cst.Arg:
        return cst.Arg(
            keyword=cst.Name(name),
            value=cst.parse_expression(value(extra)),
            equal=cst.AssignEqual(
                whitespace_before=cst.SimpleWhitespace(""),
                whitespace_after=cst.SimpleWhitespace(""),
            ),
        )

    args = list(call.args)
    if not args:
        if "\n" in value(""):
            return one_per_line(call.with_changes(args=[argument(step)]), step)
        return call.with_changes(args=[argument("")])
    last = args[-1]
    exploded = isinstance(last.comma, cst.Comma) and isinstance(
        last.comma.whitespace_after, cst.ParenthesizedWhitespace
    )
    if exploded and isinstance(call.whitespace_before_args, cst.ParenthesizedWhitespace):
        assert isinstance(last.comma, cst.Comma)
        closing = last.comma.whitespace_after
        assert isinstance(closing, cst.ParenthesizedWhitespace)
        first = call.whitespace_before_args
        # the last argument's own comment stays on its line; the new line is indented as
        # the first argument, and the closing parenthesis keeps its place
        after_last = closing.with_changes(indent=first.indent, last_line=first.last_line)
        args[-1] = last.with_changes(comma=last.comma.with_changes(whitespace_after=after_last))
        new_comma = cst.Comma(
            whitespace_after=closing.with_changes(
                first_line=cst.TrailingWhitespace(), empty_lines=[]
            )
        )
        return call.with_changes(args=[*args, argument(step).with_changes(comma=new_comma)])
    inline = cst.Module([]).code_for_node(call)
    text = value("")
    if "\n" not in inline + text and len(indent + inline + name + text) + 3 < LINE_LENGTH:
        comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
        args[-1] = last.with_changes(comma=comma, whitespace_after_arg=cst.SimpleWhitespace(""))
        new = argument("").with_changes(whitespace_after_arg=last.whitespace_after_arg)
        return call.with_changes(args=[*args, new])
    return one_per_line(call.with_changes(args=[*args, argument(step)]), step)


def last_before_unpacking(call: cst.Call) -> cst.Call:
    """`call` with its last argument moved before its first `*args`/`**options` (the
    usual order); each position keeps its comma and line layout."""
    args = list(call.args)
    first = next((i for i, a in enumerate(args) if a.star), None)
    if first is None or first == len(args) - 1:
        return call
    contents = [
        {
            "keyword": a.keyword,
            "value": a.value,
            "equal": a.equal,
            "star": a.star,
            "whitespace_after_star": a.whitespace_after_star,
        }
        for a in args[first:]
    ]
    contents.insert(0, contents.pop())
    for offset, content in enumerate(contents):
        args[first + offset] = args[first + offset].with_changes(**content)
    return call.with_changes(args=args)


def one_per_line(call: cst.Call, step: str) -> cst.Call:
    """`call` with each argument on its own line, one `step` deeper than the call's line,
    and a trailing comma (black's layout). Comments after an argument stay after it."""

    def newline(extra: str, first: cst.TrailingWhitespace) -> cst.ParenthesizedWhitespace:
        return cst.ParenthesizedWhitespace(
            first_line=first,
            empty_lines=[],
            indent=True,  # relative to the enclosing block, as libcst parses it
            last_line=cst.SimpleWhitespace(extra),
        )

    count = len(call.args)
    args = [
        arg.with_changes(
            comma=cst.Comma(
                whitespace_after=newline(step if i < count - 1 else "", _trailing(arg))
            ),
            whitespace_after_arg=cst.SimpleWhitespace(""),
        )
        for i, arg in enumerate(call.args)
    ]
    opening = call.whitespace_before_args
    first = (
        opening.first_line
        if isinstance(opening, cst.ParenthesizedWhitespace)
        else cst.TrailingWhitespace()
    )
    return call.with_changes(whitespace_before_args=newline(step, first), args=args)


def _trailing(arg: cst.Arg) -> cst.TrailingWhitespace:
    """The end of the argument's line as written: its comment, if it has one."""
    for space in (
        arg.whitespace_after_arg,
        arg.comma.whitespace_after if isinstance(arg.comma, cst.Comma) else None,
    ):
        if isinstance(space, cst.ParenthesizedWhitespace) and space.first_line.comment:
            return space.first_line
    return cst.TrailingWhitespace()


def imported_names(module: cst.Module, source_module: str) -> dict[str, str]:
    """{local name: imported name} for the top-level `from source_module import ...`
    (also in the body of a top-level `try:`, an optional import)."""
    names: dict[str, str] = {}
    for statement in _top_level_statements(module):
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if (
                isinstance(small, cst.ImportFrom)
                and small.module is not None
                and dotted(small.module) == source_module
                and not isinstance(small.names, cst.ImportStar)
            ):
                for alias in small.names:
                    original = dotted(alias.name)
                    local = original
                    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                        local = alias.asname.name.value
                    names[local] = original
    return names


def _top_level_statements(module: cst.Module) -> list[cst.BaseStatement]:
    statements: list[cst.BaseStatement] = []
    for statement in module.body:
        statements.append(statement)
        if isinstance(statement, cst.Try) and isinstance(statement.body, cst.IndentedBlock):
            statements.extend(statement.body.body)
    return statements


def module_aliases(module: cst.Module, target: str) -> list[str]:
    """The local names under which the top-level `import target [as x]` binds `target`."""
    found = []
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.Import):
                for alias in small.names:
                    if dotted(alias.name) != target:
                        continue
                    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                        found.append(alias.asname.name.value)
                    else:
                        found.append(target)
    return found


def top_level_names(module: cst.Module) -> set[str]:
    """Names the module binds at the top level (defs, classes, assignments, imports)."""
    names: set[str] = set()
    for statement in module.body:
        if isinstance(statement, cst.FunctionDef | cst.ClassDef):
            names.add(statement.name.value)
        elif isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, cst.Assign):
                    names.update(
                        t.target.value for t in small.targets if isinstance(t.target, cst.Name)
                    )
                elif isinstance(small, cst.Import | cst.ImportFrom) and not isinstance(
                    small.names, cst.ImportStar
                ):
                    for alias in small.names:
                        if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                            names.add(alias.asname.name.value)
                        else:
                            names.add(dotted(alias.name).partition(".")[0])
    return names


def add_imported_name(module: cst.Module, source_module: str, name: str) -> cst.Module | None:
    """`module` with `name` added to its first top-level `from source_module import ...`
    (constants, then classes, then functions, each alphabetical, as isort orders them),
    None when it has no such import."""

    def order(alias: cst.ImportAlias) -> tuple[int, str]:
        text = dotted(alias.name)
        kind = 0 if text.isupper() and len(text) > 1 else 1 if text[:1].isupper() else 2
        return kind, text

    body = list(module.body)
    for index, statement in enumerate(body):
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if (
                not isinstance(small, cst.ImportFrom)
                or small.module is None
                or small.relative
                or dotted(small.module) != source_module
                or isinstance(small.names, cst.ImportStar)
            ):
                continue
            names = list(small.names)
            new = cst.ImportAlias(name=cst.Name(name))
            at = next((i for i, a in enumerate(names) if order(a) > order(new)), len(names))
            space = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
            # a comma between names: as the import already separates them
            between = next((a.comma for a in names[:-1] if isinstance(a.comma, cst.Comma)), space)
            if at == len(names):
                last = names[-1]
                names[-1] = last.with_changes(comma=between)
                names.append(new.with_changes(comma=last.comma))  # a trailing comma stays
            else:
                names.insert(at, new.with_changes(comma=between))
            edited = statement.with_deep_changes(small, names=names)
            body[index] = edited
            return module.with_changes(body=body)
    return None


def add_import(module: cst.Module, source: str) -> cst.Module:
    """`module` with the import statement `source` (a `try:` block too) after its last
    top-level import that comes before any function or class (after the docstring when it
    has no import)."""
    statement = cst.parse_statement(source, config=module.config_for_parsing)
    if isinstance(statement, cst.BaseCompoundStatement):  # a block stands apart
        statement = statement.with_changes(leading_lines=[cst.EmptyLine(indent=False)])
    body = list(module.body)
    position = 0
    for index, item in enumerate(body):
        if isinstance(item, cst.FunctionDef | cst.ClassDef):
            break
        if isinstance(item, cst.SimpleStatementLine) and all(
            isinstance(s, cst.Import | cst.ImportFrom) for s in item.body
        ):
            position = index + 1
        elif position == 0 and index == 0 and _is_docstring(item):
            position = 1
    body.insert(position, statement)
    return module.with_changes(body=body)


def _is_docstring(item: cst.CSTNode) -> bool:
    return (
        isinstance(item, cst.SimpleStatementLine)
        and len(item.body) == 1
        and isinstance(item.body[0], cst.Expr)
        and isinstance(item.body[0].value, cst.SimpleString | cst.ConcatenatedString)
    )
