"""Links and anchors in the project's Markdown (README.md, docs/, REPORT.md), by GitHub's rules.

slug(heading) is the anchor GitHub gives a heading (lower case, punctuation dropped, spaces to
hyphens, a repeated slug gets -1, -2, ...); the site's Markdown converter gives headings the same
ids, so a link to a REPORT.md section works on GitHub and in the site alike. check(paths) lists
every relative link (and image) of those files whose target file or #anchor does not exist.
"""
import os
import re

_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
# [text](target) and ![alt](target); the target ends at the first unescaped ')' or a space.
_LINK = re.compile(r"!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_CODE_SPAN = re.compile(r"(`+)(.+?)\1")


def _strip_inline(text):
    """Heading text as GitHub slugs it: links keep their text, code spans their content,
    emphasis markers and HTML tags go."""
    text = re.sub(r"!?\[((?:[^\]\\]|\\.)*)\]\([^)]*\)", r"\1", text)
    text = _CODE_SPAN.sub(lambda m: m.group(2), text)
    text = re.sub(r"<[^>]+>", "", text)
    return text.replace("*", "").replace("~", "")


def slug(heading):
    """GitHub's anchor for a heading's text (without the uniqueness suffix)."""
    s = _strip_inline(heading).strip().lower()
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")


def prose_lines(text):
    """(line number, line) of the lines outside fenced code blocks."""
    fenced = False
    for n, line in enumerate(text.splitlines(), start=1):
        if _FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            yield n, line


def anchors(text):
    """Every anchor a Markdown text defines: its headings' slugs, made unique as GitHub does."""
    seen, out = {}, []
    for _, line in prose_lines(text):
        m = _HEADING.match(line)
        if not m:
            continue
        base = slug(m.group(2))
        k = seen.get(base, 0)
        seen[base] = k + 1
        out.append(base if k == 0 else f"{base}-{k}")
    return out


def links(text):
    """(line number, target) of every link and image outside code blocks and code spans."""
    for n, line in prose_lines(text):
        for m in _LINK.finditer(_CODE_SPAN.sub(lambda c: " " * len(c.group(0)), line)):
            yield n, m.group(1)


def is_relative(target):
    return not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target) and not target.startswith("//")


def check(paths):
    """['file:line: target: why'] for every relative link of the given Markdown files whose file
    or #anchor does not exist (absolute URLs are not fetched)."""
    problems, cache = [], {}

    def anchors_of(path):
        if path not in cache:
            with open(path, encoding="utf-8") as f:
                cache[path] = set(anchors(f.read()))
        return cache[path]

    for path in paths:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        for n, target in links(text):
            if not is_relative(target):
                continue
            file_part, _, anchor = target.partition("#")
            dest = os.path.normpath(os.path.join(os.path.dirname(path), file_part)) if file_part else path
            where = f"{path}:{n}: {target}"
            if not os.path.exists(dest):
                problems.append(f"{where}: no such file {dest}")
                continue
            if anchor:
                if not dest.endswith(".md") or os.path.isdir(dest):
                    problems.append(f"{where}: an anchor into {dest}, which is not a Markdown file")
                elif anchor not in anchors_of(dest):
                    problems.append(f"{where}: no heading with anchor #{anchor} in {dest}")
    return problems
