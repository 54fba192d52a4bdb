"""The monitoring report page: every figure equals the engine's JSON, each links to its clause,
and in headless Chromium it loads without console errors, with its charts drawn."""

from __future__ import annotations

import json
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from agreementdsl.cli import main
from agreementdsl.money import format_money, parse_amount
from agreementdsl.report.figures import lookup
from test_render import BROWSER_FLAGS, CHROMIUM, _open_in_chromium

ROOT = Path(__file__).resolve().parents[1]
INPUTS = [
    "agreements/herefordshire.yaml",
    "--ledger",
    "agreements/herefordshire-2005-06.csv",
    "--disputes",
    "agreements/herefordshire-disputes.csv",
    "--measures",
    "agreements/herefordshire-measures.csv",
]


@pytest.fixture(autouse=True)
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


class _Page(HTMLParser):
    """The figures (data-figure, data-value, text, href) and the ids of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: list[dict[str, str]] = []
        self.ids: set[str] = set()
        self.scripts = 0
        self._open: dict[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "script":
            self.scripts += 1
        if "data-figure" in a:
            self._open = {**a, "text": ""}
            self.figures.append(self._open)

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._open["text"] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._open = None


def _parse(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    return page


def _report(tmp_path: Path, *extra: str, inputs: list[str] = INPUTS) -> Path:
    result = CliRunner().invoke(main, ["report", *inputs, *extra, "--output", str(tmp_path)])
    assert result.exit_code == 0, result.output
    return tmp_path / f"{Path(inputs[0]).stem}.html"


def _engine(*extra: str, inputs: list[str] = INPUTS) -> dict[str, Any]:
    result = CliRunner().invoke(main, ["run", *inputs, *extra, "--format", "json"])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.output)
    return data


@pytest.mark.parametrize("as_of", ["2005-09-30", "2006-01-31", "2006-03-31"])
def test_every_figure_on_the_page_equals_the_engines_json(tmp_path: Path, as_of: str) -> None:
    page = _parse(_report(tmp_path, "--as-of", as_of).read_text("utf-8"))
    engine = _engine("--as-of", as_of)
    assert len(page.figures) > 30
    for fig in page.figures:
        assert lookup(engine, fig["data-figure"]) == fig["data-value"], fig["data-figure"]
        assert fig["text"] == format_money(parse_amount(fig["data-value"])), fig
    shown = {f["data-figure"] for f in page.figures}
    for pool in engine["pools"]:
        name = pool["pool"]
        for key in ("budget", "actual", "forecast", "variance.amount"):
            assert f"pools.{name}.{key}" in shown
        for partner in pool["settlement"]["shares"]:
            assert f"pools.{name}.settlement.shares.{partner}" in shown
        for month in pool["months"]:
            assert f"pools.{name}.months.{month['month']}.net" in shown
        for approval in pool["approvals"]:
            if not approval["compliant"]:
                assert f"pools.{name}.approvals.row-{approval['row']}.amount" in shown


def test_the_page_would_catch_a_figure_that_differs(tmp_path: Path) -> None:
    page = _report(tmp_path, "--as-of", "2006-01-31")
    engine = _engine("--as-of", "2006-01-31")
    text = page.read_text("utf-8").replace(
        'data-value="18140000.00"', 'data-value="18140000.01"', 1
    )
    wrong = [
        f["data-figure"]
        for f in _parse(text).figures
        if lookup(engine, f["data-figure"]) != f["data-value"]
    ]
    assert wrong == ["pools.mental-health.forecast"]


def test_every_figure_links_to_a_clause_of_the_rendered_schedule(tmp_path: Path) -> None:
    page = _parse(_report(tmp_path, "--as-of", "2006-01-31").read_text("utf-8"))
    schedule = _parse((tmp_path / "herefordshire.schedule.html").read_text("utf-8"))
    for fig in page.figures:
        target, _, anchor = fig["href"].partition("#")
        assert target == "herefordshire.schedule.html"
        assert anchor in schedule.ids, fig
        assert re.fullmatch(r"agreements/herefordshire\.yaml:\d+", fig["title"]), fig
    risk = next(
        f for f in page.figures if f["data-figure"] == "pools.mental-health.variance.amount"
    )
    assert (risk["href"], risk["title"]) == (
        "herefordshire.schedule.html#part-mental-health-risk",
        "agreements/herefordshire.yaml:46",
    )


def test_the_page_is_self_contained(tmp_path: Path) -> None:
    text = _report(tmp_path).read_text("utf-8")
    assert _parse(text).scripts == 0
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", text)
    assert "@import" not in text and "url(" not in text


def test_reports_sent_make_reports_done_late_or_overdue(tmp_path: Path) -> None:
    sent = tmp_path / "sent.csv"
    sent.write_text(
        "pool,report,period_end,sent_on\n"
        "mental-health,finance report,2005-04-30,2005-05-10\n"
        "mental-health,finance report,2005-05-31,2005-06-20\n"
        "mental-health,nonsense report,2005-05-31,2005-06-20\n"
        "mental-health,finance report,2005-06-31,2005-07-01\n",
        "utf-8",
    )
    text = _report(tmp_path, "--as-of", "2005-07-31", "--sent", str(sent)).read_text("utf-8")
    rows = re.findall(
        r"<tr><td class=\"date\">(\S+)</td><td>(?:! )?([a-z ]+)</td>.*?class=\"status [a-z-]+\">([a-z ]+)",
        text,
    )
    status = {(due, report): s.strip() for due, report, s in rows}
    assert status[("2005-05-16", "finance report")] == "done"  # sent 10 May, due 16 May
    assert status[("2005-06-14", "finance report")] == "done late"  # sent 20 June
    assert status[("2005-07-14", "finance report")] == "overdue"  # no record, due before 31 July
    assert status[("2005-08-12", "finance report")] == "upcoming"
    assert (
        "<td>4</td><td>R005</td><td>pool &#39;mental-health&#39; has no report &#39;nonsense report&#39;"
        in text
    )
    assert "<td>5</td><td>R005</td><td>period_end &#39;2005-06-31&#39; is not a date" in text


def test_report_refuses_an_agreement_with_errors_with_codes_not_a_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text((ROOT / INPUTS[0]).read_text("utf-8").replace("to host", "to nobody"), "utf-8")
    result = CliRunner().invoke(
        main, ["report", str(bad), "--ledger", INPUTS[2], "--output", str(tmp_path / "out")]
    )
    assert result.exit_code == 1
    assert "error[E301]" in result.output and "error[R006]" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["--ledger", "nowhere.csv"], 1, "error[L10"),
        (["--ledger", INPUTS[2], "--as-of", "31/01/2006"], 2, "is not a date"),
        (["--ledger", INPUTS[2], "--year", "2005/07"], 2, "not a financial year"),
        (["--ledger", INPUTS[2], "--sent", "nowhere.csv"], 1, "error[L103]"),
        (["--ledger", "tests/data/report/empty-ledger.csv"], 2, "no usable dates"),
    ],
)
def test_report_explains_what_it_cannot_do(
    tmp_path: Path, args: list[str], code: int, words: str
) -> None:
    result = CliRunner().invoke(main, ["report", INPUTS[0], *args, "--output", str(tmp_path)])
    assert result.exit_code == code, result.output
    assert words in result.output
    assert "Traceback" not in result.output


# ---------------------------------------------------------------- in a real browser
MEASURE = """<script>
window.addEventListener('load', () => {
  const out = [...document.querySelectorAll('svg.chart')].map(svg => {
    const box = svg.getBoundingClientRect();
    const marks = [...svg.querySelectorAll('path.series, path.band, rect.bar, circle.marker')]
      .map(m => m.getBBox()).filter(b => b.width > 0 || b.height > 0).length;
    return {chart: svg.dataset.chart, width: box.width, height: box.height, marks};
  });
  const pre = document.createElement('pre');
  pre.id = 'measured';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""


def _measured(dom: str) -> list[dict[str, Any]]:
    m = re.search(r'<pre id="measured">(.*?)</pre>', dom, re.S)
    assert m, "the measuring script did not run"
    data: list[dict[str, Any]] = json.loads(m.group(1).replace("&quot;", '"'))
    return data


def test_the_report_loads_in_headless_chromium_with_its_charts_drawn(tmp_path: Path) -> None:
    page = _report(tmp_path, "--as-of", "2006-01-31")
    dom, console = _open_in_chromium(page, tmp_path)
    assert console == []
    assert "Mental Health Services Pooled Fund" in dom
    probe = tmp_path / "measured.html"
    probe.write_text(page.read_text("utf-8").replace("</body>", MEASURE + "</body>"), "utf-8")
    dom, _ = _open_in_chromium(probe, tmp_path)
    charts = {c["chart"]: c for c in _measured(dom)}
    for pool in ("mental-health", "learning-disabilities"):
        for kind in ("cumulative", "monthly", "elements", "whatif"):
            chart = charts[f"{pool}-{kind}"]
            assert chart["width"] > 200 and chart["height"] > 80, chart
            assert chart["marks"] >= 2, chart


def test_agreement_and_ledger_text_is_shown_as_text_never_run(tmp_path: Path) -> None:
    evil = "<script>console.error('pwned')</script>"
    text = (ROOT / INPUTS[0]).read_text("utf-8")
    text = text.replace("Mental Health Services Pooled Fund", json.dumps(evil))
    agreement = tmp_path / "evil.yaml"
    agreement.write_text(text, "utf-8")
    disputes = tmp_path / "evil-disputes.csv"
    disputes.write_text(
        "id,pool,raised_on,resolved_on,subject\n"
        'D9,mental-health,2005-11-01,,"<img src=x onerror=""console.error(\'pwned\')"">"\n',
        "utf-8",
    )
    inputs = [str(agreement), "--ledger", INPUTS[2], "--disputes", str(disputes)]
    page = _report(tmp_path / "out", inputs=inputs)
    source = page.read_text("utf-8")
    assert "&lt;script&gt;console.error(&#39;pwned&#39;)&lt;/script&gt;" in source
    assert "&lt;img src=x onerror=" in source
    dom, console = _open_in_chromium(page, tmp_path)
    assert console == []
    assert "<script>" not in dom and "<img" not in dom


def test_the_report_prints_to_a_pdf_of_several_a4_pages(tmp_path: Path) -> None:
    assert CHROMIUM is not None
    page = _report(tmp_path, "--as-of", "2006-01-31")
    pdf = tmp_path / "report.pdf"
    done = subprocess.run(
        [
            CHROMIUM,
            *BROWSER_FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", data))
    assert pages >= 4  # a page for each pool at least, outcomes and the ledger after them
    sizes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([0-9.]+) ([0-9.]+)", data)
    assert sizes and all(abs(float(w) - 595.9) < 2 and abs(float(h) - 842.9) < 2 for w, h in sizes)


@pytest.mark.parametrize("as_of", ["2006-01-31", "2006-03-31"])
def test_the_what_if_at_the_current_outturn_is_the_engines_settlement(
    tmp_path: Path, as_of: str
) -> None:
    text = _report(tmp_path, "--as-of", as_of).read_text("utf-8")
    engine = _engine("--as-of", as_of)
    ended = as_of == "2006-03-31"
    for pool in engine["pools"]:
        section = text[text.index(f'id="pool-{pool["pool"]}"') :]
        section = section[: section.index("</section>")]
        outturn = pool["actual"] if ended else pool["forecast"]
        row = re.search(rf'<tr[^>]*data-outturn="{re.escape(outturn)}">(.*?)</tr>', section, re.S)
        assert row, (pool["pool"], outturn)
        shares = dict(re.findall(r'data-share="([a-z-]+)" data-value="([0-9.]+)"', row.group(1)))
        assert shares == pool["settlement"]["shares"]


def test_only_the_hundred_largest_breaches_are_listed(tmp_path: Path) -> None:
    ledger = tmp_path / "many.csv"
    lines = ["date,pool,element,kind,amount,approved_by"]
    lines += [
        f"2005-05-{1 + i % 28:02d},mental-health,council,spend,{1000 + i}.00," for i in range(120)
    ]
    ledger.write_text("\n".join(lines) + "\n", "utf-8")
    inputs = [INPUTS[0], "--ledger", str(ledger)]
    text = _report(tmp_path, inputs=inputs).read_text("utf-8")
    amounts = re.findall(
        r'data-figure="pools\.mental-health\.approvals\.row-\d+\.amount" data-value="([0-9.]+)"',
        text,
    )
    assert len(amounts) == 100
    assert amounts[0] == "1119.00" and amounts[-1] == "1020.00"  # largest first
    assert "(120 of 120 spends, largest first)" in text
    assert "… and 20 smaller ones" in text


def _synthetic_ledger(ir: dict[str, Any], path: Path) -> None:
    """Seven months of each pool's first year, every element spending 110% of its share of
    budget, approved by the last rule's approvers: an overspend for every pool."""
    lines = ["date,pool,element,kind,amount,approved_by"]
    for pool in ir["pools"]:
        year = pool["contributions"][0]
        start = int(year["year"][:4])
        monthly = parse_amount(year["total"]) * 11 // 10 // 12
        elements = [e["id"] for e in pool["elements"]] or [""]
        approvers = ";".join(pool["spending"][-1]["approvers"])
        for month in range(4, 11):
            for element in elements:
                pence = monthly // len(elements)
                lines.append(
                    f"{start}-{month:02d}-15,{pool['id']},{element},spend,{pence // 100}.{pence % 100:02d},{approvers}"
                )
    path.write_text("\n".join(lines) + "\n", "utf-8")


@pytest.mark.parametrize(
    "agreement",
    sorted(p.name for p in (ROOT / "agreements").glob("*.yaml") if ".test." not in p.name),
)
def test_every_example_agreement_reports_figures_equal_to_the_engines(
    tmp_path: Path, agreement: str
) -> None:
    from engine_support import compile_file

    ir = compile_file(ROOT / "agreements" / agreement)
    ledger = tmp_path / "ledger.csv"
    _synthetic_ledger(ir, ledger)
    inputs = [f"agreements/{agreement}", "--ledger", str(ledger)]
    page = _report(tmp_path / "out", inputs=inputs)
    engine = _engine(inputs=inputs)
    figures = _parse(page.read_text("utf-8")).figures
    assert len(figures) >= 4 * len(engine["pools"])
    for fig in figures:
        assert lookup(engine, fig["data-figure"]) == fig["data-value"], fig["data-figure"]
    _, console = _open_in_chromium(page, tmp_path)
    assert console == []


def test_an_output_folder_that_cannot_be_made_is_one_line(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from agreementdsl.cli import main

    blocker = tmp_path / "sent.csv"
    blocker.write_text("x", "utf-8")
    root = Path(__file__).resolve().parents[1] / "agreements"
    result = CliRunner().invoke(
        main,
        [
            "report",
            str(root / "herefordshire.yaml"),
            "--ledger",
            str(root / "herefordshire-2005-06.csv"),
            "--output",
            str(blocker / "sub"),
        ],
    )
    assert result.exit_code == 1
    assert result.output.startswith("error[P001]: cannot create the folder")
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_the_budget_line_rounds_to_the_penny_and_follows_the_pool_profile() -> None:
    from agreementdsl.report.figures import budget_profile

    plain: dict[str, Any] = {"forecast_method": None, "budgets": []}
    # £19,900,000 in twelfths: two months are £3,316,666.666…, drawn as £3,316,666.67 (not .66)
    planned, profiled = budget_profile(plain, "2024/25", 1_990_000_000)
    assert (planned[1], planned[11], profiled) == (331_666_667, 1_990_000_000, False)
    # the block contract paid in April: 100% in the first month of a pool profile by month
    block = {
        "forecast_method": {
            "method": "profile",
            "by": "month",
            "profile": [{"element": None, "months": ["100"] + ["0"] * 11}],
        },
        "budgets": [],
    }
    planned, profiled = budget_profile(block, "2024/25", 1_000_000_00)
    assert (planned[0], planned[5], profiled) == (1_000_000_00, 1_000_000_00, True)
    # by element: community £8,000,000 all in April, reablement £7,000,000 in twelfths
    by_element = {
        "forecast_method": {
            "method": "profile",
            "by": "element",
            "profile": [{"element": "community", "months": ["100"] + ["0"] * 11}],
        },
        "budgets": [
            {
                "year": "2024/25",
                "elements": [
                    {"element": "community", "amount": "8000000.00"},
                    {"element": "reablement", "amount": "7000000.00"},
                ],
            }
        ],
    }
    planned, _ = budget_profile(by_element, "2024/25", 1_500_000_000)
    # April: £8,000,000 + £583,333.33 (7m ÷ 12, …333.33…); June: £8,000,000 + £1,750,000
    assert (planned[0], planned[2]) == (858_333_333, 975_000_000)


def test_unapproved_spend_and_contributions_received_are_on_the_page(tmp_path: Path) -> None:
    """The pool's unapproved spend borne by partners and its contributions received against
    those due appear as the engine gives them; a profiled budget is labelled so."""
    from test_engine_unapproved import BORNE
    from test_engine_unapproved import LEDGER as BORNE_LEDGER

    agreement, ledger = tmp_path / "hfd.yaml", tmp_path / "ledger.csv"
    agreement.write_text(BORNE, "utf-8")
    ledger.write_text(
        BORNE_LEDGER + "2005-04-01,learning-disabilities,,contribution,750000.00,hpct,,\n",
        "utf-8",
    )
    page = _report(tmp_path / "out", inputs=[str(agreement), "--ledger", str(ledger)])
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.read_text("utf-8")))
    assert "Unapproved spend borne by partners, outside the risk share" in text
    assert "3 spends not compliant with delegated authority, £390,000.00 in all" in text
    assert "(hpct) £40,000.00" in text and "(hc) £350,000.00" in text
    assert "Contributions received against those due" in text
    # hpct's £3,000,000 for the year, by the agreement's instalments; £750,000 received
    data = _engine(inputs=[str(agreement), "--ledger", str(ledger)])
    hpct = next(c for c in data["pools"][1]["contributions"] if c["partner"] == "hpct")
    assert hpct["received"] == "750000.00"
    row = f"(hpct) {format_money(parse_amount(hpct['due']))} " + format_money(
        parse_amount(hpct["due_to_date"])
    )
    assert row + " £750,000.00" in text


def test_a_breach_with_no_approver_or_an_undefined_role_says_so(tmp_path: Path) -> None:
    """An empty approver column is not a role called `nobody`, and a role the agreement does
    not define is named as one, on the page as in the text output."""
    ledger = tmp_path / "ledger.csv"
    ledger.write_text(
        "date,pool,element,kind,amount,partner,approved_by,in_plan\n"
        "2005-05-01,mental-health,council,spend,300000.00,,,true\n"
        "2005-05-02,mental-health,council,spend,300000.00,,nobody,true\n"
        "2005-05-03,mental-health,council,spend,300000.00,,board;nobody,true\n",
        "utf-8",
    )
    inputs = [INPUTS[0], "--ledger", str(ledger)]
    source = _report(tmp_path / "out", "--as-of", "2005-05-31", inputs=inputs).read_text("utf-8")
    cells = re.findall(
        r"<td>(no approver recorded|[^<]*not a role of the agreement\))</td>", source
    )
    assert cells == [
        "no approver recorded",
        "nobody (not a role of the agreement)",
        "board and nobody (not a role of the agreement)",
    ], cells


def test_the_pages_warning_on_rows_outside_the_year_names_no_option_report_lacks(
    tmp_path: Path,
) -> None:
    """`report` has `--year` but no `--years`: the warning's hint names only what it has."""
    ledger = tmp_path / "herefordshire-2005-06.csv"
    text = (ROOT / INPUTS[2]).read_text("utf-8")
    ledger.write_text(
        text + "2006-04-01,mental-health,council,spend,5000.00,hc,mh-manager,true,Sup,x,NY1,\n",
        "utf-8",
    )
    source = _report(tmp_path / "out", inputs=[INPUTS[0], "--ledger", str(ledger)]).read_text(
        "utf-8"
    )
    assert "the year run is 2006/07" in source
    assert "--year 2005/06</code> runs the year they are in)" in source or (
        "`--year 2005/06` runs the year they are in)" in source
    ), re.findall(r"the year run is[^<]*", source)
    assert "--years" not in source


def test_a_late_instalment_mostly_paid_in_time_says_so_on_the_page(tmp_path: Path) -> None:
    """The page's contributions table says how much of a late instalment came in time, as the
    run's warning does, and counts days in the singular and plural."""
    ledger = tmp_path / "ledger.csv"
    ledger.write_text(
        "date,pool,element,kind,amount,partner,approved_by,in_plan\n"
        "2005-04-01,mental-health,,contribution,3325000.00,hpct,,\n"
        "2005-07-20,mental-health,,contribution,3000000.00,hpct,,\n"
        "2005-09-30,mental-health,,contribution,325000.00,hpct,,\n",
        "utf-8",
    )
    inputs = [INPUTS[0], "--ledger", str(ledger)]
    source = _report(tmp_path / "out", "--as-of", "2005-09-30", inputs=inputs).read_text("utf-8")
    assert "due 2005-07-01: paid 2005-09-30, 61 days late (£3,000,000.00 of it in time)" in source
