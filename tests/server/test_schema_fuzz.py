"""Schemathesis (a tool nobody here wrote) sends generated input, valid and not, to every
operation of the server's own OpenAPI schema, on the real app with fake models: no answer may be
a 500, and each must match what the schema says of it. Bounded in examples and in time."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from sayso.server.app import create_app
from sayso.server.security import ServerOptions
from tests.server.conftest import TOKENS, fake_workspace

ADMIN_TOKEN = "alice-token-0123456789"
OPTIONS = ServerOptions(port=8765, tokens=TOKENS, admins=frozenset({"alice"}), clone_backends=("http://tts.local",))
APP = create_app(fake_workspace(OPTIONS))
schema = schemathesis.openapi.from_dict(APP.openapi())  # the schema the server serves at /openapi.json
schema.app = APP
CHECKS = [not_a_server_error, content_type_conformance, response_schema_conformance, negative_data_rejection]


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_generated_requests_never_get_a_500_or_break_the_schema(case: schemathesis.Case) -> None:
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}", "Host": "127.0.0.1:8765"}
    case.call_and_validate(
        base_url="http://127.0.0.1:8765", headers=headers, checks=CHECKS, excluded_checks=[status_code_conformance]
    )
