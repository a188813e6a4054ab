"""Screenshots of every page a browser test visits, at a desktop and a phone width, under var/screenshots/."""

from pathlib import Path

WIDTHS = (1280, 390)
MAX_HEIGHT = 4000


def screenshot_dir() -> Path:
    # The checkout's var/, not the test run's scratch folder (removed when the run ends).
    folder = Path(__file__).resolve().parents[2] / "var" / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def shoot(browser, name: str) -> list[Path]:  # type: ignore[no-untyped-def]
    """Save ``<name>-1280.png`` and ``<name>-390.png`` of the whole page; the window is left at 1280 px."""
    paths = []
    for width in WIDTHS:
        browser.set_window_size(width, 900)
        height = browser.execute_script("return document.documentElement.scrollHeight")
        browser.set_window_size(width, min(max(int(height) + 120, 900), MAX_HEIGHT))
        path = screenshot_dir() / f"{name}-{width}.png"
        browser.save_screenshot(str(path))
        paths.append(path)
    browser.set_window_size(1280, 900)
    return paths
