"""The claims, one module each, in the order the report numbers them.

A claim module has:
  TEXT      the claim as the seed words it ("Runs like a native process")
  CHARTS    the charts (scripts/plot's file names) its section embeds
  evaluate(run) -> verdicts.Verdict   its rule, in words, applied to the run's numbers
and its unit test, scripts/tests/test_claim_<module>.py. To add a claim: write the module, add it
to ALL below (its place is its number), and write its test with synthetic runs that make it hold,
not hold and stay inconclusive.
"""
from .. import verdicts as V
from . import anywhere, density, image_instance, isolation, lightweight, native, scaleout, vm_cost

ALL = [image_instance, isolation, native, vm_cost, density, scaleout, lightweight, anywhere]


def evaluate(run):
    """[(number, text, figures, Verdict)] for every claim; a claim that raises is reported as not
    tested with the error, never hides the others."""
    out = []
    for i, claim in enumerate(ALL, start=1):
        try:
            v = claim.evaluate(run)
        except Exception as e:  # noqa: BLE001 - shown in the report
            v = V.not_tested(f"report error: {type(e).__name__}: {e}")
        out.append((i, claim.TEXT, list(claim.CHARTS), v))
    return out
