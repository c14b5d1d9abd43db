"""The Markdown subset the reports use, to HTML (cvbench_analysis/markdown.py): GitHub's anchors,
tables with escaped pipes, lists, code, emphasis, links rewritten by the caller.

Run: /usr/bin/python3 -m unittest discover -s scripts/tests   (ctest: scripts_test, label unit)
"""
import unittest

import synthetic_runs  # noqa: F401 - puts scripts/ on sys.path

from cvbench_analysis import markdown as M


class Markdown(unittest.TestCase):
    def test_headings_get_githubs_anchors(self):
        h = M.to_html("# What this run says — `x-1`\n\n### 3. Runs like a native process\n\n## A\n\n## A\n")
        self.assertIn('<h1 id="what-this-run-says--x-1">What this run says — <code>x-1</code></h1>', h)
        self.assertIn('<h3 id="3-runs-like-a-native-process">', h)
        self.assertIn('<h2 id="a">A</h2>', h)
        self.assertIn('<h2 id="a-1">A</h2>', h)

    def test_tables_keep_escaped_pipes_and_inline_markup(self):
        h = M.to_html("| # | claim | verdict |\n|---|---|---|\n| 1 | [A](#a) | **Holds** a\\|b |\n")
        self.assertIn("<thead><tr><th>#</th><th>claim</th><th>verdict</th></tr></thead>", h)
        self.assertIn('<td><a href="#a">A</a></td><td><strong>Holds</strong> a|b</td>', h)

    def test_lists_code_and_paragraphs(self):
        h = M.to_html("text on\ntwo lines\n\n- one\n  continued\n- two <b>\n\n```sh\na < b && c\n```\n")
        self.assertIn("<p>text on two lines</p>", h)
        self.assertIn("<ul><li>one continued</li><li>two &lt;b&gt;</li></ul>", h)
        self.assertIn("<pre><code>a &lt; b &amp;&amp; c</code></pre>", h)

    def test_emphasis_only_where_meant(self):
        self.assertEqual(M.inline("*Inconclusive* and _(no `x.png`: none)_"),
                         "<em>Inconclusive</em> and <em>(no <code>x.png</code>: none)</em>")
        # Values from a fingerprint table and counter names stay as they are.
        self.assertEqual(M.inline("b *:* m;c *:* m fit_user_ slope"), "b *:* m;c *:* m fit_user_ slope")

    def test_links_and_images_go_through_the_callers_rewrite(self):
        h = M.to_html("![startup](startup.png) see [report](REPORT.md#x)\n<!-- gone -->\n",
                      link=lambda t: t.replace(".png", ".svg").replace("REPORT.md", "index.html"))
        self.assertIn('<img src="startup.svg" alt="startup">', h)
        self.assertIn('<a href="index.html#x">report</a>', h)
        self.assertNotIn("gone", h)


if __name__ == "__main__":
    unittest.main()
