"""The semantic diff of two compiled agreements: what changed in meaning, clause by clause.

Each change is said in plain English at the clause it belongs to ("Mental Health Services
Pooled Fund, risk share, overspend step 1: the host's first tier changes from £280,000 to
£350,000") and classed material (it changes money, authority, deadlines or parties) or
editorial (wording, names, descriptions).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from .compile import source_of as _src
from .diff_pool import PoolDiffer
from .terminal import visible as v


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


class _Differ(PoolDiffer):
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

    def added(self, where: str, what: str, path: str, new: Any = None) -> None:
        self.add(where, what, True, "added", path, None, new)

    def removed(self, where: str, what: str, path: str, old: Any = None) -> None:
        self.add(where, what, True, "removed", path, old, None)

    def changed(
        self,
        where: str,
        what: str,
        path: str,
        old: Any = None,
        new: Any = None,
        material: bool = True,
    ) -> None:
        self.add(where, what, material, "changed", path, old, new)

    def field(
        self, where: str, path: str, label: str, old: Any, new: Any, material: bool, show: Any = str
    ) -> None:
        if old != new:
            if show is str and isinstance(old, bool | None) and isinstance(new, bool | None):
                show = _yes_no  # never "True" or "False" in a sentence
            before = show(old) if old is not None else "nothing"
            after = show(new) if new is not None else "nothing"
            self.changed(
                where, f"{label} changes from {before} to {after}", path, material=material
            )

    # ------------------------------------------------------------ the whole agreement
    def provisions(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        """Settlement terms, version and the clauses of `provisions:`, in plain English."""
        from .checks.provisions import EXPIRY, MATTERS

        a, b = old["agreement"], new["agreement"]
        when = lambda d: d["text"] if d else "30 days (the default)"  # noqa: E731
        self.field(
            "Agreement",
            "agreement.settlement",
            "the time to pay the risk share after the annual return",
            when(a.get("settlement_within")),
            when(b.get("settlement_within")),
            True,
        )
        version = lambda ir: (ir["agreement"].get("versions") or [{}])[-1].get("version")  # noqa: E731
        self.field(
            "Agreement", "agreement.version", "the version", version(old), version(new), False
        )
        pa = old.get("provisions") or {"matters": {}, "notices": {}, "signatories": {}}
        pb = new.get("provisions") or {"matters": {}, "notices": {}, "signatories": {}}
        for key, title, words in (*MATTERS, EXPIRY):
            before, after = pa["matters"].get(key), pb["matters"].get(key)
            path = f"provisions.{key}"
            if before is None and after is not None:
                self.added("Provisions", f"{words} is now stated ({title})", path)
            elif before is not None and after is None:
                self.removed(
                    "Provisions",
                    f"{words} is no longer stated: a placeholder again ({title})",
                    path,
                )
            elif before != after:
                self.changed(
                    "Provisions",
                    f"the clause on {words} is reworded ({title})",
                    path,
                )
        for key, label in (("notices", "address for notices"), ("signatories", "signatory")):
            for pid in sorted(set(pa[key]) | set(pb[key])):
                self.field(
                    "Provisions",
                    f"provisions.{key}.{pid}",
                    f"the {label} of `{pid}`",
                    pa[key].get(pid),
                    pb[key].get(pid),
                    key == "notices",
                )

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
            self.changed(where, "the aims are reworded", "agreement.aims", material=False)
        for key, label in (
            ("programme", "the programme"),
            ("framework", "the policy framework"),
            ("signed", "the date of signature"),
        ):
            self.field(where, f"agreement.{key}", label, a.get(key), b.get(key), True)
        self.provisions(old, new)
        funds = lambda ir: {f["name"]: f for f in ir.get("non_pooled", [])}  # noqa: E731
        before, after = funds(old), funds(new)
        for fund in sorted(set(before) | set(after)):
            if before.get(fund) is None:
                self.added("Non-pooled funds", f"`{fund}` is added", "non_pooled", after[fund])
            elif after.get(fund) is None:
                self.removed("Non-pooled funds", f"`{fund}` is removed", "non_pooled", before[fund])
            elif _without_span(before[fund]) != _without_span(after[fund]):
                self.changed(
                    "Non-pooled funds",
                    f"`{fund}` is changed",
                    "non_pooled",
                    before[fund],
                    after[fund],
                )
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
                self.added(
                    pool["name"],
                    f"a new pooled fund, {pool['name']}, hosted by {pool['host']}",
                    f"pools.{pool['id']}",
                    pool,
                )
        for pid, pool in old_pools.items():
            if pid not in {p["id"] for p in new["pools"]}:
                self.removed(
                    pool["name"], f"the pooled fund {pool['name']} is removed", f"pools.{pid}", pool
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
                self.added(where, f"{name(item)} is added", f"{path}.{key}", item)
            else:
                compare(before[key], item)
        for key, item in before.items():
            if key not in after:
                self.removed(where, f"{name(item)} is removed", f"{path}.{key}", item)

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
        # a joint role: who must act together (changes whose approval a spend needs)
        members = lambda m: ", ".join(m) if m else "no one (not a joint role)"  # noqa: E731
        self.field(
            where,
            f"roles.{b['id']}.members",
            "who hold it jointly",
            a.get("members") or [],
            b.get("members") or [],
            True,
            show=members,
        )
        self.field(
            where,
            f"roles.{b['id']}.statutory",
            "whether it is a statutory body",
            bool(a.get("statutory")),
            bool(b.get("statutory")),
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


def _yes_no(value: Any) -> str:
    return "yes" if value else "no"


def diff_irs(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """Every change in meaning from `old` to `new`, in clause order."""
    differ = _Differ()
    differ.agreement(old, new)
    return differ.changes


# ---------------------------------------------------------------- output
def format_text(changes: list[Change], old_name: str, new_name: str) -> str:
    material = sum(1 for c in changes if c.material)
    lines = [
        f"{v(old_name)} → {v(new_name)}: {len(changes)} change{'s' * (len(changes) != 1)}, {material} material"
    ]
    for c in changes:
        tag = "material" if c.material else "editorial"
        where = f" ({v(c.new_source or c.old_source)})" if (c.new_source or c.old_source) else ""
        lines.append(f"  [{tag}] {v(c.where)}: {v(c.what)}{where}")
    return "\n".join(lines)


def format_markdown(changes: list[Change], old_name: str, new_name: str) -> str:
    material = sum(1 for c in changes if c.material)
    from .render.markup import code_span, markdown_text

    lines = [
        f"### Changes in meaning: {code_span(old_name)} → {code_span(new_name)}",
        "",
        f"{len(changes)} change{'s' * (len(changes) != 1)}, **{material} material**.",
        "",
    ]
    if changes:
        lines += ["| | Clause | Change | Line |", "|---|---|---|---|"]
        for c in changes:
            mark = "**material**" if c.material else "editorial"
            cells = (c.where, c.what, c.new_source or c.old_source or "")
            where, what, line = (markdown_text(cell) for cell in cells)
            lines.append(f"| {mark} | {where} | {what} | {line} |")
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


def _without_span(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k != "span"}
