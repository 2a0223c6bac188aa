import pytest

from tests.helpers import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_financeur_logs_in_with_chromium_and_sees_the_home(page, demo):
    log_in(page, "financeur")
    page.wait_for_url("**/")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Bonjour")
    assert page.get_by_text("Département de la Gironde").is_visible()


def test_a_wrong_password_in_chromium_shows_the_french_error(page, demo):
    log_in(page, "financeur", "mauvais")
    assert page.get_by_role("alert").first.inner_text().startswith("Identifiant ou mot de passe")
