"""The matters of a whole agreement besides its pools (`provisions:`): what is missing is drafted
as a placeholder, and warned once per matter (W410) so that nobody signs a placeholder unseen."""

from __future__ import annotations

from .. import model as m
from ..diagnostics import Diagnostic, error, warning

# key, clause title, the matter in words (the placeholder says "[to be agreed: <words>]")
MATTERS: tuple[tuple[str, str, str], ...] = (
    ("consultation", "Recitals", "whom the Partners consulted jointly under regulation 4(2)"),
    ("variation", "Variation", "how this Agreement is varied"),
    ("staff", "Staff", "the staff who work under the arrangements and who employs them"),
    ("accommodation", "Accommodation", "the premises and goods used under the arrangements"),
    ("vat", "Value added tax", "how value added tax on the Pooled Funds is treated"),
    ("audit", "Audit and right of access", "audit and the Partners' right of access to records"),
    ("liabilities", "Liabilities and insurance", "liabilities, indemnities and insurance"),
    (
        "freedom_of_information",
        "Freedom of information",
        "how requests under the Freedom of Information Act 2000 are handled",
    ),
    (
        "data_protection",
        "Data protection and information sharing",
        "data protection and information sharing",
    ),
    ("force_majeure", "Force majeure", "events beyond the Partners' control"),
)
NOTICES = "each Partner's address for notices"
EXPERT = "who appoints the expert if the Partners in dispute do not agree one"
# The terms of a body of the partnership's constitution: key, the matter in short words, and
# the placeholder's words for a body (`{body}`: "the Section 31 Partnership Board").
CONSTITUTION: tuple[tuple[str, str, str], ...] = (
    ("membership", "its members", "who the members of {body} are, and who appoints them"),
    ("chair", "who chairs it", "who chairs {body}"),
    ("quorum", "its quorum", "the quorum of {body}, and whether each Partner must be present"),
    (
        "voting",
        "how it decides",
        "how decisions of {body} are made, and whether each Partner has a vote",
    ),
    ("meetings", "when it meets", "how often meetings of {body} are held, and who may call one"),
)


def bodies(agreement: m.Agreement) -> list[m.Role]:
    """The bodies of the partnership the Partners establish (roles without `partner:` that are
    not established by law): each needs a constitution."""
    return [r for r in agreement.roles if r.partner is None and not r.statutory]


def constitution_gaps(role: m.Role, terms: dict[str, str]) -> list[str]:
    """The keys of a body's constitution that the agreement leaves to a placeholder. A role held
    jointly (`members:`) needs none: its members are those roles, and they act together."""
    if role.members:
        return []
    return [key for key, _words, _placeholder in CONSTITUTION if key not in terms]


def uses_expert(agreement: m.Agreement) -> list[str]:
    """The pools whose dispute ladder has an expert determination stage."""
    return [p.id for p in agreement.pools if any(s.holder == "expert" for s in p.disputes)]


# A matter only where a pool carries a balance forward out of the agreement's last Financial Year
# (no year of the agreement receives it): drafted as its own clause, or a placeholder.
EXPIRY = (
    "expiry_balances",
    "Balances at expiry",
    "how a balance carried forward from the last Financial Year is dealt with at the Expiry Date",
)


def carried_out_of_last_year(agreement: m.Agreement) -> list[str]:
    """The pools whose risk share for the agreement's last Financial Year carries a balance
    forward (`carried forward`), which no later year of the agreement receives."""
    from datetime import date

    from ..calendar import parse_month_day, year_containing

    start = parse_month_day(agreement.financial_year_start or "")
    try:
        expiry = date.fromisoformat(agreement.expiry or "")
    except ValueError:
        return []
    if start is None:
        return []
    last = year_containing(expiry, *start).label
    out = []
    for pool in agreement.pools:
        stated = [w for y, w in pool.risk_share_years if y <= last]
        waterfall = stated[-1] if stated else pool.risk_share
        if waterfall is not None and any(
            isinstance(step.allocation, m.CarriedForward)
            for section in waterfall.sections
            for step in section.steps
        ):
            out.append(pool.id)
    return out


def check(agreement: m.Agreement) -> list[Diagnostic]:
    """W410 once for each matter not stated; E301 for an address or signatory of no partner.

    An agreement with no `provisions:` at all is written as its financial schedules only (as
    LANGUAGE.md's own example is): `check` does not warn for the matters then, and `render`
    still drafts their placeholders and lists them among its drafting notes (`missing`).
    """
    if agreement.provisions is None:
        return []
    return missing(agreement) + _strangers(agreement)


def unwarned(agreement: m.Agreement) -> list[Diagnostic]:
    """The W410s (and the W801s of a report to the Board only) that `check` leaves out for an
    agreement with no `provisions:`; `render` notes them."""
    from .terms import to_the_board_only

    if agreement.provisions is not None:
        return []
    return missing(agreement) + to_the_board_only(agreement)


def missing(agreement: m.Agreement) -> list[Diagnostic]:
    """W410 once for each matter of a whole agreement that the agreement does not state."""
    provisions = agreement.provisions or m.Provisions()
    where = provisions.span or agreement.key_spans.get("agreement", agreement.span)
    diags = []
    for key, _title, words in MATTERS:
        if key not in provisions.matters:
            diags.append(
                warning(
                    "W410",
                    where,
                    f"the agreement does not state {words}; `render` drafts it as a placeholder",
                    f"add `{key}:` under `provisions:`",
                )
            )
    carried = carried_out_of_last_year(agreement)
    if carried and EXPIRY[0] not in provisions.matters:
        diags.append(
            warning(
                "W410",
                where,
                f"the agreement does not state {EXPIRY[2]} (pool{'s' * (len(carried) > 1)} "
                f"{', '.join(f'`{c}`' for c in carried)} carr{'y' if len(carried) > 1 else 'ies'} "
                "one forward from that year); `render` drafts it as a placeholder",
                f"add `{EXPIRY[0]}:` under `provisions:` (for example: carried into a successor "
                "agreement, or shared in proportion to the contributions)",
            )
        )
    keeps = [
        p.id
        for p in agreement.pools
        if not ((p.exit and p.exit.assets) or (agreement.exit and agreement.exit.assets))
    ]
    if keeps:
        diags.append(
            warning(
                "W410",
                where,
                "the agreement does not state what each Partner keeps on exit of what was "
                f"bought or employed for pool{'s' * (len(keeps) > 1)} "
                f"{', '.join(f'`{k}`' for k in keeps)}; `render` drafts it as a placeholder",
                "add `assets:` under `termination:` (of the agreement, or of the pool)",
            )
        )
    experts = uses_expert(agreement)
    if experts and "appointed_by" not in provisions.expert:
        diags.append(
            warning(
                "W410",
                where,
                f"the agreement does not state {EXPERT} (the dispute ladder of pool"
                f"{'s' * (len(experts) > 1)} {', '.join(f'`{e}`' for e in experts)} ends in "
                "expert determination); `render` drafts it as a placeholder",
                "add `expert: { appointed_by: … }` under `provisions:` (for example: the "
                "President of the Chartered Institute of Public Finance and Accountancy)",
            )
        )
    for role in bodies(agreement):
        gaps = constitution_gaps(role, provisions.constitution.get(role.id, {}))
        if gaps:
            lacking = [w for k, w, _p in CONSTITUTION if k in gaps]
            diags.append(
                warning(
                    "W410",
                    provisions.key_spans.get(f"constitution.{role.id}", where),
                    f"the agreement does not state the constitution of the {role.title} ("
                    + ", ".join(lacking)
                    + "); `render` drafts it as a placeholder",
                    f"add `constitution: {{ {role.id}: {{ {': …, '.join(gaps)}: … }} }}` under "
                    "`provisions:`",
                )
            )
    partners = [p.id for p in agreement.partners]
    missing = [p for p in partners if p not in provisions.notices]
    if missing:
        diags.append(
            warning(
                "W410",
                where,
                f"the agreement does not state {NOTICES} (none for {', '.join(missing)}); "
                "`render` drafts it as a placeholder",
                "add `notices:` under `provisions:`, with an address for each partner",
            )
        )
    return diags


def _strangers(agreement: m.Agreement) -> list[Diagnostic]:
    """E301 for an address, signatory or execution given for an id that is not a partner; E302
    for a constitution given for a role that is not a body the Partners establish."""
    provisions = agreement.provisions or m.Provisions()
    where = provisions.span or agreement.key_spans.get("agreement", agreement.span)
    partners = [p.id for p in agreement.partners]
    diags = []
    for key in ("notices", "signatories", "execution"):
        for pid in getattr(provisions, key):
            if partners and pid not in partners:
                diags.append(
                    error(
                        "E301",
                        provisions.key_spans.get(f"{key}.{pid}", where),
                        f"`{pid}` under `provisions.{key}` is not a partner of the agreement",
                        f"use one of: {', '.join(partners)}",
                    )
                )
    names = [r.id for r in bodies(agreement)]
    for rid in provisions.constitution:
        if rid not in names and agreement.roles:
            role = agreement.role(rid)
            what = (
                f"is an officer of `{role.partner.name}`, not a body of the partnership"
                if role is not None and role.partner is not None
                else "is established by law, and its constitution is not the Partners' to state"
                if role is not None
                else "is not a role of the agreement"
            )
            diags.append(
                error(
                    "E302",
                    provisions.key_spans.get(f"constitution.{rid}", where),
                    f"`{rid}` under `provisions.constitution` {what}",
                    f"give a constitution for a body of the partnership: {', '.join(names) or 'none is defined'}",
                )
            )
    return diags
