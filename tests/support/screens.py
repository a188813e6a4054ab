"""Screenshots of portal pages for people to look at (``var/screenshots/``), and the browser console."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from selenium.common.exceptions import StaleElementReferenceException, WebDriverException

from tests.support.paths import REPO

SCREENSHOTS = REPO / "var" / "screenshots"
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}


def gone(element: Any) -> Any:
    """A wait condition: ``element`` has left the page (a navigation or an htmx swap replaced it).

    Selenium's ``staleness_of`` only knows StaleElementReferenceException; ChromeDriver 156 answers a click
    racing the swap with "Node with given id does not belong to the document", which means the same.
    """

    def left(_: Any) -> bool:
        try:
            element.is_enabled()
        except StaleElementReferenceException:
            return True
        except WebDriverException as error:
            if "does not belong to the document" in str(error):
                return True
            raise
        return False

    return left


def screenshot(browser: Any, name: str) -> list[Path]:
    """Save the whole page at 1280 px and at 390 px wide; the window is left at 1280 px."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    saved = []
    for label, (width, height) in WIDTHS.items():
        browser.set_window_size(width, height)
        browser.set_window_size(width, height)
        full = browser.execute_script(
            "var f = document.querySelector('footer') || document.querySelector('main') || document.body;"
            "return Math.ceil(f.getBoundingClientRect().bottom + window.scrollY);"
        )
        browser.set_window_size(width, min(max(int(full), height), 5000))
        path = SCREENSHOTS / f"{name}-{label}.png"
        browser.save_screenshot(str(path))
        saved.append(path)
    browser.set_window_size(*WIDTHS["desktop"])
    return saved


def console_errors(browser: Any) -> list[str]:
    """Console errors since the last call (script errors, CSP violations, failed loads)."""
    return [entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]


def sign_in(browser: Any, url: str, email: str, password: str) -> None:
    """Sign in on ``url``'s portal as a fresh session and wait for the answer page."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(url + "/login/")
    browser.delete_all_cookies()
    browser.get(url + "/login/")
    browser.find_element(By.ID, "id_email").send_keys(email)
    browser.find_element(By.ID, "id_password").send_keys(password)
    form = browser.find_element(By.TAG_NAME, "form")
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, 10).until(gone(form))
