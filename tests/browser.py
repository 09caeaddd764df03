"""Headless Chromium for Köprü's browser tests (tests/test_browser.py and
tests/test_readers_browser.py, which share one per worker: conftest's
`chromium`).

Selenium drives Debian's Chromium (/usr/bin/chromium) through Debian's
ChromeDriver (/usr/bin/chromedriver); `make test-deps` installs both. The
driver path is given to Selenium, so Selenium Manager is never asked to find
or download anything (SE_OFFLINE is set as well). KOPRU_CHROMIUM and
KOPRU_CHROMEDRIVER override the two paths.

Screenshots go to test-artifacts/screens/ (gitignored): the viewport, what
a reader sees first. No test reads them: they are for a person, so a run
takes them only where a browser test fails (conftest), unless asked:
KOPRU_SCREENSHOTS=1 takes the one each test names for its page, and
KOPRU_ALL_SCREENSHOTS=1 more: a NAME-full.png of the whole page beside
each (two resizes and a larger capture each), and every page of the
readers' width check at 390 px, not only those too wide.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SCREENS = REPO_ROOT / "test-artifacts" / "screens"
CHROMIUM = os.environ.get("KOPRU_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("KOPRU_CHROMEDRIVER", "/usr/bin/chromedriver")

# As the machine notes say: headless, as root (no sandbox), and nothing that
# phones home (this machine's network is closed; those connections only fail).
CHROMIUM_ARGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
    "--no-first-run", "--no-default-browser-check",
    "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--disable-dev-shm-usage", "--disable-extensions",
    "--hide-scrollbars", "--lang=en-GB", "--force-device-scale-factor=1",
    # Less work per page load, the pages' layout and scripts unchanged: no
    # back/forward cache (no test goes back; each cached page stays alive),
    # no fresh browsing instance per navigation, and the GPU process's
    # (software) compositing inside the browser process instead of beside it.
    "--disable-features=BackForwardCache,ProactivelySwapBrowsingInstance,RenderDocument",
    "--in-process-gpu",
)
ALL_SCREENSHOTS = os.environ.get("KOPRU_ALL_SCREENSHOTS") == "1"
SCREENSHOTS = ALL_SCREENSHOTS or os.environ.get("KOPRU_SCREENSHOTS") == "1"

DESKTOP = (1280, 900)
PHONE = (390, 844)


def unavailable() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    for what, path in (("Chromium", CHROMIUM), ("ChromeDriver", CHROMEDRIVER)):
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            return (f"{what} not found at {path}: run `make test-deps` (installs Debian's "
                    f"chromium and chromium-driver)")
    return None


def require_browser() -> None:
    """Skip the calling test when there is no browser here; in CI, where
    `make test-deps` installs one, fail instead."""
    import pytest

    why = unavailable()
    if why:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests cannot run in CI: {why}", pytrace=False)
        pytest.skip(why)


class Browser:
    """One headless Chromium session with its own fresh profile directory."""

    def __init__(self, size: tuple[int, int] = DESKTOP) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        os.environ.setdefault("SE_OFFLINE", "true")
        self.profile = tempfile.mkdtemp(prefix="kopru-chromium-")
        opts = webdriver.ChromeOptions()
        opts.binary_location = CHROMIUM
        for arg in CHROMIUM_ARGS:
            opts.add_argument(arg)
        opts.add_argument(f"--user-data-dir={self.profile}")
        opts.add_argument(f"--window-size={size[0]},{size[1]}")
        # No preconnecting: a spare socket Chromium opens and never uses holds
        # one of gunicorn's sync workers until its read deadline (10 s).
        opts.add_experimental_option("prefs", {"intl.accept_languages": "en-GB,en",
                                               "net.network_prediction_options": 2})
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        # one log per xdist worker (gw0, gw1…): two drivers never share a file
        worker = os.environ.get("PYTEST_XDIST_WORKER")
        log = REPO_ROOT / "test-artifacts" / (f"chromedriver-{worker}.log" if worker
                                              else "chromedriver.log")
        log.parent.mkdir(parents=True, exist_ok=True)
        service = Service(executable_path=CHROMEDRIVER, log_output=str(log))
        try:
            self.driver = webdriver.Chrome(service=service, options=opts)
        except Exception:
            shutil.rmtree(self.profile, ignore_errors=True)
            raise
        self.driver.set_page_load_timeout(30)
        self.driver.set_script_timeout(30)
        self.size = size
        self._frame = (0, 0)        # outer window size less the viewport's, once known
        self._viewport: tuple[int, int] | None = None

    # -- helpers ---------------------------------------------------------------
    def forget(self) -> None:
        """What a fresh profile knows of the site: no cookies, no stored
        state (the query editor keeps its tabs in local storage), an empty
        page at desktop size and an empty console log."""
        d = self.driver
        d.get("about:blank")
        d.delete_all_cookies()
        d.execute_cdp_cmd("Storage.clearDataForOrigin",
                          {"origin": self.base.rstrip("/"), "storageTypes": "all"})
        self.resize(*DESKTOP)
        self.console_errors()

    def resize(self, width: int, height: int) -> None:
        """Make the *viewport* (not the outer window) width x height. The
        window's frame is measured once, so this is one resize, not two; a
        viewport already at that size is left alone."""
        d = self.driver
        if self._viewport == (width, height) and d.execute_script(
                "return [window.innerWidth, window.innerHeight]") == [width, height]:
            return
        for _ in range(3):
            d.set_window_size(width + self._frame[0], height + self._frame[1])
            inner_w, inner_h = d.execute_script("return [window.innerWidth, window.innerHeight]")
            if (inner_w, inner_h) == (width, height):
                break
            self._frame = (self._frame[0] + width - inner_w, self._frame[1] + height - inner_h)
        self._viewport = (width, height)

    def screenshot(self, name: str, full_page: bool = ALL_SCREENSHOTS, *,
                   asked: bool = SCREENSHOTS) -> Path | None:
        """Save test-artifacts/screens/NAME.png (the viewport: what a reader
        sees first) and, with full_page (KOPRU_ALL_SCREENSHOTS=1), NAME-full.png
        (the whole page; the window is stretched to the document's height,
        then put back). Nothing unless `asked` (KOPRU_SCREENSHOTS=1)."""
        if not asked:
            return None
        SCREENS.mkdir(parents=True, exist_ok=True)
        path = SCREENS / f"{name}.png"
        d = self.driver
        d.save_screenshot(str(path))
        if not full_page:
            return path
        w, h = d.execute_script("return [window.innerWidth, window.innerHeight]")
        doc_h = d.execute_script(
            "return Math.max(document.documentElement.scrollHeight, document.body ? "
            "document.body.scrollHeight : 0)")
        if doc_h > h:
            try:
                self.resize(w, min(doc_h, 8000))
                d.save_screenshot(str(SCREENS / f"{name}-full.png"))
            finally:
                self.resize(w, h)
        return path

    def console_errors(self) -> list[str]:
        """SEVERE messages from the page's console since the last call."""
        try:
            logs = self.driver.get_log("browser")
        except Exception:
            return []
        return [e["message"] for e in logs if e.get("level") == "SEVERE"]

    def horizontal_overflow(self) -> int:
        """How many CSS pixels the page is wider than the viewport (0 = fits)."""
        return int(self.driver.execute_script(
            "return Math.max(0, document.documentElement.scrollWidth - window.innerWidth)"))

    def widest(self) -> list[str]:
        """Up to five elements reaching past the viewport's right edge, as
        "tag#id.class RIGHTpx": what to fix when horizontal_overflow() > 1."""
        return list(self.driver.execute_script("""
            const w = window.innerWidth, out = [];
            for (const el of document.querySelectorAll('body *')) {
              const r = el.getBoundingClientRect();
              if (r.right > w + 1 && r.width > 0 && getComputedStyle(el).position !== 'fixed') {
                out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
                         (el.className && typeof el.className === 'string'
                          ? '.' + el.className.split(' ')[0] : '') +
                         ' ' + Math.round(r.right) + 'px');
              }
              if (out.length >= 5) break;
            }
            return out;"""))

    def quit(self) -> None:
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)
