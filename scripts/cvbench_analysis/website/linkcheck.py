"""Every local link of a built site resolves: each href and src of every page names a file of the
site, and each #anchor an id of its page. Absolute URLs are problems too: the site must work
offline, so it links nowhere outside itself (but for mailto:, which it does not use)."""
import html.parser
import os
import urllib.parse


class _Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids, self.refs = set(), []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        for k in ("href", "src"):
            if a.get(k) is not None:
                self.refs.append((tag, a[k]))


def parse(path):
    p = _Page()
    with open(path, encoding="utf-8") as f:
        p.feed(f.read())
    return p


def check(site):
    """['page: target: why'] for every broken reference of every page under site."""
    pages, problems = {}, []
    for dirpath, _, files in os.walk(site):
        for f in sorted(files):
            if f.endswith(".html"):
                pages[os.path.join(dirpath, f)] = parse(os.path.join(dirpath, f))
    for path, p in sorted(pages.items()):
        rel = os.path.relpath(path, site)
        for tag, ref in p.refs:
            u = urllib.parse.urlsplit(ref)
            if u.scheme or u.netloc:
                problems.append(f"{rel}: {ref}: leaves the site (it must work offline)")
                continue
            target = os.path.normpath(os.path.join(os.path.dirname(path), urllib.parse.unquote(u.path))) \
                if u.path else path
            if not os.path.isfile(target):
                problems.append(f"{rel}: {ref}: no such file")
                continue
            if u.fragment:
                ids = pages[target].ids if target in pages else set()
                if u.fragment not in ids:
                    problems.append(f"{rel}: {ref}: no element with id {u.fragment!r}")
    return problems
