"""Writing the document as Markdown and HTML (through the Jinja2 templates) and Word."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from markupsafe import Markup, escape

from ..files import FileRefused
from .document import Document, Para, Table
from .environment import environment
from .markup import BOLD, DEL, END_DEL, END_INS, INS, markdown, release

FORMATS = ("md", "html", "docx")


@dataclass(frozen=True)
class Group:
    kind: str  # "para", "table" or "bullets"
    item: Any


def groups(blocks: list[Para | Table]) -> Iterator[Group]:
    """Blocks with consecutive bullet paragraphs gathered into one list."""
    bullets: list[Para] = []
    for block in blocks:
        if isinstance(block, Para) and block.style == "bullet":
            bullets.append(block)
            continue
        if bullets:
            yield Group("bullets", bullets)
            bullets = []
        yield Group("table" if isinstance(block, Table) else "para", block)
    if bullets:
        yield Group("bullets", bullets)


def html_text(text: str) -> Markup:
    """Document markup as HTML: the text escaped, **bold** as <strong>, redline marks as
    <ins>/<del>, and the agreement's own text released (markup.release) only then."""
    html = BOLD.sub(r"<strong>\1</strong>", str(escape(text)))
    html = html.replace(INS, "<ins>").replace(END_INS, "</ins>")
    return Markup(release(html.replace(DEL, "<del>").replace(END_DEL, "</del>")))


def render_markdown(doc: Document, annotate: bool = False) -> str:
    env = environment()
    env.filters["groups"] = groups
    env.filters["md"] = markdown
    return env.get_template("document.md.j2").render(doc=doc, annotate=annotate).rstrip() + "\n"


def plain_text(text: str) -> str:
    """Text without markup: bold marks dropped, deletions left out, insertions kept."""
    text = re.sub(f"{DEL}.*?{END_DEL}", "", text, flags=re.S).replace(INS, "").replace(END_INS, "")
    return release(BOLD.sub(r"\1", text))


def render_html(doc: Document, annotate: bool = False) -> str:
    env = environment()
    env.filters["groups"] = groups
    env.filters["rich"] = html_text
    env.filters["plain"] = plain_text
    env.filters["anchor"] = lambda label: re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
    return env.get_template("document.html.j2").render(doc=doc, annotate=annotate).rstrip() + "\n"


def write_all(
    doc: Document, formats: list[str], out: Path, stem: str, annotate: bool = False
) -> list[Path]:
    """Write each format into `out`; the same document always gives the same bytes.

    Each file replaces any before it atomically (outputs.write_file, through files.atomic_write):
    a symbolic link there is refused (P007), and nothing is written outside `out` (P009).
    """
    from ..outputs import make_folder, write_file

    make_folder(out)
    written = []
    for fmt in formats:
        path = out / f"{stem}.{fmt}"
        if Path(stem).name != stem or path.parent.resolve() != out.resolve():
            raise FileRefused("P009", path, f"is not a file directly inside {out}")
        if fmt == "md":
            write_file(path, render_markdown(doc, annotate), newline="\n")
        elif fmt == "html":
            write_file(path, render_html(doc, annotate), newline="\n")
        else:
            from .docx import write_docx

            write_docx(doc, path, annotate)
        written.append(path)
    return written


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
