"""Dashboard number formatting: units, true minus signs, unknown is a dash, never zero."""

from __future__ import annotations

from decimal import Decimal

import pytest

from portfolios.templatetags import tv


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        (Decimal("1234.5"), 2, "$1,234.50"),
        (Decimal("-1234.5"), 2, "\u2212$1,234.50"),
        (Decimal("125000"), 0, "$125,000"),
        (-0.004, 2, "$0.00"),  # a rounding zero carries no sign
        (None, 2, "\u2014"),
        ("n/a", 2, "\u2014"),
        (float("nan"), 2, "\u2014"),
    ],
)
def test_usd(value, places, expected):
    assert tv.usd(value, places) == expected


def test_signed_figures_say_plus_and_minus():
    assert tv.signed_usd(Decimal("4963"), 0) == "+$4,963"
    assert tv.signed_usd(Decimal("-12.5")) == "\u2212$12.50"
    assert tv.signed_num(30.04, 1) == "+30.0"
    assert tv.signed_num(-0.04, 1) == "0.0"
    assert tv.points(-10) == "\u221210 %"


def test_percentages_are_fractions():
    assert tv.pct(0.000812, 2) == "0.08 %"
    assert tv.pct(0.25, 1) == "25.0 %"


def test_tone_colours_only_signed_nonzero_figures():
    assert [tv.tone(v) for v in (5, -5, 0, None)] == ["pos", "neg", "", ""]


def test_quantities_and_strikes():
    assert [tv.qty(v) for v in (Decimal("-2"), 100, Decimal("2.500000"))] == [
        "\u22122",
        "+100",
        "+2.5",
    ]
    assert tv.strike(Decimal("5275.000000")) == "5,275"
    assert tv.strike(Decimal("22.5")) == "22.5"


def test_strategy_labels():
    assert tv.strategy_label("iron_condor") == "Iron condor"
    assert tv.strategy_label("risk_per_trade") == "Risk per trade"
    assert tv.strategy_label("") == "Single leg"
