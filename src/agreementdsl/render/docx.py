"""The document as a Word file, laid out as lawyers use Word: A4, British English proofing,
real multi-level numbering, cross-references as fields, a table of contents field, curly
quotes, a draft header, page numbers and, with `annotate`, a comment on each generated
paragraph naming the line of the agreement it came from.

- **Numbering** is Word's own (numbering.xml): the framework's clauses are one list (1., 1.1,
  1.1.1), and each Schedule's Parts and paragraphs a list of their own (1.1, 1.1.1) that
  starts again at 1; a Schedule's or Part's own number is a SEQ field in its heading
  ("Part " SEQ ": " title). The numbers Word shows are the numbers the Markdown and HTML
  print (the writer counts as Word counts and checks each one), and a clause inserted in Word
  renumbers those after it.
- **Cross-references** ("clause 4", "Part 3 of Schedule 1") are REF fields, with the current
  number as the field's result, so the file reads right before any field is updated: to a
  bookmark on a clause heading, or around just the SEQ field of a Schedule or Part heading,
  so that LibreOffice, recomputing them, reads "Part 3 of Schedule 1" too.
- **Contents**: a TOC field over heading levels 1-3 whose result lists every heading; Word
  adds page numbers when the field is updated (F9), as only Word lays out the pages.
- **Quotes**: straight quotes and apostrophes in the text become curly ones (‘ ’ “ ”); the file
  names in the header and in comments are left as they are.
- **Dates**: the document's dates (created, modified, tracked changes, comments) are the
  agreement's own date (when it was signed, else its commencement), and every timestamp in
  the archive is fixed, so the same agreement always gives byte-identical files.
- A block that is neither a paragraph nor a table (such as a drafting-notes block), and a
  document's `notes` (a block with `items`) or `drafting_notes` (a list of lines), are drawn as
  a shaded, bordered box with a title; the document's notes come first, above the title.
"""

from __future__ import annotations

import io
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

from ..terminal import xml_safe as xml_text
from .document import Document, Para, Table
from .docx_changes import (
    AUTHOR,
    FIXED_TIME,
    Revisions,
    delete_mark,
    stamp,
    tracked,
    wholly_deleted,
)
from .docx_links import (
    Bookmarks,
    Target,
    bookmarks_for,
    contents_heading,
    fill_contents,
    reference,
    shown,
)
from .docx_lists import CLAUSE_LEVELS, PART_LEVELS, ListReader, Numbering, level_text, num_pr
from .markup import BOLD, DEL, END_DEL, END_INS, INS, bold_pieces, release
from .quotes import curly
from .wordml import LANGUAGE, child, complex_field, element, set_language
from .writers import groups, plain_text

ZIP_TIME = (1980, 1, 1, 0, 0, 0)
# A4 in twentieths of a point, with 2.54 cm margins and the header and footer 1.25 cm from the edge
PAGE = {"w": 11906, "h": 16838}
MARGINS = {"top": 1440, "right": 1440, "bottom": 1440, "left": 1440, "header": 708, "footer": 708}
NOTES_TITLE = "Drafting notes"


def _styles(word: Any) -> None:
    from docx.enum.style import WD_STYLE_TYPE
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt, Twips

    normal = word.styles["Normal"]
    normal.font.name = "Times New Roman"
    normal.font.size = Pt(11)
    set_language(normal.element.get_or_add_rPr())
    defaults = word.styles.element.find(qn("w:docDefaults"))
    set_language(defaults.find(qn("w:rPrDefault")).find(qn("w:rPr")))
    for name, tied in (("Clause", CLAUSE_LEVELS[1]), ("Clause 2", CLAUSE_LEVELS[2])):
        style = word.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = normal
        style.paragraph_format.left_indent = Twips(tied.indent)  # as the list level's
        style.paragraph_format.first_line_indent = Twips(-tied.hanging)
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


def _rich(paragraph: Any, text: str) -> list[Any]:
    """Add text as runs: quotes curled, **bold** spans bold, redline marks as tracked changes."""
    from .redline import MARK

    text = curly(text)
    runs: list[Any] = []
    pos = 0
    for match in MARK.finditer(text):
        runs.extend(_plain_runs(paragraph, text[pos : match.start()]))
        if match.group(1) is not None:
            tracked(paragraph, match.group(1), "ins")
        else:
            tracked(paragraph, match.group(2), "del")
        pos = match.end()
    runs.extend(_plain_runs(paragraph, text[pos:]))
    return runs


def _linked(paragraph: Any, para: Para, marks: Bookmarks) -> list[Any]:
    """The paragraph's text with each cross-reference's number a REF field to its heading.

    A reference is found by where `number` put it and read by what it says, so any label that
    resolves to "clause N", "Schedule N", "Part N of Schedule M" or "Part N of each (its)
    Schedule" is linked. One that names no heading, or lies in bold, stays text; so does every
    reference of a redline paragraph whose words changed. Each reads the same either way.
    """
    text = curly(para.text)
    spans: list[tuple[int, int, list[tuple[str, Target | None]]]] = []
    plain = not any(mark in text for mark in (INS, END_INS, DEL, END_DEL))
    bold = [(m.start(), m.end()) for m in BOLD.finditer(text)]
    for start, end, _label in para.refs if plain else []:
        pieces = reference(release(text[start:end]), marks)
        inside_bold = any(b0 < end and start < b1 for b0, b1 in bold)
        if pieces and not inside_bold and release(text[start:end]) == shown(pieces):
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
                complex_field(paragraph._p, target.instruction, target.number)
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


def _new_page(paragraph: Any) -> None:
    """The paragraph (a w:p) starts a new page (Word's "page break before"), with no empty
    paragraph left at the top of the page, as a page break of its own would leave."""
    props = paragraph.get_or_add_pPr()
    props._insert_pageBreakBefore(element("w:pageBreakBefore"))


def _label(word: Any, text: str) -> None:
    """A bold line that introduces what follows ("Background"), kept on its page."""
    paragraph = word.add_paragraph()
    paragraph.paragraph_format.keep_with_next = True
    paragraph.add_run(text).bold = True


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
    borders = child(cell_props, "w:tcBorders")
    for side in ("top", "left", "bottom", "right"):
        child(borders, f"w:{side}", val="single", sz="12", space="0", color="000000")
    child(cell_props, "w:shd", val="clear", color="auto", fill="F2F2F2")
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
    def __init__(self, word: Any, annotate: bool, marks: Bookmarks) -> None:
        self.word = word
        self.annotate = annotate
        self.marks = marks
        self.lists = Numbering(word)
        self.list = self.lists.clauses
        self.sequence: dict[str, int] = {}  # the last number of each SEQ field written

    def note(self, runs: list[Any], source: str | None) -> None:
        if not (self.annotate and source and runs):
            return
        from docx.oxml.ns import qn

        comment = self.word.add_comment(
            runs, text=f"Generated from {source}", author=AUTHOR, initials="AD"
        )
        comment._comment_elm.set(qn("w:date"), stamp())

    def blocks(self, items: list[Any]) -> None:
        """Write a section's blocks; a kind this writer does not know becomes a box."""
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
                num_pr(paragraph, 0, 0)
        self.note(_linked(paragraph, para, self.marks), para.source)
        if wholly_deleted(para.text):
            delete_mark(paragraph)

    def heading(self, level: int, number: str, title: str, label: str, num: int) -> Any:
        """A clause heading, numbered by Word's list and bookmarked for references and the
        contents."""
        paragraph = self.word.add_paragraph()
        paragraph._p.style = f"Heading{level}"  # by id: python-docx's lookup by name is slow
        levels = self.lists.levels[num]
        expected = level_text(levels[0], [int(number)]) if number.isdigit() else ""
        if not (expected and self.lists.number(paragraph, num, 0, expected)):
            literal = levels[0].text.replace("%1", number)
            paragraph.add_run(literal + (" " if levels[0].suffix == "space" else "\t"))
        runs = _rich(paragraph, title)
        target = self.marks.targets.get(label)
        if target is not None:
            self.marks.mark(paragraph, target.ref)
        return runs

    def counted(self, level: int, word: str, number: str, title: str, label: str) -> Any:
        """A Schedule or Part heading, "Schedule 1: title", its number a SEQ field with a
        bookmark around the field alone, so that a reference (REF … \\h) shows just the number
        in Word and LibreOffice alike. A Part heading is also in its Schedule's list, showing
        nothing, so that its paragraphs are numbered from it (3.1, 3.1.1)."""
        paragraph = self.word.add_paragraph()
        paragraph._p.style = f"Heading{level}"
        if word == "Part" and not (
            number.isdigit() and self.lists.number(paragraph, self.list, 0, number)
        ):
            num_pr(paragraph, 0, 0)
        paragraph.add_run(f"{word} ")
        target = self.marks.targets.get(label)
        if number.isdigit():  # "(removed)" in a redline is text
            last = self.sequence.get(word, 0)
            restart = f" \\r {number}" if last == 0 or int(number) != last + 1 else ""
            self.sequence[word] = int(number)
            mark = self.marks.start(paragraph._p, target.ref) if target else None
            complex_field(paragraph._p, f"SEQ {word}{restart} \\* ARABIC", number)
            if mark:
                self.marks.end(paragraph._p, mark)
        else:
            _plain_runs(paragraph, curly(number))
        paragraph.add_run(": ")
        return _rich(paragraph, title)

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
    Revisions.next_id = 1
    Revisions.date = _date(doc)
    _styles(word)
    _page(word)
    props = word.core_properties
    props.title = xml_text(curly(plain_text(doc.title)))
    props.subject = "Draft Section 75 partnership agreement"
    props.author = AUTHOR
    props.last_modified_by = AUTHOR
    props.comments = xml_text(release(f"Generated from {doc.source_file} (sha256 {doc.sha256})"))
    props.language = LANGUAGE
    props.created = props.modified = props.last_printed = Revisions.date
    props.revision = 1
    _header_footer(word, doc)
    marks = bookmarks_for(doc)
    writer = _Writer(word, annotate, marks)
    # check's warnings, boxed at the top of a draft: a notes block (`items`) or a list of lines
    notes = getattr(doc, "notes", None) or getattr(doc, "drafting_notes", None)
    if notes:
        lines = [str(getattr(n, "text", n)) for n in notes] if isinstance(notes, list) else None
        _box(word, NOTES_TITLE, lines if lines is not None else _box_lines(notes))
    _rich(word.add_paragraph(style="Title"), doc.title)
    basis = doc.basis[0].upper() + doc.basis[1:] + "."
    word.add_paragraph(xml_text(curly(release(basis))))
    word.add_paragraph().add_run("Between").bold = True
    for i, (name, short) in enumerate(doc.parties, start=1):
        _rich(word.add_paragraph(style="Normal"), f"({i}) {name} (**\u201c{short}\u201d**)")
    _rich(word.add_paragraph(), f"**Dated:** {doc.dated}")
    _rich(
        word.add_paragraph(),
        f"**Commencement Date:** {doc.commencement}. **Expiry Date:** {doc.expiry}.",
    )
    if doc.history:
        _label(word, "Version history")
        writer.table(doc.history)
    contents_at = contents_heading(word)
    # the agreement itself starts on a page of its own after the contents
    first = len(word.element.body)
    if doc.recitals:
        _label(word, "Background")
        for letter, recital in zip("ABCDEFGHIJ", doc.recitals, strict=False):
            _rich(word.add_paragraph(), f"({letter}) {recital}")
        _rich(word.add_paragraph(), "**It is agreed** as follows.")
    for clause in doc.clauses:
        writer.list = writer.lists.clauses
        writer.heading(1, clause.number, clause.title, clause.label, writer.lists.clauses)
        writer.blocks(clause.blocks)
    if len(word.element.body) > first:
        _new_page(word.element.body[first - 1])  # body[-1] is the section's properties
    if doc.execution:  # a page for the execution clause, then one per partner's block
        heading = word.add_heading("", level=1)
        _new_page(heading._p)
        _rich(heading, doc.execution.title)
        for block in doc.execution.blocks:
            if isinstance(block, Para) and block.style == "signature-page":
                word.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
            writer.blocks([block])
    for schedule in doc.schedules:
        runs = writer.counted(1, "Schedule", schedule.number, schedule.title, schedule.label)
        _new_page(word.element.body[-2])  # each Schedule starts a page
        writer.note(runs, schedule.source)
        writer.list = writer.lists.new_list(writer.lists.parts_abstract, PART_LEVELS)
        writer.sequence["Part"] = 0  # each Schedule's Parts count from 1
        for part in schedule.parts:
            label = f"{schedule.label}/{part.label}"
            writer.counted(2, "Part", part.number, part.title, label)
            writer.blocks(part.blocks)
    fill_contents(word, contents_at, marks)
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
    """Write the Word file (replacing any file there atomically)."""
    from ..outputs import write_file

    write_file(path, build_docx(doc, annotate))


def docx_text(path: Path) -> str:
    """All the text of a Word file, paragraphs and table cells, one per line, with the numbers
    Word shows for its numbered paragraphs and the cached results of its fields (for tests
    and review)."""
    import docx
    from docx.table import Table as WordTable

    word = docx.Document(str(path))
    lists = ListReader(word)
    lines: list[str] = []
    for block in word.iter_inner_content():  # paragraphs and tables in document order
        if isinstance(block, WordTable):
            lines.extend(" | ".join(cell.text for cell in row.cells) for row in block.rows)
        else:
            lines.append(lists.prefix(block) + block.text)
    return "\n".join(lines)
