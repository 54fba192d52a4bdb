"""The command line, end to end: exit codes, formats and the schema command."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from agreementdsl.cli import main

ROOT = Path(__file__).resolve().parents[1]
HEREFORDSHIRE = ROOT / "agreements" / "herefordshire.yaml"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def _without_ld_2007(tmp_path: Path) -> Path:
    """Herefordshire with no learning-disabilities contributions for 2007/08 (a W501)."""
    text = HEREFORDSHIRE.read_text("utf-8")
    line = '      2007/08: { hpct: "prior year", hc: "prior year" }\n'
    assert text.count(line) == 1
    path = tmp_path / "herefordshire.yaml"
    path.write_text(text.replace(line, ""), "utf-8")
    return path


def test_check_clean_agreement_exits_0_with_warnings(tmp_path: Path) -> None:
    # LANGUAGE.md §1 states no `provisions:` (schedules only): no W410, placeholders in render
    code, out = run("check", "--strict", str(HEREFORDSHIRE))
    assert (code, out.count("warning[W410]")) == (0, 0)
    assert out.endswith("checked 1 file: 0 errors, 0 warnings\n")
    code, out = run("check", str(_without_ld_2007(tmp_path)))
    assert code == 0
    assert "0 errors, 1 warning\n" in out
    assert "warning[W501]" in out


def test_check_folder_finds_every_agreement_but_not_scenario_files() -> None:
    code, out = run("check", str(ROOT / "agreements"))
    assert code == 0
    files = len(
        [p for p in (ROOT / "agreements").glob("*.yaml") if not p.name.endswith(".test.yaml")]
    )
    assert f"checked {files} file" in out


def test_strict_makes_warnings_fail(tmp_path: Path) -> None:
    code, _ = run("check", "--strict", str(ROOT / "agreements" / "bcf-wealdshire.yaml"))
    assert code == 0  # an agreement without warnings
    code, _ = run("check", "--strict", str(_without_ld_2007(tmp_path)))
    assert code == 1


def test_errors_exit_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        HEREFORDSHIRE.read_text("utf-8").replace("first £280,000 to host", "first £280,000 to hots")
    )
    code, out = run("check", str(bad))
    assert code == 1
    assert f"{bad}:47:27: error[E301]: unknown partner `hots` in the risk share" in out
    assert "47 |         first £280,000 to hots" in out
    assert "= hint: did you mean `host` (the pool's host partner)?" in out


def test_json_format(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        HEREFORDSHIRE.read_text("utf-8").replace("manager: mh-manager", "manager: mh-manger")
    )
    code, out = run("check", "--format", "json", str(bad))
    assert code == 1
    report = json.loads(out)
    assert report["errors"] == 1
    [err] = [d for d in report["diagnostics"] if d["severity"] == "error"]
    assert (err["code"], err["line"], err["col"], err["hint"]) == (
        "E302",
        33,
        14,
        "did you mean `mh-manager`?",
    )


@pytest.mark.parametrize(
    "args",
    [
        ["check"],
        ["check", "no/such/file.yaml"],
        ["check", "--format", "xml", "agreements"],
        ["nope"],
    ],
)
def test_usage_errors_exit_2(args: list[str]) -> None:
    code, _ = run(*args)
    assert code == 2


def test_a_folder_without_agreements_is_a_usage_error(tmp_path: Path) -> None:
    code, out = run("check", str(tmp_path))
    assert code == 2
    assert "no agreement files" in out


def test_unreadable_file_is_a_diagnostic_not_a_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes(b"agreement:\n  title: \xa3\xff\n")
    code, out = run("check", str(bad))
    assert code == 1
    assert ":2:10: error[E001]: the file is not UTF-8 text: byte 0xa3 cannot be read" in out


def test_schema_is_valid_draft_2020_12_and_accepts_the_examples() -> None:
    code, out = run("schema")
    assert code == 0
    schema = json.loads(out)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for path in (ROOT / "agreements").glob("*.yaml"):
        if path.name.endswith(".test.yaml"):
            continue
        # YAML dates load as date objects; the schema (like yaml-language-server) sees text.
        data = yaml.load(path.read_text("utf-8"), Loader=yaml.BaseLoader)
        errors = [e.message for e in validator.iter_errors(data) if e.validator != "type"]
        assert errors == [], path.name


# ---------------------------------------------------------------- start-up
_IMPORTS = """
import sys
from agreementdsl.cli import main
try:
    main([sys.argv[1]], prog_name="agreementdsl")
except SystemExit:
    pass
heavy = ("lark", "jsonschema", "yaml", "jinja2", "holidays", "docx", "num2words")
print(sorted(m for m in sys.modules if m.startswith("agreementdsl") or m.split(".")[0] in heavy))
"""


@pytest.mark.parametrize("option", ["--help", "--version"])
def test_help_and_version_import_none_of_the_library(option: str) -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", _IMPORTS, option], capture_output=True, text=True, check=True
    )
    *shown, imported = done.stdout.strip().splitlines()
    # only command definitions: cli.py, its option parsing and the report package's commands (none imports
    # heavier than click until a command runs)
    assert imported == (
        "['agreementdsl', 'agreementdsl.cli', 'agreementdsl.options', 'agreementdsl.report', "
        "'agreementdsl.report.commands']"
    )
    if option == "--version":
        from importlib.metadata import version

        assert shown == [f"agreementdsl, version {version('agreementdsl')}"]


def test_the_package_version_is_the_installed_distributions() -> None:
    from importlib.metadata import version

    import agreementdsl

    assert agreementdsl.__version__ == version("agreementdsl")


def test_check_of_the_examples_imports_only_what_checking_needs() -> None:
    import subprocess
    import sys

    code = _IMPORTS.replace("main([sys.argv[1]]", "main(['check', sys.argv[1]]")
    done = subprocess.run(
        [sys.executable, "-c", code, str(ROOT / "agreements")],
        capture_output=True,
        text=True,
        check=True,
    )
    imported = done.stdout.strip().splitlines()[-1]
    for module in ("lark", "yaml"):  # the clause parser and the YAML reader
        assert f"'{module}'" in imported
    for module in ("jsonschema", "holidays", "jinja2", "docx", "num2words", "engine"):
        assert module not in imported, imported


def test_check_whole_warns_of_what_a_schedules_only_draft_leaves_to_be_agreed() -> None:
    """`check --whole` checks an agreement with no `provisions:` as one to be signed whole: the
    matters its draft leaves "[to be agreed: …]" are W410s, and with --strict they fail."""
    from click.testing import CliRunner

    from agreementdsl.cli import main

    path = str(Path(__file__).resolve().parents[1] / "agreements" / "herefordshire.yaml")
    plain = CliRunner().invoke(main, ["check", "--strict", path])
    assert plain.exit_code == 0, plain.output
    whole = CliRunner().invoke(main, ["check", "--strict", "--whole", path])
    assert whole.exit_code == 1
    assert "warning[W410]" in whole.output and "warning[W801]" in whole.output
    assert "the agreement does not state how this Agreement is varied" in whole.output


@pytest.mark.parametrize("engine", ["reference", "duckdb"])
def test_a_reader_that_stops_reading_ends_the_run_quietly_with_141(engine: str) -> None:
    """`run … | head`: once the reader closes the pipe, the run ends with the shell's status
    for a closed pipe (128 + SIGPIPE), no traceback or message, not the 1 that means errors
    (or rejected rows, under --strict); DuckDB's working folder is removed on the way out."""
    import os
    import shutil
    import subprocess
    import sys
    import tempfile

    scratch = tempfile.mkdtemp()
    command = [
        sys.executable, "-c", "from agreementdsl.cli import main; main()",
        "run", str(ROOT / "agreements" / "herefordshire.yaml"),
        "--ledger", str(ROOT / "agreements" / "herefordshire-2005-06.csv"),
        "--format", "json", "--engine", engine,
    ]  # fmt: skip
    env = {**os.environ, "TMPDIR": scratch}
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        assert process.stdout.read(10) == b'{\n  "agree'
        process.stdout.close()  # the JSON is 80 KB: more than the pipe holds
        said = process.stderr.read()
        code = process.wait(timeout=60)
    assert code == 141 and said == b"", said
    left = [n for n in os.listdir(scratch) if n.startswith("agreementdsl")]
    assert left == [], left  # (lark keeps its grammar's cache there, by design)
    shutil.rmtree(scratch)


@pytest.mark.parametrize("command", ["check", "run"])
def test_a_command_with_its_output_closed_runs_and_drops_it(command: str) -> None:
    """Standard output closed before the command starts (`>&-`, as cron may leave it): the
    command runs as if it were /dev/null, with no traceback (found by review: a closed pipe's
    handling flushed a stream that was not there)."""
    import subprocess
    import sys

    args = [str(ROOT / "agreements" / "herefordshire.yaml")]
    if command == "run":
        args += ["--ledger", str(ROOT / "agreements" / "herefordshire-2005-06.csv")]
    done = subprocess.run(
        ["sh", "-c", 'exec "$0" "$@" >&-', sys.executable, "-c",
         "from agreementdsl.cli import main; main()", command, *args],
        stderr=subprocess.PIPE,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0 and done.stderr == b"", done.stderr


def test_a_run_whose_reader_has_gone_before_its_output_is_flushed_ends_with_141() -> None:
    """Output held in Python's buffer (no PYTHONUNBUFFERED) meets the closed pipe only when the
    run has succeeded and flushes it: that is a closed pipe too, 141, not the run's 0 (found by
    review)."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    command = [
        sys.executable, "-c", "from agreementdsl.cli import main; main()",
        "run", str(ROOT / "agreements" / "herefordshire.yaml"),
        "--ledger", str(ROOT / "agreements" / "herefordshire-2005-06.csv"),
    ]  # fmt: skip
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        process.stdout.close()  # nobody reads: the text (5 KB) waits in the buffer till the end
        said = process.stderr.read()
        code = process.wait(timeout=60)
    assert code == 141 and said == b"", said
