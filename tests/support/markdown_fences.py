"""Prints the fenced code blocks of Markdown files as markdown-it-py reads them (CommonMark).

Usage: markdown_fences.py FILE...  ->  JSON: {FILE: [{"info": ..., "content": ..., "line": N}]}
where "line" is the 0-based line of the opening fence. Used by tests/documentation_hosts.rs as
the independent parser that imds-lint's fence layer and its fixes are checked against.
"""
import json
import sys

from markdown_it import MarkdownIt


def fences(path):
    with open(path, encoding="utf-8", newline="") as f:
        text = f.read()
    # markdown-it normalises line breaks; CRLF files compare on their LF form.
    md = MarkdownIt("commonmark")
    out = []
    for token in md.parse(text):
        if token.type == "fence":
            out.append({"info": token.info, "content": token.content, "line": token.map[0]})
    return out


print(json.dumps({path: fences(path) for path in sys.argv[1:]}))
