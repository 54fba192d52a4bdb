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
    # a stage passes on by time alone, as the engine escalates it: no Partner can stall it
    assert (
        "The dispute stands referred, on the day the notice is served, to the Mental Health "
        "Pooled Budget Manager (the Partner that served the notice, or failing it any other "
        "Partner in dispute, shall send it to the Mental Health Pooled Budget Manager that day), "
        "who shall seek to resolve it within 10 (ten) Working Days of the day it is referred."
        in paras[1]
    )
    assert paras[4].endswith(
        "If it is not resolved within that time, it stands referred, on the day after that time "
        "ends, to mediation, whether or not a Partner then refers it (the Partner that served "
        "the dispute notice, or failing it any other Partner in dispute, shall send it to "
        "mediation that day)."
    )
    assert (
        "Model Mediation Procedure of the Centre for Effective Dispute Resolution (CEDR)"
        in (paras[5])
    )
    assert "nominated by CEDR on the application of any of them" in paras[5]
    assert "shared equally between the Partners in dispute" in paras[5]
    # what ends the mediation, and what follows it: the courts under the General clause
    assert paras[6].endswith(
        "The mediation ends when the Partners in dispute sign a written settlement of the "
        "dispute, or when the mediator, or any Partner in dispute by notice in writing to the "
        "mediator and the other Partners in dispute, ends it. If the mediation ends without a "
        "written settlement, any Partner in dispute may refer the dispute to the courts of "
        "England and Wales, as clause 22 provides."
    )
    assert paras[7].endswith(
        "The Partners shall continue to perform their obligations under this Agreement, and the "
        "Pooled Fund shall continue to operate, while a dispute is being resolved."
    )
    assert len(paras) == 8


def test_a_last_stage_without_a_time_limit_says_what_ends_it() -> None:
    # Herefordshire's learning disabilities ladder ends with the chief executives, untimed:
    # "not resolved" there is given a meaning, and the courts follow.
    paras = _part(HEREFORDSHIRE, "learning-disabilities", "Dispute resolution")
    assert len(paras) == 6  # notice, three stages, the end of the last, performance
    assert paras[3].endswith(
        "shall send it to the Chief Executives of the Partners that day), which shall seek to "
        "resolve it."
    )
    assert paras[4].endswith(
        "That stage ends when notice in writing that the dispute cannot be resolved at that "
        "stage is given to each Partner in dispute by the Chief Executives of the Partners, or "
        "by any Partner in dispute to the Chief Executives of the Partners and to each other "
        "Partner in dispute. If the dispute is not resolved when that stage ends, any Partner in "
        "dispute may refer the dispute to the courts of England and Wales, as clause 22 provides."
    )
    assert not any("mediat" in p for p in paras)
    assert "## 22. General" in render_markdown(
        build_document(compile_text(HEREFORDSHIRE, "herefordshire.yaml"))
    )


def test_a_last_stage_with_a_time_limit_goes_to_the_courts_when_it_runs_out() -> None:
    text = HEREFORDSHIRE.replace("      3. executives\n", "      3. executives within 30 days\n")
    assert text != HEREFORDSHIRE
    paras = _part(text, "learning-disabilities", "Dispute resolution")
    assert paras[4].endswith(
        "If the dispute is not resolved within that time, any Partner in dispute may refer the "
        "dispute to the courts of England and Wales, as clause 22 provides."
    )


EXPERT = "      3. executives within 10 days\n      4. expert determination\n"


def test_expert_determination_names_who_appoints_and_who_pays() -> None:
    text = HEREFORDSHIRE.replace("      3. executives\n", EXPERT)
    assert text != HEREFORDSHIRE
    paras = _part(text, "learning-disabilities", "Dispute resolution")
    assert paras[4].endswith("shall send it to expert determination that day).")
    # no appointing body stated: a placeholder, never an agreement to agree
    assert (
        "agreed by the Partners in dispute or, if they have not agreed one within 10 (ten) "
        "Working Days of the referral, appointed on the application of any of them by \\[to be "
        "agreed: who appoints the expert if the Partners in dispute do not agree one\\]"
    ) in paras[5]
    # fees: equally, as for a CEDR mediation
    assert paras[5].endswith(
        "The expert's fees and the costs of the determination shall be shared equally between "
        "the Partners in dispute, each of which shall bear its own costs."
    )
    assert paras[6].startswith(
        "**6.7** The dispute is resolved by the expert's written determination"
    )
    assert "final and binding on the Partners save for fraud or manifest error" in paras[6]
    assert "as clause 22 provides" in paras[6]  # only fraud or manifest error goes to court
    assert len(paras) == 8


def test_the_expert_appointer_and_fees_are_facts_of_the_agreement() -> None:
    text = HEREFORDSHIRE.replace("      3. executives\n", EXPERT) + (
        "provisions:\n"
        "  expert:\n"
        "    appointed_by: the President of the Chartered Institute of Public Finance and Accountancy\n"
        "    fees: the expert's fees are borne by the partners in proportion to their contributions\n"
    )
    paras = _part(text, "learning-disabilities", "Dispute resolution")
    assert (
        "appointed on the application of any of them by the President of the Chartered "
        "Institute of Public Finance and Accountancy."
    ) in paras[5]
    assert paras[5].endswith(
        "The expert's fees are borne by the Partners in proportion to their contributions."
    )
    assert "\\[to be agreed" not in paras[5]


def test_a_bare_mediation_stage_follows_the_cedr_procedure() -> None:
    text = HEREFORDSHIRE.replace("      4. mediation by CEDR\n", "      4. mediation\n")
    assert text != HEREFORDSHIRE
    paras = _part(text, "mental-health", "Dispute resolution")
    assert paras[5].startswith(
        "**6.6** The mediation shall be conducted under the Model Mediation Procedure of the "
        "Centre for Effective Dispute Resolution (CEDR) current when the dispute is referred."
    )
    assert "agreed by the Partners" not in paras[5].split(".")[0]
    assert "nominated by CEDR" in paras[5]
    assert "If the mediation ends without a written settlement" in paras[6]


def test_the_mediator_named_gives_the_procedure() -> None:
    assert mediation_words("mediation by CEDR")[0] == "mediation"
    assert mediation_words("mediation by the Acme Panel") == (
        "mediation by the Acme Panel",
        "the procedure of the Acme Panel current when the dispute is referred",
    )
    # a bare `mediation` is no agreement to agree: CEDR's model procedure applies
    assert mediation_words("mediation") == mediation_words("mediation by CEDR")
    text = HEREFORDSHIRE.replace("4. mediation by CEDR", "4. mediation by the Acme Panel")
    paras = _part(text, "mental-health", "Dispute resolution")
    assert "a person nominated by the Acme Panel on the application of any of them" in paras[5]


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
