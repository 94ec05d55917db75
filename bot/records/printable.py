"""The printable page of a consent record, for the patient's chart."""

from __future__ import annotations

import html

from bot.records.consent_store import DECISION_TITLES, Record


def record_page(record: Record) -> str:
    """A one-page printable summary for the patient's chart."""
    data = record.payload
    esc = html.escape

    def rows(items: list[tuple[str, str]]) -> str:
        return "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in items)

    candidacy = [
        (item.get("question", item.get("id", "")),
         f"{item.get('answer', '')}{'  ⚑ ' + item.get('flag_note', 'flagged') if item.get('flagged') else ''}")
        for item in data.get("candidacy", [])
    ]
    teachback = [
        (item.get("summary", item.get("id", "")),
         f"{'understood' if item.get('result') == 'understood' else 'review at visit ⚑'} "
         f"({item.get('attempts', 0)} attempt{'s' if item.get('attempts', 0) != 1 else ''}): "
         + " / ".join(item.get("answers", [])))
        for item in data.get("teachback", [])
    ]
    topics = ", ".join(data.get("topics_asked", [])) or "none"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Pre-consent record #{record.id}</title>
<style>
@page {{ size: letter; margin: 14mm; }}
body {{ font: 10.5pt/1.35 system-ui, sans-serif; color: #111; max-width: 190mm; margin: auto; }}
h1 {{ font-size: 15pt; margin: 0 0 4pt; }} h2 {{ font-size: 11.5pt; margin: 10pt 0 3pt; }}
table {{ width: 100%; border-collapse: collapse; }} th, td {{ text-align: left; vertical-align: top;
padding: 2pt 4pt; border-bottom: 1px solid #ccc; }} th {{ width: 42%; font-weight: 600; }}
.decision {{ font-size: 13pt; font-weight: 700; border: 2px solid #111; padding: 5pt; margin: 6pt 0; }}
.small {{ font-size: 8.5pt; color: #444; word-break: break-all; }}
</style></head><body>
<h1>Rhizotomy injection: pre-consent record #{record.id}</h1>
<p>Prepared by the clinic's automated assistant. <strong>This is not the signed consent</strong>: the final
consent is signed with the physician at the visit.</p>
<table>{rows([("Recorded (UTC)", record.created_at), ("Conversation", record.conversation_id),
             ("Channel", record.channel), ("Patient reference", record.patient_ref or "not provided by the channel")])}
</table>
<div class="decision">Decision: {esc(DECISION_TITLES.get(record.decision, record.decision))}</div>
<h2>Candidacy answers (⚑ = for the care team to review)</h2><table>{rows(candidacy)}</table>
<h2>Understanding check (teach-back)</h2><table>{rows(teachback)}</table>
<h2>Topics the patient asked about</h2><p>{esc(topics)}</p>
<p class="small">Content version {esc(record.content_version)} · record hash {esc(record.record_hash)} ·
previous {esc(record.prev_hash)}</p>
<p>Reviewed by: ____________________ Date: ____________</p>
</body></html>
"""
