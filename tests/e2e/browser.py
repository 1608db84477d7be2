"""A real browser for end-to-end tests: Debian's chromium driven by playwright, nothing downloaded.

``launched()`` skips the calling test with a plain reason when chromium or playwright is missing,
unless ``SUBCAST_REQUIRE_BROWSER`` is set (CI sets it in .ci/run), where a missing browser fails.
Screenshots go to the test's own folder, and also to ``$SUBCAST_ARTIFACTS`` when it names one.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn
from urllib.parse import urlsplit

import pytest

from infra.template import ROOT

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

#: chromium's own background traffic (updates, sync, first-run pages) would leave the machine.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # CI runs as root, where chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: What is missing, and how to install it.
NO_CHROMIUM = ("chromium not installed", "apt-get install chromium")
NO_PLAYWRIGHT = ("playwright not installed", "pip install -e '.[dev]'")
REQUIRED = "SUBCAST_REQUIRE_BROWSER"
ARTIFACTS = "SUBCAST_ARTIFACTS"


def _unavailable(missing: tuple[str, str]) -> NoReturn:
    what, how = missing
    if os.environ.get(REQUIRED):
        pytest.fail(f"{what} and {REQUIRED} is set: the browser tests must run here ({how})")
    pytest.skip(f"{what}: browser tests skipped ({how})")


@contextmanager
def launched() -> Iterator[Browser]:
    """A headless chromium for the duration of the block (skips or fails when there is none)."""
    chromium = shutil.which("chromium")
    if chromium is None:
        _unavailable(NO_CHROMIUM)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable(NO_PLAYWRIGHT)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


class Traffic:
    """Every request a page makes, and every message it logs to the console as an error."""

    def __init__(self, page: Page) -> None:
        self.urls: list[str] = []
        self.errors: list[str] = []
        page.on("request", lambda request: self.urls.append(request.url))
        page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))

    def foreign(self, host: str = "127.0.0.1") -> list[str]:
        """The requests that went anywhere but ``host`` (data: and about: URLs never leave)."""
        return [
            url
            for url in self.urls
            if urlsplit(url).scheme not in ("data", "about") and urlsplit(url).hostname != host
        ]


def screenshot(page: Page, folder: Path, name: str, *, full_page: bool = False) -> Path:
    """Save a PNG of ``page`` into ``folder``, and a copy into $SUBCAST_ARTIFACTS when set."""
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    if kept := os.environ.get(ARTIFACTS):
        target = ROOT / kept / "browser"  # a relative folder is taken from the repository root
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target / path.name)
    return path
