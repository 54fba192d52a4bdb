"""A whole agreement, drafted: settlement and band wording, provisions and their placeholders,
the Dated line, version history, execution blocks and the drafting notes (issue 15)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from agreementdsl import load
from agreementdsl.cli import main
from agreementdsl.compile import compile_agreement
from agreementdsl.diff import diff_irs
from agreementdsl.render import build_document
from agreementdsl.render.docx import docx_text
from agreementdsl.render.whole import drafting_notes
from agreementdsl.render.writers import render_html, render_markdown

ROOT = Path(__file__).resolve().parents[1]
BASELINE = (ROOT / "tests" / "defects" / "baseline.yaml").read_text("utf-8")


def _write(tmp_path: Path, text: str, name: str = "a.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, "utf-8")
    return path


def _ir(path: Path) -> dict[str, Any]:
    loaded = load(path)
    assert loaded.agreement is not None and loaded.source is not None and loaded.ok
    return compile_agreement(loaded.agreement, loaded.source.text)


def _md(path: Path) -> str:
    loaded = load(path)
    return render_markdown(
        build_document(_ir(path), drafting_notes(loaded.diagnostics, loaded.agreement))
    )


def _without_provisions(text: str) -> str:
    return text[: text.index("\nprovisions:")] + "\n"


def test_bands_are_drafted_without_ambiguity(tmp_path: Path) -> None:
    text = BASELINE.replace(
        "        first £100,000 to host\n        rest by contribution\n      underspend:",
        "        first £750,000 to host\n        next 2% of pool to host\n        rest by contribution\n      underspend:",
    )
    md = _md(_write(tmp_path, text))
    assert (
        "The Host Partner shall bear so much of any Overspend as does not exceed £750,000 (seven hundred and fifty thousand pounds)."
        in md
    )
    assert (
        "The Host Partner shall bear so much of any Overspend as exceeds £750,000 but does not exceed £750,000 plus 2 per cent (two per cent) of the contributions to the Pooled Fund for that Financial Year."
        in md
    )
    assert (
        "So much of any Overspend as exceeds £750,000 plus 2 per cent (two per cent) of the contributions to the Pooled Fund for that Financial Year shall be borne by the Partners in proportion"
        in md
    )
    assert "The whole of any Underspend shall be returned to the Partners" in md


def test_money_bands_add_up_to_the_upper_bound(tmp_path: Path) -> None:
    text = BASELINE.replace(
        "        first £100,000 to host\n",
        "        first £100,000 to host\n        next £250,000.50 split pct 50%, council 50%\n",
    )
    md = _md(_write(tmp_path, text))
    # £100,000 + £250,000.50 = £350,000.50
    assert "So much of any Overspend as exceeds £100,000 but does not exceed £350,000.50" in md
    assert "So much of any Overspend as exceeds £350,000.50 shall be borne" in md


def test_settlement_is_on_the_final_outturn_within_the_stated_time(tmp_path: Path) -> None:
    default = _md(_write(tmp_path, BASELINE))
    assert (
        "within 30 (thirty) days of the day on which the annual return for that Financial Year is sent to the Partners"
        in default
    )
    assert (
        "A Forecast Outturn decides only whether the reports in Part 5 of Schedule 1 are due"
        in default
    )
    assert '**"Final Outturn"** means' in default and '**"Forecast Outturn"** means' in default
    stated = BASELINE.replace(
        "  review: annual\n", "  review: annual\n  settlement: { within: 2 months }\n"
    )
    path = _write(tmp_path, stated, "b.yaml")
    assert _ir(path)["agreement"]["settlement_within"] == {
        "count": 2,
        "unit": "months",
        "text": "2 months",
    }
    assert "within 2 (two) months of the day on which the annual return" in _md(path)


def test_by_element_states_gross_and_its_fallback() -> None:
    md = _md(Path("agreements/bcf-wealdshire.yaml").resolve())
    assert "A Partner's part is gross: only its Elements with an overspend count" in md
    assert (
        "Where no Element has an overspend, this part is borne by the Partners in proportion to their contributions"
        in md
    )


def test_a_matter_not_stated_is_a_placeholder_and_one_warning(tmp_path: Path) -> None:
    # An empty `provisions:` says the agreement is drafted whole: each matter warns once.
    path = _write(tmp_path, _without_provisions(BASELINE) + "provisions: {}\n")
    warnings = [d for d in load(path).diagnostics if d.code == "W410"]
    assert len(warnings) == 12  # ten matters, the Board's constitution and the notices, once each
    assert any("address for notices (none for pct, council)" in w.message for w in warnings)
    md = _md(path)
    assert "**11.1** \\[to be agreed: how this Agreement is varied\\]" in md
    assert "| A Council | \\[to be agreed: its address for notices\\] |" in md
    assert "> **Drafting notes.**" in md
    assert md.count("> - W410") == 12
    # With no `provisions:` at all (schedules only, as LANGUAGE.md's example), `check` is quiet
    # but the draft still has every placeholder and lists each in its drafting notes.
    bare = _write(tmp_path, _without_provisions(BASELINE))
    assert [d for d in load(bare).diagnostics if d.code == "W410"] == []
    bare_md = _md(bare)
    assert "**11.1** \\[to be agreed: how this Agreement is varied\\]" in bare_md
    assert bare_md.count("> - W410") == 12


def test_a_stated_matter_is_drafted_as_its_clause(tmp_path: Path) -> None:
    md = _md(_write(tmp_path, BASELINE))
    assert "## 11. Variation\n\n**11.1** Only in writing signed by each Partner." in md
    assert "| A Primary Care Trust | 1 High Street, Anytown |" in md
    assert (
        "(C) Before entering into this Agreement the Partners consulted jointly, as regulation 4(2) of the Regulations requires, as follows: The people who use the services"
        in md
    )
    assert "Drafting notes" not in md  # the baseline checks clean


def test_an_address_for_no_partner_is_an_error(tmp_path: Path) -> None:
    text = BASELINE.replace('council: "Town Hall, Anytown" }', 'counsel: "Town Hall" }')
    result = CliRunner().invoke(main, ["check", str(_write(tmp_path, text))])
    assert result.exit_code == 1
    assert "error[E301]: `counsel` under `provisions.notices` is not a partner" in result.output


def test_dated_line_version_history_and_execution(tmp_path: Path) -> None:
    text = BASELINE.replace(
        "  review: annual\n",
        "  review: annual\n  signed: 2005-03-21\n"
        "  versions:\n"
        "    - { version: '0.9', date: 2005-02-01, change: First draft for the Board }\n"
        "    - { version: '1.0', date: 2005-03-14, change: Risk share agreed }\n",
    ).replace(
        "  notices:",
        "  signatories: { council: Chief Executive }\n  notices:",
    )
    path = _write(tmp_path, text)
    md = _md(path)
    assert md.startswith("> DRAFT version 1.0 generated from")
    assert "**Dated:** 21 March 2005" in md
    assert "| 0.9 | 1 February 2005 | First draft for the Board |" in md
    assert "**Signed for and on behalf of A Primary Care Trust**" in md
    assert "Position: Chief Executive" in md
    assert "Position: \\[to be agreed: the office of the signatory\\]" in md
    html = render_html(build_document(_ir(path)))
    assert "<caption>Version history</caption>" in html
    assert '<section id="execution" class="execution">' in html


def test_render_boxes_the_warnings_in_md_html_and_word(tmp_path: Path) -> None:
    import docx

    path = _write(tmp_path, _without_provisions(BASELINE))
    result = CliRunner().invoke(main, ["render", str(path), "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    html = (tmp_path / "out" / "a.html").read_text("utf-8")
    assert '<aside class="drafting-notes" role="note" aria-label="Drafting notes">' in html
    assert html.count("<li>W410: Not yet agreed: ") == 12
    word = docx.Document(str(tmp_path / "out" / "a.docx"))
    texts = [p.text for p in word.paragraphs]
    box = word.tables[0].cell(0, 0).paragraphs  # the shaded box, before the title
    assert box[0].text == "Drafting notes"
    assert sum(p.text.startswith("W410: Not yet agreed: ") for p in box) == 12
    assert "Dated: [date to be inserted on completion]" in texts
    assert "Signed for and on behalf of A Council" in texts
    shown = docx_text(tmp_path / "out" / "a.docx").split("\n")  # with Word's own numbers
    assert any(
        line.startswith("11.1") and line.endswith("[to be agreed: how this Agreement is varied]")
        for line in shown
    )


def test_a_short_first_period_is_named_by_its_dates() -> None:
    md = _md(Path("agreements/durham-ld.yaml").resolve())
    assert (
        "For the period from 1 September 2003 to 31 March 2004 the Partners shall contribute" in md
    )
    assert "For the Financial Year 2003/04" not in md
    assert "For the Financial Year 2004/05 the Partners shall contribute" in md


def test_targets_read_as_counts_with_their_unit() -> None:
    md = _md(Path("agreements/bcf-wealdshire.yaml").resolve())
    assert "| fewer than 2,050 per 100,000 |" in md
    assert "| at least 92.5 per cent |" in md


def test_aims_read_as_one_sentence() -> None:
    md = _md(Path("agreements/herefordshire.yaml").resolve())
    assert "The aims of this Agreement are: one integrated health and social care service" in md


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            ("  variation: only in writing signed by each Partner\n", ""),
            "Provisions: how this Agreement is varied is no longer stated: a placeholder again (Variation)",
        ),
        (
            ("1 High Street, Anytown", "2 Low Street, Anytown"),
            "Provisions: the address for notices of `pct` changes from 1 High Street, Anytown to 2 Low Street, Anytown",
        ),
    ],
)
def test_diff_reports_provisions_in_plain_english(
    tmp_path: Path, edit: tuple[str, str], expected: str
) -> None:
    old = _ir(_write(tmp_path, BASELINE, "old.yaml"))
    new = _ir(_write(tmp_path, BASELINE.replace(*edit), "new.yaml"))
    changes = [f"{c.where}: {c.what}" for c in diff_irs(old, new)]
    assert changes == [expected]


def test_render_git_takes_the_version_history_from_the_log(tmp_path: Path) -> None:
    import subprocess

    def git(*args: str) -> None:
        subprocess.run(
            ["git", "-c", "user.name=T", "-c", "user.email=t@example.org", *args],
            cwd=tmp_path,
            check=True,
            capture_output=True,
            env={
                "GIT_AUTHOR_DATE": "2005-02-01T12:00:00",
                "GIT_COMMITTER_DATE": "2005-02-01T12:00:00",
                "PATH": "/usr/bin:/bin",
            },
        )

    path = _write(tmp_path, BASELINE)
    git("init", "-q")
    git("add", "a.yaml")
    git("commit", "-q", "-m", "First draft for the Board")
    path.write_text(BASELINE.replace("£1,000,000", "£1,100,000"), "utf-8")
    result = CliRunner().invoke(
        main, ["render", str(path), "--git", "--format", "md", "-o", str(tmp_path / "out")]
    )
    assert result.exit_code == 0, result.output
    md = (tmp_path / "out" / "a.md").read_text("utf-8")
    assert md.startswith("> DRAFT version 2 generated from")
    assert re.search(
        r"\| 1 \| 1 February 2005 \| First draft for the Board \([0-9a-f]{7,}\) \|", md
    )
    assert "| 2 |  | this draft: changes since the last version |" in md


def test_render_git_outside_a_repository_is_a_usage_error(tmp_path: Path) -> None:
    path = _write(tmp_path, BASELINE)
    result = CliRunner().invoke(main, ["render", str(path), "--git", "-o", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "is not inside a git repository" in result.output


def test_a_bcf_agreement_follows_the_national_template_layout() -> None:
    path = Path("agreements/bcf-wealdshire.yaml").resolve()
    md = _md(path)
    headings = re.findall(r"^## (\d+)\. (.+)$", md, flags=re.M)
    numbered = dict(headings)
    assert numbered["7"] == "The Pooled Funds"
    assert numbered["8"] == "Pooled Fund management"
    assert numbered["10"] == "Financial contributions"
    assert numbered["22"] == "Termination"
    assert numbered["23"] == "Dispute resolution"
    # no gap, no repeat; clauses 11 to 21 hold the risk share, the governance and the
    # provisions, and what does not fit there follows clause 23 (here Balances at expiry, as the
    # pools carry underspends out of 2024/25, then Notices and General)
    assert [n for n, _ in headings] == [str(i) for i in range(1, 27)]
    assert (numbered["11"], numbered["12"], numbered["21"]) == (
        "Risk share, Overspends and Underspends",
        "Governance",
        "Force majeure",
    )
    assert (numbered["24"], numbered["25"], numbered["26"]) == (
        "Balances at expiry",
        "Notices",
        "General",
    )
    assert "carried into the Better Care Fund Pooled Funds of the agreement the Partners make" in md
    assert re.findall(r"^## (Schedule \d+: .+)$", md, flags=re.M) == [
        "Schedule 1: Contributions and schemes",
        "Schedule 2: Governance",
        "Schedule 3: Risk share",
    ]
    assert "**4.1** The Schedules are: Schedule 1, the contributions" in md
    assert "If a clause of this Agreement and a Schedule conflict, the clause prevails." in md
    assert "unless terminated earlier under clause 22, ends on the Expiry Date" in md
    assert "are dealt with as Schedule 3 provides" in md
    assert (
        "**10.1** Each Partner shall contribute to each Pooled Fund the amounts set out for it in Schedule 1"
        in md
    )
    # the risk share's references reach the scheme specification in Schedule 1
    assert "the Elements named against it in Part 1 of Schedule 1" in md
    html = render_html(build_document(_ir(path)))
    for pool in _ir(path)["pools"]:  # the report's links to a pool's Parts still land
        for part in ("risk", "authority", "reporting", "contributions"):
            assert f'id="part-{pool["id"]}-{part}"' in html
        assert f'id="schedule-{pool["id"]}"' in html


def test_other_agreements_keep_a_schedule_per_pool() -> None:
    md = _md(Path("agreements/herefordshire.yaml").resolve())
    assert "## Schedule 1: Mental Health Services Pooled Fund" in md
    assert "## 2. Term, review and termination" in md
    assert "Not used\n" not in md.split("## Schedule 1")[0]


def test_fmt_leaves_the_provisions_as_written(tmp_path: Path) -> None:
    text = BASELINE.replace("      up to £50,000: manager", "      up to  £50k: manager")
    path = _write(tmp_path, text)
    result = CliRunner().invoke(main, ["fmt", str(path)])
    assert result.exit_code == 0, result.output
    after = path.read_text("utf-8")
    assert "      up to £50,000: manager" in after  # the rule is laid out
    assert after[after.index("\nprovisions:") :] == text[text.index("\nprovisions:") :]


def test_the_examples_aims_and_measures_read_as_drafted_text() -> None:
    bcf = _md(Path("agreements/bcf-wealdshire.yaml").resolve())
    assert "The aims of the Pooled Fund are: to speed discharge from hospital" in bcf
    durham = _md(Path("agreements/durham-ld.yaml").resolve())
    assert "issued to the Board within 10 Working Days" in durham
    assert "divided equally or pro rata between the Partners" in durham


def test_defined_terms_keep_their_capitals_in_the_agreements_own_prose(tmp_path: Path) -> None:
    from agreementdsl.render.whole import capitalise_terms

    titles = ["Pooled Budget Manager", "Partnership Board"]
    assert (
        capitalise_terms(
            "each partner's staff report to the partnership board within 5 working days", titles
        )
        == "each Partner's staff report to the Partnership Board within 5 Working Days"
    )
    # a partnership is not a Partner; words in capitals already are left alone
    assert capitalise_terms("a partnership of PARTNERS") == "a partnership of PARTNERS"
    text = BASELINE.replace(
        "  aims: One integrated mental health service.",
        "  aims: One service the partners run through the partnership board.",
    ).replace(
        "      - Community mental health teams",
        "      - Community teams funded from the pooled fund",
    )
    md = _md(_write(tmp_path, text))
    assert "are: one service the Partners run through the Partnership Board." in md
    assert "- Community teams funded from the Pooled Fund" in md


def test_a_short_first_periods_forecast_is_drafted_as_the_engine_works_it(tmp_path: Path) -> None:
    import json

    path = Path("agreements/durham-ld.yaml").resolve()
    md = _md(path)
    assert (
        "in a period in which this Agreement is in force for part of a Financial Year only, the "
        "months are those of that period: the expenditure less income is multiplied by the "
        "number of months of that period, not twelve, and divided by the number of those months "
        "then ended"
    ) in md
    # and the instalments of that period, as engine/payments.py spreads them
    assert (
        "For the period from 1 September 2003 to 31 March 2004, in which this Agreement is in "
        "force for part of a Financial Year only, the contribution is paid in one instalment "
        "for each quarter of which that period holds all or part, in proportion to the months"
    ) in md
    ledger = tmp_path / "ledger.csv"
    ledger.write_text(
        "date,pool,element,kind,amount,approved_by,in_plan\n"
        "2003-09-15,learning-disabilities,council-care,spend,70000.00,pbm,true\n",
        "utf-8",
    )
    result = CliRunner().invoke(
        main,
        ["run", str(path), "--ledger", str(ledger), "--as-of", "2003-10-31", "--format", "json"],
    )
    pool = json.loads(result.output)["pools"][0]
    # £70,000 to 31 October × 7 ÷ 2: the months of the period from 1 September 2003 (the
    # engine runs a part-year first period as that period: engine/term.py), as drafted above.
    assert (pool["year"], pool["forecast"]) == ("2003/04", "245000.00")


def test_the_word_file_holds_the_bcf_layout_and_the_settlement_wording(tmp_path: Path) -> None:
    import docx

    path = Path("agreements/bcf-wealdshire.yaml").resolve()
    result = CliRunner().invoke(
        main, ["render", str(path), "--format", "docx", "-o", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    word = docx.Document(str(tmp_path / "bcf-wealdshire.docx"))
    shown = docx_text(tmp_path / "bcf-wealdshire.docx").split("\n")  # Word's own numbers
    headings = [" ".join(line.split()) for line in shown]
    for heading in (
        "7. The Pooled Funds",
        "8. Pooled Fund management",
        "10. Financial contributions",
        "22. Termination",
        "23. Dispute resolution",
        "Schedule 1: Contributions and schemes",
        "Schedule 2: Governance",
        "Schedule 3: Risk share",
    ):
        assert heading in headings
    texts = [p.text for p in word.paragraphs]
    assert any(
        "So much of any Overspend as exceeds £750,000 but does not exceed £750,000 plus 2 per cent"
        in t
        for t in texts
    )
    assert any("within 30 (thirty) days of the day on which the annual return" in t for t in texts)
    # the councils execute as a deed under their common seals; the ICB signs
    assert (
        "The common seal of Wealdshire County Council was affixed to this deed in the presence of:"
        in texts
    )
    assert "Signed for and on behalf of NHS Wealdshire and Downs Integrated Care Board" in texts
    assert "Position: Chief Executive" in texts
    assert "Position: Director of Law and Governance" in texts


def test_non_pooled_funds_are_drafted_as_their_own_clause(tmp_path: Path) -> None:
    text = BASELINE.replace(
        "\nprovisions:",
        '\nnon_pooled:\n  - { name: Council carers grants, partner: council, amounts: { 2005/06: "£120,000.50" } }\n\nprovisions:',
    )
    md = _md(_write(tmp_path, text))
    clause = md[md.index("Non-pooled funds") :]
    assert "are not part of them" in clause
    assert "is not shared under any risk share of this Agreement" in clause
    assert (
        "| Council carers grants | COUNCIL | 2005/06: £120,000.50 (one hundred and twenty thousand pounds and fifty pence) |"
        in clause
    )
    # it comes before Notices, whose number follows it
    assert re.search(r"## (\d+)\. Non-pooled funds[\s\S]*## (\d+)\. Notices", md)


def test_each_partner_signs_on_a_page_of_its_own(tmp_path: Path) -> None:
    import docx
    from docx.oxml.ns import qn

    path = _write(tmp_path, BASELINE)
    CliRunner().invoke(main, ["render", str(path), "-o", str(tmp_path / "out")])
    html = (tmp_path / "out" / "a.html").read_text("utf-8")
    assert html.count('<p class="level-1 signature-page">') == 2
    word = docx.Document(str(tmp_path / "out" / "a.docx"))
    paragraphs = word.paragraphs
    for i, p in enumerate(paragraphs):
        if p.text.startswith("Signed for and on behalf of"):
            breaks = paragraphs[i - 1]._p.findall(".//" + qn("w:br"))
            assert [b.get(qn("w:type")) for b in breaks] == ["page"], p.text


def test_aims_that_start_with_a_name_keep_its_capital(tmp_path: Path) -> None:
    text = BASELINE.replace(
        "  aims: One integrated mental health service.",
        "  aims: Council tenants and others get one integrated mental health service",
    )
    md = _md(_write(tmp_path, text))
    # "Council" is a word of a partner's name (A Council): a name, so its capital stays
    assert "are: Council tenants and others get one integrated mental health service." in md


def test_a_balance_carried_out_of_the_last_year_is_a_matter_of_its_own(tmp_path: Path) -> None:
    # Durham's learning-disabilities pool carries 1% of an underspend forward, and 2005/06 is the
    # agreement's last year: no year receives it, so the draft needs a clause on it (a
    # placeholder, and W410 once the agreement is drafted whole), and none when it is stated.
    durham = Path("agreements/durham-ld.yaml").resolve()
    md = _md(durham)
    assert "Balances at expiry" in md
    assert (
        "\\[to be agreed: how a balance carried forward from the last Financial Year is dealt with at the Expiry Date\\]"
        in md
    )
    whole = _write(tmp_path, durham.read_text("utf-8") + "provisions: {}\n", "durham.yaml")
    words = [d.message for d in load(whole).diagnostics if d.code == "W410"]
    assert any(
        "dealt with at the Expiry Date (pool `learning-disabilities` carries" in w for w in words
    )
    stated = _write(
        tmp_path,
        durham.read_text("utf-8")
        + "provisions:\n  expiry_balances: shared in proportion to the contributions for 2005/06\n",
        "stated.yaml",
    )
    assert not any("Expiry Date" in d.message for d in load(stated).diagnostics)
    drafted = _md(stated)
    assert "to be agreed: how a balance carried forward" not in drafted
    assert re.search(
        r"## \d+\. Balances at expiry\n\n\*\*\d+\.1\*\* Shared in proportion to the contributions for 2005/06\.",
        drafted,
    )


def test_every_draft_has_governing_law_and_the_general_terms() -> None:
    for name in ("herefordshire", "durham-ld", "bcf-wealdshire"):
        md = _md(Path(f"agreements/{name}.yaml").resolve())
        general = md[md.index(". General\n") :]
        for words in (
            "governed by the law of England and Wales",
            "not about a single Pooled Fund",
            "the whole agreement between the Partners",
            "invalid or unenforceable",
            "does not waive that right",
            "without the written consent of each other Partner",
            "Contracts (Rights of Third Parties) Act 1999",
            "any number of counterparts",
        ):
            assert words in general.split("\n## ")[0], (name, words)
