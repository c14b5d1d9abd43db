"""Verdicts computed from a run's numbers, by rules printed beside them (scripts/report).

A claim (a module of claims/) computes run -> Verdict. A Verdict carries the outcome (HOLDS,
DOES_NOT_HOLD, PARTLY, INCONCLUSIVE, NOT_TESTED), the rule that produced it in words, the numbers
the rule was applied to, and the conditions; the report renders every claim of claims.ALL, in
order, in one table and one section each — a claim's module only computes. Helpers here turn
samples into intervals and intervals into outcomes, so every claim words its rule the same way:

  within(lo, hi, 0.9, 1.1)  HOLDS when the 95% interval lies inside the band, DOES_NOT_HOLD when it
                            lies wholly outside, INCONCLUSIVE when it straddles an edge
  above(lo, hi, t)          HOLDS when the interval lies above t, DOES_NOT_HOLD when wholly
                            below, INCONCLUSIVE otherwise
  all_of(parts)             one rule made of parts: DOES_NOT_HOLD if one part does not hold,
                            HOLDS if all hold, INCONCLUSIVE otherwise
  summary(parts)            a claim over many cases: HOLDS if all hold, DOES_NOT_HOLD if all do
                            not, INCONCLUSIVE if none is decided, PARTLY otherwise
An interval needs at least MIN_SAMPLES samples on each side; with fewer the outcome is INCONCLUSIVE
whatever the interval says (a bootstrap of 2 samples is not an interval).
"""
import math
import zlib
from dataclasses import dataclass, field

from . import results as R

HOLDS = "Holds"
DOES_NOT_HOLD = "Does not hold"
PARTLY = "Partly"
INCONCLUSIVE = "Inconclusive"
NOT_TESTED = "Not tested"
BOOTSTRAP = 2000
MIN_SAMPLES = 3


@dataclass
class Headline:
    """The one number a claim's line in the answer table shows, and the overview figure draws.

    A ratio (value, its 95% interval lo-hi, judged by the rule against threshold: one value for
    "above"/"below", two for a band) or, for a claim without a ratio, only words (text)."""
    what: str                    # what the number is ("leanest VM / leanest container, launch to READY")
    value: float = float("nan")  # the ratio (nan: no ratio)
    lo: float = float("nan")
    hi: float = float("nan")
    threshold: tuple = ()        # (t,) or (low, high): the rule's edge(s), drawn beside the interval
    rule: str = ""               # "above", "below" or "within": which side of the threshold holds
    text: str = ""               # words that go with (or stand for) the number

    def has_ratio(self):
        return not math.isnan(self.value)

    def number(self):
        """'34.2x [29.5, 38]' (no interval for an exact ratio), or '' without a ratio."""
        if not self.has_ratio():
            return ""
        if math.isnan(self.lo) or self.lo == self.value == self.hi:
            return f"{fmt_number(self.value)}x"
        return f"{fmt_number(self.value)}x [{fmt_number(self.lo)}, {fmt_number(self.hi)}]"

    def cell(self):
        """The table cell: '**ratio** [lo, hi] what; text' (or the words alone)."""
        if not self.has_ratio():
            return self.text or self.what
        return f"**{self.number()}** {self.what}" + (f"; {self.text}" if self.text else "")


def fmt_number(v):
    """3 significant digits, thousands written out (1,430 rather than 1.43e+03), inf as ∞."""
    if math.isinf(v):
        return "∞" if v > 0 else "-∞"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.3g}"


@dataclass
class Verdict:
    outcome: str                 # one of the constants above
    rule: str                    # how the outcome follows from the numbers, in words
    numbers: str                 # the comparison measured in this run
    tested_by: str = ""          # suites / files the numbers come from
    conditions: str = ""         # what limits the reading (TCG, host, ...)
    detail: str = ""             # a longer note or table for the claim's section (markdown)
    data: dict = field(default_factory=dict)  # the numbers, machine-readable
    headline: Headline = None    # the one number of the answer table (None: the claim has none)

    def label(self):
        return self.outcome


def not_tested(why, tested_by="", conditions=""):
    return Verdict(NOT_TESTED, "no comparison in this run, so no verdict", why, tested_by, conditions)


# --- numbers to intervals ---------------------------------------------------------------------

def bootstrap_ratio(num, den, seed_text="", trim=0.2):
    """(point, lo, hi): typical(num) / typical(den) and its bootstrap 95% interval, resampling
    both samples (typical = geometric mean of the middle 60%, cvbresults.typical)."""
    import numpy as np
    num = [v for v in num if v > 0]
    den = [v for v in den if v > 0]
    if not num or not den:
        return float("nan"), float("nan"), float("nan")
    point = R.typical(num, trim) / R.typical(den, trim)
    rng = np.random.default_rng(zlib.crc32(seed_text.encode()))

    def typicals(sample):
        logs = np.log(np.asarray(sample, dtype=float))
        n = len(logs)
        draws = np.sort(logs[rng.integers(0, n, size=(BOOTSTRAP, n))], axis=1)
        k = int(n * trim)
        mid = draws[:, k:n - k] if n - 2 * k > 0 else draws
        return np.exp(mid.mean(axis=1))

    ratios = typicals(num) / typicals(den)
    lo, hi = np.quantile(ratios, [0.025, 0.975])
    return point, float(lo), float(hi)


def within(lo, hi, low, high):
    if math.isnan(lo) or math.isnan(hi):
        return INCONCLUSIVE
    if low <= lo and hi <= high:
        return HOLDS
    if hi < low or lo > high:
        return DOES_NOT_HOLD
    return INCONCLUSIVE


def above(lo, hi, threshold):
    if math.isnan(lo) or math.isnan(hi):
        return INCONCLUSIVE
    if lo > threshold:
        return HOLDS
    if hi < threshold:
        return DOES_NOT_HOLD
    return INCONCLUSIVE


def all_of(outcomes):
    outcomes = [o for o in outcomes if o != NOT_TESTED]
    if not outcomes:
        return NOT_TESTED
    if DOES_NOT_HOLD in outcomes:
        return DOES_NOT_HOLD
    return HOLDS if all(o == HOLDS for o in outcomes) else INCONCLUSIVE


def summary(outcomes):
    outcomes = [o for o in outcomes if o != NOT_TESTED]
    if not outcomes:
        return NOT_TESTED
    for o in (HOLDS, DOES_NOT_HOLD, INCONCLUSIVE):
        if all(x == o for x in outcomes):
            return o
    if HOLDS not in outcomes and DOES_NOT_HOLD not in outcomes:
        return INCONCLUSIVE
    return PARTLY


def ratio_test(num, den, seed_text, test, *bounds):
    """(outcome, point, lo, hi): the bootstrap interval of typical(num)/typical(den) judged by
    test (within or above) — INCONCLUSIVE when either side has fewer than MIN_SAMPLES samples."""
    point, lo, hi = bootstrap_ratio(num, den, seed_text)
    if min(len(num), len(den)) < MIN_SAMPLES:
        return INCONCLUSIVE, point, lo, hi
    return test(lo, hi, *bounds), point, lo, hi


def fmt_interval(point, lo, hi, digits=3):
    if any(math.isnan(x) for x in (point, lo, hi)):
        return "n/a"
    return f"{point:.{digits}g} [{lo:.{digits}g}, {hi:.{digits}g}]"
