"""Database connections dropped under the application (a Postgres restart, a failover,
pg_terminate_backend): gunicorn workers keep their connection between requests
(CONN_MAX_AGE), so each one must check it before using it again, not answer a 500."""

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from django.db import connection

from tests.conftest import ROOT, database_url_for_subprocess
from tests.helpers import free_port

pytestmark = pytest.mark.django_db(transaction=True)

WEB_NAME = "aptic-test-web"


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=20) as reply:
            return reply.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture
def gunicorn():
    """The application as production serves it: gunicorn, one worker, on the test
    database, its connections named so that the test finds them."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": (f"{database_url_for_subprocess()}"
                                          f"?application_name={WEB_NAME}"),
           "DEBUG": "1"}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "aptic.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", "1", "--log-level", "warning"], cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/v1/services/", timeout=5).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("gunicorn did not start.")
                time.sleep(0.3)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=20)


def terminate_web_connections():
    """pg_terminate_backend of the backends serving the application, from the test's own
    connection; returns how many were terminated."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                       "WHERE application_name = %s AND pid <> pg_backend_pid()", [WEB_NAME])
        return cursor.fetchone()[0]


def test_after_pg_terminate_backend_the_next_request_of_each_worker_succeeds(
        gunicorn, nomenclature):
    url = f"{gunicorn}/api/v1/services/"
    assert get(url) == 200
    for _round in range(2):
        assert terminate_web_connections() == 1  # the worker kept its connection
        assert get(url) == 200, "a dropped connection was reused without a health check"
