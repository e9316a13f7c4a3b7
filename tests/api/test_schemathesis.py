"""Property-based tests of the whole API from its own OpenAPI schema (schemathesis).

Every operation is called with data generated from the schema (a bounded number of examples
each): no response is a 5xx, and every response matches the schema (status code, content type,
body). The application here has its job pool closed (``max_jobs=0``), so the endpoints that
start background work validate their input and then answer 429, as documented; the jobs
themselves run in ``test_api_*.py`` with small settings.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from her2lab.api import create_app

schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(max_jobs=0, slot_wait_s=5))


@schema.parametrize()
@settings(max_examples=5, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_every_operation_answers_within_its_schema_and_never_with_a_5xx(case):
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    case.call_and_validate(checks=[not_a_server_error, status_code_conformance,
                                   content_type_conformance, response_schema_conformance])
