"""The printable page of a consent record: what the care team reads at the visit, and the patient's own copy in
the language they answered in."""

from __future__ import annotations

import dataclasses
import html

from bot import content
from bot.consent.record import CandidacyAnswer, ConsentPayload, Pause, TeachbackResult
from bot.content import languages
from bot.invitations import IDENTITIES, IDENTITY_LINK, IDENTITY_LINK_DOB, IDENTITY_NUMBER, IDENTITY_PORTAL
from bot.records import consent_store, csv_export, fhir, printable
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
    assert printable.patient_line(dataclasses.replace(record, patient_ref="")) == printable.not_verified()


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


# --- A record the patient answered in Spanish ------------------------------------------------------------


def spanish_record() -> consent_store.Record:
    """A record as the Spanish steps write it: the Spanish questions and points, the patient's words as typed."""
    questions, points = content.consent_content_in("es"), content.teachback_content_in("es").points
    thinners, helped = questions.by_id["blood_thinners"], questions.by_id["treatments_helped"]
    wears_off = next(point for point in points if point.id == "wears_off")
    payload = ConsentPayload(
        candidacy=(
            CandidacyAnswer("blood_thinners", thinners.text, "yes", "sí, warfarina", True, thinners.flag_note, "typed"),
            CandidacyAnswer("treatments_helped", helped.text, "a_little", "un poquito", False, "", "typed"),
        ),
        teachback=(TeachbackResult("wears_off", wears_off.summary, ("se pasa",), 1, "understood", "own_words"),),
        decision="go_ahead",
        topics_asked=("ask_duration",),
        supersedes=None,
        pauses=(Pause("paused", "understanding", "2026-12-01T10:00:00+00:00"),),
        identity=IDENTITY_NUMBER,
        language="es",
    )
    return consent_store.Record(
        7, "2026-12-01T10:00:00+00:00", "c", "sms", "MRN-1", "v9", "go_ahead", payload, "p", "h"
    )


def test_a_spanish_record_is_printed_in_spanish() -> None:
    record = spanish_record()
    shown = html.unescape(printable.record_page(record))
    words, questions = content.record_texts_in("es"), content.consent_content_in("es")
    assert '<html lang="es">' in shown
    for name in ("page.prepared_by", "page.candidacy", "page.teachback", "page.topics", "page.reviewed_by"):
        assert words[name] in shown, name
    assert words["page.heading"].format(number=7) in shown
    assert words["page.decision"].format(decision=questions.decision("go_ahead").record_title) in shown  # type: ignore[union-attr]
    for item in record.payload.candidacy:
        assert f"<th>{questions.by_id[item.id].text}</th>" in shown
    assert "Un poco" in shown and '"un poquito"' in shown  # the choice's Spanish title, the patient's words as typed
    assert content.topics_in("es").titles["ask_duration"] in shown
    assert content.teachback_content_in("es").points[3].summary in shown
    english = content.record_texts_in("en")
    assert not [name for name in ("page.candidacy", "page.teachback", "page.pauses") if english[name] in shown]


def test_a_spanish_record_starts_with_a_line_in_english_for_the_chart() -> None:
    record = spanish_record()
    page_html = printable.record_page(record)
    with languages.use("en"):
        line = content.record_text(
            "page.chart_line", number=7, decision="Wants to go ahead", language="Spanish", version="v9"
        )
    assert printable.chart_line(record) == line
    assert f'<p class="chart" lang="en">{html.escape(line)}</p>' in page_html
    assert page_html.index('class="chart"') < page_html.index("<h1>")
    assert 'class="chart"' not in page() and '<html lang="en">' in page(), "an English record has no chart line"


def test_a_spanish_record_prints_in_english_when_asked() -> None:
    record = spanish_record()
    shown = html.unescape(printable.record_page(record, language="en"))
    english = content.consent_content_in("en")
    assert '<html lang="en">' in shown and 'class="chart"' not in shown
    assert content.record_texts_in("en")["page.candidacy"] in shown
    assert english.by_id["blood_thinners"].text in shown and '"sí, warfarina"' in shown
    assert "Decision: Wants to go ahead" in shown


def test_the_care_teams_pages_and_exports_stay_english_for_a_spanish_record() -> None:
    """The console and the CSV and FHIR exports call the helpers in the default language: English."""
    record = spanish_record()
    english = content.consent_content_in("en")
    assert printable.decision_title(record.decision) == "Wants to go ahead"
    assert printable.summary_line(record).startswith("Wants to go ahead; 1 of 2 answers to review;")
    question, answer = printable.candidacy_row(record.payload.candidacy[0], record.payload.language)
    assert question == english.by_id["blood_thinners"].text and answer.startswith("Yes [typed]")
    point, result = printable.teachback_row(record.payload.teachback[0], record.payload.language)
    assert point == "that the effect may wear off" and result.startswith("understood, in own words (1 attempt)")
    assert printable.visit_points(record) == ["takes a blood thinner"]
    assert printable.patient_line(record) == "MRN-1 (verified by: invited phone number)"
    row = csv_export.record_row(record)
    assert row[3] == "invited phone number" and row[5] == "Wants to go ahead"
    bundle = fhir.consent_bundle_json(record)
    assert "Wants to go ahead; 1 of 2 answers to review" in bundle and "Quiere seguir adelante" not in bundle
    assert "Resumen" not in bundle and "verificado" not in bundle


def test_the_page_language_does_not_stay_after_the_page() -> None:
    printable.record_page(spanish_record())
    assert languages.current() == "en"
    assert printable.decision_title("go_ahead") == "Wants to go ahead"
