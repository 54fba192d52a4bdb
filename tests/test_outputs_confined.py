"""`--output` never writes outside the folder it names, whatever the agreement's file is called
(dots, spaces, leading dashes, non-ASCII): every file written resolves inside the folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agreementdsl.cli import main

ROOT = Path(__file__).resolve().parents[1]
AGREEMENTS = ROOT / "agreements"
NAMES = (
    st.lists(st.sampled_from([*"ab.-_ é£'\"$`;&|*?~", "..", "%2e"]), min_size=1, max_size=8)
    .map("".join)
    .filter(lambda n: n.strip() not in ("", ".", ".."))
)


def files_under(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}


@settings(
    max_examples=25, deadline=None, derandomize=True, database=None,
    suppress_health_check=list(HealthCheck),
)  # fmt: skip
@given(NAMES)
def test_render_writes_only_inside_the_output_folder(
    tmp_path_factory: pytest.TempPathFactory, name: str
) -> None:
    base = tmp_path_factory.mktemp("confined")
    source = base / "in" / f"{name}.yaml"
    source.parent.mkdir()
    shutil.copy(AGREEMENTS / "herefordshire.yaml", source)
    out = base / "deep" / "out"
    before = files_under(base)
    result = CliRunner().invoke(
        main, ["render", str(source), "--format", "md", "--output", str(out)]
    )
    assert result.exit_code == 0, result.output
    written = files_under(base) - before
    assert written, result.output
    for path in written:
        assert path.resolve().is_relative_to(out.resolve()), path
    for line in result.output.splitlines():
        assert line.startswith("wrote ")
        assert Path(line.removeprefix("wrote ")).resolve().is_relative_to(out.resolve())


def test_report_and_redline_write_only_inside_their_folders(tmp_path: Path) -> None:
    for name in ("herefordshire.yaml", "herefordshire-2005-06.csv"):
        shutil.copy(AGREEMENTS / name, tmp_path / name.replace("herefordshire", "..x"))
    agreement, ledger = tmp_path / "..x.yaml", tmp_path / "..x-2005-06.csv"
    before = files_under(tmp_path)
    out = tmp_path / "report"
    result = CliRunner().invoke(
        main,
        ["report", str(agreement), "--ledger", str(ledger), "--as-of", "2006-01-31",
         "--output", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    redline = tmp_path / "redline"
    result = CliRunner().invoke(
        main,
        ["diff", str(AGREEMENTS / "herefordshire.yaml"), str(agreement), "--redline", str(redline)],
    )
    assert result.exit_code in (0, 1), result.output
    for path in files_under(tmp_path) - before:
        assert path.resolve().is_relative_to(out) or path.resolve().is_relative_to(redline), path
