"""Edits of calls and list literals for the fixes of the training rules, keeping the
layout of the code they change."""

from __future__ import annotations

import libcst as cst

from green_lint.rules._syntax import keyword


def _keyword_arg(name: str, value_code: str) -> cst.Arg:
    return cst.parse_expression(f"f({name}={value_code})").args[0]


def with_keyword(call: cst.Call, name: str, value_code: str) -> cst.Call:
    """`call` with `name=value` set: the value replaced if the keyword is there, else the
    keyword added after the last argument (keeping the call's layout)."""
    found = keyword(call, name)
    if found is not None:
        return call.with_changes(
            args=[
                arg.with_changes(value=cst.parse_expression(value_code)) if arg is found else arg
                for arg in call.args
            ]
        )
    new = _keyword_arg(name, value_code)
    args = list(call.args)
    if not args:
        return call.with_changes(args=[new])
    last = args[-1]
    if isinstance(last.comma, cst.Comma):
        # A trailing comma: the new argument goes after it, laid out as the others.
        if len(args) >= 2 and isinstance(args[-2].comma, cst.Comma):
            between = args[-2].comma.whitespace_after
        else:
            between = call.whitespace_before_args
        args[-1] = last.with_changes(comma=last.comma.with_changes(whitespace_after=between))
        args.append(new.with_changes(comma=last.comma))
    else:
        args[-1] = last.with_changes(
            comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")),
            whitespace_after_arg=cst.SimpleWhitespace(""),
        )
        args.append(new.with_changes(whitespace_after_arg=last.whitespace_after_arg))
    return call.with_changes(args=args)


def with_element(node: cst.List, code: str) -> cst.List:
    """The list literal `node` with the expression `code` appended (keeping its layout)."""
    elements = list(node.elements)
    new = cst.Element(cst.parse_expression(code))
    if not elements:
        return node.with_changes(elements=[new])
    last = elements[-1]
    if isinstance(last.comma, cst.Comma):
        if len(elements) >= 2 and isinstance(elements[-2].comma, cst.Comma):
            between = elements[-2].comma.whitespace_after
        else:
            between = node.lbracket.whitespace_after
        elements[-1] = last.with_changes(comma=last.comma.with_changes(whitespace_after=between))
        elements.append(new.with_changes(comma=last.comma))
    else:
        elements[-1] = last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        elements.append(new)
    return node.with_changes(elements=elements)


def replace_arg(call: cst.Call, old: cst.Arg, name: str, value_code: str) -> cst.Call:
    """`call` with the argument `old` replaced by `name=value` (its comma kept)."""
    new = _keyword_arg(name, value_code).with_changes(
        comma=old.comma, whitespace_after_arg=old.whitespace_after_arg
    )
    return call.with_changes(args=[new if arg is old else arg for arg in call.args])
