"""`diff` of funding streams, "of which" parts and the forecast method of a pool.

Called by diff_pool's differ (`self`), whose `added`, `removed` and `changed` record each change
in plain English; a stream-less contribution is one stream with no name.
"""

from __future__ import annotations

from typing import Any

from .money import format_money, parse_amount


def _money(amount: str | None) -> str:
    return format_money(parse_amount(amount), always_pence=False) if amount else "nothing"


def named_streams(row: dict[str, Any]) -> bool:
    """Whether a partner's contribution for a year is written as named streams."""
    return any(s["stream"] for s in row.get("streams", []))


def streams(
    self: Any, where: str, path: str, partner: str, a: dict[str, Any], b: dict[str, Any]
) -> None:
    """A partner's funding streams for a year, stream by stream (a stream-less contribution
    is one stream with no name)."""
    old = {s["stream"]: s for s in a["streams"]}
    new = {s["stream"]: s for s in b["streams"]}

    def called(s: dict[str, Any]) -> str:
        # `dcc's stream own (the Council's own funding)`: a name may begin with an article
        if not s["stream"]:
            return "contribution as one sum"
        named = s["name"] and s["name"] != s["stream"]
        return f"stream {s['stream']} ({s['name']})" if named else f"stream {s['stream']}"

    for sid, st in new.items():
        was = old.get(sid)
        here = f"{path}.{sid or 'whole'}"
        if was is None:
            self.added(
                where,
                f"{partner} contributes a new {called(st)}, {_money(st['amount'])} ({st['expression']})",
                here,
                st,
            )
        elif was["amount"] != st["amount"]:
            self.changed(
                where,
                f"{partner}'s {called(st)} changes from {_money(was['amount'])} ({was['expression']}) to {_money(st['amount'])} ({st['expression']})",
                here,
                was,
                st,
            )
        elif was["expression"] != st["expression"]:
            self.changed(
                where,
                f"{partner}'s {called(st)} is written `{st['expression']}` instead of `{was['expression']}`, the same {_money(st['amount'])}",
                here,
                was,
                st,
                material=False,
            )
    for sid, was in old.items():
        if sid not in new:
            self.removed(
                where,
                f"{partner}'s {called(was)} of {_money(was['amount'])} is removed",
                f"{path}.{sid or 'whole'}",
                was,
            )
    if a["amount"] != b["amount"]:
        self.changed(
            where,
            f"{partner}'s contribution in total changes from {_money(a['amount'])} to {_money(b['amount'])}",
            path,
            a,
            b,
        )


def of_which(self: Any, name: str, pid: str, a: list[Any], b: list[Any]) -> None:
    """Stated parts of contributions: a part or a year of it added, removed or changed."""
    old = {(p["id"], y["year"]): (p, y["amount"]) for p in a for y in p["amounts"]}
    new = {(p["id"], y["year"]): (p, y["amount"]) for p in b for y in p["amounts"]}
    for key in sorted(set(old) | set(new)):
        where, path = f"{name}, of which", f"pools.{pid}.of_which.{key[0]}.{key[1]}"
        if key not in old:
            part, amount = new[key]
            self.added(
                where,
                f"of {part['partner']}'s {key[1]} contribution, {_money(amount)} is stated as the {part['name']}",
                path,
                part,
            )
        elif key not in new:
            part, amount = old[key]
            self.removed(
                where,
                f"the {part['name']} of {_money(amount)} in {key[1]} is no longer stated",
                path,
                part,
            )
        elif old[key][1] != new[key][1]:
            part = new[key][0]
            self.changed(
                where,
                f"the {part['name']} in {key[1]} changes from {_money(old[key][1])} to {_money(new[key][1])}",
                path,
                old[key][0],
                new[key][0],
            )


def forecast_method(self: Any, name: str, pid: str, a: Any, b: Any) -> None:
    """The forecast method (and its profile): it decides when exception reports are due."""
    a = a or {"method": "run-rate", "by": None, "profile": []}
    b = b or {"method": "run-rate", "by": None, "profile": []}
    if (a["method"], a["by"], a["profile"]) == (b["method"], b["by"], b["profile"]):
        return
    if a["method"] == b["method"]:
        what = "the forecast budget profile changes"
    else:
        what = f"the forecast outturn is worked out by {b['method']} instead of {a['method']}"
    self.changed(
        f"{name}, forecast",
        what + ": the forecast triggers of its reporting duties are tested against it",
        f"pools.{pid}.forecast_method",
        a,
        b,
    )
