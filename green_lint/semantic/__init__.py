"""One semantic model per file, shared by every rule: scopes and bindings (`model`), the
values that reach a use (`values`), and who calls whom (`calls`)."""

from green_lint.semantic.model import SemanticModel
from green_lint.semantic.scopes import Binding, Scope

__all__ = ["Binding", "Scope", "SemanticModel"]
