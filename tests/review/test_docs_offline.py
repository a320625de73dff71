"""/docs and /redoc work offline: rendered in Chromium with every request kept on the server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from service.helpers import serve_app
from veil.service.settings import ServiceSettings

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def docs_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve_app(ServiceSettings(data_dir=tmp_path_factory.mktemp("docs-data"))) as url:
        yield url


@pytest.mark.parametrize(
    ("path", "title"),
    [("/docs", ".swagger-ui .info .title"), ("/redoc", "h1")],
)
def test_the_api_docs_render_with_no_request_leaving_the_machine(
    page, docs_url: str, path: str, title: str
):
    requests: list[str] = []
    elsewhere: list[str] = []

    def route(r) -> None:
        requests.append(r.request.url)
        if r.request.url.startswith((docs_url, "data:", "blob:")):
            r.continue_()
        else:
            elsewhere.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    answer = page.goto(docs_url + path)
    assert "default-src 'self'" in answer.headers["content-security-policy"]
    heading = page.locator(title).first
    heading.wait_for(timeout=60_000)
    assert "veil" in heading.inner_text()
    page.wait_for_load_state("networkidle")
    assert elsewhere == []
    assert any(u.endswith("/openapi.json") for u in requests)
    assert any("/docs-static/" in u for u in requests)
