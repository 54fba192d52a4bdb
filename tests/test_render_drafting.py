"""A solicitor's second reading of the drafts (issue 15, continued): regulation 7's report to
the Partners, the Board's constitution, the ledger's defined terms, drafting notes phrased for
the lawyer, and execution as a deed under a council's common seal. Each test reads the words."""

from __future__ import annotations

import re
from pathlib import Path

from agreementdsl import load, load_source
from agreementdsl.compile import compile_agreement
from agreementdsl.render import build_document
from agreementdsl.render.whole import drafting_notes
from agreementdsl.render.writers import render_markdown
from agreementdsl.source import SourceFile

ROOT = Path(__file__).resolve().parents[1]
BASELINE = (ROOT / "tests" / "defects" / "baseline.yaml").read_text("utf-8")
CONSTITUTION = BASELINE[BASELINE.index("  constitution:") :]
QUARTERLY = "      quarterly finance report to partners within 1 month\n"


def _md_text(text: str, name: str = "a.yaml") -> str:
    loaded = load_source(SourceFile(name, text))
    assert loaded.ok and loaded.agreement is not None, [d.message for d in loaded.errors]
    ir = compile_agreement(loaded.agreement, text)
    return render_markdown(build_document(ir, drafting_notes(loaded.diagnostics, loaded.agreement)))


def _md(path: Path) -> str:
    return _md_text(path.read_text("utf-8"), str(path.relative_to(ROOT)))


def _codes(text: str, code: str) -> list[str]:
    loaded = load_source(SourceFile("a.yaml", text))
    return [d.message for d in loaded.diagnostics if d.code == code]


def _paragraph(md: str, start: str) -> str:
    found = [p for p in md.split("\n\n") if start in p]
    assert len(found) == 1, (start, found)
    return found[0]


# ------------------------------------------------------------ 4. regulation 7's report
def test_the_report_of_income_and_expenditure_goes_to_the_partners() -> None:
    md = _md(ROOT / "agreements" / "durham-ld.yaml")
    para = _paragraph(md, "shall send a finance report to each of the Partners for each quarter")
    assert para.endswith(
        "within 20 (twenty) Working Days of the end of the quarter. This report is the report on "
        "the income and expenditure of the Pooled Fund that regulation 7 of the Regulations "
        "requires the Pooled Fund Manager to submit to the Partners at least quarterly; it may "
        "also be sent to the County Durham Learning Disabilities Partnership Board, but not "
        "instead of to the Partners."
    )
    # the Board keeps its monthly report, which is not said to meet the regulation
    board = _paragraph(md, "shall send a finance report to the County Durham Learning")
    assert "regulation 7" not in board


def test_a_finance_report_only_to_the_board_is_drafted_as_written_and_noted() -> None:
    # LANGUAGE.md's example (schedules only): its mental health pool reports money monthly to
    # the Board alone. `check` stays quiet (as for W410), the draft notes it, and the clause is
    # drafted as the agreement states it (never silently re-addressed), with the report to the
    # Partners that regulation 7 requires left to be agreed.
    path = ROOT / "agreements" / "herefordshire.yaml"
    assert [d.code for d in load(path).diagnostics] == []
    md = _md(path)
    mental_health = md[md.index("## Schedule 1") : md.index("## Schedule 2")]
    assert (
        "**5.1** The Pooled Fund Manager shall send a finance report to the Section 31 "
        "Partnership Board for each month, within 10 (ten) Working Days of the end of the month."
    ) in mental_health
    assert (
        "\\[to be agreed: the report on the income and expenditure of the Pooled Fund that the "
        "Pooled Fund Manager shall submit to the Partners at least quarterly under regulation 7 "
        "of the Regulations; a report to the Section 31 Partnership Board alone does not meet it\\]"
    ) in mental_health
    [note] = [line for line in md.splitlines() if line.startswith("> - W801")]
    assert note.startswith(
        "> - W801: The Mental Health Services Pooled Fund's only monthly report of income and "
        "expenditure goes to the Section 31 Partnership Board, not to the Partners"
    )
    assert note.endswith(
        "the draft states that report as written, and leaves the report to the "
        'Partners "\\[to be agreed: …\\]". (agreement file: pools.mental-health.reporting)'
    )
    # an agreement drafted whole (with `provisions:`) is warned by `check` itself
    text = BASELINE.replace(
        QUARTERLY, "      monthly finance report to board within 10 working days\n"
    )
    assert len(_codes(text, "W801")) == 1


def test_a_pool_with_no_report_of_its_money_gets_a_placeholder() -> None:
    text = BASELINE.replace(QUARTERLY, "")
    assert len(_codes(text, "W801")) == 1
    md = _md_text(text)
    assert (
        "\\[to be agreed: the report on the income and expenditure of the Pooled Fund that the "
        "Pooled Fund Manager shall submit to the Partners at least quarterly under regulation 7 "
        "of the Regulations; a report to the Partnership Board alone does not meet it\\]"
    ) in md
    assert "W801: The Mental Health Pooled Fund has no quarterly report" in md


# ------------------------------------------------------------ 5. the Board's constitution
def test_the_board_has_a_constitution_clause_from_the_agreement() -> None:
    md = _md_text(BASELINE)
    clause = md[md.index("## 10. Governance") : md.index("## 11. Variation")]
    assert "**10.2** The Partnership Board:" in clause
    assert "**10.2.1** **Membership.** Two members appointed by each Partner." in clause
    assert "**10.2.2** **Chair.** A member elected by the members each year." in clause
    assert "**10.2.3** **Quorum.** One member appointed by each Partner." in clause
    assert "**10.2.4** **Voting.** By consensus." in clause
    assert "**10.2.5** **Meetings.** At least once a quarter." in clause
    assert "to be agreed" not in clause


def test_a_constitution_not_stated_is_a_placeholder_and_one_warning() -> None:
    text = BASELINE.replace(CONSTITUTION, "")
    [message] = _codes(text, "W410")
    assert message == (
        "the agreement does not state the constitution of the Partnership Board (its members, "
        "who chairs it, its quorum, how it decides, when it meets); `render` drafts it as a "
        "placeholder"
    )
    md = _md_text(text)
    assert "**10.2.2** **Chair.** \\[to be agreed: who chairs the Partnership Board\\]" in md
    assert (
        "**10.2.3** **Quorum.** \\[to be agreed: the quorum of the Partnership Board, and "
        "whether each Partner must be present\\]" in md
    )
    # part stated, part not: the warning names only what is missing
    part = BASELINE.replace(", voting: by consensus, meetings: at least once a quarter", "")
    [partial] = _codes(part, "W410")
    assert "(how it decides, when it meets)" in partial


def test_a_body_held_jointly_is_its_members_acting_together() -> None:
    text = BASELINE.replace(
        "  board: { title: Partnership Board }\n",
        "  board: { title: Partnership Board }\n"
        "  finance: { title: Finance Leads, partner: pct }\n"
        "  finance-leads: { title: Joint Finance Leads, members: [manager, finance] }\n",
    )
    assert _codes(text, "W410") == []  # a joint role needs no constitution of its own
    md = _md_text(text)
    assert (
        "**Membership.** The Joint Finance Leads is the Pooled Budget Manager and the Finance "
        "Leads, acting together: a decision of the Joint Finance Leads is made only when each "
        "of them agrees to it."
    ) in md


def test_a_constitution_for_no_body_is_an_error() -> None:
    text = BASELINE.replace("  constitution: { board:", "  constitution: { manager:")
    loaded = load_source(SourceFile("a.yaml", text))
    assert [(d.code, d.message) for d in loaded.errors] == [
        (
            "E302",
            "`manager` under `provisions.constitution` is an officer of `pct`, not a body of "
            "the partnership",
        )
    ]


# ------------------------------------------------------------ 6. defined terms of the ledger
def test_element_category_and_supplier_are_defined_and_keep_their_capitals() -> None:
    md = _md(ROOT / "agreements" / "bcf-wealdshire.yaml")
    assert (
        '**"Element"** means in relation to a Pooled Fund, a named part of its budget, named '
        "against a Partner and listed in its Schedule, to which each item of its expenditure is "
        "charged;"
    ) in md
    assert (
        '**"Category"** means the category of an item of expenditure, as recorded against it '
        "in the ledger of the Pooled Fund kept by its Host Partner;"
    ) in md
    assert (
        '**"Supplier"** means the person to whom an item of expenditure is paid, as recorded '
        "against it in the ledger of the Pooled Fund kept by its Host Partner;"
    ) in md
    schedules = md[md.index("## Schedule 1") :]
    assert "where the Supplier is " in schedules and "the Category is " in schedules
    assert "Spends to one Supplier on the same day" in schedules
    for word in ("element", "supplier", "category"):
        assert not re.search(rf"\bthe {word}\b", schedules), word
    # Herefordshire compares no category: it defines none
    assert '"Category"' not in _md(ROOT / "agreements" / "herefordshire.yaml")


# ------------------------------------------------------------ 8. drafting notes
def test_drafting_notes_speak_to_the_lawyer_and_point_into_the_file() -> None:
    md = _md(ROOT / "agreements" / "durham-ld.yaml")
    notes = [line for line in md.splitlines() if line.startswith("> - ")]
    assert notes, "Durham has placeholders"
    assert (
        '> - W410: Not yet agreed: how this Agreement is varied; the draft leaves it "\\[to be '
        'agreed: …\\]". (agreement file: provisions.variation)'
    ) in notes
    assert (
        "> - W410: Not yet agreed: who appoints the expert if the Partners in dispute do not "
        "agree one (the dispute ladder of the County Durham Learning Disabilities Pooled Fund "
        'ends in expert determination); the draft leaves it "\\[to be agreed: …\\]". (agreement '
        "file: provisions.expert)"
    ) in notes
    assert any(
        "the Chief Executives of the Council and the Five PCTs" in n
        and n.endswith("(agreement file: provisions.constitution.executives)")
        for n in notes
    )
    # no YAML in a lawyer's notes: no "add …", no backticks, no `render`, no ids
    for note in notes:
        assert "`" not in note and "add " not in note and "render" not in note, note
        assert "learning-disabilities`" not in note and "dcc" not in note, note


# ------------------------------------------------------------ 9. execution
def test_a_council_may_execute_as_a_deed_under_its_common_seal() -> None:
    text = BASELINE.replace("  notices:", "  execution: { council: seal }\n  notices:")
    md = _md_text(text)
    execution = md[md.index("## Execution") :]
    assert (
        "This Agreement has been executed as a deed by A Council and signed for A Primary Care "
        "Trust, and is delivered on the date stated at its beginning."
    ) in execution
    assert (
        "**The common seal of A Council** was affixed to this deed in the presence of:" in execution
    )
    assert "Authorised signatory: ..." in execution
    assert "Seal register number: ..." in execution
    assert "**Signed for and on behalf of A Primary Care Trust**" in execution
    # signature stays the default
    plain = _md_text(BASELINE)
    assert "This Agreement has been entered into on the date stated at its beginning." in plain
    assert "common seal" not in plain


def test_execution_for_no_partner_is_an_error() -> None:
    text = BASELINE.replace("  notices:", "  execution: { county: seal }\n  notices:")
    loaded = load_source(SourceFile("a.yaml", text))
    assert [d.code for d in loaded.errors] == ["E301"]
    bad = BASELINE.replace("  notices:", "  execution: { council: stamp }\n  notices:")
    assert [d.code for d in load_source(SourceFile("a.yaml", bad)).errors] == ["E104"]


def test_the_examples_check_clean_and_keep_the_template_numbers() -> None:
    for name in ("herefordshire", "durham-ld", "bcf-wealdshire"):
        loaded = load(ROOT / "agreements" / f"{name}.yaml")
        assert [d.code for d in loaded.diagnostics] == [], name
