"""Funding streams, "of which" parts and the named forecast method (issue 16), worked by hand on
the Better Care Fund example of docs/language.md (its YAML block is this test's agreement)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from agreementdsl.api import load_source
from agreementdsl.cli import main
from agreementdsl.source import SourceFile
from engine_support import compile_file, compile_text, pool_of, run_json

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "language.md"
HEADER = ["date", "pool", "element", "kind", "amount", "partner", "approved_by"]
# April 2023: the whole year's block contract, a month of reablement and of grants.
APRIL = [
    ["2023-04-05", "bcf", "community", "spend", "8000000.00", "", "hwb"],
    ["2023-04-20", "bcf", "reablement", "spend", "600000.00", "", "icb-finance;dc-finance"],
    ["2023-04-25", "bcf", "adaptations", "spend", "150000.00", "", "icb-finance;dc-finance"],
]


def worked_bcf() -> str:
    text = DOC.read_text("utf-8")
    match = re.search(r"### Worked example: a Better Care Fund\n.*?```yaml\n(.*?)```", text, re.S)
    assert match, "docs/language.md has no worked BCF example"
    return match.group(1)


def _method(text: str, method: str) -> str:
    start, end = text.index("    forecast:\n"), text.index("    risk_share:")
    return text[:start] + f"    forecast: {method}\n" + text[end:]


def _codes(text: str) -> list[str]:
    loaded = load_source(SourceFile("bcf.yaml", text))
    return [d.code for d in loaded.diagnostics]


def test_the_worked_bcf_checks_clean_even_strictly() -> None:
    assert _codes(worked_bcf()) == []


def test_each_stream_is_uplifted_on_its_own_prior_year() -> None:
    ir = compile_text(worked_bcf())
    year = ir["pools"][0]["contributions"][1]
    icb, dc = year["partners"]
    # £12,000,000 + 5.66% = £12,679,200; own £3,000,000 + 2% = £3,060,000; dfg as stated
    assert (icb["amount"], dc["amount"], year["total"]) == (
        "12679200.00",
        "5210000.00",
        "17889200.00",
    )
    assert [(s["stream"], s["amount"], s["expression"]) for s in dc["streams"]] == [
        ("own", "3060000.00", "prior year + 2%"),
        ("dfg", "2150000.00", "£2,150,000"),
    ]
    assert dc["streams"][0]["name"] == "the Council's own funding"
    assert dc["streams"][0]["basis"] == {
        "year": "2023/24",
        "sign": "+",
        "percent": "2",
        "amount": None,
    }
    # a stream-less contribution is one stream with no name
    assert [s["stream"] for s in icb["streams"]] == [None]


def test_an_existing_agreement_means_the_same() -> None:
    ir = compile_file(ROOT / "agreements" / "herefordshire.yaml")
    row = ir["pools"][0]["contributions"][1]["partners"][0]
    assert row["amount"] == "13632500.00"
    assert [(s["stream"], s["amount"]) for s in row["streams"]] == [(None, "13632500.00")]
    assert ir["pools"][0]["forecast_method"]["method"] == "run-rate"


def test_run_lists_streams_and_the_of_which_part(tmp_path: Path) -> None:
    ir = compile_text(worked_bcf())
    data = run_json(ir, tmp_path, APRIL, date(2023, 4, 30), HEADER)
    icb, dc = pool_of(data, "bcf")["contributed"]
    assert icb["of_which"] == [
        {
            "id": "bcf-adult-social-care",
            "name": "NHS minimum contribution to adult social care",
            "stream": None,
            "amount": "4000000.00",
        }
    ]
    assert [(s["stream"], s["amount"]) for s in dc["streams"]] == [
        ("own", "3000000.00"),
        ("dfg", "2000000.00"),
    ]
    assert dc["amount"] == "5000000.00"


def _exception_reports(data: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (r["period_end"], r["due"])
        for r in pool_of(data, "bcf")["reports"]
        if r["report"] == "exception report"
    ]


def test_a_block_payment_in_april_raises_no_exception_report_under_the_profile(
    tmp_path: Path,
) -> None:
    data = run_json(compile_text(worked_bcf()), tmp_path, APRIL, date(2023, 4, 30), HEADER)
    pool = pool_of(data, "bcf")
    # £8,000,000 ÷ 100% + £600,000 × 12 + £150,000 × 12 = £17,000,000: the budget exactly
    assert pool["forecast"] == "17000000.00"
    assert pool["variance"] == {"kind": "balanced", "amount": "0.00"}
    assert _exception_reports(data) == []


def test_the_same_ledger_at_the_run_rate_raises_one(tmp_path: Path) -> None:
    ir = compile_text(_method(worked_bcf(), "run-rate"))
    data = run_json(ir, tmp_path, APRIL, date(2023, 4, 30), HEADER)
    pool = pool_of(data, "bcf")
    assert pool["forecast"] == "105000000.00"  # £8,750,000 × 12 ÷ 1
    # raised on 30 April 2023 (a Sunday); 5 working days after it, skipping the bank holidays
    # of 1 May and 8 May 2023 (the coronation): 2, 3, 4, 5 and 9 May
    assert _exception_reports(data) == [("2023-04-30", "2023-05-09")]


def test_latest_forecast_uses_the_row_and_the_budget_before_it(tmp_path: Path) -> None:
    ir = compile_text(_method(worked_bcf(), "latest forecast"))
    data = run_json(ir, tmp_path, APRIL, date(2023, 4, 30), HEADER)
    assert pool_of(data, "bcf")["forecast"] == "17000000.00"  # no row yet: the budget
    assert _exception_reports(data) == []
    # a forecast of £17,250,000: over by £250,000, more than 1% of £17,000,000 (£170,000)
    rows = [*APRIL, ["2023-04-28", "bcf", "", "forecast", "17250000.00", "", ""]]
    data = run_json(ir, tmp_path, rows, date(2023, 4, 30), HEADER)
    assert pool_of(data, "bcf")["forecast"] == "17250000.00"
    assert _exception_reports(data) == [("2023-04-28", "2023-05-09")]  # as above


def test_risk_share_by_contribution_uses_the_total_across_streams(tmp_path: Path) -> None:
    ir = compile_text(_method(worked_bcf(), "run-rate"))
    rows = [["2024-03-31", "bcf", "reablement", "spend", "16000000.00", "", "hwb"]]
    data = run_json(ir, tmp_path, rows, date(2024, 3, 31), HEADER)
    pool = pool_of(data, "bcf")
    # underspend £1,000,000 by contribution, 12,000,000 : 5,000,000 (the council's two streams
    # together): £705,882.352… and £294,117.647…; the spare penny goes to the larger remainder
    assert pool["variance"] == {"kind": "underspend", "amount": "1000000.00"}
    assert pool["settlement"]["shares"] == {"icb": "705882.35", "dc": "294117.65"}


def test_of_which_more_than_the_whole_is_E511_and_an_unknown_stream_E512() -> None:
    base = worked_bcf()
    extra = (
        "    of_which:\n"
        "      big:\n"
        "        name: too much\n"
        "        partner: dc\n"
        "        stream: dfg\n"
        '        amounts: { 2023/24: "£2,000,000.01" }\n'
        "      nowhere:\n"
        "        name: a stream the council does not have\n"
        "        partner: dc\n"
        "        stream: ibcf\n"
        '        amounts: { 2023/24: "£1" }\n'
    )
    text = base.replace("    bcf:\n      nhs_minimum", extra + "    bcf:\n      nhs_minimum")
    assert _codes(text) == ["E511", "E512"]
    assert _codes(text.replace("£2,000,000.01", "£2,000,000").replace("ibcf", "own")) == []


def test_a_profile_that_does_not_add_up_is_E513() -> None:
    text = worked_bcf().replace("community: { apr: 100% }", "community: { apr: 90% }")
    assert _codes(text) == ["E513"]
    text = worked_bcf().replace("community: { apr: 100% }", "nowhere: { apr: 100% }")
    assert _codes(text) == ["E513"]


def test_the_schedule_drafts_each_stream_its_uplift_and_sum(tmp_path: Path) -> None:
    path = tmp_path / "bcf.yaml"
    path.write_text(worked_bcf(), "utf-8")
    result = CliRunner().invoke(main, ["render", str(path), "--format", "md", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    text = (tmp_path / "bcf.md").read_text("utf-8")
    assert (
        "| Downland Council: the Council's own funding | £3,060,000 (three million, sixty thousand pounds) "
        "| the 2023/24 contribution to this stream increased by 2 per cent (two per cent), "
        "rounded to the nearest penny (half a penny up) |"
    ) in text
    assert "| Downland Council in total | £5,210,000" in text
    assert "found from the budget profile below" in text
    assert "| Community health block contract | April 100% |" in text


def test_diff_reports_a_stream_changed_and_the_method(tmp_path: Path) -> None:
    old = tmp_path / "old.yaml"
    new = tmp_path / "new.yaml"
    old.write_text(worked_bcf(), "utf-8")
    changed = (
        _method(worked_bcf(), "run-rate")
        .replace('dfg: "£2,150,000"', 'dfg: "£2,250,000"')
        .replace('adaptations: "£2,150,000"', 'adaptations: "£2,250,000"')
    )
    new.write_text(changed, "utf-8")
    result = CliRunner().invoke(main, ["diff", str(old), str(new)])
    assert result.exit_code in (0, 1), result.output
    assert (
        "dc's stream dfg (Disabled Facilities Grant) changes from £2,150,000 (£2,150,000) to £2,250,000 (£2,250,000)"
        in result.output
    )
    assert "dc's contribution in total changes from £5,210,000 to £5,310,000" in result.output
    assert "the forecast outturn is worked out by run-rate instead of profile" in result.output


def _warning_notes(text: str, tmp_path: Path, rows: list[list[str]]) -> list[str]:
    from agreementdsl.engine.run import run_ledger
    from agreementdsl.report.warning import early_warnings

    ledger = tmp_path / "ledger.csv"
    ledger.write_text(
        ",".join(HEADER) + "\n" + "\n".join(",".join(r) for r in rows) + "\n", "utf-8"
    )
    result = run_ledger(compile_text(text), ledger, as_of=date(2023, 5, 31))
    try:
        return [w.note for w in early_warnings(result, result.pools[0])]
    finally:
        result.close()


def test_the_early_warning_projects_by_the_pools_own_method(tmp_path: Path) -> None:
    # April's ledger and May's month of reablement and grants: on the profile the forecast stays
    # £17,000,000 (8,000,000 + 1,200,000 × 6 + 300,000 × 6) and spending on as planned it never
    # fires; at the run-rate it has fired already (April) and is not raised again.
    may = [
        ["2023-05-20", "bcf", "reablement", "spend", "600000.00", "", "icb-finance;dc-finance"],
        ["2023-05-25", "bcf", "adaptations", "spend", "150000.00", "", "icb-finance;dc-finance"],
    ]
    assert _warning_notes(worked_bcf(), tmp_path, APRIL + may) == [
        "spending as the budget profile plans it does not fire this year"
    ]
    assert _warning_notes(_method(worked_bcf(), "run-rate"), tmp_path, APRIL + may) == [
        "at the current run-rate it is not raised again this year"
    ]


def test_a_scenario_sees_the_pools_forecast_method(tmp_path: Path) -> None:
    (tmp_path / "bcf.yaml").write_text(worked_bcf(), "utf-8")
    (tmp_path / "bcf.test.yaml").write_text(
        "agreement: downland-bcf-2023-25\n"
        "scenarios:\n"
        "  - name: the April block payment projects no overspend on the profile\n"
        "    pool: bcf\n"
        "    as_of: 2023-04-30\n"
        "    transactions:\n"
        '      - { date: 2023-04-05, element: community, amount: "8000000.00", approved_by: hwb }\n'
        '      - { date: 2023-04-20, element: reablement, amount: "600000.00", approved_by: "icb-finance;dc-finance" }\n'
        '      - { date: 2023-04-25, element: adaptations, amount: "150000.00", approved_by: "icb-finance;dc-finance" }\n'
        "    expect:\n"
        '      forecast: "£17,000,000"\n'
        "      balanced: true\n"
        "      raised: []\n",
        "utf-8",
    )
    result = CliRunner().invoke(main, ["test", str(tmp_path / "bcf.yaml")])
    assert result.exit_code == 0, result.output
    assert "1 passed, 0 failed" in result.output


def test_forecast_rows_left_unused_by_the_profile_are_named(tmp_path: Path) -> None:
    rows = [*APRIL, ["2023-04-28", "bcf", "", "forecast", "17250000.00", "", ""]]
    data = run_json(compile_text(worked_bcf()), tmp_path, rows, date(2023, 4, 30), HEADER)
    assert pool_of(data, "bcf")["forecast"] == "17000000.00"  # the profile, not the row
    assert (
        "pool `bcf` forecasts by its budget profile, so its 1 forecast row(s) to 2023-04-30 are "
        "not used (the latest, row 5, forecasts £17,250,000.00); name `forecast: latest forecast` "
        "to use them"
    ) in data["warnings"]


def test_duckdb_gives_the_same_streams_and_profile_forecast(tmp_path: Path) -> None:
    import io

    import pytest

    pytest.importorskip("duckdb")
    from agreementdsl.engine.output import write_json
    from agreementdsl.engine.run import run_ledger

    ledger = tmp_path / "ledger.csv"
    rows = [*APRIL, ["2023-04-28", "bcf", "", "forecast", "17250000.00", "", ""]]
    ledger.write_text(
        ",".join(HEADER) + "\n" + "\n".join(",".join(r) for r in rows) + "\n", "utf-8"
    )
    ir = compile_text(worked_bcf())
    outs = []
    for engine in ("reference", "duckdb"):
        result = run_ledger(ir, ledger, as_of=date(2023, 4, 30), engine=engine)
        out = io.StringIO()
        try:
            write_json(result, out)
        finally:
            result.close()
        outs.append(out.getvalue())
    assert outs[0] == outs[1]
    assert '"forecast": "17000000.00"' in outs[0]


def test_one_sum_after_streams_builds_on_their_total_and_not_the_reverse() -> None:
    text = worked_bcf().replace(
        'dc: { own: "prior year + 2%", dfg: "£2,150,000" }', 'dc: "prior year + 2%"'
    )
    # £3,000,000 + £2,000,000 = £5,000,000; + 2% = £5,100,000; budgets now £110,000 too high
    loaded = load_source(SourceFile("bcf.yaml", text))
    [e505] = [d for d in loaded.diagnostics if d.code == "E505"]
    assert "£110,000.00 more than the year's contributions of £17,779,200.00" in e505.message
    reverse = worked_bcf().replace(
        'dc: { own: "£3,000,000", dfg: "£2,000,000" }', 'dc: "£5,000,000"'
    )
    [e506] = [d for d in load_source(SourceFile("bcf.yaml", reverse)).diagnostics]
    assert e506.code == "E506"
    assert "(it gives `dc` one sum, not streams)" in e506.message


def test_a_profile_by_element_without_budgets_is_E513() -> None:
    text = worked_bcf()
    start, end = text.index("    budgets:\n"), text.index("    forecast:\n")
    codes = _codes(text[:start] + text[end:])
    assert codes == ["E513", "E610"]  # `by own elements` needs the budgets too (E610)


def test_diff_reports_a_stream_added_and_an_of_which_part_changed(tmp_path: Path) -> None:
    old = tmp_path / "old.yaml"
    new = tmp_path / "new.yaml"
    old.write_text(worked_bcf(), "utf-8")
    changed = (
        worked_bcf()
        .replace(
            'dc: { own: "prior year + 2%", dfg: "£2,150,000" }',
            'dc: { own: "prior year + 2%", dfg: "£2,150,000", ibcf: "£100,000" }',
        )
        .replace('reablement: "£7,286,400"', 'reablement: "£7,386,400"')
        .replace('2024/25: "£4,226,400"', '2024/25: "£4,300,000"')
    )
    new.write_text(changed, "utf-8")
    result = CliRunner().invoke(main, ["diff", str(old), str(new)])
    assert "dc contributes a new stream ibcf, £100,000 (£100,000)" in result.output
    assert "dc's contribution in total changes from £5,210,000 to £5,310,000" in result.output
    assert (
        "the NHS minimum contribution to adult social care in 2024/25 changes from £4,226,400 to £4,300,000"
        in result.output
    )


def _pool_profile(profile: str) -> str:
    start, end = worked_bcf().index("    forecast:\n"), worked_bcf().index("    risk_share:")
    text = worked_bcf()
    return (
        text[:start]
        + f"    forecast:\n      method: profile\n      profile: {profile}\n"
        + text[end:]
    )


def test_a_pool_profile_by_month(tmp_path: Path) -> None:
    # 30% planned in April and 10% in May: at 31 May £8,750,000 + £500,000 spent of 40% planned
    # forecasts £9,250,000 ÷ 0.4 = £23,125,000
    ir = compile_text(_pool_profile("{ apr: 30%, may: 10%, jun: 10%, sep: 25%, march: 25% }"))
    assert ir["pools"][0]["forecast_method"]["by"] == "month"
    rows = [*APRIL, ["2023-05-10", "bcf", "reablement", "spend", "500000.00", "", "hwb"]]
    data = run_json(ir, tmp_path, rows, date(2023, 5, 31), HEADER)
    assert pool_of(data, "bcf")["forecast"] == "23125000.00"
    # in July and August nothing more is planned: the forecast stays (£9,250,000 ÷ 0.5)
    data = run_json(ir, tmp_path, rows, date(2023, 8, 31), HEADER)
    assert pool_of(data, "bcf")["forecast"] == "18500000.00"


def test_an_even_profile_is_the_run_rate(tmp_path: Path) -> None:
    rows = [
        ["2023-04-05", "bcf", "community", "spend", "1000000.01", "", "hwb"],
        ["2023-05-20", "bcf", "reablement", "spend", "333333.33", "", "hwb"],
        ["2023-06-02", "bcf", "adaptations", "spend", "7.77", "", "hwb"],
        ["2023-06-30", "bcf", "", "income", "0.05", "", ""],
    ]
    even = compile_text(_pool_profile("even"))
    rate = compile_text(_method(worked_bcf(), "run-rate"))
    for day in (date(2023, 4, 30), date(2023, 6, 30), date(2023, 7, 15)):
        a = pool_of(run_json(even, tmp_path, rows, day, HEADER), "bcf")["forecast"]
        b = pool_of(run_json(rate, tmp_path, rows, day, HEADER), "bcf")["forecast"]
        assert a == b
    # by hand on 15 July (the last month end 30 June): £1,333,341.06 net × 12 ÷ 3 = £5,333,364.24
    assert a == "5333364.24"


def test_rows_of_no_element_follow_the_run_rate_under_an_element_profile(tmp_path: Path) -> None:
    # April as before (£17,000,000 on the profile) and £120,000 of income of no element:
    # -£120,000 × 12 = -£1,440,000, so £15,560,000
    rows = [*APRIL, ["2023-04-28", "bcf", "", "income", "120000.00", "", ""]]
    data = run_json(compile_text(worked_bcf()), tmp_path, rows, date(2023, 4, 30), HEADER)
    assert pool_of(data, "bcf")["forecast"] == "15560000.00"


def test_the_early_warning_under_latest_forecast_spends_on_but_keeps_the_forecast(
    tmp_path: Path,
) -> None:
    # an overspend trigger on net expenditure to date as well (more than £500,000 over)
    text = _method(worked_bcf(), "latest forecast").replace(
        "      when forecast overspend exceeds 1%: exception report to hwb within 5 working days\n",
        "      when forecast overspend exceeds 1%: exception report to hwb within 5 working days\n"
        "      when overspend exceeds £500,000: overspend notice to hwb within 5 working days\n",
    )
    notes = _warning_notes(text, tmp_path, APRIL)
    # net to 31 May is £8,750,000 over two months: £4,375,000 a month spent on; after four
    # months £17,500,000 is exactly £500,000 over (not more), after five (31 August) it is more;
    # 5 working days after Thursday 31 August: 1, 4, 5, 6, 7 September. No forecast row: the
    # forecast stays the budget, so the forecast trigger never fires.
    assert notes == [
        "on the latest forecast it does not fire this year",
        "on the latest forecast it fires on 2023-08-31; the report would be due 2023-09-07",
    ]


def test_own_elements_are_forecast_by_the_pools_profile_mid_year(tmp_path: Path) -> None:
    # To 30 September 2023: the block contract's £8,000,000 in April (profiled 100% in April),
    # reablement £600,000 and grants £200,000 each month. By the profile: community £8,000,000
    # ÷ 100% = £8,000,000 (on budget), reablement £3,600,000 ÷ 6/12 = £7,200,000 (£200,000
    # over its £7,000,000), grants £1,200,000 ÷ 6/12 = £2,400,000 (£400,000 over £2,000,000):
    # forecast £17,600,000 against £17,000,000, an overspend of £600,000, all on the
    # Council's own schemes, so `first 100% of pool by own elements net` puts it all on dc.
    # (At each element's run-rate the block contract would read £16,000,000, £8,000,000 over,
    # and the ICB would bear £558,139.53 of a Council overspend.)
    rows = [APRIL[0]] + [
        [f"2023-{m:02d}-20", "bcf", element, "spend", amount, "", "icb-finance;dc-finance"]
        for m in range(4, 10)
        for element, amount in (("reablement", "600000.00"), ("adaptations", "200000.00"))
    ]
    data = run_json(compile_text(worked_bcf()), tmp_path, rows, date(2023, 9, 30), HEADER)
    pool = pool_of(data, "bcf")
    assert pool["forecast"] == "17600000.00"
    assert pool["variance"] == {"kind": "overspend", "amount": "600000.00"}
    assert pool["settlement"]["shares"] == {"icb": "0.00", "dc": "600000.00"}


def test_the_what_if_at_the_forecast_settles_as_run_does(tmp_path: Path) -> None:
    # The same ledger as above: run settles the £600,000 overspend all on dc. The report's
    # what-if, given the ledger's element parts, must give the same shares at that outturn; the
    # standalone what-if has no ledger, so it says it shares that step by contribution.
    from agreementdsl.engine.run import _element_parts, _own_parts, run_ledger
    from agreementdsl.report.whatif import what_if, write_text

    rows = [APRIL[0]] + [
        [f"2023-{m:02d}-20", "bcf", element, "spend", amount, "", "icb-finance;dc-finance"]
        for m in range(4, 10)
        for element, amount in (("reablement", "600000.00"), ("adaptations", "200000.00"))
    ]
    ledger = tmp_path / "ledger.csv"
    ledger.write_text("\n".join(",".join(r) for r in [HEADER, *rows]) + "\n", "utf-8")
    ir = compile_text(worked_bcf())
    result = run_ledger(ir, ledger, as_of=date(2023, 9, 30))
    try:
        pool = next(p for p in result.pools if p.pool["id"] == "bcf")
        sums = result.totals.pools["bcf"]
        parts = _element_parts(pool.pool, sums, pool.year, result.as_of)
        own = _own_parts(pool.pool, sums, pool.year, result.as_of)
    finally:
        result.close()
    at = 1_760_000_000
    found = what_if(ir, "bcf", "2023/24", at, at, element_parts=parts, own_parts=own)
    assert [p.shares for p in found.points] == [{"icb": 0, "dc": 60_000_000}]
    assert found.notes == []
    plain = what_if(ir, "bcf", "2023/24", at, at)
    # without element parts: £600,000 by contribution 12,000,000 : 5,000,000
    assert [p.shares for p in plain.points] == [{"icb": 42_352_941, "dc": 17_647_059}]
    assert "shared by contribution here" in write_text(plain)
