import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from tests.helpers import PRODUCTION, production_environment

PRINT_SETTINGS = (
    "import django, json; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'engine': s.DATABASES['default']['ENGINE'], "
    "'name': str(s.DATABASES['default']['NAME']), 'eager': s.CELERY_TASK_ALWAYS_EAGER, "
    "'cache': s.CACHES['default']['BACKEND'], 'debug': s.DEBUG, 'hosts': s.ALLOWED_HOSTS, "
    "'site': s.SITE_URL, 'media': str(s.MEDIA_ROOT), 'lang': s.LANGUAGE_CODE, "
    "'tz': s.TIME_ZONE, 'use_tz': s.USE_TZ}))"
)


def settings_with(script=PRINT_SETTINGS, **env):
    base = {k: v for k, v in os.environ.items()
            if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS",
                         "SITE_URL", "MEDIA_ROOT"}}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
        env={**base, "DJANGO_SETTINGS_MODULE": "aptic.settings", **env},
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_with_no_environment_the_demo_runs_on_sqlite_with_eager_tasks():
    found = settings_with()
    assert found["engine"] == "django.db.backends.sqlite3"
    assert found["name"].endswith("demo.sqlite3")
    assert found["eager"] is True
    assert found["cache"].endswith("LocMemCache")
    assert (found["lang"], found["tz"], found["use_tz"]) == ("fr", "Europe/Paris", True)


def test_database_redis_and_site_come_from_the_environment():
    found = settings_with(**{
        **PRODUCTION, "DATABASE_URL": "postgres://aptic:secret@db.example:5433/aptic_prod",
        "REDIS_URL": "redis://cache.example:6379/2", "SECRET_KEY": "x" * 60,
        "ALLOWED_HOSTS": "aptic.example,www.aptic.example",
        "SITE_URL": "https://aptic.example/", "MEDIA_ROOT": "/srv/aptic/media",
    })
    assert found["engine"] == "django.db.backends.postgresql"
    assert found["name"] == "aptic_prod"
    assert found["eager"] is False
    assert found["cache"].endswith("RedisCache")
    assert found["debug"] is False
    assert found["hosts"] == ["aptic.example", "www.aptic.example"]
    assert found["site"] == "https://aptic.example"
    assert found["media"] == "/srv/aptic/media"


PRINT_OUTAGE_SETTINGS = (
    "import json; from aptic.celery import app; from django.conf import settings as s; "
    "db = s.DATABASES['default']; "
    "print(json.dumps({'health_checks': db['CONN_HEALTH_CHECKS'], 'max_age': db['CONN_MAX_AGE'], "
    "'visibility': app.conf.broker_transport_options['visibility_timeout'], "
    "'cache': s.CACHES['default']['OPTIONS'], 'stall': s.PRINT_STALL_MINUTES, "
    "'beat': [e['task'] for e in s.CELERY_BEAT_SCHEDULE.values()]}))"
)


def test_kept_connections_are_checked_and_a_dead_worker_s_tasks_come_back_within_minutes():
    redis = {"DATABASE_URL": "postgres://aptic@db.example/aptic",
             "REDIS_URL": "redis://cache.example:6379/2"}
    found = settings_with(PRINT_OUTAGE_SETTINGS, **redis)
    assert (found["health_checks"], found["max_age"]) == (True, 60)
    assert found["visibility"] == 300 and found["stall"] == 10
    assert found["cache"] == {"socket_connect_timeout": 2, "socket_timeout": 2}
    assert "cheques.tasks.resume_stalled_print_jobs_task" in found["beat"]
    found = settings_with(PRINT_OUTAGE_SETTINGS, CELERY_VISIBILITY_TIMEOUT="120",
                          PRINT_STALL_MINUTES="4", **redis)
    assert (found["visibility"], found["stall"]) == (120, 4)


def test_production_settings_pass_check_deploy_without_a_single_warning():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "DEBUG"],
        cwd=ROOT, capture_output=True, text=True, env=production_environment(),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_without_collectstatic_the_web_server_refuses_to_start_with_one_clear_line(tmp_path):
    result = subprocess.run([sys.executable, "-c", "import aptic.wsgi"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120,
                            env=production_environment(STATIC_ROOT=str(tmp_path)))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "collectstatic" in lines[0], result.stderr


SERVE_HOME = """
import aptic.wsgi
from django.test import Client
response = Client(SERVER_NAME="aptic.example").get("/", secure=True)
print(response.status_code, "/static/cheques/" in response.content.decode())
"""


@pytest.mark.django_db
def test_a_file_missing_from_the_manifest_is_served_by_its_plain_name_not_a_500(tmp_path):
    from tests.conftest import database_url_for_subprocess

    (tmp_path / "staticfiles.json").write_text('{"paths": {}, "version": "1.1", "hash": "0"}')
    result = subprocess.run([sys.executable, "-c", SERVE_HOME], cwd=ROOT, capture_output=True,
                            text=True, timeout=120,
                            env=production_environment(STATIC_ROOT=str(tmp_path),
                                               DATABASE_URL=database_url_for_subprocess()))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == "200", result.stdout + result.stderr
    assert "is not in the manifest" in result.stderr


@pytest.mark.parametrize(("missing", "words"), [
    ("OPERATOR_IBAN", "OPERATOR_IBAN still hold"), ("OPERATOR_SIRET", "OPERATOR_SIRET still"),
    ("CHEQUE_SIGNING_KEYS", "CHEQUE_SIGNING_KEYS must be set"),
])
def test_production_refuses_to_start_on_the_demo_operator_or_derived_signing_keys(missing,
                                                                                  words):
    env = production_environment()
    del env[missing]
    result = subprocess.run([sys.executable, "-c", "import django; django.setup()"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Refusing to start:"), result.stderr
    assert words in lines[0]


def test_the_periodic_jobs_are_declared_once():
    source = (ROOT / "aptic" / "settings.py").read_text()
    assert source.count("CELERY_BEAT_SCHEDULE") == 1


def test_the_readme_names_every_variable_the_settings_read():
    import ast

    tree = ast.parse((ROOT / "aptic" / "settings.py").read_text())
    names = {node.args[0].value for node in ast.walk(tree)
             if isinstance(node, ast.Call) and getattr(node.func, "id", "") in {
                 "env", "envint", "envbool", "envlist"}
             and node.args and isinstance(node.args[0], ast.Constant)}
    readme = (ROOT / "README.md").read_text()
    assert len(names) > 40
    assert [name for name in sorted(names) if f"`{name}`" not in readme] == []
