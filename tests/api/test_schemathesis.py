"""Property-based tests of the whole API from its own OpenAPI schema (schemathesis).

Every operation is called with data generated from the schema (a bounded number of examples
each): no response is a 5xx, and every response matches the schema (status code, content type,
body). The application here has its job pool closed (``max_jobs=0``), so the endpoints that
start background work validate their input and then answer 429, as documented; the jobs
themselves run in ``test_api_*.py`` with small settings. The two synchronous virtual-trial
simulations take seconds each at their bounds, so they get generated examples only (not the
coverage phase's boundary values, several dozen of them).
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from her2lab.api import create_app

# schemathesis's ASGI client sends Host: testserver, so this app also answers to that name
schema = schemathesis.openapi.from_asgi(
    "/openapi.json", create_app(max_jobs=0, allowed_hosts=["testserver"]))
SLOW = r"^/api/virtual-trials/(simulate|predict)$"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
BOUNDED = {"deadline": None, "derandomize": True, "suppress_health_check": list(HealthCheck)}


@schema.exclude(path_regex=SLOW).parametrize()
@settings(max_examples=5, **BOUNDED)
def test_every_operation_answers_within_its_schema_and_never_with_a_5xx(case):
    case.call_and_validate(checks=CHECKS)


@schema.include(path_regex=SLOW).parametrize()
@settings(max_examples=4, phases=[Phase.generate], **BOUNDED)
def test_the_virtual_trial_simulations_answer_within_their_schema(case):
    case.call_and_validate(checks=CHECKS)
