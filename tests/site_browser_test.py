#!/usr/bin/python3
"""scripts/site in a real browser: builds the site from the committed runs into this test's output
directory, opens it in headless Chromium (Debian's chromium, driven over its DevTools protocol:
tests/cdp.py), follows every link from index.html, and on every page checks that it loaded from
disk, that each image (every chart) decoded to a non-empty picture, that each inline SVG or canvas
has a size, that every #anchor it was reached by exists, that nothing went to the network and that
the console has no error. Screenshots of the index, the gate, every run and host page and the
first entry page of each suite go to OUT/screenshots/.

The checker is made to fail on purpose: a fixture site with a link to a missing page, an anchor
that is not there, a chart that is not an SVG, a missing image, a CDN URL and a script error must
give exactly those six failures.

  /usr/bin/python3 tests/site_browser_test.py SOURCE_DIR OUT_DIR   (ctest: site_browser_test)
Exit 0 passed, 1 failed, 77 skipped (no chromium or python3-websocket here; the reason printed).
"""
import os
import shutil
import subprocess
import sys
import time
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import cdp  # noqa: E402

SKIP = 77
SOURCE = os.path.dirname(HERE)
OUT = os.path.join(SOURCE, "build", "site_browser_test")

# Per page: every image decoded (a chart that did not load has naturalWidth 0), every inline svg
# and canvas with a size, the links (resolved by the browser), the ids.
PAGE_SCRIPT = r"""(() => {
  const imgs = Array.from(document.images).map(i => ({src: i.currentSrc || i.src, ok: i.complete && i.naturalWidth > 0 && i.naturalHeight > 0, w: i.naturalWidth}));
  const drawn = Array.from(document.querySelectorAll('svg, canvas')).map(e => { const r = e.getBoundingClientRect(); return {tag: e.tagName, ok: r.width > 0 && r.height > 0}; });
  const links = Array.from(document.querySelectorAll('a[href]')).map(a => a.href);
  const ids = Array.from(document.querySelectorAll('[id]')).map(e => e.id);
  return {title: document.title, imgs, drawn, links, ids, text: document.body ? document.body.innerText.length : 0};
})()"""


def crawl(browser, start, shots=None, want_shot=lambda url: False):
    """Follows every link from start (a file:// URL) within its directory tree; returns
    (pages visited, [failure]). Each failure names the page and what went wrong."""
    root = start.rsplit("/", 1)[0] + "/"
    queue, seen, failures, anchors, ids, pages = [start], {start}, [], [], {}, 0
    while queue:
        url = queue.pop(0)
        events = browser.open(url)
        pages += 1
        for e in events:
            m, p = e["method"], e["params"]
            if m == "Page.navigateFailed":
                failures.append(f"{url}: does not open: {p['errorText']}")
            elif m == "Network.loadingFailed" and not p.get("canceled"):
                failures.append(f"{url}: a resource failed to load: {p.get('errorText')}")
            elif m == "Network.requestWillBeSent" and not p["request"]["url"].startswith(("file:", "data:", "about:")):
                failures.append(f"{url}: goes to the network: {p['request']['url']}")
            elif m == "Runtime.exceptionThrown":
                failures.append(f"{url}: script error: {p['exceptionDetails'].get('exception', {}).get('description') or p['exceptionDetails'].get('text')}")
            elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                failures.append(f"{url}: console error: {[a.get('value', a.get('description')) for a in p.get('args', [])]}")
            elif m == "Log.entryAdded" and p["entry"].get("level") == "error":
                failures.append(f"{url}: console error: {p['entry'].get('text')} {p['entry'].get('url', '')}")
        if any(f.startswith(f"{url}: does not open") for f in failures):
            continue
        info = browser.evaluate(PAGE_SCRIPT)
        if not info["title"] or info["text"] < 20:
            failures.append(f"{url}: an empty page")
        for img in info["imgs"]:
            if not img["ok"]:
                failures.append(f"{url}: image did not render: {img['src']}")
        for d in info["drawn"]:
            if not d["ok"]:
                failures.append(f"{url}: an empty {d['tag']}")
        ids[url] = set(info["ids"])
        if shots is not None and want_shot(url):
            name = urllib.parse.unquote(url[len(root):]).replace("/", "__")
            browser.screenshot(os.path.join(shots, name + ".png"))
        for link in info["links"]:
            target, _, frag = link.partition("#")
            if not target.startswith("file:"):
                failures.append(f"{url}: links outside the site (it must work offline): {link}")
                continue
            if frag:
                anchors.append((url, target, frag))
            if target.startswith(root) and target not in seen:
                seen.add(target)
                queue.append(target)
    for page, target, frag in anchors:
        if target in ids and frag not in ids[target]:
            failures.append(f"{page}: links to #{frag}, which {target} does not have")
    return pages, failures


def shot_wanted(url):
    """Screenshots of the index, the gate, every run and host page, one entry page per suite."""
    if url.endswith(("/index.html", "/gate.html")) or "/hosts/" in url:
        return True
    if "/entries/" in url:
        d = url.rsplit("/", 1)[0]
        if d not in shot_wanted.suites:
            shot_wanted.suites.add(d)
            return True
    return False


shot_wanted.suites = set()


def write_broken_fixture(site):
    """A site with one of each failure the checker must catch."""
    os.makedirs(site)
    with open(os.path.join(site, "good.svg"), "w") as f:
        f.write('<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect width="40" height="20"/></svg>')
    with open(os.path.join(site, "bad.svg"), "w") as f:
        f.write("this is not an SVG")
    with open(os.path.join(site, "index.html"), "w") as f:
        f.write('<!doctype html><html><head><meta charset="utf-8"><title>fixture</title></head><body>'
                '<p>A fixture site for the browser checker, with faults on purpose.</p>'
                '<img src="good.svg" alt="good"> <img src="bad.svg" alt="a chart that does not load">'
                '<img src="missing.svg" alt="missing"> <a href="page.html#there">ok</a> '
                '<a href="page.html#nowhere">no such anchor</a> <a href="gone.html">broken</a>'
                '</body></html>')
    with open(os.path.join(site, "page.html"), "w") as f:
        f.write('<!doctype html><html><head><meta charset="utf-8"><title>page</title>'
                '<link rel="stylesheet" href="https://cdn.example.invalid/x.css"></head><body>'
                '<h1 id="there">There</h1><p>Second page of the fixture site.</p>'
                '<svg width="30" height="10"><rect width="30" height="10"/></svg>'
                '<script>undefinedFunctionOfTheFixture()</script></body></html>')


class SiteInABrowser(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        os.makedirs(OUT, exist_ok=True)
        cls.browser = cdp.Browser(OUT).__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.browser.__exit__(None, None, None)

    def test_the_committed_runs_site_in_chromium(self):
        site = os.path.join(OUT, "site")
        shots = os.path.join(OUT, "screenshots")
        shutil.rmtree(shots, ignore_errors=True)
        os.makedirs(shots)
        start = time.monotonic()
        # The committed runs, read through a database of the test's own (the source tree is left as is).
        r = subprocess.run(["/usr/bin/python3", os.path.join(SOURCE, "scripts", "site"), "--out", site,
                            "--results", os.path.join(SOURCE, "results"),
                            "--db", os.path.join(OUT, "history.sqlite")],
                           capture_output=True, text=True, timeout=600)
        self.assertEqual(r.returncode, 0, r.stderr)
        print(f"\n{r.stderr.strip()} (wall {time.monotonic() - start:.1f} s)", flush=True)
        start = time.monotonic()
        pages, failures = crawl(self.browser, "file://" + os.path.join(site, "index.html"), shots, shot_wanted)
        print(f"chromium: {pages} pages followed in {time.monotonic() - start:.1f} s, "
              f"{len(os.listdir(shots))} screenshots in {shots}", flush=True)
        self.assertEqual(failures, [])
        html_files = sum(1 for _, _, fs in os.walk(site) for f in fs if f.endswith(".html"))
        self.assertEqual(pages, html_files, "every page of the site is reachable from index.html")

    def test_the_checker_rejects_a_broken_site(self):
        site = os.path.join(OUT, "broken-fixture")
        shutil.rmtree(site, ignore_errors=True)
        write_broken_fixture(site)
        pages, failures = crawl(self.browser, "file://" + os.path.join(site, "index.html"))
        text = "\n".join(failures)
        self.assertEqual(pages, 3, text)  # index, page.html, gone.html (which does not open)
        self.assertIn("gone.html: does not open", text)
        self.assertIn("image did not render: file://" + os.path.join(site, "bad.svg"), text)
        self.assertIn("image did not render: file://" + os.path.join(site, "missing.svg"), text)
        self.assertIn("links to #nowhere", text)
        self.assertIn("goes to the network: https://cdn.example.invalid/x.css", text)
        self.assertIn("script error", text)
        self.assertNotIn("good.svg", text)
        self.assertNotIn("#there", text)


def main():
    global SOURCE, OUT
    if len(sys.argv) >= 2:
        SOURCE = os.path.abspath(sys.argv[1])
    if len(sys.argv) >= 3:
        OUT = os.path.abspath(sys.argv[2])
    if not cdp.find_chromium():
        print("SKIPPED: no chromium here (Debian's chromium package; scripts/setup installs it)")
        return SKIP
    try:
        import websocket  # noqa: F401
    except ImportError:
        print("SKIPPED: no python3-websocket here (Debian's package; scripts/setup installs it)")
        return SKIP
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(SiteInABrowser)
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
