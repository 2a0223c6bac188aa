import os
import subprocess
import sys
import time
import urllib.request

import pytest
from django.core.management import CommandError, call_command

from aptic.models import Membership, Organisation, User
from tests.conftest import ROOT, database_url_for_subprocess
from tests.helpers import free_port

pytestmark = pytest.mark.django_db


def counts():
    return (User.objects.count(), Organisation.objects.count(), Membership.objects.count())


def test_the_demo_command_is_idempotent_and_prints_the_accounts(capsys, nomenclature, settings):
    settings.DEBUG = True  # pytest-django turns DEBUG off; the demo runs with it on
    call_command("demo")
    first = counts()
    call_command("demo")
    assert counts() == first
    out = capsys.readouterr().out
    for username in ("operateur", "financeur", "prescripteur", "gestionnaire", "mediateur"):
        assert username in out
        assert User.objects.get(username=username).check_password(username)
    assert {o.kind for o in Organisation.objects.all()} == set(Organisation.Kind.values)


def test_the_demo_command_refuses_to_run_in_production_without_force(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--force"):
        call_command("demo")
    assert not User.objects.exists()


def test_api_token_prints_a_new_working_token_each_time(capsys, demo, client):
    call_command("api_token", "financeur")
    call_command("api_token", "financeur@demo.aptic.example")
    first, second = capsys.readouterr().out.split()
    assert first != second and len(first) == 40
    for key in (first, second):
        response = client.get("/api/v1/services/", HTTP_AUTHORIZATION=f"Token {key}")
        assert response.status_code == 200
        assert response.wsgi_request.user == demo["financeur"]


def test_api_token_for_an_unknown_user_says_so_and_exits_1():
    result = subprocess.run(
        [sys.executable, "manage.py", "api_token", "personne"], cwd=ROOT,
        capture_output=True, text=True,
        env={**os.environ, "DATABASE_URL": database_url_for_subprocess()},
    )
    assert result.returncode == 1
    assert "Utilisateur inconnu" in result.stderr


def test_the_demo_path_works_on_an_embedded_sqlite_file_with_eager_tasks(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    env["MEDIA_ROOT"] = str(tmp_path / "media")
    env["EMAIL_FILE_PATH"] = str(tmp_path / "mail")
    env["SITE_URL"] = f"http://127.0.0.1:{port}"
    for command in (["migrate", "--noinput"], ["demo"]):
        result = subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stderr
    assert "mediateur" in result.stdout
    assert f"Site : http://127.0.0.1:{port}/" in result.stdout
    # One line per mail, the mail itself in a file: no MIME dump in the console.
    output = result.stdout + result.stderr
    assert "Content-Type:" not in output and "MIME-Version" not in output
    mails = [line for line in result.stdout.splitlines() if line.startswith("Courriel à ")]
    assert mails and all(line.endswith(".log)") for line in mails)
    assert "Content-Type:" in "".join(p.read_text() for p in (tmp_path / "mail").iterdir())
    assert "No hostname was supplied" not in output
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as reply:
                    assert reply.status == 200
                    assert "APTIC" in reply.read().decode()
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_make_demo_serves_on_the_port_it_is_given_and_links_to_it():
    result = subprocess.run(["make", "-n", "demo", "PORT=8123"], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    commands = [line for line in result.stdout.splitlines() if "manage.py" in line]
    assert len(commands) == 3
    assert all("SITE_URL=http://127.0.0.1:8123" in line for line in commands)
    assert commands[-1].endswith("runserver 127.0.0.1:8123")
