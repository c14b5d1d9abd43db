"""The history of every committed run: the SQLite database rebuilt from the JSON (db.py), the
questions scripts/history answers (cli.py) and scripts/trend's index and chart (trend.py)."""
