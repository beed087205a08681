"""The `assay view` web app (FastAPI, server-rendered Jinja2 pages, one vendored script).

    from assay.view import create_app
    app = create_app("sqlite:///assay.db")        # an ASGI app: mount it or serve it
    uvicorn.run(app, host="127.0.0.1", port=8765)

Front end: plain HTML pages with links and forms, charts as inline SVG, and one small
vanilla script (`static/app.js`, shipped in the package) for live updates over
server-sent events and the review queue's keyboard shortcuts. No framework and no CDN:
it works offline, every page is readable without JavaScript, and the strict CSP needs
no inline script.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import threading
from collections.abc import AsyncIterator, Sequence
from datetime import date
from importlib import resources
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp

from assay.core.errors import InputError
from assay.report.i18n import interval_label
from assay.store import Store
from assay.view import charts
from assay.view.data import OUTCOMES, PAGE_SIZES, VERDICTS_INLINE_MAX, CaseFilters, ViewData
from assay.view.reviews import KINDS, LABELS, agreement, check_review, consensus, export_labels, spot_check
from assay.view.security import Guard

_PKG = resources.files("assay.view")
#: bidi controls and other invisible format characters: shown, never obeyed
_CONTROLS = re.compile(
    "[\u200e\u200f\u202a-\u202e\u2066-\u2069\u061c\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]"
)


def _visible(text: Any) -> Markup:
    """Escape model output and make bidi overrides and control characters visible."""
    s = str(escape("" if text is None else text))
    return Markup(_CONTROLS.sub(lambda m: f'<span class="ctl">U+{ord(m.group()):04X}</span>', s))


def _pct(x: float | None, digits: int = 1) -> str:
    return "—" if x is None else f"{x * 100:.{digits}f}%"


def _templates() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(_PKG / "templates")),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["visible"] = _visible
    env.filters["pct"] = _pct
    env.filters["when"] = lambda d: "" if d is None else d.strftime("%Y-%m-%d %H:%M:%S")
    env.filters["num"] = lambda x: "—" if x is None else f"{x:,}"
    env.globals["interval_label"] = interval_label
    return env


def _warm_quietly(data: ViewData) -> None:
    try:
        data.warm_snapshots()
    except Exception:  # a page request builds what warming could not; never crash the server
        logging.getLogger("assay.view").warning("warming run snapshots failed", exc_info=True)


def create_app(
    db: str | Store | None = None,
    *,
    token: str | None = None,
    allow_review: bool = True,
    allowed_hosts: Sequence[str] | None = None,
    reviewer: str | None = None,
    signing_key: str | None = None,
    warm: bool = False,
) -> ASGIApp:
    """The dashboard as an ASGI app over a store (URL, Store, or the default store).

    `token`: required on every request when set (use it whenever the app is reachable
    from another machine). `allow_review`: accept review labels (POST); otherwise the
    app is read-only. `allowed_hosts`: refuse other Host headers. `reviewer`: the default
    reviewer name. `signing_key`: PEM path/text for bundle downloads (default
    $ASSAY_SIGNING_KEY). `warm`: once started, store in the background a scoring snapshot
    of each recent finished run lacking a fresh one, so its first page is not computed
    while someone waits (`ViewData.warm_snapshots`).
    """
    store = db if isinstance(db, Store) else Store(db)
    data = ViewData(store)
    env = _templates()

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if warm:  # when the server starts (not when the app object is made)
            threading.Thread(target=_warm_quietly, args=(data,), name="assay-view-warm", daemon=True).start()
        yield

    app = FastAPI(title="Assay view", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.mount("/static", StaticFiles(directory=str(_PKG / "static")), name="static")
    app.state.view = data
    default_reviewer = reviewer or os.environ.get("USER") or "reviewer"

    def page(request: Request, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
        ctx |= {
            "request": request,
            "csrf": request.scope.get("state", {}).get("csrf", ""),
            "can_review": allow_review,
            "store": _short_url(store),
        }
        return HTMLResponse(env.get_template(name).render(**ctx), status_code=status)

    @app.exception_handler(InputError)
    async def _bad_input(request: Request, exc: InputError) -> HTMLResponse:
        return page(request, "error.html", 404 if "no run" in str(exc) else 400, message=str(exc))

    # ------------------------------------------------------------------ runs
    @app.get("/", response_class=HTMLResponse)
    def runs_page(
        request: Request,
        target: str | None = None,
        status: str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> HTMLResponse:
        d_since, d_until = _date(since, "since"), _date(until, "until")
        runs = data.list_runs(target=target or None, status=status or None, since=d_since, until=d_until)
        rows = []
        for run in runs:
            prog = data.progress(run.id)
            counts: dict[str, int] | None = None
            regimes: list[str] = sorted(
                {r.get("regime", "") for r in run.plan.get("requirements", []) or []} - {""}
            )
            cached = data.cached_view(run.id)
            if cached is not None or run.case_count <= VERDICTS_INLINE_MAX:
                view = data.run_view(run.id)
                counts = {}
                for q in view.data.requirements:
                    counts[q.verdict] = counts.get(q.verdict, 0) + 1
            rows.append({"run": run, "progress": prog, "counts": counts, "regimes": regimes})
        return page(
            request,
            "runs.html",
            rows=rows,
            statuses=data.statuses(),
            f={"target": target or "", "status": status or "", "since": since or "", "until": until or ""},
        )

    @app.get("/runs/{run_id}", response_class=HTMLResponse)
    def run_page(request: Request, run_id: str) -> HTMLResponse:
        view = data.run_view(run_id)
        rd, a = view.data, view.assessment
        results = {r.requirement_id: r for r in a.requirements}
        interval_of = {
            rid: interval_label(r.estimate.confidence, r.estimate.method, "en")
            for rid, r in results.items()
            if r.estimate is not None
        }
        regimes = [g.id for g in rd.regimes]
        matrix = [
            {"req": q, "cells": [q.verdict if q.regime == reg else None for reg in regimes]}
            for q in rd.requirements
        ]
        return page(
            request,
            "run.html",
            rd=rd,
            a=a,
            results=results,
            interval_of=interval_of,
            regimes=regimes,
            matrix=matrix,
            progress=data.progress(rd.run.id),
            forest=charts.forest(rd.requirements, interval_of),
            cat_bars=charts.bars(rd.categories),
            lang_bars=charts.bars(rd.languages),
            tr_bars=charts.bars(rd.transforms),
            trajectories=charts.trajectories(view.trajectories),
        )

    @app.get("/runs/{run_id}/events")
    async def run_events(request: Request, run_id: str) -> StreamingResponse:
        run = await run_in_threadpool(store.get_run, run_id)

        async def stream() -> AsyncIterator[str]:
            while True:
                prog = await run_in_threadpool(data.progress, run.id)
                payload: dict[str, Any] = {
                    "status": prog.status,
                    "answered": prog.answered,
                    "judged": prog.judged,
                    "total": prog.total,
                    "errors": prog.errors,
                    "rate": prog.rate,
                    "eta_s": prog.eta_s,
                    "elapsed_s": prog.elapsed_s,
                }
                view = await run_in_threadpool(data.run_view, run.id)
                payload["requirements"] = [
                    {
                        "id": q.id,
                        "verdict": q.verdict,
                        "rate": _pct(q.rate.rate if q.rate else None),
                        "n": q.rate.n if q.rate else 0,
                    }
                    for q in view.data.requirements
                ]
                yield f"event: progress\ndata: {json.dumps(payload)}\n\n"
                if prog.status != "running" or await request.is_disconnected():
                    yield "event: done\ndata: {}\n\n"
                    return
                await asyncio.sleep(1.0)

        return StreamingResponse(
            stream(), media_type="text/event-stream", headers={"cache-control": "no-store"}
        )

    # ------------------------------------------------------------------ cases
    @app.get("/runs/{run_id}/cases", response_class=HTMLResponse)
    def cases_page(
        request: Request,
        run_id: str,
        outcome: str | None = None,
        requirement: str | None = None,
        category: str | None = None,
        risk: str | None = None,
        language: str | None = None,
        bank: str | None = None,
        transform: str | None = None,
        grader: str | None = None,
        disagreement: str | None = None,
        q: str | None = Query(None, max_length=200),
        page_no: int = Query(1, alias="page", ge=1),
        size: int = Query(50),
    ) -> HTMLResponse:
        if size not in PAGE_SIZES:
            raise InputError(f"page size must be one of {PAGE_SIZES}", where="size")
        if outcome and outcome not in OUTCOMES:
            raise InputError(
                f"unknown outcome {outcome!r}; use one of {', '.join(OUTCOMES)}", where="outcome"
            )
        run = store.get_run(run_id)
        f = CaseFilters(
            outcome=outcome or None,
            requirement=requirement or None,
            category=category or None,
            risk=risk or None,
            language=language or None,
            bank=bank or None,
            transform=transform or None,
            grader=grader or None,
            disagreement=bool(disagreement),
            q=q or None,
        )
        result = data.case_page(run.id, f, page_no, size)
        view = data.cached_view(run.id)
        params = f.params() | {"size": str(size)}
        return page(
            request,
            "cases.html",
            run=run,
            f=f,
            facets=data.facets(run.id),
            requirements=[r.id for r in view.data.requirements] if view else [],
            outcomes=OUTCOMES,
            result=result,
            sizes=PAGE_SIZES,
            prev_url=_url(f"/runs/{run.id}/cases", params | {"page": str(page_no - 1)})
            if page_no > 1
            else None,
            next_url=_url(f"/runs/{run.id}/cases", params | {"page": str(page_no + 1)})
            if page_no < result.pages
            else None,
        )

    @app.get("/runs/{run_id}/cases/{case_id}", response_class=HTMLResponse)
    def case_page(request: Request, run_id: str, case_id: str) -> HTMLResponse:
        detail = data.case_detail(run_id, case_id)
        if detail is None:
            return page(request, "error.html", 404, message=f"run {run_id} has no case {case_id!r}")
        return page(request, "case.html", d=detail, s=detail.sample)

    # ------------------------------------------------------------------ compare
    @app.get("/compare", response_class=HTMLResponse)
    def compare_page(
        request: Request, a: str | None = None, b: str | None = None, adjust: str = "holm"
    ) -> HTMLResponse:
        from assay.report.compare import build_comparison

        runs = data.list_runs(limit=200)
        comp = None
        if adjust not in ("holm", "bh", "none"):
            raise InputError(f"unknown adjustment {adjust!r}; use holm, bh or none", where="adjust")
        if a and b:
            va, vb = data.run_view(a), data.run_view(b)
            comp = build_comparison(va.data, vb.data, adjust=adjust)  # type: ignore[arg-type]
        return page(request, "compare.html", runs=runs, comp=comp, a=a or "", b=b or "", adjust=adjust)

    # ------------------------------------------------------------------ review
    @app.get("/runs/{run_id}/review", response_class=HTMLResponse)
    def review_page(
        request: Request, run_id: str, scope: str = "spot", case: str | None = None
    ) -> HTMLResponse:
        run = store.get_run(run_id)
        who = request.cookies.get("assay_reviewer") or default_reviewer
        queue = _queue(run.id, scope)
        mine = {r["case_id"] for r in store.reviews(run.id) if r["reviewer"] == who}
        if case is None:
            case = next((c for c in queue if c not in mine), None)
        detail = data.case_detail(run.id, case) if case else None
        position = queue.index(case) + 1 if case in queue else None
        return page(
            request,
            "review.html",
            run=run,
            d=detail,
            s=detail.sample if detail else None,
            scope=scope,
            queue_len=len(queue),
            done=len(mine & set(queue)),
            position=position,
            reviewer=who,
            risks=_risks(),
            labels=LABELS,
        )

    @app.post("/runs/{run_id}/review")
    def review_post(
        request: Request,
        run_id: str,
        case_id: str = Form(...),
        reviewer: str = Form(...),
        qualification: str = Form(""),
        risk: str = Form(""),
        refusal: str = Form(""),
        note: str = Form("", max_length=2000),
        scope: str = Form("spot"),
    ) -> Response:
        run = store.get_run(run_id)
        if data.case_detail(run.id, case_id) is None:
            raise InputError(f"run {run.id} has no case {case_id!r}", where="case_id")
        given = [(k, v) for k, v in (("qualification", qualification), ("refusal", refusal)) if v]
        if not given:
            raise InputError("choose a label (qualified / unqualified, or a refusal level)", where="label")
        for kind, label in given:
            r = (risk or None) if kind == "qualification" and label == "unsafe" else None
            check_review(kind, label, r, reviewer)
        for kind, label in given:
            r = (risk or None) if kind == "qualification" and label == "unsafe" else None
            store.add_review(run.id, case_id, reviewer.strip(), kind, label, r, note)
        resp = RedirectResponse(f"/runs/{run.id}/review?{urlencode({'scope': scope})}", status_code=303)
        resp.set_cookie("assay_reviewer", reviewer.strip(), samesite="strict", httponly=True)
        return resp

    @app.get("/runs/{run_id}/reviews", response_class=HTMLResponse)
    def reviews_page(request: Request, run_id: str) -> HTMLResponse:
        run = store.get_run(run_id)
        reviews = store.reviews(run.id)
        check = spot_check(store, run.id)
        est = check.result.estimate
        disputes = {k: len(consensus(reviews, k)[1]) for k in KINDS}
        return page(
            request,
            "reviews.html",
            run=run,
            reviews=reviews,
            pairs=agreement(reviews),
            check=check,
            interval=interval_label(est.confidence, est.method, "en") if est else "",
            disputes=disputes,
            kinds=KINDS,
        )

    @app.get("/runs/{run_id}/labels.jsonl")
    def labels_download(run_id: str, kind: str = "qualification") -> Response:
        run = store.get_run(run_id)
        exp = export_labels(store, run.id, kind, private_banks=sorted(data.private_banks()))
        return Response(
            exp.jsonl,
            media_type="application/x-ndjson",
            headers={"content-disposition": f'attachment; filename="{run.id}.{kind}.labels.jsonl"'},
        )

    # ------------------------------------------------------------------ downloads
    @app.get("/runs/{run_id}/report.{fmt}")
    def report_download(run_id: str, fmt: str, lang: str = "en") -> Response:
        from assay.report.runs import FORMATS, render, report_data

        ext = {v: k for k, v in FORMATS.items()}
        kind = ext.get(fmt, fmt)
        if kind not in FORMATS:
            raise InputError(
                f"unknown report format {fmt!r}; use html, md, json or xml (junit)", where="format"
            )
        rd, _, _ = report_data(store, run_id)
        text = render(rd, kind, lang)
        name = f"{rd.run.id}{'' if lang == 'en' else '.' + lang}.{FORMATS[kind]}"
        return Response(
            text,
            media_type="application/octet-stream",
            headers={"content-disposition": f'attachment; filename="{name}"'},
        )

    @app.get("/runs/{run_id}/bundle.zip")
    def bundle_download(run_id: str) -> Response:
        from assay.view.downloads import bundle_bytes

        try:
            blob, name = bundle_bytes(store, run_id, signing_key)
        except InputError as exc:
            if "signing key" in str(exc):
                return PlainTextResponse(
                    f"bundles are signed: start `assay view` with --key PATH or set ASSAY_SIGNING_KEY ({exc})",
                    409,
                )
            raise
        return Response(
            blob,
            media_type="application/zip",
            headers={"content-disposition": f'attachment; filename="{name}"'},
        )

    # ------------------------------------------------------------------ helpers
    def _queue(run_id: str, scope: str) -> list[str]:
        if scope == "spot":  # the plan's sample, its answered cases (the others have nothing to review)
            answered = store.responded_case_ids(run_id)
            return [cid for cid in spot_check(store, run_id).sample if cid in answered]
        if scope == "all":
            answered = store.responded_case_ids(run_id)
            return [c.id for c in store.run_cases(run_id) if c.id in answered]
        raise InputError(f"unknown review scope {scope!r}; use spot or all", where="scope")

    return Guard(app, token=token, allow_review=allow_review, allowed_hosts=allowed_hosts)


def _risks() -> list[tuple[str, str]]:
    """TC260-003 Appendix A risks (id, English name) for the reviewer's choice."""
    from assay.report.build import default_lookups

    risks = default_lookups().risks
    return [(k, risks[k].get("name_en", "")) for k in sorted(risks)]


def _date(value: str | None, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{value!r} is not a date (YYYY-MM-DD)", where=field) from None


def _url(path: str, params: dict[str, str]) -> str:
    return f"{path}?{urlencode(params)}"


def _short_url(store: Store) -> str:
    from assay.store.db import masked

    return masked(store.url)
