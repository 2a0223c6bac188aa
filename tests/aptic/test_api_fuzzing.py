"""Property-based fuzzing of the partner API against its committed contract.

Every operation of docs/openapi.yaml is called with generated data (valid and invalid) through
the WSGI application, as an anonymous visitor, a funder manager and a mediator, on real rows.
No answer may be a server error, and every answer must be one the contract describes (status
code, content type, headers, body)."""

import pytest
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from rest_framework.throttling import ScopedRateThrottle
from schemathesis.checks import not_a_server_error
from schemathesis.openapi import from_path
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from aptic import tokens
from cheques.ordering import approve_order, create_order
from tests.conftest import ROOT
from tests.factories import make_place

schema = from_path(ROOT / "docs" / "openapi.yaml")
application = get_wsgi_application()

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]
CALLERS = ("anonymous", "financeur", "mediateur")
# The current test's real rows (filled by `api_callers`): half the generated cases get them,
# so that calls reach real orders, booklets, cheques and places, not only 404s.
ROWS = {}


def with_real_rows(case, index):
    def real(key):
        return ROWS[key][index % len(ROWS[key])]

    collection = case.operation.path.split("/")[3]  # /api/v1/<collection>/...
    for name in list(case.path_parameters or {}):
        key = collection if name == "id" else name
        if key in ROWS:
            case.path_parameters[name] = real(key)
    if isinstance(case.body, dict):
        values = {"place": real("places"), "code": real("code"),
                  "codes": [real("code"), ROWS["code"][(index + 1) % len(ROWS["code"])]],
                  "service": "acces-poste"}
        case.body.update({key: value for key, value in values.items() if key in case.body})
        case.body.pop("signatures", None)  # signatures of other codes would only be refused
    return case


@schema.hook
def flatmap_case(context, case):
    return st.one_of(st.none(), st.integers(0, 20)).map(
        lambda index: case if index is None else with_real_rows(case, index))


@pytest.fixture
def generous_limits(settings, monkeypatch):
    """Throttling and the look-up guard answer 429 (documented) long before the fuzzer is done
    with an operation: loosen them so that calls get past them to the code behind."""
    settings.CHEQUE_LOOKUP_FAILURE_LIMIT = 100_000
    rates = dict.fromkeys(("cheque_lookup", "redemption", "login"), "100000/min")
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES",
                        {**ScopedRateThrottle.THROTTLE_RATES, **rates})


@pytest.fixture
def api_callers(generous_limits, demo):
    """Authorization headers of the three callers, with real rows behind them: an issued order
    of the funder (with booklets and cheques) and a qualified place of the mediator."""
    order = create_order(funder=demo["funder"], created_by=demo["financeur"], booklets=2,
                         cheques_per_booklet=5, contact_name="Contact",
                         contact_email="c@example.org")
    approve_order(order, actor=demo["operateur"])
    place = make_place(demo["structure"])
    cheques = order.cheques.order_by("number")
    ROWS.clear()
    ROWS.update(orders=[order.pk], places=[place.pk],
                number=list(order.booklet_set.order_by("number").values_list("number", flat=True)),
                code=[cheque.display_code for cheque in cheques])
    headers = {"anonymous": {}}
    for username in CALLERS[1:]:
        _token, key = tokens.create_token(user=demo[username], name="fuzz")
        headers[username] = {"Authorization": f"Token {key}"}
    return headers


@pytest.fixture
def wsgi_in_test_transaction():
    """The requests run in this thread, inside the test's transaction: like Django's test
    client, keep the request signals from closing the connection under it."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield application
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
# Derandomized: every run sends the same cases, so a failure found once is found again.
@settings(max_examples=20, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.function_scoped_fixture])
def test_no_generated_call_breaks_the_api_or_its_contract(case, api_callers,
                                                           wsgi_in_test_transaction):
    for caller in CALLERS:
        case.call_and_validate(app=wsgi_in_test_transaction, headers=api_callers[caller],
                               checks=CHECKS)
