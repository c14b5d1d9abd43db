"""cvbench's analysis code: everything the commands in scripts/ compute, one concept per module.

The commands (scripts/report, plot, compare, history, trend, export, fleet, site) are thin: they
put scripts/ on sys.path, import a module of this package and call its main(). Debian's
/usr/bin/python3 with python3-matplotlib, -numpy and -scipy is all it needs (no pip).

  results.py        reading result files (Google Benchmark JSON): names, samples, typical, fits
  launchers.py      which launcher is a container, a VM (the kinds the claims compare)
  run.py            one run directory as the claims read it, and their shared wording helpers
  verdicts.py       Verdict, outcomes, bootstrap intervals and the combinators rules are made of
  claims/           one module per claim (TEXT, CHARTS, evaluate(run)); claims.ALL is the order
  density_costs.py  fitted MiB per additional instance; the report's density section
  fingerprint.py    what each runtime did for the same bundle (report section)
  vm_profiles.py    the VM kernel profiles side by side (report section)
  sweep_record.py   what scripts/sweep recorded beside the run (sweep.json)
  report.py         REPORT.md: lays out claims.ALL and the sections above
  readme_findings.py  README.md's findings block, from the run results/reference names
  doclinks.py       links and anchors in Markdown by GitHub's rules (slugs; the link check)
  plots/            the run's charts, one module per chart (scripts/plot)
  gate/             the regression gate: compare.py (within-run ratios), density.py
  history/          the SQLite history database (db.py), its questions (cli.py), trend.py
  export.py         BMF, PerfKit and CSV exports
  fleet.py          scripts/fleet: a sweep on every host of an Ansible inventory, merged
  markdown.py       Markdown to HTML, the subset the reports use (GitHub's anchors)
  website/          scripts/site: the static HTML site of every run, from the history database

Adding a claim: a module in claims/ and its place in claims.ALL (see claims/__init__.py), with a
test scripts/tests/test_claim_<module>.py. Adding a launcher to the claims' kinds: launchers.py.
"""
