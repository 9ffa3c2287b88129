"""The inference rules (GL301-GL304) and GL401: the cases the fixtures do not pin down,
the fixes' edge cases, the shared analysis, and the version arithmetic."""

from __future__ import annotations

import textwrap
from pathlib import Path

import libcst as cst
import pytest

from green_lint.context import RuleContext
from green_lint.engine import LintSettings, lint_source
from green_lint.fix import fix_source
from green_lint.registry import rule_by_code, select_rules
from green_lint.rules._torch_call_graph import Analysis
from green_lint.rules._torch_modules import TorchModules
from green_lint.rules._torch_names import name_words
from green_lint.rules.outdated_ml_dependency import _keeps_below
from green_lint.source import load_source


def _source(code: str, path: str = "t.py"):
    text = textwrap.dedent(code).lstrip("\n")
    return load_source(Path(path), path, text.encode("utf-8"))


def lint(code: str, rule: str, path: str = "t.py"):
    return lint_source(_source(code, path), LintSettings(rules=select_rules([rule])))


def rows(code: str, rule: str, path: str = "t.py") -> list[int]:
    return [finding.location.row for finding in lint(code, rule, path)]


def fixed(code: str, rule: str, path: str = "t.py") -> str:
    return fix_source(_source(code, path), LintSettings(rules=select_rules([rule])), unsafe=True).text


def dedent(code: str) -> str:
    return textwrap.dedent(code).lstrip("\n")


TORCH = "import torch\nfrom torch import nn\nnet = nn.Linear(2, 1)\n"


# -- rule classes -------------------------------------------------------------------------
def test_gl304_is_a_preview_info_rule_off_by_default():
    rule = rule_by_code("GL304")
    assert rule.preview and rule.severity == "info"
    assert rule not in select_rules(["GL"])
    assert rule in select_rules(["GL"], preview=True)
    assert rule in select_rules(["GL304"])
    assert "must be measured" in rule.docs() or "measure" in rule.docs()


def test_the_helper_module_holds_no_rule():
    from green_lint.registry import all_rules

    assert not [rule for rule in all_rules() if rule.__module__.endswith("._torch")]


# -- the shared analysis ----------------------------------------------------------------------
def test_the_analysis_without_the_engine_matches_the_fed_one():
    code = dedent(
        """
        import torch
        from torch import nn

        class Net(nn.Module):
            def forward(self, x):
                return x

        model = Net()

        def evaluate(x):
            model.eval()
            for batch in x:
                yield model(batch)
        """
    )
    context = RuleContext(cst.parse_module(code), "t.py")
    analysis = context.analysis(Analysis)  # no traversal fed it: it walks the module itself
    calls = [context.code_for(call) for call, _ in analysis.calls]
    assert calls == ["Net()", "model.eval()", "model(batch)"]
    (evaluate,) = [info for info in analysis.functions.values() if info.name == "evaluate"]
    assert evaluate.is_generator
    forward = [(call, state) for call, state in analysis.calls if context.code_for(call) == "model(batch)"]
    (call, state) = forward[0]
    assert state.func is evaluate.node and len(state.loops) == 1
    assert context.analysis(TorchModules).forward_model(call, state) is not None


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("evaluateModel", ["evaluate", "model"]),
        ("run_inference", ["run", "inference"]),
        ("testNet2", ["test", "net", "2"]),
    ],
)
def test_name_words(name, words):
    assert name_words(name) == words


def test_what_counts_as_a_torch_module():
    code = dedent(
        """
        import copy
        import torch
        import torch.nn as nn
        import torchvision
        from transformers import AutoModel, AutoTokenizer

        class Base(nn.Module):
            pass

        class Child(Base):
            pass

        class NotAModule:
            def __call__(self, x):
                return x

        a = Child()
        b = nn.Sequential(nn.Linear(2, 2))
        c = torch.load("m.pt").to("cpu").eval()
        d = torchvision.models.resnet18()
        e = AutoModel.from_pretrained("x")
        f = copy.deepcopy(b)
        g = NotAModule()
        h = nn.ReLU()
        i = nn.CrossEntropyLoss()
        j = AutoTokenizer.from_pretrained("x")
        k = torchvision.models.ResNet18_Weights.DEFAULT
        """
    )
    context = RuleContext(cst.parse_module(code), "t.py")
    models = context.analysis(TorchModules).scope_models(context.module)
    assert {name: info.kind for name, info in models.items()} == {
        "a": "class",
        "b": "layer",
        "c": "load",
        "d": "builder",
        "e": "pretrained",
        "f": "layer",
    }


# -- GL301 --------------------------------------------------------------------------------
def test_gl301_needs_torch_imported():
    assert rows("def predict(model, x):\n    return model(x)\n", "GL301") == []
    assert rows("import torch\ndef predict(model, x):\n    return model(x)\n", "GL301") == [3]


def test_gl301_names_that_say_inference_and_names_that_do_not():
    code = TORCH + dedent(
        """
        def generate_text(x):
            return net(x)

        def validation(x):
            return net(x)

        def train_and_evaluate(x):
            return net(x)

        def forward_pass(x):
            return net(x)
        """
    )
    assert rows(code, "GL301") == [5, 8]


def test_gl301_pytest_tests_and_lightning_hooks_are_not_inference_code():
    test = TORCH + "def test_forward_shape():\n    assert net(torch.ones(2)).shape == (1,)\n"
    assert rows(test, "GL301", path="test_model.py") == []
    assert rows(test, "GL301", path="model.py") == [5]
    hook = "class Lit:\n    def validation_step(self, batch, i):\n        return net(batch)\n"
    assert rows(TORCH + hook, "GL301") == [6]  # no lightning import: an ordinary method
    assert rows("import lightning.pytorch as pl\n" + TORCH + hook, "GL301") == []


@pytest.mark.parametrize(
    "context_manager",
    [
        "torch.no_grad()",
        "torch.inference_mode()",
        "torch.set_grad_enabled(False)",
        "torch.autograd.no_grad()",
    ],
)
def test_gl301_grad_off_blocks(context_manager):
    code = TORCH + f"def predict(x):\n    with {context_manager}:\n        return net(x)\n"
    assert rows(code, "GL301") == []


def test_gl301_inference_mode_false_does_not_turn_autograd_off():
    code = TORCH + "def predict(x):\n    with torch.inference_mode(False):\n        return net(x)\n"
    assert rows(code, "GL301") == [6]


def test_gl301_set_grad_enabled_false_as_a_statement():
    assert rows(TORCH + "torch.set_grad_enabled(False)\ndef predict(x):\n    return net(x)\n", "GL301") == []
    in_function = TORCH + "def predict(x):\n    torch.set_grad_enabled(False)\n    return net(x)\n"
    assert rows(in_function, "GL301") == []


def test_gl301_a_helper_called_only_under_no_grad_and_one_called_outside():
    helper = "def predict_batch(x):\n    return net(x)\n"
    only_under = TORCH + helper + "def run(x):\n    with torch.no_grad():\n        return predict_batch(x)\n"
    assert rows(only_under, "GL301") == []
    also_outside = only_under + "predict_batch(torch.ones(2))\n"
    assert rows(also_outside, "GL301") == [5]


def test_gl301_outputs_that_feed_a_backward_pass_elsewhere():
    code = TORCH + dedent(
        """
        def predict(x):
            return net(x)

        def train(x):
            loss = predict(x).sum()
            loss.backward()
        """
    )
    assert rows(code, "GL301") == []


def test_gl301_callers_that_leave_backward_to_a_framework():
    code = TORCH + dedent(
        """
        class Lit(nn.Module):
            def predict_logits(self, x):
                return net(x)

            def training_step(self, batch, batch_idx):
                return self.predict_logits(batch).sum()

        class Wrapper(nn.Module):
            def predict(self, x):
                return self(x)

        def compute_loss(wrapper, x):
            return wrapper.predict(x).sum()
        """
    )
    assert rows(code, "GL301") == []


def test_gl301_gradients_asked_for_on_purpose():
    code = TORCH + dedent(
        """
        def predict_saliency(x):
            x.requires_grad = True
            return torch.autograd.grad(net(x).sum(), x)

        def evaluate_with_grad(x):
            with torch.enable_grad():
                return net(x)
        """
    )
    assert rows(code, "GL301") == []


def test_gl301_self_call_in_a_module_method():
    code = TORCH + dedent(
        """
        class Net(nn.Module):
            def forward(self, x):
                return x

            def predict(self, x):
                return self(x)
        """
    )
    assert rows(code, "GL301") == [9]


def test_gl301_fix_decorates_the_function_without_reindenting_and_is_idempotent():
    code = TORCH + dedent(
        '''
        def evaluate(x):  # evaluation
            """Score x."""
            # the model is ready
            out = net(x)
            return out.sum()
        '''
    )
    expected = TORCH + dedent(
        '''
        @torch.no_grad()
        def evaluate(x):  # evaluation
            """Score x."""
            # the model is ready
            out = net(x)
            return out.sum()
        '''
    )
    assert fixed(code, "GL301") == expected
    assert fixed(expected, "GL301") == expected


def test_gl301_a_coroutine_that_never_awaits_keeps_its_docstring_outside_the_with():
    code = TORCH + dedent(
        '''
        async def evaluate(x):
            """Score x."""
            # the model is ready
            out = net(x)
            return out.sum()
        '''
    )
    expected = TORCH + dedent(
        '''
        async def evaluate(x):
            """Score x."""
            # the model is ready
            with torch.no_grad():
                out = net(x)
                return out.sum()
        '''
    )
    assert fixed(code, "GL301") == expected
    assert fixed(expected, "GL301") == expected


def test_gl301_loop_fix_indents_with_the_files_own_unit():
    code = TORCH + "net.eval()\nfor x in [torch.ones(2)]:\n  print(net(x))\n"
    assert fixed(code, "GL301").endswith(
        "with torch.no_grad():\n  for x in [torch.ones(2)]:\n    print(net(x))\n"
    )


def test_gl301_fix_uses_the_torch_alias_or_adds_the_import():
    aliased = (
        "import torch as T\nfrom torch import nn\nnet = nn.Linear(2, 1)\ndef predict(x):\n    return net(x)\n"
    )
    assert "@T.no_grad()\ndef predict(x):\n" in fixed(aliased, "GL301")
    bare = "from torch import nn\nnet = nn.Linear(2, 1)\ndef predict(x):\n    return net(x)\n"
    result = fixed(bare, "GL301")
    assert result.startswith("from torch import nn\nimport torch\n")
    assert "@torch.no_grad()\ndef predict(x):\n    return net(x)\n" in result


def test_gl301_generators_get_the_decorator_and_awaiting_coroutines_no_fix():
    generator = TORCH + "def predict(xs):\n    for x in xs:\n        yield net(x)\n"
    assert "@torch.no_grad()\ndef predict(xs):" in fixed(generator, "GL301")
    coroutine = TORCH + "async def predict(x):\n    await x\n    return net(x)\n"
    (finding,) = lint(coroutine, "GL301")
    assert finding.fix is None


def test_gl301_module_loops_whose_outputs_are_never_backpropagated():
    # After .eval() the loop gets the loop fix; the loops before and after it are flagged
    # too (their output reaches no backward()): each loop is a block of its own. (The file
    # trains `net` first: forwards of untrained layers in a file that never trains are a
    # demonstration, not flagged.)
    code = TORCH + dedent(
        """
        net(torch.ones(2)).sum().backward()
        for x in [torch.ones(2)]:
            net(x)
        net.eval()
        for x in [torch.ones(2)]:
            net(x)
        net.train()
        for x in [torch.ones(2)]:
            net(x)
        """
    )
    assert rows(code, "GL301") == [6, 9, 12]


def test_gl301_a_forward_that_reaches_backward_is_training():
    code = TORCH + dedent(
        """
        for x in [torch.ones(2)]:
            out = net(x)
            loss = (out * 2).sum()
            loss.backward()
        """
    )
    assert rows(code, "GL301") == []


def test_gl301_a_sampling_helper_of_any_name_and_its_negatives():
    code = TORCH + dedent(
        """
        def sample_image(n):
            imgs = net(torch.ones(n))
            save(imgs.data)

        def step(x):
            return net(x)

        def keep(outputs, x):
            outputs.append(net(x))

        def train(x):
            out = net(x)
            out.sum().backward()
        """
    )
    assert rows(code, "GL301") == [5]
    (finding,) = lint(code, "GL301")
    assert finding.fix is not None and finding.fix.applicability == "safe"


def test_gl301_message_names_inference_mode():
    (finding,) = lint(TORCH + "def predict(x):\n    return net(x)\n", "GL301")
    assert "torch.inference_mode()" in finding.message and "`predict()`" in finding.message


# -- GL302 --------------------------------------------------------------------------------
JOBLIB = "import joblib\nPATH = 'model.joblib'\n"


@pytest.mark.parametrize(
    ("argument", "flagged"),
    [
        ("'model.joblib'", True),
        ("PATH", True),
        ("f'{PATH}.bak'", True),
        ("os.path.join(FOLDER, 'm.joblib')", True),
        ("local", True),
        ("path", False),  # a parameter
        ("f'{path}.joblib'", False),
        ("self_path()", False),  # an unknown call may return anything
        ("CHANGING", False),  # rebound in a loop at module level
    ],
)
def test_gl302_arguments_that_do_not_change(argument, flagged):
    code = (
        "import os\nimport tempfile\n"
        + JOBLIB
        + dedent(
            f"""
        FOLDER = tempfile.mkdtemp()
        for CHANGING in ['a', 'b']:
            pass

        def self_path():
            return PATH

        def predict(path, x):
            local = 'model.joblib'
            return joblib.load({argument}).predict(x)
        """
        )
    )
    assert bool(rows(code, "GL302")) is flagged


def test_gl302_loop_invariance_is_per_loop():
    code = JOBLIB + dedent(
        """
        def run(path, rows):
            for row in rows:
                model = joblib.load(path)  # the same every iteration
            for name in rows:
                other = joblib.load(name)
            for i in range(3):
                path = f"{i}.joblib"
                third = joblib.load(path)
        """
    )
    assert rows(code, "GL302") == [5]


def test_gl302_loaders_that_only_return_and_setup_code():
    code = "import torch\n" + dedent(
        """
        def get_model():
            model = torch.load("m.pt")
            model.eval()
            return model

        def predict_pair():
            return torch.load("a.pt"), torch.load("b.pt")

        class Service:
            def __init__(self):
                self.model = torch.load("m.pt")

            def setup(self):
                self.other = torch.load("o.pt")

        for _ in range(3):
            get_model()
        """
    )
    assert rows(code, "GL302") == []


def test_gl302_lazy_loaders_load_once():
    code = JOBLIB + dedent(
        """
        _model = None

        def predict(x):
            global _model
            if _model is None:
                _model = joblib.load(PATH)
            return _model.predict(x)

        class Service:
            def predict(self, x, cache={}):
                if "m" not in cache:
                    cache["m"] = joblib.load(PATH)
                return cache["m"].predict(x)

            def serve(self, queue):
                while True:
                    if self.model is None:
                        self.model = joblib.load(PATH)
                    self.model.predict(queue.get())

        class Reloader:
            def predict(self, x):
                self.model = joblib.load(PATH)  # unconditional: every call
                return self.model.predict(x)
        """
    )
    assert rows(code, "GL302") == [25]


def test_gl302_django_views_only_in_views_py():
    code = JOBLIB + "def sentiment(request):\n    return joblib.load(PATH).predict([[1]])\n"
    assert rows(code, "GL302", path="app/views.py") == [4]
    assert rows(code, "GL302", path="app/utils.py") == []


def test_gl302_fix_for_a_method_goes_before_the_class_and_names_are_unique():
    code = JOBLIB + dedent(
        """
        _load_model = None


        class Service:
            def predict(self, x):
                model = joblib.load(PATH)
                return model.predict(x)
        """
    )
    result = fixed(code, "GL302")
    assert result == "import joblib\nimport functools\nPATH = 'model.joblib'\n" + dedent(
        """
        _load_model = None


        @functools.cache
        def _load_model_2():
            return joblib.load(PATH)


        class Service:
            def predict(self, x):
                model = _load_model_2()
                return model.predict(x)
        """
    )
    assert fixed(result, "GL302") == result


def test_gl302_one_loader_for_the_same_load_in_two_functions():
    code = JOBLIB + dedent(
        """
        def predict(x):
            return joblib.load(PATH).predict(x)


        def predict_proba(x):
            return joblib.load(PATH).predict_proba(x)
        """
    )
    result = fixed(code, "GL302")
    assert result.count("def _load_model():") == 1
    assert result.count("_load_model()") == 3


def test_gl302_no_fix_when_the_load_reads_local_names_or_sits_in_a_nested_function():
    local = JOBLIB + "def predict(x):\n    path = PATH\n    return joblib.load(path).predict(x)\n"
    (finding,) = lint(local, "GL302")
    assert finding.fix is None
    nested = (
        JOBLIB
        + "def outer():\n    def predict(x):\n        return joblib.load(PATH).predict(x)\n    return predict\n"
    )
    (finding,) = lint(nested, "GL302")
    assert finding.fix is None


def test_gl302_loop_case_is_advice_only():
    (finding,) = lint(JOBLIB + "for x in range(3):\n    joblib.load(PATH)\n", "GL302")
    assert finding.fix is None and "before the loop" in finding.message


# -- GL303 --------------------------------------------------------------------------------
DROPOUT = "import torch\nfrom torch import nn\nmodel = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.1))\n"


@pytest.mark.parametrize(
    "switch",
    [
        "model.eval()",
        "model.train(False)",
        "model.train(mode=False)",
        "model = model.eval()",
        "model.to('cpu').eval()",
    ],
)
def test_gl303_every_way_to_switch_to_eval(switch):
    code = DROPOUT + switch + "\nwith torch.no_grad():\n    model(torch.ones(1, 2))\n"
    assert rows(code, "GL303") == []
    assert rows(DROPOUT + "with torch.no_grad():\n    model(torch.ones(1, 2))\n", "GL303") == [5]


def test_gl303_switched_through_a_function_of_the_file():
    code = DROPOUT + dedent(
        """
        def prepare(module):
            module.eval()

        prepare(model)
        with torch.no_grad():
            model(torch.ones(1, 2))
        """
    )
    assert rows(code, "GL303") == []


def test_gl303_modules_whose_mode_does_not_matter():
    code = dedent(
        """
        import torch
        from torch import nn
        from transformers import AutoModel

        linear = nn.Linear(2, 2)
        bert = AutoModel.from_pretrained("bert-base-uncased")

        def predict(model, x):
            with torch.no_grad():
                return model(x)

        with torch.no_grad():
            linear(torch.ones(2))
            bert(torch.ones(1, 2, dtype=torch.long))
        """
    )
    assert rows(code, "GL303") == []


# -- GL304 --------------------------------------------------------------------------------
EAGER = "import torch\nfrom torch import nn\nmodel = nn.Sequential(nn.Linear(2, 2))\n"
LOOP = "with torch.no_grad():\n    for x in [torch.ones(2)]:\n        model(x)\n"


def test_gl304_flags_a_cpu_loop_and_mentions_quantisation_for_linear_models():
    (finding,) = lint(EAGER + LOOP, "GL304")
    assert finding.severity == "info"
    assert "quantize_dynamic" in finding.message and "measure" in finding.message


@pytest.mark.parametrize(
    "extra",
    [
        "device = 'cuda'\n",
        "model.to('mps')\n",
        "fast = torch.compile(model)\n",
        "import onnxruntime\n",
        "q = torch.ao.quantization.quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8)\n",
    ],
)
def test_gl304_not_for_accelerators_or_optimised_models(extra):
    assert rows(EAGER + extra + LOOP, "GL304") == []


def test_gl304_not_for_a_single_call_or_training():
    assert rows(EAGER + "model(torch.ones(2))\n", "GL304") == []
    training = EAGER + "for x in [torch.ones(2)]:\n    model(x).sum().backward()\n"
    assert rows(training, "GL304") == []


# -- GL401 --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("constraint", "poetry", "below"),
    [
        ("==1.13.1", False, True),
        ("==2.0.0", False, False),
        ("==2.0.0rc1", False, False),
        ("<2", False, True),
        ("<2.0.0a0", False, True),
        ("<2.1", False, False),
        ("<=1.13.1", False, True),
        ("<=2.0", False, False),
        ("~=1.5", False, True),
        ("~=1.5.0", False, True),
        ("~=2.0", False, False),
        (">=1.0,<1.5", False, True),
        (">=1.5", False, False),
        ("!=1.5", False, False),
        ("==1.*", False, True),
        ("==2.*", False, False),
        ("", False, False),
        ("^1.13", True, True),
        ("^2.0", True, False),
        ("~1.13", True, True),
        ("1.13", True, True),
        ("*", True, False),
        ("^1.0 || ^2.0", True, False),
        ("^1.0 || ^1.5", True, True),
    ],
)
def test_gl401_versions_kept_below_the_first_good_release(constraint, poetry, below):
    assert _keeps_below(constraint, (2, 0), poetry) is below


def test_gl401_numpy_threshold_has_two_components():
    assert _keeps_below("==1.21.6", (1, 22), False)
    assert not _keeps_below("==1.22.0", (1, 22), False)
    assert _keeps_below("^0.24", (1, 0), True)


def _requirements(text: str, name: str = "requirements.txt"):
    text = dedent(text) if text.startswith("\n") else text
    source = load_source(Path(name), name, text.encode("utf-8"))
    return lint_source(source, LintSettings(rules=select_rules(["GL401"])))


def test_gl401_spans_point_at_the_requirement():
    (finding,) = _requirements("  numpy==1.21.0 ; python_version < '3.10'  # old\n")
    assert (finding.location.row, finding.location.column) == (1, 3)
    assert finding.end_location.column == 3 + len("numpy==1.21.0 ; python_version < '3.10'")
    (finding,) = _requirements('[project]\ndependencies = ["pandas<2"]\n', "pyproject.toml")
    assert (finding.location.row, finding.location.column, finding.end_location.column) == (2, 18, 26)


def test_gl401_reads_only_dependency_tables_of_pyproject():
    text = """
        [build-system]
        requires = ["torch<2"]

        [project]
        name = "x"
        keywords = ["torch<2"]
        dependencies = [
            'torch<2',  # a comment with "pandas<2"
        ]

        [tool.poetry.group.gpu.dependencies]
        tensorflow-gpu = "1.15"
        torch = { version = "^2.1", optional = true }

        [tool.black]
        torch = "1.0"
    """
    found = [(f.location.row, f.message.split("`")[1]) for f in _requirements(text, "pyproject.toml")]
    assert found == [(8, "torch<2"), (12, 'tensorflow-gpu = "1.15"')]


def test_gl401_files_are_read_as_requirements():
    for name in ("requirements.txt", "requirements-dev.txt", "pyproject.toml", "setup.cfg"):
        assert load_source(Path(name), name, b"torch==1.0\n").kind == "requirements"


def test_gl401_message_names_what_the_new_release_brings():
    (finding,) = _requirements("pandas==1.5.3\n")
    assert "pyarrow" in finding.message and "copy-on-write" in finding.message
    (finding,) = _requirements("Scikit_Learn==0.24.2\n")
    assert "HistGradientBoosting" in finding.message


def test_gl301_fix_imports_torch_when_only_another_function_does():
    code = dedent(
        """
        from torch import nn
        net = nn.Linear(2, 1)

        def helper():
            import torch
            return torch.ones(2)

        def predict(x):
            return net(x)
        """
    )
    result = fixed(code, "GL301")
    assert "\nimport torch\n" in result
    assert "@torch.no_grad()\ndef predict(x):" in result


def test_gl301_evaluation_inside_the_training_loop_and_predictions_after_it():
    # The evaluation inside the training loop and the prediction after it are two blocks,
    # one finding each; a prediction, a print and a second prediction are one block.
    code = TORCH + dedent(
        """
        opt = torch.optim.SGD(net.parameters(), lr=0.1)
        for step in range(100):
            loss = net(torch.ones(2)).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
            if step % 10 == 0:
                print(net(torch.zeros(2)).max(0)[1].data.numpy())
                print(net(torch.ones(2)).max(0)[1].data.numpy())
        first = net(torch.zeros(2))
        print(first.item())
        second = net(torch.ones(2))
        """
    )
    assert rows(code, "GL301") == [11, 13]
