"""GL101 train-from-scratch and GL102 no-early-stopping: options, fixes of the libraries that
are not installed where the fixtures run (torchvision, timm, keras, transformers), and the
cases the fixture files do not show."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from green_lint.engine import LintSettings, lint_source
from green_lint.fix import fix_source
from green_lint.registry import rule_by_code, select_rules
from green_lint.source import load_source


def _source(code: str):
    return load_source(Path("example.py"), "example.py", textwrap.dedent(code).encode())


def lint(code: str, rule: str, options: dict | None = None) -> list:
    settings = LintSettings(rules=select_rules([rule]), rule_options={rule: options} if options else {})
    return lint_source(_source(code), settings)


def rows(code: str, rule: str, options: dict | None = None) -> list[int]:
    return [finding.location.row for finding in lint(code, rule, options)]


def fixed(code: str, rule: str) -> str:
    settings = LintSettings(rules=select_rules([rule]))
    text = fix_source(_source(code), settings, unsafe=True).text
    again = fix_source(_source(text), settings, unsafe=True).text
    assert again == text, "a second --fix must change nothing"
    return text


# -- the rules' docs and settings --------------------------------------------------------
@pytest.mark.parametrize("code", ["GL101", "GL102"])
def test_fixes_are_unsafe(code):
    assert rule_by_code(code).fix_safety == "unsafe"


def test_gl102_declares_its_options():
    assert rule_by_code("GL102").options == {"min-epochs": 10, "min-rounds": 100}


# -- GL102 options -----------------------------------------------------------------------
TORCH_LOOP = """\
import torch
model = torch.nn.Linear(2, 1)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for epoch in range(30):
    optimizer.zero_grad()
    model(torch.ones(1, 2)).sum().backward()
    optimizer.step()
"""


def test_min_epochs_raises_and_lowers_the_epoch_threshold():
    assert rows(TORCH_LOOP, "GL102") == [4]
    assert rows(TORCH_LOOP, "GL102", {"min-epochs": 50}) == []
    assert rows(TORCH_LOOP, "GL102", {"min-epochs": 30}) == [4]


def test_min_epochs_applies_to_keras_lightning_transformers_and_sklearn_epochs():
    keras_fit = "import keras\nmodel.fit(x, y, epochs=20)\n"
    assert rows(keras_fit, "GL102") == [2]
    assert rows(keras_fit, "GL102", {"min-epochs": 21}) == []
    lightning = "import lightning as L\ntrainer = L.Trainer(max_epochs=20)\n"
    assert rows(lightning, "GL102", {"min-epochs": 50}) == []
    mlp = "from sklearn.neural_network import MLPClassifier\nMLPClassifier()\n"
    assert rows(mlp, "GL102") == [2]
    assert rows(mlp, "GL102", {"min-epochs": 500}) == []
    # transformers' default of 3 epochs counts once the threshold is that low.
    hf = "from transformers import Trainer, TrainingArguments\nTrainer(None, TrainingArguments('out'))\n"
    assert rows(hf, "GL102") == []
    assert rows(hf, "GL102", {"min-epochs": 3}) == [2]


def test_min_rounds_applies_to_boosting_and_library_defaults():
    boosting = """\
    import xgboost as xgb
    from sklearn.ensemble import GradientBoostingClassifier
    from catboost import CatBoostClassifier
    xgb.XGBClassifier(n_estimators=500)
    GradientBoostingClassifier(n_estimators=50)
    CatBoostClassifier()
    xgb.train({}, dtrain)
    """
    assert rows(boosting, "GL102") == [4, 6]
    assert rows(boosting, "GL102", {"min-rounds": 50}) == [4, 5, 6]
    assert rows(boosting, "GL102", {"min-rounds": 600}) == [6]
    assert rows(boosting, "GL102", {"min-rounds": 5}) == [4, 5, 6, 7]  # xgb.train: 10 by default


# -- GL102: budgets ------------------------------------------------------------------------
def loop(header: str, prelude: str = "") -> str:
    return "import torch\n" + prelude + f"{header}\n" + "    loss.backward()\n" + "    optimizer.step()\n"


@pytest.mark.parametrize(
    ("prelude", "header", "flagged"),
    [
        ("", "for epoch in range(1, 21):", True),
        ("", "for epoch in range(0, 40, 4):", True),
        ("", "for epoch in range(0, 20, 4):", False),
        ("N = 10\n", "for epoch in range(N * 2):", True),
        ("config = {'epochs': 25}\n", "for epoch in range(config['epochs']):", True),
        (
            "config = {'epochs': 25}\nconfig.update(epochs=2)\n",
            "for epoch in range(config['epochs']):",
            False,
        ),
        (
            "import argparse\np = argparse.ArgumentParser()\np.add_argument('--num-epochs', type=int, default=12)\n"
            "args = p.parse_args()\n",
            "for epoch in range(args.num_epochs):",
            True,
        ),
        (
            "import argparse\np = argparse.ArgumentParser()\np.add_argument('-e', dest='n', default=40)\n"
            "opts = p.parse_args()\n",
            "for epoch in range(opts.n):",
            True,
        ),
        ("import argparse\nargs = object()\n", "for epoch in range(args.epochs):", False),
        ("from tqdm import tqdm\n", "for epoch in tqdm(range(50)):", True),
        ("from tqdm.auto import trange\n", "for epoch in trange(50, desc='train'):", True),
        ("", "for epoch in range(epochs):", False),
    ],
)
def test_epoch_budgets_resolve_or_stay_unflagged(prelude, header, flagged):
    code = loop(header, prelude)
    expected_row = code.splitlines().index(header) + 1
    assert rows(code, "GL102") == ([expected_row] if flagged else [])


def test_loop_needs_torch_backward_and_an_optimizer_step():
    assert rows(loop("for epoch in range(20):"), "GL102") == [2]
    no_torch = loop("for epoch in range(20):").replace("import torch\n", "import numpy\n")
    assert rows(no_torch, "GL102") == []
    scheduler_only = "import torch\nfor epoch in range(20):\n    loss.backward()\n    scheduler.step()\n"
    assert rows(scheduler_only, "GL102") == []
    scaler = (
        "import torch\nfor epoch in range(20):\n    scaler.scale(loss).backward()\n    scaler.step(opt)\n"
    )
    assert rows(scaler, "GL102") == [2]


def test_nested_loops_flag_the_epoch_loop_only():
    steps_inside = """\
    import torch
    for epoch in range(EPOCHS):
        for step in range(100):
            loss.backward()
            optimizer.step()
    """
    assert rows(steps_inside, "GL102") == []  # the inner loop is the steps of an epoch
    sweep = """\
    import torch
    for lr in [0.1, 0.01]:
        for i in range(100):
            loss.backward()
            optimizer.step()
    """
    assert rows(sweep, "GL102") == [3]
    named = """\
    import torch
    for seed in seeds:
        for epoch in range(100):
            loss.backward()
            optimizer.step()
    """
    assert rows(named, "GL102") == [3]


def test_a_loop_in_a_function_called_per_epoch_is_the_steps_of_an_epoch():
    code = """\
    import torch

    def run_steps():
        for i in range(200):
            loss.backward()
            optimizer.step()

    for epoch in range(20):
        run_steps()
    """
    assert rows(code, "GL102") == [8]


@pytest.mark.parametrize(
    "stop",
    [
        "if val_loss > best_loss:\n        break",
        "if early_stopper.early_stop:\n        break",
        "if trial.should_prune():\n        raise optuna.TrialPruned()",
        "if bad > 3:\n        return model",
        "break",
    ],
)
def test_a_validation_based_stop_is_early_stopping(stop):
    code = (
        "import torch\n\ndef train(model):\n    bad = no_improvement(val_score)\n"
        "    for epoch in range(50):\n        loss.backward()\n        optimizer.step()\n"
        + textwrap.indent(stop, "        ")
        + "\n"
    )
    assert rows(code, "GL102") == []


def test_a_stop_on_an_exception_or_a_debug_flag_is_not_early_stopping():
    code = """\
    import torch
    for epoch in range(50):
        try:
            loss.backward()
            optimizer.step()
        except KeyboardInterrupt:
            break
        if args.dry_run:
            break
    """
    assert rows(code, "GL102") == [2]


# -- GL102: trainers ------------------------------------------------------------------------
def test_lightning_stops_when_the_module_sets_should_stop():
    code = """\
    import lightning.pytorch as pl

    class Module(pl.LightningModule):
        def on_validation_epoch_end(self):
            if self.trainer.callback_metrics["val_loss"] < 0.1:
                self.trainer.should_stop = True

    pl.Trainer(max_epochs=100).fit(Module())
    """
    assert rows(code, "GL102") == []


def test_lightning_default_budget_counts_only_when_fit():
    assert rows("import pytorch_lightning as pl\npl.Trainer().fit(model)\n", "GL102") == [2]
    assert rows("import pytorch_lightning as pl\npl.Trainer(max_time='00:01:00').fit(model)\n", "GL102") == []


def test_transformers_message_names_what_early_stopping_needs():
    code = """\
    from transformers import Trainer, TrainingArguments
    args = TrainingArguments("out", num_train_epochs=10)
    Trainer(model, args)
    """
    (finding,) = lint(code, "GL102")
    for needed in ("EarlyStoppingCallback", "load_best_model_at_end=True", "metric_for_best_model"):
        assert needed in finding.message
    assert "eval_strategy" in finding.message and "evaluation_strategy" in finding.message


def test_lightgbm_parameters_followed_through_a_variable():
    code = """\
    import lightgbm as lgb
    params = {"objective": "binary"}
    params["early_stopping_round"] = 10
    lgb.train(params, data)
    other = {"objective": "binary", "n_iter_no_change": 5}
    lgb.train(other, data, num_boost_round=500)
    """
    assert rows(code, "GL102") == []


def test_sklearn_mlp_and_sgd_fix_replaces_an_explicit_false():
    code = """\
    from sklearn.linear_model import SGDRegressor
    model = SGDRegressor(early_stopping=False, max_iter=100)
    """
    assert "SGDRegressor(early_stopping=True, max_iter=100)" in fixed(code, "GL102")


def test_sgd_without_tolerance_gets_advice_not_a_fix():
    code = "from sklearn.linear_model import SGDClassifier\nSGDClassifier(tol=None)\n"
    (finding,) = lint(code, "GL102")
    assert finding.fix is None and "tol=None" in finding.message


def test_gradient_boosting_fix_sets_n_iter_no_change():
    code = "from sklearn.ensemble import GradientBoostingRegressor\nm = GradientBoostingRegressor(n_iter_no_change=None)\n"
    assert "GradientBoostingRegressor(n_iter_no_change=10)" in fixed(code, "GL102")


# -- GL102: the Keras fix -------------------------------------------------------------------
CALLBACK_ARGS = '(monitor="val_loss", patience=5, restore_best_weights=True)'


@pytest.mark.parametrize(
    ("imports", "spelled"),
    [
        ("import keras\n", "keras.callbacks.EarlyStopping"),
        ("from tensorflow import keras\n", "keras.callbacks.EarlyStopping"),
        ("import tensorflow as tf\n", "tf.keras.callbacks.EarlyStopping"),
        ("import tf_keras as tfk\n", "tfk.callbacks.EarlyStopping"),
        ("from keras import callbacks as cb\n", "cb.EarlyStopping"),
        ("from tensorflow.keras.callbacks import EarlyStopping as ES, TensorBoard\n", "ES"),
    ],
)
def test_keras_fix_uses_the_files_own_spelling(imports, spelled):
    code = imports + "model.fit(x, y, epochs=40, validation_split=0.2)\n"
    result = fixed(code, "GL102")
    assert (
        result
        == imports
        + f"model.fit(x, y, epochs=40, validation_split=0.2, callbacks=[{spelled}{CALLBACK_ARGS}])\n"
    )


def test_keras_fix_adds_the_import_once_for_several_fits():
    code = """\
    \"\"\"Doc.\"\"\"
    import numpy as np
    from tensorflow.keras import layers

    model.fit(x, y, epochs=40, validation_data=(xv, yv))
    model.fit(x, y, epochs=40, validation_split=0.1)
    """
    result = fixed(code, "GL102")
    assert result.count("from tensorflow.keras.callbacks import EarlyStopping\n") == 1
    assert result.index("from tensorflow.keras.callbacks") > result.index(
        "from tensorflow.keras import layers"
    )
    assert result.count(f"callbacks=[EarlyStopping{CALLBACK_ARGS}]") == 2


def test_keras_fix_appends_to_a_literal_callback_list_and_keeps_the_layout():
    code = """\
    import keras
    model.fit(
        x,
        y,
        epochs=40,
        validation_split=0.2,
        callbacks=[
            keras.callbacks.TensorBoard("logs"),
        ],
    )
    """
    result = fixed(code, "GL102")
    assert result == textwrap.dedent(
        f"""\
        import keras
        model.fit(
            x,
            y,
            epochs=40,
            validation_split=0.2,
            callbacks=[
                keras.callbacks.TensorBoard("logs"),
                keras.callbacks.EarlyStopping{CALLBACK_ARGS},
            ],
        )
        """
    )


def test_keras_no_fix_without_validation_data_or_with_a_callback_variable():
    code = """\
    import keras
    model.fit(x, y, epochs=40)
    model.fit(x, y, epochs=40, validation_split=0.0)
    cbs = [keras.callbacks.TensorBoard("logs")]
    model.fit(x, y, epochs=40, validation_split=0.2, callbacks=cbs)
    """
    findings = lint(code, "GL102")
    assert [f.location.row for f in findings] == [2, 3, 5]
    assert all(f.fix is None for f in findings)
    assert "validation_data=" in findings[0].message


def test_fit_with_epochs_is_not_keras_without_a_keras_import():
    assert rows("import torch\ntrainer.fit(model, epochs=50)\n", "GL102") == []


# -- GL101: fixes ---------------------------------------------------------------------------
TRAIN = "torch.optim.SGD(model.parameters(), lr=0.1)\n"


@pytest.mark.parametrize(
    ("build", "after"),
    [
        ("models.resnet50()", 'models.resnet50(weights="DEFAULT")'),
        ("models.resnet50(progress=False)", 'models.resnet50(progress=False, weights="DEFAULT")'),
        ("models.resnet50(pretrained=False)", 'models.resnet50(weights="DEFAULT")'),
        ("models.resnet50(False)", 'models.resnet50(weights="DEFAULT")'),
        ("models.resnet50(weights=None, progress=True)", 'models.resnet50(weights="DEFAULT", progress=True)'),
        ('models.get_model("vit_b_16")', 'models.get_model("vit_b_16", weights="DEFAULT")'),
        ("models.__dict__[arch]()", 'models.__dict__[arch](weights="DEFAULT")'),
        ("models.resnet50(num_classes=1000)", 'models.resnet50(num_classes=1000, weights="DEFAULT")'),
    ],
)
def test_torchvision_fix_loads_the_default_weights(build, after):
    code = f"import torch\nfrom torchvision import models\nmodel = {build}\n{TRAIN}"
    assert fixed(code, "GL101") == f"import torch\nfrom torchvision import models\nmodel = {after}\n{TRAIN}"


def test_torchvision_fix_keeps_a_multiline_layout():
    code = """\
    import torch
    import torchvision
    model = torchvision.models.vgg16(
        progress=False,
    )
    torch.optim.SGD(model.parameters(), lr=0.1)
    """
    assert fixed(code, "GL101") == textwrap.dedent(
        """\
        import torch
        import torchvision
        model = torchvision.models.vgg16(
            progress=False,
            weights="DEFAULT",
        )
        torch.optim.SGD(model.parameters(), lr=0.1)
        """
    )


@pytest.mark.parametrize(
    ("build", "hint"),
    [
        ("resnet50(num_classes=10)", "model.fc = nn.Linear(model.fc.in_features, 10)"),
        ("vgg16(num_classes=10)", "model.classifier[6] = nn.Linear(model.classifier[6].in_features, 10)"),
        ("vit_b_16(num_classes=10)", "model.heads.head = nn.Linear(model.heads.head.in_features, 10)"),
        ("efficientnet_b0(num_classes=10)", "model.classifier[-1] = nn.Linear("),
        ("resnet50(norm_layer=None)", "check that `norm_layer` keeps the architecture"),
    ],
)
def test_torchvision_head_change_gets_advice_not_a_fix(build, hint):
    code = f"import torch\nfrom torchvision.models import *\nmodel = {build}\n{TRAIN}"
    (finding,) = lint(code, "GL101")
    assert finding.fix is None
    assert hint in finding.message


def test_detection_builders_are_flagged_only_without_backbone_weights():
    base = (
        "import torch\nfrom torchvision.models.detection import maskrcnn_resnet50_fpn\nmodel = {}\n" + TRAIN
    )
    assert rows(base.format("maskrcnn_resnet50_fpn()"), "GL101") == []
    assert rows(base.format("maskrcnn_resnet50_fpn(weights=None, num_classes=3)"), "GL101") == []
    assert rows(base.format("maskrcnn_resnet50_fpn(weights_backbone=None)"), "GL101") == [3]
    assert rows(base.format("maskrcnn_resnet50_fpn(pretrained_backbone=False)"), "GL101") == [3]


@pytest.mark.parametrize(
    ("build", "after"),
    [
        ('timm.create_model("resnet50")', 'timm.create_model("resnet50", pretrained=True)'),
        (
            'timm.create_model("resnet50", pretrained=False, num_classes=3)',
            'timm.create_model("resnet50", pretrained=True, num_classes=3)',
        ),
        ('timm.create_model("resnet50", False)', 'timm.create_model("resnet50", True)'),
    ],
)
def test_timm_fix_sets_pretrained(build, after):
    code = f"import timm\nimport torch\nmodel = {build}\n{TRAIN}"
    assert fixed(code, "GL101") == f"import timm\nimport torch\nmodel = {after}\n{TRAIN}"


@pytest.mark.parametrize(
    ("build", "after"),
    [
        (
            'torch.hub.load("pytorch/vision", "resnet18")',
            'torch.hub.load("pytorch/vision", "resnet18", weights="DEFAULT")',
        ),
        (
            'torch.hub.load("pytorch/vision", "resnet18", pretrained=False)',
            'torch.hub.load("pytorch/vision", "resnet18", weights="DEFAULT")',
        ),
        (
            'torch.hub.load("ultralytics/yolov5", "yolov5s", pretrained=False)',
            'torch.hub.load("ultralytics/yolov5", "yolov5s", pretrained=True)',
        ),
        (
            'torch.hub.load("org/repo", "net", weights=None, trust_repo=True)',
            'torch.hub.load("org/repo", "net", weights="DEFAULT", trust_repo=True)',
        ),
    ],
)
def test_torch_hub_fix_loads_the_weights(build, after):
    code = f"import torch\nmodel = {build}\n{TRAIN}"
    assert fixed(code, "GL101") == f"import torch\nmodel = {after}\n{TRAIN}"


def test_torch_hub_with_entry_point_arguments_gets_no_fix():
    code = f'import torch\nmodel = torch.hub.load("pytorch/vision", "resnet50", num_classes=10)\n{TRAIN}'
    [finding] = lint(code, "GL101")
    assert "replace the head after loading" in finding.message
    assert finding.fix is None


KERAS_FIT = "model.fit(x, y, epochs=3)\n"


@pytest.mark.parametrize(
    ("build", "after"),
    [
        ("keras.applications.ResNet50(weights=None)", 'keras.applications.ResNet50(weights="imagenet")'),
        (
            "keras.applications.ResNet50(include_top=False, weights=None, input_shape=(64, 64, 3))",
            'keras.applications.ResNet50(include_top=False, weights="imagenet", input_shape=(64, 64, 3))',
        ),
        ("keras.applications.ResNet50(False, None)", 'keras.applications.ResNet50(False, "imagenet")'),
    ],
)
def test_keras_applications_fix_loads_imagenet(build, after):
    code = f"import keras\nmodel = {build}\n{KERAS_FIT}"
    assert fixed(code, "GL101") == f"import keras\nmodel = {after}\n{KERAS_FIT}"


@pytest.mark.parametrize(
    ("build", "advice"),
    [
        ("keras.applications.ResNet50(weights=None, classes=10)", "include_top=False"),
        ("keras.applications.ResNet50(weights=None, input_shape=(32, 32, 3))", "default input size"),
        ("keras.applications.ResNet50(weights=None, include_top=False, input_shape=(32, 32, 1))", "3 input"),
    ],
)
def test_keras_applications_head_change_gets_advice_not_a_fix(build, advice):
    (finding,) = lint(f"import keras\nmodel = {build}\n{KERAS_FIT}", "GL101")
    assert finding.fix is None and advice in finding.message


def test_transformers_from_config_becomes_from_pretrained():
    code = """\
    from transformers import AutoConfig, AutoModelForCausalLM, Trainer
    config = AutoConfig.from_pretrained("gpt2")
    model = AutoModelForCausalLM.from_config(config, torch_dtype="auto")
    Trainer(model=model).train()
    """
    assert 'model = AutoModelForCausalLM.from_pretrained("gpt2", torch_dtype="auto")' in fixed(code, "GL101")


def test_transformers_fix_keeps_a_config_that_sets_the_labels():
    code = """\
    import torch
    import transformers
    name = "roberta-base"
    config = transformers.AutoConfig.from_pretrained(name, num_labels=3)
    model = transformers.RobertaForSequenceClassification(config)
    torch.optim.AdamW(model.parameters())
    """
    expected = "model = transformers.RobertaForSequenceClassification.from_pretrained(name, config=config)"
    assert expected in fixed(code, "GL101")


def test_transformers_no_fix_when_the_config_is_in_another_scope():
    code = """\
    import torch
    from transformers import AutoConfig, AutoModel
    config = AutoConfig.from_pretrained("bert-base-uncased")

    def train():
        model = AutoModel.from_config(config)
        torch.optim.AdamW(model.parameters())
    """
    (finding,) = lint(code, "GL101")
    assert finding.location.row == 6 and finding.fix is None


# -- GL101: what "trained" means ------------------------------------------------------------
@pytest.mark.parametrize(
    "use",
    [
        "opt = torch.optim.SGD(model.parameters(), lr=0.1)",
        "params = [p for p in model.parameters() if p.requires_grad]\nopt = torch.optim.SGD(params, lr=0.1)",
        "model = model.cuda()\nmodel.train()",
        "net = torch.nn.DataParallel(model)\nnet.train()",
        "import lightning as L\nL.Trainer().fit(Wrapper(model))",
        "optimizer.apply_gradients(zip(grads, model.trainable_variables))",
        "from timm.optim import create_optimizer_v2\ncreate_optimizer_v2(model, 'adamw')",
    ],
)
def test_training_evidence_follows_the_model(use):
    code = f"import torch\nfrom torchvision import models\nmodel = models.resnet18()\n{use}\n"
    assert rows(code, "GL101") == [3]


@pytest.mark.parametrize(
    "use",
    [
        "torch.jit.script(model).save('m.pt')",
        "print(sum(p.numel() for p in model.parameters()))",
        "model.eval()\nmodel.train(False)",
        "other = torch.nn.Linear(2, 2)\ntorch.optim.SGD(other.parameters(), lr=0.1)",
        "model.load_state_dict(state)\ntorch.optim.SGD(model.parameters(), lr=0.1)",
        "model.module.load_state_dict(state)\ntorch.optim.SGD(model.parameters(), lr=0.1)",
        "import lightning as L\nL.Trainer().fit(model, ckpt_path='last.ckpt')",
        "from safetensors.torch import load_model\nload_model(model, 'm.safetensors')\nmodel.train()",
    ],
)
def test_no_training_or_loaded_weights_is_not_flagged(use):
    code = f"import torch\nfrom torchvision import models\nmodel = models.resnet18()\n{use}\n"
    assert rows(code, "GL101") == []


def test_model_returned_by_a_method_and_trained_in_a_lightning_module():
    code = """\
    import lightning.pytorch as pl
    import torch
    from torchvision import models

    class Module(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.net = self.build()

        def build(self):
            return models.resnet34()

        def configure_optimizers(self):
            return torch.optim.Adam(self.parameters())
    """
    assert rows(code, "GL101") == [11]


def test_a_function_offering_pretrained_or_not_is_the_users_choice():
    code = """\
    import torch
    from torchvision import models

    def build(pretrained):
        if pretrained:
            return models.resnet18(weights="DEFAULT")
        return models.resnet18()

    model = build(False)
    torch.optim.SGD(model.parameters(), lr=0.1)
    """
    assert rows(code, "GL101") == []


def test_files_without_the_libraries_are_not_parsed_for_gl101():
    assert rows("def resnet50():\n    pass\nmodel = resnet50()\nmodel.train()\n", "GL101") == []


def test_keras_fix_pairs_the_callback_with_the_models_keras():
    code = """\
    import keras
    import tensorflow as tf
    import tf_keras
    a = keras.Sequential()
    a.fit(x, y, epochs=40, validation_split=0.2)
    b = tf.keras.Sequential()
    b.fit(x, y, epochs=40, validation_split=0.2)
    c = tf_keras.Sequential()
    c.fit(x, y, epochs=40, validation_split=0.2)
    """
    result = fixed(code, "GL102")
    assert (
        f"a.fit(x, y, epochs=40, validation_split=0.2, callbacks=[keras.callbacks.EarlyStopping{CALLBACK_ARGS}])"
        in result
    )
    assert f"callbacks=[tf.keras.callbacks.EarlyStopping{CALLBACK_ARGS}]" in result
    assert f"callbacks=[tf_keras.callbacks.EarlyStopping{CALLBACK_ARGS}]" in result


def test_a_lightning_module_restored_from_a_checkpoint_is_loaded():
    code = """\
    import lightning.pytorch as pl
    import torch
    from torchvision import models

    class Module(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.net = models.resnet18()

        def configure_optimizers(self):
            return torch.optim.Adam(self.parameters())

    module = Module.load_from_checkpoint("last.ckpt")
    pl.Trainer().fit(module)
    """
    assert rows(code, "GL101") == []


# -- budgets the semantic model resolves --------------------------------------------------
_TORCH_STEP = """
import torch
from torch import nn
model = nn.Linear(2, 1)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
def step():
    optimizer.zero_grad()
    model(torch.ones(2)).sum().backward()
    optimizer.step()
"""


def test_gl102_a_budget_reassigned_between_two_runs_resolves_at_each():
    code = (
        "from tensorflow import keras\n"
        "model = keras.Sequential([keras.layers.Dense(1)])\n"
        "n = 5\n"
        "model.fit(x, y, epochs=n)\n"
        "n = 30\n"
        "model.fit(x, y, epochs=n)\n"
    )
    assert rows(code, "GL102") == [6]


def test_gl102_budgets_from_parameter_defaults_call_sites_and_self_attributes():
    code = textwrap.dedent(_TORCH_STEP) + textwrap.dedent(
        """
        def train(epochs=1000):
            for epoch in range(epochs):
                step()

        class Runner:
            def __init__(self):
                self.num_epochs = 50

            def run(self):
                for epoch in range(self.num_epochs):
                    step()

        def short(epochs=3):
            for epoch in range(epochs):
                step()

        train()
        train(epochs=1000)
        short()
        """
    )
    lines = code.splitlines()
    loops = [number for number, line in enumerate(lines, 1) if line.strip().startswith("for epoch in range(")]
    # train()'s 1000 epochs and Runner's 50 are flagged; short()'s 3 are below the threshold.
    assert rows(code, "GL102") == loops[:2]


def test_gl102_names_the_unit_and_gives_reinforcement_learning_its_own_advice():
    code = textwrap.dedent(_TORCH_STEP) + textwrap.dedent(
        """
        for i_episode in range(500):
            step()
        for step_index in range(5000):
            step()
        """
    )
    episodes, steps = lint(code, "GL102")
    assert episodes.message.startswith("This loop trains all 500 episodes with no stop on the return")
    assert "validation" not in episodes.message
    assert steps.message.startswith("This loop trains all 5000 steps with no validation-based stop")
