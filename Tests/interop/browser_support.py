"""Headless Chromium for the browser tests (Selenium, Debian's chromium and chromium-driver).

Nothing is downloaded at run time: the driver is /usr/bin/chromedriver (scripts/test.sh installs
it). Without Chromium the browser tests are skipped locally and fail under CI.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any, Callable

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO_ROOT / "docs" / "screenshots"

# With BROWSER_TEST_WEB_DIR set (e.g. Sources/SwitchboardWeb/Assets), the servers of the browser tests
# read the web files from there (`http.web_dir`) instead of the copies built into the binary: for
# working on the console or the client without a rebuild.
WEB_DIR = os.path.abspath(os.environ["BROWSER_TEST_WEB_DIR"]) if os.environ.get("BROWSER_TEST_WEB_DIR") else None

LAPTOP = (1280, 800)
PHONE = (390, 844)


def _executables() -> tuple[str, str]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not (chromium and driver):
        message = "Chromium and chromedriver are needed (apt-get install chromium chromium-driver)"
        if os.environ.get("CI"):
            pytest.fail(message + "; under CI this fails", pytrace=False)
        pytest.skip(message)
    return chromium, driver


def web_env(extra: dict | None = None) -> dict | None:
    """A browser test server's environment: `extra`, plus the web directory when BROWSER_TEST_WEB_DIR is set."""
    env = dict(extra or {})
    if WEB_DIR:
        env["SWITCHBOARD_HTTP_WEB_DIR"] = WEB_DIR
    return env or None


def new_browser(size: tuple[int, int] = LAPTOP, *, mobile: bool = False):
    """A headless Chromium of `size` CSS pixels (a phone's user agent and touch when `mobile`)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver = _executables()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--no-first-run", "--disable-extensions", "--hide-scrollbars",
                     f"--window-size={size[0]},{size[1]}"):
        options.add_argument(argument)
    if mobile:
        options.add_experimental_option("mobileEmulation", {
            "deviceMetrics": {"width": size[0], "height": size[1], "pixelRatio": 2.0},
            "userAgent": "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 "
                         "(KHTML, like Gecko) Chrome/156.0 Mobile Safari/537.36",
        })
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(options=options, service=Service(executable_path=driver))
    browser.set_script_timeout(60)
    return browser


@pytest.fixture
def browser():
    """A laptop-sized headless Chromium, quit at the end of the test."""
    driver = new_browser()
    yield driver
    driver.quit()


@pytest.fixture
def phone_browser():
    """A phone-sized headless Chromium (390×844, touch), quit at the end of the test."""
    driver = new_browser(PHONE, mobile=True)
    yield driver
    driver.quit()


def wait_until(driver, condition: Callable[[Any], Any], timeout: float = 30.0, message: str = ""):
    """Waits for `condition(driver)` to be truthy and returns it; the timeout is only an upper bound."""
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.05).until(condition)
    except Exception as error:  # noqa: BLE001 - add the page's console to the failure
        raise AssertionError(f"{message or 'condition'} not met; browser console:\n{console_log(driver)}") from error


def wait_for_js(driver, expression: str, timeout: float = 30.0):
    """Waits for the JavaScript `expression` to be truthy and returns its value."""
    return wait_until(driver, lambda d: d.execute_script(f"return ({expression});"), timeout, expression)


def console_log(driver) -> str:
    """The page's console messages so far (for failure reports)."""
    try:
        return "\n".join(f"{entry['level']}: {entry['message']}" for entry in driver.get_log("browser"))
    except Exception:  # noqa: BLE001 - a closed browser has no log
        return "(no console log)"


def screenshot(driver, name: str) -> Path:
    """Saves a PNG of the viewport as docs/screenshots/<name>.png and returns its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path
