"""The verdict combinators every claim words its rule with (cvbench_analysis/verdicts.py).

Run: /usr/bin/python3 -m unittest discover -s scripts/tests   (ctest: scripts_test, label unit)
"""
import unittest

import synthetic_runs  # noqa: F401 - puts scripts/ on sys.path

from cvbench_analysis import verdicts as V


class Combinators(unittest.TestCase):
    def test_combinators(self):
        H, N, I = V.HOLDS, V.DOES_NOT_HOLD, V.INCONCLUSIVE
        self.assertEqual(V.within(0.95, 1.05, 0.9, 1.1), H)
        self.assertEqual(V.within(0.5, 0.8, 0.9, 1.1), N)
        self.assertEqual(V.within(0.85, 1.05, 0.9, 1.1), I)
        self.assertEqual(V.above(2.5, 3, 2), H)
        self.assertEqual(V.above(1, 1.5, 2), N)
        self.assertEqual(V.above(1.5, 2.5, 2), I)
        self.assertEqual(V.all_of([H, I]), I)
        self.assertEqual(V.all_of([H, N, I]), N)
        self.assertEqual(V.summary([H, N]), V.PARTLY)
        self.assertEqual(V.summary([I, I]), I)
        self.assertEqual(V.summary([H, H]), H)

    def test_too_few_samples_are_inconclusive_whatever_the_interval(self):
        o, point, lo, hi = V.ratio_test([10.0, 10.1], [1.0, 1.01], "x", V.above, 2.0)
        self.assertEqual(o, V.INCONCLUSIVE)
        self.assertGreater(lo, 2.0)


if __name__ == "__main__":
    unittest.main()
