"""The pool-level part of the semantic diff: a pool's money, risk share, authority, reporting
and disputes, compared clause by clause (mixed into the differ in diff.py)."""

from __future__ import annotations

import difflib
from typing import Any

from . import diff_funding as funding
from .align import align
from .compile import risk_share_for
from .diff_funding import named_streams
from .money import format_money, parse_amount


def _money(amount: str | None) -> str:
    return format_money(parse_amount(amount), always_pence=False) if amount else "nothing"


class PoolDiffer:
    """Compares two pools; `added`, `removed`, `changed`, `field` and `keyed` come from the differ."""

    added: Any
    removed: Any
    changed: Any
    field: Any
    keyed: Any

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
            self.changed(
                name, "the list of services is changed", f"pools.{pid}.services", material=False
            )
        if " ".join((a["aims"] or "").split()) != " ".join((b["aims"] or "").split()):
            self.changed(name, "the aims are reworded", f"pools.{pid}.aims", material=False)
        self.keyed(
            f"{name}, elements",
            f"pools.{pid}.elements",
            a["elements"],
            b["elements"],
            lambda x, y: self.element(name, pid, x, y),
            lambda e: f"element `{e['id']}` ({e['name']})",
        )
        self.contributions(name, pid, a, b)
        funding.of_which(self, name, pid, a.get("of_which", []), b.get("of_which", []))
        funding.forecast_method(self, name, pid, a.get("forecast_method"), b.get("forecast_method"))
        self._risk_by_year(name, pid, a, b)
        self.exit(name, pid, a.get("exit") or {}, b.get("exit") or {})
        self.keyed(
            f"{name}, schemes",
            f"pools.{pid}.schemes",
            a.get("schemes", []),
            b.get("schemes", []),
            lambda x, y: self.scheme(name, pid, x, y),
            lambda s: f"scheme `{s['id']}` ({s['name']})",
        )
        self.bcf(name, pid, a.get("bcf") or {}, b.get("bcf") or {})
        terms = lambda p: f"{p['cadence']}, within {p['within']}" if p else None  # noqa: E731
        self.field(
            name,
            f"pools.{pid}.payments",
            "when contributions are paid",
            terms(a.get("payments")),
            terms(b.get("payments")),
            True,
        )
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
                self.added(
                    where,
                    f"contributions are stated for {year}, {_money(after[year]['total'])} in all",
                    f"pools.{pid}.contributions.{year}",
                    after[year],
                )
                continue
            if year not in after:
                self.removed(
                    where,
                    f"the contributions for {year} are removed",
                    f"pools.{pid}.contributions.{year}",
                    before[year],
                )
                continue
            old_rows = {r["partner"]: r for r in before[year]["partners"]}
            for row in after[year]["partners"]:
                old = old_rows.get(row["partner"])
                path = f"pools.{pid}.contributions.{year}.{row['partner']}"
                if old is None:
                    self.added(
                        where, f"{row['partner']} contributes {_money(row['amount'])}", path, row
                    )
                elif named_streams(old) or named_streams(row):
                    funding.streams(self, where, path, row["partner"], old, row)
                elif old["amount"] != row["amount"]:
                    self.changed(
                        where,
                        f"{row['partner']}'s contribution changes from {_money(old['amount'])} ({old['expression']}) to {_money(row['amount'])} ({row['expression']})",
                        path,
                        old,
                        row,
                    )
                elif old["expression"] != row["expression"]:
                    self.changed(
                        where,
                        f"{row['partner']}'s contribution is written `{row['expression']}` instead of `{old['expression']}`, the same {_money(row['amount'])}",
                        path,
                        old,
                        row,
                        material=False,
                    )
            for partner, old in old_rows.items():
                if partner not in {r["partner"] for r in after[year]["partners"]}:
                    self.removed(
                        where,
                        f"{partner}'s contribution of {_money(old['amount'])} is removed",
                        f"pools.{pid}.contributions.{year}.{partner}",
                        old,
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
                    self.changed(
                        f"{name}, budgets {year}",
                        f"the budget of {element} changes from {_money(x.get(element))} to {_money(y.get(element))}",
                        f"pools.{pid}.budgets.{year}.{element}",
                    )

    def scheme(self, name: str, pid: str, a: dict[str, Any], b: dict[str, Any]) -> None:
        """What the element and budget comparisons do not say: provider and metrics."""
        where = f"{name}, scheme {b['id']}"
        path = f"pools.{pid}.schemes.{b['id']}"
        self.field(
            where, f"{path}.provider", "the lead provider", a["provider"], b["provider"], True
        )
        if a["metrics"] != b["metrics"]:
            self.changed(where, "the metrics are changed", f"{path}.metrics", a, b, material=False)

    def bcf(self, name: str, pid: str, a: dict[str, Any], b: dict[str, Any]) -> None:
        """The pool's Better Care Fund facts: the NHS minimum contribution and the DFG."""
        where = f"{name}, Better Care Fund"
        path = f"pools.{pid}.bcf"
        self.field(
            where,
            f"{path}.nhs_minimum",
            "the partner of the NHS minimum contribution",
            a.get("nhs_minimum"),
            b.get("nhs_minimum"),
            True,
        )
        old = {y["year"]: y["amount"] for y in a.get("adult_social_care", [])}
        new = {y["year"]: y["amount"] for y in b.get("adult_social_care", [])}
        for year in sorted(set(old) | set(new)):
            self.field(
                where,
                f"{path}.adult_social_care.{year}",
                f"the {year} NHS minimum contribution to adult social care",
                old.get(year),
                new.get(year),
                True,
                _money,
            )
        self.field(
            where,
            f"{path}.dfg",
            "holding the Disabled Facilities Grant",
            a.get("dfg"),
            b.get("dfg"),
            True,
        )

    def exit(self, name: str, pid: str, a: dict[str, Any], b: dict[str, Any]) -> None:
        """The exit waterfall (stated, or the risk share when none is) and the assets text."""
        old = a.get("waterfall")
        new = b.get("waterfall")
        if (old is None) != (new is None):
            self.changed(
                f"{name}, exit",
                "exit terms are now stated: the balance at exit is shared by its own waterfall"
                if new is not None
                else "the exit terms are removed: the balance at exit is shared by the risk share",
                f"pools.{pid}.exit",
                a or None,
                b or None,
            )
        elif old is not None and new is not None:
            self.risk(name, pid, old, new, "exit waterfall", "exit")
        if " ".join((a.get("assets") or "").split()) != " ".join((b.get("assets") or "").split()):
            self.changed(
                f"{name}, exit",
                "what each partner keeps on exit (assets and staff) is changed",
                f"pools.{pid}.exit.assets",
                a or None,
                b or None,
            )

    def risk(
        self,
        name: str,
        pid: str,
        a: dict[str, Any],
        b: dict[str, Any],
        label: str = "risk share",
        key: str = "risk_share",
    ) -> None:
        for direction in ("overspend", "underspend"):
            old = (a.get(direction) or {}).get("steps", [])
            new = (b.get(direction) or {}).get("steps", [])
            for op, i, j in align([s["text"] for s in old], [s["text"] for s in new]):
                number = (j if j is not None else i or 0) + 1
                where = f"{name}, {label}, {direction} step {number}"
                path = f"pools.{pid}.{key}.{direction}.{number}"
                if op == "insert" and j is not None:
                    self.added(where, f"a step is added: `{new[j]['text']}`", path, new[j])
                elif op == "delete" and i is not None:
                    self.removed(where, f"the step `{old[i]['text']}` is removed", path, old[i])
                elif op == "change" and i is not None and j is not None:
                    self.changed(where, _step_change(old[i], new[j]), path, old[i], new[j])

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
                self.changed(
                    where,
                    _rule_change(old[i], new[j]),
                    f"pools.{pid}.spending.{new[j]['number']}",
                    old[i],
                    new[j],
                )
            for j in range(j1 + len(pairs), j2):
                self.added(
                    f"{name}, delegated authority, rule {new[j]['number']}",
                    f"a rule is added: `{new[j]['text']}`",
                    f"pools.{pid}.spending.{new[j]['number']}",
                    new[j],
                )
            for i in range(i1 + len(pairs), i2):
                self.removed(
                    f"{name}, delegated authority",
                    f"the rule `{old[i]['text']}` is removed",
                    f"pools.{pid}.spending.{old[i]['number']}",
                    old[i],
                )
        rank = lambda r: " < ".join(sorted(r, key=lambda k: r[k]))  # noqa: E731
        if rank(a["authority"]) != rank(b["authority"]):
            self.changed(
                f"{name}, delegated authority",
                f"the order of authority changes from {rank(a['authority'])} to {rank(b['authority'])}",
                f"pools.{pid}.authority",
            )
        if a["only_named_approvers"] != b["only_named_approvers"]:
            self.changed(
                f"{name}, delegated authority",
                "the clause now ends `only named approvers`: no role stands in for another"
                if b["only_named_approvers"]
                else "the clause no longer ends `only named approvers`: higher roles may stand in again",
                f"pools.{pid}.only_named_approvers",
                old[-1] if old else None,
                new[-1] if new else None,
            )
        self._stand_ins(name, pid, a, b)
        self._unapproved(name, pid, a, b)

    def _risk_by_year(self, name: str, pid: str, a: dict[str, Any], b: dict[str, Any]) -> None:
        """The risk share, or, where either states it per financial year, each year's."""
        old_years = [y["from"] for y in a.get("risk_share_years") or []]
        new_years = [y["from"] for y in b.get("risk_share_years") or []]
        if not old_years and not new_years:
            self.risk(name, pid, a["risk_share"] or {}, b["risk_share"] or {})
            return
        if old_years != new_years:
            stated = lambda years: (  # noqa: E731
                "per financial year from " + ", ".join(years) if years else "as one clause"
            )
            self.changed(
                f"{name}, risk share",
                f"the risk share was stated {stated(old_years)} and is now stated "
                f"{stated(new_years)}",
                f"pools.{pid}.risk_share_years",
            )
        for year in sorted(set(old_years) | set(new_years), key=lambda y: int(y[:4])):
            self.risk(
                name,
                pid,
                risk_share_for(a, year) or {},
                risk_share_for(b, year) or {},
                label=f"risk share for {year}",
                key=f"risk_share_years.{year}",
            )

    def _unapproved(self, name: str, pid: str, a: dict[str, Any], b: dict[str, Any]) -> None:
        """Who bears spend that breaches delegated authority: the pool, or its partner."""
        before = (a.get("unapproved_spend") or {}).get("borne_by", "pool")
        after = (b.get("unapproved_spend") or {}).get("borne_by", "pool")
        if before != after:
            self.changed(
                f"{name}, unapproved spend",
                "unapproved spend is now borne by its partner, outside the risk share, and "
                "leaves the pool's variance"
                if after == "partner"
                else "unapproved spend now stays in the pool and is shared under the risk share",
                f"pools.{pid}.unapproved_spend",
                (a.get("unapproved_spend") or {}).get("span"),
                (b.get("unapproved_spend") or {}).get("span"),
            )

    def _stand_ins(self, name: str, pid: str, a: dict[str, Any], b: dict[str, Any]) -> None:
        """Who may approve in a role's place: what the engine accepts, said per role."""
        old, new = a["stand_ins"], b["stand_ins"]
        words = lambda roles: ", ".join(roles) or "no other role"  # noqa: E731
        for role in new:
            if role in old and old[role] != new[role]:
                self.changed(
                    f"{name}, delegated authority",
                    f"who may stand in for {role} changes from {words(old[role])} to {words(new[role])}",
                    f"pools.{pid}.stand_ins.{role}",
                    a["spending"][-1] if a["spending"] else None,
                    b["spending"][-1] if b["spending"] else None,
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
                self.added(where, f"a duty is added: {_duty_words(d)}", path, d)
                continue
            o = before[k]
            if o["to"] != d["to"]:
                self.changed(where, f"it goes to {d['to']} instead of {o['to']}", path, o, d)
            if o["deadline"] != d["deadline"]:
                self.changed(
                    where,
                    f"the deadline changes from {o['deadline']['text']} to {d['deadline']['text']}",
                    path,
                    o,
                    d,
                )
            if o["trigger"] and d["trigger"] and _trigger_words(o) != _trigger_words(d):
                self.changed(
                    where,
                    f"the trigger changes from {_trigger_words(o)} to {_trigger_words(d)}",
                    path,
                    o,
                    d,
                )
        for k, o in before.items():
            if k not in after:
                self.removed(
                    f"{name}, reporting, {_duty_name(o)}",
                    f"the duty is removed: {_duty_words(o)}",
                    f"pools.{pid}.reporting.{k[0]}.{k[1].replace(' ', '-')}",
                    o,
                )

    def disputes(
        self, name: str, pid: str, old: list[dict[str, Any]], new: list[dict[str, Any]]
    ) -> None:
        limit = lambda s: s["limit"]["text"] if s["limit"] else "no time limit"  # noqa: E731
        text = lambda s: f"{s['holder']}, {limit(s)}"  # noqa: E731
        for op, i, j in align([text(s) for s in old], [text(s) for s in new]):
            number = (j if j is not None else i or 0) + 1
            where = f"{name}, disputes, stage {number}"
            path = f"pools.{pid}.disputes.{number}"
            if op == "insert" and j is not None:
                self.added(where, f"a stage is added: {text(new[j])}", path, new[j])
            elif op == "delete" and i is not None:
                self.removed(
                    where,
                    f"the stage {old[i]['holder']} ({limit(old[i])}) is removed",
                    path,
                    old[i],
                )
            elif op == "change" and i is not None and j is not None:
                if old[i]["holder"] != new[j]["holder"]:
                    self.changed(
                        where,
                        f"it is held by {new[j]['holder']} instead of {old[i]['holder']}",
                        path,
                        old[i],
                        new[j],
                    )
                if limit(old[i]) != limit(new[j]):
                    self.changed(
                        where,
                        f"the time limit changes from {limit(old[i])} to {limit(new[j])}",
                        path,
                        old[i],
                        new[j],
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
