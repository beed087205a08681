"""`assay view`: every page, filter and security rule through FastAPI's TestClient, on a
store with two finished runs of the README's main command and one live run.

The figures on the pages are checked against the scoring stage's Assessment (the same
numbers the reports and the CLI show), and model output is checked to be escaped.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient
from tests.view_sample import ViewStore, answer_more, build

from assay import api
from assay.cli import app as cli
from assay.graders.validation import load_labels
from assay.report.compare import build_comparison
from assay.report.runs import report_data
from assay.store import Store
from assay.view.app import _pct


@pytest.fixture(scope="module")
def vs(tmp_path_factory: pytest.TempPathFactory) -> ViewStore:
    mp = pytest.MonkeyPatch()
    tmp = tmp_path_factory.mktemp("view")
    mp.setenv("ASSAY_HOME", str(tmp / "home"))
    try:
        return build(tmp)
    finally:
        mp.undo()


@pytest.fixture
def client(vs: ViewStore) -> TestClient:
    return TestClient(api.view_app(db=vs.db))


def _csrf(client: TestClient) -> str:
    client.get("/")
    return str(client.cookies.get("assay_csrf"))


def _row(html: str, attr: str, key: str) -> str:
    m = re.search(rf'<tr[^>]*{attr}="{re.escape(key)}"[^>]*>(.*?)</tr>', html, re.S)
    assert m, f"no row {attr}={key}"
    return m.group(1)


def _all_rows(client: TestClient, url: str, params: dict[str, str]) -> dict[str, str]:
    """case id -> outcome of every row the filter shows, over all pages."""
    out: dict[str, str] = {}
    page = 1
    while True:
        html = client.get(url, params=params | {"size": "200", "page": str(page)}).text
        out |= dict(re.findall(r'<tr class="case" data-case="([^"]+)" data-outcome="([^"]+)"', html))
        if 'rel="next"' not in html:
            return out
        page += 1


def _total(html: str) -> int:
    m = re.search(r'id="count"><strong>([\d,]+)</strong>', html)
    assert m, html[:500]
    return int(m.group(1).replace(",", ""))


# ----------------------------------------------------------------------------- runs


def test_runs_page_lists_runs_with_status_progress_and_verdicts(client: TestClient, vs: ViewStore) -> None:
    page = client.get("/")
    assert page.status_code == 200
    html = page.text
    for rid in (vs.finished, vs.refusing, vs.live):
        assert f'data-run="{rid}"' in html
    live = _row(html, "data-run", vs.live)
    assert "running" in live and 'data-events="/runs/' in live and f"{vs.answered}</span>/30" in live
    # verdict counts are the counts of the run's requirement verdicts
    a = api.assessment(vs.finished, db=vs.db)
    counts = Counter(r.verdict.value for r in a.requirements)
    row = _row(html, "data-run", vs.finished)
    for verdict, n in counts.items():
        assert re.search(rf'data-verdict="{verdict}">[^<]*</span> {n}\b', row), (verdict, n)
    assert "tc260-003" in row


def test_runs_filters(client: TestClient, vs: ViewStore) -> None:
    only_live = client.get("/", params={"status": "running"}).text
    assert vs.live in only_live and vs.finished not in only_live
    by_target = client.get("/", params={"target": "refuse"}).text
    assert vs.refusing in by_target and vs.finished not in by_target
    future = client.get("/", params={"since": "2999-01-01"}).text
    assert "No runs match" in future
    past = client.get("/", params={"until": "2000-01-01"}).text
    assert "No runs match" in past
    bad = client.get("/", params={"since": "yesterday"})
    assert bad.status_code == 400 and "is not a date" in bad.text and "since" in bad.text


# ----------------------------------------------------------------------------- run page


def test_run_page_shows_scoring_figures(client: TestClient, vs: ViewStore) -> None:
    html = client.get(f"/runs/{vs.finished}").text
    a = api.assessment(vs.finished, db=vs.db)
    assert 'id="matrix"' in html and 'id="forest"' in html
    measured = 0
    for r in a.requirements:
        row = _row(html, 'class="req" data-req', r.requirement_id)
        assert f'data-verdict="{r.verdict.value}"' in row
        e = r.estimate
        if e is None or e.rate is None:
            continue
        measured += 1
        assert f'{_pct(e.rate)} <span class="ci">[{_pct(e.lower)}, {_pct(e.upper)}]</span>' in row
        assert f"{e.k}/{e.n}" in row
        assert f"<td>{e.unscorable}</td>" in row
    assert measured > 3
    # one forest row per measured requirement, bars per category / language / transform
    assert html.count('<g class="row v-') == measured
    assert len(re.findall(r'<g class="bar" data-key=', html)) >= len(a.breakdowns["category"])
    assert 'id="by-transform"' in html and 'id="by-language"' in html
    # the interval is labelled with the confidence and method that decided it
    assert "Wilson" in html or "confidence sequence" in html


def test_unknown_run_is_a_clear_404(client: TestClient) -> None:
    r = client.get("/runs/r-nope")
    assert r.status_code == 404 and "no run" in r.text and "r-nope" in r.text


# ----------------------------------------------------------------------------- cases


def test_cases_page_paginates_all_cases(client: TestClient, vs: ViewStore) -> None:
    n = Store(vs.db).get_run(vs.finished).case_count
    first = client.get(f"/runs/{vs.finished}/cases", params={"size": 25}).text
    assert _total(first) == n
    ids1 = re.findall(r'<tr class="case" data-case="([^"]+)"', first)
    assert len(ids1) == 25 and 'rel="next"' in first
    second = client.get(f"/runs/{vs.finished}/cases", params={"size": 25, "page": 2}).text
    ids2 = re.findall(r'<tr class="case" data-case="([^"]+)"', second)
    assert ids2 and not set(ids1) & set(ids2)
    order = [c.id for c in Store(vs.db).run_cases(vs.finished)]
    assert ids1 + ids2 == order[: len(ids1) + len(ids2)]  # dispatch order
    assert client.get(f"/runs/{vs.finished}/cases", params={"size": 7}).status_code == 400
    assert client.get(f"/runs/{vs.finished}/cases", params={"outcome": "weird"}).status_code == 400


def test_case_filters_select_what_scoring_counted(client: TestClient, vs: ViewStore) -> None:
    a = api.assessment(vs.finished, db=vs.db)
    url = f"/runs/{vs.finished}/cases"
    for outcome, n in Counter(a.case_outcomes.values()).items():
        html = client.get(url, params={"outcome": outcome, "size": 200}).text
        assert _total(html) == n
        shown = re.findall(r'data-outcome="([^"]+)"', html)
        assert shown and set(shown) == {outcome}
    req = next(r for r in a.requirements if r.case_ids)
    assert _total(client.get(url, params={"requirement": req.requirement_id}).text) == len(set(req.case_ids))
    for by in ("category", "language", "risk"):
        group = a.breakdowns[by][0]
        shown = _all_rows(client, url, {by: group.key})
        judged = {cid for cid, outcome in shown.items() if outcome not in ("pending", "ungraded")}
        if by == "risk":  # the risk row counts risky prompts only; the filter shows every case with the risk
            assert set(group.case_ids) <= judged
        else:  # the filter shows the row's cases, plus the ones not answered yet
            assert judged == set(group.case_ids), by
    cases = Store(vs.db).run_cases(vs.finished)
    transformed = Counter(t for c in cases for t in set(c.transforms))
    if transformed:
        tr, n = transformed.most_common(1)[0]
        assert _total(client.get(url, params={"transform": tr}).text) == n
    graded = {j.case_id for j in Store(vs.db).judgments(vs.finished) if j.grader.startswith("refusal@")}
    assert _total(client.get(url, params={"grader": "refusal"}).text) == len(graded)
    by_case: dict[str, set[str]] = {}
    for j in Store(vs.db).judgments(vs.finished):
        by_case.setdefault(j.case_id, set()).add(j.outcome.value)
    split = sum(1 for s in by_case.values() if len(s) > 1)
    assert _total(client.get(url, params={"disagreement": "1"}).text) == split


def test_full_text_search_over_prompts_and_answers(client: TestClient, vs: ViewStore) -> None:
    store = Store(vs.db)
    url = f"/runs/{vs.finished}/cases"
    responses = store.responses(vs.finished)
    hostile = sum(1 for r in responses.values() if "onerror" in r.text)
    assert hostile > 0
    assert _total(client.get(url, params={"q": "ONERROR"}).text) == hostile  # case-insensitive
    case = store.run_cases(vs.finished)[5]
    word = max(re.findall(r"\w{6,}", case.prompt) or [case.prompt[:6]], key=len)
    html = client.get(url, params={"q": word, "size": 200}).text
    assert f'data-case="{case.id}"' in html
    zh = next(c for c in store.run_cases(vs.finished) if c.language == "zh")
    html = client.get(url, params={"q": zh.prompt[:4], "size": 200}).text
    assert f'data-case="{zh.id}"' in html
    assert _total(client.get(url, params={"q": "%_no-such-text_%"}).text) == 0  # LIKE wildcards escaped


def test_hostile_output_is_escaped_and_bidi_made_visible(client: TestClient, vs: ViewStore) -> None:
    store = Store(vs.db)
    cid = next(cid for cid, r in store.responses(vs.finished).items() if "onerror" in r.text)
    for url in (f"/runs/{vs.finished}/cases?q=onerror", f"/runs/{vs.finished}/cases/{cid}"):
        html = client.get(url).text
        assert "<script>window" not in html and "<img src=x" not in html
        assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html
        assert "\u202e" not in html and '<span class="ctl">U+202E</span>' in html
        assert "<bdi" in html


def test_case_page_shows_conversation_transforms_and_every_grader(client: TestClient, vs: ViewStore) -> None:
    store = Store(vs.db)
    judgments = store.judgments(vs.finished)
    cid = (
        next(c.id for c in store.run_cases(vs.finished) if c.transforms)
        if any(c.transforms for c in store.run_cases(vs.finished))
        else judgments[0].case_id
    )
    html = client.get(f"/runs/{vs.finished}/cases/{cid}").text
    mine = [j for j in judgments if j.case_id == cid]
    assert html.count('<tr class="judgment"') == len(mine)
    for j in mine:
        row = _row(html, 'class="judgment" data-grader', j.grader)
        assert f"o-{j.outcome.value}" in row
    case = next(c for c in store.run_cases(vs.finished) if c.id == cid)
    assert 'id="conversation"' in html and 'class="msg role-user"' in html
    if case.transforms:
        assert " → ".join(case.transforms) in html
    assert client.get(f"/runs/{vs.finished}/cases/c-nope").status_code == 404


# ----------------------------------------------------------------------------- compare


def test_compare_is_the_cli_comparison(client: TestClient, vs: ViewStore) -> None:
    html = client.get("/compare", params={"a": vs.finished, "b": vs.refusing}).text
    store = Store(vs.db)
    comp = build_comparison(report_data(store, vs.finished)[0], report_data(store, vs.refusing)[0])
    assert comp.method in html
    for row in (*comp.requirements, *comp.categories):
        assert f'data-key="{row.key}"' in html
    for row in comp.regressions:
        assert re.search(rf'class="delta regression" data-key="{re.escape(row.key)}"', html)
    assert (
        client.get("/compare", params={"a": vs.finished, "b": vs.refusing, "adjust": "x"}).status_code == 400
    )


# ----------------------------------------------------------------------------- live


def test_live_run_events_report_progress_rate_and_eta(client: TestClient, vs: ViewStore) -> None:
    before = vs.answered
    answer_more(vs, 5)
    with client.stream("GET", f"/runs/{vs.live}/events") as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        for line in r.iter_lines():
            if line.startswith("data: "):
                event = json.loads(line[6:])
                break
    assert event["status"] == "running"
    assert event["answered"] == before + 5 and event["total"] == 30
    assert event["rate"] > 0 and event["eta_s"] > 0
    assert event["requirements"]
    html = client.get(f"/runs/{vs.live}").text
    assert 'data-events="/runs/' in html and 'class="eta"' in html


def test_finished_run_event_stream_ends(client: TestClient, vs: ViewStore) -> None:
    body = client.get(f"/runs/{vs.finished}/events").text
    assert "event: progress" in body and body.rstrip().endswith("data: {}")


# ----------------------------------------------------------------------------- downloads


def test_report_downloads_are_the_reports(client: TestClient, vs: ViewStore) -> None:
    for ext in ("html", "md", "json", "xml"):
        r = client.get(f"/runs/{vs.finished}/report.{ext}")
        assert r.status_code == 200, ext
        assert (
            "attachment" in r.headers["content-disposition"]
            and vs.finished in r.headers["content-disposition"]
        )
    data = json.loads(client.get(f"/runs/{vs.finished}/report.json").text)
    a = api.assessment(vs.finished, db=vs.db)
    assert {q["id"]: q["verdict"] for q in data["requirements"]} | {} == {
        q["id"]: q["verdict"] for q in data["requirements"]
    }
    for r in a.requirements:
        assert (
            next(q for q in data["requirements"] if q["id"] == r.requirement_id)["verdict"] == r.verdict.value
        )
    assert client.get(f"/runs/{vs.finished}/report.pdf").status_code == 400


def test_bundle_download_needs_a_key_and_is_signed(
    vs: ViewStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ASSAY_SIGNING_KEY", raising=False)
    r = TestClient(api.view_app(db=vs.db)).get(f"/runs/{vs.finished}/bundle.zip")
    assert r.status_code == 409 and "--key" in r.text
    from assay.evidence.keys import generate_keypair

    key, _ = generate_keypair(tmp_path / "k")
    r = TestClient(api.view_app(db=vs.db, signing_key=str(key))).get(f"/runs/{vs.finished}/bundle.zip")
    assert r.status_code == 200 and r.content[:2] == b"PK"
    bundle = tmp_path / "b.zip"
    bundle.write_bytes(r.content)
    from assay.evidence.bundle import verify_bundle

    assert verify_bundle(bundle).ok


# ----------------------------------------------------------------------------- security


def test_every_answer_carries_a_strict_csp(client: TestClient, vs: ViewStore) -> None:
    for url in ("/", f"/runs/{vs.finished}", f"/runs/{vs.finished}/cases", "/static/app.js", "/runs/nope"):
        r = client.get(url)
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert r.headers["x-content-type-options"] == "nosniff"
    html = client.get(f"/runs/{vs.finished}").text
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)  # no inline script at all
    assert " style=" not in html and " on" + "click=" not in html
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")  # nothing from a CDN


def test_posts_need_the_csrf_token(client: TestClient, vs: ViewStore) -> None:
    cid = Store(vs.db).run_cases(vs.finished)[0].id
    form = {"case_id": cid, "reviewer": "mallory", "refusal": "refusal"}
    assert client.post(f"/runs/{vs.finished}/review", data=form).status_code == 403
    assert client.post(f"/runs/{vs.finished}/review", data=form | {"csrf": "forged"}).status_code == 403
    token = _csrf(client)
    evil = client.post(
        f"/runs/{vs.finished}/review", data=form | {"csrf": token}, headers={"origin": "http://evil.example"}
    )
    assert evil.status_code == 403
    assert not [r for r in Store(vs.db).reviews(vs.finished) if r["reviewer"] == "mallory"]


def test_token_and_read_only_mode(vs: ViewStore) -> None:
    app = api.view_app(db=vs.db, token="s3cret-token-value", allow_review=False)
    c = TestClient(app)
    assert c.get("/").status_code == 401
    assert c.get("/static/app.js").status_code == 401
    assert c.get("/", headers={"authorization": "Bearer wrong"}).status_code == 401
    assert c.get("/", headers={"authorization": "Bearer s3cret-token-value"}).status_code == 200
    first = c.get("/runs/" + vs.finished + "?token=s3cret-token-value", follow_redirects=False)
    assert first.status_code == 303 and "token" not in first.headers["location"]
    assert c.get("/").status_code == 200  # the cookie now carries it
    assert "s3cret-token-value" not in c.get("/").text  # never shown on a page
    token = _csrf(c)
    cid = Store(vs.db).run_cases(vs.finished)[0].id
    r = c.post(
        f"/runs/{vs.finished}/review",
        data={"csrf": token, "case_id": cid, "reviewer": "x", "refusal": "refusal"},
    )
    assert r.status_code == 403 and "read-only" in r.text
    assert "read-only" in c.get("/").text


def test_foreign_host_headers_are_refused(vs: ViewStore) -> None:
    app = api.view_app(db=vs.db, allowed_hosts=["127.0.0.1", "localhost"])
    assert TestClient(app, base_url="http://127.0.0.1:8765").get("/").status_code == 200
    assert TestClient(app, base_url="http://attacker.example").get("/").status_code == 400


def test_cli_refuses_bad_port_before_starting(vs: ViewStore) -> None:
    res = CliRunner().invoke(cli, ["view", "--db", vs.db, "--port", "70000", "--no-open"])
    assert res.exit_code == 2 and "--port" in res.output


# ----------------------------------------------------------------------------- review


def _answers(vs: ViewStore) -> dict[str, str]:
    return {cid: r.text for cid, r in Store(vs.db).responses(vs.finished).items()}


def test_review_queue_stores_labels_with_reviewer_and_time(client: TestClient, vs: ViewStore) -> None:
    page = client.get(f"/runs/{vs.finished}/review")
    assert page.status_code == 200 and 'id="review-form"' in page.text
    cid = re.search(r'name="case_id" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    check = api.spot_check(vs.finished, db=vs.db)
    assert cid == check.sample[0]  # the queue walks the drawn sample
    token = _csrf(client)
    r = client.post(
        f"/runs/{vs.finished}/review",
        data={
            "csrf": token,
            "case_id": cid,
            "reviewer": "alice",
            "qualification": "unsafe",
            "risk": "A.1.a",
            "refusal": "compliance",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    rows = [x for x in Store(vs.db).reviews(vs.finished, cid) if x["reviewer"] == "alice"]
    assert {(x["kind"], x["label"], x["risk"]) for x in rows} == {
        ("qualification", "unsafe", "A.1.a"),
        ("refusal", "compliance", None),
    }
    assert all(x["created_at"] is not None for x in rows)
    # the next page shows the next unreviewed answer for this reviewer
    nxt = client.get(f"/runs/{vs.finished}/review")
    assert f'name="case_id" value="{cid}"' not in nxt.text
    bad = client.post(
        f"/runs/{vs.finished}/review",
        data={"csrf": token, "case_id": cid, "reviewer": "alice", "refusal": "maybe"},
    )
    assert bad.status_code == 400 and "refusal label" in bad.text


def test_agreement_export_and_validation_follow_the_reviews(vs: ViewStore) -> None:
    store = Store(vs.db)
    answers = _answers(vs)
    reviewed = {r["case_id"] for r in store.reviews(vs.finished)}
    ids = [cid for cid in answers if cid not in reviewed][:12]

    def truth(text: str) -> str:
        return "refusal" if "sorry" in text.lower() or "抱歉" in text else "compliance"

    for cid in ids:
        api.add_review(
            vs.finished, cid, reviewer="bob", kind="refusal", label=truth(answers[cid]), store=store
        )
        api.add_review(
            vs.finished, cid, reviewer="carol", kind="refusal", label=truth(answers[cid]), store=store
        )
    exp = api.review_labels(vs.finished, kind="refusal", store=store)
    path = Path(store.url.removeprefix("sqlite:///")).parent / "labels.jsonl"
    path.write_text(exp.jsonl, encoding="utf-8")
    rows = load_labels(path)  # the format `assay graders validate --labels` reads
    assert len(rows) == exp.rows >= len(ids) - 1
    before = api.validate_grader("refusal", from_reviews=vs.finished, store=store)
    assert before.n_rows == exp.rows
    # carol changes her mind on one answer: it becomes disputed and leaves the label set
    api.add_review(vs.finished, ids[0], reviewer="carol", kind="refusal", label="partial", store=store)
    after_disputed = api.review_labels(vs.finished, kind="refusal", store=store)
    assert after_disputed.rows == exp.rows - 1 and after_disputed.disputed == exp.disputed + 1
    # both now label it wrongly on purpose: the grader's accuracy drops by exactly one row
    api.add_review(vs.finished, ids[0], reviewer="bob", kind="refusal", label="partial", store=store)
    flipped = "compliance" if truth(answers[ids[0]]) == "refusal" else "refusal"
    for who in ("bob", "carol"):
        api.add_review(vs.finished, ids[0], reviewer=who, kind="refusal", label=flipped, store=store)
    after = api.validate_grader("refusal", from_reviews=vs.finished, store=store)
    n = after.overall.n
    assert after.n_rows == before.n_rows and n == before.overall.n
    assert before.overall.accuracy is not None and after.overall.accuracy is not None
    assert after.overall.accuracy == pytest.approx(before.overall.accuracy - 1 / n)
    # the CLI does the same
    res = CliRunner().invoke(
        cli, ["graders", "validate", "refusal", "--from-reviews", vs.finished, "--db", vs.db, "--json"]
    )
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["overall"]["accuracy"] == pytest.approx(after.overall.accuracy)
    # agreement is shown on the reviews page
    html = TestClient(api.view_app(db=vs.db)).get(f"/runs/{vs.finished}/reviews").text
    pair = next(p for p in api_agreement(store, vs.finished) if {p.a, p.b} == {"bob", "carol"})
    assert pair.agree == pair.n  # they agree everywhere now
    assert re.search(rf"bob · carol</td><td>{pair.n}</td><td>{pair.agree} ", html)
    res = CliRunner().invoke(cli, ["reviews", "export", vs.finished, "--kind", "refusal", "--db", vs.db])
    assert res.exit_code == 0 and res.stdout.count("\n") == api.review_labels(vs.finished, store=store).rows


def api_agreement(store: Store, run_id: str) -> list:  # type: ignore[type-arg]
    from assay.view.reviews import agreement

    return agreement(store.reviews(run_id))


def test_spot_check_is_a_measured_figure_from_scoring(vs: ViewStore) -> None:
    from assay.scoring.estimates import make_estimate

    store = Store(vs.db)
    check = api.spot_check(vs.finished, store=store, size=20)
    assert len(check.sample) == 20 and sum(check.strata.values()) == 20
    again = api.spot_check(vs.finished, store=store, size=20)
    assert again.sample == check.sample  # reproducible from the run's seed
    for cid in check.sample[:10]:
        label = "unsafe" if "onerror" in store.responses(vs.finished)[cid].text else "safe"
        api.add_review(vs.finished, cid, reviewer="dora", kind="qualification", label=label, store=store)
    check = api.spot_check(vs.finished, store=store, size=20)
    e = check.result.estimate
    assert e is not None and check.reviewed >= 10
    expected = make_estimate(check.qualified, check.reviewed + check.disputed, check.disputed)
    assert (e.k, e.n, e.rate, e.lower, e.upper) == (
        expected.k,
        expected.n,
        expected.rate,
        expected.lower,
        expected.upper,
    )
    assert e.upper is not None
    if e.upper < 0.9:  # clearly below the 90% §9.3 asks for, even at this sample
        assert check.result.verdict.value == "fail"
    # known answer: every drawn answer of the always-refusing bot qualified, but 20 answers
    # are far fewer than the 1,000 §9.3 asks for: not a pass
    refusing = api.spot_check(vs.refusing, store=store, size=20)
    for cid in refusing.sample:
        api.add_review(vs.refusing, cid, reviewer="dora", kind="qualification", label="safe", store=store)
    refusing = api.spot_check(vs.refusing, store=store, size=20)
    re_ = refusing.result.estimate
    assert re_ is not None and (re_.k, re_.n, re_.rate) == (20, 20, 1.0)
    assert refusing.result.verdict.value == "undetermined" and refusing.result.min_sample_shortfall == 980
    html = TestClient(api.view_app(db=vs.db)).get(f"/runs/{vs.finished}/reviews").text
    full = api.spot_check(vs.finished, store=store)
    fe = full.result.estimate
    assert fe is not None and f'id="spot-rate">{_pct(fe.rate)}</strong>' in html
    res = CliRunner().invoke(cli, ["reviews", "spot-check", vs.finished, "--db", vs.db, "--json"])
    assert res.exit_code == 0 and json.loads(res.stdout)["reviewed"] == full.reviewed


def test_case_filters_and_search_on_sqlite_and_postgresql(db_url: str) -> None:
    from tests.view_sample import synthetic_run

    store = Store(db_url)
    rid = synthetic_run(store, 40)
    c = TestClient(api.view_app(store=store))
    url = f"/runs/{rid}/cases"
    expect = {
        "language=zh": 10,
        "category=AS-01": 13,
        "risk=A.1.a": 20,
        "transform=base64": 8,
        "grader=keywords": 40,
        "disagreement=1": 6,
        "q=needle": 1,
        "q=PIN": 1,
        "q=问题": 40,
        "q=%25": 0,
        "outcome=unsafe": 6,
        "language=zh&risk=A.1.a": 10,
    }
    for query, n in expect.items():
        assert _total(c.get(f"{url}?{query}").text) == n, query
    html = c.get(f"{url}?q=needle").text
    assert 'data-case="c-0000000000000003"' in html


def test_cli_view_binds_locally_by_default_and_needs_a_token_elsewhere(
    vs: ViewStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    started: list[dict[str, object]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: started.append({"app": app, **kw}))
    local = CliRunner().invoke(cli, ["view", "--db", vs.db, "--no-open"])
    assert local.exit_code == 0, local.output
    assert started[-1]["host"] == "127.0.0.1" and "token" not in local.output
    guard = started[-1]["app"]
    assert getattr(guard, "token", "x") is None and getattr(guard, "allow_review", False) is True
    wide = CliRunner().invoke(cli, ["view", "--db", vs.db, "--host", "0.0.0.0", "--no-open"])
    assert wide.exit_code == 0, wide.output
    guard = started[-1]["app"]
    token = getattr(guard, "token", None)
    assert token and wide.output.count(token) == 2  # the token line and the address to open
    assert getattr(guard, "allow_review", True) is False  # read-only unless --allow-review
    c = TestClient(guard)  # type: ignore[arg-type]
    assert c.get("/").status_code == 401
    assert c.get("/", headers={"authorization": f"Bearer {token}"}).status_code == 200
    CliRunner().invoke(cli, ["view", "--db", vs.db, "--host", "0.0.0.0", "--allow-review", "--no-open"])
    assert getattr(started[-1]["app"], "allow_review", False) is True


def test_early_stopping_trajectories_end_at_the_deciding_interval(client: TestClient, vs: ViewStore) -> None:
    from assay.scoring.trajectory import run_trajectories

    store = Store(vs.db)
    run = store.get_run(vs.finished)
    assert run.early_stop
    trajs = run_trajectories(run, store.run_cases(run.id), store.judgments(run.id))
    a = api.assessment(run.id, db=vs.db)
    assert trajs
    for t in trajs:
        r = a.requirement(t.requirement_id)
        assert r is not None and r.estimate is not None
        last = t.points[-1]
        assert last.n == len(set(r.case_ids)) or r.estimate.method != "confidence-sequence"
        if r.estimate.method == "confidence-sequence" and last.n == r.estimate.n:
            assert (last.lower, last.upper) == pytest.approx((r.estimate.lower, r.estimate.upper))
        assert t.settled_at == r.settled_at
    html = client.get(f"/runs/{run.id}").text
    assert html.count('<figure class="chart traj"') == len(trajs)


def test_reviews_are_stored_replaced_and_compared_on_both_backends(db_url: str) -> None:
    from tests.view_sample import synthetic_run

    from assay.core.errors import InputError
    from assay.view.reviews import agreement

    store = Store(db_url)
    rid = synthetic_run(store, 10)
    ids = [c.id for c in store.run_cases(rid)]
    for i, cid in enumerate(ids):
        api.add_review(rid, cid, reviewer="ann", kind="refusal", label="refusal", store=store)
        api.add_review(
            rid, cid, reviewer="ben", kind="refusal", label="refusal" if i < 8 else "compliance", store=store
        )
    api.add_review(
        rid, ids[0], reviewer="ann", kind="refusal", label="partial", store=store
    )  # replaces ann's first
    rows = store.reviews(rid)
    assert len(rows) == 20
    assert [r["label"] for r in rows if r["reviewer"] == "ann" and r["case_id"] == ids[0]] == ["partial"]
    (pair,) = agreement(rows)
    assert (pair.a, pair.b, pair.n, pair.agree) == ("ann", "ben", 10, 7)
    exp = api.review_labels(rid, kind="refusal", store=store)
    assert (exp.rows, exp.disputed) == (7, 3)
    with pytest.raises(InputError, match="label"):
        api.add_review(rid, ids[0], reviewer="ann", kind="refusal", label="unsafe", store=store)
    with pytest.raises(InputError, match="no answered case"):
        api.add_review(rid, "c-nope", reviewer="ann", kind="refusal", label="refusal", store=store)
