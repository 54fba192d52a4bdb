"""Cross-references as REF fields to bookmarks on the headings they name, and the table of
contents field.

A clause heading is numbered by Word's list, so a reference to it is `REF _Ref… \\w \\t \\h` to
a bookmark on the whole heading: Word and LibreOffice both show its number without the full
stop ("4"). A Schedule or Part heading's number is a SEQ field in its text ("Part " SEQ ": "
title), and its bookmark holds that field alone, so a reference is `REF _Ref… \\h` and shows the
bookmarked text, the plain number: "Part 3 of Schedule 1", never "Part Part 3:" (LibreOffice
gives the prefix and suffix of a list number whatever the switches) or the heading's words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .document import Document
from .docx_changes import struck_run
from .quotes import curly
from .wordml import child, element, field_char, instruction_run, text_run


@dataclass
class Target:
    """A heading a reference can point at."""

    number: str  # the number as a reference shows it: 4, 3, 1
    ref: str  # bookmark for REF fields
    switches: str = "\\h"  # of the REF field: \h alone shows the bookmarked number itself

    @property
    def instruction(self) -> str:
        """The REF field's instruction."""
        return f"REF {self.ref} {self.switches}"


@dataclass
class Bookmarks:
    """The headings that can be pointed at, by label, and the bookmarks placed on them."""

    targets: dict[str, Target] = field(default_factory=dict)
    numbered: dict[tuple[str, ...], Target] = field(default_factory=dict)  # ("part", "1", "3")
    next_id: int = 0

    def add(self, label: str, number: str, *key: str, switches: str = "\\h") -> Target:
        """A target for the heading with this label (and this key by number), its bookmarks
        named in document order."""
        index = len(self.targets) + 1
        target = Target(number, f"_Ref{index:09d}", switches)
        self.targets[label] = target
        self.numbered.setdefault(key, target)
        return target

    def mark(self, paragraph: Any, *names: str) -> None:
        """Bookmarks around the paragraph's content."""
        props = paragraph._p.pPr
        for name in names:
            self.next_id += 1
            start = element("w:bookmarkStart", id=str(self.next_id), name=name)
            if props is not None:
                props.addnext(start)
            else:
                paragraph._p.insert(0, start)
            paragraph._p.append(element("w:bookmarkEnd", id=str(self.next_id)))

    def start(self, parent: Any, name: str) -> str:
        """A bookmark's start appended to `parent`; returns its id, for `end`."""
        self.next_id += 1
        parent.append(element("w:bookmarkStart", id=str(self.next_id), name=name))
        return str(self.next_id)

    def end(self, parent: Any, mark_id: str) -> None:
        """The end of the bookmark `start` began, appended to `parent`."""
        parent.append(element("w:bookmarkEnd", id=mark_id))


def bookmarks_for(doc: Document) -> Bookmarks:
    """A bookmark for every heading, named in document order, by the label references use."""
    marks = Bookmarks()
    for clause in doc.clauses:
        marks.add(clause.label, clause.number, "clause", clause.number, switches="\\w \\t \\h")
    for schedule in doc.schedules:
        marks.add(schedule.label, schedule.number, "schedule", schedule.number)
        for part in schedule.parts:
            key = ("part", schedule.number, part.number)
            marks.add(f"{schedule.label}/{part.label}", part.number, *key)
    return marks


REFERENCE = re.compile(
    r"(?P<clause>[Cc]lause (?P<c>\d+))"
    r"|Schedule (?P<s>\d+)"
    r"|Part (?P<p>\d+) of (?:Schedule (?P<ps>\d+)|(?P<each>each|its) Schedule)"
)


def reference(text: str, marks: Bookmarks) -> list[tuple[str, Target | None]]:
    """The words of a resolved reference ("clause 4", "Part 3 of Schedule 1", "Part 2 of each
    Schedule"): text, and each number as a field to its heading; [] if it names no heading
    (such as "the Schedule for that Pooled Fund")."""
    found = REFERENCE.fullmatch(text)
    if not found:
        return []
    numbered = marks.numbered
    if found["c"]:
        target = numbered.get(("clause", found["c"]))
        return [(text[: found.start("c")], None), ("", target)] if target else []
    if found["s"]:
        target = numbered.get(("schedule", found["s"]))
        return [("Schedule ", None), ("", target)] if target else []
    if found["ps"]:
        part = numbered.get(("part", found["ps"], found["p"]))
        schedule = numbered.get(("schedule", found["ps"]))
        if part and schedule:
            return [("Part ", None), ("", part), (" of Schedule ", None), ("", schedule)]
        return []
    first = next((t for k, t in numbered.items() if k[0] == "part" and k[2] == found["p"]), None)
    return [("Part ", None), ("", first), (f" of {found['each']} Schedule", None)] if first else []


def shown(pieces: list[tuple[str, Target | None]]) -> str:
    """How a reference reads, fields showing their numbers."""
    return "".join(target.number if target else text for text, target in pieces)


def contents_heading(word: Any) -> Any:
    """The "Contents" heading; `fill_contents` puts the TOC field after it, once the body is
    written."""
    return word.add_paragraph("Contents", style="TOC Heading")


HEADING = re.compile(r"Heading([1-3])")  # the style ids of Word's Heading 1-3


def fill_contents(word: Any, after: Any, marks: Bookmarks) -> None:
    """A TOC field over heading levels 1-3 after the paragraph `after`. Its result lists every
    heading of the body as a field update in Word would: the number Word shows, then the text,
    each entry a link to a bookmark on its heading (Word adds page numbers on update). In a
    redline, words struck from a heading are struck in its entry too, so a removed Schedule
    reads "Schedule (removed): ~~its title~~" rather than losing its title."""
    from docx.oxml.ns import qn

    from .docx_lists import ListReader

    lists = ListReader(word)
    entries: list[tuple[int, list[tuple[bool, str]], str]] = []  # level, pieces, bookmark
    for paragraph in word.paragraphs:
        shown = lists.prefix(paragraph)  # every paragraph, in order, so the count is Word's
        style = paragraph._p.style  # the style id, read directly (looking up names is slow)
        level = HEADING.fullmatch(style or "")
        if level is None:
            continue
        pieces: list[tuple[bool, str]] = [(False, shown)]  # (struck, text)
        for text in paragraph._p.iter(qn("w:t"), qn("w:delText")):
            struck = text.tag == qn("w:delText")
            if pieces[-1][0] == struck:
                pieces[-1] = (struck, pieces[-1][1] + (text.text or ""))
            else:
                pieces.append((struck, text.text or ""))
        name = f"_Toc{len(entries) + 1:09d}"
        marks.mark(paragraph, name)
        entries.append((int(level[1]), pieces, name))
    anchor = after._p
    for i, (level_number, pieces, bookmark) in enumerate(entries):
        paragraph = word.add_paragraph()
        paragraph._p.style = f"TOC{level_number}"  # the style "toc N", by id
        anchor.addnext(paragraph._p)
        anchor = paragraph._p
        if i == 0:
            paragraph._p.append(field_char("begin"))
            paragraph._p.append(instruction_run('TOC \\o "1-3" \\h'))
            paragraph._p.append(field_char("separate"))
        link = child(paragraph._p, "w:hyperlink", anchor=bookmark, history="1")
        for struck, text in pieces:
            if struck:
                link.append(struck_run(curly(text)))
                continue
            for n, piece in enumerate(curly(text).split("\t")):
                if n:
                    child(child(link, "w:r"), "w:tab")
                if piece:
                    link.append(text_run(piece))
        if i == len(entries) - 1:
            paragraph._p.append(field_char("end"))
