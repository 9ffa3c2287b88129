"""GL102 no-early-stopping on the shapes of issue 14: loops that are not PyTorch (NumPy
gradient descent, warm_start and partial_fit, one-epoch fits, `while` counters), the words
and advice of each kind of run, and the fixes that must not break a program."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from green_lint.engine import LintSettings, lint_source
from green_lint.fix import fix_source
from green_lint.registry import select_rules
from green_lint.source import load_source


def _source(code: str):
    return load_source(Path("example.py"), "example.py", textwrap.dedent(code).encode())


def lint(code: str) -> list:
    return lint_source(_source(code), LintSettings(rules=select_rules(["GL102"])))


def rows(code: str) -> list[int]:
    return [finding.location.row for finding in lint(code)]


def fixed(code: str) -> str:
    return fix_source(_source(code), LintSettings(rules=select_rules(["GL102"])), unsafe=True).text


GRADIENT_DESCENT = """\
import numpy as np
X, y, w, lr = np.ones((4, 2)), np.ones(4), np.zeros(2), 0.1
{header}
    grad = X.T @ (X @ w - y)
    w -= lr * grad
"""


# -- hand-written trainers that are not PyTorch -------------------------------------------
@pytest.mark.parametrize(
    ("header", "unit"),
    [
        # One full-batch update a turn, and no name: iterations.
        ("for i in range(500):", "iterations"),
        ("for iteration in range(500):", "iterations"),
        ("for step in range(500):", "steps"),
        ("for epoch in range(500):", "epochs"),
    ],
)
def test_numpy_gradient_descent_says_the_unit_of_its_budget(header, unit):
    (finding,) = lint(GRADIENT_DESCENT.format(header=header))
    assert f"trains all 500 {unit}" in finding.message
    assert finding.fix is None


def test_a_turn_over_batches_is_an_epoch_whatever_its_name():
    code = """\
import numpy as np
X, y, w, lr = np.ones((4, 2)), np.ones(4), np.zeros(2), 0.1
for i in range(500):
    for start in range(0, 4, 2):
        grad = X[start:start + 2].T @ (X[start:start + 2] @ w - y[start:start + 2])
        w -= lr * grad
"""
    (finding,) = lint(code)
    assert "trains all 500 epochs" in finding.message


@pytest.mark.parametrize(
    "update",
    [
        "w = w - 0.01 * grad",
        "w -= learning_rate * grad",
        "q[s, a] += alpha * (target - q[s, a])",
        "velocity = 0.9 * velocity - lr * grad\n    w += velocity",
        "new_q = (1 - alpha) * q[s, a] + alpha * target\n    q[s, a] = new_q",
    ],
)
def test_hand_written_updates_are_training_steps(update):
    code = f"import numpy as np\nfor epoch in range(50):\n    {update}\n"
    assert rows(code) == [2]


@pytest.mark.parametrize(
    "body",
    [
        "lr -= lr * 0.1",  # a schedule of the learning rate itself
        "total += weight * x",  # a sum, no learning rate nor gradient
        "grads[i] = lr * x",  # storing a gradient is no update
        "w -= lr * grad\n    if abs(grad).max() < tol:\n        break",  # stops on a tolerance
    ],
)
def test_look_alikes_of_updates_are_not_flagged(body):
    code = f"import numpy as np\nfor epoch in range(50):\n    {body}\n"
    assert rows(code) == []


def test_a_loop_over_the_next_slice_of_a_stream_is_one_pass_not_epochs():
    code = """\
    import numpy as np
    for step in range(100):
        start, end = step * 10, (step + 1) * 10
        w -= lr * grad(data[start:end])
    for i in range(100):
        w -= lr * grad(data[i * 10:(i + 1) * 10])
    for epoch in range(100):
        w -= lr * grad(data[epoch * 10:(epoch + 1) * 10])
    """
    assert rows(code) == [7]  # a loop that names its epochs is epochs


@pytest.mark.parametrize(
    ("header", "budget"),
    [
        ("step = 0\nwhile step < 300:", 300),
        ("step = 100\nwhile step < 300:", 200),
        ("step = 1\nwhile step <= 300:", 300),
        ("step = 0\nwhile 300 > step:", 300),
    ],
)
def test_while_loops_counting_up_to_a_budget(header, budget):
    code = f"import numpy as np\n{header}\n    w -= lr * grad\n    step += 1\n"
    (finding,) = lint(code)
    assert f"trains all {budget} steps" in finding.message


@pytest.mark.parametrize(
    "header",
    [
        "step = 0\nwhile step < 300 and loss > tol:",  # also stops on the loss
        "step = 0\nwhile loss > tol:",  # no counter at all
        "step = int(input())\nwhile step < 300:",  # unknown start
    ],
)
def test_while_loops_without_a_fixed_budget_are_not_flagged(header):
    code = f"import numpy as np\n{header}\n    w -= lr * grad\n    step += 1\n"
    assert rows(code) == []


def test_one_epoch_fits_in_a_loop_are_the_epochs():
    code = """\
    from mylib import NeuralNet
    net = NeuralNet(max_epochs=1)
    other = NeuralNet(max_epochs=20)
    for _ in range(25):
        net.fit(X, y)
    for _ in range(25):
        other.fit(X, y)
    for _ in range(25):
        other.fit(X, y, epochs=1)
    """
    assert rows(code) == [4, 8]


def test_a_loop_repeating_whole_trainings_is_not_an_epoch_loop():
    code = """\
    import numpy as np

    def train():
        w = np.zeros(2)
        for epoch in range(100):
            w -= lr * grad(w)
        return w

    for trial in range(20):
        train()
    """
    assert rows(code) == [5]


def test_a_method_call_site_gives_the_budget():
    code = """\
    import numpy as np

    class GAN:
        def train(self, n_epochs, batch_size=128):
            for epoch in range(n_epochs):
                self.discriminator.train_on_batch(x, y)

    gan = GAN()
    gan.train(n_epochs=2000, batch_size=64)
    """
    assert rows(code) == [5]


# -- the advice that fits the run --------------------------------------------------------
def _message(code: str) -> str:
    (finding,) = lint(code)
    return finding.message


def test_reinforcement_learning_is_told_to_stop_on_the_return():
    code = """\
    import numpy as np
    for i_episode in range(500):
        q[s, a] += alpha * (r - q[s, a])
    """
    message = _message(code)
    assert "500 episodes" in message and "return" in message
    assert "validation" not in message and "held-out" not in message


def test_an_agent_trained_by_iterations_gets_the_reinforcement_learning_advice():
    code = """\
    import torch
    for _ in range(20000):
        collect_step(env, agent.collect_policy, replay_buffer)
        loss.backward()
        optimizer.step()
    """
    message = _message(code)
    assert "return" in message and "validation" not in message


def test_a_gan_is_told_to_watch_its_samples_not_a_validation_loss():
    code = """\
    import torch
    for epoch in range(200):
        d_loss = discriminator(real).mean() - discriminator(fake).mean()
        d_loss.backward()
        optimizer_D.step()
    """
    message = _message(code)
    assert "samples" in message and "validation" not in message and "held-out" not in message


def test_style_transfer_is_told_to_stop_on_its_loss():
    code = """\
    import torch
    for step in range(300):
        loss = style_weight * style_loss + content_weight * content_loss
        loss.backward()
        optimizer.step()
    """
    message = _message(code)
    assert "300 steps" in message and "tolerance" in message
    assert "validation" not in message and "held-out" not in message


# -- scikit-learn: partial_fit, warm_start, searches ---------------------------------------
def test_an_estimator_used_only_through_partial_fit_is_not_a_fixed_budget_run():
    code = """\
    from sklearn.linear_model import SGDClassifier
    model = SGDClassifier()
    for batch_x, batch_y in batches:
        model.partial_fit(batch_x, batch_y, classes=[0, 1])
    """
    assert rows(code) == []


def test_partial_fit_next_to_fit_gets_no_early_stopping_fix():
    code = """\
    from sklearn.linear_model import SGDClassifier
    model = SGDClassifier()
    model.fit(X, y)
    model.partial_fit(X_new, y_new)
    """
    assert rows(code) == [2]
    assert fixed(code) == textwrap.dedent(code)


def test_a_warm_start_loop_trains_and_a_patience_break_stops_it():
    flagged = """\
    from sklearn.neural_network import MLPClassifier
    mlp = MLPClassifier(max_iter=1, warm_start=True)
    for epoch in range(30):
        mlp.fit(X, y)
    """
    assert rows(flagged) == [3]
    stopped = textwrap.dedent(flagged) + "    if no_improvement >= patience:\n        break\n"
    assert rows(stopped) == []
    cold = flagged.replace(", warm_start=True", "")
    assert rows(cold) == []  # each fit starts again: a repeated run, not epochs


def test_an_estimator_built_inside_a_search_with_a_budget_grid_is_the_search_budget():
    code = """\
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.model_selection import GridSearchCV
    GridSearchCV(GradientBoostingClassifier(), {"n_estimators": [50, 100]}).fit(X, y)
    GridSearchCV(GradientBoostingClassifier(), {"max_depth": [2, 3]}).fit(X, y)
    """
    assert rows(code) == [4]


# -- the Keras fix must keep the program running -----------------------------------------
KERAS = """\
from tensorflow import keras
model = keras.Sequential([keras.layers.Dense(1)])
EPOCHS = 30
history = model.fit(x, y, epochs=EPOCHS, validation_split=0.2)
{after}
"""


@pytest.mark.parametrize(
    "after",
    [
        'plt.plot(range(EPOCHS), history.history["loss"])',
        'final = history.history["acc"][EPOCHS - 1]',
        'assert len(history.history["loss"]) == EPOCHS',
        'for epoch in range(1, 31):\n    print(history.history["loss"][epoch - 1])',
        "print(history.epoch[29])",
    ],
)
def test_no_keras_fix_when_the_history_is_read_by_the_epoch_budget(after):
    code = KERAS.format(after=after)
    (finding,) = lint(code)
    assert "not fixed automatically" in finding.message
    assert finding.fix is None
    assert fixed(code) == code


@pytest.mark.parametrize(
    "after",
    [
        'plt.plot(history.history["loss"])',
        'final = history.history["acc"][-1]',
        'epochs_run = len(history.history["loss"])',
        "print(EPOCHS)",
    ],
)
def test_keras_fix_when_the_history_is_read_by_its_own_length(after):
    code = KERAS.format(after=after)
    assert "EarlyStopping(" in fixed(code)


# -- TensorFlow 2 step loops over `dataset.take(N)` -----------------------------------------
TAKE_LOOP = """\
import tensorflow as tf
training_steps = 2000
train_data = tf.data.Dataset.from_tensor_slices((x, y)).repeat().shuffle(5000).batch(256)
optimizer = tf.optimizers.SGD(0.1)
def run_optimization(x, y):
    with tf.GradientTape() as g:
        loss = loss_fn(model(x), y)
    optimizer.apply_gradients(zip(g.gradient(loss, model.trainable_variables), model.trainable_variables))
for step, (batch_x, batch_y) in enumerate({data}.take({budget}), 1):
    {body}
"""


def test_a_take_loop_that_trains_is_flagged_with_its_steps():
    code = TAKE_LOOP.format(
        data="train_data", budget="training_steps + 1", body="run_optimization(batch_x, batch_y)"
    )
    (finding,) = lint(code)
    assert finding.location.row == 9
    assert "trains all 2001 steps" in finding.message
    assert "held-out data" in finding.message


def test_a_take_loop_without_enumerate_or_step_names_still_counts_steps():
    code = """\
    import tensorflow as tf
    ds = tf.data.Dataset.range(10).repeat()
    opt = tf.keras.optimizers.Adam()
    for x, y in ds.take(300):
        opt.apply_gradients(zip(grads, variables))
    """
    (finding,) = lint(code)
    assert "trains all 300 steps" in finding.message


@pytest.mark.parametrize(
    ("data", "budget", "body"),
    [
        ("train_data", "training_steps", "predictions = model(batch_x)"),  # inference only
        ("train_data", "1", "run_optimization(batch_x, batch_y)"),  # a peek at one batch
        ("np.arange(4000)", "training_steps", "run_optimization(batch_x, batch_y)"),  # numpy's take
        (
            "train_data",
            "training_steps",
            "run_optimization(batch_x, batch_y)\n    if val_loss() > best_val_loss:\n        break",
        ),
    ],
)
def test_take_loops_that_do_not_train_a_fixed_budget_are_not_flagged(data, budget, body):
    code = "import numpy as np\n" + TAKE_LOOP.format(data=data, budget=budget, body=body)
    assert rows(code) == []


# -- TensorFlow Estimators ------------------------------------------------------------------
ESTIMATOR = """\
import tensorflow as tf
classifier = tf.estimator.DNNClassifier(feature_columns=columns, hidden_units=[32])
classifier.train({arguments})
"""


@pytest.mark.parametrize(
    ("arguments", "budget"),
    [
        ("input_fn=train_input_fn, steps=1000", 1000),
        ("train_input_fn, max_steps=2000", 2000),
        ("train_input_fn, None, 3000", 3000),  # positional steps
        ("train_input_fn, hooks=[tf.estimator.LoggingTensorHook({}, every_n_iter=10)], steps=500", 500),
    ],
)
def test_an_estimator_trained_for_a_fixed_number_of_steps_is_flagged(arguments, budget):
    (finding,) = lint(ESTIMATOR.format(arguments=arguments))
    assert finding.location.row == 3
    assert f"trains a fixed {budget} steps" in finding.message
    assert "stop_if_no_decrease_hook" in finding.message


@pytest.mark.parametrize(
    "arguments",
    [
        "train_input_fn, steps=50",  # below min-rounds
        "train_input_fn",  # until the input function is exhausted
        "train_input_fn, steps=None",
        "train_input_fn, steps=1000, hooks=[tf.estimator.experimental.stop_if_no_decrease_hook(classifier, 'loss', 100)]",
        "train_input_fn, steps=1000, hooks=my_hooks",  # the caller's hooks may stop it
    ],
)
def test_an_estimator_with_a_stop_hook_or_no_fixed_budget_is_not_flagged(arguments):
    assert rows(ESTIMATOR.format(arguments=arguments)) == []


def test_an_estimator_returned_by_a_function_of_the_file_is_followed():
    code = """\
    import tensorflow as tf
    def create_classifier(trial):
        classifier = tf.estimator.DNNClassifier(feature_columns=columns, hidden_units=[8])
        return classifier
    def objective(trial):
        classifier = create_classifier(trial)
        classifier.train(input_fn=train_input_fn, steps=1000)
    """
    assert rows(code) == [7]


def test_a_look_alike_train_and_train_and_evaluate_are_not_estimator_budgets():
    code = """\
    import tensorflow as tf
    class Agent:
        def train(self, steps):
            return steps
    Agent().train(steps=10000)
    spec = tf.estimator.TrainSpec(input_fn=train_input_fn, max_steps=20000)
    tf.estimator.train_and_evaluate(estimator, spec, tf.estimator.EvalSpec(input_fn=eval_input_fn))
    """
    assert rows(code) == []


# -- LBFGS loops counted by a one-element list in the closure -------------------------------
CLOSURE_LOOP = """\
import torch
def fit(points, num_steps=300):
    center = torch.zeros(2, requires_grad=True)
    optimizer = torch.optim.LBFGS([center])
    run = [0]
    while run[0] <= num_steps:
        def closure():
            optimizer.zero_grad()
            {loss} = ((points - center) ** 2).sum()
            {loss}.backward()
            {count}
            return {loss}
        optimizer.step(closure)
    return center
"""


def test_an_lbfgs_closure_loop_is_flagged_with_tolerance_advice():
    (finding,) = lint(CLOSURE_LOOP.format(loss="loss", count="run[0] += 1"))
    assert finding.location.row == 6
    assert "trains all 301 steps" in finding.message
    assert "tolerance" in finding.message
    assert "validation" not in finding.message and "held-out" not in finding.message


def test_style_transfer_closure_loop_names_the_style_and_content_loss():
    (finding,) = lint(CLOSURE_LOOP.format(loss="style_content_loss", count="run[0] += 1"))
    assert "style and content loss" in finding.message


def test_a_list_that_is_not_counted_up_is_no_budget():
    assert rows(CLOSURE_LOOP.format(loss="loss", count="run[0] = 0")) == []
    stopped = CLOSURE_LOOP.format(loss="loss", count="run[0] += 1").replace(
        "        optimizer.step(closure)\n",
        "        if float(optimizer.step(closure)) < tolerance:\n            break\n",
    )
    assert rows(stopped) == []


def test_a_plain_counter_with_its_bound_in_a_config_gets_the_supervised_advice():
    code = """\
import torch
model = torch.nn.Linear(2, 1)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
cfg = {"steps": 500}
step = 0
while step < cfg["steps"]:
    loss = model(torch.randn(4, 2)).pow(2).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    step += 1
"""
    (finding,) = lint(code)
    assert "500" in finding.message
    assert "closure" not in finding.message


DATA_ENDED = """\
import torch
{definition}
model = torch.nn.Linear(2, 1)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
batches = iter([torch.randn(4, 2) for _ in range(30)])
for epoch in range(50):
    try:
        batch = next(batches)
    except {caught}:
        break
    loss = model(batch).pow(2).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
"""


def test_a_loop_ended_by_its_data_is_resolved_through_the_exceptions_imports():
    assert rows(DATA_ENDED.format(definition="", caught="StopIteration")) == []
    own = DATA_ENDED.format(
        definition="class OutOfRangeError(Exception):\n    pass", caught="OutOfRangeError"
    )
    assert rows(own) == [7]  # the user's own exception says nothing about the data
