"""What the functions of a file's torch code are for, as the inference rules (GL301-GL304)
ask it: evaluation or inference code, code whose outputs are trained through, loops that
compute gradients. The file's calls and call graph (`Analysis`) and its torch modules
(`TorchModules`) are analyses: `context.analysis(Analysis)`, declared in a rule's `needs`.

No rule class lives here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import libcst as cst

from green_lint.context import RuleContext
from green_lint.rules._torch_call_graph import Analysis
from green_lint.rules._torch_calls import FunctionInfo
from green_lint.rules._torch_eval_mode import is_eval_call
from green_lint.rules._torch_modules import TorchModules
from green_lint.rules._torch_names import INFERENCE_WORDS, TRAINING_WORDS, name_words
from green_lint.walk import walk

# Lightning runs these hooks under no_grad/inference_mode itself.
LIGHTNING_HOOKS = re.compile(
    r"^(validation_step|test_step|predict_step|validation_epoch_end|test_epoch_end|"
    r"on_(validation|test|predict)_\w+)$"
)
LIGHTNING = ("lightning", "pytorch_lightning")


# -- what a function is for ----------------------------------------------------------------
def is_pytest_test(context: RuleContext, info: FunctionInfo) -> bool:
    filename = re.split(r"[\\/]", context.path)[-1]
    in_test_file = filename.startswith("test_") or filename.endswith("_test.py") or filename == "conftest.py"
    return in_test_file and info.name.startswith("test")


def is_lightning_hook(context: RuleContext, info: FunctionInfo) -> bool:
    return (
        info.method_of is not None
        and bool(LIGHTNING_HOOKS.match(info.name))
        and any(context.semantic.imports_module(name) for name in LIGHTNING)
    )


def has_inference_name(context: RuleContext, info: FunctionInfo) -> bool:
    if is_lightning_hook(context, info) or is_pytest_test(context, info):
        return False
    words = set(name_words(info.name))
    return bool(words & INFERENCE_WORDS) and not words & TRAINING_WORDS


def calls_eval(models: TorchModules, info: FunctionInfo) -> bool:
    """Whether the function's own body switches one of its models to eval mode."""
    for call, _ in models.analysis.calls_by_function.get(info.node, ()):
        if is_eval_call(call):
            receiver = call.func.value
            if models.lookup(receiver, info.node) is not None:
                return True
    return False


def is_inference_function(models: TorchModules, info: FunctionInfo) -> bool:
    """GL301's definition: a function that calls `model.eval()`, or whose name says
    evaluate/validate/test/predict/infer/generate (not a Lightning hook, not a pytest
    test, not a name that also says train/fit)."""
    cache = models.inference_functions
    if info.node not in cache:
        cache[info.node] = _is_inference_function(models, info)
    return cache[info.node]


def _is_inference_function(models: TorchModules, info: FunctionInfo) -> bool:
    context = models.context
    if is_pytest_test(context, info) or is_lightning_hook(context, info):
        return False
    return has_inference_name(context, info) or calls_eval(models, info)


def is_model_code(context, info: FunctionInfo) -> bool:
    """Code of a model or a framework hook: its caller decides the grad mode."""
    if is_pytest_test(context, info) or is_lightning_hook(context, info):
        return True
    cls = info.method_of
    if cls is None:
        return False
    defines_forward = any(
        isinstance(statement, cst.FunctionDef) and statement.name.value in ("forward", "__call__")
        for statement in cls.body.body
    )
    return defines_forward or any(
        context.resolves_under(base.value, "torch.nn", "lightning", "pytorch_lightning") for base in cls.bases
    )


def loop_needs_grad(analysis: Analysis, loop: cst.CSTNode, needs_grad: set[cst.FunctionDef]) -> bool:
    """Whether a module-level loop computes gradients (itself or through a function)."""
    if any(state.loops[:1] == (loop,) for _, state in analysis.module_grad_markers):
        return True
    for call, state in analysis.calls_by_function.get(None, ()):
        if state.loops[:1] == (loop,) and any(
            callee.node in needs_grad for callee in analysis.callees(call, state)
        ):
            return True
    return False


def iter_statement_blocks(module: cst.Module) -> Iterator[list[cst.CSTNode]]:
    """The module body, and the bodies of module-level `if` blocks (`if __name__ ...`)."""
    yield list(module.body)
    for statement in module.body:
        while isinstance(statement, cst.If):
            yield list(statement.body.body) if isinstance(statement.body, cst.IndentedBlock) else []
            statement = statement.orelse if isinstance(statement.orelse, cst.If) else None


def block_statement(
    top: cst.CSTNode | None, node: cst.CSTNode, positions: dict[int, int]
) -> cst.CSTNode | None:
    """The statement of the module body, or of a module-level `if` block (`if __name__
    == "__main__":`), that holds `node`; `top` is the module-level one."""
    while isinstance(top, cst.If):
        inner = next((s for s in _if_statements(top) if id(s) in positions and _contains(s, node)), None)
        if inner is None:
            break
        top = inner
    return top


def _if_statements(statement: cst.If) -> list[cst.CSTNode]:
    found: list[cst.CSTNode] = []
    branch: cst.If | None = statement
    while branch is not None:
        if isinstance(branch.body, cst.IndentedBlock):
            found.extend(branch.body.body)
        branch = branch.orelse if isinstance(branch.orelse, cst.If) else None
    return found


def _contains(root: cst.CSTNode, node: cst.CSTNode) -> bool:
    return any(item is node for item in walk(root))


def mode_switch(models: TorchModules, statement: cst.CSTNode) -> str | None:
    """For a module-level statement: the model name when it switches a model to eval mode,
    "" when it switches one back to training mode, None otherwise."""
    if not isinstance(statement, cst.SimpleStatementLine):
        return None
    module = models.context.module
    for small in statement.body:
        value = small.value if isinstance(small, cst.Expr | cst.Assign) else None
        if not isinstance(value, cst.Call) or not isinstance(value.func, cst.Attribute):
            continue
        receiver = value.func.value
        if is_eval_call(value):
            if isinstance(small, cst.Assign) and models.value_info(value, lambda e: models.lookup(e, module)):
                return models.context.code_for(small.targets[0].target)
            if models.lookup(receiver, module) is not None:
                return models.context.code_for(receiver)
        elif value.func.attr.value == "train" and models.lookup(receiver, module) is not None:
            return ""
    return None


def with_block(item: cst.BaseExpression, statements: list) -> cst.With:
    """A `with item:` block around `statements`, keeping the first one's leading lines."""
    first = statements[0]
    leading = first.leading_lines
    statements = [first.with_changes(leading_lines=()), *statements[1:]]
    return cst.With(
        items=[cst.WithItem(item=item)],
        body=cst.IndentedBlock(body=statements),
        leading_lines=leading,
    )
