"""`agreementdsl diff`: the meaning that changed, its class, its money effect, and redlines."""

from __future__ import annotations

import json
import subprocess
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from agreementdsl.cli import main

ROOT = Path(__file__).resolve().parents[1]
HEREFORDSHIRE = (ROOT / "agreements" / "herefordshire.yaml").read_text("utf-8")


def run(*args: str) -> tuple[int, str]:
    """Exit code and standard output (the "wrote …" lines go to standard error)."""
    result = CliRunner().invoke(main, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout


def _changed(text: str = HEREFORDSHIRE) -> str:
    return (
        text.replace(
            "first £280,000 to host\n        rest by contribution\n      underspend:\n        rest by contribution",
            "first £350,000 to host\n        rest by contribution\n      underspend:\n        rest by contribution",
            1,
        )
        .replace("up to £50,000 within plan: mh-manager", "up to £75,000 within plan: mh-manager")
        .replace("title: Section 31 Partnership Board", "title: Joint Partnership Board")
        .replace(
            "monthly finance report to board within 10 working days",
            "monthly finance report to board within 15 working days",
        )
    )


@pytest.fixture
def versions(tmp_path: Path) -> tuple[Path, Path]:
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    old.write_text(HEREFORDSHIRE, "utf-8")
    new.write_text(_changed(), "utf-8")
    return old, new


def test_each_change_is_said_in_plain_english_and_classed(versions: tuple[Path, Path]) -> None:
    old, new = versions
    code, out = run("diff", str(old), str(new))
    assert code == 0, out
    assert "4 changes, 3 material" in out
    assert (
        "[material] Mental Health Services Pooled Fund, risk share, overspend step 1: the host's first tier changes from £280,000 to £350,000"
        in out
    )
    assert (
        "[material] Mental Health Services Pooled Fund, delegated authority, rule 1: the limit changes from up to £50,000 to up to £75,000"
        in out
    )
    assert (
        "[material] Mental Health Services Pooled Fund, reporting, monthly finance report: the deadline changes from 10 working days to 15 working days"
        in out
    )
    assert (
        "[editorial] Roles, board: the title changes from Section 31 Partnership Board to Joint Partnership Board"
        in out
    )


def test_no_change_in_meaning_when_only_layout_changes(tmp_path: Path) -> None:
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    old.write_text(HEREFORDSHIRE, "utf-8")
    new.write_text(
        HEREFORDSHIRE.replace("first £280,000 to host", "first   £0.28m  to host  # tier one"),
        "utf-8",
    )
    code, out = run("diff", str(old), str(new))
    assert code == 0
    assert "0 changes, 0 material" in out


def test_json_and_markdown(versions: tuple[Path, Path]) -> None:
    old, new = versions
    code, out = run("diff", "--format", "json", str(old), str(new))
    assert code == 0
    report = json.loads(out)
    assert report["material"] == 3
    step = next(
        c for c in report["changes"] if c["path"] == "pools.mental-health.risk_share.overspend.1"
    )
    assert step["material"] is True and step["kind"] == "changed"
    assert step["new_source"] == f"{new}:47"
    code, out = run("diff", "--format", "md", str(old), str(new))
    assert (
        "| **material** | Mental Health Services Pooled Fund, risk share, overspend step 1 |" in out
    )


def test_impact_over_scenarios_and_over_a_ledger(versions: tuple[Path, Path]) -> None:
    old, new = versions
    code, out = run(
        "diff", str(old), str(new), "--impact", str(ROOT / "agreements" / "herefordshire.test.yaml")
    )
    assert code == 0
    # £70,000 more on the host's tier; £70,000 less shared 13.3m : 4.1m → hc saves £16,494.25
    assert (
        "hpct pays £16,494.25 more in 2005/06 (Mental Health Services Pooled Fund, scenario “2005/06 mental health overspend”)"
        in out
    )
    assert "hc pays £16,494.25 less in 2005/06" in out
    code, out = run(
        "diff",
        str(old),
        str(new),
        "--impact",
        str(ROOT / "agreements" / "herefordshire-2005-06.csv"),
        "--format",
        "json",
    )
    effects = json.loads(out)["impact"]
    assert {(e["partner"], e["amount"]) for e in effects if "Mental Health" in e["where"]} == {
        ("hpct", "16494.25"),
        ("hc", "-16494.25"),
    }


def test_redline_marks_changes_in_html_and_as_word_tracked_changes(
    versions: tuple[Path, Path], tmp_path: Path
) -> None:
    import docx
    from docx.oxml.ns import qn

    old, new = versions
    out_dir = tmp_path / "redline"
    code, _ = run("diff", str(old), str(new), "--redline", str(out_dir))
    assert code == 0
    html = (out_dir / "new.redline.html").read_text("utf-8")
    # an amount and its words change as one: never "twothree hundred and eighty-twotwenty"
    assert (
        "does not exceed <del>£280,000 (two hundred and eighty</del><ins>£350,000 (three "
        "hundred and fifty</ins> thousand pounds)"
    ) in html
    word = docx.Document(str(out_dir / "new.redline.docx"))
    body = word.element.body
    insertions = ["".join(t.text for t in e.iter(qn("w:t"))) for e in body.iter(qn("w:ins"))]
    deletions = ["".join(t.text for t in e.iter(qn("w:delText"))) for e in body.iter(qn("w:del"))]
    assert "£350,000 (three hundred and fifty" in insertions
    assert "£280,000 (two hundred and eighty" in deletions
    assert any(i.startswith("£75,000") for i in insertions)
    assert any(d.startswith("£50,000") for d in deletions)
    for change in [*body.iter(qn("w:ins")), *body.iter(qn("w:del"))]:
        assert change.get(qn("w:author")) == "agreementdsl"
        # dated as the new version is: it states no `signed`, so its commencement
        assert change.get(qn("w:date")) == "2005-04-01T00:00:00Z"
    ids = [c.get(qn("w:id")) for c in [*body.iter(qn("w:ins")), *body.iter(qn("w:del"))]]
    assert len(ids) == len(set(ids))
    with zipfile.ZipFile(out_dir / "new.redline.docx") as archive:
        assert archive.testzip() is None


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "config", "user.email", "t@example.org")
    _git(tmp_path, "config", "user.name", "T")
    (tmp_path / "agreements").mkdir()
    (tmp_path / "agreements" / "herefordshire.yaml").write_text(HEREFORDSHIRE, "utf-8")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "as signed")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_git_compares_the_working_tree_with_a_revision(repo: Path) -> None:
    (repo / "agreements" / "herefordshire.yaml").write_text(_changed(), "utf-8")
    code, out = run("diff", "--git", "HEAD")
    assert code == 0, out
    assert (
        "agreements/herefordshire.yaml@HEAD → agreements/herefordshire.yaml: 4 changes, 3 material"
        in out
    )
    code, out = run("diff", "--git", "HEAD", "agreements/herefordshire.yaml", "--format", "json")
    assert json.loads(out)["material"] == 3


def test_git_reports_new_agreements_and_nothing_when_unchanged(repo: Path) -> None:
    code, out = run("diff", "--git", "HEAD")
    assert (code, out.strip()) == (0, "no agreements changed")
    (repo / "agreements" / "second.yaml").write_text(
        HEREFORDSHIRE.replace("id: herefordshire-mh-ld", "id: second"), "utf-8"
    )
    code, out = run("diff", "--git", "HEAD")
    assert "agreements/second.yaml: the agreement is added" in out


def test_git_usage_and_errors(repo: Path) -> None:
    code, _ = run("diff", "--git", "no-such-rev")
    assert code == 2
    (repo / "agreements" / "herefordshire.yaml").write_text(
        HEREFORDSHIRE.replace("to host", "to hots"), "utf-8"
    )
    code, _ = run("diff", "--git", "HEAD")
    assert code == 1
    code, _ = run("diff", "only-one.yaml")
    assert code == 2


def test_only_named_approvers_and_who_may_stand_in_are_material(tmp_path: Path) -> None:
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    old.write_text(HEREFORDSHIRE, "utf-8")
    new.write_text(
        HEREFORDSHIRE.replace(
            "      above: executives and board\n",
            "      above: executives and board\n      only named approvers\n",
        ),
        "utf-8",
    )
    code, out = run("diff", "--format", "json", str(old), str(new))
    assert code == 0
    changes = {c["path"]: c for c in json.loads(out)["changes"]}
    only = changes["pools.learning-disabilities.only_named_approvers"]
    assert only["material"] is True
    assert "no role stands in for another" in only["what"]
    standin = changes["pools.learning-disabilities.stand_ins.ld-manager"]
    assert standin["material"] is True
    assert standin["what"] == (
        "who may stand in for ld-manager changes from executives, board to no other role"
    )
    # The board made an officer of the council: it no longer stands in for the PCT's manager.
    new.write_text(
        HEREFORDSHIRE.replace(
            "board:       { title: Section 31 Partnership Board }",
            "board:       { title: Section 31 Partnership Board, partner: hc }",
        ),
        "utf-8",
    )
    code, out = run("diff", "--format", "json", str(old), str(new))
    assert code == 0, out
    whats = {c["path"]: c["what"] for c in json.loads(out)["changes"]}
    assert whats["pools.mental-health.stand_ins.mh-manager"] == (
        "who may stand in for mh-manager changes from board, executives to executives"
    )


def test_git_outside_a_repository_says_so_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "herefordshire.yaml").write_text(HEREFORDSHIRE, "utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    result = CliRunner().invoke(main, ["diff", "--git", "HEAD", "herefordshire.yaml"])
    assert result.exit_code == 2
    assert "is not inside a git repository" in result.output
    assert "fatal" not in result.output


def test_impact_counts_contributions_beside_the_risk_share(tmp_path: Path) -> None:
    # hc's 2005/06 mental-health contribution rises £100,000 (£4.1m to £4.2m). Over the example
    # ledger the pool's outturn is £18,140,000: the overspend falls from £740,000 to £640,000.
    # The host bears the first £280,000 either way; the rest is shared by contribution:
    # before £460,000 × 4.1/17.4 = £108,390.80 to hc (hpct £351,609.20), after £360,000 ×
    # 4.2/17.5 = £86,400.00 (hpct £273,600.00). So hc pays £100,000 more in contributions and
    # £21,990.80 less on the risk share: £78,009.20 more in all; hpct £78,009.20 less.
    new = tmp_path / "herefordshire.yaml"
    new.write_text(
        HEREFORDSHIRE.replace(
            '2005/06: { hpct: "£13,300,000", hc: "£4,100,000" }',
            '2005/06: { hpct: "£13,300,000", hc: "£4,200,000" }',
        ),
        "utf-8",
    )
    ledger = str(ROOT / "agreements" / "herefordshire-2005-06.csv")
    code, out = run(
        "diff", str(ROOT / "agreements" / "herefordshire.yaml"), str(new), "--impact", ledger
    )
    assert code == 0
    assert (
        "hc pays £78,009.20 more in 2005/06 (Mental Health Services Pooled Fund): "
        "£21,990.80 less on the risk share, £100,000.00 more in contributions" in out
    )
    assert (
        "hpct pays £78,009.20 less in 2005/06 (Mental Health Services Pooled Fund)\n" in out + "\n"
    )
    code, out = run(
        "diff",
        "--format",
        "json",
        str(ROOT / "agreements" / "herefordshire.yaml"),
        str(new),
        "--impact",
        ledger,
    )
    effects = {e["partner"]: e for e in json.loads(out)["impact"]}
    assert effects["hc"]["amount"] == "78009.20"
    assert effects["hc"]["parts"] == {
        "on the risk share": "-21990.80",
        "in contributions": "100000.00",
    }


def test_who_holds_a_joint_role_is_a_material_change(tmp_path: Path) -> None:
    """Adding a member to a joint role changes whose approval a spend needs: diff says so."""
    text = (ROOT / "agreements" / "bcf-wealdshire.yaml").read_text("utf-8")
    line = "  dfg-lead:           { title: County Disabled Facilities Grant Lead Officer, partner: wcc }\n"
    assert line in text
    joint = "  leads: { title: the Finance Leads, members: [icb-director, director-adults] }\n"
    wider = "  leads: { title: the Finance Leads, members: [icb-director, director-adults, dfg-lead] }\n"
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    old.write_text(text.replace(line, line + joint), "utf-8")
    new.write_text(text.replace(line, line + wider), "utf-8")
    code, out = run("diff", str(old), str(new))
    assert code == 0, out
    assert (
        "[material] Roles, leads: who hold it jointly changes from icb-director, director-adults "
        "to icb-director, director-adults, dfg-lead"
    ) in out
    assert "True" not in out and "False" not in out
