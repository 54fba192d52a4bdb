"""The semantic diff of two compiled agreements: what changed in meaning, clause by clause.

Each change is said in plain English at the clause it belongs to ("Mental Health Services
Pooled Fund, risk share, overspend step 1: the host's first tier changes from £280,000 to
£350,000") and classed material (it changes money, authority, deadlines or parties) or
editorial (wording, names, descriptions).
"""

from __future__ import annotations

import difflib
import json
from dataclasses import asdict, dataclass
from typing import Any

from .compile import source_of as _src
from .money import format_money, parse_amount


@dataclass(frozen=True)
class Change:
    where: str  # the clause, for people
    what: str  # the change, in plain English
    material: bool
    kind: str  # added, removed or changed
    path: str  # a stable machine path
    old_source: str | None = None
    new_source: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _money(amount: str | None) -> str:
    return format_money(parse_amount(amount), always_pence=False) if amount else "nothing"


class _Differ:
    def __init__(self) -> None:
        self.changes: list[Change] = []

    def add(
        self,
        where: str,
        what: str,
        material: bool,
        kind: str,
        path: str,
        old: Any = None,
        new: Any = None,
    ) -> None:
        self.changes.append(Change(where, what, material, kind, path, _src(old), _src(new)))

    def field(
        self, where: str, path: str, label: str, old: Any, new: Any, material: bool, show: Any = str
    ) -> None:
        if old != new:
            before = show(old) if old is not None else "nothing"
            after = show(new) if new is not None else "nothing"
            self.add(where, f"{label} changes from {before} to {after}", material, "changed", path)

    # ------------------------------------------------------------ the agreement
    def agreement(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        a, b = old["agreement"], new["agreement"]
        where = "Agreement"
        self.field(where, "agreement.title", "the title", a["title"], b["title"], False)
        self.field(where, "agreement.basis", "the statutory basis", a["basis"], b["basis"], True)
        self.field(
            where,
            "agreement.commencement",
            "the commencement date",
            a["commencement"],
            b["commencement"],
            True,
        )
        self.field(where, "agreement.expiry", "the expiry date", a["expiry"], b["expiry"], True)
        self.field(
            where,
            "agreement.financial_year_start",
            "the start of the financial year",
            a["financial_year_start"],
            b["financial_year_start"],
            True,
        )
        self.field(where, "agreement.review", "the review", a["review"], b["review"], True)
        notice = lambda d: d["text"] if d else "nothing"  # noqa: E731
        self.field(
            where,
            "agreement.termination",
            "the termination notice",
            notice(a["termination_notice"]),
            notice(b["termination_notice"]),
            True,
        )
        if " ".join((a["aims"] or "").split()) != " ".join((b["aims"] or "").split()):
            self.add(where, "the aims are reworded", False, "changed", "agreement.aims")
        self.keyed(
            "Partners",
            "partners",
            old["partners"],
            new["partners"],
            self.partner,
            lambda p: f"partner `{p['id']}` ({p['name']})",
        )
        self.keyed(
            "Roles",
            "roles",
            old["roles"],
            new["roles"],
            self.role,
            lambda r: f"role `{r['id']}` ({r['title']})",
        )
        old_pools = {p["id"]: p for p in old["pools"]}
        for pool in new["pools"]:
            if pool["id"] in old_pools:
                self.pool(old_pools[pool["id"]], pool)
            else:
                self.add(
                    pool["name"],
                    f"a new pooled fund, {pool['name']}, hosted by {pool['host']}",
                    True,
                    "added",
                    f"pools.{pool['id']}",
                    None,
                    pool,
                )
        for pid, pool in old_pools.items():
            if pid not in {p["id"] for p in new["pools"]}:
                self.add(
                    pool["name"],
                    f"the pooled fund {pool['name']} is removed",
                    True,
                    "removed",
                    f"pools.{pid}",
                    pool,
                    None,
                )
        self.keyed(
            "Outcomes",
            "outcomes",
            old["outcomes"],
            new["outcomes"],
            self.outcome,
            lambda o: f"outcome `{o['id']}` ({o['measure']})",
        )

    def keyed(
        self,
        where: str,
        path: str,
        old: list[dict[str, Any]],
        new: list[dict[str, Any]],
        compare: Any,
        name: Any,
    ) -> None:
        before = {x["id"]: x for x in old}
        after = {x["id"]: x for x in new}
        for key, item in after.items():
            if key not in before:
                self.add(
                    where, f"{name(item)} is added", True, "added", f"{path}.{key}", None, item
                )
            else:
                compare(before[key], item)
        for key, item in before.items():
            if key not in after:
                self.add(
                    where, f"{name(item)} is removed", True, "removed", f"{path}.{key}", item, None
                )

    def partner(self, a: dict[str, Any], b: dict[str, Any]) -> None:
        where = f"Partners, {b['id']}"
        self.field(where, f"partners.{b['id']}.name", "the name", a["name"], b["name"], True)
        self.field(
            where, f"partners.{b['id']}.kind", "the kind of body", a["kind"], b["kind"], True
        )

    def role(self, a: dict[str, Any], b: dict[str, Any]) -> None:
        where = f"Roles, {b['id']}"
        self.field(where, f"roles.{b['id']}.title", "the title", a["title"], b["title"], False)
        self.field(
            where,
            f"roles.{b['id']}.partner",
            "the partner it belongs to",
            a["partner"],
            b["partner"],
            True,
        )

    def outcome(self, a: dict[str, Any], b: dict[str, Any]) -> None:
        where = f"Outcomes, {b['id']}"
        target = lambda t: t["text"] if t else "none"  # noqa: E731
        self.field(
            where,
            f"outcomes.{b['id']}.target",
            "the target",
            target(a["target"]),
            target(b["target"]),
            True,
        )
        self.field(where, f"outcomes.{b['id']}.by", "the year it is due by", a["by"], b["by"], True)
        self.field(
            where,
            f"outcomes.{b['id']}.reported",
            "how often it is reported",
            a["reported"],
            b["reported"],
            True,
        )
        self.field(
            where,
            f"outcomes.{b['id']}.measure",
            "the measure's wording",
            a["measure"],
            b["measure"],
            False,
        )

    # ------------------------------------------------------------ a pool
    def pool(self, a: dict[str, Any], b: dict[str, Any]) -> None:
        name, pid = b["name"], b["id"]
        self.field(name, f"pools.{pid}.name", "the name", a["name"], b["name"], False)
        self.field(name, f"pools.{pid}.host", "the host partner", a["host"], b["host"], True)
        self.field(
            name,
            f"pools.{pid}.manager",
            "the pooled fund manager",
            a["manager"],
            b["manager"],
            True,
        )
        if a["services"] != b["services"]:
            self.add(
                name, "the list of services is changed", False, "changed", f"pools.{pid}.services"
            )
        if " ".join((a["aims"] or "").split()) != " ".join((b["aims"] or "").split()):
            self.add(name, "the aims are reworded", False, "changed", f"pools.{pid}.aims")
        self.keyed(
            f"{name}, elements",
            f"pools.{pid}.elements",
            a["elements"],
            b["elements"],
            lambda x, y: self.element(name, pid, x, y),
            lambda e: f"element `{e['id']}` ({e['name']})",
        )
        self.contributions(name, pid, a, b)
        self.risk(name, pid, a["risk_share"] or {}, b["risk_share"] or {})
        self.spending(name, pid, a, b)
        self.reporting(name, pid, a["reporting"], b["reporting"])
        self.disputes(name, pid, a["disputes"], b["disputes"])

    def element(self, name: str, pid: str, a: dict[str, Any], b: dict[str, Any]) -> None:
        where = f"{name}, element {b['id']}"
        self.field(
            where, f"pools.{pid}.elements.{b['id']}.name", "the name", a["name"], b["name"], False
        )
        self.field(
            where,
            f"pools.{pid}.elements.{b['id']}.partner",
            "the partner it is named against",
            a["partner"],
            b["partner"],
            True,
        )

    def contributions(self, name: str, pid: str, a: dict[str, Any], b: dict[str, Any]) -> None:
        before = {y["year"]: y for y in a["contributions"]}
        after = {y["year"]: y for y in b["contributions"]}
        for year in sorted(set(before) | set(after)):
            where = f"{name}, contributions {year}"
            if year not in before:
                self.add(
                    where,
                    f"contributions are stated for {year}, {_money(after[year]['total'])} in all",
                    True,
                    "added",
                    f"pools.{pid}.contributions.{year}",
                    None,
                    after[year],
                )
                continue
            if year not in after:
                self.add(
                    where,
                    f"the contributions for {year} are removed",
                    True,
                    "removed",
                    f"pools.{pid}.contributions.{year}",
                    before[year],
                    None,
                )
                continue
            old_rows = {r["partner"]: r for r in before[year]["partners"]}
            for row in after[year]["partners"]:
                old = old_rows.get(row["partner"])
                path = f"pools.{pid}.contributions.{year}.{row['partner']}"
                if old is None:
                    self.add(
                        where,
                        f"{row['partner']} contributes {_money(row['amount'])}",
                        True,
                        "added",
                        path,
                        None,
                        row,
                    )
                elif old["amount"] != row["amount"]:
                    self.add(
                        where,
                        f"{row['partner']}'s contribution changes from {_money(old['amount'])} ({old['expression']}) to {_money(row['amount'])} ({row['expression']})",
                        True,
                        "changed",
                        path,
                        old,
                        row,
                    )
                elif old["expression"] != row["expression"]:
                    self.add(
                        where,
                        f"{row['partner']}'s contribution is written `{row['expression']}` instead of `{old['expression']}`, the same {_money(row['amount'])}",
                        False,
                        "changed",
                        path,
                        old,
                        row,
                    )
            for partner, old in old_rows.items():
                if partner not in {r["partner"] for r in after[year]["partners"]}:
                    self.add(
                        where,
                        f"{partner}'s contribution of {_money(old['amount'])} is removed",
                        True,
                        "removed",
                        f"pools.{pid}.contributions.{year}.{partner}",
                        old,
                        None,
                    )
        old_budgets = {
            y["year"]: {e["element"]: e["amount"] for e in y["elements"]} for y in a["budgets"]
        }
        new_budgets = {
            y["year"]: {e["element"]: e["amount"] for e in y["elements"]} for y in b["budgets"]
        }
        for year in sorted(set(old_budgets) | set(new_budgets)):
            x, y = old_budgets.get(year, {}), new_budgets.get(year, {})
            for element in sorted(set(x) | set(y)):
                if x.get(element) != y.get(element):
                    self.add(
                        f"{name}, budgets {year}",
                        f"the budget of {element} changes from {_money(x.get(element))} to {_money(y.get(element))}",
                        True,
                        "changed",
                        f"pools.{pid}.budgets.{year}.{element}",
                    )

    def risk(self, name: str, pid: str, a: dict[str, Any], b: dict[str, Any]) -> None:
        for direction in ("overspend", "underspend"):
            old = (a.get(direction) or {}).get("steps", [])
            new = (b.get(direction) or {}).get("steps", [])
            for i in range(max(len(old), len(new))):
                where = f"{name}, risk share, {direction} step {i + 1}"
                path = f"pools.{pid}.risk_share.{direction}.{i + 1}"
                if i >= len(old):
                    self.add(
                        where,
                        f"a step is added: `{new[i]['text']}`",
                        True,
                        "added",
                        path,
                        None,
                        new[i],
                    )
                elif i >= len(new):
                    self.add(
                        where,
                        f"the step `{old[i]['text']}` is removed",
                        True,
                        "removed",
                        path,
                        old[i],
                        None,
                    )
                elif old[i]["text"] != new[i]["text"]:
                    self.add(
                        where, _step_change(old[i], new[i]), True, "changed", path, old[i], new[i]
                    )

    def spending(self, name: str, pid: str, a: dict[str, Any], b: dict[str, Any]) -> None:
        old, new = a["spending"], b["spending"]
        matcher = difflib.SequenceMatcher(
            a=[r["text"] for r in old], b=[r["text"] for r in new], autojunk=False
        )
        for op, i1, i2, j1, j2 in matcher.get_opcodes():
            if op == "equal":
                continue
            pairs = list(zip(range(i1, i2), range(j1, j2), strict=False))
            for i, j in pairs:
                where = f"{name}, delegated authority, rule {new[j]['number']}"
                self.add(
                    where,
                    _rule_change(old[i], new[j]),
                    True,
                    "changed",
                    f"pools.{pid}.spending.{new[j]['number']}",
                    old[i],
                    new[j],
                )
            for j in range(j1 + len(pairs), j2):
                self.add(
                    f"{name}, delegated authority, rule {new[j]['number']}",
                    f"a rule is added: `{new[j]['text']}`",
                    True,
                    "added",
                    f"pools.{pid}.spending.{new[j]['number']}",
                    None,
                    new[j],
                )
            for i in range(i1 + len(pairs), i2):
                self.add(
                    f"{name}, delegated authority",
                    f"the rule `{old[i]['text']}` is removed",
                    True,
                    "removed",
                    f"pools.{pid}.spending.{old[i]['number']}",
                    old[i],
                    None,
                )
        rank = lambda r: " < ".join(sorted(r, key=lambda k: r[k]))  # noqa: E731
        if rank(a["authority"]) != rank(b["authority"]):
            self.add(
                f"{name}, delegated authority",
                f"the order of authority changes from {rank(a['authority'])} to {rank(b['authority'])}",
                True,
                "changed",
                f"pools.{pid}.authority",
            )

    def reporting(
        self, name: str, pid: str, old: list[dict[str, Any]], new: list[dict[str, Any]]
    ) -> None:
        def key(d: dict[str, Any]) -> tuple[str, str]:
            return (d["cadence"] or "when", d["report"])

        before = {key(d): d for d in old}
        after = {key(d): d for d in new}
        for k, d in after.items():
            where = f"{name}, reporting, {_duty_name(d)}"
            path = f"pools.{pid}.reporting.{k[0]}.{k[1].replace(' ', '-')}"
            if k not in before:
                self.add(where, f"a duty is added: {_duty_words(d)}", True, "added", path, None, d)
                continue
            o = before[k]
            if o["to"] != d["to"]:
                self.add(
                    where, f"it goes to {d['to']} instead of {o['to']}", True, "changed", path, o, d
                )
            if o["deadline"] != d["deadline"]:
                self.add(
                    where,
                    f"the deadline changes from {o['deadline']['text']} to {d['deadline']['text']}",
                    True,
                    "changed",
                    path,
                    o,
                    d,
                )
            if o["trigger"] and d["trigger"] and _trigger_words(o) != _trigger_words(d):
                self.add(
                    where,
                    f"the trigger changes from {_trigger_words(o)} to {_trigger_words(d)}",
                    True,
                    "changed",
                    path,
                    o,
                    d,
                )
        for k, o in before.items():
            if k not in after:
                self.add(
                    f"{name}, reporting, {_duty_name(o)}",
                    f"the duty is removed: {_duty_words(o)}",
                    True,
                    "removed",
                    f"pools.{pid}.reporting.{k[0]}.{k[1].replace(' ', '-')}",
                    o,
                    None,
                )

    def disputes(
        self, name: str, pid: str, old: list[dict[str, Any]], new: list[dict[str, Any]]
    ) -> None:
        limit = lambda s: s["limit"]["text"] if s["limit"] else "no time limit"  # noqa: E731
        for i in range(max(len(old), len(new))):
            where = f"{name}, disputes, stage {i + 1}"
            path = f"pools.{pid}.disputes.{i + 1}"
            if i >= len(old):
                self.add(
                    where,
                    f"a stage is added: {new[i]['holder']}, {limit(new[i])}",
                    True,
                    "added",
                    path,
                    None,
                    new[i],
                )
            elif i >= len(new):
                self.add(
                    where,
                    f"the stage {old[i]['holder']} is removed",
                    True,
                    "removed",
                    path,
                    old[i],
                    None,
                )
            else:
                if old[i]["holder"] != new[i]["holder"]:
                    self.add(
                        where,
                        f"it is held by {new[i]['holder']} instead of {old[i]['holder']}",
                        True,
                        "changed",
                        path,
                        old[i],
                        new[i],
                    )
                if limit(old[i]) != limit(new[i]):
                    self.add(
                        where,
                        f"the time limit changes from {limit(old[i])} to {limit(new[i])}",
                        True,
                        "changed",
                        path,
                        old[i],
                        new[i],
                    )


def _step_change(a: dict[str, Any], b: dict[str, Any]) -> str:
    same_allocation = a["allocation"] == b["allocation"] and a["kind"] == b["kind"]
    if same_allocation and (a["amount"], a["pool_percent"]) != (b["amount"], b["pool_percent"]):
        alloc = a["allocation"]
        who = (
            "the host's"
            if alloc.get("as_written") == "host"
            else (f"{alloc['partner']}'s" if alloc["type"] == "to" else "the")
        )
        size = lambda s: _money(s["amount"]) if s["amount"] else f"{s['pool_percent']}% of the pool"  # noqa: E731
        return f"{who} {a['kind']} tier changes from {size(a)} to {size(b)}"
    return f"`{a['text']}` becomes `{b['text']}`"


def _rule_change(a: dict[str, Any], b: dict[str, Any]) -> str:
    parts = []
    if a["limit"] != b["limit"]:
        limit = lambda r: f"up to {_money(r['limit'])}" if r["limit"] else "no limit (`above`)"  # noqa: E731
        parts.append(f"the limit changes from {limit(a)} to {limit(b)}")
    if a["approvers"] != b["approvers"]:
        parts.append(
            f"the approvers change from {' and '.join(a['approvers'])} to {' and '.join(b['approvers'])}"
        )
    if a["within_plan"] != b["within_plan"]:
        parts.append(
            "it now applies only within the business plan"
            if b["within_plan"]
            else "it no longer needs the spend to be within the business plan"
        )
    if a["where_text"] != b["where_text"]:
        parts.append(
            f"the condition changes from {a['where_text'] or 'none'} to {b['where_text'] or 'none'}"
        )
    return "; ".join(parts) or f"`{a['text']}` becomes `{b['text']}`"


def _trigger_words(d: dict[str, Any]) -> str:
    t = d["trigger"]
    threshold = f"{t['percent']}%" if t["percent"] else _money(t["amount"])
    return f"{'forecast ' if t['forecast'] else ''}{t['direction']} exceeding {threshold}"


def _duty_name(d: dict[str, Any]) -> str:
    return (
        f"{d['cadence']} {d['report']}"
        if d["cadence"] and not d["report"].startswith(d["cadence"])
        else d["report"]
    )


def _duty_words(d: dict[str, Any]) -> str:
    when = f"when {_trigger_words(d)}" if d["trigger"] else d["cadence"]
    return f"{when}, {d['report']} to {d['to']} within {d['deadline']['text']}"


def diff_irs(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """Every change in meaning from `old` to `new`, in clause order."""
    differ = _Differ()
    differ.agreement(old, new)
    return differ.changes


# ---------------------------------------------------------------- output
def format_text(changes: list[Change], old_name: str, new_name: str) -> str:
    material = sum(1 for c in changes if c.material)
    lines = [
        f"{old_name} → {new_name}: {len(changes)} change{'s' * (len(changes) != 1)}, {material} material"
    ]
    for c in changes:
        tag = "material" if c.material else "editorial"
        where = f" ({c.new_source or c.old_source})" if (c.new_source or c.old_source) else ""
        lines.append(f"  [{tag}] {c.where}: {c.what}{where}")
    return "\n".join(lines)


def format_markdown(changes: list[Change], old_name: str, new_name: str) -> str:
    material = sum(1 for c in changes if c.material)
    lines = [
        f"### Changes in meaning: `{old_name}` → `{new_name}`",
        "",
        f"{len(changes)} change{'s' * (len(changes) != 1)}, **{material} material**.",
        "",
    ]
    if changes:
        lines += ["| | Clause | Change |", "|---|---|---|"]
        for c in changes:
            mark = "**material**" if c.material else "editorial"
            what = c.what.replace("|", "\\|")
            lines.append(f"| {mark} | {c.where} | {what} |")
    return "\n".join(lines)


def format_json(changes: list[Change], old_name: str, new_name: str) -> str:
    return json.dumps(
        {
            "old": old_name,
            "new": new_name,
            "material": sum(1 for c in changes if c.material),
            "changes": [c.to_json() for c in changes],
        },
        indent=2,
        ensure_ascii=False,
    )
