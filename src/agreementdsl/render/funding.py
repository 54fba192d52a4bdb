"""The schedule's words for funding streams, "of which" parts and the forecast method."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..compile import source_of as _src
from ..lists import listed

if TYPE_CHECKING:
    from .document import Builder, Section


def stream_rows(
    b: Builder, row: dict[str, Any], basis_words: Callable[[Builder, dict[str, Any]], str]
) -> list[list[str]]:
    """A partner's funding streams, each with its own basis, then the partner's total."""
    name = b.partners[row["partner"]]["name"]
    out = []
    for st in row["streams"]:
        amount = b.money(st["amount"]) if st["amount"] is not None else "[not stated]"
        basis = basis_words(b, st).replace("contribution", "contribution to this stream", 1)
        out.append([f"{name}: {st['name']}", amount, basis])
    if len(row["streams"]) > 1:
        total = b.money(row["amount"]) if row["amount"] is not None else "[not stated]"
        out.append([f"{name} in total", total, "the sum of its funding streams"])
    return out


def of_which(b: Builder, pool: dict[str, Any], s: Section) -> None:
    """Stated parts of contributions ("of which"), except the BCF's, drafted by _bcf_facts."""
    from .document import Para

    for part in pool.get("of_which", []):
        if part["id"] == "bcf-adult-social-care":
            continue
        amounts = [f"{b.money(a['amount'])} in {a['year']}" for a in part["amounts"] if a["amount"]]
        if not amounts:
            continue
        whole = f"the contribution of {b.short(part['partner'])}"
        if part["stream"]:
            whole = f"the {_stream_name(pool, part['stream'])} contribution of {b.short(part['partner'])}"
        all_amounts = listed(amounts)
        s.blocks.append(
            Para(
                f"Of {whole} to the Pooled Fund, {all_amounts} is the {part['name']}.",
                source=_src(part),
            )
        )


def _stream_name(pool: dict[str, Any], stream: str) -> str:
    for year in pool["contributions"]:
        for row in year["partners"]:
            for st in row.get("streams", []):
                if st["stream"] == stream:
                    return str(st["name"])
    return stream


MONTH_NAMES = ("April", "May", "June", "July", "August", "September", "October", "November",
               "December", "January", "February", "March")  # fmt: skip


def forecast_method(b: Builder, pool: dict[str, Any], s: Section) -> None:
    """How the forecast outturn the triggers compare is reached, where a trigger uses it."""
    from .document import Para, Table

    method = pool.get("forecast_method") or {"method": "run-rate"}
    if method["method"] == "run-rate":
        return  # the definition of "Forecast Outturn" in clause 1 says it
    head = "The Forecast Outturn of the Pooled Fund for a Financial Year on any day is, by the forecast method this Schedule names,"
    if method["method"] == "latest forecast":
        text = f"{head} the latest forecast of the outturn made by the Pooled Fund Manager on or before that day or, where there is none, the budget."
    else:
        by = "the Pooled Fund" if method["by"] == "month" else "each Element"
        text = (
            f"{head} found from the budget profile below: for {by}, the net expenditure to the end of the last month ended divided by the share of the budget profiled to that month end "
            "(or, where nothing is profiled to it, the budget plus that net expenditure), added together; before the first month end it is the budget."
        )
    s.blocks.append(Para(text, source=_src(method) if method.get("span") else None))
    if method["method"] != "profile":
        return
    names = {e["id"]: e["name"] for e in pool["elements"]}
    rows = []
    for part in method["profile"]:
        label = names.get(part["element"], part["element"]) if part["element"] else "Pooled Fund"
        if part["months"] == "even":
            rows.append([label, "in equal twelfths, one each month"])
        else:
            planned = [
                f"{MONTH_NAMES[i]} {pct}%" for i, pct in enumerate(part["months"]) if pct != "0"
            ]
            rows.append([label, ", ".join(planned)])
    s.blocks.append(Table(["Profiled", "Share of the year's budget by month"], rows, None))
