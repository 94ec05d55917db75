"""Consent records: the list, one record with the chain's check on top, its printable page, FHIR and CSV exports."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from bot.console import sessions
from bot.console.web import config, record_access, render, signed_in
from bot.content import languages
from bot.records import consent_store, csv_export, fhir, printable, recheck_store

router = APIRouter()


def _record(url: str, record_id: int) -> consent_store.Record:
    try:
        return consent_store.get(record_id, url)
    except LookupError as error:
        raise HTTPException(status_code=404, detail=f"There is no consent record #{record_id}.") from error


@router.get("/records")
def record_list(request: Request, session: sessions.Session = Depends(signed_in)) -> Any:
    url = config(request).database_url
    found = list(reversed(consent_store.records(url)))
    record_access(request, session, "view", "/records")
    rows = [
        {
            "record": r,
            "patient": printable.patient_line(r),
            "decision": printable.decision_title(r.decision),
            "go_over": printable.visit_points(r),
        }
        for r in found
    ]
    return render(request, "records.html", rows=rows)


@router.get("/records.csv")
def record_csv(request: Request, session: sessions.Session = Depends(signed_in)) -> Response:
    url = config(request).database_url
    record_access(request, session, "export", "/records.csv")
    return Response(
        csv_export.records_csv(consent_store.records(url)).encode(csv_export.CSV_ENCODING),
        media_type=csv_export.CSV_MEDIA_TYPE,
        headers={"Content-Disposition": 'attachment; filename="consent-records.csv"'},
    )


@router.get("/records/{record_id}")
def record_page(request: Request, record_id: int, session: sessions.Session = Depends(signed_in)) -> Any:
    url = config(request).database_url
    record = _record(url, record_id)
    chain = consent_store.verify(url)
    rechecks = recheck_store.for_record(record_id, url)
    record_access(request, session, "view", f"/records/{record_id}")
    return render(
        request,
        "record.html",
        record=record,
        chain=chain,
        summary=printable.summary_line(record),
        decision=printable.decision_title(record.decision),
        patient=printable.patient_line(record),
        candidacy=[printable.candidacy_row(item, record.payload.language) for item in record.payload.candidacy],
        teachback=[printable.teachback_row(item, record.payload.language) for item in record.payload.teachback],
        topics=[printable.topic_title(intent) for intent in record.payload.topics_asked],
        go_over=[*printable.visit_points(record), *printable.recheck_visit_points(rechecks)],
        rechecks=[
            {
                "title": printable.recheck_title(item),
                "intact": recheck_store.is_intact(item),
                "rows": [printable.recheck_row(answer) for answer in item.answers],
            }
            for item in rechecks
        ],
    )


@router.get("/records/{record_id}/print", response_class=HTMLResponse)
def record_print(request: Request, record_id: int, session: sessions.Session = Depends(signed_in)) -> str:
    """The same printable page as ``python -m bot consent export --html`` and the patient's own copy."""
    url = config(request).database_url
    record = _record(url, record_id)
    record_access(request, session, "view", f"/records/{record_id}/print")
    return printable.record_page(record, recheck_store.for_record(record_id, url), language=languages.ENGLISH)


@router.get("/records/{record_id}/fhir.json")
def record_fhir(request: Request, record_id: int, session: sessions.Session = Depends(signed_in)) -> Response:
    """FHIR R4: a Bundle with the Consent and the QuestionnaireResponse (bot/records/fhir.py)."""
    record = _record(config(request).database_url, record_id)
    record_access(request, session, "export", f"/records/{record_id}/fhir.json")
    return Response(
        fhir.consent_bundle_json(record),
        media_type="application/fhir+json",
        headers={"Content-Disposition": f'attachment; filename="consent-record-{record_id}.fhir.json"'},
    )
