"""Charts of one cvbench run: scripts/plot RUN_DIR -> RUN_DIR/<chart>.png and .svg.

One chart per question, each with its conditions underneath (results.caption):
  startup            launch-to-exit per launcher: violin + box + every run (log scale)
  startup_phases     where launch time goes: median phase segments, stacked (containers | VMs)
  density            host memory of N idle instances vs N with the least-squares fit, and the user/kernel split
  density_per_gib    instances per GiB from the fitted MiB per additional instance
  throughput         ratio to native per workload mode and figure, grouped by launcher
  scaleout           instances READY against time (sequential | concurrent)
  vm_profiles        the VM kernel profiles side by side (distro vs minimal)
A suite that did not run, or ran without the data a chart needs, gets no chart (and a line on
stderr saying so). Prints the files it wrote; exit 0, or 1 when the directory holds no results.
"""

import os
import sys

from .. import results as R
from .density import plot_density
from .scaleout import plot_scaleout
from .startup import plot_startup
from .throughput import plot_throughput
from .vm_profiles import plot_vm_profiles


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1 or not os.path.isdir(argv[0]):
        print("usage: scripts/plot RUN_DIR", file=sys.stderr)
        return 2
    run_dir = argv[0]
    suites = R.load_run(run_dir)
    if not suites:
        print(f"plot: no <suite>.json in {run_dir}", file=sys.stderr)
        return 1
    plotters = {"startup": plot_startup, "density": plot_density, "throughput": plot_throughput,
                "scaleout": plot_scaleout}
    for suite, (context, iterations, errors) in suites.items():
        if suite in plotters:
            try:
                plotters[suite](run_dir, context, iterations, errors)
            except Exception as e:  # one broken chart must not cost the others
                print(f"plot: {suite}: chart failed: {type(e).__name__}: {e}", file=sys.stderr)
    try:
        plot_vm_profiles(run_dir, suites)
    except Exception as e:
        print(f"plot: vm_profiles: chart failed: {type(e).__name__}: {e}", file=sys.stderr)
    for missing in sorted(set(plotters) - set(suites)):
        print(f"plot: {missing}: suite did not run (no {missing}.json); no chart", file=sys.stderr)
    return 0
