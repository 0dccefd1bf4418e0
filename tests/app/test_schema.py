"""The JSON API against its own OpenAPI schema (``/openapi.json``) with Schemathesis:
generated requests for every operation — values that fit the schema and values that do
not — never get a 5xx, and every answer (status code, content type, body) is one the
schema declares.  On the local app (every right) with the CSRF token, on the demo
workspace; the generation is derandomized, so a failure repeats."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable

schemathesis = pytest.importorskip("schemathesis")
from schemathesis.generation.modes import GenerationMode  # noqa: E402
from schemathesis.specs.openapi.checks import positive_data_acceptance  # noqa: E402


def test_the_api_keeps_to_its_schema(client: TestClient) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    headers = {"X-CSRF-Token": client.headers["X-CSRF-Token"]}
    failures: list[str] = []
    operations = [r.ok() for r in schema.get_all_operations()]
    assert len(operations) >= 50
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=6, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck))
            def run(case) -> None:  # noqa: ANN001 - schemathesis' Case
                # semantic checks (a map text that is no map) answer 400: "schema-valid data
                # rejected" is not a fault of the schema
                case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

            try:
                run()
            except Unsatisfiable:  # nothing of the operation can be made invalid (no parameters)
                pass
            except BaseException as exc:  # noqa: BLE001 - every failure is listed (they are exception groups)
                if isinstance(exc, KeyboardInterrupt):
                    raise
                failures.append(f"{operation.label} ({mode}): {str(exc).strip()[:600]}")
    assert not failures, f"{len(failures)} operations break their schema:\n\n" + "\n\n".join(failures)
