"""Cross-references as REF fields to bookmarked headings, and the table of contents field."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .document import Document
from .quotes import curly
from .wordml import child, element, field_char, instruction_run, text_run
from .writers import plain_text


@dataclass
class Target:
    """A heading a reference or the contents can point at."""

    number: str  # the number as a reference shows it: 4, 3, 1
    ref: str  # bookmark for REF fields
    toc: str  # bookmark for the contents


@dataclass
class Bookmarks:
    """The headings that can be pointed at, by label, and the bookmarks placed on them."""

    targets: dict[str, Target] = field(default_factory=dict)
    next_id: int = 0

    def add(self, label: str, number: str) -> Target:
        """A target for the heading with this label, its bookmarks named in document order."""
        index = len(self.targets) + 1
        target = Target(number, f"_Ref{index:09d}", f"_Toc{index:09d}")
        self.targets[label] = target
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


def bookmarks_for(doc: Document) -> Bookmarks:
    """A bookmark for every heading, named in document order, by the label references use."""
    marks = Bookmarks()
    for clause in doc.clauses:
        marks.add(clause.label, clause.number)
    for schedule in doc.schedules:
        marks.add(schedule.label, schedule.number)
        for part in schedule.parts:
            marks.add(f"{schedule.label}/{part.label}", part.number)
    return marks


def reference(label: str, marks: Bookmarks) -> list[tuple[str, Target | None]]:
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


def shown(pieces: list[tuple[str, Target | None]]) -> str:
    """How a reference reads, fields showing their numbers."""
    return "".join(target.number if target else text for text, target in pieces)


def contents(word: Any, doc: Document, marks: Bookmarks) -> None:
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
            paragraph._p.append(field_char("begin"))
            paragraph._p.append(instruction_run('TOC \\o "1-3" \\h'))
            paragraph._p.append(field_char("separate"))
        holder = paragraph._p
        if bookmark:
            holder = child(paragraph._p, "w:hyperlink", anchor=bookmark, history="1")
        for n, piece in enumerate(curly(text).split("\t")):
            if n:
                child(child(holder, "w:r"), "w:tab")
            holder.append(text_run(piece))
        if i == last:
            paragraph._p.append(field_char("end"))
