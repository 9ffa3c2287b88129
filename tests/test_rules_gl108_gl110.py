"""GL108 (float64 models), GL110 (zero_grad to zeros) and GL105's TF32 advice: shapes the
fixtures do not cover."""

from __future__ import annotations

import textwrap
from pathlib import Path

from green_lint.engine import LintSettings, lint_source
from green_lint.registry import select_rules
from green_lint.source import load_source


def lint(code: str, source: str, filename: str = "example.py"):
    text = textwrap.dedent(source)
    loaded = load_source(Path(filename), filename, text.encode("utf-8"))
    return lint_source(loaded, LintSettings(rules=select_rules([code])))


# -- GL110 -----------------------------------------------------------------------------------
ZERO_GRAD = """
import torch
model = torch.nn.Linear(2, 1)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
optimizer.zero_grad(set_to_none=False)
"""


def test_gl110_fix_is_safe_when_the_file_reads_no_grad():
    [finding] = lint("GL110", ZERO_GRAD)
    assert finding.fix.applicability == "safe"
    assert finding.message.startswith("`optimizer.zero_grad(set_to_none=False)` fills every gradient")


def test_gl110_fix_is_unsafe_when_the_file_reads_grad():
    [finding] = lint("GL110", ZERO_GRAD + "print(model.weight.grad)\n")
    assert finding.fix.applicability == "unsafe"


def test_gl110_needs_a_torch_import_and_a_literal_false():
    assert lint("GL110", ZERO_GRAD.replace("import torch\n", "import mxnet as torch\n")) == []
    assert lint("GL110", ZERO_GRAD.replace("set_to_none=False", "set_to_none=keep")) == []
    assert lint("GL110", ZERO_GRAD.replace("set_to_none=False", "set_to_none=True")) == []


def test_gl110_own_class_method_through_self_is_not_flagged():
    source = """
    import torch

    class Buffers:
        def zero_grad(self, set_to_none=True):
            pass

        def reset(self):
            self.zero_grad(set_to_none=False)

    class Net(torch.nn.Module):
        def reset(self):
            self.zero_grad(set_to_none=False)
    """
    assert [f.location.row for f in lint("GL110", source)] == [13]


# -- GL108 -----------------------------------------------------------------------------------
def test_gl108_loaded_model_made_double_for_inference():
    source = """
    import torch
    model = torch.load("model.pt").double()
    model.eval()
    """
    [finding] = lint("GL108", source)
    assert "makes this model float64" in finding.message


def test_gl108_float64_tensors_without_a_float64_model_are_not_flagged():
    source = """
    import torch
    model = torch.nn.Linear(3, 1)
    x = torch.randn(4, 3).double()
    stats = torch.zeros(3, dtype=torch.float64)
    out = model(x.float())
    """
    assert lint("GL108", source) == []


def test_gl108_default_dtype_needs_a_model_in_the_file():
    source = """
    import torch
    torch.set_default_dtype(torch.float64)
    a = torch.randn(5, 5)
    print(torch.linalg.eigvalsh(a @ a.T))
    """
    assert lint("GL108", source) == []
    assert len(lint("GL108", source + "net = torch.nn.Linear(5, 1)\n")) == 1
    legacy = source.replace(
        "set_default_dtype(torch.float64)", 'set_default_tensor_type("torch.DoubleTensor")'
    )
    assert len(lint("GL108", legacy + "net = torch.nn.Linear(5, 1)\n")) == 1


def test_gl108_gaussian_process_and_test_files_are_left_alone():
    source = """
    import torch
    model = torch.nn.Linear(2, 1).double()
    """
    assert len(lint("GL108", source)) == 1
    assert lint("GL108", "import gpytorch\n" + textwrap.dedent(source)) == []
    assert lint("GL108", source, filename="tests/test_model.py") == []


def test_gl108_no_fix_beside_dtype_keeping_numpy_conversions():
    source = """
    import numpy as np
    import torch
    X = torch.as_tensor(np.zeros((4, 2)))
    model = torch.nn.Linear(2, 1).double()
    """
    [finding] = lint("GL108", source)
    assert finding.fix is None
    cast = source.replace("np.zeros((4, 2)))", "np.zeros((4, 2))).float()")
    [finding] = lint("GL108", cast)
    assert finding.fix is not None and finding.fix.applicability == "unsafe"


def test_gl108_transformers_model_loaded_in_float64():
    source = """
    import torch
    from transformers import AutoModel
    model = AutoModel.from_pretrained("bert-base-uncased", torch_dtype=torch.float64)
    """
    [finding] = lint("GL108", source)
    assert finding.location.row == 4


def test_gl108_model_parameter_of_a_function():
    source = """
    import torch

    def prepare(model: torch.nn.Module):
        return model.to(torch.float64)
    """
    assert len(lint("GL108", source)) == 1


# -- GL105's TF32 advice ---------------------------------------------------------------------
CUDA_TRAINING = """
import torch
device = torch.device("cuda")
model = torch.nn.Linear(2, 1).to(device)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for x, y in loader:
    optimizer.zero_grad()
    loss = ((model(x.to(device)) - y.to(device)) ** 2).mean()
    loss.backward()
    optimizer.step()
"""


def test_gl105_cuda_message_adds_tf32_advice():
    [finding] = lint("GL105", CUDA_TRAINING)
    assert 'torch.set_float32_matmul_precision("high")' in finding.message


def test_gl105_no_tf32_advice_when_set_or_not_cuda():
    [finding] = lint("GL105", CUDA_TRAINING + "torch.backends.cuda.matmul.allow_tf32 = True\n")
    assert "set_float32_matmul_precision" not in finding.message
    [finding] = lint("GL105", CUDA_TRAINING.replace('"cuda"', '"mps"'))
    assert "TF32" not in finding.message
