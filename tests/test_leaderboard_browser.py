"""The leaderboard site in a real browser: headless Chromium (Debian's package) driven by Selenium with the system
chromedriver, pages opened from file:// with no server.

Checks that the table renders, that clicking a column header re-sorts the rows, that a model page opens from
the table, and that a model named ``<script>alert(1)</script>`` shows as text and runs nothing; on the committed
baseline submissions of ct_tumor and cxr_report, that the oracle ranks first and the acquiescent, hallucinator and
template baselines strictly below, that the default table is grouped (one headline per group, each group opening
to its columns) and that a 1366 px wide first screen shows rank, model and every headline without scrolling
sideways. A screenshot of
the main page goes to ``$HARNESS_ARTIFACTS`` (or the test's temporary folder).

Needs: ``apt-get install -y chromium chromium-driver`` and ``pip install selenium``; skipped otherwise.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.evaluate import RunSpec, evaluate
from harness.registry import TASKS
from tasks.ct_tumor.task import CTTumorTask

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SMALL = "lb_ct_browser"
EVIL = "<script>alert(1)</script>"

if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install -y chromium chromium-driver)", allow_module_level=True)
if not CHROMEDRIVER.exists():
    pytest.skip(f"{CHROMEDRIVER} is not installed (apt-get install -y chromium-driver)", allow_module_level=True)
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install selenium)")

from selenium.common.exceptions import NoAlertPresentException  # noqa: E402
from selenium.webdriver.chrome.options import Options  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402


class BrowserCT(CTTumorTask):
    """ct_tumor on 5 cases."""

    name = SMALL

    def __init__(self, overrides=None):
        super().__init__({"splits": {"test": {"n_cases": 5, "seed": 1000}}, **(overrides or {})})


@pytest.fixture(scope="module")
def site(harness_cache, tmp_path_factory) -> Path:
    from leaderboard.site import build_site
    from leaderboard.submit import submission_from_run, write_submission

    TASKS.register(SMALL, BrowserCT)
    try:
        root = tmp_path_factory.mktemp("lb-browser")
        subs = root / "submissions"
        for baseline, name, org in (("oracle", "baseline:oracle", None), ("template", "baseline:template", None),
                                    ("hallucinator", "baseline:hallucinator", None),
                                    ("template", EVIL, "<img src=x onerror=alert(2)>")):
            run = root / "runs" / f"{baseline}-{len(name)}"
            evaluate(RunSpec(model=f"baseline:{baseline}", task=SMALL, n_boot=0), run)
            write_submission(submission_from_run(run, name=name, organisation=org), subs)
        build_site(subs, root / "site", n_boot=100, n_resamples=500, workers=1, samples_per_model=2, tasks=[SMALL])
        yield root / "site"
    finally:
        TASKS.unregister(SMALL)


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    os.environ["SE_OFFLINE"] = "true"  # selenium-manager must never fetch anything
    opts = Options()
    opts.binary_location = str(CHROMIUM)
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1400,1000"):
        opts.add_argument(arg)
    opts.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=opts)
    d.set_page_load_timeout(30)
    yield d
    d.quit()


def _no_alert(d) -> bool:
    try:
        d.switch_to.alert
    except NoAlertPresentException:
        return True
    return False


def _rows(d) -> list:
    return d.find_elements(By.CSS_SELECTOR, f"table#table-{SMALL} tbody tr")


def _column_values(d, col: int) -> list[float | None]:
    return d.execute_script(
        "return Array.from(arguments[0].tBodies[0].rows).map(r => {"
        " const v = r.cells[arguments[1]].getAttribute('data-sort');"
        " return v === null || v === '' ? null : parseFloat(v); });",
        d.find_element(By.ID, f"table-{SMALL}"), col)


def _csp_errors(d) -> list[str]:
    return [e["message"] for e in d.get_log("browser") if "Content Security Policy" in e["message"]
            or "Refused" in e["message"]]


def test_table_renders_and_a_screenshot_is_saved(site, driver, tmp_path):
    driver.get((site / "index.html").as_uri())
    rows = _rows(driver)
    assert len(rows) == 4
    assert [r.find_element(By.TAG_NAME, "td").text for r in rows][0] == "1"
    headers = driver.find_elements(By.CSS_SELECTOR, f"table#table-{SMALL} thead th")
    assert headers[0].text.startswith("Rank") and headers[1].text == "Model" and len(headers) > 3
    assert not _csp_errors(driver)
    out = Path(os.environ.get("HARNESS_ARTIFACTS") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    shot = out / "leaderboard_index.png"
    driver.save_screenshot(str(shot))
    assert shot.stat().st_size > 1000


def test_clicking_a_header_resorts_the_rows(site, driver):
    driver.get((site / "index.html").as_uri())
    headers = driver.find_elements(By.CSS_SELECTOR, f"table#table-{SMALL} thead th")
    before = [r.get_attribute("data-sid") for r in _rows(driver)]
    # a metric column whose order is not the current one: any metric will do, none is named here
    target = None
    for col, th in enumerate(headers):
        if not th.is_displayed():  # a closed group's column
            continue
        if th.get_attribute("data-type") != "num" or th.get_attribute("data-col") in ("rank", "p_next"):
            continue
        values = _column_values(driver, col)
        known = [v for v in values if v is not None]
        best_first = sorted(known, reverse=th.get_attribute("data-better") == "higher")
        if len(set(known)) > 1 and known != best_first:
            target = (col, th)
            break
    assert target is not None, "no metric column ordered differently from the ranking"
    col, th = target
    th.click()
    after_values = _column_values(driver, col)
    known = [v for v in after_values if v is not None]
    higher = th.get_attribute("data-better") == "higher"
    assert known == sorted(known, reverse=higher)
    assert after_values[len(known):] == [None] * (len(after_values) - len(known))  # not-run rows last
    assert th.get_attribute("aria-sort") == ("descending" if higher else "ascending")
    after = [r.get_attribute("data-sid") for r in _rows(driver)]
    assert after != before and sorted(after) == sorted(before)
    th.click()  # the other direction
    again = [v for v in _column_values(driver, col) if v is not None]
    assert again == sorted(again, reverse=not higher)
    # text column: by model name
    headers[1].click()
    names = [r.find_elements(By.TAG_NAME, "td")[1].find_element(By.TAG_NAME, "a").text.lower() for r in _rows(driver)]
    assert names == sorted(names)
    # back to the ranking: one click (ascending first: rank 1 is best)
    headers[0].click()
    ranks = [int(r.find_element(By.TAG_NAME, "td").text) for r in _rows(driver)]
    assert ranks == sorted(ranks)


def test_a_model_page_opens_from_the_table(site, driver):
    driver.get((site / "index.html").as_uri())
    link = driver.find_element(By.CSS_SELECTOR, f"table#table-{SMALL} tbody tr a.model")
    name = link.text
    link.click()
    assert driver.find_element(By.CSS_SELECTOR, "h1.model-name").text == name
    assert driver.current_url.endswith(".html") and "/models/" in driver.current_url
    images = driver.execute_script("return Array.from(document.images).map(i => [i.complete, i.naturalWidth]);")
    assert images and all(ok and width > 0 for ok, width in images)  # key slices load from file://
    assert driver.find_elements(By.CSS_SELECTOR, ".model-report")
    assert not _csp_errors(driver)


def test_a_script_in_a_model_name_shows_as_text(site, driver):
    driver.get((site / "index.html").as_uri())
    assert _no_alert(driver)
    names = [a.text for a in driver.find_elements(By.CSS_SELECTOR, f"table#table-{SMALL} a.model")]
    assert EVIL in names
    assert driver.execute_script("return document.scripts.length") == 1
    link = next(a for a in driver.find_elements(By.CSS_SELECTOR, f"table#table-{SMALL} a.model") if a.text == EVIL)
    link.click()
    assert _no_alert(driver)
    assert driver.find_element(By.CSS_SELECTOR, "h1.model-name").text == EVIL
    assert "<img src=x onerror=alert(2)>" in driver.find_element(By.TAG_NAME, "body").text
    assert driver.execute_script("return document.scripts.length") == 1
    assert not driver.find_elements(By.CSS_SELECTOR, "main img[src='x']")


def test_task_page_has_charts(site, driver):
    driver.get((site / SMALL / "index.html").as_uri())
    assert len(_rows(driver)) == 4
    charts = driver.find_elements(By.CSS_SELECTOR, "figure.chart svg")
    assert charts and charts[0].find_elements(By.CSS_SELECTOR, "circle")


# -- the committed baselines on the real tasks ----------------------------------------------------------------------
REAL_TASKS = ("ct_tumor", "cxr_report")
HEADLINES = {"ct_tumor": ["grounding_score", "finding_f1", "key_slice_hit", "balanced_accuracy", "rouge_l"],
             "cxr_report": ["grounding_score", "finding_f1", "balanced_accuracy", "rouge_l"]}


@pytest.fixture(scope="module")
def baseline_site(harness_cache, tmp_path_factory) -> Path:
    from leaderboard import DEFAULT_SUBMISSIONS
    from leaderboard.site import build_site

    out = tmp_path_factory.mktemp("lb-baselines") / "site"
    build_site(DEFAULT_SUBMISSIONS, out, n_boot=200, n_resamples=500, samples_per_model=1, tasks=list(REAL_TASKS))
    return out


def _ranks(d, task: str) -> dict[str, int]:
    return {r.find_elements(By.TAG_NAME, "td")[1].find_element(By.TAG_NAME, "a").text:
            int(r.find_element(By.TAG_NAME, "td").text)
            for r in d.find_elements(By.CSS_SELECTOR, f"table#table-{task} tbody tr")}


@pytest.mark.parametrize("task", REAL_TASKS)
def test_oracle_ranks_first_and_the_failing_baselines_strictly_below(baseline_site, driver, task):
    driver.get((baseline_site / "index.html").as_uri())
    ranks = _ranks(driver, task)
    assert ranks["baseline:oracle"] == 1
    for name in ("baseline:acquiescent", "baseline:hallucinator", "baseline:template"):
        assert ranks[name] > 1, ranks
    first = driver.find_element(By.CSS_SELECTOR, f"table#table-{task} tbody tr td a.model").text
    assert first == "baseline:oracle"


@pytest.mark.parametrize("task", REAL_TASKS)
def test_default_view_is_grouped_and_fits_1366_px(baseline_site, driver, task):
    driver.set_window_size(1366, 768)
    try:
        driver.get((baseline_site / "index.html").as_uri())
        width = driver.execute_script("return document.documentElement.clientWidth")
        table = driver.find_element(By.ID, f"table-{task}")
        shown = [th for th in table.find_elements(By.CSS_SELECTOR, "thead th") if th.is_displayed()]
        cols = [th.get_attribute("data-col") for th in shown]
        assert cols == ["rank", "model", *HEADLINES[task], "p_next"]
        for th in shown[:-1]:  # rank, model and every headline lie inside the window
            box = driver.execute_script("const r = arguments[0].getBoundingClientRect(); return [r.left, r.right];",
                                        th)
            assert 0 <= box[0] and box[1] <= width, (th.get_attribute("data-col"), box, width)
        scroller = table.find_element(By.XPATH, "..")
        assert driver.execute_script("return arguments[0].scrollWidth <= arguments[0].clientWidth", scroller)
        assert driver.execute_script("return document.documentElement.scrollWidth") <= width
        # a group opens to its full columns and closes again
        button = driver.find_element(By.CSS_SELECTOR, f"button.group-toggle[data-table='table-{task}']"
                                                      "[data-group='clinical']")
        detail = table.find_element(By.CSS_SELECTOR, "thead th.detail.g-clinical")
        assert not detail.is_displayed()
        button.click()
        assert detail.is_displayed() and button.get_attribute("aria-expanded") == "true"
        button.click()
        assert not detail.is_displayed()
        assert not _csp_errors(driver)
    finally:
        driver.set_window_size(1400, 1000)


def test_model_page_has_a_group_profile_chart(baseline_site, driver):
    driver.get((baseline_site / "ct_tumor" / "index.html").as_uri())
    assert len(driver.find_elements(By.CSS_SELECTOR, "figure.profile svg")) == 4
    driver.find_element(By.CSS_SELECTOR, "table#table-ct_tumor tbody tr a.model").click()
    bars = driver.find_elements(By.CSS_SELECTOR, "figure.profile svg rect.bar")
    assert len(bars) == 5  # the score and the four group headlines
