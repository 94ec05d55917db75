"""The printable page of a consent record: what the care team reads at the visit."""

from __future__ import annotations

import dataclasses
import html

from bot.consent.record import CandidacyAnswer, Pause
from bot.invitations import IDENTITIES, IDENTITY_LINK, IDENTITY_LINK_DOB, IDENTITY_NUMBER, IDENTITY_PORTAL
from bot.records import consent_store, printable
from tests.records.test_consent_store import PAYLOAD


def page(**changes: object) -> str:
    record = consent_store.Record(1, "t", "c", "rest", None, "v", "go_ahead", PAYLOAD, "p", "h")
    return printable.record_page(dataclasses.replace(record, **changes))  # type: ignore[arg-type]


def test_the_page_states_each_decision_in_the_care_teams_words() -> None:
    for value, title in [
        ("decline", "Does not want to go ahead"),
        ("talk_to_doctor", "Wants to talk to the doctor first"),
        ("no_longer_offered", "no_longer_offered"),
    ]:  # a decision the content dropped since
        record = consent_store.Record(1, "t", "c", "rest", None, "v", value, PAYLOAD, "p", "h")
        assert f"Decision: {title}</div>" in printable.record_page(record)


def test_topics_are_shown_by_their_titles_not_their_intent_names() -> None:
    html = page()
    assert "<p>How long?</p>" in html  # content/topics.yml's title for ask_duration
    assert "ask_duration" not in html


def test_a_summary_line_comes_first_with_the_decision_and_what_to_review() -> None:
    html = page()
    summary = html.split("<strong>Summary:</strong> ", 1)[1].split("</p>", 1)[0]
    assert summary.startswith("Wants to go ahead;")
    assert "1 of 1 answers to review" in summary and "1 of 1 understanding points" in summary
    assert html.index('class="summary"') < html.index("Candidacy answers")


def test_the_patients_own_words_stand_beside_the_answer_read_from_them() -> None:
    assert "(said: &quot;yes, warfarin&quot;)" in page()
    same = dataclasses.replace(PAYLOAD.candidacy[0], said="Yes", flagged=False)
    assert "said:" not in page(payload=dataclasses.replace(PAYLOAD, candidacy=(same,)))


def test_the_page_says_how_each_answer_was_given() -> None:
    confirmed = dataclasses.replace(PAYLOAD.candidacy[0], said="not that I know of / No", answer="no", how="confirmed")
    html = page(payload=dataclasses.replace(PAYLOAD, candidacy=(confirmed,)))
    assert "No [confirmed after asking back] (said: &quot;not that I know of / No&quot;)" in html


def test_a_choice_is_shown_as_the_patient_saw_it_not_by_its_stored_value() -> None:
    helped = CandidacyAnswer("treatments_helped", "Did those treatments help?", "a_little", "a bit", False, "", "typed")
    html = page(payload=dataclasses.replace(PAYLOAD, candidacy=(helped,)))
    assert "A little [typed] (said: &quot;a bit&quot;)" in html and "a_little" not in html
    dropped = dataclasses.replace(helped, id="no_longer_asked")
    assert "a_little [typed]" in page(payload=dataclasses.replace(PAYLOAD, candidacy=(dropped,)))
    assert "[" not in page().split("Candidacy answers", 1)[1].split("</table>", 1)[0], "older records have no 'how'"


def test_the_page_says_whether_a_point_was_explained_in_own_words_or_chosen() -> None:
    chosen = dataclasses.replace(PAYLOAD.teachback[0], how="chosen")
    html = page(payload=dataclasses.replace(PAYLOAD, teachback=(chosen,)))
    assert "understood, chosen from choices" in html
    own = dataclasses.replace(PAYLOAD.teachback[0], how="own_words")
    assert "understood, in own words" in page(payload=dataclasses.replace(PAYLOAD, teachback=(own,)))


def test_the_page_lists_each_pause_and_resume() -> None:
    paused = dataclasses.replace(
        PAYLOAD,
        pauses=(Pause("paused", "understanding", "2026-12-01T10:00:00+00:00"), Pause("resumed", "understanding", "x")),
    )
    html = page(payload=paused)
    assert "paused at the understanding step, 2026-12-01T10:00:00+00:00; resumed at the understanding step" in html
    assert "<h2>Pauses</h2><p>none</p>" in page()


def test_the_page_says_how_the_patient_reference_was_verified() -> None:
    identified = dataclasses.replace(PAYLOAD, identity=IDENTITY_LINK_DOB)
    html = page(patient_ref="MRN-1", payload=identified)
    assert "<th>Patient reference</th><td>MRN-1 (verified by: invitation link and date of birth)</td>" in html
    assert "<th>Patient reference</th><td>Not verified: nobody proved who was chatting</td>" in page()
    ignored = page(patient_ref=None, payload=identified)  # a way of proving nobody is no verification
    assert "Not verified: nobody proved who was chatting" in ignored and "invitation link" not in ignored
    older = page(patient_ref="MRN-1")  # a reference written before the way was kept
    assert "MRN-1 (verified by: not recorded (before invitations, only the clinic portal sign-in gave" in older


def test_every_way_of_identifying_a_patient_has_plain_words_in_one_table() -> None:
    assert set(printable.VERIFIED_BY) == set(IDENTITIES)
    record = consent_store.Record(1, "t", "c", "sms", "R-7", "v", "go_ahead", PAYLOAD, "p", "h")
    said = {
        way: printable.verified_by(dataclasses.replace(record, payload=dataclasses.replace(PAYLOAD, identity=way)))
        for way in IDENTITIES
    }
    assert said == {
        IDENTITY_LINK: "invitation link",
        IDENTITY_LINK_DOB: "invitation link and date of birth",
        IDENTITY_NUMBER: "invited phone number",
        IDENTITY_PORTAL: "clinic portal sign-in",
    }
    unknown = dataclasses.replace(record, payload=dataclasses.replace(PAYLOAD, identity="clinic_kiosk"))
    assert printable.patient_line(unknown) == "R-7 (verified by: clinic_kiosk)", "a newer word is shown as stored"
    assert printable.patient_line(dataclasses.replace(record, patient_ref="")) == printable.NOT_VERIFIED


def test_the_page_lists_the_re_checks_with_each_point_the_words_and_the_hmac(sqlite_url: str) -> None:
    from bot.consent.record import RecheckAnswer
    from bot.records import recheck_store

    record = consent_store.append("conv-1", "sms", PAYLOAD, "v1", patient_ref="MRN-1", url=sqlite_url)
    answers = (
        RecheckAnswer("wears_off", "will it last forever?", "it lasts forever", False),
        RecheckAnswer("not_a_cure", "will it cure it?", "", False),
    )
    stored = recheck_store.append(record, "reminder:inv1", "conv-1", answers, url=sqlite_url)
    page = html.unescape(printable.record_page(record, [stored]))
    assert "Re-checks before the visit" in page and "0 of 2 points right; HMAC verified" in page
    assert "that the effect may wear off" in page and "missed; go over at the visit ⚑: it lasts forever" in page
    assert "not asked (the re-check stopped before it)" in page
    assert printable.recheck_visit_points([stored, stored]) == ["that the effect may wear off", "that it is not a cure"]
    forged = dataclasses.replace(stored, missed=0)
    assert "FAILS its HMAC" in printable.recheck_title(forged)
    assert "Re-checks" not in printable.record_page(record)
