"""The five processes started as `make run` starts them, driven from outside.

The browser is Debian's Chromium (`chromium` package), launched by Playwright with that binary as
its executable: a browser download cannot work here.
"""
from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL
from tests.stack import Stack

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, database_url, redis_url) -> Iterator[Stack]:  # type: ignore[no-untyped-def]
    s = Stack(
        tmp_path_factory.mktemp("stack"),
        database_url=database_url if TEST_DATABASE_URL else None,
        redis_url=redis_url if TEST_REDIS_URL else None,
    ).start()
    yield s
    assert s.stop() == 0, "the stack did not stop cleanly:\n" + s.log()[-5000:]


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    path = chromium_path()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("Debian's chromium package is missing (CI installs it in .ci/run)")
        pytest.skip("the browser tests need Debian's chromium package: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="en-US")
    yield context.new_page()
    context.close()


@pytest.fixture
def page_pt(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="pt-BR", extra_http_headers={"Accept-Language": "pt-BR,pt;q=0.9"})
    yield context.new_page()
    context.close()


# The Enterprise portal's invoicing and quote pages are served from their integration world
# (see test_enterprise_invoicing_in_a_browser.py).
from tests.integration.web.enterprise_world import EnterpriseWorld, ep_world  # noqa: E402, F401


@pytest.fixture
def portal(ep_world: EnterpriseWorld) -> Iterator[str]:  # noqa: F811
    """The base URL of ep_world's Enterprise portal app, served on a free port for one test."""
    server = make_server("127.0.0.1", 0, ep_world.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)
