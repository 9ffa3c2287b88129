"""The project a file belongs to: its other modules, found as Python would find them, each
summarised in a small form (`summary.py`), and the calls other modules make of a file's
functions (`ProjectModules.callers`)."""

from green_lint.project.functions import Function
from green_lint.project.modules import Caller, ProjectClass, ProjectModules, where_in_project
from green_lint.project.summary import Constant, ModuleSummary, imported_name, summarise
from green_lint.project.uses import Use

__all__ = [
    "Caller",
    "Constant",
    "Function",
    "ModuleSummary",
    "ProjectClass",
    "ProjectModules",
    "Use",
    "imported_name",
    "summarise",
    "where_in_project",
]
