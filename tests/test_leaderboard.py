"""The leaderboard: submissions validated and re-scored from predictions (never from their numbers), escaping,
file names that cannot leave the submissions folder, same-name submissions, the paired test and the CLI.

Runs on a small copy of ct_tumor (6 cases) registered at run time, so every stage and metric of the real task
is exercised in seconds."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.errors import HarnessError
from harness.evaluate import RunSpec, evaluate
from harness.registry import TASKS
from tasks.ct_tumor.task import CTTumorTask

SMALL = "lb_ct_small"
N_CASES = 6
EVIL = "<script>alert(1)</script>"


class SmallCT(CTTumorTask):
    """ct_tumor on 6 cases: the whole protocol, quickly."""

    name = SMALL

    def __init__(self, overrides=None):
        super().__init__({"splits": {"test": {"n_cases": N_CASES, "seed": 1000}}, **(overrides or {})})


@pytest.fixture(scope="module")
def small_task(harness_cache):
    TASKS.register(SMALL, SmallCT)
    yield SMALL
    TASKS.unregister(SMALL)


@pytest.fixture(scope="module")
def runs(small_task, tmp_path_factory) -> dict[str, Path]:
    """Run directories of three baselines on the small task."""
    root = tmp_path_factory.mktemp("runs")
    out = {}
    for name in ("oracle", "template", "hallucinator"):
        out[name] = root / name
        evaluate(RunSpec(model=f"baseline:{name}", task=SMALL, n_boot=200), out[name])
    return out


@pytest.fixture()
def subs_dir(tmp_path) -> Path:
    d = tmp_path / "submissions"
    d.mkdir()
    return d


def _submit(run_dir: Path, subs: Path, **kw) -> Path:
    from leaderboard.submit import submission_from_run, write_submission

    file_name = kw.pop("file_name", None)
    replace = kw.pop("replace", False)
    return write_submission(submission_from_run(run_dir, **kw), subs, file_name=file_name, replace=replace)


def _obj(path: Path) -> dict:
    return json.loads(path.read_text())


def _build(subs: Path, out: Path, **kw):
    from leaderboard.site import build_site

    kw.setdefault("n_boot", 100)
    kw.setdefault("n_resamples", 500)
    kw.setdefault("workers", 1)
    kw.setdefault("samples_per_model", 2)
    kw.setdefault("tasks", [SMALL])
    return build_site(subs, out, **kw)


# -- submitting ----------------------------------------------------------------------------------------------
def test_submit_packs_every_request_once(runs, subs_dir):
    from leaderboard.schema import load_submission

    path = _submit(runs["oracle"], subs_dir, name="Oracle", url="https://example.org/m", organisation="Lab")
    assert path == subs_dir / SMALL / "oracle.json"
    sub = load_submission(path)
    assert sub.n_cases == N_CASES and sub.task == SMALL and sub.model.model_id == "baseline:oracle"
    kinds = {(p.case_id, p.kind) for p in sub.predictions}
    assert len(kinds) == len(sub.predictions)  # each request once
    assert {k for _, k in kinds} >= {"report"}
    assert all(p.text for p in sub.predictions)
    assert "images" not in path.read_text()  # predictions only


def test_submit_refuses_a_partial_run(small_task, tmp_path, subs_dir):
    run = tmp_path / "partial"
    evaluate(RunSpec(model="baseline:oracle", task=SMALL, limit=2, n_boot=0), run)
    with pytest.raises(HarnessError, match=r"predictions\.jsonl: \d+ of the test split's requests have no prediction"):
        _submit(run, subs_dir)


def test_submit_refuses_a_run_with_other_task_settings(small_task, tmp_path, subs_dir):
    run = tmp_path / "n16"
    evaluate(RunSpec(model="baseline:template", task=SMALL, task_options={"views": {"n_axial": 16}}, n_boot=0), run)
    with pytest.raises(HarnessError, match=r"results\.json: field 'task_version'"):
        _submit(run, subs_dir)


def test_submit_refuses_a_directory_that_is_not_a_run(tmp_path, subs_dir):
    with pytest.raises(HarnessError, match=r"run\.json: not found"):
        _submit(tmp_path, subs_dir)


# -- schema ----------------------------------------------------------------------------------------------------
def _mutations():
    def nan_claim(o):
        o["claimed_metrics"]["bleu1"] = float("nan")

    def dup_case(o):
        o["predictions"].append(dict(o["predictions"][0]))

    def wrong_format(o):
        o["format"] = "something-else/9"

    def no_model(o):
        del o["model"]

    def js_url(o):
        o["model"]["url"] = "javascript:alert(1)"

    def control_char(o):
        o["model"]["name"] = "bad\x00name"

    def extra_field(o):
        o["scores"] = {"bleu1": 1.0}

    def n_cases_lie(o):
        o["n_cases"] = N_CASES + 1

    def traversal_task(o):
        o["task"] = "../../etc"

    def negative_temperature(o):
        o["sampling"]["temperature"] = -1

    return [(nan_claim, r"field 'claimed_metrics\.bleu1': .*finite"),
            (dup_case, r"duplicate case id"),
            (wrong_format, r"field 'format'"),
            (no_model, r"field 'model': Field required"),
            (js_url, r"field 'model\.url': url must be an http"),
            (control_char, r"field 'model\.name': name contains a control character"),
            (extra_field, r"field 'scores': Extra inputs are not permitted"),
            (n_cases_lie, r"field 'n_cases': 7 cases, but the predictions cover 6"),
            (traversal_task, r"field 'task'"),
            (negative_temperature, r"field 'sampling\.temperature'")]


@pytest.mark.parametrize("mutate,reason", _mutations(), ids=lambda v: getattr(v, "__name__", "reason"))
def test_malformed_submissions_are_rejected_with_the_reason(runs, subs_dir, tmp_path, mutate, reason):
    from leaderboard.schema import load_submission

    obj = _obj(_submit(runs["template"], subs_dir))
    mutate(obj)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(obj))  # json writes NaN as NaN, as a hand edit would
    with pytest.raises(HarnessError, match=reason) as info:
        load_submission(bad)
    assert str(bad) in str(info.value) and "\n" not in str(info.value)


def test_not_json_is_rejected_with_the_position(tmp_path):
    from leaderboard.schema import load_submission

    bad = tmp_path / "x.json"
    bad.write_text('{"format": ')
    with pytest.raises(HarnessError, match=r"x\.json: not valid JSON \(.* at line 1"):
        load_submission(bad)


@pytest.mark.parametrize("field,value,reason", [
    ("task_version", "0.9+deadbeef", r"field 'task_version': '0\.9\+deadbeef' does not match"),
    ("data_hash", "0000000000000000", r"field 'data_hash'"),
    ("split", "train", r"field 'split': the leaderboard ranks the 'test' split"),
])
def test_submissions_for_another_task_version_or_data_are_rejected(runs, subs_dir, field, value, reason):
    from leaderboard.rescore import TaskContext, map_predictions
    from leaderboard.schema import parse_submission

    obj = _obj(_submit(runs["template"], subs_dir))
    obj[field] = value
    with pytest.raises(HarnessError, match=reason):
        map_predictions(parse_submission(obj, "sub.json"), TaskContext.load(SMALL), "sub.json")


def test_missing_and_unknown_predictions_are_rejected(runs, subs_dir):
    from leaderboard.rescore import TaskContext, map_predictions
    from leaderboard.schema import parse_submission

    ctx = TaskContext.load(SMALL)
    obj = _obj(_submit(runs["template"], subs_dir))
    dropped = dict(obj, predictions=[p for p in obj["predictions"] if p["kind"] != "report" or
                                     p["case_id"] != obj["predictions"][0]["case_id"]])
    with pytest.raises(HarnessError, match=r"field 'predictions': 1 requests have no prediction \(first: .*/report\)"):
        map_predictions(parse_submission(dropped, "s.json"), ctx, "s.json")
    renamed = json.loads(json.dumps(obj))
    first = obj["predictions"][0]["case_id"]
    for p in renamed["predictions"]:
        p["case_id"] = "ct-test-9999" if p["case_id"] == first else p["case_id"]
    with pytest.raises(HarnessError, match=r"'ct-test-9999' is not a case of the test split"):
        map_predictions(parse_submission(renamed, "s.json"), ctx, "s.json")
    extra = json.loads(json.dumps(obj))
    extra["predictions"].append({"case_id": obj["predictions"][0]["case_id"], "kind": "bonus", "text": "x"})
    with pytest.raises(HarnessError, match=r"1 predictions answer no request of the task \(first: .*/bonus\)"):
        map_predictions(parse_submission(extra, "s.json"), ctx, "s.json")


# -- re-scoring ----------------------------------------------------------------------------------------------
def test_tampered_scores_are_rescored_to_their_true_values(runs, subs_dir, tmp_path):
    from leaderboard.rescore import TaskContext, rescore
    from leaderboard.schema import load_submission

    path = _submit(runs["template"], subs_dir, name="Template")
    obj = _obj(path)
    true = {k: v["value"] for k, v in json.loads((runs["template"] / "results.json").read_text())["metrics"].items()}
    obj["claimed_metrics"] = {k: 1.0 for k in obj["claimed_metrics"]}  # edited by hand
    path.write_text(json.dumps(obj))
    result = rescore(load_submission(path), TaskContext.load(SMALL), str(path), n_boot=50)
    for name, value in true.items():
        got = result.metrics[name]["value"]
        assert (got is None and value is None) or math.isclose(got, value, abs_tol=1e-12), name
    assert any(v is not None and v < 1.0 for v in true.values())  # the edit changed something

    report = _build(subs_dir, tmp_path / "site")
    assert report.ranked == {SMALL: 1}
    html = (tmp_path / "site" / SMALL / "models" / "template.html").read_text()
    assert "claimed in the file" in html and "differ from its re-scored values" in html
    low = min((k for k, v in true.items() if v is not None), key=lambda k: true[k])
    row = html.split(f'data-metric="{low}"', 1)[1].split("</tr>", 1)[0]
    assert f"{true[low]:.3f}" in row  # the re-scored value is shown, the claimed 1.0 only as the claim


def test_edited_predictions_change_the_scores(runs, subs_dir):
    """The numbers follow the predictions: swap in the oracle's answers and the template's file scores as the
    oracle."""
    from leaderboard.rescore import TaskContext, rescore
    from leaderboard.schema import parse_submission

    ctx = TaskContext.load(SMALL)
    template = _obj(_submit(runs["template"], subs_dir, name="T"))
    oracle = _obj(_submit(runs["oracle"], subs_dir, name="O"))
    template["predictions"] = oracle["predictions"]
    a = rescore(parse_submission(template, "t"), ctx, "t", n_boot=0).metrics
    b = rescore(parse_submission(oracle, "o"), ctx, "o", n_boot=0).metrics
    assert {k: v["value"] for k, v in a.items()} == {k: v["value"] for k, v in b.items()}


def test_paired_randomization():
    from leaderboard.rescore import paired_randomization

    same = paired_randomization([0.5, 0.2, 0.9, 0.1], [0.5, 0.2, 0.9, 0.1], "m", n_resamples=999)
    assert same.p_value == 1.0 and same.diff == 0.0
    a = [1.0] * 30
    b = [0.0] * 30
    t = paired_randomization(a, b, "m", n_resamples=999, seed=1)
    assert t.p_value == pytest.approx(1 / 1000) and t.diff == 1.0 and t.n == 30
    assert paired_randomization(a, b, "m", n_resamples=999, seed=1) == t  # seeded
    assert paired_randomization([None, 1.0], [0.0, None], "m") is None  # no pair to compare


# -- the site ----------------------------------------------------------------------------------------------------
@pytest.fixture()
def site(runs, subs_dir, tmp_path):
    for name in ("oracle", "template", "hallucinator"):
        _submit(runs[name], subs_dir, name=f"baseline:{name}")
    _submit(runs["template"], subs_dir, name=EVIL, organisation="<img src=x onerror=alert(2)>",
            description="<b>bold</b> & \"quoted\"", url="https://example.org/?a=1&b=<x>")
    report = _build(subs_dir, tmp_path / "site")
    return tmp_path / "site", report


def test_site_ranks_every_submission_by_the_primary_metric(site):
    from leaderboard.rescore import TaskContext

    root, report = site
    assert report.ranked == {SMALL: 4} and not report.rejected
    index = (root / "index.html").read_text()
    ctx = TaskContext.load(SMALL)
    rows = index.split("<tbody>", 1)[1].split("</tbody>", 1)[0].split("<tr ")[1:]
    assert len(rows) == 4
    for page in (root / SMALL / "models").glob("*.html"):
        assert page.stat().st_size > 0
    # rows come in the order of the primary column, best first
    primary = ctx.primary_output([o for o in ctx.outputs])
    assert primary == "grounding_score"  # ct_tumor ranks on it
    head = index.split("<thead>", 1)[1].split("</thead>", 1)[0]
    col = [h.split('data-col="', 1)[1].split('"', 1)[0] for h in head.split("<th ")[3:]].index(primary)
    assert col == 0  # the ranking column comes first
    values = []
    for r in rows:
        cells = r.split("<td")[3:]  # rank, model, then one cell per metric
        values.append(float(cells[col].split('data-sort="', 1)[1].split('"', 1)[0] or "nan"))
    sign = -1 if ctx.outputs[primary].higher_is_better else 1
    assert values == sorted(values, key=lambda v: sign * v)
    assert "<svg" in (root / SMALL / "index.html").read_text()  # metrics against BLEU
    assert (root / ".leaderboard-site").exists() and list((root / SMALL / "img").glob("*.png"))


def test_user_text_is_escaped_everywhere(site):
    root, _ = site
    pages = [root / "index.html", root / SMALL / "index.html", *(root / SMALL / "models").glob("*.html")]
    for page in pages:
        html = page.read_text()
        assert EVIL not in html and "<img src=x" not in html and "<b>bold</b>" not in html
        assert html.count("<script>") == 1  # ours, allowed by its hash in the CSP
        assert "script-src &#39;sha256-" in html  # the attribute is escaped too
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in (root / "index.html").read_text()
    evil_page = next(p for p in (root / SMALL / "models").glob("*.html") if "&lt;script&gt;" in p.read_text())
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &#34;quoted&#34;" in evil_page.read_text()
    assert 'href="https://example.org/?a=1&amp;b=&lt;x&gt;"' in evil_page.read_text()


def test_model_pages_show_the_key_slice_and_findings(site):
    root, _ = site
    page = (root / SMALL / "models" / "baseline-oracle.html").read_text()
    assert '<img src="../img/' in page and "reference tumor outline" in page
    img = page.split('<img src="../img/', 1)[1].split('"', 1)[0]
    assert (root / SMALL / "img" / img).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    try:
        import harness.findings.extract  # noqa: F401
    except ImportError:
        assert "finding extraction is not available" in page
    else:
        assert 'class="grounded"' in page
        assert 'class="ungrounded"' in (root / SMALL / "models" / "baseline-hallucinator.html").read_text()


def test_a_rebuild_replaces_the_site_and_refuses_foreign_folders(site, subs_dir, tmp_path):
    root, _ = site
    stale = root / SMALL / "models" / "gone.html"
    stale.write_text("old")
    _build(subs_dir, root)
    assert not stale.exists()
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    with pytest.raises(HarnessError, match="is not a leaderboard site"):
        _build(subs_dir, foreign)
    assert (foreign / "notes.txt").exists()


# -- file names, same names ---------------------------------------------------------------------------------------
def test_file_names_cannot_escape_the_submissions_folder(runs, subs_dir, tmp_path):
    path = _submit(runs["template"], subs_dir, name="../../../etc/passwd")
    assert path.parent == subs_dir / SMALL and path.name == "etc-passwd.json"
    for bad in ("../x", "a/b", "..", ".hidden", "x/../../y", "/abs"):
        with pytest.raises(HarnessError, match="must be a bare name"):
            _submit(runs["oracle"], subs_dir, name=f"n{bad}", file_name=bad)
    assert not (tmp_path / "x.json").exists()
    # a link planted in the folder that points out of it is not read
    outside = tmp_path / "outside.json"
    outside.write_text(path.read_text())
    (subs_dir / SMALL / "link.json").symlink_to(outside)
    report = _build(subs_dir, tmp_path / "site")
    assert any(r.file == f"{SMALL}/link.json" and "not a plain file inside" in r.reason for r in report.rejected)
    assert report.ranked == {SMALL: 1}


def test_same_name_is_refused_and_hand_added_twins_are_told_apart(runs, subs_dir, tmp_path):
    from leaderboard.rescore import TaskContext  # noqa: F401

    first = _submit(runs["oracle"], subs_dir, name="My Model")
    with pytest.raises(HarnessError, match="a submission named 'my  model' already exists"):
        _submit(runs["template"], subs_dir, name="my  model", file_name="other")
    assert _submit(runs["template"], subs_dir, name="My Model", replace=True) == first  # replace: same file
    twin = subs_dir / SMALL / "twin.json"
    twin.write_text(first.read_text())  # added by hand, bypassing `harness submit`
    report = _build(subs_dir, tmp_path / "site")
    assert report.ranked == {SMALL: 2}
    index = (tmp_path / "site" / "index.html").read_text()
    assert "My Model [my-model]" in index and "My Model [twin]" in index


def test_rejected_files_are_listed_with_their_reason(runs, subs_dir, tmp_path):
    good = _submit(runs["oracle"], subs_dir, name="Good")
    obj = _obj(good)
    obj["task_version"] = "0.0+stale"
    obj["model"]["name"] = "Stale <b>"
    (subs_dir / SMALL / "stale.json").write_text(json.dumps(obj))
    (subs_dir / SMALL / "Upper.json").write_text(good.read_text())
    report = _build(subs_dir, tmp_path / "site")
    reasons = {r.file: r.reason for r in report.rejected}
    assert "does not match the task's version" in reasons[f"{SMALL}/stale.json"]
    assert "lower-case" in reasons[f"{SMALL}/Upper.json"]
    index = (tmp_path / "site" / "index.html").read_text()
    assert "Rejected submissions" in index and "stale.json" in index


def test_score_cache_hits_give_the_same_site(runs, subs_dir, tmp_path):
    _submit(runs["oracle"], subs_dir, name="A")
    _submit(runs["hallucinator"], subs_dir, name="B")
    cache = tmp_path / "cache"
    cold = _build(subs_dir, tmp_path / "s1", score_cache=cache)
    warm = _build(subs_dir, tmp_path / "s2", score_cache=cache)
    assert cold.scored == 2 and warm.scored == 0
    strip = lambda p: p.read_text().split("</header>", 1)[1]  # noqa: E731 - the header has the build time
    for rel in ("index.html", f"{SMALL}/index.html", f"{SMALL}/models/a.html"):
        assert strip(tmp_path / "s1" / rel) == strip(tmp_path / "s2" / rel)
    # an edited file is a cache miss
    p = subs_dir / SMALL / "a.json"
    obj = _obj(p)
    report = next(x for x in obj["predictions"] if x["kind"] == "report")
    report["text"] = report["text"].replace("<report>", "<report>Edited. ", 1)
    p.write_text(json.dumps(obj))
    assert _build(subs_dir, tmp_path / "s3", score_cache=cache).scored >= 1


def test_primary_metric_is_read_from_the_task(runs, subs_dir, tmp_path):
    from leaderboard.rescore import TaskContext

    ctx = TaskContext.load(SMALL)
    outputs = list(ctx.outputs)
    ctx.primary_declared = outputs[-1]
    assert ctx.primary_output() == outputs[-1]
    ctx.primary_declared = ctx.outputs[outputs[0]].metric  # a metric name: its first output
    assert ctx.primary_output() == outputs[0]
    ctx.primary_declared = "no_such_metric"
    assert ctx.primary_output() == outputs[0]  # fallback: the first metric
    assert ctx.primary_output(available=outputs[2:]) == outputs[2]


# -- the committed baselines -------------------------------------------------------------------------------------
def test_committed_baseline_submissions_match_the_current_tasks():
    """A fresh clone builds a non-empty leaderboard only if the pre-submitted baselines still fit their task;
    after changing a task's settings or data, run `python -m leaderboard.make_baseline_submissions`."""
    from leaderboard import DEFAULT_SUBMISSIONS
    from leaderboard.rescore import TaskContext, check_header
    from leaderboard.schema import load_submission

    files = sorted(DEFAULT_SUBMISSIONS.glob("*/*.json"))
    assert any(f.parent.name == "ct_tumor" for f in files)
    contexts: dict[str, TaskContext] = {}
    for f in files:
        sub = load_submission(f)
        assert sub.model.organisation == "emrl-harness (built-in baseline)"
        ctx = contexts.setdefault(f.parent.name, TaskContext.load(f.parent.name))
        check_header(sub, ctx, str(f))  # the request-by-request check is tested above on the small task
        assert f.stat().st_size < 1_000_000


# -- the CLI -------------------------------------------------------------------------------------------------
def test_cli_submit_build_and_one_line_errors(runs, subs_dir, tmp_path):
    from leaderboard.cli import app

    runner = CliRunner()
    r = runner.invoke(app, ["submit", str(runs["oracle"]), "--submissions", str(subs_dir), "--name", "CLI model"])
    assert r.exit_code == 0, r.output
    assert (subs_dir / SMALL / "cli-model.json").exists()
    assert "next:" in r.output and "harness leaderboard check" in r.output and "pull request" in r.output
    r = runner.invoke(app, ["submit", str(runs["oracle"]), "--submissions", str(subs_dir), "--name", "CLI model"])
    assert r.exit_code == 2 and "already exists" in r.output and "Traceback" not in r.output
    r = runner.invoke(app, ["build", "--submissions", str(subs_dir), "--out", str(tmp_path / "site"), "--task", SMALL,
                            "--bootstrap", "50", "--resamples", "200", "--no-cache", "--workers", "1"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "site" / "index.html").exists() and f"{SMALL}: 1 ranked" in r.output
    r = runner.invoke(app, ["check", str(subs_dir / SMALL / "cli-model.json"), "--bootstrap", "20"])
    assert r.exit_code == 0 and "re-scored" in r.output
    r = runner.invoke(app, ["build", "--submissions", str(tmp_path / "nowhere"), "--out", str(tmp_path / "s")])
    assert r.exit_code == 2 and "no submissions folder" in r.output


def test_submit_command_is_a_plain_typer_command():
    """The lead wires it as `app.command("submit")(submit_command)` into the harness CLI."""
    import typer

    from leaderboard.cli import submit_command

    app = typer.Typer()
    app.command("submit")(submit_command)
    app.command("other")(lambda: None)
    r = CliRunner().invoke(app, ["submit", "--help"])
    assert r.exit_code == 0 and "run_dir" in r.output.lower() and "--replace" in r.output


if os.environ.get("EMRL_LB_DEBUG"):  # pragma: no cover
    print(Path(__file__))


def test_a_task_that_cannot_load_rejects_its_files_only(runs, subs_dir, tmp_path):
    class Broken(SmallCT):
        name = "lb_broken"

        def load(self, *args, **kwargs):
            raise HarnessError("lb_broken: its data is not on this machine")

    good = _submit(runs["oracle"], subs_dir, name="Good")
    (subs_dir / "lb_broken").mkdir()
    (subs_dir / "lb_broken" / "x.json").write_text(good.read_text())
    TASKS.register("lb_broken", Broken)
    try:
        report = _build(subs_dir, tmp_path / "site", tasks=None)
    finally:
        TASKS.unregister("lb_broken")
    assert report.ranked == {SMALL: 1}
    assert [r.reason for r in report.rejected if r.file == "lb_broken/x.json"] == [
        "task 'lb_broken' could not be loaded: lb_broken: its data is not on this machine"]
    assert "its data is not on this machine" in (tmp_path / "site" / "index.html").read_text()


# -- the grouped default view --------------------------------------------------------------------------------------
def test_default_table_shows_the_score_and_one_headline_per_group(site):
    root, _ = site
    index = (root / "index.html").read_text()
    head = index.split("<thead>", 1)[1].split("</thead>", 1)[0]
    shown = [h for h in head.split("<th ")[1:] if " detail " not in h and "detail g-" not in h]
    names = [h.split('data-col="', 1)[1].split('"', 1)[0] for h in shown]
    assert names == ["rank", "model", "grounding_score", "finding_f1", "key_slice_hit", "balanced_accuracy",
                     "rouge_l", "p_next"]
    for group in ("clinical", "evidence", "robustness", "text"):
        assert f'data-group="{group}" aria-expanded="false"' in index  # each group opens to its columns
    task_page = (root / SMALL / "index.html").read_text()
    assert "open-clinical" in task_page and task_page.count('class="profile"') == 4  # all columns, one chart each
    model_page = next((root / SMALL / "models").glob("*.html")).read_text()
    assert 'class="profile"' in model_page and 'class="bar"' in model_page


def test_counts_are_shown_as_counts():
    from leaderboard.groups import column_groups, is_count
    from leaderboard.rescore import OutputInfo

    cols = [OutputInfo(n, "grounding", "", True, "") for n in ("miou", "acc_iou50", "unparseable")]
    assert is_count(cols[2]) and not is_count(cols[0])
    (evidence,) = column_groups(cols, primary="grounding_score")
    assert evidence.spec.key == "evidence" and evidence.headline.name == "miou"
