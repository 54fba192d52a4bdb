"""The document: the compiled agreement laid out as a framework of clauses and a schedule per pool.

One tree feeds every writer (Markdown, HTML, Word). Numbers are generated here, never typed;
cross-references are written as labels (⟦ref:label⟧) and resolved after numbering; defined terms
are collected and defined once in clause 1; an amount is given in figures and, on its first use
in a clause, in words. The wording of each clause is in templates/phrases.j2.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..compile import source_of as _src
from ..lists import listed
from ..money import format_money, parse_amount
from .environment import environment
from .markup import protect, protect_ir
from .whole import execution, recitals, version_history, whole_agreement_clauses
from .words import (
    count_words,
    date_words,
    money_words,
    month_day_words,
    percent_words,
)

BASIS = {
    "health-act-1999-s31": "section 31 of the Health Act 1999",
    "nhs-act-2006-s75": "section 75 of the National Health Service Act 2006",
}
REF = re.compile(r"⟦ref:([^⟧]+)⟧")


@dataclass
class Para:
    """A paragraph: numbered (`level` 1 or 2 under its section) or not, in **bold**-only markup."""

    text: str
    source: str | None = None
    level: int = 1
    numbered: bool = True
    style: str = "clause"  # clause, definition, bullet, note
    number: str = ""
    # (start, end, label) of each cross-reference resolved into `text`, for writers that link
    # the number to its target (Word's REF fields); set by `number`
    refs: list[tuple[int, int, str]] = field(default_factory=list)


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]
    source: str | None = None
    caption: str = ""


@dataclass
class DraftingNotes:
    """A block of its own kind: the warnings of `check`, boxed at the top of a draft so that
    whoever reads it sees what is still to be settled before signature."""

    items: list[str]


@dataclass
class Section:
    """A clause of the framework, or a Part of a schedule."""

    title: str
    label: str
    blocks: list[Para | Table] = field(default_factory=list)
    source: str | None = None
    number: str = ""
    aliases: list[str] = field(default_factory=list)  # other labels that name this Part


@dataclass
class Schedule:
    title: str
    label: str
    parts: list[Section]
    source: str | None = None
    number: str = ""
    aliases: list[str] = field(default_factory=list)  # other labels that name this Schedule


@dataclass
class Document:
    title: str
    basis: str
    parties: list[tuple[str, str]]  # full name, short name
    commencement: str
    expiry: str
    draft_notice: str
    clauses: list[Section]
    schedules: list[Schedule]
    source_file: str
    sha256: str
    dated: str = ""  # the "Dated" line: the date of signature, or a space to complete
    version: str = ""  # the current version number, shown in the header
    notes: DraftingNotes | None = None  # check's warnings, boxed at the top
    recitals: list[str] = field(default_factory=list)  # (A), (B), … before clause 1
    history: Table | None = None  # the version history
    execution: Section | None = None  # a signature block for each partner
    date: str = ""  # ISO: the agreement's own date (signed, else commencement), for Word's dates


class Builder:
    """Lays out the IR. Holds the state the phrases need: which amounts a clause has worded."""

    def __init__(self, ir: dict[str, Any], notes: list[str] | None = None) -> None:
        self.ir = ir
        self.notes = notes or []
        self.partners = {p["id"]: p for p in ir["partners"]}
        self.roles = {r["id"]: r for r in ir["roles"]}
        self.worded: set[int] = set()
        self.pool: dict[str, Any] = {}
        self.phrases: Any = (
            environment()
            .get_template("phrases.j2")
            .make_module(
                {
                    "money": self.money,
                    "percent": lambda v: percent_words(Decimal(str(v))),
                    "short": self.short,
                    "party": self.party,
                    "article": lambda words: "an" if words[:1].lower() in "aeiou" else "a",
                }
            )
        )

    # ------------------------------------------------------------ helpers the phrases call
    def money(self, amount: str | int) -> str:
        pence = parse_amount(amount) if isinstance(amount, str) else amount
        figure = format_money(pence, always_pence=False)
        if pence in self.worded:
            return figure
        self.worded.add(pence)
        return f"{figure} ({money_words(pence)})"

    def short(self, partner_id: str) -> str:
        partner = self.partners.get(partner_id) or {}
        return str(partner.get("short_name") or partner_id.upper())

    def party(self, partner_id: str, step: dict[str, Any] | None = None) -> str:
        if step is not None and step["allocation"].get("as_written") == "host":
            return "The Host Partner"
        return self.short(partner_id)

    def role(self, role_id: str) -> str:
        if role_id == "partners":
            return "each of the Partners"
        return f"the {self.roles[role_id]['title']}" if role_id in self.roles else role_id

    def new_clause(self) -> None:
        self.worded = set()

    # ------------------------------------------------------------ the document
    def build(self) -> Document:
        head = self.ir["agreement"]
        if head.get("programme") == "bcf":
            from .bcf import bcf_clauses, bcf_schedules

            clauses = bcf_clauses(self, whole_agreement_clauses(self))
            schedules = bcf_schedules(self)
        else:
            clauses, schedules = self.generic_layout()
        versions = head.get("versions") or []
        version = versions[-1]["version"] if versions else ""
        doc = Document(
            title=head["title"],
            basis=f"made under {BASIS.get(head['basis'], head['basis'])} and the NHS Bodies and Local Authorities Partnership Arrangements Regulations 2000",
            parties=[
                (p["name"], self.short(p["id"]).removeprefix("the ")) for p in self.ir["partners"]
            ],
            commencement=date_words(head["commencement"]),
            expiry=date_words(head["expiry"]),
            draft_notice=f"DRAFT{' version ' + version if version else ''} generated from {self.ir['source']['file']} (sha256 {self.ir['source']['sha256'][:12]}); not for signature",
            clauses=clauses,
            schedules=schedules,
            source_file=self.ir["source"]["file"],
            sha256=self.ir["source"]["sha256"],
            dated=date_words(head["signed"])
            if head.get("signed")
            else "[date to be inserted on completion]",
            version=version,
            notes=DraftingNotes(list(self.notes)) if self.notes else None,
            recitals=recitals(self),
            history=version_history(versions),
            execution=execution(self),
            date=head.get("signed") or head["commencement"] or "",
        )
        number(doc)
        return doc

    def generic_layout(self) -> tuple[list[Section], list[Schedule]]:
        """Nine framework clauses, the whole agreement's clauses, then a Schedule per pool."""
        clauses = [
            self.definitions(),
            self.term(),
            self.aims(),
            self.pools_clause(),
            self.operative(
                "contributions",
                "Financial contributions",
                "Each Partner shall contribute to each Pooled Fund the amounts set out for it in ⟦ref:{}⟧.",
            ),
            self.operative(
                "risk",
                "Risk share, Overspends and Underspends",
                "Any Overspend or Underspend of a Pooled Fund in a Financial Year shall be dealt with as set out in ⟦ref:{}⟧.",
            ),
            self.operative(
                "authority",
                "Delegated authority",
                "Expenditure from a Pooled Fund shall be approved as set out in ⟦ref:{}⟧, and not otherwise.",
            ),
            self.operative(
                "reporting",
                "Monitoring and reporting",
                "The Pooled Fund Manager of each Pooled Fund shall report to the Partners as set out in ⟦ref:{}⟧.",
            ),
            self.operative(
                "disputes",
                "Dispute resolution",
                "A dispute between the Partners about a Pooled Fund shall be resolved as set out in ⟦ref:{}⟧.",
            ),
        ]
        shared = [o for o in self.ir["outcomes"] if o["pool"] is None]
        if shared:
            clauses.append(self.outcomes_clause(shared))
        clauses += whole_agreement_clauses(self)
        schedules = [self.schedule(pool) for pool in self.ir["pools"]]
        return clauses, schedules

    def definitions(self) -> Section:
        self.new_clause()
        head = self.ir["agreement"]
        terms: dict[str, str] = {
            "Agreement": "this agreement, including its Schedules",
            "Business Plan": "the business plan for a Pooled Fund agreed by the Partners for a Financial Year",
            "Commencement Date": date_words(head["commencement"]),
            "Expiry Date": date_words(head["expiry"]),
            "Financial Year": f"a period of twelve months beginning on {month_day_words(head['financial_year_start'])}",
            "Host Partner": "in relation to a Pooled Fund, the Partner named as its host in the Schedule for that Pooled Fund, which holds the Pooled Fund and keeps its accounts",
            "Final Outturn": "in relation to a Pooled Fund and a Financial Year, the expenditure from the Pooled Fund in that Financial Year, less its income, as stated in the annual return for that year",
            "Forecast Outturn": forecast_outturn(self.ir),
            "Overspend": "the amount by which the Final Outturn of a Pooled Fund for a Financial Year (or, for a report before it is known, the Forecast Outturn) exceeds the contributions to it for that year",
            "Partners": 'the parties to this Agreement, and **"Partner"** means any one of them',
            "Pooled Fund": "a fund established under this Agreement and regulation 7 of the Regulations, made up of contributions by the Partners, as set out in a Schedule",
            "Pooled Fund Manager": "in relation to a Pooled Fund, the officer of its Host Partner named in its Schedule to manage it under regulation 7(4) of the Regulations",
            "Regulations": "the NHS Bodies and Local Authorities Partnership Arrangements Regulations 2000 (SI 2000/617)",
            "Underspend": "the amount by which the contributions to a Pooled Fund for a Financial Year exceed its Final Outturn for that year (or, for a report before it is known, its Forecast Outturn)",
            "Working Day": "any day other than a Saturday, a Sunday or a bank holiday in England",
        }
        pools = self.ir["pools"]
        terms.update(ledger_terms(pools))
        if any((p.get("unapproved_spend") or {}).get("borne_by") == "partner" for p in pools):
            # the engine leaves such spend out of the pool's net expenditure (engine/unapproved.py)
            for term in ("Final Outturn", "Forecast Outturn"):
                terms[term] += (
                    ", leaving out any expenditure that a Partner bears outside the risk share under the Schedule for that Pooled Fund"
                )
        if any(_carries(p) for p in pools):
            # a balance carried forward is a first call on the next year's pool (engine/years.py)
            for term in ("Overspend", "Underspend"):
                terms[term] += (
                    ", the contributions being increased by any Underspend carried forward to that year, and reduced by any Overspend carried forward to it, as the Schedule for that Pooled Fund provides"
                )
        from .schedule import term_labels, year_words

        short = [w for w in (year_words(self, y) for y in term_labels(self.ir)) if "period" in w]
        if short:
            terms["Financial Year"] += (
                "; and, where this Agreement provides for a Financial Year, "
                + " and ".join(short)
                + ", in which this Agreement is in force for part of a Financial Year only, is treated as a Financial Year"
            )
            # the engine runs such a period as itself (engine/term.py): its months only
            terms["Forecast Outturn"] += (
                "; in a period in which this Agreement is in force for part of a Financial Year only, the months are those of that period: the expenditure less income is multiplied by the number of months of that period, not twelve, and divided by the number of those months then ended, a month of which the period covers part only counting as that part of a month"
            )
        for p in self.ir["partners"]:
            terms[self.short(p["id"]).removeprefix("the ")] = p["name"]
        titles = {r["id"]: r["title"] for r in self.ir["roles"]}
        for r in self.ir["roles"]:
            if r.get("members"):
                names = [f"the {titles.get(m, m)}" for m in r["members"]]
                terms[r["title"]] = listed(names) + ", acting together"
            elif r.get("statutory"):
                terms[r["title"]] = (
                    f"the body of that name established under {' '.join(r['statutory'].split())}, and not by this Agreement"
                )
            elif r["partner"]:
                owner = self.short(r["partner"])
                terms[r["title"]] = (
                    f"the officer of {owner} holding the office of that title, or another officer of {owner} whom {owner} nominates in that officer's place"
                )
            else:
                terms[r["title"]] = (
                    "the body of that title established by the Partners to act under this Agreement, or any body the Partners together appoint in its place"
                )
        section = Section("Definitions and interpretation", "clause:definitions")
        section.blocks.append(
            Para("In this Agreement the following words have the meanings given to them:")
        )
        for term in sorted(terms, key=str.lower):
            section.blocks.append(
                Para(f'**"{term}"** means {terms[term]};', level=2, style="definition")
            )
        section.blocks.append(
            Para(
                "A reference to a clause is to a clause of this Agreement, and to a Schedule or Part is to a Schedule to this Agreement or a Part of it. Amounts are in pounds sterling and are exact to the penny."
            )
        )
        return section

    def term(self, termination: bool = True) -> Section:
        """Term and review, and termination unless `termination` is False (then it is a
        clause of its own: see `termination_clause`)."""
        self.new_clause()
        head = self.ir["agreement"]
        title = "Term, review and termination" if termination else "Term and review"
        s = Section(title, "clause:term", source=None)
        s.blocks.append(
            Para(
                "This Agreement starts on the Commencement Date and, unless terminated earlier under "
                + ("this clause" if termination else "⟦ref:clause:termination⟧")
                + ", ends on the Expiry Date."
            )
        )
        if head["review"]:
            review = (
                "once in every Financial Year" if head["review"] == "annual" else head["review"]
            )
            s.blocks.append(
                Para(f"The Partners shall review this Agreement, including its outcomes, {review}.")
            )
        notice = head["termination_notice"]
        if notice and not termination:
            return s
        if notice:
            period = count_words(notice["count"], notice["unit"])
            period += "'s" if notice["count"] == 1 else "'"
            s.blocks.append(
                Para(
                    f"A Partner may terminate this Agreement, or leave it while the other Partners continue it, by giving the other Partners not less than {period} notice in writing. On termination or on a Partner leaving, the balance of each Pooled Fund at the date of exit, and what each Partner keeps, are dealt with as ⟦ref:risk-terms⟧ provides."
                )
            )
        return s

    def termination_clause(self) -> Section:
        """Termination as a clause of its own (the Better Care Fund template's layout)."""
        s = self.term()
        s.title, s.label = "Termination", "clause:termination"
        s.blocks = s.blocks[2:] if self.ir["agreement"]["review"] else s.blocks[1:]
        if not s.blocks:
            s.blocks.append(Para("[to be agreed: how a Partner may terminate this Agreement]"))
        return s

    def aims(self) -> Section:
        from .schedule import aims_sentence

        self.new_clause()
        s = Section("Aims", "clause:aims")
        aims = self.ir["agreement"]["aims"]
        text = (
            f"The aims of this Agreement are: {aims_sentence(aims, self.ir)}"
            if aims
            else "The aims of each Pooled Fund are set out in its Schedule."
        )
        s.blocks.append(Para(text))
        return s

    def pools_clause(self) -> Section:
        self.new_clause()
        s = Section("The Pooled Funds", "clause:pools")
        for pool in self.ir["pools"]:
            host = pool["host"]
            s.blocks.append(
                Para(
                    f"The Partners establish the {pool['name']} as a Pooled Fund, with {self.short(host)} as its Host Partner and the {self.roles[pool['manager']]['title']} as its Pooled Fund Manager, as set out in ⟦ref:schedule:{pool['id']}⟧.",
                    source=_src(pool),
                )
            )
        return s

    def operative(self, part: str, title: str, sentence: str) -> Section:
        self.new_clause()
        s = Section(title, f"clause:{part}")
        pools = self.ir["pools"]
        refs = f"⟦ref:part:{pools[0]['id']}:{part}⟧" if len(pools) == 1 else f"⟦ref:parts:{part}⟧"
        s.blocks.append(Para(sentence.replace("⟦ref:{}⟧", refs)))
        return s

    def outcomes_clause(self, outcomes: list[dict[str, Any]]) -> Section:
        from .schedule import outcome_table

        self.new_clause()
        s = Section("Outcomes", "clause:outcomes")
        s.blocks.append(
            Para(
                "The Partners shall measure the following outcomes of this Agreement, report them as stated and review them each year:"
            )
        )
        s.blocks.append(outcome_table(outcomes))
        return s

    # ------------------------------------------------------------ a schedule per pool
    def schedule(self, pool: dict[str, Any]) -> Schedule:
        from .schedule import schedule_parts

        self.pool = pool
        return Schedule(
            pool["name"], f"schedule:{pool['id']}", schedule_parts(self, pool), _src(pool)
        )


def _carries(pool: dict[str, Any]) -> bool:
    """Whether any of the pool's risk shares carries a balance forward to the next year."""
    waterfalls = [pool.get("risk_share") or {}]
    waterfalls += [y["waterfall"] for y in pool.get("risk_share_years") or []]
    return any(
        step["allocation"]["type"] == "carried-forward"
        for waterfall in waterfalls
        for section in waterfall.values()
        if isinstance(section, dict)
        for step in section.get("steps", [])
    )


def _fields(node: dict[str, Any] | None) -> set[str]:
    """The transaction fields a spending condition compares."""
    if not node:
        return set()
    found = {node["field"]} if node.get("field") else set()
    for child in [node.get("operand"), *(node.get("operands") or [])]:
        found |= _fields(child)
    return found


def ledger_terms(pools: list[dict[str, Any]]) -> dict[str, str]:
    """ "Element", "Category" and "Supplier", defined as the engine reads them, where the
    Schedules use them: an Element where a pool has elements (or schemes), a Category where a
    spending condition compares one, a Supplier wherever delegated authority is drafted (its
    divided-commitment paragraph names suppliers)."""
    ledger = "as recorded against it in the ledger of the Pooled Fund kept by its Host Partner"
    used = {f for p in pools for rule in p["spending"] for f in _fields(rule["where"])}
    terms = {}
    if any(p["elements"] for p in pools):
        terms["Element"] = (
            "in relation to a Pooled Fund, a named part of its budget, named against a Partner and listed in its Schedule, to which each item of its expenditure is charged"
        )
    if "category" in used:
        terms["Category"] = f"the category of an item of expenditure, {ledger}"
    if any(p["spending"] for p in pools):
        terms["Supplier"] = f"the person to whom an item of expenditure is paid, {ledger}"
    return terms


def forecast_outturn(ir: dict[str, Any]) -> str:
    """The definition of "Forecast Outturn": the run-rate the engine uses (LANGUAGE.md §6), or
    the forecast method a pool's IR names where it names one other than the run-rate."""
    text = (
        "in relation to a Pooled Fund and a day of a Financial Year, its expenditure for that Financial Year, less its income, as forecast on that day: the latest forecast recorded for it in that Financial Year on or before that day or, where there is none, "
        "its expenditure less its income to the last month end on or before that day, multiplied by twelve and divided by the number of months of the Financial Year then ended, rounded to the nearest penny (half a penny away from nil), "
        "or, before the first month end, the contributions to it for that Financial Year"
    )
    methods = {(p.get("forecast_method") or {}).get("method", "run-rate") for p in ir["pools"]}
    if methods - {"run-rate"}:
        text += "; but for a Pooled Fund whose Schedule names another forecast method, the forecast made by that method"
    return text


# ---------------------------------------------------------------- numbering and references
def number(doc: Document) -> None:
    """Give every clause, part and paragraph its number, then resolve the cross-references."""
    labels: dict[str, str] = {}
    for i, clause in enumerate(doc.clauses, start=1):
        clause.number = str(i)
        labels[clause.label] = f"clause {i}"
        _number_blocks(clause.blocks, str(i))
    for s, schedule in enumerate(doc.schedules, start=1):
        schedule.number = str(s)
        labels[schedule.label] = f"Schedule {s}"
        for p, part in enumerate(schedule.parts, start=1):
            part.number = str(p)
            labels[part.label] = f"Part {p} of Schedule {s}"
            labels[f"parts:{part.label.rsplit(':', 1)[1]}"] = f"Part {p} of each Schedule"
            if part.label.endswith(":risk"):
                labels["risk-terms"] = f"Part {p} of its Schedule"
            _number_blocks(part.blocks, str(p))
    for s, schedule in enumerate(doc.schedules, start=1):
        for alias in schedule.aliases:
            labels[alias] = f"Schedule {s}"
        for p, part in enumerate(schedule.parts, start=1):
            for alias in part.aliases:
                labels[alias] = f"Part {p} of Schedule {s}"
    labels.setdefault("risk-terms", "the Schedule for that Pooled Fund")
    for section in [*doc.clauses, *(part for sch in doc.schedules for part in sch.parts)]:
        for block in section.blocks:
            if isinstance(block, Para):
                block.text, block.refs = _resolve_marked(block.text, labels)
            else:
                block.rows = [[_resolve(cell, labels) for cell in row] for row in block.rows]


def _number_blocks(blocks: list[Para | Table], prefix: str) -> None:
    top = sub = 0
    for block in blocks:
        if not isinstance(block, Para) or not block.numbered:
            continue
        if block.level == 1:
            top, sub = top + 1, 0
            block.number = f"{prefix}.{top}"
        else:
            sub += 1
            block.number = f"{prefix}.{max(top, 1)}.{sub}"


def _resolve(text: str, labels: dict[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        label = match.group(1)
        if label not in labels:
            raise KeyError(f"cross-reference to an unknown label {label!r}")
        return labels[label]

    return REF.sub(replace, text)


def _resolve_marked(text: str, labels: dict[str, str]) -> tuple[str, list[tuple[int, int, str]]]:
    """`_resolve`, also giving where in the result each reference now stands, and its label."""
    pieces: list[str] = []
    refs: list[tuple[int, int, str]] = []
    pos = length = 0
    for match in REF.finditer(text):
        pieces.append(text[pos : match.start()])
        length += match.start() - pos
        resolved = _resolve(match.group(), labels)
        refs.append((length, length + len(resolved), match.group(1)))
        pieces.append(resolved)
        length += len(resolved)
        pos = match.end()
    pieces.append(text[pos:])
    return "".join(pieces), refs


def build_document(ir: dict[str, Any], notes: list[str] | None = None) -> Document:
    """The laid-out document of a compiled agreement.

    Its text is markup (render/markup.py): every string of the agreement is protected on the
    way in, so no name or clause can forge bold, a cross-reference or a redline mark.
    """
    return Builder(protect_ir(ir), [protect(n) for n in notes or []]).build()
