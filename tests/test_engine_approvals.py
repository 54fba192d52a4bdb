"""Delegated authority (LANGUAGE.md §5): the approvers a spend needs and whether those recorded do.

The property tests read random spending clauses with a small evaluator of their own, written
from §5's words, and compare it with what `run` reports for random transactions.
"""

from __future__ import annotations

import itertools
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agreementdsl.engine.approvals import Authority
from engine_support import compile_file, compile_text, pool_of
from engine_support import run_json as run_rows

ROOT = Path(__file__).resolve().parents[1]
HEREFORDSHIRE = ROOT / "agreements" / "herefordshire.yaml"
WEALDSHIRE = ROOT / "agreements" / "bcf-wealdshire.yaml"
HEADER = ["date", "pool", "element", "kind", "amount", "approved_by", "in_plan", "supplier"]


def run_json(
    ir: dict[str, Any],
    tmp_path: Path,
    rows: list[list[str]],
    as_of: date,
    header: list[str] = HEADER,
) -> dict[str, Any]:
    return run_rows(ir, tmp_path, rows, as_of, header)


LD_SPENDING_S1 = """\
      up to £10,000 where element is respite: ld-manager
      up to £25,000 within plan: ld-manager
      up to £250,000: board
      above: executives and board
"""
# LANGUAGE.md §5's example, which must check clean inside §1's learning-disabilities pool.
LD_SPENDING_S5 = """\
      up to £50,000 within plan: mh-manager
      up to £10,000 where element is respite and supplier is not "Acme Care": ld-manager
      up to £250,000: board
      above: executives and board
"""


@pytest.fixture(scope="module")
def s5() -> dict[str, Any]:
    """Herefordshire with §5's example as the learning-disabilities spending clause."""
    text = HEREFORDSHIRE.read_text("utf-8")
    assert text.count(LD_SPENDING_S1) == 1
    return compile_text(text.replace(LD_SPENDING_S1, LD_SPENDING_S5), "herefordshire-s5.yaml")


@pytest.fixture(scope="module")
def herefordshire() -> dict[str, Any]:
    return compile_file(HEREFORDSHIRE)


def ld(amount: str, approved: str, *, element: str = "council", plan: str = "", supplier: str = ""):
    return [
        "2005-06-01",
        "learning-disabilities",
        element,
        "spend",
        amount,
        approved,
        plan,
        supplier,
    ]


def mh(amount: str, approved: str, *, plan: str = "", element: str = "council") -> list[str]:
    return ["2005-06-01", "mental-health", element, "spend", amount, approved, plan, ""]


AS_OF = date(2005, 6, 30)


# ---------------------------------------------------------------- which rule applies
S5_CASES = [
    # (amount, in_plan, element, supplier) → required, each by reading §5's clause in order:
    #   1 up to £50,000 within plan: mh-manager
    #   2 up to £10,000 where element is respite and supplier is not "Acme Care": ld-manager
    #   3 up to £250,000: board
    #   4 above: executives and board
    (("50000.00", "true", "council", ""), ["mh-manager"]),  # rule 1: the limit is inclusive
    (("50000.01", "true", "council", ""), ["board"]),  # a penny over rule 1 → rule 3
    (("10000.00", "true", "respite", "Southbank Close"), ["mh-manager"]),  # first rule wins
    (("10000.00", "", "respite", "Southbank Close"), ["ld-manager"]),  # not in plan → rule 2
    (("10000.00", "false", "respite", ""), ["ld-manager"]),  # empty supplier is not "Acme Care"
    (("10000.00", "no", "respite", "Acme Care"), ["board"]),  # rule 2's condition fails
    (("10000.01", "", "respite", "Southbank Close"), ["board"]),  # over rule 2's limit
    (("9000.00", "", "council", "Southbank Close"), ["board"]),  # element is not respite
    (("250000.00", "true", "council", ""), ["board"]),  # rule 3, inclusive
    (("250000.01", "true", "council", ""), ["executives", "board"]),  # rule 4
]


@pytest.mark.parametrize(("txn", "required"), S5_CASES)
def test_required_approvers_for_the_section_5_example(
    s5: dict[str, Any], tmp_path: Path, txn: tuple[str, str, str, str], required: list[str]
) -> None:
    amount, plan, element, supplier = txn
    data = run_json(
        s5, tmp_path, [ld(amount, "board", element=element, plan=plan, supplier=supplier)], AS_OF
    )
    [approval] = pool_of(data, "learning-disabilities")["approvals"]
    assert approval["row"] == 2
    assert approval["amount"] == amount
    assert approval["required"] == required


def test_section_10_scenario_300k_by_the_board_alone(
    herefordshire: dict[str, Any], tmp_path: Path
) -> None:
    # §10: £300,000 in mental health, approved by the board: `above: executives` applies.
    data = run_json(herefordshire, tmp_path, [mh("300000.00", "board")], AS_OF)
    [approval] = pool_of(data, "mental-health")["approvals"]
    assert approval["required"] == ["executives"]
    assert approval["recorded"] == ["board"]
    assert approval["compliant"] is False


def test_authority_ranks_are_compiled_per_section_5(
    s5: dict[str, Any], herefordshire: dict[str, Any]
) -> None:
    # §5 clause: ld-manager's highest limit £10,000 < mh-manager's £50,000 < `above`, where
    # executives and board tie; board is named later (`executives and board`), so ranks higher.
    # board is also named at £250,000, but its highest limit is `above`.
    ld_s5 = next(p for p in s5["pools"] if p["id"] == "learning-disabilities")
    assert ld_s5["authority"] == {"ld-manager": 1, "mh-manager": 2, "executives": 3, "board": 4}
    # §1 mental health: mh-manager £50,000 < board £250,000 < executives above.
    mh_s1 = next(p for p in herefordshire["pools"] if p["id"] == "mental-health")
    assert mh_s1["authority"] == {"mh-manager": 1, "board": 2, "executives": 3}


# ---------------------------------------------------------------- compliance
JOINT = [
    # A £300,000 spend needs `executives and board`: each matched by a *different* recorded
    # role of equal or higher rank (executives 3, board 4).
    ("executives;board", True),
    ("board;executives", True),  # order of recording does not matter
    ("board", False),  # one role cannot stand for two
    ("board;board", False),  # a role recorded twice counts once
    ("executives;executives", False),
    ("board;mh-manager", False),  # mh-manager (2) is below executives (3)
    ("executives;board;ld-manager", True),  # an extra, lower approver does no harm
]


@pytest.mark.parametrize(("recorded", "compliant"), JOINT)
def test_joint_approval(s5: dict[str, Any], tmp_path: Path, recorded: str, compliant: bool) -> None:
    data = run_json(s5, tmp_path, [ld("300000.00", recorded)], AS_OF)
    [approval] = pool_of(data, "learning-disabilities")["approvals"]
    assert approval["required"] == ["executives", "board"]
    assert approval["recorded"] == recorded.split(";")  # as written, in order
    assert approval["compliant"] is compliant


RANKING = [
    # (amount, in_plan, element, recorded, compliant) in the §5 clause's pool.
    # needs ld-manager (hc's officer, rank 1); mh-manager (2) is hpct's officer: an officer never
    # stands in for another partner's officer (0.3)
    ("5000.00", "", "respite", "mh-manager", False),
    ("5000.00", "", "respite", "board", True),  # a body stands in for an officer
    ("40000.00", "true", "council", "ld-manager", False),  # needs mh-manager (2); 1 is lower
    ("40000.00", "true", "council", "board", True),  # board (4) covers mh-manager (2)
    ("100000.00", "", "council", "executives", False),  # needs board (4): executives is 3
    ("100000.00", "", "council", "board", True),
]


@pytest.mark.parametrize(("amount", "plan", "element", "recorded", "compliant"), RANKING)
def test_authority_ranking(
    s5: dict[str, Any],
    tmp_path: Path,
    amount: str,
    plan: str,
    element: str,
    recorded: str,
    compliant: bool,
) -> None:
    data = run_json(s5, tmp_path, [ld(amount, recorded, element=element, plan=plan)], AS_OF)
    [approval] = pool_of(data, "learning-disabilities")["approvals"]
    assert approval["compliant"] is compliant


def test_an_officer_never_stands_in_for_another_partners_officer(tmp_path: Path) -> None:
    # Wealdshire's DFG pool names three district housing managers at `up to £30,000`, in the order
    # ashdown, chartwell, hollowmere: hollowmere-housing ranks highest of the three, but each is
    # an officer of its own district, so none may approve another district's grant (0.3).
    ir = compile_file(WEALDSHIRE)
    dfg = next(p for p in ir["pools"] if p["id"] == "dfg")
    ranks = dfg["authority"]
    assert ranks["ashdown-housing"] < ranks["chartwell-housing"] < ranks["hollowmere-housing"]
    assert ranks["hollowmere-housing"] < ranks["housing-group"] < ranks["board"]
    assert dfg["stand_ins"]["ashdown-housing"] == ["housing-group", "board"]
    header = ["date", "pool", "element", "kind", "amount", "approved_by", "category"]
    rows = [
        ["2023-06-01", "dfg", "ashdown-dfg", "spend", "20000.00", "hollowmere-housing", "mandatory grant"],
        ["2023-06-01", "dfg", "hollowmere-dfg", "spend", "20000.00", "ashdown-housing", "mandatory grant"],
        ["2023-06-01", "dfg", "ashdown-dfg", "spend", "20000.00", "housing-group", "mandatory grant"],
    ]  # fmt: skip
    data = run_json(ir, tmp_path, rows, date(2023, 6, 30), header)
    first, second, third = pool_of(data, "dfg")["approvals"]
    assert (first["required"], first["compliant"]) == (["ashdown-housing"], False)
    assert (second["required"], second["compliant"]) == (["hollowmere-housing"], False)
    assert (third["required"], third["compliant"]) == (["ashdown-housing"], True)


def test_an_officer_never_stands_in_for_a_body(tmp_path: Path) -> None:
    # Wealdshire's core pool: £900,000 is a matter for the board (`up to £1,000,000: board`).
    # The county's s151 officer ranks above the board (it is named in `above`), but an officer
    # never stands in for a body of the partnership (0.3).
    ir = compile_file(WEALDSHIRE)
    core = next(p for p in ir["pools"] if p["id"] == "core")
    assert core["authority"]["s151-officer"] > core["authority"]["board"]
    assert core["stand_ins"]["board"] == ["executives"]
    header = ["date", "pool", "element", "kind", "amount", "approved_by"]
    element = core["elements"][0]["id"]
    rows = [
        ["2023-06-01", "core", element, "spend", "900000.00", "s151-officer"],
        ["2023-06-01", "core", element, "spend", "900000.00", "executives"],
    ]
    data = run_json(ir, tmp_path, rows, date(2023, 6, 30), header)
    alone, chiefs = pool_of(data, "core")["approvals"]
    assert (alone["required"], alone["compliant"]) == (["board"], False)
    assert (chiefs["required"], chiefs["compliant"]) == (["board"], True)


def test_an_officer_stands_in_for_a_lower_officer_of_the_same_partner(tmp_path: Path) -> None:
    ir = compile_clause(
        [
            {"limit": 1_000, "plan": False, "where": None, "approvers": ["mgr"]},
            {"limit": 5_000, "plan": False, "where": None, "approvers": ["deputy"]},
            {"limit": None, "plan": False, "where": None, "approvers": ["r1"]},
        ]
    )
    assert ir["pools"][0]["stand_ins"] == {"mgr": ["deputy", "r1"], "deputy": ["r1"], "r1": []}
    rows = [["2008-06-01", "p", "e1", "spend", "5.00", "deputy"]]
    header = ["date", "pool", "element", "kind", "amount", "approved_by"]
    [approval] = run_json(ir, tmp_path, rows, date(2008, 6, 30), header)["pools"][0]["approvals"]
    assert (approval["required"], approval["compliant"]) == (["mgr"], True)


def test_only_named_approvers_lets_no_role_stand_in(tmp_path: Path) -> None:
    rules = [
        {"limit": 1_000, "plan": False, "where": None, "approvers": ["r1"]},
        {"limit": None, "plan": False, "where": None, "approvers": ["r2"]},
        ONLY_NAMED,
    ]
    ir = compile_clause(rules)
    pool = ir["pools"][0]
    assert pool["only_named_approvers"] is True
    assert pool["stand_ins"] == {"r1": [], "r2": []}
    rows = [
        ["2008-06-01", "p", "e1", "spend", "5.00", "r2"],
        ["2008-06-01", "p", "e1", "spend", "5.00", "r1"],
    ]
    header = ["date", "pool", "element", "kind", "amount", "approved_by"]
    data = run_json(ir, tmp_path, rows, date(2008, 6, 30), header)
    higher, named = data["pools"][0]["approvals"]
    assert (higher["required"], higher["compliant"]) == (["r1"], False)
    assert (named["required"], named["compliant"]) == (["r1"], True)


def test_a_role_the_clause_never_names_has_no_authority(
    herefordshire: dict[str, Any], tmp_path: Path
) -> None:
    # mh-manager is a role of the agreement with authority up to £50,000 in mental health, but
    # §1's learning-disabilities clause never names it: there it approves nothing.
    rows = [
        ld("5000.00", "mh-manager", plan="true"),  # needs ld-manager
        mh("5000.00", "mh-manager", plan="true"),  # needs mh-manager
    ]
    data = run_json(herefordshire, tmp_path, rows, AS_OF)
    [in_ld] = pool_of(data, "learning-disabilities")["approvals"]
    [in_mh] = pool_of(data, "mental-health")["approvals"]
    assert (in_ld["required"], in_ld["compliant"]) == (["ld-manager"], False)
    assert (in_mh["required"], in_mh["compliant"]) == (["mh-manager"], True)


@pytest.mark.parametrize("recorded", ["ceo", "mh-manager;ceo", "executives;ceo"])
def test_an_unknown_recorded_role_makes_the_spend_non_compliant(
    herefordshire: dict[str, Any], tmp_path: Path, recorded: str
) -> None:
    data = run_json(herefordshire, tmp_path, [mh("5000.00", recorded, plan="true")], AS_OF)
    [approval] = pool_of(data, "mental-health")["approvals"]
    assert approval["recorded"] == recorded.split(";")
    assert approval["compliant"] is False
    assert data["rows"] == {"read": 1, "used": 1, "rejected": 0}  # not a bad row


def test_no_approver_is_non_compliant_but_still_counts(
    herefordshire: dict[str, Any], tmp_path: Path
) -> None:
    rows = [mh("2500.00", "", plan="true"), mh("1000.00", "mh-manager", plan="true")]
    data = run_json(herefordshire, tmp_path, rows, AS_OF)
    pool = pool_of(data, "mental-health")
    first, second = pool["approvals"]
    assert (first["row"], first["recorded"], first["compliant"]) == (2, [], False)
    assert first["required"] == ["mh-manager"]
    assert second["compliant"] is True
    assert pool["actual"] == "3500.00"  # £2,500 + £1,000: the unapproved spend still counts
    assert data["rows"] == {"read": 2, "used": 2, "rejected": 0}


def test_credits_need_no_approval_and_are_not_listed(
    herefordshire: dict[str, Any], tmp_path: Path
) -> None:
    rows = [
        mh("10000.00", "mh-manager", plan="true"),  # row 2: listed
        mh("-4000.00", ""),  # row 3: a credit
        mh("0.00", ""),  # row 4: zero
        mh("0.01", "board"),  # row 5: listed (needs board: not in plan)
    ]
    data = run_json(herefordshire, tmp_path, rows, AS_OF)
    pool = pool_of(data, "mental-health")
    assert [a["row"] for a in pool["approvals"]] == [2, 5]
    assert pool["actual"] == "6000.01"  # 10,000 − 4,000 + 0 + 0.01


def test_approvals_are_in_row_order_and_only_of_the_year_to_the_as_of_date(
    herefordshire: dict[str, Any], tmp_path: Path
) -> None:
    rows = [
        ["2005-06-02", "mental-health", "council", "spend", "10.00", "board", "", ""],  # 2
        ["2005-03-31", "mental-health", "council", "spend", "20.00", "board", "", ""],  # 3: 2004/05
        ["2005-04-01", "mental-health", "council", "spend", "30.00", "board", "", ""],  # 4
        ["2005-07-01", "mental-health", "council", "spend", "40.00", "board", "", ""],  # 5: after
        ["2005-06-30", "mental-health", "council", "spend", "50.00", "board", "", ""],  # 6
    ]
    data = run_json(herefordshire, tmp_path, rows, AS_OF)
    assert [a["row"] for a in pool_of(data, "mental-health")["approvals"]] == [2, 4, 6]


# ---------------------------------------------------------------- properties
ROLES = ["mgr", "r1", "r2", "r3", "r4", "deputy", "amb"]
# Officers (LANGUAGE.md §5, 0.3): mgr and deputy of zed, amb of amber; r1–r4 are bodies.
OFFICER_OF = {"mgr": "zed", "deputy": "zed", "amb": "amber"}
FIELD_VALUES = {
    "element": ["e1", "e2", "e3"],
    "partner": ["zed", "amber", "moss"],
    "supplier": ['"S1"', '"S2"', '""'],
    "category": ['"c1"', '"c2"'],
    "kind": ["spend", "income"],
}
ELEMENT_PARTNER = {"e1": "zed", "e2": "amber", "e3": "moss"}
LIMITS = [1_000, 5_000, 10_000, 50_000, 100_000]  # pence


def _value(text: str) -> str:
    return text.strip('"')


# A condition is ("cmp", field, negated, [values]) | ("not", c) | ("and", [c...]) | ("or", [c...]).
def conditions() -> st.SearchStrategy[Any]:
    comparison = st.sampled_from(sorted(FIELD_VALUES)).flatmap(
        lambda field: st.tuples(
            st.just("cmp"),
            st.just(field),
            st.booleans(),
            st.lists(st.sampled_from(FIELD_VALUES[field]), min_size=1, max_size=3, unique=True),
        )
    )
    return st.recursive(
        comparison,
        lambda inner: st.one_of(
            st.tuples(st.just("not"), inner),
            st.tuples(st.just("and"), st.lists(inner, min_size=2, max_size=3)),
            st.tuples(st.just("or"), st.lists(inner, min_size=2, max_size=3)),
        ),
        max_leaves=5,
    )


_PRECEDENCE = {"or": 1, "and": 2, "not": 3, "cmp": 4}


def render(cond: Any, floor: int = 1) -> str:
    """Clause text for a condition, parenthesised only where §5's precedence requires it."""
    kind = cond[0]
    if kind == "cmp":
        _, field, negated, values = cond
        if len(values) == 1:
            text = f"{field} is {'not ' if negated else ''}{values[0]}"
        else:
            text = f"{field} {'not in' if negated else 'in'} [{', '.join(values)}]"
    elif kind == "not":
        text = "not " + render(cond[1], 3)
    else:
        text = f" {kind} ".join(render(c, _PRECEDENCE[kind] + 1) for c in cond[1])
    return f"({text})" if _PRECEDENCE[kind] < floor else text


def holds(cond: Any, fields: dict[str, str]) -> bool:
    kind = cond[0]
    if kind == "cmp":
        _, field, negated, values = cond
        return (fields[field] in {_value(v) for v in values}) != negated
    if kind == "not":
        return not holds(cond[1], fields)
    if kind == "and":
        return all(holds(c, fields) for c in cond[1])
    return any(holds(c, fields) for c in cond[1])


@st.composite
def clauses(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Random spending rules; the last is always the unconditional `above` §5 requires. The
    last entry may instead be the closing line `only named approvers` after that `above`."""
    rules: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(0, 5))):
        rules.append(
            {
                "limit": draw(st.one_of(st.none(), st.sampled_from(LIMITS))),
                "plan": draw(st.booleans()),
                "where": draw(st.one_of(st.none(), conditions())),
                "approvers": draw(
                    st.lists(st.sampled_from(ROLES), min_size=1, max_size=2, unique=True)
                ),
            }
        )
    last = draw(st.lists(st.sampled_from(ROLES), min_size=1, max_size=2, unique=True))
    rules.append({"limit": None, "plan": False, "where": None, "approvers": last})
    if draw(st.booleans()):
        rules.append(ONLY_NAMED)
    return rules


ONLY_NAMED: dict[str, Any] = {"only_named": True}


def spending_rules(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rules if r is not ONLY_NAMED]


def clause_text(rules: list[dict[str, Any]]) -> str:
    lines = []
    for rule in spending_rules(rules):
        limit = rule["limit"]
        words = ["above" if limit is None else f"up to £{limit // 100:,}.{limit % 100:02d}"]
        if rule["plan"]:
            words.append("within plan")
        if rule["where"] is not None:
            words.append("where " + render(rule["where"]))
        lines.append(f"{' '.join(words)}: {' and '.join(rule['approvers'])}")
    if ONLY_NAMED in rules:
        lines.append("only named approvers")
    return "\n".join(lines)


def required_by_reading(rules: list[dict[str, Any]], txn: dict[str, Any]) -> list[str]:
    """§5: the approvers of the first rule, in order, whose limit covers the amount and whose
    condition holds."""
    fields = {
        "element": txn["element"],
        "partner": txn["partner"] or ELEMENT_PARTNER[txn["element"]],
        "supplier": txn["supplier"],
        "category": txn["category"],
        "kind": "spend",
    }
    for rule in spending_rules(rules):
        if rule["limit"] is not None and txn["amount"] > rule["limit"]:
            continue
        if rule["plan"] and not txn["in_plan"]:
            continue
        if rule["where"] is not None and not holds(rule["where"], fields):
            continue
        return rule["approvers"]
    raise AssertionError("the last rule is an unconditional `above`")


def ranks_by_reading(rules: list[dict[str, Any]]) -> dict[str, tuple[float, int]]:
    """§5: by the highest limit naming the role (`above` highest); ties to the one named later."""
    best: dict[str, tuple[float, int]] = {}
    position = 0
    for rule in spending_rules(rules):
        limit = float("inf") if rule["limit"] is None else rule["limit"]
        for role in rule["approvers"]:
            position += 1
            best[role] = max(best.get(role, (-1.0, 0)), (limit, position))
    return best


def compliant_by_reading(
    rules: list[dict[str, Any]], required: list[str], recorded: list[str]
) -> bool:
    if not recorded or any(r not in ROLES for r in recorded):
        return False
    ranks = ranks_by_reading(rules)
    have = [r for r in dict.fromkeys(recorded) if r in ranks]  # each distinct role once
    need = list(dict.fromkeys(required))

    def stands_in(higher: str, lower: str) -> bool:
        # §5 (0.3): itself; else a higher role that is a body, or an officer of the same partner,
        # and never under `only named approvers`.
        if higher == lower:
            return True
        if ONLY_NAMED in rules or ranks[higher] <= ranks[lower]:
            return False
        owner = OFFICER_OF.get(higher)
        return owner is None or owner == OFFICER_OF.get(lower)

    return any(
        all(stands_in(h, n) for h, n in zip(chosen, need, strict=True))
        for chosen in itertools.permutations(have, len(need))
    )


_AGREEMENT = """\
agreement:
  id: authority
  title: Authority
  basis: nhs-act-2006-s75
  commencement: 2008-04-01
  expiry: 2009-03-31
  aims: x
  review: annual
  termination: {{ notice: 12 months }}
partners:
  zed: {{ name: Zed, kind: nhs-body }}
  amber: {{ name: Amber, kind: local-authority }}
  moss: {{ name: Moss, kind: local-authority }}
roles:
  mgr: {{ title: Manager, partner: zed }}
  deputy: {{ title: Deputy, partner: zed }}
  amb: {{ title: Amber officer, partner: amber }}
  r1: {{ title: R1 }}
  r2: {{ title: R2 }}
  r3: {{ title: R3 }}
  r4: {{ title: R4 }}
pools:
  p:
    name: P
    host: zed
    manager: mgr
    services: [x]
    elements:
      e1: {{ name: E1, partner: zed }}
      e2: {{ name: E2, partner: amber }}
      e3: {{ name: E3, partner: moss }}
    contributions:
      2008/09: {{ zed: "£1,000", amber: "£500" }}
    risk_share: |
      overspend:
        rest by contribution
      underspend:
        rest by contribution
    spending: |
{spending}
    reporting: |
      quarterly finance report to partners within 20 working days
      annual return to partners within 3 months
"""


def compile_clause(rules: list[dict[str, Any]]) -> dict[str, Any]:
    spending = "\n".join("      " + line for line in clause_text(rules).splitlines())
    return compile_text(_AGREEMENT.format(spending=spending), "authority.yaml")


transactions = st.fixed_dictionaries(
    {
        "amount": st.one_of(
            st.sampled_from([1, *LIMITS, *(x + 1 for x in LIMITS), 10**9]),
            st.integers(1, 200_000),
        ),
        "in_plan": st.booleans(),
        "element": st.sampled_from(["e1", "e2", "e3"]),
        "partner": st.sampled_from(["", "zed", "amber", "moss"]),
        "supplier": st.sampled_from(["S1", "S2", ""]),
        "category": st.sampled_from(["c1", "c2", ""]),
        "recorded": st.lists(st.sampled_from([*ROLES, "ghost"]), max_size=3),
    }
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules=clauses(), txns=st.lists(transactions, min_size=1, max_size=25))
def test_required_approvers_match_a_reading_of_the_rules(
    tmp_path_factory: pytest.TempPathFactory,
    rules: list[dict[str, Any]],
    txns: list[dict[str, Any]],
) -> None:
    ir = compile_clause(rules)
    header = [
        "date",
        "pool",
        "element",
        "kind",
        "amount",
        "partner",
        "approved_by",
        "in_plan",
        "supplier",
        "category",
    ]
    rows = [
        [
            "2008-06-01",
            "p",
            t["element"],
            "spend",
            f"{t['amount'] // 100}.{t['amount'] % 100:02d}",
            t["partner"],
            ";".join(t["recorded"]),
            "true" if t["in_plan"] else "false",
            t["supplier"],
            t["category"],
        ]
        for t in txns
    ]
    data = run_json(ir, tmp_path_factory.mktemp("ledger"), rows, date(2008, 6, 30), header)
    approvals = data["pools"][0]["approvals"]
    assert [a["row"] for a in approvals] == list(range(2, len(txns) + 2))
    for txn, approval in zip(txns, approvals, strict=True):
        required = required_by_reading(rules, txn)
        assert approval["required"] == required, (clause_text(rules), txn)
        assert approval["recorded"] == txn["recorded"]
        assert approval["compliant"] is compliant_by_reading(rules, required, txn["recorded"]), (
            clause_text(rules),
            txn,
        )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rules=clauses(), txn=transactions, data=st.data())
def test_adding_a_named_approver_never_breaks_compliance(
    rules: list[dict[str, Any]], txn: dict[str, Any], data: st.DataObject
) -> None:
    ir = compile_clause(rules)
    pool = ir["pools"][0]
    named = sorted({r for rule in spending_rules(rules) for r in rule["approvers"]})
    extra = data.draw(st.sampled_from(named))
    authority = Authority(pool, frozenset(ROLES))
    fields = (
        ("category", txn["category"]),
        ("element", txn["element"]),
        ("kind", "spend"),
        ("partner", txn["partner"] or ELEMENT_PARTNER[txn["element"]]),
        ("supplier", txn["supplier"]),
    )
    recorded = tuple(r for r in txn["recorded"] if r != "ghost")
    before = authority.decide(txn["amount"], txn["in_plan"], fields, recorded)
    if before.compliant:
        for position in range(len(recorded) + 1):
            more = (*recorded[:position], extra, *recorded[position:])
            after = authority.decide(txn["amount"], txn["in_plan"], fields, more)
            assert after.compliant, (clause_text(rules), recorded, more)


def test_the_explanation_says_who_may_approve_and_why_an_officer_may_not() -> None:
    ir = compile_file(WEALDSHIRE)
    core = next(p for p in ir["pools"] if p["id"] == "core")
    authority = Authority(core, frozenset(r["id"] for r in ir["roles"]))
    fields = (("category", ""), ("element", core["elements"][0]["id"]), ("kind", "spend"))
    decision = authority.decide(90_000_000, False, fields, ("s151-officer",))
    assert decision.required == ("board",) and not decision.compliant
    lines = authority.why_not_lower(decision, 90_000_000, False, fields)
    assert lines[-1] == (
        "recorded s151-officer does not meet required board: board may be approved by board or "
        "executives (an officer stands in only for a lower officer of its own partner)"
    )
