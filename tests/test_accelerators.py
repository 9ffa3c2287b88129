"""One notion of "this code runs on an accelerator" (rules/_accelerator.py), read by GL105
(mixed precision) and GL304 (eager CPU inference), and GL105's library trainers
(Lightning, Hugging Face)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from green_lint.engine import LintSettings, lint_source
from green_lint.registry import select_rules
from green_lint.source import load_source


def lint(code: str, source: str):
    text = textwrap.dedent(source)
    loaded = load_source(Path("example.py"), "example.py", text.encode("utf-8"))
    return lint_source(loaded, LintSettings(rules=select_rules([code])))


# -- device expressions (GL105 training loops) ----------------------------------------------------
TRAINING = """
import argparse
import torch
rank = 0
DEVICE = {device}
model = torch.nn.Linear(4, 1).to(DEVICE)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for inputs in loader:
    optimizer.zero_grad()
    model(inputs).sum().backward()
    optimizer.step()
"""

ACCELERATOR_DEVICES = [
    "torch.accelerator.current_accelerator()",
    'torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"',
    'torch.device("cuda:{}".format(rank))',
    'torch.device(f"cuda:{rank}")',
    '"cuda:%d" % rank',
    '"cuda:" + str(rank)',
    "torch.device(0)",
    "torch.cuda.current_device()",
    '"cuda" if torch.cuda.is_available() else "cpu"',
    'torch.device("cuda", rank)',
]


@pytest.mark.parametrize("device", ACCELERATOR_DEVICES)
def test_gl105_reads_every_accelerator_spelling(device):
    [finding] = lint("GL105", TRAINING.format(device=device))
    assert finding.location.row == 8
    assert 'device_type="cuda"' in finding.message


CPU_DEVICES = ['"cpu"', 'torch.device("cpu")', 'f"{kind}:0"', "torch.device(-1 + 1 if False else 'cpu')"]


@pytest.mark.parametrize("device", CPU_DEVICES)
def test_gl105_leaves_cpu_and_unknown_devices_alone(device):
    assert lint("GL105", "kind = 'cpu'\n" + TRAINING.format(device=device)) == []


def test_gl105_names_the_accelerator_autocast_takes():
    [finding] = lint("GL105", TRAINING.format(device='"mps"'))
    assert finding.message.startswith("This MPS training loop runs in full float32")
    assert 'device_type="mps"' in finding.message


@pytest.mark.parametrize(
    "placement",
    [
        "model.cuda()",
        "model.to(device=DEVICE)",
        "batch = torch.zeros(2, 4, device=DEVICE)",
        "torch.set_default_device(DEVICE)",
        "state = torch.load('m.pt', map_location=DEVICE)",
    ],
)
def test_gl105_every_way_of_moving_work_counts(placement):
    source = TRAINING.format(device='"cuda"').replace(".to(DEVICE)", "") + placement + "\n"
    assert len(lint("GL105", source)) == 1


def test_gl105_a_device_kept_on_self():
    source = """
    import torch
    class Runner:
        def __init__(self, model):
            self.device = "cuda" if torch.cuda.is_available() else "cpu"
            self.model = model.to(self.device)
        def fit(self, loader, optimizer):
            for inputs in loader:
                optimizer.zero_grad()
                self.model(inputs.to(self.device)).sum().backward()
                optimizer.step()
    """
    assert [f.location.row for f in lint("GL105", source)] == [8]
    assert lint("GL105", source.replace('"cuda" if torch.cuda.is_available() else "cpu"', '"cpu"')) == []


@pytest.mark.parametrize(
    ("default", "flagged"),
    [('"cuda"', True), ('"cuda:0"', True), ('"cpu"', False)],
)
def test_gl105_an_argparse_device_read_through_a_parameter(default, flagged):
    source = f"""
    import argparse
    import torch
    def main(args):
        model = torch.nn.Linear(4, 1).to(args.device)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        for inputs in loader:
            optimizer.zero_grad()
            model(inputs).sum().backward()
            optimizer.step()
    if __name__ == "__main__":
        parser = argparse.ArgumentParser()
        parser.add_argument("--device", default={default})
        main(parser.parse_args())
    """
    assert len(lint("GL105", source)) == (1 if flagged else 0)


def test_gl105_mentions_of_cuda_are_not_placements():
    source = TRAINING.format(device='"cpu"') + 'print("cuda:", torch.cuda.is_available())  # cuda\n'
    assert lint("GL105", source) == []


# -- GL304: never "on the CPU" for accelerator code -----------------------------------------------
INFERENCE = """
import argparse
import torch
from torch import nn
model = nn.Sequential(nn.Linear(2, 2))
{extra}
with torch.no_grad():
    for x in [torch.ones(2)]:
        model(x)
"""


@pytest.mark.parametrize(
    "extra",
    [
        "model.to(torch.accelerator.current_accelerator())",
        "device = torch.accelerator.current_accelerator().type\nmodel.to(device)",
        'model.to(torch.device("cuda:{}".format(0)))',
        'model.to(f"cuda:{0}")',
        "model.cuda()",
        'device = "cuda"',
        'model = AutoModel.from_pretrained("bert", device_map="auto")',
        "torch.cuda.synchronize()",
        "batch_type = torch.cuda.FloatTensor",
        "model = nn.DataParallel(model)",
        "from accelerate import Accelerator\naccelerator = Accelerator()",
        (
            "class Holder:\n    def __init__(self):\n"
            '        self.device = "cuda" if torch.cuda.is_available() else "cpu"\n'
            "    def move(self, m):\n        return m.to(self.device)"
        ),
        (
            "def main(args):\n    model.to(args.device)\n"
            "parser = argparse.ArgumentParser()\nparser.add_argument('--device', default='cuda')"
        ),
    ],
    ids=[
        "current-accelerator",
        "current-accelerator-type",
        "format-index",
        "f-string-index",
        "cuda-method",
        "device-string",
        "device-map",
        "torch-cuda-call",
        "cuda-tensor-type",
        "data-parallel",
        "accelerate",
        "self-device",
        "argparse-default",
    ],
)
def test_gl304_not_for_code_that_targets_an_accelerator(extra):
    assert lint("GL304", INFERENCE.format(extra=extra)) == []


@pytest.mark.parametrize(
    "extra",
    [
        "# runs on cuda when there is one",
        'print("cuda available:", torch.cuda.is_available(), torch.cuda.device_count())',
        "torch.cuda.manual_seed_all(0)",
        'model.to("cpu")',
        'model = AutoModel.from_pretrained("bert", device_map="cpu")',
        "",
    ],
    ids=["comment", "questions", "seeding", "cpu", "device-map-cpu", "nothing"],
)
def test_gl304_still_flags_cpu_code_that_only_mentions_cuda(extra):
    [finding] = lint("GL304", INFERENCE.format(extra=extra))
    assert "on the CPU" in finding.message


# -- GL105: library trainers ------------------------------------------------------------------------
LIGHTNING = """
import pytorch_lightning as pl
trainer = pl.Trainer({arguments})
trainer.fit(model, data)
"""


@pytest.mark.parametrize(
    "arguments",
    [
        'accelerator="gpu", devices=1',
        'accelerator="cuda"',
        'accelerator="auto", devices=2',
        'accelerator="auto" if torch.cuda.is_available() else "cpu"',
        "gpus=1",
        "gpus=[0, 1]",
        "gpus=-1",
    ],
)
def test_gl105_lightning_on_a_gpu_without_precision(arguments):
    [finding] = lint("GL105", LIGHTNING.format(arguments=arguments))
    assert finding.location.row == 3
    assert finding.message.startswith("This Lightning Trainer trains on the GPU in full float32")
    assert 'precision="bf16-mixed"' in finding.message
    assert finding.severity == "info"
    assert finding.fix is None


@pytest.mark.parametrize(
    "arguments",
    [
        'accelerator="gpu", precision="16-mixed"',
        "gpus=1, precision=16",
        'accelerator="cpu"',
        "gpus=0",
        "max_epochs=3",
        "**config",
        "accelerator=args.accelerator",
    ],
)
def test_gl105_lightning_with_a_precision_or_on_the_cpu(arguments):
    assert lint("GL105", LIGHTNING.format(arguments=arguments)) == []


def test_gl105_lightning_2_picks_the_gpu_by_default():
    source = "import lightning as L\nL.Trainer(max_epochs=3).fit(model, data)\n"
    assert len(lint("GL105", source)) == 1
    source = "from lightning.pytorch import Trainer\nTrainer(max_epochs=3, precision='bf16-mixed')\n"
    assert lint("GL105", source) == []


HF = """
from transformers import Trainer, TrainingArguments
args = TrainingArguments({arguments})
trainer = Trainer(model=model, args=args, train_dataset=dataset)
trainer.train()
"""


@pytest.mark.parametrize("arguments", ['output_dir="out"', 'output_dir="out", fp16_full_eval=False'])
def test_gl105_hugging_face_trainer_without_fp16_or_bf16(arguments):
    [finding] = lint("GL105", HF.format(arguments=arguments))
    assert finding.location.row == 4  # the Trainer, which runs the training
    assert "`bf16=True`" in finding.message and "`fp16=True`" in finding.message


@pytest.mark.parametrize(
    "arguments",
    [
        'output_dir="out", bf16=True',
        'output_dir="out", fp16=True',
        'output_dir="out", fp16=use_amp',
        'output_dir="out", use_cpu=True',
        'output_dir="out", no_cuda=True',
        'output_dir="out", deepspeed="ds_config.json"',
        "**config",
    ],
)
def test_gl105_hugging_face_trainer_with_a_precision_or_on_the_cpu(arguments):
    assert lint("GL105", HF.format(arguments=arguments)) == []


@pytest.mark.parametrize(
    "change",
    [
        ("trainer.train()", "args.bf16 = True\ntrainer.train()"),
        (
            "args = TrainingArguments",
            "args = parser.parse_args_into_dataclasses()[0]\nunused = TrainingArguments",
        ),
        ("import Trainer, TrainingArguments", "import TrainingArguments\nfrom mylib import Trainer"),
        ("trainer.train()", "import torch\nscaler = torch.amp.GradScaler()"),
    ],
    ids=["set-later", "parsed-arguments", "not-transformers", "file-uses-amp"],
)
def test_gl105_hugging_face_look_alikes(change):
    assert lint("GL105", HF.format(arguments='output_dir="out"').replace(*change)) == []


def test_gl105_hugging_face_default_arguments_and_subclasses():
    source = """
    from transformers import Seq2SeqTrainer, Trainer
    class MyTrainer(Trainer):
        pass
    Seq2SeqTrainer(model=model, train_dataset=dataset).train()
    MyTrainer(model, train_dataset=dataset).train()
    """
    assert [f.location.row for f in lint("GL105", source)] == [5, 6]
