"""Markdown conversions (second-class source): one line per paragraph line of the file, no pages."""

from __future__ import annotations

import re
from pathlib import Path

from fidelity.papers.text import (
    _NUMBERED,
    _UNNUMBERED,
    _WORD3,
    STAMP,
    Heading,
    Line,
    PaperText,
    _cache_load,
    _cache_store,
    _read,
)

_MD_INLINE_HEADING = re.compile(
    r"(?<=[.!?:)]\s)(?P<label>\d{1,2}(?:\.\d{1,2}){1,3})\.?\s+(?P<title>[A-Z][A-Z0-9 \-–:’'?,]{3,90}?)\s*$"
)


_MD_MARKUP = re.compile(r"^(?:#{1,6}\s+|>\s?)")


def extract_markdown(path: Path | str) -> PaperText:
    """Extract a markdown conversion: one line per paragraph line of the file, no pages (cached by sha256)."""
    path, data, sha = _read(path)
    cached = _cache_load(sha, "md", str(path))
    if cached is not None:
        return cached
    text = _extract_markdown_text(data.decode("utf-8", errors="replace"))
    text.sha256, text.path = sha, str(path)
    _cache_store(text)
    return text


def _extract_markdown_text(raw: str) -> PaperText:
    file_lines = [ln.rstrip("\r") for ln in raw.split("\n")]  # not splitlines(): it breaks at \x1c-\x1e too
    start = 0
    for i, ln in enumerate(file_lines[:40]):
        if ln.strip().startswith("Markdown Content:"):
            start = i + 1
            break
    lines: list[Line] = []
    headings: list[Heading] = []
    section = ""
    last_top = 0  # the last top-level section number seen
    for i in range(start, len(file_lines)):
        raw_line = file_lines[i].strip()
        text = _MD_MARKUP.sub("", raw_line).strip()  # heading and blockquote markers are not paper text
        if not text:
            continue
        number = i + 1
        found = _md_heading(raw_line, last_top)
        if found:
            headings.append(Heading(None, number, *found))
            section = headings[-1].key
            last_top = int(found[0]) if found[0].isdigit() else last_top
        lines.append(Line(None, number, text, section))
        inline = _MD_INLINE_HEADING.search(text)
        if inline and not found:  # a heading run into the end of a paragraph: it starts the next line's section
            headings.append(Heading(None, number, inline.group("label"), inline.group("title").strip()))
            section = headings[-1].key
    stamp = STAMP.search("\n".join(file_lines[:60]))
    front = [ln.text for ln in lines if not ln.section][:30]
    return PaperText(
        source="md",
        pages=[lines],
        front_matter="\n".join(front),
        arxiv_stamp=stamp.group(0) if stamp else "",
        headings=headings,
    )


def _md_heading(text: str, last_top: int) -> tuple[str, str] | None:
    """(label, title) of a heading line: `#` lines, and plain lines such as "4.1. Title" or "3 Title" (a plain
    top-level number must follow the last one, so table rows and footnotes are not taken for headings)."""
    hashes = text.startswith("#")
    body = text.lstrip("#").strip()
    if not body or text.startswith((">", "|")):
        return None
    if hashes and body.rstrip(".:").casefold() in _UNNUMBERED:
        title = body.rstrip(".:")
        return "", title.title() if title.isupper() else title
    m = _NUMBERED.match(body)
    if not m:
        return None
    label, title = m.group("label"), m.group("title").strip()
    if not _WORD3.search(title):  # a figure legend such as "V K Q"
        return None
    if hashes:
        return label, title
    if len(title.split()) > 12 or title.endswith((".", ",", ";")):
        return None
    if "." in label:
        return label, title
    if label.isdigit():
        return (label, title) if last_top < int(label) <= last_top + 2 else None
    return (label, title) if len(title.split()) <= 8 else None  # an appendix letter
