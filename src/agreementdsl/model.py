"""The typed, immutable model of an agreement: what the YAML and its clauses mean.

Money is an int of pence, percentages are Decimals, financial years are labels such as
"2005/06" (see calendar.py for their dates). Every record carries the span it came from.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from .source import Span

PartnerKind = Literal["nhs-body", "local-authority"]
Direction = Literal["overspend", "underspend"]
StepKind = Literal["first", "next", "rest"]
Cadence = Literal["monthly", "quarterly", "annual"]
DurationUnit = Literal["working_days", "days", "weeks", "months"]

HOST = "host"  # `to host` in a risk share names the pool's host partner
PARTNERS = "partners"  # `to partners` in a reporting duty


@dataclass(frozen=True)
class Named:
    """A name as written in a clause, with where it was written."""

    name: str
    span: Span


@dataclass(frozen=True)
class Partner:
    id: str
    name: str
    kind: str
    span: Span
    short_name: str | None = None
    tier: str | None = None  # county, district or unitary (local authorities)


@dataclass(frozen=True)
class Role:
    id: str
    title: str
    partner: Named | None
    span: Span
    members: tuple[Named, ...] = ()  # a role held jointly by these roles, acting together
    statutory: str | None = None  # a body established by law: the provision


@dataclass(frozen=True)
class Element:
    id: str
    name: str
    partner: Named
    span: Span


@dataclass(frozen=True)
class Scheme:
    """A scheme of the pool (a Better Care Fund scheme specification); also one of its elements."""

    id: str
    name: str
    commissioner: Named  # a partner: the element's partner
    provider: str | None
    spend: tuple[tuple[str, int | None], ...]  # (financial year, pence): the element's budget
    metrics: tuple[str, ...]
    span: Span


@dataclass(frozen=True)
class BcfFacts:
    """A pool's Better Care Fund facts, checked against the framework's national rules."""

    nhs_minimum: Named | None  # the partner whose contribution is the NHS minimum contribution
    adult_social_care: tuple[tuple[str, int | None, Span], ...]  # of which for adult social care
    dfg: bool  # the pool holds the Disabled Facilities Grant
    span: Span


@dataclass(frozen=True)
class NonPooled:
    """A fund aligned with the pools but kept out of them."""

    name: str
    partner: Named
    amounts: tuple[tuple[str, int | None], ...]
    span: Span


# ---------------------------------------------------------------- contributions
@dataclass(frozen=True)
class FixedAmount:
    pence: int


@dataclass(frozen=True)
class Relative:
    """`prior year + 2.5%`, `2005/06 - £100,000`, `prior year` (no adjustment)."""

    base_year: str | None  # None means the prior year
    sign: int  # +1 or -1
    percent: Decimal | None = None
    pence: int | None = None


ContributionExpr = FixedAmount | Relative


@dataclass(frozen=True)
class Stream:
    """One funding stream of a partner's contribution for a year (`dfg: "prior year + 2%"`)."""

    id: str
    expr: ContributionExpr | None  # None when the expression did not parse
    text: str
    span: Span


@dataclass(frozen=True)
class Contribution:
    partner: Named
    expr: ContributionExpr | None  # None when the expression did not parse, or with streams
    text: str
    span: Span
    streams: tuple[Stream, ...] = ()  # several streams; () is one stream-less contribution


@dataclass(frozen=True)
class OfWhich:
    """ "Of which £X is …": a stated part of a partner's contribution (or of one of its streams)."""

    id: str
    name: str
    partner: Named | None
    stream: str | None
    amounts: tuple[tuple[str, int | None, Span], ...]  # (financial year, pence, span)
    span: Span


@dataclass(frozen=True)
class ForecastMethod:
    """How the pool's forecast outturn is reached: `run-rate`, `profile` or `latest forecast`.

    `profile` holds the share of the year's budget planned for each month (April first), for
    the whole pool (`by` "month", key "") or for each element named (`by` "element").
    """

    method: str
    by: str | None
    shares: tuple[tuple[str, tuple[Decimal, ...]], ...]  # (element or "", 12 percents; () even)
    span: Span


@dataclass(frozen=True)
class YearContributions:
    year: str
    contributions: tuple[Contribution, ...]
    span: Span


@dataclass(frozen=True)
class YearBudgets:
    year: str
    budgets: tuple[tuple[Named, int | None], ...]  # element, pence
    span: Span


# ---------------------------------------------------------------- risk share
@dataclass(frozen=True)
class Exit:
    """What happens when a partner leaves or the agreement ends early (`termination:`)."""

    waterfall: RiskShare | None  # `on_exit`: the balance at the exit date, shared like a risk share
    assets: str | None  # who keeps what they bought or employ, as the partners wrote it
    span: Span


@dataclass(frozen=True)
class PoolPercent:
    percent: Decimal


Quantity = int | PoolPercent  # pence, or a percentage of the year's pool


@dataclass(frozen=True)
class ToPartner:
    partner: Named  # name "host" for the pool's host


@dataclass(frozen=True)
class ByContribution:
    pass


@dataclass(frozen=True)
class ByElement:
    pass


@dataclass(frozen=True)
class Equally:
    pass


@dataclass(frozen=True)
class Split:
    shares: tuple[tuple[Named, Decimal], ...]
    span: Span


@dataclass(frozen=True)
class CarriedForward:
    pass


@dataclass(frozen=True)
class ByOwnElements:
    """`by own elements [net|gross]`: each partner bears (or gets back) the variance of the
    elements named against it, net of its elements that moved the other way or gross of them."""

    gross: bool
    span: Span


@dataclass(frozen=True)
class ToLeaver:
    """`to leaving partner`: all of the step to the partner that leaves (exit waterfalls only)."""

    span: Span


Allocation = (
    ToPartner
    | ByContribution
    | ByElement
    | ByOwnElements
    | Equally
    | Split
    | CarriedForward
    | ToLeaver
)


@dataclass(frozen=True)
class RiskStep:
    kind: StepKind
    quantity: Quantity | None
    allocation: Allocation
    span: Span
    kind_span: Span


@dataclass(frozen=True)
class RiskSection:
    direction: Direction
    steps: tuple[RiskStep, ...]
    span: Span


@dataclass(frozen=True)
class RiskShare:
    sections: tuple[RiskSection, ...]
    span: Span

    def section(self, direction: Direction) -> RiskSection | None:
        return next((s for s in self.sections if s.direction == direction), None)


# ---------------------------------------------------------------- spending
@dataclass(frozen=True)
class Comparison:
    field: Named
    negated: bool  # `is not`, `not in`
    values: tuple[Named, ...]  # quoted strings keep no quotes; Named.name is the text
    quoted: tuple[bool, ...]
    span: Span


@dataclass(frozen=True)
class Not:
    operand: Condition


@dataclass(frozen=True)
class All:
    operands: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyOf:
    operands: tuple[Condition, ...]


Condition = Comparison | Not | All | AnyOf


@dataclass(frozen=True)
class SpendingRule:
    limit: int | None  # pence, inclusive; None for `above`
    within_plan: bool
    where: Condition | None
    approvers: tuple[Named, ...]
    span: Span

    @property
    def unconditional(self) -> bool:
        return not self.within_plan and self.where is None


@dataclass(frozen=True)
class OnlyNamed:
    """The spending clause's closing line `only named approvers`: no role stands in for another."""

    span: Span


@dataclass(frozen=True)
class BorneByPartner:
    """The spending clause's closing line `unapproved spend: borne by the partner`: a spend that
    is not compliant is charged to its partner (the row's, else its element's) outside the
    risk share, and leaves the pool's variance."""

    span: Span


# ---------------------------------------------------------------- reporting and disputes
@dataclass(frozen=True)
class Duration:
    count: int
    unit: DurationUnit
    span: Span


@dataclass(frozen=True)
class Trigger:
    forecast: bool
    direction: Direction
    percent: Decimal | None
    pence: int | None
    span: Span


@dataclass(frozen=True)
class Duty:
    cadence: Cadence | None  # None for a triggered duty
    report: str
    to: Named
    deadline: Duration
    trigger: Trigger | None
    span: Span


@dataclass(frozen=True)
class Stage:
    number: int
    holder: str  # "role", "mediation" or "expert"
    role: Named | None
    mediator: str | None
    limit: Duration | None
    span: Span

    @property
    def holder_text(self) -> str:
        if self.role is not None:
            return self.role.name
        if self.holder == "mediation":
            return f"mediation by {self.mediator}" if self.mediator else "mediation"
        return "expert determination"


# ---------------------------------------------------------------- the whole agreement
@dataclass(frozen=True)
class Version:
    """One entry of the version history: a version number, its date, and what changed."""

    number: str
    date: str | None
    change: str | None


@dataclass(frozen=True)
class Provisions:
    """`provisions:` the clauses of a whole agreement besides the pools (each text, or None).

    `matters` maps a matter's key (consultation, variation, staff, …) to its text as written;
    `notices` maps a partner id to its address for notices; `signatories` a partner id to the
    office of whoever signs for it; `execution` a partner id to how it executes the agreement
    (`seal`: as a deed under its common seal; `signature`, the default). `expert` holds the
    terms of an expert determination (`appointed_by`, `fees`); `constitution` maps the id of a
    body of the partnership to its terms (`membership`, `chair`, `quorum`, `voting`,
    `meetings`), each text as written.
    """

    matters: dict[str, str] = field(default_factory=dict, compare=True, hash=False)
    notices: dict[str, str] = field(default_factory=dict, compare=True, hash=False)
    signatories: dict[str, str] = field(default_factory=dict, compare=True, hash=False)
    execution: dict[str, str] = field(default_factory=dict, compare=True, hash=False)
    expert: dict[str, str] = field(default_factory=dict, compare=True, hash=False)
    constitution: dict[str, dict[str, str]] = field(default_factory=dict, compare=True, hash=False)
    span: Span | None = None
    key_spans: dict[str, Span] = field(default_factory=dict, compare=False, hash=False)


# ---------------------------------------------------------------- pools, outcomes, agreement
@dataclass(frozen=True)
class Pool:
    id: str
    name: str
    host: Named | None
    manager: Named | None
    aims: str | None
    services: tuple[str, ...]
    elements: tuple[Element, ...]
    contributions: tuple[YearContributions, ...]
    budgets: tuple[YearBudgets, ...]
    risk_share: RiskShare | None
    spending: tuple[SpendingRule, ...]
    reporting: tuple[Duty, ...]
    disputes: tuple[Stage, ...]
    span: Span
    only_named: OnlyNamed | None = None  # the spending clause ends `only named approvers`
    borne: BorneByPartner | None = None  # ... or `unapproved spend: borne by the partner`
    # `risk_share` stated per financial year (year -> waterfall, in the order written); empty for
    # one clause. risk_share is then the first stated.
    risk_share_years: tuple[tuple[str, RiskShare], ...] = ()
    exit: Exit | None = None  # the pool's own `termination:` (else the agreement's applies)
    schemes: tuple[Scheme, ...] = ()
    bcf: BcfFacts | None = None
    payments: dict[str, str] | None = None  # `payments:` {cadence, within}, where the pool says
    stream_names: tuple[
        tuple[str, str], ...
    ] = ()  # `streams:` stream id → its name in the schedule
    of_which: tuple[OfWhich, ...] = ()
    forecast: ForecastMethod | None = None  # None: run-rate, the default
    clause_spans: dict[str, Span] = field(default_factory=dict, compare=False, hash=False)
    unparsed: frozenset[str] = frozenset()  # clauses present but not parsed (errors reported)

    def element(self, element_id: str) -> Element | None:
        return next((e for e in self.elements if e.id == element_id), None)


@dataclass(frozen=True)
class Target:
    op: str
    value: Decimal
    text: str


@dataclass(frozen=True)
class Outcome:
    id: str
    pool: Named | None
    measure: str
    target: Target | None
    by: str | None
    reported: str | None
    span: Span
    id_span: Span


@dataclass(frozen=True)
class Agreement:
    id: str
    title: str
    basis: str
    commencement: str | None  # ISO date
    expiry: str | None
    financial_year_start: str  # "MM-DD"
    aims: str | None
    review: str | None
    termination_notice: Duration | None
    partners: tuple[Partner, ...]
    roles: tuple[Role, ...]
    pools: tuple[Pool, ...]
    outcomes: tuple[Outcome, ...]
    path: str
    span: Span
    key_spans: dict[str, Span] = field(default_factory=dict, compare=False, hash=False)
    exit: Exit | None = None  # `termination:`'s `on_exit` and `assets`
    programme: str | None = None  # `bcf` for the Better Care Fund
    framework: str | None = None  # the programme's policy framework, such as `2023-25`
    signed: str | None = None  # ISO date
    non_pooled: tuple[NonPooled, ...] = ()
    payments: dict[str, str] | None = None  # `payments:` {cadence, within} for every pool
    settlement_within: Duration | None = None  # risk share paid within this of the annual return
    versions: tuple[Version, ...] = ()  # `version:` and `versions:` (the version history)
    provisions: Provisions | None = None  # the whole agreement's other clauses

    def partner(self, partner_id: str) -> Partner | None:
        return next((p for p in self.partners if p.id == partner_id), None)

    def role(self, role_id: str) -> Role | None:
        return next((r for r in self.roles if r.id == role_id), None)

    def pool(self, pool_id: str) -> Pool | None:
        return next((p for p in self.pools if p.id == pool_id), None)


def waterfalls(agreement: Agreement, pool: Pool) -> Iterator[tuple[RiskShare, bool]]:
    """(waterfall, is an exit waterfall) for the pool: its risk share, its own `on_exit`, and
    the agreement's `on_exit` with the first pool only, so that each is checked once."""
    if pool.risk_share is not None:
        yield pool.risk_share, False
    for _, waterfall in pool.risk_share_years[1:]:
        yield waterfall, False
    if pool.exit is not None and pool.exit.waterfall is not None:
        yield pool.exit.waterfall, True
    if (
        agreement.exit is not None
        and agreement.exit.waterfall is not None
        and agreement.pools
        and agreement.pools[0] is pool
    ):
        yield agreement.exit.waterfall, True
