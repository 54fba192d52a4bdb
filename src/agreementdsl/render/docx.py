"""The document as a Word file, with real styles, a draft header, page numbers and, with
`annotate`, a comment on each generated paragraph naming the line of the agreement it came from.

Word files are zip archives that normally carry the time they were written; here every
timestamp is fixed, so the same agreement always gives byte-identical files.
"""

from __future__ import annotations

import io
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

from ..terminal import xml_safe as xml_text
from .document import Document, Para, Table
from .markup import bold_pieces, release
from .writers import groups, plain_text

FIXED_TIME = datetime(2000, 1, 1)
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
AUTHOR = "agreementdsl"


def _styles(word: Any) -> None:
    from docx.enum.style import WD_STYLE_TYPE
    from docx.shared import Cm, Pt

    normal = word.styles["Normal"]
    normal.font.name = "Times New Roman"
    normal.font.size = Pt(11)
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
    """Numbers tracked changes in document order (ids must be unique in the file)."""

    next_id = 1


def _tracked(paragraph: Any, text: str, tag: str) -> None:
    """Add `text` as a tracked insertion (`w:ins`) or deletion (`w:del`) to the paragraph."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    change = OxmlElement(f"w:{tag}")
    change.set(qn("w:id"), str(_Revisions.next_id))
    _Revisions.next_id += 1
    change.set(qn("w:author"), AUTHOR)
    change.set(qn("w:date"), FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ"))
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
    mark.set(qn("w:date"), FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ"))
    props = paragraph._p.get_or_add_pPr()
    run_props = props.find(qn("w:rPr"))
    if run_props is None:
        run_props = OxmlElement("w:rPr")
        props.append(run_props)
    run_props.append(mark)


def _rich(paragraph: Any, text: str) -> list[Any]:
    """Add text as runs: **bold** spans bold, redline marks as tracked changes."""
    from .redline import MARK

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
    header.text = xml_text(plain_text(doc.draft_notice))
    header.style = word.styles["Draft Notice"]
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    footer.add_run("Page ")
    _field(footer, "PAGE")
    footer.add_run(" of ")
    _field(footer, "NUMPAGES")


class _Writer:
    def __init__(self, word: Any, annotate: bool) -> None:
        self.word = word
        self.annotate = annotate

    def note(self, runs: list[Any], source: str | None) -> None:
        if not (self.annotate and source and runs):
            return
        from docx.oxml.ns import qn

        comment = self.word.add_comment(
            runs, text=f"Generated from {source}", author=AUTHOR, initials="AD"
        )
        comment._comment_elm.set(qn("w:date"), FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ"))

    def blocks(self, items: list[Para | Table]) -> None:
        for group in groups(items):
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
        if para.number:
            number = paragraph.add_run(f"{para.number}\t")
            number.bold = True
        self.note(_rich(paragraph, para.text), para.source)
        if _wholly_deleted(para.text):
            _delete_mark(paragraph)

    def table(self, table: Table) -> None:
        grid = self.word.add_table(rows=1, cols=len(table.headers), style="Table Grid")
        _repeat_as_header(grid.rows[0])
        for cell, header in zip(grid.rows[0].cells, table.headers, strict=True):
            cell.text = ""
            run = cell.paragraphs[0].add_run(xml_text(plain_text(header)))
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


def build_docx(doc: Document, annotate: bool = False) -> bytes:
    """The Word file's bytes (deterministic)."""
    import docx
    from docx.enum.text import WD_BREAK

    word = docx.Document()  # every text run goes through xml_text: control characters escaped
    _Revisions.next_id = 1
    _styles(word)
    props = word.core_properties
    props.title = xml_text(plain_text(doc.title))
    props.subject = "Draft Section 75 partnership agreement"
    props.author = AUTHOR
    props.last_modified_by = AUTHOR
    props.comments = xml_text(release(f"Generated from {doc.source_file} (sha256 {doc.sha256})"))
    props.created = props.modified = props.last_printed = FIXED_TIME
    props.revision = 1
    _header_footer(word, doc)
    if doc.notes:  # DraftingNotes: a block kind of its own, written plainly here (to style)
        _rich(word.add_paragraph(), "**Drafting notes.** Settle each before signature:")
        for item in doc.notes.items:
            _rich(word.add_paragraph(style="List Bullet"), item)
    _rich(word.add_paragraph(style="Title"), doc.title)
    word.add_paragraph(xml_text(release(doc.basis[0].upper() + doc.basis[1:] + ".")))
    word.add_paragraph().add_run("Between").bold = True
    for i, (name, short) in enumerate(doc.parties, start=1):
        _rich(word.add_paragraph(style="Normal"), f"({i}) {name} (**\u201c{short}\u201d**)")
    _rich(word.add_paragraph(), f"**Dated:** {doc.dated}")
    _rich(
        word.add_paragraph(),
        f"**Commencement Date:** {doc.commencement}. **Expiry Date:** {doc.expiry}.",
    )
    writer = _Writer(word, annotate)
    if doc.history:
        word.add_paragraph().add_run("Version history").bold = True
        writer.table(doc.history)
    if doc.recitals:
        word.add_paragraph().add_run("Background").bold = True
        for letter, recital in zip("ABCDEFGHIJ", doc.recitals, strict=False):
            _rich(word.add_paragraph(), f"({letter}) {recital}")
        _rich(word.add_paragraph(), "**It is agreed** as follows.")
    for clause in doc.clauses:
        _rich(word.add_heading(f"{clause.number}. ", level=1), clause.title)
        writer.blocks(clause.blocks)
    if doc.execution:  # a page for the execution clause, then one per partner's block
        word.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        _rich(word.add_heading("", level=1), doc.execution.title)
        for block in doc.execution.blocks:
            if isinstance(block, Para) and block.style == "signature-page":
                word.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
            writer.blocks([block])
    for schedule in doc.schedules:
        word.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        heading = word.add_heading(f"Schedule {schedule.number}: ", level=1)
        writer.note(_rich(heading, schedule.title), schedule.source)
        for part in schedule.parts:
            _rich(word.add_heading(f"Part {part.number}: ", level=2), part.title)
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


def docx_text(path: Path) -> str:
    """All the text of a Word file, paragraphs and table cells, one per line (for tests and review)."""
    import docx
    from docx.table import Table as WordTable

    word = docx.Document(str(path))
    lines: list[str] = []
    for block in word.iter_inner_content():  # paragraphs and tables in document order
        if isinstance(block, WordTable):
            lines.extend(" | ".join(cell.text for cell in row.cells) for row in block.rows)
        else:
            lines.append(block.text)
    return "\n".join(lines)
