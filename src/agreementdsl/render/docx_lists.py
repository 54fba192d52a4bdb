"""Word's own multi-level numbering for the draft (numbering.xml), and reading it back.

The framework's clauses are one list (1., 1.1, 1.1.1), and each Schedule's Parts and paragraphs
a list of their own (1.1, 1.1.1) that starts again at 1. A Part heading is in its list, so that
its paragraphs count from its number, but the list shows nothing for it: "Part 3" is written
in the heading with the 3 a SEQ field (see `docx.py`), so that a reference can point at the
number alone. Schedules are numbered by SEQ fields only. `Numbering` counts as Word counts, so
the writer can check that the number Word will show is the document's; `ListReader` works out
the numbers Word shows in any file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .wordml import child, element

HANG = 680  # 1.2 cm in twentieths of a point: where a clause's text starts after its number
# the room for a third-level number: 1.5 cm, so that "1.1.32" or "12.10.10" in bold stands
# clear of its text in any serif face (LibreOffice's Liberation Serif, Word's Times New Roman)
WIDE = 850


@dataclass(frozen=True)
class Level:
    """One level of a Word list: how its number is written and where its text starts."""

    text: str  # Word's lvlText: %1 is the first level's counter
    suffix: str  # tab, space
    indent: int
    hanging: int
    bold: bool = False
    style: str | None = None  # the paragraph style tied to this level


CLAUSE_LEVELS = (
    Level("%1.", "tab", HANG, HANG),
    Level("%1.%2", "tab", HANG, HANG, bold=True, style="Clause"),
    Level("%1.%2.%3", "tab", HANG + WIDE, WIDE, bold=True, style="Clause2"),
)
PART_LEVELS = (
    Level("", "nothing", 0, 0),  # the Part heading: counted, its number written as a field
    Level("%1.%2", "tab", HANG, HANG, bold=True),
    Level("%1.%2.%3", "tab", HANG + WIDE, WIDE, bold=True),
)


def level_text(level: Level, counters: list[int]) -> str:
    """The number a level shows for the given counters ("%1.%2" with [3, 2] is "3.2")."""
    return re.sub(r"%([1-9])", lambda m: str(counters[int(m.group(1)) - 1]), level.text)


class Numbering:
    """Word lists in numbering.xml, and a count of each as Word would number it."""

    def __init__(self, word: Any) -> None:
        from docx.oxml.ns import qn

        self.word = word
        self.root = word.part.numbering_part.element
        self.abstract_ids = [
            int(a.get(qn("w:abstractNumId"))) for a in self.root.findall(qn("w:abstractNum"))
        ]
        self.num_ids = [int(n.get(qn("w:numId"))) for n in self.root.findall(qn("w:num"))]
        self.levels: dict[int, tuple[Level, ...]] = {}
        self.counters: dict[int, list[int]] = {}
        self.clauses_abstract = self._abstract(CLAUSE_LEVELS, "1A0C1A05")
        self.parts_abstract = self._abstract(PART_LEVELS, "1A0C1A06")
        self.clauses = self.new_list(self.clauses_abstract, CLAUSE_LEVELS)
        for level_number, level in enumerate(CLAUSE_LEVELS):
            if level.style:  # a new paragraph in the style is numbered, as Word users expect
                props = word.styles.get_by_id(level.style, 1).element.get_or_add_pPr()
                num = element("w:numPr")
                child(num, "w:ilvl", val=str(level_number))
                child(num, "w:numId", val=str(self.clauses))
                props.insert(0, num)

    def _abstract(self, levels: tuple[Level, ...], nsid: str) -> int:
        from docx.oxml.ns import qn

        number = max(self.abstract_ids, default=-1) + 1
        self.abstract_ids.append(number)
        abstract = element("w:abstractNum", abstractNumId=str(number))
        child(abstract, "w:nsid", val=nsid)
        child(abstract, "w:multiLevelType", val="multilevel")
        for i, level in enumerate(levels):
            lvl = child(abstract, "w:lvl", ilvl=str(i))
            child(lvl, "w:start", val="1")
            child(lvl, "w:numFmt", val="decimal")
            if level.style:
                child(lvl, "w:pStyle", val=level.style)
            child(lvl, "w:suff", val=level.suffix)
            child(lvl, "w:lvlText", val=level.text)
            child(lvl, "w:lvlJc", val="left")
            props = child(lvl, "w:pPr")
            if level.suffix == "tab" and level.hanging:  # the tab after the number stops here
                tabs = child(props, "w:tabs")
                child(tabs, "w:tab", val="num", pos=str(level.indent))
            child(props, "w:ind", left=str(level.indent), hanging=str(level.hanging))
            if level.bold:
                child(child(lvl, "w:rPr"), "w:b")
        first_num = self.root.find(qn("w:num"))  # every abstractNum comes before every num
        if first_num is None:
            self.root.append(abstract)
        else:
            first_num.addprevious(abstract)
        return number

    def new_list(self, abstract: int, levels: tuple[Level, ...]) -> int:
        """A list of its own (counting from 1) on the abstract definition; returns its numId."""
        number = max(self.num_ids, default=0) + 1
        self.num_ids.append(number)
        num = child(self.root, "w:num", numId=str(number))
        child(num, "w:abstractNumId", val=str(abstract))
        override = child(num, "w:lvlOverride", ilvl="0")
        child(override, "w:startOverride", val="1")
        self.levels[number] = levels
        self.counters[number] = [0] * len(levels)
        return number

    def next_number(self, num: int, ilvl: int) -> str | None:
        """The number Word gives the next paragraph at this level, or None where Word's count
        would skip a level (a sub-paragraph before any paragraph)."""
        counters = self.counters[num]
        if any(c == 0 for c in counters[:ilvl]):
            return None
        return level_text(self.levels[num][ilvl], [*counters[:ilvl], counters[ilvl] + 1])

    def number(self, paragraph: Any, num: int, ilvl: int, expected: str) -> bool:
        """Number the paragraph in the list if Word's number is `expected`; else leave it to
        the caller to write the number as text (and keep the style from numbering it)."""
        shown = self.next_number(num, ilvl)
        if shown is not None and not self.levels[num][ilvl].text:  # counted, shown elsewhere
            shown = str(self.counters[num][ilvl] + 1)
        if shown is None or shown.rstrip(".:") != expected.rstrip(".:"):
            num_pr(paragraph, 0, 0)
            return False
        counters = self.counters[num]
        counters[ilvl] += 1
        counters[ilvl + 1 :] = [0] * (len(counters) - ilvl - 1)
        num_pr(paragraph, num, ilvl)
        return True


def num_pr(paragraph: Any, num: int, ilvl: int) -> None:
    """w:numPr on the paragraph (numId 0: not numbered, even if its style is)."""
    props = paragraph._p.get_or_add_pPr()
    numbering = element("w:numPr")
    child(numbering, "w:ilvl", val=str(ilvl))
    child(numbering, "w:numId", val=str(num))
    style = props.find("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}pStyle")
    if style is not None:
        style.addnext(numbering)
    else:
        props.insert(0, numbering)


class ListReader:
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

    def _numbered_as(self, paragraph: Any) -> tuple[str | None, int]:
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
        """The number Word shows before the paragraph, and what follows it (tab or space);
        call for each paragraph in document order."""
        num, ilvl = self._numbered_as(paragraph)
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
        return shown + {"tab": "\t", "space": " "}.get(suffix, "") if shown else ""
