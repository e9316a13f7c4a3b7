"""The UI behind a token, in a real headless browser (issue 24, point 7): opened once with
``?token=``, every page and every request it makes (the API's fetch calls, plotly.js) carries
the cookie the server set, under the server's Content-Security-Policy, without an error."""

from __future__ import annotations

import pytest

from .conftest import loopback_server
from .test_browser import ARGS, CHROMIUM, Page

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="browser tests need Debian's chromium at /usr/bin/chromium (apt-get install chromium)")

TOKEN = "browser-test-token-0123456789"


@pytest.fixture(scope="module")
def token_server():
    from her2lab.api import create_app

    with loopback_server(create_app(token=TOKEN)) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


def test_the_ui_works_once_opened_with_its_token(browser, token_server):
    page = Page(browser, token_server)
    try:
        page.open(f"/trials?token={TOKEN}")
        assert page.page.url == token_server + "/trials"  # the token left the address
        assert page.page.locator("table tbody tr").count() > 10  # the API answered the page
        page.open("/pathway")  # another page, no token in its address: the cookie is enough
        assert page.problems == []
        cookies = {c["name"]: c for c in page.page.context.cookies()}
        assert cookies["her2lab_token"]["httpOnly"] and cookies["her2lab_token"]["sameSite"] \
            == "Strict"
    finally:
        page.close()


def test_without_the_token_the_browser_gets_401(browser, token_server):
    page = browser.new_page()
    try:
        r = page.goto(token_server + "/trials")
        assert r is not None and r.status == 401
        assert "token" in page.inner_text("body")
    finally:
        page.close()
