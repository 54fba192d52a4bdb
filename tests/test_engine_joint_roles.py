"""Roles held jointly by named people, and statutory bodies: how they approve and are drafted."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from engine_support import compile_text, pool_of, run_json

BASE = (Path(__file__).resolve().parent / "defects" / "baseline.yaml").read_text("utf-8")
HEADER = ["date", "pool", "element", "kind", "amount", "approved_by"]


def _agreement() -> str:
    text = BASE.replace(
        "  board: { title: Partnership Board }\n",
        "  board: { title: Partnership Board }\n"
        "  pct-finance: { title: PCT Director of Finance, partner: pct }\n"
        "  council-finance: { title: Council Director of Finance, partner: council }\n"
        "  finance-leads: { title: Finance Leads, members: [pct-finance, council-finance] }\n"
        "  hwb:\n"
        "    title: Health and Wellbeing Board\n"
        "    statutory: section 194 of the Health and Social Care Act 2012\n",
    )
    old = "      up to £50,000: manager\n      above: board\n"
    assert text.count(old) == 1
    return text.replace(
        old,
        "      up to £50,000: manager\n      up to £500,000: finance-leads\n      above: hwb\n",
    )


def _approvals(tmp_path: Path, recorded: list[str]) -> list[dict[str, Any]]:
    ir = compile_text(_agreement(), "joint.yaml")
    rows = [["2005-06-01", "mh", "nhs", "spend", "100000.00", r] for r in recorded]
    return pool_of(run_json(ir, tmp_path, rows, date(2005, 6, 30), HEADER), "mh")["approvals"]


def test_a_joint_role_is_met_by_all_its_members_or_by_itself(tmp_path: Path) -> None:
    # £100,000 needs `finance-leads`, held jointly by the two directors of finance
    found = _approvals(
        tmp_path,
        [
            "pct-finance;council-finance",  # both members: met
            "pct-finance",  # one member alone: not met
            "finance-leads",  # the joint role recorded as such: met
            "hwb",  # the statutory body ranks higher and is a body: it stands in
            "pct-finance;pct-finance",  # one member twice is still one member
        ],
    )
    assert [a["required"] for a in found] == [["finance-leads"]] * 5
    assert [a["compliant"] for a in found] == [True, False, True, True, False]


def test_joint_and_statutory_roles_are_drafted_as_what_they_are() -> None:
    from agreementdsl.render import build_document
    from agreementdsl.render.writers import render_markdown

    md = render_markdown(build_document(compile_text(_agreement(), "joint.yaml")))
    assert (
        '**"Finance Leads"** means the PCT Director of Finance and the Council Director of '
        "Finance, acting together;"
    ) in md
    assert (
        '**"Health and Wellbeing Board"** means the body of that name established under section '
        "194 of the Health and Social Care Act 2012, and not by this Agreement;"
    ) in md


def test_a_missing_joint_member_is_named_in_the_working() -> None:
    from agreementdsl.engine.approvals import Authority

    ir = compile_text(_agreement(), "joint.yaml")
    pool = next(p for p in ir["pools"] if p["id"] == "mh")
    authority = Authority(pool, frozenset(r["id"] for r in ir["roles"]))
    fields = (("category", ""), ("element", "nhs"), ("kind", "spend"), ("partner", "pct"))
    fields += (("supplier", ""),)
    decision = authority.decide(10_000_000, False, fields, ("pct-finance",))
    assert not decision.compliant
    (line,) = authority._shortfall(decision)
    assert "finance-leads may be approved by finance-leads or hwb, or by pct-finance and " in line
    assert line.endswith(
        "finance-leads is held by pct-finance and council-finance together: council-finance "
        "has not approved"
    )
    assert "no authority" not in line
