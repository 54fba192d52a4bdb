"""Funding streams, "of which" parts and the forecast method of a pool, from YAML to the model.

A partner's contribution for a year is one expression (one stream) or a map of stream ids to
expressions (`wcc: { own: "prior year + 2%", dfg: "£7,512,930" }`); `streams:` names them for
the schedule. `of_which:` states parts of a contribution; `forecast:` names how the forecast
outturn is reached (run-rate, a budget profile by month or by element, or the latest forecast
row). The checks of these forms are here too, beside the forms.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from . import model as m
from .diagnostics import Diagnostic, error
from .money import format_money, format_percent

if TYPE_CHECKING:
    from .build import ModelBuilder
    from .contributions import Evaluated
    from .loader import YNode

METHODS = ("run-rate", "profile", "latest forecast")
MONTHS = ("apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec", "jan", "feb", "mar")
FULL_MONTHS = (
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "january",
    "february",
    "march",
)


def _key_span(node: YNode) -> m.Span:
    return node.key_span or node.span


def _text(node: YNode | None) -> str | None:
    return node.value if node is not None and isinstance(node.value, str) else None


def _items(node: YNode | None) -> list[tuple[str, YNode]]:
    return list(node.value.items()) if node is not None and node.is_map else []


def contribution(builder: ModelBuilder, pid: str, value: YNode) -> m.Contribution:
    """One partner's contribution for a year: an expression, or a map of its streams."""
    partner = m.Named(pid, _key_span(value))
    if value.is_map:
        streams = []
        for sid, node in _items(value):
            text = _text(node)
            expr = builder.clause("contribution", node) if text is not None else None
            streams.append(m.Stream(sid, expr, text or "", node.span))
        text = "; ".join(f"{s.id}: {s.text}" for s in streams)
        return m.Contribution(partner, None, text, value.span, tuple(streams))
    text = _text(value)
    expr = builder.clause("contribution", value) if text is not None else None
    return m.Contribution(partner, expr, text or "", value.span)


def stream_names(node: YNode | None) -> tuple[tuple[str, str], ...]:
    """`streams:` stream id → the words the schedule uses for it."""
    return tuple((sid, t) for sid, n in _items(node) if (t := _text(n)))


def of_which(builder: ModelBuilder, node: YNode | None) -> tuple[m.OfWhich, ...]:
    """`of_which:` id → { name, partner, stream (optional), amounts: { year: money } }."""
    out = []
    for oid, part in _items(node):
        if not part.is_map:
            continue
        partner = part.get("partner")
        out.append(
            m.OfWhich(
                oid,
                _text(part.get("name")) or oid,
                m.Named(t, partner.span) if partner is not None and (t := _text(partner)) else None,
                _text(part.get("stream")),
                tuple(builder._money_map(part.get("amounts"), "an of-which part")),
                _key_span(part),
            )
        )
    return tuple(out)


def _percent(text: str) -> Decimal | None:
    body = text.strip()
    if not body.endswith("%"):
        return None
    try:
        value = Decimal(body[:-1].strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() and value >= 0 else None


def _month(key: str) -> int | None:
    low = key.strip().lower()
    if low in MONTHS:
        return MONTHS.index(low)
    return FULL_MONTHS.index(low) if low in FULL_MONTHS else None


def _shares(node: YNode, where: str, diags: list[Diagnostic]) -> tuple[Decimal, ...] | None:
    """Twelve monthly percents (April first) from `{ apr: 10%, may: 8%, … }`; () for `even`."""
    if _text(node) == "even":
        return ()  # an even profile: a twelfth each month, kept exact
    if not node.is_map:
        diags.append(
            error(
                "E513",
                node.span,
                f"the profile {where} must be `even` or a map of months to percents",
                "write it like `{ apr: 100% }` or `even`",
            )
        )
        return None
    shares = [Decimal(0)] * 12
    ok = True
    for key, value in _items(node):
        month, pct = _month(key), _percent(str(value.value))
        if month is None or pct is None:
            what = (
                f"`{key}` is not a month" if month is None else f"`{value.value}` is not a percent"
            )
            diags.append(
                error(
                    "E513",
                    _key_span(value) if month is None else value.span,
                    f"in the profile {where}, {what}",
                    "months are written `apr` … `mar` (or in full), each with a percent like `8.5%`",
                )
            )
            ok = False
            continue
        shares[month] += pct
    total = sum(shares, Decimal(0))
    if ok and total != 100:
        diags.append(
            error(
                "E513",
                _key_span(node),
                f"the profile {where} adds up to {format_percent(total)}, not 100%",
                "the months' shares of the year's budget add up to exactly 100%",
            )
        )
        ok = False
    return tuple(shares) if ok else None


def forecast_method(
    node: YNode | None, elements: list[str], diags: list[Diagnostic]
) -> m.ForecastMethod | None:
    """`forecast: run-rate | latest forecast` or `{ method: profile, profile: … }`."""
    if node is None:
        return None
    if node.is_map:
        method = _text(node.get("method")) or ""
        profile = node.get("profile")
    else:
        method, profile = _text(node) or "", None
    if method not in METHODS:
        return None  # the schema has said which methods there are
    if method != "profile":
        if profile is not None:
            diags.append(
                error(
                    "E513",
                    _key_span(profile),
                    f"a profile is given but the forecast method is `{method}`",
                    "write `method: profile` to use it, or remove the profile",
                )
            )
        return m.ForecastMethod(method, None, (), _key_span(node))
    if profile is None:
        diags.append(
            error(
                "E513",
                _key_span(node),
                "the forecast method `profile` needs a `profile:`",
                "give the months' shares of the budget (`profile: { apr: 100% }` or `even`), or one such profile per element",
            )
        )
        return None
    keys = [k for k, _ in _items(profile)]
    if not profile.is_map or all(_month(k) is not None for k in keys):
        shares = _shares(profile, "of the pool", diags)
        if shares is None:
            return None
        return m.ForecastMethod("profile", "month", (("", shares),), _key_span(node))
    out = []
    for eid, value in _items(profile):
        if eid not in elements:
            diags.append(
                error(
                    "E513",
                    _key_span(value),
                    f"the profile names `{eid}`, which is neither a month nor an element of the pool",
                    f"the pool's elements are: {', '.join(f'`{e}`' for e in elements) or 'none'}",
                )
            )
            return None
        shares = _shares(value, f"of element `{eid}`", diags)
        if shares is None:
            return None
        out.append((eid, shares))
    return m.ForecastMethod("profile", "element", tuple(out), _key_span(node))


def check_of_which(
    pool: m.Pool, values: dict[str, dict[str, Evaluated]], streams: dict[tuple[str, str, str], int]
) -> list[Diagnostic]:
    """Each "of which" part names a partner (and stream) with a contribution that year, and is
    no more than it (E511, E512)."""
    diags: list[Diagnostic] = []
    stated = {y.year: {c.partner.name: c for c in y.contributions} for y in pool.contributions}
    for part in pool.of_which:
        if part.partner is None:
            continue  # the schema reports the missing partner
        for year, pence, span in part.amounts:
            row = stated.get(year, {}).get(part.partner.name)
            if row is None:
                diags.append(
                    error(
                        "E512",
                        span,
                        f"`{part.id}` is stated for {year}, when `{part.partner.name}` gives pool `{pool.id}` no contribution",
                        "an of-which part is a part of a contribution the pool states for that year",
                    )
                )
                continue
            whole_words = f"the {year} contribution of `{part.partner.name}`"
            if part.stream is not None:
                if part.stream not in {s.id for s in row.streams}:
                    named = ", ".join(f"`{s.id}`" for s in row.streams)
                    hint = (
                        f"its streams in {year} are: {named}"
                        if named
                        else f"its {year} contribution is one sum: remove `stream:`, or write the contribution as streams"
                    )
                    diags.append(
                        error(
                            "E512",
                            span,
                            f"`{part.id}` is part of the stream `{part.stream}`, which {whole_words} does not have",
                            hint,
                        )
                    )
                    continue
                whole = streams.get((year, part.partner.name, part.stream))
                whole_words += f" (stream `{part.stream}`)"
            else:
                ev = values.get(year, {}).get(part.partner.name)
                whole = ev.pence if ev is not None else None
            if pence is None or whole is None:
                continue
            if pence > whole:
                diags.append(
                    error(
                        "E511",
                        span,
                        f"`{part.id}` of {format_money(pence)} is more than the whole: {whole_words} is {format_money(whole)}",
                        "an of-which part cannot exceed the contribution it is part of",
                    )
                )
    return diags


def check_profile_budgets(pool: m.Pool) -> list[Diagnostic]:
    """A profile by element needs each element's budget for every year with contributions: a
    part with nothing planned yet is forecast at its budget (E513)."""
    f = pool.forecast
    if f is None or f.method != "profile" or f.by != "element":
        return []
    budgeted = {b.year for b in pool.budgets}
    missing = [y.year for y in pool.contributions if y.year not in budgeted]
    if not missing:
        return []
    return [
        error(
            "E513",
            f.span,
            f"the forecast profile of pool `{pool.id}` is by element, and the pool gives no element budgets for {', '.join(missing)}",
            "add `budgets:` giving each element's budget for every year (or profile the whole pool by month)",
        )
    ]
