"""Reading ledgers (LANGUAGE.md §9, §11): every row checked, bad rows reported by physical line."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agreementdsl.api import load
from agreementdsl.cli import main
from agreementdsl.compile import compile_agreement
from agreementdsl.engine.output import write_json
from agreementdsl.engine.run import run_ledger

ROOT = Path(__file__).resolve().parents[1]
HEREFORDSHIRE = ROOT / "agreements" / "herefordshire.yaml"
AS_OF = date(2005, 6, 30)
HEADER = "date,pool,element,kind,amount,partner,approved_by,in_plan,supplier,description"


@pytest.fixture(scope="module")
def ir() -> dict[str, Any]:
    loaded = load(HEREFORDSHIRE)
    assert loaded.agreement is not None and loaded.source is not None
    return compile_agreement(loaded.agreement, loaded.source.text)


def run(ir: dict[str, Any], path: Path, as_of: date = AS_OF) -> dict[str, Any]:
    result = run_ledger(ir, path, as_of=as_of)
    out = io.StringIO()
    try:
        write_json(result, out)
    finally:
        result.close()
    return json.loads(out.getvalue())


def write(tmp_path: Path, text: str, name: str = "ledger.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", newline="")
    return path


def cli(*args: str) -> Any:
    return CliRunner().invoke(main, ["run", str(HEREFORDSHIRE), *args])


def mh_actual(data: dict[str, Any]) -> str:
    return next(p for p in data["pools"] if p["pool"] == "mental-health")["actual"]


# ---------------------------------------------------------------- every bad-row code
GOOD = "2005-05-01,mental-health,council,spend,100.00,,board,,Oak House,"
BAD_ROWS = [
    ("2005-13-01,mental-health,council,spend,100.00,,board,,,", "L001", "2005-13-01"),
    ("2005-05-01,mental-heath,council,spend,100.00,,board,,,", "L002", "mental-heath"),
    ("2005-05-01,mental-health,council,spend,twelve,,board,,,", "L003", "twelve"),
    ("2005-05-01,mental-health,council,spend,12.345,,board,,,", "L004", "12.345"),
    ("2005-05-01,mental-health,council,refund,100.00,,board,,,", "L005", "refund"),
    ("2005-05-01,mental-health,respite,spend,100.00,,board,,,", "L006", "respite"),
    ("2005-05-01,mental-health,,spend,100.00,,board,,,", "L007", "mental-health"),
    ("2005-05-01,mental-health,,contribution,100.00,nhs-england,,,,", "L008", "nhs-england"),
    ("2005-05-01,mental-health,council,spend,100.00,,board,maybe,,", "L009", "maybe"),
    ("2005-05-01,mental-health,council,spend,100.00", "L010", ""),
]


@pytest.mark.parametrize(("line", "code", "mentions"), BAD_ROWS)
def test_each_bad_row_code_with_its_line_number(
    ir: dict[str, Any], tmp_path: Path, line: str, code: str, mentions: str
) -> None:
    # Header is line 1; good rows on lines 2 and 3; the bad row on line 4; a good row on line 5.
    path = write(tmp_path, "\n".join([HEADER, GOOD, GOOD, line, GOOD]) + "\n")
    data = run(ir, path)
    [rejected] = data["rejected"]
    assert rejected["row"] == 4
    assert rejected["code"] == code
    assert mentions in rejected["message"]
    assert data["rows"] == {"read": 4, "used": 3, "rejected": 1}
    assert mh_actual(data) == "300.00"  # the bad row is not counted


def test_a_week_date_is_not_a_ledger_date(ir: dict[str, Any], tmp_path: Path) -> None:
    line = "2005-W20-1,mental-health,council,spend,100.00,,board,,,"
    data = run(ir, write(tmp_path, "\n".join([HEADER, line]) + "\n"))
    assert [(r["row"], r["code"]) for r in data["rejected"]] == [(2, "L001")]


def test_the_section_11_message_for_a_word_amount(ir: dict[str, Any], tmp_path: Path) -> None:
    path = write(tmp_path, "\n".join([HEADER, BAD_ROWS[2][0]]) + "\n")
    assert run(ir, path)["rejected"] == [
        {"row": 2, "code": "L003", "message": "amount 'twelve' is not a number"}
    ]


def test_spend_without_element_is_fine_for_income_and_contributions(
    ir: dict[str, Any], tmp_path: Path
) -> None:
    # L007 is only for spends: income and contributions may omit the element.
    rows = [
        "2005-05-01,mental-health,,income,40.00,,,,,",
        "2005-05-01,mental-health,,contribution,1000.00,hpct,,,,",
        "2005-05-01,mental-health,,forecast,17400000.00,,,,,",
        "2005-05-02,mental-health,council,spend,100.00,,board,,,",
    ]
    data = run(ir, write(tmp_path, "\n".join([HEADER, *rows]) + "\n"))
    assert data["rejected"] == []
    assert mh_actual(data) == "60.00"  # 100 spend − 40 income; contributions are not spending


def test_quoted_multi_line_field_rows_are_numbered_by_their_first_line(
    ir: dict[str, Any], tmp_path: Path
) -> None:
    text = (
        HEADER + "\n"  # line 1
        '2005-05-01,mental-health,council,spend,100.00,,board,,,"a note\n'  # line 2 …
        'over two lines"\n'  # … line 3
        '2005-05-01,mental-health,council,spend,twelve,,board,,,"bad amount,\n'  # line 4 …
        "\n"  # … line 5 (blank inside the quotes) …
        'still the same row"\n'  # … line 6
        "2005-05-01,mental-health,council,spend,12.345,,board,,,\n"  # line 7
        "\n"  # line 8: blank, no row
        "2005-05-01,mental-health,council,spend,50.00,,mh-manager,,,\n"  # line 9
    )
    data = run(ir, write(tmp_path, text))
    assert [(r["row"], r["code"]) for r in data["rejected"]] == [(4, "L003"), (7, "L004")]
    assert data["rows"] == {"read": 4, "used": 2, "rejected": 2}
    approvals = next(p for p in data["pools"] if p["pool"] == "mental-health")["approvals"]
    assert [a["row"] for a in approvals] == [2, 9]


def test_a_byte_order_mark_and_crlf_line_ends_do_not_shift_rows(
    ir: dict[str, Any], tmp_path: Path
) -> None:
    text = "\ufeff" + "\r\n".join([HEADER, GOOD, BAD_ROWS[0][0], GOOD]) + "\r\n"
    data = run(ir, write(tmp_path, text))
    assert [(r["row"], r["code"]) for r in data["rejected"]] == [(3, "L001")]
    assert data["rows"] == {"read": 3, "used": 2, "rejected": 1}


# ---------------------------------------------------------------- JSON Lines
def jsonl(records: list[Any]) -> str:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records)


def rec(**fields: Any) -> dict[str, Any]:
    base = {"date": "2005-05-01", "pool": "mental-health", "element": "council", "kind": "spend"}
    return {**base, "approved_by": "board", **fields}


def test_jsonl_bad_lines(ir: dict[str, Any], tmp_path: Path) -> None:
    records: list[Any] = [
        rec(amount="1.00"),  # line 1
        '{"date": "2005-05-01", "pool": ',  # line 2: not JSON
        "[1, 2, 3]",  # line 3: not an object
        {"date": "2005-05-01", "pool": "mental-health", "kind": "spend"},  # 4: no amount
        "",  # line 5: blank
        rec(amount="twelve"),  # line 6
        rec(amount=2),  # line 7
    ]
    data = run(ir, write(tmp_path, jsonl(records), "ledger.jsonl"))
    assert [(r["row"], r["code"]) for r in data["rejected"]] == [
        (2, "L010"),
        (3, "L010"),
        (4, "L011"),
        (6, "L003"),
    ]
    assert "amount" in data["rejected"][2]["message"]
    assert data["rows"] == {"read": 6, "used": 2, "rejected": 4}
    assert mh_actual(data) == "3.00"


def test_jsonl_first_record_missing_a_field_is_a_bad_row(
    ir: dict[str, Any], tmp_path: Path
) -> None:
    records = [{"date": "2005-05-01", "pool": "mental-health", "kind": "spend"}, rec(amount=2)]
    data = run(ir, write(tmp_path, jsonl(records), "ledger.jsonl"))
    assert [(r["row"], r["code"]) for r in data["rejected"]] == [(1, "L011")]


def test_jsonl_amounts_are_read_exactly_from_their_text(ir: dict[str, Any], tmp_path: Path) -> None:
    # As binary floats 0.1 + 0.2 = 0.30000000000000004 and 999999999999.99 (a penny under the
    # £1 trillion limit, L016) is 999999999999.9899…; read from their text they are exact.
    lines = (
        '{"date": "2005-05-01", "pool": "mental-health", "element": "council", "kind": "spend", "amount": 0.1}\n'
        '{"date": "2005-05-01", "pool": "mental-health", "element": "council", "kind": "spend", "amount": 0.2}\n'
        '{"date": "2005-05-01", "pool": "learning-disabilities", "element": "council", "kind": "spend", "amount": 12500}\n'
        '{"date": "2005-05-01", "pool": "learning-disabilities", "element": "council", "kind": "spend", "amount": "£1,250.50"}\n'
        '{"date": "2005-05-01", "pool": "learning-disabilities", "element": "council", "kind": "income", "amount": -0.5}\n'
        '{"date": "2005-05-02", "pool": "learning-disabilities", "element": "respite", "kind": "spend", "amount": 999999999999.99}\n'
        '{"date": "2005-05-01", "pool": "mental-health", "element": "council", "kind": "spend", "amount": 1.005}\n'
    )
    data = run(ir, write(tmp_path, lines, "ledger.jsonl"))
    assert [(r["row"], r["code"]) for r in data["rejected"]] == [(7, "L004")]
    assert mh_actual(data) == "0.30"
    ld = next(p for p in data["pools"] if p["pool"] == "learning-disabilities")
    # 12,500 + 1,250.50 − (−0.50) + 999,999,999,999.99
    assert ld["actual"] == "1000000013750.99"
    assert [a["amount"] for a in ld["approvals"]] == ["12500.00", "1250.50", "999999999999.99"]


def test_jsonl_booleans_and_lists(ir: dict[str, Any], tmp_path: Path) -> None:
    records = [rec(amount="40000.00", in_plan=True, approved_by=["board", "executives"])]
    data = run(ir, write(tmp_path, jsonl(records), "ledger.jsonl"))
    [approval] = next(p for p in data["pools"] if p["pool"] == "mental-health")["approvals"]
    assert approval["required"] == ["mh-manager"]  # in plan, up to £50,000
    assert approval["recorded"] == ["board", "executives"]


def test_jsonl_objects_and_nested_lists_are_bad_rows(ir: dict[str, Any], tmp_path: Path) -> None:
    """An object, or a list within a list, has no text a field could hold: the row is rejected
    rather than read as Python's form of it (`('x', 'board')`, found by a user)."""
    records = [
        rec(amount="300000.00", approved_by={"x": "board"}),  # line 1
        rec(amount="300000.00", approved_by=[["executives"], "board"]),  # line 2
        rec(amount="300000.00", supplier=[{"name": "Oak"}]),  # line 3
        rec(amount="300000.00", note={"any": "thing"}),  # line 4: not a ledger column
        rec(amount="300000.00", approved_by=["executives", 7, None, True]),  # line 5
    ]
    data = run(ir, write(tmp_path, jsonl(records), "ledger.jsonl"))
    assert [(r["row"], r["code"], r["message"]) for r in data["rejected"]] == [
        (1, "L010", "`approved_by` is an object: a field is a string, a number, true, false or "
         "null, or a list of those (read joined by `;`)"),
        (2, "L010", "`approved_by` is a list of lists or objects: a field is a string, a number, "
         "true, false or null, or a list of those (read joined by `;`)"),
        (3, "L010", "`supplier` is a list of lists or objects: a field is a string, a number, "
         "true, false or null, or a list of those (read joined by `;`)"),
    ]  # fmt: skip
    [four, five] = next(p for p in data["pools"] if p["pool"] == "mental-health")["approvals"]
    # a list's items as their own text would be (null is nothing, true is `true`)
    assert four["row"] == 4 and five["recorded"] == ["executives", "7", "true"]


# ---------------------------------------------------------------- amount forms
@pytest.mark.parametrize(
    ("text", "pounds"),
    [
        ('"£1,250.00"', "1250.00"),
        ("-250.00", "-250.00"),
        ('"-£1,000.00"', "-1000.00"),
        ('"1,250"', "1250.00"),
        ("12500.5", "12500.50"),
        ("£7", "7.00"),
        (" 99.99 ", "99.99"),
    ],
)
def test_amount_forms(ir: dict[str, Any], tmp_path: Path, text: str, pounds: str) -> None:
    line = f"2005-05-01,mental-health,council,spend,{text},,board,,,"
    data = run(ir, write(tmp_path, "\n".join([HEADER, line]) + "\n"))
    assert data["rejected"] == []
    assert mh_actual(data) == pounds


@pytest.mark.parametrize(
    ("text", "code"),
    [('"1,00.00"', "L003"), ("", "L003"), ("1.2.3", "L003"), ("£-5", "L003"), ("0.001", "L004")],
)
def test_bad_amount_forms(ir: dict[str, Any], tmp_path: Path, text: str, code: str) -> None:
    line = f"2005-05-01,mental-health,council,spend,{text},,board,,,"
    data = run(ir, write(tmp_path, "\n".join([HEADER, line]) + "\n"))
    assert [(r["row"], r["code"]) for r in data["rejected"]] == [(2, code)]


# ---------------------------------------------------------------- columns
def test_missing_required_column_stops_with_a_message(tmp_path: Path) -> None:
    path = write(tmp_path, "date,pool,element,kind\n2005-05-01,mental-health,council,spend\n")
    result = cli("--ledger", str(path), "--format", "json")
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # a clean exit, not a traceback
    assert "`amount`" in result.output
    assert "Traceback" not in result.output


def test_header_only_ledger_with_as_of_runs(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "\n")
    result = cli("--ledger", str(path), "--format", "json", "--as-of", "2005-06-30")
    assert result.exit_code == 0
    assert json.loads(result.output)["rows"] == {"read": 0, "used": 0, "rejected": 0}


def test_unknown_columns_give_one_warning(ir: dict[str, Any], tmp_path: Path) -> None:
    text = "date,pool,element,kind,amount,cost_centre,vat\n"
    text += "2005-05-01,mental-health,council,spend,10.00,CC1,0\n" * 3
    data = run(ir, write(tmp_path, text))
    warnings = [w for w in data["warnings"] if "column" in w]
    assert len(warnings) == 1
    assert "cost_centre" in warnings[0] and "vat" in warnings[0]
    assert data["rejected"] == [] and mh_actual(data) == "30.00"


def test_columns_may_come_in_any_order_and_case(ir: dict[str, Any], tmp_path: Path) -> None:
    text = "Amount, KIND ,Pool,Date,Element\n10.00,spend,mental-health,2005-05-01,council\n"
    data = run(ir, write(tmp_path, text))
    assert data["rejected"] == [] and mh_actual(data) == "10.00"


def test_strict_exits_1_when_a_row_is_rejected(tmp_path: Path) -> None:
    bad = write(tmp_path, "\n".join([HEADER, GOOD, BAD_ROWS[2][0]]) + "\n", "bad.csv")
    good = write(tmp_path, "\n".join([HEADER, GOOD]) + "\n", "good.csv")
    assert cli("--ledger", str(bad), "--format", "json").exit_code == 0
    assert cli("--ledger", str(bad), "--format", "json", "--strict").exit_code == 1
    assert cli("--ledger", str(good), "--format", "json", "--strict").exit_code == 0


# ---------------------------------------------------------------- property: read = used + rejected
# (CSV fields after the date, expected code or None); every template is a single physical line
# except the two with a quoted line break.
CSV_ROWS = [
    ("mental-health,council,spend,100.00,,board,,,", None),
    # An unquoted thousands comma makes 11 fields against the header's 10.
    ("learning-disabilities,respite,spend,£1,000,,ld-manager,yes,,", "L010"),
    ('learning-disabilities,respite,spend,"£1,000",,ld-manager,yes,,', None),
    ("mental-health,,income,5.5,,,,,", None),
    ("mental-health,,contribution,100,hc,,,,", None),
    ("mental-health,,forecast,17400000,,,,,", None),
    ('mental-health,council,spend,10.00,,board,,,"two\nlines"', None),
    ('mental-health,council,spend,ten,,board,,,"two\nlines"', "L003"),
    ("mental-heath,council,spend,100.00,,board,,,", "L002"),
    ("mental-health,council,spend,1.001,,board,,,", "L004"),
    ("mental-health,council,spent,100.00,,board,,,", "L005"),
    ("mental-health,nursing,spend,100.00,,board,,,", "L006"),
    ("learning-disabilities,,spend,100.00,,board,,,", "L007"),
    ("mental-health,,contribution,100.00,council,,,,", "L008"),
    ("mental-health,council,spend,100.00,,board,perhaps,,", "L009"),
    ("mental-health,council,spend", "L010"),
]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    picks=st.lists(
        st.tuples(
            st.integers(0, len(CSV_ROWS) - 1),
            st.sampled_from(["2005-05-01", "2004-12-01", "2006-07-01", "2005-02-30"]),
            st.booleans(),
        ),
        max_size=30,
    )
)
def test_read_equals_used_plus_rejected(
    ir: dict[str, Any],
    tmp_path_factory: pytest.TempPathFactory,
    picks: list[tuple[int, str, bool]],
) -> None:
    lines = [HEADER]
    expected: list[tuple[int, str]] = []
    line_number = 1
    data_rows = 0
    for index, day, blank_after in picks:
        fields, code = CSV_ROWS[index]
        if day == "2005-02-30" and code != "L010":
            code = "L001"  # the date is checked first
        line_number += 1
        data_rows += 1
        if code is not None:
            expected.append((line_number, code))
        row = f"{day},{fields}"
        lines.append(row)
        line_number += row.count("\n")
        if blank_after:
            lines.append("")
            line_number += 1
    path = tmp_path_factory.mktemp("ledger") / "ledger.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8", newline="")
    result = run_ledger(ir, path, as_of=AS_OF)
    try:
        rows = result.totals
        assert rows.read == rows.used + len(rows.rejected)
        assert rows.read == data_rows
        assert [(r.row, r.code) for r in result.rejected] == expected
    finally:
        result.close()


def test_ids_in_a_ledger_are_matched_regardless_of_case(tmp_path: Path) -> None:
    # `BCF`, `Board`, `Spend`, `Council`: ids are lower case in an agreement, so a ledger's
    # capitals can mean only one id; each is read as that id, on every path, the same way.
    from engine_support import compile_file, pool_of, run_json

    ir = compile_file(ROOT / "agreements" / "herefordshire.yaml")
    header = ["date", "pool", "element", "kind", "amount", "approved_by", "partner"]
    rows = [
        ["2005-06-01", "Mental-Health", "Council", "Spend", "100000.00", "Board", ""],
        ["2005-06-02", "MENTAL-HEALTH", "council", "spend", "100000.00", "board", ""],
        ["2005-06-03", "mental-health", "council", "contribution", "10.00", "", "HPCT"],
    ]
    data = run_json(ir, tmp_path, rows, date(2005, 6, 30), header)
    assert data["rows"] == {"read": 3, "used": 3, "rejected": 0}
    first, second = pool_of(data, "mental-health")["approvals"]
    assert first["recorded"] == ["board"] and first["compliant"] is True
    assert {k: v for k, v in first.items() if k not in ("row", "date")} == {
        k: v for k, v in second.items() if k not in ("row", "date")
    }


@pytest.mark.parametrize("engine", ["reference", "duckdb"])
def test_a_row_with_fields_to_spare_is_told_of_commas(
    ir: dict[str, Any], tmp_path: Path, engine: str
) -> None:
    """A row longer than the header is most often a comma in an unquoted field (`£1,250.00`,
    `executives,board`): its L010 says how to write one; a short row's does not."""
    text = (
        "date,pool,element,kind,amount,approved_by\n"
        "2005-05-01,mental-health,council,spend,300000.00,executives,board\n"
        "2005-05-01,mental-health,council\n"
    )
    result = run_ledger(ir, write(tmp_path, text, "ledger.csv"), as_of=AS_OF, engine=engine)
    try:
        messages = [(r.row, r.code, r.message) for r in result.rejected]
    finally:
        result.close()
    assert messages == [
        (2, "L010", "the row has 7 fields but the header has 6 (a field holding a comma is "
         'written in double quotes, `"£1,250.00"`; roles in `approved_by` are separated by `;`)'),
        (3, "L010", "the row has 3 fields but the header has 6"),
    ]  # fmt: skip


@pytest.mark.parametrize("engine", ["reference", "duckdb"])
@pytest.mark.parametrize("name", ["ledger.csv", "ledger.txt"])
def test_json_lines_after_empty_lines_are_json_lines(
    ir: dict[str, Any], tmp_path: Path, engine: str, name: str
) -> None:
    """A file whose first character after spaces and empty lines is `{` is JSON Lines, whatever
    its name (a first empty line made it a CSV with no header, L101; found by review)."""
    record = json.dumps(rec(amount="10.00"))
    path = write(tmp_path, f"\n  \n{record}\n\n{record}\n", name)
    result = run_ledger(ir, path, as_of=AS_OF, engine=engine)
    try:
        assert (result.totals.read, len(result.rejected)) == (2, 0)
        [pool] = [p for p in result.pools if p.pool["id"] == "mental-health"]
        assert pool.actual == 2000
        out = io.StringIO()
        write_json(result, out)
        approvals = json.loads(out.getvalue())["pools"][0]["approvals"]
        assert [a["row"] for a in approvals] == [3, 5]  # rows numbered by their lines
    finally:
        result.close()


@pytest.mark.parametrize("engine", ["reference", "duckdb"])
def test_an_amount_with_an_exponent_is_told_how_to_write_it(
    ir: dict[str, Any], tmp_path: Path, engine: str
) -> None:
    """JSON may write a number `1e3`: exact, but not a ledger amount; the message says how to
    write it (it said only "is not a number"; found by a user)."""
    lines = "".join(
        json.dumps(rec(amount="AMOUNT")).replace('"AMOUNT"', a) + "\n"
        for a in ("1e3", "1.2345e1", "1e9999", "-0e0")
    )
    result = run_ledger(ir, write(tmp_path, lines, "ledger.jsonl"), as_of=AS_OF, engine=engine)
    try:
        assert [(r.code, r.message) for r in result.rejected] == [
            ("L003", "amount '1e3' is written with an exponent, which a ledger amount may not "
             "be: write it as `1000.00`"),
            ("L004", "amount '1.2345e1' is written with an exponent, which a ledger amount may "
             "not be, and has more than 2 decimals"),
            ("L016", "amount '1e9999' is written with an exponent, which a ledger amount may "
             "not be, and is £1 trillion or more"),
            ("L003", "amount '-0e0' is written with an exponent, which a ledger amount may not "
             "be: write it as `0.00`"),
        ]  # fmt: skip
    finally:
        result.close()
