"""A property-based run against the API's own OpenAPI schema (schemathesis): no request,
valid or not, gets a 500."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from service.helpers import serve_app
from veil.apps import service_app
from veil.service.access import Role
from veil.service.settings import ServiceSettings
from veil.service.store import Store

pytestmark = pytest.mark.slow

# examples per operation and kind (valid, invalid): reaches every validator and handler
# while the whole run stays around a minute on two cores
EXAMPLES = 10

# the schema as `veil serve` publishes it (building the app touches no file)
SCHEMA = schemathesis.openapi.from_dict(
    service_app(ServiceSettings(data_dir=Path(tempfile.gettempdir()) / "veil-schema")).openapi()
)
OPERATIONS = {op.label: op for op in (r.ok() for r in SCHEMA.get_all_operations())}


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """The API (no worker: nothing submitted runs) and an admin's token."""
    config = ServiceSettings(
        data_dir=tmp_path_factory.mktemp("fuzz-data"),
        max_upload_bytes=1024**2,
        webhook_secret="fuzz-secret",
    )
    store = Store(config)
    token = store.tokens.create("fuzzer", Role.ADMIN)
    try:
        with serve_app(config) as url:
            yield url, token
    finally:
        store.close()


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_no_request_gets_a_server_error(label: str, fuzzed: tuple[str, str]):
    url, token = fuzzed
    operation = OPERATIONS[label]
    cases = operation.as_strategy(GenerationMode.POSITIVE) | operation.as_strategy(
        GenerationMode.NEGATIVE
    )

    @given(case=cases)
    @settings(
        max_examples=2 * EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def never_500(case) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        response = case.call(base_url=url, headers=headers, timeout=60)
        assert response.status_code < 500, f"{label}: {response.text[:300]}"

    never_500()
