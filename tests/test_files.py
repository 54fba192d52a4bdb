"""Files from untrusted places: only regular files are read, agreements up to a size limit,
refused quickly with a stable code; written files replace atomically and never follow links."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from agreementdsl.api import load
from agreementdsl.cli import main
from agreementdsl.files import AGREEMENT_LIMIT, FileRefused, atomic_write, read_regular
from agreementdsl.source import SourceFile

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "tests" / "defects" / "baseline.yaml"
HEREFORDSHIRE = ROOT / "agreements" / "herefordshire.yaml"
LEDGER = ROOT / "agreements" / "herefordshire-2005-06.csv"
needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")


def codes(path: Path) -> list[str]:
    return [d.code for d in load(path).diagnostics]


# ---------------------------------------------------------------- special files
@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_dev_zero_as_an_agreement_is_refused_not_read() -> None:
    start = time.monotonic()
    assert codes(Path("/dev/zero")) == ["P005"]
    assert time.monotonic() - start < 1


@needs_fifo
def test_a_fifo_named_yaml_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    start = time.monotonic()
    result = CliRunner().invoke(main, ["check", str(fifo)])
    assert time.monotonic() - start < 1
    assert result.exit_code == 1
    assert "error[P005]: a named pipe (FIFO), not a regular file" in result.output


@needs_fifo
def test_a_fifo_as_ledger_or_disputes_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "ledger.csv"
    os.mkfifo(fifo)
    for option in ("--ledger", "--disputes", "--measures"):
        args = ["run", str(HEREFORDSHIRE), "--ledger", str(LEDGER), option, str(fifo)]
        if option == "--ledger":
            args = ["run", str(HEREFORDSHIRE), "--ledger", str(fifo)]
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 1, option
        assert "error[P005]" in result.output, option


def test_a_folder_named_yaml_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "odd.yaml"
    folder.mkdir()
    with pytest.raises(FileRefused) as refused:
        read_regular(folder, 100)
    assert refused.value.code == "P005"


# ---------------------------------------------------------------- sizes
def test_an_agreement_over_the_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    with big.open("wb") as handle:  # sparse: no 10 MB written to the disk
        handle.write(BASELINE.read_bytes())
        handle.truncate(AGREEMENT_LIMIT + 1)
    start = time.monotonic()
    result = CliRunner().invoke(main, ["check", str(big)])
    assert time.monotonic() - start < 1
    assert result.exit_code == 1
    assert f"error[P006]: the file is {AGREEMENT_LIMIT + 1:,} bytes" in result.output
    for command in (["render", "-o", str(tmp_path / "out")], ["compile"], ["fmt"]):
        assert CliRunner().invoke(main, [*command, str(big)]).exit_code == 1


def test_an_agreement_at_the_limit_is_read(tmp_path: Path) -> None:
    path = tmp_path / "padded.yaml"
    text = BASELINE.read_bytes()
    path.write_bytes(text + b"#" * (AGREEMENT_LIMIT - len(text) - 1) + b"\n")
    assert read_regular(path, AGREEMENT_LIMIT) == path.read_bytes()


def test_a_scenario_file_over_the_limit_is_refused(tmp_path: Path) -> None:
    (tmp_path / "baseline.yaml").write_bytes(BASELINE.read_bytes())
    scenarios = tmp_path / "baseline.test.yaml"
    with scenarios.open("wb") as handle:
        handle.truncate(AGREEMENT_LIMIT + 1)
    result = CliRunner().invoke(main, ["test", str(tmp_path)])
    assert result.exit_code == 1
    assert "error[P006]" in result.output


# ---------------------------------------------------------------- linear time
def _split_of(shares: int) -> str:
    names = ", ".join(f"p{i} 0%" for i in range(shares))
    return BASELINE.read_text("utf-8").replace(
        "        rest by contribution\n      underspend:",
        f"        rest split pct 60%, council 40%, {names}\n      underspend:",
        1,
    )


def test_thousands_of_diagnostics_on_one_huge_line_report_in_linear_time(tmp_path: Path) -> None:
    """80,000 unknown partners in one `split`: one diagnostic each, each quoting a window of the
    870 KB line (before: the whole line each time, 70 GB of output, and the file re-split each
    time)."""
    path = tmp_path / "split.yaml"
    path.write_text(_split_of(20_000), "utf-8")
    start = time.monotonic()
    result = CliRunner().invoke(main, ["check", str(path)])
    elapsed = time.monotonic() - start
    assert result.exit_code == 1
    # a split of more shares than any agreement has is now refused as one problem (E014); the
    # report of many diagnostics on one huge line is timed through the report itself below
    assert result.output.count("error[E014]") == 1
    assert max(len(line) for line in result.output.splitlines()) < 400
    assert elapsed < 30, elapsed
    from agreementdsl.diagnostics import error, format_text_report
    from agreementdsl.source import SourceFile, Span

    source = SourceFile("split.yaml", path.read_text("utf-8"))
    line = next(i for i, t in enumerate(source.text.split("\n"), 1) if len(t) > 100_000)
    diags = [
        error("E301", Span("split.yaml", line, col, line, col + 3), "x")
        for col in range(1, 20_001, 1)
    ]
    start = time.monotonic()
    report = format_text_report(diags, {"split.yaml": source})
    assert report.count("error[E301]") == 20_000
    assert max(len(t) for t in report.splitlines()) < 400
    assert time.monotonic() - start < 30  # about 3 s; minutes before


def test_many_warnings_in_a_big_file_report_in_linear_time(tmp_path: Path) -> None:
    """As many spending rules as a clause may hold (500, E014 beyond), each but the first
    unreachable (limits that descend): a W701 each, reported quickly; 12,000 are refused at once
    (the check itself on 12,000 is timed in test_checks_spending.py)."""
    for count, expected in ((499, "warning[W701]"), (12_000, "error[E014]")):
        rules = "".join(f"      up to £{90_000 - i:,}: manager\n" for i in range(count))
        text = BASELINE.read_text("utf-8").replace("      up to £50,000: manager\n", rules, 1)
        path = tmp_path / "spending.yaml"
        path.write_text(text, "utf-8")
        start = time.monotonic()
        result = CliRunner().invoke(main, ["check", str(path)])
        elapsed = time.monotonic() - start
        assert result.output.count(expected) == (count - 1 if count == 499 else 1)
        assert elapsed < 30, elapsed  # about a second


# ---------------------------------------------------------------- atomic writes
def test_atomic_write_replaces_the_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "out.md"
    path.write_text("old", "utf-8")
    path.chmod(0o640)
    atomic_write(path, b"new")
    assert path.read_bytes() == b"new"
    assert path.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["out.md"]


@pytest.mark.skipif(sys.platform == "win32", reason="symbolic links need privileges")
def test_atomic_write_refuses_a_symlink_and_leaves_its_target_alone(tmp_path: Path) -> None:
    target = tmp_path / "precious.txt"
    target.write_text("keep me", "utf-8")
    link = tmp_path / "out.md"
    link.symlink_to(target)
    with pytest.raises(FileRefused) as refused:
        atomic_write(link, b"overwritten")
    assert refused.value.code == "P007"
    assert target.read_text("utf-8") == "keep me"
    assert link.is_symlink()
    dangling = tmp_path / "dangling.md"
    dangling.symlink_to(tmp_path / "nowhere" / "x")
    with pytest.raises(FileRefused):
        atomic_write(dangling, b"x")
    assert not (tmp_path / "nowhere").exists()


# ---------------------------------------------------------------- commands that write
def _agreement(tmp_path: Path) -> Path:
    path = tmp_path / "baseline.yaml"
    path.write_bytes(BASELINE.read_bytes())
    return path


def test_render_refuses_to_write_through_a_symlink(tmp_path: Path) -> None:
    agreement = _agreement(tmp_path)
    out = tmp_path / "build"
    out.mkdir()
    target = tmp_path / "precious.txt"
    target.write_text("keep me", "utf-8")
    (out / "baseline.md").symlink_to(target)
    result = CliRunner().invoke(main, ["render", str(agreement), "--format", "md", "-o", str(out)])
    assert result.exit_code == 1
    assert "error[P007]" in result.output and "symbolic link" in result.output
    assert "Traceback" not in result.output
    assert target.read_text("utf-8") == "keep me"


def test_render_replaces_its_files_atomically_and_leaves_no_temporaries(tmp_path: Path) -> None:
    agreement = _agreement(tmp_path)
    out = tmp_path / "build"
    result = CliRunner().invoke(main, ["render", str(agreement), "-o", str(out)])
    assert result.exit_code == 0, result.output
    first = {p.name: p.read_bytes() for p in out.iterdir()}
    inode = (out / "baseline.md").stat().st_ino
    result = CliRunner().invoke(main, ["render", str(agreement), "-o", str(out)])
    assert result.exit_code == 0
    assert {p.name: p.read_bytes() for p in out.iterdir()} == first  # nothing else left behind
    assert sorted(first) == ["baseline.docx", "baseline.html", "baseline.md"]
    assert (out / "baseline.md").stat().st_ino != inode  # a new file renamed into place


def test_render_into_a_file_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    agreement = _agreement(tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("x", "utf-8")
    result = CliRunner().invoke(main, ["render", str(agreement), "-o", str(blocker / "sub")])
    assert result.exit_code == 1
    assert result.output == (
        f"error[P001]: cannot create the folder {blocker / 'sub'}: {blocker} is a file, not a folder\n"
    )
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_compile_output_and_fmt_refuse_symlinks(tmp_path: Path) -> None:
    agreement = _agreement(tmp_path)
    target = tmp_path / "target.json"
    target.write_text("{}", "utf-8")
    link = tmp_path / "ir.json"
    link.symlink_to(target)
    result = CliRunner().invoke(main, ["compile", str(agreement), "-o", str(link)])
    assert result.exit_code == 1 and "error[P007]" in result.output
    assert target.read_text("utf-8") == "{}"
    real = tmp_path / "real" / "unformatted.yaml"
    real.parent.mkdir()
    real.write_text(
        BASELINE.read_text("utf-8").replace("up to £50,000: manager", "up to   £50,000:  manager"),
        "utf-8",
    )
    alias = tmp_path / "alias.yaml"
    alias.symlink_to(real)
    before = real.read_bytes()
    result = CliRunner().invoke(main, ["fmt", str(alias)])
    assert result.exit_code == 1 and "error[P007]" in result.output
    assert real.read_bytes() == before
    assert CliRunner().invoke(main, ["fmt", str(real)]).exit_code == 0
    assert real.read_bytes() != before


def test_diff_redline_refuses_a_symlink(tmp_path: Path) -> None:
    old = _agreement(tmp_path)
    new = tmp_path / "new.yaml"
    new.write_text(BASELINE.read_text("utf-8").replace("£100,000", "£200,000"), "utf-8")
    out = tmp_path / "redline"
    out.mkdir()
    target = tmp_path / "precious.html"
    target.write_text("keep", "utf-8")
    (out / "new.redline.html").symlink_to(target)
    result = CliRunner().invoke(main, ["diff", str(old), str(new), "--redline", str(out)])
    assert result.exit_code == 1 and "error[P007]" in result.output
    assert target.read_text("utf-8") == "keep"


def _scenario_file(folder: Path, ledger: str) -> Path:
    (folder / "baseline.yaml").write_bytes(BASELINE.read_bytes())
    path = folder / "baseline.test.yaml"
    path.write_text(
        "scenarios:\n"
        "  - name: from a ledger\n"
        f"    ledger: {ledger}\n"
        "    year: 2005/06\n"
        "    expect: { overspend: 0 }\n",
        "utf-8",
    )
    return path


def test_a_scenario_ledger_outside_the_folder_is_refused(tmp_path: Path) -> None:
    """Outside a git repository the scenario file's folder is the boundary."""
    folder = tmp_path / "agreements"
    folder.mkdir()
    secret = tmp_path / "secret.csv"
    secret.write_text("date,pool,kind,amount\n", "utf-8")
    for ledger in ("../secret.csv", str(secret), "/etc/passwd"):
        _scenario_file(folder, ledger)
        result = CliRunner().invoke(main, ["test", str(folder)])
        assert result.exit_code == 1, ledger
        assert "error[T008]: the ledger" in result.output, ledger
        assert "outside the folder of the scenario file" in result.output


def test_a_scenario_ledger_through_a_symlink_out_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "agreements"
    folder.mkdir()
    outside = tmp_path / "outside.csv"
    outside.write_text("date,pool,kind,amount\n", "utf-8")
    (folder / "inside.csv").symlink_to(outside)
    _scenario_file(folder, "inside.csv")
    result = CliRunner().invoke(main, ["test", str(folder)])
    assert "error[T008]" in result.output


def test_a_scenario_ledger_inside_the_repository_is_read(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()  # the top of a repository
    folder = tmp_path / "agreements" / "mh"
    folder.mkdir(parents=True)
    ledgers = tmp_path / "ledgers"
    ledgers.mkdir()
    (ledgers / "mh.csv").write_text(
        "date,pool,element,kind,amount,partner\n"
        "2005-04-01,mh,,contribution,1000000,pct\n"
        "2005-04-01,mh,,contribution,500000,council\n",
        "utf-8",
    )
    _scenario_file(folder, "../../ledgers/mh.csv")
    result = CliRunner().invoke(main, ["test", str(folder)])
    assert "T008" not in result.output, result.output
    assert "1 scenario" in result.output


def test_a_folder_where_a_rendered_file_goes_is_refused(tmp_path: Path) -> None:
    agreement = _agreement(tmp_path)
    out = tmp_path / "build"
    (out / "baseline.md").mkdir(parents=True)
    result = CliRunner().invoke(main, ["render", str(agreement), "--format", "md", "-o", str(out)])
    assert result.exit_code == 1 and "error[P008]" in result.output


def test_every_file_code_has_a_title_and_a_section_in_errors_md() -> None:
    import re

    from agreementdsl.codes import TITLES

    src = ROOT / "src" / "agreementdsl"
    raised = {
        code
        for f in src.rglob("*.py")
        for code in re.findall(r"""["'](P[0-9]{3})["']""", f.read_text("utf-8"))
    }
    errors_md = (ROOT / "docs" / "errors.md").read_text("utf-8")
    documented = set(re.findall(r"^## (P[0-9]{3})\b", errors_md, re.MULTILINE))
    titled = {code for code in TITLES if code.startswith("P")}
    assert raised == documented == titled == {f"P00{n}" for n in range(1, 10)}


def test_compile_into_a_missing_folder_is_one_line_naming_the_file(tmp_path: Path) -> None:
    agreement = _agreement(tmp_path)
    target = tmp_path / "missing" / "ir.json"
    result = CliRunner().invoke(main, ["compile", str(agreement), "-o", str(target)])
    assert result.exit_code == 1
    assert result.output == (
        f"error[P002]: cannot write {target}: the folder {target.parent} does not exist (create it first)\n"
    )


def test_test_update_refuses_a_symlinked_scenario_file(tmp_path: Path) -> None:
    real = tmp_path / "elsewhere.test.yaml"
    real.write_text(
        "scenarios:\n"
        "  - name: wrong on purpose\n"
        "    transaction: { date: 2005-06-01, pool: mh, element: nhs, kind: spend, amount: 10 }\n"
        "    expect:\n      actual: 999\n",
        "utf-8",
    )
    folder = tmp_path / "agreements"
    folder.mkdir()
    (folder / "baseline.yaml").write_bytes(BASELINE.read_bytes())
    (folder / "baseline.test.yaml").symlink_to(real)
    before = real.read_bytes()
    result = CliRunner().invoke(main, ["test", "--update", str(folder)])
    assert result.exit_code == 1
    assert "error[P007]" in result.output
    assert real.read_bytes() == before


def test_diff_git_refuses_an_old_version_over_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil
    import subprocess

    if shutil.which("git") is None:
        pytest.skip("no git")
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.org",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.org",
    }
    agreement = tmp_path / "a.yaml"
    agreement.write_bytes(BASELINE.read_bytes() + b"#" * AGREEMENT_LIMIT + b"\n")
    for args in (["init", "-q"], ["add", "a.yaml"], ["commit", "-qm", "big"]):
        subprocess.run(["git", *args], cwd=tmp_path, env=env, check=True)
    agreement.write_bytes(BASELINE.read_bytes())
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["diff", "--git", "HEAD", "a.yaml"])
    assert result.exit_code == 1
    assert "error[P006]: a.yaml@HEAD: the file is" in result.output


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(["a", " ", "\n", "\r", "\x85", "\u2028", "\f", "\x1c"])))
def test_indexed_lines_are_the_lines_splitlines_gives(text: str) -> None:
    source = SourceFile("x.yaml", text)
    lines = text.splitlines()
    assert [source.line_text(i) for i in range(1, len(lines) + 2)] == [*lines, ""]
    assert source.line_text(0) == ""
