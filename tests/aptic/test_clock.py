"""The tests' clock (tests.clock): fixed instants that are what they say, a frozen clock that
the code under test cannot get around, and no test that reads the real clock."""

import ast
import datetime
import time
from pathlib import Path

import pytest
from django.db import connection

from tests.clock import INSTANTS, PARIS, paris
from tests.conftest import _refuse_database_clock

TESTS = Path(__file__).resolve().parent.parent

# Calls that read the real clock; `localdate(x)` and `localtime(x)` convert a given moment
# and are fine.
CLOCK_READS = {
    ("timezone", "now"), ("timezone", "localdate"), ("timezone", "localtime"),
    ("date", "today"), ("datetime", "now"), ("datetime", "today"), ("datetime", "utcnow"),
}


def real_clock_reads(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        owner = node.func.value
        owner_name = owner.attr if isinstance(owner, ast.Attribute) else getattr(
            owner, "id", None)
        if (owner_name, node.func.attr) in CLOCK_READS and not node.args:
            yield f"{path.relative_to(TESTS.parent)}:{node.lineno}"


def test_no_test_reads_the_real_clock():
    reads = [read for path in sorted(TESTS.rglob("*.py")) if path.name != "clock.py"
             for read in real_clock_reads(path)]
    assert not reads, (
        "These lines read the real clock; take now and today from the `clock` fixture "
        "(tests/clock.py) so that the test also runs at the fixed instants:\n"
        + "\n".join(reads))


def test_the_fixed_instants_are_the_paris_wall_clock_times_they_are_named_after():
    for name, moment in INSTANTS.items():
        if name == "2027-03-28T02:30":
            continue
        assert moment.strftime("%Y-%m-%dT%H:%M") == name
        assert moment.tzinfo == PARIS


def test_the_spring_forward_instant_falls_in_the_hour_the_clocks_skip():
    moment = INSTANTS["2027-03-28T02:30"]
    assert moment.strftime("%H:%M %Z") == "03:30 CEST"
    # One real hour earlier (arithmetic in UTC: on a Paris wall clock it would be 02:30).
    an_hour_before = moment.astimezone(datetime.UTC) - datetime.timedelta(hours=1)
    assert an_hour_before.astimezone(PARIS).strftime("%H:%M %Z") == "01:30 CET"
    assert paris(2027, 3, 28, 1, 59).utcoffset() == datetime.timedelta(hours=1)


def test_the_clock_fixture_sets_the_time_every_reader_sees(clock, request):
    expected = INSTANTS.get(request.node.callspec.params["clock"])
    if expected:
        assert abs(time.time() - expected.timestamp()) < 60
    assert abs(time.time() - clock.now.timestamp()) < 1


def test_a_moment_a_test_moves_to_is_what_the_code_reads(clock):
    clock.move_to(paris(2030, 7, 14, 9, 0))
    assert datetime.datetime.fromtimestamp(time.time(), PARIS).date() == \
        datetime.date(2030, 7, 14)
    clock.shift(days=1)
    assert clock.today == datetime.date(2030, 7, 15)


@pytest.mark.django_db
def test_sql_reading_the_database_clock_fails_a_frozen_test():
    def execute(*args):
        return None

    for sql in ["SELECT now()", "SELECT CURRENT_DATE", "UPDATE x SET at = NOW ()",
                "SELECT localtimestamp", "SELECT clock_timestamp()"]:
        with pytest.raises(pytest.fail.Exception, match="real clock"):
            _refuse_database_clock(execute, sql, None, False, {})
    assert _refuse_database_clock(execute, "SELECT nowhere FROM known", None, False, {}) \
        is None
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
