"""Ledgers into DuckDB: which CSV files DuckDB reads line by line, workbooks, Parquet, and the
engine `auto` chooses."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from agreementdsl.cli import main
from agreementdsl.engine.ledger import LedgerError
from agreementdsl.engine.output import write_json
from agreementdsl.engine.run import RunError, run_ledger
from agreementdsl.engine.sql import sources
from agreementdsl.engine.sql.choose import choose_engine
from agreementdsl.engine.sql.sources import csv_mode, plain_csv
from engine_support import compile_file

ROOT = Path(__file__).resolve().parents[1]
HEREFORDSHIRE = ROOT / "agreements" / "herefordshire.yaml"
LEDGER = ROOT / "agreements" / "herefordshire-2005-06.csv"


@pytest.fixture(scope="module")
def ir() -> dict[str, Any]:
    return compile_file(HEREFORDSHIRE)


def json_of(ir: dict[str, Any], ledger: Path, **options: Any) -> str:
    result = run_ledger(ir, ledger, **options)
    out = io.StringIO()
    try:
        write_json(result, out)
    finally:
        result.close()
    return out.getvalue()


@pytest.mark.parametrize(
    ("content", "mode", "rows"),
    [
        (b"date,pool\n2005-01-01,p\n", "columns", 1),
        (b"date,pool\n2005-01-01,p", "columns", 1),  # no line break at the end
        (b"date,pool\r\n2005-01-01,p\r\n", "columns", 1),
        # DuckDB's parser skips an empty line: such a file is read line by line (`by_lines`)
        (b"date,pool\n\n2005-01-01,p\n", "lines", 2),
        (b"date,pool\r\n2005-01-01,p\r\n\r\n", "lines", 2),
        (b"date,pool\n2005-01-01,p\n\n", "lines", 2),
        (b"date,pool\n2005-01-01,p\n \n", "columns", 2),  # a space: a row of the wrong width
        # CR LF and LF both ending lines: DuckDB's parser refuses the mix by columns and by
        # lines took each CR LF for two line breaks
        (b"date,pool\n\n2005-01-01,p\r\n", "python", 0),
        (b"date,pool\r\n2005-01-01,p\n", "python", 0),
        (b"date,pool\n", "columns", 0),
        (b'date,pool\n2005-01-01,"p"\n', "python", 0),  # quoting: the reference reader's csv rules
        (b"date,pool\r2005-01-01,p\r", "python", 0),  # a bare CR ends a line for Python's csv only
        (b"date,pool\n2005-01-01,p\x00\n", "python", 0),
        (b'{"date": "2005-01-01"}\n', "python", 0),
        (b"", "python", 0),
    ],
)
def test_how_duckdb_reads_a_csv_file(tmp_path: Path, content: bytes, mode: str, rows: int) -> None:
    path = tmp_path / "ledger.csv"
    path.write_bytes(content)
    assert csv_mode(path) == mode
    assert plain_csv(path) is (mode != "python")
    assert sources.scan(path).rows == rows


def test_carriage_returns_and_lines_are_counted_across_blocks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sources, "_BLOCK", 4)
    path = tmp_path / "ledger.csv"
    path.write_bytes(b"a,b\r\n1,2\r\n\r\n3,4\r\n")
    assert (csv_mode(path), sources.scan(path).rows) == ("lines", 3)
    for content in (b"a,b\n1,2\n\n3,4\n", b"a,bc\n1,2\n\n", b"a,b\r\n1,2\r\n\r\n"):
        path.write_bytes(content)  # the empty line across a block's edge
        assert csv_mode(path) == "lines", content
    path.write_bytes(b"a,b\r\n1,2\r\n3,4\r\n")
    assert (csv_mode(path), sources.scan(path).rows) == ("columns", 2)
    path.write_bytes(b"a,bc\r\r\n1,2\n")
    assert csv_mode(path) == "python"


@settings(max_examples=200, deadline=None)
@given(
    lines=st.lists(st.sampled_from(["", "1,2", "10,20,30", "x" * 9]), max_size=40),
    parts=st.integers(1, 6),
    block=st.sampled_from([1, 3, 7, 64, 1 << 24]),
    end=st.sampled_from(["\n", "\r\n"]),
    last=st.booleans(),
)
def test_a_file_is_cut_at_the_start_of_a_line_with_its_line_number(
    lines: list[str], parts: int, block: int, end: str, last: bool
) -> None:
    """Every cut is just after a line break, in order, with the number of the line there;
    the rows are the lines after the header, and an empty one is seen, whatever the block
    size."""
    import tempfile

    text = end.join(["a,b", *lines]) + (end if last else "")
    data = text.encode()
    with tempfile.TemporaryDirectory() as folder, pytest.MonkeyPatch.context() as patch:
        patch.setattr(sources, "_BLOCK", block)
        path = Path(folder) / "ledger.csv"
        path.write_bytes(data)
        found = sources.scan(path, parts)
    assert found.mode == ("lines" if "" in text.splitlines()[1:] else "columns")
    assert found.rows == len(text.splitlines()) - 1
    offsets = [c[0] for c in found.cuts]
    assert offsets == sorted(set(offsets)) and len(offsets) < parts
    for offset, line in found.cuts:
        assert data[offset - 1 : offset] == b"\n" and 0 < offset < len(data)
        assert line == data[:offset].count(b"\n") + 1 and line > 2


def test_an_error_reading_one_range_reaches_the_caller_and_no_thread_is_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    path = tmp_path / "ledger.csv"
    path.write_bytes(b"a,b\n" + b"1,2\n" * 1000)
    real = sources._scan_range

    def failing(p: Path, start: int, *rest: Any) -> Any:
        if start > 0:
            raise OSError("the disk went away")
        return real(p, start, *rest)

    monkeypatch.setattr(sources, "_scan_range", failing)
    before = threading.active_count()
    with pytest.raises(OSError, match="went away"):
        sources._scan(path, 3, path.stat().st_size)
    assert threading.active_count() == before


def write_workbook(
    path: Path, rows: list[list[object]], sheets: tuple[str, ...] = ("Ledger",)
) -> None:
    book = Workbook()
    first = book.active
    assert first is not None
    first.title = sheets[0]
    for name in sheets[1:]:
        book.create_sheet(name)
    target = book[sheets[-1]]
    for r in rows:
        target.append(r)
    if len(sheets) > 1:
        first.append(["nothing", "here"])
    book.save(path)


def csv_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


def _number(text: str) -> float | int:
    if not text.replace(".", "", 1).isdigit() or (text.count(".") and len(text.split(".")[1]) != 2):
        raise ValueError(text)
    return float(text) if "." in text else int(text)


def _typed(text: str, convert: Any) -> object:
    """The typed cell a spreadsheet would hold, or the text where it is not a clean value."""
    try:
        return convert(text)
    except ValueError:
        return text


def test_a_workbook_gives_what_the_same_csv_gives(ir: dict[str, Any], tmp_path: Path) -> None:
    rows: list[list[object]] = [list(r) for r in csv_rows(LEDGER)]
    # Cells as finance systems export them: real dates and numbers, not text.
    header = [str(h) for h in rows[0]]
    for r in rows[1:]:
        r[header.index("date")] = _typed(str(r[header.index("date")]), date.fromisoformat)
        r[header.index("amount")] = _typed(str(r[header.index("amount")]), _number)
    book = tmp_path / "ledger.xlsx"
    write_workbook(book, rows, ("Notes", "Ledger"))
    expected = json_of(ir, LEDGER, engine="reference")
    assert json_of(ir, book, sheet="Ledger") == expected
    with pytest.raises(LedgerError) as caught:
        run_ledger(ir, book, sheet="Nope")
    assert caught.value.code == "X001" and "Notes, Ledger" in (caught.value.hint or "")
    with pytest.raises(LedgerError) as near:
        run_ledger(ir, book, sheet="ledger")  # the name in another case
    assert (near.value.hint or "").startswith("did you mean `Ledger`?")
    # The first sheet holds no ledger: a missing column stops the run, as for a CSV.
    with pytest.raises(LedgerError) as first:
        run_ledger(ir, book)
    assert first.value.code == "L101"
    # ...and says which sheet it read, and the others (a user could not tell why)
    assert "(read from the first sheet, `Notes`)" in first.value.message
    assert "its sheets: Notes, Ledger; name the ledger's with --sheet NAME" in (
        first.value.hint or ""
    )


def test_a_bad_cell_is_rejected_with_its_sheet_row(ir: dict[str, Any], tmp_path: Path) -> None:
    book = tmp_path / "ledger.xlsx"
    write_workbook(
        book,
        [
            ["date", "pool", "element", "kind", "amount", "approved_by"],
            [date(2005, 6, 1), "mental-health", "council", "spend", 10.5, "board"],
            [],
            ["01/06/2005", "mental-health", "council", "spend", 400.005, "board"],
        ],
    )
    data = json.loads(json_of(ir, book))
    assert data["rows"] == {"read": 2, "used": 1, "rejected": 1}
    assert data["rejected"][0]["row"] == 4 and data["rejected"][0]["code"] == "L001"


def test_auto_chooses_duckdb_for_columnar_ledgers_and_large_files(tmp_path: Path) -> None:
    small = tmp_path / "small.csv"
    small.write_text("date,pool,kind,amount\n")
    assert choose_engine("auto", small) == "reference"
    assert choose_engine("auto", tmp_path / "x.parquet") == "duckdb"
    assert choose_engine("auto", tmp_path / "x.xlsx") == "duckdb"
    assert choose_engine("duckdb", small) == "duckdb"


def test_auto_chooses_duckdb_for_a_large_csv_only_when_its_parser_reads_it(
    ir: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large ledger with a quoted field, or in JSON Lines, would go through the reference
    reader's raw pass on DuckDB too, slower than the reference itself: `auto` takes the
    reference there. A plain one is scanned once, for the choice and for DuckDB."""
    from agreementdsl.engine.sql import choose

    monkeypatch.setattr(choose, "AUTO_BYTES", 0)
    monkeypatch.setattr(sources, "PIPE_BYTES", 0)
    plain = tmp_path / "plain.csv"
    plain.write_text("date,pool,kind,amount\n2005-06-01,mental-health,income,1.00\n")
    quoted = tmp_path / "quoted.csv"
    quoted.write_text('date,pool,kind,amount\n2005-06-01,mental-health,spend,"1.00"\n')
    lines = tmp_path / "ledger.jsonl"
    lines.write_text('{"date": "2005-06-01"}\n')
    assert [choose_engine("auto", p) for p in (plain, quoted, lines)] == [
        "duckdb",
        "reference",
        "reference",
    ]
    scans: list[Path] = []
    real = sources._scan
    monkeypatch.setattr(sources, "_scan", lambda p, *a: [scans.append(p), real(p, *a)][1])
    plain.write_text(plain.read_text() + "2005-06-02,mental-health,income,2.00\n")  # changed
    assert json.loads(json_of(ir, plain, engine="auto"))["rows"]["read"] == 2
    assert scans == [plain]  # chosen, then read by DuckDB, on one scan


def test_auto_takes_the_reference_when_the_sql_would_hand_it_most_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Amounts written `£1,250.00` (or with one decimal) are left by the SQL to the reference
    reader's own check: when most of the first rows are so, `auto` runs the reference, which
    is then faster and smaller than DuckDB (seen by a user at 1M and 2M rows)."""
    from agreementdsl.engine.sql import choose

    monkeypatch.setattr(choose, "AUTO_BYTES", 0)
    head = "date,pool,element,kind,amount\r\n"
    row = "2005-06-01,mental-health,council,spend,{}\r\n"
    for amounts, engine in [
        (["£1250.00"] * 10, "reference"),
        (["1250.5"] * 6 + ["1250.50"] * 4, "reference"),
        (["£1250.00"] * 4 + ["1250.00"] * 6, "duckdb"),
        (["1250"] * 10, "duckdb"),
    ]:
        path = tmp_path / f"{len(amounts)}-{amounts[0]}.csv"
        path.write_text(head + "".join(row.format(a) for a in amounts), encoding="utf-8")
        assert choose_engine("auto", path) == engine, amounts
    # only the first rows are looked at: past them, the choice is DuckDB's, the result the same
    monkeypatch.setattr(sources, "SAMPLE_LINES", 3)
    mixed = tmp_path / "mixed.csv"
    mixed.write_text(head + row.format("1.00") * 3 + row.format("£1.00") * 7, encoding="utf-8")
    assert choose_engine("auto", mixed) == "duckdb"


def test_the_reference_cannot_read_parquet_a_usage_error(
    ir: dict[str, Any], tmp_path: Path
) -> None:
    with pytest.raises(RunError) as caught:
        run_ledger(ir, tmp_path / "x.parquet", engine="reference")
    assert caught.value.usage
    result = CliRunner().invoke(
        main,
        [
            "run",
            str(HEREFORDSHIRE),
            "--ledger",
            str(tmp_path / "x.parquet"),
            "--engine",
            "reference",
        ],
    )
    assert result.exit_code == 2 and "reads CSV and JSON Lines only" in result.output


def test_run_engine_duckdb_on_the_command_line_matches_the_reference() -> None:
    runs = [
        CliRunner().invoke(
            main,
            [
                "run",
                str(HEREFORDSHIRE),
                "--ledger",
                str(LEDGER),
                "--format",
                "json",
                "--engine",
                engine,
            ],
        )
        for engine in ("reference", "duckdb")
    ]
    assert [r.exit_code for r in runs] == [0, 0]
    assert runs[0].output == runs[1].output


def test_compile_sql_prints_the_rules_for_each_dialect() -> None:
    for dialect in ("duckdb", "postgres", "spark"):
        result = CliRunner().invoke(
            main, ["compile", "--sql", "--dialect", dialect, str(HEREFORDSHIRE)]
        )
        assert result.exit_code == 0, result.output
        assert f"as SQL ({dialect})" in result.output and "-- spends" in result.output
    bad = CliRunner().invoke(main, ["compile", "--sql", "--dialect", "oracle", str(HEREFORDSHIRE)])
    assert bad.exit_code == 2
    # --dialect without --sql would be dropped (the IR printed): a usage error instead
    alone = CliRunner().invoke(main, ["compile", "--dialect", "postgres", str(HEREFORDSHIRE)])
    assert alone.exit_code == 2 and "give --sql with it" in alone.output


def test_a_ledger_read_by_lines_is_split_once_a_line(ir: dict[str, Any], tmp_path: Path) -> None:
    """Read a line at a time, each line is split into its fields once, where it is read: the
    checks' filter, which DuckDB pushes down to the row numbering, names the fields, not the
    split (written into that filter once for each field it named, the spends of a 600,000-row
    ledger took 1.4 s to read, not 0.4 s). Every spend is read, on its own line."""
    from agreementdsl.engine.approvals import Authority
    from agreementdsl.engine.sql.duck import DuckDBExecutor, connect

    header = "date,pool,element,kind,amount,partner,approved_by,in_plan,supplier,category,reference"
    lines = [header] + [
        f"2005-04-{1 + i % 28:02d},mental-health,council,spend,{100 + i}.00,,mh-manager,true,"
        f"S{i % 7},,R{i}"
        for i in range(400)
    ]
    lines.insert(101, "")  # an empty line (line 102): read by lines, not by columns
    path = tmp_path / "ledger.csv"
    path.write_text("\n".join(lines) + "\n")
    assert csv_mode(path) == "lines"
    roles = frozenset(r["id"] for r in ir["roles"])
    executor = DuckDBExecutor(ir, {p["id"]: Authority(p, roles) for p in ir["pools"]})
    con = connect(str(tmp_path), False, "250MB")
    try:
        sources.by_lines(con, path, sources.header(path))
        con.execute(f"CREATE VIEW staged AS {executor.rules.stage().sql('duckdb')}")
        candidates = executor._candidates()
        plan = "".join(
            str(r[1]) for r in con.execute(f"EXPLAIN (FORMAT json) {candidates}").fetchall()
        )
        spends = con.execute(f"SELECT line, pence FROM ({candidates}) ORDER BY line").fetchall()
    finally:
        con.close()
    assert plan.count("string_split") <= 1  # 55 with the split above the numbering
    expected = [(n + 2 + (n >= 100), (100 + n) * 100) for n in range(400)]
    assert spends == expected


def test_compile_sql_says_which_rules_can_never_apply(tmp_path: Path) -> None:
    """A rule no spend can reach is in the SQL all the same: its W701 is printed above it (an
    auditor read a dead rule as a live one; `check` warned, `compile --sql` did not)."""
    text = HEREFORDSHIRE.read_text("utf-8").replace(
        "      up to £10,000 where element is respite: ld-manager\n"
        "      up to £25,000 within plan: ld-manager\n"
        "      up to £250,000: board\n",
        "      up to £250,000: board\n"
        "      up to £10,000 where element is respite: ld-manager\n"
        "      up to £25,000 within plan: ld-manager\n",
    )
    shadowed = tmp_path / "shadowed.yaml"
    shadowed.write_text(text, "utf-8")
    result = CliRunner().invoke(main, ["compile", "--sql", str(shadowed)])
    assert result.exit_code == 0, result.output
    warned = [line for line in result.output.splitlines() if line.startswith("-- warning W701")]
    assert len(warned) == 2 and "this spending rule can never apply" in warned[0], warned
    clean = CliRunner().invoke(main, ["compile", "--sql", str(HEREFORDSHIRE)])
    assert "-- warning" not in clean.output
