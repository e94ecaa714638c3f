#!/usr/bin/env python3
"""Check the relative links in README.md and docs/**/*.md.

Every markdown link `[text](target)` (and image `![alt](target)`, and reference definition
`[label]: target`) whose target is not http(s)/mailto must name an existing file or folder,
relative to the file the link is in; a `#anchor` must match a heading of the target file (or
of the same file, for `(#anchor)`), slugged the way GitHub does: lowercase, punctuation other
than '-' and '_' removed, spaces turned into '-', and '-1', '-2', ... for repeated headings.
Links and headings inside fenced code blocks and inline code spans are ignored.

Usage: python3 scripts/check-links.py [REPO_ROOT]
Exit 0 when every link resolves; otherwise exit 1 with one `file:line: target: reason` per
broken link. Standard library only.
"""

import os
import re
import sys
import unicodedata
from urllib.parse import unquote

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
INLINE_LINK = re.compile(r"!?\[((?:[^\[\]\\]|\\.|\[[^\[\]]*\])*)\]\(\s*(<[^>]*>|[^)\s]*)(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?\s*\)")
REF_DEF = re.compile(r"^ {0,3}\[([^\]]+)\]:\s*(<[^>]*>|\S+)")
HTML_ANCHOR = re.compile(r"<a\s+[^>]*(?:name|id)\s*=\s*[\"']([^\"']+)[\"']", re.I)
EXTERNAL = re.compile(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*:|//)")


def strip_code_spans(line):
    """Blank out inline code spans (backtick runs of equal length) so links in them are ignored."""
    out = []
    i = 0
    n = len(line)
    while i < n:
        if line[i] == "`":
            j = i
            while j < n and line[j] == "`":
                j += 1
            ticks = line[i:j]
            end = line.find(ticks, j)
            # A closing run must be exactly as long as the opening one.
            while end != -1 and end + len(ticks) < n and line[end + len(ticks)] == "`":
                end = line.find(ticks, end + len(ticks) + 1)
            if end == -1:
                out.append(line[i:j])
                i = j
                continue
            out.append(" " * (end + len(ticks) - i))
            i = end + len(ticks)
        else:
            out.append(line[i])
            i += 1
    return "".join(out)


def prose_lines(text):
    """Yield (line number, line) for lines outside fenced code blocks."""
    fence = None
    for no, line in enumerate(text.split("\n"), 1):
        m = FENCE.match(line)
        if fence is None:
            if m:
                fence = m.group(1)
                continue
            yield no, line
        elif m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) and line.strip() == m.group(1):
            fence = None


def heading_text_to_slug(text):
    # Rendered text: drop inline link targets and images, keep their text; drop emphasis markers
    # and code backticks (they are punctuation and are stripped below anyway).
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"<[^>]+>", "", text)
    text = text.strip().lower()
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if ch in "-_" or ch == " ":
            out.append("-" if ch == " " else ch)
        elif cat[0] in ("L", "N") or cat == "Mn":
            out.append(ch)
        # everything else (punctuation, symbols) is removed
    return "".join(out)


def anchors_of(path, cache={}):
    if path in cache:
        return cache[path]
    with open(path, encoding="utf-8") as f:
        text = f.read()
    slugs = set()
    counts = {}
    prev = None
    for _, line in prose_lines(text):
        for m in HTML_ANCHOR.finditer(line):
            slugs.add(m.group(1))
        heading = None
        m = ATX.match(line)
        if m and (m.group(2) is not None or line.strip().strip("#") == ""):
            heading = m.group(2) or ""
        elif prev is not None and prev.strip() and SETEXT.match(line) and not ATX.match(prev):
            # Setext heading: the previous non-blank paragraph line. ('---' under a list item or
            # table is rare in these docs; treat it as a heading as GitHub mostly does.)
            if not prev.lstrip().startswith(("-", "*", "+", "|", ">")):
                heading = prev.strip()
        if heading is not None:
            base = heading_text_to_slug(heading)
            n = counts.get(base, 0)
            counts[base] = n + 1
            slugs.add(base if n == 0 else f"{base}-{n}")
        prev = line
    cache[path] = slugs
    return slugs


def links_of(text):
    for no, line in prose_lines(text):
        visible = strip_code_spans(line)
        for m in INLINE_LINK.finditer(visible):
            yield no, m.group(2)
        m = REF_DEF.match(visible)
        if m:
            yield no, m.group(2)


def check_file(root, path):
    problems = []
    with open(path, encoding="utf-8") as f:
        text = f.read()
    rel = os.path.relpath(path, root)
    for no, target in links_of(text):
        if target.startswith("<") and target.endswith(">"):
            target = target[1:-1]
        if not target or EXTERNAL.match(target):
            continue  # http(s), mailto and other schemes are not checked
        file_part, _, anchor = target.partition("#")
        file_part = unquote(file_part)
        if file_part:
            if file_part.startswith("/"):
                dest = os.path.join(root, file_part.lstrip("/"))
            else:
                dest = os.path.normpath(os.path.join(os.path.dirname(path), file_part))
            if not os.path.exists(dest):
                problems.append(f"{rel}:{no}: {target}: no such file")
                continue
        else:
            dest = path
        if anchor:
            if os.path.isdir(dest) or not dest.endswith((".md", ".markdown")):
                problems.append(f"{rel}:{no}: {target}: #anchor on a file that is not markdown")
                continue
            if unquote(anchor) not in anchors_of(dest):
                problems.append(f"{rel}:{no}: {target}: no heading with slug #{anchor} in {os.path.relpath(dest, root)}")
    return problems


def markdown_files(root):
    files = []
    readme = os.path.join(root, "README.md")
    if os.path.exists(readme):
        files.append(readme)
    docs = os.path.join(root, "docs")
    for dirpath, dirnames, filenames in os.walk(docs):
        dirnames.sort()
        for name in sorted(filenames):
            if name.endswith(".md"):
                files.append(os.path.join(dirpath, name))
    return files


def main(argv):
    root = os.path.abspath(argv[1] if len(argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    files = markdown_files(root)
    problems = []
    for path in files:
        problems.extend(check_file(root, path))
    if problems:
        print(f"{len(problems)} broken link(s):")
        for p in problems:
            print("  " + p)
        return 1
    print(f"ok: {len(files)} files, every relative link resolves")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
