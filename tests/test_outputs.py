"""Output paths that cannot be written end in one clear line with a code and exit 1 (or 2 for
usage), never a traceback: render, compile, diff --git, diff --redline, fmt and test --update."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from agreementdsl.cli import main
from agreementdsl.files import FileRefused
from agreementdsl.outputs import OutputError, make_folder, relative_to_repository, write_file

ROOT = Path(__file__).resolve().parents[1]
HEREFORDSHIRE = ROOT / "agreements" / "herefordshire.yaml"


def cli(*args: str) -> Result:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def one_error_line(result: Result, code: str) -> str:
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error[{code}]: "), result.stderr
    return lines[0]


@pytest.fixture
def a_file(tmp_path: Path) -> Path:
    path = tmp_path / "notes.txt"
    path.write_text("a file, not a folder\n", "utf-8")
    return path


def test_render_into_a_folder_under_a_regular_file(a_file: Path) -> None:
    line = one_error_line(cli("render", str(HEREFORDSHIRE), "--output", f"{a_file}/sub"), "P001")
    assert f"{a_file} is a file, not a folder" in line


def test_render_into_a_regular_file_is_a_usage_error(a_file: Path) -> None:
    assert cli("render", str(HEREFORDSHIRE), "--output", str(a_file)).exit_code == 2


def test_compile_into_a_missing_folder(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "ir.json"
    line = one_error_line(cli("compile", str(HEREFORDSHIRE), "-o", str(target)), "P002")
    assert f"the folder {target.parent} does not exist" in line
    assert not target.parent.exists()


def test_compile_under_a_regular_file(a_file: Path) -> None:
    one_error_line(cli("compile", str(HEREFORDSHIRE), "-o", f"{a_file}/ir.json"), "P001")


def test_compile_into_an_existing_folder_still_writes(tmp_path: Path) -> None:
    result = cli("compile", str(HEREFORDSHIRE), "-o", str(tmp_path / "ir.json"))
    assert result.exit_code == 0 and (tmp_path / "ir.json").read_text("utf-8").startswith("{")


def test_diff_git_on_a_path_outside_the_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs the git checkout")
    outside = tmp_path / "elsewhere.yaml"
    shutil.copy(HEREFORDSHIRE, outside)
    monkeypatch.chdir(ROOT)
    line = one_error_line(cli("diff", "--git", "HEAD", str(outside)), "P003")
    assert "is outside the git repository" in line


def test_diff_redline_under_a_regular_file(tmp_path: Path, a_file: Path) -> None:
    new = tmp_path / "new.yaml"
    new.write_text(
        HEREFORDSHIRE.read_text("utf-8").replace("£280,000 to host", "£300,000 to host"), "utf-8"
    )
    result = cli("diff", str(HEREFORDSHIRE), str(new), "--redline", f"{a_file}/red")
    one_error_line(result, "P001")


def test_write_file_and_make_folder_say_what_is_in_the_way(tmp_path: Path, a_file: Path) -> None:
    with pytest.raises(FileRefused) as refused:
        write_file(tmp_path, "text")  # the path is a folder: never replaced
    assert refused.value.code == "P008"
    with pytest.raises(OutputError) as caught:
        make_folder(a_file / "a" / "b")
    assert caught.value.code == "P001"
    assert (
        str(caught.value)
        == f"error[P001]: cannot create the folder {a_file}/a/b: {a_file} is a file, not a folder"
    )


def test_relative_to_repository() -> None:
    assert relative_to_repository(HEREFORDSHIRE, ROOT) == "agreements/herefordshire.yaml"
    assert relative_to_repository(Path("/"), ROOT) is None


def _deny(monkeypatch: pytest.MonkeyPatch) -> None:
    """The file system refuses every write (as a read-only file does for a user who is not root)."""

    def refuse(path: Path, *args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr("agreementdsl.outputs.atomic_write", refuse)


def test_fmt_on_a_file_it_cannot_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "agreement.yaml"
    text = HEREFORDSHIRE.read_text("utf-8").replace("up to £250,000", "up  to £250,000")
    path.write_text(text, "utf-8")
    _deny(monkeypatch)
    line = one_error_line(cli("fmt", str(path)), "P004")
    assert line == f"error[P004]: cannot write {path}: permission denied"


def test_update_of_a_scenario_file_it_cannot_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("herefordshire.yaml", "herefordshire.test.yaml"):
        shutil.copy(ROOT / "agreements" / name, tmp_path / name)
    test = tmp_path / "herefordshire.test.yaml"
    test.write_text(test.read_text("utf-8").replace('"£740,000"', '"£740,001"', 1), "utf-8")
    _deny(monkeypatch)
    line = one_error_line(cli("test", str(tmp_path), "--update"), "P004")
    assert str(test) in line
