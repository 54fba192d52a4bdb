"""The document as a Word file, laid out as lawyers use Word: A4, British English proofing,
real multi-level numbering, cross-references as fields, a table of contents field, curly
quotes, a draft header, page numbers and, with `annotate`, a comment on each generated
paragraph naming the line of the agreement it came from.

- **Numbering** is Word's own (numbering.xml): the framework's clauses are one list (1., 1.1,
  1.1.1), the Schedules another (Schedule 1:), and each Schedule's Parts and paragraphs a list
  of their own (Part 1:, 1.1, 1.1.1) that starts again at 1. The numbers Word shows are the
  numbers the Markdown and HTML print (the writer counts as Word counts and checks each one),
  and a clause inserted in Word renumbers those after it.
- **Cross-references** ("clause 4", "Part 3 of Schedule 1") are REF fields to a bookmark on
  the heading they name, with the current number as the field's result, so the file reads
  right before any field is updated.
- **Contents**: a TOC field over heading levels 1-3 whose result lists every heading; Word
  adds page numbers when the field is updated (F9), as only Word lays out the pages.
- **Quotes**: straight quotes and apostrophes in the text become curly ones (‘ ’ “ ”); the file
  names in the header and in comments are left as they are.
- **Dates**: the document's dates (created, modified, tracked changes, comments) are the
  agreement's own date (when it was signed, else its commencement), and every timestamp in
  the archive is fixed, so the same agreement always gives byte-identical files.
- A block that is neither a paragraph nor a table (such as a drafting-notes block), and a
  document's `drafting_notes`, are drawn as a shaded, bordered box with a title.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ..terminal import xml_safe as xml_text
from .document import Document, Para, Table
from .markup import BOLD, DEL, END_DEL, END_INS, INS, bold_pieces, release
from .writers import groups, plain_text

FIXED_TIME = datetime(2000, 1, 1)
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
AUTHOR = "agreementdsl"
LANGUAGE = "en-GB"
# A4 in twentieths of a point, with 2.54 cm margins and the header and footer 1.25 cm from the edge
PAGE = {"w": 11906, "h": 16838}
MARGINS = {"top": 1440, "right": 1440, "bottom": 1440, "left": 1440, "header": 708, "footer": 708}
HANG = 680  # 1.2 cm: where a clause's text starts after its number
NOTES_TITLE = "Drafting notes"


# ---------------------------------------------------------------- quotes
_MARKS = "*" + INS + END_INS + DEL + END_DEL  # markup around text, not text
_OPENS_AFTER = "([{\u2013\u2014-/\u201c\u2018"


def curly(text: str) -> str:
    """Straight quotes and apostrophes as typographic ones, length kept (one for one).

    A quote opens at the start or after a space or an opening bracket, dash or quote, and
    closes otherwise; an apostrophe closes (St John’s, Partners’) and so does one before a
    digit (’05). The markup's own characters (bold marks, redline marks) are looked through.
    """
    out: list[str] = []
    before = ""
    for i, char in enumerate(text):
        opening = not before or before.isspace() or before in _OPENS_AFTER
        if char == '"':
            char = "\u201c" if opening else "\u201d"
        elif char == "'":
            after = text[i + 1 : i + 2]
            char = "\u2018" if opening and not after.isdigit() else "\u2019"
        out.append(char)
        if char not in _MARKS:
            before = char
    return "".join(out)


# ---------------------------------------------------------------- XML helpers
def _el(tag: str, **attrs: str) -> Any:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    element = OxmlElement(tag)
    for name, value in attrs.items():
        element.set(qn(f"w:{name}"), value)
    return element


def _child(parent: Any, tag: str, **attrs: str) -> Any:
    element = _el(tag, **attrs)
    parent.append(element)
    return element


def _lang(run_props: Any) -> None:
    """Set (or replace) the proofing language of a w:rPr or w:rPrDefault's w:rPr."""
    from docx.oxml.ns import qn

    for old in run_props.findall(qn("w:lang")):
        run_props.remove(old)
    run_props.append(_el("w:lang", val=LANGUAGE, eastAsia=LANGUAGE, bidi="ar-SA"))


def _styles(word: Any) -> None:
    from docx.enum.style import WD_STYLE_TYPE
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    normal = word.styles["Normal"]
    normal.font.name = "Times New Roman"
    normal.font.size = Pt(11)
    _lang(normal.element.get_or_add_rPr())
    defaults = word.styles.element.find(qn("w:docDefaults"))
    _lang(defaults.find(qn("w:rPrDefault")).find(qn("w:rPr")))
    for name, indent in (("Clause", 1.2), ("Clause 2", 2.4)):
        style = word.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = normal
        style.paragraph_format.left_indent = Cm(indent)
        style.paragraph_format.first_line_indent = Cm(-1.2)
        style.paragraph_format.space_after = Pt(6)
    notice = word.styles.add_style("Draft Notice", WD_STYLE_TYPE.PARAGRAPH)
    notice.base_style = word.styles["Header"]
    notice.font.size = Pt(8)
    notice.font.bold = True
    for level in (1, 2, 3):  # Word's own names, so a field update uses these styles
        toc = word.styles.add_style(f"toc {level}", WD_STYLE_TYPE.PARAGRAPH)
        toc.style_id = f"TOC{level}"
        toc.base_style = normal
        toc.paragraph_format.left_indent = Cm(0.4 * (level - 1))
        toc.paragraph_format.space_after = Pt(3)
    settings = word.settings.element
    for theme in settings.findall(qn("w:themeFontLang")):
        theme.set(qn("w:val"), LANGUAGE)
    for part in word.part.package.iter_parts():  # Word 2010's copy of the styles
        if str(part.partname) == "/word/stylesWithEffects.xml":
            part._blob = part.blob.replace(
                b'w:val="en-US" w:eastAsia="en-US"', b'w:val="en-GB" w:eastAsia="en-GB"'
            )


def _page(word: Any) -> None:
    from docx.shared import Twips

    section = word.sections[0]
    section.page_width, section.page_height = Twips(PAGE["w"]), Twips(PAGE["h"])
    section.top_margin, section.bottom_margin = Twips(MARGINS["top"]), Twips(MARGINS["bottom"])
    section.left_margin, section.right_margin = Twips(MARGINS["left"]), Twips(MARGINS["right"])
    section.header_distance = Twips(MARGINS["header"])
    section.footer_distance = Twips(MARGINS["footer"])


# ---------------------------------------------------------------- numbering
@dataclass(frozen=True)
class _Level:
    text: str  # Word's lvlText: %1 is the first level's counter
    suffix: str  # tab, space
    indent: int
    hanging: int
    bold: bool = False
    style: str | None = None  # the paragraph style tied to this level


CLAUSE_LEVELS = (
    _Level("%1.", "tab", HANG, HANG),
    _Level("%1.%2", "tab", HANG, HANG, bold=True, style="Clause"),
    _Level("%1.%2.%3", "tab", 2 * HANG, HANG, bold=True, style="Clause2"),
)
PART_LEVELS = (
    _Level("Part %1:", "space", 0, 0),
    _Level("%1.%2", "tab", HANG, HANG, bold=True),
    _Level("%1.%2.%3", "tab", 2 * HANG, HANG, bold=True),
)
SCHEDULE_LEVELS = (_Level("Schedule %1:", "space", 0, 0),)


def _level_text(level: _Level, counters: list[int]) -> str:
    return re.sub(r"%([1-9])", lambda m: str(counters[int(m.group(1)) - 1]), level.text)


class _Numbering:
    """Word lists in numbering.xml, and a count of each as Word would number it."""

    def __init__(self, word: Any) -> None:
        from docx.oxml.ns import qn

        self.word = word
        self.root = word.part.numbering_part.element
        self.abstract_ids = [
            int(a.get(qn("w:abstractNumId"))) for a in self.root.findall(qn("w:abstractNum"))
        ]
        self.num_ids = [int(n.get(qn("w:numId"))) for n in self.root.findall(qn("w:num"))]
        self.levels: dict[int, tuple[_Level, ...]] = {}
        self.counters: dict[int, list[int]] = {}
        self.clauses_abstract = self._abstract(CLAUSE_LEVELS, "1A0C1A05")
        self.parts_abstract = self._abstract(PART_LEVELS, "1A0C1A06")
        self.schedules_abstract = self._abstract(SCHEDULE_LEVELS, "1A0C1A07")
        self.clauses = self.new_list(self.clauses_abstract, CLAUSE_LEVELS)
        self.schedules = self.new_list(self.schedules_abstract, SCHEDULE_LEVELS)
        for level_number, level in enumerate(CLAUSE_LEVELS):
            if level.style:  # a new paragraph in the style is numbered, as Word users expect
                props = word.styles.get_by_id(level.style, 1).element.get_or_add_pPr()
                num = _el("w:numPr")
                _child(num, "w:ilvl", val=str(level_number))
                _child(num, "w:numId", val=str(self.clauses))
                props.insert(0, num)

    def _abstract(self, levels: tuple[_Level, ...], nsid: str) -> int:
        from docx.oxml.ns import qn

        number = max(self.abstract_ids, default=-1) + 1
        self.abstract_ids.append(number)
        abstract = _el("w:abstractNum", abstractNumId=str(number))
        _child(abstract, "w:nsid", val=nsid)
        _child(abstract, "w:multiLevelType", val="multilevel")
        for i, level in enumerate(levels):
            lvl = _child(abstract, "w:lvl", ilvl=str(i))
            _child(lvl, "w:start", val="1")
            _child(lvl, "w:numFmt", val="decimal")
            if level.style:
                _child(lvl, "w:pStyle", val=level.style)
            _child(lvl, "w:suff", val=level.suffix)
            _child(lvl, "w:lvlText", val=level.text)
            _child(lvl, "w:lvlJc", val="left")
            props = _child(lvl, "w:pPr")
            _child(props, "w:ind", left=str(level.indent), hanging=str(level.hanging))
            if level.bold:
                _child(_child(lvl, "w:rPr"), "w:b")
        first_num = self.root.find(qn("w:num"))  # every abstractNum comes before every num
        if first_num is None:
            self.root.append(abstract)
        else:
            first_num.addprevious(abstract)
        return number

    def new_list(self, abstract: int, levels: tuple[_Level, ...]) -> int:
        """A list of its own (counting from 1) on the abstract definition; returns its numId."""
        number = max(self.num_ids, default=0) + 1
        self.num_ids.append(number)
        num = _child(self.root, "w:num", numId=str(number))
        _child(num, "w:abstractNumId", val=str(abstract))
        override = _child(num, "w:lvlOverride", ilvl="0")
        _child(override, "w:startOverride", val="1")
        self.levels[number] = levels
        self.counters[number] = [0] * len(levels)
        return number

    def next_number(self, num: int, ilvl: int) -> str | None:
        """The number Word gives the next paragraph at this level, or None where Word's count
        would skip a level (a sub-paragraph before any paragraph)."""
        counters = self.counters[num]
        if any(c == 0 for c in counters[:ilvl]):
            return None
        return _level_text(self.levels[num][ilvl], [*counters[:ilvl], counters[ilvl] + 1])

    def number(self, paragraph: Any, num: int, ilvl: int, expected: str) -> bool:
        """Number the paragraph in the list if Word's number is `expected`; else leave it to
        the caller to write the number as text (and keep the style from numbering it)."""
        shown = self.next_number(num, ilvl)
        if shown is None or shown.rstrip(".:") != expected.rstrip(".:"):
            _num_pr(paragraph, 0, 0)
            return False
        counters = self.counters[num]
        counters[ilvl] += 1
        counters[ilvl + 1 :] = [0] * (len(counters) - ilvl - 1)
        _num_pr(paragraph, num, ilvl)
        return True


def _num_pr(paragraph: Any, num: int, ilvl: int) -> None:
    """w:numPr on the paragraph (numId 0: not numbered, even if its style is)."""
    props = paragraph._p.get_or_add_pPr()
    numbering = _el("w:numPr")
    _child(numbering, "w:ilvl", val=str(ilvl))
    _child(numbering, "w:numId", val=str(num))
    style = props.find("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}pStyle")
    if style is not None:
        style.addnext(numbering)
    else:
        props.insert(0, numbering)


# ---------------------------------------------------------------- fields and bookmarks
def _run(text: str, bold: bool = False) -> Any:
    run = _el("w:r")
    if bold:
        _child(_child(run, "w:rPr"), "w:b")
    body = _child(run, "w:t")
    body.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    body.text = xml_text(text)
    return run


def _field_char(kind: str) -> Any:
    run = _el("w:r")
    _child(run, "w:fldChar", fldCharType=kind)
    return run


def _instruction(text: str) -> Any:
    run = _el("w:r")
    body = _child(run, "w:instrText")
    body.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    body.text = f" {text} "
    return run


def _complex_field(parent: Any, instruction: str, result: str) -> None:
    """A field (begin, instruction, separate, cached result, end) appended to `parent`."""
    parent.append(_field_char("begin"))
    parent.append(_instruction(instruction))
    parent.append(_field_char("separate"))
    parent.append(_run(result))
    parent.append(_field_char("end"))


@dataclass
class _Target:
    """A heading a reference or the contents can point at."""

    number: str  # the number as a reference shows it: 4, 3, 1
    ref: str  # bookmark for REF fields
    toc: str  # bookmark for the contents


@dataclass
class _Bookmarks:
    targets: dict[str, _Target] = field(default_factory=dict)
    next_id: int = 0

    def add(self, label: str, number: str) -> _Target:
        index = len(self.targets) + 1
        target = _Target(number, f"_Ref{index:09d}", f"_Toc{index:09d}")
        self.targets[label] = target
        return target

    def mark(self, paragraph: Any, *names: str) -> None:
        """Bookmarks around the paragraph's content."""
        props = paragraph._p.pPr
        for name in names:
            self.next_id += 1
            start = _el("w:bookmarkStart", id=str(self.next_id), name=name)
            if props is not None:
                props.addnext(start)
            else:
                paragraph._p.insert(0, start)
            paragraph._p.append(_el("w:bookmarkEnd", id=str(self.next_id)))


def _bookmarks(doc: Document) -> _Bookmarks:
    """A bookmark for every heading, named in document order, by the label references use."""
    marks = _Bookmarks()
    for clause in doc.clauses:
        marks.add(clause.label, clause.number)
    for schedule in doc.schedules:
        marks.add(schedule.label, schedule.number)
        for part in schedule.parts:
            marks.add(f"{schedule.label}/{part.label}", part.number)
    return marks


def _reference(label: str, marks: _Bookmarks) -> list[tuple[str, _Target | None]]:
    """The words of a resolved reference: text, and the numbers as fields to their targets."""
    targets = marks.targets
    kind, _, rest = label.partition(":")
    if kind == "clause" and label in targets:
        return [("clause ", None), ("", targets[label])]
    if kind == "schedule" and label in targets:
        return [("Schedule ", None), ("", targets[label])]
    if kind == "part":
        pool = rest.rsplit(":", 1)[0]
        schedule = f"schedule:{pool}"
        part = targets.get(f"{schedule}/{label}")
        if part and schedule in targets:
            return [("Part ", None), ("", part), (" of Schedule ", None), ("", targets[schedule])]
    if kind == "parts":  # "Part 3 of each Schedule": the first Schedule's Part 3
        part = next(
            (t for k, t in targets.items() if "/" in k and k.rsplit(":", 1)[1] == rest), None
        )
        if part:
            return [("Part ", None), ("", part), (" of each Schedule", None)]
    return []


def _shown(pieces: list[tuple[str, _Target | None]]) -> str:
    return "".join(target.number if target else text for text, target in pieces)


# ---------------------------------------------------------------- text as runs
def _plain_runs(paragraph: Any, text: str) -> list[Any]:
    """Add text with **bold** spans as runs; returns the runs."""
    runs = []
    for bold, piece in bold_pieces(text):
        run = paragraph.add_run(xml_text(piece))
        if bold:
            run.bold = True
        runs.append(run)
    return runs


class _Revisions:
    """Numbers tracked changes in document order (ids must be unique in the file), dated."""

    next_id = 1
    date = FIXED_TIME


def _stamp() -> str:
    return _Revisions.date.strftime("%Y-%m-%dT%H:%M:%SZ")


def _tracked(paragraph: Any, text: str, tag: str) -> None:
    """Add `text` as a tracked insertion (`w:ins`) or deletion (`w:del`) to the paragraph."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    change = OxmlElement(f"w:{tag}")
    change.set(qn("w:id"), str(_Revisions.next_id))
    _Revisions.next_id += 1
    change.set(qn("w:author"), AUTHOR)
    change.set(qn("w:date"), _stamp())
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


def _wholly_deleted(text: str) -> bool:
    """Whether a redline paragraph is nothing but deletions (so its mark goes too)."""
    from .redline import MARK

    rest = MARK.sub(lambda m: "" if m.group(2) is not None else "x", text)
    return bool(text) and not rest.strip()


def _delete_mark(paragraph: Any) -> None:
    """Track the deletion of the paragraph mark, so accepting the change removes the paragraph."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    mark = OxmlElement("w:del")
    mark.set(qn("w:id"), str(_Revisions.next_id))
    _Revisions.next_id += 1
    mark.set(qn("w:author"), AUTHOR)
    mark.set(qn("w:date"), _stamp())
    props = paragraph._p.get_or_add_pPr()
    run_props = props.find(qn("w:rPr"))
    if run_props is None:
        run_props = OxmlElement("w:rPr")
        props.append(run_props)
    run_props.append(mark)


def _rich(paragraph: Any, text: str) -> list[Any]:
    """Add text as runs: quotes curled, **bold** spans bold, redline marks as tracked changes."""
    from .redline import MARK

    text = curly(text)
    runs: list[Any] = []
    pos = 0
    for match in MARK.finditer(text):
        runs.extend(_plain_runs(paragraph, text[pos : match.start()]))
        if match.group(1) is not None:
            _tracked(paragraph, match.group(1), "ins")
        else:
            _tracked(paragraph, match.group(2), "del")
        pos = match.end()
    runs.extend(_plain_runs(paragraph, text[pos:]))
    return runs


def _linked(paragraph: Any, para: Para, marks: _Bookmarks) -> list[Any]:
    """The paragraph's text with each cross-reference's number a REF field to its heading.

    Where a reference cannot be placed exactly (a redline changed the text around it, or it
    lies in bold) the paragraph is written as text: it reads the same, but is not linked.
    """
    text = curly(para.text)
    spans: list[tuple[int, int, list[tuple[str, _Target | None]]]] = []
    plain = not any(mark in text for mark in (INS, END_INS, DEL, END_DEL))
    bold = [(m.start(), m.end()) for m in BOLD.finditer(text)]
    for start, end, label in para.refs if plain else []:
        pieces = _reference(label, marks)
        inside_bold = any(b0 < end and start < b1 for b0, b1 in bold)
        if not pieces or inside_bold or release(text[start:end]) != _shown(pieces):
            return _rich(paragraph, para.text)
        spans.append((start, end, pieces))
    if not spans:
        return _rich(paragraph, para.text)
    runs: list[Any] = []
    pos = 0
    for start, end, pieces in spans:
        runs.extend(_plain_runs(paragraph, text[pos:start]))
        for words, target in pieces:
            if target is None:
                runs.extend(_plain_runs(paragraph, words))
            else:
                _complex_field(paragraph._p, f"REF {target.ref} \\w \\t \\h", target.number)
        pos = end
    runs.extend(_plain_runs(paragraph, text[pos:]))
    return runs


def _repeat_as_header(row: Any) -> None:
    """The header row is repeated at the top of each page the table runs onto."""
    from docx.oxml import OxmlElement

    row._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))


def _keep_row_together(row: Any) -> None:
    """A table row is not split across a page break (Word's "allow row to break" off)."""
    from docx.oxml import OxmlElement

    row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))


def _field(paragraph: Any, instruction: str) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), instruction)
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    paragraph._p.append(field)


def _header_footer(word: Any, doc: Document) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    section = word.sections[0]
    header = section.header.paragraphs[0]
    header.text = xml_text(plain_text(doc.draft_notice))  # names files: left as written
    header.style = word.styles["Draft Notice"]
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    footer.add_run("Page ")
    _field(footer, "PAGE")
    footer.add_run(" of ")
    _field(footer, "NUMPAGES")


# ---------------------------------------------------------------- boxes
def _box_lines(block: Any) -> list[str]:
    """The lines of a block the writer has no kind for: its items, lines, paragraphs or text."""
    for name in ("items", "lines", "notes", "paragraphs", "blocks"):
        items = getattr(block, name, None)
        if isinstance(items, list | tuple):
            return [str(getattr(item, "text", item)) for item in items]
    if isinstance(block, str):
        return [block]
    return [str(getattr(block, "text", block))]


def _box(word: Any, title: str, lines: list[str]) -> Any:
    """A shaded, bordered box: one table cell with a bold title and a paragraph per line."""
    from docx.oxml.ns import qn

    table = word.add_table(rows=1, cols=1, style="Table Grid")
    cell = table.rows[0].cells[0]
    cell_props = cell._tc.get_or_add_tcPr()
    borders = _child(cell_props, "w:tcBorders")
    for side in ("top", "left", "bottom", "right"):
        _child(borders, f"w:{side}", val="single", sz="12", space="0", color="000000")
    _child(cell_props, "w:shd", val="clear", color="auto", fill="F2F2F2")
    heading = cell.paragraphs[0]
    heading.add_run(xml_text(curly(release(title)))).bold = True
    runs: list[Any] = []
    for line in lines:
        runs.extend(_rich(cell.add_paragraph(style="List Bullet"), line))
    width = table._tbl.tblPr.find(qn("w:tblW"))
    if width is not None:  # the whole width of the page
        width.set(qn("w:w"), "5000")
        width.set(qn("w:type"), "pct")
    word.add_paragraph()
    return runs


# ---------------------------------------------------------------- the body
class _Writer:
    def __init__(self, word: Any, annotate: bool, marks: _Bookmarks) -> None:
        self.word = word
        self.annotate = annotate
        self.marks = marks
        self.lists = _Numbering(word)
        self.list = self.lists.clauses

    def note(self, runs: list[Any], source: str | None) -> None:
        if not (self.annotate and source and runs):
            return
        from docx.oxml.ns import qn

        comment = self.word.add_comment(
            runs, text=f"Generated from {source}", author=AUTHOR, initials="AD"
        )
        comment._comment_elm.set(qn("w:date"), _stamp())

    def blocks(self, items: list[Any]) -> None:
        batch: list[Para | Table] = []
        for block in items:  # a kind this writer does not know is drawn as a box, in place
            if isinstance(block, Para | Table):
                batch.append(block)
                continue
            self.known(batch)
            batch = []
            title = str(getattr(block, "title", "") or NOTES_TITLE)
            self.note(_box(self.word, title, _box_lines(block)), getattr(block, "source", None))
        self.known(batch)

    def known(self, batch: list[Para | Table]) -> None:
        for group in groups(batch):
            if group.kind == "table":
                self.table(group.item)
            elif group.kind == "bullets":
                for item in group.item:
                    paragraph = self.word.add_paragraph(style="List Bullet")
                    self.note(_rich(paragraph, item.text), item.source)
            else:
                self.para(group.item)

    def para(self, para: Para) -> None:
        style = "Clause 2" if para.level == 2 else "Clause"
        paragraph = self.word.add_paragraph(style=style if para.numbered else "Normal")
        if para.numbered and not (
            para.number and self.lists.number(paragraph, self.list, para.level, para.number)
        ):
            if para.number:
                paragraph.add_run(f"{para.number}\t").bold = True
            else:
                _num_pr(paragraph, 0, 0)
        self.note(_linked(paragraph, para, self.marks), para.source)
        if _wholly_deleted(para.text):
            _delete_mark(paragraph)

    def heading(self, level: int, number: str, title: str, label: str, num: int) -> Any:
        """A numbered heading, bookmarked for references and the contents."""
        paragraph = self.word.add_paragraph(style=f"Heading {level}")
        levels = self.lists.levels[num]
        expected = _level_text(levels[0], [int(number)]) if number.isdigit() else ""
        if not (expected and self.lists.number(paragraph, num, 0, expected)):
            literal = levels[0].text.replace("%1", number)
            paragraph.add_run(literal + (" " if levels[0].suffix == "space" else "\t"))
        runs = _rich(paragraph, title)
        target = self.marks.targets.get(label)
        if target is not None:
            self.marks.mark(paragraph, target.ref, target.toc)
        return runs

    def table(self, table: Table) -> None:
        grid = self.word.add_table(rows=1, cols=len(table.headers), style="Table Grid")
        _repeat_as_header(grid.rows[0])
        for cell, header in zip(grid.rows[0].cells, table.headers, strict=True):
            cell.text = ""
            run = cell.paragraphs[0].add_run(xml_text(curly(plain_text(header))))
            run.bold = True
        if table.headers[0] == "Row":
            from docx.shared import Cm

            for cell in grid.columns[0].cells:
                cell.width = Cm(1.2)
        first_runs: list[Any] = []
        for row in table.rows:
            added = grid.add_row()
            _keep_row_together(added)
            cells = added.cells
            if table.headers[0] == "Row":
                from docx.shared import Cm

                cells[0].width = Cm(1.2)
            for cell, value in zip(cells, row, strict=True):
                runs = _rich(cell.paragraphs[0], value)
                if not first_runs:
                    first_runs = runs
        self.note(first_runs, table.source)
        self.word.add_paragraph()


def _contents(word: Any, doc: Document, marks: _Bookmarks) -> None:
    """A TOC field over heading levels 1-3; its result lists the headings as Word would."""
    word.add_paragraph("Contents", style="TOC Heading")
    entries: list[tuple[int, str, str | None]] = []  # level, text, bookmark
    for clause in doc.clauses:
        target = marks.targets.get(clause.label)
        entries.append(
            (1, f"{clause.number}.\t{plain_text(clause.title)}", target.toc if target else None)
        )
    for schedule in doc.schedules:
        target = marks.targets.get(schedule.label)
        entries.append(
            (
                1,
                f"Schedule {schedule.number}: {plain_text(schedule.title)}",
                target.toc if target else None,
            )
        )
        for part in schedule.parts:
            target = marks.targets.get(f"{schedule.label}/{part.label}")
            entries.append(
                (2, f"Part {part.number}: {plain_text(part.title)}", target.toc if target else None)
            )
    last = len(entries) - 1
    for i, (level, text, bookmark) in enumerate(entries):
        paragraph = word.add_paragraph(style=f"toc {level}")
        if i == 0:
            paragraph._p.append(_field_char("begin"))
            paragraph._p.append(_instruction('TOC \\o "1-3" \\h'))
            paragraph._p.append(_field_char("separate"))
        holder = paragraph._p
        if bookmark:
            holder = _child(paragraph._p, "w:hyperlink", anchor=bookmark, history="1")
        for n, piece in enumerate(curly(text).split("\t")):
            if n:
                _child(_child(holder, "w:r"), "w:tab")
            holder.append(_run(piece))
        if i == last:
            paragraph._p.append(_field_char("end"))


def _date(doc: Document) -> datetime:
    """The agreement's own date (signed, else commencement), or a fixed one if it has none."""
    try:
        return datetime.fromisoformat(str(getattr(doc, "date", "") or ""))
    except ValueError:
        return FIXED_TIME


def build_docx(doc: Document, annotate: bool = False) -> bytes:
    """The Word file's bytes (deterministic)."""
    import docx
    from docx.enum.text import WD_BREAK

    word = docx.Document()  # every text run goes through xml_text: control characters escaped
    _Revisions.next_id = 1
    _Revisions.date = _date(doc)
    _styles(word)
    _page(word)
    props = word.core_properties
    props.title = xml_text(curly(plain_text(doc.title)))
    props.subject = "Draft Section 75 partnership agreement"
    props.author = AUTHOR
    props.last_modified_by = AUTHOR
    props.comments = xml_text(release(f"Generated from {doc.source_file} (sha256 {doc.sha256})"))
    props.language = LANGUAGE
    props.created = props.modified = props.last_printed = _Revisions.date
    props.revision = 1
    _header_footer(word, doc)
    marks = _bookmarks(doc)
    writer = _Writer(word, annotate, marks)
    notes = getattr(doc, "drafting_notes", None)  # check's warnings, at the top of a draft
    if notes:
        lines = [str(getattr(n, "text", n)) for n in notes] if isinstance(notes, list) else None
        _box(word, NOTES_TITLE, lines if lines is not None else _box_lines(notes))
    _rich(word.add_paragraph(style="Title"), doc.title)
    basis = doc.basis[0].upper() + doc.basis[1:] + "."
    word.add_paragraph(xml_text(curly(release(basis))))
    word.add_paragraph().add_run("Between").bold = True
    for i, (name, short) in enumerate(doc.parties, start=1):
        _rich(word.add_paragraph(style="Normal"), f"({i}) {name} (**\u201c{short}\u201d**)")
    _rich(
        word.add_paragraph(),
        f"**Commencement Date:** {doc.commencement}. **Expiry Date:** {doc.expiry}.",
    )
    _contents(word, doc, marks)
    for clause in doc.clauses:
        writer.list = writer.lists.clauses
        writer.heading(1, clause.number, clause.title, clause.label, writer.lists.clauses)
        writer.blocks(clause.blocks)
    for schedule in doc.schedules:
        word.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        runs = writer.heading(
            1, schedule.number, schedule.title, schedule.label, writer.lists.schedules
        )
        writer.note(runs, schedule.source)
        writer.list = writer.lists.new_list(writer.lists.parts_abstract, PART_LEVELS)
        for part in schedule.parts:
            label = f"{schedule.label}/{part.label}"
            writer.heading(2, part.number, part.title, label, writer.list)
            writer.blocks(part.blocks)
    buffer = io.BytesIO()
    word.save(buffer)
    return _normalise_zip(buffer.getvalue())


def _normalise_zip(data: bytes) -> bytes:
    """The same archive with every entry's timestamp and attributes fixed."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            target.writestr(fixed, source.read(info.filename))
    return out.getvalue()


def write_docx(doc: Document, path: Path, annotate: bool = False) -> None:
    from ..outputs import write_file

    write_file(path, build_docx(doc, annotate))


# ---------------------------------------------------------------- reading it back
class _ListReader:
    """The numbers Word shows for decimal lists, worked out from numbering.xml and styles.xml
    (for reading a file back in tests and review; bullets are left out, as before)."""

    def __init__(self, word: Any) -> None:
        from docx.oxml.ns import qn

        self.qn = qn
        self.levels: dict[str, dict[int, tuple[int, str, str, str]]] = {}
        self.counters: dict[str, dict[int, int]] = {}
        root = word.part.numbering_part.element
        abstracts: dict[str, dict[int, tuple[int, str, str, str]]] = {}
        for abstract in root.findall(qn("w:abstractNum")):
            levels = {}
            for lvl in abstract.findall(qn("w:lvl")):
                levels[int(lvl.get(qn("w:ilvl")))] = (
                    int(self._val(lvl, "w:start") or "1"),
                    self._val(lvl, "w:numFmt") or "decimal",
                    self._val(lvl, "w:lvlText") or "",
                    self._val(lvl, "w:suff") or "tab",
                )
            abstracts[abstract.get(qn("w:abstractNumId"))] = levels
        for num in root.findall(qn("w:num")):
            levels = dict(abstracts.get(self._val(num, "w:abstractNumId") or "", {}))
            for override in num.findall(qn("w:lvlOverride")):
                ilvl = int(override.get(qn("w:ilvl")))
                start = self._val(override, "w:startOverride")
                if start is not None and ilvl in levels:
                    levels[ilvl] = (int(start), *levels[ilvl][1:])
            self.levels[num.get(qn("w:numId"))] = levels
        self.styles: dict[str, tuple[str | None, str | None, str | None]] = {}
        for style in word.styles.element.findall(qn("w:style")):
            num_pr = style.find(f"{qn('w:pPr')}/{qn('w:numPr')}")
            based = style.find(qn("w:basedOn"))
            self.styles[style.get(qn("w:styleId"))] = (
                self._val(num_pr, "w:numId") if num_pr is not None else None,
                self._val(num_pr, "w:ilvl") if num_pr is not None else None,
                based.get(qn("w:val")) if based is not None else None,
            )

    def _val(self, element: Any, tag: str) -> str | None:
        found = element.find(self.qn(tag))
        return None if found is None else found.get(self.qn("w:val"))

    def _num_pr(self, paragraph: Any) -> tuple[str | None, int]:
        props = paragraph._p.pPr
        num_pr = props.find(self.qn("w:numPr")) if props is not None else None
        if num_pr is not None:
            return self._val(num_pr, "w:numId"), int(self._val(num_pr, "w:ilvl") or "0")
        style = props.find(self.qn("w:pStyle")) if props is not None else None
        style_id = style.get(self.qn("w:val")) if style is not None else None
        seen = set()
        while style_id and style_id not in seen:
            seen.add(style_id)
            num, ilvl, based = self.styles.get(style_id, (None, None, None))
            if num is not None:
                return num, int(ilvl or "0")
            style_id = based
        return None, 0

    def prefix(self, paragraph: Any) -> str:
        num, ilvl = self._num_pr(paragraph)
        levels = self.levels.get(num or "0")
        if not levels or ilvl not in levels:
            return ""
        counters = self.counters.setdefault(num or "0", {})
        start, fmt, text, suffix = levels[ilvl]
        counters[ilvl] = counters.get(ilvl, start - 1) + 1
        for deeper in [k for k in counters if k > ilvl]:
            del counters[deeper]
        if fmt != "decimal":
            return ""
        shown = re.sub(
            r"%([1-9])",
            lambda m: str(
                counters.get(int(m.group(1)) - 1, levels.get(int(m.group(1)) - 1, (1,))[0])
            ),
            text,
        )
        return shown + {"tab": "\t", "space": " "}.get(suffix, "")


def docx_text(path: Path) -> str:
    """All the text of a Word file, paragraphs and table cells, one per line, with the numbers
    Word shows for its numbered paragraphs and the cached results of its fields (for tests
    and review)."""
    import docx
    from docx.table import Table as WordTable

    word = docx.Document(str(path))
    lists = _ListReader(word)
    lines: list[str] = []
    for block in word.iter_inner_content():  # paragraphs and tables in document order
        if isinstance(block, WordTable):
            lines.extend(" | ".join(cell.text for cell in row.cells) for row in block.rows)
        else:
            lines.append(lists.prefix(block) + block.text)
    return "\n".join(lines)
