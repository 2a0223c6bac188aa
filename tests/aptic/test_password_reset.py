"""A forgotten password: a link by e-mail from the login page, Django's views and tokens,
the same answer whether an account has the address or not, limits per client address and
per mailbox."""

import re
import time
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.test import Client

from aptic.models import Role
from tests.conftest import start_celery_worker, stop_celery_worker
from tests.factories import member

pytestmark = pytest.mark.django_db

FORM = "/mot-de-passe/oublie/"
DONE = "/mot-de-passe/oublie/envoye/"


def reset_link(message):
    found = re.search(r"https?://\S+(/mot-de-passe/nouveau/\S+/\S+/)", message.body)
    assert found, message.body
    return found.group(1)


def test_the_login_page_links_to_the_forgotten_password_form(client):
    login = client.get("/connexion/").content.decode()
    assert f'href="{FORM}"' in login and "Mot de passe oublié ?" in login
    form = client.get(FORM)
    assert form.status_code == 200
    assert "Adresse e-mail de votre compte" in form.content.decode()


def test_a_person_chooses_a_new_password_through_the_link_and_signs_in_with_it(client):
    user = member(Role.MEDIATOR, email="alice@lieu.example", username="alice")
    response = client.post(FORM, {"email": "Alice@Lieu.example"})
    assert response.status_code == 302 and response["Location"] == DONE
    [message] = mail.outbox
    assert message.to == ["alice@lieu.example"]
    assert message.subject == "[#APTIC] Choisir un nouveau mot de passe"
    assert "valable 24 heures" in message.body
    link = reset_link(message)

    form = client.get(link, follow=True)
    assert "Nouveau mot de passe" in form.content.decode()
    set_password_url = form.redirect_chain[-1][0]
    done = client.post(set_password_url, {"new_password1": "un-jardin-sous-la-pluie",
                                          "new_password2": "un-jardin-sous-la-pluie"})
    assert done.status_code == 302 and done["Location"] == "/mot-de-passe/nouveau/termine/"
    user.refresh_from_db()
    assert user.check_password("un-jardin-sous-la-pluie")
    assert Client().login(username="alice@lieu.example", password="un-jardin-sous-la-pluie")
    # The link served once.
    again = Client().get(link, follow=True).content.decode()
    assert "Ce lien n’est plus valable" in again


def test_an_unknown_address_gets_the_same_answer_and_no_message(client):
    member(Role.MEDIATOR, email="alice@lieu.example")
    known = Client().post(FORM, {"email": "alice@lieu.example"}, follow=True)
    unknown = client.post(FORM, {"email": "personne@lieu.example"}, follow=True)
    assert known.redirect_chain == unknown.redirect_chain == [(DONE, 302)]
    strip = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
    assert strip.sub("", known.content.decode()) == strip.sub("", unknown.content.decode())
    assert "Si un compte #APTIC utilise cette adresse" in unknown.content.decode()
    assert [m.to for m in mail.outbox] == [["alice@lieu.example"]]


def test_requests_are_limited_per_client_address_not_per_forged_header(
        client, settings, trusted_proxies):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {
        **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "password_reset": "3/hour"}}
    statuses = [client.post(FORM, {"email": f"n{n}@lieu.example"},
                            HTTP_X_FORWARDED_FOR=f"10.0.0.{n}").status_code for n in range(4)]
    # Without a trusted proxy, X-Forwarded-For is anyone's text: the address is REMOTE_ADDR.
    assert statuses == [302, 302, 302, 429]
    refused = client.post(FORM, {"email": "x@lieu.example"})
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert "Trop de demandes de nouveau mot de passe" in refused.content.decode()
    # Behind one trusted proxy, each client address has its own allowance.
    trusted_proxies(1)
    assert client.post(FORM, {"email": "y@lieu.example"},
                       HTTP_X_FORWARDED_FOR="192.0.2.7").status_code == 302


def test_a_mailbox_receives_a_few_messages_an_hour_whoever_asks(settings):
    member(Role.MEDIATOR, email="alice@lieu.example")
    answers = [Client(REMOTE_ADDR=f"192.0.2.{n}").post(FORM, {"email": "alice@lieu.example"})
               for n in range(settings.PASSWORD_RESET_MAILS_PER_HOUR + 2)]
    assert {answer.status_code for answer in answers} == {302}
    assert len(mail.outbox) == settings.PASSWORD_RESET_MAILS_PER_HOUR


def test_an_english_reader_gets_the_message_in_english(client):
    member(Role.MEDIATOR, email="alice@lieu.example")
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    client.post(FORM, {"email": "alice@lieu.example"})
    [message] = mail.outbox
    assert "new password" in message.subject.lower()
    assert "valid for 24 hours" in message.body


@pytest.mark.django_db(transaction=True)
def test_a_celery_worker_sends_the_link(settings, tmp_path, nomenclature):
    """The look-up and the message happen on a worker, after the page has answered."""
    from aptic.celery import app

    member(Role.MEDIATOR, email="alice@lieu.example")
    app.conf.task_always_eager = False
    worker = start_celery_worker(settings.REDIS_URL, env={
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(tmp_path)})
    try:
        assert Client().post(FORM, {"email": "alice@lieu.example"}).status_code == 302
        deadline = time.monotonic() + 30
        while not list(tmp_path.iterdir()) and time.monotonic() < deadline:
            time.sleep(0.2)
        [sent] = list(tmp_path.iterdir())
        text = sent.read_text()
        assert "To: alice@lieu.example" in text
        assert urlsplit(settings.SITE_URL).netloc in text
    finally:
        stop_celery_worker(worker)
        app.conf.task_always_eager = True
