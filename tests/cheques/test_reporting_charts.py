"""The dashboard's charts read true: a count axis has whole-number ticks, every label sits
on its gridline and names that line's value, bars end where their value is on the axis, and
an amount's axis is in euros. The SVG is parsed as a person's eye would read it."""

import datetime
import re
import xml.etree.ElementTree as ET

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from cheques.web.reporting import axis_ticks, bar_chart
from tests.cheques.reporting_fixtures import dataset_fixture  # noqa: F401
from tests.helpers import signed_in

SVG = "{http://www.w3.org/2000/svg}"
MONTHS = [datetime.date(2026, month, 1) for month in range(1, 13)]


def render(chart):
    return render_to_string("cheques/reporting/_month_bars.html",
                            {"chart": chart, "chart_id": "c", "title": "t", "desc": "d"})


def svgs(html):
    """The <svg> elements of a page, parsed."""
    return [ET.fromstring(match.replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1))
            for match in re.findall(r"<svg .*?</svg>", html, flags=re.S)]


# A whole number as each language groups its thousands.
WHOLE = {"fr": r"\d{1,3}(?:\u202f\d{3})*", "en": r"\d{1,3}(?:,\d{3})*"}


def whole_number_in(label, language):
    assert re.fullmatch(WHOLE[language], label), (
        f"count label {label!r} is not a whole number in {language}")
    return int(re.sub(r"\D", "", label))


def euros_in(label, language):
    """The number of euros a label reads, refusing any other shape than the language's."""
    shape = {"fr": rf"({WHOLE['fr']})\u00a0€", "en": rf"€({WHOLE['en']})"}[language]
    match = re.fullmatch(shape, label)
    assert match, f"{label!r} is not a whole amount of euros in {language}"
    return int(re.sub(r"\D", "", match[1]))


def read_axis(svg, *, money=False, language="fr"):
    """[(value, y)] of the axis labels, after checking that each label lies on a gridline
    and each gridline has its label."""
    grid = sorted(float(line.get("y1")) for line in svg.iter(f"{SVG}line")
                  if line.get("class") == "grid")
    labels = [(text.text, float(text.get("y"))) for text in svg.iter(f"{SVG}text")
              if "y-label" in text.get("class", "")]
    assert sorted(y for _text, y in labels) == grid, "labels and gridlines differ"
    values = []
    for text, y in labels:
        read = euros_in if money else whole_number_in
        values.append((read(text, language), y))
    return sorted(values)


def check_axis(axis):
    values = [value for value, _y in axis]
    ys = [y for _value, y in axis]
    assert values[0] == 0
    steps = {b - a for a, b in zip(values, values[1:], strict=False)}
    assert len(steps) == 1, f"uneven labels {values}"
    gaps = [round(a - b, 1) for a, b in zip(ys, ys[1:], strict=False)]
    assert len(set(gaps)) == 1 and gaps[0] > 0, f"uneven gridlines {ys}"


def ends_at(axis, bar, value):
    """Whether the top of `bar` is where `value` lies on the axis (to the hundredth of a
    pixel the coordinates are written with)."""
    (zero, bottom), (top_value, top) = axis[0], axis[-1]
    expected = bottom - (value - zero) * (bottom - top) / (top_value - zero)
    return abs(float(bar.get("y")) - expected) <= 0.006


@pytest.mark.parametrize("counts", [[4], [0, 3, 2], [1, 2, 3, 4, 5], [7, 0, 6],
                                    [12, 23, 1], [0, 0, 0], [99, 101, 250], [1234]])
@pytest.mark.parametrize("language", ["fr", "en"])
def test_a_count_chart_has_whole_ticks_on_its_gridlines_and_bars_that_read_their_value(
        counts, language):
    with translation.override(language):
        chart = bar_chart(list(zip(MONTHS, counts, strict=False)))
        html = render(chart)
    [svg] = svgs(html)
    axis = read_axis(svg, language=language)
    check_axis(axis)
    assert axis[-1][0] >= max(counts)
    assert len(axis) <= 6
    bars = [rect for rect in svg.iter(f"{SVG}rect") if rect.get("class") == "bar"]
    assert len(bars) == len(counts)
    assert all(ends_at(axis, bar, count) for bar, count in zip(bars, counts, strict=True))
    for bar, count in zip(bars, counts, strict=True):
        on_a_line = [y for value, y in axis if value == count]
        if on_a_line:  # a bar of 4 ends exactly on the line labelled 4
            assert float(bar.get("y")) == on_a_line[0]


@pytest.mark.parametrize("cents", [[1000], [0, 3000, 2000], [12_50, 47_50], [123_456_00]])
@pytest.mark.parametrize("language", ["fr", "en"])
def test_an_amount_chart_reads_euros_on_its_axis(cents, language):
    with translation.override(language):
        chart = bar_chart(list(zip(MONTHS, cents, strict=False)), money=True)
        html = render(chart)
    [svg] = svgs(html)
    axis = read_axis(svg, money=True, language=language)
    check_axis(axis)
    bars = [rect for rect in svg.iter(f"{SVG}rect") if rect.get("class") == "bar"]
    assert len(bars) == len(cents)
    assert all(ends_at(axis, bar, amount / 100) for bar, amount in zip(bars, cents, strict=True))


@pytest.mark.parametrize("language", ["fr", "en"])
def test_a_chart_of_several_series_per_month_reads_true_too(language):
    """The funnel's chart: handed out, started and fully used booklets per month."""
    rows = [(MONTHS[0], 4, 3, 1), (MONTHS[1], 9, 6, 2), (MONTHS[2], 0, 0, 0)]
    with translation.override(language):
        [svg] = svgs(render(bar_chart(rows)))
    axis = read_axis(svg, language=language)
    check_axis(axis)
    assert [value for value, _y in axis] == [0, 2, 4, 6, 8, 10]
    bars = [rect for rect in svg.iter(f"{SVG}rect") if rect.get("class", "").startswith("bar")]
    values = [value for _month, *row in rows for value in row]
    assert len(bars) == len(values)
    assert all(ends_at(axis, bar, value) for bar, value in zip(bars, values, strict=True))
    assert {bar.get("class") for bar in bars} == {"bar s0", "bar s1", "bar s2"}


def test_axis_ticks_are_whole_steps_of_one_two_or_five():
    assert axis_ticks(0) == [0, 1]
    assert axis_ticks(4) == [0, 1, 2, 3, 4]
    assert axis_ticks(7) == [0, 2, 4, 6, 8]
    assert axis_ticks(12) == [0, 5, 10, 15]
    assert axis_ticks(51) == [0, 20, 40, 60]
    for maximum in range(0, 2000, 7):
        ticks = axis_ticks(maximum)
        step = ticks[1]
        assert ticks[-1] >= maximum and len(ticks) <= 6
        assert re.fullmatch(r"[125]0*", str(step))


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_funder_dashboard_draws_both_charts_truthfully(dataset, manager_a, language):
    client = signed_in(manager_a)
    client.post("/i18n/setlang/", {"language": language, "next": "/"})
    html = client.get(reverse("funder-dashboard")).content.decode()
    count_svg, amount_svg = svgs(html)
    assert count_svg.get("id") == "chart-count" and amount_svg.get("id") == "chart-amount"
    counts = read_axis(count_svg, language=language)
    check_axis(counts)
    assert [value for value, _y in counts] == [0, 1, 2, 3]
    amounts = read_axis(amount_svg, money=True, language=language)
    check_axis(amounts)
    assert [value for value, _y in amounts] == [0, 10, 20, 30]
    bars = [rect for rect in count_svg.iter(f"{SVG}rect") if rect.get("class") == "bar"]
    assert len(bars) == 3
    assert all(ends_at(counts, bar, n) for bar, n in zip(bars, [0, 3, 2], strict=True))
