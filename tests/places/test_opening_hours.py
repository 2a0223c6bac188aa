import datetime

import pytest

from places import hours
from places.models import Place, Qualification
from tests.clock import paris

HOURS = "Mo-Fr 09:00-12:00,14:00-17:00; Sa 09:00-12:00"


@pytest.mark.parametrize(("moment", "is_open"), [
    (paris(2025, 1, 6, 10, 0), True),  # Monday morning
    (paris(2025, 1, 6, 12, 0), False),  # lunch: 12:00 is closing time
    (paris(2025, 1, 6, 13, 59), False),
    (paris(2025, 1, 6, 14, 0), True),
    (paris(2025, 1, 10, 16, 59), True),  # Friday
    (paris(2025, 1, 11, 11, 0), True),  # Saturday morning
    (paris(2025, 1, 11, 15, 0), False),  # Saturday afternoon
    (paris(2025, 1, 12, 10, 0), False),  # Sunday
])
def test_open_now_at_fixed_instants_in_paris(moment, is_open):
    assert Place(opening_hours=HOURS).is_open_at(moment) is is_open


def test_open_now_uses_paris_time_whatever_the_timezone_of_the_instant():
    # 07:30 UTC in July is 09:30 in Paris (summer time): open. In January, 08:30 UTC is
    # 09:30 in Paris: open too; 07:30 UTC in January is 08:30 in Paris: closed.
    utc = datetime.UTC
    place = Place(opening_hours=HOURS)
    assert place.is_open_at(datetime.datetime(2025, 7, 7, 7, 30, tzinfo=utc)) is True
    assert place.is_open_at(datetime.datetime(2025, 1, 6, 8, 30, tzinfo=utc)) is True
    assert place.is_open_at(datetime.datetime(2025, 1, 6, 7, 30, tzinfo=utc)) is False


def test_unknown_hours_are_neither_open_nor_closed():
    assert Place(opening_hours="").is_open_at(paris(2025, 1, 6, 10)) is None


@pytest.mark.parametrize(("value", "french"), [
    (HOURS, "du lundi au vendredi de 9 h à 12 h et de 14 h à 17 h ; samedi de 9 h à 12 h"),
    ("Mo,We 10:00-18:30; PH off", "lundi et mercredi de 10 h à 18 h 30 ; "
                                  "fermé les jours fériés"),
    ("Mo-Su 08:00-20:00", "tous les jours de 8 h à 20 h"),
    ("Mo-We,Fr 09:00-12:00", "du lundi au mercredi et vendredi de 9 h à 12 h"),
    ("Tu 09:00-10:00,11:00-12:00,14:00-16:15",
     "mardi de 9 h à 10 h, de 11 h à 12 h et de 14 h à 16 h 15"),
    ("Tu-Th 09:00-12:00; Fr off", "du mardi au jeudi de 9 h à 12 h ; fermé vendredi"),
    ("24/7", "tous les jours, 24 h sur 24"),
])
def test_common_hours_are_written_in_plain_french(value, french):
    assert hours.in_words(value) == french


@pytest.mark.parametrize("value", ["", "Mo-Fr 09:00-12:00 \"sur rendez-vous\"",
                                   "Jan-Jun Mo 10:00-12:00", "week 1-53/2 Fr 09:00-12:00",
                                   "sunrise-sunset"])
def test_uncommon_hours_fall_back_to_the_raw_string(value):
    assert hours.in_words(value) is None


def test_today_lists_todays_opening_times():
    assert hours.today(HOURS, paris(2025, 1, 6, 20)) == "de 9 h à 12 h et de 14 h à 17 h"
    assert hours.today(HOURS, paris(2025, 1, 11, 8)) == "de 9 h à 12 h"
    assert hours.today(HOURS, paris(2025, 1, 12, 8)) == "fermé aujourd’hui"
    assert hours.today("24/7", paris(2025, 1, 12, 8)) == "ouvert toute la journée"
    assert hours.today("", paris(2025, 1, 12, 8)) is None


@pytest.mark.django_db
def test_the_place_page_shows_the_hours_in_plain_french_or_else_raw(clock, client):
    """At every fixed instant too: the page says what is open today."""
    place = Place.objects.create(
        name="EPN", address="1 rue A", postcode="69001", town="Lyon", latitude=45.76,
        longitude=4.83, opening_hours=HOURS, qualification=Qualification.QUALIFIED)
    page = client.get(f"/lieux/{place.pk}/").content.decode()
    assert ("Du lundi au vendredi de 9 h à 12 h et de 14 h à 17 h ; samedi de 9 h à 12 h."
            in page)
    assert "https://www.openstreetmap.org/directions?route=%3B45.76000%2C4.83000" in page
    Place.objects.filter(pk=place.pk).update(opening_hours="Jan-Jun Mo 10:00-12:00")
    page = client.get(f"/lieux/{place.pk}/").content.decode()
    assert "<code>Jan-Jun Mo 10:00-12:00</code>" in page
