"""A file that cannot hold a finding of any selected rule is not parsed with libcst (issue
#16): the rules' prefilters state necessary conditions, checked on the text and on
CPython's tree."""

from __future__ import annotations

from pathlib import Path

import pytest

from green_lint import engine
from green_lint.engine import LintSettings, lint_source
from green_lint.registry import rule_classes, select_rules
from green_lint.source import load_source


@pytest.fixture
def parses(monkeypatch) -> list[str]:
    seen: list[str] = []
    real = engine.parse_trusted
    monkeypatch.setattr(engine, "parse_trusted", lambda text: seen.append(text) or real(text))
    return seen


def _lint(text: str, code: str, prefilter: bool = True):
    source = load_source(Path("example.py"), "example.py", text.encode())
    return lint_source(source, LintSettings(rules=select_rules([code]), prefilter=prefilter))


READ_ONCE = (
    "import json\n\nfor step in range(3):\n    print(step)\n\n"
    "with open('settings.json') as handle:\n    settings = json.load(handle)\n"
)


def test_gl204_sees_a_reader_imported_under_another_name(parses):
    aliased = "from pandas import read_csv as rc\n\nframes = [rc('data.csv') for _ in range(3)]\n"
    assert [finding.code for finding in _lint(aliased, "GL204")] == ["GL204"]


# Not parse-driven: the syntax-error, unused-noqa and unchecked-file reports come from the
# engine, and GL401 reads requirements files, not Python.
NOT_PARSE_DRIVEN = {"GL001", "GL002", "GL003", "GL401"}

# Rules whose prefilter lets through every file that uses their library, so no realistic
# near miss exists: each would be a known gap in issue #16's requirement, not a passing case.
PARSED_FOR_ANY_USE: dict[str, str] = {}

# code -> (near miss, hit). A near miss uses the rule's library, holds nothing the rule
# flags, and is rejected by the text triggers or, where the comment says so, by may_flag.
NEAR_MISS_AND_HIT = {
    "GL101": (
        # Fine-tunes pretrained weights: "transformers" but no "Config", torchvision or timm.
        """from transformers import AutoModelForSequenceClassification

model = AutoModelForSequenceClassification.from_pretrained("distilbert-base-uncased", num_labels=2)
""",
        """import timm
import torch

model = timm.create_model("resnet50")
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
""",
    ),
    "GL102": (
        # Inference only: nothing trains, so there is nothing to stop early.
        """import torch

model = torch.jit.load("classifier.pt").eval()
with torch.no_grad():
    labels = model(torch.randn(4, 16)).argmax(dim=1)
""",
        """import xgboost as xgb

model = xgb.XGBClassifier(n_estimators=500, max_depth=4)
model.fit([[0.0], [1.0]], [0, 1])
""",
    ),
    "GL103": (
        # A randomized search tries a fixed budget of candidates, not the whole grid.
        """from scipy.stats import loguniform
from sklearn.model_selection import RandomizedSearchCV
from sklearn.svm import SVC

search = RandomizedSearchCV(SVC(), {"C": loguniform(1e-2, 1e2)}, n_iter=10, cv=3)
search.fit(X, y)
""",
        """from sklearn.model_selection import GridSearchCV
from sklearn.svm import SVC

search = GridSearchCV(SVC(), {"C": [0.1, 1, 10], "gamma": [0.01, 0.1]}, cv=3)
search.fit(X, y)
""",
    ),
    "GL104": (
        # An objective that reports and prunes, in a module that creates no study.
        """import optuna


def objective(trial, model, X, y):
    model.set_params(alpha=trial.suggest_float("alpha", 1e-5, 1e-1, log=True))
    for epoch in range(20):
        model.partial_fit(X, y, classes=[0, 1])
        trial.report(model.score(X, y), epoch)
        if trial.should_prune():
            raise optuna.TrialPruned()
    return model.score(X, y)
""",
        """import optuna
from sklearn.linear_model import SGDClassifier


def objective(trial):
    model = SGDClassifier(alpha=trial.suggest_float("alpha", 1e-5, 1e-1, log=True))
    for epoch in range(20):
        model.partial_fit(X, y, classes=[0, 1])
    return model.score(X, y)


optuna.create_study(direction="maximize").optimize(objective, n_trials=50)
""",
    ),
    "GL105": (
        # Trains on the CPU, where autocast would not pay: no accelerator is named.
        """import torch

model = torch.nn.Linear(4, 1)
for inputs, targets in batches:
    optimizer.zero_grad()
    torch.nn.functional.mse_loss(model(inputs), targets).backward()
    optimizer.step()
""",
        """import torch

model = torch.nn.Linear(4, 1).cuda()
for inputs, targets in batches:
    optimizer.zero_grad()
    torch.nn.functional.mse_loss(model(inputs.cuda()), targets.cuda()).backward()
    optimizer.step()
""",
    ),
    "GL106": (
        # A dataset module: the training script builds the loader.
        """from torch.utils.data import Dataset


class Windows(Dataset):
    def __init__(self, series, width):
        self.series, self.width = series, width

    def __getitem__(self, index):
        return self.series[index : index + self.width], self.series[index + self.width]
""",
        """import torch
from torch.utils.data import DataLoader

model = torch.nn.Linear(3, 1).cuda()
for inputs, targets in DataLoader(dataset, batch_size=8, shuffle=True):
    optimizer.zero_grad()
    torch.nn.functional.mse_loss(model(inputs.cuda()), targets.cuda()).backward()
    optimizer.step()
""",
    ),
    "GL107": (
        # The mask is created on its device, never moved there.
        """import torch

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
mask = torch.ones(128, 128, device=device).tril()
""",
        """import torch

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
mask = torch.ones(128, 128).to(device).tril()
""",
    ),
    "GL108": (
        # NumPy's float64 features are cast to float32 before training.
        """import numpy as np
import torch

features = torch.from_numpy(np.load("features.npy")).float()
model = torch.nn.Linear(features.shape[1], 1)
model(features).pow(2).mean().backward()
""",
        """import torch

model = torch.nn.Linear(8, 1).double()
model(torch.randn(4, 8, dtype=torch.float64)).pow(2).mean().backward()
""",
    ),
    "GL109": (
        # Trains from a random initialisation: no backbone is loaded to freeze.
        """import torch
from torch import nn

model = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 3))
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, weight_decay=1e-4)
for x, y in batches:
    optimizer.zero_grad()
    nn.functional.cross_entropy(model(x), y).backward()
    optimizer.step()
""",
        """import torch
from torch import nn

backbone = torch.load("backbone.pt", weights_only=False)
head = nn.Linear(32, 3)
optimizer = torch.optim.SGD(head.parameters(), lr=0.1)
for x, y in batches:
    optimizer.zero_grad()
    nn.functional.cross_entropy(head(backbone(x)), y).backward()
    optimizer.step()
""",
    ),
    "GL110": (
        # zero_grad() keeps its default, set_to_none=True.
        """import torch

for x, y in batches:
    optimizer.zero_grad()
    torch.nn.functional.cross_entropy(model(x), y).backward()
    optimizer.step()
""",
        """import torch

for x, y in batches:
    optimizer.zero_grad(set_to_none=False)
    torch.nn.functional.cross_entropy(model(x), y).backward()
    optimizer.step()
""",
    ),
    "GL201": (
        # Column arithmetic and a groupby: no row is visited from Python.
        """import pandas as pd

orders = pd.read_csv("orders.csv")
orders["total"] = orders["price"] * orders["quantity"]
revenue = orders.groupby("region")["total"].sum()
""",
        """import pandas as pd

orders = pd.read_csv("orders.csv")
totals = [row["price"] * row["quantity"] for _, row in orders.iterrows()]
""",
    ),
    "GL202": (
        # Matches "pandas" with "concat" and ".append(", but may_flag sees the append is not
        # assigned and the concat is outside the loop.
        """import pandas as pd

parts = []
for path in paths:
    parts.append(pd.read_csv(path))
frame = pd.concat(parts)
""",
        """import pandas as pd

frame = pd.DataFrame()
for path in paths:
    frame = pd.concat([frame, pd.read_csv(path)])
""",
    ),
    "GL203": (
        # Gradient descent on whole arrays: the loop counts epochs and indexes nothing by them.
        """import numpy as np

weights = np.zeros(X.shape[1])
for epoch in range(100):
    weights -= 0.1 * X.T @ (X @ weights - y) / len(y)
""",
        """import numpy as np


def dot(a: np.ndarray, b: np.ndarray) -> float:
    total = 0.0
    for i in range(len(a)):
        total += a[i] * b[i]
    return total
""",
    ),
    "GL204": (
        # "for " and "open(" are there, but may_flag sees no read inside the loop.
        READ_ONCE,
        """import json

for step in range(3):
    with open("settings.json") as handle:
        settings = json.load(handle)
""",
    ),
    "GL205": (
        # The rows are collected in a list and stacked once.
        """import numpy as np

pieces = []
for row in rows:
    pieces.append(row * 2)
table = np.vstack(pieces)
""",
        """import numpy as np

table = np.empty((0, 3))
for row in rows:
    table = np.vstack([table, row * 2])
""",
    ),
    "GL206": (
        # The histogram split finder.
        """import xgboost as xgb

model = xgb.XGBClassifier(n_estimators=300, tree_method="hist", early_stopping_rounds=10)
""",
        """import xgboost as xgb

model = xgb.XGBClassifier(n_estimators=300, tree_method="exact")
""",
    ),
    "GL301": (
        # An augmentation helper: tensor maths, no model runs.
        """import torch


def random_flip(images: torch.Tensor) -> torch.Tensor:
    flipped = torch.rand(images.shape[0]) < 0.5
    images[flipped] = images[flipped].flip(-1)
    return images
""",
        """import torch

model = torch.nn.Linear(8, 3)


def predict(x):
    return model(x).argmax(dim=1)
""",
    ),
    "GL302": (
        # Saves a checkpoint. Its import of a `load_config` helper matches the import
        # trigger, but may_flag finds no model loader (and no project to follow).
        """import torch
from config import load_config

settings = load_config("train.yaml")
model = torch.nn.Linear(settings["inputs"], 1)
torch.save(model.state_dict(), settings["checkpoint"])
""",
        """import joblib


def predict(features):
    model = joblib.load("model.joblib")
    return model.predict([features])[0]
""",
    ),
    "GL303": (
        # A training script: the model never runs for inference.
        """from torch import nn

model = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.5), nn.Linear(8, 2))
for x, y in batches:
    optimizer.zero_grad()
    nn.functional.cross_entropy(model(x), y).backward()
    optimizer.step()
""",
        """import torch
from torch import nn

model = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.5), nn.Linear(8, 2))


def predict(x):
    with torch.no_grad():
        return model(x).argmax(dim=1)
""",
    ),
    "GL304": (
        # Exports the model and serves it with ONNX Runtime (may_flag: a runtime is imported).
        """import numpy as np
import onnxruntime
import torch

torch.onnx.export(model, torch.randn(1, 8), "model.onnx")
session = onnxruntime.InferenceSession("model.onnx")
for batch in batches:
    print(session.run(None, {"input": np.asarray(batch)}))
""",
        """import torch
from torch import nn

model = nn.Sequential(nn.Linear(8, 4), nn.ReLU(), nn.Linear(4, 2))
model.eval()
with torch.no_grad():
    for batch in batches:
        print(model(batch).argmax(dim=1))
""",
    ),
    "GL305": (
        # Trains and scores on the whole test set at once.
        """from sklearn.linear_model import LogisticRegression

clf = LogisticRegression(max_iter=200).fit(X_train, y_train)
print(clf.score(X_test, y_test))
""",
        """from sklearn.linear_model import LogisticRegression

clf = LogisticRegression(max_iter=200).fit(X_train, y_train)
labels = [clf.predict([x])[0] for x in X_test]
""",
    ),
    "GL306": (
        # Searches a bare estimator: no preprocessing step is refitted per candidate.
        """from sklearn.model_selection import GridSearchCV
from sklearn.svm import SVC

search = GridSearchCV(SVC(), {"C": [0.1, 1.0, 10.0]}, cv=3).fit(X, y)
""",
        """from sklearn.decomposition import PCA
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.svm import SVC

pipe = make_pipeline(PCA(n_components=3), SVC())
search = GridSearchCV(pipe, {"svc__C": [0.1, 1.0, 10.0]}, cv=3).fit(X, y)
""",
    ),
}


@pytest.mark.parametrize(
    ("code", "near_miss", "hit"),
    [pytest.param(code, *texts, id=code) for code, texts in NEAR_MISS_AND_HIT.items()],
)
def test_a_near_miss_is_not_parsed_and_a_hit_is(parses, code, near_miss, hit):
    assert _lint(near_miss, code) == []
    assert parses == [], f"{code} parsed a file it cannot flag"
    # Linted without the prefilter, the near miss is still clean: the prefilter skipped a
    # file with nothing to find, it did not drop a finding.
    assert _lint(near_miss, code, prefilter=False) == []
    parses.clear()
    codes = [finding.code for finding in _lint(hit, code)]
    assert codes and set(codes) == {code}
    assert len(parses) == 1


def test_every_parse_driven_rule_has_a_near_miss_case():
    # A new rule fails here until it has a case (or an honest PARSED_FOR_ANY_USE entry);
    # equality also catches a case left behind for a removed or renamed rule.
    registered = {rule.code for rule in rule_classes()}
    assert registered >= NOT_PARSE_DRIVEN
    assert not PARSED_FOR_ANY_USE.keys() & NEAR_MISS_AND_HIT.keys()
    assert registered - NOT_PARSE_DRIVEN - PARSED_FOR_ANY_USE.keys() == NEAR_MISS_AND_HIT.keys()
