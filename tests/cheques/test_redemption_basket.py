"""What a basket says before it is paid: the price of a service (a whole number of
sessions), and why each refused cheque is refused, with what to do. The domain, the API and
the cheque look-up that the scan page calls for each row say the same."""

import datetime

import pytest
from django.utils import timezone

from aptic.errors import DomainError
from aptic.models import AuditEvent
from cheques import lifecycle, redemption
from cheques.models import Cheque, IdempotentResponse, LedgerEntry, Redemption
from services.models import Service
from tests.cheques.redemption_fixtures import codes_of

pytestmark = pytest.mark.django_db

URL = "/api/v1/redemptions/"
WORKSHOP = "outils-atelier"  # « Atelier collectif (2 h) », 2 cheques a session
ONE_HOUR = "outils-accompagnement"  # 1 cheque a session


def post(api, user, body):
    api.force_authenticate(user)
    return api.post(URL, body, format="json")


def look_up(api, user, code, **query):
    api.force_authenticate(user)
    return api.get(f"/api/v1/cheques/{code}/", query)


def nothing_written(before_audit):
    return (not Redemption.objects.exists() and not LedgerEntry.objects.filter(
        kind=LedgerEntry.Kind.REDEEM).exists()
        and AuditEvent.objects.count() == before_audit
        and not Cheque.objects.filter(state=Cheque.State.REDEEMED).exists())


# --- the price of a service ----------------------------------------------------------------


@pytest.mark.parametrize("count, accepted, expected", [
    (1, False, [2]), (2, True, None), (3, False, [2, 4]), (4, True, None)])
def test_a_two_cheque_workshop_takes_two_four_six_cheques_in_the_domain(
    issued, place, mediator_x, count, accepted, expected
):
    basket = codes_of(issued, count)
    if accepted:
        result = redemption.redeem(user=mediator_x, place=place.pk, service=WORKSHOP,
                                   codes=basket)
        assert len(result.redemptions) == count
        return
    before = AuditEvent.objects.count()
    with pytest.raises(DomainError) as caught:
        redemption.redeem(user=mediator_x, place=place.pk, service=WORKSHOP, codes=basket)
    error = caught.value
    assert (error.code, error.status, error.extra["expected"]) == (
        "wrong_cheque_count", 422, expected)
    assert "« Atelier collectif (2 h) » coûte 2 chèques par séance" in error.detail
    assert f"Il en compte {count} ; il en faut {' ou '.join(map(str, expected))}." in error.detail
    assert nothing_written(before)


@pytest.mark.parametrize("count, status", [(1, 422), (2, 201), (3, 422), (4, 201)])
def test_a_two_cheque_workshop_takes_two_four_six_cheques_through_the_api(
    api, issued, place, mediator_x, count, status
):
    response = post(api, mediator_x, {"codes": codes_of(issued, count), "place": place.pk,
                                      "service": WORKSHOP})
    assert response.status_code == status, response.json()
    if status == 422:
        assert response.json()["code"] == "wrong_cheque_count"
        assert "il en faut" in response.json()["detail"]
        assert not Redemption.objects.exists()


def test_a_one_cheque_service_takes_any_count(issued, place, mediator_x):
    result = redemption.redeem(user=mediator_x, place=place.pk, service=ONE_HOUR,
                               codes=codes_of(issued, 3))
    assert result.total_cents == 3000


@pytest.mark.parametrize("count, status", [(4, 201), (2, 422)])
def test_two_sessions_of_a_workshop_take_exactly_four_cheques(api, issued, place, mediator_x,
                                                              count, status):
    response = post(api, mediator_x, {"codes": codes_of(issued, count), "place": place.pk,
                                      "service": WORKSHOP, "sessions": 2})
    assert response.status_code == status, response.json()
    if status == 422:
        body = response.json()
        assert body["code"] == "wrong_cheque_count" and body["expected"] == [4]
        assert body["detail"] == ("« Atelier collectif (2 h) » coûte 2 chèques par séance : "
                                  "pour 2 séances, le panier doit compter 4 chèques ; il en "
                                  "compte 2.")
        assert not Redemption.objects.exists()
    else:
        assert Redemption.objects.filter(undone_at=None).count() == 4


def test_sessions_in_the_domain_too(issued, place, mediator_x):
    with pytest.raises(DomainError) as caught:
        redemption.redeem(user=mediator_x, place=place.pk, service=ONE_HOUR,
                          codes=codes_of(issued, 2), sessions=3)
    assert caught.value.extra["expected"] == [3]
    redemption.redeem(user=mediator_x, place=place.pk, service=WORKSHOP,
                      codes=codes_of(issued, 2), sessions=1)


@pytest.mark.parametrize("sessions", [0, -1, 1000, "deux", 1.5, True, None])
def test_bad_sessions_are_a_field_error_and_write_nothing(api, issued, place, mediator_x,
                                                          sessions):
    before = AuditEvent.objects.count()
    api.force_authenticate(mediator_x)
    response = api.post(URL, {"codes": codes_of(issued, 2), "place": place.pk,
                              "service": WORKSHOP, "sessions": sessions}, format="json",
                        HTTP_IDEMPOTENCY_KEY=f"bad-sessions-{sessions}")
    assert response.status_code == 400, response.json()
    body = response.json()
    assert body["code"] == "invalid" and list(body["errors"]) == ["sessions"]
    assert body["errors"]["sessions"][0]
    assert nothing_written(before)
    assert not IdempotentResponse.objects.exists()


def test_a_client_that_sends_no_sessions_keeps_working(api, issued, place, mediator_x):
    response = post(api, mediator_x, {"code": codes_of(issued, 1)[0], "place": place.pk,
                                      "service": ONE_HOUR})
    assert response.status_code == 201


def test_the_api_documents_the_optional_sessions_field():
    from pathlib import Path

    import yaml

    schema = yaml.safe_load((Path(__file__).resolve().parents[2] / "docs/openapi.yaml")
                            .read_text())
    fields = schema["components"]["schemas"]["RedemptionCreateRequest"]
    assert "sessions" in fields["properties"] and "sessions" not in fields.get("required", [])
    assert fields["properties"]["sessions"]["minimum"] == 1


def test_the_price_of_a_zero_cheque_service_is_one_cheque(issued, place, mediator_x):
    Service.objects.filter(slug=ONE_HOUR).update(default_cheques=0)
    redemption.redeem(user=mediator_x, place=place.pk, service=ONE_HOUR,
                      codes=codes_of(issued, 3))


# --- why a cheque is refused, and what to do -----------------------------------------------


def refusal_of(api, user, code, place, service=ONE_HOUR):
    """The refusal of one cheque, as the domain raises it and as the look-up of the scan
    page shows it on the cheque's row: both must agree."""
    with pytest.raises(DomainError) as caught:
        redemption.redeem(user=user, place=place.pk, service=service, codes=[code])
    response = look_up(api, user, code, place=place.pk, service=service)
    assert response.status_code == 200, response.json()
    shown = response.json()
    assert shown["redeemable"] is False
    assert shown["refusal"]["code"] == caught.value.code
    assert shown["refusal"]["detail"] == caught.value.detail
    return caught.value


def test_an_already_redeemed_cheque_says_when_and_here_where(api, clock, issued, place,
                                                             mediator_x):
    code = codes_of(issued, 1)[0]
    moment = clock.now - datetime.timedelta(hours=3)
    redemption.redeem(user=mediator_x, place=place.pk, service=ONE_HOUR, codes=[code],
                      now=moment)
    error = refusal_of(api, mediator_x, code, place)
    when = timezone.localtime(moment)
    assert error.code == "already_redeemed" and error.status == 409
    assert error.detail == (
        f"Ce chèque a déjà été encaissé le {when:%d/%m/%Y} à {when:%H:%M}, ici : "
        f"{place.name}. Un chèque ne se paie qu’une fois ; voyez l’historique des "
        f"encaissements.")
    assert error.extra["place"] == {"id": place.pk, "name": place.name}


def test_an_already_redeemed_cheque_elsewhere_says_when_but_not_where(
    api, clock, issued, place, mediator_x, other_place, mediator_y
):
    code = codes_of(issued, 1)[0]
    redemption.redeem(user=mediator_x, place=place.pk, service=ONE_HOUR, codes=[code])
    error = refusal_of(api, mediator_y, code, other_place)
    assert "dans un autre lieu" in error.detail and place.name not in error.detail
    assert clock.today.strftime("%d/%m/%Y") in error.detail
    assert "place" not in error.extra and "redeemed_at" in error.extra


def test_a_cheque_not_activated_says_to_ask_the_prescriber(api, make_order, funder_a,
                                                           manager_a, operator, place,
                                                           mediator_x):
    order = make_order(funder_a, manager_a, approve_by=operator, requires_activation=True)
    error = refusal_of(api, mediator_x, codes_of(order, 1)[0], place)
    assert error.code == "not_activated"
    assert "prescripteur" in error.detail and "remise" in error.detail


def test_an_expired_cheque_gives_its_last_day_of_acceptance(api, clock, make_order, funder_a,
                                                            manager_a, operator, place,
                                                            mediator_x):
    order = make_order(funder_a, manager_a, approve_by=operator)
    clock.move_to(order.expiry_date + datetime.timedelta(days=1))
    error = refusal_of(api, mediator_x, codes_of(order, 1)[0], place)
    assert error.code == "expired"
    assert error.detail == ("Ce chèque a expiré : il était accepté jusqu’au "
                            f"{order.expiry_date:%d/%m/%Y} inclus.")
    assert error.extra["accepted_until"] == order.expiry_date.isoformat()


def test_a_cancelled_cheque_says_so(api, issued, place, mediator_x):
    code = codes_of(issued, 1)[0]
    lifecycle.cancel_cheque(code, actor=issued.created_by, reason="Volé")
    error = refusal_of(api, mediator_x, code, place)
    assert error.code == "cancelled" and "perte ou vol" in error.detail


def test_a_service_the_funder_does_not_pay_names_the_services_it_pays(
    api, make_order, funder_a, manager_a, operator, place, mediator_x
):
    allowed = Service.objects.filter(slug__in=["demarches-accompagnement", "acces-poste"])
    order = make_order(funder_a, manager_a, approve_by=operator, allowed_services=allowed)
    error = refusal_of(api, mediator_x, codes_of(order, 1)[0], place)
    assert error.code == "service_not_allowed"
    assert error.detail == (
        "Le financeur de ce chèque ne paie pas « Accompagnement individuel (1 h) ». Il "
        "accepte : Accompagnement individuel aux démarches en ligne (1 h), Accès accompagné "
        "à un poste et à internet (1 h).")


def test_a_place_outside_the_territory_names_the_departements_allowed(
    api, make_order, funder_a, manager_a, operator, place, mediator_x
):
    order = make_order(funder_a, manager_a, approve_by=operator, territory=["69", "2A"])
    error = refusal_of(api, mediator_x, codes_of(order, 1)[0], place)
    assert error.code == "territory_not_allowed"
    assert error.detail == ("Ce chèque n’est accepté que dans ces départements : "
                            "2A (Corse-du-Sud), 69 (Rhône). Ce lieu est dans le département "
                            "33 (Gironde).")


def test_an_unknown_cheque_is_a_404_for_the_row_too(api, place, mediator_x):
    from cheques import codes

    code = codes.generate_codes(1)[0]
    with pytest.raises(DomainError) as caught:
        redemption.redeem(user=mediator_x, place=place.pk, service=ONE_HOUR, codes=[code])
    response = look_up(api, mediator_x, code, place=place.pk, service=ONE_HOUR)
    assert caught.value.code == response.json()["code"] == "unknown_cheque"
    assert response.status_code == 404


def test_a_redeemable_cheque_looked_up_for_a_place_and_service_says_so(api, issued, place,
                                                                       mediator_x):
    response = look_up(api, mediator_x, codes_of(issued, 1)[0], place=place.pk,
                       service=WORKSHOP)
    assert response.json()["redeemable"] is True and response.json()["refusal"] is None


def test_a_look_up_for_a_place_that_is_not_yours_is_refused(api, issued, place, mediator_y):
    response = look_up(api, mediator_y, codes_of(issued, 1)[0], place=place.pk)
    assert response.status_code == 403
