"""The top-level functions of a module, summarised for rules in other modules: their
parameters and decorators, the calls their own body makes (qualified through the module's
imports: `torch.load`), and whether they run a training step."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Call:
    """A call a function makes: what it calls (qualified through the module's imports:
    `torch.load`, `transformers.AutoModel.from_pretrained`; a plain name otherwise) and
    the names its arguments read."""

    callee: str
    reads: frozenset[str]
    line: int


@dataclass(frozen=True)
class Function:
    """A top-level function of a project module, as a rule in another module needs it."""

    name: str
    path: Path
    line: int
    parameters: tuple[str, ...]
    decorators: tuple[str, ...]  # their dotted names, as written
    calls: tuple[Call, ...]  # in its own body (not in nested functions)
    declares_global: bool  # `global x` in it: it may keep what it makes beyond the call
    trains: bool = False  # it runs backward() and an optimizer's step() (`training.py`)


def module_functions(
    tree: ast.Module, path: Path, imports: dict[str, str], training: frozenset[str]
) -> dict[str, Function]:
    found = {}
    for statement in tree.body:
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
            arguments = statement.args
            parameters = [
                arg.arg for arg in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs)
            ] + [arg.arg for arg in (arguments.vararg, arguments.kwarg) if arg is not None]
            calls, declares_global = [], False
            for node in _own_nodes(statement):
                if isinstance(node, ast.Global | ast.Nonlocal):
                    declares_global = True
                elif isinstance(node, ast.Call):
                    callee = qualified_through(node.func, imports)
                    if callee is not None:
                        reads = {
                            inner.id
                            for argument in (*node.args, *(keyword.value for keyword in node.keywords))
                            for inner in ast.walk(argument)
                            if isinstance(inner, ast.Name)
                        }
                        calls.append(Call(callee, frozenset(reads), node.lineno))
            decorators = tuple(
                name
                for decorator in statement.decorator_list
                if (name := dotted_name(decorator.func if isinstance(decorator, ast.Call) else decorator))
            )
            found[statement.name] = Function(
                statement.name,
                path,
                statement.lineno,
                tuple(parameters),
                decorators,
                tuple(calls),
                declares_global,
                statement.name in training,
            )
    return found


def _own_nodes(function: ast.AST):
    """The nodes of a function's body, not entering nested functions, classes or lambdas."""
    pending = list(ast.iter_child_nodes(function))
    while pending:
        node = pending.pop()
        yield node
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            pending.extend(ast.iter_child_nodes(node))


def dotted_name(node: ast.AST) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def qualified_through(node: ast.AST, imports: dict[str, str]) -> str | None:
    """The dotted name `node` spells, its head replaced by what the module imports it as."""
    dotted = dotted_name(node)
    if dotted is None:
        return None
    head, _, rest = dotted.partition(".")
    base = imports.get(head, head)
    return f"{base}.{rest}" if rest else base
