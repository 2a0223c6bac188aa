"""The one clock of the tests.

A test that involves dates asks for the `clock` fixture (directly or through a fixture that
does) and takes "now" and "today" from it, never from the real clock. Such a test runs once
at the real current time and once at each of the fixed INSTANTS below, the moments where
calendars break: a month's end in December, New Year's Eve and the first minutes of January,
a leap day, and the night the clocks go forward in Paris. The `dates` marker selects them
(`pytest -m dates`).

Reading the real clock anywhere else in tests/ fails tests/aptic/test_clock.py.
"""

import datetime
from zoneinfo import ZoneInfo

import time_machine
from django.utils import timezone

PARIS = ZoneInfo("Europe/Paris")


def paris(year, month, day, hour=12, minute=0):
    """An aware moment, given as a Paris wall clock reads it (a time the clocks skip, such as
    02:30 on the spring-forward night, resolves to the moment one hour later in summer time,
    as zoneinfo does)."""
    moment = datetime.datetime(year, month, day, hour, minute, tzinfo=PARIS)
    return moment.astimezone(datetime.UTC).astimezone(PARIS)


# Named by the Paris wall clock.
INSTANTS = {
    "2026-12-01T10:00": paris(2026, 12, 1, 10, 0),
    "2026-12-31T23:30": paris(2026, 12, 31, 23, 30),
    "2027-01-01T00:30": paris(2027, 1, 1, 0, 30),
    "2028-02-29T12:00": paris(2028, 2, 29, 12, 0),
    # 02:30 does not exist that night: the clocks jump from 02:00 to 03:00.
    "2027-03-28T02:30": paris(2027, 3, 28, 2, 30),
}
TODAY = "today"


class Clock:
    """Time as the code under test sees it. It ticks from where it was put, so rows created
    one after the other keep their order."""

    def __init__(self, start):
        self._travel = time_machine.travel(start, tick=True)
        self._coordinates = None

    def start(self):
        self._coordinates = self._travel.start()
        return self

    def stop(self):
        self._travel.stop()

    @property
    def now(self):
        """The current aware moment."""
        return timezone.now()

    @property
    def today(self):
        """Today's date in Paris."""
        return timezone.localdate()

    def at(self, day, hour=12, minute=0):
        """An aware moment on `day` at a Paris wall-clock time."""
        return paris(day.year, day.month, day.day, hour, minute)

    def days_ago(self, days, hour=12):
        return self.at(self.today - datetime.timedelta(days=days), hour)

    def move_to(self, moment):
        """Jump to `moment` (a datetime or a date, noon in Paris for a date)."""
        if not isinstance(moment, datetime.datetime):
            moment = self.at(moment)
        self._coordinates.move_to(moment)

    def shift(self, **delta):
        self._coordinates.shift(datetime.timedelta(**delta))

    def last_month(self, day=15, hour=12):
        """A moment in the previous calendar month (December when today is in January)."""
        first = self.today.replace(day=1)
        previous = (first - datetime.timedelta(days=1)).replace(day=day)
        return self.at(previous, hour)
