"""GL301 and GL303 on the shapes real training scripts take (issue 14, section 2): each
shape with the look-alike that must stay silent."""

from __future__ import annotations

import textwrap
from pathlib import Path

from green_lint.engine import LintSettings, lint_source
from green_lint.fix import fix_source
from green_lint.registry import select_rules
from green_lint.source import load_source

HEAD = """
import torch
from torch import nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(4, 2)
        self.decoder = nn.Linear(2, 4)

    def forward(self, x):
        return self.decoder(self.encoder(x))

    def decode(self, z):
        return self.decoder(z)

    def init_hidden(self, n):
        return torch.zeros(n, 2)

net = Net()
optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
X = torch.randn(8, 4)

def train_step(x):
    optimizer.zero_grad()
    net(x).pow(2).mean().backward()
    optimizer.step()
"""


def _source(code: str, path: str = "t.py"):
    text = textwrap.dedent(HEAD).lstrip("\n") + textwrap.dedent(code)
    return load_source(Path(path), path, text.encode("utf-8"))


def _raw(code: str, path: str = "t.py"):
    return load_source(Path(path), path, textwrap.dedent(code).lstrip("\n").encode("utf-8"))


def findings(code: str, rule: str = "GL301", *, head: bool = True):
    source = _source(code) if head else _raw(code)
    return lint_source(source, LintSettings(rules=select_rules([rule])))


def flagged(code: str, rule: str = "GL301", *, head: bool = True) -> list[str]:
    """The flagged lines' text, stripped."""
    source = _source(code) if head else _raw(code)
    lines = source.text.splitlines()
    return [lines[f.location.row - 1].strip() for f in findings(code, rule, head=head)]


def fixed(code: str, *, head: bool = True) -> str:
    source = _source(code) if head else _raw(code)
    return fix_source(source, LintSettings(rules=select_rules(["GL301"])), unsafe=True).text


# -- validation in and around the training loop ---------------------------------------------
def test_validation_inside_the_epoch_loop_after_eval_is_flagged():
    code = """
    for epoch in range(3):
        net.train()
        out = net(X)
        loss = out.pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        net.eval()
        out = net(X)
        print(out.mean().item())
    """
    assert flagged(code) == ["out = net(X)"]
    assert findings(code)[0].location.row == len(_source("").text.splitlines()) + 10


def test_a_name_reused_by_the_training_step_does_not_hide_the_prediction_after_it():
    code = """
    for epoch in range(3):
        logits = net(X)
        logits.pow(2).mean().backward()
        optimizer.step()
    logits = net(X)
    print(logits.argmax(dim=1))
    """
    assert flagged(code) == ["logits = net(X)"]
    # the same name, read again by the training step: its graph is needed
    training = """
    logits = net(X)
    for epoch in range(3):
        logits.pow(2).mean().backward()
        logits = net(X)
    """
    assert flagged(training) == []


def test_validate_called_from_the_training_loop_is_inference_when_its_result_is_only_read():
    code = """
    def validate(model):
        model.eval()
        return model(X).mean().item()

    def train(model):
        loss = model(X).pow(2).mean()
        loss.backward()
        print("val", validate(model))
    """
    assert flagged(code) == ["return model(X).mean().item()"]
    backpropagated = """
    def validation_loss(model):
        model.eval()
        return model(X).pow(2).mean()

    def train(model):
        loss = validation_loss(model)
        loss.backward()
    """
    assert flagged(backpropagated) == []


def test_the_main_block_holds_separate_inference_statements():
    code = """
    if __name__ == "__main__":
        for epoch in range(2):
            net(X).pow(2).mean().backward()
            optimizer.step()
            net.eval()
            print(net(X).sum().item())
            net.train()
        print("done")
        for start in range(0, 8, 4):
            optimizer.zero_grad()
            net(X[start:]).sum().backward()
        net.eval()
        print(net(X).argmax(dim=1))
    """
    assert flagged(code) == ["print(net(X).sum().item())", "print(net(X).argmax(dim=1))"]


def test_an_encoder_and_the_decoder_run_on_its_output_are_one_finding():
    code = """
    codes = net.encoder(X)
    print(codes.shape)
    hidden = codes
    for step in range(3):
        hidden = net.decoder(hidden)
    """
    assert flagged(code) == ["codes = net.encoder(X)"]
    unrelated = code.replace("hidden = codes", "hidden = torch.zeros(8, 2)")
    assert flagged(unrelated) == ["codes = net.encoder(X)", "hidden = net.decoder(hidden)"]


def test_untrained_layers_shown_at_module_level_are_a_demonstration():
    code = """
    import torch
    from torch import nn

    embed = nn.Embedding(10, 3)
    lstm = nn.LSTM(3, 5)
    {load}
    packed = embed(torch.tensor([[1, 2, 3]]))
    output, _ = lstm(packed)
    print(output.size())
    """
    assert flagged(code.format(load=""), head=False) == []
    loaded = code.format(load='lstm.load_state_dict(torch.load("lstm.pt"))')
    assert flagged(loaded, head=False) == ["packed = embed(torch.tensor([[1, 2, 3]]))"]


# -- what counts as a forward ---------------------------------------------------------------
def test_chained_eval_on_construction_is_a_model():
    code = """
    scorer = Net().eval()
    for start in range(0, 8, 4):
        print(scorer(X[start:]).sum().item())
    """
    assert flagged(code) == ["print(scorer(X[start:]).sum().item())"]
    assert "with torch.no_grad():\n    for start" in fixed(code)


def test_models_in_a_list_or_a_module_list_called_in_a_loop():
    code = """
    def vote(models, x):
        return [m(x).argmax(dim=1) for m in models]

    def run(layers, x):
        for i, layer in enumerate(layers):
            x = layer(x)
        return x.sum().item()

    print(vote([Net(), Net()], X), run(nn.ModuleList([nn.Linear(4, 4)]), X))
    """
    assert flagged(code) == ["return [m(x).argmax(dim=1) for m in models]", "x = layer(x)"]
    functions = """
    def apply_all(x):
        return [f(x) for f in [torch.relu, torch.tanh]]

    print(apply_all(X))
    """
    assert flagged(functions) == []


def test_models_zipped_with_their_optimisers():
    code = """
    nets = [Net(), Net()]
    opts = [torch.optim.SGD(n.parameters(), lr=0.1) for n in nets]
    for n, opt in zip(nets, opts):
        n.eval()
        print(n(X).sum().item())
    """
    assert flagged(code) == ["print(n(X).sum().item())"]


def test_submodules_and_methods_of_the_model():
    code = """
    def greedy(model, x):
        codes = model.encoder(x)
        return codes.argmax(dim=1).tolist()

    def sample(model, count):
        return model.decode(torch.randn(count, 2)).tolist()

    print(greedy(net, X), sample(net, 2))
    """
    assert flagged(code) == [
        "codes = model.encoder(x)",
        "return model.decode(torch.randn(count, 2)).tolist()",
    ]
    not_forwards = """
    def start(model, count):
        return model.init_hidden(count).tolist()

    print(start(net, 2))
    """
    assert flagged(not_forwards) == []


def test_a_method_named_for_inference_is_reported_inside_not_at_its_callers():
    code = """
    class Generator(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Linear(2, 2)

        def forward(self, z):
            return self.body(z)

        def generate(self, count):
            return self(torch.randn(count, 2))

    generator = Generator()
    images = generator.generate(4)
    print(images.sum().item())
    """
    assert flagged(code) == ["return self(torch.randn(count, 2))"]


def test_a_model_handed_to_a_helper_at_its_call_site():
    code = """
    def roll_out(decoder, steps):
        hidden = torch.zeros(1, 4)
        for _ in range(steps):
            hidden = decoder(hidden)
        return hidden.tolist()

    print(roll_out(nn.Linear(4, 4), 3))
    """
    assert flagged(code) == ["hidden = decoder(hidden)"]
    not_a_model = code.replace("roll_out(nn.Linear(4, 4), 3)", "roll_out(torch.tanh, 3)")
    assert flagged(not_a_model) == []


def test_models_unpacked_from_a_tuple():
    code = """
    class Agent:
        def __init__(self):
            self.online, self.target = Net(), Net()

        def act(self, state):
            return self.online(state).argmax(dim=1).tolist()

    print(Agent().act(X))
    """
    assert flagged(code) == ["return self.online(state).argmax(dim=1).tolist()"]


def test_models_built_in_another_file_need_module_evidence():
    code = """
    import torch
    from models import Generator, Scaler

    generator = Generator()
    optimizer = torch.optim.Adam(generator.parameters())
    scaler = Scaler()

    def sample_images(z):
        torch.save(generator(z).data, "x.pt")

    def scaled(x):
        torch.save(scaler(x).data, "x.pt")
    """
    assert flagged(code, head=False) == ['torch.save(generator(z).data, "x.pt")']
    checkpoint = """
    import torch

    checkpoint = torch.load("c.pt")
    model = checkpoint["model"]
    model.eval()

    def evaluate(x):
        return model(x).argmax(dim=1).tolist()
    """
    assert flagged(checkpoint, head=False) == ["return model(x).argmax(dim=1).tolist()"]


# -- what trains ------------------------------------------------------------------------------
def test_variable_is_a_no_op_wrapper_unless_it_asks_for_gradients():
    code = """
    from torch.autograd import Variable

    def predict(x):
        inputs = Variable(x)
        return net(inputs).argmax(dim=1)

    for batch in [X]:
        print(predict(batch))
    """
    found = findings(code)
    assert flagged(code) == ["return net(inputs).argmax(dim=1)"] and found[0].fix is not None
    # gradients asked for the input: still no backward, but no automatic fix
    asks = code.replace("Variable(x)", "Variable(x, requires_grad=True)")
    assert [finding.fix for finding in findings(asks)] == [None]


def test_detached_targets_of_a_training_step_are_not_inference():
    code = """
    target = Net()

    def learn(states):
        q = net(states)
        q_next = target(states).detach()
        loss = (q - q_next).pow(2).mean()
        loss.backward()
        optimizer.step()
    """
    assert flagged(code) == []
    logged = """
    target = Net()

    def learn(states):
        loss = net(states).pow(2).mean()
        loss.backward()
        optimizer.step()
        print(target(states).detach().mean())
    """
    assert flagged(logged) == ["print(target(states).detach().mean())"]


def test_a_returned_output_is_followed_to_the_callers():
    code = """
    def embed(x):
        return net.encoder(x)

    vectors = [embed(row) for row in X]
    print(len(vectors))
    """
    assert flagged(code) == ["return net.encoder(x)"]
    trained = textwrap.dedent(code) + "embed(X).sum().backward()\n"
    assert flagged(trained) == []


def test_a_pretrained_model_in_a_file_that_never_trains():
    code = """
    from transformers import AutoModel

    model = AutoModel.from_pretrained("bert-base-uncased")

    def encode(batch):
        return model(**batch).last_hidden_state
    """
    assert flagged(code, head=False) == ["return model(**batch).last_hidden_state"]
    training = textwrap.dedent(code) + "encode({}).sum().backward()\n"
    assert flagged(training, head=False) == []


# -- the project's own grad-off decorators and context managers -------------------------------
def test_a_project_decorator_that_returns_inference_mode_is_a_negative():
    code = """
    import functools

    def inference():
        return torch.inference_mode()

    def no_grad_wrapper(fn):
        @functools.wraps(fn)
        def wrapper(*args):
            with torch.no_grad():
                return fn(*args)
        return wrapper

    @inference()
    def predict(x):
        return net(x)

    @no_grad_wrapper
    def evaluate(x):
        return net(x)
    """
    assert flagged(code) == []
    timing = """
    import functools

    def timed(fn):
        @functools.wraps(fn)
        def wrapper(*args):
            return fn(*args)
        return wrapper

    @timed
    def predict(x):
        return net(x)
    """
    assert flagged(timing) == ["return net(x)"]


def test_a_project_context_manager_that_turns_autograd_off_is_a_negative():
    code = """
    import contextlib

    @contextlib.contextmanager
    def evaluating(model):
        model.eval()
        with torch.no_grad():
            yield
        model.train()

    def evaluate(x):
        with evaluating(net):
            return net(x).sum().item()
    """
    assert flagged(code) == []
    mode_only = code.replace("with torch.no_grad():\n            yield", "yield")
    assert flagged(mode_only) == ["return net(x).sum().item()"]


# -- the fix --------------------------------------------------------------------------------
def test_the_fix_decorates_the_function_instead_of_re_indenting_it():
    code = """
    def predict(x):
        y = net(x)
        return y.argmax(dim=1)
    """
    assert "@torch.no_grad()\ndef predict(x):\n    y = net(x)\n    return y.argmax(dim=1)\n" in fixed(code)


def test_an_indenting_fix_uses_the_file_s_own_indentation_unit():
    code = "import torch\nfrom torch import nn\n\nnet = nn.Linear(2, 1)\n\n\nasync def predict(x):\n\tif x is None:\n\t\treturn None\n\treturn net(x)\n"
    result = fixed(code, head=False)
    assert (
        "async def predict(x):\n\twith torch.no_grad():\n\t\tif x is None:\n\t\t\treturn None\n\t\treturn net(x)\n"
        in result
    )


# -- GL303 -----------------------------------------------------------------------------------
DROPOUT = """
import torch
from torch import nn

class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))

    def forward(self, x):
        return self.body(x)

    def predict(self, x):
        with torch.no_grad():
            return self(x).argmax(dim=1)

X = torch.randn(2, 4)
"""


def test_gl303_self_call_in_the_module_s_own_method_is_left_to_the_caller():
    assert flagged(DROPOUT, "GL303", head=False) == []
    caller = DROPOUT + "tagger = Tagger()\nprint(tagger.predict(X))\n"
    assert flagged(caller, "GL303", head=False) == ["print(tagger.predict(X))"]
    switched = DROPOUT + "tagger = Tagger()\ntagger.eval()\nprint(tagger.predict(X))\n"
    assert flagged(switched, "GL303", head=False) == []


def test_gl303_reports_one_model_per_function():
    code = DROPOUT + (
        "first, second = Tagger(), Tagger()\n\n"
        "def predict_both(x):\n"
        "    with torch.no_grad():\n"
        "        return first(x), second(x)\n"
    )
    assert flagged(code, "GL303", head=False) == ["return first(x), second(x)"]
    assert len(findings(code, "GL303", head=False)) == 1


def test_gl303_a_sampling_helper_of_any_name_is_inference():
    code = DROPOUT + (
        "tagger = Tagger()\n\ndef save_samples(x):\n    torch.save(tagger(x).detach(), 'samples.pt')\n"
    )
    assert flagged(code, "GL303", head=False) == ["torch.save(tagger(x).detach(), 'samples.pt')"]
    trained = code + "\ndef fit(x):\n    tagger(x).sum().backward()\n"
    assert flagged(trained, "GL303", head=False) == ["torch.save(tagger(x).detach(), 'samples.pt')"]


def test_gl303_one_layer_recurrent_dropout_does_nothing():
    code = """
    import torch
    from torch import nn

    class Seq(nn.Module):
        def __init__(self, layers):
            super().__init__()
            self.rnn = nn.GRU(4, 4, {layers}dropout=0.5)

        def forward(self, x):
            return self.rnn(x)[0]

    model = Seq(1)

    @torch.no_grad()
    def predict(x):
        return model(x)
    """
    assert flagged(code.format(layers=""), "GL303", head=False) == []
    assert flagged(code.format(layers="num_layers=2, "), "GL303", head=False) == ["return model(x)"]


# -- Variable(x, volatile=True): inference by the author's word, a no-op since PyTorch 0.4 ------
VOLATILE = """
import torch
from torch import nn
from torch.autograd import Variable

net = nn.Linear(4, 2)
optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
criterion = nn.MSELoss()
"""


def test_the_volatile_validation_part_of_a_train_function_is_flagged_not_its_training_step():
    code = VOLATILE + textwrap.dedent("""
    def train(model, data):
        for x, y in data:
            loss = criterion(model(Variable(x)), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        for x, y in data:
            x = Variable(x, volatile=True)
            out = model(x)
            print(criterion(out, y).item())
    """)
    assert flagged(code, head=False) == ["out = model(x)"]
    message = findings(code, head=False)[0].message
    assert "volatile=True" in message and "PyTorch 0.4" in message and "torch.no_grad()" in message
    assert fixed(code, head=False) == textwrap.dedent(code).lstrip("\n")  # a training function: no fix


def test_a_volatile_forward_of_an_unknown_constructor_used_as_a_module_is_flagged_and_fixed():
    code = VOLATILE + textwrap.dedent("""
    from net import feature_net

    def create_feature(images):
        featurenet = feature_net("vgg")
        featurenet.cuda()
        return [featurenet(Variable(img, volatile=True).cuda()).data for img in images]
    """)
    assert flagged(code, head=False) == [
        "return [featurenet(Variable(img, volatile=True).cuda()).data for img in images]"
    ]
    assert "@torch.no_grad()\ndef create_feature" in fixed(code, head=False)


def test_volatile_lookalikes_stay_silent():
    code = VOLATILE + textwrap.dedent("""
    from net import feature_net

    def losses(x, y):
        loss_fn = nn.L1Loss()
        loss_fn.cuda()
        return loss_fn(Variable(x, volatile=True), y).item()

    def never_used_as_a_module(x):
        helper = feature_net("vgg")
        return helper(Variable(x, volatile=True))

    def ported_training_step(x, y):
        loss = criterion(net(Variable(x, volatile=True)), y)
        loss.backward()

    def fixed_form(x):
        with torch.no_grad():
            return net(Variable(x, volatile=True)).sum().item()

    def not_volatile(x):
        return net(Variable(x, volatile=False))
    """)
    assert flagged(code, head=False) == []


def test_a_project_class_named_variable_is_not_torch_s():
    code = """
    import torch
    from torch import nn

    class Variable:
        def __init__(self, value, volatile=False):
            self.value = value

    net = nn.Linear(4, 2)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)

    def step(x):
        net(Variable(x, volatile=True).value).sum().backward()
        optimizer.step()

    def score(x):
        return net(Variable(x, volatile=True).value)
    """
    assert flagged(code, head=False) == []


# -- evaluation methods of a trainer class ------------------------------------------------------
TRAINER = """
import torch
from mxtorch.trainer import Trainer

class CharTrainer(Trainer):
    def train(self, data):
        self.model.train()
        for x, y in data:
            loss = self.criterion(self.model(x), y)
            loss.backward()
            self.optimizer.step()
"""


def test_a_trainer_method_named_test_running_self_model_is_flagged():
    code = TRAINER + (
        "\n    def test(self, data):\n        self.model.eval()\n"
        "        for x, y in data:\n            print(self.model(x).argmax(1).tolist())\n"
    )
    assert flagged(code, head=False) == ["print(self.model(x).argmax(1).tolist())"]
    assert "    @torch.no_grad()\n    def test(self, data):" in fixed(code, head=False)


def test_trainer_methods_that_train_or_are_shielded_stay_silent():
    code = TRAINER + textwrap.indent(
        textwrap.dedent("""
        @torch.no_grad()
        def evaluate(self, data):
            self.model.eval()
            return [self.model(x) for x, _ in data]

        def scores(self, x):
            return self.model(x).sum()

        def train_step(self, x):
            self.scores(x).backward()
        """),
        "    ",
    )
    assert flagged(code, head=False) == []


def test_a_self_attribute_never_used_as_a_module_is_not_a_model():
    code = """
    import torch

    class Runner:
        def __init__(self, engine):
            self.engine = engine

        def predict(self, x):
            self.engine.reset()
            return print(self.engine(torch.as_tensor(x)))
    """
    assert flagged(code, head=False) == []


# -- pretrained torchvision/timm models in a file that never trains -----------------------------
def test_a_pretrained_builder_in_eval_mode_runs_for_inference_in_a_function_of_any_name():
    code = """
    import torch
    import torchvision

    def extract_features(images):
        model = torchvision.models.resnet50(weights="DEFAULT").eval()
        return [model(image) for image in images]
    """
    assert flagged(code, head=False) == ["return [model(image) for image in images]"]
    random = code.replace('weights="DEFAULT"', "weights=None")
    assert flagged(random, head=False) == []
    no_eval = code.replace(".eval()", "")
    assert flagged(no_eval, head=False) == []
    trains = textwrap.dedent(code) + "\ndef fit(model, x):\n    model(x).sum().backward()\n"
    assert flagged(trains, head=False) == []


def test_an_attribute_named_like_the_output_is_not_the_output():
    """`result.pred.sum().backward()` trains through an attribute; the variable `pred`
    that holds the forward's output is only printed: that forward is inference."""
    code = """
        import torch
        net = torch.load("model.pt")
        teacher = torch.load("teacher.pt")
        x = torch.randn(4, 2)
        pred = net(x)
        print(pred)
        class Result:
            pred = None
        result = Result()
        result.pred = teacher(x)
        result.pred.sum().backward()
        report(pred=result)
    """
    assert flagged(code, head=False) == ["pred = net(x)"]
