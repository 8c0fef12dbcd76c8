"""Server-side SVG charts: accessible, escaped, gaps for missing days, honest when empty."""

from __future__ import annotations

import datetime as dt
import re

from thetavue_site.svg_charts import Series, line_chart, sparkline

DAYS = [dt.date(2026, 10, 1) + dt.timedelta(days=i) for i in range(5)]


def chart(values, **options):
    return str(
        line_chart(
            title=options.pop("title", "Net liq, $"),
            dates=DAYS,
            series=[Series("Net liq", values)],
            value_format=lambda v: f"${v:,.0f}",
            **options,
        )
    )


def test_a_chart_names_itself_and_summarises_its_data():
    svg = chart([100.0, 110.0, 105.0, 120.0, 125.0])
    assert svg.startswith('<svg class="chart"') and 'role="img"' in svg
    assert "<title>Net liq, $</title>" in svg
    assert "<desc>2026-10-01 to 2026-10-05: Net liq from $100 to $125.</desc>" in svg
    assert svg.count("<polyline") == 1


def test_a_missing_day_breaks_the_line():
    svg = chart([100.0, None, 105.0, 120.0, None])
    assert svg.count("<polyline") == 2


def test_text_is_escaped():
    svg = chart([1.0, 2.0, 3.0, 4.0, 5.0], title="<script>x</script>")
    assert "<script>" not in svg and "&lt;script&gt;" in svg


def test_no_data_is_said_not_drawn():
    assert "no data yet" in chart([None] * 5)


def test_a_zero_line_is_drawn_when_the_range_crosses_zero():
    svg = chart([-5.0, 3.0, 4.0, -2.0, 1.0], zero_line=True)
    assert 'class="zero"' in svg
    points = re.findall(r'points="([^"]+)"', svg)[0].split()
    assert len(points) == 5


def test_a_sparkline_is_coloured_by_direction_and_labelled():
    up = str(sparkline(values=[1.0, 2.0, 3.0], label="Main: net liq"))
    assert 'class="spark pos"' in up and 'aria-label="Main: net liq"' in up
    assert 'class="spark neg"' in str(sparkline(values=[3.0, 1.0], label="x"))
    assert str(sparkline(values=[1.0], label="x")) == ""
