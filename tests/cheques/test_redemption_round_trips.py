"""A redemption through the API costs a handful of SQL statements, counted as
CaptureQueriesContext counts them: every statement Django sends, BEGIN and COMMIT included
(they are logged since Django 4.2); here, in a transactional test, the redemption's own
transaction is a real BEGIN … COMMIT, as in production."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from aptic.models import AuditEvent
from aptic.tokens import create_token
from cheques.models import Cheque, IdempotentResponse, LedgerEntry, Redemption
from tests.cheques.redemption_fixtures import codes_of

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/api/v1/redemptions/"
MAX_STATEMENTS = 6


def redeem(client, key, token, place, code):
    return client.post(URL, {"code": code, "place": place.pk, "service": "acces-poste"},
                       content_type="application/json", HTTP_AUTHORIZATION=f"Token {token}",
                       HTTP_IDEMPOTENCY_KEY=key)


def test_one_api_redemption_with_a_token_and_a_key_takes_at_most_six_statements(
        issued, place, mediator_x):
    _token, key = create_token(user=mediator_x, name="caisse")
    first, second = codes_of(issued, 2)
    client = Client()
    # The first use of a token records its last-used date (once a minute at most).
    assert redeem(client, "k-1", key, place, first).status_code == 201
    with CaptureQueriesContext(connection) as queries:
        response = redeem(client, "k-2", key, place, second)
    assert response.status_code == 201, response.content
    statements = [query["sql"] for query in queries.captured_queries]
    assert len(statements) <= MAX_STATEMENTS, "\n".join(statements)
    # Everything a redemption writes was written all the same.
    cheque = Cheque.objects.get(code=second)
    assert cheque.state == Cheque.State.REDEEMED
    redemption = Redemption.objects.get(cheque=cheque)
    assert response.json()["redemptions"][0]["id"] == redemption.pk
    assert AuditEvent.objects.filter(action="cheque.redeemed",
                                     object_id=str(cheque.pk)).count() == 1
    assert LedgerEntry.objects.filter(reference=f"basket:{redemption.basket}").count() == 1
    assert IdempotentResponse.objects.get(key="k-2").body == response.json()


def test_the_second_redemption_compiles_no_sql(issued, place, mediator_x, monkeypatch):
    """The SELECTs of a redemption (token, place and service, cheques to lock) are built by
    the ORM once (aptic.prepared), and its writes assembled once (aptic.statements), not at
    every call."""
    from django.db.models.sql.compiler import (
        SQLCompiler,
        SQLInsertCompiler,
        SQLUpdateCompiler,
    )

    _token, key = create_token(user=mediator_x, name="caisse")
    first, second = codes_of(issued, 2)
    client = Client()
    assert redeem(client, "k-1", key, place, first).status_code == 201
    compiled = []
    as_sql = SQLCompiler.as_sql

    def counting(self, *args, **kwargs):
        if type(self) is SQLCompiler:
            compiled.append(self.query.model.__name__)
        return as_sql(self, *args, **kwargs)

    monkeypatch.setattr(SQLCompiler, "as_sql", counting)
    for compiler in (SQLInsertCompiler, SQLUpdateCompiler):
        monkeypatch.setattr(compiler, "as_sql", lambda self, *args, **kwargs: compiled.append(
            type(self).__name__))
    assert redeem(client, "k-2", key, place, second).status_code == 201
    assert compiled == []


@pytest.mark.parametrize("prepared", [True, False])
def test_the_redemption_statements_are_prepared_by_postgres_unless_turned_off(
        issued, place, mediator_x, settings, prepared):
    """Parsed and planned once per connection, then only executed; PREPARED_STATEMENTS=0
    (a pooler that cannot keep them) sends them as plain SQL."""
    settings.PREPARED_STATEMENTS = prepared
    _token, key = create_token(user=mediator_x, name="caisse")
    client = Client()
    for index, code in enumerate(codes_of(issued, 2)):
        assert redeem(client, f"k-{index}", key, place, code).status_code == 201
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        kept = " ".join(row[0] for row in cursor.fetchall())
    expected = ['FROM "aptic_apitoken"', 'FROM "places_place"', 'FROM "cheques_cheque"',
                'WITH "cheques" AS (UPDATE "cheques_cheque"']
    assert [part in kept for part in expected] == [prepared] * 4


def test_a_replayed_refusal_is_not_counted_again_by_the_look_up_guard(place, mediator_x,
                                                                      settings):
    """The key is not looked up first any more: a retry tries again, finds the key taken and
    replays the stored refusal, without counting a second failed look-up."""
    from cheques import codes

    settings.CHEQUE_LOOKUP_FAILURE_LIMIT = 2
    _token, key = create_token(user=mediator_x, name="caisse")
    client = Client()
    unknown = codes.generate_codes(1)[0]
    answers = [redeem(client, "k-1", key, place, unknown) for _ in range(3)]
    assert [answer.status_code for answer in answers] == [404, 404, 404]
    assert answers[0].content == answers[1].content == answers[2].content
    # One failure counted: another unknown code is refused as unknown, not blocked.
    other = redeem(client, "k-2", key, place, codes.generate_codes(1)[0])
    assert other.json()["code"] == "unknown_cheque"
