"""Delegated authority: which approvers a spend needs, and whether those recorded suffice.

Rules come from the IR. A spend needs the approvers of the first rule, in order, whose limit
covers its amount and whose condition holds (LANGUAGE.md §5). Compliance matches each required
role to a different recorded role that may stand in for it: itself, or a role of higher authority
within the pool's own clause that the IR's `stand_ins` allows (a body for a body or an officer, an
officer for a lower officer of the same partner; nobody under `only named approvers`).
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..lists import listed
from ..money import format_money, parse_amount

Fields = Mapping[str, str]
FieldTuple = tuple[tuple[str, str], ...]  # (field, value) pairs in field-name order


def compile_condition(node: dict[str, Any]) -> Callable[[Fields], bool]:
    """A predicate over transaction fields from an IR condition."""
    op = node["op"]
    if op in ("in", "not-in"):
        name, values, negated = node["field"], frozenset(node["values"]), op == "not-in"
        return lambda f: (f.get(name, "") in values) != negated
    if op == "not":
        inner = compile_condition(node["operand"])
        return lambda f: not inner(f)
    parts = [compile_condition(o) for o in node["operands"]]
    if op == "all":
        return lambda f: all(p(f) for p in parts)
    return lambda f: any(p(f) for p in parts)


def _fields_of(node: dict[str, Any]) -> set[str]:
    if "field" in node:
        return {node["field"]}
    if "operand" in node:
        return _fields_of(node["operand"])
    return {f for o in node.get("operands", []) for f in _fields_of(o)}


@dataclass(frozen=True)
class Rule:
    number: int
    limit: int | None
    within_plan: bool
    condition: Callable[[Fields], bool] | None
    approvers: tuple[str, ...]
    text: str
    line: int
    file: str
    pool: str

    def covers(self, amount: int) -> bool:
        return self.limit is None or amount <= self.limit

    def applies(self, amount: int, in_plan: bool, fields: Fields) -> bool:
        if not self.covers(amount) or (self.within_plan and not in_plan):
            return False
        return self.condition is None or self.condition(fields)


@dataclass(frozen=True)
class Decision:
    """The classification of one spend."""

    rule: Rule | None  # None only for a spend of zero or less
    required: tuple[str, ...]
    recorded: tuple[str, ...]
    compliant: bool
    unknown: tuple[str, ...]  # recorded roles the agreement does not define

    def approved_words(self) -> str:
        """Who approved the spend, in words (`approvers_words`), after "approved by"."""
        words = approvers_words(self.recorded, self.unknown)
        return f"approved by {words}" if self.recorded else words

    def to_json(self) -> dict[str, object]:
        """The decision's part of a JSON approval (LANGUAGE.md §11), after its row, date and
        amount: the same in `approvals` and in `--explain-row`'s `approval`."""
        out: dict[str, object] = {
            "required": list(self.required),
            "recorded": list(self.recorded),
            "compliant": self.compliant,
        }
        if self.unknown:  # recorded roles the agreement does not define (only when there are some)
            out["undefined"] = list(self.unknown)
        if self.rule is not None:
            out["rule"] = f"{self.rule.file}:{self.rule.line}"
        return out


def approvers_words(recorded: Sequence[str], unknown: Sequence[str]) -> str:
    """The recorded approvers in words: an empty approver column is not a role called
    `nobody`, and a role the agreement does not define is said to be one. The text output
    (`Decision.approved_words`) and the board's page (from the JSON's `recorded` and
    `undefined`) both say it so. A role recorded more than once is named once (it counts once),
    saying how often it was recorded."""
    if not recorded:
        return "no approver recorded"
    times = Counter(recorded)
    named = []
    for role, n in times.items():
        notes = ["not a role of the agreement"] if role in unknown else []
        if n > 1:
            notes.append(f"recorded {_TIMES.get(n, f'{n} times')}")
        named.append(f"{role} ({'; '.join(notes)})" if notes else role)
    return " and ".join(named)


_TIMES = {2: "twice", 3: "three times"}


class Authority:
    """One pool's spending rules, with caches so millions of spends classify quickly."""

    def __init__(self, pool_ir: dict[str, Any], roles: frozenset[str]) -> None:
        self.rules = [
            Rule(
                r["number"],
                parse_amount(r["limit"]) if r["limit"] is not None else None,
                r["within_plan"],
                compile_condition(r["where"]) if r["where"] is not None else None,
                tuple(r["approvers"]),
                r["text"],
                r["span"]["line"],
                r["span"]["file"],
                pool_ir["id"],
            )
            for r in pool_ir["spending"]
        ]
        self.ranks: dict[str, int] = dict(pool_ir["authority"])
        self.stand_ins: dict[str, frozenset[str]] = {
            role: frozenset([role, *higher]) for role, higher in pool_ir["stand_ins"].items()
        }
        self.only_named: bool = pool_ir["only_named_approvers"]
        # `unapproved spend: borne by the partner`: the executors total such spend apart
        self.bears_unapproved = (pool_ir.get("unapproved_spend") or {}).get("borne_by") == "partner"
        self.joint: dict[str, tuple[str, ...]] = {
            role: tuple(members) for role, members in pool_ir.get("joint_roles", {}).items()
        }
        self.roles = roles
        self.limits = sorted({r.limit for r in self.rules if r.limit is not None})
        self._fields = {
            f for r in pool_ir["spending"] if r["where"] for f in _fields_of(r["where"])
        }
        self._rule_cache: dict[tuple[object, ...], Rule | None] = {}
        self._match_cache: dict[tuple[object, ...], Decision] = {}

    def fields_used(self) -> set[str]:
        """The transaction fields any of the pool's conditions look at."""
        return set(self._fields)

    def rule_for(self, amount: int, in_plan: bool, fields: FieldTuple) -> Rule | None:
        """The first rule that applies (None only when the clause has no catch-all).

        Rules depend on the amount only through the limits, so the cache is keyed by where the
        amount falls among them.
        """
        key = (bisect_left(self.limits, amount), in_plan, fields)
        try:
            return self._rule_cache[key]
        except KeyError:
            named = dict(fields)
            rule = next((r for r in self.rules if r.applies(amount, in_plan, named)), None)
            self._rule_cache[key] = rule
            return rule

    def decide(
        self, amount: int, in_plan: bool, fields: FieldTuple, recorded: tuple[str, ...]
    ) -> Decision:
        """Required approvers, and whether the recorded ones meet them."""
        if amount <= 0:
            return Decision(None, (), tuple(self._as_role(r) for r in recorded), True, ())
        return self.judge(self.rule_for(amount, in_plan, fields), recorded)

    def judge(self, rule: Rule | None, recorded: tuple[str, ...]) -> Decision:
        """The decision for a spend above zero that `rule` applies to (None: no rule does)."""
        recorded = tuple(self._as_role(r) for r in recorded)
        key = (rule.number if rule else None, recorded)
        cached = self._match_cache.get(key)
        if cached is not None:
            return cached
        required = rule.approvers if rule else ()
        unknown = tuple(dict.fromkeys(r for r in recorded if r not in self.roles))
        compliant = (
            bool(recorded) and not unknown and rule is not None and self.meets(required, recorded)
        )
        decision = Decision(rule, required, recorded, compliant, unknown)
        self._match_cache[key] = decision
        return decision

    def _expand_joint(self, required: tuple[str, ...], have: list[str]) -> tuple[str, ...]:
        """A role held jointly is met by itself (or a role that may stand in for it), or else
        by all of its members, each recorded: it is replaced by them when it is not recorded."""
        out: list[str] = []
        for need in required:
            members = self.joint.get(need)
            accepted = self.stand_ins.get(need, frozenset([need]))
            if members and not any(r in accepted for r in have):
                out.extend(members)
            else:
                out.append(need)
        return tuple(out)

    def _as_role(self, written: str) -> str:
        """A recorded approver as the role it names (`Board` is `board`: ids are lower case);
        as written when it names none, so that the result shows what the ledger said."""
        if written in self.roles:
            return written
        folded = written.lower()
        return folded if folded in self.roles else written

    def meets(self, required: tuple[str, ...], recorded: tuple[str, ...]) -> bool:
        """Each required role matched by a different recorded role that may stand in for it.

        A bipartite matching by augmenting paths: a rule names a handful of roles, so this is
        cheap, and decisions are cached per rule and recorded list.
        """
        have = list(dict.fromkeys(recorded))
        required = self._expand_joint(required, have)
        holder: dict[str, str] = {}  # recorded role -> the required role it is matched to

        def place(need: str, seen: set[str]) -> bool:
            for role in have:
                if role in seen or role not in self.stand_ins.get(need, frozenset([need])):
                    continue
                seen.add(role)
                if role not in holder or place(holder[role], seen):
                    holder[role] = need
                    return True
            return False

        return all(place(need, set()) for need in dict.fromkeys(required))

    def why_not_lower(
        self, decision: Decision, amount: int, in_plan: bool, fields: FieldTuple
    ) -> list[str]:
        """For an explanation: why each earlier rule did not apply, and why approval fell short."""
        named = dict(fields)
        lines = []
        for rule in self.rules:
            if decision.rule is not None and rule.number >= decision.rule.number:
                break
            reason = self._reason(rule, amount, in_plan, named)
            lines.append(f"`{rule.text}` ({rule.file}:{rule.line}) does not apply: {reason}")
        if decision.rule is not None:
            lines.append(
                f"`{decision.rule.text}` ({decision.rule.file}:{decision.rule.line}) applies: "
                f"requires {' and '.join(decision.required)}"
            )
        lines.extend(self._shortfall(decision))
        return lines

    def _accepted(self, need: str) -> str:
        others = sorted(self.stand_ins.get(need, frozenset()) - {need}, key=self.ranks.__getitem__)
        members = self.joint.get(need)
        together = f"{' and '.join(members)} together" if members else None
        if not others:
            return f"by {need} or by {together}" if together else f"only by {need}"
        names = [need, *others]
        by = "by " + listed(names, "or")
        return f"{by}, or by {together}" if together else by

    def _reason(self, rule: Rule, amount: int, in_plan: bool, fields: Fields) -> str:
        if not rule.covers(amount) and rule.limit is not None:
            return f"{format_money(amount)} is above {format_money(rule.limit, always_pence=False)}"
        if rule.within_plan and not in_plan:
            return "the spend is not marked within plan"
        # text with spaces at its ends never equals a name in a condition: say so, since the
        # ledger's export may have added them (conditions compare text exactly, LANGUAGE.md §5)
        padded = [
            f"{name} `{fields[name]}`"
            for name in ("category", "supplier")
            if fields.get(name, "") != fields.get(name, "").strip()
        ]
        # only where the spaces are the whole difference: the condition holds without them
        if (
            padded
            and rule.condition is not None
            and rule.condition(
                {k: (v.strip() if k in ("category", "supplier") else v) for k, v in fields.items()}
            )
        ):
            return (
                f"its condition does not hold (the row's {listed(padded)} "
                f"{'begins or ends' if len(padded) == 1 else 'begin or end'} with a space, and "
                "conditions compare text exactly)"
            )
        return "its condition does not hold"

    def _shortfall(self, decision: Decision) -> list[str]:
        if decision.compliant:
            return []
        if not decision.recorded:
            return ["no approver is recorded"]
        if decision.unknown:
            # an undefined role alone makes the spend non-compliant; the roles recorded beside
            # it are judged too, so that removing it is not taken for the whole remedy
            many = len(decision.unknown) > 1
            named = [f"`{u}`" for u in decision.unknown]
            line = (
                f"{listed(named)} {'are not roles' if many else 'is not a role'} of the agreement"
            )
            if any("," in u for u in decision.unknown):
                line += " (roles are separated by `;`, not `,`)"
            known = tuple(dict.fromkeys(r for r in decision.recorded if r not in decision.unknown))
            if not known or decision.rule is None:
                return [line]
            if self.meets(decision.required, known):
                verb = "meets" if len(known) == 1 else "meet"
                return [f"{line}; recorded {', '.join(known)} alone {verb} required "
                        f"{' and '.join(decision.required)}"]  # fmt: skip
            rest = Decision(decision.rule, decision.required, known, False, ())
            return [line, *self._shortfall(rest)]
        accepted = "; ".join(
            f"{need} may be approved {self._accepted(need)}"
            for need in dict.fromkeys(decision.required)
        )
        recorded = list(dict.fromkeys(decision.recorded))  # a role recorded twice counts once
        verb = "does" if len(recorded) == 1 else "do"
        line = (
            f"recorded {', '.join(recorded)} {verb} not meet required "
            f"{' and '.join(decision.required)}: {accepted}"
        )
        outranked = any(
            self.ranks.get(r, 0) > self.ranks.get(n, 0) and r not in self.stand_ins.get(n, ())
            for r in recorded
            for n in decision.required
        )
        if self.only_named:
            line += " (the clause ends `only named approvers`)"
        elif outranked:
            line += " (an officer stands in only for a lower officer of its own partner)"
        needs = list(dict.fromkeys(self._expand_joint(decision.required, recorded)))
        able = [r for r in recorded if any(r in self.stand_ins.get(n, {n}) for n in needs)]
        if all(any(r in self.stand_ins.get(n, {n}) for r in recorded) for n in needs) and len(
            able
        ) < len(needs):
            # each required role could be met alone, but not each by a different approver
            only = "is the only recorded role" if len(able) == 1 else "are the only recorded roles"
            line += (
                f"; each required role needs a different approver, and {listed(able)} {only} "
                f"that may approve for {listed(needs)}"
            )
            if len(decision.recorded) > len(recorded):
                line += " (a role recorded twice counts once)"
        for need in dict.fromkeys(decision.required):
            members = self.joint.get(need, ())
            present = [m for m in members if m in decision.recorded]
            missing = [m for m in members if m not in decision.recorded]
            if present and missing:
                line += (
                    f"; {need} is held by {' and '.join(members)} together: "
                    f"{' and '.join(missing)} {'has' if len(missing) == 1 else 'have'} not approved"
                )
        joint_members = {m for need in decision.required for m in self.joint.get(need, ())}
        powerless = [r for r in recorded if r not in self.ranks and r not in joint_members]
        if powerless:
            line += f"; {', '.join(powerless)} has no authority in this pool (its spending clause never names it)"
        return [line]
