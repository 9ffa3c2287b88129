"""GL106 dataloader-starves-gpu and GL107 tensor-created-then-moved: the cases the fixture
files do not show (fix safety per factory, layouts, `os` already imported or shadowed, MPS)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from green_lint.engine import LintSettings, lint_source
from green_lint.fix import fix_source
from green_lint.registry import select_rules
from green_lint.source import load_source

CUDA = 'import torch\ndevice = torch.device("cuda" if torch.cuda.is_available() else "cpu")\n'


def _source(code: str):
    return load_source(Path("example.py"), "example.py", textwrap.dedent(code).encode())


def lint(code: str, rule: str) -> list:
    return lint_source(_source(code), LintSettings(rules=select_rules([rule])))


def fixed(code: str, rule: str, unsafe: bool = True) -> str:
    settings = LintSettings(rules=select_rules([rule]))
    text = fix_source(_source(code), settings, unsafe=unsafe).text
    assert fix_source(_source(text), settings, unsafe=unsafe).text == text, "a second --fix changes nothing"
    return text


# -- GL107 -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("x = torch.zeros(3).to(device)", "x = torch.zeros(3, device=device)"),
        ('x = torch.ones(2, 2).to("cuda")', 'x = torch.ones(2, 2, device="cuda")'),
        ("x = torch.tensor([1.0]).cuda()", 'x = torch.tensor([1.0], device="cuda")'),
        ("x = torch.eye(2).cuda(0)", 'x = torch.eye(2, device="cuda:0")'),
        (
            "x = torch.zeros(3).to(device).to(torch.float16)",
            "x = torch.zeros(3, device=device).to(torch.float16)",
        ),
        ("x = (torch.zeros(3)\n     .to(device))", "x = (torch.zeros(3, device=device))"),
        ("x = torch.zeros(3).to(device, non_blocking=False)", "x = torch.zeros(3, device=device)"),
    ],
)
def test_gl107_safe_fixes(line, expected):
    code = CUDA + line + "\n"
    assert len(lint(code, "GL107")) == 1
    assert fixed(code, "GL107", unsafe=False) == CUDA + expected + "\n"


@pytest.mark.parametrize(
    "line",
    [
        "x = torch.randn(3).to(device)",
        "x = torch.randperm(5).to(device)",
        "x = torch.arange(3).to(device, torch.float32)",
        "x = torch.full((2,), 0.1).to(device, dtype=torch.float16)",
    ],
)
def test_gl107_unsafe_fixes(line):
    code = CUDA + line + "\n"
    (finding,) = lint(code, "GL107")
    assert finding.fix is not None and finding.fix.applicability == "unsafe"
    assert fixed(code, "GL107", unsafe=False) == code
    assert ".to(" not in fixed(code, "GL107")


@pytest.mark.parametrize(
    "line",
    [
        "x = torch.as_tensor([1, 2], torch.int32).to(device)",  # a positional dtype
        "x = torch.zeros(3, dtype=torch.int64).to(device, torch.float32)",
        "x = torch.zeros(3).to(device, memory_format=torch.contiguous_format)",
        "x = torch.zeros(3, requires_grad=True).to(device)",
    ],
)
def test_gl107_flagged_without_fix(line):
    code = CUDA + line + "\n"
    (finding,) = lint(code, "GL107")
    assert finding.fix is None


@pytest.mark.parametrize(
    "line",
    [
        "x = torch.zeros(3).to(torch.float16)",
        "x = torch.zeros(3).to(dtype=torch.float16)",
        "x = torch.zeros(3).to(other)",
        'x = torch.zeros(3).to("cpu")',
        "x = torch.zeros(3).to(torch.device('cpu'))",
        "x = torch.from_numpy(array).to(device)",
        "x = torch.zeros_like(other).to(device)",
        "x = torch.zeros(3, device='cpu').to(device)",
        "x = torch.zeros(*shape, **options).to(device)",
        "x = torch.zeros(3).cpu()",
        "x = numpy.zeros(3).to(device)",
    ],
)
def test_gl107_not_flagged(line):
    assert lint(CUDA + "import numpy\n" + line + "\n", "GL107") == []


def test_gl107_says_when_it_runs_in_a_loop():
    code = CUDA + "for _ in range(3):\n    x = torch.zeros(3).to(device)\n"
    (finding,) = lint(code, "GL107")
    assert "every iteration" in finding.message
    (finding,) = lint(CUDA + "x = torch.zeros(3).to(device)\n", "GL107")
    assert "every iteration" not in finding.message


def test_gl107_a_function_parameter_known_to_be_cpu_is_not_a_move():
    code = "import torch\ndef f(device):\n    return torch.zeros(3).to(device)\nf('cpu')\n"
    assert lint(code, "GL107") == []
    assert len(lint(code.replace("f('cpu')", "f('cuda')"), "GL107")) == 1


@pytest.mark.parametrize(
    "line",
    [
        "x = torch.LongTensor([3]).to(device)",
        "x = torch.LongTensor(ids).unsqueeze(-1).to(device)",
        "x = torch.IntTensor([5] * 2).cuda()",
        "x = torch.LongTensor(2, 6).fill_(0).to(device)",
        "x = Variable(torch.zeros(2)).cuda()",
        "x = Variable(torch.ones(2, 1)).float().cuda()",
        "x = torch.arange(5).unsqueeze(0).repeat(2, 1).to(device)",
        "x = ((torch.rand(2, 4) - 0.5) / 0.5).cuda()",
        "x = torch.range(0, 4).long().cuda()",
    ],
)
def test_gl107_chains_and_legacy_constructors_are_advice_only(line):
    code = CUDA + "from torch.autograd import Variable\nids = [1, 2]\n" + line + "\n"
    (finding,) = lint(code, "GL107")
    assert finding.fix is None
    if "Tensor(" in line:
        assert "dtype=" in finding.message and "uninitialised" in finding.message


@pytest.mark.parametrize(
    "body",
    [
        "h = torch.zeros(3)\nh = h.cuda()\n",
        "h = torch.zeros(3)\nif use_cuda:\n    h = h.cuda()\n",
        "h = torch.zeros(3)\nh = h.cuda() if use_cuda else h\n",
        "h = torch.zeros(3)\nother = 1\nif use_cuda:\n    h = h.to(device)\n    g = h + 1\n",
        "h = torch.LongTensor([1])\nif use_cuda:\n    h = Variable(h.cuda())\nelse:\n    h = Variable(h)\n",
        "h = torch.rand(3)\nh = h.expand(2, 3)\nh = h.cuda()\n",
        "if flag:\n    h = torch.ones(3) * 0.9\nelse:\n    h = torch.ones(3)\nh = h.cuda()\n",
    ],
)
def test_gl107_a_name_moved_by_a_later_statement(body):
    code = CUDA + "from torch.autograd import Variable\nuse_cuda = flag = True\n" + body
    findings = lint(code, "GL107")
    assert findings and all(f.fix is None for f in findings)
    assert all("line" in f.message for f in findings)


@pytest.mark.parametrize(
    "body",
    [
        "h = torch.zeros(3)\nh[0] = 1\nh = h.cuda()\n",
        "h = torch.zeros(3)\nprint(h)\nh = h.cuda()\n",
        "h = torch.zeros(3)\nh = h.cuda() + h\n",
        "h = torch.zeros(3)\nmoved = [h.cuda() for _ in range(2)]\n",
        "h = torch.zeros(3)\nif h.sum() > 0:\n    h = h.cuda()\n",
        "h = torch.zeros(3, device=device)\nh = h.to(device)\n",
        "h = torch.from_numpy(a)\nh = h.cuda()\n",
        "h = torch.FloatTensor(numpy.ones(3))\nh = h.cuda()\n",
        "h = torch.FloatTensor(numpy.ones(3) / 255.0).to(device)\n",
        "def f():\n    h = torch.zeros(3)\n    return h\nh = f().cuda()\n",
        "h = keep(torch.zeros(3))\n",
    ],
)
def test_gl107_not_flagged_across_statements(body):
    code = CUDA + "import numpy\ndef keep(t):\n    return t\n" + body
    assert lint(code, "GL107") == []


def test_gl107_a_module_helper_that_moves_its_argument():
    helper = (
        "def cuda_variable(t):\n    if torch.cuda.is_available():\n        return t.cuda()\n    return t\n"
    )
    code = CUDA + helper + "x = cuda_variable(torch.zeros(3))\nh = torch.zeros(2)\ny = cuda_variable(h)\n"
    assert len(lint(code, "GL107")) == 2


def test_gl107_torch_through_a_star_import():
    code = "from helpers import *\ndevice = 'cuda'\nx = torch.zeros(3).to(device)\n"
    (finding,) = lint(code, "GL107")
    assert finding.fix is not None


# -- GL106 -------------------------------------------------------------------------------
# A loader that feeds a training step (an evaluation loader is not flagged).
TRAIN = "for x in loader:\n    model(x).sum().backward()\n    optimizer.step()\n"
LOADER = "from torch.utils.data import DataLoader\nloader = DataLoader(data, batch_size=8)\n" + TRAIN


def test_gl106_needs_an_accelerator_in_the_file():
    assert lint("import torch\n" + LOADER, "GL106") == []
    assert len(lint(CUDA + LOADER, "GL106")) == 1


def test_gl106_uses_an_existing_os_import():
    code = CUDA + "import os\n" + LOADER
    text = fixed(code, "GL106")
    assert text.count("import os") == 1
    assert "num_workers=min(8, os.cpu_count() or 1), persistent_workers=True, pin_memory=True" in text


def test_gl106_adds_the_os_import_after_the_imports():
    text = fixed(CUDA + LOADER, "GL106")
    assert text.startswith("import torch\nimport os\n")


def test_gl106_no_fix_where_os_means_something_else():
    code = CUDA + "os = 'linux'\n" + LOADER
    (finding,) = lint(code, "GL106")
    assert finding.fix is None


def test_gl106_mps_only_needs_no_pinned_memory():
    code = "import torch\nmodel = torch.nn.Linear(2, 2).to('mps')\n" + LOADER
    (finding,) = lint(code, "GL106")
    assert "pin_memory" not in finding.message.split("Pass")[0]
    assert "pin_memory" not in fixed(code, "GL106")
    pinned = code.replace("batch_size=8", "batch_size=8, num_workers=2")
    assert lint(pinned, "GL106") == []


def test_gl106_keeps_a_multiline_layout():
    code = CUDA + (
        "from torch.utils.data import DataLoader\n"
        "loader = DataLoader(\n    data,\n    batch_size=8,\n    num_workers=4,\n)\n" + TRAIN
    )
    assert fixed(code, "GL106").endswith(
        "loader = DataLoader(\n    data,\n    batch_size=8,\n    num_workers=4,\n"
        "    persistent_workers=True,\n    pin_memory=True,\n)\n" + TRAIN
    )


def test_gl106_lightning_gpu_trainer_counts_as_an_accelerator():
    code = "import lightning as L\n" + LOADER + "trainer = L.Trainer(accelerator='gpu')\n"
    assert lint(code.replace(TRAIN, ""), "GL106") == []  # nothing in the file trains
    assert len(lint(code, "GL106")) == 1


def test_gl106_evaluation_loaders_are_not_flagged():
    evaluation = CUDA + (
        "from torch.utils.data import DataLoader\n"
        "test_loader = DataLoader(data, batch_size=8)\n"
        "features = DataLoader(data, batch_size=8)\n"
        "loaders = {'train': DataLoader(data), 'val': DataLoader(data)}\n"
        "for x in features:\n    print(model(x))\n"
        "for x in loaders['train']:\n    model(x).sum().backward()\n    optimizer.step()\n"
    )
    assert [finding.location.row for finding in lint(evaluation, "GL106")] == [6]


def test_gl106_data_on_the_device_is_not_flagged():
    code = CUDA + (
        "from torch.utils.data import DataLoader, TensorDataset\n"
        "x = torch.randn(4, 2).cuda()\n"
        "loader = DataLoader(dataset=TensorDataset(x), batch_size=2)\n"
    )
    assert lint(code, "GL106") == []
