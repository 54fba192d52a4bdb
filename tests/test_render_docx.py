"""The Word file as lawyers use Word, read back with python-docx and as raw XML: A4, British
English proofing, real multi-level numbering, cross-references as REF fields to bookmarks, a
table of contents field, curly quotes, dates from the agreement, a drafting-notes box."""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docx
import pytest
from click.testing import CliRunner
from docx.oxml.ns import qn

from agreementdsl import load
from agreementdsl.cli import main
from agreementdsl.compile import compile_agreement
from agreementdsl.render import build_document
from agreementdsl.render.document import Document, Para, Section
from agreementdsl.render.docx import build_docx, docx_text
from agreementdsl.render.docx_lists import ListReader
from agreementdsl.render.quotes import curly
from agreementdsl.render.redline import redline
from agreementdsl.render.writers import render_markdown

ROOT = Path(__file__).resolve().parents[1]
AGREEMENTS = sorted(
    p.relative_to(ROOT)
    for p in (ROOT / "agreements").glob("*.yaml")
    if not p.name.endswith(".test.yaml")
)
HEREFORDSHIRE = Path("agreements/herefordshire.yaml")
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


@pytest.fixture(autouse=True)
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def _doc(path: Path) -> Document:
    loaded = load(path)
    assert loaded.agreement is not None and loaded.source is not None and loaded.ok
    return build_document(compile_agreement(loaded.agreement, loaded.source.text))


def _write(tmp_path: Path, doc: Document, name: str = "x.docx") -> Path:
    path = tmp_path / name
    path.write_bytes(build_docx(doc))
    return path


def _part(path: Path, name: str) -> str:
    with zipfile.ZipFile(path) as archive:
        return archive.read(name).decode("utf-8")


def _sections(doc: Document) -> list[Section]:
    return [*doc.clauses, *(part for schedule in doc.schedules for part in schedule.parts)]


def _md_numbers(md: str) -> list[str]:
    """The numbers the Markdown prints: clause headings, Schedules, Parts, paragraphs."""
    found = re.findall(
        r"^(?:## (\d+)\. |## (Schedule \d+): |### (Part \d+): |\*\*(\d+(?:\.\d+)+)\*\* )", md, re.M
    )
    return ["".join(groups) for groups in found]


def _shown_numbers(text: str) -> list[str]:
    """The same numbers as a reader of the Word file sees them, after the contents."""
    lines = text.split("\n")
    body = [i for i, line in enumerate(lines) if line.startswith("1.\t")][1]  # [0]: contents
    numbers = []
    for line in lines[body:]:
        m = re.match(r"(\d+)\.\t|(Schedule \d+): |(Part \d+): |(\d+(?:\.\d+)+)\t", line)
        if m:
            numbers.append("".join(g or "" for g in m.groups()))
    return numbers


# ---------------------------------------------------------------- page and language
def test_the_page_is_a4_with_margins(tmp_path: Path) -> None:
    path = _write(tmp_path, _doc(HEREFORDSHIRE))
    xml = _part(path, "word/document.xml")
    assert '<w:pgSz w:w="11906" w:h="16838"/>' in xml  # 210 mm x 297 mm
    assert re.search(
        r'<w:pgMar w:top="1440" w:right="1440" w:bottom="1440" w:left="1440" '
        r'w:header="708" w:footer="708"',
        xml,
    )
    section = docx.Document(str(path)).sections[0]
    assert round(section.page_width.mm) == 210 and round(section.page_height.mm) == 297


def test_proofing_language_is_british_english_throughout(tmp_path: Path) -> None:
    path = _write(tmp_path, _doc(HEREFORDSHIRE))
    styles = _part(path, "word/styles.xml")
    defaults = re.search(r"<w:docDefaults>.*</w:docDefaults>", styles, re.S)
    assert defaults and '<w:lang w:val="en-GB" w:eastAsia="en-GB" w:bidi="ar-SA"/>' in defaults[0]
    normal = re.search(
        r'<w:style w:type="paragraph" w:default="1" w:styleId="Normal">.*?</w:style>', styles, re.S
    )
    assert normal and 'w:lang w:val="en-GB"' in normal[0]
    for name in ("word/styles.xml", "word/stylesWithEffects.xml", "word/settings.xml"):
        assert "en-US" not in _part(path, name), name
    assert '<w:themeFontLang w:val="en-GB"' in _part(path, "word/settings.xml")
    assert "<dc:language>en-GB</dc:language>" in _part(path, "docProps/core.xml")


# ---------------------------------------------------------------- numbering
def test_numbering_xml_defines_the_multi_level_lists(tmp_path: Path) -> None:
    doc = _doc(HEREFORDSHIRE)
    path = _write(tmp_path, doc)
    root = docx.Document(str(path)).part.numbering_part.element
    abstracts = {}
    for abstract in root.findall(qn("w:abstractNum")):
        levels = [
            (lvl.find(qn("w:lvlText")).get(qn("w:val")), lvl.find(qn("w:pStyle")))
            for lvl in abstract.findall(qn("w:lvl"))
        ]
        abstracts[abstract.get(qn("w:abstractNumId"))] = levels
    texts = {tuple(t for t, _ in levels): levels for levels in abstracts.values()}
    clauses = texts[("%1.", "%1.%2", "%1.%2.%3")]
    # the levels are tied to the clause styles, so a new paragraph in "Clause" is numbered
    assert [s.get(qn("w:val")) if s is not None else None for _, s in clauses] == [
        None,
        "Clause",
        "Clause2",
    ]
    # each Schedule's Parts: the Part heading is counted (its paragraphs are 3.1, 3.1.1) but
    # shows no number of the list's own, as its number is a SEQ field in the heading's text
    parts = next(
        a
        for a in root.findall(qn("w:abstractNum"))
        if a.find(qn("w:lvl")).find(qn("w:lvlText")).get(qn("w:val")) == ""
    )
    first = parts.find(qn("w:lvl"))
    assert first.find(qn("w:suff")).get(qn("w:val")) == "nothing"
    assert ("", "%1.%2", "%1.%2.%3") in texts
    assert not [t for t in texts if any("Schedule" in level or "Part" in level for level in t)]
    # a list of its own for each Schedule's Parts, restarting at 1
    nums = root.findall(qn("w:num"))
    restarting = [
        n for n in nums if n.find(f"{qn('w:lvlOverride')}/{qn('w:startOverride')}") is not None
    ]
    assert len(restarting) >= 1 + len(doc.schedules)
    styles = _part(path, "word/styles.xml")
    clause_style = re.search(r'w:styleId="Clause">.*?</w:style>', styles, re.S)
    assert clause_style and "<w:numPr>" in clause_style[0]


def test_a_long_third_level_number_stands_clear_of_its_text(tmp_path: Path) -> None:
    """ "1.1.35 "Working Day" means": the definitions' numbers have 1.5 cm, with a tab stop
    where the text starts, so a two-digit last figure never runs into the defined term (as it
    did in LibreOffice at 1.2 cm); the Clause 2 style is indented as the list level is."""
    doc = _doc(Path("agreements/bcf-wealdshire.yaml"))
    path = _write(tmp_path, doc)
    word = docx.Document(str(path))
    assert "1.1.35\t\u201cWorking Day\u201d means" in docx_text(path)
    root = word.part.numbering_part.element
    third = [
        lvl
        for lvl in root.iter(qn("w:lvl"))
        if lvl.find(qn("w:lvlText")).get(qn("w:val")) == "%1.%2.%3"
    ]
    assert len(third) == 2  # the clauses' and the Parts'
    for lvl in third:
        ind = lvl.find(f"{qn('w:pPr')}/{qn('w:ind')}")
        left, hanging = int(ind.get(qn("w:left"))), int(ind.get(qn("w:hanging")))
        assert hanging >= 850 and left - hanging == 680  # 1.5 cm, the number under the 1.1 text
        tab = lvl.find(f"{qn('w:pPr')}/{qn('w:tabs')}/{qn('w:tab')}")
        assert (tab.get(qn("w:val")), int(tab.get(qn("w:pos")))) == ("num", left)
    style = word.styles["Clause 2"].paragraph_format
    assert (style.left_indent.twips, -style.first_line_indent.twips) == (1530, 850)


@pytest.mark.parametrize("path", AGREEMENTS, ids=lambda p: p.stem)
def test_word_numbers_every_clause_as_the_markdown_does(tmp_path: Path, path: Path) -> None:
    doc = _doc(path)
    word_file = _write(tmp_path, doc)
    expected = _md_numbers(render_markdown(doc))
    assert len(expected) > 50
    assert _shown_numbers(docx_text(word_file)) == expected
    # the numbers are Word's, not typed: every numbered paragraph carries w:numPr, no run
    # starts with a number, and the heading text is the title alone
    word = docx.Document(str(word_file))
    numbered = [p for p in word.paragraphs if p.style.name in ("Clause", "Clause 2")]
    assert numbered and all(p._p.pPr.numPr is not None for p in numbered)
    assert all(p._p.pPr.numPr.numId.val != 0 for p in numbered)
    headings = [p for p in word.paragraphs if p.style.name in ("Heading 1", "Heading 2")]
    listed = [p for p in headings if p._p.pPr.numPr is not None and p._p.pPr.numPr.numId.val]
    assert len(listed) == len(doc.clauses) + sum(len(s.parts) for s in doc.schedules)
    typed = re.compile(r"\d+(?:\.\d+)*\.?\t")
    assert not [p.text for p in numbered + headings if typed.match(p.text)]
    assert headings[0].text == "Definitions and interpretation"
    # a Schedule's or Part's number is a SEQ field in its heading, "Part " SEQ ": " title,
    # counting again from 1 in each Schedule
    counted = [p for p in headings if re.match(r"(?:Schedule|Part) \d+: ", p.text)]
    assert len(counted) == sum(1 + len(s.parts) for s in doc.schedules)
    for schedule in doc.schedules:
        heading = next(
            p for p in counted if p.text == f"Schedule {schedule.number}: {schedule.title}"
        )
        ((instruction, result),) = _fields(heading._p)
        assert instruction.startswith("SEQ Schedule") and result == schedule.number
        at = counted.index(heading)
        for n, part in enumerate(schedule.parts, start=1):
            heading = counted[at + n]
            assert heading.text == f"Part {part.number}: {curly(part.title)}"
            ((instruction, result),) = _fields(heading._p)
            restart = " \\r 1" if n == 1 else ""
            assert (instruction, result) == (f"SEQ Part{restart} \\* ARABIC", str(n))


def test_a_clause_inserted_in_word_renumbers_every_clause_after_it(tmp_path: Path) -> None:
    path = _write(tmp_path, _doc(HEREFORDSHIRE))
    word = docx.Document(str(path))
    headings = [p for p in word.paragraphs if p.style.name == "Heading 1"]
    aims = next(p for p in headings if p.text == "Aims")
    # what a lawyer does: a new clause heading after clause 3 (Enter at the end of the
    # heading keeps its style and numbering), and a new paragraph after 3.1
    new_heading = copy.deepcopy(aims._p)
    for run in new_heading.findall(qn("w:r")):
        new_heading.remove(run)
    paragraph_31 = aims._p.getnext()
    new_paragraph = copy.deepcopy(paragraph_31)
    paragraph_31.addnext(new_paragraph)
    new_paragraph.addnext(new_heading)
    word.save(str(tmp_path / "edited.docx"))

    def clause_headings(path: Path) -> list[str]:
        lines = docx_text(path).split("\n")
        body = lines[[i for i, line in enumerate(lines) if line.startswith("1.\t")][1] :]
        return [line for line in body if re.match(r"\d+\.\t", line)]

    before = clause_headings(path)
    after = clause_headings(tmp_path / "edited.docx")
    lines = docx_text(tmp_path / "edited.docx").split("\n")
    body = lines[[i for i, line in enumerate(lines) if line.startswith("1.\t")][1] :]
    assert after[:3] == before[:3] and before[2] == "3.\tAims"
    assert after[3] == "4.\t"  # the new clause
    # every clause after it is one on, with its own title: 4. The Pooled Funds is now 5.
    renumbered = [f"{int(h.split('.')[0]) + 1}.{h.split('.', 1)[1]}" for h in before[3:]]
    assert after[4:] == renumbered and renumbered[0] == "5.\tThe Pooled Funds"
    assert any(line.startswith("3.2\tThe aims of this Agreement are:") for line in body)
    assert any(line.startswith("5.1\tThe Partners establish the Mental Health") for line in body)
    # the Schedules count on their own
    assert "Schedule 1: Mental Health Services Pooled Fund" in body


# ---------------------------------------------------------------- cross-references
def _fields(paragraph: Any) -> list[tuple[str, str]]:
    """Each complex field of a paragraph: (instruction, cached result)."""
    out: list[tuple[str, str]] = []
    state, instruction, result = "", "", ""
    for element in paragraph.iter():
        if element.tag == qn("w:fldChar"):
            kind = element.get(qn("w:fldCharType"))
            if kind == "begin":
                state, instruction, result = "instr", "", ""
            elif kind == "separate":
                state = "result"
            else:
                out.append((instruction.strip(), result))
                state = ""
        elif element.tag == qn("w:instrText") and state == "instr":
            instruction += element.text or ""
        elif element.tag == qn("w:t") and state == "result":
            result += element.text or ""
    return out


def _bookmarked(word: Any) -> dict[str, tuple[str, str]]:
    """Bookmark name -> (the number Word shows for its paragraph, the paragraph's text)."""
    lists = ListReader(word)
    found = {}
    for paragraph in word.paragraphs:
        shown = lists.prefix(paragraph)
        for mark in paragraph._p.findall(qn("w:bookmarkStart")):
            found[mark.get(qn("w:name"))] = (shown, paragraph.text)
    return found


def _bookmark_texts(word: Any) -> dict[str, str]:
    """Bookmark name -> the text between its start and end, as REF … \\h shows it."""
    names: dict[str, str] = {}
    open_marks: dict[str, str] = {}
    texts: dict[str, str] = {}
    for element in word.element.body.iter():
        if element.tag == qn("w:bookmarkStart"):
            names[element.get(qn("w:id"))] = element.get(qn("w:name"))
            open_marks[element.get(qn("w:id"))] = ""
        elif element.tag == qn("w:bookmarkEnd"):
            mark = element.get(qn("w:id"))
            texts[names[mark]] = open_marks.pop(mark)
        elif element.tag == qn("w:t"):
            for mark in open_marks:
                open_marks[mark] += element.text or ""
    return texts


@pytest.mark.parametrize("path", AGREEMENTS, ids=lambda p: p.stem)
def test_cross_references_are_ref_fields_to_bookmarked_headings(tmp_path: Path, path: Path) -> None:
    doc = _doc(path)
    word = docx.Document(str(_write(tmp_path, doc)))
    marks = _bookmarked(word)
    texts = _bookmark_texts(word)
    refs = 0
    for paragraph in word.paragraphs:
        for instruction, cached in _fields(paragraph._p):
            if not instruction.startswith("REF "):
                continue
            refs += 1
            name, *switches = instruction.split()[1:]
            assert name.startswith("_Ref")
            shown, heading = marks[name]
            if switches == ["\\w", "\\t", "\\h"]:  # a clause: the number Word's list shows
                assert re.fullmatch(r"\d+\.\t", shown) and cached == shown[:-2], instruction
            else:
                # a Schedule or Part: the bookmark holds the number alone, a SEQ field, so
                # Word and LibreOffice both show the plain number, cached or recomputed
                assert switches == ["\\h"], instruction
                assert cached == texts[name] and cached.isdigit(), (instruction, texts[name])
                assert heading.startswith(("Schedule ", "Part ")), heading
                assert heading.split(":")[0].split()[1] == cached
    # every reference to a heading is linked: "Part 3 of Schedule 1" is two fields, the others
    # one; a reference naming no heading ("the Schedule for that Pooled Fund") none
    paras = [b for sec in _sections(doc) for b in sec.blocks if isinstance(b, Para)]
    said = [para.text[start:end] for para in paras for start, end, _ in para.refs]
    assert len(said) >= 6
    two = re.compile(r"Part \d+ of Schedule \d+")
    one = re.compile(r"[Cc]lause \d+|Schedule \d+|Part \d+ of (?:each|its) Schedule")
    assert refs == sum(2 if two.fullmatch(t) else 1 if one.fullmatch(t) else 0 for t in said)
    if path != HEREFORDSHIRE:
        return
    # clause 4 names each Schedule; clause 6 the risk-share Part of each
    pools = next(p for p in word.paragraphs if "The Partners establish the" in p.text)
    (instruction, cached), *_ = _fields(pools._p)
    assert cached == "1" and pools.text.endswith("as set out in Schedule 1.")
    name = instruction.split()[1]
    assert marks[name] == ("", "Schedule 1: Mental Health Services Pooled Fund")
    assert texts[name] == "1"
    risk = next(p for p in word.paragraphs if "shall be dealt with as set out in Part" in p.text)
    (instruction, cached), *_ = _fields(risk._p)
    name = instruction.split()[1]
    assert instruction == f"REF {name} \\h"
    assert (cached, texts[name]) == ("3", "3")
    assert marks[name] == ("", "Part 3: Risk share: Overspends and Underspends")


def test_a_reference_inside_a_changed_redline_paragraph_is_text(tmp_path: Path) -> None:
    """A redline reads right: where the text around a reference changed, the number is
    written as text; unchanged paragraphs keep their fields."""
    old = _doc(HEREFORDSHIRE)
    new = _doc(HEREFORDSHIRE)
    for block in new.clauses[3].blocks:
        block.text = block.text.replace("The Partners establish", "The Partners hereby establish")  # type: ignore[union-attr]
    path = _write(tmp_path, redline(old, new))
    word = docx.Document(str(path))
    pools = [p for p in word.paragraphs if "Partners" in p.text and "as a Pooled Fund" in p.text]
    assert len(pools) == 2 and all(_fields(p._p) == [] for p in pools)
    assert all(p._p.findall(qn("w:ins")) for p in pools)
    risk = next(p for p in word.paragraphs if "shall be dealt with as set out in Part" in p.text)
    assert [c for _, c in _fields(risk._p)] == ["3"]


def test_a_reference_is_linked_by_what_it_says_and_one_naming_no_heading_stays_text(
    tmp_path: Path,
) -> None:
    """References under any label (an alias, a new kind) are linked when they read as a
    clause, Schedule or Part; "the Schedule for that Pooled Fund" names none and is text."""
    doc = _doc(HEREFORDSHIRE)
    para = doc.clauses[5].blocks[0]
    assert isinstance(para, Para)
    said = ["Clause 4", "Part 3 of its Schedule", "the Schedule for that Pooled Fund", "Schedule 2"]
    para.text = f"{said[0]} applies, as {said[1]} and {said[2]} provide; see also {said[3]}."
    para.refs = [
        (para.text.index(s), para.text.index(s) + len(s), f"alias-{i}") for i, s in enumerate(said)
    ]
    word = docx.Document(str(_write(tmp_path, doc)))
    marks = _bookmarked(word)
    paragraph = next(p for p in word.paragraphs if p.text.endswith("see also Schedule 2."))
    assert paragraph.text == para.text
    linked = [(instr, cached, marks[instr.split()[1]]) for instr, cached in _fields(paragraph._p)]
    assert [(i.split()[2:], c, m) for i, c, m in linked] == [
        (["\\w", "\\t", "\\h"], "4", ("4.\t", "The Pooled Funds")),
        (["\\h"], "3", ("", "Part 3: Risk share: Overspends and Underspends")),
        (["\\h"], "2", ("", "Schedule 2: Learning Disabilities Pooled Fund")),
    ]


# ---------------------------------------------------------------- contents
def test_a_table_of_contents_field_with_a_cached_result(tmp_path: Path) -> None:
    doc = _doc(HEREFORDSHIRE)
    path = _write(tmp_path, doc)
    xml = _part(path, "word/document.xml")
    assert xml.count('TOC \\o "1-3" \\h') == 1
    assert xml.count('w:fldCharType="begin"') == xml.count('w:fldCharType="end"')
    word = docx.Document(str(path))
    entries = [p for p in word.paragraphs if p.style.name.startswith("toc ")]
    headings = [p for p in word.paragraphs if p.style.name in ("Heading 1", "Heading 2")]
    # every heading of the body, as a field update lists them
    assert len(entries) == len(headings)
    assert len(entries) >= len(doc.clauses) + sum(1 + len(s.parts) for s in doc.schedules)
    marks = _bookmarked(word)
    for entry, heading in zip(entries, headings, strict=True):
        link = entry._p.find(qn("w:hyperlink"))
        assert link is not None
        shown, title = marks[link.get(qn("w:anchor"))]
        assert heading.text == title
        assert entry.text == shown + title  # "1.\tDefinitions…", "Part 3: Risk share…"
        assert entry.style.name == ("toc 1" if heading.style.name == "Heading 1" else "toc 2")
    assert entries[0].text == "1.\tDefinitions and interpretation"
    schedule_1 = next(i for i, e in enumerate(entries) if e.text.startswith("Schedule 1"))
    assert entries[schedule_1].text == "Schedule 1: Mental Health Services Pooled Fund"
    assert entries[schedule_1 + 3].text == "Part 3: Risk share: Overspends and Underspends"
    for entry, clause in zip(entries, doc.clauses, strict=False):
        assert entry.text == f"{clause.number}.\t{clause.title}"


def test_a_removed_schedule_keeps_its_title_struck_in_the_contents(tmp_path: Path) -> None:
    """In a redline, a removed Schedule's heading is "Schedule (removed):" and its title a
    tracked deletion; its contents entry strikes the title too, rather than losing it, and
    its number is text, so no SEQ field counts it."""
    old = _doc(HEREFORDSHIRE)
    new = _doc(HEREFORDSHIRE)
    new.schedules = new.schedules[1:]
    word = docx.Document(str(_write(tmp_path, redline(old, new))))
    entries = [p for p in word.paragraphs if p.style.name.startswith("toc ")]
    removed = [e for e in entries if "(removed)" in e.text]
    assert [e.text for e in removed] == ["Schedule (removed): ", *["Part (removed): "] * 7]

    def struck(paragraph: Any) -> str:
        return "".join(t.text or "" for t in paragraph._p.iter(qn("w:delText")))

    assert struck(removed[0]) == "Mental Health Services Pooled Fund"
    assert struck(removed[3]) == "Risk share: Overspends and Underspends"
    assert all(e._p.find(f"{qn('w:hyperlink')}/{qn('w:del')}") is not None for e in removed)
    headings = [p for p in word.paragraphs if p.style.name in ("Heading 1", "Heading 2")]
    gone = [h for h in headings if h.text.startswith(("Schedule (removed)", "Part (removed)"))]
    assert len(gone) == 8 and all(_fields(h._p) == [] for h in gone)
    assert [struck(h) for h in gone] == [struck(e) for e in removed]


def test_the_agreement_the_execution_and_each_schedule_start_a_page(tmp_path: Path) -> None:
    """After the contents, "Background" starts a page (kept with the recital after it, never
    left alone at the foot of the contents); so do the Execution heading and each Schedule's,
    by "page break before", with no empty paragraph at the top of the page."""
    doc = _doc(HEREFORDSHIRE)
    word = docx.Document(str(_write(tmp_path, doc)))
    starts = [p for p in word.paragraphs if p.paragraph_format.page_break_before]
    assert [p.text for p in starts] == [
        "Background",
        "Execution",
        *(f"Schedule {s.number}: {s.title}" for s in doc.schedules),
    ]
    assert starts[0].paragraph_format.keep_with_next
    empty_breaks = [
        p
        for p in word.paragraphs
        if not p.text.strip() and p._p.find(f".//{qn('w:br')}") is not None
    ]
    assert len(empty_breaks) == len(doc.parties)  # one before each partner's signature page


# ---------------------------------------------------------------- quotes
@pytest.mark.parametrize(
    ("straight", "typeset"),
    [
        ('**"Agreement"** means', "**\u201cAgreement\u201d** means"),
        ("the officer's place", "the officer\u2019s place"),
        ("12 (twelve) months' notice", "12 (twelve) months\u2019 notice"),
        ("the '05 review", "the \u201905 review"),
        ("('as agreed')", "(\u2018as agreed\u2019)"),
        ('he said "it\'s done"', "he said \u201cit\u2019s done\u201d"),
        ('"St John\'s"', "\u201cSt John\u2019s\u201d"),
        ('\ue000"new"\ue001', "\ue000\u201cnew\u201d\ue001"),
    ],
)
def test_curly_sets_quotes_as_a_typesetter_would(straight: str, typeset: str) -> None:
    assert curly(straight) == typeset


@pytest.mark.parametrize("path", AGREEMENTS, ids=lambda p: p.stem)
def test_no_straight_quote_in_the_text_of_the_word_file(tmp_path: Path, path: Path) -> None:
    word_file = _write(tmp_path, _doc(path))
    xml = _part(word_file, "word/document.xml")
    texts = re.findall(r"<w:t(?: [^>]*)?>([^<]*)</w:t>", xml)
    assert texts and not [
        t for t in texts if "'" in t or '"' in t or "&quot;" in t or "&apos;" in t
    ]
    assert any("\u201c" in t for t in texts)  # the definitions are quoted, curly
    assert "\u201cPartners\u201d" in docx_text(word_file)


def test_file_names_are_code_and_keep_their_quotes(tmp_path: Path) -> None:
    source = tmp_path / 'o\'brien "v2".yaml'
    source.write_text(HEREFORDSHIRE.read_text("utf-8"), "utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["render", str(source), "--format", "docx", "--annotate", "--output", str(out)]
    )
    assert result.exit_code == 0, result.output
    path = out / 'o\'brien "v2".docx'
    word = docx.Document(str(path))
    assert 'o\'brien "v2".yaml' in word.sections[0].header.paragraphs[0].text
    assert re.search(r"Generated from o'brien \"v2\"\.yaml:\d+<", _part(path, "word/comments.xml"))
    body = _part(path, "word/document.xml")
    assert not re.findall(r"<w:t(?: [^>]*)?>[^<]*['\"][^<]*</w:t>", body)


# ---------------------------------------------------------------- dates
@pytest.mark.parametrize(
    ("path", "stamp"),
    [
        (Path("agreements/bcf-wealdshire.yaml"), "2023-10-26T00:00:00Z"),  # signed: 2023-10-26
        (HEREFORDSHIRE, "2005-04-01T00:00:00Z"),  # no `signed`: its commencement, 1 April 2005
        (Path("agreements/durham-ld.yaml"), "2003-09-01T00:00:00Z"),  # commencement
    ],
)
def test_document_dates_are_the_agreements_own(tmp_path: Path, path: Path, stamp: str) -> None:
    result = CliRunner().invoke(
        main, ["render", str(path), "--format", "docx", "--annotate", "--output", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    word_file = tmp_path / f"{path.stem}.docx"
    core = _part(word_file, "docProps/core.xml")
    for tag in ("dcterms:created", "dcterms:modified", "cp:lastPrinted"):
        assert re.search(f"<{tag}[^>]*>{stamp}</{tag}>", core), tag
    dates = set(re.findall(r'w:date="([^"]+)"', _part(word_file, "word/comments.xml")))
    assert dates == {stamp}


# ---------------------------------------------------------------- drafting notes
@dataclass
class NotesBlock:
    """A block kind the Word writer has no class for (as a drafting-notes block would be)."""

    items: list[str] = field(default_factory=list)
    title: str = ""


def test_a_block_of_an_unknown_kind_is_a_shaded_bordered_box_in_place(tmp_path: Path) -> None:
    doc = _doc(HEREFORDSHIRE)
    expected = _md_numbers(render_markdown(doc))
    doc.clauses[2].blocks.insert(0, NotesBlock(["The aims are not yet agreed by HC's board."]))  # type: ignore[arg-type]
    doc.drafting_notes = [  # type: ignore[attr-defined]
        "warning[W201]: the agreement says nothing on VAT",
        "warning[W202]: no notices clause",
    ]
    path = _write(tmp_path, doc)
    word = docx.Document(str(path))
    body = word.element.body
    first = body[0]
    assert first.tag == qn("w:tbl")  # the box is the first thing in the draft
    boxes = [t for t in word.tables if t._tbl.find(f".//{qn('w:shd')}") is not None]
    assert len(boxes) == 2
    top, in_clause = boxes[0], boxes[1]
    for box in boxes:
        cell = box.rows[0].cells[0]
        props = cell._tc.tcPr
        assert props.find(qn("w:shd")).get(qn("w:fill")) == "F2F2F2"
        borders = props.find(qn("w:tcBorders"))
        assert [b.get(qn("w:val")) for b in borders] == ["single"] * 4
        heading = cell.paragraphs[0]
        assert heading.text == "Drafting notes" and heading.runs[0].bold
    assert [p.text for p in top.rows[0].cells[0].paragraphs[1:]] == [
        "warning[W201]: the agreement says nothing on VAT",
        "warning[W202]: no notices clause",
    ]
    assert in_clause.rows[0].cells[0].paragraphs[1].text == (
        "The aims are not yet agreed by HC\u2019s board."
    )
    # placed within clause 3, and numbering goes on as before around it
    assert _shown_numbers(docx_text(path)) == expected


def test_a_documents_notes_block_is_the_box_at_the_top(tmp_path: Path) -> None:
    """The shape engineer 15d's drafting-notes block has: `Document.notes` with `items`."""
    doc = _doc(HEREFORDSHIRE)
    doc.notes = NotesBlock(["warning[W801]: no income and expenditure report"])  # type: ignore[attr-defined]
    word = docx.Document(str(_write(tmp_path, doc)))
    assert word.element.body[0].tag == qn("w:tbl")
    cell = word.tables[0].rows[0].cells[0]
    assert [p.text for p in cell.paragraphs] == [
        "Drafting notes",
        "warning[W801]: no income and expenditure report",
    ]


# ---------------------------------------------------------------- the redline
def test_a_redline_numbers_the_new_paragraphs_and_strikes_the_old_number(tmp_path: Path) -> None:
    text = HEREFORDSHIRE.read_text("utf-8")
    assert "  review: annual\n" in text
    changed = tmp_path / "herefordshire.yaml"
    changed.write_text(text.replace("  review: annual\n", "", 1), "utf-8")
    new = _doc(changed)
    path = _write(tmp_path, redline(_doc(HEREFORDSHIRE), new))
    lines = docx_text(path).split("\n")
    after_contents = [i for i, line in enumerate(lines) if line.startswith("2.\tTerm")][1]
    term = lines[after_contents:]
    # clause 2.2 (review) is struck out, number and all; the old 2.3 is numbered 2.2 by Word
    assert term[1].startswith("2.1\tThis Agreement starts")
    assert term[2].strip() == ""  # python-docx leaves out tracked deletions; Word strikes them
    assert term[3].startswith("2.2\tA Partner may terminate")
    word = docx.Document(str(path))
    struck = next(
        p
        for p in word.paragraphs
        if "shall review" in "".join(t.text or "" for t in p._p.iter(qn("w:delText")))
    )
    deleted = "".join(t.text or "" for t in struck._p.iter(qn("w:delText")))
    assert deleted.startswith("2.2")
    assert struck._p.pPr.numPr.numId.val == 0  # not numbered: it is going
    assert _shown_numbers(docx_text(path)) == _md_numbers(render_markdown(new))


# ---------------------------------------------------------------- LibreOffice reads it the same
SOFFICE = shutil.which("soffice")


PDFTOTEXT = shutil.which("pdftotext")
LAID_OUT = [
    Path("agreements/bcf-wealdshire.yaml"),
    HEREFORDSHIRE,
    Path("agreements/durham-ld.yaml"),
]


def _soffice(tmp_path: Path, path: Path, target: str) -> None:
    assert SOFFICE is not None
    profile = f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}"
    done = subprocess.run(
        [
            SOFFICE,
            profile,
            "--headless",
            "--convert-to",
            target,
            "--outdir",
            str(tmp_path),
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")
@pytest.mark.parametrize("agreement", LAID_OUT, ids=lambda p: p.stem)
def test_libreoffice_shows_the_same_numbers_and_references(tmp_path: Path, agreement: Path) -> None:
    """Optional (runs only where LibreOffice is installed): LibreOffice numbers the file as
    the Markdown does, and, laying it out anew (its PDF recomputes every field), reads each
    cross-reference as the sentence says it: "Part 3 of Schedule 1", never "Part Part 3:"."""
    doc = _doc(agreement)
    if agreement == HEREFORDSHIRE:  # a reference to a clause too, which no example makes
        para = doc.clauses[5].blocks[0]
        assert isinstance(para, Para)
        said = ["clause 4", "Part 3 of its Schedule", "Part 2 of Schedule 1", "Schedule 2"]
        para.text = f"As {said[0]} and {said[1]} provide, and {said[2]}; see {said[3]}."
        para.refs = [(para.text.index(t), para.text.index(t) + len(t), "x") for t in said]
    path = _write(tmp_path, doc, "laid-out.docx")
    _soffice(tmp_path, path, "txt:Text (encoded):UTF8")
    _soffice(tmp_path, path, "pdf")
    text = (tmp_path / "laid-out.txt").read_text("utf-8-sig")
    numbers = re.findall(
        r"^\s*(?:(\d+)\.\s|(Schedule \d+): |(Part \d+): |(\d+(?:\.\d+)+)\s)", text, re.M
    )
    shown = ["".join(groups) for groups in numbers]
    expected = _md_numbers(render_markdown(doc))
    contents = len(doc.clauses) + sum(1 + len(s.parts) for s in doc.schedules)
    assert shown[contents:] == expected
    pdf = (tmp_path / "laid-out.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 20_000
    if PDFTOTEXT is None:
        return
    subprocess.run([PDFTOTEXT, str(tmp_path / "laid-out.pdf")], check=True, timeout=120)
    laid_out = " ".join((tmp_path / "laid-out.txt").read_text("utf-8").split())
    assert not re.findall(r"Part Part|Schedule Schedule|Part \d+:? of Schedule \d+:", laid_out)
    paras = [b for sec in _sections(doc) for b in sec.blocks if isinstance(b, Para)]
    said = {" ".join(curly(p.text)[a:b].split()) for p in paras for a, b, _ in p.refs}
    assert len(said) >= 3
    assert [t for t in said if t not in laid_out] == []
    if agreement == HEREFORDSHIRE:
        assert (
            "As clause 4 and Part 3 of its Schedule provide, and Part 2 of Schedule 1" in laid_out
        )
