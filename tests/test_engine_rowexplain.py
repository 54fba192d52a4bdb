"""`run --explain-row N`: one row's working, from the reference executor, whatever the engine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from agreementdsl.cli import main

ROOT = Path(__file__).resolve().parents[1]
HEREFORDSHIRE = ROOT / "agreements" / "herefordshire.yaml"
LEDGER = ROOT / "agreements" / "herefordshire-2005-06.csv"


def run(*args: str, ledger: Path = LEDGER) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["run", str(HEREFORDSHIRE), "--ledger", str(ledger), *args])
    return result.exit_code, result.output


@pytest.mark.parametrize("engine", ["reference", "duckdb"])
def test_a_breach_is_explained_clause_by_clause(engine: str) -> None:
    # Row 71: £300,000.00 of mental-health spend approved by the board alone. The clause
    # (herefordshire.yaml:52-54): up to £50,000 within plan mh-manager; up to £250,000 board;
    # above executives. So the first two do not apply, the third does, and board is not enough.
    code, out = run("--engine", engine, "--explain-row", "71")
    assert code == 0
    row = out[out.index("Row 71 (read again by the reference executor)") :].splitlines()
    assert row[2:] == [
        "  check the row → spend of £300,000.00 on 2005-06-01 in pool "
        "`mental-health`; element `council`; within plan; approved by board",
        "  net expenditure of pool `mental-health` → +£300,000.00 on 2005-06-01",
        "  delegated authority → `up to £50,000 within plan: mh-manager` "
        f"({_rel()}:52) does not apply: £300,000.00 is above £50,000",
        "  delegated authority → `up to £250,000: board` "
        f"({_rel()}:53) does not apply: £300,000.00 is above £250,000",
        f"  delegated authority → `above: executives` ({_rel()}:54) applies: requires executives",
        "  delegated authority → recorded board does not meet required "
        "executives: executives may be approved only by executives",
        f"  approved by board ({_rel()}:54) → BREACHES delegated authority",
    ]


def _rel() -> str:
    """How the clauses' file is named in spans (as the agreement was given to `run`)."""
    _, out = run("--format", "json", "--explain-row", "71")
    rule = json.loads(out)["explain_row"]["approval"]["rule"]
    return str(rule).rsplit(":", 1)[0]


@pytest.mark.parametrize("engine", ["reference", "duckdb"])
@pytest.mark.parametrize("row", [71, 137, 204, 6])
def test_the_rows_approval_is_the_runs(engine: str, row: int) -> None:
    code, out = run("--format", "json", "--engine", engine, "--explain-row", str(row))
    assert code == 0
    data = json.loads(out)
    listed = [a for p in data["pools"] for a in p["approvals"] if a["row"] == row]
    assert [data["explain_row"]["approval"]] == listed
    assert data["explain_row"]["rejected"] is None


def test_a_rejected_row_says_why(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.csv"
    ledger.write_text(
        "date,pool,element,kind,amount,approved_by\n"
        "2005-06-01,mental-health,council,spend,100.00,mh-manager\n"
        "2005-06-02,mental-health,council,spend,twelve,mh-manager\n",
        "utf-8",
    )
    code, out = run("--format", "json", "--explain-row", "3", ledger=ledger)
    assert code == 0
    data = json.loads(out)
    assert data["rejected"] == [data["explain_row"]["rejected"]]
    assert data["explain_row"]["rejected"]["code"] == "L003"
    assert data["explain_row"]["approval"] is None
    # an income row says what it does to the figures
    ledger.write_text(
        "date,pool,element,kind,amount\n2005-06-01,mental-health,council,income,250.50\n", "utf-8"
    )
    code, out = run("--explain-row", "2", ledger=ledger)
    assert (
        "income reduces the pool's net expenditure → net expenditure -£250.50 on 2005-06-01" in out
    )


def test_rows_that_are_not_there(tmp_path: Path) -> None:
    assert (
        "row 1 → no ledger row has this number (row 1 is the header)"
        in run("--explain-row", "1")[1]
    )
    assert (
        "row 99999 → no ledger row has this number: the last row is 431"
        in run("--explain-row", "99999")[1]
    )
    huge = "99999999999999999999"  # past 2**64: a number, not a traceback (found by a user)
    assert (
        f"row {huge} → no ledger row has this number: the last row is 431"
        in run("--explain-row", huge)[1]
    )
    # a line between rows that is not one: an empty line, or inside a quoted field
    ledger = tmp_path / "ledger.csv"
    ledger.write_text(
        "date,pool,element,kind,amount,supplier\n"
        "2005-06-01,mental-health,council,spend,250.50,Oak\n"
        "\n"
        '2005-06-02,mental-health,council,spend,250.50,"Oak\nHouse"\n'
        "2005-06-03,mental-health,council,spend,250.50,Elm\n",
        "utf-8",
    )
    assert (
        "row 3 → line 3 holds no row of its own: it is empty"
        in run("--explain-row", "3", ledger=ledger)[1]
    )
    assert (
        "row 5 → line 5 holds no row of its own: it is inside a quoted field of row 4, which "
        "runs over several lines (a row is numbered by the line it starts on)"
    ) in run("--explain-row", "5", ledger=ledger)[1]
    assert "holds no row" not in run("--explain-row", "4", ledger=ledger)[1]  # the quoted row
    assert "the last row is 6" in run("--explain-row", "7", ledger=ledger)[1]
    empty = tmp_path / "empty.csv"
    empty.write_text("date,pool,element,kind,amount\n", "utf-8")
    said = run("--explain-row", "2", "--as-of", "2006-03-31", ledger=empty)[1]
    assert "no ledger row has this number: the ledger holds no rows" in said
    # a header alone, then empty lines: no row before them to hold a quoted field
    empty.write_text("date,pool,element,kind,amount\n\n\n", "utf-8")
    said = run("--explain-row", "3", "--as-of", "2006-03-31", ledger=empty)[1]
    assert "row 3 → line 3 holds no row of its own: it is empty" in said
    # JSON Lines have no header (row 1 is the first line) and no field over several lines
    lines = tmp_path / "ledger.jsonl"
    record = (
        '{"date": "2005-06-01", "pool": "mental-health", "element": "council", '
        '"kind": "spend", "amount": "10.00", "note": "a \\" b"}'
    )
    lines.write_text(f"\n{record}\n\n{record}\n", "utf-8")
    for line in (1, 3):
        said = run("--explain-row", str(line), ledger=lines)[1]
        assert f"row {line} → line {line} holds no row of its own: it is empty" in said, said
    assert "£10.00" in run("--explain-row", "4", ledger=lines)[1]
    code, out = run("--explain-row", "0")
    assert code == 2 and "--explain-row 0 is not a row number" in out


def test_explain_gives_the_same_working_on_duckdb() -> None:
    for fmt in ("text", "json"):
        reference = run("--explain", "--format", fmt, "--engine", "reference")
        duckdb = run("--explain", "--format", fmt, "--engine", "duckdb")
        assert reference == duckdb
        assert reference[0] == 0
        assert ("why settlement" if fmt == "text" else '"explain"') in reference[1]


@pytest.mark.parametrize("engine", ["reference", "duckdb"])
def test_an_undefined_role_beside_defined_ones_is_not_the_whole_reason(
    tmp_path: Path, engine: str
) -> None:
    """A role the agreement does not define makes a spend non-compliant, and the roles recorded
    beside it are judged as well: deleting the undefined one is not always the remedy."""
    ledger = tmp_path / "ledger.csv"
    ledger.write_text(
        "date,pool,element,kind,amount,approved_by,in_plan\n"
        "2005-05-01,mental-health,council,spend,300000.00,board;nobody,true\n"
        "2005-05-02,mental-health,council,spend,300000.00,executives;nobody;x,true\n"
        '2005-05-03,mental-health,council,spend,300000.00,"board,executives",true\n'
        "2005-05-04,mental-health,council,spend,300000.00,,true\n",
        "utf-8",
    )
    code, out = run("--explain", "--engine", engine, ledger=ledger)
    assert code == 0, out
    lines = [line.strip() for line in out.splitlines()]
    said = {
        2: [
            "`nobody` is not a role of the agreement",
            "recorded board does not meet required executives: executives may be approved "
            "only by executives",
        ],
        3: [
            "`nobody` and `x` are not roles of the agreement; recorded executives alone meets "
            "required executives"
        ],
        4: [
            "`board,executives` is not a role of the agreement (roles are separated by `;`, "
            "not `,`)"
        ],
        5: ["no approver is recorded"],
    }
    for row, reasons in said.items():
        at = next(i for i, line in enumerate(lines) if line.startswith(f"row {row} "))
        follows = lines[at + 1 : at + 8]
        for reason in reasons:
            assert reason in follows, (row, follows)
    # one row's working ends with who approved it, in the same words as the summary
    code, out = run("--explain-row", "3", ledger=ledger)
    assert (
        "approved by executives and nobody (not a role of the agreement) and x (not a role of "
        "the agreement)" in out
    )
    code, out = run("--explain-row", "5", ledger=ledger)
    assert "no approver recorded (" in out, out


def test_the_json_names_the_undefined_roles_of_an_approval(tmp_path: Path) -> None:
    """`undefined` lists the recorded roles the agreement lacks, only where there are some, the
    same in the streamed list (no --explain) and the built one (--explain), on both engines."""
    ledger = tmp_path / "ledger.csv"
    ledger.write_text(
        "date,pool,element,kind,amount,approved_by,in_plan\n"
        "2005-05-01,mental-health,council,spend,300000.00,board;nobody,true\n"
        "2005-05-02,mental-health,council,spend,300000.00,executives,true\n"
        "2005-05-03,mental-health,council,spend,300000.00,nobody;board;nobody;board,true\n",
        "utf-8",
    )
    outs = []
    for engine in ("reference", "duckdb"):
        for more in ([], ["--explain"]):
            code, out = run("--format", "json", "--engine", engine, *more, ledger=ledger)
            assert code == 0, out
            approvals = json.loads(out)["pools"][0]["approvals"]
            # a role recorded twice is undefined once; `recorded` keeps the row as written
            assert [a.get("undefined") for a in approvals] == [["nobody"], None, ["nobody"]]
            assert approvals[2]["recorded"] == ["nobody", "board", "nobody", "board"]
            outs.append([{k: v for k, v in a.items() if k != "explain"} for a in approvals])
    assert all(o == outs[0] for o in outs)
    # one row's working gives the same approval object as the run's list
    for row, listed in zip((2, 3, 4), outs[0], strict=True):
        code, out = run("--format", "json", "--explain-row", str(row), ledger=ledger)
        assert json.loads(out)["explain_row"]["approval"] == listed
    code, out = run("--explain-row", "4", ledger=ledger)
    assert (
        "approved by nobody (not a role of the agreement; recorded twice) and board (recorded "
        "twice) (" in out
    ), out
    assert "recorded board does not meet required executives" in out, out


LINES = {
    "good": "2005-06-01,mental-health,council,spend,250.50,Oak",
    "bad": "2005-06-01,mental-health,council,spend,twelve,Oak",
    "short": "2005-06-01,mental-health",
    "blank": "",
    "quoted": '2005-06-02,mental-health,council,spend,10.00,"Oak\nHouse"',
    # a `"` that opens no field, and quotes written twice within one: the csv module's reading
    "stray": '2005-06-03,mental-health,council,spend,10.00,12" pipe',
    "escaped": '2005-06-04,mental-health,council,spend,10.00,"Oak ""A""\n""B"" House"',
}


@settings(max_examples=60, deadline=None)
@given(kinds=st.lists(st.sampled_from(sorted(LINES)), max_size=12))
def test_every_line_number_is_a_row_or_says_why_it_is_not(kinds: list[str]) -> None:
    """For each physical line of a ledger with empty lines, bad rows and quoted fields over two
    lines, `explain_row` gives the row that starts there, or says the line holds none, or names
    the last row: never an error, never a row for a line inside another."""
    import tempfile

    from agreementdsl.engine.rowexplain import explain_row
    from engine_support import compile_file

    ir = compile_file(HEREFORDSHIRE)
    text = "\n".join(["date,pool,element,kind,amount,supplier", *(LINES[k] for k in kinds)]) + "\n"
    starts, line = set(), 2
    inside: dict[int, int] = {}  # a line within a quoted field: the row it belongs to
    for kind in kinds:  # the physical line each row starts on
        if kind != "blank":
            starts.add(line)
        for more in range(LINES[kind].count("\n")):
            inside[line + 1 + more] = line
        line += LINES[kind].count("\n") + 1
    last = max(starts, default=0)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "ledger.csv"
        path.write_text(text, "utf-8")
        for number in range(2, line + 2):
            working = explain_row(ir, path, number)
            said = working.steps[-1].result if working.steps else ""
            if number in starts:
                assert working.texts is not None or working.rejected is not None, (number, said)
            elif number in inside:
                assert said.endswith(
                    f"holds no row of its own: it is inside a quoted field of row "
                    f"{inside[number]}, which runs over several lines (a row is numbered by the "
                    "line it starts on)"
                ), (number, said)
            elif number < line:  # an empty line of the file (the rows end on line - 1)
                assert said.endswith("holds no row of its own: it is empty"), (number, said)
            elif last:
                assert said.endswith(f"the last row is {last}"), (number, said)
            else:
                assert said.endswith("the ledger holds no rows"), (number, said)


@pytest.mark.parametrize("engine", ["reference", "duckdb"])
def test_a_row_the_run_leaves_out_is_said_to_be_left_out(tmp_path: Path, engine: str) -> None:
    """A row dated outside the year run, or after the as-of date, is in none of the run's
    figures or approvals: its working says so first, and it has no `approval` (found by a
    user: a spend of another year was explained as a breach the summary did not count)."""
    ledger = tmp_path / "ledger.csv"
    ledger.write_text(
        "date,pool,element,kind,amount,approved_by\n"
        "2005-05-01,mental-health,council,spend,300000.00,board\n"
        "2006-05-01,mental-health,council,spend,300000.00,board\n"
        "2006-07-01,mental-health,council,spend,300000.00,board\n",
        "utf-8",
    )
    args = ("--engine", engine, "--as-of", "2006-06-01")
    said = {
        2: "the run's figures → left out: dated 2005-05-01, outside the financial year run, "
        "2006/07 (2006-04-01 to 2007-03-31); what follows is the row's working in a run of its "
        "own year",
        4: "the run's figures → left out: dated 2006-07-01, after the as-of date 2006-06-01; "
        "what follows is the row's working in a run to a later date",
    }
    for row in (2, 3, 4):
        code, out = run(*args, "--explain-row", str(row), ledger=ledger)
        assert code == 0, out
        working = out[out.index(f"Row {row} (read again") :]
        if row in said:
            assert said[row] in working, working
        else:
            assert "the run's figures" not in working, working
        code, out = run(*args, "--format", "json", "--explain-row", str(row), ledger=ledger)
        data = json.loads(out)
        listed = data["pools"][0]["approvals"]
        assert [a["row"] for a in listed] == [3]
        approval = data["explain_row"]["approval"]
        assert approval == (listed[0] if row == 3 else None), approval


def test_a_line_break_and_a_written_backslash_n_are_shown_apart(tmp_path: Path) -> None:
    """The row's fields are shown as Python writes a string: a line break within a quoted field
    as `\\n`, a backslash and `n` written in the file as `\\\\n` (both were `\\\\n` once)."""
    ledger = tmp_path / "ledger.csv"
    ledger.write_text(
        "date,pool,element,kind,amount,supplier\n"
        '2005-06-02,mental-health,council,spend,10.00,"Oak\nHouse"\n'
        "2005-06-03,mental-health,council,spend,10.00,Oak\\nHouse\n",
        "utf-8",
    )
    assert "supplier='Oak\\nHouse'" in run("--explain-row", "2", ledger=ledger)[1]
    assert "supplier='Oak\\\\nHouse'" in run("--explain-row", "4", ledger=ledger)[1]


@pytest.mark.parametrize("engine", ["reference", "duckdb"])
def test_one_role_recorded_for_two_is_said_to_count_once(tmp_path: Path, engine: str) -> None:
    """Learning disabilities above £250,000 needs executives and board; the board may stand in
    for executives, but not for both at once: the reason says so, and how often a role was
    recorded (found by a user: the reason read as if board could approve for both)."""
    ledger = tmp_path / "ledger.csv"
    ledger.write_text(
        "date,pool,element,kind,amount,approved_by\n"
        "2005-05-01,learning-disabilities,council,spend,300000.00,Board; BOARD\n"
        "2005-05-02,learning-disabilities,council,spend,300000.00,board;ld-manager\n"
        "2005-05-03,learning-disabilities,council,spend,300000.00,board;executives\n",
        "utf-8",
    )
    code, out = run("--explain", "--engine", engine, ledger=ledger)
    assert code == 0, out
    need = (
        "does not meet required executives and board: executives may be approved by executives "
        "or board; board may be approved only by board; each required role needs a different "
        "approver, and board is the only recorded role that may approve for executives and board"
    )
    assert f"recorded board {need} (a role recorded twice counts once)" in out, out
    assert f"recorded board, ld-manager {need.replace('does not', 'do not')}\n" in out, out
    assert "needs executives and board, approved by board (recorded twice)\n" in out, out
    assert "needs executives and board, approved by board and ld-manager\n" in out, out
    assert "row 4 " not in out  # board and executives comply


def test_a_line_within_an_unclosed_quote_says_so(tmp_path: Path) -> None:
    """Lines swallowed by a quote that is never closed (L015) are not a field over several
    lines: their working names the row that opens the quote (found by a user)."""
    ledger = tmp_path / "ledger.csv"
    ledger.write_text(
        "date,pool,element,kind,amount,supplier\n"
        "2005-05-01,mental-health,council,spend,10.00,Oak\n"
        '2005-05-02,mental-health,council,spend,10.00,"Unclosed Care\n'
        "2005-05-03,mental-health,council,spend,80000.00,Elm\n"
        "2005-05-04,mental-health,council,spend,90000.00,Ash\n"
        "\n",
        "utf-8",
    )
    said = run("--explain-row", "6", "--as-of", "2005-06-01", ledger=ledger)[1]
    assert said.rstrip().endswith(
        "row 6 → line 6 holds no row of its own: it lies within the quote that row 3 opens and "
        "does not close (L015), so it is not counted"
    ), said  # an empty line: it would not be a row with the quote closed
    for line in (4, 5):
        said = run("--explain-row", str(line), "--as-of", "2005-06-01", ledger=ledger)[1]
        assert (
            f"row {line} → line {line} holds no row of its own: it lies within the quote that row "
            "3 opens and does not close (L015), so it is not counted; with that quote closed it "
            "would be read as a row"
        ) in said, said
    said = run("--explain-row", "3", "--as-of", "2005-06-01", ledger=ledger)[1]
    assert "L015 a quote opened on line 3 is not closed" in said, said


def test_an_empty_row_of_a_workbook_is_empty(tmp_path: Path) -> None:
    """A workbook's empty sheet rows are empty: there are no quoted fields to be inside (the
    check once read the compressed file's bytes for quotes; found by review)."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["date", "pool", "element", "kind", "amount", "supplier"])
    for n in range(12):
        sheet.append(["2005-06-01", "mental-health", "council", "spend", "10.00", f'"Oak {n}'])
        sheet.append([])
    path = tmp_path / "ledger.xlsx"
    book.save(path)
    for row in range(3, 24, 2):
        said = run("--explain-row", str(row), ledger=path)[1]
        assert f"row {row} → line {row} holds no row of its own: it is empty" in said, said
    # the sheet's first row is its header, as a CSV's first line is (it was called empty)
    said = run("--explain-row", "1", ledger=path)[1]
    assert "row 1 → no ledger row has this number (row 1 is the header)" in said, said


def test_a_line_inside_a_field_too_long_to_read_is_inside_it(tmp_path: Path) -> None:
    """A quoted field past the reader's limit (L017) ends where the reader cut it: the lines
    before that are inside it, not empty (found by review)."""
    ledger = tmp_path / "ledger.csv"
    ledger.write_text(
        "date,pool,element,kind,amount,supplier\n"
        '2005-06-01,mental-health,council,spend,10.00,"' + ("x" * 1000 + "\n") * 200,
        "utf-8",
    )
    said = run("--explain-row", "3", "--as-of", "2005-06-30", ledger=ledger)[1]
    assert "line 3 holds no row of its own: it is inside a quoted field of row 2" in said, said


@pytest.mark.parametrize("engine", ["reference", "duckdb"])
def test_a_condition_on_text_does_not_depend_on_how_the_amount_is_written(
    tmp_path: Path, engine: str
) -> None:
    """`supplier is "…"` compares the supplier as written, whether the row's amount is plain
    (`20000.00`) or needs careful reading (`£20,000.00`): the careful path stripped the text,
    the fast one did not, so a trailing space chose a different rule by the amount's form
    (found by an auditor). The reason says what kept the condition from holding."""
    agreement = ROOT / "agreements" / "bcf-wealdshire.yaml"
    ledger = tmp_path / "ledger.csv"
    head = "date,pool,element,kind,amount,approved_by,in_plan,supplier,category\n"
    ledger.write_text(
        head
        + "2023-05-02,core,carers,spend,20000.00,bcf-manager,false,Wealdshire Carers Hub ,carers breaks\n"
        + '2023-05-02,core,carers,spend,"£20,000.00",bcf-manager,false,Wealdshire Carers Hub ,carers breaks\n'
        + '2023-05-02,core,carers,spend,"£20,000.00",bcf-manager,false,Wealdshire Carers Hub,carers breaks\n',
        "utf-8",
    )
    result = CliRunner().invoke(
        main,
        ["run", str(agreement), "--ledger", str(ledger), "--engine", engine, "--format", "json"],
    )
    assert result.exit_code == 0, result.output
    approvals = {a["row"]: a for p in json.loads(result.output)["pools"] for a in p["approvals"]}
    assert [approvals[r]["required"] for r in (2, 3, 4)] == [["board"], ["board"], ["bcf-manager"]]
    said = (
        CliRunner()
        .invoke(main, ["run", str(agreement), "--ledger", str(ledger), "--explain-row", "3"])
        .output
    )
    assert (
        "does not apply: its condition does not hold (the row's supplier `Wealdshire Carers Hub ` "
        "begins or ends with a space, and conditions compare text exactly)"
    ) in said, said
