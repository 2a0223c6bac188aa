
import pytest
from django.core import mail

from aptic.models import AuditEvent
from cheques.models import Booklet, Cheque, Order

pytestmark = pytest.mark.django_db


@pytest.fixture
def order_body(clock):
    """An order's terms, valid until 31 December of next year."""
    def body(**extra):
        return {"booklets": 3, "cheques_per_booklet": 10, "face_value_cents": 1000,
                "valid_until": f"{clock.today.year + 1}-12-31", **extra}

    return body


def test_a_funder_manager_orders_and_gets_the_id_status_and_total(order_body, api, manager_a,
                                                                   funder_a, nomenclature):
    api.force_authenticate(manager_a)
    response = api.post("/api/v1/orders/", order_body(
        allowed_services=["demarches-en-ligne"] if False else [], territory=["33", "2A"],
        requires_activation=True), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "submitted"
    assert body["total_cents"] == 30000
    order = Order.objects.get(pk=body["id"])
    assert order.funder == funder_a
    assert order.territory == ["2A", "33"]
    assert AuditEvent.objects.for_object(order).filter(action="order.submitted").exists()


@pytest.mark.parametrize("bad", [
    {"booklets": 0}, {"booklets": -1}, {"booklets": 100_001}, {"cheques_per_booklet": 21},
    {"face_value_cents": 0}, {"valid_until": "2000-01-01"}, {"territory": ["99"]},
    {"allowed_services": ["service-qui-n-existe-pas"]},
])
def test_bad_input_gives_400_with_field_errors_and_writes_nothing(order_body, api, manager_a,
                                                                  nomenclature, bad):
    api.force_authenticate(manager_a)
    response = api.post("/api/v1/orders/", order_body(**bad), format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert set(bad) <= set(response.json()["errors"])
    assert not Order.objects.exists()
    assert not AuditEvent.objects.exists()


def test_known_service_slugs_are_accepted(order_body, api, manager_a, nomenclature):
    from services.models import Service

    slugs = list(Service.objects.active().values_list("slug", flat=True)[:2])
    api.force_authenticate(manager_a)
    response = api.post("/api/v1/orders/", order_body(allowed_services=slugs), format="json")
    assert response.status_code == 201
    order = Order.objects.get()
    assert sorted(order.allowed_services.values_list("slug", flat=True)) == sorted(slugs)


def test_funder_a_cannot_see_or_approve_the_orders_of_funder_b(api, manager_a, manager_b,
                                                               funder_b, make_order):
    order = make_order(funder_b, manager_b)
    api.force_authenticate(manager_a)
    assert api.get(f"/api/v1/orders/{order.pk}/").status_code == 404
    assert api.get("/api/v1/orders/").json()["count"] == 0
    # Another funder's order answers as an unknown one would.
    assert api.post(f"/api/v1/orders/{order.pk}/approve/").status_code == 404
    assert api.get(f"/api/v1/orders/{order.pk}/cheques/").status_code == 404
    order.refresh_from_db()
    assert order.status == Order.Status.SUBMITTED


def test_only_the_operator_approves_even_the_funders_own_order(api, manager_a, funder_a,
                                                               make_order):
    order = make_order(funder_a, manager_a)
    api.force_authenticate(manager_a)
    response = api.post(f"/api/v1/orders/{order.pk}/approve/")
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert not Cheque.objects.exists()


def test_the_operator_approves_and_the_cheques_are_issued(clock, api, operator, manager_a, funder_a,
                                                          make_order,
                                                          django_capture_on_commit_callbacks):
    order = make_order(funder_a, manager_a, booklets=3, cheques_per_booklet=4)
    api.force_authenticate(operator)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/v1/orders/{order.pk}/approve/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "issued"
    assert body["cheques"]["issued"] == 12
    assert body["issuance"] == {"issued": 12, "total": 12, "percent": 100}
    numbers = list(Booklet.objects.filter(order=order).values_list("number", flat=True))
    year = clock.today.year
    assert len(numbers) == 3 and all(n.startswith(f"{year}-") for n in numbers)
    assert Cheque.objects.filter(number=f"{numbers[0]}-04").exists()
    assert AuditEvent.objects.filter(action="booklet.issued").count() == 3
    assert AuditEvent.objects.for_object(order).filter(action="order.approved").exists()
    assert AuditEvent.objects.for_object(order).filter(action="order.issued").exists()
    assert mail.outbox and "validée" in mail.outbox[0].subject
    second = api.post(f"/api/v1/orders/{order.pk}/approve/")
    assert second.status_code == 409 and second.json()["code"] == "invalid_status"


def test_the_operator_rejects_with_a_reason_and_the_funder_is_told(
    api, operator, manager_a, funder_a, make_order, django_capture_on_commit_callbacks
):
    order = make_order(funder_a, manager_a)
    api.force_authenticate(operator)
    assert api.post(f"/api/v1/orders/{order.pk}/reject/", {}).status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/v1/orders/{order.pk}/reject/", {"reason": "Budget épuisé"})
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == Order.Status.REJECTED
    assert order.rejection_reason == "Budget épuisé"
    assert "Budget épuisé" in mail.outbox[-1].body


def test_the_operator_sees_all_orders_and_the_print_file(api, operator, manager_a, manager_b,
                                                         funder_a, funder_b, make_order):
    make_order(funder_a, manager_a)
    order = make_order(funder_b, manager_b, approve_by=operator)
    api.force_authenticate(operator)
    assert api.get("/api/v1/orders/").json()["count"] == 2
    page = api.get(f"/api/v1/orders/{order.pk}/cheques/?limit=3").json()
    assert page["count"] == 10
    row = page["results"][0]
    assert set(row) >= {"number", "code", "qr_payload", "state"}
    assert row["qr_payload"].endswith(f"/c/{row['code']}?s=" + row["qr_payload"].split("s=")[1])


def test_an_anonymous_caller_gets_a_json_error(api):
    response = api.get("/api/v1/orders/")
    assert response.status_code in (401, 403)
    assert "code" in response.json()
