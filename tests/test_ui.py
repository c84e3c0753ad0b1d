"""The MLflow UI in a real browser: the smoke transformer run and the TF-IDF baseline, trained into
one experiment of a temporary store, must both show up with their test macro-F1 on the
experiment's runs page and on the run-comparison page. Headless Chromium comes from Debian
(`chromium`, `chromium-driver`, installed by .ci/run); nothing is downloaded. A screenshot of each
page is saved under $STANCE_TEST_ARTIFACTS (default: test-artifacts/ in the repo root)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from stance.serving.server import free_port, stop_server, wait_until_up
from tests.helpers import ROOT, store_uri, train

pytestmark = [pytest.mark.slow, pytest.mark.ui]

EXPERIMENT = "stance-smoke"
RUN_NAMES = ("smoke", "tfidf")
METRIC = "test_f1_macro"
WAIT_S = 60  # generous: CI has 2 cores, and the UI is a large single-page app


@pytest.fixture(scope="module")
def store(smoke_store) -> Path:
    """The folder of the shared smoke store."""
    return smoke_store[0]


@pytest.fixture(scope="module")
def ui_store(store) -> dict:
    """The shared smoke store plus a TF-IDF run in the same experiment; returns the experiment id
    and, per run name, its run id and test macro-F1 as recorded in the store."""
    import mlflow

    # The pages need the run's params and metrics; not logging its model saves ~15 s.
    train("configs/tfidf.yaml", store, "run_name=tfidf", f"tracking.experiment={EXPERIMENT}",
          "tracking.log_model=false", subprocess_=True)
    client = mlflow.MlflowClient(store_uri(store))
    experiment = client.get_experiment_by_name(EXPERIMENT)
    runs = {}
    for name in RUN_NAMES:
        (run,) = client.search_runs([experiment.experiment_id],
                                    filter_string=f"attributes.run_name = '{name}'")
        runs[name] = {"id": run.info.run_id, METRIC: run.data.metrics[METRIC]}
    return {"experiment_id": experiment.experiment_id, "runs": runs}


@pytest.fixture(scope="module")
def server_process(store, request) -> tuple[str, subprocess.Popen, Path]:
    """`mlflow server` over the store on a free loopback port, started without waiting for it,
    so that it boots while the baseline trains; returns its base URL, process and log file."""
    port, log = free_port(), store / "server.log"
    # No background job runner: the test only browses, and it spawns several extra processes.
    env = os.environ | {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    command = [str(Path(sys.executable).with_name("mlflow")), "server",
               "--backend-store-uri", store_uri(store),
               "--default-artifact-root", str(store / "artifacts"),
               "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    with log.open("w") as out:
        # its own process group: the server runs uvicorn as a child, which must stop with it
        server = subprocess.Popen(command, cwd=store, env=env, stdout=out,
                                  stderr=subprocess.STDOUT, start_new_session=True)
    request.addfinalizer(lambda: stop_server(server))
    return f"http://127.0.0.1:{port}", server, log


@pytest.fixture(scope="module")
def mlflow_server(server_process, ui_store) -> str:
    """The server's base URL, once it answers /health (and the baseline run is in the store)."""
    url, server, log = server_process
    wait_until_up(url, server, log, timeout=120, probe="/health")
    return url


@pytest.fixture(scope="module")
def browser(request):
    """Headless Debian Chromium through Debian's chromedriver; Selenium Manager never runs
    because both paths are given."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        pytest.fail("needs Debian's chromium and chromium-driver: apt-get install -y "
                    "--no-install-recommends chromium chromium-driver (.ci/run does this)")
    options = Options()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1600,2400"):
        options.add_argument(arg)
    chrome = webdriver.Chrome(service=Service(executable_path=driver), options=options)
    request.addfinalizer(chrome.quit)
    return chrome


@pytest.fixture(scope="module")
def artifacts_dir() -> Path:
    folder = Path(os.environ.get("STANCE_TEST_ARTIFACTS") or ROOT / "test-artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def ui(browser, mlflow_server):
    """The browser on the server's origin, with the assistant side panel closed so that it
    neither covers the pages nor the screenshots."""
    browser.get(f"{mlflow_server}/health")
    browser.execute_script("localStorage.setItem('mlflow.assistant.panelOpen_v1', 'false');"
                           "localStorage.setItem('mlflow.assistant.fab.autoOpenedOnFirstLoad_v1',"
                           " 'true');")
    return browser


def assert_shows(text: str, expected: float) -> None:
    """`text` is how the UI shows the metric: the value itself or rounded to 3 decimals."""
    assert abs(float(text) - expected) <= 5e-4 + 1e-12, (text, expected)


# The comparison page's metrics table is virtualised: a grid of names beside a grid of values, each
# holding only the rows near its scroll position. Returns null until both grids have rendered the
# rows at `top`, {} when `metric` is not among them, else the pixel offset of its row and its cells
# left to right (one per run).
_METRIC_ROW = """
const [names, values, top, metric] = arguments;
const rows = grid => Array.from(grid.firstElementChild.children);
const rendered = grid => {
  const tops = rows(grid).map(row => parseFloat(row.style.top));
  return tops.length && Math.min(...tops) <= top && top <= Math.max(...tops);
};
if (!rendered(names) || !rendered(values)) return null;
const label = rows(names).find(row => row.textContent.trim() === metric);
if (!label) return {};
const cells = rows(values).filter(cell => cell.style.top === label.style.top)
  .sort((a, b) => parseFloat(a.style.left) - parseFloat(b.style.left));
return {top: parseFloat(label.style.top), cells: cells.map(cell => cell.textContent.trim())};
"""


def wrap(found: dict | None) -> tuple | None:
    """For WebDriverWait, which takes any falsy value for "not yet": here only None means that."""
    return None if found is None else (found,)


def compare_page_metric(driver, metric: str) -> list[str]:
    """Scroll the comparison page's metrics table to `metric`'s row; the row's cells."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    grids = WebDriverWait(driver, WAIT_S).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, ".ReactVirtualized__Grid"))
    assert len(grids) == 2, f"expected the metrics table's name and value grids, got {len(grids)}"
    names, values = grids
    # into view by scrolling the page; scrolling a grid alone would misalign names and values
    driver.execute_script("arguments[0].scrollIntoView({block: 'nearest'})", values)

    def row_at(top: int) -> dict:
        top = driver.execute_script("arguments[0].scrollTop = arguments[2];"
                                    "arguments[1].scrollTop = arguments[2];"
                                    "return arguments[0].scrollTop", values, names, top)
        return WebDriverWait(driver, 10, poll_frequency=0.05).until(
            lambda d: wrap(d.execute_script(_METRIC_ROW, names, values, top, metric)))[0]

    height = driver.execute_script("return arguments[0].scrollHeight", values)
    for top in range(0, height, 250):  # the grids are 300 px high
        if found := row_at(top):
            return row_at(int(found["top"]))["cells"]  # again, with the row at the top
    raise AssertionError(f"{metric} is not in the comparison page's metrics table")


def show_metric_column(driver, metric: str) -> None:
    """Tick `metric` in the runs table's Columns menu, as a user would."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(driver, WAIT_S)
    wait.until(ec.element_to_be_clickable(
        (By.XPATH, "//button[normalize-space(.)='Columns']"))).click()
    search = wait.until(ec.visibility_of_element_located(
        (By.CSS_SELECTOR, "input[placeholder='Search columns']")))
    search.send_keys(metric)
    wait.until(ec.element_to_be_clickable(
        (By.XPATH, f"//span[contains(@class, 'tree-title')][normalize-space(.)='{metric}']"))).click()
    search.send_keys(Keys.ESCAPE)


def runs_table_cell(driver, run_id: str, column: str) -> str | None:
    from selenium.webdriver.common.by import By

    found = driver.find_elements(By.CSS_SELECTOR,
                                 f'.ag-row[row-id="{run_id}"] .ag-cell[col-id="{column}"]')
    return found[0].text.strip() if found and found[0].text.strip() else None


def test_runs_page_shows_both_runs_and_their_test_f1(ui, mlflow_server, ui_store, artifacts_dir):
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(ui, WAIT_S)
    ui.get(f"{mlflow_server}/#/experiments/{ui_store['experiment_id']}/runs")
    runs = ui_store["runs"]
    for name, run in runs.items():
        shown = wait.until(lambda d, run_id=run["id"]:
                           runs_table_cell(d, run_id, "attributes.`Run Name`"))
        assert shown.splitlines()[-1] == name  # the first line is the run's colour chip
    show_metric_column(ui, METRIC)
    for run in runs.values():
        shown = wait.until(lambda d, run_id=run["id"]:
                           runs_table_cell(d, run_id, f"metrics.`{METRIC}`"))
        assert_shows(shown, run[METRIC])
    ui.save_screenshot(str(artifacts_dir / "mlflow-experiment-runs.png"))


def test_compare_page_shows_both_runs_and_their_test_f1(ui, mlflow_server, ui_store,
                                                        artifacts_dir):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    runs = list(ui_store["runs"].items())
    ids = json.dumps([run["id"] for _, run in runs], separators=(",", ":"))
    experiments = json.dumps([ui_store["experiment_id"]])
    ui.get(f"{mlflow_server}/#/compare-runs?runs={ids}&experiments={experiments}")
    header = WebDriverWait(ui, WAIT_S).until(lambda d: d.find_elements(
        By.XPATH, "//tr[th[normalize-space(.)='Run Name:']]/td"))
    assert [cell.text.strip() for cell in header] == [name for name, _ in runs]
    cells = compare_page_metric(ui, METRIC)
    assert len(cells) == len(runs), cells
    for text, (_, run) in zip(cells, runs):
        assert_shows(text, run[METRIC])
    ui.save_screenshot(str(artifacts_dir / "mlflow-compare-runs.png"))


def body_contains(driver, *texts: str) -> bool:
    from selenium.webdriver.common.by import By

    body = driver.find_element(By.TAG_NAME, "body").text
    return all(text in body for text in texts)


def test_experiment_is_tagged_as_model_training_and_opens_on_its_runs(ui, mlflow_server, ui_store,
                                                                      store):
    """The tag is what the API and earlier UIs go by; MLflow 3.17's UI picks the view from its
    GenAI / Model training switch (or ?workflowType=), which then lists the training runs."""
    import mlflow
    from selenium.webdriver.support.ui import WebDriverWait

    experiment = mlflow.MlflowClient(store_uri(store)).get_experiment(ui_store["experiment_id"])
    assert experiment.tags.get("mlflow.experimentKind") == "custom_model_development"
    ui.get(f"{mlflow_server}/#/experiments/{ui_store['experiment_id']}"
           "?workflowType=machine_learning")
    for name, run in ui_store["runs"].items():
        shown = WebDriverWait(ui, WAIT_S).until(lambda d, run_id=run["id"]:
                                                runs_table_cell(d, run_id, "attributes.`Run Name`"))
        assert shown.splitlines()[-1] == name


def test_each_run_page_shows_its_headline_numbers(ui, mlflow_server, ui_store, artifacts_dir):
    from selenium.webdriver.support.ui import WebDriverWait

    for name, run in ui_store["runs"].items():
        ui.get(f"{mlflow_server}/#/experiments/{ui_store['experiment_id']}/runs/{run['id']}")
        headline = f"test macro-F1 {run[METRIC]:.3f}"
        WebDriverWait(ui, WAIT_S).until(lambda d, h=headline: body_contains(d, "Description", h))
    ui.save_screenshot(str(artifacts_dir / "mlflow-run-description.png"))


def test_model_version_page_shows_its_description_and_metrics(ui, mlflow_server, ui_store, store,
                                                              artifacts_dir):
    import mlflow
    from selenium.webdriver.support.ui import WebDriverWait

    client = mlflow.MlflowClient(store_uri(store))
    smoke = ui_store["runs"]["smoke"]
    (version,) = client.search_model_versions(f"run_id = '{smoke['id']}'")
    ui.get(f"{mlflow_server}/#/models/{version.name}/versions/{version.version}")
    WebDriverWait(ui, WAIT_S).until(lambda d: body_contains(
        d, f"Stance classifier from run {smoke['id']}", f"test macro-F1 {smoke[METRIC]:.3f}",
        METRIC, f"{smoke[METRIC]:.4f}"))
    ui.save_screenshot(str(artifacts_dir / "mlflow-model-version.png"))
