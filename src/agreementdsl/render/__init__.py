"""Rendering: the compiled agreement as draft legal schedules in Markdown, HTML and Word."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .document import Document, build_document
from .writers import FORMATS, write_all

__all__ = ["FORMATS", "Document", "build_document", "render"]


def render(
    ir: dict[str, Any],
    formats: list[str],
    out: Path,
    stem: str,
    annotate: bool = False,
    notes: list[str] | None = None,
) -> list[Path]:
    """Write the agreement in each format into `out`; returns the files written.

    `notes` (the warnings of `check`, one line each) are boxed at the top as drafting notes.
    """
    return write_all(build_document(ir, notes), formats, out, stem, annotate)
