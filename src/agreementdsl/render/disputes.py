"""The dispute ladder of one Pooled Fund, drafted so that every stage says who refers the
dispute, when, to whom, what ends the stage and what follows it.

The last stage is where a ladder usually goes quiet: a stage without a time limit has no "not
resolved within that time". Each kind of last stage therefore says what ends it: a written
settlement or the end of the mediation, the expert's determination, or (for an officer or body)
a notice that the dispute cannot be resolved there. Then the dispute goes to the courts under
the general clause, except that an expert's determination binds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .words import count_words

if TYPE_CHECKING:
    from .document import Builder, Section

# Mediators whose model procedure the drafting names (`mediation by CEDR`), and a bare
# `mediation` too: an agreement to mediate under no named procedure is an agreement to agree.
CEDR = (
    "the Model Mediation Procedure of the Centre for Effective Dispute Resolution (CEDR) "
    "current when the dispute is referred"
)
MEDIATION_PROCEDURES = {"cedr": CEDR}
EXPERT_APPOINTER = "who appoints the expert if the Partners in dispute do not agree one"


def mediation_words(written: str) -> tuple[str, str]:
    """(the stage's holder, the procedure) for `mediation` or `mediation by NAME`; a bare
    `mediation` is under the CEDR Model Mediation Procedure."""
    name = written.removeprefix("mediation").strip().removeprefix("by").strip()
    procedure = MEDIATION_PROCEDURES.get(name.casefold())
    if procedure is not None or not name:
        return "mediation", procedure or CEDR
    return (
        f"mediation by {name}",
        f"the procedure of {name} current when the dispute is referred",
    )


def nominator(written: str) -> str:
    """Who nominates a mediator the Partners in dispute do not agree: the named mediation
    provider, else CEDR (whose procedure a bare `mediation` follows)."""
    name = written.removeprefix("mediation").strip().removeprefix("by").strip()
    return name if name and name.casefold() != "cedr" else "CEDR"


def disputes(b: Builder, pool: dict[str, Any]) -> Section:
    from .document import Para, Section

    b.new_clause()
    s = Section("Dispute resolution", f"part:{pool['id']}:disputes")
    stages = pool["disputes"]
    if not stages:
        s.blocks.append(Para("Not used."))
        return s
    s.blocks.append(Para(str(b.phrases.dispute_notice())))
    for i, stage in enumerate(stages):
        if stage["kind"] == "role":
            holder = b.role(stage["role"])
        elif stage["kind"] == "mediation":
            holder = mediation_words(stage["holder"])[0]
        else:
            holder = "expert determination"
        limit = (
            count_words(stage["limit"]["count"], stage["limit"]["unit"]) if stage["limit"] else ""
        )
        text = b.phrases.stage(stage, i == 0, holder, limit, _pronoun(b, stage))
        s.blocks.append(Para(str(text), source=_src(stage)))
        for line in _stage_terms(b, stage):
            s.blocks.append(Para(line))
    s.blocks.append(Para(str(_last_stage(b, stages[-1]))))
    s.blocks.append(Para(str(b.phrases.performance_continues())))
    return s


def _src(stage: dict[str, Any]) -> str | None:
    from ..compile import source_of

    return source_of(stage)


def _pronoun(b: Builder, stage: dict[str, Any]) -> str:
    officer = stage["role"] and (b.roles.get(stage["role"]) or {}).get("partner")
    return "who" if officer else "which"


def _stage_terms(b: Builder, stage: dict[str, Any]) -> list[str]:
    """How a mediation or an expert determination is conducted, paid for and appointed."""
    if stage["kind"] == "mediation":
        _holder, procedure = mediation_words(stage["holder"])
        return [str(b.phrases.mediation_terms(procedure, nominator(stage["holder"])))]
    if stage["kind"] == "expert":
        from .whole import capitalise_terms, placeholder, sentence

        expert = (b.ir.get("provisions") or {}).get("expert") or {}
        titles = [r["title"] for r in b.ir["roles"]]
        appointer = expert.get("appointed_by") or placeholder(EXPERT_APPOINTER)
        fees = expert.get("fees")
        return [
            str(
                b.phrases.expert_terms(
                    capitalise_terms(appointer, titles),
                    sentence(capitalise_terms(fees, titles)) if fees else "",
                )
            )
        ]
    return []


def _last_stage(b: Builder, stage: dict[str, Any]) -> str:
    """What ends the last stage, and what follows it."""
    kind = stage["kind"]
    holder = b.role(stage["role"]) if kind == "role" else ""
    return str(b.phrases.last_stage(kind, bool(stage["limit"]), holder))
