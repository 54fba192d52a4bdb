"""Ledgers that are not what they seem: encodings (UTF-8 with or without BOM, CRLF, Windows-1252
and Latin-1 exports), files that are not text (L018), lines of megabytes (L017) and amounts of
£1 trillion or more (L016). Each case through `run`, with its exit code."""

from __future__ import annotations

import gzip
import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from agreementdsl.cli import main
from agreementdsl.engine.disputes import read_disputes
from agreementdsl.engine.ledger import LedgerError, LedgerReader, PoolShape, Txn
from agreementdsl.engine.textfile import UTF8, NotText, sniff
from engine_support import compile_file

ROOT = Path(__file__).resolve().parents[1]
HEREFORDSHIRE = ROOT / "agreements" / "herefordshire.yaml"
HEADER = "date,pool,element,kind,amount,partner,approved_by,in_plan,supplier,description"
ROWS = [
    "2005-05-01,mental-health,council,spend,£1250.50,,board,,Café Ltd,",
    "2005-05-02,mental-health,council,spend,99.99,,board,,Müller & Söhne,",
]


def run(path: Path, *extra: str) -> Result:
    args = ["run", str(HEREFORDSHIRE), "--ledger", str(path), "--as-of", "2006-03-31", *extra]
    result = CliRunner().invoke(main, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def as_json(path: Path) -> dict[str, Any]:
    result = run(path, "--format", "json")
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.output)
    return data


def mh(data: dict[str, Any]) -> dict[str, Any]:
    return next(p for p in data["pools"] if p["pool"] == "mental-health")


def ledger(tmp_path: Path, data: bytes, name: str = "ledger.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def text(rows: list[str] = ROWS, end: str = "\n") -> str:
    return end.join([HEADER, *rows]) + end


# ---------------------------------------------------------------- encodings
@pytest.mark.parametrize(
    "data",
    [
        text().encode("utf-8"),
        b"\xef\xbb\xbf" + text().encode("utf-8"),
        text(end="\r\n").encode("utf-8"),
        b"\xef\xbb\xbf" + text(end="\r\n").encode("utf-8"),
    ],
    ids=["utf-8", "utf-8-bom", "utf-8-crlf", "utf-8-bom-crlf"],
)
def test_utf8_with_or_without_bom_and_crlf_reads_the_same(tmp_path: Path, data: bytes) -> None:
    path = ledger(tmp_path, data)
    assert sniff(path) == UTF8
    data_out = as_json(path)
    assert mh(data_out)["actual"] == "1350.49"
    assert not any("L019" in w for w in data_out.get("warnings", []))


@pytest.mark.parametrize("codec", ["cp1252", "latin-1"])
def test_a_windows_1252_or_latin_1_export_is_read_with_a_warning(
    tmp_path: Path, codec: str
) -> None:
    path = ledger(tmp_path, text(end="\r\n").encode(codec))
    assert path.read_bytes().count(b"\xa3") == 1  # £ is the single byte 0xA3
    result = run(path)
    assert result.exit_code == 0, result.output
    assert "L019" in result.output and "Windows-1252" in result.output
    assert "line 2 holds byte 0xa3" in result.output
    data = as_json(path)
    assert mh(data)["actual"] == "1350.49"  # £1,250.50 read as money, not rejected


def suppliers(path: Path) -> list[str]:
    ir = compile_file(HEREFORDSHIRE)
    shapes = {
        p["id"]: PoolShape({e["id"]: e["partner"] for e in p["elements"]}) for p in ir["pools"]
    }
    reader = LedgerReader(path, shapes, frozenset(p["id"] for p in ir["partners"]))
    return [t.supplier for t in reader.transactions() if isinstance(t, Txn)]


@pytest.mark.parametrize("name", ["Café Ltd", "Müller & Söhne", "\u201cOak\u201d House €5"])
def test_windows_1252_names_come_out_right_not_as_mojibake(tmp_path: Path, name: str) -> None:
    rows = [f"2005-05-01,mental-health,council,spend,3.00,,board,,{name},"]
    path = ledger(tmp_path, text(rows).encode("cp1252"))
    assert suppliers(path) == [name]
    assert "Ã" not in name and "\ufffd" not in suppliers(path)[0]


def test_bytes_neither_utf8_nor_windows_1252_are_refused(tmp_path: Path) -> None:
    path = ledger(tmp_path, text().encode("utf-8") + b"2005-05-03,mental-health,\x81\xff,x\n")
    result = run(path)
    assert result.exit_code == 1
    assert "error[L018]" in result.output and "neither UTF-8 nor Windows-1252" in result.output


def test_a_utf8_sequence_cut_between_blocks_is_still_utf8(tmp_path: Path) -> None:
    filler = "x" * ((1 << 20) - len(HEADER) - 2)
    body = f"{HEADER}\n{filler}£\n"  # the two bytes of £ straddle the first megabyte
    path = ledger(tmp_path, body.encode("utf-8"))
    assert sniff(path) == UTF8


def test_a_large_windows_1252_ledger_read_by_two_processes_matches_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    rows = [f"2005-05-01,mental-health,council,spend,1.00,,board,,Café {i}," for i in range(4000)]
    path = ledger(tmp_path, text(rows).encode("cp1252"))
    from agreementdsl.engine import parallel
    from agreementdsl.engine.run import execute_ledger

    ir = compile_file(HEREFORDSHIRE)
    one = execute_ledger(ir, path)
    monkeypatch.setattr(parallel, "MIN_BYTES", 0)
    assert parallel.slices(LedgerReader(path, {}, frozenset())) is not None  # it is cut in two
    two = execute_ledger(ir, path)
    try:
        assert (
            (two.totals.read, two.totals.used)
            == (one.totals.read, one.totals.used)
            == (
                4000,
                4000,
            )
        )
        assert any(w.startswith("L019") for w in two.warnings)
    finally:
        one.totals.approvals.close()
        two.totals.approvals.close()


def test_an_agreement_that_is_not_utf8_is_e001(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_bytes(HEREFORDSHIRE.read_text("utf-8").encode("cp1252"))
    result = CliRunner().invoke(main, ["check", str(path)])
    assert result.exit_code == 1
    assert "error[E001]" in result.output and "0xa3" in result.output


def test_a_windows_1252_disputes_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "disputes.csv"
    path.write_bytes(
        "id,pool,raised_on,resolved_on,subject\nD1,mental-health,2005-11-01,,Café £5\n".encode(
            "cp1252"
        )
    )
    found, rejected = read_disputes(path, {"mental-health": True})
    assert rejected == [] and "Café £5" in str(found[0])


# ---------------------------------------------------------------- not text (L018)
def _xlsx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (_xlsx(), "zip archive"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old Excel workbook"),
        (b"%PDF-1.4\n", "PDF"),
        (gzip.compress(text().encode()), "gzip"),
        (text().encode("utf-16"), "UTF-16"),
        (
            text().encode() + b"2005-05-03,mental-health,council,spend,1\x00.00,,,,,\n",
            "NUL byte on line 4",
        ),
        (b"\x00" * 4096, "NUL byte on line 1"),
    ],
    ids=["xlsx", "xls", "pdf", "gzip", "utf-16", "nul-in-a-row", "zeros"],
)
def test_a_ledger_that_is_not_text_stops_the_run(tmp_path: Path, data: bytes, says: str) -> None:
    path = ledger(tmp_path, data, "ledger.csv")  # a workbook named .xlsx goes to DuckDB (below)
    result = run(path)
    assert result.exit_code == 1
    assert "error[L018]" in result.output and says in result.output
    assert "export it from the finance system as CSV, UTF-8" in result.output


def test_a_broken_workbook_is_one_error_on_the_duckdb_path(tmp_path: Path) -> None:
    result = run(ledger(tmp_path, _xlsx(), "ledger.xlsx"))  # auto: a workbook goes to DuckDB
    assert result.exit_code == 1
    assert "error[L103]: cannot read the workbook" in result.output


def test_a_jsonl_ledger_with_a_nul_is_not_text(tmp_path: Path) -> None:
    path = ledger(tmp_path, b'{"date": "2005-05-01\x00"}\n', "ledger.jsonl")
    assert "error[L018]" in run(path).output


def test_a_disputes_file_that_is_a_workbook_stops_with_l018(tmp_path: Path) -> None:
    path = ledger(tmp_path, _xlsx(), "disputes.csv")
    with pytest.raises(LedgerError) as caught:
        read_disputes(path, {"mental-health": True})
    assert caught.value.code == "L018"


def test_sniff_names_what_it_found(tmp_path: Path) -> None:
    with pytest.raises(NotText, match="zip archive"):
        sniff(ledger(tmp_path, _xlsx()))


# ---------------------------------------------------------------- lines of megabytes (L017)
def test_a_field_of_megabytes_rejects_its_row_and_the_run_goes_on(tmp_path: Path) -> None:
    rows = [
        ROWS[0],
        f"2005-05-03,mental-health,council,spend,5.00,,board,,{'x' * 3_000_000},",
        ROWS[1],
    ]
    path = ledger(tmp_path, text(rows).encode())
    data = as_json(path)
    assert [(r["row"], r["code"]) for r in data["rejected"]] == [(3, "L017")]
    assert mh(data)["actual"] == "1350.49"


def test_a_header_with_a_field_of_megabytes_stops_with_l017_not_a_traceback(
    tmp_path: Path,
) -> None:
    # Found by `make fuzz` (finding d4e71874c00c): csv.Error escaped from the header line.
    path = ledger(tmp_path, (HEADER + "," + "h" * 200_000 + "\n" + ROWS[1] + "\n").encode())
    result = run(path)
    assert result.exit_code == 1
    assert "error[L017]" in result.output and "header line" in result.output


def test_a_quoted_field_of_megabytes_over_many_lines_is_one_rejected_row(tmp_path: Path) -> None:
    long = "\n".join("y" * 100 for _ in range(2_000))  # 200 KB in one quoted field
    rows = [ROWS[0], f'2005-05-03,mental-health,council,spend,5.00,,board,,"{long}",', ROWS[1]]
    path = ledger(tmp_path, text(rows).encode())
    data = as_json(path)
    codes = [r["code"] for r in data["rejected"]]
    assert codes[0] == "L017"
    assert mh(data)["actual"] == "1350.49"


def test_a_jsonl_record_of_megabytes_is_rejected_and_the_run_goes_on(tmp_path: Path) -> None:
    good = {"date": "2005-05-01", "pool": "mental-health", "element": "council"}
    lines = [
        json.dumps({**good, "kind": "spend", "amount": "1.00", "supplier": "z" * 2_000_000}),
        json.dumps({**good, "kind": "spend", "amount": "2.00"}),
    ]
    path = ledger(tmp_path, ("\n".join(lines) + "\n").encode(), "ledger.jsonl")
    data = as_json(path)
    assert [(r["row"], r["code"]) for r in data["rejected"]] == [(1, "L017")]
    assert mh(data)["actual"] == "2.00"


def test_a_disputes_file_with_a_field_of_megabytes_stops_with_l017(tmp_path: Path) -> None:
    path = tmp_path / "disputes.csv"
    path.write_text(
        f"id,pool,raised_on,resolved_on,subject\nD1,mental-health,2005-11-01,,{'s' * 200_000}\n"
    )
    with pytest.raises(LedgerError) as caught:
        read_disputes(path, {"mental-health": True})
    assert caught.value.code == "L017"


# ---------------------------------------------------------------- £1 trillion (L016)
@pytest.mark.parametrize(
    "amount",
    ["1000000000000.00", "£1,000,000,000,000", "-1000000000000.00", "99999999999999999999"],
)
def test_a_ledger_amount_of_a_trillion_or_more_is_l016(tmp_path: Path, amount: str) -> None:
    rows = [f'2005-05-01,mental-health,council,spend,"{amount}",,board,,,', ROWS[1]]
    data = as_json(ledger(tmp_path, text(rows).encode()))
    assert [(r["row"], r["code"]) for r in data["rejected"]] == [(2, "L016")]
    assert mh(data)["actual"] == "99.99"


def test_an_amount_a_penny_under_a_trillion_is_used(tmp_path: Path) -> None:
    rows = ["2005-05-01,mental-health,council,income,999999999999.99,,,,,"]
    data = as_json(ledger(tmp_path, text(rows).encode()))
    assert data["rejected"] == []
    assert mh(data)["actual"] == "-999999999999.99"


def test_strict_exits_1_on_l016(tmp_path: Path) -> None:
    rows = ["2005-05-01,mental-health,council,spend,1000000000000.00,,board,,,"]
    assert run(ledger(tmp_path, text(rows).encode()), "--strict").exit_code == 1
