"""Word's XML built by hand, where python-docx has no API for it: elements, runs and fields."""

from __future__ import annotations

from typing import Any

from ..terminal import xml_safe as xml_text

LANGUAGE = "en-GB"
XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"


def element(tag: str, **attrs: str) -> Any:
    """A new element, such as `element("w:ind", left="680")`; attributes are in w:."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    made = OxmlElement(tag)
    for name, value in attrs.items():
        made.set(qn(f"w:{name}"), value)
    return made


def child(parent: Any, tag: str, **attrs: str) -> Any:
    """A new element appended to `parent`."""
    made = element(tag, **attrs)
    parent.append(made)
    return made


def set_language(run_props: Any) -> None:
    """Set (or replace) the proofing language of a w:rPr or w:rPrDefault's w:rPr."""
    from docx.oxml.ns import qn

    for old in run_props.findall(qn("w:lang")):
        run_props.remove(old)
    run_props.append(element("w:lang", val=LANGUAGE, eastAsia=LANGUAGE, bidi="ar-SA"))


def text_run(text: str, bold: bool = False) -> Any:
    """A w:r holding the text (escaped as XML can hold it), bold if asked."""
    run = element("w:r")
    if bold:
        child(child(run, "w:rPr"), "w:b")
    body = child(run, "w:t")
    body.set(XML_SPACE, "preserve")
    body.text = xml_text(text)
    return run


def field_char(kind: str) -> Any:
    """A run marking where a field begins, separates its instruction from its result, or ends."""
    run = element("w:r")
    child(run, "w:fldChar", fldCharType=kind)
    return run


def instruction_run(text: str) -> Any:
    """A run holding a field's instruction, such as `REF _Ref000000001 \\h`."""
    run = element("w:r")
    body = child(run, "w:instrText")
    body.set(XML_SPACE, "preserve")
    body.text = f" {text} "
    return run


def complex_field(parent: Any, instruction: str, result: str) -> None:
    """A field (begin, instruction, separate, cached result, end) appended to `parent`."""
    parent.append(field_char("begin"))
    parent.append(instruction_run(instruction))
    parent.append(field_char("separate"))
    parent.append(text_run(result))
    parent.append(field_char("end"))
