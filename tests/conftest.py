"""Shared fixtures. Tests run on Postgres and Redis (see the Makefile), never on mocks."""

import datetime
import itertools
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.clock import INSTANTS, TODAY, Clock

# Playwright's sync API runs an event loop in the test thread; Django's ORM must still be
# usable from that thread in browser tests.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"


def pytest_generate_tests(metafunc):
    """A test that involves dates (it asks for `clock`, directly or through a fixture) runs
    at today's date and at each fixed instant of tests.clock."""
    if "clock" in metafunc.fixturenames:
        names = [TODAY, *INSTANTS]
        metafunc.parametrize("clock", names, indirect=True, ids=names)


def pytest_collection_modifyitems(items):
    for item in items:
        names = getattr(item, "fixturenames", None)
        if names and "clock" in names:
            item.add_marker(pytest.mark.dates)
            # The clock is set before any other fixture writes a row with a date.
            names.remove("clock")
            names.insert(0, "clock")


# SQL that reads the database server's clock, which the frozen clock cannot reach.
DATABASE_CLOCK = re.compile(
    r"\b(now|clock_timestamp|statement_timestamp|transaction_timestamp|timeofday)\s*\("
    r"|\bcurrent_(date|time|timestamp)\b|\blocaltimestamp\b", re.IGNORECASE)


def _refuse_database_clock(execute, sql, params, many, context):
    if DATABASE_CLOCK.search(sql):
        pytest.fail(f"This SQL reads the database's real clock under a frozen test clock: "
                    f"{sql[:200]}")
    return execute(sql, params, many, context)


@pytest.fixture
def clock(request):
    """The test's clock (tests.clock.Clock): today's date, or one of the fixed instants."""
    from django.db import connection

    name = getattr(request, "param", TODAY)
    if name != TODAY and "celery_worker" in request.fixturenames:
        pytest.fail("A real Celery worker runs in its own process, on the real clock: "
                    "a test at a fixed instant cannot use one.")
    clock = Clock(INSTANTS.get(name) or datetime.datetime.now(datetime.UTC)).start()
    with connection.execute_wrapper(_refuse_database_clock):
        yield clock
    clock.stop()


@pytest.fixture(autouse=True)
def _clean_cache_and_eager_tasks(settings):
    """Each test starts with an empty cache (throttling counters) and runs Celery tasks
    inline, unless it asks for a real worker with `celery_worker`. Passwords are hashed
    with a fast hasher: the real one spends most of a second on each user created."""
    from django.core.cache import cache

    from aptic.celery import app

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = settings.CELERY_TASK_ALWAYS_EAGER


@pytest.fixture(autouse=True)
def _french_first(settings):
    """Each test starts in French, the site's language: a request in English activates it
    for the rest of the thread (LocaleMiddleware never deactivates), and would otherwise
    leak into the tests that follow."""
    from django.utils import translation

    with translation.override(settings.LANGUAGE_CODE):
        yield


@pytest.fixture
def trusted_proxies(settings):
    """`trusted_proxies(n)` puts the application behind n reverse proxies: TRUSTED_PROXIES,
    and DRF's NUM_PROXIES that the settings derive from it."""

    def behind(count):
        settings.TRUSTED_PROXIES = count
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": count}

    return behind


@pytest.fixture
def api():
    """DRF's test client (`api.force_authenticate(user)` to act as someone)."""
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def nomenclature(db):
    """The seeded nomenclature (flushed by transactional tests, so re-ensured here)."""
    from services.nomenclature import ensure_seeded

    ensure_seeded()


@pytest.fixture
def demo(db, nomenclature):
    """The demo organisations and users, by key: operator, funder, prescriber, structure,
    operateur, financeur, prescripteur, gestionnaire, mediateur."""
    from aptic.demo import load_accounts

    return load_accounts()


def database_url_for_subprocess():
    """The URL of the database the tests are using now (the test database)."""
    from django.db import connection

    params = connection.settings_dict
    if params["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{params['NAME']}"
    auth = params["USER"] + (f":{params['PASSWORD']}" if params["PASSWORD"] else "")
    host = f"{params['HOST'] or '127.0.0.1'}:{params['PORT'] or 5432}"
    return f"postgres://{auth}@{host}/{params['NAME']}"


_WORKER_NUMBERS = itertools.count(1)


def start_celery_worker(redis_url, *, app="aptic", env=None, own_process_group=False):
    """A real Celery worker process on Redis, using the test database, returned once it
    answers a ping. `app` is what `celery -A` loads (a tests/ module may wire crashes in);
    `own_process_group` lets a test kill the whole worker, main process and children."""
    from aptic.celery import app as celery_app

    name = f"test-{os.getpid()}-{next(_WORKER_NUMBERS)}@{socket.gethostname()}"
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", app, "worker", "--pool=prefork",
         "--concurrency=2", "--loglevel=WARNING", "--without-gossip", "--without-mingle",
         "-n", name],
        cwd=ROOT, start_new_session=own_process_group,
        env={**os.environ, "DATABASE_URL": database_url_for_subprocess(),
             "REDIS_URL": redis_url, **(env or {})},
    )
    deadline = time.monotonic() + 60
    while not celery_app.control.inspect(destination=[name], timeout=1).ping():
        if worker.poll() is not None or time.monotonic() > deadline:
            stop_celery_worker(worker)
            pytest.fail("The Celery worker did not start.")
    return worker


def stop_celery_worker(worker):
    worker.terminate()
    try:
        worker.wait(timeout=20)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


@pytest.fixture
def celery_worker(transactional_db, settings):
    """A real Celery worker process on Redis, using the test database."""
    from aptic.celery import app

    if not settings.REDIS_URL:
        pytest.fail("The Celery worker tests need REDIS_URL (make test sets it).")
    app.conf.task_always_eager = False
    try:
        worker = start_celery_worker(settings.REDIS_URL)
        try:
            yield worker
        finally:
            stop_celery_worker(worker)
    finally:
        app.conf.task_always_eager = True


CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"]


def fake_camera_flags(video):
    """Chromium's flags for a camera that films `video` (a .y4m file), granted without asking."""
    return ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-video-capture={video}"]


@pytest.fixture(scope="session")
def playwright_driver():
    """Playwright, once per session (its sync API allows one instance at a time)."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium package.")
    with sync_playwright() as playwright:
        yield playwright


def launch_chromium(playwright, *flags):
    """Debian's Chromium driven by Playwright (no browser download), with extra `flags`."""
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                      args=[*CHROMIUM_FLAGS, *flags])


@pytest.fixture(scope="session")
def browser(playwright_driver):
    chromium = launch_chromium(playwright_driver)
    yield chromium
    chromium.close()


@pytest.fixture
def chromium_with(playwright_driver):
    """`chromium_with(*flags)`: a Chromium of this test's own, started with command-line
    flags (a fake camera: `fake_camera_flags(video)`; a host name mapped to this machine)."""
    started = []

    def launch(*flags):
        started.append(launch_chromium(playwright_driver, *flags))
        return started[-1]

    yield launch
    for chromium in started:
        chromium.close()


def open_page(browser, base_url, request, **context_options):
    """A new page in a new context of `browser`, in French; the page's scripts see the
    test's time when the test has a clock (timers keep running)."""
    context = browser.new_context(locale="fr-FR", base_url=base_url, **context_options)
    if "clock" in request.fixturenames:
        context.clock.set_fixed_time(request.getfixturevalue("clock").now)
    page = context.new_page()
    page.set_default_timeout(15000)
    return page


@pytest.fixture
def page(browser, live_server, request):
    page = open_page(browser, live_server.url, request)
    yield page
    page.context.close()


@pytest.fixture
def phone(browser, live_server, request):
    """A page on a 360 × 740 phone screen, with touch. (Not `is_mobile`: a mobile viewport
    widens itself to a page that is too wide, and would hide the fault.)"""
    page = open_page(browser, live_server.url, request, viewport={"width": 360, "height": 740},
                     device_scale_factor=2, has_touch=True)
    yield page
    page.context.close()
