"""Claim 3, "runs like a native process" (cvbench_analysis/claims/native.py): its rule on synthetic
throughput runs that must come out as holds, does not hold, inconclusive and not tested.

Run: /usr/bin/python3 -m unittest discover -s scripts/tests   (ctest: scripts_test, label unit)
"""
import unittest

from synthetic_runs import ClaimTest, noisy, write_suite

from cvbench_analysis import verdicts as V
from cvbench_analysis.claims import native


class SamplingRuleMirrorsTheClaim(unittest.TestCase):
    """bench/src/throughput_sampling.cc stops sampling on claim 3's figures and band: the two
    lists must agree, or the suite would stop on figures the claim does not judge."""

    def test_decision_figures_and_band_are_the_claims(self):
        import os
        import re
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        with open(os.path.join(root, "bench", "src", "throughput_sampling.cc")) as f:
            text = f.read()
        block = text[text.index("DecisionFigures() {"):]
        block = block[:block.index("return figures;")]
        cpp = {m: tuple(re.findall(r'"(\w+)"', figs))
               for m, figs in re.findall(r'\{"(\w+)", \{([^}]*)\}\}', block)}
        self.assertEqual(cpp, dict(native.NATIVE_FIGURES))
        with open(os.path.join(root, "bench", "src", "throughput_sampling.h")) as f:
            header = f.read()
        self.assertIn(f"double band_lo = {native.BAND[0]};", header)
        self.assertIn(f"double band_hi = {native.BAND[1]};", header)


class NativeLike(ClaimTest):
    def throughput(self, name, ratio, rel=0.01, n=10):
        d = self.run_dir(name)
        cpu = lambda base: [{"int_ops_per_s": a, "fp_ops_per_s": b}  # noqa: E731
                            for a, b in zip(noisy(self.rng, base, rel, n), noisy(self.rng, base, rel, n))]
        write_suite(d, "throughput", {"native/mode:cpu": cpu(1e9), "cvrun/mode:cpu": cpu(1e9 * ratio)})
        return d

    def test_native_like_holds(self):
        v = self.verdict(native, self.throughput("a", 1.0))
        self.assertEqual(v.outcome, V.HOLDS, v.numbers + v.detail)
        self.assertIn("within 0.9-1.1", v.rule)
        self.assertRegex(v.detail, r"\| cvrun \| cpu \| int_ops_per_s \| [\d.]+ \[0\.9\d*, 1\.0\d*\] \| 10 / 10 \| Holds")

    def test_native_like_does_not_hold(self):
        v = self.verdict(native, self.throughput("b", 0.7))
        self.assertEqual(v.outcome, V.DOES_NOT_HOLD, v.numbers + v.detail)
        h = v.headline
        self.assertEqual((h.threshold, h.rule), ((0.9, 1.1), "within"))
        self.assertLess(h.hi, 0.9)
        self.assertIn("farthest from native: cvrun cpu", h.what)
        self.assertEqual(h.text, "0 of 1 launcher-modes native-like")

    def test_native_like_inconclusive_when_wide_or_few(self):
        v = self.verdict(native, self.throughput("c", 0.92, rel=0.15))
        self.assertEqual(v.outcome, V.INCONCLUSIVE, v.numbers + v.detail)
        v = self.verdict(native, self.throughput("d", 1.0, n=2))
        self.assertEqual(v.outcome, V.INCONCLUSIVE, "2 samples are not an interval: " + v.detail)

    def test_engine_variants_are_rows_of_their_own_against_native(self):
        # Docker's bridge (NAT) and --network host side by side, each against native's net entry.
        d = self.run_dir("e")
        net = lambda base: [{"stream_mb_per_s": a, "rr_per_s": b}  # noqa: E731
                            for a, b in zip(noisy(self.rng, base, 0.01, 10), noisy(self.rng, base, 0.01, 10))]
        write_suite(d, "throughput", {"native/mode:net": net(1000.0),
                                      "docker/runtime:runc/mode:net": net(700.0),
                                      "docker/runtime:runc/net:host/mode:net": net(1000.0)})
        v = self.verdict(native, d)
        self.assertRegex(v.detail, r"\| docker/runtime:runc \| net \| stream_mb_per_s \| 0\.7\d* .*Does not hold")
        self.assertRegex(v.detail, r"\| docker/runtime:runc/net:host \| net \| stream_mb_per_s \| 1\.0?\d* .*Holds")

    def test_native_like_not_tested_without_throughput(self):
        d = self.run_dir("e")
        write_suite(d, "startup", {"cvrun": [{"ready_ms": 30.0}] * 5})
        self.assertEqual(self.verdict(native, d).outcome, V.NOT_TESTED)


if __name__ == "__main__":
    unittest.main()
