"""Schemathesis over the API's OpenAPI document: any request it allows gets no 5xx."""

from __future__ import annotations

import os
import tempfile

import schemathesis
from hypothesis import HealthCheck, settings

from labecon.store import Store
from labecon.web import Limits, create_app

# One store for the module, with a scenario so that some generated requests find it; runs
# are kept tiny so that the generated ones finish at once.
_folder = tempfile.mkdtemp(prefix="labecon-fuzz-")
_store = Store(f"sqlite:///{os.path.join(_folder, 'fuzz.db')}")
_store.create_scenario("nwc", "extends: nwc\n")
app = create_app(_store, limits=Limits(max_samples=50, max_months=120, max_request_bytes=50_000))
schema = schemathesis.openapi.from_asgi("/openapi.json", app)


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_request_the_schema_allows_is_a_server_error(case: schemathesis.Case) -> None:
    response = case.call()
    assert response.status_code < 500, (case.method, case.formatted_path, response.text[:500])
