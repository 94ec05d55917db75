"""The clinic's insight dashboard: how far patients get, where they stop, what they miss, ask and are not understood."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request

from bot.console import charts, sessions
from bot.console.web import config, record_access, render, signed_in
from bot.insight import figures

router = APIRouter()
PERIODS = (7, 30, 90)


@router.get("/insight")
def insight(request: Request, days: int = 30, session: sessions.Session = Depends(signed_in)) -> Any:
    if days not in PERIODS:
        raise HTTPException(status_code=400, detail=f"Choose {', '.join(map(str, PERIODS))} days.")
    settings = config(request)
    board = figures.dashboard(settings.tracker_url, settings.database_url, days=days)
    record_access(request, session, "view", f"/insight?days={days}")
    stages = [(title, getattr(board.totals, name)) for name, title in figures.STAGES]
    by_day = charts.columns(
        "Started and decided, by day",
        [f"{day.day:%-d %b}" for day in board.funnel],
        [
            ("Started", [day.counts.started for day in board.funnel]),
            ("Made a decision", [day.counts.decided for day in board.funnel]),
        ],
    )
    return render(
        request,
        "insight.html",
        board=board,
        days=days,
        periods=PERIODS,
        stages=stages,
        funnel_chart=charts.horizontal("How far patients got", stages),
        by_day_chart=by_day,
        stops_chart=charts.horizontal(
            "Where undecided patients stopped",
            [(f"{figures.STEP_TITLES.get(s.step, s.step)}: {s.label}", s.conversations) for s in board.stops[:10]],
            colour=charts.COLOURS[1],
        ),
        missed_chart=charts.horizontal(
            "Teach-back points missed (share of patients judged)",
            [(m.summary, round(100 * m.share)) for m in board.missed_points],
            unit="%",
            colour=charts.COLOURS[4],
        ),
        topics_chart=charts.horizontal(
            "Topics asked most", [(t.title, t.asked) for t in board.topics[:10]], colour=charts.COLOURS[2]
        ),
        generated=dt.datetime.now(dt.timezone.utc),
    )
