"""scripts/site: the static HTML site of every committed run (build.py), from the history
database (data.py), with the regression gate over the history (gate_history.py), series charts
(charts.py) and one page layout (pages.py)."""
