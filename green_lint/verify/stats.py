"""Medians, spread, the saving with a bootstrap confidence interval, and its verdict."""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

BOOTSTRAP_SAMPLES = 4000
# Fixed, so that the same runs always give the same interval.
BOOTSTRAP_SEED = 20240605
# With a handful of runs on a shared machine, the bootstrap interval of a median is too
# narrow (with 2 runs a side, a no-op change excludes 0 one time in three): a change
# smaller than this is not called a saving or a cost, whatever its interval.
MIN_EFFECT_PERCENT = 5.0


@dataclass(frozen=True)
class Comparison:
    """Before vs after for one figure (energy or time); savings in percent of before."""

    before_median: float
    after_median: float
    before_spread: tuple[float, float]
    after_spread: tuple[float, float]
    saving_percent: float | None
    ci95_percent: tuple[float, float] | None

    @property
    def verdict(self) -> str:
        kind = verdict(self.saving_percent, self.ci95_percent)
        return kind if kind == "no-difference" or self.clear_of_noise else "no-difference"

    @property
    def clear_of_noise(self) -> bool:
        """Whether the medians lie further apart than either version's runs spread.

        A bootstrap of a few runs can exclude 0 by chance (with 3 runs a side, a no-op
        change has all three "after" runs faster one time in twenty); a real change moves
        the medians by more than the run-to-run spread."""
        gap = abs(self.before_median - self.after_median)
        spread = max(
            self.before_spread[1] - self.before_spread[0], self.after_spread[1] - self.after_spread[0]
        )
        return gap > spread


def compare(before: Sequence[float], after: Sequence[float]) -> Comparison:
    """Compare two non-empty samples; the saving is 1 - median(after) / median(before)."""
    before_median, after_median = statistics.median(before), statistics.median(after)
    return Comparison(
        before_median=before_median,
        after_median=after_median,
        before_spread=(min(before), max(before)),
        after_spread=(min(after), max(after)),
        saving_percent=saving_percent(before_median, after_median),
        ci95_percent=bootstrap_ci95(before, after),
    )


def saving_percent(before: float, after: float) -> float | None:
    if before <= 0:
        return None
    return (1 - after / before) * 100


def bootstrap_ci95(
    before: Sequence[float],
    after: Sequence[float],
    samples: int = BOOTSTRAP_SAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> tuple[float, float] | None:
    """95% percentile-bootstrap interval of the saving (ratio of medians), in percent.

    Each side is resampled on its own: the runs of one version are exchangeable, and the
    alternating order already spreads the machine's drift over both versions.
    """
    if not before or not after:
        return None
    rng = random.Random(seed)
    savings = []
    for _ in range(samples):
        before_median = statistics.median(rng.choices(before, k=len(before)))
        after_median = statistics.median(rng.choices(after, k=len(after)))
        saving = saving_percent(before_median, after_median)
        if saving is not None:
            savings.append(saving)
    if not savings:
        return None
    savings.sort()
    last = len(savings) - 1
    low, high = savings[math.floor(0.025 * last)], savings[math.ceil(0.975 * last)]
    return (low, high)


def verdict(saving: float | None, ci95_percent: tuple[float, float] | None) -> str:
    """ "saving", "cost" or "no-difference" (the interval contains 0, or the change is tiny)."""
    if saving is None or ci95_percent is None:
        return "no-difference"
    low, high = ci95_percent
    if low > 0 and saving >= MIN_EFFECT_PERCENT:
        return "saving"
    if high < 0 and saving <= -MIN_EFFECT_PERCENT:
        return "cost"
    return "no-difference"


def verdict_words(comparison: Comparison, figure: str) -> str:
    """ "saves 87% energy (95% CI 84-90%)", "no measurable difference", "costs 12% more time"."""
    kind = comparison.verdict
    if kind == "no-difference" or comparison.saving_percent is None or comparison.ci95_percent is None:
        return f"no measurable difference in {figure}"
    low, high = comparison.ci95_percent
    if kind == "saving":
        return f"saves {comparison.saving_percent:.0f}% {figure} (95% CI {low:.0f}-{high:.0f}%)"
    return f"costs {-comparison.saving_percent:.0f}% more {figure} (95% CI {-high:.0f}-{-low:.0f}%)"
