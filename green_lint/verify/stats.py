"""The saving from paired runs, its 95% interval, and the verdict.

The runs alternate in pairs: pair i runs the two versions back to back, so whatever the
machine was doing then (other load, temperature, clock) weighs on both. The analysis is
therefore on the pairs: each pair's ratio after/before, the saving is one minus their
geometric mean, and its interval a t-interval on the ratios' logarithms. (The first
version resampled the two sides apart and called a change real only when the medians lay
further apart than the whole range of either side: a range that widens with every run,
so more runs detected less.)

The verdict says which of four things the interval shows:
- "saving" / "cost": the whole interval on one side of 0, and the change at least
  MIN_EFFECT_PERCENT;
- "no-difference": the whole interval inside ±MIN_EFFECT_PERCENT: any difference is
  smaller than that;
- "inconclusive": neither; the interval's half-width is what this machine could detect
  with these runs.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

# A change smaller than this is not called a saving or a cost, whatever its interval.
MIN_EFFECT_PERCENT = 5.0
# Student's t, two-sided 95%, by degrees of freedom (1 to 30).
_T95 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip
VERDICTS = ("saving", "cost", "no-difference", "inconclusive")


@dataclass(frozen=True)
class Comparison:
    """Before vs after for one figure (energy, time...); savings in percent of before."""

    before_median: float
    after_median: float
    before_spread: tuple[float, float]
    after_spread: tuple[float, float]
    saving_percent: float | None
    ci95_percent: tuple[float, float] | None
    pairs: int = 0

    @property
    def verdict(self) -> str:
        return verdict(self.saving_percent, self.ci95_percent)

    @property
    def half_width(self) -> float | None:
        """Half the interval's width, in points of percent: the smallest change these runs
        could tell from noise."""
        if self.ci95_percent is None:
            return None
        low, high = self.ci95_percent
        return (high - low) / 2


def compare(before: Sequence[float], after: Sequence[float]) -> Comparison:
    """Compare two non-empty samples whose i-th values ran as pair i (extra values of the
    longer side, from a pair cut short, are left out of the paired analysis)."""
    pairs = [(b, a) for b, a in zip(before, after, strict=False) if b > 0 and a > 0]
    saving, interval = paired_saving(pairs)
    return Comparison(
        before_median=statistics.median(before),
        after_median=statistics.median(after),
        before_spread=(min(before), max(before)),
        after_spread=(min(after), max(after)),
        saving_percent=saving,
        ci95_percent=interval,
        pairs=len(pairs),
    )


def paired_saving(pairs: Sequence[tuple[float, float]]) -> tuple[float | None, tuple[float, float] | None]:
    """(saving in percent, its 95% interval) from (before, after) pairs; no interval from
    fewer than two pairs."""
    if not pairs:
        return None, None
    logs = [math.log(after / before) for before, after in pairs]
    mean = statistics.fmean(logs)
    saving = _percent(mean)
    if len(logs) < 2:
        return saving, None
    margin = t95(len(logs) - 1) * statistics.stdev(logs) / math.sqrt(len(logs))
    # A larger log ratio is a smaller saving: the bounds swap.
    return saving, (_percent(mean + margin), _percent(mean - margin))


def t95(degrees: int) -> float:
    if degrees <= len(_T95):
        return _T95[degrees - 1]
    return 1.96 + 2.37 / degrees  # Cornish-Fisher: within 0.003 of the table at 30


def _percent(log_ratio: float) -> float:
    return (1 - math.exp(log_ratio)) * 100


def verdict(saving: float | None, ci95_percent: tuple[float, float] | None) -> str:
    """One of VERDICTS (see the module's docs)."""
    if saving is None or ci95_percent is None:
        return "inconclusive"
    low, high = ci95_percent
    if low > 0 and saving >= MIN_EFFECT_PERCENT:
        return "saving"
    if high < 0 and saving <= -MIN_EFFECT_PERCENT:
        return "cost"
    if low > -MIN_EFFECT_PERCENT and high < MIN_EFFECT_PERCENT:
        return "no-difference"
    return "inconclusive"


def verdict_words(comparison: Comparison, figure: str) -> str:
    """ "saves 87% energy (95% CI 84 to 90%)", "costs 12% more time (...)", "no difference in
    time larger than 5% (...)", "inconclusive: ... could only detect changes above ±9%"."""
    kind = comparison.verdict
    saving, interval = comparison.saving_percent, comparison.ci95_percent
    if interval is None or saving is None:
        return f"inconclusive: {comparison.pairs} pair{'s' * (comparison.pairs != 1)} of runs cannot bound a change in {figure}"
    low, high = interval
    if kind == "saving":
        return f"saves {saving:.0f}% {figure} (95% CI {low:.0f} to {high:.0f}%)"
    if kind == "cost":
        return f"costs {-saving:.0f}% more {figure} (95% CI {-high:.0f} to {-low:.0f}%)"
    if kind == "no-difference":
        return f"no difference in {figure} larger than {MIN_EFFECT_PERCENT:.0f}% (95% CI {low:.0f} to {high:.0f}%)"
    return (
        f"inconclusive: with {comparison.pairs} pairs of runs this machine could only detect changes in "
        f"{figure} above ±{comparison.half_width:.0f}% (measured {saving:.0f}%, 95% CI {low:.0f} to {high:.0f}%)"
    )
