"""End to end in a real browser: /v1/docs served by `python -m infra.local`, opened in chromium at a
desktop width and at a phone's 360 px. Screenshots: see tests/e2e/browser.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from infra.local import process
from tests.e2e.browser import Traffic, launched, screenshot

pytestmark = pytest.mark.e2e

DESKTOP, PHONE = 1280, 360


@pytest.fixture(scope="module")
def browser():
    with launched() as running:
        yield running


@pytest.fixture(scope="module")
def stack(browser) -> Iterator[process.LocalStackProcess]:
    # Asks for the browser first, so that a missing one skips before the stack's start-up is paid.
    started = process.start()
    yield started
    assert started.stop() == 0, started.log()


@pytest.fixture(scope="module")
def operations(stack) -> list[tuple[str, str, str]]:
    """(operationId, METHOD, path) of every operation the running stack's OpenAPI document lists."""
    status, document = stack.request("GET", "/v1/openapi.json")
    assert status == 200
    return [
        (operation["operationId"], method.upper(), path)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


@pytest.fixture
def open_docs(browser, stack) -> Iterator[Callable[[int], tuple]]:
    """Opens /v1/docs in a fresh window of the given width: (page, its traffic, the response)."""
    contexts = []

    def opened(width: int) -> tuple:
        context = browser.new_context(viewport={"width": width, "height": 900})
        contexts.append(context)
        page = context.new_page()
        traffic = Traffic(page)
        response = page.goto(f"{stack.base_url}/v1/docs")
        return page, traffic, response

    yield opened
    for context in contexts:
        context.close()


def test_at_desktop_width_every_operation_has_a_visible_heading_beside_the_contents(
    open_docs, operations, tmp_path: Path
):
    from playwright.sync_api import expect

    # Given the local stack and a desktop-wide window
    # When the reference page is opened, without any key
    page, traffic, response = open_docs(DESKTOP)
    screenshot(page, tmp_path, "docs-1280")
    screenshot(page, tmp_path, "docs-1280-full", full_page=True)

    # Then it is an HTML page under a strict policy
    assert response.status == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-security-policy"].startswith("default-src 'self'")

    # And every operation of the OpenAPI document has a visible heading naming its method and path
    for operation_id, method, path in operations:
        heading = page.locator(f"#op-{operation_id} h3")
        expect(heading).to_be_visible()
        expect(heading).to_have_text(f"{method} {path}")

    # And the stylesheet applied (the policy let it in): the contents sit beside the reference
    contents, main = page.locator("nav").bounding_box(), page.locator("main").bounding_box()
    assert contents["x"] + contents["width"] <= main["x"]

    # And nothing was refused, and no request left the machine
    assert traffic.errors == []
    assert traffic.urls and traffic.foreign() == []


def test_at_phone_width_nothing_scrolls_sideways(open_docs, operations, tmp_path: Path):
    from playwright.sync_api import expect

    # Given a phone-wide window
    # When the reference page is opened
    page, traffic, response = open_docs(PHONE)
    screenshot(page, tmp_path, "docs-360")

    # Then the page is no wider than the screen: long patterns and paths wrap
    assert response.status == 200
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE

    # And every operation's heading is visible, the contents above the reference
    for operation_id, _method, _path in operations:
        expect(page.locator(f"#op-{operation_id} h3")).to_be_visible()
    contents, main = page.locator("nav").bounding_box(), page.locator("main").bounding_box()
    assert contents["y"] + contents["height"] <= main["y"]

    # And nothing was refused, and no request left the machine
    assert traffic.errors == []
    assert traffic.foreign() == []


@pytest.mark.parametrize("width", [DESKTOP, PHONE])
def test_a_link_in_the_contents_jumps_to_its_operation(open_docs, operations, tmp_path: Path, width):
    from playwright.sync_api import expect

    # Given the reference page, scrolled to the top, and the last operation (the farthest down)
    page, traffic, _ = open_docs(width)
    operation_id = operations[-1][0]
    target = page.locator(f"#op-{operation_id}")
    expect(target).not_to_be_in_viewport()

    # When its link in the contents is followed
    page.locator("nav").locator(f'a[href="#op-{operation_id}"]').click()
    screenshot(page, tmp_path, f"docs-{width}-jump")

    # Then the operation is the page's target and is in view, its heading first
    assert page.url.endswith(f"/v1/docs#op-{operation_id}")
    expect(target).to_be_in_viewport()
    expect(page.locator(f"#op-{operation_id} h3")).to_be_in_viewport()
    assert page.evaluate("document.querySelector(':target').id") == f"op-{operation_id}"

    # And following the link fetched nothing: the page itself is the only request
    assert traffic.urls == [page.url.split("#")[0]]
