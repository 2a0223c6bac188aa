"""Shared addresses (cheques.guard, aptic.throttling): a signed-in mediator is limited on his
own account, so that colleagues behind one box never block each other; the address keeps a
much higher ceiling, and anonymous callers stay limited per address."""

import pytest
from django.contrib.auth.models import AnonymousUser

from aptic.errors import DomainError
from aptic.models import AuditEvent, Role
from cheques import codes, guard
from tests.cheques.redemption_fixtures import codes_of
from tests.factories import member

pytestmark = pytest.mark.django_db

LOOKUP = "/api/v1/cheques/{}/"
OFFICE = "203.0.113.5"


def look_up(api, user, code, address=OFFICE):
    api.force_authenticate(user)
    return api.get(LOOKUP.format(code), REMOTE_ADDR=address)


def wrong_code():
    return codes.generate_codes(1)[0]


def test_one_users_bad_cheque_look_ups_do_not_block_a_colleague_on_the_same_address(
    api, issued, place, mediator_x, settings
):
    settings.CHEQUE_LOOKUP_FAILURE_LIMIT = 3
    for _guess in range(3):
        assert look_up(api, mediator_x, wrong_code()).status_code == 404
    assert look_up(api, mediator_x, codes_of(issued, 1)[0]).status_code == 429
    colleague = member(Role.MEDIATOR, place.structure)
    assert look_up(api, colleague, codes_of(issued, 1)[0]).status_code == 200
    response = api.post("/api/v1/redemptions/", {"code": codes_of(issued, 1)[0],
                                                 "place": place.pk, "service": "acces-poste"},
                        format="json", REMOTE_ADDR=OFFICE)
    assert response.status_code == 201


def test_many_accounts_guessing_from_one_address_meet_the_address_ceiling(
    api, issued, place, settings
):
    settings.CHEQUE_LOOKUP_FAILURE_LIMIT = 2
    settings.ADDRESS_CEILING_FACTOR = 3
    accounts = [member(Role.MEDIATOR, place.structure) for _account in range(4)]
    for account in accounts[:3]:
        assert [look_up(api, account, wrong_code()).status_code for _guess in range(2)] == [
            404, 404]
    response = look_up(api, accounts[3], codes_of(issued, 1)[0])
    assert response.status_code == 429 and response.json()["code"] == "too_many_failures"
    assert AuditEvent.objects.filter(action="cheque_lookup.blocked", actor=accounts[2],
                                     details__failures=6).exists()
    assert look_up(api, accounts[3], codes_of(issued, 1)[0], "192.0.2.8").status_code == 200


def test_anonymous_look_ups_are_still_limited_per_address(settings, mediator_x):
    settings.CHEQUE_LOOKUP_FAILURE_LIMIT = 3
    anonymous = AnonymousUser()
    unknown = DomainError("unknown_cheque", "Aucun chèque ne porte ce code.", status=404)
    for _guess in range(3):
        guard.ensure_not_blocked(anonymous, OFFICE)
        guard.record_failure(anonymous, OFFICE, unknown)
    with pytest.raises(DomainError) as caught:
        guard.ensure_not_blocked(anonymous, OFFICE)
    assert caught.value.code == "too_many_failures" and caught.value.status == 429
    guard.ensure_not_blocked(anonymous, "192.0.2.8")
    # A signed-in mediator behind that address answers for his own account.
    guard.ensure_not_blocked(mediator_x, OFFICE)


def test_signed_in_users_behind_one_address_share_a_much_higher_rate_ceiling(
    api, issued, place, settings, monkeypatch
):
    from rest_framework.throttling import ScopedRateThrottle

    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES",
                        {**ScopedRateThrottle.THROTTLE_RATES, "cheque_lookup": "2/min"})
    settings.ADDRESS_CEILING_FACTOR = 3
    code = codes_of(issued, 1)[0]
    accounts = [member(Role.MEDIATOR, place.structure) for _account in range(4)]
    for account in accounts[:3]:
        assert [look_up(api, account, code).status_code for _n in range(2)] == [200, 200]
    assert look_up(api, accounts[3], code).status_code == 429
    assert look_up(api, accounts[3], code, "192.0.2.8").status_code == 200


def test_cheque_look_ups_count_on_the_address_the_trusted_proxy_saw(
    api, issued, place, mediator_x, settings, trusted_proxies
):
    trusted_proxies(1)
    settings.CHEQUE_LOOKUP_FAILURE_LIMIT = 1
    settings.ADDRESS_CEILING_FACTOR = 2
    api.force_authenticate(mediator_x)
    behind = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": f"6.6.6.6, {OFFICE}"}
    assert api.get(LOOKUP.format(wrong_code()), **behind).status_code == 404
    api.force_authenticate(member(Role.MEDIATOR, place.structure))
    assert api.get(LOOKUP.format(wrong_code()), **behind).status_code == 404
    # The office's ceiling is reached; a forged first entry does not leave it.
    api.force_authenticate(member(Role.MEDIATOR, place.structure))
    forged = {**behind, "HTTP_X_FORWARDED_FOR": f"7.7.7.7, {OFFICE}"}
    assert api.get(LOOKUP.format(codes_of(issued, 1)[0]), **forged).status_code == 429
    elsewhere = {**behind, "HTTP_X_FORWARDED_FOR": "192.0.2.8"}
    assert api.get(LOOKUP.format(codes_of(issued, 1)[0]), **elsewhere).status_code == 200
