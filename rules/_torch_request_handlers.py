"""Web request handlers: functions that run once per request, so whatever they load or
compute is paid again on every call."""

from __future__ import annotations

import re

import libcst as cst

from green_lint.context import RuleContext
from green_lint.rules._torch_call_graph import Analysis

WEB_FRAMEWORKS = (
    "flask",
    "fastapi",
    "starlette",
    "quart",
    "sanic",
    "litestar",
    "bottle",
    "aiohttp",
    "falcon",
)
ROUTE_DECORATORS = frozenset(
    {"route", "get", "post", "put", "patch", "delete", "api_route", "websocket", "view_functions"}
)
HANDLER_DECORATORS = ("rest_framework.decorators.api_view", "functions_framework.http")


def is_request_handler(context: RuleContext, func: cst.FunctionDef, analysis: Analysis | None = None) -> bool:
    """A web request handler: a Flask/FastAPI/... route, a DRF `@api_view`, a Django view
    (a function of a views.py whose first parameter is `request`), or a function given
    to gradio as its `fn`."""
    imports = context.semantic
    web = any(imports.imports_module(framework) for framework in WEB_FRAMEWORKS)
    for decorator in func.decorators:
        expr = decorator.decorator
        call_func = expr.func if isinstance(expr, cst.Call) else expr
        if context.resolves_to(call_func, *HANDLER_DECORATORS):
            return True
        if (
            web
            and isinstance(expr, cst.Call)
            and isinstance(call_func, cst.Attribute)
            and call_func.attr.value in ROUTE_DECORATORS
        ):
            return True
    filename = re.split(r"[\\/]", context.path)[-1]
    params = [*func.params.posonly_params, *func.params.params]
    if filename == "views.py" and params and params[0].name.value == "request":
        return True
    if analysis is not None and imports.imports_module("gradio"):
        for site in analysis.call_sites(func):
            if (
                site.how == "argument"
                and isinstance(site.node, cst.Call)
                and context.resolves_under(site.node.func, "gradio")
            ):
                return True
    return False
