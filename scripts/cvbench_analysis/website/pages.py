"""The site's HTML: one layout for every page (relative links only, so the files open from disk
with no server; no script, no font or anything else from the network) and small table helpers."""
import html
import math

STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 0; color: #1d1d1f; background: #fff; }
header { background: #24292f; color: #fff; padding: 0.6em 1.2em; }
header a { color: #fff; margin-right: 1.2em; text-decoration: none; font-weight: 600; }
main { max-width: 78em; margin: 0 auto; padding: 0.5em 1.2em 3em; }
footer { color: #666; font-size: 12px; padding: 1em 1.2em; border-top: 1px solid #ddd; }
h1 { font-size: 1.6em; } h2 { font-size: 1.3em; margin-top: 1.6em; } h3 { font-size: 1.1em; }
.table { overflow-x: auto; margin: 0.8em 0; }
table { border-collapse: collapse; font-size: 13px; }
th, td { border: 1px solid #d0d7de; padding: 3px 7px; vertical-align: top; text-align: left; }
th { background: #f6f8fa; }
tr.regression td { background: #ffebe9; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
code { background: #f6f8fa; padding: 0 3px; border-radius: 3px; font-size: 90%; }
pre { background: #f6f8fa; padding: 0.6em; overflow-x: auto; }
img { max-width: 100%; height: auto; border: 1px solid #eee; }
.note { color: #555; font-size: 13px; }
.verdict-bad { color: #b3261e; font-weight: 600; }
"""


def esc(text):
    return html.escape(str(text))


def num(v, digits=4):
    """A number for a table cell ('-' for none)."""
    if v is None or (isinstance(v, float) and (math.isnan(v))):
        return "-"
    if isinstance(v, float) and math.isinf(v):
        return "∞"
    if abs(v) >= 10 ** digits:
        return f"{v:,.0f}"
    return f"{v:.{digits}g}"


def table(headers, rows, classes=None, numeric=()):
    """An HTML table; cells are HTML already (escape text with esc()). classes: a class per row."""
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = []
    for k, r in enumerate(rows):
        cls = f' class="{classes[k]}"' if classes and classes[k] else ""
        cells = "".join(f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>"
                        for i, c in enumerate(r))
        body.append(f"<tr{cls}>{cells}</tr>")
    return f'<div class="table"><table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'


def link(href, text):
    return f'<a href="{esc(href)}">{esc(text)}</a>'


def page(title, body, root, generated):
    """A whole page; root is the relative path from the page to the site's top ('' or '../')."""
    return (f'<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{esc(title)} — cvbench</title>\n"
            f'<link rel="stylesheet" href="{root}style.css">\n</head>\n<body>\n'
            f'<header><a href="{root}index.html">cvbench results</a>'
            f'<a href="{root}index.html#runs">runs</a><a href="{root}index.html#hosts">hosts</a>'
            f'<a href="{root}index.html#entries">entries</a><a href="{root}gate.html">regression gate</a>'
            f"</header>\n<main>\n{body}\n</main>\n<footer>{esc(generated)}</footer>\n</body>\n</html>\n")
