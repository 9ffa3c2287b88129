"""A module of the project summarised from CPython's tree of its file, in the small form
rules in other modules need: the constants its module level defines (`EPOCHS = 200`,
`DEVICE = "cuda"`, `CONFIG = {...}`, `class Config: epochs = 50`), what it imports, its
top-level functions and classes, what its top-level functions call (`load_weights()` calls
`torch.load`), the defaults of its argparse options, and what it does with the names it
imports (`uses`). A summary is plain data: it is cached per file content."""

from __future__ import annotations

import ast
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from green_lint.project.functions import Function, dotted_name, module_functions
from green_lint.project.training import training_definitions
from green_lint.project.uses import Use, module_uses

# Larger files are not read (a config module is small). Only regular files are read, and
# only parsed, never run: a cloned repository's modules are data here.
MAX_MODULE_BYTES = 1_000_000


@dataclass(frozen=True)
class Constant:
    value: Any
    path: Path
    line: int


@dataclass(frozen=True)
class ModuleSummary:
    # Names the module level binds once to a literal, and its classes' literal attributes.
    constants: dict[str, Constant]
    # Names its module level imports once, with the qualified name they stand for
    # (`.config.EPOCHS` for `from .config import EPOCHS`): re-exports.
    imports: dict[str, str]
    # Its top-level functions, and the line of each top-level class.
    functions: dict[str, Function] = field(default_factory=dict)
    classes: dict[str, int] = field(default_factory=dict)
    # The methods of its classes that run a training step (`training.py`).
    training_methods: dict[str, frozenset[str]] = field(default_factory=dict)
    # Calls of the names it imports, wherever they are (see `uses.py`).
    uses: tuple[Use, ...] = ()
    # `parser.add_argument("--epochs", default=100)`: {"epochs": Constant(100, ...)}.
    argument_defaults: dict[str, Constant] = field(default_factory=dict)
    # Its top-level classes whose computation depends on train/eval mode: they use dropout,
    # batch or instance norm, transformer layers, or read `self.training` (or derive from
    # such a class of the module).
    mode_dependent_classes: frozenset[str] = frozenset()
    # The modules its module level star-imports (`.models` for `from .models import *`).
    star_imports: tuple[str, ...] = ()


EMPTY = ModuleSummary({}, {})


def summarise(path: Path) -> ModuleSummary:
    """The summary of the module in `path` (empty when it cannot be read or parsed)."""
    try:
        if path.stat().st_size > MAX_MODULE_BYTES:
            return EMPTY
        return summarise_source(path, path.read_bytes())
    except OSError:
        return EMPTY


def summarise_source(path: Path, data: bytes) -> ModuleSummary:
    """The summary of the module whose text is `data`; empty when it cannot be parsed, or
    nests too deeply to be read (another module's oddity never stops the lint)."""
    if len(data) > MAX_MODULE_BYTES:
        return EMPTY
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(data)
        return _summary_of(tree, path)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return EMPTY


def _summary_of(tree: ast.Module, path: Path) -> ModuleSummary:
    """The constants of the module: names its module level binds once, to a literal
    (numbers, strings, booleans, None, and tuples, lists and dicts of them, `-x`,
    arithmetic of numbers), the literal attributes of its classes (`Config.epochs`) and
    of a config object built from one; what it imports once (to follow re-exports); its
    functions, classes, argparse defaults and uses."""
    counts = _binding_counts(tree)
    constants = {
        name: Constant(value, path, line)
        for name, value, line in _literal_assignments(tree.body, "")
        if counts.get(name.rsplit(".", 1)[-1], 0) == 1
    }
    constants.update(dict(_instance_attributes(tree, constants, counts)))
    imports, aliases = {}, {}
    for statement in tree.body:
        if isinstance(statement, ast.ImportFrom) and statement.module != "__future__":
            for alias in statement.names:
                local = alias.asname or alias.name
                if alias.name != "*" and counts.get(local, 0) == 1:
                    imports[local] = aliases[local] = imported_name(statement, alias)
        elif isinstance(statement, ast.Import):
            for alias in statement.names:
                if alias.asname:
                    aliases[alias.asname] = alias.name
                else:
                    head = alias.name.split(".")[0]
                    aliases[head] = head
    classes = {
        statement.name: statement.lineno for statement in tree.body if isinstance(statement, ast.ClassDef)
    }
    stars = tuple(
        "." * node.level + (node.module or "")
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and any(alias.name == "*" for alias in node.names)
    )
    try:
        uses = module_uses(tree, {**_imports_anywhere(tree), **aliases}, stars)
    except RecursionError:
        uses = ()
    training_functions, training_methods = training_definitions(tree)
    return ModuleSummary(
        constants,
        imports,
        module_functions(tree, path, aliases, training_functions),
        classes,
        training_methods,
        uses,
        _argument_defaults(tree, path),
        _mode_dependent_classes(tree),
        stars,
    )


# Layers (and functions) whose output depends on train/eval mode, by the name they are
# called by; a recurrent layer's `dropout=` acts only between stacked layers.
_MODE_LAYERS = re.compile(
    r"^(\w*Dropout\d?d?|dropout\d?d?|alpha_dropout|\w*BatchNorm\d?d?|batch_norm|\w*InstanceNorm\d?d?|"
    r"instance_norm|RReLU|rrelu|Transformer\w*)$"
)
_RECURRENT = frozenset({"RNN", "LSTM", "GRU"})


def _mode_dependent_classes(tree: ast.Module) -> frozenset[str]:
    classes = [statement for statement in tree.body if isinstance(statement, ast.ClassDef)]
    found = {cls.name for cls in classes if any(_switches_mode(node) for node in ast.walk(cls))}
    changed = True
    while changed:
        changed = False
        for cls in classes:
            if cls.name not in found and any(dotted_name(base) in found for base in cls.bases):
                found.add(cls.name)
                changed = True
    return frozenset(found)


def _switches_mode(node: ast.AST) -> bool:
    if isinstance(node, ast.Attribute) and node.attr == "training":
        return True
    if not isinstance(node, ast.Call):
        return False
    name = dotted_name(node.func)
    name = name.rsplit(".", 1)[-1] if name else ""
    if name in _RECURRENT:
        layers = (
            node.args[2]
            if len(node.args) > 2
            else next((keyword.value for keyword in node.keywords if keyword.arg == "num_layers"), None)
        )
        stacked = layers is not None and not (isinstance(layers, ast.Constant) and layers.value == 1)
        return stacked and any(keyword.arg == "dropout" for keyword in node.keywords)
    return bool(_MODE_LAYERS.match(name))


def _imports_anywhere(tree: ast.Module) -> dict[str, str]:
    """What each imported name stands for, wherever the import is (`def main(): from
    .utils import evaluate`): for the uses, where a superset is safe."""
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module != "__future__":
            for alias in node.names:
                if alias.name != "*":
                    found[alias.asname or alias.name] = imported_name(node, alias)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                head = alias.name.split(".")[0]
                found[alias.asname or head] = alias.name if alias.asname else head
    return found


def _argument_defaults(tree: ast.Module, path: Path) -> dict[str, Constant]:
    """The literal defaults of the module's `add_argument("--name", default=...)` calls,
    by destination (`--num-epochs` is `num_epochs`; `dest=` wins)."""
    found: dict[str, Constant] = {}
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr != "add_argument":
            continue
        keywords = {keyword.arg: keyword.value for keyword in node.keywords if keyword.arg}
        options = [
            arg.value for arg in node.args if isinstance(arg, ast.Constant) and isinstance(arg.value, str)
        ]
        dest = keywords.get("dest")
        if isinstance(dest, ast.Constant) and isinstance(dest.value, str):
            name = dest.value
        else:
            longs = [option for option in options if option.startswith("--")] or options
            if not longs:
                continue
            name = longs[0].lstrip("-").replace("-", "_")
        if "default" not in keywords:
            continue
        value = _fold(keywords["default"])
        if value is not _UNKNOWN:
            found[name] = Constant(value, path, node.lineno)
    return found


def _literal_assignments(body: list[ast.stmt], prefix: str):
    for statement in body:
        if isinstance(statement, ast.ClassDef) and not prefix:
            yield from _literal_assignments(statement.body, statement.name + ".")
            continue
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target, value = statement.targets[0], statement.value
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            target, value = statement.target, statement.value
        else:
            continue
        if isinstance(target, ast.Name):
            folded = _fold(value)
            if folded is not _UNKNOWN:
                yield prefix + target.id, folded, statement.lineno


def _instance_attributes(tree: ast.Module, constants: dict[str, Constant], counts: dict[str, int]):
    """`opt = Config()` at module level: the instance starts with its class's literal
    attributes (`opt.epoch` is `Config.epoch`), unless a method of the class assigns that
    attribute itself (`self.epoch = ...`)."""
    classes = {statement.name: statement for statement in tree.body if isinstance(statement, ast.ClassDef)}
    for statement in tree.body:
        if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1):
            continue
        target, value = statement.targets[0], statement.value
        if not (
            isinstance(target, ast.Name) and counts.get(target.id, 0) == 1 and isinstance(value, ast.Call)
        ):
            continue
        cls = classes.get(value.func.id) if isinstance(value.func, ast.Name) else None
        if cls is None or value.args or value.keywords:
            continue
        assigned = {
            node.attr
            for node in ast.walk(cls)
            if isinstance(node, ast.Attribute)
            and isinstance(node.ctx, ast.Store)
            and isinstance(node.value, ast.Name)
            and node.value.id == "self"
        }
        prefix = cls.name + "."
        for name, constant in list(constants.items()):
            attribute = name[len(prefix) :]
            if name.startswith(prefix) and attribute not in assigned:
                yield f"{target.id}.{attribute}", constant


def imported_name(statement: ast.ImportFrom, alias: ast.alias) -> str:
    """The qualified name `from <module> import <alias>` binds, relative ones with their
    leading dots (`.config.EPOCHS`), as the semantic model spells them."""
    prefix = "." * statement.level + (statement.module or "")
    joiner = "" if prefix.endswith(".") or not prefix else "."
    return f"{prefix}{joiner}{alias.name}"


def _binding_counts(tree: ast.Module) -> dict[str, int]:
    """How many times the module binds each name, anywhere in it (a function's local of
    the same name counts: a superset is safe, the name is then not followed). `global` in
    a function counts twice: what it assigns is not known here."""
    counts: dict[str, int] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            counts[node.id] = counts.get(node.id, 0) + 1
        elif isinstance(node, ast.Global):
            for name in node.names:
                counts[name] = counts.get(name, 0) + 2
        elif isinstance(node, ast.alias):
            name = node.asname or node.name.split(".")[0]
            counts[name] = counts.get(name, 0) + 1
    return counts


_UNKNOWN = object()
_ARITHMETIC = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.FloorDiv: lambda a, b: a // b,
    ast.Div: lambda a, b: a / b,
}


def _fold(node: ast.expr) -> Any:
    if isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
        left, right = _fold(node.left), _fold(node.right)
        if _number(left) and _number(right):
            try:
                return _ARITHMETIC[type(node.op)](left, right)
            except ArithmeticError:
                return _UNKNOWN
        return _UNKNOWN
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return _UNKNOWN


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
