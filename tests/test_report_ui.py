"""The summary's HTML report opened in headless Chromium (Debian's chromium and chromedriver, as
tests/test_ui.py uses): the page loads from a file, both charts are drawn images, and the shares,
confident-passage and abstention sections are there. A screenshot goes to $STANCE_TEST_ARTIFACTS."""

import pytest

from stance.cli import main
from tests.test_corpus import scored_file
from tests.test_ui import artifacts_dir, browser  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.slow, pytest.mark.ui]


def test_the_html_report_shows_its_charts_and_tables(browser, artifacts_dir, tmp_path):  # noqa: F811
    from selenium.webdriver.common.by import By

    out = tmp_path / "report"
    assert main(["summarize", str(scored_file(tmp_path / "scored.parquet")), "--by", "source",
                 "--by", "month", "--out", str(out)]) == 0
    browser.get((out / "report.html").as_uri())
    assert browser.title == "Stance in the corpus"
    for chart in ("chart-over-time", "chart-shares"):
        img = browser.find_element(By.ID, chart)
        width = browser.execute_script("return arguments[0].naturalWidth", img)
        assert img.is_displayed() and width > 300, (chart, width)  # decoded, not a broken image
    headline = browser.find_element(By.ID, "headline").text
    assert "120 rows: 107 labeled, 12 abstained, 1 bad rows" in headline
    rows = browser.find_elements(By.CSS_SELECTOR, "#shares-source tr")
    assert [r.find_elements(By.TAG_NAME, "td")[0].text for r in rows[1:]] == ["blog", "wire"]
    assert len(browser.find_elements(By.CSS_SELECTOR, "#shares-month tr")) == 4
    sides = browser.find_elements(By.CSS_SELECTOR, "#confident .side")
    assert [s.get_attribute("data-label") for s in sides] == ["pro_russia", "pro_us", "neutral"]
    assert browser.find_elements(By.CSS_SELECTOR, "#confident mark")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#abstained tr")) == 1 + 12
    assert "raw classify-and-count" in browser.find_element(By.ID, "method").text
    browser.save_screenshot(str(artifacts_dir / "stance-summary-report.png"))
