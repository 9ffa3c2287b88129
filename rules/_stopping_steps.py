"""What one turn of a GL102 loop must do to be training: a training step in its body or in
a function of the file it calls. A step is PyTorch's `backward()` with an optimizer
`step()`; TensorFlow's `apply_gradients` or `session.run` of a `minimize` op; a call that
trains by its name (`train_on_batch`, `partial_fit`); a `fit` that runs one epoch (Keras'
default, `epochs=1`) or grows a `warm_start` estimator; or a hand-written gradient update
(`w -= lr * grad`, `Q[s][a] += alpha * td_error`) of NumPy or plain Python."""

from __future__ import annotations

import re

import libcst as cst

from green_lint.context import RuleContext
from green_lint.names import statements_of
from green_lint.rules._stopping_elsewhere import trains_in_another_module
from green_lint.rules._stopping_updates import gradient_update
from green_lint.rules._stopping_words import loop_words, names_epoch
from green_lint.rules._syntax import (
    DEFINITIONS,
    LOOPS,
    argument,
    calls_in,
    is_true,
    keyword,
    last_name,
    walk,
)
from green_lint.walk import children

TENSORFLOW = ("tensorflow", "keras", "tf_keras", "tf_agents")
OPTIMIZERS = ("torch.optim", "timm.optim", "transformers.AdamW", "bitsandbytes.optim", "apex.optimizers")
# The keywords of a `fit` that set its number of epochs.
EPOCH_KEYWORDS = ("epochs", "nb_epoch", "n_epochs", "num_epochs", "max_epochs")
# Calls that train by their name whatever the object: one batch, one incremental fit.
_TRAINING_CALLS = frozenset(("train_on_batch", "partial_fit"))
_FUNCTION_DEPTH = 3
# The names TensorFlow 1 code gives the op a session runs to take one training step.
_TRAIN_OP = re.compile(r"(?i)train(ing)?(_?(op|step))?|(opt|optim|optimizer|update)_?op")


class TrainingSteps:
    """The names called from the file's top-level loops and its optimizers; answers
    whether a loop trains (following the file's own functions it calls)."""

    def __init__(self, context: RuleContext, module: cst.Module, sweep) -> None:
        self.context = context
        self._loop_calls: list[cst.Call] = []
        self._called_in_loops: dict[int, list[cst.Call]] | None = None
        # Methods of the file's classes by name, for receivers of unknown type.
        self._methods: dict[str, list[cst.FunctionDef]] | None = None
        self.optimizers: set[str] = set()
        self._torch = context.semantic.imports_module("torch")
        self._episodes = False
        for statement in statements_of(module):
            if isinstance(statement, LOOPS) and not sweep(context, statement):
                self._loop_calls.extend(calls_in(statement.body, enter_definitions=False))
            elif isinstance(statement, cst.Assign) and isinstance(statement.value, cst.Call):
                qualified = context.resolves_under(statement.value.func, *OPTIMIZERS)
                if qualified is not None and "lr_scheduler" not in qualified:
                    for target in statement.targets:
                        name = last_name(target.target)
                        if name is not None:
                            self.optimizers.add(name)

    def called_in_loop(self, function: cst.FunctionDef) -> bool:
        """Whether a loop of the file outside `function` calls it (the def the call runs,
        not a def that only shares its name: `vgg.train(...)` does not run a module-level
        `train`, and `tree.fit(...)` in a loop of `fit` is another model's fit)."""
        if self._called_in_loops is None:
            self._called_in_loops = {}
            for call in self._loop_calls:
                for callee in self._callees(call):
                    self._called_in_loops.setdefault(id(callee), []).append(call)
        calls = self._called_in_loops.get(id(function), [])
        if not calls:
            return False
        inside = {id(call) for call in calls_in(function)}
        return any(id(call) not in inside for call in calls)

    def trains(self, loop: cst.For | cst.While, *, within_runs: bool = True) -> bool:
        """Whether a turn of `loop` runs a training step. With `within_runs=False`, steps
        that a called function runs inside its own epoch loop do not count: the loop then
        repeats whole trainings (trials, seeds), not epochs."""
        # In an episode loop, a `fit` of any model is the agent learning from its replay.
        self._episodes = any("episode" in word for word in loop_words(self.context, loop))
        backward = step = update = False
        seen: set[int] = set()
        pending: list[tuple[cst.CSTNode, int]] = [(loop.body, 0)]
        while pending:
            body, depth = pending.pop()
            for node in self._nodes(body, skip_epoch_loops=depth > 0 and not within_runs):
                if isinstance(node, cst.AugAssign | cst.Assign):
                    update = update or gradient_update(self.context, node)
                    continue
                name = last_name(node.func)
                if name is None:
                    continue
                if self._single_step(node, name) or (
                    self._torch and trains_in_another_module(self.context, node)
                ):
                    return True
                if self._torch and "backward" in name:
                    backward = True
                elif name == "step" and self._optimizer_step(node):
                    step = True
                    # `optimizer.step(closure)` (LBFGS): the closure runs `backward()`.
                    for arg in node.args:
                        closure = self.context.semantic.definition(arg.value)
                        if isinstance(closure, cst.FunctionDef) and id(closure) not in seen:
                            seen.add(id(closure))
                            pending.append((closure.body, depth + 1))
                if depth < _FUNCTION_DEPTH:
                    for function in self._callees(node):
                        if id(function) not in seen:
                            seen.add(id(function))
                            pending.append((function.body, depth + 1))
            if self._torch and backward and step:
                return True
        # A hand-written update trains where nothing runs autograd: next to `backward()`
        # without an optimizer it moves an input (an adversarial perturbation).
        return update and not backward

    def _callees(self, call: cst.Call) -> list[cst.FunctionDef]:
        """The file's defs `call` may run: the one the semantic model resolves it to, else,
        for `obj.m()` whose `obj` comes from elsewhere (a parameter, another file's
        factory), the methods named `m` of the file's classes: the receiver's type is
        unknown, and a trainer class of the file is what such a call usually reaches."""
        func = call.func
        if isinstance(func, cst.Name):
            # Every def the name is bound to where it is called (a notebook may define
            # `train_step` again in a later cell).
            found = self.context.semantic.lookup(func.value, func)
            return [b.site for b in found[1] if b.kind == "function"] if found is not None else []
        function = self.context.values.calls.target(call)
        if function is not None:
            return [function]
        if not isinstance(func, cst.Attribute):
            return []
        if self._methods is None:
            self._methods = {}
            for statement in statements_of(self.context.module):
                if isinstance(statement, cst.ClassDef):
                    for member in statement.body.body:
                        if isinstance(member, cst.FunctionDef):
                            self._methods.setdefault(member.name.value, []).append(member)
        return self._methods.get(func.attr.value, [])

    def _nodes(self, body: cst.CSTNode, *, skip_epoch_loops: bool):
        """The calls and assignments under `body`, without the bodies of loops that name an
        epoch when `skip_epoch_loops`."""
        stack = [body]
        while stack:
            node = stack.pop()
            if isinstance(node, cst.Call | cst.AugAssign | cst.Assign):
                yield node
            if skip_epoch_loops and isinstance(node, cst.For) and names_epoch(self.context, node):
                continue
            if isinstance(node, DEFINITIONS) and node is not body:
                continue
            stack.extend(children(node))

    def _single_step(self, call: cst.Call, name: str) -> bool:
        """A call that is a training step by itself."""
        func = call.func
        if not isinstance(func, cst.Attribute):
            return False
        if name in _TRAINING_CALLS:
            # A class of the file is judged by its method's body (followed by name).
            return not self._own_instance(func.value)
        if name == "apply_gradients":
            return self._from_tensorflow(func.value)
        if name == "run":
            return self._runs_minimize(call)
        if name in ("fit", "fit_generator"):
            epochs = _epochs_keyword(call)
            if epochs is not None:
                return self.context.values.number(epochs) == 1
            return (
                self._from_tensorflow(func.value)
                or self._one_epoch_model(func.value)
                or self._warm_start(func.value)
                or self._episodes
            )
        if name == "train":
            # TF-Agents: `agent.train(experience)` is one gradient step of the agent.
            return self._from_tensorflow(func.value)
        return False

    def _runs_minimize(self, call: cst.Call) -> bool:
        """A `session.run` of a TensorFlow optimizer's `minimize(...)` op (written in the
        call or bound to a name)."""
        for current in (node for arg in call.args for node in walk(arg.value)):
            followed = isinstance(current, cst.Name | cst.Attribute)  # `train_op`, `self.train_op`
            values = self.context.values.expressions(current) if followed else [current]
            for value in values:
                if (
                    isinstance(value, cst.Call)
                    and isinstance(value.func, cst.Attribute)
                    and value.func.attr.value == "minimize"
                    and self._from_tensorflow(value.func.value)
                ):
                    return True
        return self._runs_train_op(call)

    def _runs_train_op(self, call: cst.Call) -> bool:
        """`sess.run([net.train, net.loss], feed)`, `sess.run(train_op)`: a TensorFlow
        session (a receiver named for one, in a file that imports TensorFlow) fetching an op
        named as the training op, where the op itself cannot be followed (an attribute of
        a loop variable, an op unpacked from `kmeans.training_graph()`)."""
        receiver = call.func.value if isinstance(call.func, cst.Attribute) else None
        if receiver is None or "sess" not in (last_name(receiver) or "").lower():
            return False
        if not self.context.semantic.imports_module("tensorflow"):
            return False
        fetches = argument(call, 0, "fetches")
        if fetches is None:
            return False
        items = (
            [e.value for e in fetches.elements] if isinstance(fetches, cst.List | cst.Tuple) else [fetches]
        )
        return any(
            isinstance(item, cst.Name | cst.Attribute | cst.Subscript)
            and _TRAIN_OP.fullmatch(last_name(item) or "") is not None
            for item in items
        )

    def _built_by(self, node: cst.BaseExpression) -> list[cst.BaseExpression]:
        followed = isinstance(node, cst.Name | cst.Attribute)
        return self.context.values.expressions(node) if followed else [node]

    def _own_instance(self, node: cst.BaseExpression) -> bool:
        return any(
            isinstance(value, cst.Call)
            and isinstance(self.context.semantic.definition(value.func), cst.ClassDef)
            for value in self._built_by(node)
        )

    def _from_tensorflow(self, node: cst.BaseExpression) -> bool:
        """Whether `node` is (or is bound to) something a TensorFlow/Keras call builds, or
        an instance of the file's own subclass of a Keras class."""
        for value in self._built_by(node):
            if not isinstance(value, cst.Call):
                continue
            if self.context.resolves_under(value.func, *TENSORFLOW):
                return True
            definition = self.context.semantic.definition(value.func)
            if isinstance(definition, cst.ClassDef) and any(
                self.context.resolves_under(base.value, *TENSORFLOW) for base in definition.bases
            ):
                return True
        return False

    def _one_epoch_model(self, node: cst.BaseExpression) -> bool:
        """Whether `node` was built with a budget of one epoch (`NeuralNet(max_epochs=1)`):
        each `fit` is one epoch."""
        for value in self._built_by(node):
            if isinstance(value, cst.Call):
                epochs = _epochs_keyword(value)
                if epochs is not None and self.context.values.number(epochs) == 1:
                    return True
        return False

    def _warm_start(self, node: cst.BaseExpression) -> bool:
        """Whether `node` is a scikit-learn estimator built with `warm_start=True`: each
        `fit` then adds to the model instead of training it again."""
        for value in self._built_by(node):
            if isinstance(value, cst.Call) and self.context.resolves_under(value.func, "sklearn"):
                found = keyword(value, "warm_start")
                if found is not None and is_true(found.value):
                    return True
        return False

    def _optimizer_step(self, call: cst.Call) -> bool:
        func = call.func
        return isinstance(func, cst.Attribute) and (
            self._optimizer(func.value) or any(self._optimizer(arg.value) for arg in call.args)
        )

    def _optimizer(self, node: cst.BaseExpression) -> bool:
        name = last_name(node)
        if name is None:
            return False
        lowered = name.lower()
        return name in self.optimizers or ("opt" in lowered and "scheduler" not in lowered)


def _epochs_keyword(call: cst.Call) -> cst.BaseExpression | None:
    for word in EPOCH_KEYWORDS:
        found = keyword(call, word)
        if found is not None:
            return found.value
    return None
