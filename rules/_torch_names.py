"""What a function's name says it does: evaluate, predict, train...

Names are split into words (`evaluateModel`, `run_inference`) and the words are matched
against short lists, so `test_step` and `predict_batch` read like `test` and `predict`.
"""

from __future__ import annotations

import re

INFERENCE_WORDS = frozenset(
    {
        "eval",
        "evaluate",
        "evaluation",
        "validate",
        "validation",
        "val",
        "valid",
        "test",
        "testing",
        "predict",
        "prediction",
        "predictions",
        "infer",
        "inference",
        "generate",
        "generation",
    }
)
TRAINING_WORDS = frozenset({"train", "training", "fit", "finetune", "optimize"})
# Callers with one of these words in their name may backpropagate through what they call.
TRAINING_CALLERS = TRAINING_WORDS | {"loss", "backward"}


def name_words(name: str) -> list[str]:
    """`evaluateModel`, `run_inference` -> ["evaluate", "model"], ["run", "inference"]."""
    return [w.lower() for w in re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+", name)]
