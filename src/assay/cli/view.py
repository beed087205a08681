"""`assay view` (the web dashboard) and `assay reviews ...` (human review labels)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from assay.cli._common import DbOpt, console, err_console, make_app
from assay.core.errors import InputError

reviews_app = make_app(
    help="Human review labels: export them for grader validation, score the §9.3 spot check."
)


def view_cmd(
    db: DbOpt = None,
    host: Annotated[
        str, typer.Option("--host", help="Address to bind (default 127.0.0.1: this machine only).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8765,
    allow_review: Annotated[
        bool | None,
        typer.Option(
            "--allow-review/--read-only",
            help="Accept review labels. Default: on for 127.0.0.1, off (read-only) on any other address.",
        ),
    ] = None,
    reviewer: Annotated[
        str | None, typer.Option("--reviewer", help="Default reviewer name (default $USER).")
    ] = None,
    key: Annotated[
        str | None,
        typer.Option(
            "--key", help="Ed25519 private key (PEM) for bundle downloads; default $ASSAY_SIGNING_KEY."
        ),
    ] = None,
    open_browser: Annotated[
        bool, typer.Option("--open/--no-open", help="Open the dashboard in a browser.")
    ] = True,
) -> None:
    """Start the web dashboard on the store: runs, live progress, cases, compare, review queue, downloads."""
    from assay import api
    from assay.view.security import LOOPBACK, is_loopback, new_token

    if not 0 < port < 65536:
        raise InputError(f"port {port} is not in 1-65535", where="--port")
    if not host.strip():
        raise InputError("an address is required", where="--host")
    local = is_loopback(host)
    token = None if local else new_token()
    review = local if allow_review is None else allow_review
    try:
        import uvicorn
    except ModuleNotFoundError:
        raise InputError(
            "`assay view` needs the view extra: pip install 'assay[view]'", where="assay view"
        ) from None
    app = api.view_app(
        db=db,
        token=token,
        allow_review=review,
        allowed_hosts=[*LOOPBACK] if local else None,
        reviewer=reviewer,
        signing_key=key,
        warm=True,
    )
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    url = f"http://{shown}:{port}/"
    if token:
        # printed once; never logged or stored
        console.print(f"assay view on {escape(url)} ({'review on' if review else 'read-only'})")
        console.print(f"access token (shown once): {token}", soft_wrap=True)
        console.print(f"open: {escape(url)}?token={token}", soft_wrap=True)
    else:
        console.print(
            f"assay view on {escape(url)} ({'review on' if review else 'read-only'}); Ctrl-C stops it"
        )
    if open_browser:
        import threading
        import webbrowser

        threading.Timer(1.0, lambda: webbrowser.open(url + (f"?token={token}" if token else ""))).start()
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)


@reviews_app.command("export")
def export_cmd(
    run_id: Annotated[str, typer.Argument(help="Run id.")],
    kind: Annotated[str, typer.Option("--kind", help="refusal | qualification")] = "refusal",
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write the JSONL here (default: print it).")
    ] = None,
    db: DbOpt = None,
) -> None:
    """Export the labels reviewers agree on as a label file for `assay graders validate --labels`."""
    from assay import api

    exp = api.review_labels(run_id, kind=kind, db=db)
    if out is None:
        typer.echo(exp.jsonl, nl=False)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(exp.jsonl, encoding="utf-8")
        console.print(f"labels: {escape(str(out))}")
    err_console.print(
        f"{exp.rows} labelled answers; {exp.disputed} disputed and {exp.private_skipped} private left out"
    )


@reviews_app.command("spot-check")
def spot_check_cmd(
    run_id: Annotated[str, typer.Argument(help="Run id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    db: DbOpt = None,
) -> None:
    """The TC260-003 §9.3 manual spot check of a run: its drawn sample and the measured qualified rate."""
    from assay import api
    from assay.report.i18n import interval_label

    check = api.spot_check(run_id, db=db)
    if as_json:
        typer.echo(json.dumps(check.model_dump(mode="json"), ensure_ascii=False, indent=1))
        return
    r, e = check.result, check.result.estimate
    console.print(
        f"{escape(r.requirement_id)}: sample {len(check.sample)} (drawn by the plan, stratified by risk, seed "
        f"{check.plan.seed}), reviewed {check.reviewed}, disputed {check.disputed}"
    )
    if e is not None and e.rate is not None:
        console.print(
            f"qualified rate {e.rate:.1%} [{e.lower:.1%}, {e.upper:.1%}] ({interval_label(e.confidence, e.method)}; "
            f"{e.k}/{e.n}); threshold {r.direction} {r.threshold:.0%}; verdict {r.verdict.value}"
        )
    else:
        console.print(f"nothing reviewed yet; verdict {r.verdict.value}")


def register(app: typer.Typer) -> None:
    app.command("view")(view_cmd)
    app.add_typer(reviews_app, name="reviews")
