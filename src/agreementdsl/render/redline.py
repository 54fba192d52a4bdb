"""Redlines: the new schedules with what changed since the old ones marked, word by word.

The two documents are laid out as usual, matched section by section (by label) and paragraph
by paragraph, and each changed paragraph carries insertion and deletion marks. The HTML writer
shows them as <ins>/<del>; the Word writer as tracked changes a lawyer can accept or reject.
The marks are characters of the document's markup (render/markup.py): the agreement's own
text is protected as it enters the document, so it can never hold one.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import replace

from ..align import align
from .document import Document, Para, Schedule, Section, Table
from .markup import DEL, END_DEL, END_INS, INS

MARK = re.compile(f"{INS}(.*?){END_INS}|{DEL}(.*?){END_DEL}", re.S)
TOKEN = re.compile(r"\*\*.+?\*\*|\s+|[^\s*]+|\*")


def inserted(text: str) -> str:
    return f"{INS}{text}{END_INS}" if text else ""


def deleted(text: str) -> str:
    return f"{DEL}{text}{END_DEL}" if text else ""


def mark_words(old: str, new: str) -> str:
    """`new` with the words that differ from `old` marked as inserted or deleted."""
    if old == new:
        return new
    a, b = TOKEN.findall(old), TOKEN.findall(new)
    out = []
    for op, i1, i2, j1, j2 in _coalesced(
        difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes(), a
    ):
        if op == "equal":
            out.append("".join(b[j1:j2]))
        else:
            out.append(deleted("".join(a[i1:i2])) + inserted("".join(b[j1:j2])))
    return "".join(out)


def _coalesced(
    opcodes: Sequence[tuple[str, int, int, int, int]], words: list[str]
) -> list[tuple[str, int, int, int, int]]:
    """Changes with at most two words of agreement between them become one change, so a
    reader sees "two hundred and eighty-two" struck and "three hundred and twenty-seven"
    inserted, never a word-salad such as "twothree hundred and eighty-twotwenty-seven"."""
    out: list[tuple[str, int, int, int, int]] = []
    for index, (op, i1, i2, j1, j2) in enumerate(opcodes):
        between = (
            op == "equal"
            and 0 < index < len(opcodes) - 1
            and sum(1 for w in words[i1:i2] if not w.isspace()) <= 2
        )
        if (op != "equal" or between) and out and out[-1][0] == "replace":
            _, a1, _, b1, _ = out[-1]
            out[-1] = ("replace", a1, i2, b1, j2)
        elif op != "equal":
            out.append(("replace", i1, i2, j1, j2))
        else:
            out.append((op, i1, i2, j1, j2))
    return out


def _signature(block: Para | Table) -> str:
    if isinstance(block, Para):
        return block.text
    return " | ".join(block.headers) + "\n" + "\n".join(" | ".join(r) for r in block.rows)


def _mark_table(old: Table | None, new: Table | None) -> Table:
    if new is None:
        assert old is not None
        return replace(old, rows=[[deleted(c) for c in row] for row in old.rows])
    if old is None:
        return replace(new, rows=[[inserted(c) for c in row] for row in new.rows])
    rows: list[list[str]] = []
    for op, a, b in align([" | ".join(r) for r in old.rows], [" | ".join(r) for r in new.rows]):
        if op == "equal" and b is not None:
            rows.append(new.rows[b])
        elif op == "change" and a is not None and b is not None:
            rows.append([mark_words(o, n) for o, n in zip(old.rows[a], new.rows[b], strict=False)])
        elif op == "delete" and a is not None:
            rows.append([deleted(c) for c in old.rows[a]])
        elif b is not None:
            rows.append([inserted(c) for c in new.rows[b]])
    return replace(new, rows=rows)


def _mark_blocks(old: list[Para | Table], new: list[Para | Table]) -> list[Para | Table]:
    out: list[Para | Table] = []
    for op, i, j in align([_signature(b) for b in old], [_signature(b) for b in new]):
        if op == "equal" and j is not None:
            out.append(new[j])
        elif op == "change" and i is not None and j is not None:
            a, b = old[i], new[j]
            if isinstance(a, Para) and isinstance(b, Para):
                out.append(replace(b, text=mark_words(a.text, b.text)))
            elif isinstance(a, Table) and isinstance(b, Table):
                out.append(_mark_table(a, b))
            else:
                out.extend([_removed(a), _added(b)])
        elif op == "delete" and i is not None:
            out.append(_removed(old[i]))
        elif j is not None:
            out.append(_added(new[j]))
    return out


def _removed(block: Para | Table) -> Para | Table:
    """A deleted block keeps its style and shows its old number, struck through with the text."""
    if isinstance(block, Para):
        number = deleted(block.number) if block.number else ""
        return replace(
            block, text=(number + " " if number else "") + deleted(block.text), number=""
        )
    return _mark_table(block, None)


def _added(block: Para | Table) -> Para | Table:
    return (
        replace(block, text=inserted(block.text))
        if isinstance(block, Para)
        else _mark_table(None, block)
    )


def _mark_sections(old: list[Section], new: list[Section]) -> list[Section]:
    before = {s.label: s for s in old}
    out = []
    for section in new:
        previous = before.get(section.label)
        title = mark_words(previous.title, section.title) if previous else inserted(section.title)
        blocks = _mark_blocks(previous.blocks if previous else [], section.blocks)
        out.append(replace(section, title=title, blocks=blocks))
    for section in old:
        if section.label not in {s.label for s in new}:
            out.append(
                replace(
                    section,
                    title=deleted(section.title),
                    number="(removed)",
                    blocks=[_removed(b) for b in section.blocks],
                )
            )
    return out


def redline(old: Document, new: Document) -> Document:
    """The new document with every change since the old one marked."""
    old_schedules = {s.label: s for s in old.schedules}
    schedules: list[Schedule] = []
    for schedule in new.schedules:
        previous = old_schedules.get(schedule.label)
        parts = _mark_sections(previous.parts if previous else [], schedule.parts)
        title = mark_words(previous.title, schedule.title) if previous else inserted(schedule.title)
        schedules.append(replace(schedule, title=title, parts=parts))
    for schedule in old.schedules:
        if schedule.label not in {s.label for s in new.schedules}:
            parts = _mark_sections(schedule.parts, [])
            schedules.append(
                replace(schedule, title=deleted(schedule.title), number="(removed)", parts=parts)
            )
    parties = [
        (mark_words(a, b), s) for (a, _), (b, s) in zip(old.parties, new.parties, strict=False)
    ]
    parties += [(inserted(n), s) for n, s in new.parties[len(old.parties) :]]
    return replace(
        new,
        title=mark_words(old.title, new.title),
        commencement=mark_words(old.commencement, new.commencement),
        expiry=mark_words(old.expiry, new.expiry),
        parties=parties,
        draft_notice=f"REDLINE of {old.source_file} (sha256 {old.sha256[:12]}) against {new.source_file} (sha256 {new.sha256[:12]}); draft, not for signature",
        clauses=_mark_sections(old.clauses, new.clauses),
        schedules=schedules,
    )
