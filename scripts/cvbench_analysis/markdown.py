"""Markdown to HTML for the subset the project's reports use (REPORT.md, FLEET.md, docs/):
headings (with GitHub's anchors, doclinks.slug), paragraphs, pipe tables (with \\| in cells),
bullet lists (with continuation lines), fenced code, inline code, links, images, **bold**,
*italics* and _italics_, and HTML comments (dropped). Everything else is text, escaped.

Written here rather than taken from python3-markdown: the reports need GitHub's heading anchors
(lower case, punctuation dropped, a repeated heading -1, -2) so that a link to a claim's section is
the same on GitHub and in the site, and this subset is small. to_html(text, link=...) lets the
caller rewrite link and image targets (REPORT.md -> index.html, chart.png -> chart.svg).
"""
import html
import re

from .doclinks import slug

_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_TABLE_SEP = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_BULLET = re.compile(r"^([-*+])\s+(.*)$")
_CODE = re.compile(r"(`+)(.+?)\1")
_IMAGE = re.compile(r"!\[((?:[^\]\\]|\\.)*)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_LINK = re.compile(r"\[((?:[^\]\\]|\\.)*)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
# Single-character emphasis only between word characters (or code, brackets): a value such as
# "b *:* m" in a fingerprint table stays as it is.
_ITALIC_STAR = re.compile(r"(?<![\w*\\])\*(?=[\w`(\[<])(.+?)(?<=[\w`)\].>])\*(?![\w*])")
_ITALIC_UNDERSCORE = re.compile(r"(?<![\w\\])_(?=[^\s_])(.+?)(?<=[^\s_])_(?!\w)")
_COMMENT = re.compile(r"<!--.*?-->", re.S)


def _same(target):
    return target


def inline(text, link=_same):
    """One line (or table cell) of inline Markdown -> HTML."""
    slots = []

    def keep(fragment):
        slots.append(fragment)
        return f"\x00{len(slots) - 1}\x00"

    text = _CODE.sub(lambda m: keep(f"<code>{html.escape(m.group(2).strip())}</code>"), text)
    text = _IMAGE.sub(lambda m: keep(f'<img src="{html.escape(link(m.group(2)))}" '
                                     f'alt="{html.escape(_unescape(m.group(1)))}">'), text)

    def a(m):
        return keep(f'<a href="{html.escape(link(m.group(2)))}">') + m.group(1) + keep("</a>")
    text = _LINK.sub(a, text)
    text = html.escape(_unescape(text), quote=False)
    text = _BOLD.sub(r"<strong>\1</strong>", text)
    text = _ITALIC_STAR.sub(r"<em>\1</em>", text)
    text = _ITALIC_UNDERSCORE.sub(r"<em>\1</em>", text)
    return re.sub(r"\x00(\d+)\x00", lambda m: slots[int(m.group(1))], text)


def _unescape(text):
    return re.sub(r"\\([\\`*_{}\[\]()#+\-.!|])", r"\1", text)


def _cells(row):
    row = row.strip()
    if row.startswith("|"):
        row = row[1:]
    if row.endswith("|") and not row.endswith("\\|"):
        row = row[:-1]
    return [c.strip() for c in re.split(r"(?<!\\)\|", row)]


def to_html(text, link=_same):
    """A Markdown document -> an HTML fragment (no <html>/<body>)."""
    lines = _COMMENT.sub("", text).split("\n")
    out, para, seen = [], [], {}
    i = 0

    def flush():
        if para:
            out.append("<p>" + inline(" ".join(para), link) + "</p>")
            para.clear()

    while i < len(lines):
        line = lines[i]
        if _FENCE.match(line):
            flush()
            body = []
            i += 1
            while i < len(lines) and not _FENCE.match(lines[i]):
                body.append(lines[i])
                i += 1
            out.append("<pre><code>" + html.escape("\n".join(body)) + "</code></pre>")
            i += 1
            continue
        m = _HEADING.match(line)
        if m:
            flush()
            level, title = len(m.group(1)), m.group(2)
            base = slug(title)
            k = seen.get(base, 0)
            seen[base] = k + 1
            ident = base if k == 0 else f"{base}-{k}"
            out.append(f'<h{level} id="{html.escape(ident)}">{inline(title, link)}</h{level}>')
            i += 1
            continue
        if line.lstrip().startswith("|") and i + 1 < len(lines) and _TABLE_SEP.match(lines[i + 1]):
            flush()
            head = _cells(line)
            rows = []
            i += 2
            while i < len(lines) and lines[i].lstrip().startswith("|"):
                rows.append(_cells(lines[i]))
                i += 1
            cells = lambda tag, r: "".join(f"<{tag}>{inline(c, link)}</{tag}>" for c in r)  # noqa: E731
            out.append('<div class="table"><table><thead><tr>' + cells("th", head) + "</tr></thead><tbody>"
                       + "".join("<tr>" + cells("td", r) + "</tr>" for r in rows) + "</tbody></table></div>")
            continue
        if _BULLET.match(line):
            flush()
            items = []
            while i < len(lines) and (_BULLET.match(lines[i]) or (items and lines[i].startswith("  ")
                                                                  and lines[i].strip())):
                b = _BULLET.match(lines[i])
                if b:
                    items.append(b.group(2))
                else:
                    items[-1] += " " + lines[i].strip()
                i += 1
            out.append("<ul>" + "".join(f"<li>{inline(t, link)}</li>" for t in items) + "</ul>")
            continue
        if not line.strip():
            flush()
        else:
            para.append(line.strip())
        i += 1
    flush()
    return "\n".join(out) + "\n"
