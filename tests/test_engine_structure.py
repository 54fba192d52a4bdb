"""A ledger's structure: doubled, unknown and misspelt columns, and quotes that are never closed
(nothing is chosen or lost silently)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agreementdsl.cli import main
from agreementdsl.engine.structure import near_miss, read_header, unclosed_quote

ROOT = Path(__file__).resolve().parents[1]
HEREFORDSHIRE = ROOT / "agreements" / "herefordshire.yaml"
HEADER = "date,pool,element,kind,amount,partner,approved_by,in_plan,supplier,description"


def row(n: int, supplier: str = "Oak House") -> str:
    return f"2005-05-{1 + n % 28:02d},mental-health,council,spend,100.00,,board,,{supplier},row {n}"


def run(tmp_path: Path, text: str, *options: str, name: str = "ledger.csv") -> tuple[int, Any]:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    result = CliRunner().invoke(
        main,
        ["run", str(HEREFORDSHIRE), "--ledger", str(path), "--as-of", "2005-06-30",
         "--format", "json", *options],
    )  # fmt: skip
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    try:
        return result.exit_code, json.loads(result.stdout)
    except json.JSONDecodeError:
        return result.exit_code, result.stderr


# ---------------------------------------------------------------- unclosed quotes
def unclosed(rows: int = 72, broken: int = 9) -> str:
    lines = [HEADER, *(row(n) for n in range(rows))]
    lines[broken + 1] = row(broken, '"Oak House')  # the quote opens on line broken + 2
    return "\n".join(lines) + "\n"


def test_an_unclosed_quote_is_reported_where_it_opened_with_the_lines_it_covered(
    tmp_path: Path,
) -> None:
    code, data = run(tmp_path, unclosed())
    assert code == 0
    [rejected] = data["rejected"]
    assert (rejected["row"], rejected["code"]) == (11, "L015")
    assert "opened on line 11" in rejected["message"]
    assert "the next 62 lines (to line 73)" in rejected["message"]
    assert any(w.startswith("L015: ") for w in data["warnings"])
    rows = data["rows"]
    assert rows["read"] == rows["used"] + rows["rejected"]


def test_strict_fails_on_an_unclosed_quote(tmp_path: Path) -> None:
    code, _ = run(tmp_path, unclosed(), "--strict")
    assert code == 1


def test_a_quoted_description_over_lines_is_still_a_row(tmp_path: Path) -> None:
    lines = [HEADER, *(row(n) for n in range(10))]
    lines[3] = lines[3].replace("row 2", '"row 2, first line\nsecond line, with a comma\nthird"')
    code, data = run(tmp_path, "\n".join(lines) + "\n", "--strict")
    assert code == 0, data
    assert data["rows"] == {"read": 10, "used": 10, "rejected": 0}


def test_unclosed_quote_needs_a_line_that_reads_as_a_whole_row() -> None:
    assert unclosed_quote(["a", "b\nc, d", "e"], 3) is None
    assert unclosed_quote(["a", "b\n2005-05-01,x,y\n2005-05-02,x,y\n"], 3) == 3
    assert unclosed_quote(["a", "one line"], 3) is None


# ---------------------------------------------------------------- headers
def test_a_doubled_amount_column_stops_the_run_naming_it(tmp_path: Path) -> None:
    code, err = run(tmp_path, HEADER + ",amount\n" + row(1) + ",200.00\n")
    assert code == 1
    assert "error[L012]:" in err and "2 `amount` columns (columns 5, 11)" in err
    assert "hint: keep one `amount` column" in err


def test_a_column_doubled_only_after_trimming_and_case_is_doubled_too(tmp_path: Path) -> None:
    code, err = run(tmp_path, HEADER + ",Amount \n" + row(1) + ",200.00\n")
    assert code == 1 and "error[L012]:" in err


def test_a_misspelt_required_column_is_named_in_the_hint(tmp_path: Path) -> None:
    code, err = run(tmp_path, HEADER.replace("amount", "amout") + "\n" + row(1) + "\n")
    assert code == 1
    assert "error[L101]:" in err and "no `amount` column" in err
    assert "`amout` is probably `amount`" in err


@pytest.mark.parametrize("engine", ["reference", "duckdb"])
def test_empty_lines_above_the_header_are_named_with_where_the_header_is(
    tmp_path: Path, engine: str
) -> None:
    """Empty lines before the header: the message says where the header is, not only that
    the columns are missing; a file of empty lines (or bare commas) has no header at all."""
    body = HEADER + "\n" + row(1) + "\n"
    code, err = run(tmp_path, "\n" + body, "--engine", engine)
    assert code == 1 and "error[L101]:" in err
    assert "begins with 1 empty line: the columns are named on line 2" in err
    assert "hint: delete the empty line above the header" in err
    code, err = run(tmp_path, "\r\n \n\n" + body, "--engine", engine)
    assert "begins with 3 empty lines: the columns are named on line 4" in err
    for text in ("\n\n", ",,,\n\n"):
        code, err = run(tmp_path, text, "--engine", engine)
        assert code == 1 and "has no header: it holds only empty lines" in err
    # lines read as the CSV reader reads them (found by a user: a bare CR, a form feed, a
    # no-break space or `""` on the first line made "begins with 0 empty line")
    for first in ("\r", "\x0c\n", "\u00a0\n", '""\n', " , ,\r\n"):
        code, err = run(tmp_path, first + body.replace("\n", first[-1]), "--engine", engine)
        assert "begins with 1 empty line: the columns are named on line 2" in err, (first, err)
    code, err = run(tmp_path, "\n" * 1500 + body, "--engine", engine)
    assert "begins with 1,500 empty lines: the columns are named on line 1501" in err
    code, err = run(tmp_path, "\n" + row(1) + "\n", "--engine", engine)
    assert (
        "begins with 1 empty line, and line 2, the first with text, does not name the columns "
        "either (no `date`, `pool`, `kind`, `amount` columns)" in err
    )


def test_a_misspelt_optional_column_warns_naming_the_column_meant(tmp_path: Path) -> None:
    code, data = run(tmp_path, HEADER.replace("supplier", "suplier") + "\n" + row(1) + "\n")
    assert code == 0
    assert any("L013:" in w and "`suplier`" in w and "`supplier`" in w for w in data["warnings"])


def test_spaces_around_a_column_name_are_read_with_a_warning(tmp_path: Path) -> None:
    code, data = run(tmp_path, HEADER.replace("amount", "Amount ") + "\n" + row(1) + "\n")
    assert code == 0
    assert data["rows"]["used"] == 1
    assert any(w.startswith("L014:") and "`Amount `" in w for w in data["warnings"])


def test_a_jsonl_record_giving_a_field_twice_is_a_bad_row(tmp_path: Path) -> None:
    good = '{"date": "2005-05-01", "pool": "mental-health", "element": "council", "kind": "spend", "amount": "1.00"}'
    doubled = good.replace('"amount": "1.00"', '"amount": "1.00", "amount": "2.00"')
    code, data = run(tmp_path, f"{good}\n{doubled}\n", name="ledger.jsonl")
    assert code == 0
    assert [(r["row"], r["code"]) for r in data["rejected"]] == [(2, "L012")]
    assert "`amount`" in data["rejected"][0]["message"]


def test_read_header_notes_every_doubtful_name() -> None:
    header = read_header(["Date", " pool", "kind", "amount", "amount", "suplier", "vat", ""])
    assert header.names[:3] == ["date", "pool", "kind"]
    assert [p.code for p in header.problems] == ["L012"]
    codes = [w.split(":")[0] for w in header.warnings]
    assert codes == ["L014", "L013", "L102"]
    assert "an unnamed column" in header.warnings[-1]
    assert near_miss("amout") == "amount" and near_miss("cost_centre") is None


def test_jsonl_field_names_are_read_as_written_and_near_misses_named(tmp_path: Path) -> None:
    record = '{"date": "2005-05-01", "pool": "mental-health", "element": "council", "kind": "spend", "Amount ": "1.00"}'
    code, data = run(tmp_path, record + "\n", "--as-of", "2005-06-30", name="ledger.jsonl")
    assert code == 0
    assert [(r["row"], r["code"]) for r in data["rejected"]] == [(1, "L011")]
    assert any(
        w.startswith("L013:") and "`Amount `" in w and "`amount`" in w for w in data["warnings"]
    )
    assert not any(w.startswith("L014") for w in data["warnings"])


def test_a_disputes_file_with_a_column_twice_stops_the_run(tmp_path: Path) -> None:
    disputes = tmp_path / "disputes.csv"
    disputes.write_text(
        "id,pool,raised_on,raised_on,subject\nD1,mental-health,2005-05-01,2005-06-01,fees\n",
        "utf-8",
    )
    code, err = run(tmp_path, HEADER + "\n" + row(1) + "\n", "--disputes", str(disputes))
    assert code == 1
    assert "error[L012]: the disputes file" in err and "`raised_on` twice" in err


# ---------------------------------------------------------------- property: unclosed quotes
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.integers(3, 40),
    broken=st.integers(0, 39),
    closed_later=st.one_of(st.none(), st.integers(1, 39)),
    legit=st.sets(st.integers(0, 39), max_size=3),
)
def test_an_unclosed_quote_anywhere_is_one_rejected_row_and_nothing_else_goes(
    tmp_path_factory: pytest.TempPathFactory,
    rows: int,
    broken: int,
    closed_later: int | None,
    legit: set[int],
) -> None:
    """A quote left open on one row runs to the next quote (or the end); the rows before it are
    read as they are, it is one L015 row at its own line, and read = used + rejected."""
    broken = broken % rows
    lines = [HEADER, *(row(n) for n in range(rows))]
    for n in legit - {broken}:
        if n < broken:  # a description over two lines, before the broken row
            lines[n + 1] = lines[n + 1].replace(f"row {n}", f'"row {n}\nits second line"')
    lines[broken + 1] = row(broken, '"Oak House')
    if closed_later is not None and broken + 1 + closed_later < len(lines):
        at = broken + 1 + closed_later
        lines[at] = lines[at].replace(",Oak House,", ',Oak House",', 1)
    path = tmp_path_factory.mktemp("ledger") / "ledger.csv"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    code, data = run(path.parent, path.read_text("utf-8"))
    physical = path.read_text("utf-8").split("\n")
    opened = next(i for i, line in enumerate(physical, start=1) if '"Oak House' in line)
    if opened == len(physical) - 1 or (code == 2):
        return  # the broken row is the last line: it spans nothing; or no row is usable
    counts = data["rows"]
    assert counts["read"] == counts["used"] + counts["rejected"]
    [quote] = data["rejected"]  # every other row is sound
    assert (quote["row"], quote["code"]) == (opened, "L015")
    found = re.search(r"to line ([0-9]+)", quote["message"])
    assert found is not None
    to = int(found[1])
    assert to > opened
    # Rows before the quote and after the line it ran to are read and used, each once.
    after = sum(1 for line in physical[to:] if line)
    assert counts["used"] == broken + after
