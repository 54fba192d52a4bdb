"""The whole agreement around the pools: recitals, the clauses of `provisions:`, notices,
non-pooled funds, precedence, the version history and the execution blocks.

A matter the agreement does not state is drafted as "[to be agreed: …]" (and `check` warns,
W410), so that a draft never reads as complete when it is not.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ..checks.provisions import EXPIRY, MATTERS, NOTICES
from ..lists import listed
from .notes import drafting_note, drafting_notes

__all__ = ["drafting_note", "drafting_notes"]

if TYPE_CHECKING:
    from .document import Builder, Section, Table

BASIS_WORDS = {
    "health-act-1999-s31": "section 31 of the Health Act 1999",
    "nhs-act-2006-s75": "section 75 of the National Health Service Act 2006",
}
KIND_WORDS = {"nhs-body": "an NHS body", "local-authority": "a local authority"}


TERMS = re.compile(
    r"\b(host partners?|pooled fund managers?|pooled funds?|partners?|financial years?"
    r"|working days?|business plans?)\b"
)


def capitalise_terms(text: str, titles: list[str] | tuple[str, ...] = ()) -> str:
    """The agreement's own prose with its defined terms in capitals wherever used: "the
    partners" → "the Partners", "10 working days" → "10 Working Days", and an officer's or body's
    title written in lower case → as defined. Only all-lower-case uses change."""
    text = TERMS.sub(lambda m: m.group(1).title(), text)
    for title in titles:
        if " " in title and title.lower() != title:
            text = re.sub(rf"\b{re.escape(title.lower())}\b", title, text)
    return text


def placeholder(words: str) -> str:
    return f"[to be agreed: {words}]"


def sentence(text: str) -> str:
    """Text as written, starting with a capital and ending with a full stop."""
    text = " ".join(text.split())
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."


def _matter(b: Builder, key: str) -> str:
    text = (b.ir.get("provisions") or {}).get("matters", {}).get(key)
    words = next(w for k, _t, w in (*MATTERS, EXPIRY) if k == key)
    return sentence(capitalise_terms(text, _titles(b))) if text else placeholder(words)


def _titles(b: Builder) -> list[str]:
    return [r["title"] for r in b.ir["roles"]]


def recitals(b: Builder) -> list[str]:
    """(A) who the Partners are, (B) why they make the arrangements, (C) the consultation of
    regulation 4(2), then any further recitals the agreement states."""
    head = b.ir["agreement"]
    who = [f"{p['name']} is {KIND_WORDS.get(p['kind'], p['kind'])}" for p in b.ir["partners"]]
    out = [
        sentence("; ".join(who)).removesuffix(".")
        + ", each within the meaning of the Regulations.",
        f"The Partners have agreed to make arrangements under {BASIS_WORDS.get(head['basis'], head['basis'])} for the Pooled Funds set out in the Schedules, as those arrangements are likely to lead to an improvement in the way the functions they cover are exercised.",
    ]
    consultation = (b.ir.get("provisions") or {}).get("matters", {}).get("consultation")
    words = next(w for k, _t, w in MATTERS if k == "consultation")
    out.append(
        "Before entering into this Agreement the Partners consulted jointly, as regulation 4(2) of the Regulations requires, as follows: "
        + (
            sentence(capitalise_terms(consultation, _titles(b)))
            if consultation
            else placeholder(words) + "."
        )
    )
    further = (b.ir.get("provisions") or {}).get("matters", {}).get("recitals")
    if further:
        out.append(sentence(capitalise_terms(further, _titles(b))))
    return out


def whole_agreement_clauses(b: Builder) -> list[Section]:
    """The clauses after the operative ones, in the order a local authority's solicitor expects."""
    from .document import Para, Section
    from .governance import governance

    clauses: list[Section] = []
    board = governance(b)
    if board is not None:
        clauses.append(board)
    for key, title, _words in MATTERS:
        if key == "consultation":
            continue
        b.new_clause()
        clause = Section(title, f"clause:{key.replace('_', '-')}")
        clause.blocks.append(Para(_matter(b, key)))
        clauses.append(clause)
    if carried_at_expiry(b.ir):
        b.new_clause()
        clause = Section(EXPIRY[1], "clause:expiry-balances")
        clause.blocks.append(Para(_matter(b, EXPIRY[0])))
        clauses.append(clause)
    funds = non_pooled(b)
    if funds is not None:
        clauses.append(funds)
    clauses.append(notices(b))
    clauses.append(general(b))
    clauses.append(precedence(b))
    return clauses


def carried_at_expiry(ir: dict[str, Any]) -> bool:
    """Whether a pool's risk share for the agreement's last Financial Year carries a balance
    forward (the IR's counterpart of checks.provisions.carried_out_of_last_year)."""
    from datetime import date

    from ..calendar import parse_month_day, year_containing
    from ..compile import risk_share_for

    head = ir["agreement"]
    start = parse_month_day(head.get("financial_year_start") or "")
    try:
        expiry = date.fromisoformat(head.get("expiry") or "")
    except ValueError:
        return False
    if start is None:
        return False
    last = year_containing(expiry, *start).label
    return any(
        step["allocation"]["type"] == "carried-forward"
        for pool in ir["pools"]
        for section in (risk_share_for(pool, last) or {}).values()
        if isinstance(section, dict)
        for step in section.get("steps", [])
    )


def non_pooled(b: Builder) -> Section | None:
    """Funds aligned with the pools but kept out of them, where the agreement lists any."""
    from .document import Para, Section, Table

    funds = b.ir.get("non_pooled") or []
    if not funds:
        return None
    b.new_clause()
    s = Section("Non-pooled funds", "clause:non-pooled")
    s.blocks.append(
        Para(
            "The following funds are aligned with the Pooled Funds but are not part of them. Each remains a budget of the Partner named against it, is spent under that Partner's own rules of authority, and is not shared under any risk share of this Agreement:"
        )
    )
    rows = []
    for fund in funds:
        amounts = "; ".join(
            f"{a['year']}: {b.money(a['amount']) if a['amount'] is not None else '[not stated]'}"
            for a in fund["amounts"]
        )
        rows.append([fund["name"], b.short(fund["partner"]), amounts])
    s.blocks.append(Table(["Fund", "Partner", "Amounts"], rows))
    return s


def notices(b: Builder) -> Section:
    from .document import Para, Section, Table

    b.new_clause()
    addresses = (b.ir.get("provisions") or {}).get("notices", {})
    s = Section("Notices", "clause:notices")
    s.blocks.append(
        Para(
            "A notice under this Agreement shall be in writing and delivered by hand, or sent by first class post, to the Partner at its address below, or at any other address in England that the Partner has notified to the other Partners for this purpose. A notice delivered by hand is given on the day it is delivered, and a notice sent by post on the second Working Day after the day it is posted."
        )
    )
    rows = [
        [p["name"], addresses.get(p["id"]) or placeholder(NOTICES.replace("each Partner's", "its"))]
        for p in b.ir["partners"]
    ]
    s.blocks.append(Table(["Partner", "Address for notices"], rows))
    return s


GENERAL = (
    "This Agreement is governed by the law of England and Wales, and the courts of England and Wales have exclusive jurisdiction over any dispute about it that is not resolved under this Agreement.",
    "A dispute between the Partners about this Agreement that is not about a single Pooled Fund shall be resolved by the procedure this Agreement sets out for disputes about a Pooled Fund, applied as if it were about the first Pooled Fund for which a Schedule sets one out.",
    "This Agreement is the whole agreement between the Partners about the arrangements it sets out, and replaces any earlier agreement or understanding between them about those arrangements.",
    "If any part of this Agreement is found invalid or unenforceable, the rest of it continues in force.",
    "A failure or delay by a Partner in exercising a right under this Agreement does not waive that right, and a waiver of one breach is not a waiver of any other.",
    "No Partner may assign or transfer any of its rights or obligations under this Agreement without the written consent of each other Partner, except to a body to which its functions pass by law.",
    "A person who is not a Partner has no right under the Contracts (Rights of Third Parties) Act 1999 to enforce any term of this Agreement.",
    "This Agreement may be signed in any number of counterparts, each of which is an original and all of which together make one agreement.",
)


def general(b: Builder) -> Section:
    """Governing law, disputes outside a Pooled Fund, and the usual general terms."""
    from .document import Para, Section

    b.new_clause()
    s = Section("General", "clause:general")
    for text in GENERAL:
        s.blocks.append(Para(text))
    return s


def precedence(b: Builder) -> Section:
    from .document import Para, Section

    b.new_clause()
    s = Section("Precedence", "clause:precedence")
    s.blocks.append(
        Para(
            "If a clause of this Agreement and a Schedule conflict, the clause prevails. A Schedule prevails over any plan, policy or other document to which it refers."
        )
    )
    return s


def version_history(versions: list[dict[str, Any]]) -> Table | None:
    from .document import Table

    if not versions:
        return None
    from .words import date_words

    def when(text: str | None) -> str:
        try:
            return date_words(text) if text else ""
        except ValueError:
            return text or ""  # a date the agreement wrote in another form, as written

    rows = [[v["version"], when(v["date"]), v["change"] or ""] for v in versions]
    return Table(["Version", "Date", "Changes"], rows)


def execution(b: Builder) -> Section:
    """An execution block for each Partner, each on a page of its own (style "signature-page"
    starts a page in HTML print and in Word): signed for it, or, where `provisions.execution`
    says `seal`, executed as a deed under its common seal with the usual attestation."""
    from .document import Para, Section

    s = Section("Execution", "execution")
    provisions = b.ir.get("provisions") or {}
    offices = provisions.get("signatories", {})
    how = {
        p["id"]: (provisions.get("execution") or {}).get(p["id"], "signature")
        for p in b.ir["partners"]
    }
    s.blocks.append(Para(_executed(b, how), numbered=False))
    for p in b.ir["partners"]:
        office = offices.get(p["id"])
        if how[p["id"]] == "seal":
            lines = [
                f"**The common seal of {p['name']}** was affixed to this deed in the presence of:",
                "Authorised signatory: ................................",
                "Name: ................................",
                f"Position: {office or placeholder('the office of the authorised signatory')}",
                "Seal register number: ................................",
            ]
        else:
            lines = [
                f"**Signed for and on behalf of {p['name']}**",
                "Signature: ................................",
                "Name: ................................",
                f"Position: {office or placeholder('the office of the signatory')}",
                "Date: ................................",
            ]
        # each partner executes on a page of its own
        s.blocks.append(Para(lines[0], numbered=False, style="signature-page"))
        for line in lines[1:]:
            s.blocks.append(Para(line, numbered=False, style="signature"))
    return s


def _executed(b: Builder, how: dict[str, str]) -> str:
    """The testimonium: signed, executed as a deed, or both (a council under its seal)."""
    sealed = [p["name"] for p in b.ir["partners"] if how[p["id"]] == "seal"]
    if not sealed:
        return "This Agreement has been entered into on the date stated at its beginning."
    if len(sealed) == len(how):
        return "This Agreement has been executed as a deed and is delivered on the date stated at its beginning."
    signed = [p["name"] for p in b.ir["partners"] if how[p["id"]] != "seal"]
    return f"This Agreement has been executed as a deed by {listed(sealed)} and signed for {listed(signed)}, and is delivered on the date stated at its beginning."
