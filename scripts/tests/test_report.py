"""scripts/report's layout (cvbench_analysis/report.py): every claim of claims.ALL in the table with
its rule and numbers, what sweep.json says the sweep left out, and the density section. Each
claim's own rule is tested in test_claim_<module>.py.

Run: /usr/bin/python3 -m unittest discover -s scripts/tests   (ctest: scripts_test, label unit)
"""
import json
import os
import shutil
import tempfile
import unittest

from synthetic_runs import ClaimTest, noisy, write_suite

from cvbench_analysis import claims, doclinks
from cvbench_analysis import report as REPORT
from cvbench_analysis import verdicts as V
from cvbench_analysis.density_costs import density_section
from cvbench_analysis.run import Run
from cvbench_analysis.sweep_record import kernels_note, throughput_skip_notes


class Layout(ClaimTest):
    def throughput(self, name, ratio, rel=0.01, n=10):
        d = self.run_dir(name)
        cpu = lambda base: [{"int_ops_per_s": a, "fp_ops_per_s": b}  # noqa: E731
                            for a, b in zip(noisy(self.rng, base, rel, n), noisy(self.rng, base, rel, n))]
        write_suite(d, "throughput", {"native/mode:cpu": cpu(1e9), "cvrun/mode:cpu": cpu(1e9 * ratio)})
        return d

    def test_report_opens_with_one_line_per_claim_linked_to_its_section(self):
        d = self.throughput("t", 1.0)
        write_suite(d, "startup", {"cvrun": [{"ready_ms": 30.0, "exit_ms": 31.0}] * 5})
        run = Run(d)
        evaluated = claims.evaluate(run)
        self.assertEqual(len(evaluated), len(claims.ALL))
        self.assertGreaterEqual(len(evaluated), 8)
        md = REPORT.render(run, d, {"claims_at_a_glance.png"}, evaluated)
        answer = md[:md.index("## The evidence")]
        self.assertIn("| # | Claim | Verdict | Headline number [95% interval] |", answer)
        self.assertIn("![claims at a glance](claims_at_a_glance.png)", answer)
        rows = [l for l in answer.splitlines() if l.startswith("| ") and l[2].isdigit()]
        self.assertEqual(len(rows), len(evaluated))
        anchors = set(doclinks.anchors(md))
        for row, (i, text, _, v) in zip(rows, evaluated):
            self.assertIn(v.outcome, (V.HOLDS, V.DOES_NOT_HOLD, V.PARTLY, V.INCONCLUSIVE, V.NOT_TESTED))
            self.assertIn(f"| **{v.outcome}** |", row)
            link = row.split("](#", 1)[1].split(")", 1)[0]
            self.assertIn(link, anchors, row)
            # The rule and every number stay in the claim's section, not in the answer.
            self.assertTrue(v.rule and v.numbers, text)
            self.assertNotIn(v.rule, answer)
            section = md[md.index(f"### {i}. {text}"):]
            self.assertIn(f"**{v.outcome}.** Rule: {v.rule}", section)
            self.assertIn(f"Numbers: {v.numbers}", section)
        # claim 3 holds here: its headline is the ratio with its interval, judged against the band.
        native = evaluated[2][3]
        self.assertEqual(native.outcome, V.HOLDS)
        self.assertEqual(native.headline.threshold, (0.9, 1.1))
        self.assertRegex(rows[2], r"\*\*(1|0\.9\d*|1\.0\d*)x \[0\.9\d*, 1\.0\d*\]\*\* farthest from native: cvrun cpu")

    def test_sweep_timings_and_image_sizes_are_not_suites(self):
        d = self.throughput("t", 1.0)
        with open(os.path.join(d, "sweep.json"), "w") as f:
            json.dump({"wall_s": 3, "steps": [{"step": "throughput", "wall_s": 3, "exit": 0}]}, f)
        with open(os.path.join(d, "image_inspect.json"), "w") as f:
            json.dump({"bundle": {"rootfs_bytes": 1}}, f)
        self.assertEqual(list(Run(d).suites), ["throughput"])


class SweepRecordNotes(unittest.TestCase):
    """What sweep.json's scales say the sweep left out reaches REPORT.md with its reason."""

    def test_throughput_skips_are_explained(self):
        quick = "n=1,4 budget_mib=8192 kernels=minimal throughput_skipped=podman/.*|libvirt"
        notes = " ".join(throughput_skip_notes(quick))
        self.assertIn("leaves podman out of throughput", notes)
        self.assertIn("leaves libvirt out of throughput", notes)
        default = " ".join(throughput_skip_notes("kernels=distro,minimal throughput_skipped=podman/.*"))
        self.assertIn("podman", default)
        self.assertNotIn("libvirt", default)
        # sweep.json written before the key was renamed (the 8e12024 reference run)
        self.assertIn("podman", " ".join(throughput_skip_notes("throughput_launchers=all-but-podman")))
        self.assertEqual(throughput_skip_notes("n=1 budget_mib=8192"), [])

    def test_one_kernel_profile_is_said(self):
        self.assertIn("minimal kernel profile only", " ".join(kernels_note("kernels=minimal")))
        self.assertEqual(kernels_note("kernels=distro,minimal"), [])
        self.assertEqual(kernels_note("n=1"), [])


class DensitySection(unittest.TestCase):
    """The density table: a VM's per-instance cost split into guest RAM / VMM / TCG cache beside the
    containers' (which have no split), and KSM entries as rows of their own."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.tmp)

    @staticmethod
    def points(per_instance, fixed=0.0, ns=(1, 4, 8)):
        """One repetition per N of cost = fixed + per_instance[field] * N for every field."""
        out = {}
        for n in ns:
            fields = {k: fixed + v * n for k, v in per_instance.items()}
            out[f"n:{n}"] = [{"n": n, **fields}]
        return out

    def test_vm_split_next_to_containers(self):
        d = os.path.join(self.tmp, "run")
        vm = {"cost_mib": 85.0, "user_mib": 84.0, "kernel_mib": 1.0, "guest_ram_mib": 42.0,
              "vmm_mib": 20.0, "tcg_cache_mib": 22.0, "memavailable_drop_mib": 90.0}
        ct = {"cost_mib": 0.3, "user_mib": 0.05, "kernel_mib": 0.25, "memavailable_drop_mib": 0.3}
        entries = {}
        for base, per in (("qemu/kernel:minimal", vm), ("qemu/kernel:minimal/ksm:on",
                                                          dict(vm, vmm_mib=10.0, user_mib=74.0, cost_mib=75.0)),
                          ("crun", ct)):
            for k, v in self.points(per).items():
                entries[f"{base}/{k}"] = v
        write_suite(d, "density", entries)
        table = density_section(Run(d))
        rows = {line.split("|")[1].strip(): line for line in table.splitlines() if line.startswith("| ")}
        vm_row = [r for k, r in rows.items() if "qemu" in k and "ksm" not in k]
        ksm_row = [r for k, r in rows.items() if "ksm=on" in k]
        crun_row = [r for k, r in rows.items() if k.startswith("crun")]
        self.assertEqual(len(vm_row), 1, table)
        self.assertIn("| 42 / 20 / 22 MiB |", vm_row[0])
        self.assertEqual(len(ksm_row), 1, table)
        self.assertIn("| 42 / 10 / 22 MiB |", ksm_row[0])
        self.assertEqual(len(crun_row), 1, table)
        self.assertRegex(crun_row[0], r"\| 0\.05 MiB \| - \| 0\.25 MiB \|")
        self.assertIn("guest RAM touched / VMM / TCG translation cache", table)


if __name__ == "__main__":
    unittest.main()
