"""The web UI in a real headless browser: Playwright driving Debian's chromium.

Each page loads without a console error (or an uncaught exception, or a failed request), the
landscape draws one SVG node per node of the API's graph, a pathway simulation and a trial
prediction run through their forms and draw their plots. Screenshots of every page are saved
under pytest's temporary directory (``.../screenshots``, printed at the end), to be looked at.

``playwright install`` cannot download a browser here: the tests use ``/usr/bin/chromium``
(apt package ``chromium``, installed by ``.ci/run``) and skip, saying so, when it is absent.
"""

from __future__ import annotations

from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="browser tests need Debian's chromium at /usr/bin/chromium (apt-get install chromium)")


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    path = tmp_path_factory.getbasetemp() / "screenshots"
    path.mkdir(exist_ok=True)
    return path


class Page:
    """A page with every console error, page error and failed request recorded."""

    def __init__(self, browser, base: str) -> None:
        self.page = browser.new_page(viewport={"width": 1366, "height": 860})
        self.base = base
        self.problems: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.problems.append(
            f"console: {m.text}"))
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on("requestfailed", lambda r: self.problems.append(
            f"request failed: {r.url}"))
        self.page.on("response", lambda r: r.status >= 400 and self.problems.append(
            f"HTTP {r.status}: {r.url}"))

    def open(self, path: str) -> None:
        self.page.goto(self.base + path)
        self.page.wait_for_load_state("networkidle")

    def shot(self, folder: Path, name: str) -> Path:
        out = folder / f"{name}.png"
        self.page.screenshot(path=str(out), full_page=True)
        return out

    def close(self) -> None:
        self.page.close()


@pytest.fixture
def page(browser, live_server):
    p = Page(browser, live_server)
    yield p
    p.close()


@pytest.mark.parametrize("path, name", [
    ("/", "landscape"), ("/trials", "trials"), ("/trials/cleopatra", "trial_cleopatra"),
    ("/trials/nsabp_b41", "trial_nsabp_b41"), ("/pathway", "pathway"),
    ("/designer", "designer"), ("/report", "report_form"),
])
def test_every_page_loads_without_errors_and_says_research_use(page, shots, path, name):
    page.open(path)
    page.shot(shots, name)
    assert page.problems == []
    assert "not medical advice" in page.page.inner_text("body").replace("\n", " ")
    assert page.page.title().startswith("her2lab")


def test_the_landscape_draws_every_node_of_the_graph_and_filters_it(page, live_server, shots):
    import json
    import urllib.request

    with urllib.request.urlopen(live_server + "/api/kb/graph") as r:
        graph = json.load(r)
    page.open("/")
    page.page.wait_for_selector("#graph svg g.node")
    assert page.page.locator("#graph g.node").count() == len(graph["nodes"])
    assert page.page.locator("#graph g.node[data-kind=trial]").count() == sum(
        n["kind"] == "trial" for n in graph["nodes"])
    page.page.hover('#graph g.node[data-id="drug:trastuzumab"]')
    assert page.page.locator("#graph.focus").count() == 1
    page.page.click('#graph g.node[data-id="drug:trastuzumab"]')
    page.page.wait_for_selector("#info h3")
    assert page.page.inner_text("#info h3") == "Trastuzumab"
    page.page.select_option("#f-drug", "everolimus")
    page.page.wait_for_function(  # a function, not an expression: the CSP forbids eval
        f"() => document.querySelectorAll('#graph g.node').length < {len(graph['nodes'])}")
    page.shot(shots, "landscape_everolimus")
    assert page.problems == []


def test_the_trials_table_sorts_and_filters(page):
    page.open("/trials")
    page.page.wait_for_selector("table.trials tbody tr")
    total = page.page.locator("table.trials tbody tr").count()
    page.page.fill("#f-text", "NeoSphere")
    assert page.page.locator("table.trials tbody tr").count() == 1
    page.page.fill("#f-text", "")
    page.page.click('th[data-key="n"]')
    first = page.page.locator("table.trials tbody tr td").nth(4).inner_text()
    from her2lab.knowledge import load

    smallest = min(t.n for t in load().trials if t.n)  # the smallest trial with a size
    assert first == str(smallest)
    assert page.page.locator("table.trials tbody tr").count() == total
    assert page.problems == []


def test_a_pathway_simulation_runs_through_the_form_and_shows_its_plot(page, shots):
    page.open("/pathway")
    page.page.fill("#samples", "300")
    page.page.click("#run")
    page.page.wait_for_selector("body[data-simulated=yes]", timeout=60_000)
    assert page.page.locator("#phenotypes .main-svg").count() >= 1
    assert page.page.locator("#phenotypes g.trace.bars").count() == 2  # regimens A and B
    page.shot(shots, "pathway_simulated")
    assert page.problems == []


def test_a_trial_prediction_runs_through_the_form_and_shows_km_curves(page, shots):
    page.open("/designer")
    page.page.select_option("#example", "tdm1_anti_pd_l1")
    page.page.fill("#replicates", "2")
    page.page.fill("#samples", "50")
    page.page.fill("#panel", "4")
    page.page.fill("#hr", "0.25")  # the HR-positive share reaches the specification sent
    with page.page.expect_request("**/api/virtual-trials/predict") as sent:
        page.page.click("#predict")
    assert sent.value.post_data_json["spec"]["population"]["hr_positive"] == 0.25
    page.page.wait_for_selector("#curves[data-drawn=yes]", timeout=60_000)
    assert page.page.locator("#curves g.trace.scatter").count() == 2  # one curve per arm
    assert "HR" in page.page.inner_text("#effect")
    page.shot(shots, "designer_predicted")
    assert page.problems == []


def test_a_bad_specification_shows_the_servers_message(page):
    page.open("/designer")
    page.page.fill(".arm-n >> nth=0", "0")
    page.page.click("#predict")
    page.page.wait_for_selector("#error .error")
    assert "arms[0].n" in page.page.inner_text("#error")
    # the 422 is expected here; nothing else went wrong
    assert [p for p in page.problems if "422" not in p and "status of 422" not in p] == []


def test_a_strategy_report_is_built_through_the_form_and_its_pdf_downloads(page, shots):
    page.open("/report")
    page.page.uncheck("#in-silico")
    page.page.click("#run")
    page.page.wait_for_selector("body[data-report]", timeout=120_000)
    assert page.page.locator("table.ranked tbody tr").count() >= 1
    frame = page.page.frame_locator("#view iframe")
    frame.locator("body").wait_for(timeout=60_000)
    assert "not medical advice" in frame.locator("body").inner_text()
    page.shot(shots, "report")
    with page.page.expect_download(timeout=120_000) as info:
        page.page.click("#pdf")
    path = info.value.path()
    assert Path(path).read_bytes()[:5] == b"%PDF-"
    assert page.problems == []
