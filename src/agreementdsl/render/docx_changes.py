"""Tracked changes in the Word file: a redline's insertions and deletions as `w:ins` and
`w:del` a lawyer can accept or reject, numbered in document order and dated as the agreement."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..terminal import xml_safe as xml_text
from .markup import bold_pieces
from .wordml import XML_SPACE, child, element

AUTHOR = "agreementdsl"
FIXED_TIME = datetime(2000, 1, 1)


class Revisions:
    """Numbers tracked changes in document order (ids must be unique in the file), dated."""

    next_id = 1
    date = FIXED_TIME


def stamp() -> str:
    """The date of a change or comment, as Word writes it."""
    return Revisions.date.strftime("%Y-%m-%dT%H:%M:%SZ")


def tracked(paragraph: Any, text: str, tag: str) -> None:
    """Add `text` as a tracked insertion (`w:ins`) or deletion (`w:del`) to the paragraph."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    change = OxmlElement(f"w:{tag}")
    change.set(qn("w:id"), str(Revisions.next_id))
    Revisions.next_id += 1
    change.set(qn("w:author"), AUTHOR)
    change.set(qn("w:date"), stamp())
    for bold, piece in bold_pieces(text):
        run = OxmlElement("w:r")
        if bold:
            props = OxmlElement("w:rPr")
            props.append(OxmlElement("w:b"))
            run.append(props)
        body = OxmlElement("w:delText" if tag == "del" else "w:t")
        body.set(qn("xml:space"), "preserve")
        body.text = xml_text(piece)
        run.append(body)
        change.append(run)
    paragraph._p.append(change)


def struck_run(text: str) -> Any:
    """A tracked deletion (`w:del`) of plain text, as words struck from a heading are in its
    entry in the contents."""
    change = element("w:del", id=str(Revisions.next_id), author=AUTHOR, date=stamp())
    Revisions.next_id += 1
    body = child(child(change, "w:r"), "w:delText")
    body.set(XML_SPACE, "preserve")
    body.text = xml_text(text)
    return change


def wholly_deleted(text: str) -> bool:
    """Whether a redline paragraph is nothing but deletions (so its mark goes too)."""
    from .redline import MARK

    rest = MARK.sub(lambda m: "" if m.group(2) is not None else "x", text)
    return bool(text) and not rest.strip()


def delete_mark(paragraph: Any) -> None:
    """Track the deletion of the paragraph mark, so accepting the change removes the paragraph."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    mark = OxmlElement("w:del")
    mark.set(qn("w:id"), str(Revisions.next_id))
    Revisions.next_id += 1
    mark.set(qn("w:author"), AUTHOR)
    mark.set(qn("w:date"), stamp())
    props = paragraph._p.get_or_add_pPr()
    run_props = props.find(qn("w:rPr"))
    if run_props is None:
        run_props = OxmlElement("w:rPr")
        props.append(run_props)
    run_props.append(mark)
