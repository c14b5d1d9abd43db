"""The regression gate: scripts/compare's within-run ratio gate (compare.py) and the density gate
(density.py), both run by scripts/check-regression against results/baseline."""
