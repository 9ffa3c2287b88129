"""libcst's parse, minus the work it does for nodes made by hand.

libcst checks every node as it is made (`CSTNode.__post_init__`) and makes it through a
frozen dataclass's `__init__`, which sets each field with `object.__setattr__`. The
parser only makes valid nodes, and without the two the parse of scikit-learn's, pandas'
and torch's sources took 13% less time (81.8 s against 94.6 s). So while the parser
runs, validation is off and each node class is made by a lean `__init__` that stores its
fields through their slots. Both are put back when the parse ends: the nodes of a fix are
still made and checked as libcst makes them.

Making the lean constructors costs about 10 ms (compiling them), what they save on some
100,000 characters of parsing, so a process makes them only once it has parsed that much:
a pre-commit run on one small file does not pay for them.
"""

from __future__ import annotations

import dataclasses
import functools
import threading
import types

LEAN_AFTER_CHARACTERS = 100_000
_parsed_characters = 0
# One parse at a time swaps libcst's classes: a second thread would otherwise take the
# swapped-in methods for libcst's own and put them back for good.
_swapping = threading.Lock()


def parse_trusted(text: str):
    """`libcst.parse_module(text)`: the same tree, made faster (see the module's docs)."""
    import libcst as cst

    with _swapping:
        validate = cst.CSTNode.__dict__.get("__post_init__")
        if validate is None:  # a libcst that validates elsewhere
            return cst.parse_module(text)
        global _parsed_characters
        _parsed_characters += len(text)
        constructors = lean_constructors() if _parsed_characters > LEAN_AFTER_CHARACTERS else {}
        cst.CSTNode.__post_init__ = _skip_validation
        for node_class, (_, lean) in constructors.items():
            node_class.__init__ = lean
        try:
            return cst.parse_module(text)
        finally:
            for node_class, (own, _) in constructors.items():
                node_class.__init__ = own
            cst.CSTNode.__post_init__ = validate


def _skip_validation(node) -> None:
    pass


@functools.cache
def lean_constructors() -> dict[type, tuple]:
    """Node class -> (its own `__init__`, the lean one), for every class libcst exports
    whose lean `__init__` would do exactly what its own does once validation is off."""
    import libcst as cst

    found = {}
    for value in vars(cst).values():
        # The MRO, not issubclass: an ABC's subclass check costs, and this runs per process.
        if isinstance(value, type) and cst.CSTNode in value.__mro__ and "__init__" in value.__dict__:
            lean = _lean_init(value)
            if lean is not None:
                found[value] = (value.__dict__["__init__"], lean)
    return found


def _lean_init(node_class: type):
    """An `__init__` taking the dataclass's parameters, in order and with its defaults,
    that stores each through the field's slot; None where that would not be the same:
    a field the dataclass sets without a slot, or leaves out of `__init__`, or a
    `__post_init__` other than libcst's validation."""
    if not dataclasses.is_dataclass(node_class):
        return None
    for base in node_class.__mro__[:-1]:
        if "__post_init__" in base.__dict__ and base.__name__ != "CSTNode":
            return None
    namespace: dict = {"_MISSING": object()}
    parameters, lines = [], []
    for index, field in enumerate(dataclasses.fields(node_class)):
        slot = _slot(node_class, field.name)
        if slot is None or not field.init or field.kw_only:
            return None
        namespace[f"_set{index}"] = slot.__set__
        value = field.name
        if field.default is not dataclasses.MISSING:
            namespace[f"_default{index}"] = field.default
            parameters.append(f"{field.name}=_default{index}")
        elif field.default_factory is not dataclasses.MISSING:
            namespace[f"_factory{index}"] = field.default_factory
            parameters.append(f"{field.name}=_MISSING")
            value = f"_factory{index}() if {field.name} is _MISSING else {field.name}"
        else:
            parameters.append(field.name)
        lines.append(f"    _set{index}(self, {value})\n")
    body = "".join(lines) or "    pass\n"
    source = f"def __init__(self, {', '.join(parameters)}):\n{body}"
    exec(compile(source, f"<lean __init__ of {node_class.__name__}>", "exec"), namespace)
    return namespace["__init__"]


def _slot(node_class: type, name: str):
    for base in node_class.__mro__:
        member = base.__dict__.get(name)
        if isinstance(member, types.MemberDescriptorType):
            return member
    return None
