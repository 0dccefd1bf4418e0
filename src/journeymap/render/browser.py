"""PNG and PDF through headless Chromium, so they look exactly like the page.

Debian's ``chromium`` (``/usr/bin/chromium``) driven by Playwright for Python; the
project never downloads a browser.  Only ``file://`` and local addresses may load: any
other request is aborted, so an export can never reach the network.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from journeymap.errors import JourneymapError

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Route

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1680, "height": 1050}
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]"}


class ExportDependencyError(JourneymapError):
    """An optional export dependency (Playwright, python-pptx, Chromium) is missing."""


def chromium_path() -> str:
    """The Chromium executable: ``$JOURNEYMAP_CHROMIUM``, /usr/bin/chromium, or on PATH."""
    candidates = [os.environ.get("JOURNEYMAP_CHROMIUM"), CHROMIUM, shutil.which("chromium")]
    for c in candidates:
        if c and Path(c).is_file():
            return c
    raise ExportDependencyError(
        "PNG/PDF export needs Chromium: install Debian's package (apt-get install chromium) "
        "or set JOURNEYMAP_CHROMIUM to its path")


def is_local(url: str) -> bool:
    """Whether a request stays on this machine (file:, data:, about:, localhost)."""
    parsed = urlparse(url)
    if parsed.scheme in ("file", "data", "about", "blob"):
        return True
    return parsed.scheme in ("http", "https", "ws", "wss") and (parsed.hostname or "") in LOCAL_HOSTS


def _block_remote(route: Route) -> None:
    if is_local(route.request.url):
        route.continue_()
    else:
        route.abort()


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless Chromium, closed on exit."""
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ModuleNotFoundError:
        raise ExportDependencyError(
            "PNG/PDF export needs Playwright: pip install 'journeymap[export]'") from None
    path = chromium_path()
    with sync_playwright() as pw:
        try:
            browser = pw.chromium.launch(executable_path=path, args=LAUNCH_ARGS, headless=True)
        except PlaywrightError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else "no message"
            raise ExportDependencyError(f"cannot start Chromium at {path}: {first}") from None
        try:
            yield browser
        finally:
            browser.close()


def _page(browser: Browser, html_file: Path) -> Any:
    context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
    page = context.new_page()
    page.route("**/*", _block_remote)
    page.goto(html_file.resolve().as_uri(), wait_until="load")
    return page


def screenshot(html_file: Path, out: Path, *, browser: Browser | None = None) -> Path:
    """A full-page PNG of ``html_file``."""
    if browser is None:
        with chromium() as b:
            return screenshot(html_file, out, browser=b)
    page = _page(browser, html_file)
    try:
        page.screenshot(path=str(out), full_page=True)
    finally:
        page.context.close()
    return out


def print_pdf(html_file: Path, out: Path, *, browser: Browser | None = None) -> Path:
    """``html_file`` printed to PDF on A3 landscape, backgrounds included."""
    if browser is None:
        with chromium() as b:
            return print_pdf(html_file, out, browser=b)
    page = _page(browser, html_file)
    try:
        page.emulate_media(media="print")
        page.pdf(path=str(out), format="A3", landscape=True, print_background=True,
                 prefer_css_page_size=True)
    finally:
        page.context.close()
    return out
