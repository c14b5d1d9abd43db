"""Hand-written checks of the published shapes of the export formats (no pip, no jsonschema).

Each check returns a list of problems (empty: the document has the format's shape), so a test
can assert both that our exports pass and that broken documents are caught.

- Bencher Metric Format: the JSON Schema published at https://bencher.dev/bmf.json (reference
  page https://bencher.dev/docs/reference/bencher-metric-format): a top-level object whose keys
  (benchmark names, 1..1024 characters) map to objects whose keys (measures, 1..64 characters
  by name) map to objects with a required number `value` and optional numbers `lower_value`,
  `upper_value`. Bencher also needs lower_value <= value <= upper_value to draw a boundary.
- PerfKit Benchmarker samples (perfkitbenchmarker/publisher.py: SampleCollector.AddSamples and
  NewlineDelimitedJSONPublisher with collapse_labels): one JSON object per line with metric
  (string), value (number), unit (string), timestamp (number, seconds since the epoch), test
  (string), labels (string of "|key:value|" items joined by ","), product_name (string),
  official (bool), owner (string), run_uri (string), sample_uri (string). The labels must come
  back intact through PerfKit's own reader (RepublishJSONSamples: strip the outer '|', split on
  '|,|', each item on its first ':').
- CSV: RFC 4180 — a header record, CRLF-terminated records, every record with as many fields as
  the header, quoting that round-trips; plus our columns and a numeric value.
"""
import csv
import io
import json
import math
import re

_NUMBER = (int, float)


def _is_number(v):
    return isinstance(v, _NUMBER) and not isinstance(v, bool) and math.isfinite(v)


def check_bmf(doc):
    problems = []
    if not isinstance(doc, dict):
        return ["top level is not an object"]
    if not doc:
        problems.append("no benchmarks")
    for bench, measures in doc.items():
        if not isinstance(bench, str) or not 1 <= len(bench) <= 1024:
            problems.append(f"benchmark name {bench!r}: 1..1024 characters")
        if not isinstance(measures, dict) or not measures:
            problems.append(f"{bench}: not an object of measures")
            continue
        for measure, metric in measures.items():
            if not 1 <= len(measure) <= 64:
                problems.append(f"{bench}/{measure}: measure name 1..64 characters")
            if not isinstance(metric, dict):
                problems.append(f"{bench}/{measure}: metric is not an object")
                continue
            if "value" not in metric:
                problems.append(f"{bench}/{measure}: required 'value' missing")
            for k in ("value", "lower_value", "upper_value"):
                if k in metric and not _is_number(metric[k]):
                    problems.append(f"{bench}/{measure}.{k}: not a finite number: {metric[k]!r}")
            lo, v, hi = (metric.get(k) for k in ("lower_value", "value", "upper_value"))
            if all(_is_number(x) for x in (lo, v)) and lo > v:
                problems.append(f"{bench}/{measure}: lower_value {lo} > value {v}")
            if all(_is_number(x) for x in (v, hi)) and v > hi:
                problems.append(f"{bench}/{measure}: value {v} > upper_value {hi}")
    return problems


PERFKIT_FIELDS = {"metric": str, "value": "number", "unit": str, "timestamp": "number",
                  "test": str, "labels": str, "product_name": str, "official": bool,
                  "owner": str, "run_uri": str, "sample_uri": str}
_LABELS = re.compile(r"^\|[^|:]+:[^|]*\|(,\|[^|:]+:[^|]*\|)*$")


def perfkit_labels(labels):
    """PerfKit's own reading of a collapsed labels string -> dict."""
    fields = labels[1:-1].split("|,|")
    return dict(field.split(":", 1) for field in fields)


def check_perfkit(text):
    problems = []
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines:
        return ["no samples"]
    for i, line in enumerate(lines, 1):
        try:
            s = json.loads(line)
        except ValueError as e:
            problems.append(f"line {i}: not JSON: {e}")
            continue
        if not isinstance(s, dict):
            problems.append(f"line {i}: not an object")
            continue
        for k, t in PERFKIT_FIELDS.items():
            if k not in s:
                problems.append(f"line {i}: '{k}' missing")
            elif t == "number":
                if not _is_number(s[k]):
                    problems.append(f"line {i}: '{k}' is not a finite number")
            elif not isinstance(s[k], t):
                problems.append(f"line {i}: '{k}' is not {t.__name__}")
        labels = s.get("labels")
        if isinstance(labels, str):
            if not _LABELS.match(labels):
                problems.append(f"line {i}: labels not '|key:value|,...': {labels[:80]!r}")
            else:
                parsed = perfkit_labels(labels)
                if len(parsed) != labels.count("|,|") + 1:
                    problems.append(f"line {i}: labels do not split back into their items")
        if len(problems) > 20:
            problems.append("...")
            break
    return problems


def check_csv(text, required_columns):
    problems = []
    if not text:
        return ["empty"]
    records = text.split("\r\n")
    if records[-1] != "":
        problems.append("last record is not CRLF-terminated")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows:
        return ["no header"]
    header = rows[0]
    if len(set(header)) != len(header):
        problems.append("duplicate column names")
    missing = [c for c in required_columns if c not in header]
    if missing:
        problems.append(f"columns missing: {missing}")
    if len(rows) < 2:
        problems.append("no data rows")
    vi = header.index("value") if "value" in header else None
    for n, row in enumerate(rows[1:], 2):
        if len(row) != len(header):
            problems.append(f"record {n}: {len(row)} fields, header has {len(header)}")
        elif vi is not None:
            try:
                if not math.isfinite(float(row[vi])):
                    raise ValueError
            except ValueError:
                problems.append(f"record {n}: value {row[vi]!r} is not a finite number")
        if len(problems) > 20:
            problems.append("...")
            break
    # Quoting round-trips: writing the parsed rows back gives the same text.
    again = io.StringIO(newline="")
    csv.writer(again).writerows(rows)
    if again.getvalue() != text:
        problems.append("quoting does not round-trip")
    return problems
