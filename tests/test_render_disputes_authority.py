"""The drafted clauses of issue 15's engine items: the dispute ladder (notice, who refers, the
mediation procedure and its costs, the final forum, performance meanwhile), the whole
commitment, and what becomes of unapproved spend."""

from __future__ import annotations

from pathlib import Path

from agreementdsl.render import build_document
from agreementdsl.render.schedule import mediation_words
from agreementdsl.render.writers import render_markdown
from engine_support import compile_text

ROOT = Path(__file__).resolve().parents[1]
HEREFORDSHIRE = (ROOT / "agreements" / "herefordshire.yaml").read_text("utf-8")


def _part(text: str, pool: str, title: str) -> list[str]:
    """The numbered paragraphs of one Part of one pool's schedule, in order (Herefordshire's
    schedules: mental health first, learning disabilities second)."""
    markdown = render_markdown(build_document(compile_text(text, "herefordshire.yaml")))
    parts = [c for c in markdown.split("### Part ") if c.split("\n", 1)[0].endswith(title)]
    assert len(parts) == 2
    chosen = parts[0 if pool == "mental-health" else 1]
    return [p for p in chosen.split("\n\n")[1:] if p.startswith("**")]


def test_the_mental_health_ladder_reads_as_a_lawyer_expects() -> None:
    paras = _part(HEREFORDSHIRE, "mental-health", "Dispute resolution")
    assert paras[0].endswith(
        "Any Partner may raise a dispute about this Pooled Fund by serving a dispute notice on "
        "each other Partner, stating what is in dispute. The dispute is raised on the day the "
        "notice is served."
    )
    assert (
        "The Partner that served the dispute notice (or, if it does not, any other Partner in "
        "dispute) shall refer the dispute, on the day the notice is served, to the Mental Health Pooled Budget Manager, who shall seek to "
        "resolve it within 10 (ten) Working Days of the day it is referred." in paras[1]
    )
    assert paras[4].endswith(
        "If it is not resolved within that time, the Partner that served the dispute notice "
        "(or, if it does not, any other Partner in dispute) shall refer it, on the day after "
        "that time ends, to mediation."
    )
    assert (
        "Model Mediation Procedure of the Centre for Effective Dispute Resolution (CEDR)"
        in (paras[5])
    )
    assert "shared equally between the Partners in dispute" in paras[5]
    assert paras[6].endswith(
        "may be referred by any Partner to the courts of England and Wales, which shall have "
        "exclusive jurisdiction."
    )
    assert paras[7].endswith(
        "The Partners shall continue to perform their obligations under this Agreement, and the "
        "Pooled Fund shall continue to operate, while a dispute is being resolved."
    )
    assert len(paras) == 8


def test_a_ladder_without_mediation_has_no_mediation_terms() -> None:
    paras = _part(HEREFORDSHIRE, "learning-disabilities", "Dispute resolution")
    assert len(paras) == 6  # notice, three stages, the forum, performance
    assert not any("mediat" in p for p in paras)


def test_expert_determination_is_final_and_binding() -> None:
    text = HEREFORDSHIRE.replace(
        "      3. executives\n",
        "      3. executives within 10 days\n      4. expert determination\n",
    )
    assert text != HEREFORDSHIRE
    paras = _part(text, "learning-disabilities", "Dispute resolution")
    assert "to expert determination by an independent expert agreed by the Partners." in paras[4]
    assert (
        "determination shall be final and binding on the Partners save for fraud or manifest"
        in paras[5]
    )
    assert not any("courts of England" in p for p in paras)


def test_the_mediator_named_gives_the_procedure() -> None:
    assert mediation_words("mediation by CEDR")[0] == "mediation"
    assert mediation_words("mediation by the Acme Panel") == (
        "mediation by the Acme Panel",
        "the procedure of the Acme Panel current when the dispute is referred",
    )
    assert mediation_words("mediation") == (
        "mediation",
        "a procedure agreed by the Partners in dispute",
    )


def test_the_authority_part_says_the_limit_is_of_the_whole_commitment() -> None:
    paras = _part(HEREFORDSHIRE, "mental-health", "Delegated authority")
    assert any(
        "applies to the whole amount of a commitment, excluding any value added tax that the "
        "Partners recover" in p
        for p in paras
    )
    assert paras[-1].endswith(
        "remains expenditure of the Pooled Fund: it counts towards any Overspend or Underspend "
        "and is shared between the Partners under the risk share like any other expenditure, "
        "without prejudice to any other remedy a Partner has for the failure to obtain approval."
    )


def test_triggered_reports_name_the_day_their_deadline_counts_from() -> None:
    paras = _part(HEREFORDSHIRE, "mental-health", "Monitoring and reporting")
    [triggered] = [p for p in paras if "Whenever" in p]
    assert "within 5 (five) Working Days of the day of that test" in triggered
    assert "of that day" not in triggered
