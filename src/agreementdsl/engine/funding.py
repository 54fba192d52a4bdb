"""Each partner's contribution for the run's year, by funding stream, with its "of which" parts.

Read from the IR as compiled: a stream-less contribution is one stream (`stream` null). The
money paid against the money due (engine.payments) is per partner, across its streams: a
ledger's `contribution` row names a partner, not a stream.
"""

from __future__ import annotations

from typing import Any


def contributed(pool: dict[str, Any], label: str) -> list[dict[str, Any]] | None:
    """partner, amount, streams [{stream, name, amount, expression}], of_which [{id, name,
    stream, amount}] for the year (None when the pool states no contributions for it)."""
    year = next((y for y in pool["contributions"] if y["year"] == label), None)
    if year is None:
        return None
    parts: dict[str, list[dict[str, Any]]] = {}
    for part in pool.get("of_which", []):
        amount = next((a["amount"] for a in part["amounts"] if a["year"] == label), None)
        if amount is not None:
            parts.setdefault(part["partner"], []).append(
                {"id": part["id"], "name": part["name"], "stream": part["stream"], "amount": amount}
            )
    return [
        {
            "partner": row["partner"],
            "amount": row["amount"],
            "streams": [
                {k: s[k] for k in ("stream", "name", "amount", "expression")}
                for s in row["streams"]
            ],
            "of_which": parts.get(row["partner"], []),
        }
        for row in year["partners"]
    ]


def has_detail(rows: list[dict[str, Any]] | None) -> bool:
    """Whether any partner has several streams, a named stream or an "of which" part."""
    return any(r["of_which"] or any(s["stream"] for s in r["streams"]) for r in rows or [])
