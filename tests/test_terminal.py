"""Text for terminals: control characters in echoed fields are shown escaped, never emitted."""

from __future__ import annotations

import csv
from pathlib import Path

from click.testing import CliRunner

from agreementdsl.cli import main
from agreementdsl.diagnostics import error, format_text
from agreementdsl.source import SourceFile, Span
from agreementdsl.terminal import visible

ROOT = Path(__file__).resolve().parents[1]
HEREFORDSHIRE = ROOT / "agreements" / "herefordshire.yaml"
LEDGER = ROOT / "agreements" / "herefordshire-2005-06.csv"
OSC_TITLE = "\x1b]0;pwned\x07"  # sets the terminal's window title
RED = "\x1b[31m"
CLEAR = "\x1b[2J"


def test_visible_escapes_c0_c1_del_and_bidi_controls_and_keeps_the_rest() -> None:
    assert visible(f"a{OSC_TITLE}b") == "a\\x1b]0;pwned\\x07b"
    assert visible("x\x7fy\x9bz") == "x\\x7fy\\x9bz"
    assert visible("tab\there\nnew\rline") == "tab\\there\\nnew\\rline"
    assert visible("abc\u202edef\u2066") == "abc\\u202edef\\u2066"
    plain = "Mental Health Pooled Fund — £1,000.00 (50%) O'Brien & Sons"
    assert visible(plain) == plain


def _hostile_ledger(tmp_path: Path) -> Path:
    """The Herefordshire ledger with escape sequences in the free-text columns and bad rows."""
    with LEDGER.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    header = rows[0]
    out = [header]
    for row in rows[1:]:
        for column in ("supplier", "description", "reference", "approved_by"):
            row[header.index(column)] += OSC_TITLE + RED + "RED"
        out.append(row)
    bad = list(rows[1])
    bad[header.index("pool")] = "mental-health" + CLEAR
    out.append(bad)
    path = tmp_path / "hostile.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(out)
    return path


def test_run_text_shows_escape_sequences_from_the_ledger_escaped(tmp_path: Path) -> None:
    ledger = _hostile_ledger(tmp_path)
    result = CliRunner().invoke(
        main, ["run", str(HEREFORDSHIRE), "--ledger", str(ledger), "--explain"]
    )
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "approved by executives\\x1b]0" in result.output  # the approver, as written
    assert "pool 'mental-health\\x1b[2J' is not a pool" in result.output  # a rejected row


def test_run_json_keeps_the_fields_exactly(tmp_path: Path) -> None:
    """Escaping is for terminals: the JSON contract carries the bytes as they were."""
    ledger = _hostile_ledger(tmp_path)
    result = CliRunner().invoke(
        main, ["run", str(HEREFORDSHIRE), "--ledger", str(ledger), "--format", "json"]
    )
    assert result.exit_code == 0
    assert "\\u001b[2J" in result.output  # json.dumps escapes it, as JSON must


def test_check_quotes_a_source_line_with_its_control_characters_escaped() -> None:
    source = SourceFile("a.yaml", f"title: x{RED}y\x1b]8;;http://evil\x07z\n")
    diag = error("E103", Span("a.yaml", 1, 10, 1, 11), f"bad value `{RED}`", f"not {CLEAR}")
    text = format_text(diag, source)
    assert "\x1b" not in text and "\x07" not in text
    lines = text.split("\n")
    assert lines[0] == "a.yaml:1:10: error[E103]: bad value `\\x1b[31m`"
    assert lines[1] == " 1 | title: x\\x1b[31my\\x1b]8;;http://evil\\x07z"
    # the caret stays under the character it points at (the `[` after the escape), now 4 wide
    assert lines[2].index("^") == lines[1].index("[31m")
    assert lines[3] == "  = hint: not \\x1b[2J"


def test_check_of_an_agreement_with_escapes_in_a_name_prints_none(tmp_path: Path) -> None:
    text = (ROOT / "tests" / "defects" / "baseline.yaml").read_text("utf-8")
    text = text.replace("host: pct", 'host: "pct\\e]0;pwned\\a"')  # YAML's escapes
    path = tmp_path / "hostile.yaml"
    path.write_text(text, "utf-8")
    result = CliRunner().invoke(main, ["check", str(path)])
    assert result.exit_code == 1
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "\\x1b]0;pwned\\x07" in result.output


def test_test_report_escapes_scenario_names(tmp_path: Path) -> None:
    (tmp_path / "baseline.yaml").write_text(
        (ROOT / "tests" / "defects" / "baseline.yaml").read_text("utf-8"), "utf-8"
    )
    (tmp_path / "baseline.test.yaml").write_text(
        "scenarios:\n"
        '  - name: "evil \\e]0;title\\a name"\n'
        "    transaction: { date: 2005-06-01, pool: mh, element: nhs, kind: spend, amount: 10 }\n"
        "    expect: { overspend: 5 }\n",
        "utf-8",
    )
    result = CliRunner().invoke(main, ["test", str(tmp_path)])
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "evil \\x1b]0;title\\x07 name" in result.output


def test_fmt_check_shows_the_agreement_lines_escaped(tmp_path: Path) -> None:
    text = (ROOT / "tests" / "defects" / "baseline.yaml").read_text("utf-8")
    text = text.replace("up to £50,000: manager", "up to   £50,000:  manager  # \u202eeganam")
    path = tmp_path / "bidi.yaml"
    path.write_text(text, "utf-8")
    result = CliRunner().invoke(main, ["fmt", "--check", str(path)])
    assert result.exit_code == 1
    assert "\u202e" not in result.output
    assert "# \\u202eeganam" in result.output


def test_junit_output_stays_well_formed_xml_with_control_characters(tmp_path: Path) -> None:
    import xml.etree.ElementTree as ET

    (tmp_path / "baseline.yaml").write_text(
        (ROOT / "tests" / "defects" / "baseline.yaml").read_text("utf-8"), "utf-8"
    )
    (tmp_path / "baseline.test.yaml").write_text(
        "scenarios:\n"
        '  - name: "evil \\e]0;title\\a name"\n'
        "    transaction: { date: 2005-06-01, pool: mh, element: nhs, kind: spend, amount: 10 }\n"
        "    expect: { actual: 5 }\n",
        "utf-8",
    )
    result = CliRunner().invoke(main, ["test", str(tmp_path), "--format", "junit"])
    assert result.exit_code == 1
    case = ET.fromstring(result.output).find(".//testcase")
    assert case is not None and case.get("name") == "evil \\x1b]0;title\\x07 name"


def test_exit_and_whatif_text_show_escapes_in_names_escaped(tmp_path: Path) -> None:
    text = HEREFORDSHIRE.read_text("utf-8").replace(
        "name: Mental Health Services Pooled Fund", 'name: "Mental Health\\e[31mFund"'
    )  # YAML's own escape: the file holds no control character, the name does
    agreement = tmp_path / "h.yaml"
    agreement.write_text(text, "utf-8")
    ledger = tmp_path / "l.csv"
    ledger.write_text(
        "date,pool,element,kind,amount,approved_by\n"
        "2006-05-10,mental-health,council,spend,100.00,board\n",
        "utf-8",
    )
    for args in (
        ["run", str(agreement), "--ledger", str(ledger), "--exit-on", "2006-09-30"],
        ["whatif", str(agreement), "--pool", "mental-health", "--outturn", "£17m..£18m"],
    ):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
        assert "\x1b" not in result.output, args
