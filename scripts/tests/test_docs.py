"""README.md and docs/: every relative link resolves (files and #anchors), the README stays a
front door (at most 150 lines), and its findings block is what scripts/report --readme generates
from the reference run (cvbench_analysis/doclinks.py, readme_findings.py). The checkers are made
to fail on purpose on fixtures: a broken link, a missing anchor, a stale block.

Run: /usr/bin/python3 -m unittest discover -s scripts/tests   (ctest: scripts_test, label unit)
"""
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from synthetic_runs import ROOT, SCRIPTS

from cvbench_analysis import doclinks, readme_findings

PY = sys.executable or "/usr/bin/python3"
README = os.path.join(ROOT, "README.md")


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def doc_files():
    return [README] + sorted(glob.glob(os.path.join(ROOT, "docs", "*.md")))


class ProjectDocs(unittest.TestCase):
    def test_every_relative_link_resolves(self):
        files = doc_files()
        self.assertGreater(len(files), 5, files)
        n = sum(1 for f in files for _, t in doclinks.links(read(f))
                if doclinks.is_relative(t))
        self.assertGreater(n, 40, "the docs link to each other; far fewer links means the parser broke")
        self.assertEqual(doclinks.check(files), [])

    def test_readme_is_a_front_door(self):
        with open(README) as f:
            self.assertLessEqual(len(f.read().splitlines()), 150)

    def test_readme_findings_are_generated_from_the_reference_run(self):
        with open(README) as f:
            _, current, _ = readme_findings.split(f.read())
        self.assertEqual(current, readme_findings.block(), "stale: run scripts/report --readme")
        ref = os.path.basename(readme_findings.reference_run())
        self.assertIn(f"[`{ref}`](results/{ref}/REPORT.md)", current)


class LinkChecker(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        os.makedirs(os.path.join(self.tmp, "docs"))
        self.write("docs/a.md", "# Page A\n\n## Same\n\n## Same\n\n### 3. Runs like a native process\n")
        self.write("data.json", "{}")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def write(self, rel, text):
        with open(os.path.join(self.tmp, rel), "w") as f:
            f.write(text)
        return os.path.join(self.tmp, rel)

    def test_good_links_pass(self):
        p = self.write("README.md", "[a](docs/a.md) [b](docs/a.md#same-1) ![i](data.json) "
                       "[c](docs/a.md#3-runs-like-a-native-process) [web](https://example.org/x) "
                       "[self](#top)\n\n# Top\n\n```\n[not a link](nowhere.md)\n```\n`[code](nowhere.md)`\n")
        self.assertEqual(doclinks.check([p]), [])

    def test_a_broken_file_or_anchor_is_reported(self):
        p = self.write("README.md", "# Top\n\nsee [a](docs/missing.md) and [b](docs/a.md#no-such)\n"
                       "and [c](#nothing-here), [d](data.json#x)\n")
        problems = doclinks.check([p])
        self.assertEqual(len(problems), 4, problems)
        self.assertIn("README.md:3: docs/missing.md: no such file", problems[0])
        self.assertIn("no heading with anchor #no-such", problems[1])
        self.assertIn("#nothing-here", problems[2])
        self.assertIn("not a Markdown file", problems[3])

    def test_slugs_are_githubs(self):
        self.assertEqual(doclinks.slug("What this run says about the claims — `2026-11-28-vm-2b1807f`"),
                         "what-this-run-says-about-the-claims--2026-11-28-vm-2b1807f")
        self.assertEqual(doclinks.slug("Sweeps: the default and `--quick`"), "sweeps-the-default-and---quick")
        self.assertEqual(doclinks.slug("7. An image is a lightweight, stand-alone package"),
                         "7-an-image-is-a-lightweight-stand-alone-package")
        self.assertEqual(doclinks.anchors("# A\n## A\n```\n# not\n```\n## A\n"), ["a", "a-1", "a-2"])


class StaleFindings(unittest.TestCase):
    def test_an_edited_block_is_stale_and_rewritten(self):
        with tempfile.TemporaryDirectory() as tmp:
            readme = os.path.join(tmp, "README.md")
            with open(README) as f:
                text = f.read()
            before, block, after = readme_findings.split(text)
            edited = block.replace("| **Holds** |", "| **Does not hold** |", 1)
            self.assertNotEqual(edited, block)
            with open(readme, "w") as f:
                f.write(before + edited + after)
            results = os.path.join(ROOT, "results")
            r = subprocess.run([PY, "-c", "import sys; sys.path.insert(0, sys.argv[1]);"
                                "from cvbench_analysis import readme_findings as F;"
                                "sys.exit(F.main(sys.argv[2], sys.argv[3], check=True))",
                                SCRIPTS, readme, results], capture_output=True, text=True)
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn("stale", r.stderr)
            self.assertEqual(readme_findings.main(readme, results), 0)
            with open(readme) as f:
                self.assertEqual(readme_findings.split(f.read())[1],
                                 readme_findings.block(readme, results))


if __name__ == "__main__":
    unittest.main()
